"""The Lyapunov spectrum of a delay system: Benettin/QR on the history buffer of the
fixed-step solver (`lyapunov_spectrum` dispatches delay systems here)."""

import equinox as eqx
import jax
import jax.numpy as jnp

from .._core.checks import check_int, check_number
from .._core.results import RESULTS, check_field, status_where
from ._base import AbstractDelay, check_state
from ._dde import check_method, initial_history, rk_step, steps_per_delay, window_of
from ._qr import orthonormalise
from ._results import LyapunovResult

__all__ = ["delay_spectrum"]


def delay_spectrum(fn: str, system: AbstractDelay, y0, *, num_exponents, num_intervals,
                   interval, transient, dt, method, throw) -> LyapunovResult:
    """The leading Lyapunov exponents of a delay system (Benettin/QR).

    The state of a delay equation is its history on [t − τ, t], an infinite-dimensional
    object. It is discretised as the solver's buffer: the values and slopes at the m + 1
    grid points of the last delay (h = τ/m, as in `integrate_delay`), so one solver step is
    a map of (m + 1)·d values and (m + 1)·d slopes. `k` tangent vectors of that buffer,
    started as its first `k` unit vectors, are propagated with `jax.linearize` of the step
    and re-orthonormalised by QR every `interval`; λ_i = (1/T) Σ log R_ii. The slopes are
    functions of past values, so they add no spurious exponents at the top of the
    spectrum; the exponents converge to those of the delay equation as h → 0 (for a linear
    equation, the real parts of the roots of its characteristic equation). Early rows of
    `running` carry the bias of the initial tangent vectors (single grid points), which
    decays like 1/T. `system` has been checked (`check_delay_system`) by the caller.

    **References:** Farmer, *Chaotic attractors of an infinite-dimensional dynamical
    system*, Physica D 4, 366-393 (1982); Benettin, Galgani, Giorgilli & Strelcyn (1980),
    *Meccanica* 15, 9-30.
    """
    y0 = system.initial_state() if y0 is None else y0
    y0 = check_state(fn, system, y0)
    tableau = check_method(fn, "rk4" if method is None else method)
    m = steps_per_delay(fn, system, dt)
    h = system.tau / m
    size = (m + 1) * system.dimension
    k = system.dimension if num_exponents is None else num_exponents
    k = check_int(fn, "num_exponents", k, minimum=1, maximum=size)
    num_intervals = check_int(fn, "num_intervals", num_intervals, minimum=1)
    interval = system.period / 5 if interval is None else interval
    transient = 10 * system.period if transient is None else transient
    interval = check_number(fn, "interval", interval, minimum=0.0, open_minimum=True)
    transient = check_number(fn, "transient", transient, minimum=0.0)
    steps_per_interval = max(1, round(interval / h))
    transient_steps = round(transient / h)
    return check_field(fn, _delay_spectrum_jit(system, y0, tableau, m, k, num_intervals,
                                           steps_per_interval, transient_steps),
                   "exponents", throw)


@eqx.filter_jit
def _delay_spectrum_jit(system, y0, tableau, m, k, num_intervals, steps_per_interval,
                        transient_steps):
    h = system.tau / m
    dtype = y0.dtype

    def advance(carry, _):
        history, window, n, ok = carry
        history, window, (_, _, y_next, _) = rk_step(system, tableau, m, h, n, history,
                                                      window)
        return (history, window, n + 1, ok & jnp.all(jnp.isfinite(y_next))), None

    history, start = initial_history(system, y0, m), jnp.array(0, jnp.int32)
    init = (history, window_of(history, start, m), start, jnp.array(True))
    (history, window, n, ok), _ = jax.lax.scan(advance, init, None, length=transient_steps)

    def tangent_step(carry, _):
        history, window, n, tangents = carry
        (history, window), linear = jax.linearize(
            lambda state: rk_step(system, tableau, m, h, n, *state)[:2], (history, window))
        return (history, window, n + 1, jax.vmap(linear)(tangents)), None

    shape = history.shape  # (m + 1, 2, d): values and slopes of the last delay

    def tangent_windows(buffers, n):
        return jax.vmap(lambda b: window_of(b, n, m))(buffers)

    def body(carry, _):
        history, window, n, tangents, log_sum = carry
        (history, window, n, tangents), _ = jax.lax.scan(
            tangent_step, (history, window, n, tangents), None, length=steps_per_interval)
        # The tangent buffers hold the whole perturbation (the windows are copies of three
        # of their rows): orthonormalise them, then re-read the windows.
        q, logs = orthonormalise(tangents[0].reshape(k, -1).T)
        buffers = q.T.reshape(k, *shape)
        tangents = (buffers, tangent_windows(buffers, n))
        return (history, window, n, tangents, log_sum + logs), log_sum + logs

    # The first k unit vectors, in the order (slot, value/slope, component): single values.
    buffers = jnp.eye(k, history.size, dtype=dtype).reshape(k, *shape)
    init = (history, window, n, (buffers, tangent_windows(buffers, n)), jnp.zeros(k, dtype))
    (history, window, n, _, _), sums = jax.lax.scan(body, init, None, length=num_intervals)
    times = (steps_per_interval * h) * jnp.arange(1, num_intervals + 1, dtype=dtype)
    running = sums / times[:, None]
    final = window[0, 0]  # y at the last grid point
    ok = ok & jnp.all(jnp.isfinite(running[-1])) & jnp.all(jnp.isfinite(history))
    status = status_where(ok, RESULTS.nonfinite)
    return LyapunovResult(exponents=running[-1], running=running, times=times,
                          final_state=final, status=status)
