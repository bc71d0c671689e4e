"""Forecasting scores: sMAPE, MSE, MAE, the valid prediction time, and Lyapunov times."""

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int, Real

from .._core.checks import (
    as_float_array,
    check_int,
    check_number,
    common_float_dtype,
    message,
    shape_str,
)


def _pair(fn: str, y_true, y_pred, *, ndim=None):
    y_true = as_float_array(fn, "y_true", y_true, ndim=ndim)
    y_pred = as_float_array(fn, "y_pred", y_pred, ndim=ndim)
    if y_true.shape != y_pred.shape:
        raise ValueError(message(fn, "y_true and y_pred", "arrays of the same shape",
                                 f"shapes {shape_str(y_true)} and {shape_str(y_pred)}"))
    dtype = common_float_dtype(y_true, y_pred)
    return y_true.astype(dtype), y_pred.astype(dtype)


def _axis(fn: str, axis, ndim: int):
    """`axis` (None, an int or a tuple of ints) checked against `ndim` dimensions."""
    if axis is None:
        return None
    axes = axis if isinstance(axis, tuple) else (axis,)
    for a in axes:
        check_int(fn, "axis", a, minimum=-max(ndim, 1), maximum=max(ndim, 1) - 1)
    return axis


def _smape_terms(y_true, y_pred):
    """200 |y − ŷ| / (|y| + |ŷ|) elementwise, 0 where both are 0."""
    denominator = jnp.abs(y_true) + jnp.abs(y_pred)
    positive = denominator > 0
    return jnp.where(positive, 200.0 * jnp.abs(y_true - y_pred)
                     / jnp.where(positive, denominator, 1.0), 0.0)


def smape(y_true: Real[ArrayLike, "*shape"], y_pred: Real[ArrayLike, "*shape"], *,
          axis: int | tuple[int, ...] | None = None) -> Float[Array, "*rest"]:
    """The symmetric mean absolute percentage error, (200/n) Σ |y − ŷ| / (|y| + |ŷ|), in
    percent from 0 to 200 (the darts/dysts convention); a term with y = ŷ = 0 counts as 0.

    **Arguments:** `y_true`, `y_pred`: arrays of one shape; `axis`: the axes averaged over
    (None: all).

    **Returns:** the sMAPE, shape of the inputs without `axis`, in their floating dtype.

    **Raises:** `TypeError` for non-real input or a non-int axis; `ValueError` for different
    shapes or an axis out of range.

    **References:** Makridakis, *Accuracy measures: theoretical and practical concerns*
    (IJF 1993); Gilpin, *Chaos as an interpretable benchmark for forecasting and data-driven
    modelling* (NeurIPS 2021 Datasets and Benchmarks; dysts).
    """
    y_true, y_pred = _pair("smape", y_true, y_pred)
    return _smape(y_true, y_pred, axis=_axis("smape", axis, y_true.ndim))


@functools.partial(jax.jit, static_argnames="axis")
def _smape(y_true, y_pred, *, axis):
    return jnp.mean(_smape_terms(y_true, y_pred), axis=axis)


def mse(y_true: Real[ArrayLike, "*shape"], y_pred: Real[ArrayLike, "*shape"], *,
        axis: int | tuple[int, ...] | None = None) -> Float[Array, "*rest"]:
    """The mean squared error mean((y − ŷ)²).

    **Arguments:** `y_true`, `y_pred`: arrays of one shape (standardise them with the
    training set's scaler to compare with published long-horizon scores); `axis`: the axes
    averaged over (None: all).

    **Returns:** the MSE, shape of the inputs without `axis`, in their floating dtype.

    **Raises:** `TypeError` for non-real input or a non-int axis; `ValueError` for different
    shapes or an axis out of range.

    **References:** Wang et al., *TimeMixer* (ICLR 2024), §4 (MSE/MAE on standardised data).
    """
    y_true, y_pred = _pair("mse", y_true, y_pred)
    return _mse(y_true, y_pred, axis=_axis("mse", axis, y_true.ndim))


@functools.partial(jax.jit, static_argnames="axis")
def _mse(y_true, y_pred, *, axis):
    return jnp.mean((y_true - y_pred) ** 2, axis=axis)


def mae(y_true: Real[ArrayLike, "*shape"], y_pred: Real[ArrayLike, "*shape"], *,
        axis: int | tuple[int, ...] | None = None) -> Float[Array, "*rest"]:
    """The mean absolute error mean(|y − ŷ|).

    **Arguments:** `y_true`, `y_pred`: arrays of one shape; `axis`: the axes averaged over
    (None: all).

    **Returns:** the MAE, shape of the inputs without `axis`, in their floating dtype.

    **Raises:** `TypeError` for non-real input or a non-int axis; `ValueError` for different
    shapes or an axis out of range.

    **References:** Wang et al., *TimeMixer* (ICLR 2024), §4.
    """
    y_true, y_pred = _pair("mae", y_true, y_pred)
    return _mae(y_true, y_pred, axis=_axis("mae", axis, y_true.ndim))


@functools.partial(jax.jit, static_argnames="axis")
def _mae(y_true, y_pred, *, axis):
    return jnp.mean(jnp.abs(y_true - y_pred), axis=axis)


def valid_prediction_time(y_true: Real[ArrayLike, "T ..."],
                          y_pred: Real[ArrayLike, "T ..."], *,
                          threshold: float = 30.0) -> Int[Array, ""]:
    """The valid prediction time in steps: how many steps the forecast stays valid, where it
    stops being valid at the first step k whose cumulative mean sMAPE over steps 1..k exceeds
    `threshold`.

    With s_t the sMAPE of step t over the other axes (`smape(y_true[t], y_pred[t])`) and
    c_k = (1/k) Σ_{t ≤ k} s_t, the result is k* − 1 for the first k* with c_{k*} > threshold
    (the 0-based index of that step, which is the number of valid steps before it), and the
    horizon T if c_k never exceeds it; so the VPT of the truth is T. The running mean, not
    the instantaneous sMAPE, is used, because sMAPE spikes towards 200 where standardised data
    cross zero. Convert to Lyapunov times with `lyapunov_times`.

    **Arguments:**

    - `y_true`, `y_pred`: the true and forecast series, one shape `(T, ...)` (time first).
    - `threshold`: the sMAPE threshold in percent (0 to 200), default 30.

    **Returns:** the VPT in steps, an int32 scalar in 0..T.

    **Raises:** `TypeError` for non-real input; `ValueError` for different shapes, an empty
    or 0-d series, or a threshold outside [0, 200].

    **References:** Liu, Zhao, Ding, Wang & Li, *Mamba integrated with physics principles
    masters long-term chaotic system forecasting* (PhyxMamba, 2025); Gilpin (2021), dysts.
    """
    fn = "valid_prediction_time"
    threshold = check_number(fn, "threshold", threshold, minimum=0.0, maximum=200.0)
    y_true, y_pred = _pair(fn, y_true, y_pred)
    if y_true.ndim == 0 or y_true.shape[0] == 0:
        raise ValueError(message(fn, "y_true", "a series with a time axis of length >= 1",
                                 f"shape {shape_str(y_true)}"))
    return _valid_prediction_time(y_true, y_pred, threshold=threshold)


@functools.partial(jax.jit, static_argnames="threshold")
def _valid_prediction_time(y_true, y_pred, *, threshold: float):
    horizon = y_true.shape[0]
    per_step = jnp.mean(_smape_terms(y_true, y_pred).reshape(horizon, -1), axis=1)
    running = jnp.cumsum(per_step) / jnp.arange(1, horizon + 1, dtype=per_step.dtype)
    exceeds = running > threshold
    return jnp.where(jnp.any(exceeds), jnp.argmax(exceeds), horizon).astype(jnp.int32)


def lyapunov_times(steps: Real[ArrayLike, "*shape"], *, dt: float,
                   lyapunov_exponent: float) -> Float[Array, "*shape"]:
    """Steps converted to Lyapunov times: steps · dt · λ_max (one Lyapunov time is 1/λ_max).

    With 30 samples a Lyapunov time (dt = 1/30 in Lyapunov units, λ_max = 1) this is
    steps / 30, PhyxMamba's convention.

    **Arguments:** `steps` (e.g. a `valid_prediction_time`); `dt`: the time step of the
    series (> 0); `lyapunov_exponent`: the largest Lyapunov exponent λ_max (> 0), in the
    inverse time units of `dt`.

    **Returns:** the times in Lyapunov units, shape of `steps`, floating (the default float
    for integer steps).

    **Raises:** `TypeError` for non-real input; `ValueError` for `dt` or `lyapunov_exponent`
    not positive and finite.

    **References:** Liu et al., *PhyxMamba* (2025).
    """
    fn = "lyapunov_times"
    dt = check_number(fn, "dt", dt, minimum=0.0, open_minimum=True)
    exponent = check_number(fn, "lyapunov_exponent", lyapunov_exponent, minimum=0.0,
                            open_minimum=True)
    return as_float_array(fn, "steps", steps) * (dt * exponent)
