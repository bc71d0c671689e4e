"""Dictionaries and k-means against NumPy formulas, invariants and their error messages."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.polynomial import hermite_e, legendre

from jaxlab import koopman as kp


def test_dictionaries_match_numpy_formulas(float64):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(7, 3))
    exps = kp.total_degree_exponents(3, 3)
    assert len(exps) == 20 and exps[0] == (0, 0, 0)
    mono = np.asarray(kp.Monomials(3, 3)(x))
    ref = np.stack([np.prod(x ** np.array(k), axis=1) for k in exps], axis=1)
    np.testing.assert_allclose(mono, ref, rtol=1e-12)
    he = np.asarray(kp.Hermite(3, 3)(x))
    ref = np.stack([np.prod([hermite_e.hermeval(x[:, i], np.eye(4)[k[i]]) for i in range(3)],
                            axis=0) for k in exps], axis=1)
    np.testing.assert_allclose(he, ref, rtol=1e-12, atol=1e-12)
    le = np.asarray(kp.Legendre(3, 3, loc=0.5, scale=2.0)(x))
    xs = (x - 0.5) / 2.0
    ref = np.stack([np.prod([legendre.legval(xs[:, i], np.eye(4)[k[i]]) for i in range(3)],
                            axis=0) for k in exps], axis=1)
    np.testing.assert_allclose(le, ref, rtol=1e-12, atol=1e-12)
    c = rng.normal(size=(5, 3))
    rbf = kp.RadialBasis(c, 0.8, kind="exponential")
    dist = np.linalg.norm(x[:, None] - c[None], axis=-1)
    np.testing.assert_allclose(np.asarray(rbf(x)), np.exp(-dist / 0.8), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(kp.RadialBasis(c, 0.8)(x)), np.exp(-dist**2 / 0.64),
                               rtol=1e-12)
    s = dist**2 / 0.64
    np.testing.assert_allclose(np.asarray(kp.RadialBasis(c, 0.8, kind="thin_plate")(x)),
                               0.5 * s * np.log(s), rtol=1e-12)
    # Distances are taken by differences, so a radial function of r is exact at a centre
    # (|x|² + |c|² − 2x·c would leave r ≈ 1e-8 there).
    np.testing.assert_array_equal(np.asarray(rbf(c))[np.arange(5), np.arange(5)], 1.0)
    # Random Fourier features approximate the Gaussian kernel exp(−‖x − y‖²/(2ℓ²)).
    rff = kp.RandomFourier(3, 20000, 1.5, key=jax.random.key(0))
    f = np.asarray(rff(x))
    approx = f @ f.T
    exact = np.exp(-((x[:, None] - x[None]) ** 2).sum(-1) / (2 * 1.5**2))
    assert np.max(np.abs(approx - exact)) < 0.05
    # Time delays apply the inner dictionary to each delayed copy, in delay_embed's order.
    series = rng.normal(size=(30, 2))
    hx, hy = kp.delay_pairs(series, 3)
    np.testing.assert_allclose(np.asarray(hx[4]), series[4:7].reshape(-1))
    np.testing.assert_allclose(np.asarray(hy[4]), series[5:8].reshape(-1))
    td = kp.TimeDelay(kp.Monomials(2, 2), 3)
    np.testing.assert_allclose(np.asarray(td(hx[4:5]))[0],
                               np.asarray(kp.Monomials(2, 2)(series[4:7])).reshape(-1))
    both = kp.Identity(3, constant=True) + kp.Monomials(3, 1)
    assert both.num_features == 8 and np.asarray(both(x)).shape == (7, 8)
    assert kp.Monomials(3, 2)(x[None, :2]).shape == (1, 2, 10)


def test_dictionaries_under_jit_and_vmap_and_integer_states():
    rng = np.random.default_rng(3)
    c = rng.normal(size=(6, 2)).astype(np.float32)
    dic = kp.RadialBasis(c, 0.7) + kp.Monomials(2, 2)
    x = rng.normal(size=(4, 5, 2)).astype(np.float32)
    eager = np.asarray(dic(x))
    assert eager.shape == (4, 5, 12) and eager.dtype == np.float32
    np.testing.assert_allclose(np.asarray(jax.jit(lambda d, s: d(s))(dic, x)), eager, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(jax.vmap(dic)(x)), eager, rtol=1e-6)
    # Integer states are promoted to the default float (float32 here), as jnp.sin does.
    ints = np.array([[1, 0], [0, 2]])
    out = kp.Monomials(2, 2)(ints)
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(out), np.asarray(kp.Monomials(2, 2)(ints * 1.0)))


def test_kmeans_finds_separated_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]])
    pts = np.concatenate([c + 0.1 * rng.normal(size=(100, 2)) for c in centres])
    got = np.asarray(kp.kmeans(pts.astype(np.float32), 3, key=jax.random.key(0)))
    assert got.dtype == np.float32
    for c in centres:
        assert np.min(np.linalg.norm(got - c, axis=1)) < 0.05


def test_kmeans_converges_to_a_lloyd_fixed_point(float64):
    """After Lloyd's iterations every centre is the mean of the points nearest to it (a
    NumPy check of the fixed point); here under jit (eagerly in the test above)."""
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(400, 2)) * np.array([2.0, 0.5])
    jitted = jax.jit(lambda p, k: kp.kmeans(p, 6, key=k, iterations=100))
    got = np.asarray(jitted(pts, jax.random.key(2)))
    assert got.dtype == np.float64
    label = np.argmin(((pts[:, None] - got[None]) ** 2).sum(-1), axis=1)
    for j in range(6):
        np.testing.assert_allclose(got[j], pts[label == j].mean(axis=0), atol=1e-12)


def test_bad_dictionaries_are_named(user_errors):
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"Monomials: x must be of shape \(\.\.\., 3\)"):
        kp.Monomials(3, 2)(x)
    with pytest.raises(TypeError, match=r"Monomials: x must be a real array"):
        kp.Monomials(2, 2)(np.ones((3, 2), bool))
    with pytest.raises(TypeError, match=r"total_degree_exponents: dim must be a positive int, "
                                        r"got 2.0"):
        kp.total_degree_exponents(2.0, 1)
    with pytest.raises(ValueError, match=r"Hermite: degree must be a non-negative int, got -1"):
        kp.Hermite(2, -1)
    with pytest.raises(ValueError, match=r"Legendre: scale must be positive and finite"):
        kp.Legendre(2, 2, scale=np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"Monomials: loc must be a scalar or of shape \(2,\)"):
        kp.Monomials(2, 2, loc=np.zeros(3))
    with pytest.raises(ValueError, match=r"kmeans: num_centres must be an int in 1..4, got 5"):
        kp.kmeans(x, 5, key=jax.random.key(0))
    with pytest.raises(TypeError, match=r"kmeans: iterations must be a non-negative int"):
        kp.kmeans(x, 2, key=jax.random.key(0), iterations=1.5)
    with pytest.raises(TypeError, match=r"kmeans: key must be a PRNG key"):
        kp.kmeans(x, 2, key=0)
    with pytest.raises(ValueError, match=r"RadialBasis: kind must be one of 'gaussian'"):
        kp.RadialBasis(x, 1.0, kind="cubic")
    with pytest.raises(ValueError, match=r"RadialBasis: lengthscale must be a positive finite "
                                         r"number, got 0.0"):
        kp.RadialBasis(x, 0.0)
    with pytest.raises(ValueError, match=r"RadialBasis: centres must be an array with 2 "):
        kp.RadialBasis(x[0], 1.0)
    with pytest.raises(TypeError, match=r"RandomFourier: num_features must be a positive int"):
        kp.RandomFourier(2, 3.0, key=jax.random.key(0))
    with pytest.raises(TypeError, match=r"Concatenate: every part must be an AbstractDictionary"):
        kp.Concatenate(kp.Identity(2), "x")
    with pytest.raises(ValueError, match=r"Concatenate: parts must be dictionaries on one "
                                         r"state dimension, got dimensions \[2, 3\]"):
        kp.Concatenate(kp.Identity(2), kp.Identity(3))
    with pytest.raises(ValueError, match=r"Concatenate: parts must be at least one dictionary"):
        kp.Concatenate()
    with pytest.raises(ValueError, match=r"TimeDelay: delays must be a positive int, got 0"):
        kp.TimeDelay(kp.Identity(1), 0)
    with pytest.raises(ValueError, match=r"delay_pairs: series must be at least 6 samples long "
                                         r"for delays=5, lag=1, got 5 samples"):
        kp.delay_pairs(np.arange(5.0), 5)
    with pytest.raises(TypeError, match=r"delay_pairs: series must be real"):
        kp.delay_pairs(np.ones(9, complex), 2)
