import importlib
import pkgutil
from functools import cache

from ._base import Experiment, unknown_name_message


class UnknownExperimentError(KeyError):
    """An experiment name that is not registered; the message suggests the closest names."""

    def __str__(self) -> str:
        return self.args[0]


@cache
def _discover() -> dict[str, Experiment]:
    found: dict[str, Experiment] = {}
    for info in pkgutil.iter_modules(_package_path()):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"jaxlab.experiments.{info.name}")
        experiment = getattr(module, "EXPERIMENT", None)
        if not isinstance(experiment, Experiment):
            raise TypeError(f"jaxlab.experiments.{info.name} defines no EXPERIMENT")
        if experiment.name in found:
            raise ValueError(f"two experiments are named {experiment.name!r}")
        found[experiment.name] = experiment
    return found


def _package_path():
    import jaxlab.experiments

    return jaxlab.experiments.__path__


def names(*, tag: str | None = None) -> list[str]:
    """The registered experiment names, sorted; only those carrying `tag` if given."""
    return sorted(n for n, e in _discover().items() if tag is None or tag in e.tags)


def all_experiments() -> list[Experiment]:
    """Every registered `Experiment`, sorted by name."""
    return [_discover()[n] for n in names()]


def get(name: str) -> Experiment:
    """The `Experiment` called `name`.

    **Raises:** `UnknownExperimentError` (a `KeyError`) naming the closest registered names.
    """
    registry = _discover()
    if name not in registry:
        raise UnknownExperimentError(unknown_name_message("unknown experiment", name,
                                                          list(registry)))
    return registry[name]
