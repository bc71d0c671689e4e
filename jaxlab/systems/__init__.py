"""Dynamical systems: a catalogue of flows and maps, integration and invariants.

**References:** Gilpin, *Chaos as an interpretable benchmark for forecasting and data-driven
modelling* (NeurIPS Datasets and Benchmarks, 2021).
"""

from ._base import AbstractFlow as AbstractFlow
from ._base import AbstractMap as AbstractMap
from ._base import AbstractSystem as AbstractSystem
from ._catalogue import Henon as Henon
from ._catalogue import Logistic as Logistic
from ._catalogue import Lorenz as Lorenz
from ._catalogue import Rossler as Rossler
from ._catalogue import get as get
from ._catalogue import names as names
from ._integrate import Trajectory as Trajectory
from ._integrate import integrate as integrate
from ._integrate import iterate as iterate
from ._lyapunov import LyapunovResult as LyapunovResult
from ._lyapunov import kaplan_yorke_dimension as kaplan_yorke_dimension
from ._lyapunov import lyapunov_spectrum as lyapunov_spectrum

__all__ = [
    "AbstractFlow",
    "AbstractMap",
    "AbstractSystem",
    "Henon",
    "Logistic",
    "Lorenz",
    "LyapunovResult",
    "Rossler",
    "Trajectory",
    "get",
    "integrate",
    "iterate",
    "kaplan_yorke_dimension",
    "lyapunov_spectrum",
    "names",
]
