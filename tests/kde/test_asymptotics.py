"""The asymptotic thresholds and cross-entropy of Gaussian KDE in high dimension.

References used: scipy root-finding and optimisation of the large-deviation formulas written
out plainly here, and the exact variance oracle.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize as so

from jaxlab.kde import (
    asymptotic_cross_entropy,
    asymptotic_participation_exponent,
    condensation_t,
    gaussian_kde_relative_variance,
    gaussian_thresholds,
    nearest_neighbour_scale,
    saddle_point_rate,
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


def test_bad_alpha_and_h(user_errors):
    with pytest.raises(ValueError, match=r"condensation_t: alpha must be positive and finite, "
                                         r"got .*-0\.1"):
        condensation_t(-0.1)
    with pytest.raises(ValueError, match=r"gaussian_thresholds: alpha must be positive and "
                                         r"finite, got .*nan"):
        gaussian_thresholds(float("nan"))
    with pytest.raises(ValueError, match=r"asymptotic_cross_entropy: h must be positive and "
                                         r"finite, got .*0\.0.* at index \(1,\)"):
        asymptotic_cross_entropy(jnp.array([0.5, 0.0]), 0.5)
    with pytest.raises(ValueError, match=r"asymptotic_participation_exponent: alpha must be "
                                         r"positive and finite, got .*0\.0"):
        asymptotic_participation_exponent(0.7, 0.0)
    with pytest.raises(ValueError, match=r"saddle_point_rate: t must be non-negative"):
        saddle_point_rate(-1.0)
    with pytest.raises(TypeError, match=r"condensation_t: alpha must be real \(complex input "
                                        r"is not supported\), got dtype complex64"):
        condensation_t(jnp.array(0.5 + 0j, jnp.complex64))
