"""The improved Sheather–Jones bandwidth against KDEpy, the normal reference, and invariants."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from KDEpy.binning import linear_binning as kdepy_linear_binning
from KDEpy.bw_selection import _fixed_point, _root, improved_sheather_jones
from scipy.fft import dct

from jaxlab.kde._isj import isj_bandwidth, plugin_bandwidth

GRID = 1024


# --- Test distributions (fixed seeds) -----------------------------------------------------------


def normal(rng, n):
    return rng.normal(size=n)


def bimodal(rng, n):
    """½ N(−2, 1) + ½ N(2, 0.5²)."""
    return np.where(rng.random(n) < 0.5, rng.normal(-2.0, 1.0, n), rng.normal(2.0, 0.5, n))


def lognormal(rng, n):
    return rng.lognormal(size=n)


def student_t5(rng, n):
    return rng.standard_t(5, n)


def claw(rng, n):
    """Marron & Wand's claw: ½ N(0, 1) + Σ_{l=0}^{4} (1/10) N(l/2 − 1, (1/10)²)."""
    peak = rng.integers(0, 5, n)
    return np.where(rng.random(n) < 0.5, rng.normal(size=n), rng.normal(peak / 2 - 1, 0.1, n))


DISTRIBUTIONS = [normal, bimodal, lognormal, student_t5, claw]


def kdepy_reference(x, weights=None):
    """The ISJ bandwidth from KDEpy's root t*, rescaled to the data as Botev's code does.

    KDEpy 1.1.12 returns √t*·(data range) although t* is in units of its grid's squared length
    (issue #199), and pads its grid by max(range/2, 6 data units), not scale-free (issue #201).
    Rescaling the data to range 12 makes both paddings range/2, the grid ours; then
    t* = (h_KDEpy / 12)² and our bandwidth is √t*·g·δ, δ = 2·range/(g − 1) the node spacing.
    """
    data_range = np.ptp(x)
    scale = 12.0 / data_range
    t_star = (improved_sheather_jones((scale * x)[:, None], weights) / 12.0) ** 2
    return np.sqrt(t_star) * GRID * 2 * data_range / (GRID - 1)


def kdepy_pieces_reference(x, weights):
    """Weighted ISJ from KDEpy's binning and root finder with Kish's effective size.

    KDEpy's public function uses the number of distinct points as N even for unequal weights;
    ours uses 1/Σw² (w normalised, no ties here), so this assembles KDEpy's parts directly.
    """
    w = weights / weights.sum()
    n_eff = 1.0 / np.sum(w**2)
    low, high = x.min(), x.max()
    grid = np.linspace(low - (high - low) / 2, high + (high - low) / 2, GRID)
    a = dct(kdepy_linear_binning(x[:, None], grid[:, None], w))
    k2 = np.arange(1, GRID, dtype=float) ** 2
    t_star = _root(_fixed_point, n_eff, args=(n_eff, k2, a[1:] ** 2))
    return np.sqrt(t_star) * GRID * (grid[1] - grid[0])


# --- Against KDEpy ------------------------------------------------------------------------------


@pytest.mark.parametrize("distribution", DISTRIBUTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [1000, 10_000])
def test_matches_kdepy(distribution, n, float64):
    # The issue asks for 5 %; in float64 the only differences are rounding and brentq's
    # xtol = 2e-12 on t* ≈ 1e-4 (measured ≤ 3e-8 relative), so the test holds 1e-6.
    # KDEpy converges on all five distributions at these sizes.
    x = distribution(np.random.default_rng(42), n)
    got = isj_bandwidth(x)
    assert got.dtype == jnp.float64 and got.shape == ()
    np.testing.assert_allclose(float(got), kdepy_reference(x), rtol=1e-6)


def test_matches_kdepy_float32():
    # float32 binning and DCT perturb the cosine coefficients by ~1e-7 relative, which the
    # k¹⁴-weighted sums of the deepest stage amplify: measured ≤ 1e-4 at n = 10⁴.
    for distribution in DISTRIBUTIONS:
        x = distribution(np.random.default_rng(7), 10_000).astype(np.float32)
        got = isj_bandwidth(x)
        assert got.dtype == jnp.float32
        np.testing.assert_allclose(float(got), kdepy_reference(x.astype(np.float64)),
                                   rtol=1e-3, err_msg=distribution.__name__)


def test_normal_reference_sanity(float64):
    # On normal data ISJ estimates the AMISE-optimal h = (4/3)^(1/5) σ n^(−1/5) = 1.059 σ n^(−1/5)
    # (Silverman's 1.06). Over 40 seeds at n = 10⁴ the ratio ISJ / (1.06 σ̂ n^(−1/5)) measured
    # mean 1.019, sd 0.022 (plug-in selectors' relative error shrinks only like n^(−5/14)).
    # 15 % per seed is ~7 sd and 5 % for the mean of five is ~3 sd past the 2 % bias; a
    # scaling mistake is far outside (KDEpy's raw value, √t*·range, is 0.38–0.5 of this).
    n = 10_000
    ratios = []
    for seed in range(5):
        x = np.random.default_rng(seed).normal(3.0, 2.0, n)
        ratios.append(float(isj_bandwidth(x)) / (1.06 * np.std(x, ddof=1) * n ** -0.2))
    assert all(abs(r - 1) < 0.15 for r in ratios), ratios
    assert abs(np.mean(ratios) - 1) < 0.05, ratios


def test_bimodal_gets_a_smaller_bandwidth_than_silverman(float64):
    # The reason for ISJ: the normal reference oversmooths separated modes. For
    # ½ N(−2, 1) + ½ N(2, 0.5²) the AMISE-optimal h at n = 10⁴ is about 0.11 (KDEpy's t* agrees
    # above), a third of Silverman's 0.36.
    x = bimodal(np.random.default_rng(42), 10_000)
    silverman = 1.06 * np.std(x, ddof=1) * 10_000 ** -0.2
    assert float(isj_bandwidth(x)) < 0.4 * silverman


def test_scale_and_shift_equivariant(float64):
    # h(a x + b) = a h(x) exactly in exact arithmetic (the grid is padded relative to the
    # range); KDEpy's absolute padding breaks this below a range of 12 (issue #201).
    x = claw(np.random.default_rng(3), 1000)
    h = float(isj_bandwidth(x))
    for a, b in [(1e-3, 0.0), (1e3, -5.0), (0.5, 1e3)]:
        np.testing.assert_allclose(float(isj_bandwidth(a * x + b)), a * h, rtol=1e-9)


# --- Weights ------------------------------------------------------------------------------------


def test_integer_weights_equal_repeated_points(float64):
    # Repeats bin to the same grid weights and merge into the same distinct values (Kish's
    # effective size over distinct values), so the two agree to rounding, not just binning.
    rng = np.random.default_rng(5)
    x = bimodal(rng, 1000)
    counts = rng.integers(1, 4, 1000)
    np.testing.assert_allclose(float(isj_bandwidth(x, weights=counts)),
                               float(isj_bandwidth(np.repeat(x, counts))), rtol=1e-10)
    # Unweighted data with ties: the same rule, so weights=None equals the merged counts.
    values, merged = np.unique(np.repeat(x, counts), return_counts=True)
    np.testing.assert_allclose(float(isj_bandwidth(values, weights=merged)),
                               float(isj_bandwidth(np.repeat(x, counts))), rtol=1e-10)


def test_zero_weights_remove_points(float64):
    # Points of zero weight are ignored, range included (far outliers would widen the grid):
    # the first 950 points alone, against KDEpy's parts, whatever the other 50 are.
    x = student_t5(np.random.default_rng(6), 1000)
    weights = np.r_[np.ones(950), np.zeros(50)]
    with_outliers, with_copies = x.copy(), x.copy()
    with_outliers[950:], with_copies[950:] = 1e4, x[0]
    got = float(isj_bandwidth(with_outliers, weights=weights))
    np.testing.assert_allclose(got, kdepy_pieces_reference(x[:950], np.ones(950)), rtol=1e-6)
    np.testing.assert_allclose(got, float(isj_bandwidth(with_copies, weights=weights)),
                               rtol=1e-12)


@pytest.mark.parametrize("distribution", [bimodal, lognormal], ids=lambda f: f.__name__)
def test_unequal_weights_match_kdepy_pieces(distribution, float64):
    rng = np.random.default_rng(8)
    x = distribution(rng, 1000)
    weights = rng.uniform(0.2, 2.0, 1000)
    np.testing.assert_allclose(float(isj_bandwidth(x, weights=weights)),
                               kdepy_pieces_reference(x, weights), rtol=1e-6)


# --- plugin_bandwidth ---------------------------------------------------------------------------


def test_plugin_matches_kdepy_per_column(float64):
    rng = np.random.default_rng(9)
    data = np.stack([3.0 * bimodal(rng, 1000), claw(rng, 1000) + 1e3], axis=1)
    got = plugin_bandwidth(data)
    assert got.shape == (2,) and got.dtype == jnp.float64
    want = [kdepy_reference(column) for column in data.T]
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)
    for i, column in enumerate(data.T):
        np.testing.assert_allclose(float(got[i]), float(isj_bandwidth(column)), rtol=1e-12)


# --- No root ------------------------------------------------------------------------------------


def test_no_root_raises_or_gives_nan(float64):
    # Five distinct points (each repeated 200 times: the same binned density and effective
    # size): the fixed-point equation has no root, and KDEpy (on data of range 12, where its
    # grid is ours) raises for the same reason.
    five = np.random.default_rng(1).normal(size=5)
    with pytest.raises(ValueError, match="Need more data"), np.errstate(divide="ignore"):
        improved_sheather_jones((12 / np.ptp(five) * five)[:, None])
    x = five[np.arange(1000) % 5]
    with pytest.raises(eqx.EquinoxRuntimeError, match=r"isj_bandwidth: .* has no root"):
        isj_bandwidth(x)
    assert np.isnan(float(isj_bandwidth(x, throw=False)))
    data = np.stack([x, normal(np.random.default_rng(2), 1000)], axis=1)
    h = np.asarray(plugin_bandwidth(data, throw=False))
    assert np.isnan(h[0]) and np.isfinite(h[1]) and h[1] > 0
    with pytest.raises(eqx.EquinoxRuntimeError, match="plugin_bandwidth: on at least one axis"):
        plugin_bandwidth(data)


# --- jit, vmap, dtypes --------------------------------------------------------------------------


def test_jit_compiles_once_and_vmaps(float64):
    @jax.jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def select(x, w):
        return isj_bandwidth(x, weights=w), plugin_bandwidth(jnp.stack([x, 2 * x], axis=1))

    batch = np.stack([normal(np.random.default_rng(s), 1000) for s in range(3)])
    weights = np.random.default_rng(4).uniform(0.5, 1.5, 1000)
    for x in batch:  # new values, same shapes: one trace
        h, hd = select(x, weights)
        np.testing.assert_allclose(float(h), float(isj_bandwidth(x, weights=weights)),
                                   rtol=1e-12)
        np.testing.assert_allclose(np.asarray(hd), [float(isj_bandwidth(x)),
                                                    2 * float(isj_bandwidth(x))], rtol=1e-9)
    stacked = jax.vmap(isj_bandwidth)(batch)
    np.testing.assert_allclose(np.asarray(stacked), [float(isj_bandwidth(x)) for x in batch],
                               rtol=1e-12)


def test_dtypes():
    x = normal(np.random.default_rng(0), 10_000)
    assert isj_bandwidth(x.astype(np.float32)).dtype == jnp.float32
    # Integer data become the default float; the bandwidth of rounded data is still positive.
    h = isj_bandwidth(np.round(10 * x).astype(np.int32))
    assert h.dtype == jnp.float32 and float(h) > 0
    assert plugin_bandwidth(x.astype(np.float32)).dtype == jnp.float32


def test_float64_preserved(float64):
    x = normal(np.random.default_rng(0), 1000)
    assert isj_bandwidth(x, weights=np.ones(1000, np.float32)).dtype == jnp.float64
    assert plugin_bandwidth(np.stack([x, x**3], axis=1)).dtype == jnp.float64


# --- Bad inputs ---------------------------------------------------------------------------------


def test_bad_inputs(user_errors):
    x = normal(np.random.default_rng(0), 100)
    with pytest.raises(ValueError, match=r"isj_bandwidth: data must have shape \(n,\) with "
                                         r"n ≥ 2, got shape \(100, 2\); use plugin_bandwidth"):
        isj_bandwidth(np.stack([x, x], axis=1))
    with pytest.raises(ValueError, match=r"data must have shape \(n,\) with n ≥ 2, got shape "
                                         r"\(1,\)"):
        isj_bandwidth(np.array([1.0]))
    with pytest.raises(ValueError, match=r"isj_bandwidth: data must be finite, got 1 NaN or "
                                         r"inf value"):
        isj_bandwidth(np.r_[x, np.nan])
    with pytest.raises(TypeError, match=r"isj_bandwidth: data must be real \(complex input is "
                                        r"not supported\), got dtype complex"):
        isj_bandwidth(x + 1j)
    with pytest.raises(ValueError, match=r"at least 2 distinct values among the points of "
                                         r"positive weight, got all 100 at 2.5"):
        isj_bandwidth(np.full(100, 2.5))
    with pytest.raises(ValueError, match=r"at least 2 distinct values .* got all 1 at"):
        isj_bandwidth(x, weights=np.r_[1.0, np.zeros(99)])
    with pytest.raises(ValueError, match=r"isj_bandwidth: weights must be of shape \(100,\) to "
                                         r"match data, got shape \(99,\)"):
        isj_bandwidth(x, weights=np.ones(99))
    with pytest.raises(ValueError, match=r"weights must be non-negative and finite, got "
                                         r".*-1\.0.* at index \(3,\)"):
        isj_bandwidth(x, weights=np.r_[np.ones(3), -1.0, np.ones(96)])
    with pytest.raises(ValueError, match=r"isj_bandwidth: weights must be weights with a "
                                         r"positive sum, got a sum of 0"):
        isj_bandwidth(x, weights=np.zeros(100))
    with pytest.raises(ValueError, match=r"isj_bandwidth: grid_size must be a power of two "
                                         r">= 64, got 1000"):
        isj_bandwidth(x, grid_size=1000)
    with pytest.raises(ValueError, match=r"isj_bandwidth: grid_size must be an int >= 64, "
                                         r"got 32"):
        isj_bandwidth(x, grid_size=32)
    for bad in (1024.0, True):
        with pytest.raises(TypeError, match=rf"isj_bandwidth: grid_size must be an int >= 64, "
                                            rf"got {bad!r}"):
            isj_bandwidth(x, grid_size=bad)
    with pytest.raises(TypeError, match=r"isj_bandwidth: throw must be a bool, got 'yes'"):
        isj_bandwidth(x, throw="yes")
    data = np.stack([x, np.ones(100)], axis=1)
    with pytest.raises(ValueError, match=r"plugin_bandwidth: data must have at least 2 "
                                         r"distinct values .* in column 1, got all 100 at 1.0"):
        plugin_bandwidth(data)
    with pytest.raises(ValueError, match=r"plugin_bandwidth: data must have shape \(n, d\) or "
                                         r"\(n,\) with n ≥ 2 and d ≥ 1, got shape \(100, 2, 1\)"):
        plugin_bandwidth(data[:, :, None])
    with pytest.raises(ValueError, match=r"plugin_bandwidth: weights must be of shape \(100,\)"):
        plugin_bandwidth(np.stack([x, x], axis=1), weights=np.ones(5))
