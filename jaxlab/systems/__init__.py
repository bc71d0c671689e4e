"""Dynamical systems: the dysts catalogue of flows and maps, integration and invariants.

Every ODE system of the catalogue is importable from here and from `jaxlab.systems.flows`
by its dysts name (`jaxlab.systems.Lorenz`); maps live in `jaxlab.systems.maps`
(`Henon` and `Logistic` also here). `names()` and `get()` look systems up by name.

**References:** Gilpin, *Chaos as an interpretable benchmark for forecasting and data-driven
modelling* (NeurIPS Datasets and Benchmarks, 2021).
"""

from . import flows as flows
from . import maps as maps
from ._base import AbstractFlow as AbstractFlow
from ._base import AbstractMap as AbstractMap
from ._base import AbstractSystem as AbstractSystem
from ._catalogue import get as get
from ._catalogue import names as names
from ._integrate import Trajectory as Trajectory
from ._integrate import integrate as integrate
from ._integrate import iterate as iterate
from ._integrate import trajectory as trajectory
from ._lyapunov import LyapunovResult as LyapunovResult
from ._lyapunov import kaplan_yorke_dimension as kaplan_yorke_dimension
from ._lyapunov import lyapunov_spectrum as lyapunov_spectrum
from .flows import *  # noqa: F403  (every flow, by its dysts name)
from .maps import Henon as Henon
from .maps import Logistic as Logistic

__all__ = [
    "AbstractFlow",
    "AbstractMap",
    "AbstractSystem",
    "Henon",
    "Logistic",
    "LyapunovResult",
    "Trajectory",
    "flows",
    "get",
    "integrate",
    "iterate",
    "kaplan_yorke_dimension",
    "lyapunov_spectrum",
    "maps",
    "names",
    "trajectory",
    *flows.__all__,
]
