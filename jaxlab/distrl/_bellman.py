"""The categorical distributional Bellman backup and Markov policy evaluation.

Every backup pushes the next-state distributions on the support z₁..z_K through
x ↦ r + γx and projects back onto the support (Rowland et al., 2018). The projection is
linear and depends only on (r, γ, z), so it is prepared once per problem
(`ProjectionPlan`) outside the sweeps, in one of two forms:

- **grouped** (at most `MAX_REWARD_GROUPS` distinct rewards, the usual case): one K×K
  projection matrix per distinct reward; a sweep first adds up the outcomes that share a
  reward, then multiplies — dense matrix products, fast on CPU and accelerators;
- **scatter** (many distinct rewards, or rewards only known under tracing): the lower
  neighbour and the split of every shifted atom; a sweep is one scatter-add.
"""

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from .._core.checks import concrete_values, shape_str
from ._distributions import Categorical, FiniteSupport, categorical_projection
from ._mdp import FiniteMDP

MAX_REWARD_GROUPS = 32


class ProjectionPlan(NamedTuple):
    """How the atoms r + γ z_j of every outcome land on the support.

    Grouped form (`phi` set): `reward_index` `(*batch,)` the group of each outcome's reward,
    `phi` `(U, K, K)` the projection matrix of each distinct reward. Scatter form (`low`
    set): `low` `(*batch, K)` the lower neighbour of each shifted atom and `frac` its share
    for the upper neighbour.
    """

    reward_index: Array | None
    phi: Array | None
    low: Array | None
    frac: Array | None


def _positions(reward, discount, support):
    """Fractional support positions of r + γ z_j, clipped, snapped onto support points."""
    k = support.shape[0]
    delta = (support[-1] - support[0]) / (k - 1)
    x = jnp.asarray(reward, support.dtype)[..., None] + discount * support
    pos = jnp.clip((x - support[0]) / delta, 0.0, k - 1)
    # positions within rounding of a support point go onto it, so integer lattices stay exact
    snapped = jnp.round(pos)
    tol = 64 * jnp.finfo(pos.dtype).eps * k
    return jnp.where(jnp.abs(pos - snapped) < tol, snapped, pos)


def projection_plan(reward: ArrayLike, discount: float, support: Array) -> ProjectionPlan:
    """The projection of r + γ·z onto `support` for every reward of `reward` `(*batch,)`.

    Grouped when `reward` is concrete with at most `MAX_REWARD_GROUPS` distinct values,
    scatter otherwise. Call it outside `jit` to get the grouped form.
    """
    r = concrete_values(reward)
    k = support.shape[0]
    if r is not None:
        values, inverse = np.unique(r, return_inverse=True)
        if values.size <= MAX_REWARD_GROUPS:
            pos = _positions(values, discount, support)                       # (U, K)
            phi = jnp.maximum(0.0, 1.0 - jnp.abs(pos[..., None] - jnp.arange(k, dtype=pos.dtype)))
            return ProjectionPlan(jnp.asarray(inverse.reshape(r.shape), jnp.int32), phi,
                                  None, None)
    pos = _positions(reward, discount, support)
    low = jnp.minimum(jnp.floor(pos), k - 1)
    return ProjectionPlan(None, None, low.astype(jnp.int32), pos - low)


def project_outcomes(mass: Array, plan: ProjectionPlan) -> Array:
    """Σ_m Π[masses `mass[s, c, a, m, :]` at r_{sam} + γ z]: `(S, C, A, M, K) -> (S, C, A, K)`.

    `plan` is a `projection_plan` of rewards `(S, A, M)`.
    """
    s, c, a, _, k = mass.shape
    if plan.phi is not None:
        onehot = jax.nn.one_hot(plan.reward_index, plan.phi.shape[0], dtype=mass.dtype)
        grouped = jnp.einsum("scamk,samu->scauk", mass, onehot)
        return jnp.einsum("scauk,ukj->scaj", grouped, plan.phi.astype(mass.dtype))
    rows = jnp.arange(s * c * a, dtype=jnp.int32).reshape(s, c, a, 1, 1) * k
    low = plan.low[:, None]
    frac = plan.frac[:, None].astype(mass.dtype)
    high = jnp.minimum(low + 1, k - 1)
    out = jnp.zeros(s * c * a * k, mass.dtype)
    out = out.at[(rows + low).reshape(-1)].add((mass * (1 - frac)).reshape(-1))
    out = out.at[(rows + high).reshape(-1)].add((mass * frac).reshape(-1))
    return out.reshape(s, c, a, k)


def check_support(support: ArrayLike, name: str = "support") -> Array:
    """An evenly spaced increasing `(K,)` support containing 0, or a `ValueError`."""
    support = jnp.asarray(support)
    if not jnp.issubdtype(support.dtype, jnp.floating):
        support = support.astype(jnp.result_type(float))
    if support.ndim != 1 or support.shape[0] < 2:
        raise ValueError(f"{name} must have shape (K,) with K >= 2, got {shape_str(support)}")
    c = concrete_values(support)
    if c is not None:
        d = np.diff(c)
        slack = 1024 * np.finfo(c.dtype).eps * max(np.abs(c).max(), 1e-30)
        if not (d > 0).all() or np.abs(d - d.mean()).max() > slack:
            raise ValueError(f"{name} must be evenly spaced and increasing, got spacings from "
                             f"{d.min():.6g} to {d.max():.6g}")
        if not c[0] <= 0 <= c[-1]:
            raise ValueError(f"{name} must contain 0 in [z_1, z_K] (episodes end with return "
                             f"0), got [{c[0]:.6g}, {c[-1]:.6g}]")
    return support


def default_support(mdp: FiniteMDP, num_atoms: int = 51, dtype=None) -> Float[Array, " K"]:
    """A support covering every possible return of `mdp`.

    For integer rewards, γ = 1 and a finite horizon, the integers from the least to the
    largest possible return (so the categorical representation is exact) when there are at
    most 2001 of them; otherwise `num_atoms` evenly spaced points over `mdp.return_bounds()`.
    """
    dtype = dtype or mdp.reward.dtype
    lo, hi = mdp.return_bounds()
    if mdp.discount == 1.0 and mdp.horizon is not None and mdp.has_integer_rewards() \
            and hi - lo + 1 <= 2001:
        return jnp.arange(round(lo), round(hi) + 1, dtype=dtype)
    if hi == lo:
        lo, hi = lo - 1.0, hi + 1.0
    return jnp.linspace(lo, hi, num_atoms, dtype=dtype)


def _delta0(support: Array) -> Array:
    return categorical_projection(jnp.zeros((1,), support.dtype), jnp.ones((1,), support.dtype),
                                  support)


def sup_wasserstein1_categorical(p: Array, q: Array, support: Array) -> Array:
    """max over the batch of W₁ between categorical rows `p, q: (..., K)` on `support`."""
    delta = (support[-1] - support[0]) / (support.shape[0] - 1)
    return delta * jnp.max(jnp.sum(jnp.abs(jnp.cumsum(p - q, axis=-1)), axis=-1))


def markov_policy(policy: ArrayLike, mdp: FiniteMDP, name: str = "policy") -> Array:
    """A Markov policy as probabilities `(S, A)` or time-dependent `(H, S, A)`.

    Accepts probabilities of those shapes or deterministic action indices `(S,)`, `(H, S)`.
    """
    policy = jnp.asarray(policy)
    s, a = mdp.num_states, mdp.num_actions
    if jnp.issubdtype(policy.dtype, jnp.integer):
        if policy.shape not in ((s,),) and not (policy.ndim == 2 and policy.shape[1] == s):
            raise ValueError(f"{name}: deterministic policies are action indices of shape "
                             f"(S,) = ({s},) or (H, S), got {shape_str(policy)}")
        c = concrete_values(policy)
        if c is not None and (c.min() < 0 or c.max() >= a):
            raise ValueError(f"{name}: actions must lie in 0..{a - 1}, got {c.min()}..{c.max()}")
        policy = jax.nn.one_hot(policy, a, dtype=mdp.prob.dtype)
    if policy.shape[-2:] != (s, a) or policy.ndim not in (2, 3):
        raise ValueError(f"{name}: stochastic policies have shape (S, A) = ({s}, {a}) or "
                         f"(H, S, A), got {shape_str(policy)}")
    if policy.ndim == 3 and policy.shape[0] != mdp.horizon:
        raise ValueError(f"{name}: a time-dependent policy needs a leading axis of length "
                         f"horizon={mdp.horizon}, got {shape_str(policy)}")
    c = concrete_values(policy)
    if c is not None and ((c < 0).any() or np.abs(c.sum(-1) - 1).max() > 1e-6):
        raise ValueError(f"{name}: action probabilities must be non-negative and sum to 1 "
                         "over the last axis")
    return policy.astype(mdp.prob.dtype)


def _markov_backup(mdp: FiniteMDP, plan: ProjectionPlan, next_dist: Array,
                   delta0: Array) -> Array:
    """(S, A, K): the law of R + γ G' when G' ~ next_dist(S') (state distributions (S, K))."""
    nd = jnp.where(mdp.terminal[:, None], delta0, next_dist)
    mass = mdp.prob[..., None] * nd[mdp.next_state]
    out = project_outcomes(mass[:, None], plan)[:, 0]
    return jnp.where(mdp.terminal[:, None, None], delta0, out)


def categorical_bellman_operator(mdp: FiniteMDP, policy: ArrayLike,
                                 distributions: Categorical) -> Categorical:
    """One application of the projected distributional Bellman operator Π_C T^π.

    **Arguments:** `distributions` is a `Categorical` of batch shape `(S, A)` (state-action
    return distributions); `policy` a stationary Markov policy (see `markov_policy`).

    **Returns:** the `Categorical` `(S, A)` of Π_C[R + γ G(S', A')] with A' ~ π(S').
    """
    support = check_support(distributions.support)
    pi = markov_policy(policy, mdp)
    if pi.ndim != 2:
        raise ValueError("categorical_bellman_operator: needs a stationary policy (S, A)")
    plan = projection_plan(mdp.reward, mdp.discount, support)
    return Categorical(support, _categorical_backup(mdp, pi, distributions.weights, support,
                                                    plan))


@eqx.filter_jit
def _categorical_backup(mdp, pi, weights, support, plan):
    nd = jnp.einsum("sa,sak->sk", pi, weights)
    return _markov_backup(mdp, plan, nd, _delta0(support))


def exact_bellman_operator(mdp: FiniteMDP, policy: ArrayLike,
                           distributions: FiniteSupport) -> FiniteSupport:
    """The distributional Bellman operator T^π without projection, on exact supports.

    `distributions` has batch shape `(S, A)` and n atoms; the result has `A·M·n` atoms per
    (s, a) (uncompacted: call `.compact()`); terminal states return δ₀.
    """
    pi = markov_policy(policy, mdp)
    if pi.ndim != 2:
        raise ValueError("exact_bellman_operator: needs a stationary policy (S, A)")
    return _exact_backup(mdp, pi, distributions)


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


class PolicyEvaluation(eqx.Module):
    """The return distributions of a Markov policy (`evaluate_policy`).

    **Fields:**

    - `state_action`: `Categorical` `(S, A)`: law of G from (s, a), following π after.
    - `state`: `Categorical` `(S,)`: law of G from s (A ~ π(s)).
    - `initial`: `Categorical` `()`: law of G from S₀ ~ `mdp.initial`.
    - `iterations`: sweeps done (the horizon, for finite-horizon problems).
    - `residual`: sup-W₁ change of the last sweep (0 for finite horizons).
    - `converged`: whether `residual <= tol` (always True for finite horizons).
    """

    state_action: Categorical
    state: Categorical
    initial: Categorical
    iterations: Int[Array, ""]
    residual: Float[Array, ""]
    converged: Array


def _tolerance(tol, support):
    if tol is not None:
        return tol
    eps = float(jnp.finfo(support.dtype).eps)
    return 10 * eps * support.shape[0] * (float(support[-1]) - float(support[0]))


def evaluate_policy(mdp: FiniteMDP, policy: ArrayLike, *, support: ArrayLike | None = None,
                    num_atoms: int = 51, tol: float | None = None,
                    max_iterations: int = 10_000, throw: bool = True) -> PolicyEvaluation:
    """Distributional policy evaluation of a Markov policy with the categorical representation.

    Finite horizon: exact backward recursion η_t = Π_C T^{π_t} η_{t+1} from η_H = δ₀ (exact
    whenever the support is a lattice containing every return, e.g. `default_support` for
    integer rewards and γ = 1). Infinite horizon: the projected operator iterated from δ₀ to
    its fixed point (a √γ-contraction in the Cramér distance, Rowland et al. 2018), stopping
    when the sup-W₁ change of a sweep is below `tol`.

    **Arguments:**

    - `mdp`: the `FiniteMDP`.
    - `policy`: `(S, A)` probabilities or `(S,)` actions; `(H, S, A)` / `(H, S)` for a
      time-dependent policy of a finite-horizon problem.
    - `support`: `(K,)` evenly spaced, containing 0; default `default_support(mdp, num_atoms)`.
    - `tol`: stopping tolerance on the sup-W₁ change (default: 10·eps·K·(z_K − z_1)).
    - `max_iterations`: sweep limit for infinite horizons.
    - `throw`: raise (via `eqx.error_if`) if the iteration did not converge.

    **Returns:** a `PolicyEvaluation`.

    **Raises:** `ValueError` for a malformed policy or support; a runtime error if not
    converged and `throw`.

    **Reference:** Pires et al. (2025), *Optimizing Return Distributions with Distributional
    Dynamic Programming*, §3; Rowland et al. (2018), *An Analysis of Categorical
    Distributional Reinforcement Learning*.
    """
    support = check_support(default_support(mdp, num_atoms) if support is None else support)
    support = support.astype(mdp.prob.dtype)
    pi = markov_policy(policy, mdp)
    tol = _tolerance(tol, support)
    plan = projection_plan(mdp.reward, mdp.discount, support)
    return _evaluate(mdp, pi, support, plan, tol, max_iterations, throw)


@eqx.filter_jit
def _evaluate(mdp, pi, support, plan, tol, max_iterations, throw):
    delta0 = _delta0(support)
    s, a = mdp.num_states, mdp.num_actions
    init = jnp.broadcast_to(delta0, (s, support.shape[0]))
    if mdp.horizon is not None:
        pis = jnp.broadcast_to(pi, (mdp.horizon, s, a)) if pi.ndim == 2 else pi

        def step(xi, pi_t):
            eta = _markov_backup(mdp, plan, xi, delta0)
            return jnp.einsum("sa,sak->sk", pi_t, eta), None

        xi1, _ = jax.lax.scan(step, init, pis[1:], reverse=True)
        eta = _markov_backup(mdp, plan, xi1, delta0)
        pi0 = pis[0]
        iterations, residual, converged = jnp.asarray(mdp.horizon), jnp.zeros((), support.dtype), \
            jnp.asarray(True)
    else:
        pi0 = pi

        def cond(state):
            i, _, res = state
            return (i < max_iterations) & (res > tol)

        def body(state):
            i, eta, _ = state
            new = _markov_backup(mdp, plan, jnp.einsum("sa,sak->sk", pi, eta), delta0)
            return i + 1, new, sup_wasserstein1_categorical(new, eta, support)

        eta0 = jnp.broadcast_to(delta0, (s, a, support.shape[0]))
        iterations, eta, residual = jax.lax.while_loop(
            cond, body, (jnp.asarray(0), eta0, jnp.asarray(jnp.inf, support.dtype)))
        converged = residual <= tol
        if throw:
            eta = eqx.error_if(eta, ~converged, "evaluate_policy: did not converge within "
                               "max_iterations sweeps; raise max_iterations or tol")
    state = jnp.einsum("sa,sak->sk", pi0, eta)
    initial = jnp.einsum("s,sk->k", mdp.initial, state)
    return PolicyEvaluation(Categorical(support, eta), Categorical(support, state),
                            Categorical(support, initial), iterations, residual, converged)


def exact_return_distribution(mdp: FiniteMDP, policy: ArrayLike, *, max_atoms: int = 256,
                              throw: bool = True) -> tuple[FiniteSupport, FiniteSupport]:
    """Exact return distributions of a Markov policy on a finite-horizon MDP (no projection).

    Backward recursion on `FiniteSupport` distributions, merging equal atoms after every
    step and keeping at most `max_atoms` distinct atoms.

    **Returns:** `(state, initial)`: the law of G from each state `(S,)` and from S₀.

    **Raises:** `ValueError` if `mdp` has no horizon; if `throw`, a runtime error when some
    distribution has more than `max_atoms` distinct atoms (mass would be lost).
    """
    if mdp.horizon is None:
        raise ValueError("exact_return_distribution: needs a finite-horizon MDP, got "
                         "horizon=None (use evaluate_policy)")
    pi = markov_policy(policy, mdp)
    return _exact(mdp, pi, max_atoms, throw)


@eqx.filter_jit
def _exact(mdp, pi, max_atoms, throw):
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
    if throw:
        v = eqx.error_if(v, over | over0, "exact_return_distribution: more distinct returns "
                         "than max_atoms; raise max_atoms")
    return FiniteSupport(v, p), initial
