"""Neural ODEs: dz/dt = f_θ(t, z), solved and differentiated by diffrax."""

import diffrax
import equinox as eqx
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, Real

from .._core.checks import as_float_array, check_int, check_key, check_number, message, shape_str
from ._fields import MLPField
from ._solution import DESolution, solution


def check_times(fn: str, ts) -> Array:
    """`ts` as a 1-D floating array of at least two times (integer times promoted; shape
    checked now, values are the caller's: strictly increasing)."""
    ts = as_float_array(fn, "ts", ts)
    if ts.ndim != 1 or ts.shape[0] < 2:
        raise ValueError(message(fn, "ts", "of shape (T,) with T >= 2 (the save times)",
                                 f"shape {shape_str(ts)}"))
    return ts


def default_adjoint(adjoint):
    return diffrax.RecursiveCheckpointAdjoint() if adjoint is None else adjoint


def ode_defaults(solver, stepsize_controller, adjoint):
    """The defaults of the adaptive models: Tsit5, PIDController(rtol=1e-3, atol=1e-6) and
    RecursiveCheckpointAdjoint, for whichever of the three is None."""
    return (diffrax.Tsit5() if solver is None else solver,
            diffrax.PIDController(rtol=1e-3, atol=1e-6) if stepsize_controller is None
            else stepsize_controller,
            default_adjoint(adjoint))


def check_state(fn: str, y0, size: int, name: str = "y0") -> Array:
    """`y0` as a floating array of shape `(size,)` (integers promoted), or a
    `ValueError`/`TypeError` naming it."""
    return as_float_array(fn, name, y0, shape=(size,))


def check_key_for_fields(fn: str, key, alternative: str):
    """`key` when the default fields need one: a `TypeError` naming `alternative` (the
    arguments that replace the defaults) when it is missing."""
    if key is None:
        raise TypeError(message(fn, "key", "a PRNG key (jax.random.key(seed)) to initialise "
                                f"the default fields, or pass {alternative}", "None"))
    return check_key(fn, key)


def check_dt0(fn: str, dt0, none_ok: bool = False) -> float | None:
    """`dt0` as a positive float (or None when `none_ok`)."""
    return check_number(fn, "dt0", dt0, minimum=0.0, open_minimum=True, none_ok=none_ok)


def check_max_steps(fn: str, max_steps) -> int:
    return check_int(fn, "max_steps", max_steps, minimum=1)


def check_path_batch(fn: str, batch, channels: str = "c") -> tuple[ArrayLike, Array]:
    """`batch = (ts, xs)` of a path loss: times `(B, T)` and values `(B, T, channels)`.
    Returns `(ts, xs)` with `xs` a floating array (integers promoted); a `TypeError` naming
    `fn` when `batch` is not a pair, a `ValueError` with both shapes when they disagree."""
    want = f"(ts, xs) of shapes (B, T) and (B, T, {channels})"
    if not isinstance(batch, (tuple, list)):
        raise TypeError(message(fn, "batch", want, f"a {type(batch).__name__}"))
    if len(batch) != 2:
        raise ValueError(message(fn, "batch", want,
                                 f"a {type(batch).__name__} of length {len(batch)}"))
    ts, xs = batch
    xs = as_float_array(fn, "xs", xs)
    if xs.ndim != 3 or np.shape(ts) != xs.shape[:2]:
        raise ValueError(message(fn, "batch", want,
                                 f"shapes {shape_str(ts)} and {shape_str(xs)}"))
    return ts, xs


class NeuralODE(eqx.Module):
    """A neural ODE dz/dt = f_θ(t, z), z(t₀) = y0, saved at times `ts`.

    Gradients use the adjoint given: `diffrax.RecursiveCheckpointAdjoint()` (default:
    discretise-then-optimise, exact gradients of the numerical solution with checkpointed
    memory), `diffrax.BacksolveAdjoint()` (optimise-then-discretise: the continuous adjoint
    solved backwards, O(1) memory, gradients accurate to the solver tolerance; pass
    `BacksolveAdjoint(stepsize_controller=PIDController(..., norm=adjoint_rms_seminorm))` for
    the seminorm variant) or `diffrax.DirectAdjoint()`.

    **Arguments:** `size` (state dimension), `width`, `depth` (of the default MLP field),
    `field` (any Module `(t, y, args) -> dy/dt` replacing the MLP), `solver` (default
    `Tsit5`), `stepsize_controller` (default `PIDController(rtol=1e-3, atol=1e-6)`),
    `adjoint`, `dt0` (initial step; with `None` diffrax 0.7 starts at 0.01 whatever the
    field's time scale — measured for y' = −100y — so pass it for fast or slow dynamics),
    `max_steps`, `key`.

    **Reference:** Chen, Rubanova, Bettencourt & Duvenaud (2018); Kidger, *On Neural
    Differential Equations* (2022), §2.
    """

    field: eqx.Module
    size: int = eqx.field(static=True)
    solver: diffrax.AbstractSolver
    stepsize_controller: diffrax.AbstractStepSizeController
    adjoint: diffrax.AbstractAdjoint
    dt0: float | None = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def __init__(self, size: int, *, width: int = 64, depth: int = 2,
                 field: eqx.Module | None = None, solver: diffrax.AbstractSolver | None = None,
                 stepsize_controller: diffrax.AbstractStepSizeController | None = None,
                 adjoint: diffrax.AbstractAdjoint | None = None, dt0: float | None = None,
                 max_steps: int = 4096, key: PRNGKeyArray | None = None):
        size = check_int("NeuralODE", "size", size, minimum=1)
        dt0 = check_dt0("NeuralODE", dt0, none_ok=True)
        max_steps = check_max_steps("NeuralODE", max_steps)
        if field is None:
            key = check_key_for_fields("NeuralODE", key, "field=")
            field = MLPField(size, (size,), width=width, depth=depth, key=key)
        self.field = field
        self.size = size
        self.solver, self.stepsize_controller, self.adjoint = ode_defaults(
            solver, stepsize_controller, adjoint)
        self.dt0 = dt0
        self.max_steps = max_steps

    def solve(self, ts: Real[ArrayLike, " T"], y0: Real[ArrayLike, " size"], *,
              throw: bool = True) -> DESolution:
        """The trajectory from `y0` saved at `ts`, with the solver's status and step counts.

        **Arguments:** `ts` `(T,)` (increasing, T ≥ 2; integers promoted), `y0` `(size,)`,
        `throw` (keyword-only: with `True` a failed solve raises at run time with the
        status's message; with `False` it is only reported in `status`).

        **Returns:** a `DESolution` (`ts`, `ys` `(T, size)`, `status`, step counts).

        **Raises:** `ValueError` for a wrongly shaped `ts` or `y0`; `TypeError` for a
        non-real one.
        """
        ts = check_times("NeuralODE", ts)
        y0 = check_state("NeuralODE", y0, self.size)
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(self.field), self.solver, ts[0], ts[-1], self.dt0, y0,
            saveat=diffrax.SaveAt(ts=ts), stepsize_controller=self.stepsize_controller,
            adjoint=self.adjoint, max_steps=self.max_steps, throw=False)
        return solution("NeuralODE", sol, throw)

    def __call__(self, ts: Real[ArrayLike, " T"],
                 y0: Real[ArrayLike, " size"]) -> Float[Array, "T size"]:
        """The trajectory at `ts`, shape `(T, size)`; raises if the solver fails."""
        return self.solve(ts, y0).ys

