"""The status every estimator and solver of jaxlab returns: a results enumeration that
carries the reason for a failure, as diffrax's `RESULTS` does, and the base class of the
results that hold it.

`RESULTS` extends `diffrax.RESULTS` (which extends `optimistix.RESULTS`), so the status of
a diffrax solve or an optimistix minimisation becomes a jaxlab status with
`RESULTS.promote(solution.result)`, keeping its message.
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool

__all__ = ["RESULTS", "AbstractResult", "check_field", "check_status", "from_diffrax",
           "report_status", "status_where"]


class RESULTS(diffrax.RESULTS):  # pyright: ignore[reportGeneralTypeIssues]
    """Why a jaxlab estimator or solver stopped: `RESULTS.successful`, or a failure whose
    message says what to change. The members of `diffrax.RESULTS` and `optimistix.RESULTS`
    (`max_steps_reached`, `nonfinite`, `nonlinear_max_steps_reached`, `singular`, ...) are
    members too; `RESULTS[item]` is an item's message."""

    not_converged = ("The iteration stopped at its budget before meeting its tolerance; "
                     "raise the budget or loosen the tolerance.")
    tangent_collapsed = (
        "A tangent vector collapsed onto the others within one re-orthonormalisation "
        "interval: the exponents spread too far for this interval; pass a smaller interval "
        "(e.g. a tenth) or fewer exponents.")
    left_grid = ("A value left the grid it is represented on; widen the grid.")
    inexact_support = ("The support does not contain every reachable value, so the result "
                       "carries a projection error; pass a finer grid or support.")


class AbstractResult(eqx.Module):
    """Base of the results of estimators and solvers: a `status` field (a `RESULTS` item,
    batched like the result when vmapped) and the derived `converged`."""

    status: eqx.AbstractVar[RESULTS]

    @property
    def converged(self) -> Bool[Array, "..."]:
        """`status == RESULTS.successful` (batched like the result)."""
        return self.status == RESULTS.successful


def status_where(ok, failure: RESULTS) -> RESULTS:
    """`RESULTS.successful` where the scalar boolean `ok` holds, else `failure`."""
    return RESULTS.where(ok, RESULTS.successful, failure)


def from_diffrax(result) -> RESULTS:
    """A `diffrax.RESULTS` (or `optimistix.RESULTS`) item as a jaxlab `RESULTS` item."""
    return RESULTS.promote(result)


def check_status(fn: str, status: RESULTS, token, throw: bool):
    """`token`, with a runtime error attached when `throw` and the status is not successful
    (`eqx.error_if` semantics: raised when `token` is used), whose message is
    `"fn: <the status message>"`."""
    if not throw:
        return token
    messages = [f"{fn}: {RESULTS[item]}" for item in _ITEMS]
    return eqx.branched_error_if(token, status != RESULTS.successful, status._value, messages)


def report_status(fn: str, status: RESULTS, x, throw: bool):
    """`check_status(fn, status, x, throw)`: `x`, raising at run time when `throw` and the
    status is not successful. A concrete status is checked through a scalar (raising now),
    so the check compiles once for every result shape; a traced one is attached to `x`."""
    if isinstance(x, jax.core.Tracer) or isinstance(status._value, jax.core.Tracer):
        return check_status(fn, status, x, throw)
    check_status(fn, status, jnp.zeros(()), throw)
    return x


def check_field(fn: str, result, field: str, throw: bool):
    """`result` with a runtime error attached to its `field` when `throw` and its status is
    a failure (`check_status`). Called on the output of a compiled core, so that `throw`
    is not part of the compilation: `throw=True` and `throw=False` share one program."""
    if not throw:
        return result
    value = check_status(fn, result.status, getattr(result, field), True)
    return eqx.tree_at(lambda r: getattr(r, field), result, value)


_ITEMS = [getattr(RESULTS, name) for name in RESULTS._name_to_item]
