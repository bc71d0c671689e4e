"""The results of the models' `solve` methods: the saved path with the solver's status and
step counts, in place of a raw `diffrax.Solution`."""

import diffrax
from jaxtyping import Array, Float, Int

from .._core.results import RESULTS, AbstractResult, check_status, from_diffrax


class DESolution(AbstractResult):
    """A solved neural differential equation: the state `ys` saved at the times `ts`, why the
    solver stopped, and how many steps it took.

    **Fields:**

    - `ts`: the save times, shape `(T,)`.
    - `ys`: the state at `ts`, shape `(T, size)` (`NaN`-free unless the field produced
      non-finite values; check `status`).
    - `status`: a `jaxlab.RESULTS` item: `RESULTS.successful`, or the diffrax failure
      (`max_steps_reached`, `nonfinite`, ...) with its message; `converged` is derived from
      it.
    - `num_steps`, `num_accepted_steps`, `num_rejected_steps`: the solver's step counts
      (scalars; rejected steps only occur with an adaptive step-size controller).
    """

    ts: Float[Array, " T"]
    ys: Float[Array, "T size"]
    status: RESULTS
    num_steps: Int[Array, ""]
    num_accepted_steps: Int[Array, ""]
    num_rejected_steps: Int[Array, ""]


def solution(fn: str, sol: diffrax.Solution, throw: bool) -> DESolution:
    """`sol` (a diffrax solve run with `throw=False`) as a `DESolution`; with `throw`, using
    `ys` raises `"fn: <the status message>"` when the solve failed."""
    status = from_diffrax(sol.result)
    return DESolution(ts=sol.ts, ys=check_status(fn, status, sol.ys, throw), status=status,
                      num_steps=sol.stats["num_steps"],
                      num_accepted_steps=sol.stats["num_accepted_steps"],
                      num_rejected_steps=sol.stats["num_rejected_steps"])
