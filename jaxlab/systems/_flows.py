"""The continuous-time systems of the dysts catalogue (ordinary differential equations).

Equations, default parameters, initial conditions, step-size hints (`dt`), dominant periods
and citations are those of dysts 0.96 (W. Gilpin, *Chaos as an interpretable benchmark for
forecasting and data-driven modelling*, NeurIPS 2021; Apache-2.0), written here in JAX.
Where dysts post-processes the output of a non-autonomous system (a forcing phase shown as
its sine), jaxlab integrates the same state and leaves the phase as it is.
Deviations from dysts are stated in the class docstring.
"""

from typing import ClassVar

import jax
import jax.numpy as jnp
from jaxtyping import ArrayLike

from ._base import AbstractFlow


def _stack(*components):
    """The components of a vector field as one array (scalars broadcast, dtypes promoted)."""
    return jnp.stack(jnp.broadcast_arrays(*components))


class Lorenz(AbstractFlow):
    """The Lorenz (1963) model of atmospheric convection.

    dx/dt = σ(y − x),  dy/dt = x(ρ − z) − y,  dz/dt = xy − βz.

    The divergence is the constant −(σ + 1 + β), so the Lyapunov exponents sum to it
    exactly. Reference spectrum at (10, 28, 8/3): (0.9056, 0, −14.5723) (Sprott).
    Deviation from dysts: β defaults to 8/3 (dysts rounds it to 2.667).
    """

    beta: ArrayLike = 8.0 / 3.0
    rho: ArrayLike = 28.0
    sigma: ArrayLike = 10.0

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-9.7869288, -15.03852, 20.533978)
    dt: ClassVar[float] = 0.0003002100350058257
    period: ClassVar[float] = 1.5008
    citation: ClassVar[str] = (
        "Lorenz, Edward N (1963). Deterministic nonperiodic flow. Journal of the "
        "atmospheric sciences 20.2 (1963): 130-141."
    )

    def vector_field(self, t, state):
        x, y, z = state
        beta, rho, sigma = self.beta, self.rho, self.sigma
        xdot = sigma * y - sigma * x
        ydot = rho * x - x * z - y
        zdot = x * y - beta * z
        return _stack(xdot, ydot, zdot)


class LorenzBounded(AbstractFlow):
    """The Lorenz attractor in the presence of a confining potential."""

    beta: ArrayLike = 2.667
    r: ArrayLike = 64
    rho: ArrayLike = 28
    sigma: ArrayLike = 10

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-13.284881, -12.444334, 34.188198)
    dt: ClassVar[float] = 0.00027436572762127296
    period: ClassVar[float] = 1.3716
    citation: ClassVar[str] = "Sprott & Xiong (2015). Chaos."

    def vector_field(self, t, state):
        x, y, z = state
        beta, r, rho, sigma = self.beta, self.r, self.rho, self.sigma
        xdot = (
            sigma * y
            - sigma * x
            - sigma / r**2 * y * x**2
            - sigma / r**2 * y**3
            - sigma / r**2 * y * z**2
            + sigma / r**2 * x**3
            + sigma / r**2 * x * y**2
            + sigma / r**2 * x * z**2
        )
        ydot = (
            rho * x
            - x * z
            - y
            - rho / r**2 * x**3
            - rho / r**2 * x * y**2
            - rho / r**2 * x * z**2
            + 1 / r**2 * z * x**3
            + 1 / r**2 * x * z * y**2
            + 1 / r**2 * x * z**3
            + 1 / r**2 * y * x**2
            + 1 / r**2 * y**3
            + 1 / r**2 * y * z**2
        )
        zdot = (
            x * y
            - beta * z
            - 1 / r**2 * y * x**3
            - 1 / r**2 * x * y**3
            - 1 / r**2 * x * y * z**2
            + beta / r**2 * z * x**2
            + beta / r**2 * z * y**2
            + beta / r**2 * z**3
        )
        return _stack(xdot, ydot, zdot)


class LorenzCoupled(AbstractFlow):
    """Two coupled Lorenz attractors."""

    beta: ArrayLike = 2.667
    eps: ArrayLike = 2.85
    rho: ArrayLike = 28
    rho1: ArrayLike = 35
    rho2: ArrayLike = 1.15
    sigma: ArrayLike = 10

    dimension: ClassVar[int] = 6
    default_ic: ClassVar[tuple[float, ...]] = (
        7.0921483,
        10.117408,
        25.708428,
        2.1689893,
        0.96121877,
        0.89550187,
    )
    dt: ClassVar[float] = 0.0003241940323387382
    period: ClassVar[float] = 1.6207
    citation: ClassVar[str] = (
        "Lorenz, Edward N. Deterministic nonperiodic flow. Journal of the atmospheric "
        "sciences 20.2 (1963): 130-141."
    )

    def vector_field(self, t, state):
        x1, y1, z1, x2, y2, z2 = state
        beta, eps, rho1, rho2, sigma = self.beta, self.eps, self.rho1, self.rho2, self.sigma
        x1dot = sigma * y1 - sigma * x1
        y1dot = rho1 * x1 - x1 * z1 - y1
        z1dot = x1 * y1 - beta * z1
        x2dot = sigma * y2 - sigma * x2 + eps * x1 - eps * x2
        y2dot = rho2 * x2 - x2 * z2 - y2
        z2dot = x2 * y2 - beta * z2
        return _stack(x1dot, y1dot, z1dot, x2dot, y2dot, z2dot)


class Lorenz84(AbstractFlow):
    """Atmospheric circulation analogous to Hadley convection."""

    a: ArrayLike = 1.32
    b: ArrayLike = 7.91
    f: ArrayLike = 4.83
    g: ArrayLike = 4.194

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (
        1.926479236120359,
        -0.13402110197257552,
        -1.72146730664761,
    )
    dt: ClassVar[float] = 0.0012519286547757248
    period: ClassVar[float] = 6.2586
    citation: ClassVar[str] = (
        "E. Lorenz (1984). Irregularity: a fundamental property of the atmosphere. Tellus "
        "A, vol. 36, no. 2, pp. 98--110, 1984."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, f, g = self.a, self.b, self.f, self.g
        xdot = -a * x - y**2 - z**2 + a * f
        ydot = -y + x * y - b * x * z + g
        zdot = -z + b * x * y + x * z
        return _stack(xdot, ydot, zdot)


class Rossler(AbstractFlow):
    """Spiral-type chaos in a simple oscillator model."""

    a: ArrayLike = 0.2
    b: ArrayLike = 0.2
    c: ArrayLike = 5.7

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (6.5134412, 0.4772013, 0.34164294)
    dt: ClassVar[float] = 0.001181916986164424
    period: ClassVar[float] = 5.9086
    citation: ClassVar[str] = (
        "Rossler, O. E. (1976), An Equation for Continuous Chaos, Physics Letters, 57A "
        "(5): 3972013398,"
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c = self.a, self.b, self.c
        xdot = -y - z
        ydot = x + a * y
        zdot = b + z * x - c * z
        return _stack(xdot, ydot, zdot)


class Thomas(AbstractFlow):
    """A cyclically-symmetric attractor correspondng to a frictionally-damped particle traversing a
    3D lattice of forces
    """

    a: ArrayLike = 1.85
    b: ArrayLike = 10

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (2.199442, 2.3634225, 3.220197)
    dt: ClassVar[float] = 0.0009939656609435589
    period: ClassVar[float] = 4.969
    citation: ClassVar[str] = (
        "Thomas, Rene (1999). Deterministic chaos seen in terms of feedback circuits: "
        "Analysis, synthesis, labyrinth chaos. Int. J. Bifurc. Chaos."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b = self.a, self.b
        xdot = -a * x + b * jnp.sin(y)
        ydot = -a * y + b * jnp.sin(z)
        zdot = -a * z + b * jnp.sin(x)
        return _stack(xdot, ydot, zdot)


class ThomasLabyrinth(AbstractFlow):
    """A system in which trajectories seemingly undergo Brownian motion on an infinite lattice, but
    remain bounded when the parameter a is less than one.
    """

    a: ArrayLike = 0.5
    b: ArrayLike = 10

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-4.9599545, 1.0302034, -4.6883893)
    dt: ClassVar[float] = 0.0012102017002834486
    period: ClassVar[float] = 6.05
    citation: ClassVar[str] = (
        "Thomas, Rene. Deterministic chaos seen in terms of feedback circuits: Analysis, "
        "synthesis, labyrinth chaos. Int. J. Bifurc. Chaos. (1999)."
    )

    def vector_field(self, t, state):
        # the equations of Thomas, at other parameter values (as in dysts)
        return Thomas.vector_field(self, t, state)


class DoublePendulum(AbstractFlow):
    """Two coupled rigid pendula without damping."""

    g: ArrayLike = 9.81
    l1: ArrayLike = 1.0
    l2: ArrayLike = 1.0
    m1: ArrayLike = 1.0
    m2: ArrayLike = 1.0

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (-44.334542, 223.53554, -1.2249799, 2.535486)
    dt: ClassVar[float] = 0.0008048141356891847
    period: ClassVar[float] = 4.0234
    citation: ClassVar[str] = (
        "See, for example: Marion (2013). Classical dynamics of particles and systems."
    )

    def vector_field(self, t, state):
        th1, th2, p1, p2 = state
        g, l1, l2, m1, m2 = self.g, self.l1, self.l2, self.m1, self.m2
        cos_diff = jnp.cos(th1 - th2)
        sin_diff = jnp.sin(th1 - th2)
        denom = l1 * l2 * (m1 + m2 * sin_diff**2)
        th1dot = (l2 * p1 - l1 * p2 * cos_diff) / (l1 * denom)
        th2dot = ((m1 + m2) * l1 * p2 - m2 * l2 * p1 * cos_diff) / (m2 * l2 * denom)
        h1 = p1 * p2 * sin_diff / denom
        h2 = m2 * l2 * p1**2 / (2 * l1 * denom**2)
        h2 += 0.5 * m2 * p2 * l2 * l1 * th2dot / denom
        h2 *= jnp.sin(2 * (th1 - th2))
        p1dot = -(m1 + m2) * g * l1 * jnp.sin(th1) - h1 + h2
        p2dot = -m2 * g * l2 * jnp.sin(th2) + h1 - h2
        return _stack(th1dot, th2dot, p1dot, p2dot)


class SwingingAtwood(AbstractFlow):
    """A mechanical system consisting of two swinging weights connected by ropes and pulleys. This
    is only chaotic when m2 is sufficiently larger than m1, and there are nonzero initial
    momenta
    """

    m1: ArrayLike = 1.0
    m2: ArrayLike = 4.5

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (0.113296, 1.5707963267948966, 0.10992, 0.17747)
    dt: ClassVar[float] = 6.836433523233154e-05
    period: ClassVar[float] = 0.3417647058823529
    citation: ClassVar[str] = (
        "Tufillaro, Nicholas B.; Abbott, Tyler A.; Griffiths, David J. (1984). Swinging "
        "Atwood's Machine. American Journal of Physics. 52 (10): 895--903."
    )

    def vector_field(self, t, state):
        r, th, pr, pth = state
        m1, m2 = self.m1, self.m2
        g = 9.82
        rdot = pr / (m1 + m2)
        thdot = pth / (m1 * r**2)
        prdot = pth**2 / (m1 * r**3) - m2 * g + m1 * g * jnp.cos(th)
        pthdot = -m1 * g * r * jnp.sin(th)
        return _stack(rdot, thdot, prdot, pthdot)


class GlycolyticOscillation(AbstractFlow):
    """A model of feedback in glycolytic reactions. Based on the Monod–Wyman–Changeux model."""

    d: ArrayLike = 0.0
    k: ArrayLike = 4.422
    l1: ArrayLike = 500000000.0
    l2: ArrayLike = 100
    nu: ArrayLike = 1.0
    q1: ArrayLike = 50
    q2: ArrayLike = 0.02
    s1: ArrayLike = 22.2222
    s2: ArrayLike = 22.2222

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (
        29.453349256846987,
        130.19350141357407,
        0.18407087674169492,
    )
    dt: ClassVar[float] = 0.010091998840098313
    period: ClassVar[float] = 50.45999420049144
    citation: ClassVar[str] = (
        "Decroly, O.; Goldbeter, An amplified sensitivity arising from covalent "
        "modification in biological systems. A. Proc. Natl. Acad. Sci. USA 1982, "
        "79,6917–6921."
    )

    def vector_field(self, t, state):
        a, b, c = state
        d, k, l1, l2, nu, q1, q2, s1, s2 = (
            self.d,
            self.k,
            self.l1,
            self.l2,
            self.nu,
            self.q1,
            self.q2,
            self.s1,
            self.s2,
        )
        phi = a * (1 + a) * (1 + b) ** 2 / (l1 + (1 + a) ** 2 * (1 + b) ** 2)
        eta = b * (1 + d * b) * (1 + c) ** 2 / (l2 + (1 + d * b) ** 2 * (1 + c) ** 2)
        adot = nu - s1 * phi
        bdot = q1 * s1 * phi - s2 * eta
        cdot = q2 * s2 * eta - k * c
        return _stack(adot, bdot, cdot)


class GuckenheimerHolmes(AbstractFlow):
    """A nonlinear oscillator."""

    a: ArrayLike = 0.4
    b: ArrayLike = 20.25
    c: ArrayLike = 3
    d: ArrayLike = 1.6
    e: ArrayLike = 1.7
    f: ArrayLike = 0.44

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.55582369, 0.05181624, 0.37766104)
    dt: ClassVar[float] = 6.154871965840413e-05
    period: ClassVar[float] = 0.3076923076923077
    citation: ClassVar[str] = (
        "Guckenheimer, John, and Philip Holmes (1983).  Nonlinear oscillations, dynamical "
        "systems, and bifurcations of vector fields. Vol. 42. Springer Science & Business "
        "Media."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c, d, e, f = self.a, self.b, self.c, self.d, self.e, self.f
        xdot = a * x - b * y + c * z * x + d * z * x**2 + d * z * y**2
        ydot = a * y + b * x + c * z * y
        zdot = e - z**2 - f * x**2 - f * y**2 - a * z**3
        return _stack(xdot, ydot, zdot)


class HenonHeiles(AbstractFlow):
    """A star's motion around the galactic center."""

    lam: ArrayLike = 1

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (-0.29707259, -0.0031367513, 0.42548865, 0.071905482)
    dt: ClassVar[float] = 0.0012742123687280581
    period: ClassVar[float] = 6.37
    citation: ClassVar[str] = (
        "Henon, M.; Heiles, C. (1964). The applicability of the third integral of motion: "
        "Some numerical experiments. The Astronomical Journal. 69: 73."
    )

    def vector_field(self, t, state):
        x, y, px, py = state
        lam = self.lam
        xdot = px
        ydot = py
        pxdot = -x - 2 * lam * x * y
        pydot = -y - lam * x**2 + lam * y**2
        return _stack(xdot, ydot, pxdot, pydot)


class Halvorsen(AbstractFlow):
    """An algebraically-simple chaotic system with quadratic nonlinearity"""

    a: ArrayLike = 1.4
    b: ArrayLike = 4

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-8.6807408, -2.4741399, 0.070775762)
    dt: ClassVar[float] = 0.000297829638273015
    period: ClassVar[float] = 1.4889
    citation: ClassVar[str] = (
        "Sprott, Julien C (2010). Elegant chaos: algebraically simple chaotic flows. "
        "World Scientific, 2010."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b = self.a, self.b
        xdot = -a * x - b * y - b * z - y**2
        ydot = -a * y - b * z - b * x - z**2
        zdot = -a * z - b * x - b * y - x**2
        return _stack(xdot, ydot, zdot)


class Chua(AbstractFlow):
    """An electronic circuit with a diode providing negative resistance."""

    alpha: ArrayLike = 15.6
    beta: ArrayLike = 28.0
    m0: ArrayLike = -1.142857
    m1: ArrayLike = -0.71429

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (1.1262351, -0.11386474, -0.78324421)
    dt: ClassVar[float] = 0.0002847474579095888
    period: ClassVar[float] = 1.4235
    citation: ClassVar[str] = (
        "Chua, L. O. (1969) Introduction to Nonlinear Network Theory, McGraw-Hill, New York."
    )

    def vector_field(self, t, state):
        x, y, z = state
        alpha, beta, m0, m1 = self.alpha, self.beta, self.m0, self.m1
        ramp_x = m1 * x + 0.5 * (m0 - m1) * (jnp.abs(x + 1) - jnp.abs(x - 1))
        xdot = alpha * (y - x - ramp_x)
        ydot = x - y + z
        zdot = -beta * y
        return _stack(xdot, ydot, zdot)


class Duffing(AbstractFlow):
    """A monochromatically-forced rigid pendulum, with the nonlinearity approximated as cubic."""

    alpha: ArrayLike = 1.0
    beta: ArrayLike = -1.0
    delta: ArrayLike = 0.1
    gamma: ArrayLike = 0.35
    omega: ArrayLike = 1.4

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-1.1635382, -0.5092374, 0.0)
    dt: ClassVar[float] = 0.0014901683613936711
    period: ClassVar[float] = 7.4496
    citation: ClassVar[str] = (
        "Duffing, G. (1918), Forced oscillations with variable natural frequency and "
        "their technical relevance, Heft 41/42, Braunschweig: Vieweg."
    )

    def vector_field(self, t, state):
        x, y, z = state
        alpha, beta, delta, gamma, omega = self.alpha, self.beta, self.delta, self.gamma, self.omega
        xdot = y
        ydot = -delta * y - beta * x - alpha * x**3 + gamma * jnp.cos(z)
        zdot = omega
        return _stack(xdot, ydot, zdot)


class DoubleGyre(AbstractFlow):
    """A time-dependent fluid flow exhibiting Lagrangian coherent structures"""

    alpha: ArrayLike = 0.1
    eps: ArrayLike = 0.1
    omega: ArrayLike = 0.62832

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (1.5327241, 0.99802126, 3879.3323)
    dt: ClassVar[float] = 0.002791065177530072
    period: ClassVar[float] = 13.953
    citation: ClassVar[str] = (
        "Shadden, Lekien, Marsden (2005). Definition and properties of Lagrangian "
        "coherent structures from finite-time Lyapunov exponents in two-dimensional "
        "aperiodic flows. Physica D."
    )

    def vector_field(self, t, state):
        x, y, z = state
        alpha, eps, omega = self.alpha, self.eps, self.omega
        a = eps * jnp.sin(z)
        b = 1 - 2 * eps * jnp.sin(z)
        f = a * x**2 + b * x
        dx = -alpha * jnp.pi * jnp.sin(jnp.pi * f) * jnp.cos(jnp.pi * y)
        dy = alpha * jnp.pi * jnp.cos(jnp.pi * f) * jnp.sin(jnp.pi * y) * (2 * a * x + b)
        dz = omega
        return _stack(dx, dy, dz)


class OscillatingFlow(AbstractFlow):
    """A model fluid flow that produces KAM tori. Original parameters have been rescaled by k"""

    b: ArrayLike = 0.48
    k: ArrayLike = 1.0
    omega: ArrayLike = 0.49
    u: ArrayLike = 0.72

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (3.14159265, 1.04719755, 0.4)
    dt: ClassVar[float] = 0.004772195365894731
    period: ClassVar[float] = 23.857
    citation: ClassVar[str] = "T. H. Solomon and J. P. Gollub, Phys. Rev. A 38, 6280 (1988)."

    def vector_field(self, t, state):
        x, y, z = state
        b, k, omega, u = self.b, self.k, self.omega, self.u
        f = x + b * jnp.sin(z)
        dx = u * jnp.cos(k * y) * jnp.sin(k * f)
        dy = -u * jnp.sin(k * y) * jnp.cos(k * f)
        dz = omega
        return _stack(dx, dy, dz)


class BickleyJet(AbstractFlow):
    """A zonal jet passing between two counter rotating vortices. A steady Hamiltonian with a time-
    dependent perturbation.
    """

    ell: ArrayLike = 1.77
    eps: ArrayLike | tuple = (0.0075, 0.15, 0.3)
    k: ArrayLike | tuple = (0.313922, 0.627845, 0.941767)
    omega: ArrayLike = 1
    sigma: ArrayLike | tuple = (9.05854e-06, 1.28453e-05, 2.88863e-05)
    u: ArrayLike = 6.266e-05

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.4, 0.3, 0.0)
    dt: ClassVar[float] = 17.56824204034172
    period: ClassVar[float] = 97826.57
    citation: ClassVar[str] = (
        "Hadjighasem, Karrasch, Teramoto, Haller (2016). A Spectral Clustering Approach "
        "to Lagrangian Vortex Detection Phys Rev E."
    )

    def vector_field(self, t, state):
        y, x, z = state
        ell, omega, u = self.ell, self.omega, self.u
        eps, k, sigma = (jnp.asarray(v, state.dtype) for v in (self.eps, self.k, self.sigma))
        sechy = 1 / jnp.cosh(y / ell)
        un = k * (x - z * sigma)
        dx = u * sechy**2 * (-1 - 2 * jnp.dot(jnp.cos(un), eps) * jnp.tanh(y / ell))
        dy = ell * u * sechy**2 * jnp.dot(eps * k, jnp.sin(un))
        dz = omega
        return _stack(dy, dx, dz)


class ArnoldBeltramiChildress(AbstractFlow):
    """An exact solution of Euler's equation for inviscid flow in 3D. Often referred to as the ABC
    flow.
    """

    a: ArrayLike = 1.73205
    b: ArrayLike = 1.41421
    c: ArrayLike = 1

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (147.91266, -1762.805, -647.37622)
    dt: ClassVar[float] = 0.0005702550425070285
    period: ClassVar[float] = 2.8508
    citation: ClassVar[str] = (
        "V. I. Arnold, Journal of Applied Mathematics and Mechanics 30, 223 (1966)."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c = self.a, self.b, self.c
        dx = a * jnp.sin(z) + c * jnp.cos(y)
        dy = b * jnp.sin(x) + a * jnp.cos(z)
        dz = c * jnp.sin(y) + b * jnp.cos(x)
        return _stack(dx, dy, dz)


class JerkCircuit(AbstractFlow):
    """An electronic circuit with nonlinearity provided by a diode."""

    eps: ArrayLike = 1e-09
    y0: ArrayLike = 0.026

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-1.300882, 0.065382947, 0.91801911)
    dt: ClassVar[float] = 0.003891568594765431
    period: ClassVar[float] = 19.4546
    citation: ClassVar[str] = "Sprott (2011). A new chaotic jerk circuit. IEEE Circ. Sys. 2011."

    def vector_field(self, t, state):
        x, y, z = state
        eps, y0 = self.eps, self.y0
        xdot = y
        ydot = z
        zdot = -z - x - eps * (jnp.exp(y / y0) - 1)
        return _stack(xdot, ydot, zdot)


class ForcedBrusselator(AbstractFlow):
    """An autocatalytic chemical system."""

    a: ArrayLike = 0.4
    b: ArrayLike = 1.2
    f: ArrayLike = 0.05
    w: ArrayLike = 0.81

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.40635464, 1.8192295, 6381.6484)
    dt: ClassVar[float] = 0.004082880480079893
    period: ClassVar[float] = 20.411
    citation: ClassVar[str] = (
        "I. Prigogine, From Being to Becoming: Time and Complexity in the Physical "
        "Sciences, New York: W.H. Freeman and Company, 1980."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, f, w = self.a, self.b, self.f, self.w
        xdot = a + x**2 * y - (b + 1) * x + f * jnp.cos(z)
        ydot = b * x - x**2 * y
        zdot = w
        return _stack(xdot, ydot, zdot)


class WindmiReduced(AbstractFlow):
    """Energy transfer into the ionosphere and magnetosphere by the solar wind. The parameter vsw
    controls the onset of chaos.
    """

    a1: ArrayLike = 0.247
    b1: ArrayLike = 10.8
    b2: ArrayLike = 0.0752
    b3: ArrayLike = 1.06
    d1: ArrayLike = 2200
    vsw: ArrayLike = 5

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.93337506, 6.2678923, 41.969547)
    dt: ClassVar[float] = 0.0009348158026337216
    period: ClassVar[float] = 4.6733
    citation: ClassVar[str] = (
        "Smith, Thiffeault, Horton. J Geophys Res. 2000. Horton, Weigel, Sprott. Chaos 2001."
    )

    def vector_field(self, t, state):
        i, v, p = state
        a1, b1, b2, b3, d1, vsw = self.a1, self.b1, self.b2, self.b3, self.d1, self.vsw
        idot = a1 * (vsw - v)
        vdot = b1 * i - b2 * p**1 / 2 - b3 * v
        pdot = vsw**2 - p ** (5 / 4) * vsw ** (1 / 2) * (1 + jnp.tanh(d1 * (i - 1))) / 2
        return _stack(idot, vdot, pdot)


class MooreSpiegel(AbstractFlow):
    """A thermo-mechanical oscillator."""

    a: ArrayLike = 10
    b: ArrayLike = 4
    eps: ArrayLike = 9

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-3.4733266, 19.666962, -3.8262485)
    dt: ClassVar[float] = 0.00025778296382725327
    period: ClassVar[float] = 1.2887
    citation: ClassVar[str] = (
        "Moore, Spiegel. A Thermally Excited Nonlinear Oscillator, Ap. J., 143, 871 (1966)"
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, eps = self.a, self.b, self.eps
        xdot = y
        ydot = a * z
        zdot = -z + eps * y - y * x**2 - b * x
        return _stack(xdot, ydot, zdot)


class CoevolvingPredatorPrey(AbstractFlow):
    """A system of predator-prey equations with co-evolving prey."""

    a1: ArrayLike = 2.5
    a2: ArrayLike = 0.05
    a3: ArrayLike = 0.4
    b1: ArrayLike = 6.0
    b2: ArrayLike = 1.333
    d1: ArrayLike = 0.16
    d2: ArrayLike = 0.004
    delta: ArrayLike = 1
    k1: ArrayLike = 6.0
    k2: ArrayLike = 9.0
    k4: ArrayLike = 9.0
    vv: ArrayLike = 0.33333

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.10946017, 0.46664421, 0.66580212)
    dt: ClassVar[float] = 0.02455809301550289
    period: ClassVar[float] = 122.77
    citation: ClassVar[str] = "Gilpin & Feldman (2017). PLOS Comp Biol"

    def vector_field(self, t, state):
        x, y, alpha = state
        a1, a2, a3, b1, b2, d1, d2, delta, k1, k2, k4, vv = (
            self.a1,
            self.a2,
            self.a3,
            self.b1,
            self.b2,
            self.d1,
            self.d2,
            self.delta,
            self.k1,
            self.k2,
            self.k4,
            self.vv,
        )
        xdot = x * (
            -(a3 * y / (1 + b2 * x))
            + a1 * alpha * (1 - k1 * x * (-alpha + alpha * delta)) / (1 + b1 * alpha)
            - d1
            * (
                1
                - k2 * (-(alpha**2) + (alpha * delta) ** 2)
                + k4 * (-(alpha**4) + (alpha * delta) ** 4)
            )
        )
        ydot = (-d2 + a2 * x / (1 + b2 * x)) * y
        alphadot = vv * (
            -(a1 * k1 * x * alpha * delta / (1 + b1 * alpha))
            - d1 * (-2 * k2 * alpha * delta**2 + 4 * k4 * alpha**3 * delta**4)
        )
        return _stack(xdot, ydot, alphadot)


class KawczynskiStrizhak(AbstractFlow):
    """A chemical oscillator model describing mixed-modes in the BZ equations."""

    beta: ArrayLike = -0.4
    gamma: ArrayLike = 0.49
    kappa: ArrayLike = 0.2
    mu: ArrayLike = 2.1

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-1.160501, 5.8636902, -1.2031947)
    dt: ClassVar[float] = 0.0015985997666280128
    period: ClassVar[float] = 10.991666666666667
    citation: ClassVar[str] = (
        "P. E. Strizhak and A. L. Kawczynski, J. Phys. Chem. 99, 10830 (1995)."
    )

    def vector_field(self, t, state):
        x, y, z = state
        beta, gamma, kappa, mu = self.beta, self.gamma, self.kappa, self.mu
        xdot = gamma * y - gamma * x**3 + 3 * mu * gamma * x
        ydot = -2 * mu * x - y - z + beta
        zdot = kappa * x - kappa * z
        return _stack(xdot, ydot, zdot)


class BelousovZhabotinsky(AbstractFlow):
    """A reduced-order model of the BZ reaction that exhibits period doubling. The bifurcation
    parameter for controlling the onset of chaos is kf. The system undergoes regular cycling
    when kf=3e-4, and chaotic oscillations when kf=3.5e-4
    """

    c1: ArrayLike = -8.03474
    c10: ArrayLike = 0.0223915
    c11: ArrayLike = 7.53559e-05
    c12: ArrayLike = 8.07384e-06
    c13: ArrayLike = -0.000499825
    c2: ArrayLike = 0.05408
    c3: ArrayLike = -0.0115886
    c4: ArrayLike = 832.587
    c5: ArrayLike = -0.029155
    c6: ArrayLike = 0.00321617
    c7: ArrayLike = -0.01352
    c8: ArrayLike = -0.0831709
    c9: ArrayLike = -0.0199985
    ci: ArrayLike = 0.000833
    kf: ArrayLike = 0.00035
    t0: ArrayLike = 2308.62
    y0: ArrayLike = 7.72571e-06
    yb1: ArrayLike = 6.92813e-07
    yb2: ArrayLike = 2.00869
    yb3: ArrayLike = 0.01352
    z0: ArrayLike = 8.33e-06

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.023491701, 0.61703254, 0.84669066)
    dt: ClassVar[float] = 3.6520086681113285e-06
    period: ClassVar[float] = 0.038257
    citation: ClassVar[str] = (
        "Gyorgyi and Field (1992). A three-variable model of deterministic chaos in the "
        "Belousov-Zhabotinsky reaction. Nature."
    )

    def vector_field(self, t, state):
        x, z, v = state
        (
            c1,
            c10,
            c11,
            c12,
            c13,
            c2,
            c3,
            c4,
            c5,
            c6,
            c7,
            c8,
            c9,
            ci,
            kf,
            t0,
            y0,
            yb1,
            yb2,
            yb3,
            z0,
        ) = (
            self.c1,
            self.c10,
            self.c11,
            self.c12,
            self.c13,
            self.c2,
            self.c3,
            self.c4,
            self.c5,
            self.c6,
            self.c7,
            self.c8,
            self.c9,
            self.ci,
            self.kf,
            self.t0,
            self.y0,
            self.yb1,
            self.yb2,
            self.yb3,
            self.z0,
        )
        ybar = 1 / y0 * yb1 * z * v / (yb2 * x + yb3 + kf)
        x = jnp.maximum(0, x)
        rf = (ci - z0 * z) * jnp.sqrt(x)
        xdot = c1 * x * ybar + c2 * ybar + c3 * x**2 + c4 * rf + c5 * x * z - kf * x
        zdot = c6 / z0 * rf + c7 * x * z + c8 * z * v + c9 * z - kf * z
        vdot = c10 * x * ybar + c11 * ybar + c12 * x**2 + c13 * z * v - kf * v
        return _stack(xdot * t0, zdot * t0, vdot * t0)


class IsothermalChemical(AbstractFlow):
    """An isothermal chemical system with mixed-mode oscillations"""

    delta: ArrayLike = 1.0
    kappa: ArrayLike = 2.5
    mu: ArrayLike = 0.29786
    sigma: ArrayLike = 0.013

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (
        0.5141505602006595,
        0.9984288208727641,
        1.0061777118724,
    )
    dt: ClassVar[float] = 0.00014608034672445314
    period: ClassVar[float] = 0.7302799999999999
    citation: ClassVar[str] = (
        "Petrov, Scott, Showalter. Mixed-mode oscillations in chemical systems. J Chem Phys 1992"
    )

    def vector_field(self, t, state):
        alpha, beta, gamma = state
        delta, kappa, mu, sigma = self.delta, self.kappa, self.mu, self.sigma
        alphadot = mu * (kappa + gamma) - alpha * beta**2 - alpha
        betadot = (alpha * beta**2 + alpha - beta) / sigma
        gammadot = (beta - gamma) / delta
        return _stack(alphadot, betadot, gammadot)


class VallisElNino(AbstractFlow):
    """Atmospheric temperature fluctuations with annual forcing."""

    b: ArrayLike = 102
    c: ArrayLike = 3
    p: ArrayLike = 0

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (
        -6.99286331487343,
        0.023254276622294345,
        -0.1658177563067799,
    )
    dt: ClassVar[float] = 0.00044181363560596765
    period: ClassVar[float] = 2.2087
    citation: ClassVar[str] = (
        "Vallis GK. Conceptual models of El Nio and the southern oscillation. J Geophys Res 1988"
    )

    def vector_field(self, t, state):
        x, y, z = state
        b, c, p = self.b, self.c, self.p
        xdot = b * y - c * x - c * p
        ydot = -y + x * z
        zdot = -z - x * y + 1
        return _stack(xdot, ydot, zdot)


class RabinovichFabrikant(AbstractFlow):
    """A reduced-order model of propagating waves in monequilibrium media."""

    a: ArrayLike = 1.1
    g: ArrayLike = 0.87

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-1.8207276, 0.83440917, 0.2078248)
    dt: ClassVar[float] = 0.0004671978663111531
    period: ClassVar[float] = 2.3356
    citation: ClassVar[str] = (
        "Rabinovich, Mikhail I.; Fabrikant, A. L. (1979). Stochastic Self-Modulation of "
        "Waves in Nonequilibrium Media. Sov. Phys. JETP."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, g = self.a, self.g
        xdot = y * z - y + y * x**2 + g * x
        ydot = 3 * x * z + x - x**3 + g * y
        zdot = -2 * a * z - 2 * x * y * z
        return _stack(xdot, ydot, zdot)


class NoseHoover(AbstractFlow):
    """Fixed temperature molecular dynamics for a strained flow under a reduced order model."""

    a: ArrayLike = 1.5

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-1.9758582, 0.24647527, 0.79024299)
    dt: ClassVar[float] = 0.0011736556092682804
    period: ClassVar[float] = 5.8673
    citation: ClassVar[str] = (
        "Nose, S (1985). A unified formulation of the constant temperature "
        "molecular-dynamics methods. Journal of Chemical Physics (1984). Hoover, William "
        "G. Canonical dynamics: Equilibrium phase-space distributions. Phys. Rev. A. "
        "Hoover, William G., Anthony JC Ladd, and Bill Moran (1982). High-strain-rate "
        "plastic flow studied via nonequilibrium molecular dynamics. Physical Review "
        "Letters."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a = self.a
        xdot = y
        ydot = -x + y * z
        zdot = a - y**2
        return _stack(xdot, ydot, zdot)


class Dadras(AbstractFlow):
    """An electronic circuit capable of producing multiple attractors under bifurcations."""

    c: ArrayLike = 2.0
    e: ArrayLike = 9.0
    o: ArrayLike = 2.7
    p: ArrayLike = 3.0
    r: ArrayLike = 1.7

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (1.0284085, -3.5348655, -0.72081646)
    dt: ClassVar[float] = 0.0006578296382730287
    period: ClassVar[float] = 3.2886
    citation: ClassVar[str] = (
        "S Dadras, HR Momeni (2009). A novel three-dimensional autonomous chaotic system "
        "generating two, three and four-scroll attractors. Physics Letters A."
    )

    def vector_field(self, t, state):
        x, y, z = state
        c, e, o, p, r = self.c, self.e, self.o, self.p, self.r
        xdot = y - p * x + o * y * z
        ydot = r * y - x * z + z
        zdot = c * x * y - e * z
        return _stack(xdot, ydot, zdot)


class RikitakeDynamo(AbstractFlow):
    """Electric current and magnetic field of two coupled disk dynamos."""

    a: ArrayLike = 1.0
    mu: ArrayLike = 1.0

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (
        -0.7791562791136255,
        -0.6302244598741468,
        2.671200187214492,
    )
    dt: ClassVar[float] = 0.0011796966161026034
    period: ClassVar[float] = 5.8975
    citation: ClassVar[str] = (
        "Rikitake, T., Oscillations of a system of disk dynamos, Mathematical Proceedings "
        "of the Cambridge Philosophical Society, 1958."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, mu = self.a, self.mu
        xdot = -mu * x + y * z
        ydot = -mu * y - a * x + x * z
        zdot = 1 - x * y
        return _stack(xdot, ydot, zdot)


class NuclearQuadrupole(AbstractFlow):
    """A quadrupole boson Hamiltonian that produces chaos via a resonance overlap mechanism"""

    a: ArrayLike = 1.0
    b: ArrayLike = 0.55
    d: ArrayLike = 0.4

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (-0.85591178, 1.48078342, -0.85075322, 1.63576085)
    dt: ClassVar[float] = 0.0012048161873133268
    period: ClassVar[float] = 6.023076923076923
    citation: ClassVar[str] = (
        "Baran V. and Raduta A. A. (1998), International Journal of Modern Physics E"
    )

    def vector_field(self, t, state):
        q1, q2, p1, p2 = state
        a, b, d = self.a, self.b, self.d
        q1dot = a * p1
        q2dot = a * p2
        p1dot = (
            -a * q1
            + 3 / jnp.sqrt(2) * b * q1**2
            - 3 / jnp.sqrt(2) * b * q2**2
            - d * q1**3
            - d * q1 * q2**2
        )
        p2dot = -a * q2 - 3 * jnp.sqrt(2) * b * q1 * q2 - d * q2 * q1**2 - d * q2**3
        return _stack(q1dot, q2dot, p1dot, p2dot)


class PehlivanWei(AbstractFlow):
    """A system with quadratic nonlinearity, which undergoes Hopf bifurcations of codimension 1 and
    2.
    """

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.21665608, 0.86710502, 0.50627859)
    dt: ClassVar[float] = 0.0007498715849322934
    period: ClassVar[float] = 3.7487330316742087
    citation: ClassVar[str] = (
        "Pehlivan, Ihsan, and Wei Zhouchao (2012). Analysis, nonlinear control, and chaos "
        "generator circuit of another strange chaotic system."
    )

    def vector_field(self, t, state):
        x, y, z = state
        xdot = y - y * z
        ydot = y + y * z - 2 * x
        zdot = 2 - x * y - y**2
        return _stack(xdot, ydot, zdot)


class SprottTorus(AbstractFlow):
    """A multiattractor system that goes to a torus or a complex attractor depending on the initial
    conditions.
    """

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.6883476, -0.18017646, 0.58539724)
    dt: ClassVar[float] = 0.0027218536422742544
    period: ClassVar[float] = 13.607
    citation: ClassVar[str] = "Sprott Physics Letters A 2014"

    def vector_field(self, t, state):
        x, y, z = state
        xdot = y + 2 * x * y + x * z
        ydot = 1 - 2 * x**2 + y * z
        zdot = x - x**2 - y**2
        return _stack(xdot, ydot, zdot)


class SprottJerk(AbstractFlow):
    """An algebraidally simple flow depending on a third time derivative. Numerical integration of
    this attractor is extremely sensitive to the initial conditions
    """

    mu: ArrayLike = 2.017

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.54106056, 0.59383201, 0.45127217)
    dt: ClassVar[float] = 0.0023845974329054797
    period: ClassVar[float] = 11.921
    citation: ClassVar[str] = (
        "Sprott, J. C. Simplest dissipative chaotic flow. Physics Letters A (1997)."
    )

    def vector_field(self, t, state):
        x, y, z = state
        mu = self.mu
        xdot = y
        ydot = z
        zdot = -x + y**2 - mu * z
        return _stack(xdot, ydot, zdot)


class SprottA(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (1.54131864, 1.43079727, -1.52555412)
    dt: ClassVar[float] = 0.001274781694385183
    period: ClassVar[float] = 6.3728461538461545
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        xdot = y
        ydot = -x + y * z
        zdot = 1 - y**2
        return _stack(xdot, ydot, zdot)


class SprottB(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (1.6878282, 1.4848132, -0.53706628)
    dt: ClassVar[float] = 0.0022103969709235116
    period: ClassVar[float] = 11.050142857142857
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        xdot = y * z
        ydot = x - y
        zdot = 1 - x * y
        return _stack(xdot, ydot, zdot)


class SprottC(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.47199823, -0.27198066, 1.9418244)
    dt: ClassVar[float] = 0.001777336222703525
    period: ClassVar[float] = 8.8852
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        xdot = y * z
        ydot = x - y
        zdot = 1 - x**2
        return _stack(xdot, ydot, zdot)


class SprottD(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-1.3396906, -0.21238338, 0.32982163)
    dt: ClassVar[float] = 0.0009668211368563107
    period: ClassVar[float] = 4.8333
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        xdot = -y
        ydot = x + z
        zdot = x * z + 3 * y**2
        return _stack(xdot, ydot, zdot)


class SprottE(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.6173759, 0.66599285, -1.6575023)
    dt: ClassVar[float] = 0.0015257542923819757
    period: ClassVar[float] = 7.6275
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        xdot = y * z
        ydot = x**2 - y
        zdot = 1 - 4 * x
        return _stack(xdot, ydot, zdot)


class SprottF(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    a: ArrayLike = 0.5

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.98941275, -1.4191706, 0.85797204)
    dt: ClassVar[float] = 0.0038494415735954137
    period: ClassVar[float] = 19.244
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        a = self.a
        xdot = y + z
        ydot = -x + a * y
        zdot = x**2 - z
        return _stack(xdot, ydot, zdot)


class SprottG(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    a: ArrayLike = 0.4

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.77182478, -0.74756595, 1.3073285)
    dt: ClassVar[float] = 0.0017422303717285104
    period: ClassVar[float] = 8.7097
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        a = self.a
        xdot = a * x + z
        ydot = x * z - y
        zdot = -x + y
        return _stack(xdot, ydot, zdot)


class SprottH(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    a: ArrayLike = 0.5

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-1.360042, 0.62585352, -1.2788196)
    dt: ClassVar[float] = 0.004046474412402859
    period: ClassVar[float] = 20.229
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        a = self.a
        xdot = -y + z**2
        ydot = x + a * y
        zdot = x - z
        return _stack(xdot, ydot, zdot)


class SprottI(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    a: ArrayLike = 0.2

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.060099389, -0.49558355, 0.023159035)
    dt: ClassVar[float] = 0.002186364394065663
    period: ClassVar[float] = 10.93
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        a = self.a
        xdot = -a * y
        ydot = x + z
        zdot = x + y**2 - z
        return _stack(xdot, ydot, zdot)


class SprottJ(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (4.4786928, 2.2977432, 6.5847115)
    dt: ClassVar[float] = 0.0009673612268710486
    period: ClassVar[float] = 4.836
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        xdot = 2 * z
        ydot = -2 * y + z
        zdot = -x + y + y**2
        return _stack(xdot, ydot, zdot)


class SprottK(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    a: ArrayLike = 0.3

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-1.3165015, -1.5429951, 0.664053)
    dt: ClassVar[float] = 0.0014014335722617943
    period: ClassVar[float] = 7.006
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        a = self.a
        xdot = x * y - z
        ydot = x - y
        zdot = x + a * z
        return _stack(xdot, ydot, zdot)


class SprottL(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    a: ArrayLike = 0.9
    b: ArrayLike = 3.9

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (4.3611557, 13.705573, -2.6835659)
    dt: ClassVar[float] = 0.0013454642440407839
    period: ClassVar[float] = 6.7262
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        a, b = self.a, self.b
        xdot = y + b * z
        ydot = a * x**2 - y
        zdot = 1 - x
        return _stack(xdot, ydot, zdot)


class SprottM(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    a: ArrayLike = 1.7

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (1.6024402, -1.5983203, -2.6236374)
    dt: ClassVar[float] = 0.0010730588431405862
    period: ClassVar[float] = 5.3644
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        a = self.a
        xdot = -z
        ydot = -(x**2) - y
        zdot = a + a * x + y
        return _stack(xdot, ydot, zdot)


class SprottN(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-8.3258705, 7.3033716, 3.2798909)
    dt: ClassVar[float] = 0.0009628604767459592
    period: ClassVar[float] = 4.8135
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        xdot = -2 * y
        ydot = x + z**2
        zdot = 1 + y - 2 * z
        return _stack(xdot, ydot, zdot)


class SprottO(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    a: ArrayLike = 2.7

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.20549455, 0.022792985, 0.93636949)
    dt: ClassVar[float] = 0.001951325220870217
    period: ClassVar[float] = 9.755
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        a = self.a
        xdot = y
        ydot = x - z
        zdot = x + x * z + a * y
        return _stack(xdot, ydot, zdot)


class SprottP(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    a: ArrayLike = 2.7

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.83420675, 0.14915817, 0.44028635)
    dt: ClassVar[float] = 0.0010684580763461328
    period: ClassVar[float] = 5.3414
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        a = self.a
        xdot = a * y + z
        ydot = -x + y**2
        zdot = x + y
        return _stack(xdot, ydot, zdot)


class SprottQ(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    a: ArrayLike = 3.1
    b: ArrayLike = 0.5

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (2.978102, -0.065260683, -2.8031286)
    dt: ClassVar[float] = 0.0009690215035840311
    period: ClassVar[float] = 4.8443
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        a, b = self.a, self.b
        xdot = -z
        ydot = x - y
        zdot = a * x + y**2 + b * z
        return _stack(xdot, ydot, zdot)


class SprottR(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    a: ArrayLike = 0.9
    b: ArrayLike = 0.4

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-1.6914909, -1.9783678, 1.9807775)
    dt: ClassVar[float] = 0.0014028938156360482
    period: ClassVar[float] = 7.0133
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        a, b = self.a, self.b
        xdot = a - y
        ydot = b + z
        zdot = x * y - z
        return _stack(xdot, ydot, zdot)


class SprottS(AbstractFlow):
    """A member of the Sprott family of algebraically-simple chaotic sytems."""

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.12635702, 0.12260693, 1.2215429)
    dt: ClassVar[float] = 0.0006702117019503362
    period: ClassVar[float] = 3.3505
    citation: ClassVar[str] = "Sprott (1994). Some simple chaotic flows. Physical Review E (1994)."

    def vector_field(self, t, state):
        x, y, z = state
        xdot = -x - 4 * y
        ydot = x + z**2
        zdot = 1 + x
        return _stack(xdot, ydot, zdot)


class SprottMore(AbstractFlow):
    """A multifractal system with a nearly 3D attractor"""

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-1.3396906, -0.21238338, 0.32982163)
    dt: ClassVar[float] = 0.0013244125162412957
    period: ClassVar[float] = 6.62095890410959
    citation: ClassVar[str] = (
        "Sprott, J. C. (2020). Do We Need More Chaos Examples? Chaos Theory and "
        "Applications 2(2),1-3, 2020."
    )

    def vector_field(self, t, state):
        x, y, z = state
        xdot = y
        ydot = -x - jnp.sign(z) * y
        zdot = y**2 - jnp.exp(-(x**2))
        return _stack(xdot, ydot, zdot)


class Arneodo(AbstractFlow):
    """A modified Lotka-Volterra ecosystem, also known as the ACT attractor."""

    a: ArrayLike = -5.5
    b: ArrayLike = 4.5
    c: ArrayLike = 1.0
    d: ArrayLike = -1.0

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-2.7515698, 0.19079818, 3.4703629)
    dt: ClassVar[float] = 0.000632925487581133
    period: ClassVar[float] = 3.1641
    citation: ClassVar[str] = (
        "Arneodo, A., Coullet, P. & Tresser, C. Occurence of strange attractors in "
        "three-dimensional Volterra equations. Physics Letters A 79, 259--263 (1980)"
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xdot = y
        ydot = z
        zdot = -a * x - b * y - c * z + d * x**3
        return _stack(xdot, ydot, zdot)


class Coullet(AbstractFlow):
    """A variant of the Arneodo attractor"""

    a: ArrayLike = -0.8
    b: ArrayLike = 1.1
    c: ArrayLike = 0.45
    d: ArrayLike = -1.0

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (
        0.34539837958549907,
        0.4284701181998099,
        0.086983698175975,
    )
    dt: ClassVar[float] = 0.0011534522420402027
    period: ClassVar[float] = 5.7663
    citation: ClassVar[str] = (
        "Arneodo, A., Coullet, P. & Tresser, C. Occurence of strange attractors in "
        "three-dimensional volterra equations. Physics Letters A 79, 259--263 (1980)"
    )

    def vector_field(self, t, state):
        # the equations of Arneodo, at other parameter values (as in dysts)
        return Arneodo.vector_field(self, t, state)


class Rucklidge(AbstractFlow):
    """Two-dimensional convection in a horizontal layer of Boussinesq fluid with lateral
    constraints.
    """

    a: ArrayLike = 2.0
    b: ArrayLike = 6.7

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (1.9257158, 3.1923835, 5.7829655)
    dt: ClassVar[float] = 0.0012146224370729896
    period: ClassVar[float] = 6.0721
    citation: ClassVar[str] = (
        "Rucklidge, A.M. (1992). Chaos in models of double convection. Journal of Fluid Mechanics."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b = self.a, self.b
        xdot = -a * x + b * y - y * z
        ydot = x
        zdot = -z + y**2
        return _stack(xdot, ydot, zdot)


class Sakarya(AbstractFlow):
    """An attractor that arises due to merging of two disjoint bistable attractors."""

    a: ArrayLike = -1.0
    b: ArrayLike = 1.0
    c: ArrayLike = 1.0
    h: ArrayLike = 1.0
    p: ArrayLike = 1.0
    q: ArrayLike = 0.4
    r: ArrayLike = 0.3
    s: ArrayLike = 1.0

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-2.8976045, 3.8877978, 3.07465)
    dt: ClassVar[float] = 0.0009970461743625946
    period: ClassVar[float] = 4.9844
    citation: ClassVar[str] = (
        "Li, Chunbiao, et al (2015). A novel four-wing strange attractor born in "
        "bistability. IEICE Electronics Express 12.4."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c, h, p, q, r, s = self.a, self.b, self.c, self.h, self.p, self.q, self.r, self.s
        xdot = a * x + h * y + s * y * z
        ydot = -b * y - p * x + q * x * z
        zdot = c * z - r * x * y
        return _stack(xdot, ydot, zdot)


class LiuChen(AbstractFlow):
    """Derived from Sakarya."""

    a: ArrayLike = 0.4
    b: ArrayLike = 12.0
    c: ArrayLike = -5.0
    h: ArrayLike = 0.0
    p: ArrayLike = 0.0
    q: ArrayLike = -1.0
    r: ArrayLike = 1.0
    s: ArrayLike = 1.0

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (4.6722764, 5.2437205e-10, -6.4444208e-10)
    dt: ClassVar[float] = 0.0016035472578764143
    period: ClassVar[float] = 8.0164
    citation: ClassVar[str] = "Liu, Chen. Int J Bifurcat Chaos. 2004: 1395-1403."

    def vector_field(self, t, state):
        # the equations of Sakarya, at other parameter values (as in dysts)
        return Sakarya.vector_field(self, t, state)


class RayleighBenard(AbstractFlow):
    """A reduced-order model of a convective cell."""

    a: ArrayLike = 30
    b: ArrayLike = 5
    r: ArrayLike = 18

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-15.660582, -13.32018, 26.879362)
    dt: ClassVar[float] = 0.00018396466077678754
    period: ClassVar[float] = 0.91967
    citation: ClassVar[str] = (
        "Yanagita, Kaneko (1995). Rayleigh-Bénard convection patterns, chaos, "
        "spatiotemporal chaos and turbulence. Physica D: Nonlinear Phenomena 82.3 (1995): "
        "288-313."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, r = self.a, self.b, self.r
        xdot = a * y - a * x
        ydot = r * y - x * z
        zdot = x * y - b * z
        return _stack(xdot, ydot, zdot)


class Finance(AbstractFlow):
    """Stock fluctuations under varying investment demand and interest rates"""

    a: ArrayLike = 0.001
    b: ArrayLike = 0.2
    c: ArrayLike = 1.1

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.51664739, -3.9568707, 0.0012893581)
    dt: ClassVar[float] = 0.001978969828304571
    period: ClassVar[float] = 9.8932
    citation: ClassVar[str] = (
        "Guoliang Cai, Juanjuan Huang. International Journal of Nonlinear Science, Vol. 3 (2007)"
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c = self.a, self.b, self.c
        xdot = (1 / b - a) * x + z + x * y
        ydot = -b * y - x**2
        zdot = -x - c * z
        return _stack(xdot, ydot, zdot)


class Bouali2(AbstractFlow):
    """A modified economic cycle model."""

    a: ArrayLike = 3.0
    b: ArrayLike = 2.2
    bb: ArrayLike = 0
    c: ArrayLike = 0
    g: ArrayLike = 1.0
    m: ArrayLike = -0.0026667
    y0: ArrayLike = 1.0

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.79392257, 1.3617589, -0.030578888)
    dt: ClassVar[float] = 0.0005356692782129358
    period: ClassVar[float] = 7.6779
    citation: ClassVar[str] = (
        "Bouali (1999). Feedback loop in extended Van der Pols equation applied to an "
        "economic model of cycles. International Journal of Bifurkation and Chaos, Vol. "
        "9, No. 4"
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, bb, c, g, m, y0 = self.a, self.b, self.bb, self.c, self.g, self.m, self.y0
        xdot = a * y0 * x - a * x * y - b * z
        ydot = -g * y + g * y * x**2
        zdot = -1.5 * m * x + m * bb * x * z - c * z
        return _stack(xdot, ydot, zdot)


class Bouali(AbstractFlow):
    """Economic cycles with fluctuating demand. Related to the DequanLi attractor"""

    a: ArrayLike = 1.0
    b: ArrayLike = -0.3
    bb: ArrayLike = 1.0
    c: ArrayLike = 0.05
    g: ArrayLike = 1.0
    m: ArrayLike = 1
    y0: ArrayLike = 4.0

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.38673159, 3.0544196, -0.0067836194)
    dt: ClassVar[float] = 0.0006083213868978987
    period: ClassVar[float] = 3.0411
    citation: ClassVar[str] = (
        "Bouali (1999). Feedback loop in extended Van der Pols equation applied to an "
        "economic model of cycles. International Journal of Bifurkation and Chaos, Vol. "
        "9, No. 4"
    )

    def vector_field(self, t, state):
        # the equations of Bouali2, at other parameter values (as in dysts)
        return Bouali2.vector_field(self, t, state)


class LuChenCheng(AbstractFlow):
    """A four scroll attractor that reduces to Lorenz-like dynamics under bifurcations."""

    a: ArrayLike = -10
    b: ArrayLike = -4
    c: ArrayLike = 18.1

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-5.5177615, 2.4990595, 10.461798)
    dt: ClassVar[float] = 0.00018469678279714685
    period: ClassVar[float] = 0.92333
    citation: ClassVar[str] = "Lu, Chen, Cheng. Int J Bifurcat Chaos. 2004: 1507--1537."

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c = self.a, self.b, self.c
        xdot = -(a * b) / (a + b) * x - y * z + c
        ydot = a * y + x * z
        zdot = b * z + x * y
        return _stack(xdot, ydot, zdot)


class LuChen(AbstractFlow):
    """A system that switches shapes between the Lorenz and Chen attractors as the parameter c is
    varied from 12.7 to 28.5. Also called the Chen Celikovsky attractor
    """

    a: ArrayLike = 36
    b: ArrayLike = 3
    c: ArrayLike = 18

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (10.956479, 9.8813092, 22.676714)
    dt: ClassVar[float] = 0.00046777796299380726
    period: ClassVar[float] = 2.3385
    citation: ClassVar[str] = "Lu, Chen. Int J Bifurcat Chaos. 2002: 659-661."

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c = self.a, self.b, self.c
        xdot = a * y - a * x
        ydot = -x * z + c * y
        zdot = x * y - b * z
        return _stack(xdot, ydot, zdot)


class QiChen(AbstractFlow):
    """A double-wing chaotic attractor that arises from two bistable attractors. The system has
    quadratic nonlinearity.
    """

    a: ArrayLike = 38
    b: ArrayLike = 2.666
    c: ArrayLike = 80

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (17.420882, 5.5459627, 78.89139)
    dt: ClassVar[float] = 7.837106184364728e-05
    period: ClassVar[float] = 0.39179
    citation: ClassVar[str] = "Qi et al. Chaos, Solitons & Fractals 2008."

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c = self.a, self.b, self.c
        xdot = a * y - a * x + y * z
        ydot = c * x + y - x * z
        zdot = x * y - b * z
        return _stack(xdot, ydot, zdot)


class ZhouChen(AbstractFlow):
    """A feedback circuit model."""

    a: ArrayLike = 2.97
    b: ArrayLike = 0.15
    c: ArrayLike = -3.0
    d: ArrayLike = 1
    e: ArrayLike = -8.78

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.60390203, 0.012111953, 0.00083277923)
    dt: ClassVar[float] = 0.00017506517752959638
    period: ClassVar[float] = 0.87518
    citation: ClassVar[str] = (
        "Zhou, Chen (2004). A simple smooth chaotic system with a 3-layer attractor. Int "
        "J Bifurcat Chaos, 2004"
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c, d, e = self.a, self.b, self.c, self.d, self.e
        xdot = a * x + b * y + y * z
        ydot = c * y - x * z + d * y * z
        zdot = e * z - x * y
        return _stack(xdot, ydot, zdot)


class BurkeShaw(AbstractFlow):
    """A scroll-like attractor with unique symmetry along the z axis."""

    e: ArrayLike = 13
    n: ArrayLike = 10

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.79153188, 0.65244479, 0.22517831)
    dt: ClassVar[float] = 0.00015669211535254134
    period: ClassVar[float] = 0.78333
    citation: ClassVar[str] = "Shaw (1981). Zeitschrift fur Naturforschung."

    def vector_field(self, t, state):
        x, y, z = state
        e, n = self.e, self.n
        xdot = -n * x - n * y
        ydot = y - n * x * z
        zdot = n * x * y + e
        return _stack(xdot, ydot, zdot)


class Chen(AbstractFlow):
    """A system based on feedback anti-control in engineering."""

    a: ArrayLike = 35
    b: ArrayLike = 3
    c: ArrayLike = 28

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (3.2689697, 5.2990458, 19.435349)
    dt: ClassVar[float] = 0.00011739756626106157
    period: ClassVar[float] = 0.58689
    citation: ClassVar[str] = (
        "Chen (1997). Proc. First Int. Conf. Control of Oscillations and Chaos."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c = self.a, self.b, self.c
        xdot = a * y - a * x
        ydot = (c - a) * x - x * z + c * y
        zdot = x * y - b * z
        return _stack(xdot, ydot, zdot)


class ChenLee(AbstractFlow):
    """A rigid body with feedback anti-control."""

    a: ArrayLike = 5
    b: ArrayLike = -10
    c: ArrayLike = -0.38

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.17177112, 0.10360479, 6.2553878)
    dt: ClassVar[float] = 0.0005609534922487569
    period: ClassVar[float] = 2.8043
    citation: ClassVar[str] = (
        "Chen HK, Lee CI (2004). Anti-control of chaos in rigid body motion. Chaos, "
        "Solitons & Fractals"
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c = self.a, self.b, self.c
        xdot = a * x - y * z
        ydot = b * y + x * z
        zdot = c * z + 1 / 3 * x * y
        return _stack(xdot, ydot, zdot)


class WangSun(AbstractFlow):
    """A four-scroll attractor"""

    a: ArrayLike = 0.2
    b: ArrayLike = -0.01
    d: ArrayLike = -0.4
    e: ArrayLike = -1.0
    f: ArrayLike = -1.0
    q: ArrayLike = 1.0

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.54770787, 0.73876479, -0.0049284531)
    dt: ClassVar[float] = 0.005392498749791912
    period: ClassVar[float] = 26.958
    citation: ClassVar[str] = (
        "Wang, Z., Sun, Y., van Wyk, B. J., Qi, G. & van Wyk, M. A (2009). A 3-D "
        "four-wing attractor and its analysis. Brazilian J. Phys. 39."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, d, e, f, q = self.a, self.b, self.d, self.e, self.f, self.q
        xdot = a * x + q * y * z
        ydot = b * x + d * y - x * z
        zdot = e * z + f * x * y
        return _stack(xdot, ydot, zdot)


class YuWang(AbstractFlow):
    """A temperature-compensation circuit with an operational amplifier"""

    a: ArrayLike = 10
    b: ArrayLike = 40
    c: ArrayLike = 2
    d: ArrayLike = 2.5

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.21422356, -0.17935495, 14.105516)
    dt: ClassVar[float] = 0.00026736456076008607
    period: ClassVar[float] = 1.3366
    citation: ClassVar[str] = (
        "Yu, Wang (2012). A novel three dimension autonomous chaotic system with a "
        "quadratic exponential nonlinear term. Eng Techn & Applied Science Research."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xdot = a * (y - x)
        ydot = b * x - c * x * z
        zdot = jnp.exp(x * y) - d * z
        return _stack(xdot, ydot, zdot)


class YuWang2(AbstractFlow):
    """An alternative temperature-compensation circuit with an operational amplifier"""

    a: ArrayLike = 10
    b: ArrayLike = 30
    c: ArrayLike = 2
    d: ArrayLike = 2.5

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.12581483, 1.2467348, 18.358568)
    dt: ClassVar[float] = 7.854309051509745e-05
    period: ClassVar[float] = 0.39265
    citation: ClassVar[str] = (
        "Yu, Wang (2012). A novel three dimension autonomous chaotic system with a "
        "quadratic exponential nonlinear term. Eng Techn & Applied Science Research."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xdot = a * (y - x)
        ydot = b * x - c * x * z
        zdot = jnp.cosh(x * y) - d * z
        return _stack(xdot, ydot, zdot)


class SanUmSrisuchinwong(AbstractFlow):
    """A two-scroll attractor arising from dynamical equations with piecewise nonlinearities.
    Equivalent to the Wimol-Banlue system
    """

    a: ArrayLike = 2

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.63878078, 1.0901873, 2.4479814)
    dt: ClassVar[float] = 0.0014933288881479711
    period: ClassVar[float] = 7.4654
    citation: ClassVar[str] = "San-Um, Srisuchinwong. J. Comp 2012"

    def vector_field(self, t, state):
        x, y, z = state
        a = self.a
        xdot = y - x
        ydot = -z * jnp.tanh(x)
        zdot = -a + x * y + jnp.abs(y)
        return _stack(xdot, ydot, zdot)


class DequanLi(AbstractFlow):
    """Related to the Three Scroll unified attractor TSUCS-2"""

    a: ArrayLike = 40
    c: ArrayLike = 1.833
    d: ArrayLike = 0.16
    eps: ArrayLike = 0.65
    f: ArrayLike = 20
    k: ArrayLike = 55

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-11.395722, -104.12614, 202.46173)
    dt: ClassVar[float] = 1.6763993998996084e-05
    period: ClassVar[float] = 0.083806
    citation: ClassVar[str] = "Li, Phys Lett A. 2008: 387-393."

    def vector_field(self, t, state):
        x, y, z = state
        a, c, d, eps, f, k = self.a, self.c, self.d, self.eps, self.f, self.k
        xdot = a * y - a * x + d * x * z
        ydot = k * x + f * y - x * z
        zdot = c * z + x * y - eps * x**2
        return _stack(xdot, ydot, zdot)


class PanXuZhou(AbstractFlow):
    """A named attractor related to the DequanLi attractor"""

    a: ArrayLike = 10
    c: ArrayLike = -2.6667
    d: ArrayLike = 0
    eps: ArrayLike = 0.0
    f: ArrayLike = 0
    k: ArrayLike = 16

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-3.03805747, -1.98052429, 14.65665869)
    dt: ClassVar[float] = 0.00035663943990670076
    period: ClassVar[float] = 1.7829
    citation: ClassVar[str] = (
        "Zhou, Wuneng, et al. On dynamics analysis of a new chaotic attractor. Physics "
        "Letters A 372.36 (2008): 5773-5777.."
    )

    def vector_field(self, t, state):
        # the equations of DequanLi, at other parameter values (as in dysts)
        return DequanLi.vector_field(self, t, state)


class Tsucs2(AbstractFlow):
    """A named attractor related to the DequanLi attractor"""

    a: ArrayLike = 40
    c: ArrayLike = 0.833
    d: ArrayLike = 0.5
    eps: ArrayLike = 0.65
    f: ArrayLike = 20
    k: ArrayLike = 0

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (1.2969944, 1.12138, 50.028988)
    dt: ClassVar[float] = 6.906351058511007e-05
    period: ClassVar[float] = 0.34526
    citation: ClassVar[str] = (
        "Pan, Zhou, Li (2013). Synchronization of Three-Scroll Unified Chaotic System "
        "(TSUCS) and its hyper-chaotic system using active pinning control"
    )

    def vector_field(self, t, state):
        # the equations of DequanLi, at other parameter values (as in dysts)
        return DequanLi.vector_field(self, t, state)


class ArnoldWeb(AbstractFlow):
    """A quasi-integrable system that transitions to Chirikov diffusive dynamics when perturbed."""

    mu: ArrayLike = 0.01
    w: ArrayLike = 1

    dimension: ClassVar[int] = 5
    default_ic: ClassVar[tuple[float, ...]] = (
        0.10469507,
        0.0892929984,
        11025.3686,
        6055.32273,
        0.1,
    )
    dt: ClassVar[float] = 0.013452242040339115
    period: ClassVar[float] = 67.25
    citation: ClassVar[str] = (
        "Froeschle, C., Guzzo, M. & Legga, E (2000). Graphical evolution of the Arnold "
        "web: From order to chaos. Science 289."
    )

    def vector_field(self, t, state):
        p1, p2, x1, x2, z = state
        mu, w = self.mu, self.w
        denom = 4 + jnp.cos(z) + jnp.cos(x1) + jnp.cos(x2)
        p1dot = -mu * jnp.sin(x1) / denom**2
        p2dot = -mu * jnp.sin(x2) / denom**2
        x1dot = p1
        x2dot = p2
        zdot = w
        return _stack(p1dot, p2dot, x1dot, x2dot, zdot)


class NewtonLiepnik(AbstractFlow):
    """Euler's equations for a rigid body, augmented with a linear feedback term."""

    a: ArrayLike = 0.4
    b: ArrayLike = 0.175

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.29430753, 0.10649486, 0.29081125)
    dt: ClassVar[float] = 0.0017021836972827486
    period: ClassVar[float] = 8.5095
    citation: ClassVar[str] = (
        "Leipnik, R. B., and T. A. Newton (1981). Double strange attractors in rigid body "
        "motion with linear feedback control. Physics Letters A 86.2 (1981): 63-67."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b = self.a, self.b
        xdot = -a * x + y + 10 * y * z
        ydot = -x - 0.4 * y + 5 * x * z
        zdot = b * z - 5 * x * y
        return _stack(xdot, ydot, zdot)


class HyperRossler(AbstractFlow):
    """A hyperchaotic variant of the Rossler system."""

    a: ArrayLike = 0.25
    b: ArrayLike = 3.0
    c: ArrayLike = 0.5
    d: ArrayLike = 0.05

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (-93.667697, 15.5078, 0.032086964, 43.792796)
    dt: ClassVar[float] = 0.00022318673168449264
    period: ClassVar[float] = 1.1157476694793766
    citation: ClassVar[str] = "Rossler, O. E. (1979). An equation for hyperchaos."

    def vector_field(self, t, state):
        x, y, z, w = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xdot = -y - z
        ydot = x + a * y + w
        zdot = b + x * z
        wdot = -c * z + d * w
        return _stack(xdot, ydot, zdot, wdot)


class HyperLorenz(AbstractFlow):
    """A hyperchaotic variant of the Lorenz attractor."""

    a: ArrayLike = 10
    b: ArrayLike = 2.667
    c: ArrayLike = 28
    d: ArrayLike = 1.1

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (
        -9.186073735061425,
        -0.6744570634419695,
        16.440536886214517,
        -145.0243848950473,
    )
    dt: ClassVar[float] = 0.00025555193801167774
    period: ClassVar[float] = 1.277546730110058
    citation: ClassVar[str] = "Jürgen Meier (2003). Presentation of Attractors with Cinema."

    def vector_field(self, t, state):
        x, y, z, w = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xdot = a * y - a * x + w
        ydot = -x * z + c * x - y
        zdot = -b * z + x * y
        wdot = d * w - x * z
        return _stack(xdot, ydot, zdot, wdot)


class HyperCai(AbstractFlow):
    """A hyperchaotic variant of the Finance system."""

    a: ArrayLike = 27.5
    b: ArrayLike = 3
    c: ArrayLike = 19.3
    d: ArrayLike = 2.9
    e: ArrayLike = 3.3

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (
        -10.691273602120157,
        -15.541159376570342,
        18.388272900250726,
        -14.904493939514888,
    )
    dt: ClassVar[float] = 0.0001222991069250412
    period: ClassVar[float] = 0.6113936187028436
    citation: ClassVar[str] = (
        "Guoliang, Huang (2007). A New Finance Chaotic Attractor. International Journal "
        "of Nonlinear Science."
    )

    def vector_field(self, t, state):
        x, y, z, w = state
        a, b, c, d, e = self.a, self.b, self.c, self.d, self.e
        xdot = a * y - a * x
        ydot = b * x + c * y - x * z + w
        zdot = -d * z + y**2
        wdot = -e * x
        return _stack(xdot, ydot, zdot, wdot)


class HyperBao(AbstractFlow):
    """Hyperchaos in the Lu system."""

    a: ArrayLike = 36
    b: ArrayLike = 3
    c: ArrayLike = 20
    d: ArrayLike = 0.1
    e: ArrayLike = 21

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (
        9.271308063781017,
        9.752247178805291,
        23.919154915696105,
        -16.69675939965203,
    )
    dt: ClassVar[float] = 0.00011664956154566752
    period: ClassVar[float] = 0.5831505997603473
    citation: ClassVar[str] = (
        "Bao, Liu  (2008). A hyperchaotic attractor coined from the chaotic Lu system. "
        "Chin. Physics Letters, Vol. 25, pp 2396-2399."
    )

    def vector_field(self, t, state):
        x, y, z, w = state
        a, b, c, d, e = self.a, self.b, self.c, self.d, self.e
        xdot = a * y - a * x + w
        ydot = c * y - x * z
        zdot = x * y - b * z
        wdot = e * x + d * y * z
        return _stack(xdot, ydot, zdot, wdot)


class HyperJha(AbstractFlow):
    """A hyperchaotic system."""

    a: ArrayLike = 10
    b: ArrayLike = 28
    c: ArrayLike = 2.667
    d: ArrayLike = 1.3

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (
        13.76544888070825,
        20.203791990082554,
        32.08179795423583,
        -51.189321449994914,
    )
    dt: ClassVar[float] = 0.00017131789889951677
    period: ClassVar[float] = 0.8564467295817622
    citation: ClassVar[str] = "Jürgen Meier (2003). Presentation of Attractors with Cinema."

    def vector_field(self, t, state):
        x, y, z, w = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xdot = a * y - a * x + w
        ydot = -x * z + b * x - y
        zdot = x * y - c * z
        wdot = -x * z + d * w
        return _stack(xdot, ydot, zdot, wdot)


class HyperQi(AbstractFlow):
    """A hyperchaotic variant of the Qi system."""

    a: ArrayLike = 50
    b: ArrayLike = 24
    c: ArrayLike = 13
    d: ArrayLike = 8
    e: ArrayLike = 33
    f: ArrayLike = 30

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (
        11.250900857894639,
        -3.647077762541555,
        50.16987924937642,
        -168.2485185683687,
    )
    dt: ClassVar[float] = 1.2374139476927226e-05
    period: ClassVar[float] = 0.06186038560173437
    citation: ClassVar[str] = (
        "G. Qi, M. A. van Wyk, B. J. van Wyk, and G. Chen, (2008). On a new hyperchaotic "
        "system. Physics Letters A."
    )

    def vector_field(self, t, state):
        x, y, z, w = state
        a, b, c, d, e, f = self.a, self.b, self.c, self.d, self.e, self.f
        xdot = a * y - a * x + y * z
        ydot = b * x + b * y - x * z
        zdot = -c * z - e * w + x * y
        wdot = -d * w + f * z + x * y
        return _stack(xdot, ydot, zdot, wdot)


class Qi(AbstractFlow):
    """A hyperchaotic system with a wide power spectrum."""

    a: ArrayLike = 45
    b: ArrayLike = 10
    c: ArrayLike = 1
    d: ArrayLike = 10

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (
        0.2562042648386667,
        0.1956116640569919,
        7.259823760387948,
        1.3162558970131963,
    )
    dt: ClassVar[float] = 8.165560926819638e-05
    period: ClassVar[float] = 0.40820999999999996
    citation: ClassVar[str] = (
        "G. Qi, M. A. van Wyk, B. J. van Wyk, and G. Chen, (2008). On a new hyperchaotic "
        "system. Physics Letters A."
    )

    def vector_field(self, t, state):
        x, y, z, w = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xdot = a * y - a * x + y * z * w
        ydot = b * x + b * y - x * z * w
        zdot = -c * z + x * y * w
        wdot = -d * w + x * y * z
        return _stack(xdot, ydot, zdot, wdot)


class LorenzStenflo(AbstractFlow):
    """Atmospheric acoustic-gravity waves."""

    a: ArrayLike = 2
    b: ArrayLike = 0.7
    c: ArrayLike = 26
    d: ArrayLike = 1.5

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (
        4.233438598886809,
        9.08970605484108,
        21.86662535600487,
        -1.4080695182833802,
    )
    dt: ClassVar[float] = 0.0007776724692212156
    period: ClassVar[float] = 3.8877142857142855
    citation: ClassVar[str] = (
        "Letellier & Rossler (2007). Hyperchaos. Scholarpedia 2.8 (2007): 1936."
    )

    def vector_field(self, t, state):
        x, y, z, w = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xdot = a * y - a * x + d * w
        ydot = c * x - x * z - y
        zdot = x * y - b * z
        wdot = -x - a * w
        return _stack(xdot, ydot, zdot, wdot)


class HyperYangChen(AbstractFlow):
    """A hyperchaotic system."""

    a: ArrayLike = 30
    b: ArrayLike = 3
    c: ArrayLike = 35
    d: ArrayLike = 8

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (
        3.534464234888686,
        4.82852516302869,
        25.04917588890622,
        17.118520274514353,
    )
    dt: ClassVar[float] = 0.00018257100103951984
    period: ClassVar[float] = 0.9127028626966961
    citation: ClassVar[str] = "Jürgen Meier (2003). Presentation of Attractors with Cinema."

    def vector_field(self, t, state):
        x, y, z, w = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xdot = a * y - a * x
        ydot = c * x - x * z + w
        zdot = -b * z + x * y
        wdot = -d * x
        return _stack(xdot, ydot, zdot, wdot)


class HyperYan(AbstractFlow):
    """A hyperchaotic system."""

    a: ArrayLike = 37
    b: ArrayLike = 3
    c: ArrayLike = 26
    d: ArrayLike = 38

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (
        -6.576620730899293,
        -4.617145437320736,
        17.796515255115004,
        0.8072357311545831,
    )
    dt: ClassVar[float] = 0.00018257100103951984
    period: ClassVar[float] = 0.9127028626966961
    citation: ClassVar[str] = "Jürgen Meier (2003). Presentation of Attractors with Cinema."

    def vector_field(self, t, state):
        x, y, z, w = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xdot = a * y - a * x
        ydot = (c - a) * x - x * z + c * y
        zdot = -b * z + x * y - y * z + x * z - w
        wdot = -d * w + y * z - x * z
        return _stack(xdot, ydot, zdot, wdot)


class HyperXu(AbstractFlow):
    """A hyperchaotic system."""

    a: ArrayLike = 10
    b: ArrayLike = 40
    c: ArrayLike = 2.5
    d: ArrayLike = 2
    e: ArrayLike = 16

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (0.68944486, -0.60254126, -0.5814657, 0.26629277)
    dt: ClassVar[float] = 0.00022660079191240358
    period: ClassVar[float] = 1.1328151255687646
    citation: ClassVar[str] = (
        "Letellier & Rossler (2007). Hyperchaos. Scholarpedia 2.8 (2007): 1936."
    )

    def vector_field(self, t, state):
        x, y, z, w = state
        a, b, c, d, e = self.a, self.b, self.c, self.d, self.e
        xdot = a * y - a * x + w
        ydot = b * x + e * x * z
        zdot = -c * z - x * y
        wdot = x * z - d * y
        return _stack(xdot, ydot, zdot, wdot)


class HyperWang(AbstractFlow):
    """A hyperchaotic variant of the Wang system."""

    a: ArrayLike = 10
    b: ArrayLike = 40
    c: ArrayLike = 2.5
    d: ArrayLike = 10.6
    e: ArrayLike = 4

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (0.16824907, 0.16854103, 37.04033781, -15.29027381)
    dt: ClassVar[float] = 0.0001296520200215312
    period: ClassVar[float] = 0.6481520567576332
    citation: ClassVar[str] = (
        "Wang, Z., Sun, Y., van Wyk, B. J., Qi, G. & van Wyk, M. A (2009). A 3-D "
        "four-wing attractor and its analysis. Brazilian J. Phys. 39."
    )

    def vector_field(self, t, state):
        x, y, z, w = state
        a, b, c, d, e = self.a, self.b, self.c, self.d, self.e
        xdot = a * y - a * x
        ydot = -x * z + b * x + w
        zdot = -c * z + e * x**2
        wdot = -d * x
        return _stack(xdot, ydot, zdot, wdot)


class HyperPang(AbstractFlow):
    """A hyperchaotic system."""

    a: ArrayLike = 36
    b: ArrayLike = 3
    c: ArrayLike = 20
    d: ArrayLike = 2

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (8.40863585, 4.67210241, 27.91032548, -1.26300886)
    dt: ClassVar[float] = 0.0001688156231375615
    period: ClassVar[float] = 0.8439374360017028
    citation: ClassVar[str] = (
        "Pang, S., & Liu, Y. (2011). A new hyperchaotic system from the Lü system and its "
        "control. Journal of Computational and Applied Mathematics, 235(8), 2775-2789."
    )

    def vector_field(self, t, state):
        x, y, z, w = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xdot = a * y - a * x
        ydot = -x * z + c * y + w
        zdot = x * y - b * z
        wdot = -d * x - d * y
        return _stack(xdot, ydot, zdot, wdot)


class HyperLu(AbstractFlow):
    """A hyperchaotic variant of the Lu attractor."""

    a: ArrayLike = 36
    b: ArrayLike = 3
    c: ArrayLike = 20
    d: ArrayLike = 1.3

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (8.11348619, 10.55664382, 18.44590719, -28.38151717)
    dt: ClassVar[float] = 0.00014328101980993325
    period: ClassVar[float] = 0.7162856981996777
    citation: ClassVar[str] = (
        "Chen, A., Lu, J., Lü, J., & Yu, S. (2006). Generating hyperchaotic Lü attractor "
        "via state feedback control. Physica A: Statistical Mechanics and its "
        "Applications, 364, 103-110."
    )

    def vector_field(self, t, state):
        x, y, z, w = state
        a, b, c, d = self.a, self.b, self.c, self.d
        xdot = a * y - a * x + w
        ydot = -x * z + c * y
        zdot = x * y - b * z
        wdot = d * w + x * z
        return _stack(xdot, ydot, zdot, wdot)


class SaltonSea(AbstractFlow):
    """An eco-epidemiological model of bird and fish abundances in the Salton sea of southern
    California.
    """

    a: ArrayLike = 15
    d: ArrayLike = 8.3
    k: ArrayLike = 400
    lam: ArrayLike = 0.06
    m: ArrayLike = 15.5
    mu: ArrayLike = 3.4
    r: ArrayLike = 22
    th: ArrayLike = 10.0

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (231.92548, 89.511944, 56.753804)
    dt: ClassVar[float] = 0.00019350825137522067
    period: ClassVar[float] = 0.96738
    citation: ClassVar[str] = (
        "Upadhyay, Bairagi, Kundu, Chattopadhyay (2007).Chaos in eco-epidemiological "
        "problem of the Salton Sea and its possible control. Applied mathematics and "
        "computation."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, d, k, lam, m, mu, r, th = (
            self.a,
            self.d,
            self.k,
            self.lam,
            self.m,
            self.mu,
            self.r,
            self.th,
        )
        xdot = r * x * (1 - (x + y) / k) - lam * x * y
        ydot = lam * x * y - m * y * z / (y + a) - mu * y
        zdot = th * y * z / (y + a) - d * z
        return _stack(xdot, ydot, zdot)


class FluidTrampoline(AbstractFlow):
    """A droplet bouncing on a horizontal soap film."""

    gamma: ArrayLike = 1.82
    psi: ArrayLike = 0.01019
    w: ArrayLike = 1.21

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.65820064, -2.8807787, 0.1)
    dt: ClassVar[float] = 0.0015472778796464582
    period: ClassVar[float] = 7.7351
    citation: ClassVar[str] = (
        "Gilet, Bush. The fluid trampoline: droplets bouncing on a soap film. JFM 2009."
    )

    def vector_field(self, t, state):
        x, y, th = state
        gamma, psi, w = self.gamma, self.psi, self.w
        xdot = y
        ydot = -1 - jnp.heaviside(-x, 0) * (x + psi * y * jnp.abs(y)) + gamma * jnp.cos(th)
        thdot = w
        return _stack(xdot, ydot, thdot)


class Aizawa(AbstractFlow):
    """A torus-like attractor related to the forced Lorenz system."""

    a: ArrayLike = 0.95
    b: ArrayLike = 0.7
    c: ArrayLike = 0.6
    d: ArrayLike = 3.5
    e: ArrayLike = 0.25
    f: ArrayLike = 0.1

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.78450179, -0.62887672, -0.17620268)
    dt: ClassVar[float] = 0.0005168261376896056
    period: ClassVar[float] = 2.5837
    citation: ClassVar[str] = (
        "Aizawa, Yoji, and Tatsuya Uezu (1982). Topological Aspects in Chaos and in 2 "
        "k-Period Doubling Cascade. Progress of Theoretical Physics 67.3 (1982): 982-985. "
        "See also Langford (1984). Numerical studies of torus bifurcations. Numerical "
        "Methods for Bifurcation Problems. Birkhauser, Basel, 1984. 285-295."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c, d, e, f = self.a, self.b, self.c, self.d, self.e, self.f
        xdot = x * z - b * x - d * y
        ydot = d * x + y * z - b * y
        zdot = c + a * z - z**3 / 3 - x**2 - y**2 - e * z * x**2 - e * z * y**2 + f * z * x**3
        return _stack(xdot, ydot, zdot)


class ShimizuMorioka(AbstractFlow):
    """A system that bifurcates from a symmetric limit cycle to an asymmetric one, similar to the
    Lorenz attractor.
    """

    a: ArrayLike = 0.85
    b: ArrayLike = 0.5

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.016838697, 0.03489384, 0.35346848)
    dt: ClassVar[float] = 0.002408001333556058
    period: ClassVar[float] = 12.038
    citation: ClassVar[str] = "Shimizu, Morioka. Phys Lett A. 1980: 201-204"

    def vector_field(self, t, state):
        x, y, z = state
        a, b = self.a, self.b
        xdot = y
        ydot = x - a * y - x * z
        zdot = -b * z + x**2
        return _stack(xdot, ydot, zdot)


class GenesioTesi(AbstractFlow):
    """A nonlinear control system with feedback."""

    a: ArrayLike = 0.44
    b: ArrayLike = 1.1
    c: ArrayLike = 1

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.053772565, -0.26162564, 0.33501557)
    dt: ClassVar[float] = 0.0011888181363559625
    period: ClassVar[float] = 5.9431
    citation: ClassVar[str] = (
        "Genesio, Tesi (1992). Harmonic balance methods for the analysis of chaotic "
        "dynamics in nonlinear systems. Automatica 28.3 (1992): 531-548."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c = self.a, self.b, self.c
        xdot = y
        ydot = z
        zdot = -c * x - b * y - a * z + x**2
        return _stack(xdot, ydot, zdot)


class AtmosphericRegime(AbstractFlow):
    """A model of regime transition in atmospheric flows. Contains widely-separated timescales due
    a quadratic term, which itself arises from a conservation law.
    """

    alpha: ArrayLike = -2.0
    beta: ArrayLike = -5.0
    mu1: ArrayLike = 0.05
    mu2: ArrayLike = -0.01
    omega: ArrayLike = 3.0
    sigma: ArrayLike = 1.1

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (
        0.026544189906947246,
        0.20580772677536016,
        0.43758119702219506,
    )
    dt: ClassVar[float] = 0.01792198051014566
    period: ClassVar[float] = 89.59496756697331
    citation: ClassVar[str] = (
        "Tuwankotta (2006). Chaos in a coupled oscillators system with widely spaced "
        "frequencies and energy-preserving non-linearity"
    )

    def vector_field(self, t, state):
        x, y, z = state
        alpha, beta, mu1, mu2, omega, sigma = (
            self.alpha,
            self.beta,
            self.mu1,
            self.mu2,
            self.omega,
            self.sigma,
        )
        xdot = mu1 * x + sigma * x * y
        ydot = mu2 * y + omega * z + alpha * y * z + beta * z**2 - sigma * x**2
        zdot = mu2 * z - omega * y - alpha * y**2 - beta * y * z
        return _stack(xdot, ydot, zdot)


class Hadley(AbstractFlow):
    """An atmospheric convective cell."""

    a: ArrayLike = 0.2
    b: ArrayLike = 4
    f: ArrayLike = 9
    g: ArrayLike = 1

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (1.3664423, 0.9309146, 0.64283417)
    dt: ClassVar[float] = 0.00029086847807974437
    period: ClassVar[float] = 1.4541
    citation: ClassVar[str] = (
        "G. Hadley (1735). On the cause of the general trade winds. Philosophical "
        "Transactions of the Royal Society, vol. 34, pp. 58--62."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, f, g = self.a, self.b, self.f, self.g
        xdot = -(y**2) - z**2 - a * x + a * f
        ydot = x * y - b * x * z - y + g
        zdot = b * x * y + x * z - z
        return _stack(xdot, ydot, zdot)


class ForcedVanDerPol(AbstractFlow):
    """An electronic circuit containing a triode."""

    a: ArrayLike = 1.2
    mu: ArrayLike = 8.53
    w: ArrayLike = 0.63

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-1.520504, 0.19640249, 687.39073)
    dt: ClassVar[float] = 0.0028958576429408823
    period: ClassVar[float] = 14.476875
    citation: ClassVar[str] = (
        "B. van der Pol (1920). A theory of the amplitude of free and forced triode "
        "vibrations. Radio Review 1."
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, mu, w = self.a, self.mu, self.w
        ydot = mu * (1 - x**2) * y - x + a * jnp.sin(z)
        xdot = y
        zdot = w
        return _stack(xdot, ydot, zdot)


class ForcedFitzHughNagumo(AbstractFlow):
    """A driven neuron model sustaining both quiesent and oscillating states."""

    a: ArrayLike = 0.7
    b: ArrayLike = 0.8
    curr: ArrayLike = 0.965
    f: ArrayLike = 0.4008225
    gamma: ArrayLike = 0.08
    omega: ArrayLike = 0.043650793650793655

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-1.2155252, -0.046470891, 0.0)
    dt: ClassVar[float] = 0.008425874900717644
    period: ClassVar[float] = 42.12235294117647
    citation: ClassVar[str] = (
        "FitzHugh, Richard (1961). Impulses and Physiological States in Theoretical "
        "Models of Nerve Membrane. Biophysical Journal. 1 (6)."
    )

    def vector_field(self, t, state):
        v, w, z = state
        a, b, curr, f, gamma, omega = self.a, self.b, self.curr, self.f, self.gamma, self.omega
        vdot = v - v**3 / 3 - w + curr + f * jnp.sin(z)
        wdot = gamma * (v + a - b * w)
        zdot = omega
        return _stack(vdot, wdot, zdot)


class HindmarshRose(AbstractFlow):
    """A neuron model exhibiting spiking and bursting."""

    a: ArrayLike = 0.49
    b: ArrayLike = 1.0
    c: ArrayLike = 0.0322
    d: ArrayLike = 1.0
    s: ArrayLike = 1.0
    tx: ArrayLike = 0.03
    tz: ArrayLike = 0.8

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.031111835, -0.021557059, 0.041475046)
    dt: ClassVar[float] = 0.000350458409734955
    period: ClassVar[float] = 1.752
    citation: ClassVar[str] = "Marhl, Perc. Chaos, Solitons, Fractals 2005."

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c, d, s, tx, tz = self.a, self.b, self.c, self.d, self.s, self.tx, self.tz
        xdot = -x + 1 / tx * y - a / tx * x**3 + b / tx * x**2 + 1 / tx * z
        ydot = -a * x**3 - (d - b) * x**2 + z
        zdot = -s / tz * x - 1 / tz * z + c / tz
        return _stack(xdot, ydot, zdot)


class Laser(AbstractFlow):
    """A semiconductor laser model"""

    a: ArrayLike = 10.0
    b: ArrayLike = 1.0
    c: ArrayLike = 5.0
    d: ArrayLike = -1.0
    h: ArrayLike = -5.0
    k: ArrayLike = -6.0

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (
        -2.540801356216252,
        -1.940570579119389,
        -2.9680975444071955,
    )
    dt: ClassVar[float] = 0.00018936556092683077
    period: ClassVar[float] = 0.94667
    citation: ClassVar[str] = (
        "Abooee, Yaghini-Bonabi, Jahed-Motlagh (2013). Analysis and circuitry realization "
        "of a novel three-dimensional chaotic system. Comm Nonline Sci 2013"
    )

    def vector_field(self, t, state):
        x, y, z = state
        a, b, c, d, h, k = self.a, self.b, self.c, self.d, self.h, self.k
        xdot = a * y - a * x + b * y * z**2
        ydot = c * x + d * x * z**2
        zdot = h * z + k * x**2
        return _stack(xdot, ydot, zdot)


class Blasius(AbstractFlow):
    """A chaotic food web composed of interacting predators,, consumers, and vegetation."""

    a: ArrayLike = 1
    alpha1: ArrayLike = 0.2
    alpha2: ArrayLike = 1
    b: ArrayLike = 1
    c: ArrayLike = 10
    k1: ArrayLike = 0.05
    k2: ArrayLike = 0
    zs: ArrayLike = 0.006

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (4.031713, 5.1113788, 0.016508812)
    dt: ClassVar[float] = 0.0013209801633604456
    period: ClassVar[float] = 6.6038
    citation: ClassVar[str] = "Blasius, Huppert, Stone. Nature 1999"

    def vector_field(self, t, state):
        x, y, z = state
        a, alpha1, alpha2, b, c, k1, k2, zs = (
            self.a,
            self.alpha1,
            self.alpha2,
            self.b,
            self.c,
            self.k1,
            self.k2,
            self.zs,
        )
        xdot = a * x - alpha1 * x * y / (1 + k1 * x)
        ydot = -b * y + alpha1 * x * y / (1 + k1 * x) - alpha2 * y * z / (1 + k2 * y)
        zdot = -c * (z - zs) + alpha2 * y * z / (1 + k2 * y)
        return _stack(xdot, ydot, zdot)


class TurchinHanski(AbstractFlow):
    """A chaotic three species food web. The species growth rate has been increased from the
    default parameters in the original paper, in order to ensure that the system exhibits
    sustained chaotic oscillations.
    """

    a: ArrayLike = 8
    d: ArrayLike = 0.04
    e: ArrayLike = 0.5
    g: ArrayLike = 0.1
    h: ArrayLike = 0.8
    lamb: ArrayLike = 1.0
    r: ArrayLike = 8.12
    s: ArrayLike = 1.25

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.018027788, 0.013649976, 30363.85)
    dt: ClassVar[float] = 0.0008812056911446575
    period: ClassVar[float] = 4.40529411764706
    citation: ClassVar[str] = (
        "Turchin, Hanski. The American Naturalist 1997. Turchin, Hanski. Ecology 2000"
    )

    def vector_field(self, t, state):
        n, p, z = state
        a, d, e, g, h, lamb, r, s = (
            self.a,
            self.d,
            self.e,
            self.g,
            self.h,
            self.lamb,
            self.r,
            self.s,
        )
        ndot = (
            r * (1 - e * jnp.sin(z)) * n - r * n**2 - g * n**2 / (n**2 + h**2) - a * n * p / (n + d)
        )
        pdot = s * (1 - e * jnp.sin(z)) * p - s * p**2 / n
        zdot = 2 * jnp.pi * lamb
        return _stack(ndot, pdot, zdot)


class HastingsPowell(AbstractFlow):
    """A three species food web."""

    a1: ArrayLike = 5.0
    a2: ArrayLike = 0.1
    b1: ArrayLike = 3.0
    b2: ArrayLike = 2.0
    d1: ArrayLike = 0.4
    d2: ArrayLike = 0.01

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.73207001, 0.17549271, 9.9014657)
    dt: ClassVar[float] = 0.02704250708451582
    period: ClassVar[float] = 135.19
    citation: ClassVar[str] = "Hastings, Powell. Ecology 1991"

    def vector_field(self, t, state):
        x, y, z = state
        a1, a2, b1, b2, d1, d2 = self.a1, self.a2, self.b1, self.b2, self.d1, self.d2
        xdot = x * (1 - x) - y * a1 * x / (1 + b1 * x)
        ydot = y * a1 * x / (1 + b1 * x) - z * a2 * y / (1 + b2 * y) - d1 * y
        zdot = z * a2 * y / (1 + b2 * y) - d2 * z
        return _stack(xdot, ydot, zdot)


class Torus(AbstractFlow):
    """A minimal quasiperiodic flow on a torus. All lyapunov exponents and related quantities are
    zero
    """

    a: ArrayLike = 0.5
    n: ArrayLike = 15.3
    r: ArrayLike = 1

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-13.72884, 1.9094726, 0.72831447)
    dt: ClassVar[float] = 0.0012722120353390665
    period: ClassVar[float] = 6.36
    citation: ClassVar[str] = "See, for example, Strogatz (1994). Nonlinear Dynamics and Chaos."

    def vector_field(self, t, state):
        _x, _y, _z = state
        a, n, r = self.a, self.n, self.r
        xdot = -a * n * jnp.sin(n * t) * jnp.cos(t) - (r + a * jnp.cos(n * t)) * jnp.sin(t)
        ydot = -a * n * jnp.sin(n * t) * jnp.sin(t) + (r + a * jnp.cos(n * t)) * jnp.cos(t)
        zdot = a * n * jnp.cos(n * t)
        return _stack(xdot, ydot, zdot)


class ItikBanksTumor(AbstractFlow):
    """A model of cancer cell populations."""

    a12: ArrayLike = 1
    a13: ArrayLike = 2.5
    a21: ArrayLike = 1.5
    a31: ArrayLike = 0.2
    d3: ArrayLike = 0.5
    k3: ArrayLike = 1
    r2: ArrayLike = 0.6
    r3: ArrayLike = 4.5

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.051730215, 0.87071642, 0.015926427)
    dt: ClassVar[float] = 0.009949658276379978
    period: ClassVar[float] = 49.74
    citation: ClassVar[str] = "Itik, Banks. Int J Bifurcat Chaos 2010"

    def vector_field(self, t, state):
        x, y, z = state
        a12, a13, a21, a31, d3, k3, r2, r3 = (
            self.a12,
            self.a13,
            self.a21,
            self.a31,
            self.d3,
            self.k3,
            self.r2,
            self.r3,
        )
        xdot = x * (1 - x) - a12 * x * y - a13 * x * z
        ydot = r2 * y * (1 - y) - a21 * x * y
        zdot = r3 * x * z / (x + k3) - a31 * x * z - d3 * z
        return _stack(xdot, ydot, zdot)


class Lorenz96(AbstractFlow):
    """Lorenz (1996) model of atmospheric mixing, in 4 dimensions as in dysts.

    dX_i/dt = (X_{i+1} − X_{i−2}) X_{i−1} − X_i + f (indices cyclic).
    """

    f: ArrayLike = 20.0

    dimension: ClassVar[int] = 4
    default_ic: ClassVar[tuple[float, ...]] = (-2.46820633, 0.09570264, 1.59270902, 10.21372147)
    dt: ClassVar[float] = 0.00043945324220700854
    period: ClassVar[float] = 2.1969
    citation: ClassVar[str] = (
        "Lorenz, Edward (1996). Predictability: A problem partly solved. Seminar on "
        "Predictability, Vol. I, ECMWF."
    )

    def vector_field(self, t, state):
        return (jnp.roll(state, -1) - jnp.roll(state, 2)) * jnp.roll(state, 1) - state + self.f


class MultiChua(AbstractFlow):
    """Multiple Chua's circuit: a piecewise-linear diode with six segments (multi-scroll)."""

    a: ArrayLike = 9
    b: ArrayLike = 14.286
    c: ArrayLike | tuple = (0, 1.0, 2.15, 3.6, 8.2, 13.0)
    m: ArrayLike | tuple = (
        -0.14285714,
        0.28571429,
        -0.57142857,
        0.28571429,
        -0.57142857,
        0.28571429,
    )

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-21.160123, 1.0322356, 27.405269)
    dt: ClassVar[float] = 0.00045179529921654196
    period: ClassVar[float] = 2.2586
    citation: ClassVar[str] = (
        "Mufcstak E. Yalcin, Johan A. K. Suykens, Joos Vandewalle. Cellular Neural "
        "Networks, Multi-Scroll Chaos And Synchronization."
    )

    def diode(self, x):
        m, c = jnp.asarray(self.m), jnp.asarray(self.c)
        slopes = 0.5 * (m[:-1] - m[1:]) * (jnp.abs(x + c[1:]) - jnp.abs(x - c[1:]))
        return m[-1] * x + jnp.sum(slopes)

    def vector_field(self, t, state):
        x, y, z = state
        return _stack(self.a * (y - self.diode(x)), x - y + z, -self.b * y)


def _blink_protocol(t, tau, stiffness=20):
    return 0.5 + 0.5 * jnp.tanh(tau * stiffness * jnp.sin(2 * jnp.pi * t / tau))


def _rotlet(r, theta, a, b, bc):
    kappa = a**2 + (b**2 * r**2) / a**2 - 2 * b * r * jnp.cos(theta)
    gamma = (1 - r**2 / a**2) * (a**2 - (b**2 * r**2) / a**2)
    iota = (b**2 * r) / a**2 - b * jnp.cos(theta)
    zeta = b**2 + r**2 - 2 * b * r * jnp.cos(theta)
    nu = a**2 + b**2 - (2 * b**2 * r**2) / a**2
    vr = b * jnp.sin(theta) * (-bc * (gamma / kappa**2) - 1 / kappa + 1 / zeta)
    vth = (
        bc * (gamma * iota) / kappa**2
        + bc * r * nu / (a**2 * kappa)
        + iota / kappa
        - (r - b * jnp.cos(theta)) / zeta
    )
    return vr, vth


class BlinkingRotlet(AbstractFlow):
    """Stokes flow in a disk stirred by two rotlets switched on and off alternately.

    State (r, θ, phase); the phase advances at unit speed and drives the blinking.
    """

    a: ArrayLike = 1.0
    b: ArrayLike = 0.5298833894399929
    bc: ArrayLike = 1
    sigma: ArrayLike = -1.0
    tau: ArrayLike = 3

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.08541919, -0.05204435, 0.0)
    dt: ClassVar[float] = 0.0005905109184863022
    period: ClassVar[float] = 2.9520625
    citation: ClassVar[str] = (
        "Meleshko & Aref. A blinking rotlet model for chaotic advection. Physics of "
        "Fluids 1996. See also Tallapragada and Sudarsanam PRE 2019"
    )

    def vector_field(self, t, state):
        r, theta, phase = state
        weight = _blink_protocol(phase, self.tau)
        dr1, dth1 = _rotlet(r, theta, self.a, self.b, self.bc)
        dr2, dth2 = _rotlet(r, theta, self.a, -self.b, self.bc)
        dr = weight * dr1 + (1 - weight) * dr2
        dth = (weight * dth1 + (1 - weight) * dth2) / r
        return _stack(self.sigma * dr, self.sigma * dth, jnp.ones_like(r))


class BlinkingVortex(AbstractFlow):
    """The blinking vortex flow (Aref): `BlinkingRotlet` with free-slip walls (bc = 0)."""

    a: ArrayLike = 1.0
    b: ArrayLike = 0.5
    bc: ArrayLike = 0
    sigma: ArrayLike = -1.0
    tau: ArrayLike = 3

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.08541919, -0.05204435, 0.0)
    dt: ClassVar[float] = 0.0005524254042340715
    period: ClassVar[float] = 2.7616666666666667
    citation: ClassVar[str] = "Aref (1984). Stirring by chaotic advection. J. Fluid Mechanics."

    def vector_field(self, t, state):
        return BlinkingRotlet(
            a=self.a, b=self.b, bc=self.bc, sigma=self.sigma, tau=self.tau
        ).vector_field(t, state)


def _lid_velocity(x, y, a, b, u1, u2):
    pi = jnp.pi
    pre1 = 2 * u1 * jnp.sin(pi * x / a) / (2 * b * pi + a * jnp.sinh(2 * pi * b / a))
    pre2 = 2 * u2 * jnp.sin(2 * pi * x / a) / (4 * b * pi + a * jnp.sinh(4 * pi * b / a))
    vx1 = -b * pi * jnp.sinh(pi * b / a) * jnp.sinh(pi * y / a) + jnp.cosh(pi * b / a) * (
        pi * y * jnp.cosh(pi * y / a) + a * jnp.sinh(pi * y / a)
    )
    vx2 = -2 * b * pi * jnp.sinh(2 * pi * b / a) * jnp.sinh(2 * pi * y / a) + jnp.cosh(
        2 * pi * b / a
    ) * (2 * pi * y * jnp.cosh(2 * pi * y / a) + a * jnp.sinh(2 * pi * y / a))
    vx = pre1 * vx1 + pre2 * vx2
    pre1 = 2 * pi * u1 * jnp.cos(pi * x / a) / (2 * b * pi + a * jnp.sinh(2 * pi * b / a))
    pre2 = 4 * pi * u2 * jnp.cos(2 * pi * x / a) / (4 * b * pi + a * jnp.sinh(4 * pi * b / a))
    vy1 = b * jnp.sinh(pi * b / a) * jnp.cosh(pi * y / a) - jnp.cosh(pi * b / a) * y * jnp.sinh(
        pi * y / a
    )
    vy2 = b * jnp.sinh(2 * pi * b / a) * jnp.cosh(2 * pi * y / a) - jnp.cosh(
        2 * pi * b / a
    ) * y * jnp.sinh(2 * pi * y / a)
    return vx, pre1 * vy1 + pre2 * vy2


class LidDrivenCavityFlow(AbstractFlow):
    """Stokes flow in a rectangular cavity whose lids move in alternation.

    State (x, y, phase); the phase advances at unit speed and drives the protocol.
    """

    a: ArrayLike = 6.0
    b: ArrayLike = 1.0
    tau: ArrayLike = 1.1
    u1: ArrayLike = 9.92786
    u2: ArrayLike = 8.34932

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (3.966790341130254, 0.18425981346720144, 0.0)
    dt: ClassVar[float] = 0.000546753824549171
    period: ClassVar[float] = 2.7333134945588955
    citation: ClassVar[str] = (
        "Grover et al. Chaos (2012). Topological chaos, braiding and bifurcation of "
        "almost-cyclic sets."
    )

    def vector_field(self, t, state):
        x, y, phase = state
        weight = _blink_protocol(phase, self.tau)
        dx1, dy1 = _lid_velocity(x, y, self.a, self.b, self.u1, self.u2)
        dx2, dy2 = _lid_velocity(x, y, self.a, self.b, -self.u1, self.u2)
        return _stack(
            weight * dx1 + (1 - weight) * dx2, weight * dy1 + (1 - weight) * dy2, jnp.ones_like(x)
        )


class InteriorSquirmer(AbstractFlow):
    """Tracer dynamics inside a squirming droplet whose surface modes alternate in time.

    State (r, θ, phase); the phase advances at unit speed and switches the modes.
    """

    a: ArrayLike | tuple = (0.5, 0.5, 0.5, 0.5, 0.5)
    g: ArrayLike | tuple = (0.5, 0.5, 0.5, 0.5, 0.5)
    tau: ArrayLike = 3

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.1, 0.1, 0.1)
    dt: ClassVar[float] = 0.005765475552614134
    period: ClassVar[float] = 28.822573200111794
    citation: ClassVar[str] = (
        "Blake, J. R. Self propulsion due to oscillations on the surface of a cylinder at "
        "low Reynolds number. AMS Bulletin 1971."
    )

    def vector_field(self, t, state):
        r, th, phase = state
        weight = _blink_protocol(phase, self.tau)
        a = jnp.asarray(self.a) * weight
        g = jnp.asarray(self.g) * (1 - weight)
        n = jnp.arange(1, a.shape[0] + 1)
        sinvals, cosvals = jnp.sin(th * n), jnp.cos(th * n)
        rn = r**n
        vr = (g * cosvals + a * sinvals) * (n * rn * (r**2 - 1)) / r
        vth = (2 * r + (r**2 - 1) * n / r) * (a * cosvals - g * sinvals) * rn
        return _stack(jnp.sum(vr), jnp.sum(vth) / r, jnp.ones_like(r))


class ExcitableCell(AbstractFlow):
    """A pancreatic beta-cell (Chay 1985) model of bursting excitable membranes."""

    aho: ArrayLike = 2.5
    ahr: ArrayLike = 0.05
    ahs: ArrayLike = 0.07
    ams: ArrayLike = 0.1
    amvb: ArrayLike = 25
    amvo: ArrayLike = 2.5
    ans: ArrayLike = 0.01
    anvb: ArrayLike = 20
    anvo: ArrayLike = 2
    ar: ArrayLike = 0.1
    bho: ArrayLike = 2.0
    bhr: ArrayLike = 0.1
    bmo: ArrayLike = 2.7777777777777777
    bmr: ArrayLike = 0.05555555555555555
    bms: ArrayLike = 4.0
    bno: ArrayLike = 0.375
    bnr: ArrayLike = 0.0125
    bns: ArrayLike = 0.125
    gi: ArrayLike = 1800
    gkc: ArrayLike = 11
    gkv: ArrayLike = 1700
    gl: ArrayLike = 7
    kc: ArrayLike = 0.183333
    rho: ArrayLike = 0.27
    tscl: ArrayLike = 230
    vc: ArrayLike = 100
    vi: ArrayLike = 100
    vk: ArrayLike = -75
    vl: ArrayLike = -40
    vm: ArrayLike = -50
    vn: ArrayLike = -30

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (
        -44.57779976420271,
        0.13121643614884418,
        0.4658533583951385,
    )
    dt: ClassVar[float] = 0.00011057842973826836
    period: ClassVar[float] = 1.0
    citation: ClassVar[str] = (
        "Teresa Chay. Chaos In A Three-variable Model Of An Excitable Cell. Physica D 1985"
    )

    def vector_field(self, t, state):
        v, n, c = state
        alpham = self.ams * (self.amvb + v) / (1 - jnp.exp(-self.ar * v - self.amvo))
        betam = self.bms * jnp.exp(-self.bmr * v - self.bmo)
        minf = alpham / (alpham + betam)
        alphah = self.ahs * jnp.exp(-self.ahr * v - self.aho)
        betah = 1 / (1 + jnp.exp(-self.bhr * v - self.bho))
        hinf = alphah / (alphah + betah)
        alphan = self.ans * (self.anvb + v) / (1 - jnp.exp(-self.ar * v - self.anvo))
        betan = self.bns * jnp.exp(-self.bnr * v - self.bno)
        ninf = alphan / (alphan + betan)
        tau = 1 / (self.tscl * (alphan + betan))
        ca = c / (1 + c)
        vdot = (
            self.gi * minf**3 * hinf * (self.vi - v)
            + self.gkv * n**4 * (self.vk - v)
            + self.gkc * ca * (self.vk - v)
            + self.gl * (self.vl - v)
        )
        ndot = (ninf - n) / tau
        cdot = self.rho * (minf**3 * hinf * (self.vc - v) - self.kc * c)
        return _stack(vdot, ndot, cdot)


def _ca_two_plus(p, state):
    z, y, a = state
    vin = p.V0 + p.V1 * p.beta
    v2 = p.Vm2 * (z**2) / (p.K2**2 + z**2)
    v3 = (
        (p.Vm3 * (z**p.m) / (p.Kz**p.m + z**p.m))
        * (y**2 / (p.Ky**2 + y**2))
        * (a**4 / (p.Ka**4 + a**4))
    )
    v5 = p.Vm5 * (a**p.p / (p.K5**p.p + a**p.p)) * (z**p.n / (p.Kd**p.n + z**p.n))
    return _stack(
        vin - v2 + v3 + p.kf * y - p.k * z, v2 - v3 - p.kf * y, p.beta * p.V4 - v5 - p.eps * a
    )


class CaTwoPlus(AbstractFlow):
    """Intracellular calcium ion oscillations (Houart, Dupont & Goldbeter 1999)."""

    K2: ArrayLike = 0.1
    K5: ArrayLike = 0.3194
    Ka: ArrayLike = 0.1
    Kd: ArrayLike = 1
    Ky: ArrayLike = 0.3
    Kz: ArrayLike = 0.6
    V0: ArrayLike = 2
    V1: ArrayLike = 2
    V4: ArrayLike = 3
    Vm2: ArrayLike = 6
    Vm3: ArrayLike = 30
    Vm5: ArrayLike = 50
    beta: ArrayLike = 0.65
    eps: ArrayLike = 13
    k: ArrayLike = 10
    kf: ArrayLike = 1
    m: ArrayLike = 2
    n: ArrayLike = 4
    p: ArrayLike = 1

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.26162904, 1.0055612, 0.14407867)
    dt: ClassVar[float] = 0.000268644774129001
    period: ClassVar[float] = 1.343
    citation: ClassVar[str] = "Houart, Dupont, Goldbeter. Bull Math Biol 1999."

    def vector_field(self, t, state):
        return _ca_two_plus(self, state)


class CaTwoPlusQuasiperiodic(AbstractFlow):
    """`CaTwoPlus` at parameters where the calcium oscillation is quasiperiodic."""

    K2: ArrayLike = 0.1
    K5: ArrayLike = 0.3
    Ka: ArrayLike = 0.2
    Kd: ArrayLike = 0.5
    Ky: ArrayLike = 0.2
    Kz: ArrayLike = 0.5
    V0: ArrayLike = 2
    V1: ArrayLike = 2
    V4: ArrayLike = 5
    Vm2: ArrayLike = 6
    Vm3: ArrayLike = 20
    Vm5: ArrayLike = 30
    beta: ArrayLike = 0.51
    eps: ArrayLike = 0.1
    k: ArrayLike = 10
    kf: ArrayLike = 1
    m: ArrayLike = 2
    n: ArrayLike = 4
    p: ArrayLike = 2

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.26321067, 0.87886607, 0.3148781)
    dt: ClassVar[float] = 0.00013124987497917573
    period: ClassVar[float] = 0.65614
    citation: ClassVar[str] = "Houart, Dupont, Goldbeter. Bull Math Biol 1999."

    def vector_field(self, t, state):
        return _ca_two_plus(self, state)


class CellCycle(AbstractFlow):
    """Two coupled oscillators of the cell-division cycle (Romond et al. 1999)."""

    K: ArrayLike = 0.01
    Kc: ArrayLike = 0.5
    Kd1: ArrayLike = 0.02
    Kim: ArrayLike = 0.65
    V2: ArrayLike = 0.15
    V4: ArrayLike = 0.05
    Vm1: ArrayLike = 0.3
    Vm3: ArrayLike = 0.1
    kd1: ArrayLike = 0.001
    vd: ArrayLike = 0.025
    vi: ArrayLike = 0.05

    dimension: ClassVar[int] = 6
    default_ic: ClassVar[tuple[float, ...]] = (
        0.71565329,
        0.9489355,
        0.98910371,
        0.72138631,
        0.94987035,
        0.98912572,
    )
    dt: ClassVar[float] = 0.04094882480413617
    period: ClassVar[float] = 204.71
    citation: ClassVar[str] = "Romond, Rustici, Gonze, Goldbeter. 1999."

    def vector_field(self, t, state):
        c1, m1, x1, c2, m2, x2 = state
        K, Kc, Kd, Kim, vi, vd, kd = self.K, self.Kc, self.Kd1, self.Kim, self.vi, self.vd, self.kd1
        V1 = self.Vm1 * c1 / (Kc + c1)
        U1 = self.Vm1 * c2 / (Kc + c2)
        V3, U3 = m1 * self.Vm3, m2 * self.Vm3
        c1dot = vi * Kim / (Kim + m2) - vd * x1 * c1 / (Kd + c1) - kd * c1
        c2dot = vi * Kim / (Kim + m1) - vd * x2 * c2 / (Kd + c2) - kd * c2
        m1dot = V1 * (1 - m1) / (K + (1 - m1)) - self.V2 * m1 / (K + m1)
        m2dot = U1 * (1 - m2) / (K + (1 - m2)) - self.V2 * m2 / (K + m2)
        x1dot = V3 * (1 - x1) / (K + (1 - x1)) - self.V4 * x1 / (K + x1)
        x2dot = U3 * (1 - x2) / (K + (1 - x2)) - self.V4 * x2 / (K + x2)
        return _stack(c1dot, m1dot, x1dot, c2dot, m2dot, x2dot)


class CircadianRhythm(AbstractFlow):
    """A forced model of the circadian clock (Leloup & Goldbeter 1999).

    The last state variable is the forcing phase, advancing at 2π / ps.
    """

    Ki: ArrayLike = 1
    k: ArrayLike = 0.5
    k1: ArrayLike = 0.3
    k2: ArrayLike = 0.15
    kd: ArrayLike = 1.4
    kdn: ArrayLike = 0.4
    km: ArrayLike = 0.4
    ks: ArrayLike = 1
    n: ArrayLike = 4
    ps: ArrayLike = 24
    vc: ArrayLike = 2.5
    vd: ArrayLike = 6
    vdn: ArrayLike = 1.5
    vm: ArrayLike = 0.7
    vmax: ArrayLike = 4.7
    vmin: ArrayLike = 1.0

    dimension: ClassVar[int] = 5
    default_ic: ClassVar[tuple[float, ...]] = (
        1.5401187,
        5.3707921,
        41.054266,
        11.619073,
        2004.0233,
    )
    dt: ClassVar[float] = 0.005400900150025336
    period: ClassVar[float] = 27.0
    citation: ClassVar[str] = " Leloup, Gonze, Goldbeter. 1999. Gonze, Leloup, Goldbeter. 2000"

    def vector_field(self, t, state):
        m, fc, fs, fn, th = state
        vs = self.vc * ((0.5 + 0.5 * jnp.cos(th)) + self.vmin) * (self.vmax - self.vmin)
        mdot = vs * (self.Ki**self.n) / (self.Ki**self.n + fn**self.n) - self.vm * m / (self.km + m)
        fcdot = self.ks * m - self.k1 * fc + self.k2 * fn - self.k * fc
        fsdot = self.k * fc - self.vd * fs / (self.kd + fs)
        fndot = self.k1 * fc - self.k2 * fn - self.vdn * fn / (self.kdn + fn)
        thdot = 2 * jnp.pi / self.ps * jnp.ones_like(th)
        return _stack(mdot, fcdot, fsdot, fndot, thdot)


class AnishchenkoAstakhov(AbstractFlow):
    """Anishchenko–Astakhov oscillator: a generator with inertial nonlinearity."""

    eta: ArrayLike = 0.5
    mu: ArrayLike = 1.2

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (3.6225814, 3.3226339, 1.9973142)
    dt: ClassVar[float] = 0.001363027171195199
    period: ClassVar[float] = 6.814
    citation: ClassVar[str] = (
        "Anishchenko, et al. Nonlinear dynamics of chaotic and stochastic systems: "
        "tutorial and modern developments. 2007."
    )

    def vector_field(self, t, state):
        x, y, z = state
        return _stack(
            self.mu * x + y - x * z, -x, -self.eta * z + self.eta * jnp.heaviside(x, 0.0) * x**2
        )


class Colpitts(AbstractFlow):
    """The Colpitts LC oscillator with a piecewise-linear transistor."""

    a: ArrayLike = 30
    b: ArrayLike = 0.8
    c: ArrayLike = 20
    d: ArrayLike = 0.08
    e: ArrayLike = 10

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (8.9389043, 0.64637337, 8.7869304)
    dt: ClassVar[float] = 0.0008536622770461122
    period: ClassVar[float] = 4.2676
    citation: ClassVar[str] = (
        "Kennedy (2007). IEEE Trans Circuits & Systems. 1994: 771-774. Li, Zhou, Yang. "
        "Chaos, Solitons, & Fractals."
    )

    def vector_field(self, t, state):
        x, y, z = state
        u = z - (self.e - 1)
        fz = -u * (1 - jnp.heaviside(u, 0.0))
        return _stack(y - self.a * fz, self.c - x - self.b * y - z, y - self.d * z)


class StickSlipOscillator(AbstractFlow):
    """A forced oscillator with stick-slip friction; the last state is the forcing phase."""

    a: ArrayLike = 1
    alpha: ArrayLike = 0.3
    b: ArrayLike = 1
    beta: ArrayLike = 0.3
    eps: ArrayLike = 0.05
    gamma: ArrayLike = 1.0
    t0: ArrayLike = 0.3
    vs: ArrayLike = 0.4
    w: ArrayLike = 2

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (0.85539847, -0.39125834, 0.0)
    dt: ClassVar[float] = 0.00032263377229540424
    period: ClassVar[float] = 1.6129
    citation: ClassVar[str] = (
        "Awrejcewicz, Jan, and M. M. Holicke (1999). Int J of Bifurcation and Chaos."
    )

    def vector_field(self, t, state):
        x, v, th = state
        tq = self.t0 * jnp.sign(v - self.vs) - self.alpha * v + self.beta * (v - self.vs) ** 3
        vdot = self.eps * (self.gamma * jnp.cos(th) - tq) + self.a * x - self.b * x**3
        return _stack(v, vdot, self.w * jnp.ones_like(th))


class CellularNeuralNetwork(AbstractFlow):
    """A three-cell cellular neural network with piecewise-linear outputs."""

    a: ArrayLike = 4.4
    b: ArrayLike = 3.21
    c: ArrayLike = 1.1
    d: ArrayLike = 1.24

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-0.26574016, -0.36754928, -0.073094132)
    dt: ClassVar[float] = 0.0006401066844473746
    period: ClassVar[float] = 3.2
    citation: ClassVar[str] = (
        "Arena, Caponetto, Fortuna, and Porto., Int J Bifurcat Chaos. 1998:  1527-1539."
    )

    def vector_field(self, t, state):
        x, y, z = state
        fx, fy, fz = 0.5 * (jnp.abs(state + 1) - jnp.abs(state - 1))
        return _stack(
            -x + self.d * fx - self.b * fy - self.b * fz,
            -y - self.b * fx + self.c * fy - self.a * fz,
            -z - self.b * fx + self.a * fy + fz,
        )


class BeerRNN(AbstractFlow):
    """A continuous-time recurrent neural network of three neurons (Beer 1995)."""

    tau: ArrayLike | tuple = (1.0, 2.5, 1.0)
    theta: ArrayLike | tuple = (-4.108, -2.787, -1.114)
    w: ArrayLike | tuple = ((5.422, -0.018, 2.75), (-0.24, 4.59, 1.21), (0.535, -2.25, 3.885))

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (1.5014532, 2.3742845, 0.65819415)
    dt: ClassVar[float] = 0.03632205367561255
    period: ClassVar[float] = 181.58
    citation: ClassVar[str] = (
        "Beer, R. D. (1995). On the dynamics of small continuous-time recurrent neural "
        "networks. Adapt. Behav., 3(4), 4692013509."
    )

    def vector_field(self, t, state):
        w = jnp.asarray(self.w, dtype=state.dtype)
        sig = jax.nn.sigmoid(state + jnp.asarray(self.theta, dtype=state.dtype))
        return (-state + w @ sig) / jnp.asarray(self.tau, dtype=state.dtype)


class Hopfield(AbstractFlow):
    """A continuous Hopfield network of six neurons with inhibitory couplings."""

    beta: ArrayLike = 0.5
    eps: ArrayLike = 10
    k: ArrayLike | tuple = (
        (0, -1, 0, 0, -1, -1),
        (0, 0, 0, -1, -1, -1),
        (-1, -1, 0, 0, -1, 0),
        (-1, -1, -1, 0, 0, 0),
        (-1, -1, 0, -1, 0, 0),
        (0, -1, -1, -1, 0, 0),
    )
    tau: ArrayLike = 2.5

    dimension: ClassVar[int] = 6
    default_ic: ClassVar[tuple[float, ...]] = (
        -0.67127393,
        -0.2420173,
        -0.055676628,
        0.34697948,
        0.45273118,
        0.78389688,
    )
    dt: ClassVar[float] = 0.002173362227038069
    period: ClassVar[float] = 10.865
    citation: ClassVar[str] = "Lewis & Glass, Neur Comp (1992)"

    def vector_field(self, t, state):
        k = jnp.asarray(self.k, dtype=state.dtype)
        return -state / self.tau + (1 + jnp.tanh(self.eps * (k @ state))) / 2 - self.beta


class MacArthur(AbstractFlow):
    """MacArthur consumer–resource model: five species competing for five resources."""

    c: ArrayLike | tuple = (
        (0.04, 0.04, 0.07, 0.04, 0.04),
        (0.08, 0.08, 0.08, 0.1, 0.08),
        (0.1, 0.1, 0.1, 0.1, 0.14),
        (0.05, 0.03, 0.03, 0.03, 0.03),
        (0.07, 0.09, 0.07, 0.07, 0.07),
    )
    d: ArrayLike = 0.25
    k: ArrayLike | tuple = (
        (0.39, 0.34, 0.3, 0.24, 0.23),
        (0.22, 0.39, 0.34, 0.3, 0.27),
        (0.27, 0.22, 0.39, 0.34, 0.3),
        (0.3, 0.24, 0.22, 0.39, 0.34),
        (0.34, 0.3, 0.22, 0.2, 0.39),
    )
    m: ArrayLike = 0.25
    r: ArrayLike = 1
    s: ArrayLike | tuple = (6, 10, 14, 4, 9)

    dimension: ClassVar[int] = 10
    default_ic: ClassVar[tuple[float, ...]] = (
        9.4323333,
        18.838654,
        34.37572,
        15.08545,
        42.228427,
        0.17030505,
        0.10144427,
        0.3148045,
        0.21253581,
        0.22598604,
    )
    dt: ClassVar[float] = 0.008682647107852971
    period: ClassVar[float] = 43.406
    citation: ClassVar[str] = (
        "MacArthur, R. 1969. Species packing, and what competition minimizes. PNAS "
        "64:1369. Parameter values taken from a model of phytoplankton in Huisman & "
        "Weissing. Nature 1999."
    )

    def vector_field(self, t, state):
        dtype = state.dtype
        k = jnp.asarray(self.k, dtype=dtype)
        c = jnp.asarray(self.c, dtype=dtype)
        s = jnp.asarray(self.s, dtype=dtype)
        species, resources = state[:5], state[5:]
        # growth rate of species i: r · min_j R_j / (k_ji + R_j)  (Liebig's law of the minimum)
        mu = jnp.min(self.r * resources / (k.T + resources), axis=1)
        return jnp.concatenate(
            [species * (mu - self.m), self.d * (s - resources) - c @ (mu * species)]
        )
