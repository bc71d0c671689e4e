"""The registry of experiments: one module a reproduction, found by name.

Listing reads each module's `EXPERIMENT = Experiment(...)` statement from its source (the
literal keyword arguments: name, paper, subpackage, tags, quick runtime, description), so
`jaxlab list` imports no experiment and none of jax, diffrax or matplotlib; an experiment
module is imported, with its ordinary top-level imports, only when `get(name)` asks for it.
"""

import ast
import dataclasses
import importlib
import pathlib
from functools import cache

from ._base import Experiment, unknown_name_message

_PACKAGE = pathlib.Path(__file__).parent
_LISTED = ("name", "paper", "subpackage", "tags", "quick_runtime_s", "description")


class UnknownExperimentError(KeyError):
    """An experiment name that is not registered; the message suggests the closest names."""

    def __str__(self) -> str:
        return self.args[0]


@dataclasses.dataclass(frozen=True)
class ExperimentInfo:
    """What `jaxlab list` shows of an experiment, read without importing it.

    **Fields:** `name`, `paper`, `subpackage`, `tags`, `quick_runtime_s`, `description` (as
    in `Experiment`), and `module` (the module's name in `jaxlab.experiments`).
    """

    name: str
    paper: str
    subpackage: str
    module: str
    tags: tuple[str, ...] = ()
    quick_runtime_s: float | None = None
    description: str = ""


def _literal(node: ast.expr, constants: dict[str, object], where: str):
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise TypeError(f"{where}: EXPERIMENT's listed fields ({', '.join(_LISTED)}) must be "
                        f"literals or module-level string constants, got "
                        f"{ast.unparse(node)!r}") from None


def _constants(tree: ast.Module) -> dict[str, object]:
    """The module-level names bound to literals (also those imported from a sibling
    experiment module, `from .distdp_cvar import PAPER`)."""
    constants: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            sibling = _PACKAGE / f"{node.module}.py"
            if sibling.exists():
                theirs = _constants(ast.parse(sibling.read_text(encoding="utf-8")))
                constants.update({a.asname or a.name: theirs[a.name] for a in node.names
                                  if a.name in theirs})
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name)):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return constants


def _read_info(path: pathlib.Path) -> ExperimentInfo:
    """The listed fields of `EXPERIMENT = Experiment(...)` in the module at `path`."""
    where = f"jaxlab.experiments.{path.stem}"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    constants = _constants(tree)
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            continue
        if node.targets[0].id == "EXPERIMENT" and isinstance(node.value, ast.Call):
            fields = {kw.arg: _literal(kw.value, constants, where)
                      for kw in node.value.keywords if kw.arg in _LISTED}
            return ExperimentInfo(module=path.stem, **fields)
    raise TypeError(f"{where}: defines no EXPERIMENT = Experiment(...), got a module without "
                    "one")


@cache
def _discover() -> dict[str, ExperimentInfo]:
    found: dict[str, ExperimentInfo] = {}
    for path in sorted(_PACKAGE.glob("[a-z]*.py")):
        info = _read_info(path)
        if info.name in found:
            raise ValueError(f"experiments: names must be unique, got {info.name!r} twice "
                             f"({found[info.name].module} and {info.module})")
        found[info.name] = info
    return found


def names(*, tag: str | None = None) -> list[str]:
    """The registered experiment names, sorted; only those carrying `tag` if given."""
    return sorted(n for n, e in _discover().items() if tag is None or tag in e.tags)


def all_experiments() -> list[ExperimentInfo]:
    """What is registered, as `ExperimentInfo`s sorted by name (no experiment is imported)."""
    return [_discover()[n] for n in names()]


@cache
def get(name: str) -> Experiment:
    """The `Experiment` called `name` (its module is imported now).

    **Raises:** `UnknownExperimentError` (a `KeyError`) naming the closest registered names.
    """
    registry = _discover()
    if name not in registry:
        raise UnknownExperimentError(unknown_name_message("unknown experiment", name,
                                                          list(registry)))
    info = registry[name]
    module = importlib.import_module(f"jaxlab.experiments.{info.module}")
    experiment = getattr(module, "EXPERIMENT", None)
    if not isinstance(experiment, Experiment) or experiment.name != name:
        raise TypeError(f"get: jaxlab.experiments.{info.module}.EXPERIMENT must be the "
                        f"Experiment named {name!r}, got {experiment!r}")
    return experiment
