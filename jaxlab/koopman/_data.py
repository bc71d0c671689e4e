"""Data for Koopman learning: snapshot pairs of a flow (integrated by `jaxlab.systems`), and
uniform samples of a sublevel set (an invariant set of a Hamiltonian flow)."""

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray, Real

from .._core.checks import (
    as_float_array,
    check_bool,
    check_callable,
    check_int,
    check_key,
    check_number,
    check_shape,
    common_float_dtype,
    concrete_values,
    message,
    shape_str,
)
from .._core.results import RESULTS, AbstractResult, check_status, status_where
from ..systems import AbstractFlow, integrate

__all__ = ["FlowPairs", "SublevelSample", "flow_pairs", "sample_sublevel_set"]


class FlowPairs(AbstractResult):
    """Snapshot pairs (x_i, F_Δt(x_i)) of a flow, from `flow_pairs`.

    **Fields:**

    - `x`, `y`: the pairs, shape `(n·steps, d)` each, ordered step-major (all initial
      states' first pairs, then their second, …).
    - `status`: `RESULTS.successful`, or the failure of the first trajectory whose solve
      failed (e.g. `RESULTS.max_steps_reached`; its states are then `inf`); `converged` is
      `status == RESULTS.successful`.
    """

    x: Float[Array, "m d"]
    y: Float[Array, "m d"]
    status: RESULTS


def flow_pairs(vector_field: AbstractFlow | Callable, initial_states: Real[ArrayLike, "n d"],
               *, dt: float, steps: int, rtol: float | None = None, atol: float | None = None,
               max_steps: int = 100_000, throw: bool = True) -> FlowPairs:
    """Snapshot pairs (x_i, F_Δt(x_i)) of a flow, from n initial states × `steps` steps each.

    Each initial state is integrated by `jaxlab.systems.integrate` (vmapped over the
    initial states; its solver and default tolerances: `Dopri8` with rtol = 1e-10,
    atol = 1e-12 in float64, `Tsit5` with 1e-6, 1e-8 in float32; first step Δt/4) to times
    Δt, 2Δt, …, steps·Δt; the pairs are consecutive states, ordered step-major, so
    m = n·steps.

    **Arguments:**

    - `vector_field`: f(t, y) → dy/dt for one state `(d,)`, or a
      `jaxlab.systems.AbstractFlow`.
    - `initial_states`: shape `(n, d)`; the precision follows them (integers are promoted
      to the default float).
    - `dt`: the sampling interval Δt > 0; `steps`: ≥ 1.
    - `rtol`, `atol`: tolerances (default: `integrate`'s).
    - `max_steps`: solver step budget per trajectory.
    - `throw`: raise at run time (with the solver's reason) if a trajectory fails; with
      `throw=False` the failure is the result's `status`.

    **Returns:** a `FlowPairs` with `x`, `y` of shape `(n·steps, d)` and a `status`.

    **Raises:** `TypeError` for a vector field that is neither callable nor a flow, or
    non-numbers; `ValueError` for bad shapes or parameters.

    **References:** Kidger, *On Neural Differential Equations* (2022), for diffrax;
    Colbrook, Mezić & Stepanenko (2024), the Duffing data (Δt = 0.3, a few steps per
    initial condition).
    """
    fn = "flow_pairs"
    if not isinstance(vector_field, AbstractFlow):
        check_callable(fn, "vector_field", vector_field,
                       want="a callable f(t, y) or a jaxlab.systems.AbstractFlow")
    x0 = as_float_array(fn, "initial_states", initial_states)
    check_shape(fn, "initial_states", x0, (None, None), want="(n, d)")
    if x0.shape[0] < 1:
        raise ValueError(message(fn, "initial_states", "at least one state (n >= 1)",
                                 f"shape {shape_str(x0)}"))
    dt = check_number(fn, "dt", dt, minimum=0.0, open_minimum=True)
    steps = check_int(fn, "steps", steps, minimum=1)
    rtol = check_number(fn, "rtol", rtol, minimum=0.0, open_minimum=True, none_ok=True)
    atol = check_number(fn, "atol", atol, minimum=0.0, open_minimum=True, none_ok=True)
    max_steps = check_int(fn, "max_steps", max_steps, minimum=1)
    throw = check_bool(fn, "throw", throw)
    ts = dt * jnp.arange(steps + 1, dtype=x0.dtype)
    ys, status = _solve(vector_field, x0, ts, rtol, atol, dt / 4, max_steps)
    d = x0.shape[1]
    x, y = ys[:-1].reshape(-1, d), ys[1:].reshape(-1, d)
    x, y = check_status(fn, status, (x, y), throw)
    return FlowPairs(x=x, y=y, status=status)


def _solve(vector_field, x0, ts, rtol, atol, dt0, max_steps):
    """Not jitted itself: `integrate` compiles its solve with the tolerances and first step
    as arrays, so new values of them (or of a flow's parameters) reuse that compilation."""
    def one(y0):
        return integrate(vector_field, y0, ts, rtol=rtol, atol=atol, dt0=dt0,
                         max_steps=max_steps, throw=False)

    trajectories = jax.vmap(one)(x0)
    statuses = trajectories.status                                     # batched (n,)
    first = jnp.argmax(statuses != RESULTS.successful)   # 0 when every solve succeeded
    status = jax.tree.map(lambda v: v[first], statuses)
    return jnp.swapaxes(trajectories.ys, 0, 1), status                 # (steps + 1, n, d)


# ---------------------------------------------------------------------- sublevel sets


class SublevelSample(AbstractResult):
    """Uniform samples of a sublevel set, from `sample_sublevel_set`.

    **Fields:**

    - `points`: shape `(n, d)`; rows not filled when the budget ran out are NaN.
    - `num_draws`, `num_accepted`: candidates drawn in the box and accepted in all;
      `num_accepted / num_draws` estimates the set's fraction of the box's volume.
    - `status`: `RESULTS.successful`, or `RESULTS.not_converged` when `max_rounds` rounds
      did not yield n points.
    """

    points: Float[Array, "n d"]
    num_draws: Int[Array, ""]
    num_accepted: Int[Array, ""]
    status: RESULTS


def sample_sublevel_set(function: Callable, level: float, n: int, *,
                        low: Real[ArrayLike, " d"] | Sequence[float],
                        high: Real[ArrayLike, " d"] | Sequence[float],
                        key: PRNGKeyArray, batch_size: int | None = None,
                        max_rounds: int = 100, throw: bool = True) -> SublevelSample:
    """n points uniform on {x in the box [low, high] : function(x) ≤ level}, by rejection.

    Rounds of `batch_size` candidates uniform in the box are drawn; those with
    function(x) ≤ level are kept in the order drawn, until n are kept (one compiled
    `lax.while_loop`). For a Hamiltonian flow and H the energy, {H ≤ E} is an invariant set
    and Lebesgue measure on it is invariant (Liouville), so these states, with uniform
    weights, sample the invariant measure for which the Koopman operator is unitary — the
    data of `pseudospectrum(..., measure_preserving=True)`.

    **Arguments:**

    - `function`: a scalar function of one state `(d,)`, e.g. an energy (traceable).
    - `level`: the sublevel E.
    - `n`: the number of points (≥ 1).
    - `low`, `high`: the corners of a box containing the set, shape `(d,)`, low < high.
    - `key`: the PRNG key.
    - `batch_size`: candidates per round (default 2n + 64).
    - `max_rounds`: the round budget (≥ 1).
    - `throw`: raise at run time when the budget ran out; with `throw=False` that is the
      status `RESULTS.not_converged`.

    **Returns:** a `SublevelSample` (`points`, `num_draws`, `num_accepted`, `status`), in
    the floating dtype of `low` and `high` (the default float for Python numbers).

    **Raises:** `TypeError` for a non-callable function, non-numbers, non-int sizes or a
    bad key; `ValueError` for n or the budget < 1, or a box of the wrong shape or with
    low ≥ high.

    **References:** von Neumann, *Various techniques used in connection with random
    digits* (1951), rejection sampling; Colbrook & Townsend, CPAM 77 (2024), the pendulum
    example (states uniform on an energy sublevel set).
    """
    fn = "sample_sublevel_set"
    check_callable(fn, "function", function)
    level = check_number(fn, "level", level)
    n = check_int(fn, "n", n, minimum=1)
    low = as_float_array(fn, "low", low, ndim=1)
    high = as_float_array(fn, "high", high)
    dtype = common_float_dtype(low, high)
    low, high = low.astype(dtype), high.astype(dtype)
    check_shape(fn, "high", high, low.shape, want=f"{shape_str(low)} (the shape of low)")
    lo, hi = concrete_values(low), concrete_values(high)
    if lo is not None and hi is not None and not np.all(lo < hi):
        raise ValueError(message(fn, "high", "greater than low in every coordinate",
                                 f"high = {hi.tolist()} for low = {lo.tolist()}"))
    batch_size = check_int(fn, "batch_size", batch_size, minimum=1, none_ok=True)
    batch_size = 2 * n + 64 if batch_size is None else batch_size
    max_rounds = check_int(fn, "max_rounds", max_rounds, minimum=1)
    key = check_key(fn, key)
    throw = check_bool(fn, "throw", throw)
    # the level and the budget are traced: one compilation serves every value of them
    points, count, accepted, rounds = _rejection(function, jnp.asarray(level, dtype), low, high,
                                                 key, jnp.asarray(max_rounds), n, batch_size)
    status = status_where(count == n, RESULTS.not_converged)
    points = check_status(fn, status, points, throw)
    return SublevelSample(points=points, num_draws=rounds * batch_size,
                          num_accepted=accepted, status=status)


@eqx.filter_jit
def _rejection(function, level, low, high, key, max_rounds, n, batch):
    d = low.shape[0]

    def keep_going(carry):
        _, count, _, rounds, _ = carry
        return (count < n) & (rounds < max_rounds)

    def draw(carry):
        points, count, accepted, rounds, key = carry
        key, sub = jax.random.split(key)
        candidates = jax.random.uniform(sub, (batch, d), low.dtype, low, high)
        ok = jax.vmap(function)(candidates) <= level
        slot = jnp.where(ok, count + jnp.cumsum(ok, dtype=jnp.int32) - 1, n)   # n+: dropped
        points = points.at[slot].set(candidates, mode="drop")
        got = jnp.sum(ok, dtype=jnp.int32)
        return points, jnp.minimum(count + got, n), accepted + got, rounds + 1, key

    zero = jnp.zeros((), jnp.int32)
    init = (jnp.full((n, d), jnp.nan, low.dtype), zero, zero, zero, key)
    points, count, accepted, rounds, _ = jax.lax.while_loop(keep_going, draw, init)
    return points, count, accepted, rounds
