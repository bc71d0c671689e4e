"""The maximum mean discrepancy between two samples, for the RBF, rational-quadratic,
multi-scale and linear kernels, as a biased V-statistic or an unbiased U-statistic."""

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Real

from .._core.checks import (
    as_float_array,
    check_bool,
    check_choice,
    check_ndim,
    check_number,
    check_positive_values,
    message,
)
from .._core.distances import median_distance, squared_distances
from ._clouds import as_clouds

KERNELS = ("rbf", "rational_quadratic", "multiscale", "linear")
# The multi-scale kernel's default bandwidths: these multiples of the median distance.
_MULTISCALE_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)


def _kernel_sum(d2, kernel: str, bandwidths, alpha: float):
    """Σ_h k_h(r²) over the bandwidths h, elementwise on the (batched) squared distances
    `d2`."""
    h2 = (bandwidths**2)[:, None, None, None]
    if kernel == "rational_quadratic":
        return jnp.sum((1.0 + d2 / (2.0 * alpha * h2)) ** (-alpha), axis=0)
    return jnp.sum(jnp.exp(-d2 / (2.0 * h2)), axis=0)


def _mmd_squared(x, y, kernel: str, bandwidths, alpha: float, unbiased):
    """The V- or U-statistic of MMD² from the three kernel matrices.

    For samples of one size the matrices are formed as one stacked array and the V-statistic
    is summed element by element, k(xᵢ, xⱼ) + k(yᵢ, yⱼ) − 2 k(xᵢ, yⱼ): equal samples then give
    exactly 0 (three separately compiled sums may round differently, by fused multiply-adds or
    summation order)."""
    def matrices(a, b):
        return _kernel_sum(jax.vmap(squared_distances)(a, b), kernel, bandwidths, alpha)

    n, m = x.shape[0], y.shape[0]
    if x.shape == y.shape:
        kxx, kyy, kxy = matrices(jnp.stack([x, y, x]), jnp.stack([x, y, y]))
        biased = jnp.sum(kxx + kyy - 2.0 * kxy) / (n * n)
    else:
        kxx, kyy, kxy = (matrices(x[None], x[None])[0], matrices(y[None], y[None])[0],
                         matrices(x[None], y[None])[0])
        biased = jnp.mean(kxx) + jnp.mean(kyy) - 2.0 * jnp.mean(kxy)
    u_statistic = ((jnp.sum(kxx) - jnp.trace(kxx)) / max(n * (n - 1), 1)
                   + (jnp.sum(kyy) - jnp.trace(kyy)) / max(m * (m - 1), 1)
                   - 2.0 * jnp.mean(kxy))
    return jnp.where(unbiased, u_statistic, biased)


def mmd(
    x: Real[ArrayLike, "n ..."],
    y: Real[ArrayLike, "m ..."],
    *,
    kernel: str = "rbf",
    bandwidth: float | Sequence[float] | Real[ArrayLike, "..."] | None = None,
    unbiased: bool = False,
    alpha: float = 1.0,
) -> Float[Array, ""]:
    """The squared maximum mean discrepancy MMD² = E k(X, X') + E k(Y, Y') − 2 E k(X, Y)
    between the samples `x` and `y`.

    Kernels, of the squared distance r² = |x − y|² and a bandwidth h (a sequence of
    bandwidths sums the kernel over them):

    - `"rbf"`: exp(−r²/(2h²)); default h: the median pairwise distance of the pooled sample
      (the median heuristic).
    - `"rational_quadratic"`: (1 + r²/(2αh²))^{−α} with `alpha` = α; default h as for "rbf".
      PhyxMamba sums it over h ∈ {0.2, 0.5, 0.9, 1.3}.
    - `"multiscale"`: Σ_h exp(−r²/(2h²)), a sum of RBF kernels; default h: the median
      distance times 1/4, 1/2, 1, 2, 4.
    - `"linear"`: x·y, so MMD² = ‖mean x − mean y‖² (the distance between mean feature
      vectors, e.g. expected path signatures); `bandwidth` must be None. Computed from the
      means in O((n + m) d).

    The biased V-statistic averages over all pairs (it is ≥ 0 and exactly 0 for equal
    samples); the unbiased U-statistic leaves out the i = j terms of the within-sample
    averages (unbiased for MMD², can be negative; needs n, m ≥ 2).

    **Arguments:**

    - `x`, `y`: samples, shapes `(n, d)` and `(m, d)` (a 1-D array is `(n, 1)`).
    - `kernel`: one of `"rbf"`, `"rational_quadratic"`, `"multiscale"`, `"linear"`.
    - `bandwidth`: a positive number, or a sequence or 1-D array of them, or None for the
      default.
    - `unbiased`: the U-statistic instead of the V-statistic.
    - `alpha`: the rational-quadratic exponent α > 0.

    **Returns:** MMD², a scalar in the floating dtype of the samples.

    **Raises:** `TypeError` for non-real input or a wrongly typed option; `ValueError` for
    an unknown kernel, samples of different dimension, a non-positive bandwidth (checked when
    concrete), a bandwidth with the linear kernel, or `unbiased` with fewer than 2 samples.

    **References:** Gretton, Borgwardt, Rasch, Schölkopf & Smola, *A kernel two-sample test*
    (JMLR 2012), Eqs. (3) and (5); Bińkowski, Sutherland, Arbel & Gretton, *Demystifying MMD
    GANs* (ICLR 2018; rational-quadratic mixtures); Liu et al., *PhyxMamba* (2025).
    """
    fn = "mmd"
    kernel = check_choice(fn, "kernel", kernel, KERNELS)
    unbiased = check_bool(fn, "unbiased", unbiased)
    alpha = check_number(fn, "alpha", alpha, minimum=0.0, open_minimum=True)
    x, y = as_clouds(fn, x, y)
    n, m = x.shape[0], y.shape[0]
    if unbiased and min(n, m) < 2:
        raise ValueError(message(fn, "x and y", "at least 2 samples each with unbiased=True",
                                 f"{n} and {m}"))
    if kernel == "linear":
        if bandwidth is not None:
            raise ValueError(message(fn, "bandwidth", "None with kernel='linear'",
                                     repr(bandwidth)))
        return _linear(x, y, jnp.asarray(unbiased))
    if bandwidth is not None:
        bandwidth = as_float_array(fn, "bandwidth", bandwidth, ndim=(0, 1)).astype(x.dtype)
        check_ndim(fn, "bandwidth", bandwidth, (0, 1), want="a number or a 1-D array")
        check_positive_values(fn, "bandwidth", bandwidth)
    return _kernel_mmd(x, y, bandwidth, jnp.asarray(unbiased), kernel=kernel, alpha=alpha)


@functools.partial(jax.jit, static_argnames=("kernel", "alpha"))
def _kernel_mmd(x, y, bandwidth, unbiased, *, kernel: str, alpha: float):
    # `unbiased` is traced: one compilation per shape and kernel serves both statistics
    if bandwidth is None:
        h = median_distance(jnp.concatenate([x, y]))
        factors = _MULTISCALE_FACTORS if kernel == "multiscale" else (1.0,)
        bandwidths = h * jnp.asarray(factors, x.dtype)
    else:
        bandwidths = jnp.atleast_1d(bandwidth)
    return _mmd_squared(x, y, kernel, bandwidths, alpha, unbiased)


@jax.jit
def _linear(x, y, unbiased):
    mx, my = jnp.mean(x, axis=0), jnp.mean(y, axis=0)

    def within(s):
        total = jnp.sum(s, axis=0)
        k = s.shape[0]
        return (jnp.sum(total**2) - jnp.sum(s**2)) / max(k * (k - 1), 1)

    unbiased_value = within(x) + within(y) - 2.0 * jnp.dot(mx, my)
    return jnp.where(unbiased, unbiased_value, jnp.sum((mx - my) ** 2))
