"""The network of the stock-augmented QR-DQN: return quantiles from (state, stock, step)."""

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from .._core.checks import check_instance, check_int, check_key, check_number, message
from ._mdp import FiniteMDP


class StockQNetwork(eqx.Module):
    """An MLP from (state, stock, step) to Q quantiles of the future return for each action.

    The input is the one-hot state, the stock c / `stock_scale` and, for a finite horizon H,
    the fraction of time left (H − t)/H; the output `(A, Q)` holds θ_q(s, c, t, a), the
    quantiles (at the midpoints τ_q = (2q − 1)/(2Q)) of the future return G from (s, c) at
    step t after action a — of G, not of c + G, which the greedy rule forms as c + θ.

    **Arguments** (of `StockQNetwork(...)`):

    - `num_states`, `num_actions`, `num_quantiles`: S, A and Q (positive ints).
    - `horizon`: H (a positive int) to give the network the time left, or None for a
      stationary network.
    - `stock_scale`: stocks are divided by this (> 0) before entering the MLP.
    - `return_scale`: the MLP's outputs are multiplied by this (> 0).
    - `width`, `depth`: hidden width and number of hidden layers of the MLP.
    - `dtype`: parameter dtype (default: JAX's default float).
    - `key`: PRNG key of the initialisation.

    **Raises:** `TypeError` for non-int sizes or a bad key; `ValueError` naming the argument
    for non-positive sizes or scales.

    **Reference:** Pires et al. (2025), *Optimizing Return Distributions with Distributional
    Dynamic Programming*, JMLR (the stock-augmented agent); Dabney et al. (2018) (QR-DQN).
    """

    mlp: eqx.nn.MLP
    num_states: int = eqx.field(static=True)
    num_actions: int = eqx.field(static=True)
    num_quantiles: int = eqx.field(static=True)
    horizon: int | None = eqx.field(static=True)
    stock_scale: float = eqx.field(static=True)
    return_scale: float = eqx.field(static=True)

    def __init__(self, num_states: int, num_actions: int, num_quantiles: int, *,
                 horizon: int | None, stock_scale: float = 1.0, return_scale: float = 1.0,
                 width: int = 64, depth: int = 2, dtype: Any = None, key: PRNGKeyArray):
        fn = "StockQNetwork"
        for name, value in (("num_states", num_states), ("num_actions", num_actions),
                            ("num_quantiles", num_quantiles), ("width", width)):
            check_int(fn, name, value, minimum=1)
        check_int(fn, "depth", depth, minimum=0)
        check_int(fn, "horizon", horizon, minimum=1, none_ok=True)
        for name, value in (("stock_scale", stock_scale), ("return_scale", return_scale)):
            check_number(fn, name, value, minimum=0.0, open_minimum=True)
        check_key(fn, key)
        in_size = num_states + 1 + (horizon is not None)
        self.mlp = _init_mlp(in_size, num_actions * num_quantiles, width, depth, dtype, key)
        self.num_states = num_states
        self.num_actions = num_actions
        self.num_quantiles = num_quantiles
        self.horizon = horizon
        self.stock_scale = float(stock_scale)
        self.return_scale = float(return_scale)

    @property
    def dtype(self) -> Any:
        return self.mlp.layers[0].weight.dtype

    def __call__(self, state: Int[ArrayLike, ""], stock: Float[ArrayLike, ""],
                 time: Int[ArrayLike, ""] = 0) -> Float[Array, "A Q"]:
        """θ(s, c, t): `(A, Q)` return quantiles at `state` (int), `stock`, step `time`."""
        dtype = self.dtype
        parts = [jax.nn.one_hot(state, self.num_states, dtype=dtype),
                 (jnp.asarray(stock, dtype) / self.stock_scale)[None]]
        if self.horizon is not None:
            left = (self.horizon - jnp.asarray(time, dtype)) / self.horizon
            parts.append(left[None])
        out = self.mlp(jnp.concatenate(parts))
        return self.return_scale * out.reshape(self.num_actions, self.num_quantiles)


@eqx.filter_jit
def _init_mlp(in_size, out_size, width, depth, dtype, key):
    """`eqx.nn.MLP`'s default initialisation, every W and b ~ U(±1/√fan_in), from a single
    random draw: each separate random op costs a second or more to compile on CPU."""
    shapes = eqx.filter_eval_shape(
        lambda: eqx.nn.MLP(in_size, out_size, width, depth, activation=jax.nn.relu,
                           dtype=dtype, key=jax.random.key(0)))
    limits = [lim for layer in shapes.layers
              for lim in (1 / math.sqrt(layer.in_features),) * (1 + layer.use_bias)]
    params, static = eqx.partition(shapes, lambda x: isinstance(x, jax.ShapeDtypeStruct))
    leaves, treedef = jax.tree.flatten(params)
    sizes = [math.prod(x.shape) for x in leaves]
    draw = jax.random.uniform(key, (sum(sizes),), leaves[0].dtype, -1.0, 1.0)
    arrays = [lim * part.reshape(x.shape) for lim, part, x in
              zip(limits, jnp.split(draw, np.cumsum(sizes)[:-1]), leaves, strict=True)]
    return eqx.combine(jax.tree.unflatten(treedef, arrays), static)


def check_network(fn: str, network: Any, mdp: FiniteMDP | None = None) -> StockQNetwork:
    """`network` if it is a `StockQNetwork` (whose sizes and horizon fit `mdp`, if given).

    **Raises:** `TypeError` for a non-`StockQNetwork`; `ValueError` for one that does not
    fit `mdp`.
    """
    check_instance(fn, "network", network, StockQNetwork)
    if mdp is not None:
        want = (mdp.num_states, mdp.num_actions, mdp.horizon)
        got = (network.num_states, network.num_actions, network.horizon)
        if got != want:
            raise ValueError(message(fn, "network", f"a StockQNetwork with (num_states, "
                                     f"num_actions, horizon) = {want} to fit mdp", got))
    return network
