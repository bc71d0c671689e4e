from typing import ClassVar

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._base import AbstractFlow, AbstractMap, AbstractSystem


class Lorenz(AbstractFlow):
    """The Lorenz (1963) convection model.

    dx/dt = σ(y − x),  dy/dt = x(ρ − z) − y,  dz/dt = xy − βz.

    The divergence is the constant −(σ + 1 + β), so the Lyapunov exponents sum to it
    exactly. Reference spectrum at (10, 28, 8/3): (0.9056, 0, −14.5723) (Sprott).
    """

    sigma: Float[ArrayLike, ""] = 10.0
    rho: Float[ArrayLike, ""] = 28.0
    beta: Float[ArrayLike, ""] = 8.0 / 3.0

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (-9.7869288, -15.03852, 20.533978)
    dt: ClassVar[float] = 1e-3
    period: ClassVar[float] = 1.5008
    citation: ClassVar[str] = (
        "Lorenz, E. N. (1963). Deterministic nonperiodic flow. "
        "Journal of the Atmospheric Sciences, 20(2), 130-141."
    )

    def vector_field(self, t: Float[Array, ""], y: Float[Array, " 3"]) -> Float[Array, " 3"]:
        x, v, z = y
        return jnp.stack([self.sigma * (v - x), x * (self.rho - z) - v, x * v - self.beta * z])


class Rossler(AbstractFlow):
    """The Rössler (1976) attractor.

    dx/dt = −y − z,  dy/dt = x + a y,  dz/dt = b + z(x − c).
    Reference spectrum at (0.2, 0.2, 5.7): (0.0714, 0, −5.394) (Sprott).
    """

    a: Float[ArrayLike, ""] = 0.2
    b: Float[ArrayLike, ""] = 0.2
    c: Float[ArrayLike, ""] = 5.7

    dimension: ClassVar[int] = 3
    default_ic: ClassVar[tuple[float, ...]] = (6.5, -0.4, 0.02)
    dt: ClassVar[float] = 1e-2
    period: ClassVar[float] = 5.9
    citation: ClassVar[str] = (
        "Rössler, O. E. (1976). An equation for continuous chaos. "
        "Physics Letters A, 57(5), 397-398."
    )

    def vector_field(self, t: Float[Array, ""], y: Float[Array, " 3"]) -> Float[Array, " 3"]:
        x, v, z = y
        return jnp.stack([-v - z, x + self.a * v, self.b + z * (x - self.c)])


class Henon(AbstractMap):
    """The Hénon (1976) map: x' = 1 − a x² + y,  y' = b x.

    Its Jacobian determinant is −b, so the exponents sum to ln b exactly.
    Reference spectrum at (1.4, 0.3): (0.41922, −1.62319) (Sprott).
    """

    a: Float[ArrayLike, ""] = 1.4
    b: Float[ArrayLike, ""] = 0.3

    dimension: ClassVar[int] = 2
    default_ic: ClassVar[tuple[float, ...]] = (0.1, 0.1)
    citation: ClassVar[str] = (
        "Hénon, M. (1976). A two-dimensional mapping with a strange attractor. "
        "Communications in Mathematical Physics, 50(1), 69-77."
    )

    def step(self, y: Float[Array, " 2"]) -> Float[Array, " 2"]:
        x, v = y
        return jnp.stack([1.0 - self.a * x**2 + v, self.b * x])


class Logistic(AbstractMap):
    """The logistic map x' = r x (1 − x). At r = 4 its Lyapunov exponent is ln 2."""

    r: Float[ArrayLike, ""] = 4.0

    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (0.1234,)
    citation: ClassVar[str] = (
        "May, R. M. (1976). Simple mathematical models with very complicated dynamics. "
        "Nature, 261, 459-467."
    )

    def step(self, y: Float[Array, " 1"]) -> Float[Array, " 1"]:
        return self.r * y * (1.0 - y)


_REGISTRY: dict[str, type[AbstractSystem]] = {
    cls.__name__: cls for cls in (Lorenz, Rossler, Henon, Logistic)
}


def names(kind: str | None = None) -> list[str]:
    """The registered system names, sorted, optionally only those of one `kind`.

    **Arguments:**

    - `kind`: `None` (all), `"flow"` or `"map"`.

    **Returns:** a sorted list of class names, usable with `get`.

    **Raises:** `ValueError` for an unknown `kind`.
    """
    kinds = sorted({cls.kind for cls in _REGISTRY.values()})
    if kind is not None and kind not in kinds:
        raise ValueError(f"names: kind must be None or one of {kinds}, got {kind!r}")
    return sorted(n for n, cls in _REGISTRY.items() if kind is None or cls.kind == kind)


def get(name: str, **params) -> AbstractSystem:
    """Build the system called `name`, overriding any of its parameters.

    **Arguments:**

    - `name`: a name from `names()`, e.g. `"Lorenz"`.
    - `**params`: parameter overrides, e.g. `rho=35.0`.

    **Returns:** the system instance.

    **Raises:** `ValueError` for an unknown name or parameter (with the closest matches).
    """
    import difflib
    import inspect

    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"get: unknown system {name!r}{hint} (see jaxlab.systems.names())")
    cls = _REGISTRY[name]
    allowed = [p for p in inspect.signature(cls).parameters]
    unknown = [p for p in params if p not in allowed]
    if unknown:
        raise ValueError(f"get: {name} has no parameter(s) {unknown}; its parameters are "
                         f"{allowed}")
    return cls(**params)
