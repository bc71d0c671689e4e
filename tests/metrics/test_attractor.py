"""Attractor scores: D_stsp against np.histogramdd loops (both binnings) and a NumPy mixture
density, D_H against NumPy's FFT and scipy.ndimage, D_frac on sets of known dimension."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from scipy.special import logsumexp

from jaxlab import metrics


def _pair(seed=0, n=400, m=300, d=2):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(m, d)) * 1.2 + 0.3


def _kl(h_true, h_gen, alpha):
    """KL between Laplace-smoothed histograms (plain loop over the cells)."""
    cells = h_true.size
    p = [(c + alpha) / (h_true.sum() + alpha * cells) for c in h_true.ravel()]
    q = [(c + alpha) / (h_gen.sum() + alpha * cells) for c in h_gen.ravel()]
    return sum(a * np.log(a / b) for a, b in zip(p, q, strict=True))


def _stsp_reference(x_true, x_gen, bins, alpha):
    edges = [np.linspace(lo, hi, bins + 1) for lo, hi in zip(x_true.min(0), x_true.max(0),
                                                             strict=True)]
    h_true, _ = np.histogramdd(x_true, bins=edges)
    h_gen, _ = np.histogramdd(x_gen, bins=edges)   # points outside the edges are dropped
    return _kl(h_true, h_gen, alpha)


def _stsp_compat_reference(x_true, x_gen, bins, alpha):
    """The published binning, written out: coordinates truncated toward zero, only those
    with 0 < c < bins in every dimension kept, NaN for an empty histogram."""
    lo, hi = x_true.min(0), x_true.max(0)
    hists = []
    for x in (x_true, x_gen):
        kept = []
        for point in x:
            c = np.trunc(bins * (point - lo) / (hi - lo))
            if np.all(c > 0) and np.all(c < bins):
                kept.append(c)
        kept = np.asarray(kept).reshape(-1, x.shape[1])
        h, _ = np.histogramdd(kept, bins=[np.arange(bins + 1)] * x.shape[1])
        hists.append(h)
    if hists[1].sum() == 0:
        return np.nan
    return _kl(hists[0], hists[1], alpha)


def test_state_space_divergence_histograms_equal_numpy(float64):
    for d, bins in ((1, 30), (2, 30), (3, 7)):
        x_true, x_gen = _pair(d, d=d)
        out = metrics.state_space_divergence(x_true, x_gen, bins=bins)
        assert float(out.divergence) == pytest.approx(
            _stsp_reference(x_true, x_gen, bins, 1e-5), rel=1e-10)
        outside = np.mean(np.any((x_gen < x_true.min(0)) | (x_gen > x_true.max(0)), axis=1))
        assert float(out.outside) == pytest.approx(outside, abs=1e-15) and outside > 0
        compat = metrics.state_space_divergence(x_true, x_gen, bins=bins, smoothing=1e-3,
                                                reference_compat=True)
        assert float(compat.divergence) == pytest.approx(
            _stsp_compat_reference(x_true, x_gen, bins, 1e-3), rel=1e-10)
        assert float(compat.outside) == float(out.outside)
    # the quirk is not a rounding detail: it changes the number
    assert abs(float(compat.divergence) - float(metrics.state_space_divergence(
        x_true, x_gen, bins=bins, smoothing=1e-3).divergence)) > 1e-3


def test_state_space_divergence_identities_and_edge_cases(float64):
    x_true, x_gen = _pair(4)
    for kwargs in ({}, {"reference_compat": True},
                   {"method": "gmm", "key": jax.random.key(0)}):
        out = metrics.state_space_divergence(x_true, x_true, **kwargs)
        assert float(out.divergence) == 0.0 and float(out.outside) == 0.0
    # a generated run entirely outside the box: every generated point is discarded; the
    # smoothed histogram is uniform (finite), the published code gives NaN
    far = x_gen + 100.0
    out = metrics.state_space_divergence(x_true, far)
    assert float(out.outside) == 1.0 and np.isfinite(float(out.divergence))
    assert float(out.divergence) == pytest.approx(
        _kl(np.histogramdd(x_true, bins=30)[0], np.zeros((30, 30)), 1e-5), rel=1e-10)
    assert np.isnan(float(metrics.state_space_divergence(x_true, far,
                                                         reference_compat=True).divergence))


def test_state_space_divergence_gmm_equals_numpy_mixtures(float64):
    x_true, x_gen = _pair(5, n=60, m=50, d=4)
    key = jax.random.key(3)
    out = metrics.state_space_divergence(x_true, x_gen, method="gmm", scale=0.3,
                                         num_samples=200, key=key)
    # the documented draws, then the two mixture log-densities evaluated plainly
    k1, k2 = jax.random.split(key)
    component = np.asarray(jax.random.randint(k1, (200,), 0, 60))
    z = x_true[component] + 0.3 * np.asarray(jax.random.normal(k2, (200, 4), jnp.float64))

    def log_mixture(points, centres):
        d2 = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
        return (logsumexp(-d2 / (2 * 0.3**2), axis=1) - np.log(len(centres))
                - 2 * np.log(2 * np.pi * 0.3**2))

    want = np.mean(log_mixture(z, x_true) - log_mixture(z, x_gen))
    assert float(out.divergence) == pytest.approx(want, rel=1e-10)
    # one Gaussian each: KL(N(a, s²I) ‖ N(b, s²I)) = |a − b|²/(2s²); the Monte-Carlo error
    # is |a − b| / (s √N) = 0.0046 for N = 20000: 5 standard errors
    a, b = np.zeros((1, 2)), np.array([[0.3, 0.4]])
    kl = metrics.state_space_divergence(a, b, method="gmm", scale=1.0, num_samples=20_000,
                                        key=key)
    assert float(kl.divergence) == pytest.approx(0.125, abs=5 * 0.5 / np.sqrt(20_000))


def test_state_space_divergence_jit_vmap_dtypes():
    x_true, x_gen = _pair(6)
    xt, xg = jnp.asarray(x_true, jnp.float32), jnp.asarray(x_gen, jnp.float32)
    f = jax.jit(lambda a, b: metrics.state_space_divergence(a, b, bins=10))
    batched = jax.vmap(f)(jnp.stack([xt, xt]), jnp.stack([xg, xt[:300]]))
    assert batched.divergence.dtype == jnp.float32 and batched.divergence.shape == (2,)
    single = metrics.state_space_divergence(xt, xg, bins=10)
    np.testing.assert_allclose(np.asarray(batched.divergence)[0], float(single.divergence),
                               rtol=1e-5)
    assert float(batched.outside[1]) == 0.0
    gmm = metrics.state_space_divergence(xt, xg, method="gmm", num_samples=50,
                                         key=jax.random.key(0))
    assert gmm.divergence.dtype == jnp.float32
    ints = metrics.state_space_divergence(jnp.arange(10).reshape(5, 2), jnp.ones((3, 2),
                                                                                jnp.int32))
    assert ints.divergence.dtype == jnp.float32


# ---------------------------------------------------------------------------------- D_H


def _dh_reference(x, y, sigma):
    """Per dimension: z-score, |rfft|²·2/T, scipy's Gaussian filter, normalise, Hellinger
    √(1 − Σ√(pq)); the mean over dimensions."""
    out = []
    for k in range(x.shape[1]):
        spectra = []
        for s in (x[:, k], y[:, k]):
            z = (s - s.mean()) / s.std()
            p = np.abs(np.fft.rfft(z)) ** 2 * 2 / len(z)
            p = gaussian_filter1d(p, sigma)
            spectra.append(p / p.sum())
        out.append(np.sqrt(1 - np.sum(np.sqrt(spectra[0] * spectra[1]))))
    return np.mean(out)


def _series(seed, t=400, d=2):
    rng = np.random.default_rng(seed)
    time = np.arange(t) * 0.1
    x = np.stack([np.sin(time * (1 + k)) + 0.3 * rng.normal(size=t) for k in range(d)], 1)
    return x, np.stack([np.sin(time * (1.3 + k)) + 0.5 * rng.normal(size=t)
                        for k in range(d)], 1)


def test_power_spectrum_distance_equals_numpy_scipy(float64):
    x, y = _series(0)
    for sigma in (20.0, 3.0):
        assert float(metrics.power_spectrum_distance(x, y, smoothing=sigma)) == \
            pytest.approx(_dh_reference(x, y, sigma), rel=1e-10)
    # a kernel wider than the spectrum (radius 80 > 26 bins): repeated reflection
    short_x, short_y = x[:50], y[:50]
    assert float(metrics.power_spectrum_distance(short_x, short_y)) == pytest.approx(
        _dh_reference(short_x, short_y, 20.0), rel=1e-10)
    # no smoothing
    assert float(metrics.power_spectrum_distance(x, y, smoothing=0.0)) == pytest.approx(
        np.mean([np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)) for p, q in (
            [(lambda s: (np.abs(np.fft.rfft((s - s.mean()) / s.std())) ** 2)
              / np.sum(np.abs(np.fft.rfft((s - s.mean()) / s.std())) ** 2))(c)
             for c in (x[:, k], y[:, k])] for k in range(2))]), rel=1e-10)


def test_power_spectrum_distance_identities(float64):
    x, y = _series(1)
    d = float(metrics.power_spectrum_distance(x, y))
    assert 0 < d <= 1
    assert d == pytest.approx(float(metrics.power_spectrum_distance(y, x)), rel=1e-12)
    assert float(metrics.power_spectrum_distance(x, x)) == 0.0
    # invariant to per-dimension affine maps a·x + b (a ≠ 0), on either side
    scaled = x * np.array([3.0, -0.2]) + np.array([5.0, -1.0])
    assert float(metrics.power_spectrum_distance(scaled, y)) == pytest.approx(d, rel=1e-10)
    assert float(metrics.power_spectrum_distance(x, scaled)) == pytest.approx(0.0, abs=1e-7)
    # white noise against a pure tone: far apart, but within [0, 1]
    rng = np.random.default_rng(2)
    tone = np.sin(np.arange(400) * 0.5)[:, None]
    far = float(metrics.power_spectrum_distance(tone, rng.normal(size=(400, 1))))
    assert 0.5 < far <= 1.0


def test_power_spectrum_distance_jit_vmap_dtypes():
    x, y = _series(3)
    x32, y32 = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32)
    f = jax.jit(metrics.power_spectrum_distance)
    batched = jax.vmap(f)(jnp.stack([x32, x32]), jnp.stack([y32, x32]))
    assert batched.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(batched), [_dh_reference(x, y, 20.0), 0.0],
                               atol=1e-5)
    ints = metrics.power_spectrum_distance(jnp.arange(40) % 7, jnp.arange(40) % 5)
    assert ints.dtype == jnp.float32 and 0 < float(ints) <= 1


# ------------------------------------------------------------------------------- D_frac


def test_dimension_error_on_sets_of_known_dimension(float64):
    rng = np.random.default_rng(0)
    line = np.stack([rng.uniform(size=800), np.zeros(800)], axis=1)  # D₂ = 1
    square = rng.uniform(size=(800, 2))                              # D₂ = 2
    out = metrics.dimension_error(line, square)
    assert float(out.true_dimension[0]) == pytest.approx(1.0, abs=0.1)
    assert float(out.generated_dimension[0]) == pytest.approx(2.0, abs=0.2)
    assert float(out.error) == pytest.approx(
        abs(float(out.true_dimension[0]) - float(out.generated_dimension[0])), rel=1e-12)
    assert float(metrics.dimension_error(square, square).error) == 0.0
    # several runs: the RMSE over runs of the per-run differences; a NaN run (diverged
    # model) makes the error NaN, never dropped
    runs = metrics.dimension_error(np.stack([line, square]), np.stack([square, square]))
    diff = np.asarray(runs.true_dimension) - np.asarray(runs.generated_dimension)
    assert float(runs.error) == pytest.approx(np.sqrt(np.mean(diff**2)), rel=1e-12)
    bad = square.copy()
    bad[5] = np.nan
    nan = metrics.dimension_error(np.stack([line, square]), np.stack([square, bad]))
    assert np.isnan(float(nan.error)) and np.isnan(float(nan.generated_dimension[1]))
    assert np.isfinite(float(nan.generated_dimension[0]))


@pytest.mark.parametrize("call, error, text", [
    (lambda: metrics.state_space_divergence(np.ones((3, 2)), np.ones((3, 3))), ValueError,
     r"state_space_divergence: x_true and x_gen must be states of the same dimension"),
    (lambda: metrics.state_space_divergence(np.ones((3, 6)), np.ones((3, 6))), ValueError,
     r"state_space_divergence: bins must be at most 16777216 cells in all .*got 30 \*\* 6"),
    (lambda: metrics.state_space_divergence(np.ones((3, 2)), np.ones((3, 2))), ValueError,
     r"state_space_divergence: x_true must be states with a positive range in every "
     r"dimension, got range \[0.0, 0.0\]"),
    (lambda: metrics.state_space_divergence(np.ones((3, 2)), np.ones((3, 2)), method="gmm"),
     TypeError, r"state_space_divergence: key must be a PRNG key"),
    (lambda: metrics.state_space_divergence(np.ones((3, 2)), np.ones((3, 2)), method="kde"),
     ValueError, r"state_space_divergence: method must be one of 'histogram', 'gmm', got "
                 r"'kde'"),
    (lambda: metrics.state_space_divergence(np.ones((3, 2)), np.ones((3, 2)), smoothing=0.0),
     ValueError, r"state_space_divergence: smoothing must be a positive finite number"),
    (lambda: metrics.power_spectrum_distance(np.ones((30, 2)), np.ones((31, 2))), ValueError,
     r"power_spectrum_distance: x_true and x_gen must be trajectories of the same shape, got "
     r"shapes \(30, 2\) and \(31, 2\)"),
    (lambda: metrics.power_spectrum_distance(np.ones((30, 2)), np.ones((30, 2)),
                                             smoothing=-1.0), ValueError,
     r"power_spectrum_distance: smoothing must be a non-negative finite number, got -1.0"),
    (lambda: metrics.power_spectrum_distance(np.ones((1, 2)), np.ones((1, 2))), ValueError,
     r"power_spectrum_distance: x_true must be a trajectory of at least 2 time steps"),
    (lambda: metrics.dimension_error(np.ones((2, 30, 2)), np.ones((3, 30, 2))), ValueError,
     r"dimension_error: x_true and x_gen must be the same number of runs and of dimensions"),
    (lambda: metrics.dimension_error(np.ones(30), np.ones(30)), ValueError,
     r"dimension_error: x_true must be an array with 2 or 3 dimensions, got shape \(30,\)"),
    (lambda: metrics.dimension_error(np.ones((30, 2)), np.ones((30, 2)), theiler=-1),
     ValueError, r"dimension_error: theiler must be a non-negative int, got -1"),
])
def test_bad_input(call, error, text, user_errors):
    with pytest.raises(error, match=text):
        call()
