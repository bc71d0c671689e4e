"""Lyapunov spectra of an ensemble of initial states, sharded over devices."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jax.sharding import Mesh
from jaxtyping import ArrayLike, Real

from .._core.checks import as_float_array, check_instance, message, shape_str
from .._core.results import check_status
from ..parallel import sharded_map
from ._base import AbstractDelay, AbstractFlow, AbstractMap
from ._integrate import check_solver_options
from ._lyapunov import lyapunov_spectrum
from ._results import LyapunovResult

__all__ = ["lyapunov_ensemble"]


class _Member(eqx.Module):
    """One member's spectrum: `lyapunov_spectrum` with the ensemble's options, as a Module
    so that repeated runs with equal options reuse the compilation."""

    system: eqx.Module
    solver: diffrax.AbstractSolver | None
    options: tuple = eqx.field(static=True)  # (name, value) pairs of Python values

    def __call__(self, y0):
        return lyapunov_spectrum(self.system, y0, solver=self.solver, throw=False,
                                 **dict(self.options))


def lyapunov_ensemble(system: AbstractFlow | AbstractMap | AbstractDelay,
                      y0s: Real[ArrayLike, "b d"], *, num_exponents: int | None = None,
                      num_intervals: int = 1000, interval: float | int | None = None,
                      transient: float | int | None = None, rtol: float | None = None,
                      atol: float | None = None, solver: diffrax.AbstractSolver | None = None,
                      max_steps: int = 100_000, dt: float | None = None,
                      method: str | None = None, mesh: Mesh | None = None,
                      throw: bool = True) -> LyapunovResult:
    """The Lyapunov spectrum from every initial state of an ensemble, split across devices.

    Member i is `lyapunov_spectrum(system, y0s[i], ...)` with the options given here; the
    members run with `jaxlab.parallel.sharded_map`, so every device runs its own adaptive
    solves on its slice of the ensemble (not in lock-step across the whole batch). With an
    implicit diffrax solver (`Kvaerno5`, ...) the members run under `jax.vmap` on one device
    instead: lineax's linear solves fail inside `shard_map` on JAX 0.10.

    **Arguments:**

    - `system`: an `AbstractFlow`, `AbstractMap` or `AbstractDelay`.
    - `y0s`: the initial states, shape `(b, d)`; the precision follows them.
    - `num_exponents`, `num_intervals`, `interval`, `transient`, `rtol`, `atol`, `solver`,
      `max_steps`, `dt`, `method`: as in `lyapunov_spectrum`, the same for every member.
    - `mesh`: a one-dimensional device mesh (default: `jaxlab.parallel.data_mesh()`, all
      devices).
    - `throw`: raise if any member failed, with the first failed member's reason (checked
      when the ensemble has run); with `throw=False` every member's status is in the
      result.

    **Returns:** a `LyapunovResult` whose fields have a leading ensemble axis of size `b`
    (`exponents` `(b, k)`, `running` `(b, m, k)`, `times` `(b, m)`, `final_state`
    `(b, d)`, `status` and `converged` `(b,)`).

    **Raises:** `TypeError` for a bad system, solver or option type; `ValueError` for
    `y0s` that is not of shape `(b, d)` with b ≥ 1, and as `lyapunov_spectrum`.

    **References:** Benettin, Galgani, Giorgilli & Strelcyn (1980), *Meccanica* 15, 9-30.
    """
    fn = "lyapunov_ensemble"
    if not isinstance(system, (AbstractFlow, AbstractMap, AbstractDelay)):
        raise TypeError(message(fn, "system", "an AbstractFlow, AbstractMap or AbstractDelay",
                                f"a {type(system).__name__}"))
    y0s = as_float_array(fn, "y0s", y0s)
    d = system.dimension
    if y0s.ndim != 2 or y0s.shape[0] < 1 or y0s.shape[1] != d:
        raise ValueError(message(fn, "y0s", f"of shape (b, {d}) with b ≥ 1 for "
                                 f"{type(system).__name__}", f"shape {shape_str(y0s)}"))
    rtol, atol, solver, max_steps, throw = check_solver_options(fn, rtol, atol, solver,
                                                                max_steps, throw)
    if mesh is not None:
        check_instance(fn, "mesh", mesh, Mesh, "a jax.sharding.Mesh")
    options = {"num_exponents": num_exponents, "num_intervals": num_intervals,
               "interval": interval, "transient": transient, "rtol": rtol, "atol": atol,
               "max_steps": max_steps, "dt": dt, "method": method}
    member = _Member(system, solver, tuple(options.items()))
    if isinstance(solver, diffrax.AbstractImplicitSolver):
        result = _vmapped(member, y0s)
    else:
        result = sharded_map(member, y0s, mesh=mesh)
    if throw:
        # The first failed member's status, on one device: an error check on the sharded
        # batch would run as a collective across the devices.
        first = jnp.argmax(jnp.logical_not(result.converged))
        one = jax.devices()[0]
        status = jax.tree_util.tree_map(lambda x: jax.device_put(x[first], one),
                                        result.status)
        jax.block_until_ready(check_status(fn, status, jax.device_put(jnp.zeros(()), one),
                                           throw))
    return result


@eqx.filter_jit
def _vmapped(member, y0s):
    return jax.vmap(member)(y0s)
