import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from ._base import AbstractDelay, AbstractFlow, AbstractMap, AbstractSystem
from ._integrate import VectorField, check_state, default_solver, step_size_controller


class LyapunovResult(eqx.Module):
    """The output of `lyapunov_spectrum`.

    **Fields:**

    - `exponents`: the estimated exponents λ_1 ≥ … ≥ λ_k (per unit time for flows, per
      iteration for maps), shape `(k,)`.
    - `running`: the running estimate after each re-orthonormalisation, shape `(m, k)`;
      `running[-1] == exponents`. Plot it against `times` to judge convergence.
    - `times`: the averaging time (flows) or number of iterations (maps) behind each row of
      `running`, shape `(m,)`.
    - `final_state`: the state at the end, shape `(d,)` (to continue a run).
    - `converged`: `False` if any ODE solve failed or a tangent vector collapsed within one
      interval (flows: use a shorter `interval`), or if an exponent is not finite (maps).
    """

    exponents: Float[Array, " k"]
    running: Float[Array, "m k"]
    times: Float[Array, " m"]
    final_state: Float[Array, " d"]
    converged: Bool[Array, ""]


def _orthonormalise(q: Array) -> tuple[Array, Array]:
    """QR with a positive diagonal of R; returns (Q, log|diag R|)."""
    if q.shape[1] == 1:  # one vector: a normalisation, much cheaper than a LAPACK QR call
        norm = jnp.linalg.norm(q)
        return q / norm, jnp.log(norm)[None]
    q, r = jnp.linalg.qr(q)
    diag = jnp.diagonal(r)
    sign = jnp.where(diag < 0, -1.0, 1.0).astype(q.dtype)
    return q * sign, jnp.log(jnp.abs(diag))


def lyapunov_spectrum(system: AbstractSystem, y0: Float[ArrayLike, " d"] | None = None, *,
                      num_exponents: int | None = None, num_intervals: int = 1000,
                      interval: float | int | None = None, transient: float | int | None = None,
                      rtol: float | None = None, atol: float | None = None,
                      solver: diffrax.AbstractSolver | None = None, max_steps: int = 100_000,
                      throw: bool = True) -> LyapunovResult:
    """Estimate the Lyapunov spectrum by the Benettin/QR method.

    `k` tangent vectors, started as the first `k` unit vectors, are propagated with the
    Jacobian of the system (`jax.linearize`, so no Jacobian is ever formed): for a flow,
    dQ/dt = J(t, y) Q is integrated together with y by diffrax; for a map,
    Q ← J(y_n) Q at every iteration. Every `interval` the tangent vectors are
    re-orthonormalised by QR, and λ_i = (1/T) Σ log R_ii.

    Use float64 (`jax_enable_x64` and a float64 `y0`) for accurate spectra: the sum of the
    exponents of a flow then matches the time-average of the divergence to ~1e-8.

    **Arguments:**

    - `system`: an `AbstractFlow` or `AbstractMap`.
    - `y0`: the initial state, shape `(d,)` (default: `system.initial_state()`).
    - `num_exponents`: `k`, the number of leading exponents, `1 ≤ k ≤ d` (default `d`).
    - `num_intervals`: how many re-orthonormalisations to average over (`m`).
    - `interval`: time between re-orthonormalisations for a flow (default
      `system.period / 5`), or iterations between them for a map (default 1).
    - `transient`: time (flow; default `10 * system.period`) or iterations (map; default
      1000) to run before measuring, so that `y0` reaches the attractor.
    - `rtol`, `atol`, `solver`, `max_steps`: as in `integrate` (flows only); `max_steps`
      bounds each interval's solve.
    - `throw`: raise if an ODE solve fails or a tangent vector collapses (flows; otherwise
      see `converged`). A collapse is declared when some |R_ii| falls below 1000·eps of
      its tangent vector's norm within one interval, i.e. when (λ_1 − λ_k)·interval
      approaches ln(1/(1000·eps)) (≈ 29 in float64, 9 in float32): strongly dissipative
      flows (a large negative λ_k) need short intervals.

    **Returns:** a `LyapunovResult`; the averaging time is `num_intervals * interval`.

    **Raises:** `TypeError` for a system that is neither a flow nor a map; `ValueError` for a
    `y0` of the wrong shape, `num_exponents` outside `1..d`, or non-positive `num_intervals`,
    `interval` or negative `transient`.

    **References:** Benettin, Galgani, Giorgilli & Strelcyn (1980), *Meccanica* 15, 9-30;
    Gilpin, *Chaos as an interpretable benchmark for forecasting and data-driven
    modelling* (NeurIPS 2021) for the invariants of the catalogue.
    """
    if isinstance(system, AbstractDelay):  # a history buffer as the state: see _delay.py
        from ._delay import lyapunov_spectrum_of_delay  # _delay imports this module

        return lyapunov_spectrum_of_delay(
            system, y0, num_exponents=num_exponents, num_intervals=num_intervals,
            interval=interval, transient=transient, rtol=rtol, atol=atol, solver=solver,
            throw=throw)
    if not isinstance(system, (AbstractFlow, AbstractMap)):
        raise TypeError(f"lyapunov_spectrum: system must be an AbstractFlow, AbstractMap or "
                        f"AbstractDelay, got {type(system).__name__}")
    d = system.dimension
    y0 = system.initial_state() if y0 is None else y0
    y0 = check_state("lyapunov_spectrum", system, y0)
    k = d if num_exponents is None else num_exponents
    if not isinstance(k, int) or not 1 <= k <= d:
        raise ValueError(f"lyapunov_spectrum: num_exponents must be an int in 1..{d}, got {k!r}")
    if not isinstance(num_intervals, int) or num_intervals < 1:
        raise ValueError(f"lyapunov_spectrum: num_intervals must be a positive int, got "
                         f"{num_intervals!r}")
    q0 = jnp.eye(d, k, dtype=y0.dtype)
    if isinstance(system, AbstractFlow):
        return _flow_spectrum(system, y0, q0, num_intervals, interval, transient, rtol, atol,
                              solver, max_steps, throw)
    return _map_spectrum(system, y0, q0, num_intervals, interval, transient)


def _check_positive(name: str, value, *, integer: bool, allow_zero: bool = False):
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    ok_value = ok_type and (value >= 0 if allow_zero else value > 0)
    if not ok_value:
        want = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"lyapunov_spectrum: {name} must be {want} "
                         f"{'int' if integer else 'number'}, got {value!r}")


def _flow_spectrum(system, y0, q0, num_intervals, interval, transient, rtol, atol, solver,
                   max_steps, throw):
    interval = system.period / 5 if interval is None else interval
    transient = 10 * system.period if transient is None else transient
    _check_positive("interval", interval, integer=False)
    _check_positive("transient", transient, integer=False, allow_zero=True)
    f64 = y0.dtype == jnp.float64
    rtol = (1e-10 if f64 else 1e-6) if rtol is None else rtol
    atol = (1e-12 if f64 else 1e-8) if atol is None else atol
    solver = default_solver(y0.dtype) if solver is None else solver
    return _flow_spectrum_jit(system, y0, q0, num_intervals, float(interval), float(transient),
                              rtol, atol, solver, max_steps, throw)


class _TangentField(eqx.Module):
    """d(y, Q)/dt = (f(t, y), J(t, y) Q), with J Q from `jax.linearize` (no Jacobian formed).

    The state is one flat array `concat(y, Q.ravel())` rather than a `(y, Q)` tuple: the
    implicit solvers (Kvaerno5 for stiff tangent dynamics) need a state whose Newton Jacobian
    is a plain matrix, and for the explicit ones the two are the same computation (diffrax's
    RMS error norm over a pytree equals the norm of its concatenation).
    """

    system: AbstractFlow
    d: int = eqx.field(static=True)
    k: int = eqx.field(static=True)

    def __call__(self, t, state, args):
        y, q = state[: self.d], state[self.d :].reshape(self.d, self.k)
        dy, jvp = jax.linearize(lambda x: self.system.vector_field(t, x), y)
        dq = jax.vmap(jvp, in_axes=1, out_axes=1)(q)
        return jnp.concatenate([dy, dq.ravel()])


@eqx.filter_jit
def _flow_spectrum_jit(system, y0, q0, num_intervals, interval, transient, rtol, atol, solver,
                       max_steps, throw):
    controller = step_size_controller(solver, rtol, atol)
    dt0 = min(system.dt, interval)
    dtype = y0.dtype

    def solve(term, t0, t1, state):
        sol = diffrax.diffeqsolve(term, solver, t0=t0, t1=t1, dt0=dt0, y0=state,
                                  saveat=diffrax.SaveAt(t1=True), stepsize_controller=controller,
                                  max_steps=max_steps, throw=False)
        final = jax.tree_util.tree_map(lambda x: x[-1], sol.ys)
        return final, sol.result == diffrax.RESULTS.successful

    ok0 = jnp.array(True)
    if transient > 0:
        y0, ok0 = solve(diffrax.ODETerm(VectorField(system)), jnp.array(0.0, dtype),
                        jnp.array(transient, dtype), y0)
    d, k = q0.shape
    term = diffrax.ODETerm(_TangentField(system, d, k))
    t_start = jnp.asarray(transient, dtype)
    h = jnp.asarray(interval, dtype)

    def body(carry, i):
        y, q, log_sum, ok, margin = carry
        t0 = t_start + i * h
        state, ok_i = solve(term, t0, t0 + h, jnp.concatenate([y, q.ravel()]))
        y, q = state[:d], state[d:].reshape(d, k)
        log_norms = jnp.log(jnp.linalg.norm(q, axis=0))
        q, logs = _orthonormalise(q)
        # log(|R_ii| / |q_i|): how much of tangent vector i survives projection onto the
        # others. R_ii carries an absolute rounding error of ~eps·|q_i|.
        margin = jnp.minimum(margin, jnp.min(logs - log_norms))
        log_sum = log_sum + logs
        return (y, q, log_sum, ok & ok_i, margin), log_sum

    init = (y0, q0, jnp.zeros(q0.shape[1], dtype), ok0, jnp.zeros((), dtype))
    (y, _, _, ok, margin), sums = jax.lax.scan(body, init,
                                               jnp.arange(num_intervals, dtype=dtype))
    times = h * jnp.arange(1, num_intervals + 1, dtype=dtype)
    running = sums / times[:, None]
    exponents = running[-1]
    # A tangent vector that collapses onto the others within one interval (when
    # (λ_1 − λ_k)·interval approaches ln(1/eps), 36 in float64) leaves an R_ii made of
    # rounding error (or 0: log 0 = −inf). Below 1000·eps of its column's norm, R_ii has
    # lost more than 0.1% and the interval is too long.
    lost = margin < jnp.log(1000 * jnp.finfo(dtype).eps)
    collapsed = lost | jnp.logical_not(jnp.all(jnp.isfinite(exponents)))
    if throw:
        exponents = eqx.error_if(
            exponents, jnp.logical_not(ok),
            "lyapunov_spectrum: the ODE solver failed (step budget or non-finite state); "
            "lower the tolerances, raise max_steps, or check y0")
        exponents = eqx.error_if(
            exponents, collapsed,
            "lyapunov_spectrum: a tangent vector collapsed within one interval (non-finite "
            "exponent): the exponents spread too far for this interval; pass a smaller "
            "interval (e.g. a tenth) or fewer num_exponents")
    ok = ok & jnp.logical_not(collapsed)
    return LyapunovResult(exponents=exponents, running=running, times=times, final_state=y,
                          converged=ok)


def _map_spectrum(system, y0, q0, num_intervals, interval, transient):
    interval = 1 if interval is None else interval
    transient = 1000 if transient is None else transient
    _check_positive("interval", interval, integer=True)
    _check_positive("transient", transient, integer=True, allow_zero=True)
    return _map_spectrum_jit(system, y0, q0, num_intervals, interval, transient)


@eqx.filter_jit
def _map_spectrum_jit(system, y0, q0, num_intervals, interval, transient):
    def advance(y, _):
        return system.step(y), None

    y, _ = jax.lax.scan(advance, y0, None, length=transient)

    def tangent_step(state, _):
        y, q = state
        y_next, jvp = jax.linearize(system.step, y)
        return (y_next, jax.vmap(jvp, in_axes=1, out_axes=1)(q)), None

    def body(carry, _):
        y, q, log_sum = carry
        (y, q), _ = jax.lax.scan(tangent_step, (y, q), None, length=interval)
        q, logs = _orthonormalise(q)
        log_sum = log_sum + logs
        return (y, q, log_sum), log_sum

    init = (y, q0, jnp.zeros(q0.shape[1], y0.dtype))
    (y, _, _), sums = jax.lax.scan(body, init, None, length=num_intervals)
    times = interval * jnp.arange(1, num_intervals + 1, dtype=y0.dtype)
    running = sums / times[:, None]
    return LyapunovResult(exponents=running[-1], running=running, times=times, final_state=y,
                          converged=jnp.all(jnp.isfinite(running[-1])))


def kaplan_yorke_dimension(exponents: Float[ArrayLike, " k"]) -> Float[Array, ""]:
    """The Kaplan–Yorke (Lyapunov) dimension of a spectrum.

    D_KY = j + (λ_1 + … + λ_j) / |λ_{j+1}|, where j is the largest index with
    λ_1 + … + λ_j ≥ 0 (exponents sorted in decreasing order). D_KY = 0 if λ_1 < 0 and
    D_KY = k if every partial sum is non-negative.

    **Arguments:**

    - `exponents`: a Lyapunov spectrum, shape `(k,)`, any order.

    **Returns:** the dimension, a scalar.

    **Raises:** `ValueError` if `exponents` is not a non-empty 1-D array.

    **References:** Kaplan & Yorke (1979), *Chaotic behavior of multidimensional difference
    equations*, Lecture Notes in Mathematics 730.
    """
    lam = jnp.asarray(exponents)
    if lam.ndim != 1 or lam.shape[0] == 0:
        raise ValueError(f"kaplan_yorke_dimension: exponents must be a non-empty 1-D array, "
                         f"got shape {lam.shape}")
    if not jnp.issubdtype(lam.dtype, jnp.floating):
        lam = lam.astype(jnp.result_type(float))
    lam = jnp.sort(lam)[::-1]
    partial = jnp.cumsum(lam)
    j = jnp.sum(jnp.cumprod(partial >= 0))
    k = lam.shape[0]
    inside = jnp.clip(j, 1, k - 1) if k > 1 else 0
    fraction = partial[jnp.maximum(inside - 1, 0)] / jnp.abs(lam[inside])
    return jnp.where(j == 0, 0.0, jnp.where(j == k, float(k), j + fraction)).astype(lam.dtype)
