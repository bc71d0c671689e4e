"""The six delay-differential equations of the dysts catalogue.

A delay system dy/dt = f(t, y(t), y(t − τ)) starts from the constant history y(s) = y0 on
[−τ, 0] (the dysts convention); `integrate_delay` solves it and `lyapunov_spectrum`
estimates its exponents.

The equations, default parameters, initial conditions, step-size hints (`dt`), dominant
periods and citations are those of dysts 0.96 (W. Gilpin, *Chaos as an interpretable
benchmark for forecasting and data-driven modelling*, NeurIPS 2021; Apache-2.0), written
here in JAX. dysts lists ten initial conditions per delay system (a delay embedding of the
scalar state); it integrates from the first, and so does jaxlab: `dimension` is 1.
"""

import math
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._core.checks import message
from ._base import AbstractDelay

__all__ = ["IkedaDelay", "MackeyGlass", "PiecewiseCircuit", "ScrollDelay", "SprottDelay",
           "VossDelay", "delay_time"]

_TAU_WANT = ("a positive finite Python number (the delay fixes the step grid, so it cannot "
             "be traced, vmapped or differentiated)")


def delay_time(value) -> float:
    """Converter of the `tau` fields: a positive finite Python float, never a tracer.

    **Raises:** `TypeError` for a traced or non-numeric value, `ValueError` for a value
    that is not positive and finite.
    """
    ok = (not isinstance(value, (jax.core.Tracer, bool, str)) and np.ndim(value) == 0
          and np.issubdtype(np.asarray(value).dtype, np.number)
          and not np.iscomplexobj(value))
    if not ok:
        got = (f"a tracer {value!r}" if isinstance(value, jax.core.Tracer) else repr(value))
        raise TypeError(message("AbstractDelay", "tau", _TAU_WANT, got))
    tau = float(value)
    if not (math.isfinite(tau) and tau > 0):
        raise ValueError(message("AbstractDelay", "tau", _TAU_WANT, repr(value)))
    return tau


class MackeyGlass(AbstractDelay):
    """The Mackey–Glass (1977) model of blood-cell production.

    dx/dt = β x(t − τ) / (1 + x(t − τ)ⁿ) − γ x(t).

    Chaotic for τ ≳ 16.8 at (β, γ, n) = (0.2, 0.1, 10). dysts's default τ = 16 lies just
    below that: from the default history jaxlab measures λ_max ≈ 0 there (a periodic
    orbit). At the classic chaotic value τ = 17, λ_max ≈ 0.0050 per time unit (measured
    with `lyapunov_spectrum`, 7 trajectories of T = 17000). x = 1 is an unstable
    equilibrium for every τ.
    """

    beta: ArrayLike = 0.2
    gamma: ArrayLike = 0.1
    n: ArrayLike = 10.0
    tau: float = eqx.field(default=16.0, static=True, converter=delay_time)

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
    tau: float = eqx.field(default=2.0, static=True, converter=delay_time)
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
    tau: float = eqx.field(default=5.1, static=True, converter=delay_time)
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
    tau: float = eqx.field(default=13.28, static=True, converter=delay_time)

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
    tau: float = eqx.field(default=10.0, static=True, converter=delay_time)

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
    tau: float = eqx.field(default=4.9, static=True, converter=delay_time)

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
