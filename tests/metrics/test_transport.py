"""Exact, entropic and binned optimal transport against brute force, POT, a NumPy Sinkhorn
and a linear program."""

import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import ot
import pytest
import scipy.stats as st
from scipy.optimize import linprog

from jaxlab import RESULTS, metrics


def _clouds(seed, n, m, d=2):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(m, d)) * [1.0, 1.5][:d] + 0.5


def _brute_force(x, y, p):
    """min over permutations of mean |xᵢ − y_πᵢ|^p (plain loops)."""
    n = len(x)
    cost = [[np.linalg.norm(x[i] - y[j]) ** p for j in range(n)] for i in range(n)]
    return min(sum(cost[i][pi[i]] for i in range(n)) / n
               for pi in itertools.permutations(range(n)))


def test_optimal_assignment_is_the_brute_force_optimum(float64):
    x, y = _clouds(0, 6, 6)
    pi = np.asarray(metrics.optimal_assignment(x, y))
    assert sorted(pi) == list(range(6))
    cost = np.mean(np.sum((x - y[pi]) ** 2, axis=1))
    assert cost == pytest.approx(_brute_force(x, y, 2.0), rel=1e-12)
    # jit and vmap (one host solve per batch element)
    xs, ys = np.stack([x, y]), np.stack([y, x])
    batched = np.asarray(jax.vmap(jax.jit(metrics.optimal_assignment))(xs, ys))
    np.testing.assert_array_equal(batched[0], pi)
    np.testing.assert_array_equal(batched[1], np.argsort(pi))  # the inverse permutation
    assert metrics.optimal_assignment(jnp.asarray(x, jnp.float32), y.astype(np.float32)) \
        .dtype == jnp.int32


def test_wasserstein_equals_brute_force_and_pot(float64):
    x, y = _clouds(1, 6, 6)
    for p in (1.0, 2.0, 3.0):
        assert float(metrics.wasserstein(x, y, order=p)) == pytest.approx(
            _brute_force(x, y, p) ** (1 / p), rel=1e-10)
    # unequal sizes and weights: POT's emd2 on its own cost matrix
    x, y = _clouds(2, 7, 4)
    rng = np.random.default_rng(3)
    wx, wy = rng.uniform(0.1, 1, 7), rng.uniform(0.1, 1, 4)
    for p, weights in ((2.0, False), (1.0, True), (2.0, True)):
        a = wx / wx.sum() if weights else np.full(7, 1 / 7)
        b = wy / wy.sum() if weights else np.full(4, 1 / 4)
        want = ot.emd2(a, b, ot.dist(x, y, metric="euclidean") ** p) ** (1 / p)
        got = metrics.wasserstein(x, y, order=p, x_weights=a if weights else None,
                                  y_weights=b if weights else None)
        assert float(got) == pytest.approx(float(want), rel=1e-10)
    # on the line: SciPy's W1
    assert float(metrics.wasserstein(x[:, 0], y[:, 0], order=1.0)) == pytest.approx(
        st.wasserstein_distance(x[:, 0], y[:, 0]), rel=1e-10)


def test_wasserstein_identities_jit_vmap_grad(float64):
    x, y = _clouds(4, 6, 6)
    assert float(metrics.wasserstein(x, x)) == 0.0
    assert float(metrics.wasserstein(x, x, x_weights=np.arange(1.0, 7.0),
                                     y_weights=np.arange(1.0, 7.0))) == 0.0
    assert float(metrics.wasserstein(x, y)) == pytest.approx(float(metrics.wasserstein(y, x)),
                                                             rel=1e-12)
    # W₂² = mean |xᵢ − y_πᵢ|² with π optimal: its gradient in x is 2(xᵢ − y_πᵢ)/n
    pi = np.asarray(metrics.optimal_assignment(x, y))
    grad = jax.grad(lambda a: metrics.wasserstein(a, y) ** 2)(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(grad), 2 * (x - y[pi]) / 6, rtol=1e-10)
    batched = jax.vmap(jax.jit(metrics.wasserstein))(np.stack([x, y]), np.stack([y, y]))
    np.testing.assert_allclose(np.asarray(batched), [float(metrics.wasserstein(x, y)), 0.0],
                               rtol=1e-12)


def test_wasserstein_dtypes():
    x, y = _clouds(5, 4, 3)
    x32, y32 = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32)
    assert metrics.wasserstein(x32, y32).dtype == jnp.float32
    assert metrics.wasserstein(x32, x32 + 1.0).dtype == jnp.float32
    out = metrics.wasserstein(jnp.zeros((2, 2), jnp.int32), jnp.ones((2, 2), jnp.int32))
    assert out.dtype == jnp.float32 and float(out) == pytest.approx(np.sqrt(2.0), rel=1e-6)


# ------------------------------------------------------------------------------- entropic


def _numpy_sinkhorn(a, b, cost, eps, iterations=20_000, tol=1e-15):
    """Plain log-domain Sinkhorn: f, g potentials, P = exp((f ⊕ g − C)/ε)."""
    def lse(m, axis):
        top = m.max(axis=axis, keepdims=True)
        return (top + np.log(np.exp(m - top).sum(axis=axis, keepdims=True))).squeeze(axis)

    f, g = np.zeros(len(a)), np.zeros(len(b))
    for _ in range(iterations):
        g = eps * np.log(b) - eps * lse((f[:, None] - cost) / eps, 0)
        f = eps * np.log(a) - eps * lse((g[None, :] - cost) / eps, 1)
        plan = np.exp((f[:, None] + g[None, :] - cost) / eps)
        if np.linalg.norm(plan.sum(0) - b) < tol:
            break
    return plan


def test_entropic_wasserstein_equals_a_numpy_sinkhorn(float64):
    x, y = _clouds(6, 6, 5)
    rng = np.random.default_rng(7)
    wx, wy = rng.uniform(0.2, 1, 6), rng.uniform(0.2, 1, 5)
    a, b = wx / wx.sum(), wy / wy.sum()
    cost = ((x[:, None] - y[None]) ** 2).sum(-1)
    out = metrics.entropic_wasserstein(x, y, epsilon=0.1, x_weights=wx, y_weights=wy,
                                       max_iter=5000, tol=1e-14)
    assert out.status == RESULTS.successful and bool(out.converged)
    plan = _numpy_sinkhorn(a, b, cost, 0.1)
    np.testing.assert_allclose(np.asarray(out.plan), plan, rtol=1e-10, atol=1e-13)
    assert float(out.distance) == pytest.approx(np.sqrt(np.sum(plan * cost)), rel=1e-10)
    np.testing.assert_allclose(np.asarray(out.plan).sum(1), a, rtol=1e-12)
    # the default ε: 0.05 × the standard deviation of the cost entries
    default = metrics.entropic_wasserstein(x, y, x_weights=wx, y_weights=wy)
    assert float(default.epsilon) == pytest.approx(0.05 * np.std(cost), rel=1e-12)


def test_entropic_wasserstein_tends_to_the_exact_distance(float64):
    # well-separated pairs: Sinkhorn converges fast even at small ε, and the entropic plan
    # concentrates on the optimal assignment, its cost error decaying like exp(−Δ/ε)
    x = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [2, 0.5]])
    y = x + 0.1 * np.random.default_rng(8).normal(size=(5, 2))
    exact = float(metrics.wasserstein(x, y))
    runs = [metrics.entropic_wasserstein(x, y, epsilon=eps, max_iter=5000)
            for eps in (0.3, 0.03, 0.01)]
    assert all(bool(r.converged) for r in runs)
    gaps = [float(r.distance) - exact for r in runs]
    assert gaps[0] > gaps[1] > gaps[2] >= -1e-15 and gaps[2] < 1e-12 * exact
    assert float(metrics.entropic_wasserstein(x, x, epsilon=0.01).distance) < 1e-12


def test_entropic_wasserstein_status_throw_jit_vmap():
    rng = np.random.default_rng(9)
    x, y = rng.uniform(size=(5, 2)), rng.uniform(size=(5, 2))
    x32, y32 = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32)
    out = metrics.entropic_wasserstein(x32, y32, epsilon=0.01, max_iter=1, throw=False)
    assert out.status == RESULTS.not_converged and not bool(out.converged)
    assert out.distance.dtype == jnp.float32 and out.plan.dtype == jnp.float32
    assert int(out.num_iterations) == 1 and float(out.error) > 0
    with pytest.raises(eqx.EquinoxRuntimeError, match="entropic_wasserstein: The iteration "
                                                      "stopped at its budget"):
        metrics.entropic_wasserstein(x32, y32, epsilon=0.01, max_iter=1)
    f = jax.jit(lambda a, b: metrics.entropic_wasserstein(a, b, epsilon=0.1))
    batched = jax.vmap(f)(jnp.stack([x32, y32]), jnp.stack([y32, y32]))
    assert batched.distance.shape == (2,) and batched.plan.shape == (2, 5, 5)
    assert np.all(np.asarray(batched.converged))
    assert float(batched.distance[0]) == pytest.approx(float(f(x32, y32).distance), rel=1e-6)


# --------------------------------------------------------------------------------- binned


def _reference_histograms(a, b, bins, limits):
    edges = np.linspace(*limits, bins + 1)
    out = []
    for s in (a, b):
        counts, _, _ = np.histogram2d(s[:, 0], s[:, 1], bins=[edges, edges])
        out.append((counts.ravel() / counts.sum(), 1 - counts.sum() / len(s)))
    centres = 0.5 * (edges[:-1] + edges[1:])
    points = np.stack(np.meshgrid(centres, centres, indexing="ij"), -1).reshape(-1, 2)
    return out, points


def _linprog_w2(a, b, bins, limits):
    """W₂ between the histograms by an exact linear program over every pair of cells."""
    ((ha, _), (hb, _)), pts = _reference_histograms(a, b, bins, limits)
    cost = ((pts[:, None] - pts[None]) ** 2).sum(-1)
    n = len(ha)
    rows = np.zeros((2 * n, n * n))
    for i in range(n):
        rows[i, i * n:(i + 1) * n] = 1      # row sums = ha
        rows[n + i, i::n] = 1               # column sums = hb
    res = linprog(cost.ravel(), A_eq=rows[:-1], b_eq=np.concatenate([ha, hb])[:-1],
                  bounds=(0, None), method="highs")
    assert res.status == 0
    return np.sqrt(res.fun)


def test_binned_wasserstein_is_the_exact_transport_cost(float64):
    # moved from tests/generative/test_metrics.py (generative.binned_w2), unchanged checks
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3000, 2))
    b = rng.normal(size=(3000, 2)) * 1.3 + [0.5, -0.2]
    out = metrics.binned_wasserstein(a, b, bins=6, limits=(-3.0, 3.0))
    assert out.status == RESULTS.successful
    np.testing.assert_allclose(float(out.distance), _linprog_w2(a, b, 6, (-3.0, 3.0)),
                               rtol=1e-8)
    assert 0 < float(out.outside_b) < 0.2 and float(out.outside_a) < float(out.outside_b)
    # against NumPy's histogram2d and POT's emd2 over all cells (1e-10), and the fractions
    ((ha, oa), (hb, ob)), pts = _reference_histograms(a, b, 6, (-3.0, 3.0))
    assert float(out.distance) == pytest.approx(np.sqrt(ot.emd2(ha, hb, ot.dist(pts, pts))),
                                                rel=1e-10)
    assert float(out.outside_a) == pytest.approx(oa, abs=1e-15)
    assert float(out.outside_b) == pytest.approx(ob, abs=1e-15)
    # a translation by one cell moves all mass by one cell width
    grid = np.repeat(rng.uniform(-2, 1, size=(500, 2)), 2, axis=0)
    shifted = metrics.binned_wasserstein(grid, grid + np.array([1.0, 0.0]), bins=6,
                                         limits=(-3.0, 3.0))
    assert float(shifted.distance) == pytest.approx(1.0, abs=0.05)
    assert float(metrics.binned_wasserstein(a, a).distance) == pytest.approx(0.0, abs=1e-12)


def test_binned_wasserstein_status_jit_vmap_dtypes():
    rng = np.random.default_rng(1)
    a = jnp.asarray(rng.normal(size=(200, 2)), jnp.float32)
    far = a + 100.0
    out = metrics.binned_wasserstein(a, far, bins=4, throw=False)
    assert out.status == RESULTS.left_grid and float(out.outside_b) == 1.0
    with pytest.raises(eqx.EquinoxRuntimeError, match="binned_wasserstein: A value left the "
                                                      "grid"):
        metrics.binned_wasserstein(a, far, bins=4)
    f = jax.jit(lambda p, q: metrics.binned_wasserstein(p, q, bins=4))
    single = f(a, a * 1.5)
    assert single.distance.dtype == jnp.float32 and single.status == RESULTS.successful
    batched = jax.vmap(f)(jnp.stack([a, a]), jnp.stack([a * 1.5, a]))
    np.testing.assert_allclose(np.asarray(batched.distance), [float(single.distance), 0.0],
                               atol=1e-6)


@pytest.mark.parametrize("call, error, text", [
    (lambda: metrics.optimal_assignment(np.ones((3, 2)), np.ones((4, 2))), ValueError,
     r"optimal_assignment: x and y must be clouds of the same shape, got shapes \(3, 2\) and "
     r"\(4, 2\)"),
    (lambda: metrics.optimal_assignment(np.ones((3, 2), bool), np.ones((3, 2))), TypeError,
     r"optimal_assignment: x must be a real array"),
    (lambda: metrics.wasserstein(np.ones((3, 2)), np.ones((3, 2)), order=0.0), ValueError,
     r"wasserstein: order must be a finite number >= 1.0, got 0.0"),
    (lambda: metrics.wasserstein(np.ones((3, 2, 1)), np.ones((3, 2))), ValueError,
     r"wasserstein: x must be an array with 1 or 2 dimensions, got shape \(3, 2, 1\)"),
    (lambda: metrics.wasserstein(np.ones((3, 2)), np.ones((3, 2)), y_weights=np.ones(4)),
     ValueError, r"wasserstein: y_weights must be of shape \(3,\), got shape \(4,\)"),
    (lambda: metrics.entropic_wasserstein(np.ones((3, 2)), np.ones((3, 2)), epsilon=0.0),
     ValueError, r"entropic_wasserstein: epsilon must be a positive finite number or None, "
                 r"got 0.0"),
    (lambda: metrics.entropic_wasserstein(np.ones((3, 2)), np.ones((3, 2)), max_iter=1.5),
     TypeError, r"entropic_wasserstein: max_iter must be a positive int, got 1.5"),
    (lambda: metrics.entropic_wasserstein(np.ones((3, 2)), np.ones((3, 2)), throw=1),
     TypeError, r"entropic_wasserstein: throw must be a bool, got 1"),
    (lambda: metrics.binned_wasserstein(np.ones((3, 1)), np.ones((3, 2))), ValueError,
     r"binned_wasserstein: a must be of shape \(n, 2\), got shape \(3, 1\)"),
    (lambda: metrics.binned_wasserstein(np.ones((3, 2)), np.ones((3, 2)), limits=(1.0, 0.0)),
     ValueError, r"binned_wasserstein: limits must be a pair of finite numbers"),
    (lambda: metrics.binned_wasserstein(np.ones((3, 2)), np.ones((3, 2)), bins=0), ValueError,
     r"binned_wasserstein: bins must be a positive int, got 0"),
])
def test_bad_input(call, error, text, user_errors):
    with pytest.raises(error, match=text):
        call()
