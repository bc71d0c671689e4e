"""The 2-D toy distributions against their closed-form moments and geometry."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import generative as gen


def test_eight_gaussians_and_moons_moments(float64):
    n = 40000
    x, m = jax.jit(lambda k0, k1: (gen.eight_gaussians(n, key=k0), gen.moons(n, key=k1)))(
        jax.random.PRNGKey(0), jax.random.PRNGKey(1))
    assert x.dtype == m.dtype == jnp.float64 and x.shape == m.shape == (n, 2)
    x, m = np.asarray(x), np.asarray(m)
    # centres 5·(unit vectors at k·45°): mean 0, per-coordinate variance 25/2 + √0.1
    var = 12.5 + 0.1**0.5
    assert np.all(np.abs(x.mean(0)) < 5 * np.sqrt(var / n))
    np.testing.assert_allclose(x.var(0), var, rtol=0.03)
    # before ×3 − 1: E x = ½(E cos θ + 1 − E cos θ) + 0.1 = 0.6,
    # E y = ½(2/π + ½ − 2/π) + 0.1 = 0.35
    assert np.all(np.abs(m.mean(0) - [0.8, 0.05]) < 5 * m.std(0) / np.sqrt(n))
    # every eight-Gaussians point is within a few standard deviations of one of the centres
    angles = np.arange(8) * np.pi / 4
    centres = 5 * np.stack([np.cos(angles), np.sin(angles)], 1)
    nearest = np.min(np.linalg.norm(x[:, None] - centres[None], axis=-1), axis=1)
    assert nearest.max() < 6 * 0.1**0.25


def test_toy_pairs_and_their_keys():
    # the same key gives the same pair; the two sides are the documented distributions
    @jax.jit
    def pairs(key):
        k0, k1 = jax.random.split(key)
        return (gen.toy_pair("normal-8gaussians", 64, key=key),
                (jax.random.normal(k0, (64, 2)), gen.eight_gaussians(64, key=k1)),
                gen.toy_pair("8gaussians-moons", 64, key=key),
                (gen.eight_gaussians(64, key=k0), gen.moons(64, key=k1)))

    normal, normal_ref, moons, moons_ref = pairs(jax.random.PRNGKey(3))
    assert normal[0].shape == normal[1].shape == (64, 2)
    np.testing.assert_array_equal(normal, normal_ref)
    np.testing.assert_array_equal(moons, moons_ref)


def test_ring_mixture_geometry(float64):
    ring = gen.ring_mixture(6, radius=3.0, std=0.5)
    angles = 2 * np.pi * np.arange(6) / 6
    means = 3 * np.stack([np.cos(angles), np.sin(angles)], 1)
    np.testing.assert_allclose(ring.means, means, atol=1e-15)
    np.testing.assert_allclose(ring.covs, np.broadcast_to(0.25 * np.eye(2), (6, 2, 2)))
    np.testing.assert_allclose(ring.weights, np.full(6, 1 / 6))
    assert ring.means.dtype == jnp.float64
    # the density at a centre: Σₖ (1/6) N(c₀; cₖ, 0.25 I), written out in NumPy
    d2 = np.sum((means[0] - means) ** 2, axis=1)
    expected = np.log(np.sum(np.exp(-d2 / 0.5) / (6 * 2 * np.pi * 0.25)))
    np.testing.assert_allclose(jax.jit(lambda x: ring.log_prob(x))(means[0]), expected, rtol=1e-12)


def test_toy_data_arguments_are_checked(user_errors):
    key = jax.random.PRNGKey(0)
    with pytest.raises(ValueError, match="eight_gaussians: n must be a positive int, got 0"):
        gen.eight_gaussians(0, key=key)
    with pytest.raises(TypeError, match="moons: key must be a PRNG key"):
        gen.moons(10, key=0)
    with pytest.raises(ValueError, match="moons: noise must be a non-negative finite number"):
        gen.moons(10, key=key, noise=-0.1)
    with pytest.raises(ValueError, match="toy_pair: name must be one of '8gaussians-moons', "
                                         "'normal-8gaussians', got 'moons'"):
        gen.toy_pair("moons", 10, key=key)
    with pytest.raises(ValueError, match="ring_mixture: radius must be a positive finite"):
        gen.ring_mixture(4, radius=0.0)
    with pytest.raises(TypeError, match="ring_mixture: components must be a positive int"):
        gen.ring_mixture(2.5)
