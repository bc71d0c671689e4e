"""Empirical regime markers of a kernel sum Σ_i Z_i: largest-term fraction, participation
ratio, and Hill's tail index.

**References:** Biroli & Mézard, *Kernel Density Estimators in Large Dimensions* (2024);
Hill (1975).
"""

import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Real

from .._core.checks import (
    as_float_array,
    check_bool,
    check_int,
    concrete_values,
    message,
    shape_str,
)


class KernelSumDiagnostics(eqx.Module):
    """Regime markers of Σ_i Z_i, from the log-terms ln Z_i of each query.

    **Fields:**

    - `log_mean`: ln((1/n) Σ_i Z_i); with Z_i = N(x; y_i, h² I) this is ln ρ̂_h(x).
    - `largest_fraction`: max_i Z_i / Σ_i Z_i ∈ [1/n, 1]: → 0 in the CLT and heavy-tailed
      regimes, O(1) in the condensed one.
    - `participation_ratio`: (Σ Z_i)² / Σ Z_i² ∈ [1, n], the effective number of
      contributing points: ∝ n in the CLT regime, O(1) when condensed.
    """

    log_mean: Float[Array, "*batch"]
    largest_fraction: Float[Array, "*batch"]
    participation_ratio: Float[Array, "*batch"]


def kernel_sum_diagnostics(log_terms: Real[ArrayLike, "*batch n"]) -> KernelSumDiagnostics:
    """Largest-term fraction and participation ratio of Σ_i Z_i, computed in log space.

    Everything is formed from differences ln Z_i − max_j ln Z_j, so terms like e^{−1000}
    (d = 500) neither underflow nor lose relative precision.

    **Arguments:**

    - `log_terms`: ln Z_i along the last axis (n ≥ 1 terms), any batch shape in front
      (e.g. `(m, n)` for m queries). −inf terms count as zeros.

    **Returns:** a `KernelSumDiagnostics` with fields of the batch shape.

    **Raises:** `ValueError` for a 0-d array or an empty last axis; `TypeError` for a
    non-real dtype.

    **References:** Biroli & Mézard (2024), regime markers.
    """
    terms = as_float_array("kernel_sum_diagnostics", "log_terms", log_terms)
    if terms.ndim < 1 or terms.shape[-1] < 1:
        raise ValueError(message("kernel_sum_diagnostics", "log_terms",
                                 "of shape (..., n) with n >= 1", f"shape {shape_str(terms)}"))
    return _kernel_sum_diagnostics(terms)


@jax.jit
def _kernel_sum_diagnostics(terms):
    n = terms.shape[-1]
    top = jnp.max(terms, axis=-1, keepdims=True)
    top = jnp.where(jnp.isfinite(top), jax.lax.stop_gradient(top), 0.0)
    shifted = terms - top
    log_sum = jax.nn.logsumexp(shifted, axis=-1)
    log_sum_sq = jax.nn.logsumexp(2.0 * shifted, axis=-1)
    return KernelSumDiagnostics(
        log_mean=log_sum + top[..., 0] - math.log(n),
        largest_fraction=jnp.exp(jnp.max(shifted, axis=-1) - log_sum),
        participation_ratio=jnp.exp(2.0 * log_sum - log_sum_sq),
    )


def hill_tail_index(samples: Real[ArrayLike, "*batch m"], k: int, *, log: bool = False
                    ) -> Float[Array, "*batch"]:
    """Hill's estimate of the tail index μ of positive samples, P(X > x) ∝ x^{−μ}.

    μ̂ = 1 / [(1/k) Σ_{i≤k} ln X_(i) − ln X_(k+1)] with X_(1) ≥ X_(2) ≥ ... the order
    statistics. For exact Pareto tails its standard error is ≈ μ/√k.

    **Arguments:**

    - `samples`: positive samples along the last axis (m of them), any batch shape in front.
    - `k`: number of upper order statistics, an int with 1 ≤ k < m.
    - `log`: `samples` are already logarithms ln X (for values that under- or overflow).

    **Returns:** μ̂, of the batch shape.

    **Raises:** `TypeError` if `k` is not an int, `log` not a bool or `samples` not real;
    `ValueError` if k is out of range, or if `samples` (when `log=False`) is known to hold
    non-positive values.

    **References:** Hill, *A simple general approach to inference about the tail of a
    distribution*, Ann. Statist. 3 (1975); used as a regime marker after Biroli & Mézard
    (2024).
    """
    fn = "hill_tail_index"
    values = as_float_array(fn, "samples", samples)
    if values.ndim < 1:
        raise ValueError(message(fn, "samples", "of shape (..., m)",
                                 f"shape {shape_str(values)}"))
    m = values.shape[-1]
    k = check_int(fn, "k", k, minimum=1)
    if k >= m:
        raise ValueError(message(fn, "k", f"smaller than the number of samples m = {m}", k))
    log = check_bool(fn, "log", log)
    if not log:
        known = concrete_values(values)
        if known is not None and not np.all(known > 0):
            raise ValueError(message(fn, "samples", "positive (pass log=True for logarithms)",
                                     f"minimum {known.min().item()!r}"))
    return _hill(values, k, log)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _hill(values, k, log):
    if not log:
        values = jnp.log(values)
    top = jax.lax.top_k(values, k + 1)[0]
    return 1.0 / (jnp.mean(top[..., :k], axis=-1) - top[..., k])
