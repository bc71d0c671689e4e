"""Samples and point clouds as the distances take them: the argument checks they share, the
weights of an empirical measure, and pairwise costs from coordinate differences."""

import jax.numpy as jnp
from jaxtyping import Array, Float

from .._core.checks import (
    as_float_array,
    common_float_dtype,
    message,
    shape_str,
)
from .._core.distances import squared_distances


def as_samples(fn: str, name: str, x, *, ndim=(1, 2)) -> Array:
    """`x` as a non-empty float array of samples (integer input promoted), one sample a
    row."""
    x = as_float_array(fn, name, x, ndim=ndim)
    if x.shape[0] == 0:
        raise ValueError(message(fn, name, "a non-empty array of samples",
                                 f"shape {shape_str(x)}"))
    return x


def as_clouds(fn: str, x, y, names: tuple[str, str] = ("x", "y")
              ) -> tuple[Float[Array, "n d"], Float[Array, "m d"]]:
    """Two point clouds `(n, d)` and `(m, d)` of one floating dtype (a 1-D array is n points
    on the line, shape `(n, 1)`).

    **Raises:** `TypeError` for non-real input; `ValueError` for an empty cloud, more than two
    dimensions or different numbers of coordinates.
    """
    x = as_samples(fn, names[0], x)
    y = as_samples(fn, names[1], y)
    x = x[:, None] if x.ndim == 1 else x
    y = y[:, None] if y.ndim == 1 else y
    if x.shape[1] != y.shape[1]:
        raise ValueError(message(fn, f"{names[0]} and {names[1]}",
                                 "points with the same number of coordinates",
                                 f"shapes {shape_str(x)} and {shape_str(y)}"))
    dtype = common_float_dtype(x, y)
    return x.astype(dtype), y.astype(dtype)


def normalise(w: Float[Array, " n"]) -> Float[Array, " n"]:
    """`w / Σ w`: probability weights."""
    return w / jnp.sum(w)


def pairwise_cost(x: Float[Array, "n d"], y: Float[Array, "m d"], order: float
                  ) -> Float[Array, "n m"]:
    """|xᵢ − yⱼ|^order (Euclidean norm), shape `(n, m)`, from coordinate differences: exactly
    0 for equal points (the |x|² + |y|² − 2x·y expansion leaves rounding there, which a
    square root would blow up to ~1e-8), with gradient 0 there."""
    d2 = squared_distances(x, y, by_differences=True)
    if order == 2.0:
        return d2
    positive = d2 > 0
    return jnp.where(positive, jnp.where(positive, d2, 1.0) ** (order / 2), 0.0)
