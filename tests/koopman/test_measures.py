"""Spectral measures (resolvent and moment routes) against exact densities, convergence
orders, closed-form moments and their defining equations."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import koopman as kp


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


def test_measures_under_jit_and_vmap_and_float32():
    """Transformed and float32 calls against closed forms (the eager float64 paths are
    checked against exact densities above)."""
    series = np.exp(1j * 0.7 * np.arange(64)).astype(np.complex64)
    batch = jnp.stack([jnp.asarray(series), jnp.asarray(series.conj())])
    mom = eqx.filter_jit(jax.vmap(lambda v: kp.ergodic_moments(v, 4)))(batch)
    assert mom.dtype == jnp.complex64
    np.testing.assert_allclose(np.asarray(mom[0]), np.exp(0.7j * np.arange(5)), atol=1e-5)
    np.testing.assert_allclose(np.asarray(mom[1]), np.exp(-0.7j * np.arange(5)), atol=1e-5)
    real = kp.ergodic_moments(np.arange(10) % 3, 2)          # integers: promoted, real moments
    ref = [np.mean((np.arange(10 - k) % 3) * (np.arange(k, 10) % 3)) for k in range(3)]
    assert real.dtype == jnp.complex64
    np.testing.assert_allclose(np.asarray(real), ref, rtol=1e-6)
    # ν̂(k) = δ_k0 (white noise): the filtered series is 1/2π at every θ
    theta = jnp.linspace(-3.0, 3.0, 7, dtype=jnp.float32)
    flat = eqx.filter_jit(kp.moment_spectral_measure)(jnp.eye(9, dtype=jnp.complex64)[0], theta)
    assert flat.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(flat), 1 / (2 * np.pi), rtol=1e-6)


def test_measure_errors(float64, user_errors):
    x, y, _, _, _ = _rotation_system(n=3)
    res = kp.dmd(x, y)
    with pytest.raises(ValueError, match=r"spectral_measure: coefficients must be of shape "
                                         r"\(6,\) \(one per dictionary function\), got shape "
                                         r"\(5,\)"):
        kp.spectral_measure(res, np.ones(5), np.zeros(3), epsilon=0.1)
    with pytest.raises(ValueError, match=r"spectral_measure: epsilon must be a finite number in "
                                         r"\(0.0, 1.0\), got 1.5"):
        kp.spectral_measure(res, np.ones(6), np.zeros(3), epsilon=1.5)
    with pytest.raises(TypeError, match=r"spectral_measure_kernel: order must be a positive int"):
        kp.spectral_measure_kernel(2.0, 0.1)
    with pytest.raises(ValueError, match=r"moment_spectral_measure: filter must be one of "
                                         r"'fejer', 'cosine', 'vandeven', 'sharp_cosine', got "
                                         r"'gauss'"):
        kp.moment_spectral_measure(np.ones(4), np.zeros(3), filter="gauss")
    with pytest.raises(ValueError, match=r"moment_spectral_measure: moments must be of shape "
                                         r"\(K \+ 1,\) with K >= 1"):
        kp.moment_spectral_measure(np.ones(1), np.zeros(3))
    with pytest.raises(ValueError, match=r"ergodic_moments: num_moments must be an int in 0..3, "
                                         r"got 4"):
        kp.ergodic_moments(np.ones(4), 4)
    with pytest.raises(ValueError, match=r"ergodic_moments: values must be of shape \(n,\)"):
        kp.ergodic_moments(np.ones((4, 2)), 1)


def test_spectral_measure_equals_the_numpy_resolvent_formula(float64):
    """ν^ε from eig(Ã) and f̃ = T⁺c by NumPy (eig, lstsq) and the pole sum written out;
    eagerly and under jit."""
    rng = np.random.default_rng(0)
    res = kp.edmd(rng.normal(size=(300, 2)), rng.normal(size=(300, 2)), kp.Monomials(2, 3))
    c, theta = rng.normal(size=10), np.linspace(-3.0, 3.0, 7)
    ft = np.linalg.lstsq(np.asarray(res.basis), c.astype(complex), rcond=None)[0]
    lam, h = np.linalg.eig(np.asarray(res.galerkin))
    w = (h.conj().T @ ft).conj() * np.linalg.solve(h, ft)
    delta, cc, d = kp.spectral_measure_kernel(2, 0.1)
    poles = np.exp(1j * theta)[:, None] * (1 + 0.1 * delta)[None, :]
    inv = 1.0 / (lam[None, None, :] - poles[:, :, None])
    s0, s1 = (w * inv).sum(-1), (w * lam * inv).sum(-1)
    ref = -(cc[None] * poles.conj() * s0.conj() + d[None] * s1).real.sum(-1) / (2 * np.pi)
    got = np.asarray(kp.spectral_measure(res, c, theta, epsilon=0.1, order=2))
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    jitted = eqx.filter_jit(lambda r, g, t: kp.spectral_measure(r, g, t, epsilon=0.1, order=2))
    np.testing.assert_allclose(np.asarray(jitted(res, c, theta)), ref, rtol=1e-10, atol=1e-12)
