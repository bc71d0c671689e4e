"""Kernel EDMD against the formula of Williams, Rowley & Kevrekidis, the general-SVD route,
polynomial invariants and validation residuals."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import koopman as kp

from .test_edmd import B, _linear_pairs, _nonlinear_pairs


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
    # the default lengthscale is the median pairwise distance (NumPy reference)
    dist = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))[np.triu_indices(120, 1)]
    auto = kp.kernel_edmd(x, y, "gaussian", rank=12)
    assert float(auto.dictionary.lengthscale) == pytest.approx(np.median(dist), rel=1e-12)


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
    # the Laplacian features equal exp(−‖x − z‖/ℓ) at the k-means landmarks (NumPy)
    z, ls = np.asarray(res.dictionary.landmarks), float(res.dictionary.lengthscale)
    np.testing.assert_allclose(np.asarray(res.dictionary(x[:5])),
                               np.exp(-np.linalg.norm(x[:5, None] - z[None], axis=-1) / ls),
                               rtol=1e-12)
    val = kp.resdmd(res, xv, yv)
    assert val.residuals.shape == res.residuals.shape
    # Training residuals are optimistic: on average no larger than the validation ones.
    assert float(jnp.mean(res.residuals)) <= float(jnp.mean(val.residuals)) + 1e-3
    # resdmd on the training data reproduces edmd's own residuals.
    np.testing.assert_allclose(np.asarray(kp.resdmd(res, x, y).residuals),
                               np.asarray(res.residuals), atol=1e-9)


def test_kernel_edmd_float32_and_jit():
    x, y = _nonlinear_pairs(m=80, seed=2)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    lam = eqx.filter_jit(lambda a, b: kp.kernel_edmd(a, b, "gaussian", lengthscale=0.8,
                                                     landmarks=a[:20], rank=10).eigenvalues)
    ref = kp.kernel_edmd(x32, y32, "gaussian", lengthscale=0.8, landmarks=x32[:20], rank=10)
    assert ref.eigenvalues.dtype == jnp.complex64 and ref.dictionary.landmarks.dtype == np.float32
    np.testing.assert_allclose(np.sort_complex(np.asarray(lam(x32, y32))),
                               np.sort_complex(np.asarray(ref.eigenvalues)), atol=1e-4)


def test_bad_kernel_input_is_named(user_errors):
    x, y = _linear_pairs(m=50)
    with pytest.raises(ValueError, match=r"kernel_edmd: kernel must be one of 'gaussian', "
                                         r"'laplacian', 'polynomial', got 'cauchy'"):
        kp.kernel_edmd(x, y, "cauchy")
    with pytest.raises(ValueError, match=r"kernel_edmd: key must be a PRNG key when "
                                         r"landmarks=<int>"):
        kp.kernel_edmd(x, y, landmarks=5)
    with pytest.raises(TypeError, match=r"kernel_edmd: degree must be a positive int, got 2.0"):
        kp.kernel_edmd(x, y, "polynomial", degree=2.0)
    with pytest.raises(ValueError, match=r"kernel_edmd: landmarks must be of shape \(\?, 2\)"):
        kp.kernel_edmd(x, y, landmarks=np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"kernel_edmd: lengthscale must be a positive finite "
                                         r"number, got -1.0"):
        kp.kernel_edmd(x, y, lengthscale=-1.0)
    with pytest.raises(TypeError, match=r"kernel_edmd: x must be real"):
        kp.kernel_edmd(x + 0j, y)
    with pytest.raises(ValueError, match=r"kernel_edmd: num_centres must be an int in 1..50"):
        kp.kernel_edmd(x, y, landmarks=60, key=jax.random.key(0))
