"""Eager input checks that step aside under tracing."""

import jax
import numpy as np


def concrete(x) -> np.ndarray | None:
    """`x` as a NumPy array when its values are known now (outside tracing), else None.

    Value checks (NaN, signs, sums) run eagerly and are skipped under `jit`/`vmap`/`grad`;
    shape checks always run.
    """
    if isinstance(x, jax.core.Tracer):
        return None
    try:
        return np.asarray(x)
    except jax.errors.TracerArrayConversionError:
        return None


def shape_str(x) -> str:
    return str(tuple(np.shape(x)))
