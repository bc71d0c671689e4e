"""The registry of the catalogue: every system by its dysts name."""

import difflib
import inspect

from . import _delay, _flows, _maps
from ._base import AbstractDelay, AbstractFlow, AbstractMap, AbstractSystem


def _classes(module, base) -> dict[str, type[AbstractSystem]]:
    return {name: cls for name, cls in vars(module).items()
            if inspect.isclass(cls) and issubclass(cls, base) and cls is not base
            and cls.__module__ == module.__name__}


FLOWS = _classes(_flows, AbstractFlow)
MAPS = _classes(_maps, AbstractMap)
DELAYS = _classes(_delay, AbstractDelay)
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
    if kind is not None and kind not in _BY_KIND:
        raise ValueError(f"names: kind must be None or one of {sorted(_BY_KIND)}, got {kind!r}")
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

    **Raises:** `ValueError` for an unknown name, kind or parameter (with the closest
    matches).
    """
    if kind is not None and kind not in _BY_KIND:
        raise ValueError(f"get: kind must be None or one of {sorted(_BY_KIND)}, got {kind!r}")
    kinds = _KIND_ORDER if kind is None else (kind,)
    cls = next((_BY_KIND[k][name] for k in kinds if k in _BY_KIND and name in _BY_KIND[k]), None)
    if cls is None:
        known = names(kind)
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        where = "" if kind is None else f" of kind {kind!r}"
        raise ValueError(f"get: unknown system {name!r}{where}{hint} (see "
                         "jaxlab.systems.names())")
    allowed = list(inspect.signature(cls).parameters)
    unknown = [p for p in params if p not in allowed]
    if unknown:
        raise ValueError(f"get: {name} has no parameter(s) {unknown}; its parameters are "
                         f"{allowed}")
    return cls(**params)
