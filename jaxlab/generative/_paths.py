"""Paths between a base and a target distribution: stochastic interpolants and diffusion SDEs.

Every path here is a *Gaussian-noise path*: given a target sample, the state at time t is an
affine function of it plus Gaussian noise. Two families share one protocol,
`coefficients(t) -> PathCoefficients`:

- `Interpolant` (Albergo, Boffi & Vanden-Eijnden 2023): x_t = α(t)x₀ + β(t)x₁ + γ(t)z, base
  x₀, target x₁, z ~ N(0, I), t from 0 (base) to 1 (target);
- `Diffusion` (VP, VE, sub-VP; Song et al. 2021, Lai et al. 2025): x_t = a(t)x₀ + σ(t)ε with
  the *data* x₀ at t = t_min and noise at t = T, written in the same coefficients with
  α ≡ 0, β = a, γ = σ.

When the base is N(0, I) (always for a diffusion), the state is x_t = β x₁ + σ ε with
σ² = α² + γ², and the four prediction targets — noise ε, data x̂ (= x₁ for an interpolant,
x₀ for a diffusion), score ∇log p_t and velocity (the interpolant drift b, or the
probability-flow velocity of a diffusion) — are exact functions of one another
(`convert`).

γ enters only through γ² and γγ̇ = ½ d(γ²)/dt, both finite at the ends for γ = √(t(1−t))
whose γ̇ is not (the pitfall the paper warns of).
"""

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Real

from .._core.checks import (
    as_float_array,
    check_callable,
    check_choice,
    check_instance,
    check_number,
    common_float_dtype,
    message,
    shape_str,
)

TARGETS = ("noise", "data", "score", "velocity")


class PathCoefficients(eqx.Module):
    """The coefficients of x_t = α x₀ + β x₁ + γ z at one time, and their time derivatives.

    **Fields:** `alpha`, `beta`, `gamma2` (γ²), `dalpha`, `dbeta`, `gamma_dgamma`
    (γγ̇ = ½ d(γ²)/dt); scalars (batched like the times when the path is vmapped over
    times). In the dtype of the time they were evaluated at.
    """

    alpha: Array
    beta: Array
    gamma2: Array
    dalpha: Array
    dbeta: Array
    gamma_dgamma: Array

    @property
    def noise2(self) -> Array:
        """σ² = α² + γ², the variance of the noise given the target when x₀ ~ N(0, I)."""
        return self.alpha**2 + self.gamma2

    @property
    def noise_dnoise(self) -> Array:
        """σσ̇ = αα̇ + γγ̇."""
        return self.alpha * self.dalpha + self.gamma_dgamma


def _time(owner: str, t) -> Array:
    """The scalar time `t` as a floating array (integers and Python numbers: the default
    float)."""
    return as_float_array(owner, "t", t, ndim=0)


def _value_and_derivative(fn, t):
    """(fn(t), fn'(t)) by forward-mode autodiff, in the floating dtype of the scalar `t`."""
    return jax.jvp(lambda s: jnp.asarray(fn(s), dtype=t.dtype), (t,), (jnp.ones_like(t),))


_GAMMAS: dict[str, tuple[Callable, str]] = {
    # name: (γ²(t), description)
    "sqrt": (lambda t: t * (1 - t), "γ = √(t(1−t))"),
    "quadratic": (lambda t: (t * (1 - t)) ** 2, "γ = t(1−t)"),
    "sin2": (lambda t: jnp.sin(jnp.pi * t) ** 4, "γ = sin²(πt)"),
    "zero": (lambda t: 0.0 * t, "γ = 0"),
}


def _gamma_squared(gamma, scale):
    """γ² as a function of t, from a name in `_GAMMAS`, a callable γ(t), or a number."""
    if isinstance(gamma, str):
        g2 = _GAMMAS[check_choice("Interpolant", "gamma", gamma, sorted(_GAMMAS))][0]
        return lambda t: scale**2 * g2(t)
    if callable(gamma):
        return lambda t: (scale * gamma(t)) ** 2
    if isinstance(gamma, (int, float)) and not isinstance(gamma, bool):
        value = check_number("Interpolant", "gamma", gamma)
        return lambda t: (scale * value) ** 2 + 0.0 * t
    raise TypeError(message("Interpolant", "gamma", "a name, a callable t -> γ(t) or a number",
                            f"a {type(gamma).__name__}"))


class Interpolant(eqx.Module):
    """The stochastic interpolant x_t = α(t)x₀ + β(t)x₁ + γ(t)z, t ∈ [0, 1].

    **Arguments:** `alpha`, `beta` (callables t -> scalar, differentiable by JAX; the
    interpolant proper has α(0) = β(1) = 1, α(1) = β(0) = 0), `gamma` (a callable t -> γ(t),
    a number, or one of the names `"sqrt"` (√(t(1−t))), `"quadratic"` (t(1−t)), `"sin2"`
    (sin²(πt)), `"zero"`; the names use γ² and γγ̇ in closed form, finite at the ends),
    `gamma_scale` (a factor on γ), `name` (shown in `repr` and figures).

    Named constructors: `linear`, `trigonometric`, `vp_like` (GVP: α² + β² = 1 with
    α = cos(πt/2)), `one_sided` (x₀ ~ N(0, I) and γ ≡ 0: a diffusion in reversed time),
    `mirror` (x_t = x₁ + γz: base = target).

    Derivatives in t are by forward-mode autodiff of α, β and γ², so any smooth schedule
    works.

    **Reference:** Albergo, Boffi & Vanden-Eijnden, *Stochastic Interpolants: A Unifying
    Framework for Flows and Diffusions* (2023), §2–3.
    """

    alpha: Callable = eqx.field(static=True)
    beta: Callable = eqx.field(static=True)
    gamma2: Callable = eqx.field(static=True)
    name: str = eqx.field(static=True)

    def __init__(self, alpha: Callable, beta: Callable, gamma="sqrt", *,
                 gamma_scale: float = 1.0, name: str = "interpolant"):
        want = "a callable t -> scalar"
        self.alpha = check_callable("Interpolant", "alpha", alpha, want)
        self.beta = check_callable("Interpolant", "beta", beta, want)
        gamma_scale = check_number("Interpolant", "gamma_scale", gamma_scale, minimum=0.0)
        self.gamma2 = _gamma_squared(gamma, gamma_scale)
        self.name = check_instance("Interpolant", "name", name, str, "a string")

    # -- named constructors -------------------------------------------------------------

    @classmethod
    def linear(cls, gamma="sqrt", *, gamma_scale: float = 1.0) -> "Interpolant":
        """x_t = (1−t)x₀ + t x₁ + γ(t)z."""
        return cls(lambda t: 1 - t, lambda t: t, gamma, gamma_scale=gamma_scale,
                   name=f"linear({gamma if isinstance(gamma, str) else 'custom'})")

    @classmethod
    def trigonometric(cls, gamma="sqrt", *, gamma_scale: float = 1.0) -> "Interpolant":
        """x_t = cos(πt/2)x₀ + sin(πt/2)x₁ + γ(t)z."""
        return cls(lambda t: jnp.cos(0.5 * jnp.pi * t), lambda t: jnp.sin(0.5 * jnp.pi * t),
                   gamma, gamma_scale=gamma_scale, name="trigonometric")

    @classmethod
    def vp_like(cls, gamma="zero", *, gamma_scale: float = 1.0) -> "Interpolant":
        """The generalised variance-preserving path (GVP): α = cos(πt/2), β = sin(πt/2), so
        α² + β² = 1; with γ ≡ 0 by default (the base is the noise)."""
        return cls(lambda t: jnp.cos(0.5 * jnp.pi * t), lambda t: jnp.sin(0.5 * jnp.pi * t),
                   gamma, gamma_scale=gamma_scale, name="vp-like")

    @classmethod
    def one_sided(cls) -> "Interpolant":
        """x_t = (1−t)x₀ + t x₁ with x₀ ~ N(0, I) and no extra noise: the score-based
        diffusion family in reversed time (the base is the noise)."""
        return cls(lambda t: 1 - t, lambda t: t, "zero", name="one-sided")

    @classmethod
    def mirror(cls, gamma="sqrt", *, gamma_scale: float = 1.0) -> "Interpolant":
        """x_t = x₁ + γ(t)z: base and target are the same distribution (x₀ unused)."""
        return cls(lambda t: 0.0 * t, lambda t: 1.0 + 0.0 * t, gamma,
                   gamma_scale=gamma_scale, name="mirror")

    # -- the path ------------------------------------------------------------------------

    def coefficients(self, t: Real[ArrayLike, ""]) -> PathCoefficients:
        """α, β, γ² and α̇, β̇, γγ̇ at the scalar time `t`, in its floating dtype.

        **Raises:** `ValueError` unless `t` is a scalar (vmap over times).
        """
        t = _time("Interpolant.coefficients", t)
        a, da = _value_and_derivative(self.alpha, t)
        b, db = _value_and_derivative(self.beta, t)
        g2, dg2 = _value_and_derivative(self.gamma2, t)
        return PathCoefficients(a, b, g2, da, db, 0.5 * dg2)

    def gamma(self, t: Real[ArrayLike, ""]) -> Array:
        """γ(t) = √γ²(t)."""
        return jnp.sqrt(self.coefficients(t).gamma2)

    def __call__(self, t: Real[ArrayLike, ""], x0: Real[ArrayLike, "*d"],
                 x1: Real[ArrayLike, "*d"], z: Real[ArrayLike, "*d"]) -> Array:
        """x_t = α(t)x₀ + β(t)x₁ + γ(t)z at the scalar time `t` (any common shape)."""
        c = self.coefficients(t)
        return c.alpha * x0 + c.beta * x1 + jnp.sqrt(c.gamma2) * z

    def time_derivative(self, t, x0, x1) -> Array:
        """∂_t I(t, x₀, x₁) = α̇x₀ + β̇x₁: the regression target of the velocity v."""
        c = self.coefficients(t)
        return c.dalpha * x0 + c.dbeta * x1

    def drift_target(self, t, x0, x1, z) -> Array:
        """∂_t I + γ̇z, the regression target of the drift b. γ̇ is infinite at the ends for
        γ = √(t(1−t)): sample t inside (0, 1)."""
        c = self.coefficients(t)
        gamma = jnp.sqrt(c.gamma2)
        return c.dalpha * x0 + c.dbeta * x1 + c.gamma_dgamma / gamma * z


class Diffusion(eqx.Module):
    """A diffusion SDE dx = f(t)x dt + g(t) dW with marginals x_t = a(t)x₀ + σ(t)ε.

    Data x₀ at t = `t_min` (default 1e-3: the score is singular at 0), noise
    N(0, (a(T)² · 0 + σ(T)²) I) at t = `T` (a(T) ≈ 0 for VP and sub-VP). Construct with
    `Diffusion.vp`, `Diffusion.ve` or `Diffusion.sub_vp`, or with any differentiable
    `signal` a(t) and `noise_std` σ(t).

    f = d log a/dt and g² = dσ²/dt − 2fσ², by autodiff of a and σ².

    **Reference:** Song, Sohl-Dickstein, Kingma, Kumar, Ermon & Poole, *Score-Based Generative
    Modeling through SDEs* (ICLR 2021); Lai, Song, Kim, Mitsufuji & Ermon, *The Principles of
    Diffusion Models* (2025), ch. 4.
    """

    signal: Callable = eqx.field(static=True)
    noise_var: Callable = eqx.field(static=True)
    t_min: float = eqx.field(static=True)
    T: float = eqx.field(static=True)
    name: str = eqx.field(static=True)

    def __init__(self, signal: Callable, noise_var: Callable, *, t_min: float = 1e-3,
                 T: float = 1.0, name: str = "diffusion"):
        want = "a callable t -> scalar"
        self.signal = check_callable("Diffusion", "signal", signal, want)
        self.noise_var = check_callable("Diffusion", "noise_var", noise_var, want)
        self.T = check_number("Diffusion", "T", T, minimum=0.0, open_minimum=True)
        self.t_min = check_number("Diffusion", "t_min", t_min, minimum=0.0, maximum=self.T,
                                  open_maximum=True)
        self.name = check_instance("Diffusion", "name", name, str, "a string")

    @classmethod
    def vp(cls, beta_min: float = 0.1, beta_max: float = 20.0, **kwargs) -> "Diffusion":
        """Variance preserving: β(t) = β_min + t(β_max − β_min), a = exp(−½∫₀ᵗβ),
        σ² = 1 − a²."""
        _check_positive("Diffusion.vp", beta_min=beta_min, beta_max=beta_max)

        def log_a(t):
            return -0.5 * (beta_min * t + 0.5 * (beta_max - beta_min) * t**2)

        return cls(lambda t: jnp.exp(log_a(t)), lambda t: -jnp.expm1(2 * log_a(t)),
                   name="vp", **kwargs)

    @classmethod
    def sub_vp(cls, beta_min: float = 0.1, beta_max: float = 20.0, **kwargs) -> "Diffusion":
        """Sub-VP: a as VP, σ² = (1 − a²)²."""
        _check_positive("Diffusion.sub_vp", beta_min=beta_min, beta_max=beta_max)

        def log_a(t):
            return -0.5 * (beta_min * t + 0.5 * (beta_max - beta_min) * t**2)

        return cls(lambda t: jnp.exp(log_a(t)), lambda t: jnp.expm1(2 * log_a(t)) ** 2,
                   name="sub-vp", **kwargs)

    @classmethod
    def ve(cls, sigma_min: float = 0.01, sigma_max: float = 50.0, **kwargs) -> "Diffusion":
        """Variance exploding: a = 1, σ(t) = σ_min (σ_max/σ_min)^t."""
        _check_positive("Diffusion.ve", sigma_min=sigma_min, sigma_max=sigma_max)
        ratio = math.log(sigma_max / sigma_min)
        return cls(lambda t: 1.0 + 0.0 * t, lambda t: sigma_min**2 * jnp.exp(2 * ratio * t),
                   name="ve", **kwargs)

    @classmethod
    def ou(cls, **kwargs) -> "Diffusion":
        """The Ornstein–Uhlenbeck process dx = −x dt + dW of Deveney et al. (2023):
        a = e^{−t}, σ² = ½(1 − e^{−2t}); its prior is N(0, ½I)."""
        return cls(lambda t: jnp.exp(-t), lambda t: -0.5 * jnp.expm1(-2 * t), name="ou",
                   **kwargs)

    def coefficients(self, t: Real[ArrayLike, ""]) -> PathCoefficients:
        """The path in interpolant form: α = 0, β = a(t), γ² = σ²(t), and derivatives, at
        the scalar time `t` in its floating dtype.

        **Raises:** `ValueError` unless `t` is a scalar (vmap over times).
        """
        t = _time("Diffusion.coefficients", t)
        a, da = _value_and_derivative(self.signal, t)
        s2, ds2 = _value_and_derivative(self.noise_var, t)
        zero = jnp.zeros_like(a)
        return PathCoefficients(zero, a, s2, zero, da, 0.5 * ds2)

    def sde(self, t: Real[ArrayLike, ""]) -> tuple[Array, Array]:
        """(f(t), g²(t)) of the forward SDE dx = f x dt + g dW."""
        c = self.coefficients(t)
        f = c.dbeta / c.beta
        return f, 2 * c.gamma_dgamma - 2 * f * c.gamma2

    def __call__(self, t, x0, eps) -> Array:
        """x_t = a(t)x₀ + σ(t)ε."""
        c = self.coefficients(t)
        return c.beta * x0 + jnp.sqrt(c.gamma2) * eps

    def as_interpolant(self) -> Interpolant:
        """The same path in interpolant time τ ∈ [0, 1] with t = T − τ(T − t_min): the base is
        N(0, I) scaled by σ(T) (x₀ of the interpolant is ε), the target is the data.
        Velocities in τ are −(T − t_min) times those in t; scores are equal."""
        span = self.T - self.t_min

        def time(tau):
            return self.T - tau * span

        return Interpolant(lambda tau: jnp.sqrt(self.noise_var(time(tau))),
                           lambda tau: self.signal(time(tau)), "zero",
                           name=f"{self.name} (interpolant time)")


def _check_positive(owner, **values):
    for name, value in values.items():
        check_number(owner, name, value, minimum=0.0, open_minimum=True)


def convert(prediction: ArrayLike, x: ArrayLike, t: Real[ArrayLike, ""], path, *,
            source: str, target: str) -> Array:
    """Convert a prediction at (t, x) between the targets "noise" (ε), "data" (x̂), "score"
    (∇log p_t) and "velocity" (the drift of the probability-flow ODE in the path's own time).

    Exact for any Gaussian-noise path x_t = β x̂ + σ ε (σ² = α² + γ²; an `Interpolant` with
    base N(0, I), or a `Diffusion`):
    x̂ = (x − σε)/β, s = −ε/σ, v = β̇ x̂ − σσ̇ s; from a velocity,
    x̂ = (v − (σσ̇/σ²) x)/(β̇ − σσ̇ β/σ²).

    **Arguments:** `prediction` and `x` (same shape), `t` (scalar), `path` (`Interpolant` or
    `Diffusion`), `source`, `target` (names above).

    **Raises:** `ValueError` for an unknown name or mismatched shapes; `TypeError` for
    non-real arrays (integer arrays are promoted).
    """
    for arg, value in (("source", source), ("target", target)):
        check_choice("convert", arg, value, TARGETS)
    prediction = as_float_array("convert", "prediction", prediction)
    x = as_float_array("convert", "x", x)
    if prediction.shape != x.shape:
        raise ValueError(message("convert", "prediction", f"of the shape of x {shape_str(x)}",
                                 f"shape {shape_str(prediction)}"))
    if source == target:
        return prediction
    dtype = common_float_dtype(prediction, x)
    return _convert(prediction, x, path.coefficients(jnp.asarray(t, dtype)), source,
                    target).astype(dtype)  # a Python-float or float64 time does not widen


def _convert(prediction, x, c, source, target):
    s2, ssd = c.noise2, c.noise_dnoise
    sigma = jnp.sqrt(s2)
    if source == "noise":
        eps = prediction
        data = (x - sigma * eps) / c.beta
    elif source == "data":
        data = prediction
        eps = (x - c.beta * data) / sigma
    elif source == "score":
        eps = -sigma * prediction
        data = (x - sigma * eps) / c.beta
    else:
        data = (prediction - ssd / s2 * x) / (c.dbeta - ssd * c.beta / s2)
        eps = (x - c.beta * data) / sigma
    if target == "noise":
        return eps
    if target == "data":
        return data
    score = -eps / sigma
    if target == "score":
        return score
    return c.dbeta * data - ssd * score


def drift_from_velocity_and_score(velocity: Real[ArrayLike, "*d"], score: Real[ArrayLike, "*d"],
                                  t: Real[ArrayLike, ""], interpolant: Interpolant) -> Array:
    """b = v − γγ̇ s: the interpolant drift from the velocity v = E[∂_t I | x_t] and the score.

    **Raises:** `TypeError` unless `interpolant` is an `Interpolant`; `ValueError` when
    `velocity` and `score` differ in shape.
    """
    fn = "drift_from_velocity_and_score"
    check_instance(fn, "interpolant", interpolant, Interpolant, "an Interpolant")
    velocity = as_float_array(fn, "velocity", velocity)
    score = as_float_array(fn, "score", score)
    if velocity.shape != score.shape:
        raise ValueError(message(fn, "score", f"of the shape of velocity {shape_str(velocity)}",
                                 f"shape {shape_str(score)}"))
    dtype = common_float_dtype(velocity, score)
    gdg = interpolant.coefficients(jnp.asarray(t, dtype)).gamma_dgamma
    return (velocity - gdg * score).astype(dtype)  # a Python-float time does not widen


def score_from_denoiser(eta: Real[ArrayLike, "*d"], t: Real[ArrayLike, ""],
                        interpolant: Interpolant) -> Array:
    """s = −η/γ from the denoiser η = E[z | x_t] (γ > 0).

    **Raises:** `TypeError` unless `interpolant` is an `Interpolant`.
    """
    check_instance("score_from_denoiser", "interpolant", interpolant, Interpolant,
                   "an Interpolant")
    eta = as_float_array("score_from_denoiser", "eta", eta)
    return (-eta / interpolant.gamma(jnp.asarray(t, eta.dtype))).astype(eta.dtype)
