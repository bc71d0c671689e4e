"""The abstract bases of `jaxlab.systems`: flows, maps, delay equations and SDEs."""

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._core.checks import as_float_array, check_shape, concrete_values, message

__all__ = ["AbstractDelay", "AbstractFlow", "AbstractMap", "AbstractSDE", "AbstractSystem",
           "array_parameters", "check_state", "concrete_times"]


class AbstractSystem(eqx.Module):
    """A dynamical system: a flow (ODE) or a map, with its parameters as fields.

    Parameters are ordinary dataclass fields, so a system can be `vmap`ped and
    differentiated over its parameters. Metadata are class variables.

    **Class variables:**

    - `dimension`: the state dimension `d`.
    - `default_ic`: an initial condition on (or near) the attractor, length `d`.
    - `citation`: where the system and its parameter values come from.
    """

    dimension: eqx.AbstractClassVar[int]
    default_ic: eqx.AbstractClassVar[tuple[float, ...]]
    citation: eqx.AbstractClassVar[str]

    def initial_state(self, dtype=None) -> Float[Array, " d"]:
        """The default initial condition as an array of `dtype` (default: JAX's float)."""
        return jnp.asarray(self.default_ic, dtype=dtype)


class AbstractFlow(AbstractSystem):
    """A continuous-time system dy/dt = f(t, y).

    **Class variables** (besides those of `AbstractSystem`):

    - `dt`: a step-size hint for the first step of an adaptive solver.
    - `period`: the dominant (Fourier) period of the trajectory, in time units.
    """

    dt: eqx.AbstractClassVar[float]
    period: eqx.AbstractClassVar[float]
    kind: ClassVar[str] = "flow"

    @abc.abstractmethod
    def vector_field(self, t: Float[Array, ""], y: Float[Array, " d"]) -> Float[Array, " d"]:
        """The right-hand side f(t, y), shape `(d,)`."""


class AbstractMap(AbstractSystem):
    """A discrete-time system y_{n+1} = F(y_n)."""

    kind: ClassVar[str] = "map"

    @abc.abstractmethod
    def step(self, y: Float[Array, " d"]) -> Float[Array, " d"]:
        """One iteration F(y), shape `(d,)`."""


class AbstractDelay(AbstractSystem):
    """A delay-differential equation dy/dt = f(t, y(t), y(t − τ)) with one constant delay τ.

    The state at time t is the whole history segment y([t − τ, t]), so the system is
    infinite-dimensional; `dimension` is the number of components of y(t). The initial
    history is constant, y(s) = y0 for s in [−τ, 0] (the dysts convention).

    **Fields:** `tau`, the delay τ > 0, a static Python float (it fixes the step grid, so it
    cannot be traced, vmapped or differentiated).

    **Class variables** (besides those of `AbstractSystem`):

    - `dt`: a step-size hint; fixed-step solvers use the largest τ/m not above it.
    - `period`: the dominant (Fourier) period of the trajectory, in time units.
    """

    tau: eqx.AbstractVar[float]
    dt: eqx.AbstractClassVar[float]
    period: eqx.AbstractClassVar[float]
    kind: ClassVar[str] = "delay"

    @abc.abstractmethod
    def vector_field(self, t: Float[Array, ""], y: Float[Array, " d"],
                     history: Float[Array, " d"]) -> Float[Array, " d"]:
        """The right-hand side f(t, y(t), y(t − τ)), shape `(d,)`; `history` is y(t − τ)."""


class AbstractSDE(eqx.Module):
    """An Itô stochastic differential equation dY = f(t, Y) dt + g(t, Y) dW.

    Parameters are fields (vmappable and differentiable, as for flows); metadata are class
    variables or properties. The noise is **diagonal** when `diffusion` returns a vector of
    shape `(d,)` (component i is driven by its own Brownian motion, dY_i = … + g_i dW_i,
    and `noise_shape` is `(d,)`), or general when it returns a matrix of shape `(d, m)`
    (`noise_shape` is then `(m,)`; override it).

    **Metadata:**

    - `dimension`: the state dimension `d` (a class variable, or a property when it is set
      by a field, as for a particle system).
    - `noise_shape`: the shape of W (default `(dimension,)`: diagonal noise).
    - `dt`: a step-size hint for `simulate_sde`.
    - `citation`: where the equation and its parameter values come from.
    """

    dt: eqx.AbstractClassVar[float]
    citation: eqx.AbstractClassVar[str]

    @property
    @abc.abstractmethod
    def dimension(self) -> int:
        """The state dimension `d`."""

    @property
    def noise_shape(self) -> tuple[int, ...]:
        """The shape of the Brownian motion W: `(d,)` for diagonal noise."""
        return (self.dimension,)

    @abc.abstractmethod
    def drift(self, t: Float[Array, ""], y: Float[Array, " d"]) -> Float[Array, " d"]:
        """The drift f(t, y), shape `(d,)`."""

    @abc.abstractmethod
    def diffusion(self, t: Float[Array, ""], y: Float[Array, " d"]) -> Float[Array, " d *m"]:
        """The diffusion g(t, y): shape `(d,)` (diagonal noise) or `(d, m)`."""

    @abc.abstractmethod
    def initial_state(self, dtype=None) -> Float[Array, " d"]:
        """A default initial state, shape `(d,)`, of `dtype` (default: JAX's float)."""


def check_state(fn: str, system, y0) -> Array:
    """`y0` as a real floating array of shape `(system.dimension,)` (integer arrays are
    promoted). **Raises:** `TypeError` for a non-real array, `ValueError` for a wrong
    shape."""
    y0 = as_float_array(fn, "y0", y0)
    d = system.dimension
    check_shape(fn, "y0", y0, (d,), want=f"({d},) for {type(system).__name__}")
    return y0


def array_parameters(system):
    """`system` with its Python-number fields as (weakly typed) arrays, so that new
    parameter values reuse a `filter_jit` compilation (it treats Python numbers as static).
    Static fields (sizes, delays) are not leaves and stay as they are."""
    return jax.tree_util.tree_map(
        lambda x: jnp.asarray(x) if isinstance(x, (int, float)) and not isinstance(x, bool)
        else x, system)


def concrete_times(fn: str, ts) -> np.ndarray:
    """`ts` as a NumPy array of real numbers, known now: a fixed-step solver's number of
    steps depends on its values.

    **Raises:** `ValueError` for a traced `ts` (under `jit`/`vmap`), `TypeError` for a
    non-real one.
    """
    values = concrete_values(ts)
    if values is None:
        raise ValueError(message(fn, "ts", "concrete, not traced (its values fix the number of "
                                 "steps); close over it instead of passing it through jit or "
                                 "vmap", f"a tracer of shape {jnp.shape(ts)}"))
    if not (np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)):
        raise TypeError(message(fn, "ts", "a real array (floating or integer dtype)",
                                f"dtype {values.dtype}"))
    return values
