"""CVaR control with a trained stock-augmented QR-DQN, evaluated exactly.

On a finite-horizon MDP with γ = 1 and returns on a lattice (integer or half-integer
rewards, ...) the trained network is tabulated on `reachable_stock_grid`, so its policy is
evaluated *exactly* (`evaluate_stock_policy`); CVaR goes through the Rockafellar–Uryasev
outer search over the initial stock c₀ = −b.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._core.checks import as_float_array, check_bool, check_number, message
from ._bruteforce import best_markov_policy_value, cvar_of
from ._cvar import CVaRSolution, optimize_cvar
from ._greedy import greedy_action, stock_qrdqn_policy
from ._mdp import FiniteMDP, check_episodic
from ._network import StockQNetwork, check_network
from ._objectives import NegativePart
from ._stock import StockEvaluation, evaluate_stock_policy
from ._stock_grid import StockPolicy, Stocks, reachable_stock_grid

_MARKOV_LIMIT = 20_000  # deterministic Markov policies enumerated by `stock_qrdqn_cvar`


class StockQRDQNCVaR(eqx.Module):
    """The CVaR of a trained stock QR-DQN, evaluated exactly (`stock_qrdqn_cvar`).

    **Fields:**

    - `cvar`: the exact CVaR_τ of the return of the agent's policy started at
      `initial_stock` (the number to compare with `optimum.cvar`).
    - `threshold`: b̂ = argmax_b b + V̂(−b)/τ, chosen with the network's own estimate V̂.
    - `initial_stock`: −b̂.
    - `thresholds`: `(B,)` the candidate thresholds b.
    - `estimated_cvar_by_threshold`: `(B,)` the network's estimate b + V̂(−b)/τ, with
      V̂(c) = E_{S₀} max_a (1/Q) Σ_q min(c + θ_q(S₀, c, 0, a), 0).
    - `cvar_by_threshold`: `(B,)` the exact CVaR_τ of the agent's policy started at −b.
    - `policy`: the agent's `StockPolicy` on `reachable_stock_grid`.
    - `evaluation`: its exact `StockEvaluation`.
    - `optimum`: `optimize_cvar(mdp, tau)` (the exact optimum over history-dependent
      policies), or None when not compared.
    - `markov_cvar`: the best CVaR of a deterministic time-dependent Markov policy (brute
      force), or None when not compared or when there are more than 20 000 such policies
      (A^(H·S)).
    - `tau`: τ.
    """

    cvar: Float[Array, ""]
    threshold: Float[Array, ""]
    initial_stock: Float[Array, ""]
    thresholds: Float[Array, " B"]
    estimated_cvar_by_threshold: Float[Array, " B"]
    cvar_by_threshold: Float[Array, " B"]
    policy: StockPolicy
    evaluation: StockEvaluation
    optimum: CVaRSolution | None
    markov_cvar: float | None = eqx.field(static=True)
    tau: float = eqx.field(static=True)


def stock_qrdqn_cvar(network: StockQNetwork, mdp: FiniteMDP, tau: float, *,
                     thresholds: Stocks | None = None,
                     compare: bool = True) -> StockQRDQNCVaR:
    """CVaR control with a trained stock QR-DQN, evaluated exactly.

    The Rockafellar–Uryasev outer search of Pires et al. (2025) with the network in place of
    dynamic programming: b̂ = argmax_b b + V̂(−b)/τ over the candidate `thresholds`, with
    V̂(c) the network's greedy estimate of E min(c + G, 0) at t = 0 (`NegativePart`). The
    agent then acts greedily for `NegativePart` from the initial stock −b̂. Its policy is
    tabulated on `reachable_stock_grid` (`stock_qrdqn_policy`) and evaluated exactly
    (`evaluate_stock_policy`), and the exact CVaR_τ of its return is reported — beside the
    exact optimum (`optimize_cvar`) and the best Markov policy when `compare`.

    **Arguments:**

    - `network`: a trained `StockQNetwork` (e.g. from `train_stock_qrdqn` with
      `NegativePart()` and `initial_stocks = −thresholds`).
    - `mdp`: the `FiniteMDP` it was trained on (finite horizon, γ = 1, returns on a
      lattice, e.g. integer rewards).
    - `tau`: the tail fraction in (0, 1].
    - `thresholds`: `(B,)` candidates b; default every lattice point of the return range.
    - `compare`: also compute `optimize_cvar(mdp, tau)` and, by enumeration when there are
      at most 20 000 of them, the best deterministic Markov policy.

    **Returns:** a `StockQRDQNCVaR`.

    **Raises:** `TypeError` for a wrong `network` or `mdp` type; `ValueError` naming the
    argument for a bad `tau`, non-finite or non-1-D `thresholds`, an infinite horizon, a
    discount ≠ 1, returns on no lattice, or a network that does not fit `mdp`.

    **Reference:** Pires et al. (2025), §5 (CVaR) and the deep agent; Rockafellar & Uryasev
    (2000).
    """
    fn = "stock_qrdqn_cvar"
    check_episodic(fn, mdp)
    check_network(fn, network, mdp)
    tau = check_number(fn, "tau", tau, minimum=0.0, maximum=1.0, open_minimum=True)
    compare = check_bool(fn, "compare", compare)
    delta = mdp.return_lattice()
    if delta is None:
        raise ValueError(message(fn, "mdp", "an MDP with returns on a lattice δℤ (the policy "
                                 "is evaluated exactly on its stock grid)", "rewards "
                                 f"{np.unique(mdp._live_rewards())[:8].tolist()}"))
    dtype = mdp.reward.dtype
    if thresholds is None:
        lo, hi = mdp.return_bounds()
        thresholds = delta * np.arange(round(lo / delta), round(hi / delta) + 1)
    b = np.asarray(as_float_array(fn, "thresholds", thresholds, ndim=1), np.float64)
    if b.size < 1 or not np.all(np.isfinite(b)):
        raise ValueError(message(fn, "thresholds", "a non-empty (B,) array of finite numbers",
                                 b))
    objective = NegativePart()
    grid = reachable_stock_grid(mdp, -b)
    policy = stock_qrdqn_policy(network, objective, stock_grid=grid)
    evaluation = evaluate_stock_policy(mdp, policy, initial_stocks=-b)
    bs = jnp.asarray(b, dtype)
    estimated, exact = _cvar_curves(network, objective, evaluation, mdp.initial, bs,
                                    jnp.asarray(tau, dtype))
    best = int(jnp.argmax(estimated))
    optimum, markov = None, None
    if compare:
        optimum = optimize_cvar(mdp, tau)
        if mdp.num_actions ** (mdp.horizon * mdp.num_states) <= _MARKOV_LIMIT:
            markov, _ = best_markov_policy_value(mdp, lambda d: cvar_of(d, tau))
    return StockQRDQNCVaR(exact[best], bs[best], -bs[best], bs, estimated, exact, policy,
                          evaluation, optimum, markov, tau)


@eqx.filter_jit
def _cvar_curves(network, objective, evaluation, initial, bs, tau):
    states = jnp.arange(network.num_states, dtype=jnp.int32)

    def estimate(b):
        best = jax.vmap(lambda s: jnp.max(greedy_action(network, objective, s, -b, 0)[1]))(
            states)
        return b + jnp.dot(initial, best) / tau

    def exact(b):
        return evaluation.return_distribution(-b).cvar(tau)

    return jax.vmap(estimate)(bs), jax.vmap(exact)(bs)
