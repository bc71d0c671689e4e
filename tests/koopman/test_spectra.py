"""Pseudospectra, verified spectra and spectral measures against SciPy, theory and invariants."""

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


def test_verified_spectrum_errors(float64, user_errors):
    x, y = _pairs(m=60)
    res = kp.edmd(x, y, kp.Monomials(2, 2))
    with pytest.raises(ValueError, match="threshold and radius must be positive"):
        kp.verified_spectrum(res, kp.complex_grid((0, 1), (0, 1), 0.5), radius=0)
    with pytest.raises(ValueError, match="grid needs at least 2 points"):
        kp.verified_spectrum(res, jnp.array([0.5j]))
    with pytest.raises(ValueError, match="method must be"):
        kp.pseudospectrum(res, Z, method="qr")
    with pytest.raises(TypeError, match="must be a KoopmanResult"):
        kp.pseudospectrum(np.eye(2), Z)
    with pytest.raises(ValueError, match=r"coefficients must have shape \(6,\)"):
        kp.spectral_measure(res, np.ones(5), np.zeros(3), epsilon=0.1)
    with pytest.raises(ValueError, match="epsilon must be in"):
        kp.spectral_measure(res, np.ones(6), np.zeros(3), epsilon=1.5)
    with pytest.raises(ValueError, match="filter must be one of"):
        kp.moment_spectral_measure(np.ones(4), np.zeros(3), filter="gauss")


# ----------------------------------------------------------------------------- measures

def _density(theta):
    """A smooth, even probability density on the circle."""
    return (1 + 0.6 * np.cos(theta) + 0.3 * np.cos(2 * theta)) / (2 * np.pi)


def _rotation_system(n=150):
    """A real orthogonal map made of n plane rotations by θ_k ∈ (0, π) with weights ρ(θ_k)Δθ,
    so the observable g = Σ_k a_k (first coordinate of block k) has spectral measure
    ν_g = Σ_k a_k²/2 (δ_{θ_k} + δ_{−θ_k}) ≈ ρ (a smooth density) on [−π, π]."""
    theta = (np.arange(n) + 0.5) * np.pi / n
    weight = 2 * _density(theta) * np.pi / n                       # mass of ±θ_k together
    rot = np.zeros((2 * n, 2 * n))
    for k, t in enumerate(theta):
        c, s = np.cos(t), np.sin(t)
        rot[2 * k: 2 * k + 2, 2 * k: 2 * k + 2] = [[c, -s], [s, c]]
    x = np.eye(2 * n)                    # one snapshot per basis vector, uniform weights
    coeff = np.zeros(2 * n)
    coeff[0::2] = np.sqrt(weight * 2 * n)                          # ‖g‖² = Σ a_k²/(2n)·2n
    return x, x @ rot.T, coeff, theta, weight


def test_spectral_measure_converges_at_the_kernel_order(float64):
    x, y, coeff, _, weight = _rotation_system()
    res = kp.dmd(x, y)
    np.testing.assert_allclose(np.abs(np.asarray(res.eigenvalues)), 1.0, atol=1e-12)
    theta0 = np.array([-2.0, -0.4, 0.3, 1.7, 2.9])
    errors = {}
    for order in (1, 2, 3):
        errs = []
        for eps in (0.2, 0.1, 0.05):
            nu = np.asarray(kp.spectral_measure(res, coeff, theta0, epsilon=eps, order=order))
            errs.append(np.max(np.abs(nu - _density(theta0))))
        errors[order] = errs
        slope = np.polyfit(np.log([0.2, 0.1, 0.05]), np.log(errs), 1)[0]
        assert slope > order - 0.4, (order, errs)
    assert errors[3][-1] < errors[2][-1] < errors[1][-1]
    # It integrates to ‖g‖² = Σ weights (the measure's total mass) at every order.
    grid = np.linspace(-np.pi, np.pi, 2001)[:-1]
    nu = np.asarray(kp.spectral_measure(res, coeff, grid, epsilon=0.1, order=2))
    assert abs(nu.sum() * (2 * np.pi / grid.shape[0]) - weight.sum()) < 1e-6


def test_moment_measure_from_exact_and_ergodic_moments(float64):
    _, _, _, theta, weight = _rotation_system()
    k = np.arange(41)
    exact = (weight[None, :] * np.cos(k[:, None] * theta[None, :])).sum(1)   # ∫ e^{ikθ} dν
    theta0 = np.array([-2.0, 0.3, 1.7])
    errs = []
    for kmax in (10, 20, 40):
        nu = np.asarray(kp.moment_spectral_measure(exact[: kmax + 1], theta0, filter="vandeven"))
        errs.append(np.max(np.abs(nu - _density(theta0))))
    assert errs[-1] < 1e-3 and errs[2] < errs[0]
    # Ergodic moments of an irrational rotation θ ↦ θ + ω for g(θ) = e^{iθ} + 0.5e^{3iθ}:
    # ⟨K^k g, g⟩ = e^{ikω} + 0.25 e^{3ikω}.
    omega = 1.4 * np.pi
    t = np.arange(4000) * omega
    g = np.exp(1j * t) + 0.5 * np.exp(3j * t)
    mom = np.asarray(kp.ergodic_moments(jnp.asarray(g), 5))
    kk = np.arange(6)
    # The finite-time average leaves the cross terms 0.5(e^{ikω} + e^{3ikω})·mean e^{∓2iωt},
    # bounded by 1/((n − k)|sin ω|) (a geometric sum).
    bound = 1.0 / ((t.shape[0] - 5) * abs(np.sin(omega)))
    err = np.abs(mom - (np.exp(1j * kk * omega) + 0.25 * np.exp(3j * kk * omega)))
    assert np.all(err <= bound) and err[0] < 1e-12


def test_spectral_measure_kernel_residues_solve_their_moment_systems():
    eps = 0.1
    for order in (1, 2, 4):
        delta, c, d = kp.spectral_measure_kernel(order, eps)
        sigma = -delta.conj() / (1 + eps * delta.conj())
        k = np.arange(order)[:, None]
        np.testing.assert_allclose((d[None, :] * delta[None, :] ** k).sum(1), np.eye(order)[0],
                                   atol=1e-10)
        np.testing.assert_allclose((c[None, :] * sigma[None, :] ** k).sum(1), np.eye(order)[0],
                                   atol=1e-10)
    assert np.allclose(kp.spectral_measure_kernel(1, eps)[0], [1.0])   # Poisson kernel pole
