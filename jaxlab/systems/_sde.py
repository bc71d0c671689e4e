"""Simulating an SDE on a fixed grid with diffrax (Itô Euler–Maruyama by default)."""

import math

import diffrax
import equinox as eqx
import lineax as lx
import numpy as np
from jaxtyping import ArrayLike, PRNGKeyArray, Real

from .._core.brownian import GridBrownianPath
from .._core.checks import (
    check_bool,
    check_instance,
    check_key,
    check_number,
)
from .._core.results import check_field, from_diffrax
from ._base import AbstractSDE, array_parameters, check_state, concrete_times
from ._integrate import check_times, finite_status
from ._results import Trajectory

__all__ = ["simulate_sde"]


class _Drift(eqx.Module):
    system: AbstractSDE

    def __call__(self, t, y, args):
        return self.system.drift(t, y)


class _Diffusion(eqx.Module):
    """g(t, y) as a diffrax control term's vector field: a diagonal operator for a vector
    (diagonal noise), the matrix itself otherwise."""

    system: AbstractSDE

    def __call__(self, t, y, args):
        g = self.system.diffusion(t, y)
        return lx.DiagonalLinearOperator(g) if g.ndim == 1 else g


def simulate_sde(system: AbstractSDE, y0: Real[ArrayLike, " d"], ts: Real[ArrayLike, " n"],
                 *, dt: float, key: PRNGKeyArray, solver: diffrax.AbstractSolver | None = None,
                 throw: bool = True) -> Trajectory:
    """Simulate one path of an SDE with a fixed step, saving it at `ts`.

    The interval `[ts[0], ts[-1]]` is cut into `steps = ⌈(ts[-1] − ts[0]) / dt⌉` equal steps
    of h = (ts[-1] − ts[0]) / steps ≤ `dt` (`diffrax.StepTo`), driven by the Brownian path
    `jaxlab.de.GridBrownianPath(ts[0], ts[-1], steps, system.noise_shape, key=key)`: its
    increments over the steps are exact N(0, h) draws, made up front, so a step costs one
    drift and one diffusion evaluation. The default solver, `diffrax.Euler()`, is the Itô
    Euler–Maruyama scheme (strong order 1/2, weak order 1; strong order 1 for additive
    noise). Save times on the step grid get the solver's state there; a save time between
    grid points gets diffrax's linear interpolation of its step.

    One call is one path: `jax.vmap` over keys (and initial states, parameters) for an
    ensemble. `ts` must be concrete (its span fixes the number of steps); the compilation
    is reused for new initial states, keys and parameter values. Precision follows `y0`.

    **Arguments:**

    - `system`: an `AbstractSDE`, e.g. `TimeDependentOU()`.
    - `y0`: the initial state at `ts[0]`, shape `(d,)`.
    - `ts`: increasing save times, shape `(n,)`, n ≥ 2.
    - `dt`: the largest step (a positive number); the step is h ≤ `dt` as above.
    - `key`: a PRNG key for the Brownian path.
    - `solver`: a diffrax solver that uses Brownian increments only (`Euler`, the Itô
      default; `Heun` or `ReversibleHeun` for the Stratonovich interpretation; `ItoMilstein`,
      `StratonovichMilstein`); not the solvers that need Lévy areas (`SRA1`, `ShARK`, ...).
    - `throw`: raise (at run time) if the state becomes non-finite; with `throw=False` it
      is reported in `Trajectory.status` (`RESULTS.nonfinite`).

    **Returns:** a `Trajectory` with `ys` of shape `(n, d)` and `num_steps` = `steps`.

    **Raises:** `TypeError` if `system` is not an `AbstractSDE`, `key` not a PRNG key or
    `solver` not a diffrax solver; `ValueError` for a `y0` of the wrong shape, traced or
    non-increasing `ts`, or a non-positive `dt`.

    **References:** Kloeden & Platen, *Numerical Solution of Stochastic Differential
    Equations* (Springer, 1992), §9-10 (Euler–Maruyama, its orders); Kidger, *On Neural
    Differential Equations* (2022), for diffrax.
    """
    fn = "simulate_sde"
    check_instance(fn, "system", system, AbstractSDE)
    y0 = check_state(fn, system, y0)
    times = concrete_times(fn, ts)
    ts = check_times(fn, ts, y0.dtype)
    dt = check_number(fn, "dt", dt, minimum=0.0, open_minimum=True)
    key = check_key(fn, key)
    if solver is None:
        solver = diffrax.Euler()
    check_instance(fn, "solver", solver, diffrax.AbstractSolver, "a diffrax solver")
    throw = check_bool(fn, "throw", throw)
    span = float(np.asarray(times, np.float64)[-1] - np.asarray(times, np.float64)[0])
    steps = max(1, math.ceil(span / dt * (1 - 1e-12)))
    return check_field(fn, _simulate(array_parameters(system), y0, ts, steps, key, solver), "ys",
                   throw)


@eqx.filter_jit
def _simulate(system, y0, ts, steps, key, solver):
    t0, t1 = ts[0], ts[-1]
    path = GridBrownianPath(t0, t1, steps, system.noise_shape, key=key, dtype=y0.dtype)
    grid = path.grid.at[0].set(t0).at[-1].set(t1)
    terms = diffrax.MultiTerm(diffrax.ODETerm(_Drift(system)),
                              diffrax.ControlTerm(_Diffusion(system), path))
    sol = diffrax.diffeqsolve(terms, solver, t0=t0, t1=t1, dt0=None, y0=y0,
                              saveat=diffrax.SaveAt(ts=ts),
                              stepsize_controller=diffrax.StepTo(ts=grid), max_steps=steps,
                              throw=False)
    status = finite_status(from_diffrax(sol.result), sol.ys)
    return Trajectory(ts=sol.ts, ys=sol.ys, status=status, num_steps=sol.stats["num_steps"])
