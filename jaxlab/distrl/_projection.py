"""The categorical projection of the distributional Bellman backup, its transport cost, and
the supports it projects onto.

Every backup pushes the next-state distributions on the support z₁..z_K through
x ↦ r + γx and projects back onto the support (Rowland et al., 2018). The projection is
linear and depends only on (r, γ, z), so it is prepared once per problem
(`ProjectionPlan`) outside the sweeps, in one of two forms:

- **grouped** (at most `MAX_REWARD_GROUPS` distinct rewards, the usual case): one K×K
  projection matrix per distinct reward; a sweep first adds up the outcomes that share a
  reward, then multiplies — dense matrix products, fast on CPU and accelerators;
- **scatter** (many distinct rewards, or rewards only known under tracing): the lower
  neighbour and the split of every shifted atom; a sweep is one scatter-add.

The plan also holds the **transport cost** of projecting each shifted atom x: the hat split
between its neighbours z_l ≤ x ≤ z_u moves mass (1 − f) a distance fΔ and mass f a distance
(1 − f)Δ, f = (x − z_l)/Δ, so it costs 2f(1 − f)Δ ≤ Δ/2; an atom beyond an end costs its
distance to that end. Summed over the masses projected, it bounds the 1-Wasserstein distance
between a backup and its projection, and accumulated over the sweeps it bounds the error of
the computed return distributions (`projection_error` in the results). It is exactly 0 when
every shifted atom lands on a support point: on a lattice support that contains every
return (`default_support` for rewards on a lattice δℤ, γ = 1 and a finite horizon).
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._core.checks import (
    as_float_array,
    cast,
    check_bool,
    check_instance,
    check_int,
    check_number,
    concrete_values,
    message,
    shape_str,
)
from ..metrics import grid_wasserstein_1d
from ._distributions import categorical_projection
from ._mdp import FiniteMDP

MAX_REWARD_GROUPS = 32


class ProjectionPlan(NamedTuple):
    """How the atoms r + γ z_j of every outcome land on the support, and what it costs.

    Grouped form (`phi` set): `reward_index` `(*batch,)` the group of each outcome's reward,
    `phi` `(U, K, K)` the projection matrix of each distinct reward, `cost` `(U, K)` the
    transport cost of projecting r_u + γ z_j. Scatter form (`low` set): `low` `(*batch, K)`
    the lower neighbour of each shifted atom, `frac` its share for the upper neighbour, and
    `cost` `(*batch, K)`.
    """

    reward_index: Array | None
    phi: Array | None
    low: Array | None
    frac: Array | None
    cost: Array


def _positions(reward, discount, support):
    """Support positions of r + γ z_j (within rounding of a support point: on it), clipped
    to [0, K − 1], and the transport cost of projecting each atom there. In NumPy when the
    rewards and support are concrete (no compile per problem), in JAX under tracing."""
    r, z = concrete_values(reward), concrete_values(support)
    xp = np if r is not None and z is not None else jnp
    if xp is jnp:
        r, z = jnp.asarray(reward, support.dtype), support
    k = z.shape[0]
    delta = (z[-1] - z[0]) / (k - 1)
    raw = (xp.asarray(r, z.dtype)[..., None] + discount * z - z[0]) / delta
    # positions within rounding of a support point go onto it, so lattices stay exact
    snapped = xp.round(raw)
    tol = 64 * float(np.finfo(z.dtype).eps) * k
    raw = xp.where(xp.abs(raw - snapped) < tol, snapped, raw)
    pos = xp.clip(raw, 0.0, k - 1)
    f = pos - xp.floor(pos)
    cost = delta * (2 * f * (1 - f) + xp.abs(raw - pos))
    return pos, cost


def projection_plan(reward: ArrayLike, discount: float, support: Array) -> ProjectionPlan:
    """The projection of r + γ·z onto `support` for every reward of `reward` `(*batch,)`.

    Grouped when `reward` is concrete with at most `MAX_REWARD_GROUPS` distinct values,
    scatter otherwise. Call it outside `jit` to get the grouped form (computed in NumPy).
    """
    r = concrete_values(reward)
    k = support.shape[0]
    dtype = support.dtype
    if r is not None:
        values, inverse = np.unique(r, return_inverse=True)
        if values.size <= MAX_REWARD_GROUPS:
            pos, cost = _positions(values, discount, support)                 # (U, K)
            phi = np.maximum(0.0, 1.0 - np.abs(pos[..., None] - np.arange(k)))
            return ProjectionPlan(jnp.asarray(inverse.reshape(r.shape), jnp.int32),
                                  jnp.asarray(phi, dtype), None, None, jnp.asarray(cost, dtype))
    pos, cost = _positions(reward, discount, support)
    low = np.minimum(np.floor(pos), k - 1) if isinstance(pos, np.ndarray) else \
        jnp.minimum(jnp.floor(pos), k - 1)
    return ProjectionPlan(None, None, jnp.asarray(low, jnp.int32),
                          jnp.asarray(pos - low, dtype), jnp.asarray(cost, dtype))


def project_outcomes(mass: Array, plan: ProjectionPlan) -> tuple[Array, Array]:
    """Σ_m Π[masses `mass[s, c, a, m, :]` at r_{sam} + γ z], and its transport cost.

    `plan` is a `projection_plan` of rewards `(S, A, M)`.

    **Returns:** `(projected, cost)`: `(S, C, A, K)` masses and `(S, C, A)` the total
    transport cost Σ_m Σ_j mass·cost of the projection (a bound on the 1-Wasserstein
    distance between the unprojected mixture and `projected`).
    """
    s, c, a, _, k = mass.shape
    if plan.phi is not None:
        onehot = jax.nn.one_hot(plan.reward_index, plan.phi.shape[0], dtype=mass.dtype)
        grouped = jnp.einsum("scamk,samu->scauk", mass, onehot)
        out = jnp.einsum("scauk,ukj->scaj", grouped, plan.phi.astype(mass.dtype))
        return out, jnp.einsum("scauk,uk->sca", grouped, plan.cost.astype(mass.dtype))
    rows = jnp.arange(s * c * a, dtype=jnp.int32).reshape(s, c, a, 1, 1) * k
    low = plan.low[:, None]
    frac = plan.frac[:, None].astype(mass.dtype)
    high = jnp.minimum(low + 1, k - 1)
    out = jnp.zeros(s * c * a * k, mass.dtype)
    out = out.at[(rows + low).reshape(-1)].add((mass * (1 - frac)).reshape(-1))
    out = out.at[(rows + high).reshape(-1)].add((mass * frac).reshape(-1))
    cost = jnp.einsum("scamk,samk->sca", mass, plan.cost.astype(mass.dtype))
    return out.reshape(s, c, a, k), cost


def check_support(fn: str, support: ArrayLike, *, name: str = "support") -> Array:
    """An evenly spaced increasing `(K,)` support containing 0 in its range, as a floating
    array (integer supports promoted).

    **Raises:** `TypeError` for a non-numeric support; `ValueError` for a wrong shape,
    uneven spacing or a range without 0.
    """
    support = as_float_array(fn, name, support)
    if support.ndim != 1 or support.shape[0] < 2:
        raise ValueError(message(fn, name, "of shape (K,) with K >= 2",
                                 f"shape {shape_str(support)}"))
    c = concrete_values(support)
    if c is not None:
        d = np.diff(c)
        slack = 1024 * np.finfo(c.dtype).eps * max(np.abs(c).max(), 1e-30)
        if not (d > 0).all() or np.abs(d - d.mean()).max() > slack:
            raise ValueError(message(fn, name, "evenly spaced and increasing",
                                     f"spacings from {d.min():.6g} to {d.max():.6g}"))
        if not c[0] <= 0 <= c[-1]:
            raise ValueError(message(fn, name, "a range [z_1, z_K] containing 0 (episodes "
                                     "end with return 0)", f"[{c[0]:.6g}, {c[-1]:.6g}]"))
    return support


def default_support(mdp: FiniteMDP, num_atoms: int = 51, dtype=None) -> Float[Array, " K"]:
    """A support covering every possible return of `mdp`.

    When the returns lie on a lattice δℤ (`FiniteMDP.return_lattice`: rewards on δℤ, γ = 1,
    a finite horizon), the lattice points from the least to the largest possible return, so
    the categorical representation is exact (at most 2001 of them; integer rewards: the
    integers; half-integer rewards: the half-integers). Otherwise `num_atoms`
    evenly spaced points over `mdp.return_bounds()`.

    **Raises:** `TypeError`/`ValueError` for a `num_atoms` that is not an int >= 2.
    """
    num_atoms = check_int("default_support", "num_atoms", num_atoms, minimum=2)
    dtype = dtype or mdp.reward.dtype
    lo, hi = mdp.return_bounds()
    delta = mdp.return_lattice()
    if delta is not None:
        first, last = round(lo / delta), round(hi / delta)
        if first == last:
            first, last = first - 1, last + 1
        return jnp.asarray(np.arange(first, last + 1) * delta, dtype)
    if hi == lo:
        lo, hi = lo - 1.0, hi + 1.0
    return jnp.asarray(np.linspace(lo, hi, num_atoms), dtype)


def delta0(support: Array) -> Array:
    """δ₀ projected onto `support`, `(K,)`."""
    return categorical_projection(jnp.zeros((1,), support.dtype), jnp.ones((1,), support.dtype),
                                  support)


def delta0_cost(support: Array) -> Array:
    """The transport cost of projecting δ₀ onto `support` (0 when 0 is a support point)."""
    return _positions(jnp.zeros((), support.dtype), 0.0, support)[1][0]


def sup_wasserstein1_categorical(p: Array, q: Array, support: Array) -> Array:
    """max over the batch of W₁ between categorical rows `p, q: (..., K)` on `support`."""
    return jnp.max(grid_wasserstein_1d(p, q, support))


def default_tolerance(tol: float | None, support: Array) -> float:
    """`tol`, or the default stopping tolerance 10·eps·K·(z_K − z_1) of infinite-horizon
    sweeps."""
    if tol is not None:
        return tol
    z = np.asarray(support)
    return 10 * float(np.finfo(z.dtype).eps) * z.shape[0] * (float(z[-1]) - float(z[0]))


class SweepSettings(NamedTuple):
    """The checked settings of a categorical dynamic programme: its support, projection
    plan, stopping tolerance, sweep budget and `throw`."""

    support: Array
    plan: ProjectionPlan
    tol: float
    max_iterations: int
    throw: bool


def sweep_settings(fn: str, mdp: FiniteMDP, support: ArrayLike | None, num_atoms: int,
                   tol: float | None, max_iterations: int, throw: bool) -> SweepSettings:
    """Check the settings every categorical DP of `fn` takes: the support (default
    `default_support(mdp, num_atoms)`, in the MDP's dtype) and its projection plan, `tol`
    (default `default_tolerance`), `max_iterations` and `throw`.

    **Raises:** `TypeError`/`ValueError` naming the argument.
    """
    check_instance(fn, "mdp", mdp, FiniteMDP)
    support = check_support(fn, default_support(mdp, num_atoms) if support is None else support)
    support = cast(support, mdp.prob.dtype)
    tol = default_tolerance(check_number(fn, "tol", tol, minimum=0.0, none_ok=True), support)
    return SweepSettings(support, projection_plan(mdp.reward, mdp.discount, support), tol,
                         check_int(fn, "max_iterations", max_iterations, minimum=1),
                         check_bool(fn, "throw", throw))
