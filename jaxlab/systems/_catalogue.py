"""The registry of the catalogue: every system by its dysts name."""

import difflib
import inspect

from .._core.checks import check_choice, check_instance, message
from . import _delay_systems, _flows, _maps
from ._base import AbstractDelay, AbstractFlow, AbstractMap, AbstractSystem

__all__ = ["DELAYS", "FLOWS", "MAPS", "get", "kind_of", "names"]


def _classes(module, base) -> dict[str, type[AbstractSystem]]:
    return {name: cls for name, cls in vars(module).items()
            if inspect.isclass(cls) and issubclass(cls, base) and cls is not base
            and cls.__module__ == module.__name__}


FLOWS = _classes(_flows, AbstractFlow)
MAPS = _classes(_maps, AbstractMap)
DELAYS = _classes(_delay_systems, AbstractDelay)
_BY_KIND: dict[str, dict[str, type[AbstractSystem]]] = {"flow": FLOWS, "delay": DELAYS,
                                                        "map": MAPS}


_KIND_ORDER = ("flow", "delay", "map")


def names(kind: str | None = None) -> list[str]:
    """The catalogue's system names (dysts's names), sorted, optionally of one `kind`.

    **Arguments:**

    - `kind`: `None` (all kinds), `"flow"` (ODEs), `"delay"` (delay equations) or `"map"`.

    **Returns:** a sorted list of names, usable with `get`. A name can appear under two
    kinds (dysts has both a `Duffing` flow and a `Duffing` map).

    **Raises:** `ValueError` for an unknown `kind`.
    """
    check_choice("names", "kind", kind, (None, *_KIND_ORDER))
    kinds = _BY_KIND if kind is None else {kind: _BY_KIND[kind]}
    return sorted({n for registry in kinds.values() for n in registry})


def get(name: str, *, kind: str | None = None, **params) -> AbstractSystem:
    """Build the catalogue system called `name`, overriding any of its parameters.

    **Arguments:**

    - `name`: a name from `names()`, e.g. `"Lorenz"`.
    - `kind`: `"flow"`, `"delay"` or `"map"`; needed only where a name has two kinds
      (`get("Duffing")` is the flow, `get("Duffing", kind="map")` the map).
    - `**params`: parameter overrides, e.g. `rho=35.0`.

    **Returns:** the system instance.

    **Raises:** `TypeError` if `name` is not a string; `ValueError` for an unknown name,
    kind or parameter (with the closest matches).
    """
    check_instance("get", "name", name, str, "a system name (a str)")
    check_choice("get", "kind", kind, (None, *_KIND_ORDER))
    kinds = _KIND_ORDER if kind is None else (kind,)
    cls = next((_BY_KIND[k][name] for k in kinds if name in _BY_KIND[k]), None)
    if cls is None:
        known = names(kind)
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        want = "a name from jaxlab.systems.names(" + ("" if kind is None else repr(kind)) + ")"
        raise ValueError(message("get", "name", want, f"{name!r}{hint}"))
    allowed = list(inspect.signature(cls).parameters)
    unknown = [p for p in params if p not in allowed]
    if unknown:
        raise ValueError(message("get", "params", f"parameters of {name}, {allowed}",
                                 f"{unknown}"))
    return cls(**params)


def kind_of(name: str) -> str:
    """The kind of the catalogue system called `name`: `"flow"`, `"delay"` or `"map"` (the
    flow where a name has two kinds, as `get` does).

    **Raises:** `TypeError` if `name` is not a string; `ValueError` for an unknown name.
    """
    check_instance("kind_of", "name", name, str, "a system name (a str)")
    kind = next((k for k in _KIND_ORDER if name in _BY_KIND[k]), None)
    if kind is None:
        close = difflib.get_close_matches(name, names(), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(message("kind_of", "name", "a name from jaxlab.systems.names()",
                                 f"{name!r}{hint}"))
    return kind
