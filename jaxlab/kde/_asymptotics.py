"""The asymptotic theory of Gaussian KDE in high dimension: thresholds and cross-entropy.

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
of scale h in whitened units; the finite-n identities of `_oracles.py` are exact at any n, d.

**References:** Biroli & Mézard, *Kernel Density Estimators in Large Dimensions* (2024).
"""

import math

import jax
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, ArrayLike, Float, Real

from .._core.checks import as_float_array, check_positive_values

_LOG_2PI = math.log(2.0 * math.pi)
# ℰ(t) = ½ Σ_{k≥2} (−1)^k (k² − 1)/k t^k: used below t = 0.05, where ln(1+t) − t/(1+t)²
# cancels; 16 terms leave a relative truncation error below 0.05^14 ≈ 6e-19.
_SERIES_T = 0.05
_SERIES = tuple(0.5 * (-1) ** k * (k * k - 1) / k for k in range(2, 18))


def _rate_of_log_t(log_t: Array) -> Array:
    """ℰ(e^τ), overflow-free for large τ and cancellation-free for small τ."""
    t = jnp.exp(log_t)
    # ln(1+t) = softplus(τ) and t/(1+t)² = σ(τ)σ(−τ): finite for every τ.
    direct = 0.5 * (jax.nn.softplus(log_t) - jax.nn.sigmoid(log_t) * jax.nn.sigmoid(-log_t))
    ts = jnp.minimum(t, _SERIES_T)  # keeps the unused series branch (and its gradient) finite
    series = ts * ts * jnp.polyval(jnp.asarray(_SERIES[::-1], t.dtype), ts)
    return jnp.where(t < _SERIES_T, series, direct)


def saddle_point_rate(t: Real[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
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
    t = as_float_array("saddle_point_rate", "t", t)
    check_positive_values("saddle_point_rate", "t", t, allow_zero=True)
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


def condensation_t(alpha: Real[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
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
    alpha = as_float_array(fn, "alpha", alpha)
    check_positive_values(fn, "alpha", alpha)
    return _solve_all(alpha)


def gaussian_thresholds(alpha: Real[ArrayLike, "*shape"]
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


def nearest_neighbour_scale(alpha: Real[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
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


def asymptotic_cross_entropy(h: Real[ArrayLike, "..."], alpha: Real[ArrayLike, "..."]
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
    h, alpha = _h_and_alpha("asymptotic_cross_entropy", h, alpha)
    return _cross_entropy(h, alpha)


def _h_and_alpha(fn, h, alpha):
    """Positive real `h` and `alpha` in their common floating dtype."""
    h, alpha = as_float_array(fn, "h", h), as_float_array(fn, "alpha", alpha)
    check_positive_values(fn, "h", h)
    check_positive_values(fn, "alpha", alpha)
    dtype = jnp.result_type(h, alpha)
    return h.astype(dtype), alpha.astype(dtype)


@jax.jit
def _cross_entropy(h, alpha):
    t = _solve_all(alpha)  # before broadcasting: one solve per distinct α
    h, alpha, t = jnp.broadcast_arrays(h, alpha, t)
    h2 = h * h
    smooth = 0.5 * (_LOG_2PI + jnp.log1p(h2)) + 0.5 / (1.0 + h2)
    u_min = (2.0 + t) / (1.0 + t) ** 2
    condensed = alpha + jnp.log(h) + 0.5 * _LOG_2PI + u_min / (2.0 * h2)
    return jnp.where(h2 * t >= 1.0, smooth, condensed)


def asymptotic_participation_exponent(h: Real[ArrayLike, "..."], alpha: Real[ArrayLike, "..."]
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
    h, alpha = _h_and_alpha("asymptotic_participation_exponent", h, alpha)
    return _participation_exponent(h, alpha)


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
