"""D_stsp: the Kullback–Leibler divergence between the state-space distributions of a true
and a generated trajectory (histograms, or Gaussian mixtures in higher dimension)."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, Real

from .._core.checks import (
    as_float_array,
    check_bool,
    check_choice,
    check_int,
    check_key,
    check_number,
    common_float_dtype,
    concrete_values,
    message,
    shape_str,
)
from .._core.distances import squared_distances

METHODS = ("histogram", "gmm")
# bins ** d cells are held in memory: 30 bins in 4 dimensions (810 000) fit, 5 do not.
_MAX_CELLS = 2**24


class StateSpaceDivergence(eqx.Module):
    """The output of `state_space_divergence`.

    **Fields:**

    - `divergence`: D_stsp = KL(p_true ‖ p_gen) in nats.
    - `outside`: the fraction of the generated points outside the true data's bounding box
      (closed; the histogram discards them, so a diverging model can score well: report it).
    """

    divergence: Float[Array, ""]
    outside: Float[Array, ""]


def _cells(x, lo, hi, bins: int, reference_compat: bool):
    """The flattened (row-major) cell of each point and whether it is counted."""
    scaled = bins * (x - lo) / (hi - lo)
    if reference_compat:
        # the published binning: truncate toward zero, keep coordinates strictly inside
        # 0 < c < bins, so the first bin of every axis (and the maximum) is discarded
        # the maximum maps to `bins` exactly in the published arithmetic; XLA may divide by
        # multiplying with a reciprocal, which can land just below it
        index = jnp.where(x == hi, bins, jnp.trunc(scaled))
        counted = jnp.all((index > 0) & (index < bins), axis=1)
    else:
        index = jnp.clip(jnp.floor(scaled), 0, bins - 1)
        counted = jnp.all((x >= lo) & (x <= hi), axis=1)
    index = jnp.where(counted[:, None], index, 0).astype(jnp.int32)
    strides = jnp.asarray([bins ** (x.shape[1] - 1 - k) for k in range(x.shape[1])], jnp.int32)
    return jnp.sum(index * strides, axis=1), counted


def _counts(x, lo, hi, bins: int, reference_compat: bool):
    cell, counted = _cells(x, lo, hi, bins, reference_compat)
    return jnp.bincount(cell, weights=counted.astype(x.dtype), length=bins ** x.shape[1])


def _mixture_log_density(z, centres, scale):
    """log (1/n) Σᵢ exp(−|z − cᵢ|²/(2s²)) for each z, without the Gaussian's normaliser
    (the same in both mixtures)."""
    d2 = squared_distances(z, centres)
    return jax.nn.logsumexp(-d2 / (2.0 * scale**2), axis=1) - jnp.log(centres.shape[0])


def state_space_divergence(
    x_true: Real[ArrayLike, "n ..."],
    x_gen: Real[ArrayLike, "m ..."],
    *,
    method: str = "histogram",
    bins: int = 30,
    smoothing: float = 1e-5,
    reference_compat: bool = False,
    scale: float = 0.3,
    num_samples: int = 1000,
    key: PRNGKeyArray | None = None,
) -> StateSpaceDivergence:
    """D_stsp, the geometric disagreement of a generated trajectory with the true one:
    KL(p_true ‖ p_gen) between their state-space distributions.

    `method="histogram"` (the default, for low dimension): p_true and p_gen are histograms
    with `bins` equal bins per dimension on the true data's bounding box [min, max]^d (a
    point on the upper edge goes to the last bin), normalised with Laplace smoothing on every
    bin, p = (h + α)/(Σh + α bins^d) with α = `smoothing`; generated points outside the box
    are not counted. `reference_compat=True` reproduces the binning of the published code
    instead (Brenner et al., 2024; see `docs/metrics.md`): bin indices are truncated toward
    zero and only indices strictly between 0 and `bins` are kept, so every point of the
    first bin of an axis and the maximum are discarded, and an empty generated histogram
    gives NaN (without it, an empty histogram is uniform by the smoothing).

    `method="gmm"` (for higher dimension): p_true and p_gen are the Gaussian mixtures
    (1/n) Σᵢ N(xᵢ, s² I) with s = `scale` on the points, and the KL divergence is estimated by
    Monte Carlo from `num_samples` draws of p_true: with `k1, k2 = jax.random.split(key)`,
    components `jax.random.randint(k1, (num_samples,), 0, n)` and noise
    `jax.random.normal(k2, (num_samples, d))`. Its standard error is the standard deviation
    of log p_true − log p_gen over the draws divided by √num_samples; the estimate can be
    slightly negative when the two agree.

    Both are 0 for equal data. Works under `jit` and `vmap` (with the options static).

    **Arguments:**

    - `x_true`, `x_gen`: the true and generated states, shapes `(n, d)` and `(m, d)` (a 1-D
      array is `(n, 1)`); standardise both with the true data's scaler first, as published.
    - `method`: `"histogram"` or `"gmm"`.
    - `bins`: bins per dimension (≥ 1; histogram); at most 2²⁴ cells in all.
    - `smoothing`: the Laplace smoothing α > 0 (histogram).
    - `reference_compat`: reproduce the published binning (histogram).
    - `scale`: the mixtures' standard deviation s > 0 (gmm).
    - `num_samples`: the Monte-Carlo draws (≥ 1; gmm).
    - `key`: a PRNG key (gmm; required there, unused by the histogram).

    **Returns:** a `StateSpaceDivergence` (`divergence`, `outside`) in the floating dtype of
    the data.

    **Raises:** `TypeError` for non-real input or a wrongly typed option (a missing key with
    `method="gmm"`); `ValueError` for data of different dimension, an option out of range,
    too many histogram cells, or (when the values are concrete) a true dimension of zero
    range with the histogram.

    **References:** Koppe, Toutounji, Kirsch, Lis & Durstewitz, *Identifying nonlinear
    dynamical systems via generative recurrent neural networks with applications to fMRI*
    (PLoS Comput. Biol. 2019); Brenner, Hemmer, Monfared & Durstewitz, *Almost-linear RNNs
    yield highly interpretable symbolic codes in dynamical systems reconstruction* (NeurIPS
    2024), §3.
    """
    fn = "state_space_divergence"
    method = check_choice(fn, "method", method, METHODS)
    bins = check_int(fn, "bins", bins, minimum=1)
    alpha = check_number(fn, "smoothing", smoothing, minimum=0.0, open_minimum=True)
    reference_compat = check_bool(fn, "reference_compat", reference_compat)
    scale = check_number(fn, "scale", scale, minimum=0.0, open_minimum=True)
    num_samples = check_int(fn, "num_samples", num_samples, minimum=1)
    x_true = as_float_array(fn, "x_true", x_true, ndim=(1, 2))
    x_gen = as_float_array(fn, "x_gen", x_gen, ndim=(1, 2))
    x_true = x_true[:, None] if x_true.ndim == 1 else x_true
    x_gen = x_gen[:, None] if x_gen.ndim == 1 else x_gen
    if x_true.shape[1] != x_gen.shape[1]:
        raise ValueError(message(fn, "x_true and x_gen", "states of the same dimension",
                                 f"shapes {shape_str(x_true)} and {shape_str(x_gen)}"))
    for name, x in (("x_true", x_true), ("x_gen", x_gen)):
        if x.shape[0] == 0:
            raise ValueError(message(fn, name, "a non-empty array of states",
                                     f"shape {shape_str(x)}"))
    dtype = common_float_dtype(x_true, x_gen)
    x_true, x_gen = x_true.astype(dtype), x_gen.astype(dtype)
    if method == "gmm":
        key = check_key(fn, key)
        return _gmm_divergence(x_true, x_gen, key, scale=scale, num_samples=num_samples)
    cells = bins ** x_true.shape[1]
    if cells > _MAX_CELLS:
        raise ValueError(message(fn, "bins", f"at most {_MAX_CELLS} cells in all "
                                 "(bins ** d; use method='gmm' in higher dimension)",
                                 f"{bins} ** {x_true.shape[1]} = {cells}"))
    values = concrete_values(x_true)
    if values is not None and not np.all(np.ptp(values, axis=0) > 0):
        raise ValueError(message(fn, "x_true", "states with a positive range in every "
                                 "dimension", f"range {np.ptp(values, axis=0).tolist()}"))
    return _histogram_divergence(x_true, x_gen, jnp.asarray(alpha, dtype), bins=bins,
                                 reference_compat=reference_compat)


def _outside(x_true, x_gen):
    lo, hi = jnp.min(x_true, axis=0), jnp.max(x_true, axis=0)
    return jnp.mean(jnp.any((x_gen < lo) | (x_gen > hi), axis=1).astype(x_gen.dtype))


@functools.partial(jax.jit, static_argnames=("bins", "reference_compat"))
def _histogram_divergence(x_true, x_gen, alpha, *, bins: int,
                          reference_compat: bool) -> StateSpaceDivergence:
    lo, hi = jnp.min(x_true, axis=0), jnp.max(x_true, axis=0)
    counts = jnp.stack([_counts(x_true, lo, hi, bins, reference_compat),
                        _counts(x_gen, lo, hi, bins, reference_compat)])
    # both distributions by one stacked expression: equal data give bit-identical p and q
    totals = jnp.sum(counts, axis=1, keepdims=True)
    p, q = (counts + alpha) / (totals + alpha * counts.shape[1])
    divergence = jnp.sum(p * jnp.log(p / q))
    if reference_compat:  # the published code returns NaN for an empty histogram
        divergence = jnp.where(jnp.all(totals > 0), divergence, jnp.nan)
    return StateSpaceDivergence(divergence=divergence, outside=_outside(x_true, x_gen))


@functools.partial(jax.jit, static_argnames=("scale", "num_samples"))
def _gmm_divergence(x_true, x_gen, key, *, scale: float,
                    num_samples: int) -> StateSpaceDivergence:
    k_component, k_noise = jax.random.split(key)
    n, d = x_true.shape
    component = jax.random.randint(k_component, (num_samples,), 0, n)
    noise = jax.random.normal(k_noise, (num_samples, d), x_true.dtype)
    z = x_true[component] + scale * noise
    if x_true.shape == x_gen.shape:  # one vmapped evaluation: equal data give exactly 0
        log_p, log_q = jax.vmap(lambda c: _mixture_log_density(z, c, scale))(
            jnp.stack([x_true, x_gen]))
    else:
        log_p = _mixture_log_density(z, x_true, scale)
        log_q = _mixture_log_density(z, x_gen, scale)
    divergence = jnp.mean(log_p - log_q)
    return StateSpaceDivergence(divergence=divergence, outside=_outside(x_true, x_gen))
