import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from ._base import AbstractDelay, AbstractFlow, AbstractMap


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


class _AdditiveNoise(eqx.Module):
    scale: Array

    def __call__(self, t, y, args):
        return lx.DiagonalLinearOperator(self.scale * jnp.ones_like(y))


@eqx.filter_jit
def _integrate_noisy(system, y0, ts, noise, dt, key, max_steps):
    # Fixed steps, so the O(1)-per-step UnsafeBrownianPath is exact here; a
    # VirtualBrownianTree would cost a tree descent per step (~10x slower).
    bm = diffrax.UnsafeBrownianPath(shape=y0.shape, key=key)
    terms = diffrax.MultiTerm(diffrax.ODETerm(VectorField(system)),
                              diffrax.ControlTerm(_AdditiveNoise(noise), bm))
    sol = diffrax.diffeqsolve(terms, diffrax.Heun(), t0=ts[0], t1=ts[-1], dt0=dt, y0=y0,
                              saveat=diffrax.SaveAt(ts=ts), max_steps=max_steps, throw=False,
                              adjoint=diffrax.ForwardMode())
    return Trajectory(ts=sol.ts, ys=sol.ys, converged=sol.result == diffrax.RESULTS.successful,
                      num_steps=sol.stats["num_steps"])


def trajectory(system, n: int, *, pts_per_period: int = 100, resample: bool = True,
               y0: Float[ArrayLike, " d"] | None = None, transient: float | int = 0.0,
               noise: float = 0.0, standardize: bool = False, key=None,
               rtol: float | None = None, atol: float | None = None,
               solver: diffrax.AbstractSolver | None = None, max_steps: int = 10_000_000,
               throw: bool = True) -> Trajectory:
    """A trajectory of `n` points, sampled as dysts's `make_trajectory` does.

    Flows and delay systems (solved by `integrate_delay`, from the constant history `y0`)
    are resampled to `pts_per_period` points per dominant period (`system.period`),
    so every system of the catalogue is seen at the same resolution: the time span is
    `period · n / pts_per_period`. Maps are iterated `n` times.

    **Arguments:**

    - `system`: a flow or a map of the catalogue (or your own).
    - `n`: the number of points (≥ 2).
    - `pts_per_period`: points per dominant period when `resample` (flows).
    - `resample`: if `False`, sample flows every `system.dt` instead.
    - `y0`: the initial state (default: `system.initial_state()`, which lies on the attractor).
    - `transient`: periods (flows) or iterations (maps) discarded before sampling starts.
    - `noise`: standard deviation of additive white noise in the dynamics: the flow becomes
      the SDE dy = f(t, y) dt + noise · dW, solved with diffrax's Heun scheme at the
      system's step `dt` (needs `key`). Maps get `noise · N(0, 1)` added at each iteration.
      Noisy flows are differentiable in forward mode only (the Brownian path is sampled
      step by step).
    - `standardize`: rescale each coordinate to zero mean and unit variance.
    - `key`: a PRNG key, required when `noise > 0`.
    - `rtol`, `atol`, `solver`, `max_steps`, `throw`: as in `integrate` (noise-free flows).

    **Returns:** a `Trajectory` with `ys` of shape `(n, d)`.

    **Raises:** `ValueError` for `n < 2`, non-positive `pts_per_period`, negative `noise`
    or `transient`, or `noise > 0` without a `key`; `TypeError` for an unknown system type.

    **References:** Gilpin, *Chaos as an interpretable benchmark for forecasting and
    data-driven modelling* (NeurIPS 2021), section on time normalisation.
    """
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"trajectory: n must be an int ≥ 2, got {n!r}")
    if not isinstance(pts_per_period, int) or pts_per_period < 1:
        raise ValueError(f"trajectory: pts_per_period must be a positive int, got "
                         f"{pts_per_period!r}")
    if noise < 0:
        raise ValueError(f"trajectory: noise must be ≥ 0, got {noise!r}")
    if transient < 0:
        raise ValueError(f"trajectory: transient must be ≥ 0, got {transient!r}")
    if noise > 0 and key is None:
        raise ValueError("trajectory: noise > 0 needs a PRNG key (key=jax.random.key(...))")
    y0 = system.initial_state() if y0 is None else y0
    if isinstance(system, AbstractMap):
        if not float(transient).is_integer():
            raise ValueError(f"trajectory: transient of a map counts iterations, got "
                             f"{transient!r}")
        y0 = check_state("trajectory", system, y0)
        skip = int(transient)
        if noise > 0:
            kicks = noise * jax.random.normal(key, (skip + n - 1, system.dimension), y0.dtype)
            ys = _iterate_noisy(system, y0, kicks)[skip:]
        else:
            ys = iterate(system, y0, skip + n - 1)[skip:]
        ts = jnp.arange(n, dtype=ys.dtype)
        out = Trajectory(ts=ts, ys=ys, converged=jnp.all(jnp.isfinite(ys)),
                         num_steps=jnp.asarray(skip + n - 1))
    elif isinstance(system, AbstractFlow):
        y0 = check_state("trajectory", system, y0)
        span = system.period * n / pts_per_period if resample else system.dt * (n - 1)
        t0 = transient * system.period
        ts = jnp.linspace(t0, t0 + span, n, dtype=y0.dtype)
        if t0 > 0:
            y0 = integrate(system, y0, jnp.array([0.0, t0], y0.dtype), rtol=rtol, atol=atol,
                           solver=solver, max_steps=max_steps, throw=throw).ys[-1]
        if noise > 0:
            out = _integrate_noisy(system, y0, ts, jnp.asarray(noise, y0.dtype), system.dt,
                                   key, max_steps)
            if throw:
                out = eqx.error_if(out, ~out.converged,
                                   "trajectory: the SDE solver failed; raise max_steps")
        else:
            out = integrate(system, y0, ts, rtol=rtol, atol=atol, solver=solver,
                            max_steps=max_steps, throw=throw)
    elif isinstance(system, AbstractDelay):
        if noise > 0:
            raise ValueError("trajectory: noise is not supported for delay systems, got "
                             f"noise={noise!r}")
        from ._delay import integrate_delay  # _delay imports this module

        y0 = check_state("trajectory", system, y0)
        span = system.period * n / pts_per_period if resample else system.dt * (n - 1)
        t0 = transient * system.period
        out = integrate_delay(system, y0, np.linspace(t0, t0 + span, n), throw=throw)
    else:
        raise TypeError(f"trajectory: system must be an AbstractFlow, AbstractMap or "
                        f"AbstractDelay, got {type(system).__name__}")
    if standardize:
        ys = out.ys
        ys = (ys - ys.mean(axis=0)) / ys.std(axis=0)
        out = eqx.tree_at(lambda tr: tr.ys, out, ys)
    return out


@eqx.filter_jit
def _iterate_noisy(system, y0, kicks):
    def body(y, kick):
        y_next = system.step(y) + kick
        return y_next, y_next

    _, ys = jax.lax.scan(body, y0, kicks)
    return jnp.concatenate([y0[None], ys])
