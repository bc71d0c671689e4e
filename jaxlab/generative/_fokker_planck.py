"""The Fokker–Planck regulariser of Deveney et al. (2023) for score models.

A scalar model u_θ(t, x) ≈ log p_t(x) has the conservative score s_θ = ∇ₓu_θ. For the
forward SDE dx = f(t, x) dt + g(t) dW the log-density obeys the log Fokker–Planck equation

    ∂_t u = −∇·f − f·∇u + ½g²(Δu + |∇u|²),

so its residual R = ∂_t u + ∇·f + f·∇u − ½g²(Δu + |∇u|²) vanishes for the true log-density;
w·E[R²] at collocation points is the regulariser that closes the gap between the ODE and SDE
samplers built from s_θ.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._core.checks import shape_str
from ._paths import Diffusion


def score_of(log_density: Callable) -> Callable:
    """The conservative score (t, x) -> ∇ₓ log_density(t, x)."""
    return jax.grad(log_density, argnums=1)


def fokker_planck_residual(log_density: Callable, t: Float[ArrayLike, ""],
                           x: Float[ArrayLike, " d"], *, drift: Callable, g2: Callable,
                           probes: int = 0, key: PRNGKeyArray | None = None) -> Array:
    """R(t, x) = ∂_t u + ∇·f + f·∇u − ½g²(Δu + |∇u|²) at one point.

    **Arguments:** `log_density(t, x) -> scalar` (u); `t` scalar; `x: (d,)`;
    `drift(t, x) -> (d,)` (f); `g2(t) -> scalar` (g²); `probes` (0: exact Laplacian and
    divergence by forward-over-reverse autodiff, d passes; m > 0: Hutchinson estimates with m
    Rademacher probes from `key` — unbiased for R, not for R²).

    **Returns:** the scalar residual.
    """
    x = jnp.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"fokker_planck_residual: x must be one point of shape (d,), got "
                         f"{shape_str(x)} (vmap over points)")
    t = jnp.asarray(t, dtype=x.dtype)
    u_t = jax.grad(log_density, argnums=0)(t, x)
    grad_u = jax.grad(log_density, argnums=1)
    fx = drift(t, x)
    gu = grad_u(t, x)
    if probes == 0:
        lap = jnp.trace(jax.jacfwd(lambda y: grad_u(t, y))(x))
        div_f = jnp.trace(jax.jacfwd(lambda y: drift(t, y))(x))
    else:
        if key is None:
            raise ValueError("fokker_planck_residual: probes > 0 needs key=")
        vs = jax.random.rademacher(key, (probes, x.shape[0]), dtype=x.dtype)
        lap = jnp.mean(jax.vmap(
            lambda v: jnp.vdot(v, jax.jvp(lambda y: grad_u(t, y), (x,), (v,))[1]))(vs))
        div_f = jnp.mean(jax.vmap(
            lambda v: jnp.vdot(v, jax.jvp(lambda y: drift(t, y), (x,), (v,))[1]))(vs))
    return u_t + div_f + jnp.vdot(fx, gu) - 0.5 * g2(t) * (lap + jnp.vdot(gu, gu))


def diffusion_residual(log_density: Callable, diffusion: Diffusion, t, x, *,
                       probes: int = 0, key: PRNGKeyArray | None = None) -> Array:
    """`fokker_planck_residual` for a `Diffusion` (f(t, x) = f(t)x, g² = g²(t))."""

    def drift(s, y):
        return diffusion.sde(s)[0] * y

    return fokker_planck_residual(log_density, t, x, drift=drift,
                                  g2=lambda s: diffusion.sde(s)[1], probes=probes, key=key)


def fokker_planck_loss(log_density: Callable, ts: Float[ArrayLike, " n"],
                       xs: Float[ArrayLike, "n d"], *, drift: Callable, g2: Callable,
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

    **Raises:** `ValueError` if the shapes disagree.
    """
    ts, xs = jnp.asarray(ts), jnp.asarray(xs)
    if xs.ndim != 2 or ts.shape != xs.shape[:1]:
        raise ValueError(f"fokker_planck_loss: need ts: (n,) and xs: (n, d), got "
                         f"{shape_str(ts)} and {shape_str(xs)}")
    lam = 1.0 if weighting is None else jax.vmap(weighting)(ts)
    keys = (jax.random.split(key, ts.shape[0]) if probes > 0 else
            jnp.zeros((ts.shape[0], 2), jnp.uint32))
    res = jax.vmap(lambda t, x, k: fokker_planck_residual(
        log_density, t, x, drift=drift, g2=g2, probes=probes,
        key=k if probes > 0 else None))(ts, xs, keys)
    return jnp.mean(lam * res**2)
