"""The 2-Wasserstein distance between the 2-D histograms of two samples (the binned W2 of the
ODE–SDE gap), with the discarded fractions reported."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Real

from .._core.checks import (
    as_float_array,
    check_bool,
    check_int,
    check_shape,
    common_float_dtype,
    message,
)
from .._core.results import RESULTS, AbstractResult, check_status, status_where
from ._host import host_callback

_EMD_MAX_ITER = 10**7


class BinnedWasserstein(AbstractResult):
    """The output of `binned_wasserstein`.

    **Fields:**

    - `distance`: W₂ between the two normalised histograms (mass at the cell centres); NaN
      when a histogram is empty.
    - `outside_a`, `outside_b`: the fractions of `a` and `b` outside the square (discarded).
    - `status`: `RESULTS.successful`; `RESULTS.left_grid` when every sample of `a` or `b`
      lies outside the square; `RESULTS.not_converged` when POT's network simplex does not
      report an optimal solution.
    """

    distance: Float[Array, ""]
    outside_a: Float[Array, ""]
    outside_b: Float[Array, ""]
    status: RESULTS


def _histogram(x, bins: int, lo: float, hi: float):
    """Normalised `bins` × `bins` counts on [lo, hi]² (flattened row-major, as NumPy's
    `histogram2d(...).ravel()`: a sample on an inner edge goes to the cell above it, one on
    the upper edge to the last cell), and the fraction of samples outside."""
    edges = jnp.linspace(lo, hi, bins + 1, dtype=x.dtype)
    inside = jnp.all((x >= lo) & (x <= hi), axis=1)
    index = jnp.clip(jnp.searchsorted(edges, x, side="right") - 1, 0, bins - 1)
    cell = jnp.where(inside, index[:, 0] * bins + index[:, 1], 0)
    counts = jnp.bincount(cell, weights=inside.astype(x.dtype), length=bins * bins)
    total = jnp.sum(counts)
    return counts / jnp.where(total > 0, total, 1.0), total > 0, 1.0 - total / x.shape[0]


def _emd2_host(ha, hb, *, bins: int, lo: float, hi: float):
    import ot  # importing POT costs ~1.5 s (it loads its backends): only when a plan is solved

    ha, hb = np.asarray(ha, np.float64), np.asarray(hb, np.float64)
    ia, ib = np.nonzero(ha)[0], np.nonzero(hb)[0]
    if ia.size == 0 or ib.size == 0:  # reported as RESULTS.left_grid by the caller
        return np.asarray(np.nan), np.asarray(True)
    edges = np.linspace(lo, hi, bins + 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    points = np.stack([np.repeat(centres, bins), np.tile(centres, bins)], axis=1)
    cost = ot.dist(points[ia], points[ib])  # squared Euclidean
    a, b = ha[ia], hb[ib]
    value, log = ot.emd2(a / a.sum(), b / b.sum(), cost, numItermax=_EMD_MAX_ITER, log=True)
    return np.asarray(np.sqrt(max(value, 0.0))), np.asarray(log["result_code"] == 1)


def binned_wasserstein(
    a: Real[ArrayLike, "n 2"],
    b: Real[ArrayLike, "m 2"],
    *,
    bins: int = 32,
    limits: tuple[float, float] = (-4.0, 4.0),
    throw: bool = True,
) -> BinnedWasserstein:
    """The 2-Wasserstein distance between the 2-D histograms of two samples, as Deveney et
    al. (2023) measure the ODE–SDE gap.

    Protocol: `bins` × `bins` equal cells on the square `limits`², each histogram normalised
    over the samples inside the square (those outside are discarded and their fractions
    reported: state them next to the numbers), the mass of a cell at its centre, squared
    Euclidean cost, and exact optimal transport between the two histograms (POT's network
    simplex, `ot.emd2`, over the non-empty cells, in float64 in a host callback). Works under
    `jit` and `vmap`; not differentiable (a histogram).

    **Arguments:**

    - `a`, `b`: samples, shapes `(n, 2)` and `(m, 2)`.
    - `bins`: cells per side (≥ 1).
    - `limits`: the square's side `(lo, hi)`, lo < hi.
    - `throw`: raise at run time when the status is not successful.

    **Returns:** a `BinnedWasserstein` (`distance`, `outside_a`, `outside_b`, `status`) in
    the floating dtype of the samples.

    **Raises:** `TypeError` for non-real input or a wrongly typed option; `ValueError` for
    samples not of shape `(n, 2)`, `bins < 1` or bad `limits`.

    **References:** Deveney, Stanley, Rogers & Sanders, *Closing the ODE–SDE gap in
    score-based diffusion models through the Fokker–Planck equation* (2023).
    """
    fn = "binned_wasserstein"
    bins = check_int(fn, "bins", bins, minimum=1)
    throw = check_bool(fn, "throw", throw)
    ok = (isinstance(limits, (tuple, list)) and len(limits) == 2
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in limits)
          and bool(np.all(np.isfinite(limits))) and limits[0] < limits[1])
    if not ok:
        raise ValueError(message(fn, "limits", "a pair of finite numbers (lo, hi) with lo < hi",
                                 repr(limits)))
    lo, hi = float(limits[0]), float(limits[1])
    a = as_float_array(fn, "a", a)
    b = as_float_array(fn, "b", b)
    check_shape(fn, "a", a, (None, 2), want="(n, 2)")
    check_shape(fn, "b", b, (None, 2), want="(m, 2)")
    dtype = common_float_dtype(a, b)
    return _binned_wasserstein(a.astype(dtype), b.astype(dtype), bins=bins, lo=lo, hi=hi,
                               throw=throw)


@eqx.filter_jit
def _binned_wasserstein(a, b, *, bins: int, lo: float, hi: float,
                        throw: bool) -> BinnedWasserstein:
    ha, nonempty_a, outside_a = _histogram(a, bins, lo, hi)
    hb, nonempty_b, outside_b = _histogram(b, bins, lo, hi)
    host = functools.partial(_emd2_host, bins=bins, lo=lo, hi=hi)
    shapes = (jax.ShapeDtypeStruct((), a.dtype), jax.ShapeDtypeStruct((), jnp.bool_))
    distance, optimal = host_callback(host, shapes, ha, hb)
    status = RESULTS.where(nonempty_a & nonempty_b, status_where(optimal, RESULTS.not_converged),
                           RESULTS.left_grid)
    distance = check_status("binned_wasserstein", status, distance, throw)
    return BinnedWasserstein(distance=distance, outside_a=outside_a, outside_b=outside_b,
                             status=status)
