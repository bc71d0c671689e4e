"""jaxlab.metrics against the peer a user would otherwise call, on the same data in float64.

- `wasserstein_1d` vs `scipy.stats.wasserstein_distance` (n = m = 10⁵ weighted samples);
- `wasserstein` vs POT's `ot.emd2`: equal uniform clouds (jaxlab: SciPy's assignment solver)
  and unequal weighted clouds (jaxlab: POT's network simplex through a host callback);
- `sliced_wasserstein` vs POT's `ot.sliced_wasserstein_distance` with the same projections;
- `mmd` (RBF, fixed bandwidth) vs a vectorised NumPy implementation (one distance matrix per
  block, `np.exp`, sums).

Each pair is checked to agree (tolerance in `extra_info`); jaxlab is compiled first and its
compile time reported apart; the peer is timed best of 3.
"""

import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import ot
import pytest
import scipy.stats as st

from jaxlab import metrics

from ._timing import best_of, compile_time, record


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


def test_wasserstein_1d_vs_scipy(benchmark):
    rng = np.random.default_rng(0)
    n = 100_000
    u, v = rng.normal(size=n), rng.standard_t(5, size=n)
    wu, wv = rng.uniform(0.1, 1, n), rng.uniform(0.1, 1, n)
    fn = jax.jit(lambda a, b, c, d: metrics.wasserstein_1d(a, b, u_weights=c, v_weights=d))
    args = [jnp.asarray(a) for a in (u, v, wu, wv)]
    compile_s = compile_time(fn, *args)
    ours = benchmark.pedantic(lambda: jax.block_until_ready(fn(*args)), rounds=5)
    peer_s = best_of(lambda: st.wasserstein_distance(u, v, wu, wv))
    want = st.wasserstein_distance(u, v, wu, wv)
    assert float(ours) == pytest.approx(want, rel=1e-10)
    record(benchmark, peer_name="scipy.stats.wasserstein_distance", peer_s=peer_s,
           compile_s=compile_s, n=n, dtype="float64", tolerance="rel 1e-10", load=_load())


@pytest.mark.parametrize("case", ["assignment", "weighted"])
def test_wasserstein_vs_pot(benchmark, case):
    rng = np.random.default_rng(1)
    n, m = (500, 500) if case == "assignment" else (1000, 800)
    x, y = rng.normal(size=(n, 3)), rng.normal(size=(m, 3)) + 0.5
    if case == "assignment":
        a, b = np.full(n, 1 / n), np.full(m, 1 / m)
        fn = jax.jit(lambda p, q: metrics.wasserstein(p, q))
        args = (jnp.asarray(x), jnp.asarray(y))
    else:
        a, b = rng.uniform(0.1, 1, n), rng.uniform(0.1, 1, m)
        a, b = a / a.sum(), b / b.sum()
        fn = jax.jit(lambda p, q, c, d: metrics.wasserstein(p, q, x_weights=c, y_weights=d))
        args = (jnp.asarray(x), jnp.asarray(y), jnp.asarray(a), jnp.asarray(b))
    compile_s = compile_time(fn, *args)
    ours = benchmark.pedantic(lambda: jax.block_until_ready(fn(*args)), rounds=3)

    def peer():
        return np.sqrt(ot.emd2(a, b, ot.dist(x, y), numItermax=10**7))

    peer_s = best_of(peer)
    assert float(ours) == pytest.approx(float(peer()), rel=1e-10)
    record(benchmark, peer_name="POT ot.emd2 (+ ot.dist)", peer_s=peer_s, compile_s=compile_s,
           n=n, m=m, dtype="float64", tolerance="rel 1e-10", load=_load())


def test_sliced_wasserstein_vs_pot(benchmark):
    rng = np.random.default_rng(2)
    n, d, num = 10_000, 10, 100
    x, y = rng.normal(size=(n, d)), rng.normal(size=(n, d)) * 1.1
    key = jax.random.key(0)
    fn = jax.jit(lambda p, q: metrics.sliced_wasserstein(p, q, num_projections=num, key=key))
    args = (jnp.asarray(x), jnp.asarray(y))
    compile_s = compile_time(fn, *args)
    ours = benchmark.pedantic(lambda: jax.block_until_ready(fn(*args)), rounds=5)
    theta = np.asarray(jax.random.normal(key, (num, d), jnp.float64))
    theta = (theta / np.linalg.norm(theta, axis=1, keepdims=True)).T

    def peer():
        return ot.sliced_wasserstein_distance(x, y, n_projections=num, projections=theta)

    peer_s = best_of(peer)
    assert float(ours) == pytest.approx(float(peer()), rel=1e-10)
    record(benchmark, peer_name="POT ot.sliced_wasserstein_distance", peer_s=peer_s,
           compile_s=compile_s, n=n, d=d, num_projections=num, dtype="float64",
           tolerance="rel 1e-10", load=_load())


def _numpy_mmd(x, y, h):
    def mean_kernel(a, b):
        d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
        return np.exp(-np.maximum(d2, 0) / (2 * h * h)).mean()

    return mean_kernel(x, x) + mean_kernel(y, y) - 2 * mean_kernel(x, y)


def test_mmd_vs_numpy(benchmark):
    rng = np.random.default_rng(3)
    n, d = 2000, 10
    x, y = rng.normal(size=(n, d)), rng.normal(size=(n, d)) + 0.1
    fn = jax.jit(lambda p, q: metrics.mmd(p, q, bandwidth=3.0))
    args = (jnp.asarray(x), jnp.asarray(y))
    compile_s = compile_time(fn, *args)
    ours = benchmark.pedantic(lambda: jax.block_until_ready(fn(*args)), rounds=5)
    start = time.perf_counter()
    want = _numpy_mmd(x, y, 3.0)
    peer_s = min(time.perf_counter() - start, best_of(lambda: _numpy_mmd(x, y, 3.0)))
    assert float(ours) == pytest.approx(want, rel=1e-9)
    record(benchmark, peer_name="vectorised NumPy (matmul distances, np.exp)", peer_s=peer_s,
           compile_s=compile_s, n=n, d=d, dtype="float64", tolerance="rel 1e-9", load=_load())
