"""The results of the samplers and of the likelihood of `jaxlab.generative`: the samples (or
log-densities) with the status of the solve that produced them."""

from jaxtyping import Array, Float, Int

from .._core.results import RESULTS, AbstractResult

__all__ = ["LogLikelihood", "Samples"]


class Samples(AbstractResult):
    """The output of `sample_ode`, `sample_sde`, `sample_diffusion` and `ddim` (batched
    like the call when vmapped).

    **Fields:**

    - `xs`: the end points, shape `(n, d)`: `xs[i]` is where the `i`-th initial point went.
    - `trajectory`: the states at the requested `save_times`, shape `(len(save_times), n, d)`
      (`trajectory[-1] == xs` when the last save time is the end time); None unless
      `save_times` was given.
    - `status`: a `jaxlab.RESULTS` item: `successful`; a diffrax failure of the solve
      (`max_steps_reached`, ...); or `nonfinite` when a sample is NaN or infinite (a diverged
      field or a too-large step). `converged` is `status == RESULTS.successful`.
    - `num_steps`: the solver steps taken (accepted and rejected for adaptive solvers).
    """

    xs: Float[Array, "n d"]
    trajectory: Float[Array, "times n d"] | None
    status: RESULTS
    num_steps: Int[Array, ""]


class LogLikelihood(AbstractResult):
    """The output of `log_likelihood` (batched like the call when vmapped).

    **Fields:**

    - `log_prob`: log ρ₁(x₁) of every point, shape `(n,)`.
    - `x0`: the points the probability-flow ODE carried them back to, shape `(n, d)`.
    - `status`: a `jaxlab.RESULTS` item: `successful`; a diffrax failure of the solve
      (`max_steps_reached`, ...); or `nonfinite` when a log-density or a point is NaN or
      infinite. `converged` is `status == RESULTS.successful`.
    - `num_steps`: the solver steps taken (accepted and rejected for adaptive solvers).
    """

    log_prob: Float[Array, " n"]
    x0: Float[Array, "n d"]
    status: RESULTS
    num_steps: Int[Array, ""]
