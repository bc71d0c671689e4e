"""sMAPE, MSE, MAE, the valid prediction time and Lyapunov times against plain loops."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import metrics


def _smape_loop(y, yhat):
    """(200/n) Σ |y − ŷ| / (|y| + |ŷ|) with 0/0 → 0, one term at a time."""
    terms = []
    for a, b in zip(np.ravel(y), np.ravel(yhat), strict=True):
        den = abs(a) + abs(b)
        terms.append(0.0 if den == 0 else 200 * abs(a - b) / den)
    return sum(terms) / len(terms)


def _vpt_loop(y, yhat, threshold):
    """The number of steps before the running mean of the per-step sMAPE exceeds threshold."""
    total = 0.0
    for k in range(len(y)):
        total += _smape_loop(y[k], yhat[k])
        if total / (k + 1) > threshold:
            return k
    return len(y)


def test_scores_equal_plain_loops(float64):
    rng = np.random.default_rng(0)
    y, yhat = rng.normal(size=(12, 3)), rng.normal(size=(12, 3))
    y[0, 0] = yhat[0, 0] = 0.0      # 0/0 counts as 0
    y[1, 1], yhat[1, 1] = 0.0, 2.0  # one side 0: the maximum 200
    assert float(metrics.smape(y, yhat)) == pytest.approx(_smape_loop(y, yhat), rel=1e-12)
    np.testing.assert_allclose(np.asarray(metrics.smape(y, yhat, axis=1)),
                               [_smape_loop(a, b) for a, b in zip(y, yhat, strict=True)],
                               rtol=1e-12)
    assert float(metrics.smape(y[1, 1:2], yhat[1, 1:2])) == 200.0
    assert float(metrics.smape(y[0, 0:1], yhat[0, 0:1])) == 0.0
    assert float(metrics.mse(y, yhat)) == pytest.approx(
        sum((a - b) ** 2 for a, b in zip(y.ravel(), yhat.ravel(), strict=True)) / 36,
        rel=1e-12)
    assert float(metrics.mae(y, yhat)) == pytest.approx(
        sum(abs(a - b) for a, b in zip(y.ravel(), yhat.ravel(), strict=True)) / 36, rel=1e-12)
    np.testing.assert_allclose(np.asarray(metrics.mse(y, yhat, axis=0)),
                               ((y - yhat) ** 2).mean(0), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(metrics.mae(y, yhat, axis=(0, 1))),
                               np.abs(y - yhat).mean(), rtol=1e-12)
    for f in (metrics.smape, metrics.mse, metrics.mae):
        assert float(f(y, y)) == 0.0
        assert float(f(y, yhat)) == pytest.approx(float(f(yhat, y)), rel=1e-12)


def test_valid_prediction_time(float64):
    rng = np.random.default_rng(1)
    t = np.linspace(0, 6, 60)
    y = np.stack([np.sin(t) + 2.0, np.cos(t) + 2.0], axis=1)
    # a forecast whose error grows in time
    yhat = y + np.outer(np.exp(t) - 1, [0.05, -0.03]) + 0.01 * rng.normal(size=y.shape)
    for threshold in (5.0, 30.0, 60.0):
        got = metrics.valid_prediction_time(y, yhat, threshold=threshold)
        assert got.dtype == jnp.int32 and int(got) == _vpt_loop(y, yhat, threshold)
        assert 0 < int(got) < 60
    # the truth is valid for the whole horizon; a forecast wrong from the first step for none
    assert int(metrics.valid_prediction_time(y, y)) == 60
    assert int(metrics.valid_prediction_time(y, -y)) == 0
    # the running mean, not the instantaneous sMAPE: one spike does not end the forecast
    spike = y.copy()
    spike[10] = -y[10]
    assert int(metrics.valid_prediction_time(y, spike)) == _vpt_loop(y, spike, 30.0) == 60
    # a 1-D series; a series of (T, 2, 2) states
    assert int(metrics.valid_prediction_time(y[:, 0], yhat[:, 0])) == _vpt_loop(
        y[:, :1], yhat[:, :1], 30.0)
    assert int(metrics.valid_prediction_time(y.reshape(30, 2, 2), yhat.reshape(30, 2, 2))) \
        == _vpt_loop(y.reshape(30, 4), yhat.reshape(30, 4), 30.0)
    # steps to Lyapunov times: steps · dt · λ
    assert float(metrics.lyapunov_times(jnp.asarray(150), dt=0.01, lyapunov_exponent=0.9)) \
        == pytest.approx(1.35, rel=1e-12)
    assert float(metrics.lyapunov_times(30, dt=1 / 30, lyapunov_exponent=1.0)) == \
        pytest.approx(1.0, rel=1e-12)


def test_jit_vmap_and_dtypes():
    rng = np.random.default_rng(2)
    y = jnp.asarray(rng.normal(size=(4, 20, 2)) + 3, jnp.float32)
    yhat = y + jnp.asarray(np.linspace(0, 3, 20)[None, :, None], jnp.float32)
    vpt = jax.vmap(jax.jit(metrics.valid_prediction_time))(y, yhat)
    assert vpt.shape == (4,) and vpt.dtype == jnp.int32
    np.testing.assert_array_equal(np.asarray(vpt), [
        _vpt_loop(np.asarray(a, np.float64), np.asarray(b, np.float64), 30.0)
        for a, b in zip(y, yhat, strict=True)])
    for f in (metrics.smape, metrics.mse, metrics.mae):
        out = jax.vmap(jax.jit(f))(y, yhat)
        assert out.shape == (4,) and out.dtype == jnp.float32
        np.testing.assert_allclose(np.asarray(out), [float(f(a, b)) for a, b in
                                                     zip(y, yhat, strict=True)], rtol=1e-6)
    ints = metrics.mse(jnp.arange(4), jnp.arange(4) + 1)
    assert ints.dtype == jnp.float32 and float(ints) == 1.0
    assert metrics.lyapunov_times(jnp.arange(3), dt=0.1, lyapunov_exponent=1.0).dtype == \
        jnp.float32
    with jax.enable_x64(True):
        y64 = jnp.asarray(rng.normal(size=5))
        assert metrics.smape(y64, y64 + 1).dtype == jnp.float64
        assert metrics.mae(jnp.arange(3), jnp.arange(3)).dtype == jnp.float64


@pytest.mark.parametrize("call, error, text", [
    (lambda: metrics.smape(np.ones(3), np.ones(4)), ValueError,
     r"smape: y_true and y_pred must be arrays of the same shape, got shapes \(3,\) and "
     r"\(4,\)"),
    (lambda: metrics.mse(np.ones(3), np.ones(3), axis=1), ValueError,
     r"mse: axis must be an int in -1..0, got 1"),
    (lambda: metrics.mae(np.ones(3), np.ones(3), axis=0.5), TypeError,
     r"mae: axis must be an int in -1..0, got 0.5"),
    (lambda: metrics.smape(np.ones(3, bool), np.ones(3)), TypeError,
     r"smape: y_true must be a real array \(floating or integer dtype\), got dtype bool"),
    (lambda: metrics.valid_prediction_time(np.ones(3), np.ones(3), threshold=250.0),
     ValueError, r"valid_prediction_time: threshold must be a finite number in \[0.0, 200.0\], "
                 r"got 250.0"),
    (lambda: metrics.valid_prediction_time(np.ones(0), np.ones(0)), ValueError,
     r"valid_prediction_time: y_true must be a series with a time axis of length >= 1, got "
     r"shape \(0,\)"),
    (lambda: metrics.lyapunov_times(3, dt=0.0, lyapunov_exponent=1.0), ValueError,
     r"lyapunov_times: dt must be a positive finite number, got 0.0"),
    (lambda: metrics.lyapunov_times("3", dt=0.1, lyapunov_exponent=1.0), TypeError,
     r"lyapunov_times: steps must be an array, got '3'"),
])
def test_bad_input(call, error, text, user_errors):
    with pytest.raises(error, match=text):
        call()
