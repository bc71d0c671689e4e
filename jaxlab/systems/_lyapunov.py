"""Lyapunov spectra by the Benettin/QR method: flows, maps and (through `_delay_lyapunov`)
delay systems, with one public entry point; and the Kaplan–Yorke dimension."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Real

from .._core.checks import as_float_array, check_int, check_number, message, shape_str
from .._core.results import RESULTS, check_field, from_diffrax, status_where
from ._base import AbstractDelay, AbstractFlow, AbstractMap, AbstractSystem, check_state
from ._dde import check_delay_system
from ._delay_lyapunov import delay_spectrum
from ._integrate import (
    SystemField,
    check_solver_options,
    default_solver,
    default_tolerances,
    step_size_controller,
)
from ._qr import orthonormalise
from ._results import LyapunovResult

__all__ = ["kaplan_yorke_dimension", "lyapunov_spectrum"]


def lyapunov_spectrum(system: AbstractSystem, y0: Real[ArrayLike, " d"] | None = None, *,
                      num_exponents: int | None = None, num_intervals: int = 1000,
                      interval: float | int | None = None, transient: float | int | None = None,
                      rtol: float | None = None, atol: float | None = None,
                      solver: diffrax.AbstractSolver | None = None, max_steps: int = 100_000,
                      dt: float | None = None, method: str | None = None,
                      throw: bool = True) -> LyapunovResult:
    """Estimate the Lyapunov spectrum of a flow, a map or a delay system (Benettin/QR).

    `k` tangent vectors, started as the first `k` unit vectors, are propagated with the
    Jacobian of the system (`jax.linearize`, so no Jacobian is ever formed): for a flow,
    dQ/dt = J(t, y) Q is integrated together with y by diffrax; for a map,
    Q ← J(y_n) Q at every iteration. Every `interval` the tangent vectors are
    re-orthonormalised by QR, and λ_i = (1/T) Σ log R_ii.

    **Delay systems.** The state of a delay equation is its history on [t − τ, t], an
    infinite-dimensional object, discretised as the buffer of `integrate_delay`'s fixed-step
    solver: the values and slopes at the m + 1 grid points of the last delay (h = τ/m), so
    one solver step is a map of 2(m + 1)·d numbers whose tangent vectors are propagated with
    `jax.linearize` of the step. The slopes are functions of past values, so they add no
    spurious exponents at the top of the spectrum; the exponents converge to those of the
    delay equation as h → 0 (for a linear equation, the real parts of the roots of its
    characteristic equation). `dt` and `method` set the step and the scheme; `interval` and
    `transient` are rounded to whole steps. Early rows of `running` carry the bias of the
    initial tangent vectors (single grid points), which decays like 1/T.

    Use float64 (`jax_enable_x64` and a float64 `y0`) for accurate spectra: the sum of the
    exponents of a flow then matches the time-average of the divergence to ~1e-8.

    **Arguments:**

    - `system`: an `AbstractFlow`, `AbstractMap` or `AbstractDelay`.
    - `y0`: the initial state (delay systems: the value and constant history), shape `(d,)`
      (default: `system.initial_state()`); the precision follows it.
    - `num_exponents`: `k`, the number of leading exponents (default `d`): `1 ≤ k ≤ d` for
      flows and maps, `1 ≤ k ≤ (m + 1)·d` for delay systems.
    - `num_intervals`: how many re-orthonormalisations to average over (`m`).
    - `interval`: time between re-orthonormalisations for a flow or delay system (default
      `system.period / 5`), or iterations between them for a map (default 1).
    - `transient`: time (flow, delay; default `10 * system.period`) or iterations (map;
      default 1000) to run before measuring, so that `y0` reaches the attractor.
    - `rtol`, `atol`, `solver`, `max_steps`: as in `integrate` (flows only); `max_steps`
      bounds each interval's solve.
    - `dt`, `method`: the largest step and the Runge–Kutta scheme of the delay solver, as
      in `integrate_delay` (delay systems only; default `system.dt` and `"rk4"`).
    - `throw`: raise (at run time) if the result's status is a failure; with `throw=False`
      it is only reported in `LyapunovResult.status`. Flows fail when an ODE solve fails
      (diffrax's reason) or a tangent vector collapses (`tangent_collapsed`): when some
      |R_ii| falls below 1000·eps of its tangent vector's norm within one interval, i.e.
      when (λ_1 − λ_k)·interval approaches ln(1/(1000·eps)) (≈ 29 in float64, 9 in
      float32), so strongly dissipative flows (a large negative λ_k) need short intervals.
      Maps and delay systems fail (`nonfinite`) when the state or an exponent is not
      finite.

    **Returns:** a `LyapunovResult`; the averaging time is `num_intervals * interval`.

    **Raises:** `TypeError` for a system that is not a flow, map or delay system, or
    arguments of the wrong type (a non-integer `num_exponents`, `num_intervals` or map
    `interval`); `ValueError` for a `y0` of the wrong shape, `num_exponents` out of range,
    non-positive `num_intervals` or `interval`, a negative `transient`, or options that do
    not apply to the kind of system (`rtol`/`atol`/`solver` for maps and delay systems,
    `dt`/`method` for flows and maps).

    **References:** Benettin, Galgani, Giorgilli & Strelcyn (1980), *Meccanica* 15, 9-30;
    Farmer, *Chaotic attractors of an infinite-dimensional dynamical system*, Physica D 4,
    366-393 (1982), for delay equations; Gilpin, *Chaos as an interpretable benchmark for
    forecasting and data-driven modelling* (NeurIPS 2021) for the invariants of the
    catalogue.
    """
    fn = "lyapunov_spectrum"
    if not isinstance(system, (AbstractFlow, AbstractMap, AbstractDelay)):
        raise TypeError(message(fn, "system", "an AbstractFlow, AbstractMap or AbstractDelay",
                                f"a {type(system).__name__}"))
    rtol, atol, solver, max_steps, throw = check_solver_options(fn, rtol, atol, solver,
                                                                max_steps, throw)
    ode_options = {"rtol": rtol, "atol": atol, "solver": solver}
    delay_options = {"dt": dt, "method": method}
    if isinstance(system, AbstractDelay):
        _reject(fn, ode_options, "delay systems, which use a fixed-step Runge-Kutta scheme "
                "(set it with dt and method)")
        return delay_spectrum(fn, check_delay_system(fn, system), y0,
                              num_exponents=num_exponents, num_intervals=num_intervals,
                              interval=interval, transient=transient, dt=dt, method=method,
                              throw=throw)
    kind = "flows" if isinstance(system, AbstractFlow) else "maps"
    _reject(fn, delay_options, f"{kind} (they set the step of delay systems)")
    if isinstance(system, AbstractMap):
        _reject(fn, ode_options, "maps (nothing is integrated)")
    d = system.dimension
    y0 = system.initial_state() if y0 is None else y0
    y0 = check_state(fn, system, y0)
    k = check_int(fn, "num_exponents", d if num_exponents is None else num_exponents,
                  minimum=1, maximum=d)
    num_intervals = check_int(fn, "num_intervals", num_intervals, minimum=1)
    q0 = jnp.eye(d, k, dtype=y0.dtype)
    if isinstance(system, AbstractFlow):
        interval = system.period / 5 if interval is None else interval
        transient = 10 * system.period if transient is None else transient
        interval = check_number(fn, "interval", interval, minimum=0.0, open_minimum=True)
        transient = check_number(fn, "transient", transient, minimum=0.0)
        rtol, atol = default_tolerances(y0.dtype, rtol, atol)
        rtol, atol = jnp.asarray(rtol, y0.dtype), jnp.asarray(atol, y0.dtype)  # not static
        solver = default_solver(y0.dtype) if solver is None else solver
        return check_field(fn, _flow_spectrum_jit(system, y0, q0, num_intervals, interval,
                                              transient, rtol, atol, solver, max_steps),
                       "exponents", throw)
    interval = check_int(fn, "interval", 1 if interval is None else interval, minimum=1)
    transient = check_int(fn, "transient", 1000 if transient is None else transient,
                          minimum=0)
    return check_field(fn, _map_spectrum_jit(system, y0, q0, num_intervals, interval, transient),
                   "exponents", throw)


def _reject(fn: str, options: dict, where: str) -> None:
    given = [name for name, value in options.items() if value is not None]
    if given:
        raise ValueError(message(fn, " and ".join(given), f"None for {where}",
                                 ", ".join(f"{n}={options[n]!r}" for n in given)))


class _TangentField(eqx.Module):
    """d(y, Q)/dt = (f(t, y), J(t, y) Q), with J Q from `jax.linearize` (no Jacobian formed).

    The state is one flat array `concat(y, Q.ravel())` rather than a `(y, Q)` tuple: the
    implicit solvers (Kvaerno5 for stiff tangent dynamics) need a state whose Newton Jacobian
    is a plain matrix, and for the explicit ones the two are the same computation (diffrax's
    RMS error norm over a pytree equals the norm of its concatenation).
    """

    system: AbstractFlow
    d: int = eqx.field(static=True)
    k: int = eqx.field(static=True)

    def __call__(self, t, state, args):
        y, q = state[: self.d], state[self.d :].reshape(self.d, self.k)
        dy, jvp = jax.linearize(lambda x: self.system.vector_field(t, x), y)
        dq = jax.vmap(jvp, in_axes=1, out_axes=1)(q)
        return jnp.concatenate([dy, dq.ravel()])


@eqx.filter_jit
def _flow_spectrum_jit(system, y0, q0, num_intervals, interval, transient, rtol, atol, solver,
                       max_steps):
    controller = step_size_controller(solver, rtol, atol)
    dt0 = min(system.dt, interval)
    dtype = y0.dtype

    def solve(term, t0, t1, state):
        sol = diffrax.diffeqsolve(term, solver, t0=t0, t1=t1, dt0=dt0, y0=state,
                                  saveat=diffrax.SaveAt(t1=True), stepsize_controller=controller,
                                  max_steps=max_steps, throw=False)
        final = jax.tree_util.tree_map(lambda x: x[-1], sol.ys)
        return final, from_diffrax(sol.result)

    status0 = RESULTS.successful
    if transient > 0:
        y0, status0 = solve(diffrax.ODETerm(SystemField(system)), jnp.array(0.0, dtype),
                            jnp.array(transient, dtype), y0)
    d, k = q0.shape
    term = diffrax.ODETerm(_TangentField(system, d, k))
    t_start = jnp.asarray(transient, dtype)
    h = jnp.asarray(interval, dtype)

    def body(carry, i):
        y, q, log_sum, status, margin = carry
        t0 = t_start + i * h
        state, status_i = solve(term, t0, t0 + h, jnp.concatenate([y, q.ravel()]))
        y, q = state[:d], state[d:].reshape(d, k)
        log_norms = jnp.log(jnp.linalg.norm(q, axis=0))
        q, logs = orthonormalise(q)
        # log(|R_ii| / |q_i|): how much of tangent vector i survives projection onto the
        # others. R_ii carries an absolute rounding error of ~eps·|q_i|.
        margin = jnp.minimum(margin, jnp.min(logs - log_norms))
        log_sum = log_sum + logs
        # the first failure's reason is kept
        status = RESULTS.where(status == RESULTS.successful, status_i, status)
        return (y, q, log_sum, status, margin), log_sum

    init = (y0, q0, jnp.zeros(q0.shape[1], dtype), status0, jnp.zeros((), dtype))
    (y, _, _, status, margin), sums = jax.lax.scan(body, init,
                                                   jnp.arange(num_intervals, dtype=dtype))
    times = h * jnp.arange(1, num_intervals + 1, dtype=dtype)
    running = sums / times[:, None]
    exponents = running[-1]
    # A tangent vector that collapses onto the others within one interval (when
    # (λ_1 − λ_k)·interval approaches ln(1/eps), 36 in float64) leaves an R_ii made of
    # rounding error (or 0: log 0 = −inf). Below 1000·eps of its column's norm, R_ii has
    # lost more than 0.1% and the interval is too long.
    lost = margin < jnp.log(1000 * jnp.finfo(dtype).eps)
    collapsed = lost | jnp.logical_not(jnp.all(jnp.isfinite(exponents)))
    status = RESULTS.where((status == RESULTS.successful) & collapsed,
                           RESULTS.tangent_collapsed, status)
    return LyapunovResult(exponents=exponents, running=running, times=times, final_state=y,
                          status=status)


@eqx.filter_jit
def _map_spectrum_jit(system, y0, q0, num_intervals, interval, transient):
    def advance(y, _):
        return system.step(y), None

    y, _ = jax.lax.scan(advance, y0, None, length=transient)

    def tangent_step(state, _):
        y, q = state
        y_next, jvp = jax.linearize(system.step, y)
        return (y_next, jax.vmap(jvp, in_axes=1, out_axes=1)(q)), None

    def body(carry, _):
        y, q, log_sum = carry
        (y, q), _ = jax.lax.scan(tangent_step, (y, q), None, length=interval)
        q, logs = orthonormalise(q)
        log_sum = log_sum + logs
        return (y, q, log_sum), log_sum

    init = (y, q0, jnp.zeros(q0.shape[1], y0.dtype))
    (y, _, _), sums = jax.lax.scan(body, init, None, length=num_intervals)
    times = interval * jnp.arange(1, num_intervals + 1, dtype=y0.dtype)
    running = sums / times[:, None]
    status = status_where(jnp.all(jnp.isfinite(running[-1])), RESULTS.nonfinite)
    return LyapunovResult(exponents=running[-1], running=running, times=times, final_state=y,
                          status=status)


def kaplan_yorke_dimension(exponents: Real[ArrayLike, " k"]) -> Float[Array, ""]:
    """The Kaplan–Yorke (Lyapunov) dimension of a spectrum.

    D_KY = j + (λ_1 + … + λ_j) / |λ_{j+1}|, where j is the largest index with
    λ_1 + … + λ_j ≥ 0 (exponents sorted in decreasing order). D_KY = 0 if λ_1 < 0 and
    D_KY = k if every partial sum is non-negative.

    **Arguments:**

    - `exponents`: a Lyapunov spectrum, shape `(k,)`, any order.

    **Returns:** the dimension, a scalar.

    **Raises:** `TypeError` for a non-real array; `ValueError` if `exponents` is not a
    non-empty 1-D array.

    **References:** Kaplan & Yorke (1979), *Chaotic behavior of multidimensional difference
    equations*, Lecture Notes in Mathematics 730.
    """
    fn = "kaplan_yorke_dimension"
    lam = as_float_array(fn, "exponents", exponents)
    if lam.ndim != 1 or lam.shape[0] == 0:
        raise ValueError(message(fn, "exponents", "a non-empty 1-D array",
                                 f"shape {shape_str(lam)}"))
    lam = jnp.sort(lam)[::-1]
    partial = jnp.cumsum(lam)
    j = jnp.sum(jnp.cumprod(partial >= 0))
    k = lam.shape[0]
    inside = jnp.clip(j, 1, k - 1) if k > 1 else 0
    fraction = partial[jnp.maximum(inside - 1, 0)] / jnp.abs(lam[inside])
    return jnp.where(j == 0, 0.0, jnp.where(j == k, float(k), j + fraction)).astype(lam.dtype)
