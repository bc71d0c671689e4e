"""A catalogue system's invariants, computed by jaxlab, beside the values dysts stores."""

import copy
import functools
import json
from importlib.resources import files
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jaxtyping import Array, ArrayLike, Float, Real

from .._core.checks import (
    as_float_array,
    check_choice,
    check_instance,
    check_int,
    check_number,
    message,
    shape_str,
)
from .._core.results import RESULTS, AbstractResult, check_status
from ._base import AbstractDelay, AbstractFlow, AbstractMap
from ._catalogue import kind_of
from ._dde import integrate_delay
from ._ensemble import lyapunov_ensemble
from ._integrate import integrate
from ._invariants import correlation_dimension, dominant_period
from ._lyapunov import kaplan_yorke_dimension
from ._results import LyapunovResult, Trajectory
from ._trajectory import trajectory

__all__ = ["CatalogueInvariants", "catalogue_invariants", "compare_with_dysts", "dysts_metadata"]

_KINDS = ("flow", "delay", "map")


@functools.cache
def _metadata() -> dict:
    return json.loads(files("jaxlab.systems").joinpath("data/dysts_metadata.json").read_text())


def dysts_metadata(name: str | None = None, *, kind: str | None = None) -> dict[str, Any]:
    """The invariants dysts 0.96 stores for a catalogue system (or for every system of a kind).

    The entries are dysts's own estimates, copied from its metadata files:
    `maximum_lyapunov_estimated`, `lyapunov_spectrum_estimated`, `kaplan_yorke_dimension`,
    `correlation_dimension`, `pesin_entropy`, `period`, `embedding_dimension`,
    `hamiltonian`, `nonautonomous`, `delay`, `unbounded_indices` (None where dysts has no
    value, e.g. for most maps). They are loose: dysts's two Lyapunov estimates agree within
    25% for about 45% of the systems.

    **Arguments:**

    - `name`: a catalogue name (`"Lorenz"`), or None for every system of `kind`.
    - `kind`: `"flow"`, `"delay"` or `"map"`; needed without `name`, and where a name has two
      kinds (default for a name: its kind as `get` resolves it).

    **Returns:** a copy of the system's entry (a dict), or `{name: entry}` for a kind.

    **Raises:** `TypeError` for a non-string name; `ValueError` for an unknown name or kind,
    or no name and no kind.

    **References:** Gilpin, *Chaos as an interpretable benchmark for forecasting and
    data-driven modelling* (NeurIPS 2021).
    """
    fn = "dysts_metadata"
    check_choice(fn, "kind", kind, (None, *_KINDS))
    if name is None:
        if kind is None:
            raise ValueError(message(fn, "kind", "given when name is None", None))
        return copy.deepcopy(_metadata()[kind])
    check_instance(fn, "name", name, str, "a system name (a str)")
    kind = kind_of(name) if kind is None else kind
    entry = _metadata()[kind].get(name)
    if entry is None:
        raise ValueError(message(fn, "name", f"a {kind} of the catalogue", repr(name)))
    return copy.deepcopy(entry)


class CatalogueInvariants(AbstractResult):
    """The output of `catalogue_invariants`.

    **Fields:**

    - `spectra`: every initial state's `LyapunovResult` (leading axis `b`), from the
      attempt that was kept.
    - `exponents`: the mean spectrum over the converged initial states, shape `(k,)` (NaN
      if none converged).
    - `lambda_max_std`: the standard deviation of λ_max over them (0 for one).
    - `kaplan_yorke`: the Kaplan–Yorke dimension of the mean spectrum (NaN if none
      converged).
    - `trajectory`: the sample the other invariants are computed from, started at the end
      of the first converged spectrum run.
    - `correlation_dimension`: D₂ of the trajectory (NaN if its solve failed).
    - `dominant_period`: the dominant period of the trajectory in time units (NaN for maps
      and failed solves).
    - `solver`: what solved the system, e.g. `"Tsit5"`, `"Kvaerno5 (retry, interval/10)"`,
      `"RK4 (method of steps)"`, `"-"` (maps).
    - `status`: `RESULTS.successful` when at least one initial state converged and the
      trajectory is finite; else the first failure's reason (see `spectra.status`,
      `trajectory.status`).
    """

    spectra: LyapunovResult
    exponents: Float[Array, " k"]
    lambda_max_std: Float[Array, ""]
    kaplan_yorke: Float[Array, ""]
    trajectory: Trajectory
    correlation_dimension: Float[Array, ""]
    dominant_period: Float[Array, ""]
    solver: str = eqx.field(static=True)
    status: RESULTS


def catalogue_invariants(system: AbstractFlow | AbstractMap | AbstractDelay,
                         y0s: Real[ArrayLike, "b d"], *, lyapunov_periods: float = 100.0,
                         map_iterations: int = 20_000, points: int = 3000,
                         pts_per_period: int = 30, rtol: float = 1e-8, atol: float = 1e-10,
                         mesh: Mesh | None = None, throw: bool = True) -> CatalogueInvariants:
    """A catalogue system's Lyapunov spectrum, Kaplan–Yorke dimension, correlation dimension
    and dominant period, as the `chaos-catalogue` experiment compares them with dysts's.

    1. **Spectrum** (`lyapunov_ensemble`, every initial state of `y0s`): flows and delay
       systems average over `lyapunov_periods` dominant periods with a QR every period/5
       after a transient of 5 periods; maps over `map_iterations` iterations after 100. A
       flow's solver is chosen by a probe: `Tsit5`, or the L-stable implicit `Kvaerno5`
       where Tsit5 needs more than 20000 steps for one period (stiff). If no initial state
       converges, the run is retried with intervals ten times shorter (same averaging time;
       a tangent vector collapsed because the exponents spread too far within one interval),
       then with `Kvaerno5` (the tangent dynamics are stiff although the probe passed) at
       both intervals; the first attempt where an initial state converges is kept.
    2. **Trajectory**: `points` samples at `pts_per_period` points per period (maps: iterates)
       from the final state of the first converged run.
    3. **Dimensions**: the Kaplan–Yorke dimension of the mean spectrum; the correlation
       dimension of the trajectory with a Theiler window of a third of a period (none for
       maps); its dominant period.

    **Arguments:**

    - `system`: a flow, delay system or map (of the catalogue or your own; `dysts_metadata`
      has dysts's values for the catalogue's).
    - `y0s`: initial states, shape `(b, d)` (e.g. perturbed copies of
      `system.initial_state()`); the precision follows them: use float64.
    - `lyapunov_periods`, `map_iterations`: the averaging length, as above.
    - `points`, `pts_per_period`: the trajectory for D₂ and the period.
    - `rtol`, `atol`: ODE tolerances (flows).
    - `mesh`: the device mesh of the ensemble (default: all devices).
    - `throw`: raise if the status is a failure; with `throw=False` only report it.

    **Returns:** a `CatalogueInvariants`.

    **Raises:** `TypeError` for a bad system or argument type; `ValueError` for `y0s` not of
    shape `(b, d)`, or non-positive sizes or tolerances.

    **References:** Gilpin, *Chaos as an interpretable benchmark for forecasting and
    data-driven modelling* (NeurIPS 2021); Benettin et al. (1980), *Meccanica* 15;
    Grassberger & Procaccia (1983), *Physica D* 9.
    """
    fn = "catalogue_invariants"
    if not isinstance(system, (AbstractFlow, AbstractMap, AbstractDelay)):
        raise TypeError(message(fn, "system", "an AbstractFlow, AbstractMap or AbstractDelay",
                                f"a {type(system).__name__}"))
    y0s = as_float_array(fn, "y0s", y0s)
    if y0s.ndim != 2 or y0s.shape[0] < 1 or y0s.shape[1] != system.dimension:
        raise ValueError(message(fn, "y0s", f"of shape (b, {system.dimension}) with b ≥ 1",
                                 f"shape {shape_str(y0s)}"))
    lyapunov_periods = check_number(fn, "lyapunov_periods", lyapunov_periods, minimum=0.0,
                                    open_minimum=True)
    map_iterations = check_int(fn, "map_iterations", map_iterations, minimum=1)
    points = check_int(fn, "points", points, minimum=8)
    pts_per_period = check_int(fn, "pts_per_period", pts_per_period, minimum=1)
    rtol = check_number(fn, "rtol", rtol, minimum=0.0, open_minimum=True)
    atol = check_number(fn, "atol", atol, minimum=0.0, open_minimum=True)
    spectra, solver, name = _spectra(system, y0s, lyapunov_periods, map_iterations, rtol,
                                     atol, mesh)
    converged = np.asarray(spectra.converged)
    start = jnp.asarray(np.asarray(spectra.final_state)[int(np.argmax(converged))])
    if isinstance(system, AbstractMap):
        traj, dt = trajectory(system, points, y0=start, throw=False), 1.0
    elif isinstance(system, AbstractFlow):
        traj = trajectory(system, points, pts_per_period=pts_per_period, y0=start,
                          solver=solver, rtol=rtol, atol=atol, throw=False)
        dt = float(system.period) / pts_per_period
    else:
        dt = float(system.period) / pts_per_period
        traj = integrate_delay(system, start, np.arange(points) * dt, throw=False)
    exponents = np.asarray(spectra.exponents)[converged]
    dtype = y0s.dtype
    nan = jnp.asarray(jnp.nan, dtype)
    mean = (jnp.asarray(exponents.mean(axis=0), dtype) if converged.any()
            else jnp.full(spectra.exponents.shape[1], jnp.nan, dtype))
    spread = jnp.asarray(exponents[:, 0].std(ddof=1) if len(exponents) > 1 else 0.0, dtype)
    d2 = period = nan
    if bool(traj.converged):
        theiler = 0 if isinstance(system, AbstractMap) else pts_per_period // 3
        d2 = correlation_dimension(traj.ys, theiler=theiler).dimension
        if not isinstance(system, AbstractMap):
            period = dominant_period(traj.ys, dt)
    if converged.any():
        status = traj.status
    else:  # the first initial state's reason, on one device (the spectra are sharded)
        status = jax.device_put(jax.tree_util.tree_map(lambda x: x[0], spectra.status),
                                jax.devices()[0])
    result = CatalogueInvariants(
        spectra=spectra, exponents=mean, lambda_max_std=spread,
        kaplan_yorke=jnp.where(converged.any(), kaplan_yorke_dimension(mean), nan),
        trajectory=traj,
        correlation_dimension=jnp.asarray(d2, dtype), dominant_period=jnp.asarray(period, dtype),
        solver=name, status=status)
    if throw:
        result = eqx.tree_at(lambda r: r.exponents, result,
                             check_status(fn, status, result.exponents, throw))
    return result


def _spectra(system, y0s, lyapunov_periods, map_iterations, rtol, atol, mesh):
    """The ensemble's spectra, with the solver choice and retries of `catalogue_invariants`:
    `(spectra, solver, solver's name)`."""
    if isinstance(system, AbstractMap):
        return (lyapunov_ensemble(system, y0s, num_intervals=map_iterations, transient=100,
                                  mesh=mesh, throw=False), None, "-")
    period = float(system.period)
    interval = period / 5
    num_intervals = max(10, int(lyapunov_periods * 5))
    common = {"transient": 5 * period, "mesh": mesh, "throw": False}
    if isinstance(system, AbstractDelay):
        return (lyapunov_ensemble(system, y0s, num_intervals=num_intervals, interval=interval,
                                  **common), None, "RK4 (method of steps)")
    probe = integrate(system, y0s[0], jnp.array([0.0, period], y0s.dtype),
                      solver=diffrax.Tsit5(), rtol=rtol, atol=atol, max_steps=20_000,
                      throw=False)
    stiff = not bool(probe.converged)
    solver = diffrax.Kvaerno5() if stiff else diffrax.Tsit5()
    name = "Kvaerno5" if stiff else "Tsit5"
    options = {"rtol": rtol, "atol": atol, **common}
    spectra = lyapunov_ensemble(system, y0s, num_intervals=num_intervals, interval=interval,
                                solver=solver, **options)
    if bool(np.any(np.asarray(spectra.converged))):
        return spectra, solver, name
    attempts = [(solver, name, 10, ", interval/10")]
    if not stiff:
        attempts += [(diffrax.Kvaerno5(), "Kvaerno5", 1, ""),
                     (diffrax.Kvaerno5(), "Kvaerno5", 10, ", interval/10")]
    for retry_solver, retry_name, factor, note in attempts:
        retried = lyapunov_ensemble(system, y0s, num_intervals=num_intervals * factor,
                                    interval=interval / factor, solver=retry_solver, **options)
        if bool(np.any(np.asarray(retried.converged))):
            return retried, retry_solver, f"{retry_name} (retry{note})"
    return spectra, solver, name


_COMPARED = {"lambda_max": "maximum_lyapunov_estimated",
             "kaplan_yorke": "kaplan_yorke_dimension",
             "correlation_dimension": "correlation_dimension", "period": "period"}


def compare_with_dysts(result: CatalogueInvariants, name: str, *,
                       kind: str | None = None) -> dict[str, dict[str, float | None]]:
    """jaxlab's invariants of a catalogue system beside dysts's stored estimates.

    For each of `"lambda_max"` (λ_max, the first mean exponent), `"kaplan_yorke"`,
    `"correlation_dimension"` and `"period"`: jaxlab's value (from `catalogue_invariants`),
    dysts's (`dysts_metadata`: `maximum_lyapunov_estimated`, `kaplan_yorke_dimension`,
    `correlation_dimension`, `period`) and their relative gap
    |jaxlab − dysts| / max(|dysts|, 0.01) (the floor keeps near-zero exponents from
    blowing the gap up). A value that is missing or not finite on either side gives a
    `None` gap.

    **Arguments:**

    - `result`: a `CatalogueInvariants` of the system (unbatched).
    - `name`, `kind`: the system's catalogue name and kind, as in `dysts_metadata`.

    **Returns:** `{quantity: {"jaxlab": float | None, "dysts": float | None,
    "relative_gap": float | None}}`.

    **Raises:** `TypeError` if `result` is not a `CatalogueInvariants`; as
    `dysts_metadata` for the name and kind.

    **References:** Gilpin, *Chaos as an interpretable benchmark for forecasting and
    data-driven modelling* (NeurIPS 2021).
    """
    check_instance("compare_with_dysts", "result", result, CatalogueInvariants)
    meta = dysts_metadata(name, kind=kind)
    ours = {"lambda_max": result.exponents[0], "kaplan_yorke": result.kaplan_yorke,
            "correlation_dimension": result.correlation_dimension,
            "period": result.dominant_period}
    out = {}
    for quantity, key in _COMPARED.items():
        value = float(ours[quantity])
        mine = value if np.isfinite(value) else None
        theirs = meta.get(key)
        gap = (None if mine is None or theirs is None
               else abs(mine - theirs) / max(abs(theirs), 1e-2))
        out[quantity] = {"jaxlab": mine, "dysts": theirs, "relative_gap": gap}
    return out
