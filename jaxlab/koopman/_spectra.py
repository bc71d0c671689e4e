"""Pseudospectra and verified spectra with error certificates (ResDMD)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Complex, Float, Num

from .._core.checks import (
    as_inexact_array,
    check_bool,
    check_choice,
    check_int,
    check_number,
    message,
    shape_str,
)
from ._result import KoopmanResult, check_result

__all__ = ["VerifiedSpectrum", "complex_grid", "pseudospectrum", "verified_spectrum"]


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


def pseudospectrum(result: KoopmanResult, z: Num[ArrayLike, "*grid"], *,
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

    **Raises:** `TypeError` for a non-result, non-numeric `z` or non-int sizes; `ValueError`
    for an unknown method or a non-positive `batch_size`, `block` or `iterations`.

    **References:** Colbrook & Townsend (2024), Algorithm 2; Colbrook, Mezić & Stepanenko
    (2024), §2 (QR form).
    """
    return _pseudospectrum("pseudospectrum", result, z, method, measure_preserving, batch_size,
                           block, iterations)


def _pseudospectrum(fn, result, z, method, measure_preserving, batch_size, block, iterations):
    check_result(fn, result)
    method = check_choice(fn, "method", method, ("auto", "eigh", "svd", "inverse"))
    block = check_int(fn, "block", block, minimum=1)
    iterations = check_int(fn, "iterations", iterations, minimum=1)
    batch_size = check_int(fn, "batch_size", batch_size, minimum=1)
    measure_preserving = check_bool(fn, "measure_preserving", measure_preserving)
    if method == "auto":
        method = "svd" if result.rank <= 64 else "inverse"
    cdt = result.eigenvalues.dtype
    z = as_inexact_array(fn, "z", z).astype(cdt)
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
    (rows: imaginary part increasing; endpoints included when they fall on the grid).

    **Arguments:** `real`, `imag` (the `(low, high)` ranges of the real and imaginary
    parts), `spacing` (> 0).

    **Returns:** the grid, complex (complex128 with `jax_enable_x64`).

    **Raises:** `TypeError` for a range that is not a pair of numbers; `ValueError` for
    low > high or spacing ≤ 0.
    """
    for name, b in (("real", real), ("imag", imag)):
        if not isinstance(b, (tuple, list)) or len(b) != 2:
            raise TypeError(message("complex_grid", name, "a pair (low, high)", repr(b)))
        low = check_number("complex_grid", f"{name}[0]", b[0])
        high = check_number("complex_grid", f"{name}[1]", b[1])
        if not low <= high:
            raise ValueError(message("complex_grid", name, "(low, high) with low <= high",
                                     repr(b)))
    spacing = check_number("complex_grid", "spacing", spacing, minimum=0.0, open_minimum=True)
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


def verified_spectrum(result: KoopmanResult, grid: Num[ArrayLike, "*grid"], *,
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

    **Raises:** `TypeError` for a non-result, a non-numeric grid or non-numbers;
    `ValueError` for non-positive `threshold`/`radius`, negative `refine`, an unknown method
    or a grid with fewer than 2 points.

    **References:** Colbrook, Mezić & Stepanenko, *Limits and Powers of Koopman Learning*
    (2024), the spectrum selection of the Duffing example.
    """
    fn = "verified_spectrum"
    check_result(fn, result)
    threshold = check_number(fn, "threshold", threshold, minimum=0.0, open_minimum=True)
    radius = check_number(fn, "radius", radius, minimum=0.0, open_minimum=True)
    refine = check_int(fn, "refine", refine, minimum=0)
    if conjugate_symmetric is not None:
        conjugate_symmetric = check_bool(fn, "conjugate_symmetric", conjugate_symmetric)
    grid = as_inexact_array(fn, "grid", grid).astype(result.eigenvalues.dtype)
    if grid.size < 2:
        raise ValueError(message(fn, "grid", "at least 2 points", f"shape {shape_str(grid)}"))
    tau_grid = _pseudospectrum(fn, result, grid, method, measure_preserving, 1, 8, 8)
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
        pts, best = _refine(fn, result, pts, best, spacing, refine, method,
                            measure_preserving)
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


def _refine(fn, result, pts, best, spacing, rounds, method, measure_preserving):
    offsets = np.linspace(-1.0, 1.0, 3)
    stencil = jnp.asarray((offsets[None, :] + 1j * offsets[:, None]).reshape(-1))   # (9,)
    h = spacing
    for _ in range(rounds):
        cand = pts[:, None] + h * stencil[None, :].astype(pts.dtype)                 # (k, 9)
        tau = _pseudospectrum(fn, result, cand, method, measure_preserving, 1, 8, 8)
        j = jnp.argmin(tau, axis=1)
        new_best = jnp.take_along_axis(tau, j[:, None], axis=1)[:, 0]
        better = new_best < best
        pts = jnp.where(better, cand[jnp.arange(cand.shape[0]), j], pts)
        best = jnp.where(better, new_best, best)
        h = h / 2
    return pts, best
