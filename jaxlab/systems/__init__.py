"""Dynamical systems: the dysts catalogue of flows, maps and delay equations, SDEs,
integration and simulation, and invariants.

Every ODE system of the catalogue is importable from here and from `jaxlab.systems.flows`
by its dysts name (`jaxlab.systems.Lorenz`), and so are the six delay systems
(`MackeyGlass`, ...); maps live in `jaxlab.systems.maps` (`Henon` and `Logistic` also
here). `names()` and `get()` look systems up by name. `integrate` solves a flow (or any
vector field f(t, y)), `integrate_delay` a delay equation, `iterate` a map and
`simulate_sde` an SDE (`TimeDependentOU`, `OpinionDynamics` or your own `AbstractSDE`);
`lyapunov_spectrum` estimates the exponents of any of the first three kinds, and
`lyapunov_ensemble` does so for a batch of initial states across devices.

**References:** Gilpin, *Chaos as an interpretable benchmark for forecasting and data-driven
modelling* (NeurIPS Datasets and Benchmarks, 2021).
"""

from . import flows as flows
from . import maps as maps
from ._base import AbstractDelay as AbstractDelay
from ._base import AbstractFlow as AbstractFlow
from ._base import AbstractMap as AbstractMap
from ._base import AbstractSDE as AbstractSDE
from ._base import AbstractSystem as AbstractSystem
from ._catalogue import get as get
from ._catalogue import kind_of as kind_of
from ._catalogue import names as names
from ._catalogue_invariants import CatalogueInvariants as CatalogueInvariants
from ._catalogue_invariants import catalogue_invariants as catalogue_invariants
from ._catalogue_invariants import compare_with_dysts as compare_with_dysts
from ._catalogue_invariants import dysts_metadata as dysts_metadata
from ._dde import integrate_delay as integrate_delay
from ._delay_systems import IkedaDelay as IkedaDelay
from ._delay_systems import MackeyGlass as MackeyGlass
from ._delay_systems import PiecewiseCircuit as PiecewiseCircuit
from ._delay_systems import ScrollDelay as ScrollDelay
from ._delay_systems import SprottDelay as SprottDelay
from ._delay_systems import VossDelay as VossDelay
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
from ._ensemble import lyapunov_ensemble as lyapunov_ensemble
from ._integrate import integrate as integrate
from ._integrate import iterate as iterate
from ._invariants import CorrelationDimensionResult as CorrelationDimensionResult
from ._invariants import correlation_dimension as correlation_dimension
from ._invariants import dominant_period as dominant_period
from ._invariants import lyapunov_time as lyapunov_time
from ._invariants import max_lyapunov as max_lyapunov
from ._lyapunov import kaplan_yorke_dimension as kaplan_yorke_dimension
from ._lyapunov import lyapunov_spectrum as lyapunov_spectrum
from ._results import LyapunovResult as LyapunovResult
from ._results import Trajectory as Trajectory
from ._sde import simulate_sde as simulate_sde
from ._sde_systems import OpinionDynamics as OpinionDynamics
from ._sde_systems import TimeDependentOU as TimeDependentOU
from ._trajectory import trajectory as trajectory
from .flows import *  # noqa: F403  (every flow, by its dysts name)
from .maps import Henon as Henon
from .maps import Logistic as Logistic

__all__ = [
    "AbstractDelay",
    "AbstractFlow",
    "AbstractMap",
    "AbstractSDE",
    "AbstractSystem",
    "CaoResult",
    "CatalogueInvariants",
    "CorrelationDimensionResult",
    "FNNResult",
    "Henon",
    "IkedaDelay",
    "LagResult",
    "Logistic",
    "LyapunovResult",
    "MackeyGlass",
    "OpinionDynamics",
    "PiecewiseCircuit",
    "ScrollDelay",
    "SprottDelay",
    "TimeDependentOU",
    "Trajectory",
    "VossDelay",
    "ami_lag",
    "autocorrelation",
    "autocorrelation_lag",
    "average_mutual_information",
    "cao_embedding_dimension",
    "catalogue_invariants",
    "compare_with_dysts",
    "correlation_dimension",
    "delay_embed",
    "dominant_period",
    "dysts_metadata",
    "false_nearest_neighbours",
    "flows",
    "get",
    "integrate",
    "integrate_delay",
    "iterate",
    "kaplan_yorke_dimension",
    "kind_of",
    "lyapunov_ensemble",
    "lyapunov_spectrum",
    "lyapunov_time",
    "maps",
    "max_lyapunov",
    "names",
    "simulate_sde",
    "trajectory",
    *flows.__all__,
]
