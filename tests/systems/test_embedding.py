"""Delay embedding, lag selection (ACF, AMI) and embedding dimension (Cao, FNN)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.systems import (
    Henon,
    Lorenz,
    ami_lag,
    autocorrelation,
    autocorrelation_lag,
    average_mutual_information,
    cao_embedding_dimension,
    delay_embed,
    false_nearest_neighbours,
    integrate,
    iterate,
)

LORENZ_DT = 0.02
LORENZ_N = 4000


@pytest.fixture(scope="module")
def lorenz_x():
    """The Lorenz x-series in float64: 4000 samples at dt = 0.02 (80 time units, ~50 turns
    around the wings) after a transient of 30 time units."""
    with jax.enable_x64(True):
        transient = 1500
        ts = jnp.arange(transient + LORENZ_N, dtype=jnp.float64) * LORENZ_DT
        traj = integrate(Lorenz(), jnp.asarray(Lorenz.default_ic, jnp.float64), ts)
        return np.asarray(traj.ys[transient:, 0])


def henon_x(n, dtype=jnp.float64):
    orbit = iterate(Henon(), jnp.asarray([0.1, 0.1], dtype), n + 500)
    return orbit[501:, 0]


# --- NumPy references, written plainly --------------------------------------------------------


def embed_numpy(x, lag, dim):
    m = len(x) - (dim - 1) * lag
    rows = []
    for i in range(m):
        rows.append(np.concatenate([np.atleast_1d(x[i + k * lag]) for k in range(dim)]))
    return np.array(rows)


def acf_numpy(x, max_lag):
    xc = x - x.mean()
    denom = np.sum(xc * xc)
    return np.array([np.sum(xc[:len(x) - k] * xc[k:]) / denom for k in range(max_lag + 1)])


def ami_numpy(x, max_lag, bins):
    edges = np.linspace(x.min(), x.max(), bins + 1)
    out = []
    for tau in range(max_lag + 1):
        h, _, _ = np.histogram2d(x[:len(x) - tau], x[tau:], bins=[edges, edges])
        p = h / h.sum()
        pa, pb = p.sum(axis=1), p.sum(axis=0)
        total = 0.0
        for a in range(bins):
            for b in range(bins):
                if p[a, b] > 0:
                    total += p[a, b] * np.log(p[a, b] / (pa[a] * pb[b]))
        out.append(total)
    return np.array(out)


def neighbours_numpy(x, lag, d, norm, theiler):
    """For each i of dimension d: (distance to nearest neighbour, next-coordinate distance)."""
    m = len(x) - d * lag
    y = np.stack([x[k * lag:k * lag + m] for k in range(d)], axis=1)
    nxt = x[d * lag:d * lag + m]
    dist_out, extra_out = [], []
    for i in range(m):
        diff = np.abs(y - y[i])
        dist = diff.max(axis=1) if norm == "max" else np.sqrt((diff**2).sum(axis=1))
        dist[np.abs(np.arange(m) - i) <= theiler] = np.inf
        dist[dist == 0] = np.inf                  # skip exact duplicates, as Cao says
        j = np.argmin(dist)
        dist_out.append(dist[j])
        extra_out.append(abs(nxt[i] - nxt[j]))
    return np.array(dist_out), np.array(extra_out)


def cao_numpy(x, lag, max_dim, theiler=0):
    e, e_star = [], []
    for d in range(1, max_dim + 2):
        dist, extra = neighbours_numpy(x, lag, d, "max", theiler)
        e.append(np.mean(np.maximum(dist, extra) / dist))
        e_star.append(np.mean(extra))
    e, e_star = np.array(e), np.array(e_star)
    return e[1:] / e[:-1], e_star[1:] / e_star[:-1], e, e_star


def fnn_numpy(x, lag, max_dim, rtol, atol):
    out = []
    for d in range(1, max_dim + 1):
        dist, extra = neighbours_numpy(x, lag, d, "euclidean", 0)
        false = (extra / dist > rtol) | (np.sqrt(dist**2 + extra**2) / x.std() > atol)
        out.append(false.mean())
    return np.array(out)


# --- delay_embed ------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "lag", "dim"), [(50, 1, 1), (50, 3, 4), (50, 7, 8), (9, 4, 3)])
def test_delay_embed_matches_numpy(n, lag, dim, float64):
    x = np.sin(0.3 * np.arange(n)) + 0.01 * np.arange(n) ** 1.5
    got = delay_embed(jnp.asarray(x), lag, dim)
    assert got.shape == (n - (dim - 1) * lag, dim)
    assert got.dtype == jnp.float64
    np.testing.assert_array_equal(np.asarray(got), embed_numpy(x, lag, dim))
    # Component k of y_i is x_{i + k·lag}.
    np.testing.assert_array_equal(np.asarray(got[:, -1]), x[(dim - 1) * lag:])


def test_delay_embed_multichannel():
    x = np.arange(40, dtype=np.float32).reshape(20, 2) * np.array([1.0, -1.0], np.float32)
    got = delay_embed(x, 3, 4)
    assert got.shape == (20 - 9, 8)
    assert got.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(got), embed_numpy(x, 3, 4))
    # Channels of one time stay together: component k·c + j is channel j at time i + k·lag.
    np.testing.assert_array_equal(np.asarray(got[5, 2:4]), x[5 + 3])


def test_delay_embed_under_jit():
    f = jax.jit(delay_embed, static_argnums=(1, 2))
    got = f(jnp.arange(10.0), 2, 3)
    assert got.shape == (6, 3)
    np.testing.assert_array_equal(np.asarray(got[0]), [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(np.asarray(got[-1]), [5.0, 7.0, 9.0])


@pytest.mark.parametrize(
    ("x", "lag", "dim", "error", "message"),
    [
        (np.zeros(10), 0, 2, ValueError, r"delay_embed: lag must be a positive int, got 0"),
        (np.zeros(10), 1.5, 2, TypeError, r"delay_embed: lag must be a positive int, got 1\.5"),
        (np.zeros(10), 1, 0, ValueError, r"delay_embed: dim must be a positive int, got 0"),
        (np.zeros(10), 5, 3, ValueError,
         r"x must be long enough: dim=3 with lag=5 needs at least 11 samples, got 10 samples"),
        (np.zeros((4, 3, 2)), 1, 2, ValueError,
         r"shape \(n,\) or \(n, c\).*got shape \(4, 3, 2\)"),
        (np.zeros(10, complex), 1, 2, TypeError, r"x must be real"),
    ],
)
def test_delay_embed_bad_input(x, lag, dim, error, message, user_errors):
    with pytest.raises(error, match=message):
        delay_embed(x, lag, dim)


# --- autocorrelation --------------------------------------------------------------------------


def test_autocorrelation_matches_direct_sum(float64):
    x = np.asarray(jax.random.normal(jax.random.key(0), (777,), jnp.float64))
    x = np.cumsum(x) + 5.0                      # correlated, with a mean far from zero
    got = autocorrelation(jnp.asarray(x), 100)
    assert got.dtype == jnp.float64
    assert got.shape == (101,)
    np.testing.assert_allclose(np.asarray(got), acf_numpy(x, 100), rtol=1e-10, atol=1e-12)
    full = autocorrelation(jnp.asarray(x), 776)   # up to n − 1: no circular wrap-around
    np.testing.assert_allclose(np.asarray(full), acf_numpy(x, 776), atol=1e-12)


def test_autocorrelation_float32():
    x = np.cos(0.1 * np.arange(500)).astype(np.float32)
    got = autocorrelation(x, 50)
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(got), acf_numpy(x.astype(np.float64), 50), atol=1e-5)


def test_sine_zero_crossing_is_quarter_period():
    period = 37.3
    x = np.sin(2 * np.pi * np.arange(2000) / period)
    res = autocorrelation_lag(x, max_lag=100)
    assert bool(res.found)
    assert abs(int(res.lag) - period / 4) <= 1.0
    # r(k) ≈ cos(2πk/P): it drops below 1/e at k = P·arccos(1/e)/(2π).
    res_e = autocorrelation_lag(x, max_lag=100, criterion="1/e")
    assert abs(int(res_e.lag) - period * np.arccos(np.exp(-1)) / (2 * np.pi)) <= 1.0
    np.testing.assert_allclose(float(res.curve[0]), 1.0, rtol=1e-6)


def test_autocorrelation_lag_fallback():
    x = np.arange(300.0) ** 2                    # a trend: the ACF stays positive at small lags
    res = autocorrelation_lag(x, max_lag=10)
    assert not bool(res.found)
    assert int(res.lag) == 10                    # the smallest value, at the last lag


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: autocorrelation(np.zeros(10), 10), r"max_lag must be an int in 0..9, got 10"),
        (lambda: autocorrelation(np.zeros((10, 2)), 3), r"1-D series .*got shape \(10, 2\)"),
        (lambda: autocorrelation(np.zeros(1), 0), r"long enough.*at least 2 samples, got 1"),
        (lambda: autocorrelation_lag(np.zeros(10), criterion="half"),
         r"criterion must be one of '1/e', 'zero', got 'half'"),
        (lambda: autocorrelation_lag(np.zeros(10), max_lag=0), r"max_lag must be an int in 1..9"),
    ],
)
def test_autocorrelation_bad_input(call, message, user_errors):
    with pytest.raises(ValueError, match=message):
        call()


# --- average mutual information ---------------------------------------------------------------


def test_ami_matches_numpy_histogram(lorenz_x, float64):
    got = average_mutual_information(jnp.asarray(lorenz_x), 40, bins=16)
    assert got.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(got), ami_numpy(lorenz_x, 40, 16), rtol=1e-10,
                               atol=1e-12)
    # I(0) is the binned entropy of x.
    p, _ = np.histogram(lorenz_x, bins=np.linspace(lorenz_x.min(), lorenz_x.max(), 17))
    p = p[p > 0] / len(lorenz_x)
    np.testing.assert_allclose(float(got[0]), -np.sum(p * np.log(p)), rtol=1e-12)


def test_ami_of_independent_noise_is_the_binning_bias(float64):
    # For independent pairs the plug-in estimate is ≈ χ²((B−1)²)/(2N'): mean (B−1)²/(2N'),
    # standard deviation (B−1)/(√2 N'). Uniform noise fills every cell (≈ 16 pairs each),
    # where that approximation holds. We allow 5 standard deviations either side.
    n, bins = LORENZ_N, 16
    x = jax.random.uniform(jax.random.key(1), (n,), jnp.float64)
    ami = np.asarray(average_mutual_information(x, 40, bins=bins))
    pairs = n - np.arange(1, 41)
    bias = (bins - 1) ** 2 / (2 * pairs)
    sd = (bins - 1) / (np.sqrt(2) * pairs)
    assert np.all(np.abs(ami[1:] - bias) < 5 * sd), (ami[1:], bias)
    assert ami[0] > 2.7                          # the entropy of ~16 equally likely bins, ln 16


def test_ami_lag_lorenz(lorenz_x, float64):
    res = ami_lag(jnp.asarray(lorenz_x), max_lag=40)
    np.testing.assert_array_equal(np.asarray(res.curve),
                                  np.asarray(average_mutual_information(lorenz_x, 40)))
    print(f"Lorenz x, dt = {LORENZ_DT}: first AMI minimum at {int(res.lag)} samples "
          f"({int(res.lag) * LORENZ_DT:.2f} time units)")
    assert bool(res.found)
    # The first minimum of I(τ) for the Lorenz x-series lies near τ ≈ 0.16-0.18 time units
    # (measured: 8-10 samples at dt = 0.02 and 17-18 at dt = 0.01 over several initial
    # conditions; 10 for this series), about a ninth of the mean turn time of 1.5.
    assert 0.12 <= int(res.lag) * LORENZ_DT <= 0.25
    lag = int(res.lag)
    assert res.curve[lag - 1] > res.curve[lag] <= res.curve[lag + 1]


def test_ami_lag_fallback_to_global_minimum(lorenz_x, float64):
    res = ami_lag(jnp.asarray(lorenz_x), max_lag=5)     # I(τ) still falls at τ = 5
    assert not bool(res.found)
    assert int(res.lag) == 5
    assert np.all(np.diff(np.asarray(res.curve)) < 0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: average_mutual_information(np.zeros(10), 3, bins=1),
         r"average_mutual_information: bins must be an int >= 2, got 1"),
        (lambda: average_mutual_information(np.zeros(10), 10), r"an int in 0..9, got 10"),
        (lambda: ami_lag(np.zeros(10), max_lag=1), r"ami_lag: max_lag must be an int in 2..9, "
                                                   r"got 1"),
        (lambda: ami_lag(np.zeros((3, 3))), r"ami_lag: x must be a 1-D series .*\(3, 3\)"),
    ],
)
def test_ami_bad_input(call, message, user_errors):
    with pytest.raises(ValueError, match=message):
        call()


# --- Cao's method -----------------------------------------------------------------------------


@pytest.mark.parametrize("theiler", [0, 3])
def test_cao_matches_numpy_reference(theiler, float64):
    x = np.asarray(henon_x(300)) + 0.3 * np.sin(0.2 * np.arange(300))
    e1, e2, e, e_star = cao_numpy(x, 2, 4, theiler=theiler)
    res = cao_embedding_dimension(jnp.asarray(x), 2, max_dim=4, theiler=theiler, block_size=64)
    for got, want in ((res.e1, e1), (res.e2, e2), (res.e, e), (res.e_star, e_star)):
        assert got.dtype == jnp.float64
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-10)


def test_cao_skips_exact_duplicates(float64):
    # A quantised series has many zero distances; Cao takes the nearest distinct point.
    x = np.round(np.asarray(henon_x(300)), 1)
    e1, e2, _, _ = cao_numpy(x, 1, 4)
    res = cao_embedding_dimension(jnp.asarray(x), 1, max_dim=4, block_size=64)
    assert np.all(np.isfinite(np.asarray(res.e)))
    np.testing.assert_allclose(np.asarray(res.e1), e1, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(res.e2), e2, rtol=1e-10)


def test_cao_block_size_does_not_matter(float64):
    x = jnp.asarray(henon_x(300))
    a = cao_embedding_dimension(x, 1, max_dim=4, block_size=64)  # 5 blocks, the last padded
    b = cao_embedding_dimension(x, 1, max_dim=4, block_size=7)   # 43 blocks
    np.testing.assert_array_equal(np.asarray(a.e), np.asarray(b.e))
    np.testing.assert_array_equal(np.asarray(a.e_star), np.asarray(b.e_star))


def test_cao_lorenz_picks_three(lorenz_x, float64):
    lag = int(ami_lag(jnp.asarray(lorenz_x), max_lag=40).lag)
    res = cao_embedding_dimension(jnp.asarray(lorenz_x), lag, max_dim=6)
    e1 = np.asarray(res.e1)
    print(f"Lorenz x, lag {lag}: E1 = {np.round(e1, 3)}, E2 = {np.round(np.asarray(res.e2), 3)}")
    assert int(res.dimension) == 3
    assert bool(res.saturated)
    # The jump that the rule detects: E1 is far from 1 at d = 2 and close to 1 from d = 3.
    assert e1[1] < 0.6 and e1[2] > 0.8
    # Deterministic data: E2 is far from 1 at small d.
    assert np.asarray(res.e2)[0] < 0.5


def test_cao_henon_picks_two(float64):
    res = cao_embedding_dimension(henon_x(LORENZ_N), 1, max_dim=6)
    print(f"Hénon x: E1 = {np.round(np.asarray(res.e1), 3)}")
    assert int(res.dimension) == 2
    assert np.all(np.abs(np.asarray(res.e2)[1:] - 1) > 0.2)   # measured ≈ 1.4: deterministic


def test_cao_noise_has_e2_near_one(float64):
    # E*(d) averages N ≈ 4000 values of |x_a − x_b| for independent Gaussians (relative
    # standard error 0.76/√N ≈ 1.2 %), so E2 = E*(d+1)/E*(d) has a standard deviation below
    # 2 %; 0.08 is four of them.
    x = jax.random.normal(jax.random.key(2), (LORENZ_N,), jnp.float64)
    res = cao_embedding_dimension(x, 1, max_dim=6)
    e2 = np.asarray(res.e2)
    assert np.all(np.abs(e2 - 1) < 0.08), e2
    # E1 has no jump: it climbs gradually, so no early dimension is reported.
    assert int(res.dimension) > 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lag": 0}, r"cao_embedding_dimension: lag must be a positive int, got 0"),
        ({"lag": 10}, r"long enough: max_dim=10 with lag=10 .* needs at least 112 samples, "
                      r"got 100"),
        ({"lag": 1, "threshold": -0.5}, r"threshold must be a positive finite number, "
                                        r"got -0\.5"),
        ({"lag": 1, "theiler": -1}, r"theiler must be a non-negative int, got -1"),
        ({"lag": 1, "block_size": 0}, r"block_size must be a positive int, got 0"),
        ({"lag": 1, "max_dim": 0}, r"max_dim must be a positive int, got 0"),
    ],
)
def test_cao_bad_input(kwargs, message, user_errors):
    with pytest.raises(ValueError, match=message):
        cao_embedding_dimension(np.zeros(100), **kwargs)


# --- false nearest neighbours -----------------------------------------------------------------


def test_fnn_matches_numpy_reference(float64):
    x = np.asarray(henon_x(300)) + 0.3 * np.sin(0.2 * np.arange(300))
    res = false_nearest_neighbours(jnp.asarray(x), 2, max_dim=4, rtol=5.0, atol=1.5)
    assert res.fractions.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(res.fractions), fnn_numpy(x, 2, 4, 5.0, 1.5),
                               rtol=1e-12)


def test_fnn_lorenz_and_noise(lorenz_x, float64):
    lag = int(ami_lag(jnp.asarray(lorenz_x), max_lag=40).lag)
    res = false_nearest_neighbours(jnp.asarray(lorenz_x), lag, max_dim=5)
    fractions = np.asarray(res.fractions)
    print(f"Lorenz x, lag {lag}: FNN fractions = {np.round(fractions, 4)}")
    # Measured: ≈ 97 % at d = 1, 4-10 % at d = 2, 0-0.3 % from d = 3 on (lags 6-20).
    assert int(res.dimension) == 3 and bool(res.found)
    assert fractions[1] > 0.01 and fractions[2] < 0.01
    noise = jax.random.normal(jax.random.key(3), (LORENZ_N,), jnp.float64)
    res_noise = false_nearest_neighbours(noise, lag, max_dim=5)
    # Noise never unfolds: measured 16-99 %, the attractor-size test fires as d grows.
    assert np.all(np.asarray(res_noise.fractions) > 0.1)
    assert not bool(res_noise.found) and int(res_noise.dimension) == 5


def test_fnn_bad_input(user_errors):
    with pytest.raises(ValueError, match=r"false_nearest_neighbours: rtol must be a positive "
                                         r"finite number, got 0"):
        false_nearest_neighbours(np.zeros(100), 1, rtol=0)
    with pytest.raises(ValueError, match=r"long enough: max_dim=10 with lag=10 .*needs at least "
                                         r"102 samples, got 100"):
        false_nearest_neighbours(np.zeros(100), 10)
    with pytest.raises(TypeError, match=r"false_nearest_neighbours: lag must be a positive int, "
                                        r"got 1\.0"):
        false_nearest_neighbours(np.zeros(100), 1.0)


# --- compilation and batching -----------------------------------------------------------------


def test_compiles_once_per_shape(caplog):
    cores = ("_delay_embed", "_autocorrelation", "_ami", "_first_local_minimum", "_cao", "_fnn")

    def run_all(x, lag, threshold):
        delay_embed(x, 2, 3)
        autocorrelation_lag(x, max_lag=20)
        autocorrelation_lag(x, max_lag=20, criterion="1/e")
        ami_lag(x, max_lag=10)
        cao_embedding_dimension(x, lag, max_dim=4, threshold=threshold)
        false_nearest_neighbours(x, lag, max_dim=4)

    a, b = henon_x(600, jnp.float32), henon_x(600, jnp.float32)[::-1] + 1.0
    run_all(a, 1, 0.8)
    with jax.log_compiles(), caplog.at_level("WARNING", logger="jax"):
        run_all(b, 2, 0.9)                 # same shapes; other data, lag and threshold
        cached = list(caplog.records)
        delay_embed(b[:-1], 2, 3)          # a new shape does compile: the check can fail
    assert not [r for r in cached if any(c in r.getMessage() for c in cores)]
    assert [r for r in caplog.records if "_delay_embed" in r.getMessage()]


def test_float32_and_vmap_over_series():
    henon = henon_x(600, jnp.float32)
    noise = jax.random.normal(jax.random.key(4), (600,))
    single = cao_embedding_dimension(henon, 1, max_dim=4)
    assert single.e1.dtype == jnp.float32 and single.e2.dtype == jnp.float32
    assert int(single.dimension) == 2
    fnn = false_nearest_neighbours(henon, 1, max_dim=4)
    assert fnn.fractions.dtype == jnp.float32 and int(fnn.dimension) == 2
    # Many series at once: vmap gives each series' own answer.
    batched = jax.vmap(lambda s: cao_embedding_dimension(s, 1, max_dim=4))(
        jnp.stack([henon, noise]))
    np.testing.assert_allclose(np.asarray(batched.e1[0]), np.asarray(single.e1), rtol=1e-5)
    one = cao_embedding_dimension(noise, 1, max_dim=4)
    np.testing.assert_allclose(np.asarray(batched.e2[1]), np.asarray(one.e2), rtol=1e-5)
    assert int(batched.dimension[0]) == 2
    acfs = jax.vmap(lambda s: autocorrelation(s, 5))(jnp.stack([henon, noise]))
    np.testing.assert_allclose(np.asarray(acfs[0]), acf_numpy(np.asarray(henon, np.float64), 5),
                               atol=1e-5)
