"""Kernel sums of the Gaussian KDE of synthetic N(0, I_d) data at many bandwidths, from
sampled distances: the measurements of the high-dimensional regimes."""

import functools
import math
import typing

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, PRNGKeyArray, Real

from .._core.checks import (
    as_float_array,
    check_int,
    check_key,
    check_positive_values,
    message,
    shape_str,
)
from ._diagnostics import kernel_sum_diagnostics
from ._distances import gaussian_log_kernel_terms, sample_sq_distances
from ._optimum import check_increasing, parabolic_minimum
from ._oracles import gaussian_kde_log_mean


@typing.final
class CrossEntropyOptimum(eqx.Module):
    """The bandwidth minimising a measured cross-entropy curve (see
    `SampledKernelSums.optimal_bandwidth`).

    **Fields:** `bandwidth` (the refined minimiser h*), `standard_error` (its bootstrap
    standard error over the queries), `at_edge` (the curve's smallest value is at the first
    or last bandwidth: the minimum is not bracketed, widen the grid).
    """

    bandwidth: Float[Array, ""]
    standard_error: Float[Array, ""]
    at_edge: Bool[Array, ""]


@typing.final
class SampledKernelSums(eqx.Module):
    """Per bandwidth and query: ln(ρ̂/E_y ρ̂) and the regime markers of the kernel sum.

    **Fields:**

    - `bandwidths`: the bandwidths h, `(H,)`.
    - `log_ratio`: ln W = ln ρ̂_h(x) − ln E_y ρ̂_h(x) (the exact mean removed), `(H, m)`.
    - `largest_fraction`: max_i Z_i / Σ_i Z_i, `(H, m)`.
    - `participation_ratio`: (Σ Z_i)² / Σ Z_i², `(H, m)`.
    - `dimension`: d (static).
    """

    bandwidths: Float[Array, " H"]
    log_ratio: Float[Array, "H m"]
    largest_fraction: Float[Array, "H m"]
    participation_ratio: Float[Array, "H m"]
    dimension: int = eqx.field(static=True)

    def cross_entropy(self) -> tuple[Float[Array, " H"], Float[Array, " H"]]:
        """The cross-entropy −E_x ln ρ̂_h(x) / d for queries x ~ N(0, I_d), and its standard
        error, from the m queries.

        −E ln ρ̂/d = −E ln E_y ρ̂/d − E ln W/d; the first term is exact for x ~ N(0, I_d),
        ½ ln(2π(1 + h²)) + 1/(2(1 + h²)), so only ln W is averaged: a control variate that
        removes the |x|² spread of ln ρ̂ (same mean, far less noise).

        **Returns:** `(estimate, standard_error)`, each `(H,)`; the standard error is
        std(ln W)/(d √m) (needs m ≥ 2).
        """
        return _cross_entropy(self.bandwidths, self.log_ratio, self._d())

    def optimal_bandwidth(self, *, key: PRNGKeyArray, num_resamples: int = 200
                          ) -> CrossEntropyOptimum:
        """The bandwidth minimising `cross_entropy()`: the grid minimum refined by the
        parabola through its neighbours in log h (`parabolic_minimum`), with a bootstrap
        standard error from `num_resamples` resamples of the queries (drawn with
        `jax.random.randint(key, (num_resamples, m), 0, m)`).

        **Arguments:** `key`, a JAX PRNG key; `num_resamples`, an int ≥ 2.

        **Returns:** a `CrossEntropyOptimum` (bandwidth, standard_error, at_edge).

        **Raises:** `TypeError` for a bad key or non-int `num_resamples`; `ValueError` for
        fewer than 3 bandwidths or `num_resamples` < 2.
        """
        fn = "SampledKernelSums.optimal_bandwidth"
        check_key(fn, key)
        num_resamples = check_int(fn, "num_resamples", num_resamples, minimum=2)
        if self.bandwidths.shape[-1] < 3:
            raise ValueError(message(fn, "bandwidths", "at least 3 (a minimum to bracket)",
                                     self.bandwidths.shape[-1]))
        check_increasing(fn, "bandwidths", self.bandwidths)   # the jitted fit cannot
        return _optimal_bandwidth(self.bandwidths, self.log_ratio, self._d(), key,
                                  num_resamples)

    def _d(self):
        """d as an array: one compilation serves every dimension."""
        return jnp.asarray(self.dimension, self.log_ratio.dtype)


@jax.jit
def _cross_entropy(bandwidths, log_ratio, d):
    h2 = bandwidths**2
    exact = 0.5 * jnp.log(2 * jnp.pi * (1 + h2)) + 0.5 / (1 + h2)
    m = log_ratio.shape[-1]
    estimate = exact - jnp.mean(log_ratio, axis=-1) / d
    error = jnp.std(log_ratio, axis=-1, ddof=1) / (d * math.sqrt(m))
    return estimate, error


@functools.partial(jax.jit, static_argnums=4)
def _optimal_bandwidth(bandwidths, log_ratio, d, key, num_resamples):
    estimate, _ = _cross_entropy(bandwidths, log_ratio, d)
    log_h = jnp.log(bandwidths)
    best = parabolic_minimum(log_h, estimate)
    m = log_ratio.shape[-1]
    exact = estimate + jnp.mean(log_ratio, axis=-1) / d  # the exact term
    index = jax.random.randint(key, (num_resamples, m), 0, m)

    def resampled(rows):
        curve = exact - jnp.mean(log_ratio[:, rows], axis=-1) / d
        return jnp.exp(parabolic_minimum(log_h, curve).location)

    boot = jax.vmap(resampled)(index)
    return CrossEntropyOptimum(bandwidth=jnp.exp(best.location),
                               standard_error=jnp.std(boot, ddof=1), at_edge=best.at_edge)


def sampled_kernel_sums(x: Real[ArrayLike, "m d"], bandwidths: Real[ArrayLike, " H"], *,
                        n: int, key: PRNGKeyArray, query_block: int | None = None
                        ) -> SampledKernelSums:
    """The Gaussian KDE of n fresh N(0, I_d) points at each query, for every bandwidth,
    measured through its kernel terms without drawing the data.

    Each query x_j gets its own data set, represented by its n squared distances
    |x_j − y_i|² (`sample_sq_distances`, a non-central χ²_d; memory O(n) per query instead
    of O(n d)), drawn with the j-th key of `jax.random.split(key, m)`, so the result does
    not depend on `query_block`. The same distances serve every bandwidth (common random
    numbers: curves in h are smooth). For each (h, x_j) the kernel terms
    ln Z_i = ln N(x_j; y_i, h² I) give `kernel_sum_diagnostics`, and ln W = ln ρ̂ − ln E_y ρ̂
    removes the exact mean (`gaussian_kde_log_mean`). Queries are processed `query_block` at
    a time and bandwidths one at a time, so at most `query_block × n` distances (and a few
    temporaries of that size) are held; jit-compiled once per shape, `n` and block.

    **Arguments:**

    - `x`: queries `(m, d)` (typically N(0, I_d) draws), finite.
    - `bandwidths`: the Gaussian kernel bandwidths h, `(H,)`, positive.
    - `n`: data points per query, an int ≥ 1.
    - `key`: a JAX PRNG key.
    - `query_block`: queries per block, an int ≥ 1 (default: all m at once).

    **Returns:** a `SampledKernelSums` with `(H, m)` fields, in the dtype of `x` and
    `bandwidths` promoted together.

    **Raises:** `TypeError` for non-real arrays, non-int `n`/`query_block` or a bad key;
    `ValueError` for `x` not `(m, d)` with m, d ≥ 1, `bandwidths` not 1-D or (when known)
    not positive, `n` < 1 or `query_block` < 1.

    **References:** Biroli & Mézard, *Kernel Density Estimators in Large Dimensions* (2024).
    """
    fn = "sampled_kernel_sums"
    x = as_float_array(fn, "x", x, ndim=2)
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(message(fn, "x", "of shape (m, d) with m, d >= 1",
                                 f"shape {shape_str(x)}"))
    hs = as_float_array(fn, "bandwidths", bandwidths, ndim=1)
    check_positive_values(fn, "bandwidths", hs)
    n = check_int(fn, "n", n, minimum=1)
    check_key(fn, key)
    m = x.shape[0]
    block = check_int(fn, "query_block", query_block, minimum=1, none_ok=True)
    block = m if block is None else min(block, m)
    return _sampled_kernel_sums(x, hs, key, n=n, block=block, dtype=jnp.result_type(x, hs))


@functools.partial(jax.jit, static_argnames=("n", "block", "dtype"))
def _sampled_kernel_sums(x, bandwidths, key, *, n, block, dtype):
    x, bandwidths = x.astype(dtype), bandwidths.astype(dtype)
    m, d = x.shape
    num_blocks = -(-m // block)
    # padding rows repeat the last query (and its key); their results are dropped
    index = jnp.minimum(jnp.arange(num_blocks * block), m - 1)
    x_blocks = x[index].reshape(num_blocks, block, d)
    key_blocks = jax.random.split(key, m)[index].reshape(num_blocks, block)

    def one_block(args):
        xb, kb = args
        sq = jax.vmap(lambda xq, k: sample_sq_distances(xq, n=n, key=k))(xb, kb)

        def one_bandwidth(h):
            diag = kernel_sum_diagnostics(gaussian_log_kernel_terms(sq, h, d=d))
            return (diag.log_mean - gaussian_kde_log_mean(xb, h), diag.largest_fraction,
                    diag.participation_ratio)

        return jax.lax.map(one_bandwidth, bandwidths)  # sequential in h: one (B, n) buffer

    parts = jax.lax.map(one_block, (x_blocks, key_blocks))  # each (blocks, H, B)
    log_ratio, largest, participation = (
        jnp.moveaxis(p, 0, 1).reshape(bandwidths.shape[0], -1)[:, :m] for p in parts)
    return SampledKernelSums(bandwidths=bandwidths, log_ratio=log_ratio,
                             largest_fraction=largest, participation_ratio=participation,
                             dimension=d)
