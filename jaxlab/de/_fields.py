"""Small MLP vector fields shared by the neural differential equation models."""

import numbers

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from .._core.checks import as_float_array, check_int, check_key, check_number, message


def lipswish(x: Array) -> Array:
    """LipSwish, 0.909·x·sigmoid(x): a smooth activation with Lipschitz constant 1 (Chen et al.
    2019), used by SDE-GAN generators and critics so that weight clipping bounds the
    Lipschitz constant of the whole network (Kidger 2022, §6.2).

    **Arguments:** `x`, any shape (integers promoted).

    **Returns:** an array of the shape of `x`.

    **Raises:** `TypeError` for a complex, boolean or non-numeric `x`.

    **Reference:** Chen, Behrmann, Duvenaud & Jacobsen, *Residual Flows for Invertible
    Generative Modeling* (NeurIPS 2019).
    """
    return 0.909 * jax.nn.silu(as_float_array("lipswish", "x", x))


class MLPField(eqx.Module):
    """An MLP vector field `(t, y) -> out`, with time appended to the input when `use_time`.

    The output is reshaped to `shape` (e.g. `(hidden,)` for a drift, `(hidden, channels)`
    for a CDE field or a general SDE diffusion), passed through `final_activation` (`tanh`
    keeps CDE/SDE fields bounded, as in Kidger 2022, §3.2) and multiplied by `scale`: with
    `final_activation=jnp.tanh`, every output lies in (−scale, scale), a learned field
    inside a fixed bound (e.g. a diffusion kept near the data's noise level).

    **Arguments:** `in_size` (the state size), `shape` (the output shape), `width`, `depth`
    (hidden layers), `activation` (default softplus; LipSwish for GAN fields),
    `final_activation` (default identity), `scale` (a positive number, default 1),
    `use_time`, `key`.

    **Raises:** `TypeError` for a non-int `in_size`, `width`, `depth` or entry of `shape`, or
    a non-number `scale`; `ValueError` for `in_size`, `width` or an entry of `shape` below
    1, `depth` below 0, an empty `shape` or a non-positive `scale`.
    """

    mlp: eqx.nn.MLP
    shape: tuple[int, ...] = eqx.field(static=True)
    use_time: bool = eqx.field(static=True)
    scale: float = eqx.field(static=True)

    def __init__(self, in_size: int, shape: tuple[int, ...], *, width: int = 32,
                 depth: int = 2, activation=jax.nn.softplus, final_activation=lambda x: x,
                 scale: float = 1.0, use_time: bool = True, key: PRNGKeyArray):
        for name, value, low in (("in_size", in_size, 1), ("width", width, 1),
                                 ("depth", depth, 0)):
            check_int("MLPField", name, value, minimum=low)
        shape = tuple(shape)
        want = "a non-empty tuple of positive ints"
        if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) for s in shape):
            raise TypeError(message("MLPField", "shape", want, repr(shape)))
        if not shape or any(s < 1 for s in shape):
            raise ValueError(message("MLPField", "shape", want, repr(shape)))
        self.scale = check_number("MLPField", "scale", scale, minimum=0.0,
                                  open_minimum=True)
        key = check_key("MLPField", key)
        out = 1
        for s in shape:
            out *= s
        self.mlp = eqx.nn.MLP(in_size + int(use_time), out, width, depth,
                              activation=activation, final_activation=final_activation, key=key)
        self.shape = tuple(int(s) for s in shape)
        self.use_time = use_time

    def __call__(self, t, y, args=None) -> Array:
        """The field at time `t` and state `y: (in_size,)`; returns an array of `shape`."""
        inputs = jnp.concatenate([jnp.reshape(t, (1,)).astype(y.dtype), y]) if self.use_time \
            else y
        out = self.mlp(inputs).reshape(self.shape)
        return out if self.scale == 1.0 else self.scale * out


class NeighbourField(eqx.Module):
    """A field of a directed-chain SDE, `(t, x, x̃) -> field(t, [x, x̃])`: a field of the state
    and the neighbour's value read as one input (the default drift and diffusion of
    `DirectedChainSDE`).

    **Arguments:** `field`: a Module `(t, y) -> out` of `y = [x, x̃]` (`in_size = 2 · size`),
    e.g. an `MLPField`; `MLPField(2 * size, (size, noise_size), final_activation=jnp.tanh,
    scale=bound)` is a diffusion bounded by `bound`.
    """

    field: eqx.Module

    def __call__(self, t, x, neighbour) -> Array:
        """The field at `(t, [x, x̃])`; `x` and `neighbour` of shape `(size,)`."""
        return self.field(t, jnp.concatenate([x, neighbour.astype(x.dtype)]))


class CubicField(eqx.Module):
    """The autonomous field dy/dt = MLP(y ∘ y ∘ y) of the neural-ODE spiral demonstration: an
    MLP of the elementwise cube of the state, for dynamics whose nonlinearity is known to be
    cubic (dy/dt = (y∘y∘y)A is one such field exactly when the MLP is linear).

    **Arguments:** `size` (state dimension), `width`, `depth` (hidden layers), `activation`
    (default tanh, as in the demonstration), `key`.

    **Raises:** `TypeError`/`ValueError` for a non-int or too small `size`, `width` or
    `depth` (≥ 1, ≥ 1, ≥ 0).

    **Reference:** Chen, Rubanova, Bettencourt & Duvenaud, *Neural Ordinary Differential
    Equations* (NeurIPS 2018) (torchdiffeq's `ode_demo`).
    """

    mlp: eqx.nn.MLP

    def __init__(self, size: int, *, width: int = 50, depth: int = 1,
                 activation=jnp.tanh, key: PRNGKeyArray):
        for name, value, low in (("size", size, 1), ("width", width, 1), ("depth", depth, 0)):
            check_int("CubicField", name, value, minimum=low)
        key = check_key("CubicField", key)
        self.mlp = eqx.nn.MLP(size, size, width, depth, activation=activation, key=key)

    def __call__(self, t, y, args=None) -> Array:
        """dy/dt at state `y: (size,)` (the field is autonomous: `t` and `args` are unused)."""
        return self.mlp(y**3)
