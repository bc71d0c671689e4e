"""DMD against closed forms and PyDMD; forecasts by Koopman mode decomposition."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import koopman as kp


def _rotations(radius, theta, seed=3):
    """A 4 × 4 real map with eigenvalues radius·e^{±iθ}, hidden by a random rotation."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    blocks = np.zeros((4, 4))
    for k in range(2):
        c, s = np.cos(theta[k]), np.sin(theta[k])
        blocks[2 * k: 2 * k + 2, 2 * k: 2 * k + 2] = radius[k] * np.array([[c, -s], [s, c]])
    a = q @ blocks @ q.T
    traj = [rng.normal(size=4)]
    for _ in range(60):
        traj.append(a @ traj[-1])
    return np.array(traj)


def test_dmd_recovers_complex_eigenvalues_and_forecasts(float64):
    theta, radius = np.array([0.3, 1.1]), np.array([0.97, 0.8])
    traj = _rotations(radius, theta)
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
    # eigenfunctions evolve by their eigenvalues: φ_j(x_{n+1}) = λ_j φ_j(x_n)
    phi = np.asarray(kp.eigenfunctions(res, traj[:2]))
    np.testing.assert_allclose(phi[1], np.asarray(res.eigenvalues) * phi[0], atol=1e-9)


def test_predict_and_eigenfunctions_under_jit_and_vmap(float64):
    traj = _rotations(np.array([0.97, 0.8]), np.array([0.3, 1.1]))
    res = kp.dmd(traj[:-1], traj[1:])
    starts = traj[:3]
    batched = kp.predict(res, starts, 5)                            # (6, 3, 4)
    mapped = eqx.filter_jit(jax.vmap(lambda r, s: kp.predict(r, s, 5), in_axes=(None, 0),
                                     out_axes=1))(res, starts)
    np.testing.assert_allclose(np.asarray(mapped), np.asarray(batched), atol=1e-12)
    for i in range(3):
        np.testing.assert_allclose(np.asarray(batched[:, i]), traj[i: i + 6], atol=1e-9)
    phi = np.asarray(eqx.filter_jit(kp.eigenfunctions)(res, starts))   # φ(x_{n+1}) = λφ(x_n)
    np.testing.assert_allclose(phi[1:], np.asarray(res.eigenvalues) * phi[:-1], atol=1e-9)
    # dmd itself under jit, with the rank given (it cannot be chosen from traced data)
    lam = eqx.filter_jit(lambda x, y: kp.dmd(x, y, rank=4).eigenvalues)(traj[:-1], traj[1:])
    np.testing.assert_allclose(np.sort_complex(np.asarray(lam)),
                               np.sort_complex(np.asarray(res.eigenvalues)), atol=1e-10)


def test_integer_snapshots_are_promoted():
    x = np.arange(12).reshape(6, 2) % 5
    y = (2 * x) % 7
    res = kp.dmd(x, y)
    assert res.eigenvalues.dtype == jnp.complex64
    ref = kp.dmd(x.astype(np.float32), y.astype(np.float32))
    np.testing.assert_allclose(np.asarray(res.eigenvalues), np.asarray(ref.eigenvalues))


def _noisy_trajectory():
    rng = np.random.default_rng(7)
    a = np.array([[0.9, -0.3, 0.1, 0.0], [0.3, 0.9, 0.0, 0.1], [0.0, 0.1, 0.7, 0.0],
                  [0.05, 0.0, 0.0, 0.5]])
    traj = [rng.normal(size=4)]
    for _ in range(40):
        traj.append(a @ traj[-1] + 0.05 * rng.normal(size=4))
    return np.array(traj)


@pytest.mark.parametrize("rank", [2, 3])
def test_dmd_eigenvalues_equal_exact_dmd_in_numpy(float64, rank):
    """Exact DMD (Tu et al. 2014) written out: X = UΣV* truncated to rank r, Ã = U*YVΣ⁻¹."""
    traj = _noisy_trajectory()
    x, y = traj[:-1].T, traj[1:].T
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    u, s, v = u[:, :rank], s[:rank], vh[:rank].conj().T
    ref = np.linalg.eigvals(u.conj().T @ y @ v / s)
    ours = kp.dmd(traj[:-1], traj[1:], rank=rank)
    np.testing.assert_allclose(np.sort_complex(np.asarray(ours.eigenvalues)),
                               np.sort_complex(ref), atol=1e-10)


@pytest.mark.slow  # importing PyDMD costs ~2 s; the NumPy exact-DMD check above is the default
@pytest.mark.parametrize("rank", [2, 3])
def test_dmd_eigenvalues_agree_with_pydmd(float64, rank):
    import pydmd  # dev extra: a missing PyDMD fails the test, never skips it
    traj = _noisy_trajectory()
    ref = pydmd.DMD(svd_rank=rank)
    ref.fit(traj.T)
    ours = kp.dmd(traj[:-1], traj[1:], rank=rank)
    np.testing.assert_allclose(np.sort_complex(np.asarray(ours.eigenvalues)),
                               np.sort_complex(ref.eigs), atol=1e-8)


def test_bad_dmd_input_is_named(float64, user_errors):
    x = np.random.default_rng(0).uniform(-1, 1, (50, 2))
    with pytest.raises(ValueError, match=r"dmd: rank must be an int in 1..min\(m, N\) = 1..2"):
        kp.dmd(x, x, rank=3)
    with pytest.raises(TypeError, match=r"dmd: rank must be an int in 1..min\(m, N\) = 1..2 .*"
                                        r"got 1.5"):
        kp.dmd(x, x, rank=1.5)
    with pytest.raises(ValueError, match=r"dmd: y must be of shape \(50, 2\)"):
        kp.dmd(x, x[:-1])
    res = kp.dmd(x, x)
    with pytest.raises(ValueError, match=r"predict: steps must be a non-negative int, got -1"):
        kp.predict(res, x[0], -1)
    with pytest.raises(ValueError, match=r"predict: x0 must be of shape \(\.\.\., 2\)"):
        kp.predict(res, np.zeros(3), 2)
    with pytest.raises(TypeError, match=r"predict: result must be a KoopmanResult"):
        kp.predict(x, x[0], 2)
    with pytest.raises(ValueError, match=r"eigenfunctions: x must be of shape \(\.\.\., 2\)"):
        kp.eigenfunctions(res, np.zeros((4, 3)))
