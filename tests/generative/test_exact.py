"""Gaussian mixtures and the exact path marginals: samples against closed-form moments
written in NumPy, dtypes, integer promotion and bad input; the log-density model."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import generative as gen

WEIGHTS = np.array([0.3, 0.7])
MEANS = np.array([[-2.0, 0.5], [1.5, -0.5]])
COVS = np.array([[[0.3, 0.1], [0.1, 0.4]], [[0.5, -0.2], [-0.2, 0.3]]])
N = 20000


def _moments():
    mean = WEIGHTS @ MEANS
    centred = MEANS - mean
    cov = np.einsum("k,kij->ij", WEIGHTS, COVS) + np.einsum("k,ki,kj->ij", WEIGHTS, centred,
                                                            centred)
    return mean, cov


def _within_standard_errors(xs, mean, cov):
    """The sample mean and covariance entries within 5 standard errors of the exact ones."""
    xs = np.asarray(xs)
    n = xs.shape[0]
    prods = (xs - xs.mean(0))[:, :, None] * (xs - xs.mean(0))[:, None, :]
    return (np.all(np.abs(xs.mean(0) - mean) < 5 * np.sqrt(np.diag(cov) / n))
            and np.all(np.abs(np.cov(xs.T) - cov) < 5 * prods.std(0) / np.sqrt(n)))


def test_mixture_and_path_marginal_samples_match_their_moments(float64):
    mix = gen.GaussianMixture(jnp.asarray(WEIGHTS), jnp.asarray(MEANS), jnp.asarray(COVS))
    mean1, cov1 = _moments()
    np.testing.assert_allclose(mix.mean(), mean1, rtol=1e-14)
    np.testing.assert_allclose(mix.covariance(), cov1, rtol=1e-14)
    # x_t = (1−t)x₀ + t x₁ + √(t(1−t)) z with x₀ ~ N(0, I): mean t·E x₁, covariance
    # ((1−t)² + t(1−t)) I + t² Cov x₁; drawn in 8 vmapped batches
    marg = gen.PathMarginal(gen.Interpolant.linear("sqrt"), mix)
    t = 0.3
    keys = jax.random.split(jax.random.PRNGKey(1), 8)
    xs, xt = jax.jit(lambda k, ks: (mix.sample(N, key=k), jax.vmap(
        lambda kk: marg.sample(t, N // 8, key=kk))(ks)))(jax.random.PRNGKey(0), keys)
    assert xs.shape == (N, 2) and xs.dtype == jnp.float64 and xt.shape == (8, N // 8, 2)
    assert _within_standard_errors(xs, mean1, cov1)
    cov_t = ((1 - t) ** 2 + t * (1 - t)) * np.eye(2) + t**2 * cov1
    assert _within_standard_errors(np.asarray(xt).reshape(N, 2), t * mean1, cov_t)


def test_mixture_dtypes_and_integer_promotion(float64):
    # integer means are promoted to the default float; float32 means keep float32
    ints = gen.GaussianMixture(jnp.array([0.5, 0.5]), jnp.array([[0, 1], [2, 3]]))
    assert ints.means.dtype == ints.covs.dtype == jnp.float64
    np.testing.assert_array_equal(ints.means, [[0.0, 1.0], [2.0, 3.0]])
    small = gen.GaussianMixture(np.array([0.5, 0.5], np.float32),
                                np.zeros((2, 3), np.float32))
    assert small.covs.dtype == jnp.float32
    interp = gen.Interpolant.linear("sqrt")
    # dtypes by eval_shape (traced, not compiled): samples follow the means, the coefficients
    # follow the time
    sample, gamma2 = jax.eval_shape(lambda k: (
        small.sample(4, key=k), interp.coefficients(jnp.float32(0.5)).gamma2),
        jax.random.PRNGKey(0))
    assert sample.dtype == gamma2.dtype == jnp.float32
    # vmap over times batches the Module
    c = jax.jit(jax.vmap(interp.coefficients))(jnp.array([0.25, 0.5]))
    assert isinstance(c, gen.PathCoefficients) and c.beta.dtype == jnp.float64
    np.testing.assert_allclose(c.noise2, [0.75**2 + 0.25 * 0.75, 0.5])
    np.testing.assert_allclose(c.noise_dnoise, [-0.75 + 0.25, -0.5])


def test_mixture_arguments_are_checked(user_errors):
    with pytest.raises(ValueError, match=r"GaussianMixture: weights must be of shape \(3,\), "
                                         r"got shape \(2,\)"):
        gen.GaussianMixture(jnp.ones(2) / 2, jnp.zeros((3, 2)))
    with pytest.raises(ValueError, match="GaussianMixture: weights must be positive and "
                                         r"summing to 1, got \[1.0, 1.0, 1.0\]"):
        gen.GaussianMixture(jnp.ones(3), jnp.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"GaussianMixture: means must be of shape \(K, d\)"):
        gen.GaussianMixture(jnp.ones(1), jnp.zeros(3))
    with pytest.raises(TypeError, match="GaussianMixture: means must be a real array"):
        gen.GaussianMixture(jnp.ones(1), jnp.zeros((1, 2), bool))
    mix = gen.GaussianMixture(jnp.ones(1), jnp.zeros((1, 2)))
    with pytest.raises(TypeError, match=r"GaussianMixture\.sample: n must be a positive int"):
        mix.sample(2.0, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"GaussianMixture.log_prob: x must be of shape "
                                         r"\(\.\.\., 2\)"):
        mix.log_prob(jnp.zeros(3))
    with pytest.raises(ValueError, match="PathMarginal: base must be of the target's "
                                         "dimension 2, got dimension 3"):
        gen.PathMarginal(gen.Interpolant.linear(), mix,
                         gen.GaussianMixture(jnp.ones(1), jnp.zeros((1, 3))))
    with pytest.raises(TypeError, match="PathMarginal: path must be an Interpolant or a "
                                        "Diffusion, got a str"):
        gen.PathMarginal("linear", mix)
    with pytest.raises(TypeError, match=r"PathMarginal\.sample: key must be a PRNG key"):
        gen.PathMarginal(gen.Interpolant.linear(), mix).sample(0.5, 3, key=None)
    with pytest.raises(ValueError, match=r"Interpolant.coefficients: t must be an array with "
                                         r"0 dimensions, got shape \(2,\)"):
        gen.Interpolant.linear().coefficients(jnp.zeros(2))


def test_log_density_model_and_its_score(float64):
    # u(t, x) = −½(1 + t)|x|² has the score −(1 + t)x; under jit and vmap over points
    model = gen.LogDensity(lambda t, x: jnp.array([-0.5 * (1 + t) * x @ x]))
    xs = jnp.asarray(np.random.default_rng(0).normal(size=(5, 3)))
    u, s = jax.jit(jax.vmap(lambda x: (model(0.5, x), model.score(0.5, x))))(xs)
    np.testing.assert_allclose(u, -0.75 * np.sum(np.asarray(xs) ** 2, 1), rtol=1e-15)
    np.testing.assert_allclose(s, -1.5 * np.asarray(xs), rtol=1e-15)
    assert u.shape == (5,) and s.dtype == jnp.float64


def test_log_density_arguments_are_checked(user_errors):
    with pytest.raises(TypeError, match="LogDensity: net must be a callable"):
        gen.LogDensity(3.0)
    with pytest.raises(ValueError, match=r"LogDensity: net\(t, x\) must be a scalar or of "
                                         r"shape \(1,\), got shape \(2,\)"):
        gen.LogDensity(lambda t, x: x)(0.5, jnp.zeros(2))
