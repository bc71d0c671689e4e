"""Correlation dimension, dominant period and Lyapunov conveniences against independent
references: brute-force SciPy pair counts, closed forms and published dimensions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.spatial.distance import pdist

from jaxlab.systems import (
    CorrelationDimensionResult,
    Henon,
    Logistic,
    Lorenz,
    correlation_dimension,
    dominant_period,
    integrate,
    iterate,
    lyapunov_spectrum,
    lyapunov_time,
    max_lyapunov,
)


def _reference_counts(x, radii, theiler, times=None):
    """Brute force, float64: pairs i < j with |t_i − t_j| > theiler and distance < r."""
    times = np.arange(len(x)) if times is None else np.asarray(times)
    d = pdist(np.asarray(x, np.float64))
    i, j = np.triu_indices(len(x), 1)
    d = np.sort(d[np.abs(times[j] - times[i]) > theiler])
    return np.searchsorted(d, np.asarray(radii), side="left"), d.size   # #{d < r}


# --- pair counting --------------------------------------------------------------------


def test_pair_counts_match_pdist_default_grid(float64):
    # Even n exercises the offset n/2, whose pairs the cyclic pass must not count twice.
    x = np.random.default_rng(0).normal(size=(300, 3))
    res = correlation_dimension(jnp.asarray(x), theiler=3)
    ref, num_pairs = _reference_counts(x, res.radii, theiler=3)
    assert isinstance(res, CorrelationDimensionResult)
    assert int(res.num_pairs) == num_pairs == (300 - 3) * (300 - 4) // 2
    np.testing.assert_array_equal(np.asarray(res.pair_counts), ref)
    np.testing.assert_allclose(np.asarray(res.correlation_sum), ref / num_pairs, rtol=0,
                               atol=1e-12)
    # The default grid spans the admissible distances: below the first radius at most the
    # closest pair (rounding of exp/log), everything below the last.
    d = pdist(x)[np.abs(np.subtract(*np.triu_indices(300, 1))) > 3]
    np.testing.assert_allclose(float(res.radii[0]), d.min(), rtol=1e-12)
    assert int(res.pair_counts[0]) <= 1 and int(res.pair_counts[-1]) == num_pairs
    assert res.radii.shape == (64,) and res.radii.dtype == jnp.float64
    # Reported as data (same shape, no new compilation): a non-finite point, or points that
    # all coincide (no scaling region), give D2 = nan.
    broken = x.copy()
    broken[5, 1] = np.nan
    assert np.isnan(float(correlation_dimension(jnp.asarray(broken), theiler=3).dimension))
    same = correlation_dimension(jnp.ones((300, 3)), theiler=3)
    assert np.isnan(float(same.dimension)) and not bool(jnp.any(same.fit_mask))
    np.testing.assert_array_equal(np.asarray(same.pair_counts), num_pairs)


def test_pair_counts_match_pdist_given_radii_and_fit_range(float64):
    # Odd n, explicit non-uniform radii (the searchsorted path), a wider Theiler window.
    x = np.random.default_rng(1).uniform(size=(301, 2))
    radii = np.array([0.003, 0.01, 0.02, 0.05, 0.07, 0.2, 0.5, 1.0, 2.0])
    res = correlation_dimension(jnp.asarray(x), radii=radii, theiler=7, fit_range=(0.01, 0.2))
    ref, num_pairs = _reference_counts(x, radii, theiler=7)
    assert int(res.num_pairs) == num_pairs
    np.testing.assert_array_equal(np.asarray(res.pair_counts), ref)
    np.testing.assert_allclose(np.asarray(res.radii), radii, rtol=0)
    # A given fit_range is a closed interval of radii; the slope is NumPy's polyfit of
    # log C on log r over it.
    np.testing.assert_array_equal(np.asarray(res.fit_mask), (radii >= 0.01) & (radii <= 0.2))
    np.testing.assert_allclose(np.asarray(res.fit_range), [0.01, 0.2])
    mask = np.asarray(res.fit_mask)
    slope, intercept = np.polyfit(np.log(radii[mask]), np.log(ref[mask] / num_pairs), 1)
    np.testing.assert_allclose([float(res.dimension), float(res.intercept)], [slope, intercept],
                               rtol=1e-10)
    assert abs(slope - 2.0) < 0.2   # a square, small sample


def test_subsampling_keeps_original_time_indices(float64):
    # 600 points, 300 kept: without a key every second one, and the Theiler window is
    # measured in the original indices (|2i − 2j| > 3), not in the subsample's.
    x = np.random.default_rng(2).normal(size=(600, 3))
    res = correlation_dimension(jnp.asarray(x), theiler=3, max_points=300)
    times = 2 * np.arange(300)
    ref, num_pairs = _reference_counts(x[times], res.radii, theiler=3, times=times)
    assert res.num_points == 300
    assert int(res.num_pairs) == num_pairs == 299 * 300 // 2 - 299
    np.testing.assert_array_equal(np.asarray(res.pair_counts), ref)
    # With a key: a random subset; the same key gives the same result, another key not.
    a = correlation_dimension(jnp.asarray(x), max_points=300, key=jax.random.key(0))
    b = correlation_dimension(jnp.asarray(x), max_points=300, key=jax.random.key(0))
    c = correlation_dimension(jnp.asarray(x), max_points=300, key=jax.random.key(1))
    np.testing.assert_array_equal(np.asarray(a.pair_counts), np.asarray(b.pair_counts))
    assert not np.array_equal(np.asarray(a.radii), np.asarray(c.radii))


# --- dimensions of known sets -----------------------------------------------------------


@pytest.fixture
def planar_sets(float64):
    """4000 points each (one shape, one compilation): Hénon attractor, circle, square."""
    henon = iterate(Henon(), jnp.array([0.1, 0.1]), 5000)[1001:]
    rng = np.random.default_rng(0)
    angle = rng.uniform(0.0, 2 * np.pi, 4000)
    circle = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    square = rng.uniform(size=(4000, 2))
    return henon, jnp.asarray(circle), jnp.asarray(square)


def test_henon_circle_square_dimensions(planar_sets, caplog):
    henon, circle, square = planar_sets
    assert henon.shape == (4000, 2)
    # Hénon (1.4, 0.3): D2 = 1.21 ± 0.01 (Grassberger & Procaccia 1983); measured 1.213
    # with these 4000 points (1.19-1.22 over other 3000-5000-point stretches).
    res = correlation_dimension(henon)
    assert res.dimension.dtype == jnp.float64
    assert abs(float(res.dimension) - 1.21) < 0.03
    # The automatic range spans ≥ 1 decade and C is within 5% of a power law over it.
    lo, hi = np.asarray(res.fit_range)
    assert hi / lo >= 10.0 * (1 - 1e-9)
    assert float(res.max_residual) <= 0.05
    fitted = np.asarray(res.radii)[np.asarray(res.fit_mask)]
    np.testing.assert_allclose([fitted.min(), fitted.max()], [lo, hi])
    # A smooth curve: D2 = 1 (measured 1.002).
    assert abs(float(correlation_dimension(circle).dimension) - 1.0) < 0.03
    # A filled square: D2 = 2, biased low by the boundary, C(r) = πr² − 8r³/3 + r⁴/2
    # (measured 1.939). Same shape as before: no new compilation.
    with jax.log_compiles(), caplog.at_level("WARNING", logger="jax"):
        square_dimension = float(correlation_dimension(square).dimension)
    assert not [r for r in caplog.records if "_correlation_dimension" in r.getMessage()]
    assert abs(square_dimension - 2.0) < 0.1


def test_lorenz_dimension_and_period(float64):
    # 6000 samples every 0.1 time units (≈ 800 turns), Theiler window 5 samples = 0.5.
    ts = jnp.arange(6000) * 0.1
    ys = integrate(Lorenz(), Lorenz().initial_state(jnp.float64), ts).ys
    res = correlation_dimension(ys, theiler=5)
    # D2 = 2.05 ± 0.01 (Grassberger & Procaccia 1983). Measured 2.040 here; over eight
    # independent 6000-point stretches 2.06 ± 0.016 (sd), so 0.05 is three sd.
    assert abs(float(res.dimension) - 2.05) < 0.05
    # Local slopes inside the fitted range stay near D2 (a plateau, not a mean of a slope).
    slopes = np.asarray(res.local_slopes)[np.asarray(res.fit_mask)]
    assert np.all(np.abs(slopes - float(res.dimension)) < 0.25)

    # The period: summed over channels the oscillation of z dominates (measured 0.762;
    # dysts stores 1.5008, about twice that). The x-series alone has a red spectrum from
    # the lobe switching with no stable peak (4.8 for this record, 3 to 180 for others).
    period = float(dominant_period(ys, 0.1))
    assert 0.73 < period < 0.79
    # NumPy reference of the same definition: Hann-windowed, mean-removed periodogram,
    # summed over channels, zero-padded to 32768, argmax above one cycle per record; the
    # interpolated peak must lie within one padded bin of it.
    y = np.asarray(ys)
    y = (y - y.mean(axis=0)) * np.hanning(len(y))[:, None]
    power = np.sum(np.abs(np.fft.rfft(y, n=32768, axis=0)) ** 2, axis=1)
    freqs = np.fft.rfftfreq(32768, 0.1)
    peak = np.argmax(np.where(freqs >= 1 / (len(y) * 0.1), power, -np.inf))
    assert abs(1.0 / period - freqs[peak]) <= freqs[1]


# --- dominant period ---------------------------------------------------------------------


def test_dominant_period_of_a_sine(float64):
    # 21.1 periods (not a whole number, so the peak falls between FFT bins) plus a weaker
    # slow component the window must not leak into the peak.
    dt, period = 0.01, 2.37
    t = np.arange(5000) * dt
    x = np.sin(2 * np.pi * t / period + 0.3) + 0.3 * np.sin(2 * np.pi * t / 17.0) + 5.0
    got = dominant_period(jnp.asarray(x), dt)
    assert got.dtype == jnp.float64
    np.testing.assert_allclose(float(got), period, rtol=1e-3)
    # Two channels sampled together: the powers add, so the stronger second channel wins
    # over the first (and a period present in both outweighs either).
    two = np.stack([0.5 * np.sin(2 * np.pi * t / 3.1), np.cos(2 * np.pi * t / 1.3)], axis=1)
    np.testing.assert_allclose(float(dominant_period(jnp.asarray(two), dt)), 1.3, rtol=1e-3)
    both = np.stack([0.8 * np.sin(2 * np.pi * t / 3.1) + 0.8 * np.sin(2 * np.pi * t / 1.7),
                     0.8 * np.cos(2 * np.pi * t / 3.1 + 1.0) + np.cos(2 * np.pi * t / 1.3)],
                    axis=1)
    np.testing.assert_allclose(float(dominant_period(jnp.asarray(both), dt)), 3.1, rtol=1e-3)


def test_dominant_period_float32_jit_and_compiles_once(caplog):
    t = jnp.arange(4096) * 0.05
    x = jnp.sin(2 * jnp.pi * t / 3.3)
    f = jax.jit(dominant_period)
    got = f(x, 0.05)
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(float(got), 3.3, rtol=1e-3)
    dominant_period(x, 0.05)
    with jax.log_compiles(), caplog.at_level("WARNING", logger="jax"):
        again = dominant_period(jnp.cos(2 * jnp.pi * t / 2.2), 0.05)
    assert not [r for r in caplog.records if "_dominant_period" in r.getMessage()]
    np.testing.assert_allclose(float(again), 2.2, rtol=1e-3)


# --- correlation dimension: float32, jit, compile once, bad inputs -----------------------


def test_correlation_dimension_float32_under_jit():
    # Uniform on an interval: D2 = 1 (C(r) = 2r − r², slope 1 − r/(2 − r) → 1).
    x = jax.random.uniform(jax.random.key(0), (2000, 1))
    res = jax.jit(correlation_dimension)(x)
    assert res.radii.dtype == jnp.float32 and res.dimension.dtype == jnp.float32
    assert res.pair_counts.dtype == jnp.int32
    assert int(res.num_pairs) == 2000 * 1999 // 2 and res.num_points == 2000
    assert abs(float(res.dimension) - 1.0) < 0.05
    # Exact counts in float32 too, against NumPy float32 arithmetic (d² < r², as computed
    # in float32). float32 rounding of the log-spaced bin index misplaces ~1e-5 of the 2e6
    # pairs, so this checks the exact correction of the bin index.
    xs = np.asarray(x)[:, 0]
    i, j = np.triu_indices(2000, 1)
    d2 = np.sort((xs[i] - xs[j]) ** 2)
    r = np.asarray(res.radii)
    np.testing.assert_array_equal(np.asarray(res.pair_counts),
                                  np.searchsorted(d2, r * r, side="left"))


@pytest.mark.parametrize(
    ("points", "kwargs", "message"),
    [
        (np.zeros(10), {}, r"points must be a 2-D array of shape \(n, d\).*got shape \(10,\)"),
        (np.zeros((2, 3)), {}, r"n ≥ 3.*got shape \(2, 3\)"),
        (np.zeros((10, 2)), {"theiler": -1}, r"theiler must be a non-negative int, got -1"),
        (np.zeros((10, 2)), {"theiler": 9},
         r"theiler must be below 9 \(so that some pair of the 10 points is admissible\), got 9"),
        (np.zeros((10, 2)), {"num_radii": 2}, r"num_radii must be an int >= 4, got 2"),
        (np.zeros((10, 2)), {"radii": np.array([0.1, 0.05])},
         r"radii must be positive and strictly increasing"),
        (np.zeros((10, 2)), {"radii": np.zeros((2, 2))}, r"radii must be a 1-D array"),
        (np.zeros((10, 2)), {"fit_range": (0.3, 0.1)},
         r"fit_range must be None or a pair \(r_lo, r_hi\) with 0 < r_lo < r_hi, got \(0.3, 0.1\)"),
        (np.zeros((10, 2)), {"max_points": 2}, r"max_points must be an int >= 3 or None, got 2"),
        (np.zeros((10, 2)), {"min_pairs": 0}, r"min_pairs must be a positive int or None"),
        (np.zeros((10, 2)), {"min_decades": 0.0}, r"min_decades must be a positive finite number"),
        (np.zeros((10, 2)), {"linearity_tolerance": -1.0},
         r"linearity_tolerance must be a positive finite number, got -1.0"),
    ],
)
def test_correlation_dimension_bad_input(points, kwargs, message, user_errors):
    with pytest.raises(ValueError, match=message):
        correlation_dimension(points, **kwargs)


@pytest.mark.parametrize(
    ("x", "dt", "message"),
    [
        (np.zeros(5), 0.1,
         r"x must be an array of shape \(n,\) or \(n, c\) with n ≥ 8, got shape \(5,\)"),
        (np.zeros((10, 2, 2)), 0.1, r"got shape \(10, 2, 2\)"),
        (np.zeros(16), 0.0, r"dt must be a positive finite number, got 0.0"),
        (np.zeros(16), np.ones(2), r"dt must be a scalar, got shape \(2,\)"),
    ],
)
def test_dominant_period_bad_input(x, dt, message, user_errors):
    with pytest.raises(ValueError, match=message):
        dominant_period(x, dt)
    with pytest.raises(TypeError, match=r"dominant_period: oversample must be a positive int, "
                                        r"got 2\.0"):
        dominant_period(np.zeros(16), 0.1, oversample=2.0)


# --- Lyapunov conveniences ---------------------------------------------------------------


def test_max_lyapunov_logistic_is_ln2(float64):
    lam = max_lyapunov(Logistic(r=4.0), jnp.array([0.1234]), num_intervals=20_000)
    assert lam.shape == () and lam.dtype == jnp.float64
    # Orbit average of ln|4(1 − 2x)|: standard error ≈ 1.1/√2e4 ≈ 0.008 (1.1%); 3% is
    # about three of them.
    np.testing.assert_allclose(float(lam), np.log(2.0), rtol=0.03)
    full = lyapunov_spectrum(Logistic(r=4.0), jnp.array([0.1234]), num_exponents=1,
                             num_intervals=20_000)
    assert float(lam) == float(full.exponents[0])


def test_max_lyapunov_rejects_num_exponents(user_errors):
    with pytest.raises(TypeError, match="max_lyapunov: num_exponents must be left out "
                                        r"\(it is fixed to 1"):
        max_lyapunov(Henon(), num_exponents=2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.9056, 1 / 0.9056),                     # Lorenz λ1 (Sprott)
        ([0.9056, 0.0, -14.5723], 1 / 0.9056),
        ([-14.5723, 0.0, 0.9056], 1 / 0.9056),    # any order
        ([0.41922, -1.62319], 1 / 0.41922),       # Hénon
        (0.0, np.inf),                            # no exponential divergence
        ([-0.5, -1.0], np.inf),
    ],
)
def test_lyapunov_time_closed_form(value, expected, float64):
    got = lyapunov_time(jnp.asarray(value, jnp.float64))
    assert got.dtype == jnp.float64 and got.shape == ()
    np.testing.assert_allclose(float(got), expected, rtol=1e-14)


def test_lyapunov_time_jit_and_bad_input(user_errors):
    f = jax.jit(lyapunov_time)
    got = f(jnp.array([2.0, -1.0]))
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(float(got), 0.5, rtol=1e-7)
    assert float(f(jnp.array(-3.0))) == np.inf
    with pytest.raises(ValueError, match=r"scalar or a non-empty 1-D array, got shape \(2, 2\)"):
        lyapunov_time(jnp.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"got shape \(0,\)"):
        lyapunov_time(jnp.zeros(0))
    with pytest.raises(TypeError, match="exponents_or_lambda_max must be real"):
        lyapunov_time(jnp.zeros(2, complex))
