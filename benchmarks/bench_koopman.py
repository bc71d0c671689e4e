"""jaxlab.koopman against PyDMD 2025.8, kooplearn 2.0.3 and a SciPy loop, float64, same data.

1. **DMD** (`kp.dmd(x, y, rank=r)`) vs `pydmd.DMD(svd_rank=r).fit`: a d-dimensional
   trajectory of a rank-r linear system (r/2 rotations with |λ| ∈ [0.9995, 1], embedded by a
   random orthonormal d × r map) plus 10⁻³ measurement noise. Both compute exact DMD with the
   same rank-r SVD truncation (Tu et al. 2014), so the eigenvalues must agree to 1e-8.
   PyDMD's `fit` also computes the condition number of the snapshot matrix (a second SVD)
   and the amplitudes; jaxlab's `dmd` also computes the residual of every eigenpair and the
   Koopman modes. Each side does what its `fit` / `dmd` call does.
2. **Kernel EDMD vs `pydmd.EDMD`**: PyDMD's `EDMD` *is* kernel EDMD (Williams, Rowley &
   Kevrekidis 2015): G = k(X, X) eigendecomposed (with `np.linalg.eig`), K̂ =
   Σ⁺Qᵀ k(Y, X) QΣ⁺ truncated to `svd_rank`. jaxlab's `kernel_edmd` computes the same Galerkin
   matrix (up to similarity) from an SVD of k(X, X), so with the same Gaussian kernel
   (sklearn `rbf`, γ = 1/(2ℓ²)) and rank the eigenvalues must agree; checked to 1e-8.
3. **Kernel EDMD vs kooplearn `KernelRidge(reduced_rank=False)`** (principal component
   regression, kooplearn's kernel DMD): eigh of k(X, X), top r eigenpairs, K̂ =
   Λ^{-1/2}Qᵀ k(Y, X) QΛ^{-1/2} — the same matrix as (2). With `alpha=None` (no Tikhonov term;
   any α > 0 shifts Λ by mα and so changes the eigenvalues) the eigenvalues agree; checked to
   1e-8. kooplearn is timed with its dense solver (what `eigen_solver="auto"` picks for
   r ≥ 10) and with ARPACK (top r + 5 eigenpairs only). kooplearn's `fit` also builds k(Y, Y),
   which PCR does not use. kooplearn's default `reduced_rank=True` is a different estimator
   (reduced-rank regression) and is not compared.
   **Nyström**: jaxlab `kernel_edmd(landmarks=Z)` (EDMD with the dictionary k(·, z_j)) vs
   kooplearn `NystroemKernelRidge(reduced_rank=False)` with the same centres Z (kooplearn
   draws them at random, with replacement; jaxlab gets the distinct ones). The formulations
   differ — kooplearn (Meanti et al. 2023) projects the *output* onto the span of k(·, ỹ_j) at
   the images ỹ_j = F(z_j) of the centres, solves a ridge-regularised (α ≥ 1000ε) generalised
   eigenproblem, and truncates in the RKHS metric, while EDMD evaluates k(y_i, z_j) on all data
   and truncates in coefficient space — so the leading eigenvalues differ (by ~0.1 here) and
   only time is compared.
4. **Pseudospectrum**: τ_N(z) for a N = 500 random-Fourier dictionary (d = 8, m = 5000 pairs
   of a random tanh map; the Gram matrix has condition ≈ 6·10⁴, so r = N = 500), on a 200 × 200
   grid. Peer: the plain SciPy loop over z of `scipy.linalg.eigh(L − zA* − z̄A + |z|²G, G,
   eigvals_only=True, subset_by_index=[0, 0])` with G, A, L from `kp.gram_matrices`. The loop
   would take hours on the full grid, so both sides are timed on the same fixed random subset
   of `SUBSET` grid points (per-point ratio) and τ is checked there (rtol 1e-6). The full grid
   (40 000 points) is timed for jaxlab only when `JAXLAB_BENCH_FULL_GRID=1` (it is
   40 000 × the per-point cost, ~O(r³) each); otherwise its time is extrapolated from the
   subset and labelled so in `extra_info`.

Ratios are peer time / jaxlab time (> 1: jaxlab faster); compile time (the first call) is
reported separately. jaxlab is called on NumPy inputs, as a user would.
"""

import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from scipy.optimize import linear_sum_assignment

from jaxlab import koopman as kp

from ._timing import best_of, compile_time, record

jax.config.update("jax_enable_x64", True)

LENGTHSCALE = 0.5                       # Gaussian kernel ℓ (sklearn rbf γ = 1 / (2ℓ²))
KERNEL_RANK = 20
SUBSET = 200                            # grid points of the pseudospectrum peer comparison
FULL_GRID = os.environ.get("JAXLAB_BENCH_FULL_GRID", "") == "1"


def _load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def _eig_diff(a, b) -> float:
    """Max |a_i − b_π(i)| over the best matching π (the same multiset of eigenvalues).

    Plain `np.sort_complex` is not robust here: a conjugate pair λ, λ̄ whose real parts
    differ by round-off is ordered either way, which would report a spurious 2|Im λ|.
    """
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    cost = np.abs(a[:, None] - b[None, :])
    i, j = linear_sum_assignment(cost)
    return float(cost[i, j].max())


# ----------------------------------------------------------------------------- data

def _linear_trajectory(d, m, r, seed=0, noise=1e-3):
    """m + 1 snapshots (rows) of a rank-r linear system in R^d plus measurement noise."""
    rng = np.random.default_rng(seed)
    blocks = np.zeros((r, r))
    for k in range(r // 2):
        theta, radius = rng.uniform(0.05, 1.5), rng.uniform(0.9995, 1.0)
        c, s = np.cos(theta), np.sin(theta)
        blocks[2 * k: 2 * k + 2, 2 * k: 2 * k + 2] = radius * np.array([[c, -s], [s, c]])
    embed, _ = np.linalg.qr(rng.normal(size=(d, r)))
    z = np.empty((m + 1, r))
    z[0] = rng.normal(size=r)
    for t in range(m):
        z[t + 1] = blocks @ z[t]
    return z @ embed.T + noise * rng.normal(size=(m + 1, d))


def _henon(m, seed=0):
    """m + 1 points of a Hénon-map trajectory (a = 1.4, b = 0.3) on its attractor."""
    rng = np.random.default_rng(seed)
    x = np.empty((m + 101, 2))
    x[0] = rng.uniform(-0.1, 0.1, 2)
    for t in range(m + 100):
        x[t + 1] = (1.0 - 1.4 * x[t, 0] ** 2 + x[t, 1], 0.3 * x[t, 0])
    return x[100:]


def _tanh_pairs(m, d, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(d, d)) * 1.2 / np.sqrt(d)
    x = rng.uniform(-1.0, 1.0, (m, d))
    return x, np.tanh(x @ w.T + 0.1)


# ----------------------------------------------------------------------------- 1. DMD

@pytest.mark.parametrize(("d", "m", "r"), [(64, 2000, 10), (128, 5000, 16), (256, 10000, 20)])
def test_dmd_vs_pydmd(benchmark, d, m, r):
    import pydmd

    traj = _linear_trajectory(d, m, r)
    x, y = traj[:-1], traj[1:]

    def ours():
        return kp.dmd(x, y, rank=r).eigenvalues

    compile_s = compile_time(ours)
    lam = benchmark.pedantic(lambda: jax.block_until_ready(ours()), rounds=5)
    peer = pydmd.DMD(svd_rank=r).fit(traj.T)
    peer_s = best_of(lambda: pydmd.DMD(svd_rank=r).fit(traj.T).eigs, repeat=5)
    diff = _eig_diff(lam, peer.eigs)
    record(benchmark, peer_name="PyDMD DMD", peer_s=peer_s, compile_s=compile_s, d=d, m=m,
           rank=r, max_eig_diff=diff, load=_load())
    print(f"  max |Δλ| vs PyDMD {diff:.1e}; load {_load()}")
    assert diff < 1e-8


# ----------------------------------------------------------------------------- 2. kernel EDMD

@pytest.mark.parametrize("m", [1000, 2000])
def test_kernel_edmd_vs_pydmd_edmd(benchmark, m):
    import pydmd

    traj = _henon(m)
    x, y = traj[:-1], traj[1:]
    gamma = 1.0 / (2 * LENGTHSCALE**2)

    def ours():
        return kp.kernel_edmd(x, y, "gaussian", lengthscale=LENGTHSCALE,
                              rank=KERNEL_RANK).eigenvalues

    def peer():
        return pydmd.EDMD(svd_rank=KERNEL_RANK, kernel_metric="rbf",
                          kernel_params={"gamma": gamma}).fit(traj.T).eigs

    compile_s = compile_time(ours)
    lam = benchmark.pedantic(lambda: jax.block_until_ready(ours()), rounds=2)
    peer_s = best_of(peer, repeat=2)
    diff = _eig_diff(lam, peer())
    record(benchmark, peer_name="PyDMD EDMD (kernel, rbf)", peer_s=peer_s, compile_s=compile_s,
           m=m, rank=KERNEL_RANK, lengthscale=LENGTHSCALE, max_eig_diff=diff, load=_load())
    print(f"  max |Δλ| vs PyDMD EDMD {diff:.1e}; load {_load()}")
    assert diff < 1e-8


# ----------------------------------------------------------------------------- 3. kooplearn

@pytest.mark.parametrize("m", [1000, 2000])
def test_kernel_edmd_vs_kooplearn(benchmark, m):
    from kooplearn.kernel import KernelRidge

    traj = _henon(m)
    x, y = traj[:-1], traj[1:]
    gamma = 1.0 / (2 * LENGTHSCALE**2)

    def ours():
        return kp.kernel_edmd(x, y, "gaussian", lengthscale=LENGTHSCALE,
                              rank=KERNEL_RANK).eigenvalues

    def peer(solver):
        model = KernelRidge(n_components=KERNEL_RANK, reduced_rank=False, kernel="rbf",
                            gamma=gamma, alpha=None, eigen_solver=solver, random_state=0)
        return model.fit(traj).eig()

    compile_s = compile_time(ours)
    lam = benchmark.pedantic(lambda: jax.block_until_ready(ours()), rounds=2)
    dense_s = best_of(peer, "dense", repeat=2)
    arpack_s = best_of(peer, "arpack", repeat=2)
    diff_dense, diff_arpack = _eig_diff(lam, peer("dense")), _eig_diff(lam, peer("arpack"))
    record(benchmark, peer_name="kooplearn KernelRidge PCR (dense eigh)", peer_s=dense_s,
           compile_s=compile_s, m=m, rank=KERNEL_RANK, lengthscale=LENGTHSCALE,
           kooplearn_arpack_s=arpack_s, speedup_vs_arpack=arpack_s / benchmark.stats.stats.min,
           max_eig_diff_dense=diff_dense, max_eig_diff_arpack=diff_arpack, load=_load())
    print(f"  kooplearn ARPACK {arpack_s * 1e3:.1f} ms "
          f"({arpack_s / benchmark.stats.stats.min:.2f}x); max |Δλ| dense {diff_dense:.1e}, "
          f"arpack {diff_arpack:.1e}; load {_load()}")
    assert diff_dense < 1e-8 and diff_arpack < 1e-8


@pytest.mark.parametrize(("m", "n"), [(10000, 500)])
def test_nystrom_kernel_edmd_vs_kooplearn(benchmark, m, n):
    from kooplearn.kernel import NystroemKernelRidge

    traj = _henon(m)
    x, y = traj[:-1], traj[1:]
    gamma = 1.0 / (2 * LENGTHSCALE**2)

    def peer():
        model = NystroemKernelRidge(n_components=KERNEL_RANK, reduced_rank=False, kernel="rbf",
                                    gamma=gamma, alpha=1e-12, eigen_solver="dense",
                                    n_centers=n, random_state=0)
        model.fit(traj)
        return model, model.eig()

    model, peer_lam = peer()
    landmarks = np.unique(x[model.nys_centers_idxs_], axis=0)   # kooplearn's centres, distinct

    def ours():
        return kp.kernel_edmd(x, y, "gaussian", lengthscale=LENGTHSCALE, landmarks=landmarks,
                              rank=KERNEL_RANK).eigenvalues

    def ours_kmeans():
        return kp.kernel_edmd(x, y, "gaussian", lengthscale=LENGTHSCALE, landmarks=n,
                              key=jax.random.key(0), rank=KERNEL_RANK).eigenvalues

    compile_s = compile_time(ours)
    lam = benchmark.pedantic(lambda: jax.block_until_ready(ours()), rounds=3)
    peer_s = best_of(lambda: peer()[1], repeat=3)
    compile_time(ours_kmeans)
    kmeans_s = best_of(ours_kmeans, repeat=3)
    top = np.sort(np.abs(np.asarray(lam)))[::-1][:4]
    peer_top = np.sort(np.abs(peer_lam))[::-1][:4]
    record(benchmark, peer_name="kooplearn NystroemKernelRidge PCR (dense)", peer_s=peer_s,
           compile_s=compile_s, m=m, centres=n, distinct_centres=landmarks.shape[0],
           rank=KERNEL_RANK, jaxlab_kmeans_landmarks_s=kmeans_s,
           top_abs_eigs_jaxlab=top.tolist(), top_abs_eigs_kooplearn=peer_top.tolist(),
           eigenvalues_compared=False, load=_load())
    print(f"  jaxlab with {n} k-means landmarks {kmeans_s * 1e3:.1f} ms; top |λ| jaxlab "
          f"{np.round(top, 4)}, kooplearn {np.round(peer_top, 4)} (different estimators, not "
          f"compared); load {_load()}")


# ----------------------------------------------------------------------------- 4. pseudospectrum

def test_pseudospectrum_vs_scipy_loop(benchmark):
    x, y = _tanh_pairs(5000, 8)
    dictionary = kp.RandomFourier(8, 500, 1.0, key=jax.random.key(0))
    result = kp.edmd(x, y, dictionary)
    assert result.rank == 500                        # no truncation: same pencil as SciPy's
    g, a, l_ = (np.asarray(v) for v in kp.gram_matrices(dictionary, x, y))
    grid = kp.complex_grid((-1.2, 1.2), (-1.2, 1.2), 2.4 / 199)
    assert grid.shape == (200, 200)
    flat = np.asarray(grid).reshape(-1)
    subset = jnp.asarray(flat[np.random.default_rng(1).choice(flat.size, SUBSET, replace=False)])

    def scipy_loop(points):
        out = np.empty(points.shape[0])
        for k, z in enumerate(points):
            pencil = l_ - z * a.conj().T - np.conj(z) * a + abs(z) ** 2 * g
            out[k] = np.sqrt(max(scipy.linalg.eigh(pencil, g, eigvals_only=True,
                                                   subset_by_index=[0, 0])[0], 0.0))
        return out

    compile_s = compile_time(lambda: kp.pseudospectrum(result, subset))
    tau = benchmark.pedantic(lambda: jax.block_until_ready(kp.pseudospectrum(result, subset)),
                             rounds=2)
    ours_s = benchmark.stats.stats.min
    compile_svd_s = compile_time(lambda: kp.pseudospectrum(result, subset, method="svd"))
    svd_s = best_of(lambda: kp.pseudospectrum(result, subset, method="svd"), repeat=1)
    tau_svd = np.asarray(kp.pseudospectrum(result, subset, method="svd"))
    start = time.perf_counter()
    ref = scipy_loop(np.asarray(subset))
    peer_s = time.perf_counter() - start
    err = float(np.max(np.abs(np.asarray(tau) - ref) / ref))
    err_svd = float(np.max(np.abs(tau_svd - ref) / ref))

    if FULL_GRID:
        start = time.perf_counter()
        jax.block_until_ready(kp.pseudospectrum(result, grid))
        full_s, full_kind = time.perf_counter() - start, "measured"
    else:
        full_s, full_kind = ours_s * flat.size / SUBSET, "extrapolated from the subset"
    cond_g = float(np.linalg.cond(g))
    record(benchmark, peer_name=f"SciPy eigh loop ({SUBSET} points)", peer_s=peer_s,
           compile_s=compile_s, rank=result.rank, points=SUBSET, method="auto (inverse)",
           per_point_jaxlab_ms=ours_s / SUBSET * 1e3, per_point_scipy_ms=peer_s / SUBSET * 1e3,
           svd_s=svd_s, svd_compile_s=compile_svd_s, speedup_svd_vs_peer=peer_s / svd_s,
           full_grid_points=flat.size, full_grid_jaxlab_s=full_s, full_grid_time=full_kind,
           max_rel_err_tau=err, max_rel_err_tau_svd=err_svd, gram_condition=cond_g, load=_load())
    print(f"  per point: jaxlab auto {ours_s / SUBSET * 1e3:.1f} ms, svd {svd_s / SUBSET * 1e3:.1f}"
          f" ms ({peer_s / svd_s:.2f}x), SciPy {peer_s / SUBSET * 1e3:.1f} ms; full 200x200 grid "
          f"jaxlab {full_s:.0f} s ({full_kind}); max rel |Δτ| {err:.1e} (svd {err_svd:.1e}); "
          f"load {_load()}")
    assert err < 1e-6 and err_svd < 1e-6
