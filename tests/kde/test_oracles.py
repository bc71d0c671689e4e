"""The exact finite-n mean and relative variance of the Gaussian KDE of N(0, I_d) data,
against Monte Carlo over data sets drawn with NumPy and scipy's multivariate normal."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st

from jaxlab.kde import gaussian_kde_log_mean, gaussian_kde_relative_variance


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
                                         r"finite, got .*0\.0"):
        gaussian_kde_log_mean(jnp.ones(3), 0.0)
    with pytest.raises(ValueError, match=r"gaussian_kde_log_mean: x must be of shape "
                                         r"\(\.\.\., d\) with d >= 1, got shape \(\)"):
        gaussian_kde_log_mean(1.0, 0.5)
    with pytest.raises(ValueError, match=r"gaussian_kde_relative_variance: n must be a "
                                         r"positive int, got 0"):
        gaussian_kde_relative_variance(jnp.ones(3), 0.5, 0)
