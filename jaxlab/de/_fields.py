"""Small MLP vector fields shared by the neural differential equation models."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray


def lipswish(x: Array) -> Array:
    """LipSwish, 0.909·x·sigmoid(x): a smooth activation with Lipschitz constant 1 (Chen et al.
    2019), used by SDE-GAN generators and critics so that weight clipping bounds the
    Lipschitz constant of the whole network (Kidger 2022, §6.2)."""
    return 0.909 * jax.nn.silu(x)


class MLPField(eqx.Module):
    """An MLP vector field `(t, y) -> out`, with time appended to the input when `use_time`.

    The output is reshaped to `shape` (e.g. `(hidden,)` for a drift, `(hidden, channels)`
    for a CDE field or a general SDE diffusion) and passed through `final_activation`
    (`tanh` keeps CDE/SDE fields bounded, as in Kidger 2022, §3.2).

    **Arguments:** `in_size` (the state size), `shape` (the output shape), `width`, `depth`
    (hidden layers), `activation` (default softplus; LipSwish for GAN fields),
    `final_activation` (default identity), `use_time`, `key`.
    """

    mlp: eqx.nn.MLP
    shape: tuple[int, ...] = eqx.field(static=True)
    use_time: bool = eqx.field(static=True)

    def __init__(self, in_size: int, shape: tuple[int, ...], *, width: int = 32,
                 depth: int = 2, activation=jax.nn.softplus, final_activation=lambda x: x,
                 use_time: bool = True, key: PRNGKeyArray):
        for name, value, low in (("in_size", in_size, 1), ("width", width, 1),
                                 ("depth", depth, 0)):
            if not isinstance(value, int) or value < low:
                raise ValueError(f"MLPField: {name} must be an int >= {low}, got {value!r}")
        shape = tuple(shape)
        if not shape or not all(isinstance(s, int) and s >= 1 for s in shape):
            raise ValueError(f"MLPField: shape must be a non-empty tuple of positive ints, "
                             f"got {shape!r}")
        out = 1
        for s in shape:
            out *= s
        self.mlp = eqx.nn.MLP(in_size + int(use_time), out, width, depth,
                              activation=activation, final_activation=final_activation, key=key)
        self.shape = shape
        self.use_time = use_time

    def __call__(self, t, y, args=None) -> Array:
        """The field at time `t` and state `y: (in_size,)`; returns an array of `shape`."""
        inputs = jnp.concatenate([jnp.reshape(t, (1,)).astype(y.dtype), y]) if self.use_time \
            else y
        return self.mlp(inputs).reshape(self.shape)
