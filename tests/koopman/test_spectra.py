"""Pseudospectra and verified spectra against SciPy, theory and invariants."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from jaxlab import koopman as kp


def _pairs(m=300, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (m, 2))
    y = np.stack([0.9 * x[:, 0] + 0.1 * np.sin(3 * x[:, 1]),
                  0.8 * x[:, 1] - 0.2 * x[:, 0] ** 2], axis=1)
    return x, y


Z = np.array([0.3 + 0.2j, 1.1 + 0.0j, -0.5j, 0.8 + 0.05j, -0.7 + 0.6j])


@pytest.mark.parametrize("method", ["eigh", "svd", "inverse"])
def test_pseudospectrum_matches_scipy_generalised_eigensolver(float64, method):
    x, y = _pairs()
    res = kp.edmd(x, y, kp.Monomials(2, 4))
    g, a, l_ = map(np.asarray, kp.gram_matrices(res.dictionary, x, y))
    ref = []
    for z in Z:
        pencil = l_ - z * a.conj().T - np.conj(z) * a + abs(z) ** 2 * g
        ref.append(np.sqrt(scipy.linalg.eigh(pencil, g, eigvals_only=True)[0]))
    ref = np.array(ref)
    if method == "inverse":
        # Block inverse iteration gives an upper bound that converges to τ with the steps.
        rough = np.asarray(kp.pseudospectrum(res, jnp.asarray(Z), method=method, iterations=4))
        assert np.all(rough >= ref - 1e-12) and np.allclose(rough, ref, rtol=1e-4)
    got = np.asarray(kp.pseudospectrum(res, jnp.asarray(Z), method=method, iterations=30))
    np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_pseudospectrum_invariances(float64):
    x, y = _pairs(seed=3)
    small = kp.edmd(x, y, kp.Monomials(2, 2))
    big = kp.edmd(x, y, kp.Monomials(2, 4))
    grid = kp.complex_grid((-1.0, 1.2), (-0.6, 0.6), 0.2)
    # The SVD route is accurate to round-off even where τ is tiny (the squared "eigh" route
    # only to ~√ε there), so the exact monotonicity is checked with it.
    t_small, t_big = (np.asarray(kp.pseudospectrum(r, grid, method="svd")) for r in (small, big))
    assert np.max(np.abs(np.asarray(kp.pseudospectrum(big, grid, method="eigh")) - t_big)) < 1e-7
    assert np.all(t_small >= 0) and np.all(t_big >= 0)
    assert np.all(t_big <= t_small + 1e-12)                      # nested dictionaries
    np.testing.assert_allclose(t_big, t_big[::-1], rtol=1e-9)     # τ(z̄) = τ(z), real system
    # τ depends on the span only: Ψ → ΨT for an invertible T leaves it unchanged.
    rng = np.random.default_rng(0)
    t_mat = rng.normal(size=(15, 15)) + 3 * np.eye(15)
    px = np.asarray(big.dictionary(jnp.asarray(x))) @ t_mat
    py = np.asarray(big.dictionary(jnp.asarray(y))) @ t_mat
    mixed = kp.edmd(px, py)                                      # identity dictionary on Ψ
    np.testing.assert_allclose(np.asarray(kp.pseudospectrum(mixed, grid, method="svd")), t_big,
                               rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(np.sort_complex(np.asarray(mixed.eigenvalues)),
                               np.sort_complex(np.asarray(big.eigenvalues)), atol=1e-9)
    # For an isometry, the corrected indicator is at least |1 − |z||.
    corrected = np.asarray(kp.pseudospectrum(big, grid, measure_preserving=True))
    assert np.all(corrected >= np.abs(1 - np.abs(np.asarray(grid))) - 1e-15)


def test_verified_spectrum_of_a_linear_map_is_exact(float64):
    rng = np.random.default_rng(0)
    b = np.array([[0.8, -0.4], [0.4, 0.8]]) * 0.9
    x = rng.uniform(-1, 1, (300, 2))
    res = kp.edmd(x, x @ b.T, kp.Monomials(2, 2))
    grid = kp.complex_grid((-1.2, 1.2), (0.0, 1.2), 0.05)
    vs = kp.verified_spectrum(res, grid, refine=14)
    mu = np.linalg.eigvals(b)
    truth = np.array([mu[0] ** i * mu[1] ** j for i in range(3) for j in range(3) if i + j <= 2])
    got = np.asarray(vs.eigenvalues)
    assert float(vs.certificate) < 1e-4
    for t in truth:                                  # every eigenvalue is found ...
        assert np.min(np.abs(got - t)) < 1e-4
    for g in got:                                    # ... and nothing else
        assert np.min(np.abs(truth - g)) < 1e-4
    assert vs.grid_tau.shape == grid.shape


def test_pseudospectrum_under_jit_and_vmap_and_float32():
    x, y = _pairs(m=200)
    res = kp.edmd(x.astype(np.float32), y.astype(np.float32), kp.Monomials(2, 2))
    tau = kp.pseudospectrum(res, jnp.asarray(Z))
    assert tau.dtype == jnp.float32
    points = jnp.asarray(Z, jnp.complex64)
    mapped = eqx.filter_jit(jax.vmap(kp.pseudospectrum, in_axes=(None, 0)))(res, points)
    np.testing.assert_allclose(np.asarray(mapped), np.asarray(tau), rtol=1e-5)
    # τ ≥ 0, and τ(λ_j) ≤ res_j at every EDMD eigenvalue (τ is the minimum over the span)
    lam = res.eigenvalues
    assert float(jnp.min(tau)) >= 0
    assert np.all(np.asarray(kp.pseudospectrum(res, lam)) <= np.asarray(res.residuals) + 1e-5)


def test_verified_spectrum_errors(float64, user_errors):
    x, y = _pairs(m=60)
    res = kp.edmd(x, y, kp.Monomials(2, 2))
    grid = kp.complex_grid((0, 1), (0, 1), 0.5)
    with pytest.raises(ValueError, match=r"verified_spectrum: radius must be a positive finite "
                                         r"number, got 0"):
        kp.verified_spectrum(res, grid, radius=0)
    with pytest.raises(ValueError, match=r"verified_spectrum: threshold must be a positive"):
        kp.verified_spectrum(res, grid, threshold=-1.0)
    with pytest.raises(TypeError, match=r"verified_spectrum: refine must be a non-negative int"):
        kp.verified_spectrum(res, grid, refine=1.0)
    with pytest.raises(ValueError, match=r"verified_spectrum: grid must be at least 2 points, "
                                         r"got shape \(1,\)"):
        kp.verified_spectrum(res, jnp.array([0.5j]))
    with pytest.raises(ValueError, match=r"verified_spectrum: method must be one of"):
        kp.verified_spectrum(res, grid, method="qr")
    with pytest.raises(ValueError, match=r"pseudospectrum: method must be one of 'auto', "
                                         r"'eigh', 'svd', 'inverse', got 'qr'"):
        kp.pseudospectrum(res, Z, method="qr")
    with pytest.raises(TypeError, match=r"pseudospectrum: result must be a KoopmanResult"):
        kp.pseudospectrum(np.eye(2), Z)
    with pytest.raises(ValueError, match=r"pseudospectrum: batch_size must be a positive int"):
        kp.pseudospectrum(res, Z, batch_size=0)
    with pytest.raises(TypeError, match=r"pseudospectrum: z must be an array"):
        kp.pseudospectrum(res, "0.5")
    with pytest.raises(ValueError, match=r"complex_grid: spacing must be a positive finite"):
        kp.complex_grid((0, 1), (0, 1), 0.0)
    with pytest.raises(ValueError, match=r"complex_grid: imag must be \(low, high\) with low "
                                         r"<= high, got \(1, 0\)"):
        kp.complex_grid((0, 1), (1, 0), 0.1)
    with pytest.raises(TypeError, match=r"complex_grid: real must be a pair \(low, high\)"):
        kp.complex_grid(1.0, (0, 1), 0.1)
