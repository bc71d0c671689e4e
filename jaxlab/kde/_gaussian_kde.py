"""`gaussian_kde`: the scipy-compatible entry point with every bandwidth selector."""

import jax.numpy as jnp
from jaxtyping import ArrayLike, Real

from .._core.checks import message
from ._bandwidth import lcv_bandwidth, lscv_bandwidth, scott_bandwidth, silverman_bandwidth
from ._isj import isj_bandwidth, plugin_bandwidth
from ._kde import KDE, as_data

RULES = ("scott", "silverman", "isj", "plugin", "lcv", "lscv")


def gaussian_kde(data: Real[ArrayLike, "n d"] | Real[ArrayLike, " n"], *,
                 bandwidth: "str | float | Real[ArrayLike, '...']" = "scott",
                 weights: Real[ArrayLike, " n"] | None = None,
                 query_block: int | None = None, data_block: int | None = None) -> KDE:
    """A Gaussian kernel density estimate with a chosen or selected bandwidth.

    With `"scott"` or `"silverman"` it is scipy's `gaussian_kde` (the kernel covariance is
    the rule's factor squared times the weighted data covariance), but evaluated in log
    space and in blocks: finite log-densities in any dimension, any n.

    **Arguments:**

    - `data`: `(n, d)`, or `(n,)` for one dimension.
    - `bandwidth`: a rule — `"scott"`, `"silverman"` (H = factor² Σ̂), `"isj"` (improved
      Sheather–Jones, 1-D), `"plugin"` (per-axis ISJ, diagonal H), `"lcv"` (likelihood
      cross-validation), `"lscv"` (least-squares cross-validation) — or a value: a scalar
      kernel standard deviation h (H = h² I), a `(d,)` vector of per-axis h, or a `(d, d)`
      covariance H. (scipy's numeric `bw_method=c` means H = c² Σ̂: pass
      `c**2 * weighted_covariance(data)` for that.)
    - `weights`: optional non-negative `(n,)` weights.
    - `query_block`, `data_block`: tile sizes of the blocked sum.

    **Returns:** a `KDE` with the Gaussian kernel.

    **Raises:** `ValueError` for an unknown rule, `"isj"` on multi-dimensional data, bad
    data (NaN), weights or bandwidth (not positive definite: e.g. the data covariance of
    collinear data is singular), and whatever the selected rule raises.

    **References:** Scott (1992); Silverman (1986); Botev, Grotowski & Kroese (2010);
    scipy.stats.gaussian_kde.
    """
    x = as_data(data, "gaussian_kde")
    d = x.shape[1]
    if isinstance(bandwidth, str):
        if bandwidth not in RULES:
            raise ValueError(f"gaussian_kde: bandwidth must be one of {RULES} or a number, "
                             f"vector or matrix, got {bandwidth!r}")
        if bandwidth == "scott":
            h = scott_bandwidth(x, weights=weights)
        elif bandwidth == "silverman":
            h = silverman_bandwidth(x, weights=weights)
        elif bandwidth == "lcv":
            h = lcv_bandwidth(x, weights=weights).bandwidth
        elif bandwidth == "lscv":
            h = lscv_bandwidth(x, weights=weights).bandwidth
        elif bandwidth == "isj":
            if d != 1:
                raise ValueError(message("gaussian_kde", "data",
                                         "1-D for bandwidth='isj' (use 'plugin' for a "
                                         "per-axis ISJ)", f"d = {d}"))
            h = isj_bandwidth(x[:, 0], weights=weights)
        else:
            h = plugin_bandwidth(x, weights=weights)
    else:
        h = jnp.asarray(bandwidth)
    return KDE(x, "gaussian", h, weights=weights, query_block=query_block,
               data_block=data_block)
