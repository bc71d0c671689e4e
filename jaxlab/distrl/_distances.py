"""Distances between batches of discrete distributions on ℝ: Wasserstein-p, Cramér, KS."""

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array

from ._distributions import AbstractDistribution


def _flat(p: AbstractDistribution, q: AbstractDistribution, name: str):
    if not isinstance(p, AbstractDistribution) or not isinstance(q, AbstractDistribution):
        raise TypeError(f"{name}: p and q must be distributions (Categorical, Quantiles, "
                        f"FiniteSupport), got {type(p).__name__} and {type(q).__name__}")
    try:
        batch = jnp.broadcast_shapes(p.batch_shape, q.batch_shape)
    except ValueError:
        raise ValueError(f"{name}: batch shapes {p.batch_shape} and {q.batch_shape} do not "
                         "broadcast") from None
    def flat(d):
        n = d.atoms.shape[-1]
        a = jnp.broadcast_to(d.atoms, (*batch, n)).reshape(-1, n)
        w = jnp.broadcast_to(d.probs, (*batch, n)).reshape(-1, n)
        return a, w
    return batch, flat(p), flat(q)


def _sorted(a, w):
    order = jnp.argsort(a)
    return a[order], w[order]


def _cdf_gaps(xa, pa, xb, pb):
    """Merged atoms' gaps dx (n − 1,) and both CDFs on them (n − 1,)."""
    xa, pa = _sorted(xa, pa)
    xb, pb = _sorted(xb, pb)
    x = jnp.sort(jnp.concatenate([xa, xb]))
    ca = jnp.concatenate([jnp.zeros(1, pa.dtype), jnp.cumsum(pa)])
    cb = jnp.concatenate([jnp.zeros(1, pb.dtype), jnp.cumsum(pb)])
    fa = ca[jnp.searchsorted(xa, x[:-1], side="right")]
    fb = cb[jnp.searchsorted(xb, x[:-1], side="right")]
    return jnp.diff(x), fa, fb


def wasserstein(p: AbstractDistribution, q: AbstractDistribution, order: float = 1.0) -> Array:
    """The p-Wasserstein distance W_p(P, Q) = (∫₀¹ |F_P⁻¹(u) − F_Q⁻¹(u)|^p du)^{1/p}.

    Exact for discrete distributions: the quantile functions are step functions, integrated
    over the merged cumulative-probability levels. Vectorised over broadcast batch shapes.

    **Arguments:** `p`, `q`: distributions (any representation); `order` ≥ 1.

    **Returns:** `batch_shape` distances.

    **Raises:** `TypeError` for non-distributions; `ValueError` for `order < 1` or batch
    shapes that do not broadcast.
    """
    if not order >= 1:
        raise ValueError(f"wasserstein: order must be >= 1, got {order!r}")
    batch, (xa, pa), (xb, pb) = _flat(p, q, "wasserstein")
    return _wasserstein(xa, pa, xb, pb, float(order)).reshape(batch)


@functools.partial(jax.jit, static_argnums=4)
def _wasserstein(xa, pa, xb, pb, order):
    def one(xa, pa, xb, pb):
        xa, pa = _sorted(xa, pa)
        xb, pb = _sorted(xb, pb)
        fa, fb = jnp.cumsum(pa), jnp.cumsum(pb)
        total = jnp.minimum(fa[-1], fb[-1])
        u = jnp.sort(jnp.concatenate([jnp.zeros(1, fa.dtype), fa, fb]))
        u = jnp.minimum(u, total)
        du = jnp.diff(u)
        mid = u[:-1] + du / 2
        qa = xa[jnp.minimum(jnp.searchsorted(fa, mid, side="left"), xa.shape[0] - 1)]
        qb = xb[jnp.minimum(jnp.searchsorted(fb, mid, side="left"), xb.shape[0] - 1)]
        return jnp.sum(du * jnp.abs(qa - qb) ** order) ** (1.0 / order)

    return jax.vmap(one)(xa, pa, xb, pb)


def cramer(p: AbstractDistribution, q: AbstractDistribution) -> Array:
    """The Cramér (ℓ₂) distance (∫ (F_P(x) − F_Q(x))² dx)^{1/2}, exact, batch-vectorised."""
    batch, (xa, pa), (xb, pb) = _flat(p, q, "cramer")
    return _cramer(xa, pa, xb, pb).reshape(batch)


@jax.jit
def _cramer(xa, pa, xb, pb):
    def one(xa, pa, xb, pb):
        dx, fa, fb = _cdf_gaps(xa, pa, xb, pb)
        return jnp.sqrt(jnp.sum(dx * (fa - fb) ** 2))

    return jax.vmap(one)(xa, pa, xb, pb)


def kolmogorov_smirnov(p: AbstractDistribution, q: AbstractDistribution) -> Array:
    """The Kolmogorov–Smirnov distance sup_x |F_P(x) − F_Q(x)|, exact, batch-vectorised."""
    batch, (xa, pa), (xb, pb) = _flat(p, q, "kolmogorov_smirnov")
    return _ks(xa, pa, xb, pb).reshape(batch)


@jax.jit
def _ks(xa, pa, xb, pb):
    def one(xa, pa, xb, pb):
        xa, pa = _sorted(xa, pa)
        xb, pb = _sorted(xb, pb)
        x = jnp.concatenate([xa, xb])
        ca = jnp.concatenate([jnp.zeros(1, pa.dtype), jnp.cumsum(pa)])
        cb = jnp.concatenate([jnp.zeros(1, pb.dtype), jnp.cumsum(pb)])
        fa = ca[jnp.searchsorted(xa, x, side="right")]
        fb = cb[jnp.searchsorted(xb, x, side="right")]
        return jnp.max(jnp.abs(fa - fb))

    return jax.vmap(one)(xa, pa, xb, pb)
