"""Pairwise squared Euclidean distances, the kernel of every distance-based method."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

__all__ = ["median_distance", "squared_distances"]


def squared_distances(x: Float[Array, "*batch d"], y: Float[Array, "m d"], *,
                      by_differences: bool = False) -> Float[Array, "*batch m"]:
    """|x − yⱼ|² for every query `x[..., :]` and point `y[j]`, shape `(*batch, m)`.

    By default computed as |x|² + |y|² − 2 x·y (one matrix product, full precision), clipped
    at 0 against rounding: fast, O(batch·m) memory, but with an absolute error of a few ulps
    of |x|² near 0, so r = √(…) is off by ~√eps·|x| for nearby points. With
    `by_differences=True`, Σ (xᵢ − yⱼ)² from the coordinate differences: exact (0 for equal
    points, with gradient 0 there), O(batch·m·d) memory — what functions of r itself
    (exp(−r/ℓ), r^p costs) need. Inputs are validated by the callers; the dtype is their
    promotion.
    """
    dtype = jnp.result_type(x, y)
    x, y = x.astype(dtype), y.astype(dtype)
    if by_differences:
        return jnp.sum((x[..., None, :] - y) ** 2, axis=-1)
    cross = jnp.einsum("...d,md->...m", x, y, precision=jax.lax.Precision.HIGHEST)
    sq = jnp.sum(x * x, axis=-1)[..., None] + jnp.sum(y * y, axis=-1) - 2.0 * cross
    return jnp.maximum(sq, 0.0)


def median_distance(z: Float[Array, "n d"]) -> Float[Array, ""]:
    """The median of the Euclidean distances |zᵢ − zⱼ| over the pairs i < j (the median
    heuristic for a kernel's bandwidth or lengthscale); `z` has n ≥ 2 rows."""
    i, j = jnp.triu_indices(z.shape[0], 1)
    return jnp.median(jnp.sqrt(squared_distances(z, z)[i, j]))
