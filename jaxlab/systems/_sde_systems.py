"""Two SDEs used as data generators: a time-dependent Ornstein–Uhlenbeck process and a
system of interacting particles (stochastic opinion dynamics)."""

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Real

from .._core.checks import as_float_array, check_int, common_float_dtype
from ._base import AbstractSDE

__all__ = ["OpinionDynamics", "TimeDependentOU"]


class TimeDependentOU(AbstractSDE):
    """The time-dependent Ornstein–Uhlenbeck process dY = (a t − θ Y) dt + c t dW (d = 1).

    The SDE-GAN toy of Kidger et al. (2021): mean reversion towards a linearly growing level
    with a noise that grows in time. Linear, so its marginals are Gaussian with the closed
    forms of `mean` and `variance` (θ ≠ 0).

    **Fields:** `a` (drift slope, default 0.02), `theta` (reversion rate θ, 0.1), `c` (noise
    slope, 0.4 · 2/64 = 0.0125), the values of the paper.
    """

    a: ArrayLike = 0.02
    theta: ArrayLike = 0.1
    c: ArrayLike = 0.4 * 2 / 64

    dimension: ClassVar[int] = 1
    dt: ClassVar[float] = 0.05
    citation: ClassVar[str] = (
        "Kidger, Foster, Li, Oberhauser & Lyons (2021). Neural SDEs as Infinite-Dimensional "
        "GANs. ICML.")

    def drift(self, t: Float[Array, ""], y: Float[Array, " 1"]) -> Float[Array, " 1"]:
        return self.a * t - self.theta * y

    def diffusion(self, t: Float[Array, ""], y: Float[Array, " 1"]) -> Float[Array, " 1"]:
        return self.c * t * jnp.ones_like(y)

    def initial_state(self, dtype=None) -> Float[Array, " 1"]:
        """Y₀ = 0 (the paper draws Y₀ ~ U(−1, 1): pass such states to `simulate_sde`)."""
        return jnp.zeros(1, dtype)

    def mean(self, t: Real[ArrayLike, " *n"], initial_mean: Real[ArrayLike, ""] = 0.0
             ) -> Float[Array, " *n"]:
        """E[Y_t] = m₀ e^{−θt} + a [t/θ − (1 − e^{−θt})/θ²] from E[Y₀] = m₀ at t = 0.

        **Arguments:** `t` (times ≥ 0, any shape), `initial_mean` (m₀).

        **Returns:** the mean at `t`, in the floating dtype of `t` and `initial_mean`.

        **Raises:** `TypeError` for non-real input.
        """
        fn = "TimeDependentOU.mean"
        dtype = common_float_dtype(t, initial_mean)
        t = as_float_array(fn, "t", t).astype(dtype)
        m0 = as_float_array(fn, "initial_mean", initial_mean).astype(dtype)
        theta = jnp.asarray(self.theta, dtype)
        gap = -jnp.expm1(-theta * t)                    # 1 − e^{−θt}
        return (m0 * (1 - gap) + self.a * (t / theta - gap / theta**2)).astype(dtype)

    def variance(self, t: Real[ArrayLike, " *n"],
                 initial_variance: Real[ArrayLike, ""] = 0.0) -> Float[Array, " *n"]:
        """Var[Y_t] = v₀ e^{−kt} + c² [t²/k − 2t/k² + 2(1 − e^{−kt})/k³], k = 2θ, from
        Var[Y₀] = v₀ at t = 0 (Y₀ independent of W).

        **Arguments:** `t` (times ≥ 0, any shape), `initial_variance` (v₀ ≥ 0; 1/3 for
        Y₀ ~ U(−1, 1)).

        **Returns:** the variance at `t`, in the floating dtype of `t` and
        `initial_variance`.

        **Raises:** `TypeError` for non-real input.
        """
        fn = "TimeDependentOU.variance"
        dtype = common_float_dtype(t, initial_variance)
        t = as_float_array(fn, "t", t).astype(dtype)
        v0 = as_float_array(fn, "initial_variance", initial_variance).astype(dtype)
        k = 2 * jnp.asarray(self.theta, dtype)
        gap = -jnp.expm1(-k * t)                        # 1 − e^{−kt}
        noise = self.c**2 * (t**2 / k - 2 * t / k**2 + 2 * gap / k**3)
        return (v0 * (1 - gap) + noise).astype(dtype)


class OpinionDynamics(AbstractSDE):
    """N interacting particles on the line (stochastic opinion dynamics):

    dXⁱ = −(1/N) Σⱼ φ(|Xⁱ − Xʲ|)(Xⁱ − Xʲ) dt + σ dWⁱ,
    φ(r) = s · exp(−0.01 / (1 − (r − 0.2)²)) for r < 1.2, else 0.

    Opinions within reach (|Xⁱ − Xʲ| < 1.2) attract each other, so an initially uniform
    population splits into clusters that then merge; the state is all N particles, so one
    drift evaluation costs O(N²). The interaction is antisymmetric, so the particles' mean
    moves only by the noise: (1/N) Σᵢ Xⁱ is a martingale.

    **Fields:** `particles` (N, a static int ≥ 1; default 2000), `sigma` (σ, 0.1),
    `strength` (s, 6.0).
    """

    particles: int = eqx.field(default=2000, static=True)
    sigma: ArrayLike = 0.1
    strength: ArrayLike = 6.0

    dt: ClassVar[float] = 0.01
    citation: ClassVar[str] = (
        "Min, Hu & Ichiba (2023). Directed Chain Generative Adversarial Networks. ICML "
        "(stochastic opinion dynamics).")

    def __check_init__(self):
        check_int("OpinionDynamics", "particles", self.particles, minimum=1)

    @property
    def dimension(self) -> int:
        return self.particles

    def interaction(self, r: Real[ArrayLike, " *n"]) -> Float[Array, " *n"]:
        """The interaction kernel φ(r) at distances `r` ≥ 0 (any shape), in their dtype."""
        r = as_float_array("OpinionDynamics.interaction", "r", r)
        inside = r < 1.2
        gap = jnp.where(inside, 1 - (r - 0.2) ** 2, 1.0)
        return jnp.where(inside, self.strength * jnp.exp(-0.01 / gap), 0.0).astype(r.dtype)

    def drift(self, t: Float[Array, ""], y: Float[Array, " n"]) -> Float[Array, " n"]:
        diff = y[:, None] - y[None, :]
        return -jnp.mean(self.interaction(jnp.abs(diff)) * diff, axis=1)

    def diffusion(self, t: Float[Array, ""], y: Float[Array, " n"]) -> Float[Array, " n"]:
        return self.sigma * jnp.ones_like(y)

    def initial_state(self, dtype=None) -> Float[Array, " n"]:
        """N opinions evenly spaced on [−2, 2] (the experiments draw them from U(−2, 2))."""
        return jnp.linspace(-2.0, 2.0, self.particles, dtype=dtype)
