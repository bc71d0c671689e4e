"""Pseudospectra, verified spectra with error certificates, and spectral measures."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Complex, Float, Inexact

from .._core.checks import shape_str
from ._edmd import KoopmanResult

__all__ = ["VerifiedSpectrum", "complex_grid", "ergodic_moments", "moment_spectral_measure",
           "pseudospectrum", "spectral_measure", "spectral_measure_kernel", "verified_spectrum"]


def _check_result(owner, result):
    if not isinstance(result, KoopmanResult):
        raise TypeError(f"{owner}: result must be a KoopmanResult (from edmd, dmd or "
                        f"kernel_edmd), got {type(result).__name__}")


def _tau_one(galerkin, outside, gram_l, start, z, method, iterations):
    r = galerkin.shape[0]
    eye = jnp.eye(r, dtype=z.dtype)
    shifted = galerkin - z * eye
    if method == "svd":
        stacked = jnp.concatenate([shifted, outside], axis=0)                     # (2r, r)
        return jnp.linalg.svd(stacked, compute_uv=False)[-1]
    pencil = gram_l - z * galerkin.conj().T - jnp.conj(z) * galerkin + jnp.abs(z) ** 2 * eye
    pencil = 0.5 * (pencil + pencil.conj().T)
    if method == "eigh":
        return jnp.sqrt(jnp.maximum(jnp.linalg.eigvalsh(pencil)[0], 0.0))
    # Block inverse iteration on the pencil (one Cholesky factorisation per point), then a
    # Rayleigh–Ritz step on the unsquared stacked matrix: σ_min([Ã − z; R] V) for the
    # orthonormal block V is an upper bound on τ and accurate to round-off once V holds the
    # smallest singular vector.
    real = jnp.finfo(pencil.dtype).dtype
    shift = jnp.finfo(real).eps * r * jnp.real(jnp.trace(pencil)) / r
    chol = jnp.linalg.cholesky(pencil + shift * eye)

    def body(_, v):
        w = jax.scipy.linalg.solve_triangular(chol, v, lower=True)
        w = jax.scipy.linalg.solve_triangular(chol.conj().T, w, lower=False)
        return jnp.linalg.qr(w)[0]

    v = jax.lax.fori_loop(0, iterations, body, jnp.linalg.qr(start.astype(z.dtype))[0])
    stacked = jnp.concatenate([shifted @ v, outside @ v], axis=0)                 # (2r, k)
    return jnp.linalg.svd(stacked, compute_uv=False)[-1]      # NaN if Cholesky broke down


@eqx.filter_jit
def _tau(galerkin, outside, z, method, batch_size, block, iterations):
    cdt = z.dtype
    galerkin, outside = galerkin.astype(cdt), outside.astype(cdt)
    gram_l = galerkin.conj().T @ galerkin + outside.conj().T @ outside
    r = galerkin.shape[0]
    start = jax.random.normal(jax.random.key(0), (r, min(block, r)),
                              jnp.finfo(cdt).dtype).astype(cdt)
    return jax.lax.map(
        lambda zz: _tau_one(galerkin, outside, gram_l, start, zz, method, iterations), z,
        batch_size=batch_size)


def pseudospectrum(result: KoopmanResult, z: Inexact[ArrayLike, "*grid"], *,
                   method: str = "auto", measure_preserving: bool = False,
                   batch_size: int = 1, block: int = 8, iterations: int = 8
                   ) -> Float[Array, "*grid"]:
    """The pseudospectral indicator τ_N(z) = min_g res(z, g) on a set of points z.

    τ_N(z) = σ_min of the residual pencil, i.e. √λ_min(L − zA* − z̄A + |z|²G, G), computed
    in the whitened basis of `result` (r × r matrices, never the data) by one of:

    - `"svd"`: σ_min([Ã − zI; R]) — accurate down to round-off.
    - `"eigh"`: √λ_min((Ã − z)*(Ã − z) + R*R) — the route of the paper's QR algorithm;
      accurate to ~√ε·‖Ã‖ for tiny τ (λ_min is clamped at 0). On XLA:CPU a complex
      Hermitian `eigh` is slower than the 2r × r SVD, so this is offered for comparison.
    - `"inverse"`: block inverse iteration (`block` vectors, `iterations` steps, one
      Cholesky factorisation per point) followed by σ_min of the unsquared stacked matrix
      on the block — an upper bound on τ, equal to it to round-off once the block holds the
      smallest singular vector (relative error ~1e-9 after 8 steps in our tests; NaN from a
      Cholesky breakdown at τ ≈ 0 is recomputed with `"eigh"`). 2.5× faster than `"svd"`
      at r = 300 on CPU, and the gap grows with r.
    - `"auto"` (default): `"svd"` for r ≤ 64, else `"inverse"`.

    For large m,
    {z : τ_N(z) < ε} ⊆ Sp_ε(K) (no spurious points) and τ_N decreases to σ_inf(K − z) as the
    dictionary grows. Points are processed with `lax.map` in batches of `batch_size`.

    **Arguments:**

    - `result`: a `KoopmanResult`.
    - `z`: complex points, any shape (e.g. from `complex_grid`); real input is promoted.
    - `method`: `"auto"`, `"eigh"`, `"svd"` or `"inverse"`.
    - `block`, `iterations`: the block size and number of steps of `"inverse"`.
    - `measure_preserving`: return max(τ_N(z), |1 − |z||), valid when K is an isometry
      (σ_inf(K − z) ≥ |1 − |z||).
    - `batch_size`: points per vectorised batch (memory ~ batch_size·r²; on CPU 1 is
      fastest, batched LAPACK calls run one by one anyway).

    **Returns:** τ, real, the shape of `z`.

    **Raises:** `TypeError` for a non-result; `ValueError` for an unknown method or a
    non-positive batch size.

    **References:** Colbrook & Townsend (2024), Algorithm 2; Colbrook, Mezić & Stepanenko
    (2024), §2 (QR form).
    """
    _check_result("pseudospectrum", result)
    if method not in ("auto", "eigh", "svd", "inverse"):
        raise ValueError(f"pseudospectrum: method must be 'auto', 'eigh', 'svd' or 'inverse', "
                         f"got {method!r}")
    for name, v in (("block", block), ("iterations", iterations)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"pseudospectrum: {name} must be an int >= 1, got {v!r}")
    if method == "auto":
        method = "svd" if result.rank <= 64 else "inverse"
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"pseudospectrum: batch_size must be an int >= 1, got {batch_size!r}")
    cdt = result.eigenvalues.dtype
    z = jnp.asarray(z).astype(cdt)
    flat = z.reshape(-1)
    if flat.shape[0] == 0:
        return jnp.zeros(z.shape, jnp.finfo(cdt).dtype)
    tau = _tau(result.galerkin, result.outside, flat, method,
               min(batch_size, flat.shape[0]), block, iterations)
    if method == "inverse" and not isinstance(tau, jax.core.Tracer):
        bad = np.flatnonzero(~np.isfinite(np.asarray(tau)))
        if bad.size:                   # Cholesky breakdown (τ ≈ 0 to round-off): use eigh there
            fixed = _tau(result.galerkin, result.outside, flat[bad], "eigh",
                         min(batch_size, bad.size), block, iterations)
            tau = tau.at[bad].set(fixed)
    tau = tau.reshape(z.shape)
    if measure_preserving:
        tau = jnp.maximum(tau, jnp.abs(1.0 - jnp.abs(z)))
    return tau


def complex_grid(real: tuple[float, float], imag: tuple[float, float], spacing: float
                 ) -> Complex[Array, "ni nr"]:
    """A rectangular grid of complex points with the given spacing, shape `(n_imag, n_real)`
    (rows: imaginary part increasing; endpoints included when they fall on the grid)."""
    for name, b in (("real", real), ("imag", imag)):
        if len(b) != 2 or not b[0] <= b[1]:
            raise ValueError(f"complex_grid: {name} must be (low, high) with low <= high, got "
                             f"{b!r}")
    if not spacing > 0:
        raise ValueError(f"complex_grid: spacing must be positive, got {spacing!r}")
    xr = real[0] + spacing * np.arange(int(np.floor((real[1] - real[0]) / spacing + 1e-9)) + 1)
    xi = imag[0] + spacing * np.arange(int(np.floor((imag[1] - imag[0]) / spacing + 1e-9)) + 1)
    return jnp.asarray(xr[None, :] + 1j * xi[:, None])


class VerifiedSpectrum(eqx.Module):
    """The output of `verified_spectrum`.

    **Fields:** `eigenvalues` (the selected spectral points Λ_N, `(k,)`), `tau` (τ_N at
    them, `(k,)`), `certificate` (max τ over Λ_N: every point is within `certificate` of
    the approximate point pseudospectrum's ε-level, i.e. Λ_N ⊂ Sp_certificate(K) in the
    large-data limit), `grid` and `grid_tau` (the points searched and τ there).
    """

    eigenvalues: Complex[Array, " k"]
    tau: Float[Array, " k"]
    certificate: Float[Array, ""]
    grid: Complex[Array, "*grid"]
    grid_tau: Float[Array, "*grid"]


def verified_spectrum(result: KoopmanResult, grid: Complex[ArrayLike, "*grid"], *,
                      threshold: float = 1.0, radius: float = 5.0, refine: int = 12,
                      method: str = "auto", measure_preserving: bool = False,
                      conjugate_symmetric: bool | None = None) -> VerifiedSpectrum:
    """Spectrum selection with an error certificate (Colbrook, Mezić & Stepanenko).

    On a grid of points z: compute τ_N(z); for every grid point with τ_N(z) < `threshold`,
    take the grid point minimising τ_N over the disc |z' − z| < `radius`·τ_N(z); the union
    of these local minimisers is Λ_N and the certificate is max_{z∈Λ_N} τ_N(z). Each
    minimiser is then refined `refine` times by a pattern search (a 3 × 3 stencil of
    half-width h around the best point, h halved each round, starting at the grid spacing),
    which only lowers τ, so the certificate is still an upper bound for the selected points.
    As the dictionary grows the certificate → 0 and Λ_N → Sp(K), whereas EDMD's maximal
    residual need not decrease.

    **Arguments:**

    - `result`: a `KoopmanResult`.
    - `grid`: complex search points (any shape; `complex_grid` makes one).
    - `threshold`: only points with τ below this seed a search (the paper uses 1).
    - `radius`: the search disc is `radius`·τ(z) (5 in the reference script).
    - `refine`: pattern-search rounds (0 = grid points only).
    - `method`, `measure_preserving`: as in `pseudospectrum`.
    - `conjugate_symmetric`: mirror points found in the upper half plane (for real systems
      searched on a half grid); default: True when the eigenvalues come in conjugate pairs
      and the grid has no point with negative imaginary part.

    **Returns:** a `VerifiedSpectrum` (empty `eigenvalues` and certificate `nan` if no grid
    point has τ < threshold).

    **Raises:** `ValueError` for non-positive `threshold`/`radius`, negative `refine`, or a
    grid with fewer than 2 points.
    """
    _check_result("verified_spectrum", result)
    if not threshold > 0 or not radius > 0:
        raise ValueError(f"verified_spectrum: threshold and radius must be positive, got "
                         f"threshold={threshold!r}, radius={radius!r}")
    if not isinstance(refine, int) or refine < 0:
        raise ValueError(f"verified_spectrum: refine must be an int >= 0, got {refine!r}")
    grid = jnp.asarray(grid).astype(result.eigenvalues.dtype)
    if grid.size < 2:
        raise ValueError(f"verified_spectrum: grid needs at least 2 points, got shape "
                         f"{shape_str(grid)}")
    tau_grid = pseudospectrum(result, grid, method=method, measure_preserving=measure_preserving)
    zf = np.asarray(grid).reshape(-1)
    tf = np.asarray(tau_grid).reshape(-1)
    seeds = np.flatnonzero(tf < threshold)
    chosen = set()
    for start in range(0, seeds.shape[0], 512):
        s = seeds[start: start + 512]
        dist = np.abs(zf[None, :] - zf[s, None])                        # (b, G)
        inside = dist < radius * tf[s, None]
        inside[np.arange(s.shape[0]), s] = True
        masked = np.where(inside, tf[None, :], np.inf)
        chosen.update(np.argmin(masked, axis=1).tolist())
    idx = np.array(sorted(chosen), dtype=int)
    if idx.size == 0:
        empty = jnp.zeros((0,), grid.dtype)
        return VerifiedSpectrum(empty, jnp.zeros((0,), tau_grid.dtype),
                                jnp.asarray(np.nan, tau_grid.dtype), grid, tau_grid)
    spacing = _spacing(zf)
    pts = jnp.asarray(zf[idx])
    best = jnp.asarray(tf[idx])
    if refine:
        pts, best = _refine(result, pts, best, spacing, refine, method, measure_preserving)
    if conjugate_symmetric is None:
        lam = np.asarray(result.eigenvalues)
        pairs = np.allclose(np.sort_complex(lam), np.sort_complex(lam.conj()),
                            atol=1e-6 * max(1.0, np.abs(lam).max()))
        conjugate_symmetric = bool(pairs and np.all(zf.imag >= 0))
    pts, best = np.asarray(pts), np.asarray(best)
    if conjugate_symmetric:
        upper = pts.imag > spacing / 2
        pts = np.concatenate([pts, pts[upper].conj()])
        best = np.concatenate([best, best[upper]])
    pts, keep = _dedupe(pts, spacing / 4)
    best = best[keep]
    return VerifiedSpectrum(jnp.asarray(pts), jnp.asarray(best), jnp.asarray(best.max()),
                            grid, tau_grid)


def _spacing(z):
    diffs = np.abs(z[:, None] - z[None, : min(z.shape[0], 4096)]) if z.shape[0] < 4096 else \
        np.abs(z[: 2048, None] - z[None, : 2048])
    diffs = diffs[diffs > 0]
    return float(diffs.min()) if diffs.size else 1.0


def _dedupe(pts, tol):
    keep = []
    for i, p in enumerate(pts):
        if all(abs(p - pts[j]) > tol for j in keep):
            keep.append(i)
    keep = np.array(keep, dtype=int)
    return pts[keep], keep


def _refine(result, pts, best, spacing, rounds, method, measure_preserving):
    offsets = np.linspace(-1.0, 1.0, 3)
    stencil = jnp.asarray((offsets[None, :] + 1j * offsets[:, None]).reshape(-1))   # (9,)
    h = spacing
    for _ in range(rounds):
        cand = pts[:, None] + h * stencil[None, :].astype(pts.dtype)                 # (k, 9)
        tau = pseudospectrum(result, cand, method=method, measure_preserving=measure_preserving)
        j = jnp.argmin(tau, axis=1)
        new_best = jnp.take_along_axis(tau, j[:, None], axis=1)[:, 0]
        better = new_best < best
        pts = jnp.where(better, cand[jnp.arange(cand.shape[0]), j], pts)
        best = jnp.where(better, new_best, best)
        h = h / 2
    return pts, best


# ----------------------------------------------------------------------------- measures

def spectral_measure_kernel(order: int, epsilon: float):
    """Poles and residues of the order-m rational smoothing kernel on the unit circle.

    The poles are λ_j = e^{iθ}(1 + εδ_j) with δ_j = 1 + i(2j/(m + 1) − 1), j = 1..m; the
    residues c, d solve the Vandermonde systems Σ_j c_j σ_j^k = δ_{k0}, Σ_j d_j δ_j^k =
    δ_{k0} (k < m), σ_j = −δ̄_j/(1 + εδ̄_j), which give a kernel with m − 1 vanishing moments,
    so smoothing errors are O(ε^m log(1/ε)). Poles and residue systems after ResDMD's
    `IsomMeas.m` (M. Colbrook, BSD-2-Clause). Returns `(delta, c, d)` as NumPy arrays.
    """
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"spectral_measure: order must be an int >= 1, got {order!r}")
    if not 0 < epsilon < 1:
        raise ValueError(f"spectral_measure: epsilon must be in (0, 1), got {epsilon!r}")
    j = np.arange(1, order + 1)
    delta = 1.0 + 1j * (2.0 * j / (order + 1) - 1.0)
    sigma = -delta.conj() / (1.0 + epsilon * delta.conj())
    k = np.arange(order)
    e0 = np.eye(order)[0]
    c = np.linalg.solve(sigma[None, :] ** k[:, None], e0)
    d = np.linalg.solve(delta[None, :] ** k[:, None], e0)
    return delta, c, d


def spectral_measure(result: KoopmanResult, coefficients: Inexact[ArrayLike, " N"],
                     theta: Float[ArrayLike, " p"], *, epsilon: float, order: int = 2
                     ) -> Float[Array, " p"]:
    """Smoothed spectral measure ν_g^ε(θ) of an observable g for a measure-preserving system.

    For an isometry K and g = Ψc, the spectral measure ν_g on [−π, π] (⟨K^n g, g⟩ =
    ∫ e^{inθ} dν_g) is smoothed by an m-th order rational kernel K_ε evaluated through the
    resolvent: ν_g^ε(θ) = −(1/2π) Σ_j Re[c_j λ̄_j ⟨g, R(λ_j)g⟩ + d_j ⟨K R(λ_j)g, g⟩] at the
    poles λ_j = e^{iθ}(1 + εδ_j) off the circle (`spectral_measure_kernel`), with the
    resolvent R(λ) = (K_N − λ)⁻¹ of the Galerkin matrix. It is computed from one eigen
    decomposition of Ã (partial fractions), so any number of θ costs O(r·m) each.
    ν_g^ε → ν_g weakly as ε → 0 with error O(ε^m log(1/ε)) where ν_g is smooth, provided the
    dictionary resolves the resolvent at distance ~ε from the circle (grow N as ε shrinks and
    check with `pseudospectrum`).

    **Arguments:**

    - `result`: a `KoopmanResult` of a measure-preserving system (weights = the invariant
      measure, e.g. 1/m along an ergodic trajectory).
    - `coefficients`: c with g = Ψc, shape `(N,)` (use `observable_coefficients` to fit them
      from values of g at the data).
    - `theta`: angles in [−π, π], shape `(p,)`.
    - `epsilon`: the smoothing parameter in (0, 1).
    - `order`: m ≥ 1 (1 is the Poisson kernel).

    **Returns:** the smoothed density at `theta`, shape `(p,)`; it integrates to ‖g‖² over
    the circle.

    **Raises:** `ValueError` for a coefficient vector of the wrong shape or bad ε / order.

    **References:** Colbrook & Townsend, *Rigorous data-driven computation of spectral
    properties of Koopman operators for dynamical systems*, CPAM 77 (2024), §4.
    """
    _check_result("spectral_measure", result)
    coefficients = jnp.asarray(coefficients)
    if coefficients.shape != (result.num_features,):
        raise ValueError(f"spectral_measure: coefficients must have shape "
                         f"({result.num_features},) (one per dictionary function), got "
                         f"{shape_str(coefficients)}")
    theta = jnp.asarray(theta)
    if theta.ndim != 1:
        raise ValueError(f"spectral_measure: theta must have shape (p,), got {shape_str(theta)}")
    delta, c, d = spectral_measure_kernel(order, epsilon)
    cdt = result.eigenvalues.dtype
    # g = Ψ c = Ψ T f̃ on the kept subspace: f̃ = T⁺c.
    ft = jnp.linalg.lstsq(result.basis.astype(cdt), coefficients.astype(cdt))[0]
    lam, h = jnp.linalg.eig(result.galerkin.astype(cdt))
    a = jnp.linalg.solve(h, ft)                                        # H⁻¹ f̃
    b = h.conj().T @ ft                                                # H* f̃
    weights = b.conj() * a                                             # f̃*H_k (H⁻¹f̃)_k
    return _isom_density(lam, weights, theta.astype(jnp.finfo(cdt).dtype),
                         jnp.asarray(delta, cdt), jnp.asarray(c, cdt), jnp.asarray(d, cdt),
                         jnp.asarray(epsilon, jnp.finfo(cdt).dtype))


@eqx.filter_jit
def _isom_density(lam, weights, theta, delta, c, d, epsilon):
    poles = jnp.exp(1j * theta)[:, None] * (1 + epsilon * delta)[None, :]         # (p, m)
    inv = 1.0 / (lam[None, None, :] - poles[:, :, None])                          # (p, m, r)
    s0 = jnp.sum(weights * inv, axis=-1)                          # ⟨R(λ) g, g⟩
    s1 = jnp.sum(weights * lam * inv, axis=-1)                    # ⟨K R(λ) g, g⟩
    terms = c[None, :] * poles.conj() * s0.conj() + d[None, :] * s1
    return -jnp.sum(terms.real, axis=-1) / (2 * math.pi)


def ergodic_moments(values: Inexact[ArrayLike, " n"], num_moments: int) -> Complex[Array, " k"]:
    """Autocorrelations ⟨K^k g, g⟩ ≈ (1/(n − k)) Σ_t g(x_{t+k}) conj(g(x_t)), k = 0..num_moments,
    of an observable along one ergodic trajectory (the Fourier coefficients of ν_g).

    **Arguments:** `values` (g along the trajectory, shape `(n,)`), `num_moments` (K < n).

    **Returns:** the moments for k = 0..K, shape `(K + 1,)`, complex.

    **Raises:** `ValueError` for a bad shape or K ≥ n.
    """
    values = jnp.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"ergodic_moments: values must have shape (n,), got "
                         f"{shape_str(values)}")
    n = values.shape[0]
    if not isinstance(num_moments, int) or not 0 <= num_moments < n:
        raise ValueError(f"ergodic_moments: num_moments must be an int in 0..{n - 1}, got "
                         f"{num_moments!r}")
    return _moments(values, num_moments)


@eqx.filter_jit
def _moments(values, k):
    n = values.shape[0]
    size = 1 << math.ceil(math.log2(2 * n))
    v = values.astype(jnp.result_type(values.dtype, jnp.complex64))
    f = jnp.fft.fft(v, size)
    corr = jnp.fft.ifft(f.conj() * f)[: k + 1]                     # Σ_t v_{t+k} conj(v_t)
    return corr / (n - jnp.arange(k + 1))


_FILTERS = ("fejer", "cosine", "vandeven", "sharp_cosine")


def _filter(name, x):
    cos = (1 + jnp.cos(math.pi * x)) / 2
    if name == "fejer":
        return 1 - x
    if name == "cosine":
        return cos
    if name == "vandeven":
        return 1 - x**4 * (-20 * x**3 + 70 * x**2 - 84 * x + 35)
    return cos**4 * (35 - 84 * cos + 70 * cos**2 - 20 * cos**3)


def moment_spectral_measure(moments: Inexact[ArrayLike, " k"], theta: Float[ArrayLike, " p"], *,
                            filter: str = "vandeven") -> Float[Array, " p"]:
    """Smoothed spectral density from the moments ν̂(k) = ⟨K^k g, g⟩, k = 0..K.

    ν^K(θ) = (1/2π) Σ_{|k|≤K} φ(|k|/K) ν̂(k) e^{−ikθ}, with ν̂(−k) = conj ν̂(k) and a filter φ
    (`"fejer"` 1 − x, first order; `"cosine"`, second order; `"vandeven"`, the fourth-order
    Vandeven filter; `"sharp_cosine"`, eighth order), so that errors are O(K^{−order}) where
    ν_g is smooth. This is the moment route of ResDMD (`MomentMeas.m`), for data along one
    trajectory (`ergodic_moments`).

    **Raises:** `ValueError` for an unknown filter or a moment vector of fewer than 2 entries.
    """
    if filter not in _FILTERS:
        raise ValueError(f"moment_spectral_measure: filter must be one of {_FILTERS}, got "
                         f"{filter!r}")
    moments = jnp.asarray(moments)
    if moments.ndim != 1 or moments.shape[0] < 2:
        raise ValueError(f"moment_spectral_measure: moments must have shape (K + 1,) with "
                         f"K >= 1, got {shape_str(moments)}")
    theta = jnp.asarray(theta)
    kmax = moments.shape[0] - 1
    k = jnp.arange(kmax + 1)
    phi = _filter(filter, k / kmax).at[-1].set(0.0)
    weighted = (phi * moments).astype(jnp.result_type(moments.dtype, jnp.complex64))
    series = jnp.exp(-1j * theta[:, None] * k[None, :]) @ weighted                  # k ≥ 0
    return (2 * series.real - weighted[0].real) / (2 * math.pi)
