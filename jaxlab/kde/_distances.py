"""Squared distances between queries and data, sampled or computed, and the Gaussian kernel
terms built from them (the inputs of `kernel_sum_diagnostics`).

**References:** Biroli & Mézard, *Kernel Density Estimators in Large Dimensions* (2024).
"""

import functools
import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, Real

from .._core.checks import (
    as_float_array,
    check_int,
    check_key,
    check_positive_values,
    check_shape,
    message,
    shape_str,
)
from .._core.distances import squared_distances

_LOG_2PI = math.log(2.0 * math.pi)


def as_queries(fn: str, x) -> Array:
    """Real queries of shape `(..., d)` with d ≥ 1 (integers promoted)."""
    x = as_float_array(fn, "x", x)
    if x.ndim < 1 or x.shape[-1] < 1:
        raise ValueError(message(fn, "x", "of shape (..., d) with d >= 1",
                                 f"shape {shape_str(x)}"))
    return x


def sample_sq_distances(x: Real[ArrayLike, "*batch d"], *, n: int, key: PRNGKeyArray
                        ) -> Float[Array, "*batch n"]:
    """|x − y_i|² for n fresh data points y_i ~ N(0, I_d) per query, without drawing the y_i.

    Rotating x onto the first axis, |x − y|² = (y_1 − |x|)² + Σ_{k≥2} y_k²: a non-central
    χ²_d with non-centrality |x|², sampled as (Z + |x|)² + χ²_{d−1}. Each query gets its own
    independent data set (the distances of one query are i.i.d.), so memory is O(n) per query
    instead of O(n d).

    **Arguments:**

    - `x`: queries, shape `(..., d)`.
    - `n`: data points per query, an int ≥ 1.
    - `key`: a JAX PRNG key.

    **Returns:** squared distances, shape `(..., n)`, the dtype of `x`.

    **Raises:** `TypeError` for a non-real `x`, a non-int `n` or a `key` that is not a PRNG
    key; `ValueError` for a 0-d `x` or `n` < 1.

    **References:** Biroli & Mézard (2024); the reduction to distances is exact for Gaussian
    data.
    """
    fn = "sample_sq_distances"
    n = check_int(fn, "n", n, minimum=1)
    x = as_queries(fn, x)
    check_key(fn, key)
    return _sample_sq_distances(x, n, key)


@functools.partial(jax.jit, static_argnums=1)
def _sample_sq_distances(x, n, key):
    d = x.shape[-1]
    shape = (*x.shape[:-1], n)
    key_z, key_rest = jax.random.split(key)
    norm = jnp.sqrt(jnp.sum(x * x, axis=-1, keepdims=True))
    along = (jax.random.normal(key_z, shape, x.dtype) + norm) ** 2
    if d == 1:
        return along
    # χ²_{d−1} = 2 Gamma((d − 1)/2); jax.random.gamma compiles in half the time of chisquare
    return along + 2.0 * jax.random.gamma(key_rest, 0.5 * (d - 1), shape, x.dtype)


def pairwise_sq_distances(x: Real[ArrayLike, "*batch d"], data: Real[ArrayLike, "n d"]
                          ) -> Float[Array, "*batch n"]:
    """|x − y_i|² between queries and real data points (for `gaussian_log_kernel_terms`).

    Uses |x|² + |y|² − 2 x·y (one full-precision matmul), clipped at 0; whiten the data
    first so the Gaussian-case thresholds apply. Works under `jit`/`vmap`; the result has
    the floating dtype of `x` and `data` promoted together.

    **Arguments:**

    - `x`: queries, shape `(..., d)`.
    - `data`: data points, shape `(n, d)`.

    **Returns:** squared distances, shape `(..., n)`.

    **Raises:** `TypeError` for non-real inputs; `ValueError` if the shapes do not fit.

    **References:** Biroli & Mézard (2024).
    """
    fn = "pairwise_sq_distances"
    x = as_queries(fn, x)
    data = as_float_array(fn, "data", data, ndim=2)
    check_shape(fn, "data", data, (None, x.shape[-1]),
                want=f"(n, d) with the d = {x.shape[-1]} of x")
    return _squared_distances(x, data)


def gaussian_log_kernel_terms(sq_distances: Real[ArrayLike, "*batch n"],
                              h: Real[ArrayLike, ""], *, d: int) -> Float[Array, "*batch n"]:
    """ln Z_i = ln N(x; y_i, h² I_d) = −|x − y_i|²/(2h²) − (d/2) ln(2πh²).

    Feed the squared distances from `sample_sq_distances` (synthetic N(0, I) data) or
    `pairwise_sq_distances` (real data) and pass the result to `kernel_sum_diagnostics`;
    its `log_mean` is ln ρ̂_h(x).

    **Arguments:**

    - `sq_distances`: |x − y_i|², non-negative, any shape.
    - `h`: the bandwidth, a positive scalar.
    - `d`: the dimension, an int ≥ 1.

    **Returns:** the log kernel terms, the shape and dtype of `sq_distances`.

    **Raises:** `TypeError` for non-real inputs or a non-int `d`; `ValueError` for an `h`
    that is not a scalar or (when known) not positive, or `d` < 1.

    **References:** Biroli & Mézard (2024).
    """
    fn = "gaussian_log_kernel_terms"
    d = check_int(fn, "d", d, minimum=1)
    dist = as_float_array(fn, "sq_distances", sq_distances)
    h = as_float_array(fn, "h", h)
    check_shape(fn, "h", h, (), want="() (a scalar: vmap over bandwidths)")
    check_positive_values(fn, "h", h)
    return _log_kernel_terms(dist, h, d)


_squared_distances = jax.jit(squared_distances)


@jax.jit   # d traced: one compilation for every dimension
def _log_kernel_terms(dist, h, d):
    h, d = h.astype(dist.dtype), jnp.asarray(d, dist.dtype)
    return -0.5 * dist / (h * h) - 0.5 * d * (_LOG_2PI + 2.0 * jnp.log(h))
