"""Neural SDEs: dY = μ_θ(t, Y)dt + σ_θ(t, Y)∘dW (Stratonovich) or dW (Itô), on diffrax."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, Real

from .._core.checks import check_choice, check_int, check_key, message
from ._brownian import brownian_driver, check_grid_steps
from ._fields import MLPField, lipswish
from ._ode import check_dt0, check_max_steps, check_state, check_times, default_adjoint
from ._solution import DESolution, solution

NOISES = ("diagonal", "general")
INTERPRETATIONS = ("stratonovich", "ito")


def sde_defaults(fn: str, interpretation: str, solver, adjoint):
    """The solver and adjoint of a neural SDE, defaults filled in and the pair checked.

    Defaults: `RecursiveCheckpointAdjoint()`; `ReversibleHeun()` for Stratonovich (`Heun()`
    with `BacksolveAdjoint`), `Euler()` for Itô. Raises `ValueError` (naming `fn`) for a
    solver of the other interpretation, `BacksolveAdjoint` with Itô (its backward adjoint SDE
    is Stratonovich), and `BacksolveAdjoint` with `ReversibleHeun` (wrong gradients in
    diffrax 0.7).
    """
    check_choice(fn, "interpretation", interpretation, INTERPRETATIONS)
    adjoint = default_adjoint(adjoint)
    backsolve = isinstance(adjoint, diffrax.BacksolveAdjoint)
    if backsolve and interpretation == "ito":
        raise ValueError(message(fn, "interpretation", "'stratonovich' with BacksolveAdjoint "
                                 "(the backward adjoint SDE is Stratonovich)", "'ito'"))
    if solver is None:
        if interpretation == "ito":
            solver = diffrax.Euler()
        else:
            solver = diffrax.Heun() if backsolve else diffrax.ReversibleHeun()
    if backsolve and isinstance(solver, diffrax.ReversibleHeun):
        raise ValueError(message(fn, "solver", "Heun (the default with BacksolveAdjoint), or "
                                 "the adjoint RecursiveCheckpointAdjoint: BacksolveAdjoint "
                                 "with ReversibleHeun gives wrong gradients in diffrax 0.7 "
                                 "(measured: 34-260% off finite differences)",
                                 "ReversibleHeun()"))
    wrong = (diffrax.AbstractItoSolver if interpretation == "stratonovich"
             else diffrax.AbstractStratonovichSolver)
    if isinstance(solver, wrong):
        name = type(solver).__name__
        other = "Itô" if interpretation == "stratonovich" else "Stratonovich"
        raise ValueError(message(fn, "solver", f"a solver for interpretation="
                                 f"{interpretation!r}", f"{name}() ({name} converges to the "
                                 f"{other} solution)"))
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

    **Raises:** `TypeError`/`ValueError` for a non-int or non-positive `size`, `noise_size`,
    `max_steps` or `grid_steps`, a non-positive `dt0`, an unknown `noise` or
    `interpretation`; `ValueError` for a solver of the other interpretation and the
    adjoint/solver pairs described above.

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
        size = check_int("NeuralSDE", "size", size, minimum=1)
        check_grid_steps("NeuralSDE", grid_steps)
        check_choice("NeuralSDE", "noise", noise, NOISES)
        if noise == "diagonal":
            if noise_size not in (None, size):
                raise ValueError(message("NeuralSDE", "noise_size", f"None or size = {size} "
                                         "with diagonal noise", repr(noise_size)))
            noise_size = size
        elif noise_size is None:
            raise TypeError(message("NeuralSDE", "noise_size", "a positive int with general "
                                    "noise", "None"))
        else:
            noise_size = check_int("NeuralSDE", "noise_size", noise_size, minimum=1)
        dt0 = check_dt0("NeuralSDE", dt0)
        max_steps = check_max_steps("NeuralSDE", max_steps)
        solver, adjoint = sde_defaults("NeuralSDE", interpretation, solver, adjoint)
        k1, k2 = jax.random.split(check_key("NeuralSDE", key))
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

    def solve(self, ts: Real[ArrayLike, " T"], y0: Real[ArrayLike, " size"], *,
              key: PRNGKeyArray, throw: bool = True) -> DESolution:
        """A sample path from `y0` saved at `ts`, driven by the Brownian motion of `key`, with
        the solver's status.

        **Arguments:** `ts` `(T,)` (increasing, T ≥ 2), `y0` `(size,)`, `key` (keyword-only),
        `throw` (keyword-only: with `True` a failed solve raises at run time with the
        status's message; with `False` it is only reported).

        **Returns:** a `DESolution` with `ys` of shape `(T, size)`; the dtype is that of
        `y0` and `ts` promoted.

        **Raises:** `ValueError` for a wrongly shaped `ts` or `y0`; `TypeError` for a
        non-real one or a bad `key`.
        """
        ts = check_times("NeuralSDE", ts)
        y0 = check_state("NeuralSDE", y0, self.size)
        key = check_key("NeuralSDE", key)
        dtype = jnp.result_type(y0, ts)
        bm, dt0, controller = brownian_driver(ts, self.noise_size, dtype, key, self.dt0,
                                              self.grid_steps)
        terms = diffrax.MultiTerm(diffrax.ODETerm(self.drift),
                                  diffrax.ControlTerm(self.diffusion, bm))
        sol = diffrax.diffeqsolve(terms, self.solver, ts[0], ts[-1], dt0, y0.astype(dtype),
                                  saveat=diffrax.SaveAt(ts=ts),
                                  stepsize_controller=controller, adjoint=self.adjoint,
                                  max_steps=self.max_steps, throw=False)
        return solution("NeuralSDE", sol, throw)

    def __call__(self, ts: Real[ArrayLike, " T"], y0: Real[ArrayLike, " size"], *,
                 key: PRNGKeyArray) -> Float[Array, "T size"]:
        """A sample path at `ts`, shape `(T, size)`; raises if the solver fails."""
        return self.solve(ts, y0, key=key).ys
