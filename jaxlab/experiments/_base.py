import dataclasses
import difflib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar


class ConfigError(ValueError):
    """A bad experiment configuration: names the field, the value given and what is wanted."""


@dataclasses.dataclass(frozen=True)
class Config:
    """Base class of experiment configurations: a frozen dataclass, validated on creation.

    The field defaults are the full-size run; `quick()` returns the CPU-sized variant that
    `--quick` and the demo use. Subclasses implement `validate()` and raise `ConfigError`
    through `self.require(...)`.
    """

    QUICK: ClassVar[Mapping[str, Any]] = {}

    def __post_init__(self):
        for field in dataclasses.fields(self):
            _check_type(type(self).__name__, field.name, getattr(self, field.name),
                        _field_type(type(self), field))
        self.validate()

    def validate(self) -> None:
        """Check field values; subclasses override and call `self.require`."""

    def require(self, condition: bool, field: str, want: str) -> None:
        """Raise `ConfigError` naming `field`, its value and `want` unless `condition`."""
        if not condition:
            raise ConfigError(f"{type(self).__name__}.{field} must be {want}, "
                              f"got {getattr(self, field)!r}")

    @classmethod
    def quick(cls, **overrides) -> "Config":
        """The quick (CPU-sized) configuration, with `overrides` applied."""
        return cls(**{**cls.QUICK, **overrides})

    def replace(self, **overrides) -> "Config":
        """A copy with fields replaced (validated again); unknown names raise `ConfigError`."""
        names = [f.name for f in dataclasses.fields(self)]
        for name in overrides:
            if name not in names:
                raise ConfigError(unknown_name_message(f"{type(self).__name__} has no field",
                                                       name, names))
        return dataclasses.replace(self, **overrides)

    def with_overrides(self, assignments: Sequence[str]) -> "Config":
        """Apply `field=value` strings (as given to `--set`), parsing values by field type."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        parsed = {}
        for item in assignments:
            name, sep, text = item.partition("=")
            name = name.strip()
            if not sep or not name:
                raise ConfigError(f"--set expects field=value, got {item!r}")
            if name not in fields:
                raise ConfigError(unknown_name_message(f"{type(self).__name__} has no field",
                                                       name, list(fields)))
            parsed[name] = _parse(name, text.strip(), _field_type(type(self), fields[name]))
        return self.replace(**parsed)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def unknown_name_message(prefix: str, name: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"{prefix} {name!r}{hint} (choices: {', '.join(sorted(choices))})"


def _field_type(cls, field):
    return typing.get_type_hints(cls).get(field.name, field.type)


def _check_type(owner: str, name: str, value: Any, tp: Any) -> None:
    origin = typing.get_origin(tp)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return
    if tp in (int, float, str, bool):
        if isinstance(value, tp) and not (tp is int and isinstance(value, bool)):
            return
        raise ConfigError(f"{owner}.{name} must be {tp.__name__}, got {value!r}")
    if origin is tuple and isinstance(value, tuple):
        return
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            try:
                if arg is type(None):
                    if value is None:
                        return
                    continue
                _check_type(owner, name, value, arg)
                return
            except ConfigError:
                continue
        raise ConfigError(f"{owner}.{name} must be {tp}, got {value!r}")


def _parse(name: str, text: str, tp: Any) -> Any:
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        if text.lower() == "none" and type(None) in args:
            return None
        tp = next(a for a in args if a is not type(None))
        args = typing.get_args(tp)
    try:
        if tp is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if tp is int:
            return int(text)
        if tp is float:
            return float(text)
        if typing.get_origin(tp) is tuple:
            inner = args[0] if args else str
            return tuple(_parse(name, part.strip(), inner) for part in text.split(",") if part)
        return text
    except (ValueError, StopIteration):
        want = getattr(tp, "__name__", str(tp))
        raise ConfigError(f"--set {name}: cannot read {text!r} as {want}") from None


@dataclasses.dataclass(frozen=True)
class Reference:
    """A published value to compare a metric with."""

    value: Any
    source: str
    note: str = ""


@dataclasses.dataclass
class Result:
    """What an experiment returns.

    **Fields:**

    - `metrics`: JSON-serialisable numbers (or lists of numbers), by name.
    - `figures`: `matplotlib.figure.Figure` objects, by file stem.
    - `references`: the paper's values for some metrics, by metric name.
    - `summary`: a few sentences of Markdown: what was run and what it shows.
    - `artifacts`: text files (tables, JSON) by file name, written beside the metrics.
    """

    metrics: dict[str, Any]
    figures: dict[str, Any] = dataclasses.field(default_factory=dict)
    references: dict[str, Reference] = dataclasses.field(default_factory=dict)
    summary: str = ""
    artifacts: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A registered reproduction.

    **Fields:**

    - `name`: the CLI name, e.g. `"lorenz-lyapunov"`.
    - `paper`: the paper (or textbook result) it reproduces.
    - `subpackage`: the jaxlab subpackage it exercises.
    - `config`: the `Config` subclass (full-size defaults, `quick()` for CPU size).
    - `run`: `run(config, *, key) -> Result`.
    - `tags`: e.g. `("demo",)` for the curated showcase of `jaxlab repro --demo`.
    - `quick_runtime_s`: measured wall time of the quick run on 2 CPU cores.
    - `description`: one line.
    """

    name: str
    paper: str
    subpackage: str
    config: type[Config]
    run: Callable[..., Result]
    tags: tuple[str, ...] = ()
    quick_runtime_s: float | None = None
    description: str = ""
