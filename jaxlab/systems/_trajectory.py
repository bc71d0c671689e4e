"""dysts-style trajectories: every kind of system sampled at a common resolution."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, PRNGKeyArray, Real

from .._core.checks import check_bool, check_int, check_key, check_number, message
from .._core.results import RESULTS, check_status, status_where
from ._base import AbstractDelay, AbstractFlow, AbstractMap, AbstractSDE, check_state
from ._dde import integrate_delay
from ._integrate import check_solver_options, integrate, iterate
from ._results import Trajectory
from ._sde import simulate_sde

__all__ = ["trajectory"]


class _NoisyFlow(AbstractSDE):
    """A flow with additive white noise, dy = f(t, y) dt + σ dW."""

    flow: AbstractFlow
    noise: Array

    citation = "a flow with additive noise"

    @property
    def dimension(self) -> int:
        return self.flow.dimension

    @property
    def dt(self) -> float:  # type: ignore[override]
        return self.flow.dt

    def drift(self, t, y):
        return self.flow.vector_field(t, y)

    def diffusion(self, t, y):
        return self.noise * jnp.ones_like(y)

    def initial_state(self, dtype=None):
        return self.flow.initial_state(dtype)


def trajectory(system: AbstractFlow | AbstractMap | AbstractDelay, n: int, *,
               pts_per_period: int = 100, resample: bool = True,
               y0: Real[ArrayLike, " d"] | None = None, transient: float | int = 0.0,
               noise: float = 0.0, standardize: bool = False,
               key: PRNGKeyArray | None = None, rtol: float | None = None,
               atol: float | None = None, solver: diffrax.AbstractSolver | None = None,
               max_steps: int = 10_000_000, throw: bool = True) -> Trajectory:
    """A trajectory of `n` points, sampled as dysts's `make_trajectory` does.

    Flows and delay systems (solved by `integrate_delay`, from the constant history `y0`)
    are resampled to `pts_per_period` points per dominant period (`system.period`),
    so every system of the catalogue is seen at the same resolution: the time span is
    `period · n / pts_per_period`. Maps are iterated `n` times.

    **Arguments:**

    - `system`: a flow, a map or a delay system of the catalogue (or your own).
    - `n`: the number of points (≥ 2).
    - `pts_per_period`: points per dominant period when `resample` (flows, delay systems).
    - `resample`: if `False`, sample flows every `system.dt` instead.
    - `y0`: the initial state (default: `system.initial_state()`, which lies on the attractor).
    - `transient`: periods (flows, delay systems) or iterations (maps) discarded before
      sampling starts.
    - `noise`: standard deviation of additive white noise in the dynamics: a flow becomes
      the SDE dy = f(t, y) dt + noise · dW, solved by `simulate_sde` with diffrax's Heun
      scheme (additive noise: Itô and Stratonovich agree) at a step ≤ `system.dt` (needs
      `key`). Maps get `noise · N(0, 1)` added at each iteration. Not for delay systems.
    - `standardize`: rescale each coordinate to zero mean and unit variance.
    - `key`: a PRNG key, required when `noise > 0`.
    - `rtol`, `atol`, `solver`, `max_steps`: as in `integrate` (noise-free flows).
    - `throw`: raise (at run time) if the result's status is a failure (a failed solve, a
      non-finite state); with `throw=False` it is only reported in `Trajectory.status`.

    **Returns:** a `Trajectory` with `ys` of shape `(n, d)`.

    **Raises:** `TypeError` for an unknown system type, non-int `n` or `pts_per_period`, or
    a missing `key` when `noise > 0`; `ValueError` for `n < 2`, non-positive
    `pts_per_period`, negative `noise` or `transient`, a fractional `transient` for a map,
    or noise for a delay system.

    **References:** Gilpin, *Chaos as an interpretable benchmark for forecasting and
    data-driven modelling* (NeurIPS 2021), section on time normalisation.
    """
    fn = "trajectory"
    n = check_int(fn, "n", n, minimum=2)
    pts_per_period = check_int(fn, "pts_per_period", pts_per_period, minimum=1)
    resample = check_bool(fn, "resample", resample)
    standardize = check_bool(fn, "standardize", standardize)
    noise = check_number(fn, "noise", noise, minimum=0.0)
    transient = check_number(fn, "transient", transient, minimum=0.0)
    rtol, atol, solver, max_steps, throw = check_solver_options(fn, rtol, atol, solver,
                                                                max_steps, throw)
    if noise > 0:
        key = check_key(fn, key, name="key")
    if not isinstance(system, (AbstractFlow, AbstractMap, AbstractDelay)):
        raise TypeError(message(fn, "system", "an AbstractFlow, AbstractMap or AbstractDelay",
                                f"a {type(system).__name__}"))
    y0 = check_state(fn, system, system.initial_state() if y0 is None else y0)
    if isinstance(system, AbstractMap):
        if not transient.is_integer():
            raise ValueError(message(fn, "transient", "a whole number of iterations for a map",
                                     transient))
        skip = int(transient)
        if noise > 0:
            kicks = noise * jax.random.normal(key, (skip + n - 1, system.dimension), y0.dtype)
            ys = _iterate_noisy(system, y0, kicks)[skip:]
        else:
            ys = iterate(system, y0, skip + n - 1)[skip:]
        status = status_where(jnp.all(jnp.isfinite(ys)), RESULTS.nonfinite)
        out = Trajectory(ts=jnp.arange(n, dtype=ys.dtype),
                         ys=check_status(fn, status, ys, throw), status=status,
                         num_steps=jnp.asarray(skip + n - 1))
    else:
        span = system.period * n / pts_per_period if resample else system.dt * (n - 1)
        t0 = transient * system.period
        if isinstance(system, AbstractDelay):
            if noise > 0:
                raise ValueError(message(fn, "noise", "0 for a delay system", noise))
            out = integrate_delay(system, y0, np.linspace(t0, t0 + span, n), throw=throw)
        else:
            options = {"rtol": rtol, "atol": atol, "solver": solver, "max_steps": max_steps,
                       "throw": throw}
            if t0 > 0:
                y0 = integrate(system, y0, jnp.array([0.0, t0], y0.dtype), **options).ys[-1]
            ts = np.linspace(t0, t0 + span, n)
            if noise > 0:
                out = simulate_sde(_NoisyFlow(system, jnp.asarray(noise, y0.dtype)), y0, ts,
                                   dt=system.dt, key=key, solver=diffrax.Heun(), throw=throw)
            else:
                out = integrate(system, y0, jnp.asarray(ts, y0.dtype), **options)
    if standardize:
        ys = out.ys
        out = eqx.tree_at(lambda tr: tr.ys, out, (ys - ys.mean(axis=0)) / ys.std(axis=0))
    return out


@eqx.filter_jit
def _iterate_noisy(system, y0, kicks):
    def body(y, kick):
        y_next = system.step(y) + kick
        return y_next, y_next

    _, ys = jax.lax.scan(body, y0, kicks)
    return jnp.concatenate([y0[None], ys])
