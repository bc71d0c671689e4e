"""Mode finding on a 1-D Gaussian KDE against SciPy's gaussian_kde + find_peaks pipeline."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.signal import find_peaks, peak_prominences
from scipy.stats import gaussian_kde

from jaxlab.kde import ModeProminences, find_modes, mode_prominences


def scipy_modes(samples, bandwidth, prominence, grid_size=2048):
    """The SciPy pipeline dcgan-opinion used: gaussian_kde with the bandwidth in data units,
    find_peaks with a prominence relative to the highest density."""
    samples = np.asarray(samples, np.float64)
    kde = gaussian_kde(samples, bw_method=bandwidth / samples.std(ddof=1))
    grid = np.linspace(samples.min() - 3 * bandwidth, samples.max() + 3 * bandwidth, grid_size)
    density = kde(grid)
    peaks, _ = find_peaks(density, prominence=prominence * density.max())
    return grid[peaks], grid[1] - grid[0]


def mixture(rng, n=600):
    """A random mixture of 1-5 Gaussians with n points in all (one shape: one compile)."""
    k = int(rng.integers(1, 6))
    sizes = rng.multinomial(n - k, np.ones(k) / k) + 1
    return np.concatenate([rng.normal(rng.uniform(-3, 3), rng.uniform(0.1, 0.5), size)
                           for size in sizes])


@pytest.mark.parametrize("bandwidth, prominence", [(0.1, 0.1), (0.05, 0.02)])
def test_equals_scipy_pipeline_float64(float64, bandwidth, prominence):
    rng = np.random.default_rng(7)
    counts = []
    for _ in range(6):
        samples = mixture(rng)
        modes = np.asarray(find_modes(samples, bandwidth=bandwidth, prominence=prominence))
        expected, cell = scipy_modes(samples, bandwidth, prominence)
        assert modes.dtype == np.float64
        assert len(modes) == len(expected)
        np.testing.assert_array_less(np.abs(modes - expected), cell)
        counts.append(len(modes))
    assert len(set(counts)) > 1  # the samples differ in their number of modes


def test_prominences_equal_scipy_peak_prominences(float64):
    samples = mixture(np.random.default_rng(3))
    result = mode_prominences(samples, bandwidth=0.03)
    density = np.asarray(result.density)
    peaks = find_peaks(density)[0]
    assert len(peaks) > 3
    np.testing.assert_array_equal(np.flatnonzero(np.asarray(result.prominence) > 0), peaks)
    np.testing.assert_allclose(np.asarray(result.prominence)[peaks],
                               peak_prominences(density, peaks)[0], rtol=1e-12, atol=0)
    # the density is the KDE: a Gaussian mixture with standard deviation h at the samples
    grid = np.asarray(result.grid)
    by_hand = np.mean(np.exp(-0.5 * ((grid[:, None] - samples) / 0.03) ** 2), axis=1) / (
        0.03 * np.sqrt(2 * np.pi))
    np.testing.assert_allclose(density, by_hand, rtol=1e-10, atol=1e-300)


def separated(k, seed, n=600):
    """k Gaussians of sd 0.3, 3 apart, n points in all."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(3.0 * c, 0.3, n // k) for c in range(k)])


# the eager float64 tests share one sample size (600 points): one compilation
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_separated_mixture_has_k_modes(k, float64):
    modes = find_modes(separated(k, seed=k), bandwidth=0.1)
    assert len(modes) == k
    np.testing.assert_allclose(np.asarray(modes), 3.0 * np.arange(k), atol=0.15)


def test_small_bump_below_threshold_is_not_a_mode(float64):
    rng = np.random.default_rng(0)
    # 20 of 600 points make a bump of relative prominence ≈ 0.06
    bump = np.concatenate([rng.normal(0, 0.2, 580), rng.normal(1.5, 0.1, 20)])
    assert len(find_modes(bump, bandwidth=0.1, prominence=0.1)) == 1
    assert len(find_modes(bump, bandwidth=0.1, prominence=0.01)) == 2
    assert len(scipy_modes(bump, 0.1, 0.01)[0]) == 2


def test_integer_samples_are_promoted(float64):
    samples = jnp.repeat(jnp.asarray([0, 1, 10, 11]), 150)
    modes = find_modes(samples, bandwidth=1.0, prominence=0.1)
    assert modes.dtype == jnp.result_type(float)
    np.testing.assert_allclose(np.asarray(modes), [0.5, 10.5], atol=0.02)


def test_jit_vmap_float32_counts():
    batch = np.stack([separated(k, seed=10 + k) for k in (1, 2, 3)]).astype(np.float32)
    result = jax.jit(jax.vmap(lambda s: mode_prominences(s, bandwidth=0.1)))(batch)
    assert isinstance(result, ModeProminences) and result.grid.shape == (3, 2048)
    assert result.density.dtype == jnp.float32
    counts = np.asarray(result.is_mode(0.1).sum(axis=-1))
    np.testing.assert_array_equal(counts, [1, 2, 3])
    assert [len(scipy_modes(s, 0.1, 0.1)[0]) for s in batch] == [1, 2, 3]
    # find_modes (eager, float32) gives the same modes as the vmapped is_mode
    for i, s in enumerate(batch):
        modes = find_modes(s, bandwidth=0.1, prominence=0.1)
        assert modes.dtype == jnp.float32
        vmapped = np.asarray(result.grid[i][result.is_mode(0.1)[i]])
        # the same grid points; their float32 values agree to rounding at the grid's scale
        assert modes.shape == vmapped.shape
        np.testing.assert_allclose(np.asarray(modes), vmapped, rtol=0, atol=1e-6)


def test_bad_input(user_errors):
    ok = np.array([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"find_modes: samples must be an array with 1 "
                                         r"dimensions, got shape \(3, 1\)"):
        find_modes(ok[:, None], bandwidth=0.1)
    with pytest.raises(ValueError, match=r"find_modes: samples must be a non-empty"):
        find_modes(np.zeros(0), bandwidth=0.1)
    with pytest.raises(ValueError, match=r"find_modes: samples must be finite, got .*nan.* "
                                         r"at index \(1,\)"):
        find_modes(np.array([0.0, np.nan]), bandwidth=0.1)
    with pytest.raises(TypeError, match=r"find_modes: samples must be real"):
        find_modes(ok + 1j, bandwidth=0.1)
    with pytest.raises(ValueError, match=r"find_modes: bandwidth must be positive and "
                                         r"finite, got"):
        find_modes(ok, bandwidth=0.0)
    with pytest.raises(ValueError, match=r"find_modes: bandwidth must be of shape \(\) "):
        find_modes(ok, bandwidth=np.ones(2))
    with pytest.raises(ValueError, match=r"find_modes: prominence must be a finite number "
                                         r"in \[0.0, 1.0\], got 1.5"):
        find_modes(ok, bandwidth=0.1, prominence=1.5)
    with pytest.raises(TypeError, match=r"find_modes: grid_size must be an int >= 3, "
                                        r"got 2.5"):
        find_modes(ok, bandwidth=0.1, grid_size=2.5)
    with pytest.raises(ValueError, match=r"find_modes: grid_size must be an int >= 3, "
                                         r"got 2"):
        find_modes(ok, bandwidth=0.1, grid_size=2)
    with pytest.raises(TypeError, match=r"find_modes: samples must be concrete .* "
                                        r"mode_prominences"):
        jax.jit(lambda s: find_modes(s, bandwidth=0.1))(ok)
    with pytest.raises(ValueError, match=r"mode_prominences: bandwidth must be positive"):
        mode_prominences(ok, bandwidth=-1.0)
    result = ModeProminences(grid=jnp.arange(3.0), density=jnp.ones(3),
                             prominence=jnp.zeros(3))
    with pytest.raises(ValueError, match=r"ModeProminences.is_mode: prominence must be"):
        result.is_mode(-0.1)
