"""Squared distances (sampled for Gaussian data, or computed) and the Gaussian kernel terms
built from them, against scipy's non-central χ² and multivariate normal."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st

from jaxlab.kde import (
    gaussian_log_kernel_terms,
    kernel_sum_diagnostics,
    pairwise_sq_distances,
    sample_sq_distances,
)


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


def test_pairwise_distances_jit_vmap_float32():
    rng = np.random.default_rng(5)
    x, data = rng.standard_normal((2, 6, 3)), rng.standard_normal((9, 3))
    got = jax.jit(jax.vmap(pairwise_sq_distances, in_axes=(0, None)))(
        jnp.asarray(x, jnp.float32), jnp.asarray(data, jnp.float32))
    assert got.shape == (2, 6, 9) and got.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(got), ((x[..., None, :] - data) ** 2).sum(-1),
                               rtol=1e-5, atol=1e-5)
    # integer data are promoted
    assert pairwise_sq_distances(jnp.ones((2, 3)), jnp.ones((4, 3), int)).dtype == jnp.float32


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
    with pytest.raises(ValueError, match=r"sample_sq_distances: n must be a positive int, got 0"):
        sample_sq_distances(jnp.ones(3), n=0, key=key)
    with pytest.raises(ValueError, match=r"sample_sq_distances: x must be of shape"):
        sample_sq_distances(jnp.ones(()), n=3, key=key)
    with pytest.raises(ValueError, match=r"gaussian_log_kernel_terms: h must be of shape "
                                         r"\(\) \(a scalar"):
        gaussian_log_kernel_terms(jnp.ones(3), jnp.ones(2), d=3)
    with pytest.raises(ValueError, match=r"gaussian_log_kernel_terms: h must be positive and "
                                         r"finite, got .*-1\.0"):
        gaussian_log_kernel_terms(jnp.ones(3), -1.0, d=3)
    with pytest.raises(TypeError, match=r"gaussian_log_kernel_terms: d must be a positive "
                                        r"int, got 3\.0"):
        gaussian_log_kernel_terms(jnp.ones(3), 1.0, d=3.0)
    with pytest.raises(ValueError, match=r"pairwise_sq_distances: data must be of shape "
                                         r"\(n, d\) with the d = 3 of x, got shape \(5, 4\)"):
        pairwise_sq_distances(jnp.ones((2, 3)), jnp.ones((5, 4)))
    with pytest.raises(ValueError, match=r"pairwise_sq_distances: data must be an array with 2 "
                                         r"dimensions, got shape \(4,\)"):
        pairwise_sq_distances(jnp.ones((2, 4)), jnp.ones(4))
    with pytest.raises(TypeError, match=r"sample_sq_distances: key must be a PRNG key"):
        sample_sq_distances(jnp.ones(3), n=3, key=0)
