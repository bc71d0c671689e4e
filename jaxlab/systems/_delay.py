"""Delay-differential equations: the six delay systems of dysts, a fixed-step solver for
them, and their Lyapunov exponents.

A delay system dy/dt = f(t, y(t), y(t − τ)) starts from the constant history y(s) = y0 on
[−τ, 0] (the dysts convention) and is solved by the method of steps with an explicit
Runge–Kutta scheme on a grid whose step h = τ/m divides the delay. The last m + 1 grid
values and slopes are kept in a ring buffer; a delayed value between grid points (the
midpoint stages of RK4) is read from the cubic Hermite interpolant of the buffer, whose
O(h⁴) error keeps the scheme fourth-order. Because h divides τ, the grid also lands on the
points t = kτ where the solution's derivatives jump (the corner at t = 0 propagates), so
no accuracy is lost there.

The equations, default parameters, initial conditions, step-size hints (`dt`), dominant
periods and citations are those of dysts 0.96 (W. Gilpin, *Chaos as an interpretable
benchmark for forecasting and data-driven modelling*, NeurIPS 2021; Apache-2.0), written
here in JAX. dysts lists ten initial conditions per delay system (a delay embedding of the
scalar state); it integrates from the first, and so does jaxlab: `dimension` is 1.
"""

import math
from typing import ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._base import AbstractDelay
from ._integrate import Trajectory, check_state
from ._lyapunov import LyapunovResult, _orthonormalise


def _delay_time(value) -> float:
    """Converter of the `tau` fields: a positive finite Python float, never a tracer."""
    ok = (not isinstance(value, (jax.core.Tracer, bool, str)) and np.ndim(value) == 0
          and np.issubdtype(np.asarray(value).dtype, np.number))
    tau = float(value) if ok else math.nan
    if not (math.isfinite(tau) and tau > 0):
        raise ValueError(f"tau must be a positive finite Python number (the delay fixes the "
                         f"step grid, so it cannot be traced, vmapped or differentiated), got "
                         f"{value!r}")
    return tau


# ------------------------------------------------------------------------ the systems


class MackeyGlass(AbstractDelay):
    """The Mackey–Glass (1977) model of blood-cell production.

    dx/dt = β x(t − τ) / (1 + x(t − τ)ⁿ) − γ x(t).

    Chaotic for τ ≳ 16.8 at (β, γ, n) = (0.2, 0.1, 10). dysts's default τ = 16 lies just
    below that: from the default history jaxlab measures λ_max ≈ 0 there (a periodic
    orbit). At the classic chaotic value τ = 17, λ_max ≈ 0.0050 per time unit (measured
    with `delay_lyapunov_spectrum`, 7 trajectories of T = 17000). x = 1 is an unstable
    equilibrium for every τ.
    """

    beta: ArrayLike = 0.2
    gamma: ArrayLike = 0.1
    n: ArrayLike = 10.0
    tau: float = eqx.field(default=16.0, static=True, converter=_delay_time)

    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (0.83347846,)
    dt: ClassVar[float] = 0.0012027363718948435
    period: ClassVar[float] = 5.9612230962292045
    citation: ClassVar[str] = (
        "Glass, L. and Mackey, M. C. (1979). Pathological physiological conditions "
        "resulting from instabilities in physiological control systems. Ann. NY. Acad. Sci."
    )

    def vector_field(self, t: Float[Array, ""], y: Float[Array, " 1"],
                     history: Float[Array, " 1"]) -> Float[Array, " 1"]:
        return self.beta * history / (1 + history**self.n) - self.gamma * y


class IkedaDelay(AbstractDelay):
    """The Ikeda delay model of a passive optical resonator.

    dx/dt = μ sin(x(t − τ) − x₀) − c x(t).
    """

    c: ArrayLike = 1.0
    mu: ArrayLike = -20.0
    tau: float = eqx.field(default=2.0, static=True, converter=_delay_time)
    x0: ArrayLike = 0.0

    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (0.024144317,)
    dt: ClassVar[float] = 0.00029831999999998973
    period: ClassVar[float] = 3.486528
    citation: ClassVar[str] = (
        "K. Ikeda and K. Matsumoto (1987). High-dimensional chaotic behavior in systems "
        "with time-delayed feedback, Physica D, 29 (1-2), 223-235"
    )

    def vector_field(self, t: Float[Array, ""], y: Float[Array, " 1"],
                     history: Float[Array, " 1"]) -> Float[Array, " 1"]:
        return self.mu * jnp.sin(history - self.x0) - self.c * y


class SprottDelay(AbstractDelay):
    """Sprott's (2007) algebraically simple delay equation, dx/dt = sin(x(t − τ)).

    The Ikeda equation dx/dt = μ sin(x(t − τ) − x₀) − c x(t) at c = 0, μ = 1, x₀ = 0, τ = 5.1
    (dysts defines it as a subclass of `IkedaDelay`).
    """

    c: ArrayLike = 0.0
    mu: ArrayLike = 1.0
    tau: float = eqx.field(default=5.1, static=True, converter=_delay_time)
    x0: ArrayLike = 0.0

    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (9.30770542,)
    dt: ClassVar[float] = 0.0028125
    period: ClassVar[float] = 20.15628
    citation: ClassVar[str] = (
        "Sprott, J. C (2007). A simple chaotic delay differential equation. Physics "
        "Letters A 366.4-5: 397-402."
    )

    def vector_field(self, t: Float[Array, ""], y: Float[Array, " 1"],
                     history: Float[Array, " 1"]) -> Float[Array, " 1"]:
        return self.mu * jnp.sin(history - self.x0) - self.c * y


class VossDelay(AbstractDelay):
    """Voss's (2002) electronic circuit with delayed cubic feedback.

    dx/dt = −α x(t) + f(x(t − τ)),  f(u) = −10.44 u³ − 13.95 u² − 3.63 u + 0.85.
    """

    alpha: ArrayLike = 3.24
    tau: float = eqx.field(default=13.28, static=True, converter=_delay_time)

    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (0.24640194,)
    dt: ClassVar[float] = 0.0053123603161361645
    period: ClassVar[float] = 10.0
    citation: ClassVar[str] = (
        "Voss (2002). Real-time anticipation of chaotic states of an electronic circuit."
    )

    def vector_field(self, t: Float[Array, ""], y: Float[Array, " 1"],
                     history: Float[Array, " 1"]) -> Float[Array, " 1"]:
        u = history
        return -self.alpha * y + (-10.44 * u**3 - 13.95 * u**2 - 3.63 * u + 0.85)


class ScrollDelay(AbstractDelay):
    """A delay model realisable as an electronic circuit, with tanh feedback.

    dx/dt = −α x(t − τ) + β tanh(10 x(t − τ)), as dysts 0.96 writes it: both terms act
    on the delayed state (the damping is not −α x(t)).
    """

    alpha: ArrayLike = 0.2
    beta: ArrayLike = 0.2
    tau: float = eqx.field(default=10.0, static=True, converter=_delay_time)

    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (-0.70009241,)
    dt: ClassVar[float] = 0.030694772119777555
    period: ClassVar[float] = 152.40701151828662
    citation: ClassVar[str] = (
        "R.D. Driver, Ordinary and Delay Differential Equations (Springer, New York, 1977)."
    )

    def vector_field(self, t: Float[Array, ""], y: Float[Array, " 1"],
                     history: Float[Array, " 1"]) -> Float[Array, " 1"]:
        u = history
        return -self.alpha * u + self.beta * jnp.tanh(10 * u)


class PiecewiseCircuit(AbstractDelay):
    """A delay model realisable as an electronic circuit, with cubic feedback.

    dx/dt = −α x(t − τ) + β f(x(t − τ)),  f(u) = −(u/c)³ + 3u/c, as dysts 0.96 writes it:
    both terms act on the delayed state (the damping is not −α x(t)).
    """

    alpha: ArrayLike = 1.0
    beta: ArrayLike = 1.0
    c: ArrayLike = 2.24
    tau: float = eqx.field(default=4.9, static=True, converter=_delay_time)

    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (-0.37155972,)
    dt: ClassVar[float] = 0.01059473019233792
    period: ClassVar[float] = 52.99484890125133
    citation: ClassVar[str] = (
        "A. Tamasevicius, G. Mykolaitis, S. Bumeliene, Electron. Lett. 42, 13 (2006)"
    )

    def vector_field(self, t: Float[Array, ""], y: Float[Array, " 1"],
                     history: Float[Array, " 1"]) -> Float[Array, " 1"]:
        u = history
        return -self.alpha * u + self.beta * (-((u / self.c) ** 3) + 3 * u / self.c)


# ----------------------------------------------------------------- the fixed-step solver


class _Tableau(NamedTuple):
    """An explicit Runge–Kutta tableau whose first stage is at c = 0 (its slope is reused)."""

    c: tuple[float, ...]
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    order: int


_METHODS: dict[str, _Tableau] = {
    "euler": _Tableau((0.0,), ((),), (1.0,), 1),
    "heun": _Tableau((0.0, 1.0), ((), (1.0,)), (0.5, 0.5), 2),
    "rk3": _Tableau((0.0, 0.5, 1.0), ((), (0.5,), (-1.0, 2.0)), (1 / 6, 2 / 3, 1 / 6), 3),
    "rk4": _Tableau((0.0, 0.5, 0.5, 1.0), ((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
                    (1 / 6, 1 / 3, 1 / 3, 1 / 6), 4),
}


def _hermite(theta, h, y_a, d_a, y_b, d_b):
    """The cubic Hermite interpolant on [t_a, t_a + h] at t_a + θh (values y, slopes d)."""
    t2 = theta * theta
    t3 = t2 * theta
    return ((2 * t3 - 3 * t2 + 1) * y_a + (t3 - 2 * t2 + theta) * h * d_a
            + (3 * t2 - 2 * t3) * y_b + (t3 - t2) * h * d_b)


def _read(buffer, slot):
    return jax.lax.dynamic_index_in_dim(buffer, slot, axis=0, keepdims=False)


def _initial_history(system: AbstractDelay, y0, m: int):
    """The ring buffer of (y, dy/dt) on the grid t_j = jh, j = −m..0: shape `(m + 1, 2, d)`,
    grid point j in slot j mod (m + 1).

    The constant history has slope 0; the slope stored at t = 0 is the right-hand one,
    f(0, y0, y0), the slope the solution leaves with.
    """
    zero = jnp.zeros((), y0.dtype)
    values = jnp.broadcast_to(y0, (m + 1, *y0.shape))
    slopes = jnp.zeros_like(values).at[0].set(system.vector_field(zero, y0, y0))
    return jnp.stack([values, slopes], axis=1)


def _window(history, n, m: int):
    """The three grid points a step from t_n reads: t_n, t_n − τ, t_n − τ + h (shape (3, 2, d))."""
    size = m + 1
    return jnp.stack([_read(history, n % size), _read(history, (n + 1) % size),
                      _read(history, (n + 2) % size)])


def _rk_step(system: AbstractDelay, tableau: _Tableau, m: int, h: float, n, history, window):
    """One step t_n → t_{n+1} of the buffered map.

    `history` holds (y, dy/dt) at t_{n−m..n}; `window` is `_window(history, n, m)`, carried
    so that the step reads the buffer only after its one write (XLA otherwise re-reads the
    old buffer after the write and copies all m + 1 rows every step). Returns the buffer and
    window for t_{n+1}, and (y_n, d_n, y_{n+1}, d_{n+1}) for dense output.
    """
    size = m + 1
    dtype = history.dtype
    (y_n, d_n), (y_a, d_a), (y_b, d_b) = window  # t_n, t_n − τ, t_n − τ + h
    # The corner at t = 0: on [−h, 0] the history's slope at 0 is 0 (the left-hand one),
    # not the right-hand slope stored there.
    d_b_left = jnp.where(n == m - 1, jnp.zeros_like(d_b), d_b)
    t_n = n.astype(dtype) * jnp.asarray(h, dtype)
    ks = [d_n]  # first-same-as-last: d_n = f(t_n, y_n, y_{n−m}) was stored by the last step
    for c, row in zip(tableau.c[1:], tableau.a[1:], strict=True):
        stage = y_n + h * sum(a * k for a, k in zip(row, ks, strict=False) if a != 0.0)
        if c == 0.0:
            delayed = y_a
        elif c == 1.0:
            delayed = y_b
        else:
            delayed = _hermite(c, h, y_a, d_a, y_b, d_b_left)
        ks.append(system.vector_field(t_n + jnp.asarray(c * h, dtype), stage, delayed))
    y_next = y_n + h * sum(b * k for b, k in zip(tableau.b, ks, strict=True) if b != 0.0)
    d_next = system.vector_field(t_n + jnp.asarray(h, dtype), y_next, y_b)
    newest = jnp.stack([y_next, d_next])
    # t_{n+1} overwrites t_{n−m}; the next step reads t_{n+1}, t_{n+1−m} (this step's
    # t_n − τ + h) and t_{n+2−m}, in slot n + 3 (for m = 1 that is the slot just written).
    history = jax.lax.dynamic_update_index_in_dim(history, newest, (n + 1) % size, axis=0)
    window = jnp.stack([newest, window[2], _read(history, (n + 3) % size)])
    return history, window, (y_n, d_n, y_next, d_next)


def _steps_per_delay(fn: str, system: AbstractDelay, dt) -> int:
    """m, the number of steps per delay: the smallest with τ/m ≤ dt."""
    dt = system.dt if dt is None else dt
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not 0 < dt < math.inf:
        raise ValueError(f"{fn}: dt must be a positive number, got {dt!r}")
    return max(1, math.ceil(system.tau / dt - 1e-9))


def _check_method(fn: str, method) -> _Tableau:
    if method not in _METHODS:
        raise ValueError(f"{fn}: method must be one of {sorted(_METHODS)}, got {method!r}")
    return _METHODS[method]


def _check_system(fn: str, system) -> AbstractDelay:
    """Check the type; return `system` with its Python-number parameters as (weakly typed)
    arrays, so that new parameter values do not recompile the `filter_jit` cores (which
    treat Python numbers as static)."""
    if not isinstance(system, AbstractDelay):
        raise TypeError(f"{fn}: system must be an AbstractDelay (flows use integrate, maps "
                        f"iterate), got {type(system).__name__}")
    return jax.tree_util.tree_map(
        lambda x: jnp.asarray(x) if isinstance(x, (int, float)) and not isinstance(x, bool)
        else x, system)


def integrate_delay(system: AbstractDelay, y0: Float[ArrayLike, " d"],
                    ts: Float[ArrayLike, " n"], *, dt: float | None = None,
                    method: str = "rk4", throw: bool = True) -> Trajectory:
    """Integrate a delay system from the constant history y0 on [−τ, 0]; save it at `ts`.

    The method of steps with a fixed step h = τ/m, m = ⌈τ/dt⌉, so that h ≤ `dt` divides
    the delay: every grid step is an explicit Runge–Kutta step whose delayed values come
    from a ring buffer of the last m + 1 grid values and slopes, read at off-grid times
    through cubic Hermite interpolation (fourth-order accurate). The grid starts at t = 0;
    the states at `ts` come from the Hermite interpolant of the step that contains them
    (exact grid values where `ts` lies on the grid), so they keep the scheme's order.
    Integration runs from 0 to `ts[-1]`; a positive `ts[0]` makes [0, `ts[0]`) a transient.

    `ts` must be concrete (not traced): its last value fixes the number of steps. The
    function compiles once per (number of steps, m, length of `ts`, most saves in one step,
    method, system class and τ); new `y0`, parameters or shifted `ts` with the same step
    count reuse it. A step costs the same whatever m (the buffer is updated in place). It is
    `vmap`pable over `y0` and the system's parameters (all but τ) and differentiable in
    both. Precision follows `y0` (float32 by default, float64 when `y0` is float64).

    **Arguments:**

    - `system`: an `AbstractDelay`, e.g. `MackeyGlass()`.
    - `y0`: the initial value and constant history on [−τ, 0], shape `(d,)`.
    - `ts`: increasing save times, `ts[0] ≥ 0`, shape `(n,)`, n ≥ 1.
    - `dt`: the largest step allowed (default: `system.dt`); the step is τ/⌈τ/dt⌉.
    - `method`: the Runge–Kutta scheme: `"rk4"` (classic, order 4; default), `"rk3"`
      (Kutta, order 3), `"heun"` (order 2) or `"euler"` (order 1).
    - `throw`: raise (inside `jit`, via `eqx.error_if`) if the state becomes non-finite;
      with `throw=False` that is reported in `Trajectory.converged`.

    **Returns:** a `Trajectory` with `ys` of shape `(n, d)` and `num_steps` the number of
    grid steps taken.

    **Raises:** `TypeError` if `system` is not a delay system; `ValueError` for a `y0` of the
    wrong shape, a traced, non-increasing, negative or non-finite `ts`, a bad `dt` or an
    unknown `method`.

    **References:** Bellen & Zennaro, *Numerical Methods for Delay Differential Equations*
    (Oxford, 2003), for the method of steps and continuous Runge–Kutta extensions;
    Gilpin, *Chaos as an interpretable benchmark for forecasting and data-driven
    modelling* (NeurIPS 2021), for the systems.
    """
    fn = "integrate_delay"
    system = _check_system(fn, system)
    y0 = check_state(fn, system, y0)
    if isinstance(ts, jax.core.Tracer):
        raise ValueError(f"{fn}: ts must be concrete, not traced (its last value fixes the "
                         f"number of steps); close over it instead of passing it through "
                         f"jit or vmap, got a tracer of shape {ts.shape}")
    times = np.asarray(ts, dtype=np.float64)
    if times.ndim != 1 or times.shape[0] < 1:
        raise ValueError(f"{fn}: ts must be a 1-D array of at least 1 time, got shape "
                         f"{times.shape}")
    if not np.all(np.isfinite(times)) or times[0] < 0:
        raise ValueError(f"{fn}: ts must be finite and start at or after 0 (the history "
                         f"ends at 0), got ts[0] = {float(times[0])!r}")
    if np.any(np.diff(times) <= 0):
        raise ValueError(f"{fn}: ts must be strictly increasing")
    tableau = _check_method(fn, method)
    m = _steps_per_delay(fn, system, dt)
    h = system.tau / m
    ratio = times / h
    num_steps = max(1, math.ceil(ratio[-1] - 1e-9 * max(1.0, ratio[-1])))
    step_of = np.clip(np.floor(ratio), 0, num_steps - 1).astype(np.int32)
    theta = np.clip(ratio - step_of, 0.0, 1.0)
    per_step = int(np.bincount(step_of).max())
    ys, ok = _integrate_delay(system, y0, jnp.asarray(step_of), jnp.asarray(theta, y0.dtype),
                              tableau, m, num_steps, per_step)
    if throw:
        ys = eqx.error_if(ys, jnp.logical_not(ok),
                          "integrate_delay: the state became non-finite; reduce dt or check "
                          "y0 and the parameters")
    return Trajectory(ts=jnp.asarray(times, y0.dtype), ys=ys, converged=ok,
                      num_steps=jnp.asarray(num_steps, jnp.int32))


@eqx.filter_jit
def _integrate_delay(system, y0, step_of, theta, tableau, m, num_steps, per_step):
    h = system.tau / m
    num_out = step_of.shape[0]
    lanes = jnp.arange(per_step, dtype=jnp.int32)

    def body(carry, _):
        history, window, n, out, done, ok = carry
        history, window, (y_n, d_n, y_next, d_next) = _rk_step(system, tableau, m, h, n,
                                                               history, window)
        # The saves in this step are the next (at most `per_step`) ones not yet written.
        index = done + lanes
        safe = jnp.minimum(index, num_out - 1)
        hit = (index < num_out) & (step_of[safe] == n)
        dense = _hermite(theta[safe][:, None], h, y_n, d_n, y_next, d_next)
        out = out.at[jnp.where(hit, index, num_out)].set(dense, mode="drop")
        ok = ok & jnp.all(jnp.isfinite(y_next))
        return (history, window, n + 1, out, done + jnp.sum(hit, dtype=jnp.int32), ok), None

    out = jnp.zeros((num_out, y0.shape[0]), y0.dtype)
    history, start = _initial_history(system, y0, m), jnp.array(0, jnp.int32)
    init = (history, _window(history, start, m), start, out, jnp.array(0, jnp.int32),
            jnp.array(True))
    (_, _, _, out, _, ok), _ = jax.lax.scan(body, init, None, length=num_steps)
    return out, ok


# ----------------------------------------------------------------- Lyapunov exponents


def delay_lyapunov_spectrum(system: AbstractDelay, y0: Float[ArrayLike, " d"] | None = None, *,
                            num_exponents: int | None = None, num_intervals: int = 1000,
                            interval: float | None = None, transient: float | None = None,
                            dt: float | None = None, method: str = "rk4",
                            throw: bool = True) -> LyapunovResult:
    """Estimate the leading Lyapunov exponents of a delay system (Benettin/QR).

    The state of a delay equation is its history on [t − τ, t], an infinite-dimensional
    object. It is discretised as the solver's buffer: the values and slopes at the m + 1
    grid points of the last delay (h = τ/m, as in `integrate_delay`), so one solver step is
    a map of (m + 1)·d values and (m + 1)·d slopes. `k` tangent vectors of that buffer,
    started as its first `k` unit vectors, are propagated with `jax.linearize` of the
    step and re-orthonormalised by QR every `interval`; λ_i = (1/T) Σ log R_ii. The slopes
    are functions of past values, so they add no spurious exponents at the top of the
    spectrum; the exponents converge to those of the delay equation as h → 0 (for a
    linear equation, the real parts of the roots of its characteristic equation).
    Early rows of `running` carry the bias of the initial tangent vectors (single grid
    points), which decays like 1/T.

    **Arguments:**

    - `system`: an `AbstractDelay`, e.g. `MackeyGlass(tau=17.0)`.
    - `y0`: the initial value and constant history, shape `(d,)` (default:
      `system.initial_state()`); the precision follows it.
    - `num_exponents`: `k`, the number of leading exponents, `1 ≤ k ≤ (m + 1)·d` (default
      `d`).
    - `num_intervals`: how many re-orthonormalisations to average over.
    - `interval`: time between them (default `system.period / 5`), rounded to a whole
      number of steps (at least one).
    - `transient`: time to integrate before measuring (default `10 * system.period`),
      rounded to a whole number of steps.
    - `dt`: the largest step allowed (default `system.dt`); the step is τ/⌈τ/dt⌉. The cost
      of a step grows with k, not with m, but the exponents need the dynamics resolved.
    - `method`: the Runge–Kutta scheme, as in `integrate_delay`.
    - `throw`: raise if the state or the tangent vectors become non-finite (otherwise see
      `converged`).

    **Returns:** a `LyapunovResult` (per unit time); `times` are the averaging times after
    each QR, `final_state` is y at the end, shape `(d,)`.

    **Raises:** `TypeError` if `system` is not a delay system; `ValueError` for a `y0` of the
    wrong shape, `num_exponents` outside `1..(m + 1)·d`, non-positive `num_intervals` or
    `interval`, a negative `transient`, a bad `dt` or an unknown `method`.

    **References:** Farmer, *Chaotic attractors of an infinite-dimensional dynamical system*,
    Physica D 4, 366-393 (1982), for Lyapunov exponents of delay equations (Mackey–Glass);
    Benettin, Galgani, Giorgilli & Strelcyn (1980), *Meccanica* 15, 9-30.
    """
    return _delay_spectrum("delay_lyapunov_spectrum", system, y0, num_exponents,
                           num_intervals, interval, transient, dt, method, throw)


def lyapunov_spectrum_of_delay(system: AbstractDelay, y0, *, num_exponents, num_intervals,
                               interval, transient, rtol, atol, solver, throw):
    """The delay branch of `lyapunov_spectrum`, with its defaults (step `system.dt`, RK4)."""
    fn = "lyapunov_spectrum"
    given = [name for name, value in (("rtol", rtol), ("atol", atol), ("solver", solver))
             if value is not None]
    if given:
        raise ValueError(f"{fn}: {', '.join(given)} do(es) not apply to delay systems, which "
                         f"use a fixed-step Runge-Kutta scheme; use "
                         f"delay_lyapunov_spectrum(..., dt=..., method=...) to set it")
    return _delay_spectrum(fn, system, y0, num_exponents, num_intervals, interval, transient,
                           None, "rk4", throw)


def _delay_spectrum(fn, system, y0, num_exponents, num_intervals, interval, transient, dt,
                    method, throw):
    system = _check_system(fn, system)
    y0 = system.initial_state() if y0 is None else y0
    y0 = check_state(fn, system, y0)
    tableau = _check_method(fn, method)
    m = _steps_per_delay(fn, system, dt)
    h = system.tau / m
    size = (m + 1) * system.dimension
    k = system.dimension if num_exponents is None else num_exponents
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= size:
        raise ValueError(f"{fn}: num_exponents must be an int in 1..{size} (the history "
                         f"buffer of (tau/h + 1)·d values), got {k!r}")
    if isinstance(num_intervals, bool) or not isinstance(num_intervals, int) \
            or num_intervals < 1:
        raise ValueError(f"{fn}: num_intervals must be a positive int, got {num_intervals!r}")
    interval = system.period / 5 if interval is None else interval
    transient = 10 * system.period if transient is None else transient
    for name, value, allow_zero in (("interval", interval, False),
                                    ("transient", transient, True)):
        ok = (not isinstance(value, bool) and isinstance(value, (int, float))
              and math.isfinite(value) and (value >= 0 if allow_zero else value > 0))
        if not ok:
            want = "a non-negative" if allow_zero else "a positive"
            raise ValueError(f"{fn}: {name} must be {want} number, got {value!r}")
    steps_per_interval = max(1, round(interval / h))
    transient_steps = round(transient / h)
    res = _delay_spectrum_jit(system, y0, tableau, m, k, num_intervals, steps_per_interval,
                              transient_steps)
    if throw:
        res = eqx.tree_at(lambda r: r.exponents, res, eqx.error_if(
            res.exponents, jnp.logical_not(res.converged),
            f"{fn}: the state or the tangent vectors became non-finite; reduce dt, or check "
            f"y0 and the parameters"))
    return res


@eqx.filter_jit
def _delay_spectrum_jit(system, y0, tableau, m, k, num_intervals, steps_per_interval,
                        transient_steps):
    h = system.tau / m
    dtype = y0.dtype

    def advance(carry, _):
        history, window, n, ok = carry
        history, window, (_, _, y_next, _) = _rk_step(system, tableau, m, h, n, history,
                                                      window)
        return (history, window, n + 1, ok & jnp.all(jnp.isfinite(y_next))), None

    history, start = _initial_history(system, y0, m), jnp.array(0, jnp.int32)
    init = (history, _window(history, start, m), start, jnp.array(True))
    (history, window, n, ok), _ = jax.lax.scan(advance, init, None, length=transient_steps)

    def tangent_step(carry, _):
        history, window, n, tangents = carry
        (history, window), linear = jax.linearize(
            lambda state: _rk_step(system, tableau, m, h, n, *state)[:2], (history, window))
        return (history, window, n + 1, jax.vmap(linear)(tangents)), None

    shape = history.shape  # (m + 1, 2, d): values and slopes of the last delay

    def tangent_windows(buffers, n):
        return jax.vmap(lambda b: _window(b, n, m))(buffers)

    def body(carry, _):
        history, window, n, tangents, log_sum = carry
        (history, window, n, tangents), _ = jax.lax.scan(
            tangent_step, (history, window, n, tangents), None, length=steps_per_interval)
        # The tangent buffers hold the whole perturbation (the windows are copies of three
        # of their rows): orthonormalise them, then re-read the windows.
        q, logs = _orthonormalise(tangents[0].reshape(k, -1).T)
        buffers = q.T.reshape(k, *shape)
        tangents = (buffers, tangent_windows(buffers, n))
        return (history, window, n, tangents, log_sum + logs), log_sum + logs

    # The first k unit vectors, in the order (slot, value/slope, component): single values.
    buffers = jnp.eye(k, history.size, dtype=dtype).reshape(k, *shape)
    init = (history, window, n, (buffers, tangent_windows(buffers, n)), jnp.zeros(k, dtype))
    (history, window, n, _, _), sums = jax.lax.scan(body, init, None, length=num_intervals)
    times = (steps_per_interval * h) * jnp.arange(1, num_intervals + 1, dtype=dtype)
    running = sums / times[:, None]
    final = window[0, 0]  # y at the last grid point
    ok = ok & jnp.all(jnp.isfinite(running[-1])) & jnp.all(jnp.isfinite(history))
    return LyapunovResult(exponents=running[-1], running=running, times=times,
                          final_state=final, converged=ok)
