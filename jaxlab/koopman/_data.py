"""Snapshot pairs from a flow: many initial conditions, a few steps of Δt each."""

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._core.checks import shape_str

__all__ = ["flow_pairs"]


def flow_pairs(vector_field: Callable, initial_states: Float[ArrayLike, "n d"], dt: float,
               steps: int, *, rtol: float | None = None, atol: float | None = None,
               max_steps: int = 100_000) -> tuple[Float[Array, "m d"], Float[Array, "m d"]]:
    """Snapshot pairs (x_i, F_Δt(x_i)) of a flow, from n initial states × `steps` steps each.

    Each initial state is integrated (diffrax, `Dopri8` in float64 / `Tsit5` in float32, PID
    step control) to times Δt, 2Δt, …, steps·Δt; the pairs are consecutive states, ordered
    step-major (all initial states' first pairs, then their second, …), so m = n·steps.

    **Arguments:**

    - `vector_field`: f(t, y) → dy/dt for one state `(d,)`, or a `jaxlab.systems.AbstractFlow`.
    - `initial_states`: shape `(n, d)`; the precision follows them.
    - `dt`: the sampling interval Δt > 0; `steps`: ≥ 1.
    - `rtol`, `atol`: tolerances (default 1e-12 in float64, 1e-6/1e-8 in float32).
    - `max_steps`: solver step budget per trajectory.

    **Returns:** `(x, y)`, each `(n·steps, d)`.

    **Raises:** `ValueError` for bad shapes or parameters; the solve raises (via
    `eqx.error_if`) if a trajectory fails.
    """
    x0 = jnp.asarray(initial_states)
    if x0.ndim != 2:
        raise ValueError(f"flow_pairs: initial_states must have shape (n, d), got "
                         f"{shape_str(x0)}")
    if not jnp.issubdtype(x0.dtype, jnp.floating):
        x0 = x0.astype(jnp.result_type(float))
    if not dt > 0:
        raise ValueError(f"flow_pairs: dt must be positive, got {dt!r}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"flow_pairs: steps must be an int >= 1, got {steps!r}")
    f64 = x0.dtype == jnp.float64
    rtol = rtol if rtol is not None else (1e-12 if f64 else 1e-6)
    atol = atol if atol is not None else (1e-12 if f64 else 1e-8)
    field = getattr(vector_field, "vector_field", vector_field)
    traj = _solve(field, x0, float(dt), steps, float(rtol), float(atol), max_steps, f64)
    return traj[:-1].reshape(-1, x0.shape[1]), traj[1:].reshape(-1, x0.shape[1])


@eqx.filter_jit
def _solve(field, x0, dt, steps, rtol, atol, max_steps, f64):
    solver = diffrax.Dopri8() if f64 else diffrax.Tsit5()
    ts = dt * jnp.arange(steps + 1, dtype=x0.dtype)

    def one(y0):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(lambda t, y, args: field(t, y)), solver, t0=0.0, t1=ts[-1],
            dt0=dt / 4, y0=y0, saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
            max_steps=max_steps, throw=True)
        return sol.ys

    return jnp.swapaxes(jax.vmap(one)(x0), 0, 1)                       # (steps + 1, n, d)
