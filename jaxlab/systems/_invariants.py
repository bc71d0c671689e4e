"""Invariants of attractors and series: the correlation dimension, the dominant period, the
largest Lyapunov exponent and the Lyapunov time."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray, Real

from .._core.checks import (
    as_float_array,
    check_int,
    check_key,
    check_number,
    concrete_values,
    message,
    shape_str,
)
from ._base import AbstractSystem
from ._lyapunov import lyapunov_spectrum

# Pairs visited per step of the pair loop: small enough to stay in cache (measured fastest
# on CPU at ~1e5 distances a step), large enough that the scan overhead is negligible.
_PAIRS_PER_STEP = 2**16


class CorrelationDimensionResult(eqx.Module):
    """The output of `correlation_dimension`.

    **Fields:**

    - `dimension`: the correlation dimension D₂, the least-squares slope of log C(r)
      against log r over the fitted range; `nan` if no range with at least two usable
      radii exists.
    - `radii`: the radius grid r_1 < … < r_k, shape `(k,)`.
    - `correlation_sum`: C(r), the fraction of admissible pairs closer than r, shape `(k,)`.
    - `pair_counts`: the number of admissible pairs closer than each radius, shape `(k,)`.
    - `num_pairs`: the number of admissible pairs (those outside the Theiler window).
    - `local_slopes`: d log C / d log r at each radius (central differences; `nan` where
      C = 0 at the radius or a neighbour), shape `(k,)`. Plot them against `radii`: a
      plateau is the scaling region.
    - `fit_mask`: which radii entered the fit, shape `(k,)`.
    - `fit_range`: the smallest and largest radius that entered the fit, shape `(2,)`.
    - `intercept`: the intercept of the fitted line log C = D₂ log r + intercept.
    - `max_residual`: the largest |log C − fitted line| over the fitted radii (natural log):
      how far from a power law C(r) is over the fitted range.
    - `num_points`: how many points were used (after subsampling).
    """

    dimension: Float[Array, ""]
    radii: Float[Array, " k"]
    correlation_sum: Float[Array, " k"]
    pair_counts: Int[Array, " k"]
    num_pairs: Int[Array, ""]
    local_slopes: Float[Array, " k"]
    fit_mask: Bool[Array, " k"]
    fit_range: Float[Array, " 2"]
    intercept: Float[Array, ""]
    max_residual: Float[Array, ""]
    num_points: int = eqx.field(static=True)


def correlation_dimension(
    points: Real[ArrayLike, "n d"],
    *,
    radii: Real[ArrayLike, " k"] | None = None,
    num_radii: int = 64,
    theiler: int = 0,
    fit_range: tuple[float, float] | None = None,
    min_pairs: int | None = None,
    min_decades: float = 1.0,
    linearity_tolerance: float = 0.05,
    max_points: int | None = 10_000,
    key: PRNGKeyArray | None = None,
) -> CorrelationDimensionResult:
    """Estimate the correlation dimension D₂ by the Grassberger–Procaccia algorithm.

    The correlation sum C(r) = #{admissible pairs with ‖x_i − x_j‖ < r} / #{admissible
    pairs} (Euclidean norm) is evaluated on a grid of radii in one pass over the pairs.
    A pair i < j is admissible if it lies outside the Theiler window, |i − j| > `theiler`
    (indices of the original series, also after subsampling); with `theiler = 0` every pair
    of distinct points counts, and C(r) = 2/(N(N−1)) Σ_{i<j} 1[‖x_i − x_j‖ < r].
    Normalising by the number of admissible pairs makes C → 1 at the largest radius; it
    does not change the slope.

    The pairs are visited in blocks (`lax.scan`), each unordered pair once, and their
    squared distances are histogrammed into the bins of the squared radii (so "closer than
    r" means d² < r² in the precision of `points`), so memory stays O(N) whatever N; no
    N × N matrix is formed. The work is O(N²); `max_points` bounds it.

    The scaling region, when `fit_range` is not given, is chosen automatically among the
    windows of consecutive radii that (a) have at least `min_pairs` pairs at their smallest
    radius and C < 1 at their largest, and (b) span at least `min_decades` decades of r:
    the widest window over which log C stays within `linearity_tolerance` of its least-
    squares line (C within ±5 % of a power law by default); if no window is that straight,
    the window with the smallest RMS residual. D₂ is the least-squares slope of log C
    against log r over it; it is `nan` if no window qualifies or a point is not finite.
    Inspect `local_slopes` before trusting the number: D₂ is biased low without a Theiler
    window on flow data and sensitive to the range (see References).

    Use float64 (`jax_enable_x64` and float64 `points`) for the smallest radii of dense
    attractors; counts are exact integers in either precision.

    **Arguments:**

    - `points`: the states, shape `(n, d)` (a scalar series: shape `(n, 1)`, or a delay
      embedding of it), in time order if a Theiler window is used.
    - `radii`: an increasing grid of positive radii, shape `(k,)`. Default: `num_radii`
      radii spaced evenly in log r from the smallest positive to just above the largest
      admissible pair distance (found by a first, cheaper pass over the pairs).
    - `num_radii`: the size of the default grid (≥ 4); ignored if `radii` is given.
    - `theiler`: the Theiler window w ≥ 0 in samples: pairs with |i − j| ≤ w are excluded,
      to remove temporally correlated neighbours (use about one autocorrelation time).
    - `fit_range`: `(r_lo, r_hi)`: fit over the radii in this closed interval (those with
      C > 0) instead of choosing the range automatically.
    - `min_pairs`: the automatic range starts where at least this many pairs are closer
      than r (default: the number of points, i.e. on average two neighbours a point; fewer
      pairs give noisy, typically too steep slopes).
    - `min_decades`: the shortest automatic range, in decades of r.
    - `linearity_tolerance`: the largest |residual| of log C (natural log) about the line
      for a window to count as a scaling region.
    - `max_points`: if there are more points, use this many: evenly spaced in time without
      a `key`, a random subset (kept in time order) with one. `None`: use all points.
    - `key`: a PRNG key for random subsampling.

    **Returns:** a `CorrelationDimensionResult`.

    **Raises:** `TypeError` for non-real `points` or `radii`, a non-int `theiler`,
    `num_radii`, `min_pairs` or `max_points`, a non-number `min_decades` or
    `linearity_tolerance`, or a `key` that is not a PRNG key; `ValueError` if `points` is
    not a 2-D array with at least 3 points, or
    `radii`, `num_radii`, `theiler`, `fit_range`, `min_pairs`, `min_decades`,
    `linearity_tolerance` or `max_points` is out of range; if no pair is admissible; or if
    float64 is off and the number of pairs overflows the int32 counts (N > 65536).

    **References:** Grassberger & Procaccia, *Characterization of strange attractors*,
    Phys. Rev. Lett. 50, 346 (1983) and *Measuring the strangeness of strange attractors*,
    Physica D 9, 189 (1983); Theiler, *Spurious dimension from correlation algorithms
    applied to limited time-series data*, Phys. Rev. A 34, 2427 (1986).
    """
    name = "correlation_dimension"
    x = as_float_array(name, "points", points)
    if x.ndim != 2 or x.shape[0] < 3 or x.shape[1] < 1:
        raise ValueError(message(name, "points", "a 2-D array of shape (n, d) with n ≥ 3 and "
                                 "d ≥ 1 (reshape a scalar series to (n, 1))",
                                 f"shape {shape_str(x)}"))
    n_all = x.shape[0]
    theiler = check_int(name, "theiler", theiler, minimum=0)
    if theiler >= n_all - 1:
        raise ValueError(message(name, "theiler", f"below {n_all - 1} (so that some pair of "
                                 f"the {n_all} points is admissible)", theiler))
    max_points = check_int(name, "max_points", max_points, minimum=3, none_ok=True)
    if radii is None:
        num_radii = check_int(name, "num_radii", num_radii, minimum=4)
    else:
        radii = as_float_array(name, "radii", radii).astype(x.dtype)
        if radii.ndim != 1 or radii.shape[0] < 2:
            raise ValueError(message(name, "radii", "a 1-D array of at least 2 radii",
                                     f"shape {shape_str(radii)}"))
        r = concrete_values(radii)
        if r is not None and not (np.all(r > 0) and np.all(np.diff(r) > 0)):
            raise ValueError(message(name, "radii", "positive and strictly increasing", r))
    if fit_range is not None:
        ok = (isinstance(fit_range, (tuple, list)) and len(fit_range) == 2
              and all(isinstance(v, (int, float)) for v in fit_range)
              and 0 < fit_range[0] < fit_range[1])
        if not ok:
            raise ValueError(message(name, "fit_range", "None or a pair (r_lo, r_hi) with "
                                     "0 < r_lo < r_hi", repr(fit_range)))
    min_pairs = check_int(name, "min_pairs", min_pairs, minimum=1, none_ok=True)
    min_decades = check_number(name, "min_decades", min_decades, minimum=0.0,
                               open_minimum=True)
    linearity_tolerance = check_number(name, "linearity_tolerance", linearity_tolerance,
                                       minimum=0.0, open_minimum=True)
    key = check_key(name, key, none_ok=True)

    n = n_all if max_points is None else min(n_all, max_points)
    if not jax.config.read("jax_enable_x64") and n * (n - 1) // 2 > np.iinfo(np.int32).max:
        raise ValueError(message(name, "max_points", "at most 65536 without jax_enable_x64 "
                                 "(int32 pair counts)", f"{n} points, {n * (n - 1) // 2} pairs"))
    if n < n_all:
        if key is None:
            index = (np.arange(n) * n_all) // n
            index = jnp.asarray(index)
        else:
            index = jnp.sort(jax.random.choice(key, n_all, (n,), replace=False))
        x, times = x[index], index.astype(jnp.int32)
    else:
        times = jnp.arange(n, dtype=jnp.int32)
    min_pairs = n if min_pairs is None else min_pairs
    fit = None if fit_range is None else jnp.asarray(fit_range, dtype=x.dtype)
    # Python ints stay static (shapes); everything a user may vary is passed as an array so
    # that it does not cost a compilation.
    return _correlation_dimension(
        x, times, jnp.asarray(theiler, jnp.int32), radii,
        num_radii if radii is None else None, fit, jnp.asarray(min_pairs),
        jnp.asarray(min_decades * math.log(10.0), x.dtype),
        jnp.asarray(linearity_tolerance, x.dtype))


def _count_dtype():
    return jnp.int64 if jax.config.read("jax_enable_x64") else jnp.int32


def _scan_pairs(x, times, theiler, step, init):
    """Fold `step(carry, d2, admissible)` over every unordered pair of points once.

    Pair (i, (i + s) mod n) for offsets s = 1 … ⌊n/2⌋ visits each unordered pair exactly
    once (for even n the offset n/2 would visit its pairs twice, so only i < n/2 is kept
    there). Offsets are taken `block` at a time; each offset is a contiguous slice of the
    doubled array, so no pair index arrays are built.
    """
    n = x.shape[0]
    half = n // 2
    block = max(1, min(half, _PAIRS_PER_STEP // n))
    num_steps = -(-half // block)
    reps = -(-(n + num_steps * block + 1) // n)
    xx = jnp.tile(x, (reps, 1))
    tt = jnp.tile(times, reps)
    i = jnp.arange(n)

    def pairs_at(offset):
        y = jax.lax.dynamic_slice_in_dim(xx, offset, n)
        t = jax.lax.dynamic_slice_in_dim(tt, offset, n)
        d2 = jnp.sum((x - y) ** 2, axis=-1)
        admissible = ((jnp.abs(t - times) > theiler) & (offset <= half)
                      & ((2 * offset != n) | (i < half)))
        return d2, admissible

    def body(carry, s):
        d2, admissible = jax.vmap(pairs_at)(s * block + 1 + jnp.arange(block))
        return step(carry, d2.ravel(), admissible.ravel()), None

    carry, _ = jax.lax.scan(body, init, jnp.arange(num_steps))
    return carry


@eqx.filter_jit
def _correlation_dimension(x, times, theiler, radii, num_radii, fit_range, min_pairs,
                           min_span, tolerance):
    dtype = x.dtype
    count = _count_dtype()
    if radii is None:
        # First pass: the range of admissible distances, for a grid that covers the data.
        def extremes(carry, d2, admissible):
            lo, hi = carry
            lo = jnp.minimum(lo, jnp.min(jnp.where(admissible & (d2 > 0), d2, jnp.inf)))
            hi = jnp.maximum(hi, jnp.max(jnp.where(admissible, d2, -jnp.inf)))
            return lo, hi

        init = (jnp.array(jnp.inf, dtype), jnp.array(-jnp.inf, dtype))
        lo2, hi2 = _scan_pairs(x, times, theiler, extremes, init)
        # Every pair at distance 0 (repeated points): any positive grid will do.
        hi2 = jnp.where(hi2 > 0, hi2, 1.0)
        lo2 = jnp.where(jnp.isfinite(lo2), lo2, hi2 / 4)
        log_lo = 0.5 * jnp.log(lo2)
        # Just above the largest distance, so that C = 1 at the last radius.
        log_hi = 0.5 * jnp.log(hi2) + 8 * jnp.finfo(dtype).eps
        log_hi = jnp.maximum(log_hi, log_lo + 8 * jnp.finfo(dtype).eps)
        step = (log_hi - log_lo) / (num_radii - 1)
        radii = jnp.exp(log_lo + step * jnp.arange(num_radii, dtype=dtype))
        # The barrier keeps XLA from rewriting exp(a)·exp(a) as exp(2a): r² must be the
        # rounded square of the returned radius, so that counts are exactly "d² < r²".
        radii = jax.lax.optimization_barrier(radii)
        r2 = radii * radii
        r2_padded = jnp.concatenate([jnp.array([-jnp.inf], dtype), r2,
                                     jnp.array([jnp.inf], dtype)])

        def bin_of(d2):
            # #{k : r_k² ≤ d²} from the log-uniform grid, then corrected by at most one
            # either way, so the bin is exact whatever the rounding of log and exp.
            u = (0.5 * jnp.log(jnp.maximum(d2, jnp.finfo(dtype).tiny)) - log_lo) / step
            guess = jnp.clip(jnp.floor(jnp.clip(u, -1.0, num_radii)).astype(jnp.int32) + 1,
                             0, num_radii)
            return (guess + (d2 >= r2_padded[guess + 1]).astype(jnp.int32)
                    - (d2 < r2_padded[guess]).astype(jnp.int32))
    else:
        r2 = radii * radii

        def bin_of(d2):
            return jnp.searchsorted(r2, d2, side="right").astype(jnp.int32)

    k = radii.shape[0]

    def histogram(carry, d2, admissible):
        hist, total = carry
        h = jnp.bincount(bin_of(d2), weights=admissible.astype(jnp.int32), length=k + 1)
        return hist + h.astype(count), total + jnp.sum(admissible, dtype=count)

    init = (jnp.zeros(k + 1, count), jnp.zeros((), count))
    hist, num_pairs = _scan_pairs(x, times, theiler, histogram, init)
    # A pair in bin b (r_{b-1} ≤ d < r_b) is closer than r_j for every j ≥ b.
    counts = jnp.cumsum(hist)[:k]
    c = (counts / num_pairs).astype(dtype)

    log_r = jnp.log(radii)
    positive = c > 0
    log_c = jnp.where(positive, jnp.log(jnp.where(positive, c, 1.0)), jnp.nan)
    slopes = _local_slopes(log_r, log_c)
    if fit_range is None:
        usable = (counts >= min_pairs) & (c < 1)
        mask = _scaling_window(log_r, jnp.where(positive, log_c, 0.0), usable, min_span,
                               tolerance)
    else:
        mask = positive & (radii >= fit_range[0]) & (radii <= fit_range[1])
    dimension, intercept, residual = _line_fit(log_r, jnp.where(positive, log_c, 0.0), mask)
    # A non-finite point makes every count meaningless: say so rather than fit garbage.
    dimension = jnp.where(jnp.all(jnp.isfinite(x)), dimension, jnp.nan)
    used = jnp.any(mask)
    fit_lo = jnp.where(used, jnp.min(jnp.where(mask, radii, jnp.inf)), jnp.nan)
    fit_hi = jnp.where(used, jnp.max(jnp.where(mask, radii, -jnp.inf)), jnp.nan)
    return CorrelationDimensionResult(
        dimension=dimension, radii=radii, correlation_sum=c, pair_counts=counts,
        num_pairs=num_pairs, local_slopes=slopes, fit_mask=mask,
        fit_range=jnp.stack([fit_lo, fit_hi]).astype(dtype), intercept=intercept,
        max_residual=residual, num_points=x.shape[0])


def _local_slopes(log_r, log_c):
    """d log C / d log r: central differences inside, one-sided at the two ends."""
    ahead = jnp.concatenate([log_c[1:], log_c[-1:]])
    behind = jnp.concatenate([log_c[:1], log_c[:-1]])
    r_ahead = jnp.concatenate([log_r[1:], log_r[-1:]])
    r_behind = jnp.concatenate([log_r[:1], log_r[:-1]])
    return (ahead - behind) / (r_ahead - r_behind)


def _line_fit(x, y, mask):
    """Least-squares line through the masked points: (slope, intercept, max |residual|)."""
    m = mask.astype(x.dtype)
    num = jnp.sum(m)
    enough = num >= 2
    x_mean = jnp.sum(m * x) / jnp.maximum(num, 1)
    y_mean = jnp.sum(m * y) / jnp.maximum(num, 1)
    sxx = jnp.sum(m * (x - x_mean) ** 2)
    sxy = jnp.sum(m * (x - x_mean) * (y - y_mean))
    slope = sxy / jnp.where(enough, sxx, 1.0)
    intercept = y_mean - slope * x_mean
    residual = jnp.max(jnp.where(mask, jnp.abs(y - slope * x - intercept), 0.0))
    nan = jnp.array(jnp.nan, x.dtype)
    return (jnp.where(enough, slope, nan), jnp.where(enough, intercept, nan),
            jnp.where(enough, residual, nan))


def _scaling_window(log_r, log_c, usable, min_span, tolerance):
    """The mask of the automatically chosen scaling window (see `correlation_dimension`)."""
    k = log_r.shape[0]
    index = jnp.arange(k)
    bad_before = jnp.cumsum(jnp.concatenate([jnp.zeros(1, jnp.int32),
                                             (~usable).astype(jnp.int32)]))

    def windows_from(a):
        # The least-squares line of every window [a, b], b = 0 … k−1, at once: rows of a
        # (k, k) mask over the radii.
        m = ((index[None, :] >= a) & (index[None, :] <= index[:, None])).astype(log_r.dtype)
        num = jnp.maximum(jnp.sum(m, axis=1), 1)
        dx = log_r - (m @ log_r / num)[:, None]
        dy = log_c - (m @ log_c / num)[:, None]
        sxx = jnp.sum(m * dx * dx, axis=1)
        slope = jnp.sum(m * dx * dy, axis=1) / jnp.where(sxx > 0, sxx, 1.0)
        residual = m * jnp.abs(dy - slope[:, None] * dx)
        rms = jnp.sqrt(jnp.sum(residual * residual, axis=1) / num)
        span = log_r - log_r[a]
        allowed = ((index > a) & (bad_before[index + 1] == bad_before[a])
                   & (span >= min_span * (1 - 1e-6)))
        return allowed, span, jnp.max(residual, axis=1), rms

    # Vectorised over a in batches of ~2**18 elements: fast to compile, bounded memory.
    batch = max(1, min(k, 2**18 // (k * k)))
    allowed, span, residual, rms = jax.lax.map(windows_from, index, batch_size=batch)
    straight = allowed & (residual <= tolerance)
    # Widest straight window (ties: the straightest); else the straightest allowed one.
    widest = jnp.where(straight, span, -jnp.inf)
    tie_rms = jnp.where(straight & (widest >= jnp.max(widest)), rms, jnp.inf)
    score = jnp.where(jnp.any(straight), tie_rms, jnp.where(allowed, rms, jnp.inf))
    flat = jnp.argmin(score.ravel())
    a, b = flat // k, flat % k
    return jnp.any(allowed) & (index >= a) & (index <= b)


def dominant_period(x: Real[ArrayLike, " n"] | Real[ArrayLike, "n c"],
                    dt: float | Real[ArrayLike, ""], *, oversample: int = 4
                    ) -> Float[Array, ""]:
    """The period of the highest peak of the power spectrum of a sampled series.

    Each channel has its mean removed and is multiplied by a Hann window (so the leakage of
    a strong low-frequency component does not mask the peak); the periodograms of the
    channels are summed (so several channels vote, weighted by their variance), computed on
    a zero-padded FFT grid `oversample` times finer than 1/(n dt), and the highest peak is
    refined by a parabola through the log-power at it and its two neighbours. Frequencies
    below one cycle per record, 1/(n dt), are ignored: such a period is not resolved.

    For a chaotic flow "the" dominant period depends on the channel and on the record; it
    is a time scale for resampling (points per period), not a precise invariant.

    **Arguments:**

    - `x`: the series, shape `(n,)`, or `(n, c)` for `c` channels sampled together, n ≥ 8.
    - `dt`: the sampling interval (> 0), in the time unit of the returned period.
    - `oversample`: the zero-padding factor (a positive int); the FFT length is the power
      of two ≥ `oversample * n`.

    **Returns:** the period, a scalar of the dtype of `x` (use `float(...)` for a number).

    **Raises:** `TypeError` for a non-real `x` or `dt` or a non-int `oversample`;
    `ValueError` if `x` is not a 1-D or 2-D array with at least 8 samples, or `dt` or
    `oversample` is not positive.

    **References:** Gilpin, *Chaos as an interpretable benchmark for forecasting and
    data-driven modelling* (NeurIPS 2021), which resamples every system by this period;
    Quinn, *Estimating frequency by interpolation using Fourier coefficients* (IEEE Trans.
    Signal Process. 42, 1994) for peak interpolation.
    """
    name = "dominant_period"
    series = as_float_array(name, "x", x)
    if series.ndim not in (1, 2) or series.shape[0] < 8:
        raise ValueError(message(name, "x", "an array of shape (n,) or (n, c) with n ≥ 8",
                                 f"shape {shape_str(series)}"))
    if series.ndim == 1:
        series = series[:, None]
    if isinstance(dt, (int, float, np.number)):
        dt = check_number(name, "dt", dt, minimum=0.0, open_minimum=True)
    else:
        dt = as_float_array(name, "dt", dt)
        if dt.ndim != 0:
            raise ValueError(message(name, "dt", "a scalar", f"shape {shape_str(dt)}"))
    oversample = check_int(name, "oversample", oversample, minimum=1)
    n_fft = 1 << max(int(oversample * series.shape[0] - 1).bit_length(), 3)
    return _dominant_period(series, jnp.asarray(dt, series.dtype), n_fft)


@eqx.filter_jit
def _dominant_period(series, dt, n_fft):
    n = series.shape[0]
    window = jnp.hanning(n).astype(series.dtype)
    centred = (series - jnp.mean(series, axis=0)) * window[:, None]
    power = jnp.sum(jnp.abs(jnp.fft.rfft(centred, n=n_fft, axis=0)) ** 2, axis=1)
    freq_index = jnp.arange(power.shape[0])
    # Below one cycle per record (index n_fft / n) nothing is resolved.
    resolved = freq_index * n >= n_fft
    peak = jnp.argmax(jnp.where(resolved, power, -jnp.inf))
    inner = (peak > 0) & (peak < power.shape[0] - 1)
    tiny = jnp.finfo(series.dtype).tiny
    left, mid, right = (jnp.log(jnp.maximum(power[jnp.clip(peak + s, 0, power.shape[0] - 1)],
                                            tiny)) for s in (-1, 0, 1))
    curvature = left - 2 * mid + right
    shift = jnp.where(inner & (curvature < 0),
                      0.5 * (left - right) / jnp.where(curvature < 0, curvature, -1.0), 0.0)
    frequency = (peak + jnp.clip(shift, -0.5, 0.5)) / (n_fft * dt)
    return (1.0 / frequency).astype(series.dtype)


def max_lyapunov(system: AbstractSystem, y0: Real[ArrayLike, " d"] | None = None,
                 **kwargs) -> Float[Array, ""]:
    """The largest Lyapunov exponent λ_max, by the Benettin method with one tangent vector.

    A convenience for `lyapunov_spectrum(system, y0, num_exponents=1, **kwargs)`; a single
    vector needs no QR, only a normalisation, so this is the cheapest way to λ_max.

    **Arguments:**

    - `system`: an `AbstractFlow` or `AbstractMap`.
    - `y0`: the initial state, shape `(d,)` (default: `system.initial_state()`).
    - `**kwargs`: any other keyword of `lyapunov_spectrum` (`num_intervals`, `interval`,
      `transient`, `rtol`, `atol`, `solver`, `max_steps`, `throw`).

    **Returns:** λ_max, a scalar (per unit time for flows, per iteration for maps).

    **Raises:** `TypeError` if `num_exponents` is passed; otherwise as `lyapunov_spectrum`.

    **References:** Benettin, Galgani, Giorgilli & Strelcyn (1980), *Meccanica* 15, 9-30.
    """
    if "num_exponents" in kwargs:
        raise TypeError(message("max_lyapunov", "num_exponents", "left out (it is fixed to 1; "
                                "use lyapunov_spectrum for more exponents)",
                                kwargs["num_exponents"]))
    return lyapunov_spectrum(system, y0, num_exponents=1, **kwargs).exponents[0]


def lyapunov_time(exponents_or_lambda_max: Real[ArrayLike, ""] | Real[ArrayLike, " k"]
                  ) -> Float[Array, ""]:
    """The Lyapunov time 1/λ_max, the e-folding time of small errors.

    **Arguments:**

    - `exponents_or_lambda_max`: λ_max (a scalar) or a Lyapunov spectrum, shape `(k,)`, in
      any order (its largest entry is used).

    **Returns:** 1/λ_max, a scalar; `inf` if λ_max ≤ 0 (no exponential divergence: a
    fixed point, a limit cycle or quasi-periodic motion has no finite Lyapunov time).
    Works under `jit`, so it reports rather than raises.

    **Raises:** `TypeError` for a non-real argument; `ValueError` if it is not a scalar or
    a non-empty 1-D array.

    **References:** Gilpin, *Chaos as an interpretable benchmark for forecasting and
    data-driven modelling* (NeurIPS 2021), which measures forecast horizons in it.
    """
    fn = "lyapunov_time"
    lam = as_float_array(fn, "exponents_or_lambda_max", exponents_or_lambda_max)
    if lam.ndim > 1 or lam.size == 0:
        raise ValueError(message(fn, "exponents_or_lambda_max", "a scalar or a non-empty 1-D "
                                 "array", f"shape {shape_str(lam)}"))
    top = jnp.max(lam)
    return jnp.where(top > 0, 1.0 / jnp.where(top > 0, top, 1.0), jnp.inf).astype(lam.dtype)
