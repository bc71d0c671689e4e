"""Objectives K: statistical functionals of the law of (stock + return).

Distributional dynamic programming with stock augmentation optimises K exactly when K is
*indifferent to mixtures* — K(ν) ≥ K(ν') implies K(pν + (1−p)ν'') ≥ K(pν' + (1−p)ν'') —
and to scaling by γ (Pires et al., 2025, §4). Expected utilities K(ν) = E_{X~ν} f(X) are
indifferent to mixtures; with γ = 1 (or positively homogeneous f) they are also indifferent
to scaling. Mean–variance, quantiles and CVaR used *directly* as K are not: the greedy policy
they produce is time-inconsistent and can be strictly suboptimal (see `MeanVariance`); CVaR
is optimised correctly through its variational form (`optimize_cvar`).
"""

import abc
from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array

from ._distributions import cvar as _cvar
from ._distributions import quantile as _quantile


class MixtureWarning(UserWarning):
    """Raised (as a warning) when DP is asked to optimise a non-mixture-indifferent K."""


class AbstractObjective(eqx.Module):
    """A functional K of the distribution of c + G, evaluated on `(atoms, probs)`.

    Subclasses implement `__call__(atoms, probs) -> (*batch,)` and set the class variable
    `mixture_indifferent`.
    """

    mixture_indifferent = True
    positively_homogeneous = False

    @abc.abstractmethod
    def __call__(self, atoms: Array, probs: Array) -> Array:
        """K of the distributions `(atoms, probs)`: `(*batch, n) -> (*batch,)`."""


class AbstractExpectedUtility(AbstractObjective):
    """K(ν) = E_{X~ν} u(X): subclasses implement the utility `utility(x)` (elementwise)."""

    @abc.abstractmethod
    def utility(self, x: Array) -> Array:
        """u(x), elementwise."""

    def __call__(self, atoms, probs):
        return jnp.sum(probs * self.utility(atoms), axis=-1)


class ExpectedUtility(AbstractExpectedUtility):
    """K(ν) = E_{X~ν} f(X) for a user utility f (vectorised, jnp).

    **Fields:**

    - `fn`: `f`, applied elementwise to arrays of outcomes c + G.
    - `homogeneous`: declare f(γx) = γ^k f(x) for some k > 0 (e.g. min(x, 0), 1[x ≥ 0]),
      so the greedy choice does not depend on the time step under discounting; it only
      matters for γ < 1 with an infinite horizon.
    """

    fn: Callable[[Array], Array] = eqx.field(static=True)
    homogeneous: bool = eqx.field(static=True, default=False)

    @property
    def positively_homogeneous(self) -> bool:  # type: ignore[override]
        return self.homogeneous

    def utility(self, x):
        return self.fn(x)


class ThresholdProbability(AbstractExpectedUtility):
    """P(c + G ≥ 0): with initial stock c₀ = −threshold, the probability that G ≥ threshold."""

    positively_homogeneous = True

    def utility(self, x):
        return (x >= 0).astype(jnp.result_type(x, float))


class NegativePart(AbstractExpectedUtility):
    """E min(c + G, 0) = −E(b − G)⁺ for c₀ = −b: the inner problem of CVaR (`optimize_cvar`)."""

    positively_homogeneous = True

    def utility(self, x):
        return jnp.minimum(x, 0.0)


class Homeostasis(AbstractExpectedUtility):
    """Stay in a band: u(x) = −dist(x, [low, high])^power (0 inside the band).

    **Fields:** `low < high`; `power >= 0` (1: minus the expected distance to the band;
    0: minus the probability of ending outside it).
    """

    low: float = eqx.field(static=True)
    high: float = eqx.field(static=True)
    power: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        if not self.low < self.high:
            raise ValueError(f"Homeostasis: need low < high, got low={self.low!r}, "
                             f"high={self.high!r}")
        if self.power < 0:
            raise ValueError(f"Homeostasis: power must be >= 0, got {self.power!r}")

    def utility(self, x):
        d = jnp.maximum(self.low - x, 0.0) + jnp.maximum(x - self.high, 0.0)
        if self.power == 0:
            return -(d > 0).astype(jnp.result_type(x, float))
        return -(d ** self.power)


class MeanVariance(AbstractObjective):
    """K(ν) = mean − λ·variance. *Not* indifferent to mixtures: DP does not optimise it."""

    mixture_indifferent = False
    risk_aversion: float = eqx.field(static=True, default=1.0)

    def __call__(self, atoms, probs):
        mean = jnp.sum(probs * atoms, axis=-1)
        var = jnp.sum(probs * (atoms - mean[..., None]) ** 2, axis=-1)
        return mean - self.risk_aversion * var


class QuantileObjective(AbstractObjective):
    """K(ν) = F⁻¹_ν(τ). *Not* indifferent to mixtures: DP does not optimise it."""

    mixture_indifferent = False
    tau: float = eqx.field(static=True, default=0.5)

    def __call__(self, atoms, probs):
        return _quantile(atoms, probs, self.tau)


class CVaRObjective(AbstractObjective):
    """K(ν) = CVaR_τ(ν) plugged in directly. *Not* indifferent to mixtures: the greedy
    policy it gives is time-inconsistent; use `optimize_cvar` instead."""

    mixture_indifferent = False
    tau: float = eqx.field(static=True, default=0.1)

    def __call__(self, atoms, probs):
        return _cvar(atoms, probs, self.tau)
