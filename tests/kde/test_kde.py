"""The exact estimator against scipy, scikit-learn and plain NumPy references."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate as si
import scipy.stats as st
from sklearn.neighbors import KernelDensity

from jaxlab import RESULTS
from jaxlab.kde import (
    KDE,
    KERNELS,
    Cosine,
    CrossValidationResult,
    Gaussian,
    gaussian_kde,
    lcv_bandwidth,
    lscv_bandwidth,
    scott_bandwidth,
    weighted_covariance,
)
from jaxlab.parallel import data_mesh

SKLEARN_NAMES = {"gaussian": "gaussian", "epanechnikov": "epanechnikov", "tophat": "tophat",
                 "exponential": "exponential", "linear": "linear", "cosine": "cosine"}


def _data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ np.tril(rng.uniform(0.3, 1.0, (d, d))), rng


@pytest.mark.parametrize("d", [1, 2, 3, 5])
@pytest.mark.parametrize("weighted", [False, True])
def test_gaussian_kde_equals_scipy(d, weighted, float64):
    x, rng = _data(400, d, seed=d)
    q = rng.normal(size=(250, d))
    w = rng.uniform(0.1, 1.0, 400) if weighted else None
    for rule in ("scott", "silverman"):
        expected = st.gaussian_kde(x.T, bw_method=rule, weights=w).logpdf(q.T)
        got = gaussian_kde(x, bandwidth=rule, weights=w).logpdf(q)
        assert got.dtype == jnp.float64
        np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=1e-10)


def test_high_dimension_stays_finite(float64):
    # d = 500: every density is ~e^-1000, below float64's smallest number. scipy's pdf
    # underflows to 0 (log −inf); our log-space sum is finite and equals scipy's own
    # logsumexp-based logpdf.
    rng = np.random.default_rng(1)
    x, q = rng.normal(size=(1000, 500)), rng.normal(size=(4, 500))
    scipy_kde = st.gaussian_kde(x.T)
    with np.errstate(divide="ignore"):
        scipy_log_of_pdf = np.log(scipy_kde.pdf(q.T))
    assert np.all(scipy_log_of_pdf == -np.inf)
    ours = np.asarray(gaussian_kde(x).logpdf(q))
    assert np.all(np.isfinite(ours)) and np.all(ours < -700)
    np.testing.assert_allclose(ours, scipy_kde.logpdf(q.T), rtol=1e-10)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("d", [1, 3])
def test_kernels_equal_sklearn(kernel, d, float64):
    x, rng = _data(300, d, seed=2)
    q = x[:50] + 0.3 * rng.normal(size=(50, d))  # near the data: inside compact supports
    h = 0.7
    ref = KernelDensity(kernel=SKLEARN_NAMES[kernel], bandwidth=h, algorithm="kd_tree", rtol=0,
                        atol=0).fit(x).score_samples(q)
    got = np.asarray(KDE(x, kernel, h).logpdf(q))
    finite = np.isfinite(ref)
    assert finite.mean() > 0.8
    np.testing.assert_allclose(got[finite], ref[finite], rtol=1e-10, atol=1e-10)
    assert np.all(got[~finite] == -np.inf)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_integrates_to_one_1d(kernel, float64):
    x, _ = _data(40, 1, seed=3)
    kde = KDE(x, kernel, np.array([[0.4]]) ** 2)  # a (1, 1) matrix bandwidth: h = 0.4
    pdf = eqx.filter_jit(kde.pdf)
    # Kinks of the kernels: at the data (exponential, linear) and at ±h (compact supports).
    breaks = sorted({float(v) for v in np.concatenate([x[:, 0] - 0.4, x[:, 0], x[:, 0] + 0.4])})
    lo, hi = x.min() - 10, x.max() + 10
    total, _ = si.quad(lambda t: float(pdf(jnp.array([t]))[0]), lo, hi, points=breaks,
                       limit=500, epsabs=1e-10)
    np.testing.assert_allclose(total, 1.0, atol=1e-6)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_integrates_to_one_2d(kernel, float64):
    x, _ = _data(30, 2, seed=4)
    kde = KDE(x, kernel, jnp.array([0.5, 0.8]))  # diagonal bandwidth
    g1 = np.linspace(x[:, 0].min() - 8, x[:, 0].max() + 8, 801)
    g2 = np.linspace(x[:, 1].min() - 10, x[:, 1].max() + 10, 801)
    grid = np.stack(np.meshgrid(g1, g2, indexing="ij"), axis=-1).reshape(-1, 2)
    dens = np.asarray(kde.pdf(grid)).reshape(801, 801)
    total = np.trapezoid(np.trapezoid(dens, g2, axis=1), g1)
    # Trapezoid on a 0.03-spaced grid: the kinks of compact kernels cost ~1e-3.
    np.testing.assert_allclose(total, 1.0, atol=3e-3)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_integrates_to_one_5d_importance_sampling(kernel, float64):
    # E_q[ρ̂(X)/q(X)] = 1 for a proposal q covering ρ̂: q = N(0, 4 I). 200 000 draws; the
    # tolerance is five standard errors of the estimate (measured from the same draws).
    x, _ = _data(60, 5, seed=5)
    kde = KDE(x, kernel, 0.8)
    z = jax.random.normal(jax.random.key(0), (200_000, 5), jnp.float64) * 2.0
    log_q = jnp.sum(jax.scipy.stats.norm.logpdf(z, scale=2.0), axis=1)
    ratio = np.asarray(jnp.exp(kde.logpdf(z) - log_q))
    stderr = ratio.std() / math.sqrt(ratio.size)
    assert stderr < 0.05
    assert abs(ratio.mean() - 1.0) < 5 * stderr


def _radial_cdf(kernel, d):
    """CDF of |u| for u ~ K in R^d from the profile alone (NumPy quadrature)."""
    r = np.linspace(0, 60 if kernel.radius == math.inf else 1, 60_001)
    dens = np.exp(np.asarray(kernel.log_profile(jnp.asarray(r**2)))) * r ** (d - 1)
    cdf = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2 * np.diff(r))])
    return r, cdf / cdf[-1]


@pytest.mark.parametrize("kernel", sorted(KERNELS))
# d = 10 (the same sampler code at a larger dimension) is `slow`.
@pytest.mark.parametrize("d", [1, 3, pytest.param(10, marks=pytest.mark.slow)])
def test_kernel_sampler_radius(kernel, d, float64):
    k = KERNELS[kernel]()
    n = 5000  # as many draws as test_sample_matches_kde_cdf_1d: its d = 1 samplers compile once
    u = np.asarray(k.sample(n, d, jnp.float64, key=jax.random.key(d)))
    assert u.shape == (n, d)
    r, cdf = _radial_cdf(k, d)
    p = st.kstest(np.linalg.norm(u, axis=1), lambda t: np.interp(t, r, cdf)).pvalue
    assert p > 1e-3
    # directions are uniform: the mean of u is 0 (standard error ~ E|u|/√(n d))
    assert np.all(np.abs(u.mean(axis=0)) < 5 * np.sqrt(np.mean(u**2)) / np.sqrt(n))


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_sample_matches_kde_cdf_1d(kernel, float64):
    x, rng = _data(25, 1, seed=6)
    w = rng.uniform(0.2, 1.0, 25)
    kde = KDE(x, kernel, 0.5, weights=w)
    draws = np.asarray(kde.sample(5000, key=jax.random.key(1)))[:, 0]
    grid = np.linspace(x.min() - 8, x.max() + 8, 40_001)
    dens = np.asarray(kde.pdf(grid))
    cdf = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2 * np.diff(grid))])
    assert st.kstest(draws, lambda t: np.interp(t, grid, cdf / cdf[-1])).pvalue > 1e-3


def test_sample_moments_full_bandwidth(float64):
    # X = y_I + L u: mean Σ w_i y_i, covariance Σ_w (biased) + H. 200 000 draws: 1% of the
    # scale is many standard errors away from chance.
    x, rng = _data(50, 2, seed=7)
    w = rng.uniform(0.2, 1.0, 50)
    h = np.array([[0.5, 0.2], [0.2, 0.3]])
    draws = np.asarray(KDE(x, "gaussian", h, weights=w).sample(200_000,
                                                               key=jax.random.key(2)))
    wn = w / w.sum()
    mean = wn @ x
    cov = (x - mean).T @ ((x - mean) * wn[:, None]) + h
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.01)
    np.testing.assert_allclose(np.cov(draws.T), cov, atol=0.02)


def test_sample_is_deterministic_in_key():
    kde = KDE(np.arange(10.0), "epanechnikov", 1.0)
    a = kde.sample(100, key=jax.random.key(3))
    np.testing.assert_array_equal(a, kde.sample(100, key=jax.random.key(3)))
    assert not np.array_equal(a, kde.sample(100, key=jax.random.key(4)))


def test_marginal_integrates_out_a_dimension(float64):
    x, _ = _data(30, 3, seed=8)
    h = np.array([[0.5, 0.1, 0.05], [0.1, 0.4, 0.1], [0.05, 0.1, 0.6]])
    kde = KDE(x, "gaussian", h)
    marg = kde.marginal([0, 2])
    point = np.array([0.3, -0.2])
    pdf = eqx.filter_jit(kde.pdf)
    integral, _ = si.quad(lambda t: float(pdf(jnp.array([point[0], t, point[1]]))), -15, 15,
                          epsabs=1e-12)
    np.testing.assert_allclose(float(marg.pdf(point)), integral, rtol=1e-8)
    # and it is scipy's KDE of those columns with that covariance
    ref = st.multivariate_normal
    expected = np.mean([ref.pdf(point, mean=row[[0, 2]], cov=h[np.ix_([0, 2], [0, 2])])
                        for row in x])
    np.testing.assert_allclose(float(marg.pdf(point)), expected, rtol=1e-10)


def test_integrate_box(float64):
    x, rng = _data(40, 2, seed=9)
    w = rng.uniform(0.2, 1.0, 40)
    low, high = np.array([-0.5, -1.0]), np.array([1.0, 0.7])
    # diagonal bandwidth: exact, against products of normal CDFs in NumPy
    s = np.array([0.4, 0.6])
    p = np.prod(st.norm.cdf((high - x) / s) - st.norm.cdf((low - x) / s), axis=1)
    got = KDE(x, "gaussian", s, weights=w).integrate_box(low, high)
    np.testing.assert_allclose(float(got), np.sum(w * p) / w.sum(), rtol=1e-12)
    # full matrix: Genz's estimator against scipy's (its own mvn algorithm)
    scipy_kde = st.gaussian_kde(x.T, weights=w)
    kde = KDE(x, "gaussian", scipy_kde.covariance, weights=w)
    got = kde.integrate_box(low, high, key=jax.random.key(0), num_samples=20_000)
    np.testing.assert_allclose(float(got), scipy_kde.integrate_box(low, high), rtol=5e-3)


def test_leave_one_out_against_numpy(float64):
    x, rng = _data(60, 2, seed=10)
    w = rng.uniform(0.2, 1.0, 60)
    h = np.array([0.4, 0.7])
    got = np.asarray(KDE(x, "gaussian", h, weights=w).leave_one_out_logpdf())
    dens = np.prod(st.norm.pdf((x[:, None, :] - x[None, :, :]) / h) / h, axis=2)
    np.fill_diagonal(dens, 0.0)
    expected = np.log(dens @ w / (w.sum() - w))
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_small_blocks_and_sharding_agree(float64):
    x, rng = _data(1000, 3, seed=11)
    q = rng.normal(size=(301, 3))
    reference = np.asarray(KDE(x, "gaussian", 0.5).logpdf(q))
    tiny = KDE(x, "gaussian", 0.5, query_block=7, data_block=13)  # padding on both sides
    np.testing.assert_allclose(np.asarray(tiny.logpdf(q)), reference, rtol=1e-12)
    mesh = data_mesh()
    assert mesh.size == 8
    np.testing.assert_allclose(np.asarray(tiny.logpdf(q, mesh=mesh)), reference, rtol=1e-12)


def test_gradients_against_closed_form_and_differences(float64):
    x, rng = _data(80, 2, seed=12)
    q = rng.normal(size=2)

    def log_density(h, point):
        return KDE(x, "gaussian", h).logpdf(point)

    # d/dq log ρ̂ = Σ_i p_i (y_i − q)/h², p_i the normalised kernel weights (NumPy)
    h = 0.6
    terms = -np.sum((q - x) ** 2, axis=1) / (2 * h * h)
    p = np.exp(terms - terms.max())
    p /= p.sum()
    expected = p @ (x - q) / h**2
    np.testing.assert_allclose(np.asarray(jax.grad(log_density, argnums=1)(h, q)), expected,
                               rtol=1e-10)
    # bandwidth and data gradients against central differences
    eps = 1e-6
    fd = (log_density(h + eps, q) - log_density(h - eps, q)) / (2 * eps)
    np.testing.assert_allclose(float(jax.grad(log_density)(h, q)), float(fd), rtol=1e-6)
    gx = jax.grad(lambda data: KDE(data, "gaussian", h).logpdf(q))(jnp.asarray(x))
    bump = np.zeros_like(x)
    bump[3, 1] = eps
    fd = (KDE(x + bump, "gaussian", h).logpdf(q) - KDE(x - bump, "gaussian", h).logpdf(q)) / (
        2 * eps)
    np.testing.assert_allclose(float(gx[3, 1]), float(fd), rtol=1e-6)


def test_jit_vmap_and_compiles_once():
    x = jnp.asarray(_data(200, 2, seed=13)[0], jnp.float32)

    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def f(h, q):
        return KDE(x, "gaussian", h).logpdf(q)

    q = jnp.zeros((10, 2))
    a = f(jnp.asarray(0.5), q)
    f(jnp.asarray(0.7), q + 1.0)  # new values, same shapes: no retrace
    assert a.dtype == jnp.float32 and a.shape == (10,)
    batched = jax.vmap(lambda h: KDE(x, "gaussian", h).logpdf(q))(jnp.array([0.5, 0.7]))
    np.testing.assert_allclose(batched[0], a, rtol=1e-5)


def test_query_shapes():
    kde = KDE(np.arange(5.0), "gaussian", 1.0)
    assert kde.logpdf(np.array([0.0, 1.0, 2.0])).shape == (3,)   # d = 1: m points
    assert kde.logpdf(0.5).shape == ()
    kde2 = KDE(np.ones((5, 2)) * np.arange(5.0)[:, None], "gaussian", jnp.array([1.0, 2.0]))
    assert kde2.logpdf(np.zeros(2)).shape == ()                   # one point
    assert kde2.logpdf(np.zeros((4, 2))).shape == (4,)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: KDE(np.array([[0.0], [np.nan]])),
     r"KDE: data must be finite, got .*nan.* at index \(1, 0\)"),
    (lambda: KDE(np.zeros((3, 2)), "gaussian", 0.0), r"bandwidth must be positive"),
    (lambda: KDE(np.zeros((3, 2)), "gaussian", -1.0), r"bandwidth must be positive"),
    (lambda: KDE(np.zeros((3, 2)), "gaussian", np.array([1.0, 0.0])),
     r"diagonal bandwidth must be positive"),
    (lambda: KDE(np.zeros((3, 2)), "gaussian", np.ones((3, 3))),
     r"bandwidth must be a scalar, a vector of shape \(2,\) or a matrix of shape \(2, 2\)"),
    (lambda: KDE(np.zeros((3, 2)), "gaussian", np.array([[1.0, 1.0], [1.0, 1.0]])),
     r"positive definite"),
    (lambda: gaussian_kde(np.stack([np.arange(5.0), 2 * np.arange(5.0)], 1)),
     r"positive definite.*singular"),
    (lambda: KDE(np.zeros((3, 2)), "gaussian", 1.0).logpdf(np.zeros((4, 3))),
     r"x must have shape \(m, 2\).*got shape \(4, 3\)"),
    (lambda: KDE(np.zeros((3, 2)), "parabolic"), r"kernel must be one of"),
    (lambda: KDE(np.zeros((3, 2)), weights=np.ones(4)), r"weights must be of shape \(3,\)"),
    (lambda: KDE(np.zeros((3, 2)), weights=-np.ones(3)),
     r"KDE: weights must be non-negative and finite, got .*-1\.0"),
    (lambda: KDE(np.zeros((3, 2)), weights=np.zeros(3)), r"positive sum"),
    (lambda: gaussian_kde(np.zeros((3, 2)), bandwidth="bogus"), r"bandwidth must be one of"),
    (lambda: KDE(np.zeros((3, 2)), "tophat").marginal([0]),
     r"KDE.marginal: kernel must be the Gaussian \(exact marginals need it\), got 'tophat'"),
    (lambda: KDE(np.zeros((3, 2))).marginal([0, 0]), r"dims must be distinct"),
    (lambda: KDE(np.eye(2), "gaussian", np.eye(2)).integrate_box(np.zeros(2), np.ones(2)),
     r"KDE.integrate_box: key must be given for a full bandwidth matrix"),
    (lambda: KDE(np.zeros((3, 2))).sample(0, key=jax.random.key(0)), r"n must be a positive"),
])
def test_bad_input(call, message, user_errors):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(("call", "message"), [
    (lambda: KDE(np.zeros((3, 2))).sample(2.5, key=jax.random.key(0)),
     r"KDE.sample: n must be a positive int, got 2\.5"),
    (lambda: KDE(np.zeros((3, 2))).sample(2, key=0), r"KDE.sample: key must be a PRNG key"),
    (lambda: Gaussian().sample(2, 3, key=None), r"Gaussian.sample: key must be a PRNG key"),
    (lambda: Cosine().sample(2, 0.5, key=jax.random.key(0)),
     r"Cosine.sample: d must be a positive int, got 0\.5"),
    (lambda: KDE(np.zeros((3, 2)), kernel=3), r"KDE: kernel must be one of .* got a int"),
    (lambda: KDE(np.zeros((3, 2)), query_block=2.0),
     r"KDE: query_block must be a positive int or None, got 2\.0"),
    (lambda: KDE(np.ones((3, 2), bool)), r"KDE: data must be a real array"),
    (lambda: lcv_bandwidth(np.zeros((3, 2)), throw=1), r"lcv_bandwidth: throw must be a bool"),
    (lambda: lscv_bandwidth(np.zeros((3, 2)), max_steps=5.0),
     r"lscv_bandwidth: max_steps must be a positive int, got 5\.0"),
])
def test_bad_input_types(call, message, user_errors):
    with pytest.raises(TypeError, match=message):
        call()


def test_weighted_covariance_is_numpy(float64):
    x, rng = _data(50, 3, seed=14)
    w = rng.uniform(0.1, 1.0, 50)
    np.testing.assert_allclose(np.asarray(weighted_covariance(x, w)), np.cov(x.T, aweights=w),
                               rtol=1e-12)
    np.testing.assert_allclose(np.asarray(scott_bandwidth(x, weights=w)),
                               st.gaussian_kde(x.T, weights=w).covariance, rtol=1e-12)


def _sq_mahalanobis(x, cov):
    """(x_i − x_j)ᵀ Σ⁻¹ (x_i − x_j) for every pair, computed once for the whole grid search."""
    diffs = x[:, None, :] - x[None, :, :]
    return np.einsum("ijk,kl,ijl->ij", diffs, np.linalg.inv(cov), diffs)


def _gaussian_kernel_matrix(m, cov, c2):
    """K_H(x_i − x_j) for the Gaussian kernel with H = c2·Σ, from m = _sq_mahalanobis(x, Σ)."""
    return np.exp(-0.5 * m / c2) / np.sqrt(np.linalg.det(2 * np.pi * c2 * cov))


def _numpy_loo_loglik(m, cov, factor):
    """Mean leave-one-out log-likelihood for the Gaussian kernel with H = factor²·Σ."""
    n = len(m)
    k = _gaussian_kernel_matrix(m, cov, factor**2)
    np.fill_diagonal(k, 0.0)
    return np.mean(np.log(k.sum(axis=1) / (n - 1)))


def _numpy_lscv(m, cov, factor):
    n = len(m)
    square = _gaussian_kernel_matrix(m, cov, 2 * factor**2).sum() / n**2
    k = _gaussian_kernel_matrix(m, cov, factor**2)
    np.fill_diagonal(k, 0.0)
    return square - 2 * np.mean(k.sum(axis=1) / (n - 1))


def test_cross_validation_against_grid_search(float64, caplog):
    rng = np.random.default_rng(15)
    x = np.concatenate([rng.normal(-2, 0.5, (150, 2)), rng.normal(1.5, 1.0, (150, 2))])
    cov = np.cov(x.T)
    m = _sq_mahalanobis(x, cov)
    factors = np.exp(np.linspace(np.log(0.05), np.log(1.5), 300))
    lcv = lcv_bandwidth(x)
    best = factors[np.argmax([_numpy_loo_loglik(m, cov, c) for c in factors])]
    assert bool(lcv.converged)
    np.testing.assert_allclose(float(lcv.factor), best, rtol=0.015)  # grid spacing 1.1%
    np.testing.assert_allclose(-float(lcv.objective),
                               _numpy_loo_loglik(m, cov, float(lcv.factor)), rtol=1e-10)
    lscv = lscv_bandwidth(x)
    best = factors[np.argmin([_numpy_lscv(m, cov, c) for c in factors])]
    assert bool(lscv.converged)
    np.testing.assert_allclose(float(lscv.factor), best, rtol=0.015)
    np.testing.assert_allclose(float(lscv.objective),
                               _numpy_lscv(m, cov, float(lscv.factor)), rtol=1e-10)
    kde = gaussian_kde(x, bandwidth="lcv")
    np.testing.assert_allclose(np.asarray(kde.bandwidth_matrix), np.asarray(lcv.bandwidth),
                               rtol=1e-10)
    # new data of the same shape reuse the compiled optimiser (each call used to build a new
    # objective closure, and optimistix recompiled: 3.5 s per call)
    with jax.log_compiles(), caplog.at_level("WARNING", logger="jax"):
        lcv_bandwidth(x[::-1] * 1.1)
        lscv_bandwidth(x[::-1] * 1.1)
    assert not [r for r in caplog.records if "_cross_validate" in r.getMessage()]
    with jax.log_compiles(), caplog.at_level("WARNING", logger="jax"):
        # a new shape compiles: the check above can fail; one BFGS step cannot meet the
        # tolerance: the status says why, and throw=True raises it
        short = lscv_bandwidth(x[:-1], max_steps=1, throw=False)
    assert [r for r in caplog.records if "_cross_validate" in r.getMessage()]
    assert isinstance(short, CrossValidationResult)
    assert short.status == RESULTS.nonlinear_max_steps_reached and not bool(short.converged)
    assert bool(jnp.isfinite(short.factor))
    with pytest.raises(eqx.EquinoxRuntimeError, match=r"lscv_bandwidth: .*maximum number of "
                                                      r"steps"):
        lscv_bandwidth(x[:-1], max_steps=1)

