"""The high-dimensional regimes of Gaussian KDE: thresholds, asymptotics, diagnostics, oracles.

Biroli & Mézard study ρ̂_h(x) = (1/n) Σ_i N(x; y_i, h² I_d) in the joint limit n, d → ∞ at
fixed α = ln n / d. For N(0, I_d) data and a query x ~ N(0, I_d) the sum is a random-energy
model: with u_i = |x − y_i|²/d and t = 1/h², the terms are Z_i ∝ exp(−d t u_i / 2), and u has
the large-deviation rate

    I(u) = sup_s [s u − Λ(s)],   Λ(s) = −½ ln(1 − 2s) + s/(1 − 2s)

(the cumulant generating function of a non-central χ²_d with non-centrality d, divided by d).
The number of points at distance u is exp(d(α − I(u))). The sum is dominated by
u*(t) = 1/(1+t) + 1/(1+t)², where I(u*(t)) = ℰ(t) := ½[ln(1+t) − t/(1+t)²], as long as
ℰ(t) < α; beyond, only the nearest points (u_min with I(u_min) = α) contribute. Hence

- condensation (extreme values, a few points dominate) below h_G = t_α^{−1/2}, ℰ(t_α) = α;
- the second moment Σ Z_i² has its saddle at 2t, so the CLT holds above h_CLT = √2 h_G;
- between them the terms have a power-law tail of index μ = h²/h_G² ∈ (1, 2): ρ̂ has
  α-stable fluctuations.

All thresholds are asymptotic (n, d → ∞ at fixed α), for N(0, I_d) data and a Gaussian kernel
of scale h in whitened units; the finite-n identities (`gaussian_kde_log_mean`,
`gaussian_kde_relative_variance`) are exact at any n and d.

**References:** Biroli & Mézard, *Kernel Density Estimators in Large Dimensions* (2024).
"""

import math
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._core.checks import concrete_values

_LOG_2PI = math.log(2.0 * math.pi)
# ℰ(t) = ½ Σ_{k≥2} (−1)^k (k² − 1)/k t^k: used below t = 0.05, where ln(1+t) − t/(1+t)²
# cancels; 16 terms leave a relative truncation error below 0.05^14 ≈ 6e-19.
_SERIES_T = 0.05
_SERIES = tuple(0.5 * (-1) ** k * (k * k - 1) / k for k in range(2, 18))



def _as_float(x, fn: str, name: str) -> Array:
    arr = jnp.asarray(x)
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        if not (jnp.issubdtype(arr.dtype, jnp.integer) or arr.dtype == bool):
            raise TypeError(f"{fn}: {name} must be a real array, got dtype {arr.dtype}")
        arr = arr.astype(jnp.result_type(float))
    return arr


def _require_positive(x: Array, fn: str, name: str) -> None:
    """Eager check (skipped under tracing, where bad values give NaN)."""
    value = concrete_values(x)
    if value is not None and not np.all(np.isfinite(value) & (value > 0)):
        bad = value[~(np.isfinite(value) & (value > 0))]
        raise ValueError(f"{fn}: {name} must be positive and finite, got "
                         f"{bad.ravel()[0].item()!r}"
                         + (f" (and {bad.size - 1} more)" if bad.size > 1 else ""))


def _require_int(value, fn: str, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{fn}: {name} must be a Python int, got {value!r} "
                        f"({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{fn}: {name} must be an int ≥ {minimum}, got {value}")
    return int(value)


# ---------------------------------------------------------------------------------------------
# Thresholds and the asymptotic cross-entropy


def _rate_of_log_t(log_t: Array) -> Array:
    """ℰ(e^τ), overflow-free for large τ and cancellation-free for small τ."""
    t = jnp.exp(log_t)
    # ln(1+t) = softplus(τ) and t/(1+t)² = σ(τ)σ(−τ): finite for every τ.
    direct = 0.5 * (jax.nn.softplus(log_t) - jax.nn.sigmoid(log_t) * jax.nn.sigmoid(-log_t))
    ts = jnp.minimum(t, _SERIES_T)  # keeps the unused series branch (and its gradient) finite
    series = ts * ts * jnp.polyval(jnp.asarray(_SERIES[::-1], t.dtype), ts)
    return jnp.where(t < _SERIES_T, series, direct)


def saddle_point_rate(t: Float[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
    """The large-deviation cost ℰ(t) = ½[ln(1 + t) − t/(1 + t)²] of the saddle point.

    ℰ(t) = I(u*(t)), the rate of the squared distance u = |x − y|²/d (for |x|² = d) at the
    point u*(t) = 1/(1+t) + 1/(1+t)² that dominates Σ_i exp(−d t u_i / 2). It increases from
    ℰ(0) = 0 (ℰ'(t) = t(t + 3)/(2(1 + t)³)); ℰ(t_α) = α defines the condensation threshold.

    **Arguments:**

    - `t`: inverse squared bandwidth 1/h², any shape, non-negative.

    **Returns:** ℰ(t), same shape.

    **Raises:** `ValueError` if `t` is known to be negative or non-finite.

    **References:** Biroli & Mézard (2024), the Gaussian case.
    """
    t = _as_float(t, "saddle_point_rate", "t")
    value = concrete_values(t)
    if value is not None and not np.all(np.isfinite(value) & (value >= 0)):
        raise ValueError(f"saddle_point_rate: t must be non-negative and finite, got "
                         f"{value[~(np.isfinite(value) & (value >= 0))].ravel()[0].item()!r}")
    safe = jnp.where(t > 0, t, 1.0)
    return jnp.where(t > 0, _rate_of_log_t(jnp.log(safe)), 0.0)


def _relative_residual(log_t: Array, alpha: Array) -> Array:
    return _rate_of_log_t(log_t) / alpha - 1.0


def _solve_condensation_t(alpha: Array) -> Array:
    ok = jnp.isfinite(alpha) & (alpha > 0)
    a = jnp.where(ok, alpha, 1.0)
    # Newton on τ = ln t: ℰ(e^τ) is increasing and convex in τ (its derivative
    # t²(t + 3)/(2(1 + t)³) increases), so Newton started at a point above the root decreases
    # monotonically onto it. ℰ(t) ≥ ½ ln(1 + t) − 1/8 makes t = e^{2α + 1/4} − 1 such a point.
    c = 2.0 * a + 0.25
    log_t0 = jax.lax.stop_gradient(c + jnp.log(-jnp.expm1(-c)))
    tol = float(jnp.finfo(a.dtype).eps) ** 0.75
    solver = optx.Newton(rtol=tol, atol=tol)
    # Relative residual ℰ/α − 1: the same Newton iterates, a tolerance that fits every α.
    sol = optx.root_find(_relative_residual, solver, log_t0, args=a, max_steps=256,
                         throw=False)
    good = ok & (sol.result == optx.RESULTS.successful)
    return jnp.where(good, jnp.exp(sol.value), jnp.nan)


# jit so that eager calls compile once per shape and dtype instead of re-tracing the solver
_solve_all = jax.jit(jnp.vectorize(_solve_condensation_t))


def condensation_t(alpha: Float[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
    """The inverse squared condensation bandwidth t_α = 1/h_G², solving ℰ(t_α) = α.

    Solved by Newton's method on ln t (`optimistix.root_find`), differentiable in `alpha`
    by implicit differentiation (dt_α/dα = 1/ℰ'(t_α)); works under `jit`/`vmap`/`grad`.

    **Arguments:**

    - `alpha`: α = ln n / d, any shape, positive.

    **Returns:** t_α, same shape and dtype (NaN where `alpha` is not positive, under `jit`).

    **Raises:** `ValueError` if `alpha` is known (outside tracing) to be ≤ 0 or non-finite.

    **References:** Biroli & Mézard (2024), the Gaussian case.
    """
    return _t_alpha(alpha, "condensation_t")


def _t_alpha(alpha, fn: str) -> Array:
    alpha = _as_float(alpha, fn, "alpha")
    _require_positive(alpha, fn, "alpha")
    return _solve_all(alpha)


def gaussian_thresholds(alpha: Float[ArrayLike, "*shape"]
                        ) -> tuple[Float[Array, "*shape"], Float[Array, "*shape"]]:
    """The two bandwidth thresholds (h_G, h_CLT) of Gaussian KDE on N(0, I_d) data.

    h_G = t_α^{−1/2} (condensation: below it a few data points dominate ρ̂_h(x)) and
    h_CLT = √2 h_G (below it the central limit theorem fails). Asymptotic in n, d → ∞ at fixed
    α, for a Gaussian kernel of scale h in whitened units.

    **Arguments:**

    - `alpha`: α = ln n / d, any shape, positive.

    **Returns:** `(h_G, h_CLT)`, each of `alpha`'s shape.

    **Raises:** `ValueError` if `alpha` is known to be ≤ 0 or non-finite.

    **References:** Biroli & Mézard (2024).
    """
    h_g = jax.lax.rsqrt(_t_alpha(alpha, "gaussian_thresholds"))
    return h_g, math.sqrt(2.0) * h_g


def nearest_neighbour_scale(alpha: Float[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
    """√u_min, the typical nearest-neighbour distance per √d, and the asymptotic KL optimum.

    u_min = (2 + t_α)/(1 + t_α)² solves I(u_min) = α: among n = e^{αd} points the nearest
    is at |x − y|² ≈ d u_min. It is also the minimiser of `asymptotic_cross_entropy`
    (inside the condensed regime: √u_min < h_G for every α).

    **Arguments:**

    - `alpha`: α = ln n / d, any shape, positive.

    **Returns:** √u_min, same shape.

    **Raises:** `ValueError` if `alpha` is known to be ≤ 0 or non-finite.

    **References:** Biroli & Mézard (2024).
    """
    t = _t_alpha(alpha, "nearest_neighbour_scale")
    return jnp.sqrt(2.0 + t) / (1.0 + t)


def asymptotic_cross_entropy(h: Float[ArrayLike, "..."], alpha: Float[ArrayLike, "..."]
                             ) -> Float[Array, "..."]:
    """−E_x ln ρ̂_h(x) / d in the limit n, d → ∞ at fixed α, for N(0, I_d) data and queries.

    - h ≥ h_G: ½ ln(2π(1 + h²)) + 1/(2(1 + h²)) (ρ̂ equals its mean N(x; 0, (1 + h²)I) to
      leading exponential order);
    - h < h_G: α + ln h + ½ ln 2π + u_min/(2h²) (the nearest data point dominates).

    The branches meet at h_G with equal values and slopes. The minimum, at h = √u_min, is the
    KL-optimal bandwidth (`nearest_neighbour_scale`).

    **Arguments:**

    - `h`: bandwidth(s) in whitened units, positive.
    - `alpha`: α = ln n / d, positive; broadcast against `h`.

    **Returns:** the cross-entropy per dimension, the broadcast shape of `h` and `alpha`.

    **Raises:** `ValueError` if `h` or `alpha` is known to be ≤ 0 or non-finite.

    **References:** Biroli & Mézard (2024).
    """
    h = _as_float(h, "asymptotic_cross_entropy", "h")
    alpha = _as_float(alpha, "asymptotic_cross_entropy", "alpha")
    _require_positive(h, "asymptotic_cross_entropy", "h")
    _require_positive(alpha, "asymptotic_cross_entropy", "alpha")
    dtype = jnp.result_type(h, alpha)
    return _cross_entropy(h.astype(dtype), alpha.astype(dtype))


@jax.jit
def _cross_entropy(h, alpha):
    t = _solve_all(alpha)  # before broadcasting: one solve per distinct α
    h, alpha, t = jnp.broadcast_arrays(h, alpha, t)
    h2 = h * h
    smooth = 0.5 * (_LOG_2PI + jnp.log1p(h2)) + 0.5 / (1.0 + h2)
    u_min = (2.0 + t) / (1.0 + t) ** 2
    condensed = alpha + jnp.log(h) + 0.5 * _LOG_2PI + u_min / (2.0 * h2)
    return jnp.where(h2 * t >= 1.0, smooth, condensed)


def asymptotic_participation_exponent(h: Float[ArrayLike, "..."], alpha: Float[ArrayLike, "..."]
                                      ) -> Float[Array, "..."]:
    """lim (1/d) ln PR of the participation ratio PR = (Σ_i Z_i)²/Σ_i Z_i², an order parameter.

    With Λ(s) = −½ ln(1 − 2s) + s/(1 − 2s), t = 1/h² and u_min = (2 + t_α)/(1 + t_α)²,
    (1/d) ln Σ_i Z_i^q (up to the kernel's normalisation, which cancels in PR) tends to
    α + Λ(−qt/2) while qt < t_α and to −q t u_min/2 beyond. Hence

    - h ≥ h_CLT: α + 2Λ(−t/2) − Λ(−t) = α − ln(1 + t) + ½ ln(1 + 2t) − t²/((1 + t)(1 + 2t));
    - h_G ≤ h < h_CLT: 2(α + Λ(−t/2)) + t u_min;
    - h < h_G: 0 (a finite number of points contribute).

    Continuous at both thresholds; at finite n, d compare with mean(ln PR)/d.

    **Arguments:**

    - `h`: bandwidth(s), positive.
    - `alpha`: α = ln n / d, positive; broadcast against `h`.

    **Returns:** the exponent, in [0, α], the broadcast shape.

    **Raises:** `ValueError` if `h` or `alpha` is known to be ≤ 0 or non-finite.

    **References:** Biroli & Mézard (2024); derived like `asymptotic_cross_entropy`.
    """
    fn = "asymptotic_participation_exponent"
    h = _as_float(h, fn, "h")
    alpha = _as_float(alpha, fn, "alpha")
    _require_positive(h, fn, "h")
    _require_positive(alpha, fn, "alpha")
    dtype = jnp.result_type(h, alpha)
    return _participation_exponent(h.astype(dtype), alpha.astype(dtype))


@jax.jit
def _participation_exponent(h, alpha):
    t_a = _solve_all(alpha)
    h, alpha, t_a = jnp.broadcast_arrays(h, alpha, t_a)
    u_min = (2.0 + t_a) / (1.0 + t_a) ** 2
    t = 1.0 / (h * h)
    log_sum = alpha - 0.5 * jnp.log1p(t) - 0.5 * t / (1.0 + t)  # α + Λ(−t/2)
    log_sum_sq = alpha - 0.5 * jnp.log1p(2.0 * t) - t / (1.0 + 2.0 * t)  # α + Λ(−t)
    log_sum = jnp.where(t <= t_a, log_sum, -0.5 * t * u_min)
    log_sum_sq = jnp.where(2.0 * t <= t_a, log_sum_sq, -t * u_min)
    return 2.0 * log_sum - log_sum_sq


class BandwidthRegime(NamedTuple):
    """Which asymptotic regime a bandwidth is in (see `regime`).

    **Fields:**

    - `regime`: `"clt"` (h ≥ h_CLT), `"heavy-tailed"` (h_G ≤ h < h_CLT) or `"condensed"`.
    - `alpha`: ln n / d.
    - `h_G`, `h_CLT`: the thresholds at this α.
    - `mu`: h²/h_G², the tail index of the kernel terms; the index of the α-stable law of ρ̂
      when it lies in [1, 2) (heavy-tailed regime); ≥ 2 means Gaussian fluctuations, < 1 a
      sum dominated by its largest term.
    """

    regime: str
    alpha: float
    h_G: float
    h_CLT: float
    mu: float


def regime(n: int, d: int, h: float | Float[ArrayLike, ""]) -> BandwidthRegime:
    """Classify bandwidth `h` for n points in d dimensions, α = ln n / d.

    The thresholds are asymptotic (n, d → ∞ at fixed α) and derived for N(0, I_d) data and a
    Gaussian kernel of scale h in whitened units (divide h by the data's scale first); at
    d of a few tens the crossovers are smooth and shifted (finite-d corrections are
    O(log d / d)). Runs eagerly (it returns a string), not under `jit`.

    **Arguments:**

    - `n`: number of data points, an int ≥ 2.
    - `d`: dimension, an int ≥ 1.
    - `h`: bandwidth, positive.

    **Returns:** a `BandwidthRegime` (regime, alpha, h_G, h_CLT, mu) of Python values.

    **Raises:** `TypeError`/`ValueError` naming the argument for a non-int or too small `n`
    or `d`, a traced or non-scalar `h`, or a non-positive `h`.

    **References:** Biroli & Mézard (2024).
    """
    n = _require_int(n, "regime", "n", 2)
    d = _require_int(d, "regime", "d", 1)
    value = concrete_values(h)
    if value is None:
        raise TypeError("regime: h must be a concrete number (regime runs eagerly), got a "
                        "traced value; use gaussian_thresholds under jit")
    if value.shape != ():
        raise ValueError(f"regime: h must be a scalar, got shape {value.shape}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"regime: h must be positive and finite, got {value!r}")
    alpha = math.log(n) / d
    h_g, h_clt = (float(v) for v in gaussian_thresholds(alpha))
    mu = value * value / (h_g * h_g)
    label = "clt" if value >= h_clt else "heavy-tailed" if value >= h_g else "condensed"
    return BandwidthRegime(label, alpha, h_g, h_clt, mu)


# ---------------------------------------------------------------------------------------------
# Empirical diagnostics of the kernel sum


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


def kernel_sum_diagnostics(log_terms: Float[ArrayLike, "*batch n"]) -> KernelSumDiagnostics:
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
    terms = _as_float(log_terms, "kernel_sum_diagnostics", "log_terms")
    if terms.ndim < 1 or terms.shape[-1] < 1:
        raise ValueError("kernel_sum_diagnostics: log_terms must have shape (..., n) with "
                         f"n ≥ 1, got shape {terms.shape}")
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


def hill_tail_index(samples: Float[ArrayLike, "*batch m"], k: int, *, log: bool = False
                    ) -> Float[Array, "*batch"]:
    """Hill's estimate of the tail index μ of positive samples, P(X > x) ∝ x^{−μ}.

    μ̂ = 1 / [(1/k) Σ_{i≤k} ln X_(i) − ln X_(k+1)] with X_(1) ≥ X_(2) ≥ ... the order
    statistics. For exact Pareto tails its standard error is ≈ μ/√k.

    **Arguments:**

    - `samples`: positive samples along the last axis (m of them), any batch shape in front.
    - `k`: number of upper order statistics, an int with 1 ≤ k < m.
    - `log`: `samples` are already logarithms ln X (for values that under- or overflow).

    **Returns:** μ̂, of the batch shape.

    **Raises:** `TypeError` if `k` is not an int; `ValueError` if k is out of range, or if
    `samples` (when `log=False`) is known to hold non-positive values.

    **References:** Hill, *A simple general approach to inference about the tail of a
    distribution*, Ann. Statist. 3 (1975); used as a regime marker after Biroli & Mézard
    (2024).
    """
    values = _as_float(samples, "hill_tail_index", "samples")
    if values.ndim < 1:
        raise ValueError(f"hill_tail_index: samples must have shape (..., m), got shape "
                         f"{values.shape}")
    m = values.shape[-1]
    k = _require_int(k, "hill_tail_index", "k", 1)
    if k >= m:
        raise ValueError(f"hill_tail_index: k must be smaller than the number of samples "
                         f"m = {m}, got k = {k}")
    if not log:
        known = concrete_values(values)
        if known is not None and not np.all(known > 0):
            raise ValueError("hill_tail_index: samples must be positive (pass log=True for "
                             f"logarithms), got minimum {known.min().item()!r}")
        values = jnp.log(values)
    top = jax.lax.top_k(values, k + 1)[0]
    return 1.0 / (jnp.mean(top[..., :k], axis=-1) - top[..., k])


# ---------------------------------------------------------------------------------------------
# Exact finite-n oracles and the kernel terms of Gaussian data


def _oracle_inputs(x, h, fn):
    x = _as_float(x, fn, "x")
    if x.ndim < 1 or x.shape[-1] < 1:
        raise ValueError(f"{fn}: x must have shape (..., d) with d ≥ 1, got shape {x.shape}")
    h = _as_float(h, fn, "h").astype(x.dtype)
    _require_positive(h, fn, "h")
    return x, h, x.shape[-1], jnp.sum(x * x, axis=-1)


def gaussian_kde_log_mean(x: Float[ArrayLike, "*batch d"], h: Float[ArrayLike, "..."]
                          ) -> Float[Array, "..."]:
    """ln E_y ρ̂_h(x) = ln N(x; 0, (1 + h²) I_d), exact for N(0, I_d) data at every n.

    **Arguments:**

    - `x`: queries, shape `(..., d)`.
    - `h`: Gaussian kernel bandwidth, positive; broadcast against the batch shape of `x`.

    **Returns:** the log mean density, the broadcast batch shape.

    **Raises:** `ValueError` for a 0-d `x` or a non-positive `h` (when known).

    **References:** Biroli & Mézard (2024).
    """
    x, h, d, s = _oracle_inputs(x, h, "gaussian_kde_log_mean")
    v = 1.0 + h * h
    return -0.5 * d * (_LOG_2PI + jnp.log(v)) - 0.5 * s / v


def gaussian_kde_relative_variance(x: Float[ArrayLike, "*batch d"], h: Float[ArrayLike, "..."],
                                   n: int, *, log: bool = False) -> Float[Array, "..."]:
    """Var_y ρ̂_h(x) / [E_y ρ̂_h(x)]², exact for n points of N(0, I_d) data.

    From E Z² = (4πh²)^{−d/2} N(x; 0, (1 + h²/2) I) and E Z = N(x; 0, (1 + h²) I), the ratio
    E Z²/(E Z)² = e^L with
    L = (d/2) ln(1 + 1/(h²(2 + h²))) + |x|²/((1 + h²)(2 + h²)) ≥ 0,
    so the relative variance is (e^L − 1)/n, evaluated as `expm1(L)/n` or, with `log=True`,
    as L + ln(1 − e^{−L}) − ln n (finite when e^L overflows).

    **Arguments:**

    - `x`: queries, shape `(..., d)`.
    - `h`: bandwidth, positive; broadcast against the batch shape of `x`.
    - `n`: number of data points, an int ≥ 1.
    - `log`: return the logarithm of the relative variance.

    **Returns:** the relative variance (or its log), the broadcast batch shape.

    **Raises:** `ValueError`/`TypeError` naming the argument for a bad `x`, `h` or `n`.

    **References:** Biroli & Mézard (2024).
    """
    fn = "gaussian_kde_relative_variance"
    n = _require_int(n, fn, "n", 1)
    x, h, d, s = _oracle_inputs(x, h, fn)
    h2 = h * h
    big_l = 0.5 * d * jnp.log1p(1.0 / (h2 * (2.0 + h2))) + s / ((1.0 + h2) * (2.0 + h2))
    if log:
        return big_l + jnp.log(-jnp.expm1(-big_l)) - math.log(n)
    return jnp.expm1(big_l) / n


def sample_sq_distances(x: Float[ArrayLike, "*batch d"], *, n: int, key: PRNGKeyArray
                        ) -> Float[Array, "*batch n"]:
    """|x − y_i|² for n fresh data points y_i ~ N(0, I_d) per query, without drawing the y_i.

    Rotating x onto the first axis, |x − y|² = (y_1 − |x|)² + Σ_{k≥2} y_k²: a non-central
    χ²_d with non-centrality |x|², sampled as (Z + |x|)² + χ²_{d−1}. Each query gets its own
    independent data set (the distances of one query are i.i.d.), so memory is O(n) per query
    instead of O(n d).

    **Arguments:**

    - `x`: queries, shape `(..., d)`.
    - `n`: data points per query, an int ≥ 1.
    - `key`: a JAX PRNG key.

    **Returns:** squared distances, shape `(..., n)`, the dtype of `x`.

    **Raises:** `ValueError`/`TypeError` for a 0-d `x` or a bad `n`.

    **References:** Biroli & Mézard (2024); the reduction to distances is exact for Gaussian
    data.
    """
    fn = "sample_sq_distances"
    n = _require_int(n, fn, "n", 1)
    x = _as_float(x, fn, "x")
    if x.ndim < 1 or x.shape[-1] < 1:
        raise ValueError(f"{fn}: x must have shape (..., d) with d ≥ 1, got shape {x.shape}")
    d = x.shape[-1]
    shape = (*x.shape[:-1], n)
    key_z, key_rest = jax.random.split(key)
    norm = jnp.sqrt(jnp.sum(x * x, axis=-1, keepdims=True))
    along = (jax.random.normal(key_z, shape, x.dtype) + norm) ** 2
    if d == 1:
        return along
    # χ²_{d−1} = 2 Gamma((d − 1)/2); jax.random.gamma compiles in half the time of chisquare
    return along + 2.0 * jax.random.gamma(key_rest, 0.5 * (d - 1), shape, x.dtype)


def pairwise_sq_distances(x: Float[ArrayLike, "*batch d"], data: Float[ArrayLike, "n d"]
                          ) -> Float[Array, "*batch n"]:
    """|x − y_i|² between queries and real data points (for `gaussian_log_kernel_terms`).

    Uses |x|² + |y|² − 2 x·y (a matmul), clipped at 0; whiten the data first so the
    Gaussian-case thresholds apply.

    **Arguments:**

    - `x`: queries, shape `(..., d)`.
    - `data`: data points, shape `(n, d)`.

    **Returns:** squared distances, shape `(..., n)`.

    **Raises:** `ValueError` if the shapes do not fit.

    **References:** Biroli & Mézard (2024).
    """
    fn = "pairwise_sq_distances"
    x = _as_float(x, fn, "x")
    data = _as_float(data, fn, "data")
    if data.ndim != 2 or x.ndim < 1 or x.shape[-1] != data.shape[1]:
        raise ValueError(f"{fn}: x must have shape (..., d) and data shape (n, d) with the same "
                         f"d, got shapes {x.shape} and {data.shape}")
    dtype = jnp.result_type(x, data)
    x, data = x.astype(dtype), data.astype(dtype)
    cross = jnp.einsum("...d,nd->...n", x, data, precision=jax.lax.Precision.HIGHEST)
    sq = jnp.sum(x * x, axis=-1)[..., None] + jnp.sum(data * data, axis=-1) - 2.0 * cross
    return jnp.maximum(sq, 0.0)


def gaussian_log_kernel_terms(sq_distances: Float[ArrayLike, "*batch n"],
                              h: Float[ArrayLike, ""], *, d: int) -> Float[Array, "*batch n"]:
    """ln Z_i = ln N(x; y_i, h² I_d) = −|x − y_i|²/(2h²) − (d/2) ln(2πh²).

    Feed the squared distances from `sample_sq_distances` (synthetic N(0, I) data) or
    `pairwise_sq_distances` (real data) and pass the result to `kernel_sum_diagnostics`;
    its `log_mean` is ln ρ̂_h(x).

    **Arguments:**

    - `sq_distances`: |x − y_i|², non-negative, any shape.
    - `h`: the bandwidth, a positive scalar.
    - `d`: the dimension, an int ≥ 1.

    **Returns:** the log kernel terms, the shape and dtype of `sq_distances`.

    **Raises:** `ValueError`/`TypeError` for a bad `h` or `d`.

    **References:** Biroli & Mézard (2024).
    """
    fn = "gaussian_log_kernel_terms"
    d = _require_int(d, fn, "d", 1)
    dist = _as_float(sq_distances, fn, "sq_distances")
    h = _as_float(h, fn, "h")
    if h.shape != ():
        raise ValueError(f"{fn}: h must be a scalar (vmap over bandwidths), got shape "
                         f"{h.shape}")
    _require_positive(h, fn, "h")
    h = h.astype(dist.dtype)
    return -0.5 * dist / (h * h) - 0.5 * d * (_LOG_2PI + 2.0 * jnp.log(h))
