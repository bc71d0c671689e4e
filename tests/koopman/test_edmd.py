"""EDMD (+ ResDMD residuals) against closed forms, NumPy references and invariants."""

import itertools
import logging

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import koopman as kp
from jaxlab import systems

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


def _duffing(delta, alpha=1.0, beta=-1.0):
    """The unforced Duffing oscillator ẍ = −δẋ − βx − αx³ as `systems.Duffing` with γ = 0
    (its third coordinate, the forcing phase, is inert). The parameters are arrays, so
    every instance shares one compiled solve of `flow_pairs` with the same data shapes."""
    p = {name: jnp.asarray(v, float) for name, v in
         {"alpha": alpha, "beta": beta, "delta": delta, "gamma": 0.0}.items()}
    return systems.Duffing(**p)


def _planar(states):
    """(n, 2) states as (n, 3) states of `systems.Duffing` (phase 0)."""
    return jnp.concatenate([states, jnp.zeros((states.shape[0], 1), states.dtype)], axis=1)


def test_flow_pairs_of_a_linear_oscillator_are_exact(float64):
    """ẍ = −x (Duffing with α = δ = 0, β = 1): the flow map is the rotation by −Δt, and the
    phase grows by ωΔt; `flow_pairs` of an `AbstractFlow` reproduces both to 1e-9."""
    x0 = jax.random.uniform(jax.random.key(3), (1000, 2), minval=-2.0, maxval=2.0)
    pairs = kp.flow_pairs(_duffing(0.0, alpha=0.0, beta=1.0), _planar(x0), dt=0.3, steps=1)
    assert bool(pairs.converged) and pairs.x.dtype == jnp.float64
    c, s_ = np.cos(0.3), np.sin(0.3)
    x0 = np.asarray(x0)
    exact = np.stack([c * x0[:, 0] + s_ * x0[:, 1], -s_ * x0[:, 0] + c * x0[:, 1]], axis=1)
    np.testing.assert_array_equal(np.asarray(pairs.x)[:, :2], x0)
    np.testing.assert_allclose(np.asarray(pairs.y)[:, :2], exact, atol=1e-9)
    np.testing.assert_allclose(np.asarray(pairs.y)[:, 2], 1.4 * 0.3, atol=1e-12)


def test_duffing_principal_pair_within_1e3_with_small_residual(float64):
    """Damped Duffing (α = 0.3, Δt = 0.3) near its stable focus (1, 0): the Koopman
    eigenvalues there are exp(Δt·eig J) = 0.87218 ± 0.39145i and their products."""
    key = jax.random.key(0)
    u = jax.random.uniform(key, (1000, 2))
    r = 0.2 * jnp.sqrt(u[:, 0])
    x0 = jnp.stack([1 + r * jnp.cos(2 * jnp.pi * u[:, 1]), r * jnp.sin(2 * jnp.pi * u[:, 1])], 1)
    pairs = kp.flow_pairs(_duffing(0.3), _planar(x0), dt=0.3, steps=1)
    x, y = pairs.x[:, :2], pairs.y[:, :2]
    exact = np.exp(0.3 * np.linalg.eigvals(np.array([[0.0, 1.0], [-2.0, -0.3]])))
    res = kp.edmd(x, y, kp.Monomials(2, 6, loc=jnp.array([1.0, 0.0]), scale=0.2))
    lam, resid = np.asarray(res.eigenvalues), np.asarray(res.residuals)
    for target in exact:
        j = np.argmin(np.abs(lam - target))
        assert abs(lam[j] - target) < 1e-3
        assert resid[j] < 1e-3
    np.testing.assert_allclose(abs(exact[0]), 0.95600, atol=1e-5)


def _hamiltonian_sample(n, seed, c=0.25):
    """Uniform points of {H ≤ c}, H = y²/2 − x²/2 + x⁴/4: an invariant set of the undamped
    Duffing flow on which Lebesgue measure is invariant (Liouville)."""
    def energy(s):
        return s[1] ** 2 / 2 - s[0] ** 2 / 2 + s[0] ** 4 / 4
    return kp.sample_sublevel_set(energy, c, n, low=[-1.6, -1.0], high=[1.6, 1.0],
                                  key=jax.random.key(seed)).points


@pytest.mark.parametrize("size", ["default", pytest.param("overlarge", marks=pytest.mark.slow)])
def test_spurious_eigenvalues_are_flagged(float64, size):
    """Undamped Duffing sampled from an invariant measure: K is unitary, so σ_inf(K − λ) ≥
    1 − |λ| and every EDMD eigenvalue inside the disc is spurious. Their residuals say so.
    `default`: 1000 states, one step, 100 RBFs; `overlarge` (~5 s on 2 cores): 1500 states,
    two steps, 150 RBFs."""
    if size == "default":
        points = _hamiltonian_sample(3000, seed=0)
        states, steps, centres, num_features = points[:1000], 1, points[1000:], 100
    else:
        states, steps, num_features = _hamiltonian_sample(1500, seed=0), 2, 150
        centres = _hamiltonian_sample(3000, seed=1)
    pairs = kp.flow_pairs(_duffing(0.0), _planar(states), dt=0.3, steps=steps)
    dic = kp.RadialBasis.from_data(centres, num_features, key=jax.random.key(1))
    res = kp.edmd(pairs.x[:, :2], pairs.y[:, :2], dic)
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
    with pytest.raises(ValueError, match=r"edmd: y must be of shape \(50, 2\) \(the shape of x"
                                         r".*got shape \(49, 2\)"):
        kp.edmd(x, y[:-1], kp.Monomials(2, 2))
    with pytest.raises(ValueError, match=r"edmd: rank must be an int in 1..min\(m, N\) = 1..6"):
        kp.edmd(x, y, kp.Monomials(2, 2), rank=7)
    with pytest.raises(ValueError, match=r"edmd: dictionary must be on states of the data's "
                                         r"dimension d = 2, got a dictionary on dimension 3"):
        kp.edmd(x, y, kp.Monomials(3, 2))
    with pytest.raises(ValueError, match=r"edmd: weights must be of shape \(50,\)"):
        kp.edmd(x, y, weights=np.ones(49))
    with pytest.raises(ValueError, match=r"edmd: weights must be non-negative and finite"):
        kp.edmd(x, y, weights=-np.ones(50))
    with pytest.raises(ValueError, match=r"edmd: weights must be weights with a positive sum, "
                                         r"got a sum of 0"):
        kp.edmd(x, y, weights=np.zeros(50))
    with pytest.raises(ValueError, match=r"edmd: x must be of shape \(m, d\)"):
        kp.edmd(x[:, 0], y[:, 0])
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"edmd: x must be finite, got .*nan.* at index \(3, 1\)"):
        kp.edmd(bad, y)
    with pytest.raises(TypeError, match=r"edmd: dictionary must be an AbstractDictionary"):
        kp.edmd(x, y, lambda s: s)
    with pytest.raises(TypeError, match=r"edmd: x must be a real array"):
        kp.edmd(np.ones((50, 2), bool), y)
    with pytest.raises(ValueError, match=r"edmd: rank must be an int in 1..6 under jit"):
        eqx.filter_jit(lambda a, b: kp.edmd(a, b, kp.Monomials(2, 2)).eigenvalues)(x, y)
    with pytest.raises(ValueError, match=r"gram_matrices: y must be of shape \(50, 2\)"):
        kp.gram_matrices(kp.Identity(2), x, y[:, :1])
    res = kp.edmd(x, y, kp.Monomials(2, 2))
    with pytest.raises(TypeError, match=r"resdmd: result must be a KoopmanResult"):
        kp.resdmd(x, x, y)
    with pytest.raises(ValueError, match=r"resdmd: dictionary must be on states of the data's "
                                         r"dimension d = 1"):
        kp.resdmd(res, x[:, :1], y[:, :1])
    with pytest.raises(ValueError, match=r"observable_coefficients: values must be of shape "
                                         r"\(50,\) \(one per state\), got shape \(49,\)"):
        kp.observable_coefficients(res, x, x[1:, 0])


def test_observable_coefficients_and_gram_matrices(float64):
    """An observable in the dictionary's span gets its exact coefficients; the Gram matrices
    are the weighted NumPy products; both go through jit."""
    x, y = _nonlinear_pairs(m=200, seed=3)
    dic = kp.Monomials(2, 2)                 # 1, x₁, x₂, x₁², x₁x₂, x₂²
    res = kp.edmd(x, y, dic)
    g = x[:, 0] ** 2 + 3 * x[:, 1] - 0.5
    c = np.asarray(kp.observable_coefficients(res, x, g))
    np.testing.assert_allclose(c, [-0.5, 0, 3, 1, 0, 0], atol=1e-10)
    w = np.random.default_rng(0).uniform(0.5, 1.5, 200)
    gm, am, lm = map(np.asarray, eqx.filter_jit(kp.gram_matrices)(dic, x, y, weights=w))
    px, py, wn = np.asarray(dic(x)), np.asarray(dic(y)), w / w.sum()
    np.testing.assert_allclose(gm, px.T @ (wn[:, None] * px), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(am, px.T @ (wn[:, None] * py), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(lm, py.T @ (wn[:, None] * py), rtol=1e-12, atol=1e-15)
    # resdmd with weights, under jit: ‖√W(Ψ_Y − λΨ_X)g‖ / ‖√WΨ_X g‖ on other pairs (NumPy)
    val = eqx.filter_jit(kp.resdmd)(res, y, x, weights=w)
    g_, lam = np.asarray(res.eigenvectors), np.asarray(res.eigenvalues)
    sw = np.sqrt(wn)[:, None]
    qx, qy = sw * np.asarray(dic(y)) @ g_, sw * np.asarray(dic(x)) @ g_
    ref = np.linalg.norm(qy - qx * lam, axis=0) / np.linalg.norm(qx, axis=0)
    np.testing.assert_allclose(np.asarray(val.residuals), ref, rtol=1e-10)


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
                and ("_galerkin" in r.getMessage() or "weighted_svd" in r.getMessage()
                     or "_tau" in r.getMessage())]
    assert compiled == []


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


def test_is_a_pytree_usable_under_jit_and_vmap(float64):
    """Pseudospectra vectorise over grids; results are pytrees that go through jit, and
    EDMD itself runs under jit (rank given) and vmap (a batch of data sets)."""
    x, y = _nonlinear_pairs(m=200, seed=2)
    res = kp.edmd(x, y, kp.Monomials(2, 2))
    f = eqx.filter_jit(lambda r, z: kp.pseudospectrum(r, z))
    z = jnp.array([[0.1 + 0.2j, 0.5], [0.9j, -0.3]])
    np.testing.assert_allclose(np.asarray(f(res, z)), np.asarray(kp.pseudospectrum(res, z)),
                               rtol=1e-12)
    assert list(itertools.chain(f(res, z).shape)) == [2, 2]
    x2, y2 = _nonlinear_pairs(m=200, seed=5)
    fit = eqx.filter_jit(jax.vmap(lambda a, b: kp.edmd(a, b, kp.Monomials(2, 2), rank=6)))
    both = fit(jnp.stack([x, x2]), jnp.stack([y, y2]))
    np.testing.assert_allclose(np.sort_complex(np.asarray(both.eigenvalues[0])),
                               np.sort_complex(np.asarray(res.eigenvalues)), atol=1e-10)
    np.testing.assert_allclose(np.sort(np.asarray(both.residuals[0])),
                               np.sort(np.asarray(res.residuals)), atol=1e-10)
