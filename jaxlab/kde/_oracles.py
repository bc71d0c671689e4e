"""Exact finite-n moments of the Gaussian KDE of N(0, I_d) data: the mean density and the
relative variance at a query, at every n and d.

**References:** Biroli & Mézard, *Kernel Density Estimators in Large Dimensions* (2024).
"""

import functools
import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Real

from .._core.checks import as_float_array, check_bool, check_int, check_positive_values
from ._distances import as_queries

_LOG_2PI = math.log(2.0 * math.pi)


def _oracle_inputs(x, h, fn):
    x = as_queries(fn, x)
    h = as_float_array(fn, "h", h)
    check_positive_values(fn, "h", h)
    return x, h, jnp.result_type(x, h)


@functools.partial(jax.jit, static_argnums=2)
def _log_mean(x, h, dtype):
    x, h = x.astype(dtype), h.astype(dtype)
    v = 1.0 + h * h
    return -0.5 * x.shape[-1] * (_LOG_2PI + jnp.log(v)) - 0.5 * jnp.sum(x * x, axis=-1) / v


@functools.partial(jax.jit, static_argnums=(3, 4))   # n traced: one compilation for every n
def _relative_variance(x, h, n, log, dtype):
    x, h, n = x.astype(dtype), h.astype(dtype), jnp.asarray(n, dtype)
    d, s = x.shape[-1], jnp.sum(x * x, axis=-1)
    h2 = h * h
    big_l = 0.5 * d * jnp.log1p(1.0 / (h2 * (2.0 + h2))) + s / ((1.0 + h2) * (2.0 + h2))
    if log:
        return big_l + jnp.log(-jnp.expm1(-big_l)) - jnp.log(n)
    return jnp.expm1(big_l) / n


def gaussian_kde_log_mean(x: Real[ArrayLike, "*batch d"], h: Real[ArrayLike, "..."]
                          ) -> Float[Array, "..."]:
    """ln E_y ρ̂_h(x) = ln N(x; 0, (1 + h²) I_d), exact for N(0, I_d) data at every n.

    **Arguments:**

    - `x`: queries, shape `(..., d)`.
    - `h`: Gaussian kernel bandwidth, positive; broadcast against the batch shape of `x`.

    **Returns:** the log mean density, the broadcast batch shape.

    **Raises:** `ValueError` for a 0-d `x` or a non-positive `h` (when known).

    **References:** Biroli & Mézard (2024).
    """
    return _log_mean(*_oracle_inputs(x, h, "gaussian_kde_log_mean"))


def gaussian_kde_relative_variance(x: Real[ArrayLike, "*batch d"], h: Real[ArrayLike, "..."],
                                   n: int, *, log: bool = False) -> Float[Array, "..."]:
    """Var_y ρ̂_h(x) / [E_y ρ̂_h(x)]², exact for n points of N(0, I_d) data.

    From E Z² = (4πh²)^{−d/2} N(x; 0, (1 + h²/2) I) and E Z = N(x; 0, (1 + h²) I), the ratio
    E Z²/(E Z)² = e^L with
    L = (d/2) ln(1 + 1/(h²(2 + h²))) + |x|²/((1 + h²)(2 + h²)) ≥ 0,
    so the relative variance is (e^L − 1)/n, evaluated as `expm1(L)/n` or, with `log=True`,
    as L + ln(1 − e^{−L}) − ln n (finite when e^L overflows).

    **Arguments:**

    - `x`: queries, shape `(..., d)`.
    - `h`: bandwidth, positive; broadcast against the batch shape of `x`.
    - `n`: number of data points, an int ≥ 1.
    - `log`: return the logarithm of the relative variance.

    **Returns:** the relative variance (or its log), the broadcast batch shape.

    **Raises:** `ValueError`/`TypeError` naming the argument for a bad `x`, `h` or `n`.

    **References:** Biroli & Mézard (2024).
    """
    fn = "gaussian_kde_relative_variance"
    n = check_int(fn, "n", n, minimum=1)
    log = check_bool(fn, "log", log)
    x, h, dtype = _oracle_inputs(x, h, fn)
    return _relative_variance(x, h, n, log, dtype)
