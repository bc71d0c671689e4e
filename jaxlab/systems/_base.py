import abc
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float


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
