"""Stock-augmented distributional dynamic programming (Pires et al., 2025).

The augmented state is (s, c): the MDP state and the *stock* c, the rewards collected so far
scaled by the discount, updated c' = (c + r)/γ. Then c₀ + G₀ = γᵗ(c_t + G_t), so the law of
c₀ + G₀ — the thing the objective K judges — is available at every step, and acting greedily
with respect to K(law(c + G)) is optimal for every K that is indifferent to mixtures (and to
γ-scaling), expected utilities in particular.

The stock lives on a grid. When the returns lie on a lattice δℤ (rewards on δℤ, γ = 1, a
finite horizon: integers, half-integers, ...) the default grid `reachable_stock_grid` holds
every reachable stock and the default support every return, so everything is exact.
Otherwise the results say what was approximated: a next stock between two grid points is
split between them (the continuation from each, mixed by linear interpolation), a stock
leaving the grid is clamped to its end, and the categorical projection moves mass; the
`status` names the approximation (`left_grid`, `inexact_support`) and `projection_error`
bounds the last one.
"""

import warnings
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from .._core.checks import (
    check_instance,
    check_int,
    check_number,
    message,
)
from .._core.results import RESULTS, AbstractResult, report_status
from ._distributions import Categorical
from ._mdp import FiniteMDP
from ._objectives import AbstractExpectedUtility, AbstractObjective, MixtureWarning
from ._projection import (
    ProjectionPlan,
    SweepSettings,
    delta0,
    delta0_cost,
    project_outcomes,
    sup_wasserstein1_categorical,
    sweep_settings,
)
from ._stock_grid import (
    StockPlan,
    StockPolicy,
    Stocks,
    check_initial_stocks,
    check_stock_grid,
    check_stock_policy,
    grid_tolerance,
    locate,
    reachable_stock_grid,
    stock_plan,
)


def _stock_backup(mdp: FiniteMDP, plan: ProjectionPlan, splan: StockPlan, xi: Array,
                  err: Array, d0: Array, err0: Array) -> tuple[Array, Array]:
    """(S, C, A, K): law of R + γG' from (s, c, a) when G' ~ xi(S', C'), xi: (S, C, K); and
    (S, C, A) its projection-error bound from the next bounds `err` (S, C)."""
    xi = jnp.where(mdp.terminal[:, None, None], d0, xi)
    err = jnp.where(mdp.terminal[:, None], err0, err)
    ns = mdp.next_state[:, None]                       # (S, 1, A, M)
    w = splan.weight
    lo = xi[ns, splan.lower]                           # (S, C, A, M, K)
    nxt = lo + w[..., None] * (xi[ns, splan.upper] - lo)
    e_lo = err[ns, splan.lower]
    e_next = e_lo + w * (err[ns, splan.upper] - e_lo)
    prob = mdp.prob[:, None]
    out, cost = project_outcomes(prob[..., None] * nxt, plan)
    out_err = cost + mdp.discount * jnp.sum(prob * e_next, axis=-1)
    terminal = mdp.terminal[:, None, None]
    return jnp.where(terminal[..., None], d0, out), jnp.where(terminal, err0, out_err)


def _flag_backup(mdp, splan, flag_next, own):
    """Whether a reachable next (s', c') has the flag (`own`: the step's own flag, clipped or
    between), `(S, C, A)`."""
    ns = mdp.next_state[:, None]
    bad = own | flag_next[ns, splan.lower] | ((splan.weight > 0) & flag_next[ns, splan.upper])
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


def _pick(x, action):
    """x[s, c, action[s, c]] for x `(S, C, A, ...)`."""
    idx = action.reshape(action.shape + (1,) * (x.ndim - 2))
    return jnp.take_along_axis(x, idx, axis=2)[:, :, 0]


class _Sweep(NamedTuple):
    xi: Array          # (S, C, K) law of G from (s, c) under the policy
    err: Array         # (S, C) its projection-error bound
    left: Array        # (S, C) a reachable stock left the grid
    off: Array         # (S, C) a reachable stock fell between grid points


def _initial_sweep(mdp, grid, support):
    s, c, k = mdp.num_states, grid.shape[0], support.shape[0]
    return _Sweep(jnp.broadcast_to(delta0(support), (s, c, k)),
                  jnp.full((s, c), delta0_cost(support)), jnp.zeros((s, c), bool),
                  jnp.zeros((s, c), bool))


def _backup_all(mdp, plan, splan, support, nxt: _Sweep, last=False):
    """Per action: eta (S, C, A, K), err, left, off (S, C, A). At the `last` step of a
    finite horizon the next stock is not flagged: the continuation is δ₀ from every stock."""
    eta, err = _stock_backup(mdp, plan, splan, nxt.xi, nxt.err, delta0(support),
                             delta0_cost(support))
    left = _flag_backup(mdp, splan, nxt.left, splan.clipped & jnp.logical_not(last))
    off = _flag_backup(mdp, splan, nxt.off, splan.between & jnp.logical_not(last))
    return eta, err, left, off


def _select(per_action, action) -> _Sweep:
    eta, err, left, off = per_action
    return _Sweep(_pick(eta, action), _pick(err, action), _pick(left, action),
                  _pick(off, action))


class Starts(NamedTuple):
    """Where the initial stocks lie on the grid: `mask` `(C,)` the grid points they use
    (their neighbours), `between` whether one lies strictly between two grid points,
    `outside` whether one lies outside the grid. Shaped by the grid only, so the solvers
    compile once whatever the number of initial stocks."""

    mask: Array
    between: Array
    outside: Array


def starts_on(grid: ArrayLike, initial_stocks: ArrayLike) -> Starts:
    """The `Starts` of `initial_stocks` `(N,)` on `grid` (concrete arrays; in NumPy)."""
    grid, stocks = np.asarray(grid), np.asarray(initial_stocks)
    lo, hi, w = locate(grid, stocks)
    mask = np.zeros(grid.shape, bool)
    mask[lo] = True
    mask[hi[w > 0]] = True
    tol = grid_tolerance(grid)
    outside = np.any((stocks < grid[0] - tol) | (stocks > grid[-1] + tol))
    return Starts(jnp.asarray(mask), jnp.asarray(np.any(w > 0)), jnp.asarray(outside))


def stock_status(mdp: FiniteMDP, starts: Starts, sweep: _Sweep, converged: Array,
                 finite: Array) -> RESULTS:
    """The status of a stock-augmented computation judged from S₀ ~ `mdp.initial` and the
    initial stocks: nonfinite > not_converged > left_grid > inexact_support > successful;
    the grid and support conditions only for finite horizons."""
    status = RESULTS.successful
    if mdp.horizon is not None:
        live = (mdp.initial > 0)[:, None] & starts.mask[None]

        def reached(flag):
            return jnp.any(live & flag)

        left = starts.outside | reached(sweep.left)
        inexact = starts.between | reached(sweep.off) | reached(sweep.err > 0)
        status = RESULTS.where(inexact, RESULTS.inexact_support, status)
        status = RESULTS.where(left, RESULTS.left_grid, status)
    status = RESULTS.where(converged, status, RESULTS.not_converged)
    return RESULTS.where(finite, status, RESULTS.nonfinite)


class StockSolution(AbstractResult):
    """The result of stock-augmented dynamic programming.

    **Fields:**

    - `distributions`: `Categorical` `(S, C, A)`: law of the return G from (s, c) at t = 0
      when taking action a and then following `policy` (so the law of c + G is this
      shifted by c).
    - `values`: `(S, C)` the objective K(law(c + G)) under `policy`, from (s, c) at t = 0.
    - `policy`: the greedy `StockPolicy`.
    - `left_grid`: `(S, C)` True where a stock reachable from (s, c) at a step that still
      acts on it (not the stock after the last reward) left the grid (it was clamped to the
      end point, so the value there is an approximation). With γ < 1 and no
      horizon the stock grows like γ^(−t) and leaves every grid: the clamp is then the
      approximation, harmless for objectives that are constant or linear beyond the grid's
      ends (min(x, 0) and 1[x ≥ 0] with ends beyond ±max|G|).
    - `off_grid`: `(S, C)` True where such a stock fell between two grid points (the
      continuations from both were mixed by linear interpolation).
    - `projection_error`: `(S, C)` a bound on the 1-Wasserstein distance between the law of
      G under the greedy choice from (s, c) and the law the categorical projection computed
      (0 when the support holds every return); for a Lipschitz utility u the value error is
      at most Lip(u) times it.
    - `iterations`, `residual`: sweeps (the horizon, for finite horizons; improvement
      rounds for policy iteration) and the last sup-W₁ change (0 for finite horizons).
    - `initial`: `(S,)` the initial-state distribution of the MDP.
    - `initial_stocks`: `(N,)` the initial stocks the status is judged from.
    - `status`: a `RESULTS` item judged from S₀ ~ `initial` and every initial stock:
      `successful` (exact); `left_grid` (finite horizon: a reachable stock left the grid,
      or an initial stock lies outside it); `inexact_support` (finite horizon: a reachable
      or initial stock is not a grid point, or the projection moved mass); `not_converged`
      (the iteration budget ran out); `nonfinite`.
    - `converged`: `status == RESULTS.successful`.
    """

    distributions: Categorical
    values: Float[Array, "S C"]
    policy: StockPolicy
    left_grid: Bool[Array, "S C"]
    off_grid: Bool[Array, "S C"]
    projection_error: Float[Array, "S C"]
    iterations: Int[Array, ""]
    residual: Float[Array, ""]
    initial: Float[Array, " S"]
    initial_stocks: Float[Array, " N"]
    status: RESULTS

    @property
    def stock_grid(self) -> Array:
        return self.policy.stock_grid

    def value(self, initial_stock: ArrayLike = 0.0) -> Array:
        """E over S₀ of the optimal K from (S₀, c₀) — c₀ on the grid or interpolated."""
        return _from_initial(self.stock_grid, self.initial, self.values, initial_stock)

    def return_distribution(self, initial_stock: ArrayLike = 0.0) -> Categorical:
        """The law of G from S₀ ~ initial with stock c₀ under the greedy policy."""
        xi = _pick(self.distributions.weights, self.policy.actions[0])
        return Categorical(self.distributions.support,
                           _from_initial(self.stock_grid, self.initial, xi, initial_stock))


def _from_initial(grid, initial, x, initial_stock):
    """E over S₀ ~ `initial` of `x` `(S, C, ...)` at the stock c₀ (interpolated between grid
    points)."""
    lo, hi, w = locate(grid, jnp.asarray(initial_stock, grid.dtype))
    return jnp.einsum("s,s...->...", initial, (1 - w) * x[:, lo] + w * x[:, hi])


def _check_objective(fn, mdp, objective):
    """`objective` is an AbstractObjective; warn when the DP does not optimise it (not
    mixture-indifferent, or not scale-free under discounting with no horizon)."""
    check_instance(fn, "objective", objective, AbstractObjective,
                   "an AbstractObjective (e.g. ExpectedUtility(f))")
    if not objective.mixture_indifferent:
        warnings.warn(
            f"{type(objective).__name__} is not indifferent to mixtures: distributional DP "
            "with stock augmentation does not optimise it (the greedy policy is "
            "time-inconsistent and can be strictly suboptimal). Use an expected utility, or "
            "optimize_cvar for CVaR.", MixtureWarning, stacklevel=3)
    if objective.mixture_indifferent and mdp.discount < 1.0 and mdp.horizon is None \
            and not objective.positively_homogeneous:
        warnings.warn(
            f"{type(objective).__name__} is not declared positively homogeneous: with "
            "discount < 1 and no horizon the greedy step uses K at every time step, which is "
            "exact only if K is indifferent to scaling by the discount", MixtureWarning,
            stacklevel=3)


def _prepare(fn, mdp, initial_stocks, stock_grid, support, num_atoms, tol, max_iterations,
             throw) -> tuple[Array, Array, SweepSettings]:
    """The checked grid, initial stocks and settings of the stock-augmented DP."""
    settings = sweep_settings(fn, mdp, support, num_atoms, tol, max_iterations, throw)
    stocks = check_initial_stocks(fn, initial_stocks, mdp.prob.dtype)
    if stock_grid is None:
        if mdp.return_lattice() is None:
            raise ValueError(message(fn, "stock_grid", "given when the returns lie on no "
                                     "lattice (rewards on δℤ, discount 1, a finite horizon)",
                                     f"None with discount={mdp.discount}, "
                                     f"horizon={mdp.horizon}"))
        stock_grid = reachable_stock_grid(mdp, stocks)
    return check_stock_grid(fn, stock_grid, mdp.prob.dtype), stocks, settings


def stock_augmented_value_iteration(
        mdp: FiniteMDP, objective: AbstractObjective, *, initial_stocks: Stocks = 0.0,
        stock_grid: Stocks | None = None, support: ArrayLike | None = None,
        num_atoms: int = 51, tol: float | None = None, max_iterations: int = 10_000,
        tie_tolerance: float = 1e-9, throw: bool = True) -> StockSolution:
    """Distributional value iteration on the stock-augmented state (s, c).

    η(s, c, a) = E_{R,S'}[R + γ G'], G' ~ η(S', C', a*(S', C')), C' = (c + R)/γ, with the greedy
    action a*(s, c) = argmax_a K(law(γᵗ(c + G(s, a)))) (lowest index among ties within
    `tie_tolerance`). Finite horizon: exact backward induction over t = H−1..0 with a policy
    per step. Infinite horizon: iterated to a fixed point (sup-W₁ change ≤ `tol`).

    With the returns on a lattice δℤ (rewards on δℤ, γ = 1, a finite horizon) the default
    grid and support hold every reachable stock and return, and the values from the initial
    stocks are exact; otherwise the status names what was approximated.

    **Arguments:**

    - `mdp`: a `FiniteMDP`.
    - `objective`: K, an `AbstractObjective` (an expected utility for guaranteed optimality;
      others warn with `MixtureWarning`).
    - `initial_stocks`: the stocks c₀ the solution will be used from (a number or `(N,)`):
      the default grid is built for them and the status judged from them.
    - `stock_grid`: `(C,)` increasing stock values; default `reachable_stock_grid(mdp,
      initial_stocks)` (returns on a lattice only).
    - `support`: `(K,)` return support (evenly spaced, its range containing 0); default
      `default_support(mdp, num_atoms)`.
    - `tol`, `max_iterations`: as in `evaluate_policy`.
    - `tie_tolerance`: relative tolerance under which action values count as tied.
    - `throw`: raise at run time when the status is not successful; with `throw=False` it
      is only reported.

    **Returns:** a `StockSolution` (values K from every (s, c), the greedy `StockPolicy`,
    return distributions, the approximation flags and bound, the status).

    **Raises:** `TypeError` for a non-objective or non-numeric arrays; `ValueError` for
    malformed grids, supports or settings, or a missing `stock_grid` where no lattice grid
    exists; with `throw`, a runtime error naming the status.

    **Reference:** Pires et al. (2025), *Optimizing Return Distributions with Distributional
    Dynamic Programming*, §3–4.
    """
    fn = "stock_augmented_value_iteration"
    _check_objective(fn, mdp, objective)
    grid, stocks, (support, plan, tol, max_iterations, throw) = _prepare(
        fn, mdp, initial_stocks, stock_grid, support, num_atoms, tol, max_iterations, throw)
    tie = check_number(fn, "tie_tolerance", tie_tolerance, minimum=0.0)
    eta, values, actions, at0, iterations, residual, status = _savi(
        mdp, objective, grid, support, plan, starts_on(grid, stocks), tol, max_iterations,
        tie)
    values = report_status(fn, status, values, throw)
    return StockSolution(Categorical(support, eta), values,
                         StockPolicy(actions, grid, mdp.discount), at0.left, at0.off, at0.err,
                         iterations, residual, mdp.initial, stocks, status)


@eqx.filter_jit
def _savi(mdp, objective, grid, support, plan, starts, tol, max_iterations, tie):
    splan = stock_plan(mdp, grid)
    gamma = mdp.discount

    def sweep(nxt: _Sweep, scale, last=False):
        per_action = _backup_all(mdp, plan, splan, support, nxt, last)
        action, value = _greedy(_objective_values(objective, per_action[0], grid, support,
                                                  scale), tie)
        return per_action[0], _select(per_action, action), action, value

    end = _initial_sweep(mdp, grid, support)
    if mdp.horizon is not None:
        # one scan over t = H − 1..0 carrying the step's η and values, so the sweep is traced
        # and compiled once (the values and η that remain are those of t = 0)
        def step(carry, t):
            nxt, _, _ = carry
            eta, new, action, value = sweep(nxt, gamma ** t, t == mdp.horizon - 1)
            return (new, eta, value), action

        s_, c_, a_, k_ = mdp.num_states, grid.shape[0], mdp.num_actions, support.shape[0]
        init = (end, jnp.zeros((s_, c_, a_, k_), support.dtype), jnp.zeros((s_, c_), support.dtype))
        ts = jnp.arange(mdp.horizon, dtype=support.dtype)
        (at0, eta, value0), actions = jax.lax.scan(step, init, ts, reverse=True)
        iterations, residual = jnp.asarray(mdp.horizon), jnp.zeros((), support.dtype)
        converged = jnp.asarray(True)
    else:
        one = jnp.asarray(1.0, support.dtype)

        def cond(state):
            i, _, res = state
            return (i < max_iterations) & (res > tol)

        def body(state):
            i, nxt, _ = state
            _, new, _, _ = sweep(nxt, one)
            return i + 1, new, sup_wasserstein1_categorical(new.xi, nxt.xi, support)

        iterations, last, residual = jax.lax.while_loop(
            cond, body, (jnp.asarray(0), end, jnp.asarray(jnp.inf, support.dtype)))
        eta, at0, action0, value0 = sweep(last, one)
        actions = action0[None]
        converged = residual <= tol
    finite = jnp.all(jnp.isfinite(eta)) & jnp.all(jnp.isfinite(value0))
    status = stock_status(mdp, starts, at0, converged, finite)
    return eta, value0, actions, at0, iterations, residual, status


class StockEvaluation(AbstractResult):
    """Return distributions of a `StockPolicy` (`evaluate_stock_policy`).

    **Fields:** `state`: `Categorical` `(S, C)`, law of G from (s, c) at t = 0;
    `left_grid`, `off_grid`, `projection_error` `(S, C)`, `iterations`, `residual`,
    `initial` `(S,)`, `initial_stocks` `(N,)` and `status` as in `StockSolution`;
    `stock_grid` `(C,)` the policy's grid; `converged`: `status == RESULTS.successful`.
    """

    state: Categorical
    left_grid: Bool[Array, "S C"]
    off_grid: Bool[Array, "S C"]
    projection_error: Float[Array, "S C"]
    iterations: Int[Array, ""]
    residual: Float[Array, ""]
    initial: Float[Array, " S"]
    stock_grid: Float[Array, " C"]
    initial_stocks: Float[Array, " N"]
    status: RESULTS

    def return_distribution(self, initial_stock: ArrayLike = 0.0) -> Categorical:
        """The law of G from S₀ ~ initial with stock c₀ (interpolated between grid points)."""
        return Categorical(self.state.support, _from_initial(self.stock_grid, self.initial,
                                                             self.state.weights, initial_stock))


def evaluate_stock_policy(mdp: FiniteMDP, policy: StockPolicy, *,
                          initial_stocks: Stocks = 0.0,
                          support: ArrayLike | None = None, num_atoms: int = 51,
                          tol: float | None = None, max_iterations: int = 10_000,
                          throw: bool = True) -> StockEvaluation:
    """Distributional evaluation of a stock-dependent policy on the augmented state.

    Same recursion as `stock_augmented_value_iteration` with the actions fixed by `policy`.

    **Arguments:** `mdp`; `policy` a `StockPolicy` fitting `mdp`; `initial_stocks` the
    stocks the status is judged from (a number or `(N,)`); `support`, `num_atoms`, `tol`,
    `max_iterations`, `throw` as in `evaluate_policy`.

    **Returns:** a `StockEvaluation`.

    **Raises:** `TypeError`/`ValueError` for a policy that does not fit `mdp` or malformed
    settings; with `throw`, a runtime error naming the status.

    **Reference:** Pires et al. (2025), §3 (distributional policy evaluation).
    """
    fn = "evaluate_stock_policy"
    check_instance(fn, "mdp", mdp, FiniteMDP)
    check_stock_policy(fn, mdp, policy)
    grid, stocks, (support, plan, tol, max_iterations, throw) = _prepare(
        fn, mdp, initial_stocks, policy.stock_grid, support, num_atoms, tol, max_iterations,
        throw)
    policy = StockPolicy(policy.actions, grid, policy.discount)
    at0, it, res, status = _evaluate_stock(mdp, policy, support, plan, starts_on(grid, stocks),
                                           tol, max_iterations, all_steps=False)
    at0 = at0._replace(xi=report_status(fn, status, at0.xi, throw))
    return StockEvaluation(Categorical(support, at0.xi), at0.left, at0.off, at0.err, it, res,
                           mdp.initial, grid, stocks, status)


@eqx.filter_jit
def _evaluate_stock(mdp, policy, support, plan, starts, tol, max_iterations,
                    all_steps):
    grid = policy.stock_grid
    splan = stock_plan(mdp, grid)
    s, c = mdp.num_states, grid.shape[0]
    end = _initial_sweep(mdp, grid, support)

    def sweep(nxt, action, last=False):
        return _select(_backup_all(mdp, plan, splan, support, nxt, last), action)

    if mdp.horizon is not None:
        actions = jnp.broadcast_to(policy.actions, (mdp.horizon, s, c))

        def step(carry, xs):
            action, t = xs
            new = sweep(carry, action, t == mdp.horizon - 1)
            return new, new

        at0, steps = jax.lax.scan(step, end, (actions, jnp.arange(mdp.horizon)), reverse=True)
        it, res, conv = jnp.asarray(mdp.horizon), jnp.zeros((), support.dtype), jnp.asarray(True)
        if all_steps:   # (H + 1, ...) the sweeps of every step and the end
            at0 = jax.tree.map(lambda xs, x: jnp.concatenate([xs, x[None]], axis=0), steps, end)
    else:
        action = policy.actions[0]

        def cond(state):
            i, _, r = state
            return (i < max_iterations) & (r > tol)

        def body(state):
            i, nxt, _ = state
            new = sweep(nxt, action)
            return i + 1, new, sup_wasserstein1_categorical(new.xi, nxt.xi, support)

        it, at0, res = jax.lax.while_loop(
            cond, body, (jnp.asarray(0), end, jnp.asarray(jnp.inf, support.dtype)))
        conv = res <= tol
    first = jax.tree.map(lambda x: x[0], at0) if all_steps and mdp.horizon is not None else at0
    finite = jnp.all(jnp.isfinite(first.xi))
    status = stock_status(mdp, starts, first, conv, finite)
    return at0, it, res, status


def stock_augmented_policy_iteration(
        mdp: FiniteMDP, objective: AbstractObjective, *, initial_stocks: Stocks = 0.0,
        stock_grid: Stocks | None = None, support: ArrayLike | None = None,
        num_atoms: int = 51, tol: float | None = None, max_iterations: int = 10_000,
        max_improvements: int = 100, tie_tolerance: float = 1e-9,
        initial_policy: StockPolicy | None = None, throw: bool = True) -> StockSolution:
    """Distributional policy iteration on the stock-augmented state.

    Alternates `evaluate_stock_policy` with greedy improvement a ← argmax_a K(law(c + G(s, a)))
    (keeping the current action unless another is better by more than `tie_tolerance`),
    until the policy is stable or `max_improvements` rounds have run. Arguments as in
    `stock_augmented_value_iteration`; `initial_policy` defaults to action 0 everywhere.

    **Returns:** a `StockSolution`; `iterations` counts improvement rounds, and the status is
    `not_converged` when the policy still changed after `max_improvements` rounds.

    **Raises:** as `stock_augmented_value_iteration`.

    **Reference:** Pires et al. (2025), §4 (distributional policy iteration).
    """
    fn = "stock_augmented_policy_iteration"
    _check_objective(fn, mdp, objective)
    grid, stocks, (support, plan, tol, max_iterations, throw) = _prepare(
        fn, mdp, initial_stocks, stock_grid, support, num_atoms, tol, max_iterations, throw)
    tie = check_number(fn, "tie_tolerance", tie_tolerance, minimum=0.0)
    max_improvements = check_int(fn, "max_improvements", max_improvements, minimum=1)
    s, c = mdp.num_states, grid.shape[0]
    t = 1 if mdp.horizon is None else mdp.horizon
    if initial_policy is None:
        policy = StockPolicy(jnp.zeros((t, s, c), jnp.int32), grid, mdp.discount)
    else:
        check_stock_policy(fn, mdp, initial_policy)
        policy = StockPolicy(jnp.broadcast_to(initial_policy.actions, (t, s, c)), grid,
                             mdp.discount)
    starts = starts_on(grid, stocks)
    stable = False
    rounds = 0
    for rounds in range(1, max_improvements + 1):  # noqa: B007
        new_actions, eta, values, at0, status = _improve(
            mdp, objective, policy, support, plan, starts, tol, max_iterations, tie)
        stable = bool(jnp.all(new_actions == policy.actions))
        policy = StockPolicy(new_actions, grid, mdp.discount)
        if stable:
            break
    status = RESULTS.where(jnp.asarray(stable), status, RESULTS.not_converged)
    values = report_status(fn, status, values, throw)
    return StockSolution(Categorical(support, eta), values, policy, at0.left, at0.off,
                         at0.err, jnp.asarray(rounds), jnp.zeros((), support.dtype),
                         mdp.initial, stocks, status)


@eqx.filter_jit
def _improve(mdp, objective, policy, support, plan, starts, tol, max_iterations, tie):
    grid = policy.stock_grid
    splan = stock_plan(mdp, grid)
    steps, _, _, status = _evaluate_stock(mdp, policy, support, plan, starts, tol,
                                          max_iterations, all_steps=True)
    if mdp.horizon is not None:
        # η_t(s, c, a) from the sweeps at t + 1, for every t at once
        scales = mdp.discount ** jnp.arange(mdp.horizon, dtype=support.dtype)
        following = jax.tree.map(lambda x: x[1:], steps)
        per_action = jax.vmap(lambda nxt, t: _backup_all(mdp, plan, splan, support, nxt,
                                                         t == mdp.horizon - 1))(
            following, jnp.arange(mdp.horizon))
        values = jax.vmap(lambda e, sc: _objective_values(objective, e, grid, support, sc))(
            per_action[0], scales)
        actions, best = _greedy(values, tie, policy.actions)
        first = jax.tree.map(lambda x: x[0], per_action)
        eta0, best0, action0 = first[0], best[0], actions[0]
    else:
        first = _backup_all(mdp, plan, splan, support, steps)
        values = _objective_values(objective, first[0], grid, support,
                                   jnp.asarray(1.0, support.dtype))
        action0, best0 = _greedy(values, tie, policy.actions[0])
        actions, eta0 = action0[None], first[0]
    at0 = _select(first, action0)
    # the values of the evaluated policy's improvement step, at t = 0
    finite = jnp.all(jnp.isfinite(eta0)) & jnp.all(jnp.isfinite(best0))
    status = stock_status(mdp, starts, at0, status != RESULTS.not_converged, finite)
    return actions, eta0, best0, at0, status
