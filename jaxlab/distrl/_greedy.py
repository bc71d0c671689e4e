"""The greedy rule of stock-augmented distributional DP applied to a quantile network, and
the network's greedy policy tabulated on a stock grid."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int

from .._core.checks import check_instance
from ._network import StockQNetwork, check_network
from ._objectives import AbstractExpectedUtility
from ._stock_grid import StockPolicy, check_stock_grid


def check_utility(fn: str, objective) -> AbstractExpectedUtility:
    """`objective` if it is an `AbstractExpectedUtility`. **Raises:** `TypeError`."""
    return check_instance(fn, "objective", objective, AbstractExpectedUtility,
                          "an AbstractExpectedUtility (its utility drives the greedy rule)")


def greedy_stock_action(network: StockQNetwork, objective: AbstractExpectedUtility,
                        state: Int[ArrayLike, ""], stock: Float[ArrayLike, ""],
                        time: Int[ArrayLike, ""] = 0) -> tuple[Int[Array, ""], Float[Array, " A"]]:
    """The greedy action of stock-augmented distributional DP under the network's quantiles.

    a* = argmax_a (1/Q) Σ_q u(c + θ_q(s, c, t, a)), u = `objective.utility` (lowest index
    among exact ties).

    **Returns:** `(action, values)`: the int32 action and the `(A,)` estimates of
    E u(c + G) for every action.

    **Raises:** `TypeError` unless `network` is a `StockQNetwork` and `objective` an
    `AbstractExpectedUtility`.

    **Reference:** Pires et al. (2025), §4 (the greedy rule) and the deep agent.
    """
    fn = "greedy_stock_action"
    check_network(fn, network)
    check_utility(fn, objective)
    return greedy_action(network, objective, state, stock, time)


def greedy_action(network, objective, state, stock, time):
    """`greedy_stock_action` without the checks (inside jitted loops)."""
    theta = network(state, stock, time)
    c = jnp.asarray(stock, theta.dtype)
    values = jnp.mean(objective.utility(c + theta), axis=-1)
    return jnp.argmax(values).astype(jnp.int32), values


def stock_qrdqn_policy(network: StockQNetwork, objective: AbstractExpectedUtility, *,
                       stock_grid: ArrayLike) -> StockPolicy:
    """The network's greedy policy as a `StockPolicy` table on a stock grid.

    Entry (t, s, c) is `greedy_stock_action(network, objective, s, c, t)` for every step
    t < H, state s and grid stock c, so the policy can be evaluated exactly with
    `evaluate_stock_policy` (on `reachable_stock_grid`, for returns on a lattice). The
    table is stationary (T = 1) for a network without a horizon.

    **Arguments:** `network`; `objective` (the expected utility of the greedy rule);
    `stock_grid`: `(C,)` increasing stocks.

    **Returns:** a `StockPolicy` with `actions` `(H, S, C)` and discount 1.

    **Raises:** `TypeError` for a wrong `network` or `objective` type; `ValueError` for a
    `stock_grid` that is not 1-D, finite and strictly increasing.

    **Reference:** Pires et al. (2025), the stock-augmented deep agent.
    """
    fn = "stock_qrdqn_policy"
    check_network(fn, network)
    check_utility(fn, objective)
    grid = check_stock_grid(fn, stock_grid, network.dtype)
    return StockPolicy(_policy_table(network, objective, grid), grid, 1.0)


@eqx.filter_jit
def _policy_table(network, objective, grid):
    steps = 1 if network.horizon is None else network.horizon
    states = jnp.arange(network.num_states, dtype=jnp.int32)

    def action(t, s, c):
        return greedy_action(network, objective, s, c, t)[0]

    per_c = jax.vmap(action, in_axes=(None, None, 0))
    per_s = jax.vmap(per_c, in_axes=(None, 0, None))
    per_t = jax.vmap(per_s, in_axes=(0, None, None))
    return per_t(jnp.arange(steps, dtype=jnp.int32), states, grid)
