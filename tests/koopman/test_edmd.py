"""DMD / EDMD / kernel EDMD against closed forms, NumPy references, PyDMD and invariants."""

import itertools
import logging

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import koopman as kp

B = np.array([[0.9, 0.2], [0.0, 0.5]])


def _linear_pairs(m=400, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (m, 2))
    return x, x @ B.T


def _nonlinear_pairs(m=400, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (m, 2))
    y = np.stack([0.9 * x[:, 0] + 0.1 * np.sin(3 * x[:, 1]),
                  0.8 * x[:, 1] - 0.2 * x[:, 0] ** 2], axis=1)
    return x, y


def test_monomials_recover_products_of_linear_eigenvalues(float64):
    x, y = _linear_pairs()
    res = kp.edmd(x, y, kp.Monomials(2, 3))
    mu = np.linalg.eigvals(B)
    expected = np.sort([mu[0] ** i * mu[1] ** j for i in range(4) for j in range(4)
                        if i + j <= 3])
    got = np.sort(np.asarray(res.eigenvalues).real)
    assert res.rank == 10 and not res.truncated
    np.testing.assert_allclose(got, expected, atol=1e-10)
    assert np.max(np.abs(np.asarray(res.eigenvalues).imag)) < 1e-10
    assert np.max(np.asarray(res.residuals)) < 1e-8


def test_dmd_recovers_complex_eigenvalues_and_forecasts(float64):
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    theta = np.array([0.3, 1.1])
    radius = np.array([0.97, 0.8])
    blocks = np.zeros((4, 4))
    for k in range(2):
        c, s = np.cos(theta[k]), np.sin(theta[k])
        blocks[2 * k: 2 * k + 2, 2 * k: 2 * k + 2] = radius[k] * np.array([[c, -s], [s, c]])
    a = q @ blocks @ q.T
    traj = [rng.normal(size=4)]
    for _ in range(60):
        traj.append(a @ traj[-1])
    traj = np.array(traj)
    res = kp.dmd(traj[:-1], traj[1:])
    expected = np.sort_complex(np.concatenate([radius * np.exp(1j * theta),
                                               radius * np.exp(-1j * theta)]))
    np.testing.assert_allclose(np.sort_complex(np.asarray(res.eigenvalues)), expected,
                               atol=1e-10)
    assert np.max(np.asarray(res.residuals)) < 1e-8
    forecast = kp.predict(res, traj[0], 60)
    assert forecast.shape == (61, 4)
    np.testing.assert_allclose(np.asarray(forecast), traj, atol=1e-9)
    assert np.isrealobj(np.asarray(forecast))


def test_residuals_equal_the_resdmd_quadratic_form(float64):
    x, y = _nonlinear_pairs()
    res = kp.edmd(x, y, kp.Monomials(2, 4))
    g_, a_, l_ = map(np.asarray, kp.gram_matrices(res.dictionary, x, y))
    px = np.asarray(res.dictionary(jnp.asarray(x)))
    # Independent float64 references: the Gram matrices by plain NumPy, and the residual
    # from the quadratic form g*(L − λA* − λ̄A + |λ|²G)g / g*Gg of Colbrook & Townsend.
    np.testing.assert_allclose(g_, px.T @ px / x.shape[0], rtol=1e-12, atol=1e-14)
    lam, g = np.asarray(res.eigenvalues), np.asarray(res.eigenvectors)
    for j in range(lam.shape[0]):
        v = g[:, j]
        pencil = l_ - lam[j] * a_.conj().T - np.conj(lam[j]) * a_ + abs(lam[j]) ** 2 * g_
        r2 = (v.conj() @ pencil @ v).real / (v.conj() @ g_ @ v).real
        assert abs(np.sqrt(max(r2, 0.0)) - float(res.residuals[j])) < 1e-10
    # EDMD's matrix is the least-squares K = G⁺A, and A g = λ G g.
    k_ls = np.linalg.lstsq(px, np.asarray(res.dictionary(jnp.asarray(y))), rcond=None)[0]
    np.testing.assert_allclose(np.asarray(res.matrix), k_ls, atol=1e-9)
    np.testing.assert_allclose(a_ @ g, g_ @ g * lam[None, :], atol=1e-10)


@pytest.mark.parametrize("rank", [2, 3])
def test_dmd_eigenvalues_agree_with_pydmd(float64, rank):
    import pydmd  # dev extra: a missing PyDMD fails the test, never skips it
    rng = np.random.default_rng(7)
    a = np.array([[0.9, -0.3, 0.1, 0.0], [0.3, 0.9, 0.0, 0.1], [0.0, 0.1, 0.7, 0.0],
                  [0.05, 0.0, 0.0, 0.5]])
    traj = [rng.normal(size=4)]
    for _ in range(40):
        traj.append(a @ traj[-1] + 0.05 * rng.normal(size=4))
    traj = np.array(traj)
    ref = pydmd.DMD(svd_rank=rank)
    ref.fit(traj.T)
    ours = kp.dmd(traj[:-1], traj[1:], rank=rank)
    np.testing.assert_allclose(np.sort_complex(np.asarray(ours.eigenvalues)),
                               np.sort_complex(ref.eigs), atol=1e-8)


def test_kernel_edmd_equals_williams_formula(float64):
    x, y = _nonlinear_pairs(m=120, seed=4)
    ls = 0.7
    res = kp.kernel_edmd(x, y, "gaussian", lengthscale=ls, rank=12)
    # Williams, Rowley & Kevrekidis (2015): Ĝ = k(X, X) = QΣ²Q*, K̂ = (Σ⁺Q*)Â(QΣ⁺),
    # Â_ij = k(y_i, x_j), truncated to the 12 leading directions.
    def k(a, b):
        return np.exp(-((a[:, None] - b[None]) ** 2).sum(-1) / (2 * ls**2))
    evals, q = np.linalg.eigh(k(x, x))
    top = np.argsort(evals)[::-1][:12]
    sig = np.sqrt(evals[top])
    kh = (q[:, top] / sig).T @ k(y, x) @ (q[:, top] / sig)
    ref = np.linalg.eigvals(kh)
    np.testing.assert_allclose(np.sort_complex(np.asarray(res.eigenvalues)),
                               np.sort_complex(ref), atol=1e-8)
    assert isinstance(res.dictionary, kp.KernelFeatures) and res.rank == 12


@pytest.mark.parametrize(("kernel", "rank"), [("gaussian", 15), ("polynomial", None)])
def test_exact_kernel_edmd_eigh_path_equals_general_svd(float64, kernel, rank):
    # kernel_edmd factors the symmetric k(X, X) with eigh; edmd on the same features takes a
    # general SVD. Same eigenvalues, residuals and τ (the polynomial Gram is rank-deficient:
    # its eigenvalues below the cut-off come with either sign).
    x, y = _nonlinear_pairs(m=150, seed=8)
    res = kp.kernel_edmd(x, y, kernel, lengthscale=0.8, rank=rank)
    ref = kp.edmd(x, y, res.dictionary, rank=rank)
    assert res.rank == ref.rank
    np.testing.assert_allclose(np.asarray(res.singular_values)[: res.rank],
                               np.asarray(ref.singular_values)[: ref.rank], rtol=1e-10)
    order = lambda r: np.argsort(np.round(np.asarray(r.eigenvalues), 8), kind="stable")
    np.testing.assert_allclose(np.asarray(res.eigenvalues)[order(res)],
                               np.asarray(ref.eigenvalues)[order(ref)], atol=1e-9)
    np.testing.assert_allclose(np.sort(np.asarray(res.residuals)),
                               np.sort(np.asarray(ref.residuals)), atol=1e-9)
    z = jnp.asarray([0.5 + 0.1j, -0.3 + 0.4j, 0.9 + 0.0j])
    np.testing.assert_allclose(kp.pseudospectrum(res, z), kp.pseudospectrum(ref, z),
                               rtol=1e-8, atol=1e-12)


def test_polynomial_kernel_spans_quadratics_of_a_linear_map(float64):
    x, y = _linear_pairs(m=200)
    res = kp.kernel_edmd(x, y, "polynomial", degree=2, lengthscale=1.0)
    mu = np.linalg.eigvals(B)
    expected = np.sort([mu[0] ** i * mu[1] ** j for i in range(3) for j in range(3)
                        if i + j <= 2])
    assert res.rank == 6                       # (1 + xᵀz)² spans the 6 monomials of degree ≤ 2
    np.testing.assert_allclose(np.sort(np.asarray(res.eigenvalues).real), expected, atol=1e-9)
    assert np.max(np.asarray(res.residuals)) < 1e-8


def test_nystrom_landmarks_and_validation_residuals(float64):
    x, y = _nonlinear_pairs(m=600, seed=5)
    xv, yv = _nonlinear_pairs(m=600, seed=6)
    res = kp.kernel_edmd(x, y, "laplacian", landmarks=40, key=jax.random.key(0))
    assert res.num_features == 40
    val = kp.resdmd(res, xv, yv)
    assert val.residuals.shape == res.residuals.shape
    # Training residuals are optimistic: on average no larger than the validation ones.
    assert float(jnp.mean(res.residuals)) <= float(jnp.mean(val.residuals)) + 1e-3
    # resdmd on the training data reproduces edmd's own residuals.
    np.testing.assert_allclose(np.asarray(kp.resdmd(res, x, y).residuals),
                               np.asarray(res.residuals), atol=1e-9)


def test_duffing_principal_pair_within_1e3_with_small_residual(float64):
    """Damped Duffing (α = 0.3, Δt = 0.3) near its stable focus (1, 0): the Koopman
    eigenvalues there are exp(Δt·eig J) = 0.87218 ± 0.39145i and their products."""
    key = jax.random.key(0)
    u = jax.random.uniform(key, (1000, 2))
    r = 0.2 * jnp.sqrt(u[:, 0])
    x0 = jnp.stack([1 + r * jnp.cos(2 * jnp.pi * u[:, 1]), r * jnp.sin(2 * jnp.pi * u[:, 1])], 1)
    x, y = kp.flow_pairs(lambda t, s: jnp.stack([s[1], -0.3 * s[1] + s[0] - s[0] ** 3]),
                         x0, 0.3, 1)
    exact = np.exp(0.3 * np.linalg.eigvals(np.array([[0.0, 1.0], [-2.0, -0.3]])))
    res = kp.edmd(x, y, kp.Monomials(2, 6, loc=jnp.array([1.0, 0.0]), scale=0.2))
    lam, resid = np.asarray(res.eigenvalues), np.asarray(res.residuals)
    for target in exact:
        j = np.argmin(np.abs(lam - target))
        assert abs(lam[j] - target) < 1e-3
        assert resid[j] < 1e-3
    np.testing.assert_allclose(abs(exact[0]), 0.95600, atol=1e-5)


def _hamiltonian_sample(rng, n, c=0.25):
    """Uniform points of {H ≤ c}, H = y²/2 − x²/2 + x⁴/4: an invariant set of the undamped
    Duffing flow on which Lebesgue measure is invariant (Liouville)."""
    out = []
    while sum(len(o) for o in out) < n:
        p = rng.uniform([-1.6, -1.0], [1.6, 1.0], (4 * n, 2))
        out.append(p[p[:, 1] ** 2 / 2 - p[:, 0] ** 2 / 2 + p[:, 0] ** 4 / 4 <= c])
    return np.concatenate(out)[:n]


def test_spurious_eigenvalues_of_an_overlarge_dictionary_are_flagged(float64):
    """Undamped Duffing sampled from an invariant measure: K is unitary, so σ_inf(K − λ) ≥
    1 − |λ| and every EDMD eigenvalue inside the disc is spurious. Their residuals say so."""
    rng = np.random.default_rng(0)
    x, y = kp.flow_pairs(lambda t, s: jnp.stack([s[1], s[0] - s[0] ** 3]),
                         _hamiltonian_sample(rng, 1500), 0.3, 2)
    dic = kp.RadialBasis.from_data(_hamiltonian_sample(rng, 3000), 150,
                                   key=jax.random.key(1))
    res = kp.edmd(x, y, dic)
    lam, resid = np.abs(np.asarray(res.eigenvalues)), np.asarray(res.residuals)
    inside = lam < 0.85
    assert inside.sum() >= 10                       # EDMD does produce spurious eigenvalues
    assert np.all(resid[inside] > 0.1)
    assert np.all(resid >= (1 - lam) - 0.02)        # the isometry bound, up to quadrature


def test_rank_deficient_gram_is_truncated_and_reported(float64):
    x, y = _linear_pairs(m=200)
    doubled = kp.Concatenate(kp.Monomials(2, 2), kp.Identity(2), kp.Monomials(2, 1))
    res = kp.edmd(x, y, doubled)
    assert res.num_features == 11 and res.rank == 6 and res.truncated
    assert np.isfinite(res.condition_number) and res.condition_number < 1e3
    assert res.gram_condition > 1e12
    mu = np.linalg.eigvals(B)
    expected = np.sort([mu[0] ** i * mu[1] ** j for i in range(3) for j in range(3)
                        if i + j <= 2])
    np.testing.assert_allclose(np.sort(np.asarray(res.eigenvalues).real), expected, atol=1e-10)
    assert np.max(np.asarray(res.residuals)) < 1e-8
    capped = kp.edmd(x, y, doubled, rank=4)
    assert capped.rank == 4


def test_bad_input_is_named(float64, user_errors):
    x, y = _linear_pairs(m=50)
    with pytest.raises(ValueError, match=r"y must have the shape of x, \(50, 2\).*\(49, 2\)"):
        kp.edmd(x, y[:-1], kp.Monomials(2, 2))
    with pytest.raises(ValueError, match=r"rank must be an int in 1..min\(m, N\) = 1..6"):
        kp.edmd(x, y, kp.Monomials(2, 2), rank=7)
    with pytest.raises(ValueError, match=r"rank must be an int in 1..min\(m, N\) = 1..2"):
        kp.dmd(x, y, rank=3)
    with pytest.raises(ValueError, match=r"dimension 3, but x has d = 2"):
        kp.edmd(x, y, kp.Monomials(3, 2))
    with pytest.raises(ValueError, match=r"weights must have shape \(50,\)"):
        kp.edmd(x, y, weights=np.ones(49))
    with pytest.raises(ValueError, match=r"x must have shape \(m, d\)"):
        kp.edmd(x[:, 0], y[:, 0])
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"x contains a non-finite value at index \(3, 1\)"):
        kp.edmd(bad, y)
    with pytest.raises(TypeError, match="AbstractDictionary"):
        kp.edmd(x, y, lambda s: s)
    with pytest.raises(ValueError, match="kernel must be one of"):
        kp.kernel_edmd(x, y, "cauchy")
    with pytest.raises(ValueError, match="needs key"):
        kp.kernel_edmd(x, y, landmarks=5)
    res = kp.dmd(x, y)
    with pytest.raises(ValueError, match="steps must be an int >= 0"):
        kp.predict(res, x[0], -1)


def test_edmd_compiles_once_per_shape(float64, caplog):
    x, y = _nonlinear_pairs(m=300, seed=8)
    dic = kp.Monomials(2, 3)
    kp.edmd(x, y, dic)
    x2, y2 = _nonlinear_pairs(m=300, seed=9)
    with jax.log_compiles(), caplog.at_level(logging.WARNING):
        caplog.clear()
        res = kp.edmd(x2, y2, dic)
        kp.pseudospectrum(res, jnp.array([0.5 + 0.1j, 0.2j]))
        caplog.clear()
        res = kp.edmd(x, y, dic)
        kp.pseudospectrum(res, jnp.array([0.1 + 0.1j, 0.3j]))
    compiled = [r for r in caplog.records if "Compiling" in r.getMessage()
                and ("_galerkin" in r.getMessage() or "_weighted_svd" in r.getMessage()
                     or "_tau" in r.getMessage())]
    assert compiled == []


def test_dictionaries_match_numpy_formulas(float64):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(7, 3))
    exps = kp.total_degree_exponents(3, 3)
    assert len(exps) == 20 and exps[0] == (0, 0, 0)
    mono = np.asarray(kp.Monomials(3, 3)(x))
    ref = np.stack([np.prod(x ** np.array(k), axis=1) for k in exps], axis=1)
    np.testing.assert_allclose(mono, ref, rtol=1e-12)
    from numpy.polynomial import hermite_e, legendre
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


def test_kmeans_finds_separated_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]])
    pts = np.concatenate([c + 0.1 * rng.normal(size=(100, 2)) for c in centres])
    got = np.asarray(kp.kmeans(pts.astype(np.float32), 3, key=jax.random.key(0)))
    for c in centres:
        assert np.min(np.linalg.norm(got - c, axis=1)) < 0.05


def test_learned_dictionary_finds_the_missing_eigenfunction(float64):
    """x₁ ↦ μx₁, x₂ ↦ λx₂ + (μ² − λ)x₁² has the Koopman-invariant span {x₁, x₂, x₁²} with
    eigenvalues μ, λ, μ². The coordinates alone miss μ²; one learned feature recovers it."""
    mu, lam = 0.9, 0.5
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (500, 2))
    y = np.stack([mu * x[:, 0], lam * x[:, 1] + (mu**2 - lam) * x[:, 0] ** 2], axis=1)
    plain = kp.edmd(x, y, kp.Identity(2, constant=True))
    assert np.min(np.abs(np.asarray(plain.eigenvalues) - mu**2)) > 0.02
    dic = kp.LearnedDictionary(2, 1, width=16, depth=1, key=jax.random.key(0))
    before = float(kp.dictionary_loss(dic, jnp.asarray(x), jnp.asarray(y)))
    trained, _ = kp.fit_dictionary(dic, x, y, steps=600, key=jax.random.key(1),
                                     optimizer=__import__("optax").adam(1e-2), progress=False)
    after = float(kp.dictionary_loss(trained, jnp.asarray(x), jnp.asarray(y)))
    assert after < 0.1 * before
    assert trained.fixed == dic.fixed                   # the fixed features are not trained
    res = kp.edmd(x, y, trained)
    lam_all, resid = np.asarray(res.eigenvalues), np.asarray(res.residuals)
    j = np.argmin(np.abs(lam_all - mu**2))
    assert abs(lam_all[j] - mu**2) < 0.02 and resid[j] < 0.02
    for target in (1.0, mu, lam):
        assert np.min(np.abs(lam_all - target)) < 1e-2


def test_float32_matches_float64():
    x, y = _nonlinear_pairs(m=300, seed=12)
    r32 = kp.edmd(x.astype(np.float32), y.astype(np.float32), kp.Monomials(2, 2))
    assert r32.eigenvalues.dtype == jnp.complex64
    with jax.enable_x64(True):
        r64 = kp.edmd(x, y, kp.Monomials(2, 2))
        lam64 = np.sort_complex(np.asarray(r64.eigenvalues))
        res64 = np.asarray(r64.residuals)[np.argsort(np.asarray(r64.eigenvalues))]
    np.testing.assert_allclose(np.sort_complex(np.asarray(r32.eigenvalues)), lam64, atol=1e-4)
    assert np.max(np.abs(np.sort(np.asarray(r32.residuals)) - np.sort(res64))) < 1e-4


def test_is_a_pytree_usable_under_vmap(float64):
    """Pseudospectra vectorise over grids; results are pytrees that go through jit."""
    x, y = _nonlinear_pairs(m=200, seed=2)
    res = kp.edmd(x, y, kp.Monomials(2, 2))
    f = eqx.filter_jit(lambda r, z: kp.pseudospectrum(r, z))
    z = jnp.array([[0.1 + 0.2j, 0.5], [0.9j, -0.3]])
    np.testing.assert_allclose(np.asarray(f(res, z)), np.asarray(kp.pseudospectrum(res, z)),
                               rtol=1e-12)
    assert list(itertools.chain(f(res, z).shape)) == [2, 2]
