"""MMD (every kernel, V- and U-statistics) and the energy distance against plain NumPy double
sums and SciPy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st
from scipy.spatial.distance import pdist

from jaxlab import metrics


def _samples(seed=0, n=9, m=7, d=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(m, d)) * 1.3 + 0.4


def _kernel(a, b, kernel, bandwidths, alpha=1.0):
    """One kernel value k(a, b), written out."""
    if kernel == "linear":
        return float(np.dot(a, b))
    r2 = float(np.sum((a - b) ** 2))
    if kernel == "rational_quadratic":
        return sum((1 + r2 / (2 * alpha * h**2)) ** (-alpha) for h in bandwidths)
    return sum(np.exp(-r2 / (2 * h**2)) for h in bandwidths)


def _mmd_reference(x, y, kernel, bandwidths, unbiased, alpha=1.0):
    """Plain double sums over the pairs (the i = j terms left out of the U-statistic)."""
    def mean_within(s):
        n = len(s)
        total = sum(_kernel(s[i], s[j], kernel, bandwidths, alpha)
                    for i in range(n) for j in range(n) if not (unbiased and i == j))
        return total / (n * (n - 1) if unbiased else n * n)

    cross = sum(_kernel(a, b, kernel, bandwidths, alpha) for a in x for b in y)
    return mean_within(x) + mean_within(y) - 2 * cross / (len(x) * len(y))


@pytest.mark.parametrize("unbiased", [False, True])
def test_mmd_equals_numpy_double_sums(unbiased, float64):
    x, y = _samples()
    median = np.median(pdist(np.concatenate([x, y])))
    cases = [
        ("rbf", None, [median]),
        ("rbf", 0.7, [0.7]),
        ("rational_quadratic", None, [median]),
        ("rational_quadratic", [0.2, 0.5, 0.9, 1.3], [0.2, 0.5, 0.9, 1.3]),
        ("multiscale", None, [median * f for f in (0.25, 0.5, 1, 2, 4)]),
        ("multiscale", [0.5, 2.0], [0.5, 2.0]),
        ("linear", None, None),
    ]
    for kernel, bandwidth, hs in cases:
        got = metrics.mmd(x, y, kernel=kernel, bandwidth=bandwidth, unbiased=unbiased)
        want = _mmd_reference(x, y, kernel, hs, unbiased)
        assert float(got) == pytest.approx(want, rel=1e-10, abs=1e-13), (kernel, bandwidth)
    got = metrics.mmd(x, y, kernel="rational_quadratic", bandwidth=0.8, alpha=2.5,
                      unbiased=unbiased)
    want = _mmd_reference(x, y, "rational_quadratic", [0.8], unbiased, alpha=2.5)
    assert float(got) == pytest.approx(want, rel=1e-10)


def test_mmd_identities(float64):
    x, y = _samples(1, 9, 9)
    for kernel in ("rbf", "rational_quadratic", "multiscale", "linear"):
        assert float(metrics.mmd(x, x, kernel=kernel)) == 0.0
        assert float(metrics.mmd(x, y, kernel=kernel)) > 0
        assert float(metrics.mmd(x, y, kernel=kernel, bandwidth=None)) == pytest.approx(
            float(metrics.mmd(y, x, kernel=kernel)), rel=1e-12)
    # the linear kernel's MMD² is the squared distance between the means
    assert float(metrics.mmd(x, y, kernel="linear")) == pytest.approx(
        np.sum((x.mean(0) - y.mean(0)) ** 2), rel=1e-12)


def test_mmd_jit_vmap_and_dtypes():
    x, y = _samples(2)
    x32, y32 = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32)
    out = metrics.mmd(x32, y32, bandwidth=1.0)
    assert out.dtype == jnp.float32
    # vmap over bandwidths (traced, one compilation)
    hs = jnp.asarray([0.5, 1.0, 2.0], jnp.float32)
    batched = jax.vmap(jax.jit(lambda h: metrics.mmd(x32, y32, bandwidth=h)))(hs)
    looped = [float(metrics.mmd(x32, y32, bandwidth=float(h))) for h in hs]
    np.testing.assert_allclose(np.asarray(batched), looped, rtol=1e-5)
    assert float(batched[1]) == pytest.approx(float(out), rel=1e-6)
    ints = metrics.mmd(jnp.arange(6).reshape(3, 2), jnp.ones((3, 2), jnp.int32),
                       kernel="linear")
    assert ints.dtype == jnp.float32 and float(ints) == pytest.approx(5.0)  # |(2, 3) − (1, 1)|²


def test_energy_distance_equals_scipy_and_double_sums(float64):
    rng = np.random.default_rng(3)
    u, v = rng.normal(size=11), rng.exponential(size=6)
    assert float(metrics.energy_distance(u, v)) == pytest.approx(st.energy_distance(u, v),
                                                                 rel=1e-10)
    x, y = _samples(4)

    def mean_distance(a, b):
        return sum(np.linalg.norm(p - q) for p in a for q in b) / (len(a) * len(b))

    want = np.sqrt(2 * mean_distance(x, y) - mean_distance(x, x) - mean_distance(y, y))
    assert float(metrics.energy_distance(x, y)) == pytest.approx(want, rel=1e-10)
    assert float(metrics.energy_distance(x, y)) == pytest.approx(
        float(metrics.energy_distance(y, x)), rel=1e-12)
    assert float(metrics.energy_distance(x, x)) == 0.0


def test_energy_distance_jit_vmap_grad_dtypes():
    x, y = _samples(5, 9, 9)
    x32, y32 = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32)
    batched = jax.vmap(jax.jit(metrics.energy_distance))(jnp.stack([x32, y32]),
                                                         jnp.stack([y32, y32]))
    assert batched.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(batched),
                               [float(metrics.energy_distance(x32, y32)), 0.0], rtol=1e-6)
    # finite gradients, also at x = y (distances and the square root are guarded at 0)
    grad = jax.grad(lambda a: metrics.energy_distance(a, y32))(y32)
    assert np.all(np.isfinite(np.asarray(grad)))
    grad = jax.grad(lambda a: metrics.energy_distance(a, y32))(x32)
    assert np.all(np.isfinite(np.asarray(grad))) and np.any(np.asarray(grad) != 0)
    ints = metrics.energy_distance(jnp.arange(3), jnp.arange(3) + 1)
    assert ints.dtype == jnp.float32


@pytest.mark.parametrize("call, error, text", [
    (lambda: metrics.mmd(np.ones((3, 2)), np.ones((3, 2)), kernel="rbff"), ValueError,
     r"mmd: kernel must be one of 'rbf', .*, got 'rbff' \(did you mean 'rbf'\?\)"),
    (lambda: metrics.mmd(np.ones((3, 2)), np.ones((3, 2)), kernel="linear", bandwidth=1.0),
     ValueError, r"mmd: bandwidth must be None with kernel='linear', got 1.0"),
    (lambda: metrics.mmd(np.ones((3, 2)), np.ones((3, 2)), bandwidth=-1.0), ValueError,
     r"mmd: bandwidth must be positive and finite, got"),
    (lambda: metrics.mmd(np.ones((3, 2)), np.ones((3, 2)), bandwidth=np.ones((2, 2))),
     ValueError, r"mmd: bandwidth must be an array with 0 or 1 dimensions, got shape \(2, 2\)"),
    (lambda: metrics.mmd(np.ones((1, 2)), np.ones((3, 2)), unbiased=True), ValueError,
     r"mmd: x and y must be at least 2 samples each with unbiased=True, got 1 and 3"),
    (lambda: metrics.mmd(np.ones((3, 2)), np.ones((3, 4))), ValueError,
     r"mmd: x and y must be points with the same number of coordinates"),
    (lambda: metrics.mmd(np.ones((3, 2)), np.ones((3, 2)), unbiased="yes"), TypeError,
     r"mmd: unbiased must be a bool, got 'yes'"),
    (lambda: metrics.energy_distance(np.ones((3, 2)), "abc"), TypeError,
     r"energy_distance: y must be an array, got 'abc'"),
    (lambda: metrics.energy_distance(np.ones((0, 2)), np.ones((3, 2))), ValueError,
     r"energy_distance: x must be a non-empty array of samples, got shape \(0, 2\)"),
])
def test_bad_input(call, error, text, user_errors):
    with pytest.raises(error, match=text):
        call()
