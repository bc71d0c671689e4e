"""Delay embedding: delay vectors, the lag (autocorrelation, mutual information) and the
embedding dimension (Cao's method, false nearest neighbours)."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, Int, Real

from .._core.autocorrelation import lagged_products
from .._core.checks import as_float_array, check_choice, check_int, check_number, message, shape_str

# ---------------------------------------------------------------------------------------------
# Result objects
# ---------------------------------------------------------------------------------------------


class LagResult(eqx.Module):
    """The output of `autocorrelation_lag` and `ami_lag`.

    **Fields:**

    - `lag`: the chosen lag in samples, an integer scalar (`int(result.lag)` gives the static
      Python int that `delay_embed` wants).
    - `found`: `True` if the criterion was met (the ACF crossed the level, or the AMI has a
      local minimum) within `1..max_lag`; `False` if `lag` is the fallback, the lag of the
      smallest value of `curve` over `1..max_lag`.
    - `curve`: the criterion's curve at lags `0..max_lag` (the ACF or the AMI), shape
      `(max_lag + 1,)`.
    """

    lag: Int[Array, ""]
    found: Bool[Array, ""]
    curve: Float[Array, " L"]


class CaoResult(eqx.Module):
    """The output of `cao_embedding_dimension`.

    Entry `k` of every curve belongs to dimension `d = k + 1`.

    **Fields:**

    - `e1`: E1(d) = E(d + 1) / E(d) for d = 1..max_dim, shape `(max_dim,)`. Rises to ≈ 1 and
      stays there once d reaches the minimum embedding dimension.
    - `e2`: E2(d) = E*(d + 1) / E*(d) for d = 1..max_dim, shape `(max_dim,)`. ≈ 1 for every d
      on a random series; deterministic data give E2 ≠ 1 for some d.
    - `e`: E(d), the mean ratio of neighbour distances in d + 1 and d dimensions, for
      d = 1..max_dim + 1, shape `(max_dim + 1,)`.
    - `e_star`: E*(d), the mean distance of the next delay coordinate between neighbours,
      for d = 1..max_dim + 1, shape `(max_dim + 1,)`.
    - `dimension`: the chosen embedding dimension, the first d at which E1 saturates (see
      `cao_embedding_dimension`); `max_dim` if it never does.
    - `saturated`: whether E1 saturated within `1..max_dim`.
    """

    e1: Float[Array, " D"]
    e2: Float[Array, " D"]
    e: Float[Array, " D1"]
    e_star: Float[Array, " D1"]
    dimension: Int[Array, ""]
    saturated: Bool[Array, ""]


class FNNResult(eqx.Module):
    """The output of `false_nearest_neighbours`.

    **Fields:**

    - `fractions`: the fraction of false nearest neighbours in dimension d = 1..max_dim,
      shape `(max_dim,)` (entry `k` belongs to d = k + 1).
    - `dimension`: the first d whose fraction is below `threshold`; `max_dim` if none is.
    - `found`: whether some d ≤ max_dim had a fraction below `threshold`.
    """

    fractions: Float[Array, " D"]
    dimension: Int[Array, ""]
    found: Bool[Array, ""]


# ---------------------------------------------------------------------------------------------
# Static validation
# ---------------------------------------------------------------------------------------------


def _as_series(fn: str, x, *, multichannel: bool = False) -> Array:
    x = as_float_array(fn, "x", x)
    if multichannel:
        if x.ndim not in (1, 2) or (x.ndim == 2 and x.shape[1] == 0):
            raise ValueError(message(fn, "x", "a series of shape (n,) or (n, c) with c ≥ 1",
                                     f"shape {shape_str(x)}"))
    elif x.ndim != 1:
        raise ValueError(message(fn, "x", "a 1-D series of shape (n,)", f"shape {shape_str(x)}"))
    return x


def _check_length(fn: str, n: int, needed: int, why: str):
    if n < needed:
        raise ValueError(message(fn, "x", f"long enough: {why} needs at least {needed} "
                                 "samples", f"{n} samples"))


def _check_max_lag(fn: str, max_lag, n: int, minimum: int) -> int:
    return check_int(fn, "max_lag", max_lag, minimum=minimum, maximum=n - 1)


# ---------------------------------------------------------------------------------------------
# Delay vectors
# ---------------------------------------------------------------------------------------------


def delay_embed(x: Real[ArrayLike, " n *c"], lag: int, dim: int) -> Float[Array, "m e"]:
    """Delay vectors of a series: row i is (x_i, x_{i+lag}, …, x_{i+(dim−1)·lag}).

    For a multichannel series of shape `(n, c)` the channels of one time stay together: row i
    is (x_i[0..c), x_{i+lag}[0..c), …), so component `k·c + j` is channel j at time
    i + k·lag.

    **Arguments:**

    - `x`: the series, shape `(n,)` or `(n, c)`.
    - `lag`: the delay τ in samples, a static int ≥ 1.
    - `dim`: the embedding dimension d, a static int ≥ 1.

    **Returns:** the delay vectors, shape `(n − (dim − 1)·lag, dim)` for a 1-D series and
    `(n − (dim − 1)·lag, dim·c)` for a multichannel one, in the dtype of `x`.

    **Raises:** `TypeError` for a non-real `x` or a non-int `lag` or `dim`; `ValueError` if
    `x` is not of shape `(n,)` or `(n, c)`, if `lag` or `dim` is below 1, or if
    n < (dim − 1)·lag + 1 (no delay vector fits).

    **References:** Takens (1981), *Detecting strange attractors in turbulence*, Lecture
    Notes in Mathematics 898, 366-381.
    """
    x = _as_series("delay_embed", x, multichannel=True)
    lag = check_int("delay_embed", "lag", lag, minimum=1)
    dim = check_int("delay_embed", "dim", dim, minimum=1)
    _check_length("delay_embed", x.shape[0], (dim - 1) * lag + 1,
                  f"dim={dim} with lag={lag}")
    return _delay_embed(x, lag, dim)


@eqx.filter_jit
def _delay_embed(x, lag, dim):
    m = x.shape[0] - (dim - 1) * lag
    # Static slices rather than a gather: XLA copies contiguous blocks.
    y = jnp.stack([x[k * lag:k * lag + m] for k in range(dim)], axis=1)
    return y.reshape(m, -1)


# ---------------------------------------------------------------------------------------------
# The lag: autocorrelation and average mutual information
# ---------------------------------------------------------------------------------------------


def autocorrelation(x: Real[ArrayLike, " n"], max_lag: int) -> Float[Array, " L"]:
    """The normalised sample autocorrelation function, computed by FFT.

    r(k) = Σ_{t=0}^{n−1−k} (x_t − x̄)(x_{t+k} − x̄) / Σ_{t=0}^{n−1} (x_t − x̄)², the usual
    (biased, positive semi-definite) estimator, so r(0) = 1. The FFT is zero-padded to at
    least 2n − 1 points, so no circular wrap-around enters. A constant series gives NaN.

    **Arguments:**

    - `x`: the series, shape `(n,)`, n ≥ 2.
    - `max_lag`: the largest lag, a static int in `0..n−1`.

    **Returns:** r(0..max_lag), shape `(max_lag + 1,)`, in the dtype of `x`.

    **Raises:** `TypeError` for a non-real `x` or a non-int `max_lag`; `ValueError` if `x`
    is not 1-D with n ≥ 2 or `max_lag` is not in `0..n−1`.

    **References:** Box, Jenkins & Reinsel, *Time Series Analysis* (4th ed., 2008), §2.1.
    """
    x = _as_series("autocorrelation", x)
    n = x.shape[0]
    _check_length("autocorrelation", n, 2, "an autocorrelation")
    max_lag = _check_max_lag("autocorrelation", max_lag, n, 0)
    return _autocorrelation(x, max_lag)


@eqx.filter_jit
def _autocorrelation(x, max_lag):
    acov = lagged_products(x - jnp.mean(x), max_lag)
    return (acov / acov[0]).astype(x.dtype)


_ACF_LEVELS = {"zero": 0.0, "1/e": math.exp(-1.0)}


def autocorrelation_lag(x: Real[ArrayLike, " n"], *, max_lag: int | None = None,
                        criterion: str = "zero") -> LagResult:
    """The delay at which the autocorrelation first decays: its first zero, or 1/e.

    The lag is the first k in `1..max_lag` with r(k) ≤ 0 (`criterion="zero"`) or
    r(k) ≤ 1/e (`criterion="1/e"`). If r never gets there, `found` is `False` and the lag is
    that of the smallest r(k) over `1..max_lag`.

    **Arguments:**

    - `x`: the series, shape `(n,)`, n ≥ 2.
    - `max_lag`: the largest lag searched, a static int in `1..n−1` (default `n // 2`).
    - `criterion`: `"zero"` or `"1/e"`.

    **Returns:** a `LagResult` whose `curve` is the ACF r(0..max_lag).

    **Raises:** `TypeError`/`ValueError` for a bad `x` or `max_lag` (as `autocorrelation`);
    `ValueError` for an unknown `criterion`.

    **References:** Kantz & Schreiber, *Nonlinear Time Series Analysis* (2nd ed., 2004), §3.3.
    """
    fn = "autocorrelation_lag"
    check_choice(fn, "criterion", criterion, sorted(_ACF_LEVELS))
    x = _as_series(fn, x)
    n = x.shape[0]
    _check_length(fn, n, 2, "an autocorrelation")
    max_lag = n // 2 if max_lag is None else _check_max_lag(fn, max_lag, n, 1)
    return _autocorrelation_lag(x, max_lag, jnp.asarray(_ACF_LEVELS[criterion], x.dtype))


@eqx.filter_jit
def _autocorrelation_lag(x, max_lag, level):
    acf = _autocorrelation(x, max_lag)
    tail = acf[1:]
    hits = tail <= level
    found = jnp.any(hits)
    lag = jnp.where(found, jnp.argmax(hits), jnp.argmin(tail)) + 1
    return LagResult(lag=lag.astype(jnp.int32), found=found, curve=acf)


def average_mutual_information(x: Real[ArrayLike, " n"], max_lag: int, *,
                               bins: int = 16) -> Float[Array, " L"]:
    """The average mutual information I(τ) between x_t and x_{t+τ}, from a histogram.

    The range [min x, max x] is cut into `bins` equal-width bins (the maximum falls in the
    last one); for each τ the n − τ pairs (x_t, x_{t+τ}) give the joint frequencies p_ab and
    their marginals p_a, p_b, and I(τ) = Σ_{p_ab > 0} p_ab ln(p_ab / (p_a p_b)) in nats.
    I(0) is the binned entropy of x. The estimator is biased upwards: for independent pairs
    E[I] ≈ (bins − 1)² / (2(n − τ)); keep `bins` fixed when comparing curves.

    **Arguments:**

    - `x`: the series, shape `(n,)`, n ≥ 2.
    - `max_lag`: the largest lag, a static int in `0..n−1`.
    - `bins`: the number of equal-width bins, a static int ≥ 2 (default 16, as TISEAN's
      `mutual`).

    **Returns:** I(0..max_lag), shape `(max_lag + 1,)`, in the dtype of `x`.

    **Raises:** `TypeError` for a non-real `x` or a non-int `max_lag` or `bins`;
    `ValueError` if `x` is not 1-D with n ≥ 2, `max_lag` is not in `0..n−1`, or
    `bins` < 2.

    **References:** Fraser & Swinney (1986), *Independent coordinates for strange attractors
    from mutual information*, Phys. Rev. A 33, 1134-1140.
    """
    fn = "average_mutual_information"
    x, max_lag, bins = _check_ami(fn, x, max_lag, bins, minimum_lag=0)
    return _ami(x, max_lag, bins)


def _check_ami(fn, x, max_lag, bins, minimum_lag):
    x = _as_series(fn, x)
    n = x.shape[0]
    _check_length(fn, n, 2, "a mutual information")
    if max_lag is None:
        max_lag = max(min(n // 4, 200), minimum_lag)
    max_lag = _check_max_lag(fn, max_lag, n, minimum_lag)
    bins = check_int(fn, "bins", bins, minimum=2)
    return x, max_lag, bins


@eqx.filter_jit
def _ami(x, max_lag, bins):
    n = x.shape[0]
    lo = jnp.min(x)
    width = jnp.max(x) - lo
    scaled = (x - lo) / jnp.where(width > 0, width, 1) * bins
    idx = jnp.clip(jnp.floor(scaled).astype(jnp.int32), 0, bins - 1)
    padded = jnp.concatenate([idx, jnp.zeros(max_lag, jnp.int32)])
    t = jnp.arange(n)

    def one_lag(lag):
        partner = jax.lax.dynamic_slice(padded, (lag,), (n,))
        pairs = n - lag
        weight = (t < pairs).astype(x.dtype)
        joint = jnp.zeros(bins * bins, x.dtype).at[idx * bins + partner].add(weight)
        joint = joint.reshape(bins, bins) / pairs.astype(x.dtype)
        outer = joint.sum(axis=1)[:, None] * joint.sum(axis=0)[None, :]
        occupied = joint > 0
        ratio = jnp.where(occupied, joint, 1) / jnp.where(occupied, outer, 1)
        return jnp.sum(jnp.where(occupied, joint * jnp.log(ratio), 0))

    # Batches of lags vectorise the histogram while bounding memory at (batch, n).
    return jax.lax.map(one_lag, jnp.arange(max_lag + 1), batch_size=16)


def ami_lag(x: Real[ArrayLike, " n"], *, max_lag: int | None = None,
            bins: int = 16) -> LagResult:
    """The delay at the first local minimum of the average mutual information.

    The lag is the first τ in `1..max_lag−1` with I(τ − 1) > I(τ) ≤ I(τ + 1). If there is
    none, `found` is `False` and the lag is that of the smallest I(τ) over `1..max_lag`.
    Sampling noise in I(τ) can create a spurious early minimum on short or noisy series:
    inspect `curve`.

    **Arguments:**

    - `x`: the series, shape `(n,)`, n ≥ 3.
    - `max_lag`: the largest lag, a static int in `2..n−1` (default `min(n // 4, 200)`).
    - `bins`: the number of equal-width bins, as in `average_mutual_information`.

    **Returns:** a `LagResult` whose `curve` is I(0..max_lag).

    **Raises:** as `average_mutual_information`, and `ValueError` if `max_lag < 2`.

    **References:** Fraser & Swinney (1986), *Independent coordinates for strange attractors
    from mutual information*, Phys. Rev. A 33, 1134-1140.
    """
    x, max_lag, bins = _check_ami("ami_lag", x, max_lag, bins, minimum_lag=2)
    return _first_local_minimum(_ami(x, max_lag, bins))


@eqx.filter_jit
def _first_local_minimum(ami):
    minima = (ami[:-2] > ami[1:-1]) & (ami[1:-1] <= ami[2:])  # at τ = 1..max_lag−1
    found = jnp.any(minima)
    lag = jnp.where(found, jnp.argmax(minima), jnp.argmin(ami[1:])) + 1
    return LagResult(lag=lag.astype(jnp.int32), found=found, curve=ami)


# ---------------------------------------------------------------------------------------------
# The dimension: nearest neighbours in growing dimension, Cao's E1/E2 and false neighbours
# ---------------------------------------------------------------------------------------------


def _neighbours_by_dimension(x, lag, num_dims, theiler, block_size, metric):
    """For d = 1..num_dims and each point i: i's nearest neighbour n(i, d) in dimension d.

    Returns `(dist, extra, ok)`, each of shape `(num_dims, n)`: the distance
    ‖y_i(d) − y_{n(i,d)}(d)‖ (max-norm or Euclidean), the next coordinate's distance
    |x_{i+d·lag} − x_{n(i,d)+d·lag}|, and whether the entry counts (y_i(d + 1) exists and a
    neighbour was found). Candidates j need y_j(d + 1) to exist, |i − j| > theiler and a
    non-zero distance (exact duplicates are skipped, as Cao prescribes).

    Queries are processed in blocks of `block_size` (`lax.map`), and within a block the
    distances to all n points are grown one coordinate at a time as d increases, so memory
    is O(block_size · n) and the cost O(num_dims · n²), with no n × n matrix.
    """
    n = x.shape[0]
    # `lag` is traced (one compilation serves every lag); coordinates past the end are 0 and
    # only ever belong to points masked out below.
    times = jnp.arange(n)
    coords = jnp.stack([jnp.take(x, times + k * lag, mode="fill", fill_value=0)
                        for k in range(num_dims + 1)], axis=1)
    block = min(block_size, n)
    num_blocks = -(-n // block)
    queries = jnp.arange(num_blocks * block).reshape(num_blocks, block)
    candidates = times

    def one_block(q):
        yq = coords[jnp.minimum(q, n - 1)]  # padding queries read a real row; masked below
        far = jnp.abs(q[:, None] - candidates[None, :]) > theiler

        def grow(acc, d):
            diff = yq[:, d - 1, None] - coords[None, :, d - 1]
            acc = jnp.maximum(acc, jnp.abs(diff)) if metric == "max" else acc + diff * diff
            limit = n - d * lag
            allowed = far & (candidates[None, :] < limit) & (acc > 0)
            masked = jnp.where(allowed, acc, jnp.inf)
            nearest = jnp.argmin(masked, axis=1)
            best = jnp.min(masked, axis=1)
            ok = (q < limit) & jnp.isfinite(best)
            extra = jnp.abs(yq[:, d] - coords[nearest, d])
            dist = best if metric == "max" else jnp.sqrt(best)
            return acc, (dist, extra, ok)

        acc0 = jnp.zeros((block, n), x.dtype)
        _, out = jax.lax.scan(grow, acc0, jnp.arange(1, num_dims + 1))
        return out

    dist, extra, ok = jax.lax.map(one_block, queries)  # (num_blocks, num_dims, block)

    def flat(a):
        return jnp.moveaxis(a, 1, 0).reshape(num_dims, num_blocks * block)[:, :n]

    return flat(dist), flat(extra), flat(ok)


def _check_neighbour_args(fn, x, lag, max_dim, num_dims, theiler, block_size):
    x = _as_series(fn, x)
    lag = check_int(fn, "lag", lag, minimum=1)
    max_dim = check_int(fn, "max_dim", max_dim, minimum=1)
    theiler = check_int(fn, "theiler", theiler, minimum=0)
    block_size = check_int(fn, "block_size", block_size, minimum=1)
    # The largest dimension examined, num_dims(max_dim), needs the coordinate at
    # i + num_dims·lag and at least two such points to pair up.
    top = num_dims(max_dim)
    _check_length(fn, x.shape[0], top * lag + 2,
                  f"max_dim={max_dim} with lag={lag} (vectors of dimension {top + 1})")
    return x, lag, max_dim, theiler, block_size


def _first_true(flags):
    found = jnp.any(flags)
    return jnp.where(found, jnp.argmax(flags) + 1, flags.shape[0]).astype(jnp.int32), found


def cao_embedding_dimension(x: Real[ArrayLike, " n"], lag: int, *, max_dim: int = 10,
                            threshold: float = 0.8, tolerance: float = 0.1, theiler: int = 0,
                            block_size: int = 256) -> CaoResult:
    """Cao's method for the minimum embedding dimension of a scalar series.

    With y_i(d) = (x_i, x_{i+τ}, …, x_{i+(d−1)τ}) for i = 0..n−1−dτ and n(i, d) the nearest
    neighbour of y_i(d) in the max-norm among the same points (not i itself, not within
    `theiler` samples of i, and not an exact duplicate):

    a(i, d) = ‖y_i(d+1) − y_{n(i,d)}(d+1)‖ / ‖y_i(d) − y_{n(i,d)}(d)‖,  E(d) = mean_i a(i, d),
    E1(d) = E(d + 1) / E(d);  E*(d) = mean_i |x_{i+dτ} − x_{n(i,d)+dτ}|,
    E2(d) = E*(d + 1) / E*(d).

    E1(d) rises towards 1 and stops changing once d reaches the minimum embedding dimension.
    **Saturation rule**: the chosen dimension is the first d in `1..max_dim` where E1 has
    stopped changing, |E1(d + 1) − E1(d)| ≤ `tolerance` · E1(d) (10 % by default; for
    d = max_dim only the level is checked), at a level E1(d) ≥ `threshold` (0.8 by default,
    which only rules out an early plateau). A fixed level alone is fragile: on a few
    thousand samples of the Lorenz x-series E1(3) lies between 0.88 and 0.93 depending on
    the lag (E1(2) ≈ 0.2–0.4, E1(4) ≈ 0.9–0.96), so a 0.9 cut flips between 3 and 4.
    E1 → 1 for random data too, without a jump; E2 ≈ 1 for every d tells noise apart.

    Nearest neighbours are found by brute force in blocks of `block_size` queries, so memory
    is O(block_size · n) and time O(max_dim · n²): n ≈ 5000 takes seconds.

    **Arguments:**

    - `x`: the series, shape `(n,)`, with n ≥ (max_dim + 1)·lag + 2.
    - `lag`: the delay τ in samples, a static int ≥ 1 (e.g. from `ami_lag`).
    - `max_dim`: the largest d for E1 and E2, a static int ≥ 1 (E is computed up to
      max_dim + 1).
    - `threshold`: the level E1 must reach to count as saturated.
    - `tolerance`: the largest relative change of E1 to the next d that counts as saturated.
    - `theiler`: exclude neighbours within this many samples in time (0: only i itself).
    - `block_size`: the number of queries per block of the neighbour search.

    **Returns:** a `CaoResult` with E1, E2, E, E* and the chosen dimension. Points without an
    admissible neighbour (a constant series) are left out of the means; if none is left,
    the curves are NaN.

    **Raises:** `TypeError` for a non-real `x`, non-int `lag`, `max_dim`, `theiler` or
    `block_size`, or non-number `threshold`/`tolerance`; `ValueError` if `x` is not 1-D,
    `lag`, `max_dim` or `block_size` is below 1, `theiler` negative,
    `threshold`/`tolerance` not positive, or `x` is too short.

    **References:** Cao (1997), *Practical method for determining the minimum embedding
    dimension of a scalar time series*, Physica D 110, 43-50.
    """
    fn = "cao_embedding_dimension"
    x, lag, max_dim, theiler, block_size = _check_neighbour_args(
        fn, x, lag, max_dim, lambda m: m + 1, theiler, block_size)
    threshold = check_number(fn, "threshold", threshold, minimum=0.0, open_minimum=True)
    tolerance = check_number(fn, "tolerance", tolerance, minimum=0.0, open_minimum=True)
    return _cao(x, jnp.asarray(lag, jnp.int32), max_dim, jnp.asarray(threshold, x.dtype),
                jnp.asarray(tolerance, x.dtype), jnp.asarray(theiler, jnp.int32), block_size)


@eqx.filter_jit
def _cao(x, lag, max_dim, threshold, tolerance, theiler, block_size):
    dist, extra, ok = _neighbours_by_dimension(x, lag, max_dim + 1, theiler, block_size, "max")
    count = jnp.sum(ok, axis=1).astype(x.dtype)
    ratio = jnp.maximum(dist, extra) / jnp.where(ok, dist, 1)
    e = jnp.sum(jnp.where(ok, ratio, 0), axis=1) / count
    e_star = jnp.sum(jnp.where(ok, extra, 0), axis=1) / count
    e1 = e[1:] / e[:-1]
    e2 = e_star[1:] / e_star[:-1]
    change = jnp.abs(jnp.diff(e1, append=e1[-1:])) <= tolerance * e1
    dimension, saturated = _first_true((e1 >= threshold) & change)
    return CaoResult(e1=e1, e2=e2, e=e, e_star=e_star, dimension=dimension,
                     saturated=saturated)


def false_nearest_neighbours(x: Real[ArrayLike, " n"], lag: int, *, max_dim: int = 10,
                             rtol: float = 15.0, atol: float = 2.0, threshold: float = 0.01,
                             theiler: int = 0, block_size: int = 256) -> FNNResult:
    """The fraction of false nearest neighbours by embedding dimension (Kennel et al.).

    For y_i(d) = (x_i, …, x_{i+(d−1)τ}), i = 0..n−1−dτ, and its Euclidean nearest neighbour
    n(i, d) among the same points (not i, not within `theiler` samples, not an exact
    duplicate) at distance R_d(i), the pair is false if

    |x_{i+dτ} − x_{n(i,d)+dτ}| / R_d(i) > `rtol`   or   R_{d+1}(i) / R_A > `atol`,

    where R_A is the standard deviation of x. The chosen dimension is the first d whose
    fraction of false neighbours is below `threshold`.

    **Arguments:**

    - `x`: the series, shape `(n,)`, with n ≥ max_dim·lag + 2.
    - `lag`: the delay τ in samples, a static int ≥ 1.
    - `max_dim`: the largest d, a static int ≥ 1.
    - `rtol`: Kennel's R_tol for the distance-increase test (15 in the paper).
    - `atol`: Kennel's A_tol for the attractor-size test (2 in the paper).
    - `threshold`: the fraction below which d counts as an embedding (default 1 %).
    - `theiler`, `block_size`: as in `cao_embedding_dimension`.

    **Returns:** an `FNNResult` with the fractions for d = 1..max_dim and the chosen d.

    **Raises:** `TypeError` for a non-real `x`, non-int `lag`, `max_dim`, `theiler` or
    `block_size`, or non-number `rtol`/`atol`/`threshold`; `ValueError` if `x` is not 1-D,
    `lag`, `max_dim` or `block_size` is below 1, `theiler` negative,
    `rtol`/`atol`/`threshold` not positive, or `x` is too short.

    **References:** Kennel, Brown & Abarbanel (1992), *Determining embedding dimension for
    phase-space reconstruction using a geometrical construction*, Phys. Rev. A 45, 3403-3411.
    """
    fn = "false_nearest_neighbours"
    x, lag, max_dim, theiler, block_size = _check_neighbour_args(
        fn, x, lag, max_dim, lambda m: m, theiler, block_size)
    rtol = check_number(fn, "rtol", rtol, minimum=0.0, open_minimum=True)
    atol = check_number(fn, "atol", atol, minimum=0.0, open_minimum=True)
    threshold = check_number(fn, "threshold", threshold, minimum=0.0, open_minimum=True)
    return _fnn(x, jnp.asarray(lag, jnp.int32), max_dim, jnp.asarray(rtol, x.dtype),
                jnp.asarray(atol, x.dtype), jnp.asarray(threshold, x.dtype),
                jnp.asarray(theiler, jnp.int32), block_size)


@eqx.filter_jit
def _fnn(x, lag, max_dim, rtol, atol, threshold, theiler, block_size):
    dist, extra, ok = _neighbours_by_dimension(x, lag, max_dim, theiler, block_size,
                                               "euclidean")
    spread = jnp.std(x)
    grows = extra > rtol * dist
    leaves = jnp.sqrt(dist * dist + extra * extra) > atol * spread
    false = ok & (grows | leaves)
    fractions = jnp.sum(false, axis=1) / jnp.sum(ok, axis=1)
    fractions = fractions.astype(x.dtype)
    dimension, found = _first_true(fractions < threshold)
    return FNNResult(fractions=fractions, dimension=dimension, found=found)
