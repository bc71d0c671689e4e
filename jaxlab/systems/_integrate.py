"""Integrating a flow (or any vector field) with diffrax, and iterating a map."""

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Real

from .._core.checks import (
    as_float_array,
    check_bool,
    check_instance,
    check_int,
    check_number,
    concrete_values,
    message,
    shape_str,
)
from .._core.results import RESULTS, check_field, from_diffrax
from ._base import AbstractDelay, AbstractFlow, AbstractMap, AbstractSDE, check_state
from ._results import Trajectory

__all__ = ["integrate", "iterate"]


def default_solver(dtype) -> diffrax.AbstractAdaptiveSolver:
    """Tsit5 in float32; the 8th-order Dormand–Prince pair when float64 accuracy is wanted."""
    return diffrax.Dopri8() if dtype == jnp.float64 else diffrax.Tsit5()


def default_tolerances(dtype, rtol, atol) -> tuple[float, float]:
    """`(rtol, atol)`, each defaulting to 1e-6/1e-8 in float32 and 1e-10/1e-12 in float64."""
    f64 = dtype == jnp.float64
    rtol = (1e-10 if f64 else 1e-6) if rtol is None else rtol
    atol = (1e-12 if f64 else 1e-8) if atol is None else atol
    return rtol, atol


def check_solver_options(fn: str, rtol, atol, solver, max_steps, throw):
    """The ODE options shared by `integrate`, `trajectory` and `lyapunov_spectrum`."""
    rtol = check_number(fn, "rtol", rtol, minimum=0.0, open_minimum=True, none_ok=True)
    atol = check_number(fn, "atol", atol, minimum=0.0, open_minimum=True, none_ok=True)
    if solver is not None:
        check_instance(fn, "solver", solver, diffrax.AbstractSolver, "a diffrax solver")
    max_steps = check_int(fn, "max_steps", max_steps, minimum=1)
    throw = check_bool(fn, "throw", throw)
    return rtol, atol, solver, max_steps, throw


def step_size_controller(solver, rtol, atol):
    """A PID controller for adaptive solvers, constant steps otherwise."""
    if isinstance(solver, diffrax.AbstractAdaptiveSolver):
        return diffrax.PIDController(rtol=rtol, atol=atol)
    return diffrax.ConstantStepSize()


class SystemField(eqx.Module):
    """`system.vector_field` as a diffrax term function.

    A Module rather than a closure so that jit caches hit for equal systems: two calls
    with the same system class and shapes compile once.
    """

    system: AbstractFlow

    def __call__(self, t, y, args):
        return self.system.vector_field(t, y)


class PlainField(eqx.Module):
    """A user's vector field `f(t, y)` as a diffrax term function. A function is a static
    leaf (the compilation is reused while the same function object is passed); an
    `eqx.Module` is a pytree whose arrays are traced."""

    field: Callable

    def __call__(self, t, y, args):
        return self.field(t, y)


def integrate(system: AbstractFlow | Callable, y0: Real[ArrayLike, " d"],
              ts: Real[ArrayLike, " n"], *, rtol: float | None = None,
              atol: float | None = None, solver: diffrax.AbstractSolver | None = None,
              dt0: float | None = None, max_steps: int = 1_000_000,
              throw: bool = True) -> Trajectory:
    """Integrate a flow, or a plain vector field f(t, y), with diffrax; save the state at `ts`.

    The precision follows `y0`: float32 by default, float64 when `y0` is float64 (enable
    `jax_enable_x64`); integer `y0` is promoted to the default float. Tolerances default to
    1e-6/1e-8 in float32 and 1e-10/1e-12 in float64; the solver defaults to `Tsit5`
    (float32) or `Dopri8` (float64), with a PID step-size controller.

    **A plain vector field** `f(t, y) -> dy/dt` (a function or an `eqx.Module`) is
    integrated exactly like a system's: it has no metadata, so the defaults above do not
    need any, and the first step is chosen by diffrax's initial-step heuristic (Hairer,
    Nørsett & Wanner, §II.4) unless `dt0` is given; a non-adaptive solver then needs
    `dt0`. The compiled solve is reused while the same function object (or a Module of the
    same structure) is passed: define the function once rather than a new `lambda` per call.

    **Arguments:**

    - `system`: an `AbstractFlow` (e.g. `Lorenz()`), or a callable `f(t, y)` returning
      dy/dt of the shape of `y`.
    - `y0`: the initial state at `ts[0]`, shape `(d,)`.
    - `ts`: increasing save times, shape `(n,)`, n ≥ 2; integration runs `ts[0] → ts[-1]`.
    - `rtol`, `atol`: tolerances of the PID step-size controller (positive).
    - `solver`: any diffrax solver (a non-adaptive one steps by `dt0`).
    - `dt0`: the initial step (default: `system.dt` for a system, diffrax's heuristic for a
      plain vector field).
    - `max_steps`: the solver's step budget.
    - `throw`: raise (at run time, inside `jit` too) if the solve fails; with `throw=False`
      a failure is only reported in `Trajectory.status` and the unreached states are `inf`.

    **Returns:** a `Trajectory` with `ys` of shape `(n, d)`; its `status` is diffrax's
    (`max_steps_reached`, ...) promoted to `jaxlab.RESULTS`, or `nonfinite` when a
    fixed-step solve overflowed.

    **Raises:** `TypeError` if `system` is a map, a delay system or an SDE (use `iterate`,
    `integrate_delay`, `simulate_sde`) or not callable, or for a non-real `y0`/`ts`;
    `ValueError` for a `y0` of the wrong shape, `ts` that is not a 1-D strictly increasing
    array of length ≥ 2, non-positive tolerances or `dt0`, or a non-adaptive solver
    without `dt0` for a plain vector field.

    **References:** Kidger, *On Neural Differential Equations* (2022), for diffrax.
    """
    fn = "integrate"
    if isinstance(system, AbstractFlow):
        y0 = check_state(fn, system, y0)
        field = SystemField(system)
    elif isinstance(system, (AbstractMap, AbstractDelay, AbstractSDE)):
        use = {AbstractMap: "iterate", AbstractDelay: "integrate_delay",
               AbstractSDE: "simulate_sde"}
        other = next(v for k, v in use.items() if isinstance(system, k))
        raise TypeError(message(fn, "system", f"an AbstractFlow or a vector field f(t, y) "
                                f"({type(system).__name__} is solved by {other})",
                                f"a {type(system).__name__}"))
    elif callable(system):
        y0 = as_float_array(fn, "y0", y0, ndim=1)
        field = PlainField(system)
    else:
        raise TypeError(message(fn, "system", "an AbstractFlow or a vector field f(t, y)",
                                f"a {type(system).__name__}"))
    ts = check_times(fn, ts, y0.dtype)
    rtol, atol, solver, max_steps, throw = check_solver_options(fn, rtol, atol, solver,
                                                                max_steps, throw)
    dt0 = check_number(fn, "dt0", dt0, minimum=0.0, open_minimum=True, none_ok=True)
    rtol, atol = default_tolerances(y0.dtype, rtol, atol)
    solver = default_solver(y0.dtype) if solver is None else solver
    if dt0 is None:
        if isinstance(field, SystemField):
            dt0 = system.dt
        elif not isinstance(solver, diffrax.AbstractAdaptiveSolver):
            raise ValueError(message(fn, "dt0", "given for a non-adaptive solver and a plain "
                                     "vector field (it has no step-size hint)", None))
    # Tolerances and the first step as arrays: new values reuse the compiled solve.
    rtol, atol = jnp.asarray(rtol, y0.dtype), jnp.asarray(atol, y0.dtype)
    dt0 = None if dt0 is None else jnp.asarray(dt0, y0.dtype)
    return check_field(fn, _integrate(field, y0, ts, rtol, atol, solver, dt0, max_steps), "ys",
                   throw)


def check_times(fn: str, ts, dtype) -> Array:
    """`ts` as a 1-D strictly increasing array of at least two times, of `dtype` (the
    monotonicity is checked when the values are concrete)."""
    ts = as_float_array(fn, "ts", ts)
    if ts.ndim != 1 or ts.shape[0] < 2:
        raise ValueError(message(fn, "ts", "a 1-D array of at least 2 times",
                                 f"shape {shape_str(ts)}"))
    ts = ts.astype(dtype)
    values = concrete_values(ts)
    if values is not None:
        steps = np.diff(values)
        if not np.all(steps > 0):
            i = int(np.argmax(~(steps > 0)))
            raise ValueError(message(fn, "ts", "strictly increasing",
                                     f"ts[{i}] = {float(values[i])!r} followed by "
                                     f"{float(values[i + 1])!r}"))
    return ts


@eqx.filter_jit
def _integrate(field, y0, ts, rtol, atol, solver, dt0, max_steps):
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(field), solver, t0=ts[0], t1=ts[-1], dt0=dt0, y0=y0,
        saveat=diffrax.SaveAt(ts=ts), stepsize_controller=step_size_controller(solver, rtol, atol),
        max_steps=max_steps, throw=False,
    )
    status = finite_status(from_diffrax(sol.result), sol.ys)
    return Trajectory(ts=sol.ts, ys=sol.ys, status=status, num_steps=sol.stats["num_steps"])


def finite_status(status: RESULTS, ys) -> RESULTS:
    """`status`, or `RESULTS.nonfinite` where it is successful but `ys` is not finite."""
    bad = (status == RESULTS.successful) & jnp.logical_not(jnp.all(jnp.isfinite(ys)))
    return RESULTS.where(bad, RESULTS.nonfinite, status)


def iterate(system: AbstractMap, y0: Real[ArrayLike, " d"], n: int) -> Float[Array, "m d"]:
    """Iterate a map `n` times from `y0`.

    **Arguments:**

    - `system`: an `AbstractMap`, e.g. `Henon()`.
    - `y0`: the initial state, shape `(d,)`.
    - `n`: the number of iterations (static, ≥ 0).

    **Returns:** the orbit `y_0, …, y_n`, shape `(n + 1, d)`.

    **Raises:** `TypeError` if `system` is not a map or `n` not an int; `ValueError` for a
    `y0` of the wrong shape or a negative `n`.
    """
    fn = "iterate"
    if not isinstance(system, AbstractMap):
        raise TypeError(message(fn, "system", "an AbstractMap (flows use integrate)",
                                f"a {type(system).__name__}"))
    y0 = check_state(fn, system, y0)
    n = check_int(fn, "n", n, minimum=0)
    return _iterate(system, y0, n)


@eqx.filter_jit
def _iterate(system, y0, n):
    def body(y, _):
        y_next = system.step(y)
        return y_next, y_next

    _, ys = jax.lax.scan(body, y0, None, length=n)
    return jnp.concatenate([y0[None], ys])
