"""High-dimensional regimes of Gaussian KDE: thresholds, asymptotics, diagnostics, oracles.

References used: scipy root-finding and optimisation of the large-deviation formulas written
out plainly here, Monte Carlo over data sets drawn with NumPy, scipy's non-central χ² and
multivariate normal, and exact Pareto samples for the Hill estimator.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize as so
import scipy.stats as st

from jaxlab.kde import (
    BandwidthRegime,
    KernelSumDiagnostics,
    asymptotic_cross_entropy,
    asymptotic_participation_exponent,
    condensation_t,
    gaussian_kde_log_mean,
    gaussian_kde_relative_variance,
    gaussian_log_kernel_terms,
    gaussian_thresholds,
    hill_tail_index,
    kernel_sum_diagnostics,
    nearest_neighbour_scale,
    pairwise_sq_distances,
    regime,
    saddle_point_rate,
    sample_sq_distances,
)


def _rate_np(t):
    """ℰ(t) = ½[ln(1+t) − t/(1+t)²], written plainly."""
    return 0.5 * (np.log1p(t) - t / (1.0 + t) ** 2)


def _large_deviation_rate(u):
    """I(u) = sup_s [s u − Λ(s)] by numerical maximisation, Λ the scaled CGF of a non-central
    χ²_d with non-centrality d: Λ(s) = −½ ln(1 − 2s) + s/(1 − 2s)."""
    def neg(s):
        return -(s * u + 0.5 * np.log1p(-2.0 * s) - s / (1.0 - 2.0 * s))
    res = so.minimize_scalar(neg, bounds=(-200.0, 0.5 - 1e-9), method="bounded",
                             options={"xatol": 1e-13})
    return -res.fun


# ----------------------------------------------------------------------------- thresholds


def test_published_example_alpha_half():
    # kde.md §2.7: α = 0.5 gives t_α ≈ 2.35, h_G ≈ 0.652, h_CLT ≈ 0.922, √u_min ≈ 0.622.
    h_g, h_clt = gaussian_thresholds(0.5)
    assert float(condensation_t(0.5)) == pytest.approx(2.35, abs=5e-3)
    assert float(h_g) == pytest.approx(0.652, abs=5e-4)
    assert float(h_clt) == pytest.approx(0.922, abs=5e-4)
    assert float(nearest_neighbour_scale(0.5)) == pytest.approx(0.622, abs=5e-4)
    assert h_g.dtype == jnp.float32


@pytest.mark.parametrize("alpha", [1e-5, 1e-2, 0.25, 0.5, 1.0, 3.0, 10.0])
def test_condensation_t_solves_the_rate_equation(alpha, float64):
    t = condensation_t(alpha)
    assert t.dtype == jnp.float64
    assert float(saddle_point_rate(t)) == pytest.approx(alpha, rel=1e-10, abs=1e-10)
    # an independent solve of the plainly written ℰ (brentq; the naive formula cancels for
    # small t, so compare there to the relative accuracy it allows)
    ref = so.brentq(lambda s: _rate_np(s) - alpha, 1e-9, 1e9, xtol=1e-300, rtol=1e-15)
    assert float(t) == pytest.approx(ref, rel=1e-6 if alpha < 1e-3 else 1e-11)
    if alpha >= 1e-2:
        assert abs(_rate_np(float(t)) - alpha) < 1e-10


@pytest.mark.parametrize("t", [0.01, 0.3, 1.0, 2.3513, 5.0, 20.0])
def test_rate_is_the_large_deviation_rate_at_the_saddle(t, float64):
    # u*(t) = 1/(1+t) + 1/(1+t)² maximises −I(u) − t u/2, and I(u*(t)) = ℰ(t).
    u_star = 1.0 / (1.0 + t) + 1.0 / (1.0 + t) ** 2
    assert float(saddle_point_rate(t)) == pytest.approx(_large_deviation_rate(u_star),
                                                        rel=1e-7, abs=1e-12)
    best = so.minimize_scalar(lambda u: _large_deviation_rate(u) + 0.5 * t * u,
                              bounds=(1e-6, 2.0), method="bounded", options={"xatol": 1e-10})
    assert best.x == pytest.approx(u_star, rel=1e-4)
    # ℰ is increasing: ℰ'(t) = t(t + 3)/(2(1 + t)³) > 0 (the closed form, vs autodiff)
    grad = jax.grad(lambda s: saddle_point_rate(s))(t)
    assert float(grad) == pytest.approx(t * (t + 3) / (2 * (1 + t) ** 3), rel=1e-10)


def test_h_g_gradient_matches_finite_differences(float64):
    h_g = jax.jit(jax.grad(lambda a: gaussian_thresholds(a)[0]))
    for alpha in (0.1, 0.5, 2.0):
        eps = 1e-5  # central differences: truncation O(eps²·h_G''') ≈ 1e-10
        fd = (gaussian_thresholds(alpha + eps)[0] - gaussian_thresholds(alpha - eps)[0]) / (2 * eps)
        assert float(h_g(alpha)) == pytest.approx(float(fd), rel=1e-7)
        # implicit function theorem: dh_G/dα = −½ t^{−3/2} / ℰ'(t)
        t = float(condensation_t(alpha))
        exact = -0.5 * t ** -1.5 * 2 * (1 + t) ** 3 / (t * (t + 3))
        assert float(h_g(alpha)) == pytest.approx(exact, rel=1e-9)


def test_condensation_t_jit_vmap_and_one_trace():
    alphas = jnp.linspace(0.1, 2.0, 7)
    solve = jax.jit(eqx.debug.assert_max_traces(condensation_t, max_traces=1))
    batched = solve(alphas)
    again = solve(alphas + 0.1)
    assert batched.shape == (7,) and again.shape == (7,)
    np.testing.assert_allclose(np.asarray(jax.vmap(condensation_t)(alphas)),
                               np.asarray(batched), rtol=1e-6)
    np.testing.assert_allclose(_rate_np(np.asarray(batched, np.float64)), np.asarray(alphas),
                               rtol=2e-5)
    # under jit a non-positive alpha cannot raise: it gives NaN
    assert bool(jnp.isnan(solve(alphas.at[0].set(-1.0))[0]))


# ----------------------------------------------------------------- asymptotic cross-entropy


@pytest.mark.parametrize("alpha", [0.25, 0.5, 1.0])
def test_cross_entropy_branches_meet_at_h_g(alpha, float64):
    h_g = float(gaussian_thresholds(alpha)[0])
    below, above = h_g * (1 - 1e-9), h_g * (1 + 1e-9)
    ce = asymptotic_cross_entropy(jnp.array([below, above]), alpha)
    assert ce.dtype == jnp.float64
    assert abs(float(ce[1] - ce[0])) < 1e-8  # continuous
    slope = jax.vmap(jax.grad(asymptotic_cross_entropy), in_axes=(0, None))
    s = slope(jnp.array([below, above]), alpha)
    assert abs(float(s[1] - s[0])) < 1e-6  # and C¹ (a second-order transition, as in the REM)
    # the condensed branch at h_G from the REM: α − I(u_min) − t u_min/2 + ... with I = α
    t = 1.0 / h_g ** 2
    u_min = (2 + t) / (1 + t) ** 2
    assert _large_deviation_rate(u_min) == pytest.approx(alpha, rel=1e-7)


@pytest.mark.parametrize("alpha", [0.25, 0.5, 1.0, 3.0])
def test_cross_entropy_minimum_is_the_nearest_neighbour_scale(alpha, float64):
    ce = jax.jit(asymptotic_cross_entropy)
    res = so.minimize_scalar(lambda h: float(ce(h, alpha)),
                             bounds=(1e-3, 3.0), method="bounded", options={"xatol": 1e-10})
    h_star = float(nearest_neighbour_scale(alpha))
    assert res.x == pytest.approx(h_star, rel=1e-6)
    assert h_star < float(gaussian_thresholds(alpha)[0])
    # Gibbs: a cross-entropy never falls below the entropy ½ ln(2πe) of N(0, 1) per dimension
    assert res.fun > 0.5 * math.log(2 * math.pi * math.e)
    # the smooth branch is −(1/d) ln N(x; 0, (1 + h²)I) at |x|² = d, written plainly
    h = 1.3
    smooth = 0.5 * math.log(2 * math.pi * (1 + h * h)) + 0.5 / (1 + h * h)
    assert float(asymptotic_cross_entropy(h, alpha if alpha < 1 else 0.25)) == pytest.approx(
        smooth, rel=1e-12)


def test_cross_entropy_broadcasts_and_float32():
    ce = jax.jit(asymptotic_cross_entropy)(jnp.linspace(0.4, 1.5, 5)[:, None],
                                           jnp.array([0.25, 0.5]))
    assert ce.shape == (5, 2) and ce.dtype == jnp.float32
    assert bool(jnp.all(jnp.isfinite(ce)))


@pytest.mark.parametrize("alpha", [0.25, 0.5, 1.0])
def test_participation_exponent(alpha, float64):
    h_g, h_clt = (float(v) for v in gaussian_thresholds(alpha))
    exponent = jax.jit(asymptotic_participation_exponent)
    # zero when condensed, continuous at both thresholds, increasing to α
    for edge in (h_g, h_clt):
        pair = exponent(jnp.array([edge * (1 - 1e-9), edge * (1 + 1e-9)]), alpha)
        assert abs(float(pair[1] - pair[0])) < 1e-7
    assert float(exponent(0.9 * h_g, alpha)) == 0.0
    grid = exponent(jnp.geomspace(h_g, 50.0, 200), alpha)
    assert bool(jnp.all(jnp.diff(grid) > 0)) and float(grid[-1]) == pytest.approx(alpha, rel=1e-3)
    # CLT branch: PR ≈ n (E Z)²/E Z² = n e^{−L}, L from the exact variance oracle at |x|² = d
    d, h = 400, 1.5 * h_clt
    log_rv_one = float(gaussian_kde_relative_variance(jnp.ones(d), h, 1, log=True))
    big_l = math.log1p(math.exp(log_rv_one))  # relative variance at n = 1 is e^L − 1
    assert float(exponent(h, alpha)) == pytest.approx(alpha - big_l / d, rel=1e-12)


# ----------------------------------------------------------------------------- regime


def test_regime_clear_cases():
    n, d = round(math.exp(0.5 * 40)), 40  # α = 0.5: h_G ≈ 0.652, h_CLT ≈ 0.922
    for h, want in ((0.4, "condensed"), (0.62, "condensed"), (0.8, "heavy-tailed"),
                    (1.2, "clt"), (3.0, "clt")):
        got = regime(n, d, h)
        assert isinstance(got, BandwidthRegime)
        assert got.regime == want
        assert got.alpha == pytest.approx(0.5, rel=1e-9)
        assert got.mu == pytest.approx(h * h / got.h_G ** 2)
    assert 1.0 < regime(n, d, 0.8).mu < 2.0
    assert regime(n, d, 0.8).h_CLT == pytest.approx(math.sqrt(2) * regime(n, d, 0.8).h_G)
    # fewer points at the same d → smaller α → larger thresholds
    assert regime(1000, 40, 0.8).regime == "condensed"


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((1, 10, 0.5), ValueError, r"regime: n must be an int ≥ 2, got 1"),
        ((100.0, 10, 0.5), TypeError, r"regime: n must be a Python int, got 100\.0"),
        ((100, 0, 0.5), ValueError, r"regime: d must be an int ≥ 1, got 0"),
        ((100, 10, -0.5), ValueError, r"regime: h must be positive and finite, got -0\.5"),
        ((100, 10, np.ones(2)), ValueError, r"regime: h must be a scalar, got shape \(2,\)"),
    ],
)
def test_regime_bad_inputs(args, error, message, user_errors):
    with pytest.raises(error, match=message):
        regime(*args)


def test_bad_alpha_and_h(user_errors):
    with pytest.raises(ValueError, match=r"condensation_t: alpha must be positive and finite, "
                                         r"got -0\.1"):
        condensation_t(-0.1)
    with pytest.raises(ValueError, match=r"gaussian_thresholds: alpha must be positive and "
                                         r"finite, got nan"):
        gaussian_thresholds(float("nan"))
    with pytest.raises(ValueError, match=r"asymptotic_cross_entropy: h must be positive and "
                                         r"finite, got 0\.0"):
        asymptotic_cross_entropy(jnp.array([0.5, 0.0]), 0.5)
    with pytest.raises(ValueError, match=r"asymptotic_participation_exponent: alpha must be "
                                         r"positive and finite, got 0\.0"):
        asymptotic_participation_exponent(0.7, 0.0)
    with pytest.raises(ValueError, match=r"saddle_point_rate: t must be non-negative"):
        saddle_point_rate(-1.0)
    with pytest.raises(TypeError, match=r"condensation_t: alpha must be a real array, got "
                                        r"dtype complex64"):
        condensation_t(jnp.array(0.5 + 0j, jnp.complex64))


# ------------------------------------------------------------------------- diagnostics


def test_diagnostics_against_numpy(float64):
    rng = np.random.default_rng(0)
    log_terms = rng.normal(0.0, 2.0, size=(6, 300))
    log_terms[0, :5] += 12.0  # one query with a few dominant terms
    z = np.exp(log_terms)
    got = jax.jit(kernel_sum_diagnostics)(log_terms)
    assert isinstance(got, KernelSumDiagnostics) and got.log_mean.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(got.log_mean), np.log(z.mean(axis=1)), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(got.largest_fraction), z.max(1) / z.sum(1),
                               rtol=1e-12)
    np.testing.assert_allclose(np.asarray(got.participation_ratio),
                               z.sum(1) ** 2 / (z ** 2).sum(1), rtol=1e-12)
    # d = 500: terms ≈ e^{−1000} underflow in NumPy; the fractions are shift-invariant
    deep = kernel_sum_diagnostics(log_terms - 1000.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.all(np.exp(log_terms - 1000.0) == 0.0)
    np.testing.assert_allclose(np.asarray(deep.largest_fraction), z.max(1) / z.sum(1),
                               rtol=1e-12)
    np.testing.assert_allclose(np.asarray(deep.log_mean), np.log(z.mean(axis=1)) - 1000.0,
                               rtol=1e-14)


def test_diagnostics_float32_deep_and_limits():
    n = 1000
    flat = kernel_sum_diagnostics(jnp.full((n,), -1000.0))
    assert flat.log_mean.dtype == jnp.float32
    assert float(flat.participation_ratio) == pytest.approx(n, rel=1e-5)
    assert float(flat.largest_fraction) == pytest.approx(1 / n, rel=1e-5)
    one = kernel_sum_diagnostics(jnp.array([-900.0, -1000.0, -jnp.inf]))
    assert float(one.largest_fraction) == pytest.approx(1.0, abs=1e-6)
    assert float(one.participation_ratio) == pytest.approx(1.0, abs=1e-6)
    assert float(one.log_mean) == pytest.approx(-900.0 - math.log(3), rel=1e-6)


def test_diagnostics_bad_input(user_errors):
    with pytest.raises(ValueError, match=r"kernel_sum_diagnostics: log_terms must have shape "
                                         r"\(\.\.\., n\) with n ≥ 1, got shape \(\)"):
        kernel_sum_diagnostics(1.0)
    with pytest.raises(ValueError, match=r"got shape \(3, 0\)"):
        kernel_sum_diagnostics(jnp.zeros((3, 0)))


@pytest.mark.parametrize("mu", [0.8, 1.5])
def test_hill_on_pareto(mu, float64):
    # P(X > x) = x^{−μ} (x ≥ 1): Hill on the top k = 2000 of 40000 samples has standard error
    # μ/√k ≈ 0.022 μ; allow 4 standard errors.
    m, k = 40_000, 2_000
    rng = np.random.default_rng(int(mu * 10))
    x = rng.uniform(size=(3, m)) ** (-1.0 / mu)
    got = jax.jit(hill_tail_index, static_argnums=1)(x, k)
    assert got.shape == (3,) and got.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(got), mu, atol=4 * mu / math.sqrt(k))
    # the same estimate from logarithms, and a plain NumPy Hill estimator
    np.testing.assert_allclose(np.asarray(hill_tail_index(np.log(x), k, log=True)),
                               np.asarray(got), rtol=1e-12)
    top = -np.sort(-np.log(x[0]))
    assert float(got[0]) == pytest.approx(1 / (top[:k].mean() - top[k]), rel=1e-12)


def test_hill_bad_input(user_errors):
    with pytest.raises(ValueError, match=r"hill_tail_index: k must be smaller than the number "
                                         r"of samples m = 5, got k = 5"):
        hill_tail_index(jnp.arange(1.0, 6.0), 5)
    with pytest.raises(TypeError, match=r"hill_tail_index: k must be a Python int, got 2\.0"):
        hill_tail_index(jnp.arange(1.0, 6.0), 2.0)
    with pytest.raises(ValueError, match=r"samples must be positive \(pass log=True"):
        hill_tail_index(jnp.array([1.0, -2.0, 3.0]), 1)


# ------------------------------------------------------------------- exact finite-n oracles


def _rho_hat_monte_carlo(x, h, n, reps, rng):
    """ρ̂_h(x) over `reps` independent data sets of n points N(0, I_d), written plainly."""
    d = x.shape[0]
    y = rng.standard_normal(size=(reps, n, d))
    sq = np.sum((x - y) ** 2, axis=-1)
    return np.mean(np.exp(-sq / (2 * h * h)), axis=-1) / (2 * np.pi * h * h) ** (d / 2)


@pytest.mark.parametrize(("d", "h", "n", "scale"), [(3, 0.5, 30, 1.0), (6, 1.0, 10, 1.0),
                                                   (4, 0.8, 20, 1.4)])
def test_mean_and_variance_oracles_vs_monte_carlo(d, h, n, scale, float64):
    rng = np.random.default_rng(d)
    x = rng.standard_normal(d)
    x *= scale * math.sqrt(d) / np.linalg.norm(x)  # |x|² = scale² d
    reps = 40_000
    rho = _rho_hat_monte_carlo(x, h, n, reps, rng)
    mean = np.exp(float(gaussian_kde_log_mean(x, h)))
    rel_var = float(gaussian_kde_relative_variance(x, h, n))
    # mean: standard error sd/√reps; allow 4 standard errors
    assert abs(rho.mean() - mean) < 4 * rho.std() / math.sqrt(reps)
    # variance: the sample variance has standard error √((m₄ − σ⁴)/reps); 4 of them
    var = rho.var()
    m4 = np.mean((rho - rho.mean()) ** 4)
    assert abs(var - rel_var * mean ** 2) < 4 * math.sqrt((m4 - var ** 2) / reps)
    # the log form agrees with the direct one
    log_rv = float(gaussian_kde_relative_variance(x, h, n, log=True))
    assert log_rv == pytest.approx(math.log(rel_var), rel=1e-12)


def test_oracle_dtypes_shapes_and_overflow():
    x = jnp.ones((4, 2000), jnp.float32)
    assert gaussian_kde_log_mean(x, 0.7).shape == (4,)
    assert gaussian_kde_log_mean(x, jnp.array([[0.5], [0.7]])).shape == (2, 4)
    assert gaussian_kde_log_mean(x, 0.7).dtype == jnp.float32
    # d = 2000, h = 0.3: e^L overflows float32, its logarithm does not
    assert bool(jnp.isinf(gaussian_kde_relative_variance(x, 0.3, 100)[0]))
    log_rv = jax.jit(gaussian_kde_relative_variance, static_argnums=2,
                     static_argnames="log")(x, 0.3, 100, log=True)
    h2 = 0.09
    big_l = 1000 * math.log1p(1 / (h2 * (2 + h2))) + 2000 / ((1 + h2) * (2 + h2))
    assert float(log_rv[0]) == pytest.approx(big_l - math.log(100), rel=1e-5)


def test_oracles_float64(float64):
    x = np.random.default_rng(1).standard_normal((3, 5))
    got = gaussian_kde_log_mean(x, 0.9)
    assert got.dtype == jnp.float64
    ref = st.multivariate_normal(np.zeros(5), (1 + 0.81) * np.eye(5)).logpdf(x)
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-13)
    assert gaussian_kde_relative_variance(x, 0.9, 7).dtype == jnp.float64


def test_oracle_bad_inputs(user_errors):
    with pytest.raises(ValueError, match=r"gaussian_kde_log_mean: h must be positive and "
                                         r"finite, got 0\.0"):
        gaussian_kde_log_mean(jnp.ones(3), 0.0)
    with pytest.raises(ValueError, match=r"gaussian_kde_log_mean: x must have shape \(\.\.\., "
                                         r"d\) with d ≥ 1, got shape \(\)"):
        gaussian_kde_log_mean(1.0, 0.5)
    with pytest.raises(ValueError, match=r"gaussian_kde_relative_variance: n must be an int "
                                         r"≥ 1, got 0"):
        gaussian_kde_relative_variance(jnp.ones(3), 0.5, 0)


# -------------------------------------------------------- kernel terms without the data


@pytest.mark.parametrize("d", [1, 5, 40])
def test_sampled_distances_are_noncentral_chi2(d, float64):
    x = jnp.linspace(-1.0, 1.0, d) * 1.3
    s = float(jnp.sum(x * x))
    dist = sample_sq_distances(x, n=10_000, key=jax.random.key(d))
    assert dist.shape == (10_000,) and dist.dtype == jnp.float64
    # Kolmogorov–Smirnov against scipy's non-central χ²_d(|x|²); with a fixed key the p-value
    # is a fixed number, > 0.01 unless the law is wrong
    assert st.kstest(np.asarray(dist), st.ncx2(df=d, nc=s).cdf).pvalue > 0.01
    # and against distances to materialised N(0, I_d) data: mean d + |x|², sd √(2(d + 2|x|²)),
    # standard error of the mean sd/√10000; 4 of them
    assert abs(float(dist.mean()) - (d + s)) < 4 * math.sqrt(2 * (d + 2 * s) / 10_000)


def test_sampled_kernel_sums_match_the_oracles(float64):
    # the whole synthetic pipeline: sampled distances → log terms → ln ρ̂, over 8000 data
    # sets of n = 20 points for one query; mean and variance vs the exact oracles (4 s.e.)
    d, h, n, reps = 8, 0.9, 20, 8_000
    x = jnp.full((d,), 1.0)
    dist = sample_sq_distances(jnp.broadcast_to(x, (reps, d)), n=n, key=jax.random.key(3))
    rho = np.exp(np.asarray(kernel_sum_diagnostics(
        gaussian_log_kernel_terms(dist, h, d=d)).log_mean))
    mean = math.exp(float(gaussian_kde_log_mean(x, h)))
    rel_var = float(gaussian_kde_relative_variance(x, h, n))
    assert abs(rho.mean() - mean) < 4 * rho.std() / math.sqrt(reps)
    m4 = np.mean((rho - rho.mean()) ** 4)
    assert abs(rho.var() - rel_var * mean ** 2) < 4 * math.sqrt((m4 - rho.var() ** 2) / reps)


def test_real_data_kernel_terms_vs_scipy(float64):
    rng = np.random.default_rng(2)
    data, x = rng.standard_normal((50, 4)), rng.standard_normal((3, 4))
    terms = gaussian_log_kernel_terms(pairwise_sq_distances(x, data), 0.7, d=4)
    assert terms.shape == (3, 50) and terms.dtype == jnp.float64
    ref = np.stack([st.multivariate_normal(y, 0.49 * np.eye(4)).logpdf(x) for y in data], 1)
    np.testing.assert_allclose(np.asarray(terms), ref, rtol=1e-12)
    # and ln ρ̂ from the diagnostics is the log of the plain average of scipy's densities
    np.testing.assert_allclose(np.asarray(kernel_sum_diagnostics(terms).log_mean),
                               np.log(np.exp(ref).mean(axis=1)), rtol=1e-12)


def test_sampler_jit_float32_and_keys():
    x = jnp.ones((3, 7))
    draw = jax.jit(sample_sq_distances, static_argnames="n")
    a = draw(x, n=11, key=jax.random.key(0))
    assert a.shape == (3, 11) and a.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(a), np.asarray(draw(x, n=11, key=jax.random.key(0))))
    assert not np.array_equal(np.asarray(a), np.asarray(draw(x, n=11, key=jax.random.key(1))))
    terms = jax.vmap(lambda h: gaussian_log_kernel_terms(a, h, d=7))(jnp.array([0.5, 1.0]))
    assert terms.shape == (2, 3, 11) and terms.dtype == jnp.float32


def test_sampler_and_terms_bad_inputs(user_errors):
    key = jax.random.key(0)
    with pytest.raises(ValueError, match=r"sample_sq_distances: n must be an int ≥ 1, got 0"):
        sample_sq_distances(jnp.ones(3), n=0, key=key)
    with pytest.raises(ValueError, match=r"sample_sq_distances: x must have shape"):
        sample_sq_distances(jnp.ones(()), n=3, key=key)
    with pytest.raises(ValueError, match=r"gaussian_log_kernel_terms: h must be a scalar"):
        gaussian_log_kernel_terms(jnp.ones(3), jnp.ones(2), d=3)
    with pytest.raises(ValueError, match=r"gaussian_log_kernel_terms: h must be positive and "
                                         r"finite, got -1\.0"):
        gaussian_log_kernel_terms(jnp.ones(3), -1.0, d=3)
    with pytest.raises(TypeError, match=r"gaussian_log_kernel_terms: d must be a Python int"):
        gaussian_log_kernel_terms(jnp.ones(3), 1.0, d=3.0)
    with pytest.raises(ValueError, match=r"pairwise_sq_distances: x must have shape \(\.\.\., d\) "
                                         r"and data shape \(n, d\) with the same d, got shapes "
                                         r"\(2, 3\) and \(5, 4\)"):
        pairwise_sq_distances(jnp.ones((2, 3)), jnp.ones((5, 4)))
