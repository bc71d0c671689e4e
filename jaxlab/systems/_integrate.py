import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from ._base import AbstractFlow, AbstractMap


class Trajectory(eqx.Module):
    """A solved trajectory with its diagnostics.

    **Fields:**

    - `ts`: save times, shape `(n,)`.
    - `ys`: states at `ts`, shape `(n, d)`.
    - `converged`: whether the solver reached the final time without failing.
    - `num_steps`: accepted + rejected solver steps taken.
    """

    ts: Float[Array, " n"]
    ys: Float[Array, "n d"]
    converged: Bool[Array, ""]
    num_steps: Int[Array, ""]


def check_state(fn: str, system, y0) -> Array:
    """Validate `y0` against `system` statically; return it as a float array."""
    y0 = jnp.asarray(y0)
    if not jnp.issubdtype(y0.dtype, jnp.floating):
        y0 = y0.astype(jnp.result_type(float))
    if y0.shape != (system.dimension,):
        raise ValueError(f"{fn}: y0 must have shape ({system.dimension},) for "
                         f"{type(system).__name__}, got shape {y0.shape}")
    return y0


def default_solver(y_dtype) -> diffrax.AbstractAdaptiveSolver:
    """Tsit5 in float32; the 8th-order Dormand–Prince pair when float64 accuracy is wanted."""
    return diffrax.Dopri8() if y_dtype == jnp.float64 else diffrax.Tsit5()


def integrate(system: AbstractFlow, y0: Float[ArrayLike, " d"], ts: Float[ArrayLike, " n"], *,
              rtol: float | None = None, atol: float | None = None,
              solver: diffrax.AbstractSolver | None = None, dt0: float | None = None,
              max_steps: int = 1_000_000, throw: bool = True) -> Trajectory:
    """Integrate a flow with an adaptive diffrax solver and save the state at `ts`.

    The precision follows `y0`: float32 by default, float64 when `y0` is float64 (enable
    `jax_enable_x64`). Tolerances default to 1e-6/1e-8 in float32 and 1e-10/1e-12 in
    float64; the solver defaults to `Tsit5` (float32) or `Dopri8` (float64).

    **Arguments:**

    - `system`: an `AbstractFlow`, e.g. `Lorenz()`.
    - `y0`: the initial state at `ts[0]`, shape `(d,)`.
    - `ts`: increasing save times, shape `(n,)`, n ≥ 2; integration runs `ts[0] → ts[-1]`.
    - `rtol`, `atol`: tolerances of the PID step-size controller.
    - `solver`: any diffrax solver (a non-adaptive one needs `dt0`).
    - `dt0`: the initial step (default: `system.dt`).
    - `max_steps`: the solver's step budget.
    - `throw`: raise (inside `jit`, via `eqx.error_if`) if the solve fails; with
      `throw=False` a failure is reported in `Trajectory.converged` and the unreached
      states are `inf`.

    **Returns:** a `Trajectory` with `ys` of shape `(n, d)`.

    **Raises:** `TypeError` if `system` is not a flow; `ValueError` for a `y0` of the wrong
    shape or `ts` that is not a 1-D increasing array of length ≥ 2.

    **References:** Kidger, *On Neural Differential Equations* (2022), for diffrax.
    """
    if not isinstance(system, AbstractFlow):
        raise TypeError(f"integrate: system must be an AbstractFlow (maps use iterate), "
                        f"got {type(system).__name__}")
    y0 = check_state("integrate", system, y0)
    ts = jnp.asarray(ts, dtype=y0.dtype)
    if ts.ndim != 1 or ts.shape[0] < 2:
        raise ValueError(f"integrate: ts must be a 1-D array of at least 2 times, got shape "
                         f"{ts.shape}")
    if not isinstance(ts, jax.core.Tracer) and np.any(np.diff(np.asarray(ts)) <= 0):
        raise ValueError("integrate: ts must be strictly increasing")
    f64 = y0.dtype == jnp.float64
    rtol = (1e-10 if f64 else 1e-6) if rtol is None else rtol
    atol = (1e-12 if f64 else 1e-8) if atol is None else atol
    solver = default_solver(y0.dtype) if solver is None else solver
    dt0 = system.dt if dt0 is None else dt0
    return _integrate(system, y0, ts, rtol, atol, solver, dt0, max_steps, throw)


class VectorField(eqx.Module):
    """`system.vector_field` as a diffrax term function.

    A Module rather than a closure so that jit caches hit for equal systems: two calls
    with the same system class and shapes compile once.
    """

    system: AbstractFlow

    def __call__(self, t, y, args):
        return self.system.vector_field(t, y)


def step_size_controller(solver, rtol, atol):
    """A PID controller for adaptive solvers, constant steps otherwise."""
    if isinstance(solver, diffrax.AbstractAdaptiveSolver):
        return diffrax.PIDController(rtol=rtol, atol=atol)
    return diffrax.ConstantStepSize()


@eqx.filter_jit
def _integrate(system, y0, ts, rtol, atol, solver, dt0, max_steps, throw):
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(VectorField(system)), solver, t0=ts[0], t1=ts[-1], dt0=dt0, y0=y0,
        saveat=diffrax.SaveAt(ts=ts), stepsize_controller=step_size_controller(solver, rtol, atol),
        max_steps=max_steps, throw=throw,
    )
    return Trajectory(ts=sol.ts, ys=sol.ys, converged=sol.result == diffrax.RESULTS.successful,
                      num_steps=sol.stats["num_steps"])


def iterate(system: AbstractMap, y0: Float[ArrayLike, " d"], n: int) -> Float[Array, "m d"]:
    """Iterate a map `n` times from `y0`.

    **Arguments:**

    - `system`: an `AbstractMap`, e.g. `Henon()`.
    - `y0`: the initial state, shape `(d,)`.
    - `n`: the number of iterations (static, ≥ 0).

    **Returns:** the orbit `y_0, …, y_n`, shape `(n + 1, d)`.

    **Raises:** `TypeError` if `system` is not a map; `ValueError` for a bad `y0` or `n`.
    """
    if not isinstance(system, AbstractMap):
        raise TypeError(f"iterate: system must be an AbstractMap (flows use integrate), "
                        f"got {type(system).__name__}")
    y0 = check_state("iterate", system, y0)
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"iterate: n must be a non-negative int, got {n!r}")

    return _iterate(system, y0, n)


@eqx.filter_jit
def _iterate(system, y0, n):
    def body(y, _):
        y_next = system.step(y)
        return y_next, y_next

    _, ys = jax.lax.scan(body, y0, None, length=n)
    return jnp.concatenate([y0[None], ys])
