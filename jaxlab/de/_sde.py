"""Neural SDEs: dY = μ_θ(t, Y)dt + σ_θ(t, Y)∘dW (Stratonovich) or dW (Itô), on diffrax."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ._brownian import brownian_driver, check_grid_steps
from ._fields import MLPField, lipswish
from ._ode import check_state, check_times, default_adjoint

NOISES = ("diagonal", "general")
INTERPRETATIONS = ("stratonovich", "ito")


def sde_defaults(owner: str, interpretation: str, solver, adjoint):
    """The solver and adjoint of a neural SDE, defaults filled in and the pair checked.

    Defaults: `RecursiveCheckpointAdjoint()`; `ReversibleHeun()` for Stratonovich (`Heun()`
    with `BacksolveAdjoint`), `Euler()` for Itô. Raises `ValueError` (naming `owner`) for a
    solver of the other interpretation, `BacksolveAdjoint` with Itô (its backward adjoint SDE
    is Stratonovich), and `BacksolveAdjoint` with `ReversibleHeun` (wrong gradients in
    diffrax 0.7).
    """
    if interpretation not in INTERPRETATIONS:
        raise ValueError(f"{owner}: interpretation must be one of {INTERPRETATIONS}, got "
                         f"{interpretation!r}")
    adjoint = default_adjoint(adjoint)
    backsolve = isinstance(adjoint, diffrax.BacksolveAdjoint)
    if backsolve and interpretation == "ito":
        raise ValueError(f"{owner}: BacksolveAdjoint needs the Stratonovich "
                         "interpretation (the backward adjoint SDE is Stratonovich)")
    if solver is None:
        if interpretation == "ito":
            solver = diffrax.Euler()
        else:
            solver = diffrax.Heun() if backsolve else diffrax.ReversibleHeun()
    if backsolve and isinstance(solver, diffrax.ReversibleHeun):
        raise ValueError(f"{owner}: BacksolveAdjoint with ReversibleHeun gives wrong "
                         "gradients in diffrax 0.7 (measured: 34-260% off finite differences);"
                         " use Heun (the default with BacksolveAdjoint) or "
                         "RecursiveCheckpointAdjoint")
    wrong = (diffrax.AbstractItoSolver if interpretation == "stratonovich"
             else diffrax.AbstractStratonovichSolver)
    if isinstance(solver, wrong):
        raise ValueError(f"{owner}: {type(solver).__name__} converges to the "
                         f"{'Itô' if interpretation == 'stratonovich' else 'Stratonovich'}"
                         f" solution, but interpretation={interpretation!r}")
    return solver, adjoint


class _Diagonal(eqx.Module):
    # σ(t, y) as a diagonal operator: each state coordinate has its own Brownian motion.
    field: MLPField

    def __call__(self, t, y, args):
        return lx.DiagonalLinearOperator(self.field(t, y, args))


class NeuralSDE(eqx.Module):
    """A neural SDE dY = μ_θ(t, Y)dt + σ_θ(t, Y)∘dW_t (or Itô dW_t) on a fixed step.

    μ_θ and σ_θ are MLPs of (t, Y) (LipSwish hidden activations, tanh outputs, as for SDE-GAN
    generators); σ is a vector (`noise="diagonal"`: one Brownian motion per state coordinate)
    or a `(size, noise_size)` matrix (`noise="general"`). The Brownian motion is a
    `diffrax.VirtualBrownianTree` drawn from `key`, so the same key gives the same path in the
    forward and in every backward pass.

    Solvers: the default for Stratonovich is `diffrax.ReversibleHeun()` (one field evaluation
    per step, algebraically reversible), or `diffrax.Heun()` with `BacksolveAdjoint`; for Itô,
    `diffrax.Euler()`. A solver that converges to the other interpretation raises.

    Gradients — what is exact: `RecursiveCheckpointAdjoint()` (default) and `DirectAdjoint()`
    differentiate the discretisation itself, so they equal finite differences of the sampled
    path to rounding. `BacksolveAdjoint()` (Stratonovich only) solves the adjoint SDE
    backwards on the same Brownian path: O(1) memory, gradients of the continuous problem,
    equal to the others up to the discretisation error (≈ 5e-6 relative at dt0 = 1e-3; the
    tests assert 1e-4). diffrax 0.7 gives wrong gradients for `BacksolveAdjoint` with
    `ReversibleHeun` (measured 34–260% off), so that pair raises; and its `ReversibleHeun` stores
    checkpoints in the backward pass, so the algebraic reversibility is exact in the forward
    map but its memory saving is not realised.

    **Arguments:** `size` (state dimension), `noise_size` (Brownian dimension for `"general"`
    noise; equals `size` for `"diagonal"`), `noise`, `interpretation`, `width`, `depth`,
    `dt0` (the fixed step), `max_steps` (≥ (t₁ − t₀)/dt0), `grid_steps` (instead of a
    Brownian tree and dt0: `grid_steps` equal steps over [ts[0], ts[-1]] with the Brownian
    increments drawn up front, `GridBrownianPath` — much cheaper to compile and run, exact on
    the grid), `solver`, `adjoint`, `key`.

    **Reference:** Kidger, Foster, Li & Lyons, *Neural SDEs as Infinite-Dimensional GANs*
    (ICML 2021); Kidger (2022), §4–5.
    """

    drift: MLPField
    diffusion: eqx.Module
    size: int = eqx.field(static=True)
    noise_size: int = eqx.field(static=True)
    noise: str = eqx.field(static=True)
    interpretation: str = eqx.field(static=True)
    dt0: float = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    grid_steps: int | None = eqx.field(static=True)
    solver: diffrax.AbstractSolver
    adjoint: diffrax.AbstractAdjoint

    def __init__(self, size: int, *, noise_size: int | None = None, noise: str = "diagonal",
                 interpretation: str = "stratonovich", width: int = 32, depth: int = 2,
                 dt0: float = 0.05, max_steps: int = 16_384, grid_steps: int | None = None,
                 solver: diffrax.AbstractSolver | None = None,
                 adjoint: diffrax.AbstractAdjoint | None = None, key: PRNGKeyArray):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"NeuralSDE: size must be a positive int, got {size!r}")
        check_grid_steps("NeuralSDE", grid_steps)
        if noise not in NOISES:
            raise ValueError(f"NeuralSDE: noise must be one of {NOISES}, got {noise!r}")
        if noise == "diagonal":
            if noise_size not in (None, size):
                raise ValueError(f"NeuralSDE: diagonal noise has noise_size = size = {size}, "
                                 f"got noise_size={noise_size!r}")
            noise_size = size
        elif not isinstance(noise_size, int) or noise_size < 1:
            raise ValueError(f"NeuralSDE: general noise needs noise_size, a positive int, got "
                             f"{noise_size!r}")
        if not dt0 > 0:
            raise ValueError(f"NeuralSDE: dt0 must be positive, got {dt0!r}")
        solver, adjoint = sde_defaults("NeuralSDE", interpretation, solver, adjoint)
        k1, k2 = jax.random.split(key)
        self.drift = MLPField(size, (size,), width=width, depth=depth, activation=lipswish,
                              final_activation=jnp.tanh, key=k1)
        shape = (size,) if noise == "diagonal" else (size, noise_size)
        sigma = MLPField(size, shape, width=width, depth=depth, activation=lipswish,
                         final_activation=jnp.tanh, key=k2)
        self.diffusion = _Diagonal(sigma) if noise == "diagonal" else sigma
        self.size, self.noise_size, self.noise = size, noise_size, noise
        self.interpretation = interpretation
        self.dt0 = float(dt0)
        self.max_steps = max_steps
        self.grid_steps = grid_steps
        self.solver = solver
        self.adjoint = adjoint

    def solve(self, ts: Float[ArrayLike, " T"], y0: Float[ArrayLike, " size"], *,
              key: PRNGKeyArray, throw: bool = True) -> diffrax.Solution:
        """The diffrax `Solution` saved at `ts`, driven by the Brownian motion of `key`."""
        ts = check_times("NeuralSDE", ts)
        y0 = check_state("NeuralSDE", y0, self.size)
        dtype = jnp.result_type(y0, ts)
        bm, dt0, controller = brownian_driver(ts, self.noise_size, dtype, key, self.dt0,
                                              self.grid_steps)
        terms = diffrax.MultiTerm(diffrax.ODETerm(self.drift),
                                  diffrax.ControlTerm(self.diffusion, bm))
        return diffrax.diffeqsolve(terms, self.solver, ts[0], ts[-1], dt0, y0.astype(dtype),
                                   saveat=diffrax.SaveAt(ts=ts), stepsize_controller=controller,
                                   adjoint=self.adjoint, max_steps=self.max_steps, throw=throw)

    def __call__(self, ts: Float[ArrayLike, " T"], y0: Float[ArrayLike, " size"], *,
                 key: PRNGKeyArray) -> Float[Array, "T size"]:
        """A sample path at `ts`, shape `(T, size)`."""
        return self.solve(ts, y0, key=key).ys
