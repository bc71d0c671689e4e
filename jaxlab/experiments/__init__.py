"""Registered reproductions of the papers' headline findings, one file each.

Every public module in this package defines `EXPERIMENT = Experiment(...)`; the registry
finds them by name. Listing reads those statements from the sources without importing the
modules (so `jaxlab list` stays fast); `get(name)` imports one, with its ordinary top-level
imports.
"""

from ._base import Config as Config
from ._base import ConfigError as ConfigError
from ._base import Experiment as Experiment
from ._base import Reference as Reference
from ._base import Result as Result
from ._registry import ExperimentInfo as ExperimentInfo
from ._registry import UnknownExperimentError as UnknownExperimentError
from ._registry import all_experiments as all_experiments
from ._registry import get as get
from ._registry import names as names
from ._runner import run_experiment as run_experiment
from ._runner import run_many as run_many

__all__ = [
    "Config", "ConfigError", "Experiment", "ExperimentInfo", "Reference", "Result",
    "UnknownExperimentError",
    "all_experiments", "get", "names", "run_experiment", "run_many",
]
