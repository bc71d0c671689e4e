"""Distributional Bellman operators and the evaluation of Markov policies: categorical
(projected onto a support, `_projection.py`) and exact (finite supports, no projection)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from .._core.checks import (
    check_bool,
    check_instance,
    check_int,
    concrete_values,
    message,
    shape_str,
)
from .._core.results import RESULTS, AbstractResult, report_status
from ._distributions import Categorical, FiniteSupport
from ._mdp import FiniteMDP
from ._projection import (
    ProjectionPlan,
    check_support,
    delta0,
    delta0_cost,
    project_outcomes,
    projection_plan,
    sup_wasserstein1_categorical,
    sweep_settings,
)


def markov_policy(policy: ArrayLike, mdp: FiniteMDP) -> Float[Array, "*H S A"]:
    """A Markov policy as probabilities `(S, A)` or time-dependent `(H, S, A)`.

    Accepts probabilities of those shapes, or deterministic action indices (an integer
    array) `(S,)` or `(H, S)`.

    **Returns:** the probabilities, in the MDP's floating dtype.

    **Raises:** `TypeError` for a non-numeric or complex policy; `ValueError` for a wrong
    shape, actions outside `0..A-1`, or probabilities that are negative or do not sum to 1.
    """
    return _markov_policy("markov_policy", policy, mdp)


def _markov_policy(fn, policy, mdp, name="policy"):
    check_instance(fn, "mdp", mdp, FiniteMDP)
    policy = jnp.asarray(policy)
    s, a = mdp.num_states, mdp.num_actions
    if jnp.issubdtype(policy.dtype, jnp.integer):
        if policy.shape not in ((s,),) and not (policy.ndim == 2 and policy.shape[1] == s):
            raise ValueError(message(fn, name, f"action indices of shape (S,) = ({s},) or "
                                     "(H, S) (a deterministic policy)",
                                     f"shape {shape_str(policy)}"))
        c = concrete_values(policy)
        if c is not None and (c.min() < 0 or c.max() >= a):
            raise ValueError(message(fn, name, f"actions in 0..{a - 1}",
                                     f"{c.min()}..{c.max()}"))
        policy = jax.nn.one_hot(policy, a, dtype=mdp.prob.dtype)
    elif not jnp.issubdtype(policy.dtype, jnp.floating):
        raise TypeError(message(fn, name, "action probabilities (a floating array) or action "
                                "indices (an integer array)", f"dtype {policy.dtype}"))
    if policy.shape[-2:] != (s, a) or policy.ndim not in (2, 3):
        raise ValueError(message(fn, name, f"probabilities of shape (S, A) = ({s}, {a}) or "
                                 "(H, S, A)", f"shape {shape_str(policy)}"))
    if policy.ndim == 3 and policy.shape[0] != mdp.horizon:
        raise ValueError(message(fn, name, f"time-dependent with a leading axis of length "
                                 f"horizon={mdp.horizon}", f"shape {shape_str(policy)}"))
    c = concrete_values(policy)
    if c is not None and ((c < 0).any() or np.abs(c.sum(-1) - 1).max() > 1e-6):
        raise ValueError(message(fn, name, "non-negative action probabilities summing to 1 "
                                 "over the last axis", f"sums from {c.sum(-1).min():.6g} to "
                                 f"{c.sum(-1).max():.6g} and least entry {c.min():.6g}"))
    return policy.astype(mdp.prob.dtype)


def _stationary(fn, policy, mdp):
    pi = _markov_policy(fn, policy, mdp)
    if pi.ndim != 2:
        raise ValueError(message(fn, "policy", "stationary, of shape (S, A) or (S,)",
                                 f"shape {shape_str(pi)}"))
    return pi


def _markov_backup(mdp: FiniteMDP, plan: ProjectionPlan, next_dist: Array, next_err: Array,
                   d0: Array, err0: Array) -> tuple[Array, Array]:
    """(S, A, K) the law of R + γ G' when G' ~ next_dist(S') (state distributions (S, K)),
    and (S, A) its projection-error bound from the next states' bounds `next_err` (S,)."""
    nd = jnp.where(mdp.terminal[:, None], d0, next_dist)
    ne = jnp.where(mdp.terminal, err0, next_err)
    mass = mdp.prob[..., None] * nd[mdp.next_state]
    out, cost = project_outcomes(mass[:, None], plan)
    err = cost[:, 0] + mdp.discount * jnp.sum(mdp.prob * ne[mdp.next_state], axis=-1)
    terminal = mdp.terminal[:, None]
    return (jnp.where(terminal[..., None], d0, out[:, 0]), jnp.where(terminal, err0, err))


def categorical_bellman_operator(mdp: FiniteMDP, policy: ArrayLike,
                                 distributions: Categorical) -> Categorical:
    """One application of the projected distributional Bellman operator Π_C T^π.

    **Arguments:** `distributions` is a `Categorical` of batch shape `(S, A)` (state-action
    return distributions); `policy` a stationary Markov policy (see `markov_policy`).

    **Returns:** the `Categorical` `(S, A)` of Π_C[R + γ G(S', A')] with A' ~ π(S').

    **Raises:** `TypeError` for a non-`Categorical`; `ValueError` for a malformed or
    time-dependent policy or a malformed support.
    """
    fn = "categorical_bellman_operator"
    check_instance(fn, "distributions", distributions, Categorical)
    support = check_support(fn, distributions.support)
    pi = _stationary(fn, policy, mdp)
    plan = projection_plan(mdp.reward, mdp.discount, support)
    return Categorical(support, _categorical_backup(mdp, pi, distributions.weights, support,
                                                    plan))


@eqx.filter_jit
def _categorical_backup(mdp, pi, weights, support, plan):
    nd = jnp.einsum("sa,sak->sk", pi, weights)
    zeros = jnp.zeros(mdp.num_states, support.dtype)
    return _markov_backup(mdp, plan, nd, zeros, delta0(support), jnp.zeros((), support.dtype))[0]


def exact_bellman_operator(mdp: FiniteMDP, policy: ArrayLike,
                           distributions: FiniteSupport) -> FiniteSupport:
    """The distributional Bellman operator T^π without projection, on exact supports.

    `distributions` has batch shape `(S, A)` and n atoms; the result has `A·M·n` atoms per
    (s, a) (uncompacted: call `.compact()`); terminal states return δ₀.

    **Raises:** `TypeError` for a non-`FiniteSupport`; `ValueError` for a malformed or
    time-dependent policy.
    """
    fn = "exact_bellman_operator"
    check_instance(fn, "distributions", distributions, FiniteSupport)
    return _exact_backup(mdp, _stationary(fn, policy, mdp), distributions)


@eqx.filter_jit
def _exact_backup(mdp, pi, distributions):
    v, p = distributions.values, distributions.masses
    s, a, m = mdp.next_state.shape
    n = v.shape[-1]
    # state distributions of G(S'): mixture over A' ~ π, (S, A·n)
    sv = jnp.reshape(v, (s, a * n))
    sp = jnp.reshape(pi[..., None] * p, (s, a * n))
    sv = jnp.where(mdp.terminal[:, None], 0.0, sv)
    sp = jnp.where(mdp.terminal[:, None], jnp.where(jnp.arange(a * n) == 0, 1.0, 0.0), sp)
    nv = mdp.reward[..., None] + mdp.discount * sv[mdp.next_state]   # (S, A, M, A·n)
    npr = mdp.prob[..., None] * sp[mdp.next_state]
    nv = jnp.where(mdp.terminal[:, None, None, None], 0.0, nv).reshape(s, a, m * a * n)
    npr = jnp.where(mdp.terminal[:, None, None, None],
                    jnp.where(jnp.arange(m * a * n) == 0, 1.0, 0.0).reshape(m, a * n),
                    npr).reshape(s, a, m * a * n)
    return FiniteSupport(nv, npr)


class PolicyEvaluation(AbstractResult):
    """The return distributions of a Markov policy (`evaluate_policy`).

    **Fields:**

    - `state_action`: `Categorical` `(S, A)`: law of G from (s, a), following π after.
    - `state`: `Categorical` `(S,)`: law of G from s (A ~ π(s)).
    - `initial`: `Categorical` `()`: law of G from S₀ ~ `mdp.initial`.
    - `projection_error`: `(S,)` a bound on the 1-Wasserstein distance between `state` and
      the true law of G from s: the transport cost of every categorical projection,
      accumulated along the policy (0 on a support that contains every return).
    - `iterations`: sweeps done (the horizon, for finite-horizon problems).
    - `residual`: sup-W₁ change of the last sweep (0 for finite horizons).
    - `status`: a `RESULTS` item: `successful`; `inexact_support` (finite horizon: the
      support does not hold every return, `projection_error` > 0); `not_converged`
      (infinite horizon: `max_iterations` sweeps did not reach `tol`); `nonfinite`.
    - `converged`: `status == RESULTS.successful`.
    """

    state_action: Categorical
    state: Categorical
    initial: Categorical
    projection_error: Float[Array, " S"]
    iterations: Int[Array, ""]
    residual: Float[Array, ""]
    status: RESULTS


def evaluate_policy(mdp: FiniteMDP, policy: ArrayLike, *, support: ArrayLike | None = None,
                    num_atoms: int = 51, tol: float | None = None,
                    max_iterations: int = 10_000, throw: bool = True) -> PolicyEvaluation:
    """Distributional policy evaluation of a Markov policy with the categorical representation.

    Finite horizon: exact backward recursion η_t = Π_C T^{π_t} η_{t+1} from η_H = δ₀ — exact
    whenever the support is a lattice containing every return (`default_support`, for
    rewards on a lattice δℤ and γ = 1); otherwise the status is `inexact_support` and
    `projection_error` bounds the error. Infinite horizon: the projected operator iterated
    from δ₀ to its fixed point (a √γ-contraction in the Cramér distance, Rowland et al.
    2018), stopping when the sup-W₁ change of a sweep is below `tol`; the categorical fixed
    point is an approximation by construction, bounded by `projection_error`.

    **Arguments:**

    - `mdp`: the `FiniteMDP`.
    - `policy`: `(S, A)` probabilities or `(S,)` actions; `(H, S, A)` / `(H, S)` for a
      time-dependent policy of a finite-horizon problem.
    - `support`: `(K,)` evenly spaced, its range containing 0; default
      `default_support(mdp, num_atoms)`.
    - `tol`: stopping tolerance on the sup-W₁ change (default: 10·eps·K·(z_K − z_1)).
    - `max_iterations`: sweep limit for infinite horizons.
    - `throw`: raise at run time when the status is not successful; with `throw=False` it
      is only reported.

    **Returns:** a `PolicyEvaluation`.

    **Raises:** `TypeError`/`ValueError` for a malformed policy, support or setting; with
    `throw`, a runtime error naming the status.

    **References:** Pires et al. (2025), *Optimizing Return Distributions with Distributional
    Dynamic Programming*, §3; Rowland et al. (2018), *An Analysis of Categorical
    Distributional Reinforcement Learning*.
    """
    fn = "evaluate_policy"
    support, plan, tol, max_iterations, throw = sweep_settings(
        fn, mdp, support, num_atoms, tol, max_iterations, throw)
    pi = _markov_policy(fn, policy, mdp)
    out = _evaluate(mdp, pi, support, plan, tol, max_iterations)
    # the runtime check outside the compiled sweeps: one compile serves both throw settings
    return eqx.tree_at(lambda r: r.state.weights, out,
                       report_status(fn, out.status, out.state.weights, throw))


@eqx.filter_jit
def _evaluate(mdp, pi, support, plan, tol, max_iterations):
    d0, err0 = delta0(support), delta0_cost(support)
    s, a, k = mdp.num_states, mdp.num_actions, support.shape[0]
    init = jnp.broadcast_to(d0, (s, k))
    init_err = jnp.full((s,), err0)
    if mdp.horizon is not None:
        pis = jnp.broadcast_to(pi, (mdp.horizon, s, a)) if pi.ndim == 2 else pi

        # one scan over t = H − 1..0 carrying the step's η (traced and compiled once); the η
        # that remains is that of t = 0
        def step(carry, pi_t):
            eta, err = _markov_backup(mdp, plan, carry[0], carry[1], d0, err0)
            return (jnp.einsum("sa,sak->sk", pi_t, eta), jnp.einsum("sa,sa->s", pi_t, err),
                    eta, err), None

        init_eta = jnp.zeros((s, a, k), support.dtype)
        carry = (init, init_err, init_eta, jnp.zeros((s, a), support.dtype))
        (_, _, eta, err), _ = jax.lax.scan(step, carry, pis, reverse=True)
        pi0 = pis[0]
        iterations, residual = jnp.asarray(mdp.horizon), jnp.zeros((), support.dtype)
        converged = jnp.asarray(True)
    else:
        pi0 = pi

        def cond(state):
            i, _, _, res = state
            return (i < max_iterations) & (res > tol)

        def body(state):
            i, eta, err, _ = state
            new, new_err = _markov_backup(mdp, plan, jnp.einsum("sa,sak->sk", pi, eta),
                                          jnp.einsum("sa,sa->s", pi, err), d0, err0)
            return i + 1, new, new_err, sup_wasserstein1_categorical(new, eta, support)

        eta0 = jnp.broadcast_to(d0, (s, a, k))
        iterations, eta, err, residual = jax.lax.while_loop(
            cond, body, (jnp.asarray(0), eta0, jnp.full((s, a), err0),
                         jnp.asarray(jnp.inf, support.dtype)))
        converged = residual <= tol
    state = jnp.einsum("sa,sak->sk", pi0, eta)
    state_err = jnp.einsum("sa,sa->s", pi0, err)
    initial = jnp.einsum("s,sk->k", mdp.initial, state)
    status = evaluation_status(mdp, eta, state_err, converged)
    return PolicyEvaluation(Categorical(support, eta), Categorical(support, state),
                            Categorical(support, initial), state_err, iterations, residual,
                            status)


def evaluation_status(mdp: FiniteMDP, eta: Array, error: Array, converged: Array) -> RESULTS:
    """nonfinite > not_converged > inexact_support (finite horizon only) > successful."""
    status = RESULTS.successful
    if mdp.horizon is not None:
        status = RESULTS.where(jnp.any(error > 0), RESULTS.inexact_support, status)
    status = RESULTS.where(converged, status, RESULTS.not_converged)
    finite = jnp.all(jnp.isfinite(eta)) & jnp.all(jnp.isfinite(error))
    return RESULTS.where(finite, status, RESULTS.nonfinite)


class ExactReturns(AbstractResult):
    """Exact return distributions of a Markov policy (`exact_return_distribution`).

    **Fields:**

    - `state`: `FiniteSupport` `(S,)` with `max_atoms` atoms: the law of G from each state.
    - `initial`: `FiniteSupport` `()`: the law of G from S₀ ~ `mdp.initial`.
    - `status`: `successful`, or `inexact_support` when some law had more than `max_atoms`
      distinct atoms (the excess mass was dropped: raise `max_atoms`).
    - `converged`: `status == RESULTS.successful`.
    """

    state: FiniteSupport
    initial: FiniteSupport
    status: RESULTS


def exact_return_distribution(mdp: FiniteMDP, policy: ArrayLike, *, max_atoms: int = 256,
                              throw: bool = True) -> ExactReturns:
    """Exact return distributions of a Markov policy on a finite-horizon MDP (no projection).

    Backward recursion on `FiniteSupport` distributions, merging equal atoms after every
    step and keeping at most `max_atoms` distinct atoms.

    **Arguments:** `mdp` (finite horizon); `policy` as in `evaluate_policy`; `max_atoms` the
    number of atoms kept; `throw`: raise at run time when atoms were dropped.

    **Returns:** an `ExactReturns` (`state`, `initial`, `status`).

    **Raises:** `ValueError` if `mdp` has no horizon or `max_atoms` < 1; with `throw`, a
    runtime error when some distribution has more than `max_atoms` distinct atoms.

    **Reference:** Pires et al. (2025), §3 (the distributional Bellman recursion).
    """
    fn = "exact_return_distribution"
    check_instance(fn, "mdp", mdp, FiniteMDP)
    if mdp.horizon is None:
        raise ValueError(message(fn, "mdp", "a finite-horizon MDP (use evaluate_policy "
                                 "otherwise)", "horizon=None"))
    pi = _markov_policy(fn, policy, mdp)
    max_atoms = check_int(fn, "max_atoms", max_atoms, minimum=1)
    throw = check_bool(fn, "throw", throw)
    out = _exact(mdp, pi, max_atoms)
    return eqx.tree_at(lambda r: r.state.values, out,
                       report_status(fn, out.status, out.state.values, throw))


@eqx.filter_jit
def _exact(mdp, pi, max_atoms):
    s, a, m = mdp.next_state.shape
    pis = jnp.broadcast_to(pi, (mdp.horizon, s, a)) if pi.ndim == 2 else pi
    dtype = mdp.prob.dtype
    v0 = jnp.zeros((s, max_atoms), dtype)
    p0 = jnp.zeros((s, max_atoms), dtype).at[:, 0].set(1.0)

    def step(carry, pi_t):
        v, p, over = carry
        v = jnp.where(mdp.terminal[:, None], 0.0, v)
        p = jnp.where(mdp.terminal[:, None], p0, p)
        nv = mdp.reward[..., None] + mdp.discount * v[mdp.next_state]       # (S, A, M, n)
        npr = (pi_t[..., None, None] * mdp.prob[..., None]) * p[mdp.next_state]
        nv = nv.reshape(s, a * m * max_atoms)
        npr = npr.reshape(s, a * m * max_atoms)
        dist, overflow = FiniteSupport(nv, npr).compact(max_atoms)
        v = jnp.where(mdp.terminal[:, None], 0.0, dist.values)
        p = jnp.where(mdp.terminal[:, None], p0, dist.masses)
        return (v, p, over | jnp.any(overflow & ~mdp.terminal)), None

    (v, p, over), _ = jax.lax.scan(step, (v0, p0, jnp.asarray(False)), pis, reverse=True)
    iv = jnp.broadcast_to(v, (s, max_atoms)).reshape(-1)
    ip = (mdp.initial[:, None] * p).reshape(-1)
    initial, over0 = FiniteSupport(iv, ip).compact(max_atoms)
    status = RESULTS.where(over | over0, RESULTS.inexact_support, RESULTS.successful)
    return ExactReturns(FiniteSupport(v, p), initial, status)
