"""Stock-augmented distributional dynamic programming (Pires et al., 2025).

The augmented state is (s, c): the MDP state and the *stock* c, the rewards collected so far
scaled by the discount, updated c' = (c + r)/γ. Then c₀ + G₀ = γᵗ(c_t + G_t), so the law of
c₀ + G₀ — the thing the objective K judges — is available at every step, and acting greedily
with respect to K(law(c + G)) is optimal for every K that is indifferent to mixtures (and to
γ-scaling), expected utilities in particular. The stock lives on a grid; with γ = 1 and integer
rewards an integer grid makes everything exact. Off-grid stocks are handled by splitting
between the two neighbouring grid points (a randomised policy between them; documented
approximation), and stocks leaving the grid are clamped and *flagged* (`exact`).
"""

import warnings
from collections.abc import Sequence
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray

from .._core.checks import concrete_values, shape_str
from ._bellman import (
    ProjectionPlan,
    _delta0,
    _tolerance,
    check_support,
    default_support,
    project_outcomes,
    projection_plan,
    sup_wasserstein1_categorical,
)
from ._distributions import Categorical
from ._mdp import FiniteMDP
from ._objectives import AbstractExpectedUtility, AbstractObjective, MixtureWarning


class StockPolicy(eqx.Module):
    """A deterministic policy of the stock-augmented state: an action for every (t, s, c).

    **Fields:**

    - `actions`: `(T, S, C)` action indices; T = horizon (one table per step) or T = 1 for a
      stationary policy of an infinite-horizon problem.
    - `stock_grid`: `(C,)` increasing stock values the table is defined on.
    - `discount`: γ (the stock update is c' = (c + r)/γ).

    Between grid points the policy picks the table entry of the lower or upper neighbour at
    random, with probability given by linear interpolation — the same mixture the dynamic
    programme uses, so Monte Carlo rollouts and DP agree. Outside the grid the end entry is
    used.
    """

    actions: Int[Array, "T S C"]
    stock_grid: Float[Array, " C"]
    discount: float = eqx.field(static=True)

    @property
    def stationary(self) -> bool:
        return self.actions.shape[0] == 1

    def locate(self, stock: ArrayLike) -> tuple[Array, Array, Array]:
        """(lower index, upper index, weight of upper) of `stock` on the grid (clamped)."""
        return _locate(self.stock_grid, jnp.asarray(stock, self.stock_grid.dtype))

    def __call__(self, t: ArrayLike, state: ArrayLike, stock: ArrayLike, *,
                 key: PRNGKeyArray | None = None) -> Int[Array, ""]:
        """The action at step `t` in `state` with `stock` (random only between grid points)."""
        lo, hi, w = self.locate(stock)
        if key is None:
            idx = jnp.where(w > 0.5, hi, lo)
        else:
            idx = jnp.where(jax.random.uniform(key, dtype=w.dtype) < w, hi, lo)
        table = self.actions[0 if self.stationary else t]
        return table[state, idx]


def _locate(grid, c):
    n = grid.shape[0]
    if n == 1:
        z = jnp.zeros(c.shape, jnp.int32)
        return z, z, jnp.zeros(c.shape, grid.dtype)
    lo = jnp.clip(jnp.searchsorted(grid, c, side="right") - 1, 0, n - 2).astype(jnp.int32)
    w = (c - grid[lo]) / (grid[lo + 1] - grid[lo])
    w = jnp.clip(w, 0.0, 1.0)
    tol = 64 * jnp.finfo(grid.dtype).eps * jnp.maximum(1.0, jnp.max(jnp.abs(grid)))
    w = jnp.where(w < tol, 0.0, jnp.where(w > 1 - tol, 1.0, w))
    # put exact hits on the upper point onto that point as the lower neighbour
    lo = jnp.where(w == 1.0, lo + 1, lo)
    w = jnp.where(w == 1.0, 0.0, w)
    hi = jnp.minimum(lo + 1, n - 1)
    return lo, hi, w


class StockPlan(NamedTuple):
    """Grid neighbours of every next stock c' = (c + r)/γ, `(S, C, A, M)` each."""

    lower: Array
    upper: Array
    weight: Array
    clipped: Array


def stock_plan(mdp: FiniteMDP, grid: Array) -> StockPlan:
    c_next = (grid[None, :, None, None] + mdp.reward[:, None]) / mdp.discount
    lo, hi, w = _locate(grid, c_next)
    tol = 64 * jnp.finfo(grid.dtype).eps * jnp.maximum(1.0, jnp.max(jnp.abs(grid)))
    clipped = (c_next < grid[0] - tol) | (c_next > grid[-1] + tol)
    live = (mdp.prob[:, None] > 0) & ~mdp.terminal[mdp.next_state][:, None]
    return StockPlan(lo, hi, w, clipped & live)


def check_stock_grid(stock_grid: ArrayLike, dtype) -> Array:
    grid = jnp.asarray(stock_grid, dtype)
    if grid.ndim != 1 or grid.shape[0] < 1:
        raise ValueError(f"stock_grid must have shape (C,) with C >= 1, got {shape_str(grid)}")
    c = concrete_values(grid)
    if c is not None:
        if not np.isfinite(c).all():
            raise ValueError("stock_grid must be finite")
        if c.size > 1 and not (np.diff(c) > 0).all():
            raise ValueError("stock_grid must be strictly increasing")
    return grid


def integer_stock_grid(mdp: FiniteMDP, initial_stocks: ArrayLike | Sequence[float | int]
                       ) -> Float[Array, " C"]:
    """The smallest integer grid closed under c' = c + r from every initial stock, for t < H.

    Needs γ = 1, a finite horizon and integer rewards (then stock-augmented DP on this grid is
    exact). **Raises** `ValueError` otherwise.
    """
    if mdp.discount != 1.0 or mdp.horizon is None or not mdp.has_integer_rewards():
        raise ValueError("integer_stock_grid: needs discount=1, a finite horizon and integer "
                         f"rewards, got discount={mdp.discount}, horizon={mdp.horizon}, "
                         f"integer rewards: {mdp.has_integer_rewards()}")
    c0 = np.atleast_1d(np.asarray(initial_stocks, float))
    if not np.all(c0 == np.round(c0)):
        raise ValueError(f"integer_stock_grid: initial_stocks must be integers, got {c0}")
    low, high = mdp._stop_anytime_bounds()   # every prefix sum of rewards, per start state
    start = np.asarray(mdp.initial) > 0
    lo = c0.min() + low[start].min()
    hi = c0.max() + high[start].max()
    return jnp.arange(round(lo), round(hi) + 1, dtype=mdp.reward.dtype)


def _stock_backup(mdp: FiniteMDP, plan: ProjectionPlan, splan: StockPlan, xi: Array,
                  delta0: Array) -> Array:
    """(S, C, A, K): law of R + γG' from (s, c, a) when G' ~ xi(S', C'), xi: (S, C, K)."""
    xi = jnp.where(mdp.terminal[:, None, None], delta0, xi)
    ns = mdp.next_state[:, None]                       # (S, 1, A, M)
    lo = xi[ns, splan.lower]                           # (S, C, A, M, K)
    hi = xi[ns, splan.upper]
    nxt = lo + splan.weight[..., None] * (hi - lo)
    mass = mdp.prob[:, None, ..., None] * nxt
    out = project_outcomes(mass, plan)
    return jnp.where(mdp.terminal[:, None, None, None], delta0, out)


def _taint_backup(mdp, splan, taint_next):
    """Whether any reachable next (s', c') clipped or is tainted, `(S, C, A)`."""
    ns = mdp.next_state[:, None]
    bad = splan.clipped | taint_next[ns, splan.lower] | \
        ((splan.weight > 0) & taint_next[ns, splan.upper])
    bad = bad & (mdp.prob[:, None] > 0) & ~mdp.terminal[mdp.next_state][:, None]
    return jnp.any(bad, axis=-1) & ~mdp.terminal[:, None, None]


def _objective_values(objective, eta, grid, support, scale):
    """K(law(scale·(c + G))) for every (s, c, a): `(S, C, A)`."""
    atoms = scale * (grid[:, None] + support)          # (C, K)
    if isinstance(objective, AbstractExpectedUtility):
        return jnp.einsum("scak,ck->sca", eta, objective.utility(atoms))
    return objective(jnp.broadcast_to(atoms[None, :, None], eta.shape), eta)


def _greedy(values, tie_tolerance, current=None):
    """Lowest-index action within `tie_tolerance·(1 + |best|)` of the best (or keep current)."""
    best = jnp.max(values, axis=-1)
    ok = values >= (best - tie_tolerance * (1 + jnp.abs(best)))[..., None]
    action = jnp.argmax(ok, axis=-1).astype(jnp.int32)
    if current is not None:
        keep = jnp.take_along_axis(ok, current[..., None], axis=-1)[..., 0]
        action = jnp.where(keep, current, action)
    return action, best


class StockSolution(eqx.Module):
    """The result of stock-augmented dynamic programming.

    **Fields:**

    - `distributions`: `Categorical` `(S, C, A)`: law of the return G from (s, c) at t = 0
      when taking action a and then following `policy` (so the law of c + G is this
      shifted by c).
    - `values`: `(S, C)` the objective K(law(c + G)) under `policy`, from (s, c) at t = 0.
    - `policy`: the greedy `StockPolicy`.
    - `exact`: `(S, C)` False where a stock reachable from (s, c) left the grid (it was
      clamped to the end point, so the value there is an approximation). On a grid closed
      under the stock update (`integer_stock_grid`) it is True from every initial stock the
      grid was built for. With γ < 1 and no horizon the stock grows like γ^(−t) and leaves
      every grid, so it is False everywhere: the clamp is then the approximation, harmless
      for objectives that are constant or linear beyond the grid's ends (min(x, 0) and
      1[x ≥ 0] with ends beyond ±max|G|).
    - `iterations`, `residual`, `converged`: sweeps, last sup-W₁ change, convergence (the
      horizon, 0 and True for finite horizons).
    - `initial`: `(S,)` the initial-state distribution of the MDP.
    """

    distributions: Categorical
    values: Float[Array, "S C"]
    policy: StockPolicy
    exact: Bool[Array, "S C"]
    iterations: Int[Array, ""]
    residual: Float[Array, ""]
    converged: Array
    initial: Float[Array, " S"]

    @property
    def stock_grid(self) -> Array:
        return self.policy.stock_grid

    def value(self, initial_stock: ArrayLike = 0.0) -> Array:
        """E over S₀ of the optimal K from (S₀, c₀) — c₀ on the grid or interpolated."""
        lo, hi, w = _locate(self.stock_grid, jnp.asarray(initial_stock, self.values.dtype))
        v = (1 - w) * self.values[:, lo] + w * self.values[:, hi]
        return jnp.einsum("s,s...->...", self.initial, v)

    def return_distribution(self, initial_stock: ArrayLike = 0.0) -> Categorical:
        """The law of G from S₀ ~ initial with stock c₀ under the greedy policy."""
        lo, hi, w = _locate(self.stock_grid, jnp.asarray(initial_stock, self.values.dtype))
        eta = self.distributions.weights
        a = self.policy.actions[0]
        def pick(i):
            return jnp.take_along_axis(eta[:, i], a[:, i][:, None, None], axis=1)[:, 0]
        xi = (1 - w) * pick(lo) + w * pick(hi)
        return Categorical(self.distributions.support, jnp.einsum("s,sk->k", self.initial, xi))


def _prepare(mdp, objective, stock_grid, support, num_atoms):
    if not isinstance(objective, AbstractObjective):
        raise TypeError(f"objective must be an AbstractObjective (e.g. ExpectedUtility(f)), "
                        f"got {type(objective).__name__}")
    if not objective.mixture_indifferent:
        warnings.warn(
            f"{type(objective).__name__} is not indifferent to mixtures: distributional DP "
            "with stock augmentation does not optimise it (the greedy policy is "
            "time-inconsistent and can be strictly suboptimal). Use an expected utility, or "
            "optimize_cvar for CVaR.", MixtureWarning, stacklevel=3)
    elif mdp.discount < 1.0 and mdp.horizon is None and not objective.positively_homogeneous:
        warnings.warn(
            f"{type(objective).__name__} is not declared positively homogeneous: with "
            "discount < 1 and no horizon the greedy step uses K at every time step, which is "
            "exact only if K is indifferent to scaling by the discount", MixtureWarning,
            stacklevel=3)
    support = check_support(default_support(mdp, num_atoms) if support is None else support)
    support = support.astype(mdp.prob.dtype)
    grid = check_stock_grid(stock_grid, mdp.prob.dtype)
    return support, grid


def stock_augmented_value_iteration(
        mdp: FiniteMDP, objective: AbstractObjective, *, stock_grid: ArrayLike,
        support: ArrayLike | None = None, num_atoms: int = 51, tol: float | None = None,
        max_iterations: int = 10_000, tie_tolerance: float = 1e-9,
        throw: bool = True) -> StockSolution:
    """Distributional value iteration on the stock-augmented state (s, c).

    η(s, c, a) = E_{R,S'}[R + γ G'], G' ~ η(S', C', a*(S', C')), C' = (c + R)/γ, with the greedy
    action a*(s, c) = argmax_a K(law(γᵗ(c + G(s, a)))) (lowest index among ties within
    `tie_tolerance`). Finite horizon: exact backward induction over t = H−1..0 with a policy
    per step. Infinite horizon: iterated to a fixed point (sup-W₁ change ≤ `tol`).

    **Arguments:**

    - `mdp`: a `FiniteMDP`.
    - `objective`: K, an `AbstractObjective` (an expected utility for guaranteed optimality;
      others warn with `MixtureWarning`).
    - `stock_grid`: `(C,)` increasing stock values (`integer_stock_grid` gives an exact one).
    - `support`: `(K,)` return support (evenly spaced, containing 0); default
      `default_support(mdp, num_atoms)`.
    - `tol`, `max_iterations`, `throw`: as in `evaluate_policy`.
    - `tie_tolerance`: relative tolerance under which action values count as tied.

    **Returns:** a `StockSolution` (optimal values K from every (s, c), the greedy
    `StockPolicy`, return distributions, exactness flags).

    **Raises:** `TypeError` for a non-objective; `ValueError` for malformed grids/supports.

    **Reference:** Pires et al. (2025), *Optimizing Return Distributions with Distributional
    Dynamic Programming*, §3–4.
    """
    support, grid = _prepare(mdp, objective, stock_grid, support, num_atoms)
    plan = projection_plan(mdp.reward, mdp.discount, support)
    return _savi(mdp, objective, grid, support, plan, _tolerance(tol, support), max_iterations,
                 tie_tolerance, throw)


@eqx.filter_jit
def _savi(mdp, objective, grid, support, plan, tol, max_iterations, tie, throw):
    splan = stock_plan(mdp, grid)
    delta0 = _delta0(support)
    s, c, k = mdp.num_states, grid.shape[0], support.shape[0]
    xi_end = jnp.broadcast_to(delta0, (s, c, k))
    taint_end = jnp.zeros((s, c), bool)
    gamma = mdp.discount

    def sweep(xi, taint, scale):
        eta = _stock_backup(mdp, plan, splan, xi, delta0)
        taint_a = _taint_backup(mdp, splan, taint)
        action, value = _greedy(_objective_values(objective, eta, grid, support, scale), tie)
        xi_new = jnp.take_along_axis(eta, action[..., None, None], axis=2)[:, :, 0]
        taint_new = jnp.take_along_axis(taint_a, action[..., None], axis=2)[..., 0]
        return eta, xi_new, taint_new, action, value

    if mdp.horizon is not None:
        h = mdp.horizon

        def step(carry, t):
            xi, taint = carry
            _, xi, taint, action, _ = sweep(xi, taint, gamma ** t)
            return (xi, taint), action

        ts = jnp.arange(1, h, dtype=support.dtype)
        (xi1, taint1), actions = jax.lax.scan(step, (xi_end, taint_end), ts, reverse=True)
        eta, _, taint0, action0, value0 = sweep(xi1, taint1, jnp.asarray(1.0, support.dtype))
        actions = jnp.concatenate([action0[None], actions], axis=0)
        iterations, residual, converged = jnp.asarray(h), jnp.zeros((), support.dtype), \
            jnp.asarray(True)
    else:
        one = jnp.asarray(1.0, support.dtype)

        def cond(state):
            i, _, _, res = state
            return (i < max_iterations) & (res > tol)

        def body(state):
            i, xi, taint, _ = state
            _, new, taint, _, _ = sweep(xi, taint, one)
            return i + 1, new, taint, sup_wasserstein1_categorical(new, xi, support)

        iterations, xi, taint, residual = jax.lax.while_loop(
            cond, body, (jnp.asarray(0), xi_end, taint_end, jnp.asarray(jnp.inf, support.dtype)))
        eta, _, taint0, action0, value0 = sweep(xi, taint, one)
        actions = action0[None]
        converged = residual <= tol
        if throw:
            eta = eqx.error_if(eta, ~converged, "stock_augmented_value_iteration: did not "
                               "converge within max_iterations sweeps")
    policy = StockPolicy(actions, grid, gamma)
    return StockSolution(Categorical(support, eta), value0, policy, ~taint0, iterations,
                         residual, converged, mdp.initial)


class StockEvaluation(eqx.Module):
    """Return distributions of a `StockPolicy` (`evaluate_stock_policy`).

    **Fields:** `state`: `Categorical` `(S, C)`, law of G from (s, c) at t = 0; `exact`:
    `(S, C)` as in `StockSolution`; `iterations`, `residual`, `converged`; `initial` `(S,)`.
    """

    state: Categorical
    exact: Bool[Array, "S C"]
    iterations: Int[Array, ""]
    residual: Float[Array, ""]
    converged: Array
    initial: Float[Array, " S"]
    stock_grid: Float[Array, " C"]

    def return_distribution(self, initial_stock: ArrayLike = 0.0) -> Categorical:
        """The law of G from S₀ ~ initial with stock c₀ (interpolated between grid points)."""
        lo, hi, w = _locate(self.stock_grid, jnp.asarray(initial_stock, self.stock_grid.dtype))
        xi = self.state.weights
        mix = (1 - w) * xi[:, lo] + w * xi[:, hi]
        return Categorical(self.state.support, jnp.einsum("s,sk->k", self.initial, mix))


def _check_policy(mdp, policy):
    if not isinstance(policy, StockPolicy):
        raise TypeError(f"policy must be a StockPolicy, got {type(policy).__name__}")
    t, s, _ = policy.actions.shape
    if s != mdp.num_states:
        raise ValueError(f"policy.actions must have shape (T, S, C) with S = {mdp.num_states}, "
                         f"got {shape_str(policy.actions)}")
    if mdp.horizon is None and t != 1:
        raise ValueError(f"policy.actions of an infinite-horizon MDP must have T = 1, got "
                         f"{shape_str(policy.actions)}")
    if mdp.horizon is not None and t not in (1, mdp.horizon):
        raise ValueError(f"policy.actions must have T = 1 or horizon = {mdp.horizon}, got "
                         f"{shape_str(policy.actions)}")
    if policy.discount != mdp.discount:
        raise ValueError(f"policy.discount {policy.discount} differs from mdp.discount "
                         f"{mdp.discount}")


def evaluate_stock_policy(mdp: FiniteMDP, policy: StockPolicy, *,
                          support: ArrayLike | None = None, num_atoms: int = 51,
                          tol: float | None = None, max_iterations: int = 10_000,
                          throw: bool = True) -> StockEvaluation:
    """Distributional evaluation of a stock-dependent policy on the augmented state.

    Same recursion as `stock_augmented_value_iteration` with the actions fixed by `policy`.
    **Raises:** `TypeError`/`ValueError` for a policy that does not fit `mdp`.
    """
    _check_policy(mdp, policy)
    support = check_support(default_support(mdp, num_atoms) if support is None else support)
    support = support.astype(mdp.prob.dtype)
    plan = projection_plan(mdp.reward, mdp.discount, support)
    xi, taint, it, res, conv = _evaluate_stock(mdp, policy, support, plan,
                                               _tolerance(tol, support), max_iterations, throw,
                                               all_steps=False)
    return StockEvaluation(Categorical(support, xi), ~taint, it, res, conv, mdp.initial,
                           policy.stock_grid)


@eqx.filter_jit
def _evaluate_stock(mdp, policy, support, plan, tol, max_iterations, throw, all_steps):
    grid = policy.stock_grid
    splan = stock_plan(mdp, grid)
    delta0 = _delta0(support)
    s, c, k = mdp.num_states, grid.shape[0], support.shape[0]
    xi_end = jnp.broadcast_to(delta0, (s, c, k))
    taint_end = jnp.zeros((s, c), bool)

    def sweep(xi, taint, action):
        eta = _stock_backup(mdp, plan, splan, xi, delta0)
        taint_a = _taint_backup(mdp, splan, taint)
        xi_new = jnp.take_along_axis(eta, action[..., None, None], axis=2)[:, :, 0]
        taint_new = jnp.take_along_axis(taint_a, action[..., None], axis=2)[..., 0]
        return xi_new, taint_new

    if mdp.horizon is not None:
        actions = jnp.broadcast_to(policy.actions, (mdp.horizon, s, c))

        def step(carry, action):
            xi, taint = sweep(*carry, action)
            return (xi, taint), (xi, taint)

        (xi, taint), (xis, taints) = jax.lax.scan(step, (xi_end, taint_end), actions,
                                                  reverse=True)
        it, res, conv = jnp.asarray(mdp.horizon), jnp.zeros((), support.dtype), jnp.asarray(True)
        if all_steps:
            xi = jnp.concatenate([xis, xi_end[None]], axis=0)       # (H + 1, S, C, K)
            taint = jnp.concatenate([taints, taint_end[None]], axis=0)
    else:
        action = policy.actions[0]

        def cond(state):
            i, _, _, r = state
            return (i < max_iterations) & (r > tol)

        def body(state):
            i, xi, taint, _ = state
            new, taint = sweep(xi, taint, action)
            return i + 1, new, taint, sup_wasserstein1_categorical(new, xi, support)

        it, xi, taint, res = jax.lax.while_loop(
            cond, body, (jnp.asarray(0), xi_end, taint_end, jnp.asarray(jnp.inf, support.dtype)))
        conv = res <= tol
        if throw:
            xi = eqx.error_if(xi, ~conv, "evaluate_stock_policy: did not converge within "
                              "max_iterations sweeps")
    return xi, taint, it, res, conv


def stock_augmented_policy_iteration(
        mdp: FiniteMDP, objective: AbstractObjective, *, stock_grid: ArrayLike,
        support: ArrayLike | None = None, num_atoms: int = 51, tol: float | None = None,
        max_iterations: int = 10_000, max_improvements: int = 100,
        tie_tolerance: float = 1e-9, initial_policy: StockPolicy | None = None,
        throw: bool = True) -> StockSolution:
    """Distributional policy iteration on the stock-augmented state.

    Alternates `evaluate_stock_policy` with greedy improvement a ← argmax_a K(law(c + G(s, a)))
    (keeping the current action unless another is better by more than `tie_tolerance`),
    until the policy is stable or `max_improvements` rounds have run. Arguments as in
    `stock_augmented_value_iteration`; `initial_policy` defaults to action 0 everywhere.

    **Returns:** a `StockSolution`; `iterations` counts improvement rounds and `converged`
    says whether the policy stabilised.
    """
    support, grid = _prepare(mdp, objective, stock_grid, support, num_atoms)
    tol = _tolerance(tol, support)
    s, c = mdp.num_states, grid.shape[0]
    t = 1 if mdp.horizon is None else mdp.horizon
    if initial_policy is None:
        policy = StockPolicy(jnp.zeros((t, s, c), jnp.int32), grid, mdp.discount)
    else:
        _check_policy(mdp, initial_policy)
        policy = StockPolicy(jnp.broadcast_to(initial_policy.actions, (t, s, c)), grid,
                             mdp.discount)
    plan = projection_plan(mdp.reward, mdp.discount, support)
    stable = False
    rounds = 0
    for rounds in range(1, max_improvements + 1):  # noqa: B007
        new_actions, eta, values, taint = _improve(mdp, objective, policy, support, plan, tol,
                                                   max_iterations, tie_tolerance, throw)
        stable = bool(jnp.all(new_actions == policy.actions))
        policy = StockPolicy(new_actions, grid, mdp.discount)
        if stable:
            break
    if throw and not stable:
        raise RuntimeError(f"stock_augmented_policy_iteration: the policy still changed after "
                           f"max_improvements={max_improvements} rounds")
    return StockSolution(Categorical(support, eta), values, policy, ~taint, jnp.asarray(rounds),
                         jnp.zeros((), support.dtype), jnp.asarray(stable), mdp.initial)


@eqx.filter_jit
def _improve(mdp, objective, policy, support, plan, tol, max_iterations, tie, throw):
    grid = policy.stock_grid
    splan = stock_plan(mdp, grid)
    delta0 = _delta0(support)
    xis, taints, *_ = _evaluate_stock(mdp, policy, support, plan, tol, max_iterations, throw,
                                      all_steps=True)
    if mdp.horizon is not None:
        # η_t(s, c, a) from ξ_{t+1} for every t at once
        scales = mdp.discount ** jnp.arange(mdp.horizon, dtype=support.dtype)
        etas = jax.vmap(lambda xi: _stock_backup(mdp, plan, splan, xi, delta0))(xis[1:])
        taint_a = jax.vmap(lambda tn: _taint_backup(mdp, splan, tn))(taints[1:])
        values = jax.vmap(lambda e, sc: _objective_values(objective, e, grid, support, sc))(
            etas, scales)
        actions, best = _greedy(values, tie, policy.actions)
        eta0, best0 = etas[0], best[0]
        taint0 = jnp.take_along_axis(taint_a[0], actions[0][..., None], axis=2)[..., 0]
    else:
        eta0 = _stock_backup(mdp, plan, splan, xis, delta0)
        taint_a = _taint_backup(mdp, splan, taints)
        values = _objective_values(objective, eta0, grid, support, jnp.asarray(1.0, support.dtype))
        action0, best0 = _greedy(values, tie, policy.actions[0])
        actions = action0[None]
        taint0 = jnp.take_along_axis(taint_a, action0[..., None], axis=2)[..., 0]
    # the values of the *evaluated* policy's improvement step, at t = 0
    return actions, eta0, best0, taint0
