"""Pairwise squared Euclidean distances, the kernel of every distance-based method."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

__all__ = ["squared_distances"]


def squared_distances(x: Float[Array, "*batch d"], y: Float[Array, "m d"]
                      ) -> Float[Array, "*batch m"]:
    """|xᵢ − yⱼ|² for every query `x[..., i, :]` and point `y[j]`, shape `(*batch, m)`.

    Computed as |x|² + |y|² − 2 x·y (one matrix product, full-precision), clipped at 0
    against rounding. Inputs are validated by the callers; the dtype is their promotion.
    """
    dtype = jnp.result_type(x, y)
    x, y = x.astype(dtype), y.astype(dtype)
    cross = jnp.einsum("...d,md->...m", x, y, precision=jax.lax.Precision.HIGHEST)
    sq = jnp.sum(x * x, axis=-1)[..., None] + jnp.sum(y * y, axis=-1) - 2.0 * cross
    return jnp.maximum(sq, 0.0)
