"""Kernel sums of synthetic Gaussian data at many bandwidths (the kde-high-dim measurement),
against the exact finite-n moments and a plain cross-entropy estimate."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st

from jaxlab.kde import (
    SampledKernelSums,
    gaussian_kde_relative_variance,
    sampled_kernel_sums,
)


def test_moments_and_cross_entropy_under_jit_and_vmap(float64):
    # one compilation (jit of a vmap over two independent halves) measures both: 2 × 4000
    # data sets of n = 20 points for one query, and 2 × 200 queries x ~ N(0, I_d)
    d, n, half, m = 8, 20, 4_000, 400
    reps = 2 * half
    x0 = jnp.full((d,), 1.0)
    queries = jax.random.normal(jax.random.key(0), (2, m // 2, d), jnp.float64)
    x = jnp.concatenate([jnp.broadcast_to(x0, (2, half, d)), queries], axis=1)
    hs = (0.7, 1.4, 30.0)
    keys = jnp.stack([jax.random.key(3), jax.random.key(4)])
    batched = jax.jit(jax.vmap(lambda xs, k: sampled_kernel_sums(
        xs, jnp.array(hs), n=n, key=k, query_block=1500)))(x, keys)
    assert isinstance(batched, SampledKernelSums)
    assert batched.log_ratio.shape == (2, 3, half + m // 2)
    assert batched.log_ratio.dtype == jnp.float64
    # the two halves side by side: the fixed query's 8000 values, and the 400 queries
    fields = [np.asarray(a) for a in (batched.log_ratio, batched.largest_fraction,
                                      batched.participation_ratio)]
    fixed = [np.concatenate([f[0, :, :half], f[1, :, :half]], axis=-1) for f in fields]
    rand = [np.concatenate([f[0, :, half:], f[1, :, half:]], axis=-1) for f in fields]
    queries = np.asarray(queries).reshape(m, d)
    # W = ρ̂/E ρ̂ at the fixed query has mean 1 and variance the exact relative variance
    # (4 standard errors)
    for k, h in enumerate(hs):
        w = np.exp(fixed[0][k])
        assert abs(w.mean() - 1.0) < 4 * w.std() / math.sqrt(reps)
        rel_var = float(gaussian_kde_relative_variance(x0, h, n))
        m4 = np.mean((w - w.mean()) ** 4)
        assert abs(w.var() - rel_var) < 4 * math.sqrt((m4 - w.var() ** 2) / reps)
    # the markers are those of a sum of n terms
    for largest, participation in zip(fixed[1:2] + rand[1:2], fixed[2:] + rand[2:],
                                      strict=True):
        assert np.all((largest >= 1 / n) & (largest <= 1))
        assert np.all((participation >= 1) & (participation <= n))
    # the control-variate cross-entropy over the N(0, I) queries agrees with the plain
    # −mean ln ρ̂(x_j)/d (ln E_y ρ̂ from scipy at each query) within 4 standard errors of the
    # plain one, and is less noisy
    random = SampledKernelSums(bandwidths=jnp.array(hs), log_ratio=jnp.asarray(rand[0]),
                               largest_fraction=jnp.asarray(rand[1]),
                               participation_ratio=jnp.asarray(rand[2]), dimension=d)
    estimate, error = random.cross_entropy()
    for k, h in enumerate(hs):
        log_mean = st.multivariate_normal(np.zeros(d), (1 + h * h) * np.eye(d)).logpdf(
            queries)
        plain = -(log_mean + rand[0][k]) / d
        plain_se = plain.std(ddof=1) / math.sqrt(m)
        assert abs(float(estimate[k]) - plain.mean()) < 4 * plain_se
        assert float(error[k]) < plain_se
        np.testing.assert_allclose(float(error[k]),
                                   rand[0][k].std(ddof=1) / (d * math.sqrt(m)),
                                   rtol=1e-12)


@pytest.mark.slow  # two more compilations; the default suite runs the pipeline under jit/vmap
def test_blocks_and_float32():
    x = jax.random.normal(jax.random.key(0), (7, 4))
    hs = jnp.array([0.5, 1.0, 30.0])
    key = jax.random.key(2)
    keys = jnp.stack([key, jax.random.key(5)])
    batched = jax.vmap(lambda k: sampled_kernel_sums(x, hs, n=30, key=k))(keys)
    assert batched.log_ratio.shape == (2, 3, 7) and batched.log_ratio.dtype == jnp.float32
    log_ratio, participation = np.asarray(batched.log_ratio), np.asarray(
        batched.participation_ratio)
    assert not np.allclose(log_ratio[0], log_ratio[1])
    # the draws belong to the queries, not to the blocks
    blocked = sampled_kernel_sums(x, hs, n=30, key=key, query_block=3)
    np.testing.assert_allclose(log_ratio[0], np.asarray(blocked.log_ratio), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(participation[0], np.asarray(blocked.participation_ratio),
                               rtol=1e-5, atol=1e-5)
    # ln E_y ρ̂ is removed: at h ≫ 1 the KDE is its mean, ln W → 0
    np.testing.assert_allclose(np.asarray(blocked.log_ratio)[2], 0.0, atol=1e-3)


def _sums_with_a_minimum(m, noise, seed=0):
    """A SampledKernelSums whose cross-entropy is 3 (ln h − 0.1)² plus query noise."""
    hs, d = np.geomspace(0.5, 2.0, 9), 10
    exact = 0.5 * np.log(2 * np.pi * (1 + hs**2)) + 0.5 / (1 + hs**2)
    rng = np.random.default_rng(seed)
    log_ratio = (d * (exact - 3 * (np.log(hs) - 0.1) ** 2))[:, None] + noise * rng.normal(
        size=(9, m))
    ones = jnp.ones((9, m))
    return SampledKernelSums(bandwidths=jnp.asarray(hs), log_ratio=jnp.asarray(log_ratio),
                             largest_fraction=ones, participation_ratio=ones, dimension=d)


def test_optimal_bandwidth_against_a_numpy_bootstrap(float64):
    key = jax.random.key(4)
    sums = _sums_with_a_minimum(m=50, noise=2.0)
    opt = sums.optimal_bandwidth(key=key, num_resamples=40)
    assert opt.bandwidth.dtype == jnp.float64 and not bool(opt.at_edge)
    # the same resamples, each curve's vertex by np.polyfit in ln h
    index = np.asarray(jax.random.randint(key, (40, 50), 0, 50))
    hs, lr, d = np.asarray(sums.bandwidths), np.asarray(sums.log_ratio), 10
    exact = 0.5 * np.log(2 * np.pi * (1 + hs**2)) + 0.5 / (1 + hs**2)

    def vertex(curve):
        i = int(np.argmin(curve))
        a, b, _ = np.polyfit(np.log(hs[i - 1:i + 2]), curve[i - 1:i + 2], 2)
        return np.exp(np.clip(-b / (2 * a), np.log(hs[i - 1]), np.log(hs[i + 1])))

    assert float(opt.bandwidth) == pytest.approx(vertex(exact - lr.mean(1) / d), rel=1e-10)
    boot = [vertex(exact - lr[:, rows].mean(1) / d) for rows in index]
    assert float(opt.standard_error) == pytest.approx(np.std(boot, ddof=1), rel=1e-8)
    # without noise every resample is the same curve: h* = e^{0.1} up to the parabola through
    # exact samples of a parabola, and no spread
    exact_opt = _sums_with_a_minimum(m=50, noise=0.0).optimal_bandwidth(key=key,
                                                                        num_resamples=40)
    assert float(exact_opt.bandwidth) == pytest.approx(math.exp(0.1), rel=1e-10)
    assert float(exact_opt.standard_error) < 1e-12


def test_bad_input(user_errors):
    x, hs, key = jnp.ones((3, 2)), jnp.array([1.0]), jax.random.key(0)
    with pytest.raises(ValueError, match=r"sampled_kernel_sums: x must be an array with 2 "
                                         r"dimensions, got shape \(2,\)"):
        sampled_kernel_sums(jnp.ones(2), hs, n=3, key=key)
    with pytest.raises(ValueError, match=r"sampled_kernel_sums: x must be of shape \(m, d\) "
                                         r"with m, d >= 1, got shape \(0, 2\)"):
        sampled_kernel_sums(jnp.ones((0, 2)), hs, n=3, key=key)
    with pytest.raises(ValueError, match=r"sampled_kernel_sums: bandwidths must be positive "
                                         r"and finite, got .*-1\.0"):
        sampled_kernel_sums(x, -hs, n=3, key=key)
    with pytest.raises(ValueError, match=r"sampled_kernel_sums: n must be a positive int, "
                                         r"got 0"):
        sampled_kernel_sums(x, hs, n=0, key=key)
    with pytest.raises(TypeError, match=r"sampled_kernel_sums: query_block must be a positive "
                                        r"int or None, got 1\.5"):
        sampled_kernel_sums(x, hs, n=3, key=key, query_block=1.5)
    with pytest.raises(TypeError, match=r"sampled_kernel_sums: key must be a PRNG key"):
        sampled_kernel_sums(x, hs, n=3, key=3)
    sums = _sums_with_a_minimum(m=5, noise=1.0)
    with pytest.raises(TypeError, match=r"SampledKernelSums.optimal_bandwidth: key must be a "
                                        r"PRNG key"):
        sums.optimal_bandwidth(key=None)
    with pytest.raises(ValueError, match=r"SampledKernelSums.optimal_bandwidth: num_resamples "
                                         r"must be an int >= 2, got 1"):
        sums.optimal_bandwidth(key=key, num_resamples=1)
    shuffled = eqx.tree_at(lambda s: s.bandwidths, sums, sums.bandwidths[::-1])
    with pytest.raises(ValueError, match=r"SampledKernelSums.optimal_bandwidth: bandwidths must "
                                         r"be strictly increasing, got bandwidths\[0\] = 2\.0 "
                                         r"and bandwidths\[1\] = 1\.68"):
        shuffled.optimal_bandwidth(key=key)
