"""Static argument checks shared by the layers."""

import jax.numpy as jnp


def check_positive_int(owner: str, **values):
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{owner}: {name} must be an int >= 1, got {value!r}")


def check_last_dim(owner: str, x, d_model: int):
    if jnp.ndim(x) < 2 or jnp.shape(x)[-1] != d_model:
        raise ValueError(f"{owner}: x must have shape (..., L, d_model) = (..., L, {d_model}), "
                         f"got {tuple(jnp.shape(x))}")
