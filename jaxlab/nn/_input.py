"""The input rule of the layers: `x` of shape `(..., L, d_model)`, integer values promoted to
the layer's parameter dtype."""

import jax.numpy as jnp

from .._core.checks import as_float_array, shape_str


def layer_input(owner: str, name: str, x, d_model: int, dtype):
    """`x` as a floating array of shape `(..., L, d_model)`; an integer `x` takes `dtype`
    (the layer's parameter dtype, as `x @ W` would promote it).

    **Raises:** `TypeError` for a boolean, complex or non-numeric `x`; `ValueError` for a
    shape other than `(..., L, d_model)`.
    """
    array = as_float_array(owner, name, x)
    if jnp.issubdtype(jnp.result_type(x), jnp.integer):
        array = array.astype(dtype)
    if array.ndim < 2 or array.shape[-1] != d_model:
        raise ValueError(f"{owner}: {name} must have shape (..., L, d_model) = "
                         f"(..., L, {d_model}), got {shape_str(array)}")
    return array
