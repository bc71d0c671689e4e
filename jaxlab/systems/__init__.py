"""Dynamical systems: the dysts catalogue of flows and maps, integration and invariants.

Every ODE system of the catalogue is importable from here and from `jaxlab.systems.flows`
by its dysts name (`jaxlab.systems.Lorenz`), and so are the six delay systems
(`MackeyGlass`, ...); maps live in `jaxlab.systems.maps` (`Henon` and `Logistic` also
here). `names()` and `get()` look systems up by name.

**References:** Gilpin, *Chaos as an interpretable benchmark for forecasting and data-driven
modelling* (NeurIPS Datasets and Benchmarks, 2021).
"""

from . import flows as flows
from . import maps as maps
from ._base import AbstractDelay as AbstractDelay
from ._base import AbstractFlow as AbstractFlow
from ._base import AbstractMap as AbstractMap
from ._base import AbstractSystem as AbstractSystem
from ._catalogue import get as get
from ._catalogue import names as names
from ._delay import IkedaDelay as IkedaDelay
from ._delay import MackeyGlass as MackeyGlass
from ._delay import PiecewiseCircuit as PiecewiseCircuit
from ._delay import ScrollDelay as ScrollDelay
from ._delay import SprottDelay as SprottDelay
from ._delay import VossDelay as VossDelay
from ._delay import delay_lyapunov_spectrum as delay_lyapunov_spectrum
from ._delay import integrate_delay as integrate_delay
from ._embedding import CaoResult as CaoResult
from ._embedding import FNNResult as FNNResult
from ._embedding import LagResult as LagResult
from ._embedding import ami_lag as ami_lag
from ._embedding import autocorrelation as autocorrelation
from ._embedding import autocorrelation_lag as autocorrelation_lag
from ._embedding import average_mutual_information as average_mutual_information
from ._embedding import cao_embedding_dimension as cao_embedding_dimension
from ._embedding import delay_embed as delay_embed
from ._embedding import false_nearest_neighbours as false_nearest_neighbours
from ._integrate import Trajectory as Trajectory
from ._integrate import integrate as integrate
from ._integrate import iterate as iterate
from ._integrate import trajectory as trajectory
from ._invariants import CorrelationDimensionResult as CorrelationDimensionResult
from ._invariants import correlation_dimension as correlation_dimension
from ._invariants import dominant_period as dominant_period
from ._invariants import lyapunov_time as lyapunov_time
from ._invariants import max_lyapunov as max_lyapunov
from ._lyapunov import LyapunovResult as LyapunovResult
from ._lyapunov import kaplan_yorke_dimension as kaplan_yorke_dimension
from ._lyapunov import lyapunov_spectrum as lyapunov_spectrum
from .flows import *  # noqa: F403  (every flow, by its dysts name)
from .maps import Henon as Henon
from .maps import Logistic as Logistic

__all__ = [
    "AbstractDelay",
    "AbstractFlow",
    "AbstractMap",
    "AbstractSystem",
    "CaoResult",
    "CorrelationDimensionResult",
    "IkedaDelay",
    "MackeyGlass",
    "PiecewiseCircuit",
    "ScrollDelay",
    "SprottDelay",
    "VossDelay",
    "correlation_dimension",
    "delay_lyapunov_spectrum",
    "dominant_period",
    "integrate_delay",
    "lyapunov_time",
    "max_lyapunov",
    "FNNResult",
    "LagResult",
    "ami_lag",
    "autocorrelation",
    "autocorrelation_lag",
    "average_mutual_information",
    "cao_embedding_dimension",
    "delay_embed",
    "false_nearest_neighbours",
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
