"""jaxlab: a JAX toolkit for learning, simulating and analysing dynamics and distributions.

Subpackages are imported lazily, so ``import jaxlab`` stays fast and pulls in none of
diffrax, optax, numpyro or matplotlib until a subpackage that needs them is touched::

    import jaxlab
    jaxlab.systems.lyapunov_spectrum   # imports jaxlab.systems (and diffrax) here
"""

import importlib
import importlib.metadata
from typing import TYPE_CHECKING

try:
    __version__ = importlib.metadata.version("jaxlab")
except importlib.metadata.PackageNotFoundError:  # running from a source tree, not installed
    __version__ = "0.0.0+unknown"

_SUBPACKAGES = ("experiments", "parallel", "systems", "train")

__all__ = ["__version__", *_SUBPACKAGES]

if TYPE_CHECKING:
    from . import experiments as experiments
    from . import parallel as parallel
    from . import systems as systems
    from . import train as train


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'jaxlab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBPACKAGES))
