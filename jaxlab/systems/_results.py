"""The results of the solvers and estimators of `jaxlab.systems`: a solved trajectory and a
Lyapunov spectrum, each with the status of the run that produced it."""

from jaxtyping import Array, Float, Int

from .._core.results import RESULTS, AbstractResult

__all__ = ["LyapunovResult", "Trajectory"]


class Trajectory(AbstractResult):
    """A solved trajectory with its diagnostics.

    **Fields:**

    - `ts`: save times, shape `(n,)`.
    - `ys`: states at `ts`, shape `(n, d)`.
    - `status`: a `jaxlab.RESULTS` item: `successful`, or why the solve failed (a diffrax
      failure such as `max_steps_reached`, or `nonfinite` when the state overflowed).
      `converged` is `status == RESULTS.successful`.
    - `num_steps`: the solver steps taken (accepted + rejected for adaptive solvers).
    """

    ts: Float[Array, " n"]
    ys: Float[Array, "n d"]
    status: RESULTS
    num_steps: Int[Array, ""]


class LyapunovResult(AbstractResult):
    """The output of `lyapunov_spectrum` (batched by `lyapunov_ensemble`: every field then
    has a leading ensemble axis).

    **Fields:**

    - `exponents`: the estimated exponents λ_1 ≥ … ≥ λ_k (per unit time for flows and delay
      systems, per iteration for maps), shape `(k,)`.
    - `running`: the running estimate after each re-orthonormalisation, shape `(m, k)`;
      `running[-1] == exponents`. Plot it against `times` to judge convergence.
    - `times`: the averaging time (flows, delay systems) or number of iterations (maps)
      behind each row of `running`, shape `(m,)`.
    - `final_state`: the state at the end, shape `(d,)` (to continue a run).
    - `status`: a `jaxlab.RESULTS` item: `successful`; a diffrax failure of an ODE solve
      (`max_steps_reached`, ...); `tangent_collapsed` when a tangent vector collapsed onto
      the others within one interval (use a shorter `interval`); `nonfinite` when the state
      or an exponent is not finite. `converged` is `status == RESULTS.successful`.
    """

    exponents: Float[Array, "*b k"]
    running: Float[Array, "*b m k"]
    times: Float[Array, "*b m"]
    final_state: Float[Array, "*b d"]
    status: RESULTS
