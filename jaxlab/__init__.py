"""jaxlab: a JAX toolkit for learning, simulating and analysing dynamics and distributions.

Subpackages are imported lazily, so ``import jaxlab`` stays fast and pulls in none of
diffrax, optax, numpyro or matplotlib until a subpackage that needs them is touched::

    import jaxlab
    jaxlab.systems.lyapunov_spectrum   # imports jaxlab.systems (and diffrax) here

`jaxlab.RESULTS` is the status enumeration that every estimator and solver returns in its
result's `status` field (see CONTRIBUTING.md).
"""

import importlib
from typing import TYPE_CHECKING

_SUBPACKAGES = ("de", "distrl", "experiments", "generative", "kde", "kernels", "koopman",
                "metrics", "nn", "parallel", "systems", "train")

__all__ = ["RESULTS", "__version__", *_SUBPACKAGES]

if TYPE_CHECKING:
    from . import de as de
    from . import distrl as distrl
    from . import experiments as experiments
    from . import generative as generative
    from . import kde as kde
    from . import kernels as kernels
    from . import koopman as koopman
    from . import metrics as metrics
    from . import nn as nn
    from . import parallel as parallel
    from . import systems as systems
    from . import train as train
    from ._core.results import RESULTS as RESULTS


def _version() -> str:
    # importlib.metadata costs ~80 ms to import: read the version only when asked.
    import importlib.metadata

    try:
        return importlib.metadata.version("jaxlab")
    except importlib.metadata.PackageNotFoundError:  # a source tree that is not installed
        return "0.0.0+unknown"


def __getattr__(name: str):
    if name == "__version__":
        globals()["__version__"] = version = _version()
        return version
    if name == "RESULTS":  # the status enumeration of every estimator and solver
        from ._core.results import RESULTS

        globals()["RESULTS"] = RESULTS
        return RESULTS
    if name in _SUBPACKAGES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'jaxlab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"RESULTS", "__version__", *_SUBPACKAGES})
