"""Neural ODEs: dz/dt = f_θ(t, z), solved and differentiated by diffrax."""

import diffrax
import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._core.checks import check_real_floating, shape_str
from ._fields import MLPField


def check_times(owner: str, ts) -> Array:
    """`ts` as a 1-D array of at least two times (shape checked now; values are the caller's:
    strictly increasing)."""
    ts = jnp.asarray(ts)
    if ts.ndim != 1 or ts.shape[0] < 2:
        raise ValueError(f"{owner}: ts must have shape (T,) with T >= 2 (the save times), got "
                         f"shape {shape_str(ts)}")
    check_real_floating(owner, ts=ts)
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


def check_state(owner: str, y0, size: int) -> Array:
    """`y0` as a real floating array of shape `(size,)`, or a ValueError/TypeError naming it."""
    y0 = jnp.asarray(y0)
    if y0.shape != (size,):
        raise ValueError(f"{owner}: y0 must have shape ({size},), got shape {shape_str(y0)}")
    check_real_floating(owner, y0=y0)
    return y0


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
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"NeuralODE: size must be a positive int, got {size!r}")
        if field is None:
            if key is None:
                raise ValueError("NeuralODE: pass key= to initialise the default MLP field (or "
                                 "pass field=)")
            field = MLPField(size, (size,), width=width, depth=depth, key=key)
        self.field = field
        self.size = size
        self.solver, self.stepsize_controller, self.adjoint = ode_defaults(
            solver, stepsize_controller, adjoint)
        self.dt0 = dt0
        self.max_steps = max_steps

    def solve(self, ts: Float[ArrayLike, " T"], y0: Float[ArrayLike, " size"], *,
              throw: bool = True) -> diffrax.Solution:
        """The diffrax `Solution` saved at `ts` (its `result` reports solver failure; with
        `throw=True` a failure raises)."""
        ts = check_times("NeuralODE", ts)
        y0 = check_state("NeuralODE", y0, self.size)
        return diffrax.diffeqsolve(
            diffrax.ODETerm(self.field), self.solver, ts[0], ts[-1], self.dt0, y0,
            saveat=diffrax.SaveAt(ts=ts), stepsize_controller=self.stepsize_controller,
            adjoint=self.adjoint, max_steps=self.max_steps, throw=throw)

    def __call__(self, ts: Float[ArrayLike, " T"],
                 y0: Float[ArrayLike, " size"]) -> Float[Array, "T size"]:
        """The trajectory at `ts`, shape `(T, size)`; raises if the solver fails."""
        return self.solve(ts, y0).ys

