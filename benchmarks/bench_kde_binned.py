"""jaxlab.kde.fft_kde against KDEpy's FFTKDE: n = 10⁶ points, 1-D (1024 nodes) and 2-D
(256 × 256), same data, grid and bandwidth, float64 and float32 on our side."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from KDEpy import FFTKDE

from jaxlab.kde import fft_kde

from ._timing import best_of, compile_time, record

jax.config.update("jax_enable_x64", True)

N = 1_000_000
GRID_1D = 1024  # KDEpy's default number of nodes
GRID_2D = 256


def _agreement(ours, theirs) -> float:
    """max |ours − KDEpy| / max KDEpy.

    Both bin linearly onto the same nodes and convolve with the kernel on the node lattice,
    so they differ only by KDEpy's cut of the Gaussian where it falls below 1e-4 (absolute,
    at ≈ 4.6 bw here; in 2-D the square of that half-width), i.e. by about ρ̂ times the
    kernel mass beyond the cut (~1e-5 relative), plus our float32 round-off when float32.
    Allowed: 1e-3.
    """
    theirs = np.asarray(theirs)
    return float(np.max(np.abs(np.asarray(ours, np.float64) - theirs)) / np.max(theirs))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fft_kde_1d(benchmark, dtype):
    y = np.random.default_rng(0).normal(size=N)
    h = 1.06 * y.std() * N ** (-1 / 5)  # Silverman's rule: 0.067
    grid = np.linspace(y.min() - 8 * h, y.max() + 8 * h, GRID_1D)
    yj, gj = jnp.asarray(y, dtype), jnp.asarray(grid, dtype)
    fn = jax.jit(lambda data, nodes: fft_kde(data, nodes, h).density)
    compile_s = compile_time(fn, yj, gj)
    ours = benchmark.pedantic(lambda: jax.block_until_ready(fn(yj, gj)), rounds=10)
    peer_s = best_of(lambda: FFTKDE(bw=h).fit(y).evaluate(grid), repeat=5)
    eager_s = best_of(lambda: fft_kde(yj, gj, h).density, repeat=5)  # with the value checks
    diff = _agreement(ours, FFTKDE(bw=h).fit(y).evaluate(grid))
    assert diff < 1e-3
    record(benchmark, peer_name="KDEpy FFTKDE", peer_s=peer_s, compile_s=compile_s, n=N,
           grid=GRID_1D, dtype=dtype, bandwidth=h, eager_with_checks_s=eager_s,
           max_rel_diff_vs_peer=diff)
    print(f"  eager call with input checks {eager_s * 1e3:.2f} ms; max |diff| / max = "
          f"{diff:.2e}")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fft_kde_2d(benchmark, dtype):
    rng = np.random.default_rng(1)
    z = rng.normal(size=(N, 2))
    y = np.stack([z[:, 0], 0.6 * z[:, 0] + 0.8 * z[:, 1]], axis=1)
    h = N ** (-1 / 6)  # Scott's rule for unit-variance marginals: 0.1
    axes = [np.linspace(y[:, j].min() - 8 * h, y[:, j].max() + 8 * h, GRID_2D)
            for j in range(2)]
    points = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 2)
    yj = jnp.asarray(y, dtype)
    gj = tuple(jnp.asarray(a, dtype) for a in axes)
    fn = jax.jit(lambda data, nodes: fft_kde(data, nodes, h).density)
    compile_s = compile_time(fn, yj, gj)
    ours = benchmark.pedantic(lambda: jax.block_until_ready(fn(yj, gj)), rounds=5)
    peer_s = best_of(lambda: FFTKDE(bw=h).fit(y).evaluate(points), repeat=3)
    eager_s = best_of(lambda: fft_kde(yj, gj, h).density, repeat=3)
    theirs = FFTKDE(bw=h).fit(y).evaluate(points).reshape(GRID_2D, GRID_2D)
    diff = _agreement(ours, theirs)
    assert diff < 1e-3
    record(benchmark, peer_name="KDEpy FFTKDE", peer_s=peer_s, compile_s=compile_s, n=N,
           grid=f"{GRID_2D}x{GRID_2D}", dtype=dtype, bandwidth=h,
           eager_with_checks_s=eager_s, max_rel_diff_vs_peer=diff)
    print(f"  eager call with input checks {eager_s * 1e3:.2f} ms; max |diff| / max = "
          f"{diff:.2e}")
