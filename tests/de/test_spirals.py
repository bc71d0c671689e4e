"""The spirals data generator: the law of its times, values, labels, missing entries and noise,
under jit and vmap."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import de


def test_spirals_times_values_labels_missing_entries_and_noise(float64):
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
    full = np.asarray(de.spirals(n, length, drop=0.0, noise=0.0, key=jax.random.key(0))[1])
    np.testing.assert_allclose(np.where(missing, full, xs), full, rtol=0, atol=0)
    np.testing.assert_allclose(np.hypot(full[..., 0], full[..., 1]) * (1 + ts / 2), 1.0,
                               rtol=1e-12)
    angle = np.unwrap(np.arctan2(full[..., 1], full[..., 0]), axis=1)
    sign = np.where(labels > 0, 1.0, -1.0)[:, None]
    # x = (±cos(φ + t), sin(φ + t)): angle = φ + t anticlockwise, π − (φ + t) clockwise
    np.testing.assert_allclose(np.diff(angle, axis=1), sign * np.diff(ts, axis=1), atol=1e-9)
    # the noise has the sd asked for (the same compiled program: drop and noise are traced)
    noisy = np.asarray(de.spirals(n, length, drop=0.0, noise=0.1, key=jax.random.key(0))[1])
    residual = noisy - full
    assert abs(residual.std() - 0.1) < 5 * 0.1 / np.sqrt(2 * residual.size)
    # vmap over keys: the same key gives the same series as a direct call, others differ
    keys = jax.random.split(jax.random.key(0), 2)
    batch = jax.vmap(lambda k: de.spirals(n, length, drop=0.0, noise=0.1, key=k)[1])(keys)
    assert batch.shape == (2, n, length, 2)
    np.testing.assert_allclose(batch[0], de.spirals(n, length, drop=0.0, noise=0.1,
                                                    key=keys[0])[1], rtol=1e-12, atol=1e-12)
    assert not np.allclose(batch[0], batch[1])


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
