"""Samplers and likelihoods on diffrax: probability-flow ODE, forward/backward SDEs with a
tunable diffusion ε, DDIM, and the ODE log-likelihood with exact or Hutchinson divergence.

Fields are per point: `field(t, x) -> (d,)` with `x: (d,)`; samplers take a batch `(n, d)`
and solve it as one system (one step size for the whole batch when adaptive).
"""

from collections.abc import Callable

import diffrax
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._core.brownian import GridBrownianPath
from .._core.checks import check_real_floating, concrete_values, shape_str
from ._paths import Diffusion, convert

SOLVERS = {"euler": diffrax.Euler, "heun": diffrax.Heun, "midpoint": diffrax.Midpoint,
           "tsit5": diffrax.Tsit5, "dopri5": diffrax.Dopri5}
ADAPTIVE = ("tsit5", "dopri5")


def _check_batch(owner, x):
    x = jnp.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{owner}: the initial points must have shape (n, d), got "
                         f"{shape_str(x)}")
    check_real_floating(owner, x=x)
    return x


def _check_steps(owner, steps):
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"{owner}: steps must be a positive int, got {steps!r}")


def _solver(owner, solver):
    if isinstance(solver, diffrax.AbstractSolver):
        return solver, False
    if solver not in SOLVERS:
        raise ValueError(f"{owner}: solver must be one of {sorted(SOLVERS)} or a diffrax "
                         f"solver, got {solver!r}")
    return SOLVERS[solver](), solver in ADAPTIVE


def _batched(field):
    return lambda t, y, args: jax.vmap(field, in_axes=(None, 0))(t, y)


def sample_ode(field: Callable, x0: ArrayLike, *, t0: float = 0.0,
               t1: float = 1.0, solver="heun", steps: int = 100, rtol: float = 1e-5,
               atol: float = 1e-5, save_times: ArrayLike | None = None,
               max_steps: int = 16384) -> Array:
    """Integrate dx/dt = field(t, x) from t0 to t1 (either direction) for every row of x0.

    **Arguments:** `field(t, x) -> (d,)`; `x0: (n, d)`; `t0`, `t1`; `solver` (`"euler"`,
    `"heun"`, `"midpoint"` fixed-step with `steps` steps; `"tsit5"`, `"dopri5"` adaptive with
    `rtol`, `atol`; or any diffrax solver, fixed-step); `save_times` (return the states at
    these times, shape `(len, n, d)`; default: only the end point, `(n, d)`); `max_steps`.

    **Raises:** `ValueError` on bad arguments; diffrax's error if the solve fails.
    """
    x0 = _check_batch("sample_ode", x0)
    _check_steps("sample_ode", steps)
    solver, adaptive = _solver("sample_ode", solver)
    dt = (t1 - t0) / steps
    controller = (diffrax.PIDController(rtol=rtol, atol=atol) if adaptive
                  else diffrax.ConstantStepSize())
    saveat = (diffrax.SaveAt(t1=True) if save_times is None
              else diffrax.SaveAt(ts=jnp.asarray(save_times)))
    sol = diffrax.diffeqsolve(diffrax.ODETerm(_batched(field)), solver, t0, t1, dt, x0,
                              stepsize_controller=controller, saveat=saveat,
                              max_steps=max_steps if adaptive else steps)
    return sol.ys[0] if save_times is None else sol.ys


def _epsilon_fn(diffusion):
    if callable(diffusion):
        return diffusion
    value = jnp.asarray(diffusion)
    concrete = concrete_values(value)
    if value.ndim != 0 or (concrete is not None and not concrete >= 0):
        raise ValueError(f"sample_sde: diffusion must be a scalar >= 0 (or a callable "
                         f"t -> ε(t) >= 0), got {diffusion!r}")
    return lambda t: value + 0.0 * t


def sample_sde(drift: Callable, score: Callable, x0: ArrayLike, *,
               key: PRNGKeyArray, diffusion=1.0, t0: float = 0.0, t1: float = 1.0,
               steps: int = 100, solver: str = "euler", direction: str = "forward") -> Array:
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
    `t0 < t1`; `steps`; `solver`; `direction`.
    """
    x0 = _check_batch("sample_sde", x0)
    _check_steps("sample_sde", steps)
    if direction not in ("forward", "backward"):
        raise ValueError(f"sample_sde: direction must be 'forward' or 'backward', got "
                         f"{direction!r}")
    if solver not in ("euler", "heun"):
        raise ValueError(f"sample_sde: solver must be 'euler' or 'heun', got {solver!r}")
    if not t0 < t1:
        raise ValueError(f"sample_sde: need t0 < t1, got t0={t0!r}, t1={t1!r}")
    eps = _epsilon_fn(diffusion)
    span = t1 - t0
    sign = 1.0 if direction == "forward" else -1.0

    def time(s):  # solver time s ∈ [0, span] -> physical time
        return t0 + s if direction == "forward" else t1 - s

    def f(s, x):
        t = time(s)
        e = eps(t)
        return sign * (drift(t, x) + sign * e * score(t, x))

    def g(s, y, args):
        return jnp.sqrt(2 * eps(time(s))) * jnp.ones_like(y)

    bm = GridBrownianPath(0.0, span, steps, x0.shape, key=key, dtype=x0.dtype)
    solver_ = diffrax.Euler() if solver == "euler" else diffrax.Heun()
    # diagonal noise: a ControlTerm with an elementwise product
    terms = diffrax.MultiTerm(diffrax.ODETerm(_batched(f)), _DiagonalTerm(g, bm))
    sol = diffrax.diffeqsolve(terms, solver_, 0.0, span, None, x0,
                              stepsize_controller=diffrax.StepTo(ts=bm.grid),
                              saveat=diffrax.SaveAt(t1=True), max_steps=steps)
    return sol.ys[0]


class _DiagonalTerm(diffrax.ControlTerm):
    """g(t, y) ⊙ dW (elementwise): diagonal noise without building a matrix."""

    def prod(self, vf, control):
        return vf * control


def sample_diffusion(model: Callable, diffusion: Diffusion, xT: ArrayLike, *,
                     prediction: str = "score", key: PRNGKeyArray | None = None,
                     method: str = "ode", solver: str = "heun", steps: int = 100,
                     stochasticity: float = 1.0) -> Array:
    """Generate data from noise `xT` (drawn by the caller from N(0, σ(T)² I)) with a model
    predicting `prediction` ("noise", "data", "score" or "velocity"):

    - `method="ode"`: the probability-flow ODE dx/dt = f x − ½g² s from T to t_min;
    - `method="sde"`: the reverse SDE with diffusion scaled by `stochasticity` (1 is Song et
      al.'s reverse SDE dx = [f x − g² s]dt + g dW̄; any value has the same marginals);
    - `method="ddim"`: deterministic DDIM, x_{t'} = a(t')x̂ + σ(t')ε̂, on a uniform grid.

    `solver`: as `sample_ode` for the ODE; `"euler"` or `"heun"` for the SDE (anything else
    raises `ValueError`).
    """
    xT = _check_batch("sample_diffusion", xT)
    _check_steps("sample_diffusion", steps)
    if method == "ddim":
        return ddim(model, diffusion, xT, prediction=prediction, steps=steps)
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
        return sample_ode(velocity, xT, t0=0.0, t1=1.0, solver=solver, steps=steps)
    if method != "sde":
        raise ValueError(f"sample_diffusion: method must be 'ode', 'sde' or 'ddim', got "
                         f"{method!r}")
    if key is None:
        raise ValueError("sample_diffusion: method='sde' needs key=")

    def eps(tau):  # ε in interpolant time: span · g²(t)/2 reproduces the reverse SDE
        return stochasticity * span * 0.5 * diffusion.sde(physical(tau))[1]

    return sample_sde(velocity, score, xT, key=key, diffusion=eps, steps=steps, solver=solver)


def ddim(model: Callable, diffusion: Diffusion, xT: ArrayLike, *,
         prediction: str = "noise", steps: int = 50) -> Array:
    """Deterministic DDIM (Song, Meng & Ermon 2021) from T to t_min on a uniform grid:
    x_{t'} = a(t')x̂ + σ(t')ε̂ with (x̂, ε̂) from the model at (t, x_t) — the first-order
    exponential integrator of the probability-flow ODE (exact when ε̂ is constant)."""
    xT = _check_batch("ddim", xT)
    _check_steps("ddim", steps)
    grid = jnp.linspace(diffusion.T, diffusion.t_min, steps + 1, dtype=xT.dtype)

    def step(x, times):
        t, t_next = times
        pred = jax.vmap(model, in_axes=(None, 0))(t, x)
        eps = jax.vmap(lambda p, y: convert(p, y, t, diffusion, source=prediction,
                                            target="noise"))(pred, x)
        c = diffusion.coefficients(t)
        data = (x - jnp.sqrt(c.gamma2) * eps) / c.beta
        n = diffusion.coefficients(t_next)
        return n.beta * data + jnp.sqrt(n.gamma2) * eps, None

    x, _ = jax.lax.scan(step, xT, (grid[:-1], grid[1:]))
    return x


def divergence(fn: Callable, x: Float[ArrayLike, " d"], *, key: PRNGKeyArray | None = None,
               probes: int = 0) -> Array:
    """∇·fn at the point `x` (fn: (d,) -> (d,)).

    `probes=0`: exact, the trace of the Jacobian (d forward-mode passes). `probes=m > 0`:
    Hutchinson's estimator (1/m)Σ εᵀJε with m d-dimensional Rademacher probes from `key`
    (unbiased; one Jacobian-vector product each)."""
    x = jnp.asarray(x)
    if probes == 0:
        return jnp.trace(jax.jacfwd(fn)(x))
    if key is None:
        raise ValueError("divergence: probes > 0 needs key=")
    vs = jax.random.rademacher(key, (probes, *x.shape), dtype=x.dtype)
    return jnp.mean(jax.vmap(lambda v: jnp.vdot(v, jax.jvp(fn, (x,), (v,))[1]))(vs))


def log_likelihood(drift: Callable, x1: ArrayLike, base_log_prob: Callable, *,
                   t0: float = 0.0, t1: float = 1.0, solver="tsit5", steps: int = 100,
                   rtol: float = 1e-5, atol: float = 1e-5, probes: int = 0,
                   key: PRNGKeyArray | None = None) -> Array:
    """log ρ₁(x₁) by the probability-flow ODE (instantaneous change of variables):
    log ρ₁(x₁) = log ρ₀(x₀) − ∫_{t0}^{t1} ∇·b(t, x_t) dt, with x_t integrated back from x₁.

    **Arguments:** `drift(t, x)`; `x1: (n, d)`; `base_log_prob(x0) -> scalar`; `t0`, `t1`;
    `solver`, `steps`, `rtol`, `atol` (as `sample_ode`); `probes` (0: exact divergence;
    m > 0: Hutchinson with m Rademacher probes per point, fixed along the path, from `key`).

    **Returns:** log-densities, shape `(n,)`.
    """
    x1 = _check_batch("log_likelihood", x1)
    _check_steps("log_likelihood", steps)
    n, d = x1.shape
    if probes > 0:
        if key is None:
            raise ValueError("log_likelihood: probes > 0 needs key=")
        vs = jax.random.rademacher(key, (n, probes, d), dtype=x1.dtype)
    else:
        vs = jnp.zeros((n, 0, d), x1.dtype)

    def aug(t, state, args):
        x, _ = state

        def one(xi, vi):
            fn = lambda y: drift(t, y)
            if probes == 0:
                out, jac = fn(xi), jax.jacfwd(fn)(xi)
                return out, jnp.trace(jac)
            out, jvps = jax.vmap(lambda v: jax.jvp(fn, (xi,), (v,)))(vi)
            return out[0], jnp.mean(jnp.sum(vi * jvps, -1))

        dx, div = jax.vmap(one)(x, vs)
        return dx, div

    solver_, adaptive = _solver("log_likelihood", solver)
    controller = (diffrax.PIDController(rtol=rtol, atol=atol) if adaptive
                  else diffrax.ConstantStepSize())
    sol = diffrax.diffeqsolve(diffrax.ODETerm(aug), solver_, t1, t0, (t0 - t1) / steps,
                              (x1, jnp.zeros(n, x1.dtype)), stepsize_controller=controller,
                              saveat=diffrax.SaveAt(t1=True),
                              max_steps=16384 if adaptive else steps)
    x0, integral = sol.ys[0][0], sol.ys[1][0]
    # integral = ∫_{t1}^{t0} ∇·b dt = −∫_{t0}^{t1} ∇·b dt
    return jax.vmap(base_log_prob)(x0) + integral
