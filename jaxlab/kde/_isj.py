"""Data-driven bandwidths: the improved Sheather–Jones (ISJ) selector and its per-axis plug-in.

ISJ (Botev, Grotowski & Kroese 2010) estimates the AMISE-optimal Gaussian bandwidth without a
normal reference: the functionals ‖f⁽ˢ⁾‖² it needs are computed from the DCT of the linearly
binned data, each at the pilot time the next-higher functional prescribes, and the chain of
ℓ = 7 stages closes in the fixed-point equation t = ξ γ^[ℓ](t), solved here by bisection.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jax.scipy.fft import dct
from jaxtyping import Array, ArrayLike, Bool, Float, Real

from .._core.checks import as_float_array, check_bool, check_int, concrete_values, message
from ._kde import normalised_weights

# ℓ in t = ξ γ^[ℓ](t): the deepest functional is ‖f⁽⁷⁾‖², estimated at the trial time t, and
# five pilot stages s = 6, …, 2 lead down to ‖f''‖² (the five the paper recommends; ℓ = 7 in
# Botev's code and KDEpy).
_STAGES = 7

# The grid runs this fraction of the data range beyond each extreme (KDEpy's relative
# padding, without its absolute floor of 6 data units). The DCT treats the grid as a reflecting
# interval, so the padding keeps the mirror images of the data's tails off the data.
_PADDING = 0.5

# The fixed point is bracketed by scanning log t over [t_min, 1] (t in units of the squared
# grid length; 1 is the whole grid, the upper end of Botev's search too) before bisection.
_LOG_T_MIN = math.log(1e-14)
_SCAN_POINTS = 128


def _check_grid_size(grid_size, fn: str) -> int:
    grid_size = check_int(fn, "grid_size", grid_size, minimum=64)
    if grid_size & (grid_size - 1):
        raise ValueError(message(fn, "grid_size", "a power of two >= 64", grid_size))
    return grid_size


def _check_values(x: Array, w: Array, fn: str) -> None:
    """Finite data with at least two distinct values in each column among the points of
    positive weight (when the values are known: outside `jit`)."""
    values, weights = concrete_values(x), concrete_values(w)
    if values is None:
        return
    columns = values.reshape(values.shape[0], -1)
    for column in range(columns.shape[1]):
        where = "" if values.ndim == 1 else f" in column {column}"
        finite = np.isfinite(columns[:, column])
        if not np.all(finite):
            raise ValueError(f"{fn}: data must be finite, got {int(np.sum(~finite))} NaN or inf "
                             f"value(s){where}")
        if weights is None:
            continue
        kept = columns[weights > 0, column]
        if kept.max() == kept.min():
            raise ValueError(f"{fn}: data must have at least 2 distinct values among the points "
                             f"of positive weight{where}, got all {kept.size} at {kept[0]}")


def _effective_size(x: Float[Array, " n"], w: Float[Array, " n"]) -> Float[Array, ""]:
    """Kish's effective sample size 1/Σ W_j² over the distinct values x_j, W_j the total
    (normalised) weight at x_j: the number of distinct points when every point has the same
    weight, which is the N of Botev's code (`length(unique(data))`), and the usual effective
    size for unequal weights. Merging ties first makes integer weights equal repeated points.
    """
    xs, ws = jax.lax.sort((x, w), num_keys=1)
    new_value = jnp.concatenate([jnp.ones((1,), bool), xs[1:] != xs[:-1]])
    groups = jnp.cumsum(new_value) - 1
    totals = jax.ops.segment_sum(ws, groups, num_segments=x.shape[0])
    return 1.0 / jnp.sum(totals**2)


def _stage_constants() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per stage s = ℓ, …, 2: the derivative order s and the (p, q) of the next time,
    log t_next = p (q − log N − log ‖f⁽ˢ⁾‖²) (Botev, Grotowski & Kroese 2010).

    Below s the pilot time is t_(s−1) = [(1 + 2^(−s+½)) / 3 · (2s − 3)!! / (N √(π/2)
    ‖f⁽ˢ⁾‖²)]^(2/(2s+1)); after s = 2 it is the AMISE minimiser for the Gaussian kernel,
    t* = h² = (2 N √π ‖f''‖²)^(−2/5).
    """
    orders = np.arange(_STAGES, 1, -1)
    p, q = [], []
    for s in orders:
        if s > 2:
            j = s - 1
            odd_factorial = math.prod(range(1, 2 * j, 2))
            p.append(2.0 / (3 + 2 * j))
            q.append(math.log((1 + 0.5 ** (j + 0.5)) / 3 * odd_factorial
                              / math.sqrt(math.pi / 2)))
        else:
            p.append(0.4)
            q.append(-math.log(2 * math.sqrt(math.pi)))
    return orders, np.array(p), np.array(q)


_ORDERS, _P, _Q = _stage_constants()


def _log_xi_gamma(log_t, log_k, log_a2, k2pi2, log_n):
    """log ξ γ^[ℓ](t): the AMISE-optimal time implied by estimating ‖f⁽ℓ⁾‖² at time t and
    each lower ‖f⁽ˢ⁾‖² at the pilot time the one above prescribes.

    ‖f_t⁽ˢ⁾‖² = ½ π^(2s) Σ_k k^(2s) a_k² e^(−k²π² t) for the density on [0, 1] with cosine
    coefficients a_k (Parseval), summed in log space: k^(2ℓ) = 1023¹⁴ is 10⁴², beyond float32
    (KDEpy resorts to float128). The stages run in a `lax.scan`: one body to compile, not six.
    """
    dtype = log_k.dtype

    def stage(log_time, constants):
        s, p, q = constants
        terms = 2 * s * log_k + log_a2 - k2pi2 * jnp.exp(log_time)
        log_norm = math.log(0.5) + 2 * s * math.log(math.pi) + jax.nn.logsumexp(terms)
        return p * (q - log_n - log_norm), None

    constants = (jnp.asarray(_ORDERS, dtype), jnp.asarray(_P, dtype), jnp.asarray(_Q, dtype))
    log_t_star, _ = jax.lax.scan(stage, log_t, constants)
    return log_t_star


def _isj_core(x: Float[Array, " n"], w: Float[Array, " n"], grid_size: int
              ) -> tuple[Float[Array, ""], Bool[Array, ""]]:
    """The ISJ bandwidth of one column and whether the fixed-point equation had a root."""
    dtype = x.dtype
    kept = w > 0
    low = jnp.min(jnp.where(kept, x, jnp.inf))
    high = jnp.max(jnp.where(kept, x, -jnp.inf))
    start = low - _PADDING * (high - low)
    step = (1 + 2 * _PADDING) * (high - low) / (grid_size - 1)

    # Linear binning: each point's weight split between its two neighbouring nodes.
    position = (x - start) / step
    left = jnp.clip(jnp.floor(position), 0, grid_size - 2)
    frac = jnp.clip(position - left, 0, 1)
    left = left.astype(jnp.int32)
    binned = (jnp.zeros(grid_size, dtype).at[left].add(w * (1 - frac))
              .at[left + 1].add(w * frac))

    # scipy's unnormalised DCT-II, a_k = 2 Σ_j p_j cos(π k (j + ½)/g): the cosine-series
    # coefficients of the binned density on the unit interval, nodes at the cell centres.
    a = dct(binned, type=2)[1:]
    k = jnp.arange(1, grid_size, dtype=dtype)
    log_k, k2pi2 = jnp.log(k), k**2 * math.pi**2
    log_a2 = jnp.log(a**2)
    log_n = jnp.log(_effective_size(x, w))

    def excess(log_t, _):
        # t − ξγ(t) has the sign of log t − log ξγ(t): negative for small t, where ξγ(0) > 0.
        return log_t - _log_xi_gamma(log_t, log_k, log_a2, k2pi2, log_n)

    # Bracket the smallest root (the one Botev's and KDEpy's growing bracket [0, tol] find;
    # ξγ(t) grows without bound, so a second, spurious crossing lies further out).
    log_ts = jnp.linspace(_LOG_T_MIN, 0.0, _SCAN_POINTS, dtype=dtype)
    signs = jax.vmap(lambda u: excess(u, None))(log_ts)
    above = signs >= 0
    first = jnp.argmax(above)
    found = jnp.any(above) & (signs[0] < 0)
    first = jnp.where(found, first, 1)
    lower, upper = log_ts[first - 1], log_ts[first]

    eps = float(jnp.finfo(dtype).eps)
    solver = optx.Bisection(rtol=8 * eps, atol=8 * eps, flip=False)
    # The bracket halves every step and 0.25/2¹²⁸ is below any dtype's resolution, so the
    # step budget always suffices whether or not |t − ξγ(t)| reaches atol in rounding.
    solution = optx.root_find(excess, solver, 0.5 * (lower + upper), options=dict(
        lower=lower, upper=upper), max_steps=128, throw=False)
    # t is in units of the squared length of the unit interval the DCT sees: g cells of
    # width δ (Botev's code multiplies by (g − 1) δ; KDEpy by the data range, issue #199).
    bandwidth = jnp.sqrt(jnp.exp(solution.value)) * grid_size * step
    return jnp.where(found, bandwidth, jnp.nan), found


_NO_ROOT = ("the fixed-point equation t = ξγ^[7](t) of the improved Sheather–Jones method has no "
            "root: too few (distinct) data points for the method")


# `throw` is traced (a boolean array), so both settings share one compilation.
@eqx.filter_jit
def _isj_jit(x, w, grid_size, throw):
    bandwidth, found = _isj_core(x, w, grid_size)
    return eqx.error_if(bandwidth, throw & ~found, f"isj_bandwidth: {_NO_ROOT}")


@eqx.filter_jit
def _plugin_jit(x, w, grid_size, throw):
    bandwidths, found = jax.vmap(_isj_core, in_axes=(1, None, None))(x, w, grid_size)
    return eqx.error_if(bandwidths, throw & ~jnp.all(found),
                        f"plugin_bandwidth: on at least one axis {_NO_ROOT}")


def isj_bandwidth(
    data: Real[ArrayLike, " n"],
    *,
    weights: Real[ArrayLike, " n"] | None = None,
    grid_size: int = 1024,
    throw: bool = True,
) -> Float[Array, ""]:
    """The improved Sheather–Jones (ISJ) bandwidth of one-dimensional data.

    The AMISE-optimal Gaussian bandwidth h = √t* depends on ‖f''‖², which depends on the
    optimal pilot time for ‖f''‖², which depends on ‖f'''‖², and so on. ISJ closes this chain
    after ℓ = 7 stages by estimating ‖f⁽⁷⁾‖² at the unknown t itself, which gives the
    fixed-point equation t = ξ γ^[7](t); every ‖f⁽ˢ⁾‖² comes from the discrete cosine
    transform of the data, linearly binned on `grid_size` nodes spanning the data range plus
    half the range on each side. No normal reference is assumed, so multimodal densities get
    the small bandwidth they need where Silverman's rule oversmooths.

    The smallest root is bracketed on a logarithmic scan of t and refined by bisection
    (`optimistix.Bisection`). It agrees with KDEpy's `improved_sheather_jones` in t*, and
    differs in two documented ways. It rescales t* by the grid's length, as Botev's code does,
    where KDEpy multiplies by the data range, so KDEpy's bandwidth is about half of this one
    (KDEpy issue #199). And it pads the grid by half the data range without KDEpy's floor of 6 data
    units, so the bandwidth scales with the data (KDEpy issue #201).

    **Arguments:**

    - `data`: `(n,)` finite values with at least two distinct ones among the points of
      positive weight (for `(n, d)` data use `plugin_bandwidth`).
    - `weights`: optional non-negative `(n,)` weights with a positive sum; points of zero
      weight are ignored. The sample size in the equation is Kish's effective size
      1/Σ W_j², W_j the normalised weight of the j-th distinct value: n for unweighted data
      without ties, and integer weights are the same as repeating points.
    - `grid_size`: the number of grid nodes, a power of two ≥ 64.
    - `throw`: if the fixed-point equation has no root (typically too few data, KDEpy raises
      then), raise an error (an `EquinoxRuntimeError` at run time; under `jit` too) when
      True, or return NaN when False.

    **Returns:** the bandwidth h, a scalar of the data's floating dtype: the standard
    deviation of the Gaussian kernel, in the data's units.

    **Raises:** `TypeError` for non-real data or weights, a non-int `grid_size` or a non-bool
    `throw`; `ValueError` for data that are not 1-D, not finite or with fewer than two
    distinct values, for bad weights (wrong shape, negative, not finite, zero sum) or for a
    `grid_size` that is not a power of two ≥ 64 (value checks run outside `jit` only); the
    runtime error above when no root exists and `throw=True`.

    **References:** Botev, Grotowski & Kroese, *Kernel density estimation via diffusion*
    (2010), Ann. Statist. 38(5), 2916–2957; KDEpy's `bw_selection.improved_sheather_jones`.
    """
    fn = "isj_bandwidth"
    grid_size = _check_grid_size(grid_size, fn)
    throw = check_bool(fn, "throw", throw)
    x = as_float_array(fn, "data", data)
    if x.ndim != 1 or x.shape[0] < 2:
        raise ValueError(f"{fn}: data must have shape (n,) with n ≥ 2, got shape {x.shape}"
                         + ("; use plugin_bandwidth for (n, d) data" if x.ndim == 2 else ""))
    w = normalised_weights(weights, x.shape[0], x.dtype, fn)
    _check_values(x, w, fn)
    return _isj_jit(x, w, grid_size, jnp.asarray(throw, bool))


def plugin_bandwidth(
    data: Real[ArrayLike, "n d"] | Real[ArrayLike, " n"],
    *,
    weights: Real[ArrayLike, " n"] | None = None,
    grid_size: int = 1024,
    throw: bool = True,
) -> Float[Array, " d"]:
    """A diagonal plug-in bandwidth: the ISJ bandwidth of each coordinate separately.

    This is the library's multivariate plug-in: it selects the per-axis standard deviations
    h_i = `isj_bandwidth(data[:, i])` of a diagonal Gaussian bandwidth matrix
    H = diag(h²). The full-matrix plug-in of Wand & Jones (1994), which also estimates the
    orientation through mixed-derivative functionals, is not attempted; for strongly
    correlated data rotate to principal axes first, or use the cross-validated full
    bandwidths (`lcv_bandwidth`, `lscv_bandwidth`). Each axis is solved independently
    (`vmap`), so the result matches calling `isj_bandwidth` column by column.

    **Arguments:**

    - `data`: `(n, d)` finite values (a 1-D array is n points in one dimension), each
      column with at least two distinct values among the points of positive weight.
    - `weights`: optional non-negative `(n,)` weights with a positive sum, shared by all axes
      (see `isj_bandwidth` for how they enter).
    - `grid_size`: grid nodes per axis, a power of two ≥ 64.
    - `throw`: raise when an axis' fixed-point equation has no root, or give NaN there.

    **Returns:** the `(d,)` per-axis kernel standard deviations, in the data's dtype.

    **Raises:** `ValueError` as `isj_bandwidth`, naming the column at fault; the runtime error
    when an axis has no root and `throw=True`.

    **References:** Botev, Grotowski & Kroese, *Kernel density estimation via diffusion*
    (2010), Ann. Statist. 38(5); Wand & Jones, *Multivariate plug-in bandwidth selection*
    (1994), Comput. Statist. 9, 97–116 (the full-matrix method this does not implement).
    """
    fn = "plugin_bandwidth"
    grid_size = _check_grid_size(grid_size, fn)
    throw = check_bool(fn, "throw", throw)
    x = as_float_array(fn, "data", data)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise ValueError(f"{fn}: data must have shape (n, d) or (n,) with n ≥ 2 and d ≥ 1, got "
                         f"shape {tuple(jnp.shape(data))}")
    w = normalised_weights(weights, x.shape[0], x.dtype, fn)
    _check_values(x, w, fn)
    return _plugin_jit(x, w, grid_size, jnp.asarray(throw, bool))
