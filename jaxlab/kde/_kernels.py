"""Radially symmetric smoothing kernels, normalised in any dimension."""

import abc
import math
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._core.checks import check_instance, check_int, check_key


def log_unit_ball_volume(d: int) -> float:
    """log V_d, V_d = π^{d/2} / Γ(d/2 + 1), the volume of the unit ball in R^d."""
    return 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1)


class AbstractKernel(eqx.Module):
    """A radially symmetric kernel K(u) = k(|u|) / c_d on R^d.

    Subclasses give the profile `k` (as `log_profile` of the squared radius, so sums stay in
    log space), its support radius and `log_normaliser(d)` = log c_d = log ∫ k(|u|) du, and
    a sampler of the radius |u| under K. The bandwidth scales the argument:
    K_H(x) = K(L⁻¹x) / |det L| with H = L Lᵀ.
    """

    name: ClassVar[str]
    radius: ClassVar[float]  # k(r) = 0 for r ≥ radius (inf: unbounded support)

    @abc.abstractmethod
    def log_profile(self, r2: Array) -> Array:
        """log k(r) as a function of r² (−inf outside the support)."""

    @abc.abstractmethod
    def log_normaliser(self, d: int) -> float:
        """log c_d = log ∫_{R^d} k(|u|) du."""

    @abc.abstractmethod
    def sample_radius(self, shape: tuple[int, ...], d: int, dtype=jnp.float32, *,
                      key: PRNGKeyArray) -> Float[Array, "..."]:
        """Draws of |u| for u ~ K in R^d, of the given shape and dtype."""

    def sample(self, n: int, d: int, dtype=jnp.float32, *,
               key: PRNGKeyArray) -> Float[Array, "n d"]:
        """`n` draws from K in R^d (Gaussian: normal; others: a uniform direction times a
        radius with density ∝ k(r) r^{d−1}).

        **Arguments:** `n` draws (an int ≥ 1) in `d` dimensions (an int ≥ 1), of floating
        `dtype`; `key`, a JAX PRNG key.

        **Returns:** `(n, d)` draws.

        **Raises:** `TypeError` for a non-int `n`/`d` or a bad key; `ValueError` for `n` or
        `d` < 1.
        """
        n, d = _check_sample_args(f"{type(self).__name__}.sample", n, d, key)
        k_dir, k_rad = jax.random.split(key)
        z = jax.random.normal(k_dir, (n, d), dtype)
        direction = z / jnp.linalg.norm(z, axis=1, keepdims=True)
        return direction * self.sample_radius((n, 1), d, dtype, key=k_rad)


def _check_sample_args(fn: str, n, d, key) -> tuple[int, int]:
    check_key(fn, key)
    return check_int(fn, "n", n, minimum=1), check_int(fn, "d", d, minimum=1)


class Gaussian(AbstractKernel):
    """k(r) = exp(−r²/2), c_d = (2π)^{d/2}: the standard normal density."""

    name: ClassVar[str] = "gaussian"
    radius: ClassVar[float] = math.inf

    def log_profile(self, r2):
        return -0.5 * r2

    def log_normaliser(self, d):
        return 0.5 * d * math.log(2 * math.pi)

    def sample(self, n, d, dtype=jnp.float32, *, key):
        n, d = _check_sample_args("Gaussian.sample", n, d, key)
        return jax.random.normal(key, (n, d), dtype)

    def sample_radius(self, shape, d, dtype=jnp.float32, *, key):
        return jnp.sqrt(jax.random.chisquare(key, d, shape, dtype))


def _radius(r2):
    """√r² with a zero (not infinite) derivative at r² = 0, where the exponential and linear
    profiles have a cusp."""
    positive = r2 > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, r2, 1.0)), 0.0)


def _log_positive(x):
    """log x for x > 0, −inf for x ≤ 0, with a finite gradient everywhere."""
    positive = x > 0
    return jnp.where(positive, jnp.log(jnp.where(positive, x, 1.0)), -jnp.inf)


class Epanechnikov(AbstractKernel):
    """k(r) = max(1 − r², 0), c_d = 2 V_d / (d + 2)."""

    name: ClassVar[str] = "epanechnikov"
    radius: ClassVar[float] = 1.0

    def log_profile(self, r2):
        return _log_positive(1.0 - r2)

    def log_normaliser(self, d):
        return log_unit_ball_volume(d) + math.log(2.0 / (d + 2))

    def sample_radius(self, shape, d, dtype=jnp.float32, *, key):
        # r² has density ∝ (1 − s) s^{d/2 − 1}: Beta(d/2, 2).
        return jnp.sqrt(jax.random.beta(key, d / 2, 2.0, shape, dtype))


class Tophat(AbstractKernel):
    """k(r) = 1 for r < 1, c_d = V_d."""

    name: ClassVar[str] = "tophat"
    radius: ClassVar[float] = 1.0

    def log_profile(self, r2):
        return jnp.where(r2 < 1.0, 0.0, -jnp.inf).astype(jnp.result_type(r2))

    def log_normaliser(self, d):
        return log_unit_ball_volume(d)

    def sample_radius(self, shape, d, dtype=jnp.float32, *, key):
        return jax.random.beta(key, float(d), 1.0, shape, dtype)


class Exponential(AbstractKernel):
    """k(r) = exp(−r), c_d = d! V_d."""

    name: ClassVar[str] = "exponential"
    radius: ClassVar[float] = math.inf

    def log_profile(self, r2):
        return -_radius(r2)

    def log_normaliser(self, d):
        return log_unit_ball_volume(d) + math.lgamma(d + 1)

    def sample_radius(self, shape, d, dtype=jnp.float32, *, key):
        return jax.random.gamma(key, float(d), shape, dtype)


class Linear(AbstractKernel):
    """k(r) = max(1 − r, 0), c_d = V_d / (d + 1)."""

    name: ClassVar[str] = "linear"
    radius: ClassVar[float] = 1.0

    def log_profile(self, r2):
        return _log_positive(1.0 - _radius(r2))

    def log_normaliser(self, d):
        return log_unit_ball_volume(d) - math.log(d + 1)

    def sample_radius(self, shape, d, dtype=jnp.float32, *, key):
        return jax.random.beta(key, float(d), 2.0, shape, dtype)


def _cosine_radial_integral(d: int) -> float:
    """∫_0^1 cos(πr/2) r^{d−1} dr by 64-point Gauss–Legendre (smooth integrand: exact to
    rounding)."""
    nodes, weights = np.polynomial.legendre.leggauss(64)
    r = 0.5 * (nodes + 1.0)
    return float(0.5 * np.sum(weights * np.cos(0.5 * np.pi * r) * r ** (d - 1)))


class Cosine(AbstractKernel):
    """k(r) = cos(πr/2) for r < 1, c_d = d V_d ∫_0^1 cos(πr/2) r^{d−1} dr."""

    name: ClassVar[str] = "cosine"
    radius: ClassVar[float] = 1.0

    def log_profile(self, r2):
        r = _radius(r2)
        return _log_positive(jnp.where(r < 1.0, jnp.cos(0.5 * jnp.pi * r), 0.0))

    def log_normaliser(self, d):
        return log_unit_ball_volume(d) + math.log(d * _cosine_radial_integral(d))

    def sample_radius(self, shape, d, dtype=jnp.float32, *, key):
        # Rejection from Beta(d, 2) (density ∝ (1 − r) r^{d−1}): the ratio
        # cos(πr/2) / (1 − r) lies in [1, π/2], so a proposal is accepted with probability
        # cos(πr/2) / ((π/2)(1 − r)) ≥ 2/π. Rounds continue until every draw is accepted.
        def propose(k):
            k_r, k_u = jax.random.split(k)
            r = jax.random.beta(k_r, float(d), 2.0, shape, dtype)
            ratio = jnp.cos(0.5 * jnp.pi * r) / (0.5 * jnp.pi * jnp.maximum(1.0 - r, 1e-30))
            return r, jax.random.uniform(k_u, shape, dtype) < ratio

        def cond(carry):
            return ~jnp.all(carry[1])

        def body(carry):
            r, done, k = carry
            k, sub = jax.random.split(k)
            new, ok = propose(sub)
            return jnp.where(done, r, new), done | ok, k

        key, sub = jax.random.split(key)
        r, ok = propose(sub)
        r, _, _ = jax.lax.while_loop(cond, body, (r, ok, key))
        return r


KERNELS: dict[str, type[AbstractKernel]] = {
    cls.name: cls for cls in (Gaussian, Epanechnikov, Tophat, Exponential, Linear, Cosine)}


def get_kernel(kernel: "str | AbstractKernel", fn: str) -> AbstractKernel:
    """A kernel instance from its name (or pass an instance through)."""
    if isinstance(kernel, AbstractKernel):
        return kernel
    check_instance(fn, "kernel", kernel, str, f"one of {sorted(KERNELS)} or an AbstractKernel")
    if isinstance(kernel, str) and kernel in KERNELS:
        return KERNELS[kernel]()
    raise ValueError(f"{fn}: kernel must be one of {sorted(KERNELS)} or an AbstractKernel, "
                     f"got {kernel!r}")
