"""Regime markers of a kernel sum (largest-term fraction, participation ratio) and Hill's
tail index, against NumPy written plainly and exact Pareto samples."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.kde import KernelSumDiagnostics, hill_tail_index, kernel_sum_diagnostics


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
    with pytest.raises(ValueError, match=r"kernel_sum_diagnostics: log_terms must be of shape "
                                         r"\(\.\.\., n\) with n >= 1, got shape \(\)"):
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
                                         r"of samples m = 5, got 5"):
        hill_tail_index(jnp.arange(1.0, 6.0), 5)
    with pytest.raises(TypeError, match=r"hill_tail_index: k must be a positive int, got 2\.0"):
        hill_tail_index(jnp.arange(1.0, 6.0), 2.0)
    with pytest.raises(ValueError, match=r"samples must be positive \(pass log=True"):
        hill_tail_index(jnp.array([1.0, -2.0, 3.0]), 1)
    with pytest.raises(TypeError, match=r"hill_tail_index: log must be a bool, got 1"):
        hill_tail_index(jnp.arange(1.0, 6.0), 2, log=1)
    with pytest.raises(TypeError, match=r"kernel_sum_diagnostics: log_terms must be a real "
                                        r"array"):
        kernel_sum_diagnostics(jnp.ones(3, bool))
