"""Exact 1-D and sliced Wasserstein distances against SciPy, POT and closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import ot
import pytest
import scipy.stats as st

from jaxlab import metrics


def _sample(seed, n, m):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=n), 1.5 * rng.normal(size=m) + 0.3, rng.uniform(0.1, 1.0, n),
            rng.uniform(0.1, 1.0, m))


def test_wasserstein_1d_equals_scipy_pot_and_sorted_pairs(float64):
    for seed, (n, m) in enumerate([(1, 1), (7, 5), (40, 23)]):
        u, v, wu, wv = _sample(seed, n, m)
        # p = 1: SciPy (the CDF integral, an independent formula), uniform and weighted
        assert float(metrics.wasserstein_1d(u, v)) == pytest.approx(
            st.wasserstein_distance(u, v), rel=1e-10, abs=1e-14)
        assert float(metrics.wasserstein_1d(u, v, u_weights=wu, v_weights=wv)) == \
            pytest.approx(st.wasserstein_distance(u, v, wu, wv), rel=1e-10, abs=1e-14)
        # other orders: POT's independent quantile implementation returns W_p^p
        for p in (1.5, 2.0, 3.5):
            want = ot.wasserstein_1d(u, v, wu / wu.sum(), wv / wv.sum(), p=p) ** (1 / p)
            got = metrics.wasserstein_1d(u, v, u_weights=wu, v_weights=wv, order=p)
            assert float(got) == pytest.approx(float(want), rel=1e-10)
    # uniform samples of one size: the sorted samples are paired (plain loop)
    u, v, _, _ = _sample(9, 12, 12)
    us, vs = sorted(u), sorted(v)
    for p in (1.0, 2.0, 3.0):
        want = (sum(abs(a - b) ** p for a, b in zip(us, vs, strict=True)) / 12) ** (1 / p)
        assert float(metrics.wasserstein_1d(u, v, order=p)) == pytest.approx(want, rel=1e-10)


def test_wasserstein_1d_identities(float64):
    u, v, wu, wv = _sample(3, 9, 6)
    assert float(metrics.wasserstein_1d(u, u, u_weights=wu, v_weights=wu, order=2.0)) == 0.0
    for p in (1.0, 2.5):
        ab = metrics.wasserstein_1d(u, v, u_weights=wu, v_weights=wv, order=p)
        ba = metrics.wasserstein_1d(v, u, u_weights=wv, v_weights=wu, order=p)
        assert float(ab) == pytest.approx(float(ba), rel=1e-12)
        # a translation moves every quantile by c
        assert float(metrics.wasserstein_1d(u, u + 0.7, order=p)) == pytest.approx(0.7,
                                                                                   rel=1e-12)
    # a repeated atom is the same measure as one atom of twice the weight
    doubled = metrics.wasserstein_1d(np.concatenate([u, u[:1]]), v,
                                     u_weights=np.concatenate([wu, wu[:1]]), v_weights=wv)
    merged = metrics.wasserstein_1d(u, v, u_weights=wu + np.eye(9)[0] * wu[0], v_weights=wv)
    assert float(doubled) == pytest.approx(float(merged), rel=1e-12)
    # a zero weight removes its atom
    dropped = metrics.wasserstein_1d(np.append(u, 100.0), v, u_weights=np.append(wu, 0.0),
                                     v_weights=wv)
    assert float(dropped) == pytest.approx(
        float(metrics.wasserstein_1d(u, v, u_weights=wu, v_weights=wv)), rel=1e-12)


def test_wasserstein_1d_jit_vmap_grad(float64):
    rng = np.random.default_rng(4)
    u, v = rng.normal(size=(3, 8)), rng.normal(size=(3, 8))
    batched = jax.vmap(lambda a, b: metrics.wasserstein_1d(a, b, order=2.0))(u, v)
    looped = [st.wasserstein_distance(a, b) for a, b in zip(u, v, strict=True)]
    jitted = jax.jit(lambda a, b: metrics.wasserstein_1d(a, b))
    np.testing.assert_allclose([float(jitted(a, b)) for a, b in zip(u, v, strict=True)],
                               looped, rtol=1e-10)
    # W_2² of equal-size uniform samples is mean (u_(i) − v_(i))²: its gradient in u is
    # 2 (u_i − v_{σ(i)})/n with σ pairing ranks
    ranks_u, ranks_v = np.argsort(np.argsort(u[0])), np.argsort(v[0])
    want = 2 * (u[0] - v[0][ranks_v[ranks_u]]) / 8
    grad = jax.grad(lambda a: metrics.wasserstein_1d(a, v[0], order=2.0) ** 2)(u[0])
    np.testing.assert_allclose(np.asarray(grad), want, rtol=1e-10)
    # the same through the general (weighted, merged-levels) path
    grad = jax.grad(lambda a: metrics.wasserstein_1d(a, v[0], u_weights=np.ones(8),
                                                     order=2.0) ** 2)(u[0])
    np.testing.assert_allclose(np.asarray(grad), want, rtol=1e-10)
    assert batched.shape == (3,)
    np.testing.assert_allclose(np.asarray(batched), [
        np.sqrt(np.mean((np.sort(a) - np.sort(b)) ** 2)) for a, b in zip(u, v, strict=True)],
        rtol=1e-10)


def test_wasserstein_1d_dtypes():
    u32 = jnp.asarray([0.0, 1.0, 3.0], jnp.float32)
    assert metrics.wasserstein_1d(u32, u32 + 1).dtype == jnp.float32
    # integers are promoted to the default float and give the float answer
    ints = metrics.wasserstein_1d(jnp.arange(3), jnp.arange(3) + 2)
    assert ints.dtype == jnp.float32 and float(ints) == 2.0
    with jax.enable_x64(True):
        u64 = jnp.asarray([0.0, 1.0, 3.0])
        assert metrics.wasserstein_1d(u64, u64 + 1).dtype == jnp.float64
        assert metrics.wasserstein_1d(jnp.arange(3), jnp.arange(3)).dtype == jnp.float64


@pytest.mark.parametrize("call, error, text", [
    (lambda: metrics.wasserstein_1d(np.ones(3), np.ones(3), order=0.5), ValueError,
     r"wasserstein_1d: order must be a finite number >= 1.0, got 0.5"),
    (lambda: metrics.wasserstein_1d(np.ones((3, 2)), np.ones(3)), ValueError,
     r"wasserstein_1d: u must be an array with 1 dimensions, got shape \(3, 2\)"),
    (lambda: metrics.wasserstein_1d(np.ones(0), np.ones(3)), ValueError,
     r"wasserstein_1d: u must be a non-empty array of samples, got shape \(0,\)"),
    (lambda: metrics.wasserstein_1d(np.ones(3) * 1j, np.ones(3)), TypeError,
     r"wasserstein_1d: u must be real"),
    (lambda: metrics.wasserstein_1d(np.ones(3), np.ones(3), u_weights=np.ones(2)), ValueError,
     r"wasserstein_1d: u_weights must be of shape \(3,\), got shape \(2,\)"),
    (lambda: metrics.wasserstein_1d(np.ones(3), np.ones(3), v_weights=-np.ones(3)),
     ValueError, r"wasserstein_1d: v_weights must be non-negative and finite"),
    (lambda: metrics.wasserstein_1d(np.ones(3), np.ones(3), v_weights=np.zeros(3)),
     ValueError, r"wasserstein_1d: v_weights must be weights with a positive sum"),
    (lambda: metrics.sliced_wasserstein(np.ones((3, 2)), np.ones((3, 2)), key=0), TypeError,
     r"sliced_wasserstein: key must be a PRNG key"),
    (lambda: metrics.sliced_wasserstein(np.ones((3, 2)), np.ones((3, 3)),
                                        key=jax.random.key(0)), ValueError,
     r"sliced_wasserstein: x and y must be points with the same number of coordinates, got "
     r"shapes \(3, 2\) and \(3, 3\)"),
    (lambda: metrics.sliced_wasserstein(np.ones((3, 2)), np.ones((3, 2)), num_projections=0,
                                        key=jax.random.key(0)), ValueError,
     r"sliced_wasserstein: num_projections must be a positive int, got 0"),
])
def test_bad_input(call, error, text, user_errors):
    with pytest.raises(error, match=text):
        call()


def _directions(key, num, d):
    """The documented directions: normal draws of `key`, normalised row by row."""
    theta = np.asarray(jax.random.normal(key, (num, d), jnp.float64))
    return theta / np.linalg.norm(theta, axis=1, keepdims=True)


def test_sliced_wasserstein_equals_pot_with_the_same_projections(float64):
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(15, 3)) * [1.0, 2.0, 0.5]
    wx, wy = rng.uniform(0.1, 1, 20), rng.uniform(0.1, 1, 15)
    key = jax.random.key(7)
    theta = _directions(key, 30, 3)
    for p, weights in ((2.0, False), (1.0, True), (3.0, True)):
        a, b = (wx / wx.sum(), wy / wy.sum()) if weights else (None, None)
        want = ot.sliced_wasserstein_distance(x, y, a, b, n_projections=30, p=p,
                                              projections=theta.T)
        got = metrics.sliced_wasserstein(x, y, num_projections=30, order=p, key=key,
                                         x_weights=a, y_weights=b)
        assert float(got) == pytest.approx(float(want), rel=1e-10)
    # the plain per-direction computation: sorted projections of equal-size clouds, p = 2
    x2 = rng.normal(size=(15, 3))
    per_direction = [np.mean((np.sort(x2 @ t) - np.sort(y @ t)) ** 2) for t in theta]
    assert float(metrics.sliced_wasserstein(x2, y, num_projections=30, key=key)) == \
        pytest.approx(np.sqrt(np.mean(per_direction)), rel=1e-10)


def test_sliced_wasserstein_identities_and_batching(float64):
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(10, 2)), rng.normal(size=(10, 2)) + 1.0
    key = jax.random.key(0)
    assert float(metrics.sliced_wasserstein(x, x, key=key)) == 0.0
    assert float(metrics.sliced_wasserstein(x, y, key=key)) == pytest.approx(
        float(metrics.sliced_wasserstein(y, x, key=key)), rel=1e-12)
    # on the line every direction is ±1: SW_p = W_p
    assert float(metrics.sliced_wasserstein(x[:, 0], y[:, 0], order=1.5, key=key)) == \
        pytest.approx(float(metrics.wasserstein_1d(x[:, 0], y[:, 0], order=1.5)), rel=1e-12)
    # the same key gives the same value (also under jit); vmap over keys is the loop
    keys = jax.random.split(key, 3)
    f = jax.jit(lambda k: metrics.sliced_wasserstein(x, y, key=k))
    batched = jax.vmap(f)(keys)
    looped = [float(metrics.sliced_wasserstein(x, y, key=k)) for k in keys]
    np.testing.assert_allclose(np.asarray(batched), looped, rtol=1e-12)
    assert len(set(np.round(looped, 12))) == 3


def test_sliced_wasserstein_float32():
    x = jnp.asarray(np.random.default_rng(8).normal(size=(6, 2)), jnp.float32)
    out = metrics.sliced_wasserstein(x, x + 1, key=jax.random.key(1))
    assert out.dtype == jnp.float32
    # shifting by (1, 1): every projection moves by θ·(1, 1), so SW_2² = mean (θ·(1, 1))²
    assert 0.5 < float(out) < 1.5
    ints = metrics.sliced_wasserstein(jnp.arange(6).reshape(3, 2), jnp.ones((3, 2)),
                                      key=jax.random.key(1))
    assert ints.dtype == jnp.float32


def test_grid_wasserstein_1d_equals_scipy_on_a_shared_grid(float64, user_errors):
    rng = np.random.default_rng(7)
    grid = np.sort(rng.normal(size=9))                    # a non-uniform support
    p = rng.dirichlet(np.ones(9), size=(3, 4))
    q = rng.dirichlet(np.ones(9), size=(4,))              # broadcasts against p's batch
    got = metrics.grid_wasserstein_1d(p, q, grid)
    assert got.shape == (3, 4) and got.dtype == jnp.float64
    want = np.array([[st.wasserstein_distance(grid, grid, p[i, j], q[j])
                      for j in range(4)] for i in range(3)])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
    np.testing.assert_array_equal(metrics.grid_wasserstein_1d(p, p, grid), 0.0)
    jitted = jax.jit(metrics.grid_wasserstein_1d)(p, q, grid)
    np.testing.assert_allclose(jitted, want, rtol=1e-10, atol=1e-13)
    assert metrics.grid_wasserstein_1d(p.astype(np.float32), q.astype(np.float32),
                                       np.arange(9)).dtype == jnp.float32
    with pytest.raises(ValueError, match=r"grid_wasserstein_1d: q must be of shape \(\.\.\., "
                                         r"K\) with K = 9 grid points, got shape \(8,\)"):
        metrics.grid_wasserstein_1d(p, q[0, :8], grid)
    with pytest.raises(TypeError, match=r"grid_wasserstein_1d: p must be real"):
        metrics.grid_wasserstein_1d(p * 1j, q, grid)
