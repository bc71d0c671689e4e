"""The discrete maps of the dysts catalogue.

Equations, default parameters, initial conditions and citations are those of dysts 0.96
(W. Gilpin, *Chaos as an interpretable benchmark for forecasting and data-driven modelling*,
NeurIPS 2021; Apache-2.0), written here in JAX. Deviations from dysts are stated in the
class docstring.
"""

from typing import ClassVar

import jax
import jax.numpy as jnp
from jaxtyping import ArrayLike

from ._base import AbstractMap


def _stack(*components):
    """The components of a map as one array (scalars broadcast, dtypes promoted)."""
    return jnp.stack(jnp.broadcast_arrays(*components))


class Logistic(AbstractMap):
    """Logistic"""

    r: ArrayLike = 3.9

    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (0.51,)
    citation: ClassVar[str] = (
        "Robert May. Simple mathematical models with very complicated dynamics. Nature (1976)."
    )

    def step(self, state):
        (x,) = state
        r = self.r
        return _stack(r * x * (1 - x))


class Ricker(AbstractMap):
    """Ricker"""

    a: ArrayLike = 3.3

    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (0.51,)
    citation: ClassVar[str] = "."

    def step(self, state):
        (x,) = state
        a = self.a
        return _stack(x * jnp.exp(a - x))


class Tent(AbstractMap):
    """Tent"""

    mu: ArrayLike = 0.95

    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (0.51,)
    citation: ClassVar[str] = ""

    def step(self, state):
        (x,) = state
        mu = self.mu
        return _stack(mu * (1 - 2 * jnp.abs(x - 0.5)))


class Gauss(AbstractMap):
    """Gauss"""

    a: ArrayLike = 4.9
    b: ArrayLike = -0.5

    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (0.5,)
    citation: ClassVar[str] = "."

    def step(self, state):
        (x,) = state
        a, b = self.a, self.b
        return _stack(jnp.exp(-a * x**2) + b)


class Chebyshev(AbstractMap):
    """Chebyshev"""

    a: ArrayLike = 6.0

    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (0.51,)
    citation: ClassVar[str] = "."

    def step(self, state):
        (x,) = state
        a = self.a
        return _stack(jnp.cos(a * jnp.arccos(x)))


class Bogdanov(AbstractMap):
    """Bogdanov"""

    eps: ArrayLike = 0.0
    k: ArrayLike = 1.2
    mu: ArrayLike = 0.0

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (0.51, 0.2)
    citation: ClassVar[str] = (
        "Bogdanov, R (1981). Bifurcations of a Limit Cycle for a Family of Vector Fields "
        "on the Plane. Selecta Math. Soviet."
    )

    def step(self, state):
        x, y = state
        eps, k, mu = self.eps, self.k, self.mu
        yp = (1 + eps) * y + k * x * (x - 1) + mu * x * y
        xp = x + yp
        return _stack(xp, yp)


class Baker(AbstractMap):
    """Baker"""

    a: ArrayLike = 1.0

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (0.04995935, 0.363224)
    citation: ClassVar[str] = "."

    def step(self, state):
        x, y = state
        a = self.a
        eps2 = 2.0 - 1e-10
        x_flr = eps2 * x // 1
        xp = eps2 * x - x_flr
        yp = (a * y + x_flr) / 2
        return _stack(xp, yp)


class Circle(AbstractMap):
    """Circle"""

    k: ArrayLike = 5.7
    omega: ArrayLike = 0.333

    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (0.0,)
    citation: ClassVar[str] = "."

    def step(self, state):
        (theta,) = state
        k, omega = self.k, self.omega
        thetap = theta + omega + k / (2 * jnp.pi) * jnp.sin(2 * jnp.pi * theta)
        return _stack(thetap)


class DeJong(AbstractMap):
    """DeJong"""

    a: ArrayLike = 1.641
    b: ArrayLike = 1.902
    c: ArrayLike = 0.316
    d: ArrayLike = 1.525

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (1.78166133, -1.15791549)
    citation: ClassVar[str] = "."

    def step(self, state):
        x, y = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xp = jnp.sin(a * y) - jnp.cos(b * x)
        yp = jnp.sin(c * x) - jnp.cos(d * y)
        return _stack(xp, yp)


class Svensson(AbstractMap):
    """Svensson"""

    a: ArrayLike = 1.5
    b: ArrayLike = -1.8
    c: ArrayLike = 1.6
    d: ArrayLike = 0.9

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (0.5, 0.5)
    citation: ClassVar[str] = "Ivan Emrich."

    def step(self, state):
        x, y = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xp = d * jnp.sin(a * x) - jnp.sin(b * y)
        yp = c * jnp.cos(a * x) + jnp.cos(b * y)
        return _stack(xp, yp)


class Bedhead(AbstractMap):
    """Bedhead"""

    a: ArrayLike = -0.67
    b: ArrayLike = 0.83

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (0.5, 0.5)
    citation: ClassVar[str] = "Ivan Emrich."

    def step(self, state):
        x, y = state
        a, b = self.a, self.b
        xp = jnp.sin(x * y / b) * y + jnp.cos(a * x - y)
        yp = x + jnp.sin(y) / b
        return _stack(xp, yp)


class GumowskiMira(AbstractMap):
    """GumowskiMira"""

    a: ArrayLike = -1.1
    b: ArrayLike = -0.2

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (0.1, 0.1)
    citation: ClassVar[str] = (
        "Gumowski, Igor, and Christian Mira (2006). Recurrences and discrete dynamic "
        "systems. Vol. 809. Springer."
    )

    def step(self, state):
        x, y = state
        a, b = self.a, self.b
        fx = a * x + 2 * (1 - a) * x**2 / (1 + x**2)
        xp = b * y + fx
        fx1 = a * xp + 2 * (1 - a) * xp**2 / (1 + xp**2)
        yp = fx1 - x
        return _stack(xp, yp)


class Hopalong(AbstractMap):
    """Hopalong"""

    a: ArrayLike = 3.1
    b: ArrayLike = 2.5
    c: ArrayLike = 4.2

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (0.1, 0.1)
    citation: ClassVar[str] = "Barry Martin."

    def step(self, state):
        x, y = state
        a, b, c = self.a, self.b, self.c
        xp = y - 1 - jnp.sqrt(jnp.abs(b * x - 1 - c)) * jnp.sign(x - 1)
        yp = a - x - 1
        return _stack(xp, yp)


class Ikeda(AbstractMap):
    """Ikeda"""

    u: ArrayLike = 0.9

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (0.9, 0.55524451)
    citation: ClassVar[str] = "."

    def step(self, state):
        x, y = state
        u = self.u
        t = 0.4 - 6 / (1 + x**2 + y**2)
        xp = 1 + u * (x * jnp.cos(t) - y * jnp.sin(t))
        yp = u * (x * jnp.sin(t) + y * jnp.cos(t))
        return _stack(xp, yp)


class Tinkerbell(AbstractMap):
    """Tinkerbell"""

    a: ArrayLike = 0.9
    b: ArrayLike = -0.6013
    c: ArrayLike = 2.0
    d: ArrayLike = 0.5

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (0.13738266, -0.0308518)
    citation: ClassVar[str] = "."

    def step(self, state):
        x, y = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xp = x**2 - y**2 + a * x + b * y
        yp = 2 * x * y + c * x + d * y
        return _stack(xp, yp)


class Pickover(AbstractMap):
    """Pickover"""

    a: ArrayLike = -1.4
    b: ArrayLike = 1.6
    c: ArrayLike = 1.0
    d: ArrayLike = 0.7

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (-0.97631884, -1.2040783)
    citation: ClassVar[str] = "."

    def step(self, state):
        x, y = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xp = jnp.sin(a * y) + c * jnp.cos(a * x)
        yp = jnp.sin(b * x) + d * jnp.cos(b * y)
        return _stack(xp, yp)


class MaynardSmith(AbstractMap):
    """MaynardSmith"""

    a: ArrayLike = 0.87
    b: ArrayLike = 0.75

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (0.0, 0.1)
    citation: ClassVar[str] = "."

    def step(self, state):
        x, y = state
        a, b = self.a, self.b
        xp = y
        yp = a * y + b - x**2
        return _stack(xp, yp)


class KaplanYorke(AbstractMap):
    """KaplanYorke"""

    alpha: ArrayLike = 0.2

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (0.2, 0.2)
    citation: ClassVar[str] = (
        "J.L. Kaplan, J.A. Yorke (1979).Functional Differential Equations and "
        "Approximations of Fixed Points"
    )

    def step(self, state):
        x, y = state
        alpha = self.alpha
        xp = 2 * x % 0.99999995
        yp = alpha * y + jnp.cos(4 * jnp.pi * x)
        return _stack(xp, yp)


class Gingerbreadman(AbstractMap):
    """Gingerbreadman"""

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (0.51, 0.1)
    citation: ClassVar[str] = ""

    def step(self, state):
        x, y = state
        xp = 1 - y + jnp.abs(x)
        yp = x
        return _stack(xp, yp)


class Duffing(AbstractMap):
    """Duffing"""

    a: ArrayLike = 2.75
    b: ArrayLike = 0.2

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (0.51, 0.1)
    citation: ClassVar[str] = ""

    def step(self, state):
        x, y = state
        a, b = self.a, self.b
        xp = y
        yp = -b * x + a * y - y**3
        return _stack(xp, yp)


class Chirikov(AbstractMap):
    """Chirikov"""

    k: ArrayLike = 0.971635

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (0.1, 0.1)
    citation: ClassVar[str] = (
        "B. V. Chirikov, Research concerning the theory of nonlinear resonance and "
        "stochasticity. (1979)."
    )

    def step(self, state):
        p, x = state
        k = self.k
        pp = p + k * jnp.sin(x)
        xp = x + pp
        return _stack(pp, xp)


class Henon(AbstractMap):
    """Henon"""

    a: ArrayLike = 1.4
    b: ArrayLike = 0.3

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (1.21674097, 0.03536533)
    citation: ClassVar[str] = "."

    def step(self, state):
        x, y = state
        a, b = self.a, self.b
        xp = 1 - a * x**2 + y
        yp = b * x
        return _stack(xp, yp)


@jax.custom_jvp
def _kepler(fac, target):
    """The root q of Kepler's equation q − fac·sin q = target, for 0 ≤ fac < 1.

    The left side is strictly increasing (its derivative 1 − fac·cos q ≥ 1 − fac > 0), so
    the root is unique; Newton's method from q = target converges to machine precision in
    a handful of iterations (at most 64 are taken). Derivatives come from the implicit
    function theorem (the `custom_jvp` below), not from the iterations. Written by hand
    rather than with `optimistix.root_find`, whose linearisation fails under `shard_map`
    (lineax's closure conversion sees different varying-axes types).
    """
    tol = 4 * jnp.finfo(jnp.result_type(target)).eps

    def cond(carry):
        q, change, i = carry
        return (change > tol * (1 + jnp.abs(q))) & (i < 64)

    def body(carry):
        q, _, i = carry
        new = q - (q - fac * jnp.sin(q) - target) / (1 - fac * jnp.cos(q))
        return new, jnp.abs(new - q), i + 1

    q0 = jnp.asarray(target) + jnp.zeros_like(fac)
    q, _, _ = jax.lax.while_loop(cond, body, (q0, jnp.full_like(q0, jnp.inf), 0))
    return q


@_kepler.defjvp
def _kepler_jvp(primals, tangents):
    fac, target = primals
    dfac, dtarget = tangents
    q = _kepler(fac, target)
    return q, (dtarget + jnp.sin(q) * dfac) / (1 - fac * jnp.cos(q))


class BlinkingVortexMap(AbstractMap):
    """The blinking-vortex map (Aref 1984): a tracer advected by two point vortices in a
    disk that are switched on alternately for a time `t` each.

    dysts flips the sign of `b` after every iteration (a stateful map); jaxlab's `step`
    is pure, so it is one full blinking period: the vortex at +b, then the vortex at −b.
    `half_step(state, b)` is one blink. The implicit Kepler-type equation of each blink is
    solved by Newton's method and differentiated implicitly (`_kepler`). State: polar
    coordinates (r, θ).
    """

    a: ArrayLike = 1.0
    b: ArrayLike = 0.5
    gamma: ArrayLike = 1.0
    t: ArrayLike = 1.5

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (0.17, 0.33)
    citation: ClassVar[str] = "."

    def half_step(self, state, b):
        rt, tt = state
        a, gamma, t = self.a, self.gamma, self.t
        a2b = a**2 / b
        lam2 = (b**2 + rt**2 - 2 * b * rt * jnp.cos(tt)) / (
            a2b**2 + rt**2 - 2 * a2b * rt * jnp.cos(tt)
        )
        lam = jnp.sqrt(lam2)
        etac = (b - lam2 * a2b) / (1 - lam2)
        rho = jnp.abs((lam / (1 - lam2)) * (a2b - b))
        tp = jnp.arctan2(rt * jnp.sin(tt), -etac + rt * jnp.cos(tt))
        fac = (2 * lam) / (1 + lam2)
        tlam = (2 * jnp.pi) ** 2 * ((rho**2) / gamma) * (1 + lam2) / (1 - lam2)
        target = (tp - fac * jnp.sin(tp)) + 2 * jnp.pi * t / tlam

        thetat = _kepler(fac, target)
        rout = jnp.sqrt(rho**2 + etac**2 + 2 * rho * etac * jnp.cos(thetat))
        thout = jnp.arctan2(rho * jnp.sin(thetat), etac + rho * jnp.cos(thetat))
        return _stack(rout, thout)

    def step(self, state):
        return self.half_step(self.half_step(state, self.b), -self.b)
