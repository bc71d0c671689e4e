"""Return-distribution representations: categorical, quantile and exact finite support.

All three are discrete distributions on the real line, stored as arrays with any number of
leading batch axes (states, stocks, actions) and one trailing atom axis, so every operation
is vectorised over states and actions. Each exposes `atoms` and `probs` of the same shape,
which is all the generic statistics and distances need.
"""

import abc
import functools
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._core.checks import (
    as_float_array,
    common_float_dtype,
    concrete_values,
    message,
    shape_str,
)


class AbstractDistribution(eqx.Module):
    """A batch of discrete distributions on ℝ: `atoms` and `probs`, shape `(*batch, n)`."""

    @property
    @abc.abstractmethod
    def atoms(self) -> Float[Array, "*batch n"]:
        """Atom positions, `(*batch, n)`."""

    @property
    @abc.abstractmethod
    def probs(self) -> Float[Array, "*batch n"]:
        """Atom probabilities, `(*batch, n)`."""

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return jnp.shape(self.probs)[:-1]

    def mean(self) -> Float[Array, "*batch"]:
        """E X, shape `batch_shape`."""
        return jnp.sum(self.atoms * self.probs, axis=-1)

    def variance(self) -> Float[Array, "*batch"]:
        """Var X, shape `batch_shape`."""
        mu = self.mean()
        return jnp.sum(self.probs * (self.atoms - mu[..., None]) ** 2, axis=-1)

    def expect(self, f: Callable[[Array], Array], shift: ArrayLike = 0.0) -> Array:
        """E f(shift + X), with `shift` broadcast against `batch_shape` (e.g. the stock)."""
        shift = jnp.asarray(shift)
        return jnp.sum(self.probs * f(shift[..., None] + self.atoms), axis=-1)

    def cdf(self, x: ArrayLike) -> Float[Array, "*batch"]:
        """P(X ≤ x), `x` broadcast against `batch_shape`."""
        x = jnp.asarray(x)
        return jnp.sum(jnp.where(self.atoms <= x[..., None], self.probs, 0.0), axis=-1)

    def quantile(self, tau: ArrayLike) -> Float[Array, "*batch"]:
        """The lower quantile F⁻¹(τ) = inf{x : F(x) ≥ τ}, for τ in (0, 1]."""
        return quantile(self.atoms, self.probs, tau)

    def cvar(self, tau: ArrayLike) -> Float[Array, "*batch"]:
        """Lower-tail CVaR_τ = (1/τ)∫₀^τ F⁻¹(u) du (the mean of the worst τ fraction)."""
        return cvar(self.atoms, self.probs, tau)


class Categorical(AbstractDistribution):
    """Probabilities on a fixed, increasing, evenly spaced support z₁ < … < z_K (C51).

    **Fields:**

    - `support`: `(K,)` evenly spaced atoms shared by the whole batch.
    - `weights`: `(*batch, K)` probabilities.
    """

    support: Float[Array, " K"]
    weights: Float[Array, "*batch K"]

    def __check_init__(self):
        if jnp.ndim(self.support) != 1 or jnp.shape(self.support)[0] < 2:
            raise ValueError(f"Categorical: support must have shape (K,) with K >= 2, got "
                             f"{shape_str(self.support)}")
        if jnp.shape(self.weights)[-1:] != jnp.shape(self.support):
            raise ValueError(f"Categorical: weights must have shape (*batch, "
                             f"{jnp.shape(self.support)[0]}) to match support, got "
                             f"{shape_str(self.weights)}")

    @property
    def atoms(self):
        return jnp.broadcast_to(self.support, jnp.shape(self.weights))

    @property
    def probs(self):
        return self.weights


class Quantiles(AbstractDistribution):
    """Equally weighted atoms θ₁..θ_Q at the quantile midpoints τ_i = (2i − 1)/(2Q).

    **Fields:**

    - `locs`: `(*batch, Q)` the quantile locations (need not be sorted; quantile crossing
      is allowed and harmless for the statistics here).
    """

    locs: Float[Array, "*batch Q"]

    @property
    def atoms(self):
        return self.locs

    @property
    def probs(self):
        q = jnp.shape(self.locs)[-1]
        return jnp.full(jnp.shape(self.locs), 1.0 / q, dtype=jnp.result_type(self.locs))

    @staticmethod
    def midpoints(num_quantiles: int, dtype=None) -> Float[Array, " Q"]:
        """τ_i = (2i − 1)/(2Q), i = 1..Q."""
        return (jnp.arange(num_quantiles, dtype=dtype or jnp.result_type(float)) + 0.5) \
            / num_quantiles


class FiniteSupport(AbstractDistribution):
    """Exact atoms and probabilities of fixed maximum size (padding has probability 0).

    The representation of finite-horizon dynamic programming: `compact` merges equal atoms
    (sort + `segment_sum`) so the size stays fixed under `jit`.

    **Fields:**

    - `values`: `(*batch, n)` atom positions.
    - `masses`: `(*batch, n)` their probabilities.
    """

    values: Float[Array, "*batch n"]
    masses: Float[Array, "*batch n"]

    def __check_init__(self):
        if jnp.shape(self.values) != jnp.shape(self.masses):
            raise ValueError(f"FiniteSupport: values and masses must have the same shape, got "
                             f"{shape_str(self.values)} and {shape_str(self.masses)}")

    @property
    def atoms(self):
        return self.values

    @property
    def probs(self):
        return self.masses

    def compact(self, size: int | None = None, *,
                rtol: float = 1e-12) -> tuple["FiniteSupport", Array]:
        """Merge atoms closer than `rtol·max(1, max|atom|)`; sort; pad to `size` (default n).

        **Returns:** `(compacted, overflow)`: a `FiniteSupport` of size `size` (unused slots
        have probability 0) and a boolean array of shape `batch_shape` that is True where
        there were more than `size` distinct atoms (the excess mass was dropped: pass a
        larger `size`).
        """
        n = jnp.shape(self.values)[-1]
        size = n if size is None else size
        fn = functools.partial(_compact_one, size=size, rtol=rtol)
        flat_v = jnp.reshape(self.values, (-1, n))
        flat_p = jnp.reshape(self.masses, (-1, n))
        v, p, over = jax.vmap(fn)(flat_v, flat_p)
        shape = (*self.batch_shape, size)
        return (FiniteSupport(jnp.reshape(v, shape), jnp.reshape(p, shape)),
                jnp.reshape(over, self.batch_shape))

    def num_atoms(self) -> Array:
        """The number of atoms of positive probability, shape `batch_shape`."""
        return jnp.sum(self.masses > 0, axis=-1)


def _compact_one(values, masses, *, size, rtol):
    positive = masses > 0
    key = jnp.where(positive, values, jnp.inf)  # zero-mass atoms sort last and are dropped
    order = jnp.argsort(key)
    v, p, pos = key[order], masses[order], positive[order]
    scale = jnp.maximum(jnp.max(jnp.where(pos, jnp.abs(v), 0.0)), 1.0)
    starts = jnp.concatenate([jnp.ones(1, bool), jnp.diff(v) > rtol * scale]) & pos
    starts = starts.at[0].set(True)
    group = jnp.cumsum(starts) - 1
    overflow = group[-1] >= size
    out_p = jax.ops.segment_sum(jnp.where(pos, p, 0.0), group, num_segments=size)
    first = jax.ops.segment_min(v, group, num_segments=size)
    finite = jnp.isfinite(first) & (out_p > 0)
    fill = jnp.max(jnp.where(finite, first, -jnp.inf))
    out_v = jnp.where(finite, first, jnp.where(jnp.isfinite(fill), fill, 0.0))
    return out_v, out_p, overflow


def _atoms_probs(fn, atoms, probs):
    atoms = as_float_array(fn, "atoms", atoms)
    probs = as_float_array(fn, "probs", probs)
    dtype = common_float_dtype(atoms, probs)
    return atoms.astype(dtype), probs.astype(dtype)


def quantile(atoms: ArrayLike, probs: ArrayLike, tau: ArrayLike) -> Array:
    """Lower quantile inf{x : F(x) ≥ τ} of discrete distributions `(*batch, n)`.

    **Raises:** `TypeError` for non-numeric arrays (integer ones are promoted).
    """
    atoms, probs = _atoms_probs("quantile", atoms, probs)
    order = jnp.argsort(atoms, axis=-1)
    a = jnp.take_along_axis(atoms, order, axis=-1)
    cum = jnp.cumsum(jnp.take_along_axis(probs, order, axis=-1), axis=-1)
    tau = jnp.asarray(tau, a.dtype)
    idx = jnp.sum(cum < tau[..., None] * (1 - 1e-12), axis=-1)
    idx = jnp.minimum(idx, a.shape[-1] - 1)
    shape = jnp.broadcast_shapes(a.shape[:-1], idx.shape)
    a = jnp.broadcast_to(a, (*shape, a.shape[-1]))
    return jnp.take_along_axis(a, jnp.broadcast_to(idx, shape)[..., None], axis=-1)[..., 0]


def cvar(atoms: ArrayLike, probs: ArrayLike, tau: ArrayLike) -> Array:
    """Lower-tail conditional value at risk of discrete distributions `(*batch, n)`.

    CVaR_τ(X) = (1/τ) ∫₀^τ F⁻¹(u) du = max_b { b − E(b − X)⁺ / τ } (Rockafellar–Uryasev),
    computed exactly from the sorted atoms. `tau` in (0, 1]; CVaR₁ is the mean.

    **Raises:** `TypeError` for non-numeric arrays (integer ones are promoted);
    `ValueError` for a concrete `tau` outside (0, 1].

    **Reference:** Rockafellar & Uryasev (2000), *Optimization of conditional value-at-risk*.
    """
    atoms, probs = _atoms_probs("cvar", atoms, probs)
    c = concrete_values(tau)
    if c is not None and (np.any(c <= 0) or np.any(c > 1)):
        raise ValueError(message("cvar", "tau", "in (0, 1]", c))
    order = jnp.argsort(atoms, axis=-1)
    a = jnp.take_along_axis(atoms, order, axis=-1)
    p = jnp.take_along_axis(probs, order, axis=-1)
    tau = jnp.asarray(tau, a.dtype)[..., None]
    before = jnp.cumsum(p, axis=-1) - p
    taken = jnp.clip(tau - before, 0.0, p)
    return jnp.sum(taken * a, axis=-1) / tau[..., 0]


def _uniform_spacing(support) -> Array:
    return (support[-1] - support[0]) / (support.shape[0] - 1)


def categorical_projection(atoms: ArrayLike, probs: ArrayLike,
                           support: ArrayLike) -> Float[Array, "*batch K"]:
    """Project discrete distributions onto an evenly spaced support (the C51 / Cramér projection).

    Each atom x splits its mass between the two neighbouring support points in proportion
    to its distance to each (mass beyond the ends goes to the end points). The result is the
    ℓ₂ (Cramér) projection onto the support's distributions: it preserves total mass always,
    and the mean whenever every atom lies within [z₁, z_K].

    **Arguments:**

    - `atoms`, `probs`: `(*batch, n)`.
    - `support`: `(K,)` evenly spaced, increasing.

    **Returns:** `(*batch, K)` probabilities.

    **Raises:** `TypeError` for non-numeric arrays (integer ones are promoted);
    `ValueError` if the shapes disagree or `support` is not `(K,)`, K ≥ 2.

    **Reference:** Bellemare, Dabney, Munos (2017), *A Distributional Perspective on
    Reinforcement Learning* (C51); Rowland et al. (2018).
    """
    fn = "categorical_projection"
    atoms, probs = _atoms_probs(fn, atoms, probs)
    support = as_float_array(fn, "support", support).astype(atoms.dtype)
    if jnp.shape(atoms) != jnp.shape(probs):
        raise ValueError(message(fn, "atoms and probs", "of the same shape",
                                 f"{shape_str(atoms)} and {shape_str(probs)}"))
    if support.ndim != 1 or support.shape[0] < 2:
        raise ValueError(message(fn, "support", "of shape (K,), K >= 2",
                                 f"shape {shape_str(support)}"))
    k = support.shape[0]
    delta = _uniform_spacing(support)
    pos = jnp.clip((atoms - support[0]) / delta, 0.0, k - 1)
    # hat-function weights, (*batch, n, K): fine for the moderate n of tests and agents; the
    # dynamic-programming sweeps use the O(K) cumulative form in `_bellman.py` instead.
    w = jnp.maximum(0.0, 1.0 - jnp.abs(pos[..., None] - jnp.arange(k, dtype=pos.dtype)))
    return jnp.einsum("...n,...nk->...k", probs, w)


def quantile_projection(atoms: ArrayLike, probs: ArrayLike,
                        num_quantiles: int) -> Float[Array, "*batch Q"]:
    """The W₁ projection of discrete distributions onto Q equally weighted atoms.

    Returns the quantiles F⁻¹(τ_i) at the midpoints τ_i = (2i − 1)/(2Q), which minimise the
    1-Wasserstein distance among Q-atom uniform distributions.
    """
    atoms, probs = _atoms_probs("quantile_projection", atoms, probs)
    taus = Quantiles.midpoints(num_quantiles, atoms.dtype)
    return jnp.moveaxis(quantile(atoms[None], probs[None], _expand(taus, atoms.ndim)), 0, -1)


def _expand(taus, ndim):
    return jnp.reshape(taus, (-1,) + (1,) * (ndim - 1))


def dirac(value: ArrayLike, support: ArrayLike) -> Categorical:
    """δ_value projected onto `support` (a Categorical with batch shape `value.shape`)."""
    value = as_float_array("dirac", "value", value)
    support = as_float_array("dirac", "support", support)
    dtype = common_float_dtype(value, support)
    value, support = value.astype(dtype), support.astype(dtype)
    w = categorical_projection(value[..., None], jnp.ones_like(value)[..., None], support)
    return Categorical(support, w)
