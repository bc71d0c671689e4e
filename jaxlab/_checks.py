"""Eager input checks shared by the domain subpackages (lowest layer, imports only jax/numpy)."""

import jax
import jax.numpy as jnp
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


def check_real_floating(name: str, **arrays) -> None:
    """Raise `TypeError` naming the argument if any array given (None entries are skipped)
    is not of a real floating dtype; `name` (the public function) prefixes the message."""
    for arg, value in arrays.items():
        if value is None:
            continue
        dtype = jnp.result_type(value)
        if jnp.issubdtype(dtype, jnp.complexfloating):
            raise TypeError(f"{name}: {arg} must be real (complex inputs are not supported), "
                            f"got dtype {dtype}")
        if not jnp.issubdtype(dtype, jnp.floating):
            raise TypeError(f"{name}: {arg} must have a floating dtype, got {dtype}")
