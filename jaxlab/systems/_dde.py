"""A fixed-step solver for delay-differential equations: the method of steps with an explicit
Runge–Kutta scheme and a ring buffer of the history.

A delay system dy/dt = f(t, y(t), y(t − τ)) starts from the constant history y(s) = y0 on
[−τ, 0] (the dysts convention) and is solved on a grid whose step h = τ/m divides the delay.
The last m + 1 grid values and slopes are kept in a ring buffer; a delayed value between
grid points (the midpoint stages of RK4) is read from the cubic Hermite interpolant of the
buffer, whose O(h⁴) error keeps the scheme fourth-order. Because h divides τ, the grid also
lands on the points t = kτ where the solution's derivatives jump (the corner at t = 0
propagates), so no accuracy is lost there. The step map (`rk_step`) is shared with the
delay Lyapunov spectrum, which linearises it.
"""

import math
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Real

from .._core.checks import (
    check_bool,
    check_choice,
    check_number,
    message,
    shape_str,
)
from .._core.results import RESULTS, check_field, status_where
from ._base import AbstractDelay, array_parameters, check_state, concrete_times
from ._results import Trajectory

__all__ = ["integrate_delay"]


class _Tableau(NamedTuple):
    """An explicit Runge–Kutta tableau whose first stage is at c = 0 (its slope is reused)."""

    c: tuple[float, ...]
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    order: int


METHODS: dict[str, _Tableau] = {
    "euler": _Tableau((0.0,), ((),), (1.0,), 1),
    "heun": _Tableau((0.0, 1.0), ((), (1.0,)), (0.5, 0.5), 2),
    "rk3": _Tableau((0.0, 0.5, 1.0), ((), (0.5,), (-1.0, 2.0)), (1 / 6, 2 / 3, 1 / 6), 3),
    "rk4": _Tableau((0.0, 0.5, 0.5, 1.0), ((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
                    (1 / 6, 1 / 3, 1 / 3, 1 / 6), 4),
}


def _hermite(theta, h, y_a, d_a, y_b, d_b):
    """The cubic Hermite interpolant on [t_a, t_a + h] at t_a + θh (values y, slopes d)."""
    t2 = theta * theta
    t3 = t2 * theta
    return ((2 * t3 - 3 * t2 + 1) * y_a + (t3 - 2 * t2 + theta) * h * d_a
            + (3 * t2 - 2 * t3) * y_b + (t3 - t2) * h * d_b)


def _read(buffer, slot):
    return jax.lax.dynamic_index_in_dim(buffer, slot, axis=0, keepdims=False)


def initial_history(system: AbstractDelay, y0, m: int):
    """The ring buffer of (y, dy/dt) on the grid t_j = jh, j = −m..0: shape `(m + 1, 2, d)`,
    grid point j in slot j mod (m + 1).

    The constant history has slope 0; the slope stored at t = 0 is the right-hand one,
    f(0, y0, y0), the slope the solution leaves with.
    """
    zero = jnp.zeros((), y0.dtype)
    values = jnp.broadcast_to(y0, (m + 1, *y0.shape))
    slopes = jnp.zeros_like(values).at[0].set(system.vector_field(zero, y0, y0))
    return jnp.stack([values, slopes], axis=1)


def window_of(history, n, m: int):
    """The three grid points a step from t_n reads: t_n, t_n − τ, t_n − τ + h (shape (3, 2, d))."""
    size = m + 1
    return jnp.stack([_read(history, n % size), _read(history, (n + 1) % size),
                      _read(history, (n + 2) % size)])


def rk_step(system: AbstractDelay, tableau: _Tableau, m: int, h: float, n, history, window):
    """One step t_n → t_{n+1} of the buffered map.

    `history` holds (y, dy/dt) at t_{n−m..n}; `window` is `window_of(history, n, m)`, carried
    so that the step reads the buffer only after its one write (XLA otherwise re-reads the
    old buffer after the write and copies all m + 1 rows every step). Returns the buffer and
    window for t_{n+1}, and (y_n, d_n, y_{n+1}, d_{n+1}) for dense output.
    """
    size = m + 1
    dtype = history.dtype
    (y_n, d_n), (y_a, d_a), (y_b, d_b) = window  # t_n, t_n − τ, t_n − τ + h
    # The corner at t = 0: on [−h, 0] the history's slope at 0 is 0 (the left-hand one),
    # not the right-hand slope stored there.
    d_b_left = jnp.where(n == m - 1, jnp.zeros_like(d_b), d_b)
    t_n = n.astype(dtype) * jnp.asarray(h, dtype)
    ks = [d_n]  # first-same-as-last: d_n = f(t_n, y_n, y_{n−m}) was stored by the last step
    for c, row in zip(tableau.c[1:], tableau.a[1:], strict=True):
        stage = y_n + h * sum(a * k for a, k in zip(row, ks, strict=False) if a != 0.0)
        if c == 0.0:
            delayed = y_a
        elif c == 1.0:
            delayed = y_b
        else:
            delayed = _hermite(c, h, y_a, d_a, y_b, d_b_left)
        ks.append(system.vector_field(t_n + jnp.asarray(c * h, dtype), stage, delayed))
    y_next = y_n + h * sum(b * k for b, k in zip(tableau.b, ks, strict=True) if b != 0.0)
    d_next = system.vector_field(t_n + jnp.asarray(h, dtype), y_next, y_b)
    newest = jnp.stack([y_next, d_next])
    # t_{n+1} overwrites t_{n−m}; the next step reads t_{n+1}, t_{n+1−m} (this step's
    # t_n − τ + h) and t_{n+2−m}, in slot n + 3 (for m = 1 that is the slot just written).
    history = jax.lax.dynamic_update_index_in_dim(history, newest, (n + 1) % size, axis=0)
    window = jnp.stack([newest, window[2], _read(history, (n + 3) % size)])
    return history, window, (y_n, d_n, y_next, d_next)


def steps_per_delay(fn: str, system: AbstractDelay, dt) -> int:
    """m, the number of steps per delay: the smallest with τ/m ≤ dt (default `system.dt`)."""
    dt = check_number(fn, "dt", system.dt if dt is None else dt, minimum=0.0,
                      open_minimum=True)
    return max(1, math.ceil(system.tau / dt - 1e-9))


def check_method(fn: str, method) -> _Tableau:
    """The tableau of a Runge–Kutta scheme named by `method`."""
    return METHODS[check_choice(fn, "method", method, sorted(METHODS))]


def check_delay_system(fn: str, system) -> AbstractDelay:
    """Check the type; return `system` with its Python-number parameters as arrays
    (`array_parameters`), so that new parameter values do not recompile."""
    if not isinstance(system, AbstractDelay):
        raise TypeError(message(fn, "system", "an AbstractDelay (flows use integrate, maps "
                                "iterate)", f"a {type(system).__name__}"))
    return array_parameters(system)


def integrate_delay(system: AbstractDelay, y0: Real[ArrayLike, " d"],
                    ts: Real[ArrayLike, " n"], *, dt: float | None = None,
                    method: str = "rk4", throw: bool = True) -> Trajectory:
    """Integrate a delay system from the constant history y0 on [−τ, 0]; save it at `ts`.

    The method of steps with a fixed step h = τ/m, m = ⌈τ/dt⌉, so that h ≤ `dt` divides
    the delay: every grid step is an explicit Runge–Kutta step whose delayed values come
    from a ring buffer of the last m + 1 grid values and slopes, read at off-grid times
    through cubic Hermite interpolation (fourth-order accurate). The grid starts at t = 0;
    the states at `ts` come from the Hermite interpolant of the step that contains them
    (exact grid values where `ts` lies on the grid), so they keep the scheme's order.
    Integration runs from 0 to `ts[-1]`; a positive `ts[0]` makes [0, `ts[0]`) a transient.

    `ts` must be concrete (not traced): its last value fixes the number of steps. The
    function compiles once per (number of steps, m, length of `ts`, most saves in one step,
    method, system class and τ); new `y0`, parameters or shifted `ts` with the same step
    count reuse it. A step costs the same whatever m (the buffer is updated in place). It is
    `vmap`pable over `y0` and the system's parameters (all but τ) and differentiable in
    both. Precision follows `y0` (float32 by default, float64 when `y0` is float64).

    **Arguments:**

    - `system`: an `AbstractDelay`, e.g. `MackeyGlass()`.
    - `y0`: the initial value and constant history on [−τ, 0], shape `(d,)`.
    - `ts`: increasing save times, `ts[0] ≥ 0`, shape `(n,)`, n ≥ 1.
    - `dt`: the largest step allowed (default: `system.dt`); the step is τ/⌈τ/dt⌉.
    - `method`: the Runge–Kutta scheme: `"rk4"` (classic, order 4; default), `"rk3"`
      (Kutta, order 3), `"heun"` (order 2) or `"euler"` (order 1).
    - `throw`: raise (at run time) if the state becomes non-finite; with `throw=False`
      that is reported in `Trajectory.status` (`RESULTS.nonfinite`).

    **Returns:** a `Trajectory` with `ys` of shape `(n, d)` and `num_steps` the number of
    grid steps taken.

    **Raises:** `TypeError` if `system` is not a delay system, or for a non-real `y0`, `ts`
    or `dt`; `ValueError` for a `y0` of the wrong shape, a traced, non-increasing, negative
    or non-finite `ts`, a non-positive `dt` or an unknown `method`.

    **References:** Bellen & Zennaro, *Numerical Methods for Delay Differential Equations*
    (Oxford, 2003), for the method of steps and continuous Runge–Kutta extensions;
    Gilpin, *Chaos as an interpretable benchmark for forecasting and data-driven
    modelling* (NeurIPS 2021), for the systems.
    """
    fn = "integrate_delay"
    system = check_delay_system(fn, system)
    y0 = check_state(fn, system, y0)
    values = concrete_times(fn, ts)
    times = np.asarray(values, dtype=np.float64)
    if times.ndim != 1 or times.shape[0] < 1:
        raise ValueError(message(fn, "ts", "a 1-D array of at least 1 time",
                                 f"shape {shape_str(times)}"))
    if not np.all(np.isfinite(times)) or times[0] < 0:
        raise ValueError(message(fn, "ts", "finite and start at or after 0 (the history ends "
                                 "at 0)", f"ts[0] = {float(times[0])!r}"))
    if np.any(np.diff(times) <= 0):
        i = int(np.argmax(np.diff(times) <= 0))
        raise ValueError(message(fn, "ts", "strictly increasing",
                                 f"ts[{i}] = {float(times[i])!r} followed by "
                                 f"{float(times[i + 1])!r}"))
    tableau = check_method(fn, method)
    m = steps_per_delay(fn, system, dt)
    throw = check_bool(fn, "throw", throw)
    h = system.tau / m
    ratio = times / h
    num_steps = max(1, math.ceil(ratio[-1] - 1e-9 * max(1.0, ratio[-1])))
    step_of = np.clip(np.floor(ratio), 0, num_steps - 1).astype(np.int32)
    theta = np.clip(ratio - step_of, 0.0, 1.0)
    per_step = int(np.bincount(step_of).max())
    out = _integrate_delay(system, y0, jnp.asarray(times, y0.dtype), jnp.asarray(step_of),
                           jnp.asarray(theta, y0.dtype), tableau, m, num_steps, per_step)
    return check_field(fn, out, "ys", throw)


@eqx.filter_jit
def _integrate_delay(system, y0, ts, step_of, theta, tableau, m, num_steps, per_step):
    h = system.tau / m
    num_out = step_of.shape[0]
    lanes = jnp.arange(per_step, dtype=jnp.int32)

    def body(carry, _):
        history, window, n, out, done, ok = carry
        history, window, (y_n, d_n, y_next, d_next) = rk_step(system, tableau, m, h, n,
                                                               history, window)
        # The saves in this step are the next (at most `per_step`) ones not yet written.
        index = done + lanes
        safe = jnp.minimum(index, num_out - 1)
        hit = (index < num_out) & (step_of[safe] == n)
        dense = _hermite(theta[safe][:, None], h, y_n, d_n, y_next, d_next)
        out = out.at[jnp.where(hit, index, num_out)].set(dense, mode="drop")
        ok = ok & jnp.all(jnp.isfinite(y_next))
        return (history, window, n + 1, out, done + jnp.sum(hit, dtype=jnp.int32), ok), None

    out = jnp.zeros((num_out, y0.shape[0]), y0.dtype)
    history, start = initial_history(system, y0, m), jnp.array(0, jnp.int32)
    init = (history, window_of(history, start, m), start, out, jnp.array(0, jnp.int32),
            jnp.array(True))
    (_, _, _, out, _, ok), _ = jax.lax.scan(body, init, None, length=num_steps)
    status = status_where(ok, RESULTS.nonfinite)
    return Trajectory(ts=ts, ys=out, status=status, num_steps=jnp.asarray(num_steps, jnp.int32))


