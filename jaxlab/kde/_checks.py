"""Eager input checks that step aside under tracing."""

import jax
import numpy as np


def concrete_values(x) -> np.ndarray | None:
    """x as a NumPy array when its values are known now (outside tracing), else None: value
    checks (NaN, signs, ranges) run eagerly and are skipped under `jit`/`vmap`/`grad`."""
    if isinstance(x, jax.core.Tracer):
        return None
    try:
        return np.asarray(x)
    except jax.errors.TracerArrayConversionError:
        return None
