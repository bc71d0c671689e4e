"""Binned (linear binning + FFT) KDE against the direct float64 sum, KDEpy, and invariants."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from KDEpy import FFTKDE
from scipy.interpolate import RegularGridInterpolator

from jaxlab.kde import BinnedKDE, fft_kde, linear_binning

KERNELS = ["gaussian", "epanechnikov", "tophat", "exponential", "linear", "cosine"]

# --- NumPy references, written plainly ---------------------------------------------------------

# Profiles k(r) (scikit-learn's KernelDensity) and c_d = ∫_{R^d} k(|u|) du in closed form:
# c_1 = 2 ∫_0^∞ k, c_2 = 2π ∫_0^∞ k(r) r dr.
PROFILES = {
    "gaussian": lambda r: np.exp(-0.5 * r**2),
    "epanechnikov": lambda r: np.maximum(1 - r**2, 0.0),
    "tophat": lambda r: (r < 1).astype(float),
    "exponential": lambda r: np.exp(-r),
    "linear": lambda r: np.maximum(1 - r, 0.0),
    "cosine": lambda r: np.where(r < 1, np.cos(0.5 * np.pi * np.minimum(r, 1)), 0.0),
}
C1 = {"gaussian": np.sqrt(2 * np.pi), "epanechnikov": 4 / 3, "tophat": 2.0, "exponential": 2.0,
      "linear": 1.0, "cosine": 4 / np.pi}
C2 = {"gaussian": 2 * np.pi, "epanechnikov": np.pi / 2, "tophat": np.pi,
      "exponential": 2 * np.pi, "linear": np.pi / 3, "cosine": 4 - 8 / np.pi}
# Radius (in units of h) beyond which a kernel's mass is < 1e-12: where grids must reach for
# the density to integrate to 1.
SUPPORT = {"gaussian": 8.0, "exponential": 32.0}


def direct_kde_1d(x, data, h, kernel, weights=None):
    w = np.ones(len(data)) if weights is None else np.asarray(weights, float)
    w = w / w.sum()
    r = np.abs(x[:, None] - data[None, :]) / h
    return (PROFILES[kernel](r) @ w) / (h * C1[kernel])


def direct_kde_2d(gx, gy, data, h, kernel, weights=None):
    w = np.ones(len(data)) if weights is None else np.asarray(weights, float)
    w = w / w.sum()
    h1, h2 = np.broadcast_to(np.asarray(h, float), (2,))
    r = np.sqrt(((gx[:, None, None] - data[None, None, :, 0]) / h1) ** 2
                + ((gy[None, :, None] - data[None, None, :, 1]) / h2) ** 2)
    return (PROFILES[kernel](r) @ w) / (h1 * h2 * C2[kernel])


def grid_with_step(low, high, step):
    """Equally spaced nodes of spacing exactly `step`, covering [low, high]."""
    start = np.floor(low / step) * step
    count = int(np.ceil((high - start) / step)) + 1
    return start + step * np.arange(count)


def rel_error(got, want):
    return float(np.max(np.abs(np.asarray(got) - want)) / np.max(want))


def sample_1d(n, seed=0):
    """A bimodal sample (so the density has curvature of both signs)."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.3, rng.normal(-2.0, 0.5, n), rng.normal(1.0, 1.0, n))


def sample_2d(n, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    return np.stack([z[:, 0], 0.6 * z[:, 0] + 0.8 * z[:, 1] + 0.3 * z[:, 0] ** 2], axis=1)


# --- Linear binning ----------------------------------------------------------------------------


def test_linear_binning_by_hand(float64):
    grid = np.arange(6.0)
    # 2 → node 2; 2.5 → halves on 2 and 3; 3 → node 3; 4.75 → 1/4 on 4, 3/4 on 5 (last node).
    got = linear_binning(np.array([2.0, 2.5, 3.0, 4.75]), grid)
    np.testing.assert_allclose(got, [0, 0, 0.375, 0.375, 0.0625, 0.1875], atol=1e-15)
    got = linear_binning(np.array([2.0, 2.5, 5.0]), grid, np.array([1.0, 2.0, 1.0]))
    np.testing.assert_allclose(got, [0, 0, 0.5, 0.25, 0, 0.25], atol=1e-15)
    # Bilinear: (0.25, 1.5) in the cell [0, 1] × [1, 2] of a 2 × 3 grid.
    got = linear_binning(np.array([[0.25, 1.5]]), (np.array([0.0, 1.0]), np.arange(3.0)))
    np.testing.assert_allclose(got, [[0, 0.375, 0.375], [0, 0.125, 0.125]], atol=1e-15)


@pytest.mark.parametrize("d", [1, 2])
def test_linear_binning_keeps_mass_and_mean(d, float64):
    # Linear binning preserves total weight and the first moment exactly.
    rng = np.random.default_rng(1)
    w = rng.random(2000)
    if d == 1:
        y = rng.normal(size=2000)
        grid = np.linspace(-5, 5, 37)
        bins = np.asarray(linear_binning(y, grid, w))
        assert bins.shape == (37,) and np.all(bins >= 0)
        np.testing.assert_allclose(bins.sum(), 1.0, atol=1e-14)
        np.testing.assert_allclose(bins @ grid, np.average(y, weights=w), atol=1e-13)
    else:
        y = rng.normal(size=(2000, 2))
        gx, gy = np.linspace(-5, 5, 21), np.linspace(-6, 6, 30)
        bins = np.asarray(linear_binning(y, (gx, gy), w))
        assert bins.shape == (21, 30) and np.all(bins >= 0)
        np.testing.assert_allclose(bins.sum(), 1.0, atol=1e-14)
        np.testing.assert_allclose([gx @ bins.sum(1), bins.sum(0) @ gy],
                                   np.average(y, axis=0, weights=w), atol=1e-13)


# --- Against the direct sum --------------------------------------------------------------------

# Max |binned − direct| / max(direct) < 1e-3. Linear binning replaces each K_h(x − y_i) by
# its linear interpolant between the nodes around y_i: error ≤ δ²/8 · max|K''| per point,
# O(δ²/h²), with a kernel-dependent constant. Measured at δ = h/10 (1-D: 500 points; 2-D:
# 3000): Gaussian 2.8e-4 (1-D) / 5.4e-4 (2-D); exponential 8.4e-4 / 6.7e-4 (its cusp at 0
# biases the estimate by ≈ δ²/(12h²) ρ̂); linear 7e-16 in 1-D (every kink falls on a node
# when h/δ is an integer) / 2.4e-3 in 2-D; Epanechnikov 2.5e-3 / 3.0e-3 and cosine 2.0e-3 /
# 2.6e-3: where they meet zero the slope jumps (k'(1⁻) ≠ 0), which costs ≈ δ²/(4h²) in 1-D.
# Hence these nodes per bandwidth for 1e-3:
NODES_PER_H_1D = {"gaussian": 10, "exponential": 10, "linear": 10, "epanechnikov": 20,
                  "cosine": 20}
NODES_PER_H_2D = {"gaussian": 10, "exponential": 10, "linear": 20, "epanechnikov": 20,
                  "cosine": 20}


@pytest.mark.parametrize("kernel", list(NODES_PER_H_1D))
def test_matches_direct_sum_1d(kernel, float64):
    y, h = sample_1d(500), 0.4
    step = h / NODES_PER_H_1D[kernel]
    reach = SUPPORT.get(kernel, 1.0) * h + 2 * step  # the data ± the kernel's support
    grid = grid_with_step(y.min() - reach, y.max() + reach, step)
    kde = fft_kde(y, grid, h, kernel=kernel)
    assert kde.density.dtype == jnp.float64 and kde.density.shape == grid.shape
    err = rel_error(kde.density, direct_kde_1d(grid, y, h, kernel))
    total = np.trapezoid(kde.density, grid)
    print(f"1-D {kernel}, δ = h/{NODES_PER_H_1D[kernel]}: max error / max density = {err:.2e}, "
          f"∫ρ̂ − 1 = {total - 1:.2e}")
    assert err < 1e-3
    assert abs(total - 1) < integral_tolerance(kernel, 1, step / h)


@pytest.mark.parametrize("kernel", list(NODES_PER_H_2D))
def test_matches_direct_sum_2d(kernel, float64):
    # 3000 points: with a few hundred, the kinked kernels' errors (from the points near the
    # edge of each node's support) are noisy and fall more slowly than δ².
    y, h = sample_2d(3000), np.array([0.5, 0.7])
    m = NODES_PER_H_2D[kernel]
    gx = grid_with_step(y[:, 0].min(), y[:, 0].max(), h[0] / m)
    gy = grid_with_step(y[:, 1].min(), y[:, 1].max(), h[1] / m)
    kde = fft_kde(y, (gx, gy), h, kernel=kernel)
    assert kde.density.shape == (gx.size, gy.size) and kde.density.dtype == jnp.float64
    assert kde.bin_width.shape == (2,) and kde.bin_width.dtype == jnp.float64
    # The direct sum at every `skip`-th node per axis (≈ 60 × 60 nodes), to keep it cheap.
    skip = max(1, gx.size // 60)
    want = direct_kde_2d(gx[::skip], gy[::skip], y, h, kernel)
    err = rel_error(kde.density[::skip, ::skip], want)
    print(f"2-D {kernel}, δ = h/{m}: max error / max density = {err:.2e}")
    assert err < 1e-3


@pytest.mark.parametrize("d", [1, 2])
def test_tophat_error_bounded_by_points_near_the_edge(d, float64):
    # The tophat jumps at r = 1, so binning is first order there: a point's binned kernel
    # differs from the exact one only if its cell's corners straddle the edge, i.e. its
    # scaled distance r to the node is within ε = |(δ₁/h₁, δ₂/h₂)| of 1, and then by at most
    # K(0). So |error| ≤ K(0) Σ_i w_i 1{|r_i − 1| ≤ ε} at every node: a bound computed
    # without the binning. (Measured max error / max density at δ = h/10: 2.5e-2 in 1-D and
    # 7.1e-2 in 2-D, about what √(number of points near the edge) predicts.)
    if d == 1:
        y, h = sample_1d(500), np.array([0.4])
        grids = (grid_with_step(y.min() - 0.5, y.max() + 0.5, h[0] / 10),)
        nodes = grids[0][:, None]
        k0 = 1 / (2 * h[0])
        got = fft_kde(y, grids[0], h[0], kernel="tophat").density
        want = direct_kde_1d(grids[0], y, h[0], "tophat")
    else:
        y, h = sample_2d(300), np.array([0.5, 0.7])
        grids = tuple(grid_with_step(y[:, j].min(), y[:, j].max(), h[j] / 10)
                      for j in range(2))
        nodes = np.stack(np.meshgrid(*grids, indexing="ij"), axis=-1).reshape(-1, 2)
        k0 = 1 / (np.pi * h[0] * h[1])
        got = fft_kde(y, grids, h, kernel="tophat").density
        want = direct_kde_2d(*grids, y, h, "tophat")
    eps = np.sqrt(np.sum((np.array([g[1] - g[0] for g in grids]) / h) ** 2))
    r = np.sqrt(np.sum(((nodes[:, None, :] - y.reshape(len(y), d)[None]) / h) ** 2, axis=-1))
    bound = k0 * np.mean(np.abs(r - 1) <= eps, axis=1).reshape(want.shape)
    err = np.abs(np.asarray(got) - want)
    print(f"{d}-D tophat, δ = h/10: max error / max density = {err.max() / want.max():.2e}, "
          f"max bound / max density = {bound.max() / want.max():.2e}")
    assert np.all(err <= bound + 1e-12 * want.max())
    if d == 1:  # the grid covers the data ± h: see integral_tolerance
        assert abs(np.trapezoid(got, grids[0]) - 1) < 1e-12


def test_float32_default():
    # float32 by default; its round-off (~1e-7 relative) is far below the binning error.
    y, h = sample_1d(500), 0.4
    grid = grid_with_step(y.min(), y.max(), h / 10)
    y32, grid32 = jnp.asarray(y, jnp.float32), jnp.asarray(grid, jnp.float32)
    kde = fft_kde(y32, grid32, h)
    for leaf in (kde.grid, kde.density, kde.bin_width, kde.outside_weight):
        assert leaf.dtype == jnp.float32
    assert linear_binning(y32, grid32).dtype == jnp.float32
    assert rel_error(kde.density, direct_kde_1d(grid, y, h, "gaussian")) < 1e-3


@pytest.mark.parametrize("d", [1, 2])
def test_second_order_convergence(d, float64):
    # Halving δ quarters the binning error: slope of log error against log δ is 2.
    h = 0.48
    steps = h / np.array([4.0, 8.0, 16.0])
    errors = []
    if d == 1:
        y = sample_1d(400, seed=2)
        for step in steps:
            grid = -6.0 + step * np.arange(round(12 / step) + 1)
            want = direct_kde_1d(grid, y, h, "gaussian")
            errors.append(rel_error(fft_kde(y, grid, h).density, want))
    else:
        y = sample_2d(150, seed=2)
        for step in steps:
            gx = -4.32 + step * np.arange(round(8.64 / step) + 1)
            gy = -4.32 + step * np.arange(round(10.08 / step) + 1)
            want = direct_kde_2d(gx, gy, y, h, "gaussian")
            errors.append(rel_error(fft_kde(y, (gx, gy), h).density, want))
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    print(f"{d}-D Gaussian: errors {np.array(errors)} at δ = h/{h / steps}, slope {slope:.3f}")
    assert abs(slope - 2) < 0.3


# --- Normalisation, weights --------------------------------------------------------------------

# ∫ρ̂ on the grid equals the lattice sum Σ_k K_h(kδ) δ^d (the bins sum to 1): spectrally
# exact for the Gaussian; for the others the trapezoid rule on a kernel with kinks, O(δ²/h²)
# (1-D Epanechnikov: 1 − δ²/(4h²) for integer h/δ; exponential: 1 + δ²/(12h²); linear and
# tophat, its edge nodes counted half, exact). The 2-D tophat counts lattice points in a
# disc (Gauss's circle problem): first order, bounded by the edge's share, ~δ/h.
def integral_tolerance(kernel, d, step_over_h):
    if kernel == "gaussian" or (kernel in ("tophat", "linear") and d == 1):
        return 1e-12
    return step_over_h if kernel == "tophat" else step_over_h**2 / 2


@pytest.mark.parametrize("kernel", KERNELS)
def test_integrates_to_one_2d(kernel, float64):
    # (1-D: checked in test_matches_direct_sum_1d and the tophat test.)
    h, step = 0.3, 0.03
    reach = SUPPORT.get(kernel, 1.0) * h + 2 * step
    y = sample_2d(300, seed=3)
    gx = grid_with_step(y[:, 0].min() - reach, y[:, 0].max() + reach, step)
    gy = grid_with_step(y[:, 1].min() - reach, y[:, 1].max() + reach, step)
    rho = fft_kde(y, (gx, gy), h, kernel=kernel).density
    total = np.trapezoid(np.trapezoid(rho, gy, axis=1), gx)
    print(f"2-D {kernel}: ∫ρ̂ − 1 = {total - 1:.2e}")
    assert abs(total - 1) < integral_tolerance(kernel, 2, step / h)


@pytest.mark.parametrize("d", [1, 2])
def test_weights(d, float64):
    rng = np.random.default_rng(4)
    counts = rng.integers(0, 4, 200)
    counts[0] = 1
    if d == 1:  # Epanechnikov, 20 nodes per h (see NODES_PER_H_1D)
        y, h, kernel = sample_1d(200, seed=4), 0.3, "epanechnikov"
        grid = (grid_with_step(y.min(), y.max(), h / 20),)
        want = direct_kde_1d(grid[0], y, h, kernel, counts)
    else:
        y, h, kernel = sample_2d(200, seed=4), 0.5, "gaussian"
        grid = ((grid_with_step(y[:, 0].min(), y[:, 0].max(), h / 10),
                 grid_with_step(y[:, 1].min(), y[:, 1].max(), h / 10)),)
        want = direct_kde_2d(*grid[0], y, h, kernel, counts)
    got = fft_kde(y, *grid, h, kernel=kernel, weights=counts.astype(float)).density
    assert rel_error(got, want) < 1e-3
    # Integer weights are repeated points, exactly.
    repeated = fft_kde(np.repeat(y, counts, axis=0), *grid, h, kernel=kernel).density
    np.testing.assert_allclose(got, repeated, rtol=1e-10, atol=1e-12 * float(np.max(got)))


# --- Against KDEpy -----------------------------------------------------------------------------

# KDEpy's `bw` is the kernel's standard deviation (kernel_funcs.Kernel rescales by its var),
# while our h (scikit-learn's) is the profile's scale: h = bw / σ_k, σ_k the std of the
# profile at h = 1 — 1 (Gaussian), 1/√5 (Epanechnikov), 1/√6 (linear = KDEpy "tri"),
# 1/√3 (tophat = "box"). Both bin linearly on the same grid and convolve with the kernel on
# the node lattice; for compact kernels the two agree to round-off. KDEpy cuts the Gaussian
# where it falls below 1e-4 (absolute, `practical_support`), which bounds the difference by
# 1e-4 per unit weight in 1-D.
KDEPY = {"gaussian": ("gaussian", 1.0), "epanechnikov": ("epa", 5**0.5),
         "linear": ("tri", 6**0.5), "tophat": ("box", 3**0.5)}


@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov", "linear", "tophat"])
def test_equals_kdepy_1d(kernel, float64):
    y = sample_1d(2000, seed=5)
    w = np.random.default_rng(5).random(2000)
    name, scale = KDEPY[kernel]
    bw = 0.25
    grid = np.linspace(y.min() - 2.0, y.max() + 2.0, 512)
    theirs = FFTKDE(kernel=name, bw=bw).fit(y, w).evaluate(grid)
    ours = np.asarray(fft_kde(y, grid, bw * scale, kernel=kernel, weights=w).density)
    err = rel_error(ours, theirs)
    print(f"KDEpy 1-D {name}: max |diff| / max = {err:.2e}")
    if kernel == "gaussian":
        assert np.max(np.abs(ours - theirs)) < 1e-4 and err < 1e-3
    else:
        assert err < 1e-10


@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov"])
def test_equals_kdepy_2d(kernel, float64):
    y = sample_2d(2000, seed=6)
    name, scale = KDEPY[kernel]
    bw = 0.4
    gx = np.linspace(y[:, 0].min() - 2.0, y[:, 0].max() + 2.0, 96)
    gy = np.linspace(y[:, 1].min() - 2.0, y[:, 1].max() + 2.0, 112)
    points = np.stack(np.meshgrid(gx, gy, indexing="ij"), axis=-1).reshape(-1, 2)
    theirs = FFTKDE(kernel=name, bw=bw).fit(y).evaluate(points).reshape(96, 112)
    ours = np.asarray(fft_kde(y, (gx, gy), bw * scale, kernel=kernel).density)
    err = rel_error(ours, theirs)
    print(f"KDEpy 2-D {name}: max |diff| / max = {err:.2e}")
    # 2-D: KDEpy truncates the Gaussian to the square |u_j| ≤ 4.24 bw, where the 2-D kernel
    # is ≤ 1e-4 / (√(2π) bw) = 1e-4 per unit weight.
    assert err < (1e-3 if kernel == "gaussian" else 1e-10)


# --- Evaluation between nodes ------------------------------------------------------------------


def test_call_interpolates(float64):
    y = sample_1d(300, seed=7)
    grid = np.linspace(-5, 6, 111)
    kde = fft_kde(y, grid, 0.3)
    rho = np.asarray(kde.density)
    at = np.asarray(kde(np.concatenate([grid, 0.5 * (grid[1:] + grid[:-1])])))
    np.testing.assert_allclose(at[:111], rho, rtol=1e-14)  # nodes, then midpoints
    np.testing.assert_allclose(at[111:], 0.5 * (rho[1:] + rho[:-1]), rtol=1e-12)
    assert kde(0.5).dtype == jnp.float64 and kde(0.5).shape == ()
    y2 = sample_2d(300, seed=7)
    gx, gy = np.linspace(-4, 4, 41), np.linspace(-4, 7, 56)
    kde2 = fft_kde(y2, (gx, gy), np.array([0.4, 0.5]))
    x = np.random.default_rng(7).uniform([-4, -4], [4, 7], (50, 2))
    want = RegularGridInterpolator((gx, gy), np.asarray(kde2.density))(x)
    np.testing.assert_allclose(kde2(x), want, rtol=1e-12)
    np.testing.assert_allclose(kde2(x[3]), want[3], rtol=1e-12)
    assert kde2.dimension == 2 and kde.dimension == 1
    # Under jit the range check cannot raise: outside points give NaN.
    outside = jax.jit(lambda k, q: k(q))(kde, jnp.array([-6.0, 0.0]))
    assert np.isnan(outside[0]) and np.isfinite(outside[1])


# --- jit, vmap, dtypes ---------------------------------------------------------------------------


def test_jit_compiles_once_and_vmaps(float64):
    @jax.jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def density(y, grid, h):
        return fft_kde(y, grid, h, kernel="epanechnikov").density

    grid = jnp.linspace(-6.0, 7.0, 131)
    for seed, h in [(0, 0.3), (1, 0.5), (2, 0.7)]:  # new values, same shapes: one trace
        y = jnp.asarray(sample_1d(400, seed=seed))
        got = density(y, grid + 0.1 * seed, h)
    np.testing.assert_allclose(got, fft_kde(y, grid + 0.2, 0.7, kernel="epanechnikov").density,
                               rtol=1e-12, atol=1e-15)

    @jax.jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def density_2d(y, gx, gy, h):
        return fft_kde(y, (gx, gy), h).density

    gx, gy = jnp.linspace(-5.0, 5.0, 40), jnp.linspace(-5.0, 7.0, 50)
    for seed in range(2):
        y2 = jnp.asarray(sample_2d(300, seed=seed))
        got = density_2d(y2, gx, gy, jnp.array([0.4, 0.6 + 0.1 * seed]))
    np.testing.assert_allclose(got, fft_kde(y2, (gx, gy), jnp.array([0.4, 0.7])).density,
                               rtol=1e-12, atol=1e-15)

    # vmap over bandwidths, each row against the direct sum within the binning bound
    # δ²/8 · max|K_h''| = δ² / (8 h³ √(2π)) (Gaussian, unit total weight).
    hs = jnp.array([0.3, 0.6, 1.2])
    stacked = jax.vmap(lambda h: fft_kde(y, grid, h).density)(hs)
    for row, h in zip(stacked, np.asarray(hs), strict=True):
        want = direct_kde_1d(np.asarray(grid), np.asarray(y), h, "gaussian")
        assert np.max(np.abs(row - want)) <= 0.1**2 / (8 * h**3 * np.sqrt(2 * np.pi))


def test_outside_points_under_jit_are_dropped_and_reported(float64):
    y = jnp.asarray(sample_1d(400))
    grid = jnp.linspace(-2.0, 7.0, 91)
    kde = jax.jit(lambda y, g: fft_kde(y, g, 0.3))(y, grid)
    fraction = float(np.mean((np.asarray(y) < -2.0) | (np.asarray(y) > 7.0)))
    assert fraction > 0.05
    np.testing.assert_allclose(kde.outside_weight, fraction, rtol=1e-12)
    inside = np.asarray(y)[np.asarray(y) >= -2.0]
    np.testing.assert_allclose(kde.density * len(y),
                               fft_kde(inside, grid, 0.3).density * len(inside), rtol=1e-10,
                               atol=1e-12)
    assert float(fft_kde(inside, grid, 0.3).outside_weight) == 0.0


def test_float64_dtypes(float64):
    y, grid = sample_1d(100), np.linspace(-5, 6, 64)
    kde = fft_kde(y, grid, 0.3, kernel="cosine")
    assert isinstance(kde, BinnedKDE)
    for leaf in (kde.grid, kde.density, kde.bin_width, kde.outside_weight):
        assert leaf.dtype == jnp.float64
    assert linear_binning(y, grid).dtype == jnp.float64


# --- Bad inputs ----------------------------------------------------------------------------------


def test_bad_inputs(user_errors):
    y, grid = jnp.array([0.1, 0.5, 0.9]), jnp.linspace(0.0, 1.0, 11)
    with pytest.raises(ValueError, match=r"data must lie inside the grid, got 1 point\(s\) "
                                         r"outside grid's range \[0, 1\]"):
        fft_kde(jnp.array([0.1, 1.5]), grid, 0.1)
    with pytest.raises(ValueError, match=r"linear_binning: data must lie inside the grid.*"
                                         r"in coordinate 1"):
        linear_binning(jnp.array([[0.5, 0.5], [0.5, -0.1]]), (grid, grid))
    with pytest.raises(ValueError, match="grid must be equally spaced"):
        fft_kde(y, jnp.array([0.0, 0.1, 0.3, 1.0]), 0.1)
    with pytest.raises(ValueError, match=r"grid must be strictly increasing, got grid\[0\] = 0 "
                                         r"and grid\[1\] = 0"):
        fft_kde(y, jnp.array([0.0, 0.0, 1.0]), 0.1)
    with pytest.raises(ValueError, match=r"grid must be a 1-D array of at least 2 nodes, got "
                                         r"shape \(1,\)"):
        fft_kde(y, jnp.array([0.5]), 0.1)
    with pytest.raises(ValueError, match=r"grid\[1\] must be a 1-D array"):
        fft_kde(jnp.zeros((3, 2)), (grid, jnp.zeros((2, 2))), 0.1)
    with pytest.raises(ValueError, match=r"2-D data \(shape \(3, 2\)\) take a grid tuple"):
        fft_kde(jnp.zeros((3, 2)), grid, 0.1)
    with pytest.raises(ValueError, match=r"1-D data \(shape \(3,\)\) take one grid array"):
        fft_kde(y, (grid, grid), 0.1)
    with pytest.raises(ValueError, match=r"data must have shape \(n,\) for 1-D or \(n, 2\) "
                                         r"for 2-D estimates, got shape \(3, 3\)"):
        fft_kde(jnp.zeros((3, 3)), grid, 0.1)
    with pytest.raises(ValueError, match=r"data must be finite, got 1 point\(s\)"):
        fft_kde(jnp.array([0.1, jnp.nan]), grid, 0.1)
    with pytest.raises(ValueError, match="bandwidth must be positive and finite, got"):
        fft_kde(y, grid, -0.1)
    with pytest.raises(ValueError, match="bandwidth must be positive and finite, got"):
        fft_kde(y, grid, jnp.inf)
    with pytest.raises(ValueError, match=r"bandwidth must be a scalar for 1-D data, got "
                                         r"shape \(2,\)"):
        fft_kde(y, grid, jnp.array([0.1, 0.2]))
    with pytest.raises(ValueError, match=r"bandwidth must be a scalar or a vector of shape "
                                         r"\(2,\) for 2-D data, got shape \(3,\)"):
        fft_kde(jnp.full((3, 2), 0.5), (grid, grid), jnp.ones(3))
    with pytest.raises(ValueError, match=r"weights must be of shape \(3,\) to match data, got "
                                         r"shape \(2,\)"):
        fft_kde(y, grid, 0.1, weights=jnp.ones(2))
    with pytest.raises(ValueError, match=r"fft_kde: weights must be non-negative and finite, "
                                         r"got .*-1\.0.* at index \(1,\)"):
        fft_kde(y, grid, 0.1, weights=jnp.array([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="linear_binning: weights must be weights with a "
                                         "positive sum, got a sum of 0"):
        linear_binning(y, grid, jnp.zeros(3))
    with pytest.raises(ValueError, match=r"kernel must be one of \['cosine', 'epanechnikov', "
                                         r"'exponential', 'gaussian', 'linear', 'tophat'\].*"
                                         r"got 'epa'"):
        fft_kde(y, grid, 0.1, kernel="epa")
    kde = fft_kde(y, grid, 0.1)
    with pytest.raises(ValueError, match=r"x must lie inside the grid, got 1 point\(s\) "
                                         r"outside \[0, 1\]"):
        kde(jnp.array([0.5, 2.0]))
    with pytest.raises(ValueError, match=r"x must have shape \(m, 2\) or \(2,\) for a 2-D "
                                         r"estimate, got shape \(4,\)"):
        fft_kde(jnp.full((3, 2), 0.5), (grid, grid), 0.1)(jnp.zeros(4))
    with pytest.raises(TypeError, match=r"fft_kde: data must be real \(complex input is not "
                                        r"supported\), got dtype complex"):
        fft_kde(y + 1j, grid, 0.1)
    with pytest.raises(TypeError, match=r"fft_kde: kernel must be one of .* or an "
                                        r"AbstractKernel, got a int"):
        fft_kde(y, grid, 0.1, kernel=3)
