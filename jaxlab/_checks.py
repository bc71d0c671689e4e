"""Eager input checks shared by the domain subpackages (lowest layer, imports only jax/numpy)."""

import jax
import numpy as np


def concrete_values(x) -> np.ndarray | None:
    """x as a NumPy array when its values are known now (outside tracing), else None: value
    checks (NaN, signs, ranges, sums) run eagerly and are skipped under `jit`/`vmap`/`grad`;
    shape checks always run."""
    if isinstance(x, jax.core.Tracer):
        return None
    try:
        return np.asarray(x)
    except jax.errors.TracerArrayConversionError:
        return None


def shape_str(x) -> str:
    """The shape of `x` as a tuple string, for error messages."""
    return str(tuple(np.shape(x)))
