"""The spirals data generator: the law of its times, values, labels and missing entries."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import de


def test_spirals_times_values_labels_and_missing_entries(float64):
    n, length = 400, 30
    ts, xs, labels = de.spirals(n, length, drop=0.3, noise=0.0, key=jax.random.key(0))
    assert ts.shape == (n, length) and xs.shape == (n, length, 2) and labels.shape == (n,)
    assert ts.dtype == xs.dtype == labels.dtype == jnp.float64
    ts, xs, labels = np.asarray(ts), np.asarray(xs), np.asarray(labels)
    # half clockwise (0) then half anticlockwise (1)
    np.testing.assert_array_equal(labels, np.repeat([0.0, 1.0], n // 2))
    # irregular, strictly increasing times from 0 to 4π with gaps in [0.2, 1.8] × the mean
    np.testing.assert_allclose(ts[:, 0], 0.0, atol=0)
    np.testing.assert_allclose(ts[:, -1], 4 * np.pi, rtol=1e-12)
    gaps = np.diff(ts, axis=1) / (4 * np.pi / (length - 1))
    assert gaps.min() > 0.2 / 1.8 - 1e-12 and gaps.max() < 1.8 / 0.2 + 1e-12
    assert np.std(gaps) > 0.1  # irregular
    # each value missing independently with probability 0.3: 5 binomial standard errors
    missing = np.isnan(xs)
    assert abs(missing.mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / missing.size)
    assert abs(np.mean(missing[..., 0] & missing[..., 1]) - 0.09) < 5 * np.sqrt(
        0.09 * 0.91 / missing[..., 0].size)
    # noise-free values: radius 1/(1 + t/2), angle advancing by ±Δt (clockwise = −)
    full = de.spirals(n, length, drop=0.0, noise=0.0, key=jax.random.key(0))[1]
    full = np.asarray(full)
    np.testing.assert_allclose(np.where(missing, full, xs), full, rtol=0, atol=0)
    np.testing.assert_allclose(np.hypot(full[..., 0], full[..., 1]) * (1 + ts / 2), 1.0,
                               rtol=1e-12)
    angle = np.unwrap(np.arctan2(full[..., 1], full[..., 0]), axis=1)
    sign = np.where(labels > 0, 1.0, -1.0)[:, None]
    # x = (±cos(φ + t), sin(φ + t)): angle = φ + t anticlockwise, π − (φ + t) clockwise
    np.testing.assert_allclose(np.diff(angle, axis=1), sign * np.diff(ts, axis=1), atol=1e-9)


def test_spirals_noise_key_jit_and_vmap():
    # vmap over keys (inside jit): the same key gives the same series as a direct call, other
    # keys other series; the noise has the sd asked for
    keys = jax.random.split(jax.random.key(1), 3)
    noisy, clean = jax.jit(jax.vmap(lambda k: (de.spirals(64, 8, drop=0.0, noise=0.1, key=k)[1],
                                               de.spirals(64, 8, drop=0.0, noise=0.0,
                                                          key=k)[1])))(keys)
    assert noisy.shape == (3, 64, 8, 2) and noisy.dtype == jnp.float32
    direct = de.spirals(64, 8, drop=0.0, noise=0.1, key=keys[0])[1]
    np.testing.assert_allclose(noisy[0], direct, rtol=1e-6, atol=1e-6)  # float32 rounding
    assert not np.allclose(noisy[0], noisy[1])
    residual = np.asarray(noisy - clean)
    assert abs(residual.std() - 0.1) < 5 * 0.1 / np.sqrt(2 * residual.size)


def test_spirals_bad_input(user_errors):
    with pytest.raises(ValueError, match="spirals: n must be an int >= 2, got 1"):
        de.spirals(1, 5, key=jax.random.key(0))
    with pytest.raises(TypeError, match=r"spirals: length must be an int >= 2, got 5.0"):
        de.spirals(4, 5.0, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"spirals: drop must be a finite number in \[0.0, "
                                         r"1.0\), got 1.0"):
        de.spirals(4, 5, drop=1.0, key=jax.random.key(0))
    with pytest.raises(ValueError, match="spirals: noise must be a non-negative finite number"):
        de.spirals(4, 5, noise=-0.1, key=jax.random.key(0))
    with pytest.raises(TypeError, match="spirals: key must be a PRNG key"):
        de.spirals(4, 5, key=3)
