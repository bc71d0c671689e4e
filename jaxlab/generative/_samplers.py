"""Samplers and likelihoods on diffrax: probability-flow ODE, forward/backward SDEs with a
tunable diffusion ε, DDIM, and the ODE log-likelihood with exact or Hutchinson divergence.

Fields are per point: `field(t, x) -> (d,)` with `x: (d,)`; samplers take a batch `(n, d)`
and solve it as one system (one step size for the whole batch when adaptive). Every sampler
returns `Samples` (the likelihood `LogLikelihood`) with the status of the solve, and takes
`throw`: with `throw=True` (the default) a failed solve or a non-finite sample raises at run
time with the status's message; with `throw=False` it is only reported in `status`.
Times and samples follow the floating dtype of the initial points.
"""

from collections.abc import Callable

import diffrax
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray, Real

from .._core.brownian import GridBrownianPath
from .._core.checks import (
    as_float_array,
    check_bool,
    check_callable,
    check_choice,
    check_instance,
    check_int,
    check_key,
    check_ndim,
    check_number,
    concrete_values,
    message,
)
from .._core.results import RESULTS, check_status, from_diffrax
from ._paths import TARGETS, Diffusion, convert
from ._results import LogLikelihood, Samples

SOLVERS = {"euler": diffrax.Euler, "heun": diffrax.Heun, "midpoint": diffrax.Midpoint,
           "tsit5": diffrax.Tsit5, "dopri5": diffrax.Dopri5}
ADAPTIVE = ("tsit5", "dopri5")


def _check_batch(fn: str, name: str, x) -> Array:
    """`x` as a real floating `(n, d)` array (integer arrays promoted)."""
    x = as_float_array(fn, name, x)
    check_ndim(fn, name, x, 2, want="of shape (n, d)")
    return x


def _solver(fn: str, solver):
    """(the diffrax solver, whether it is adaptive) from a name or a diffrax solver."""
    if isinstance(solver, diffrax.AbstractSolver):
        return solver, False
    want = f"one of {', '.join(repr(k) for k in sorted(SOLVERS))} or a diffrax solver"
    if not isinstance(solver, str):
        raise TypeError(message(fn, "solver", want, f"a {type(solver).__name__}"))
    if solver not in SOLVERS:
        raise ValueError(message(fn, "solver", want, repr(solver)))
    return SOLVERS[solver](), solver in ADAPTIVE


def _tolerance(fn: str, name: str, value) -> float:
    return check_number(fn, name, value, minimum=0.0, open_minimum=True)


def _times(fn: str, t0, t1) -> tuple[float, float]:
    t0, t1 = check_number(fn, "t0", t0), check_number(fn, "t1", t1)
    if t0 == t1:
        raise ValueError(message(fn, "t1", f"different from t0 = {t0}", t1))
    return t0, t1


def _ode_options(fn: str, *, solver, steps, max_steps, rtol, atol, t0, t1, throw):
    """The validated options of an ODE solve: (diffrax solver, step-size controller, step
    budget, steps, t0, t1, throw)."""
    steps = check_int(fn, "steps", steps, minimum=1)
    max_steps = check_int(fn, "max_steps", max_steps, minimum=1)
    rtol, atol = _tolerance(fn, "rtol", rtol), _tolerance(fn, "atol", atol)
    throw = check_bool(fn, "throw", throw)
    t0, t1 = _times(fn, t0, t1)
    solver, adaptive = _solver(fn, solver)
    controller = (diffrax.PIDController(rtol=rtol, atol=atol) if adaptive
                  else diffrax.ConstantStepSize())
    return solver, controller, max_steps if adaptive else steps, steps, t0, t1, throw


def _batched(field):
    """The per-point field as a diffrax vector field of the batch, in the batch's dtype."""
    return lambda t, y, args: jax.vmap(field, in_axes=(None, 0))(t, y).astype(y.dtype)


def _status(status: RESULTS, *arrays) -> RESULTS:
    """`status`, or `nonfinite` when it is successful but an array holds NaN or inf."""
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in arrays]))
    return RESULTS.where((status == RESULTS.successful) & ~finite, RESULTS.nonfinite, status)


def sample_ode(field: Callable, x0: Real[ArrayLike, "n d"], *, t0: float = 0.0,
               t1: float = 1.0, solver="heun", steps: int = 100, rtol: float = 1e-5,
               atol: float = 1e-5, save_times: Real[ArrayLike, " times"] | None = None,
               max_steps: int = 16384, throw: bool = True) -> Samples:
    """Integrate dx/dt = field(t, x) from t0 to t1 (either direction) for every row of x0.

    **Arguments:** `field(t, x) -> (d,)`; `x0: (n, d)`; `t0`, `t1`; `solver` (`"euler"`,
    `"heun"`, `"midpoint"` fixed-step with `steps` steps; `"tsit5"`, `"dopri5"` adaptive with
    `rtol`, `atol` and at most `max_steps` steps; or any diffrax solver, fixed-step);
    `save_times` (also return the states at these times, in `Samples.trajectory`, shape
    `(len, n, d)`); `throw`.

    **Returns:** `Samples` with `xs` the states at t1, `(n, d)`, and the status.

    **Raises:** `ValueError`/`TypeError` on bad arguments (at trace time); with
    `throw=True`, a runtime error when the solve fails or a sample is not finite.
    """
    fn = "sample_ode"
    check_callable(fn, "field", field)
    x0 = _check_batch(fn, "x0", x0)
    solver, controller, budget, steps, t0, t1, throw = _ode_options(
        fn, solver=solver, steps=steps, max_steps=max_steps, rtol=rtol, atol=atol, t0=t0,
        t1=t1, throw=throw)
    dtype = x0.dtype
    if save_times is None:
        saveat = diffrax.SaveAt(t1=True)
    else:
        save_times = as_float_array(fn, "save_times", save_times, ndim=1).astype(dtype)
        saveat = diffrax.SaveAt(ts=save_times, t1=True)
    sol = diffrax.diffeqsolve(diffrax.ODETerm(_batched(field)), solver, jnp.asarray(t0, dtype),
                              jnp.asarray(t1, dtype), jnp.asarray((t1 - t0) / steps, dtype), x0,
                              stepsize_controller=controller, saveat=saveat, max_steps=budget,
                              throw=False)
    xs = sol.ys[-1]
    trajectory = None if save_times is None else sol.ys[:-1]
    status = _status(from_diffrax(sol.result), sol.ys)
    xs, trajectory = check_status(fn, status, (xs, trajectory), throw)
    return Samples(xs=xs, trajectory=trajectory, status=status,
                   num_steps=sol.stats["num_steps"])


def _epsilon_fn(diffusion):
    if callable(diffusion):
        return diffusion
    value = jnp.asarray(diffusion)
    concrete = concrete_values(value)
    if value.ndim != 0 or (concrete is not None and not concrete >= 0):
        raise ValueError(message("sample_sde", "diffusion",
                                 "a scalar >= 0 (or a callable t -> ε(t) >= 0)", diffusion))
    return lambda t: value + 0.0 * t


def sample_sde(drift: Callable, score: Callable, x0: Real[ArrayLike, "n d"], *,
               key: PRNGKeyArray, diffusion=1.0, t0: float = 0.0, t1: float = 1.0,
               steps: int = 100, solver: str = "euler", direction: str = "forward",
               throw: bool = True) -> Samples:
    """The interpolant SDEs with diffusion ε(t) ≥ 0, which share the marginals of the ODE
    dx = b dt for every ε (Albergo et al. 2023, §2.3):

    - `direction="forward"`: dX = (b + ε s) dt + √(2ε) dW from t0 up to t1;
    - `direction="backward"`: dX = (b − ε s) dt + √(2ε) dW̄ from t1 down to t0 (x0 are the
      points at t1).

    The noise is additive (ε depends on t only), so Itô and Stratonovich agree and
    `"euler"` (Euler–Maruyama, strong order 1 for additive noise) and `"heun"` (strong
    order 1, weak order 2 for additive noise) both converge to the Itô SDE.

    A reverse-time diffusion sampler is the backward SDE in the diffusion's interpolant time
    (`Diffusion.as_interpolant()`), or call `sample_diffusion`.

    **Arguments:** `drift(t, x)`, `score(t, x)` (per point); `x0: (n, d)`; `key`; `diffusion`
    (ε: a number or a callable of t; let it vanish where the score is singular);
    `t0 < t1`; `steps`; `solver`; `direction`; `throw`.

    **Returns:** `Samples` with `xs` the end points `(n, d)` and the status.

    **Raises:** `ValueError`/`TypeError` on bad arguments (at trace time); with
    `throw=True`, a runtime error when a sample is not finite.

    **References:** Albergo, Boffi & Vanden-Eijnden, *Stochastic Interpolants: A Unifying
    Framework for Flows and Diffusions* (2023), §2.3.
    """
    fn = "sample_sde"
    check_callable(fn, "drift", drift)
    check_callable(fn, "score", score)
    x0 = _check_batch(fn, "x0", x0)
    key = check_key(fn, key)
    steps = check_int(fn, "steps", steps, minimum=1)
    check_choice(fn, "direction", direction, ("forward", "backward"))
    check_choice(fn, "solver", solver, ("euler", "heun"))
    throw = check_bool(fn, "throw", throw)
    t0, t1 = check_number(fn, "t0", t0), check_number(fn, "t1", t1)
    if not t0 < t1:
        raise ValueError(message(fn, "t1", f"greater than t0 = {t0}", t1))
    eps = _epsilon_fn(diffusion)
    dtype = x0.dtype
    span = t1 - t0
    sign = 1.0 if direction == "forward" else -1.0

    def time(s):  # solver time s ∈ [0, span] -> physical time
        return t0 + s if direction == "forward" else t1 - s

    def f(s, x):
        t = time(s)
        e = eps(t)
        return sign * (drift(t, x) + sign * e * score(t, x))

    def g(s, y, args):
        return (jnp.sqrt(2 * eps(time(s))) * jnp.ones_like(y)).astype(y.dtype)

    bm = GridBrownianPath(jnp.asarray(0.0, dtype), jnp.asarray(span, dtype), steps, x0.shape,
                          key=key, dtype=dtype)
    solver_ = diffrax.Euler() if solver == "euler" else diffrax.Heun()
    # diagonal noise: a ControlTerm with an elementwise product
    terms = diffrax.MultiTerm(diffrax.ODETerm(_batched(f)), _DiagonalTerm(g, bm))
    sol = diffrax.diffeqsolve(terms, solver_, bm.t0, bm.t1, None, x0,
                              stepsize_controller=diffrax.StepTo(ts=bm.grid),
                              saveat=diffrax.SaveAt(t1=True), max_steps=steps, throw=False)
    xs = sol.ys[-1]
    status = _status(from_diffrax(sol.result), xs)
    xs = check_status(fn, status, xs, throw)
    return Samples(xs=xs, trajectory=None, status=status, num_steps=sol.stats["num_steps"])


class _DiagonalTerm(diffrax.ControlTerm):
    """g(t, y) ⊙ dW (elementwise): diagonal noise without building a matrix."""

    def prod(self, vf, control):
        return vf * control


DIFFUSION_METHODS = ("ode", "sde", "ddim")


def sample_diffusion(model: Callable, diffusion: Diffusion, xT: Real[ArrayLike, "n d"], *,
                     prediction: str = "score", key: PRNGKeyArray | None = None,
                     method: str = "ode", solver: str = "heun", steps: int = 100,
                     stochasticity: float = 1.0, throw: bool = True) -> Samples:
    """Generate data from noise `xT` (drawn by the caller from N(0, σ(T)² I)) with a model
    predicting `prediction` ("noise", "data", "score" or "velocity"):

    - `method="ode"`: the probability-flow ODE dx/dt = f x − ½g² s from T to t_min;
    - `method="sde"`: the reverse SDE with diffusion scaled by `stochasticity` (1 is Song et
      al.'s reverse SDE dx = [f x − g² s]dt + g dW̄; any value has the same marginals);
      needs `key`;
    - `method="ddim"`: deterministic DDIM, x_{t'} = a(t')x̂ + σ(t')ε̂, on a uniform grid.

    `solver`: as `sample_ode` for the ODE; `"euler"` or `"heun"` for the SDE (anything else
    raises `ValueError`).

    **Returns:** `Samples` with `xs` the generated data `(n, d)` and the status.

    **Raises:** `ValueError`/`TypeError` on bad arguments (at trace time); with
    `throw=True`, a runtime error when the solve fails or a sample is not finite.

    **References:** Song, Sohl-Dickstein, Kingma, Kumar, Ermon & Poole, *Score-Based
    Generative Modeling through Stochastic Differential Equations* (ICLR 2021).
    """
    fn = "sample_diffusion"
    check_callable(fn, "model", model)
    check_instance(fn, "diffusion", diffusion, Diffusion, "a Diffusion")
    xT = _check_batch(fn, "xT", xT)
    check_choice(fn, "method", method, DIFFUSION_METHODS)
    check_choice(fn, "prediction", prediction, TARGETS)
    steps = check_int(fn, "steps", steps, minimum=1)
    if method == "ddim":
        return ddim(model, diffusion, xT, prediction=prediction, steps=steps, throw=throw)
    span = diffusion.T - diffusion.t_min

    def physical(tau):
        return diffusion.T - tau * span

    def velocity(tau, x):
        t = physical(tau)
        v = convert(model(t, x), x, t, diffusion, source=prediction, target="velocity")
        return -span * v

    def score(tau, x):
        t = physical(tau)
        return convert(model(t, x), x, t, diffusion, source=prediction, target="score")

    if method == "ode":
        return sample_ode(velocity, xT, t0=0.0, t1=1.0, solver=solver, steps=steps,
                          throw=throw)
    key = check_key(fn, key)
    stochasticity = check_number(fn, "stochasticity", stochasticity, minimum=0.0)

    def eps(tau):  # ε in interpolant time: span · g²(t)/2 reproduces the reverse SDE
        return stochasticity * span * 0.5 * diffusion.sde(physical(tau))[1]

    check_choice(fn, "solver", solver, ("euler", "heun"))
    return sample_sde(velocity, score, xT, key=key, diffusion=eps, steps=steps, solver=solver,
                      throw=throw)


def ddim(model: Callable, diffusion: Diffusion, xT: Real[ArrayLike, "n d"], *,
         prediction: str = "noise", steps: int = 50, throw: bool = True) -> Samples:
    """Deterministic DDIM from T to t_min on a uniform grid:
    x_{t'} = a(t')x̂ + σ(t')ε̂ with (x̂, ε̂) from the model at (t, x_t) — the first-order
    exponential integrator of the probability-flow ODE (exact when ε̂ is constant).

    **Arguments:** `model(t, x) -> (d,)` predicting `prediction`; `diffusion`; `xT: (n, d)`;
    `steps`; `throw`.

    **Returns:** `Samples` with `xs` the data `(n, d)`, `num_steps = steps`, and the status
    (`nonfinite` when a sample is NaN or infinite).

    **Raises:** `ValueError`/`TypeError` on bad arguments (at trace time); with
    `throw=True`, a runtime error when a sample is not finite.

    **References:** Song, Meng & Ermon, *Denoising Diffusion Implicit Models* (ICLR 2021).
    """
    fn = "ddim"
    check_callable(fn, "model", model)
    check_instance(fn, "diffusion", diffusion, Diffusion, "a Diffusion")
    xT = _check_batch(fn, "xT", xT)
    check_choice(fn, "prediction", prediction, TARGETS)
    steps = check_int(fn, "steps", steps, minimum=1)
    throw = check_bool(fn, "throw", throw)
    grid = jnp.linspace(diffusion.T, diffusion.t_min, steps + 1, dtype=xT.dtype)

    def step(x, times):
        t, t_next = times
        pred = jax.vmap(model, in_axes=(None, 0))(t, x)
        eps = jax.vmap(lambda p, y: convert(p, y, t, diffusion, source=prediction,
                                            target="noise"))(pred, x)
        c = diffusion.coefficients(t)
        data = (x - jnp.sqrt(c.gamma2) * eps) / c.beta
        n = diffusion.coefficients(t_next)
        return (n.beta * data + jnp.sqrt(n.gamma2) * eps).astype(x.dtype), None

    x, _ = jax.lax.scan(step, xT, (grid[:-1], grid[1:]))
    status = _status(RESULTS.successful, x)
    x = check_status(fn, status, x, throw)
    return Samples(xs=x, trajectory=None, status=status, num_steps=jnp.asarray(steps))


def divergence(fn: Callable, x: Real[ArrayLike, " d"], *, key: PRNGKeyArray | None = None,
               probes: int = 0) -> Array:
    """∇·fn at the point `x` (fn: (d,) -> (d,)).

    `probes=0`: exact, the trace of the Jacobian (d forward-mode passes). `probes=m > 0`:
    Hutchinson's estimator (1/m)Σ εᵀJε with m d-dimensional Rademacher probes from `key`
    (unbiased; one Jacobian-vector product each).

    **Returns:** the scalar divergence, in the dtype of `x`.

    **Raises:** `ValueError` unless `x` is one point `(d,)` and `probes` ≥ 0; `TypeError`
    for a missing key when `probes > 0`.

    **References:** Hutchinson, *A stochastic estimator of the trace of the influence matrix
    for Laplacian smoothing splines* (1989).
    """
    check_callable("divergence", "fn", fn)
    x = as_float_array("divergence", "x", x)
    check_ndim("divergence", "x", x, 1, want="one point of shape (d,)")
    probes = check_int("divergence", "probes", probes, minimum=0)
    if probes == 0:
        return jnp.trace(jax.jacfwd(fn)(x))
    key = check_key("divergence", key)
    vs = jax.random.rademacher(key, (probes, *x.shape), dtype=x.dtype)
    return jnp.mean(jax.vmap(lambda v: jnp.vdot(v, jax.jvp(fn, (x,), (v,))[1]))(vs))


def log_likelihood(drift: Callable, x1: Real[ArrayLike, "n d"], base_log_prob: Callable, *,
                   t0: float = 0.0, t1: float = 1.0, solver="tsit5", steps: int = 100,
                   rtol: float = 1e-5, atol: float = 1e-5, max_steps: int = 16384,
                   probes: int = 0, key: PRNGKeyArray | None = None,
                   throw: bool = True) -> LogLikelihood:
    """log ρ₁(x₁) by the probability-flow ODE (instantaneous change of variables):
    log ρ₁(x₁) = log ρ₀(x₀) − ∫_{t0}^{t1} ∇·b(t, x_t) dt, with x_t integrated back from x₁.

    **Arguments:** `drift(t, x)`; `x1: (n, d)`; `base_log_prob(x0) -> scalar`; `t0`, `t1`;
    `solver`, `steps`, `rtol`, `atol`, `max_steps` (as `sample_ode`); `probes` (0: exact
    divergence; m > 0: Hutchinson with m Rademacher probes per point, fixed along the path,
    from `key`); `throw`.

    **Returns:** `LogLikelihood` with `log_prob` `(n,)`, the base points `x0` `(n, d)` and
    the status.

    **Raises:** `ValueError`/`TypeError` on bad arguments (at trace time; a missing key with
    `probes > 0` is a `TypeError`); with `throw=True`, a runtime error when the solve fails
    or a value is not finite.

    **References:** Chen, Rubanova, Bettencourt & Duvenaud, *Neural Ordinary Differential
    Equations* (NeurIPS 2018); Grathwohl et al., *FFJORD* (ICLR 2019).
    """
    fn = "log_likelihood"
    check_callable(fn, "drift", drift)
    check_callable(fn, "base_log_prob", base_log_prob)
    x1 = _check_batch(fn, "x1", x1)
    probes = check_int(fn, "probes", probes, minimum=0)
    solver, controller, budget, steps, t0, t1, throw = _ode_options(
        fn, solver=solver, steps=steps, max_steps=max_steps, rtol=rtol, atol=atol, t0=t0,
        t1=t1, throw=throw)
    n, d = x1.shape
    dtype = x1.dtype
    if probes > 0:
        key = check_key(fn, key)
        vs = jax.random.rademacher(key, (n, probes, d), dtype=dtype)
    else:
        vs = jnp.zeros((n, 0, d), dtype)

    def aug(t, state, args):
        x, _ = state

        def one(xi, vi):
            field = lambda y: drift(t, y)
            if probes == 0:
                out, jac = field(xi), jax.jacfwd(field)(xi)
                return out, jnp.trace(jac)
            out, jvps = jax.vmap(lambda v: jax.jvp(field, (xi,), (v,)))(vi)
            return out[0], jnp.mean(jnp.sum(vi * jvps, -1))

        dx, div = jax.vmap(one)(x, vs)
        return dx.astype(dtype), div.astype(dtype)

    sol = diffrax.diffeqsolve(diffrax.ODETerm(aug), solver, jnp.asarray(t1, dtype),
                              jnp.asarray(t0, dtype), jnp.asarray((t0 - t1) / steps, dtype),
                              (x1, jnp.zeros(n, dtype)), stepsize_controller=controller,
                              saveat=diffrax.SaveAt(t1=True), max_steps=budget, throw=False)
    x0, integral = sol.ys[0][0], sol.ys[1][0]
    # integral = ∫_{t1}^{t0} ∇·b dt = −∫_{t0}^{t1} ∇·b dt
    log_prob = (jax.vmap(base_log_prob)(x0) + integral).astype(dtype)
    status = _status(from_diffrax(sol.result), log_prob, x0)
    log_prob, x0 = check_status(fn, status, (log_prob, x0), throw)
    return LogLikelihood(log_prob=log_prob, x0=x0, status=status,
                         num_steps=sol.stats["num_steps"])
