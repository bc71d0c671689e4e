"""The Fokker–Planck regulariser of Deveney et al. (2023) for score models.

A scalar model u_θ(t, x) ≈ log p_t(x) has the conservative score s_θ = ∇ₓu_θ. For the
forward SDE dx = f(t, x) dt + g(t) dW the log-density obeys the log Fokker–Planck equation

    ∂_t u = −∇·f − f·∇u + ½g²(Δu + |∇u|²),

so its residual R = ∂_t u + ∇·f + f·∇u − ½g²(Δu + |∇u|²) vanishes for the true log-density;
w·E[R²] at collocation points is the regulariser that closes the gap between the ODE and SDE
samplers built from s_θ.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PRNGKeyArray, Real

from .._core.checks import (
    as_float_array,
    check_callable,
    check_instance,
    check_int,
    check_key,
    check_ndim,
    message,
    shape_str,
)
from ._paths import Diffusion


def score_of(log_density: Callable) -> Callable:
    """The conservative score (t, x) -> ∇ₓ log_density(t, x).

    **Raises:** `TypeError` unless `log_density` is callable.
    """
    check_callable("score_of", "log_density", log_density, "a callable (t, x) -> scalar")
    return jax.grad(log_density, argnums=1)


class LogDensity(eqx.Module):
    """A log-density model u_θ(t, x) ≈ log p_t(x) from a network with one output, and its
    conservative score s_θ = ∇ₓu_θ: the model of the Fokker–Planck regularised diffusion.

    **Arguments:** `net(t, x) -> ()` or `(1,)` (e.g. `de.MLPField(d, (1,), ...)`), an
    `eqx.Module` or any callable (its arrays are trained when it is a Module).

    `model(t, x)` is the scalar u_θ(t, x) for one point `x: (d,)` (pass `model` as
    `log_density` to `fokker_planck_loss`); `model.score(t, x)` is ∇ₓu_θ, shape `(d,)` (pass
    it as the score model of `denoising_loss(prediction="score")` or `sample_diffusion`).

    **Raises:** `TypeError` unless `net` is callable.

    **References:** Deveney, Stanczuk, Kreusser, Budd & Schönlieb, *Closing the ODE–SDE gap
    in score-based diffusion models through the Fokker–Planck equation* (2023).
    """

    net: Callable

    def __init__(self, net: Callable):
        self.net = check_callable("LogDensity", "net", net, "a callable (t, x) -> scalar")

    def __call__(self, t: Real[ArrayLike, ""], x: Real[ArrayLike, " d"]) -> Array:
        """u_θ(t, x), a scalar. **Raises:** `ValueError` if the network's output has more
        than one element."""
        out = jnp.asarray(self.net(t, x))
        if out.size != 1:
            raise ValueError(message("LogDensity", "net(t, x)", "a scalar or of shape (1,)",
                                     f"shape {shape_str(out)}"))
        return out.reshape(())

    def score(self, t: Real[ArrayLike, ""], x: Real[ArrayLike, " d"]) -> Array:
        """s_θ(t, x) = ∇ₓu_θ(t, x), shape `(d,)`."""
        return jax.grad(self.__call__, argnums=1)(t, x)


def fokker_planck_residual(log_density: Callable, t: Real[ArrayLike, ""],
                           x: Real[ArrayLike, " d"], *, drift: Callable, g2: Callable,
                           probes: int = 0, key: PRNGKeyArray | None = None) -> Array:
    """R(t, x) = ∂_t u + ∇·f + f·∇u − ½g²(Δu + |∇u|²) at one point.

    **Arguments:** `log_density(t, x) -> scalar` (u); `t` scalar; `x: (d,)`;
    `drift(t, x) -> (d,)` (f); `g2(t) -> scalar` (g²); `probes` (0: exact Laplacian and
    divergence by forward-over-reverse autodiff, d passes; m > 0: Hutchinson estimates with m
    Rademacher probes from `key` — unbiased for R, not for R²).

    **Returns:** the scalar residual, in the dtype of `x`.

    **Raises:** `ValueError` unless `x` is one point `(d,)` (vmap over points) and
    `probes` ≥ 0; `TypeError` for non-callables or a missing key when `probes > 0`.
    """
    fn = "fokker_planck_residual"
    check_callable(fn, "log_density", log_density)
    check_callable(fn, "drift", drift)
    check_callable(fn, "g2", g2)
    x = as_float_array(fn, "x", x)
    check_ndim(fn, "x", x, 1, want="one point of shape (d,) (vmap over points)")
    probes = check_int(fn, "probes", probes, minimum=0)
    if probes > 0:
        key = check_key(fn, key)
    t = jnp.asarray(t, dtype=x.dtype)
    u_t = jax.grad(log_density, argnums=0)(t, x)
    grad_u = jax.grad(log_density, argnums=1)
    fx = drift(t, x)
    gu = grad_u(t, x)
    if probes == 0:
        lap = jnp.trace(jax.jacfwd(lambda y: grad_u(t, y))(x))
        div_f = jnp.trace(jax.jacfwd(lambda y: drift(t, y))(x))
    else:
        vs = jax.random.rademacher(key, (probes, x.shape[0]), dtype=x.dtype)
        lap = jnp.mean(jax.vmap(
            lambda v: jnp.vdot(v, jax.jvp(lambda y: grad_u(t, y), (x,), (v,))[1]))(vs))
        div_f = jnp.mean(jax.vmap(
            lambda v: jnp.vdot(v, jax.jvp(lambda y: drift(t, y), (x,), (v,))[1]))(vs))
    return u_t + div_f + jnp.vdot(fx, gu) - 0.5 * g2(t) * (lap + jnp.vdot(gu, gu))


def diffusion_residual(log_density: Callable, diffusion: Diffusion, t, x, *,
                       probes: int = 0, key: PRNGKeyArray | None = None) -> Array:
    """`fokker_planck_residual` for a `Diffusion` (f(t, x) = f(t)x, g² = g²(t)).

    **Raises:** as `fokker_planck_residual`; `TypeError` unless `diffusion` is a
    `Diffusion`.
    """
    check_instance("diffusion_residual", "diffusion", diffusion, Diffusion, "a Diffusion")

    def drift(s, y):
        return diffusion.sde(s)[0] * y

    return fokker_planck_residual(log_density, t, x, drift=drift,
                                  g2=lambda s: diffusion.sde(s)[1], probes=probes, key=key)


def fokker_planck_loss(log_density: Callable, ts: Real[ArrayLike, " n"],
                       xs: Real[ArrayLike, "n d"], *, drift: Callable, g2: Callable,
                       probes: int = 0, key: PRNGKeyArray | None = None,
                       weighting: Callable | None = None) -> Array:
    """E[λ(t) R²] over collocation points `(ts[i], xs[i])`: the regulariser, added to a
    denoising loss with a weight w (Deveney et al. 2023, eq. (12)).

    **Arguments:** `log_density(t, x) -> scalar`; `ts: (n,)`; `xs: (n, d)`; `drift`, `g2`,
    `probes`, `key` as `fokker_planck_residual`; `weighting` (callable t -> λ(t) ≥ 0;
    default 1). Near t = 0 the residual of a sharp data distribution grows like 1/σ²(t)
    (|∇u|² and Δu do), so unweighted collocation is dominated by the smallest times;
    λ = σ⁴ makes σ²R, which is O(1) at every t, the quantity fitted.

    **Returns:** the scalar mean.

    **Raises:** `ValueError` if the shapes disagree; `TypeError` for non-real arrays or a
    missing key when `probes > 0`.
    """
    fn = "fokker_planck_loss"
    xs = as_float_array(fn, "xs", xs)
    ts = as_float_array(fn, "ts", ts).astype(xs.dtype)
    if xs.ndim != 2 or ts.shape != xs.shape[:1]:
        raise ValueError(message(fn, "ts and xs", "of shapes (n,) and (n, d)",
                                 f"{shape_str(ts)} and {shape_str(xs)}"))
    probes = check_int(fn, "probes", probes, minimum=0)
    lam = 1.0 if weighting is None else jax.vmap(weighting)(ts)
    keys = (jax.random.split(check_key(fn, key), ts.shape[0]) if probes > 0 else
            jnp.zeros((ts.shape[0], 2), jnp.uint32))
    res = jax.vmap(lambda t, x, k: fokker_planck_residual(
        log_density, t, x, drift=drift, g2=g2, probes=probes,
        key=k if probes > 0 else None))(ts, xs, keys)
    return jnp.mean(lam * res**2).astype(xs.dtype)
