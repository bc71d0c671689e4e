"""EDMD, DMD and kernel EDMD with residuals (ResDMD), in a whitened (SVD) basis."""

import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Complex, Float, Inexact, PRNGKeyArray

from .._core.checks import concrete_values, shape_str
from ._dictionaries import AbstractDictionary, Identity, kmeans

__all__ = ["KernelFeatures", "KoopmanResult", "dmd", "edmd", "eigenfunctions", "gram_matrices",
           "kernel_edmd", "observable_coefficients", "predict", "resdmd"]


class KoopmanResult(eqx.Module):
    """The Galerkin approximation of a Koopman operator and its verified eigenpairs.

    EDMD solves A g = λ G g for G = Ψ_X*WΨ_X, A = Ψ_X*WΨ_Y. Here it is computed in the
    whitened basis of the truncated SVD √W Ψ_X = U Σ V*: with T = V_r Σ_r⁻¹ (so that
    √WΨ_X T = U_r is orthonormal and G → I) and C = √WΨ_Y T, the Galerkin matrix is
    Ã = U_r*C (r × r) and the part of KΨ outside the dictionary's span is C − U_rÃ = Q R,
    with R the r × r `outside` factor. Then for every z the residual pencil is
    L − zA* − z̄A + |z|²G ≅ (Ã − z)*(Ã − z) + R*R, so residuals and pseudospectra never form
    the squared Gram matrices and stay accurate down to ~1e-15 (float64).

    **Fields:**

    - `eigenvalues`: λ_j, shape `(r,)`, ordered by decreasing modulus.
    - `eigenvectors`: g_j, the dictionary coefficients of the eigenfunctions φ_j = Ψ g_j,
      shape `(N, r)`, normalised to ‖φ_j‖_{L²(ω)} = 1 on the data.
    - `residuals`: res(λ_j, g_j) = ‖(K − λ_j)φ_j‖ / ‖φ_j‖ as estimated on the data
      (ResDMD, Colbrook & Townsend), shape `(r,)`.
    - `modes`: Koopman modes of the full state, shape `(r, d)`: x ≈ Σ_j φ_j(x) modes_j.
    - `galerkin`: Ã, shape `(r, r)`; `outside`: R, shape `(r, r)`.
    - `basis`: T, shape `(N, r)`; `singular_values`: of √WΨ_X, shape `(min(m, N),)`.
    - `rank`: r, the numerical rank kept (static); `dictionary`: the dictionary used.

    Properties: `condition_number` (σ_1/σ_r of what was kept), `gram_condition` (σ_1/σ_min
    of all, `inf` if singular), `truncated` (r < N), `matrix` (K_N = G⁺A in dictionary
    coordinates, `(N, N)`).
    """

    eigenvalues: Complex[Array, " r"]
    eigenvectors: Complex[Array, "N r"]
    residuals: Float[Array, " r"]
    modes: Complex[Array, "r d"]
    galerkin: Inexact[Array, "r r"]
    outside: Inexact[Array, "r r"]
    basis: Inexact[Array, "N r"]
    singular_values: Float[Array, " s"]
    dictionary: AbstractDictionary
    rank: int = eqx.field(static=True)

    @property
    def num_features(self) -> int:
        return self.basis.shape[0]

    @property
    def condition_number(self) -> float:
        s = self.singular_values
        return float(s[0] / s[self.rank - 1])

    @property
    def gram_condition(self) -> float:
        s = np.asarray(self.singular_values)
        return float(s[0] / s[-1]) if s[-1] > 0 and s.shape[0] == self.num_features else math.inf

    @property
    def truncated(self) -> bool:
        return self.rank < self.num_features

    @property
    def matrix(self) -> Inexact[Array, "N N"]:
        pinv_basis = jnp.linalg.pinv(self.basis)
        return self.basis @ self.galerkin @ pinv_basis


def _inexact(x, name, owner):
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.result_type(float))
    return x


def _check_pairs(owner, x, y):
    x, y = _inexact(x, "x", owner), _inexact(y, "y", owner)
    if x.ndim != 2:
        raise ValueError(f"{owner}: x must have shape (m, d) (m snapshots of a d-dimensional "
                         f"state), got {shape_str(x)}")
    if y.shape != x.shape:
        raise ValueError(f"{owner}: y must have the shape of x, {shape_str(x)} (pairs "
                         f"y_i = F(x_i)), got {shape_str(y)}")
    if x.shape[0] < 1:
        raise ValueError(f"{owner}: needs at least one snapshot pair, got x of shape "
                         f"{shape_str(x)}")
    for name, a in (("x", x), ("y", y)):
        v = concrete_values(a)
        if v is not None and not np.all(np.isfinite(v)):
            bad = np.argwhere(~np.isfinite(v))[0]
            raise ValueError(f"{owner}: {name} contains a non-finite value at index "
                             f"{tuple(int(i) for i in bad)}")
    return x, y


def _check_weights(owner, weights, m, dtype):
    if weights is None:
        return jnp.full((m,), 1.0 / m, dtype=jnp.finfo(dtype).dtype)
    w = jnp.asarray(weights, dtype=jnp.finfo(dtype).dtype)
    if w.shape != (m,):
        raise ValueError(f"{owner}: weights must have shape ({m},) (one per snapshot pair), "
                         f"got {shape_str(w)}")
    v = concrete_values(w)
    if v is not None:
        if np.any(~np.isfinite(v)) or np.any(v < 0) or not v.sum() > 0:
            raise ValueError(f"{owner}: weights must be finite, non-negative and not all zero")
    return w / jnp.sum(w)


def _check_dictionary(owner, dictionary, d):
    if not isinstance(dictionary, AbstractDictionary):
        raise TypeError(f"{owner}: dictionary must be an AbstractDictionary (e.g. "
                        f"koopman.RadialBasis), got {type(dictionary).__name__}")
    if dictionary.dim != d:
        raise ValueError(f"{owner}: the dictionary acts on states of dimension "
                         f"{dictionary.dim}, but x has d = {d}")


@eqx.filter_jit
def _weighted_svd(dictionary, x, y, w):
    sw = jnp.sqrt(w)[:, None]
    px = sw * dictionary(x)
    py = sw * dictionary(y)
    u, s, vh = jnp.linalg.svd(px, full_matrices=False)
    return u, s, vh, py


@eqx.filter_jit
def _symmetric_svd(dictionary, x, y, w):
    """`_weighted_svd` when Ψ_X is symmetric (kernel features at the data themselves, uniform
    weights): one `eigh` of Ψ_X = QΛQᵀ gives the SVD UΣVᵀ with Σ = |Λ|, V = Q, U = Q·sign(Λ),
    several times cheaper than a general SVD on CPU."""
    sw = jnp.sqrt(w)[:, None]
    px = dictionary(x)
    lam, q = jnp.linalg.eigh(0.5 * (px + px.T))
    order = jnp.argsort(-jnp.abs(lam), stable=True)
    lam, q = lam[order], q[:, order]
    s = jnp.abs(lam) * sw[0, 0]
    u = q * jnp.where(lam >= 0, 1.0, -1.0).astype(q.dtype)[None, :]
    return u, s, q.T, sw * dictionary(y)


def _choose_rank(owner, s, rank, rcond, m, n):
    limit = min(m, n)
    if rank is not None:
        if not isinstance(rank, int) or isinstance(rank, bool) or not 1 <= rank <= limit:
            raise ValueError(f"{owner}: rank must be an int in 1..min(m, N) = 1..{limit} "
                             f"(m = {m} snapshots, N = {n} features), got {rank!r}")
    sv = concrete_values(s)
    if sv is None:
        if rank is None:
            raise ValueError(f"{owner}: under jit the numerical rank cannot be chosen from the "
                             f"data; pass rank=<int> (1..{limit})")
        return rank
    if not np.all(np.isfinite(sv)):
        raise FloatingPointError(f"{owner}: the dictionary produced non-finite features on the "
                                 f"data (check its scaling)")
    if sv[0] == 0:
        raise ValueError(f"{owner}: every feature is zero on the data (√WΨ_X = 0)")
    numerical = int(np.sum(sv > rcond * sv[0]))
    return numerical if rank is None else min(rank, numerical)


@eqx.filter_jit
def _galerkin(u, s, vh, py, x, sw, rank):
    u, s, vh = u[:, :rank], s[:rank], vh[:rank]
    basis = vh.conj().T / s                                            # T: (N, r)
    c = py @ basis                                                     # C = √WΨ_Y T: (m, r)
    a1 = u.conj().T @ c                                                # two Gram–Schmidt
    d = c - u @ a1                                                     # passes (CGS2) keep
    a2 = u.conj().T @ d                                                # the outside part
    d = d - u @ a2                                                     # orthogonal to U
    galerkin = a1 + a2
    outside = jnp.linalg.qr(d, mode="r")
    outside = jnp.zeros((rank, rank), outside.dtype).at[: outside.shape[0]].set(outside)
    lam, h = jnp.linalg.eig(galerkin)
    order = jnp.argsort(-jnp.abs(lam), stable=True)
    lam, h = lam[order], h[:, order]
    h = h / jnp.linalg.norm(h, axis=0, keepdims=True)
    cdt = lam.dtype
    uh, ch = u.astype(cdt) @ h, c.astype(cdt) @ h
    residuals = jnp.linalg.norm(ch - uh * lam[None, :], axis=0)        # ‖(C − λU)h‖/‖h‖
    coords = u.conj().T.astype(cdt) @ (sw * x).astype(cdt)             # x ≈ Ψ T coords
    modes = jnp.linalg.solve(h, coords)
    return lam, basis.astype(cdt) @ h, residuals, modes, galerkin, outside, basis


def edmd(x: Inexact[ArrayLike, "m d"], y: Inexact[ArrayLike, "m d"],
         dictionary: AbstractDictionary | None = None, *,
         weights: Float[ArrayLike, " m"] | None = None, rank: int | None = None,
         rcond: float | None = None) -> KoopmanResult:
    """Extended DMD with the residual of every eigenpair (EDMD + ResDMD).

    From snapshot pairs y_i = F(x_i) and quadrature weights w_i, EDMD approximates the
    Koopman operator on span{ψ_1..ψ_N} by K_N = G⁺A (G = Ψ_X*WΨ_X, A = Ψ_X*WΨ_Y) and its
    eigenpairs A g = λ G g. Every eigenpair carries its residual
    res(λ, g)² = g*(L − λA* − λ̄A + |λ|²G)g / g*Gg (L = Ψ_Y*WΨ_Y), which converges to
    ‖(K − λ)φ‖²/‖φ‖² as m → ∞: a small residual certifies λ as an approximate eigenvalue
    (within `res` of the spectrum for normal K), a large one flags a spurious one.

    Numerically, √WΨ_X is factored by a truncated SVD (singular values below
    `rcond`·σ_max are dropped, so a rank-deficient Gram matrix is handled, and the kept
    condition number is reported in `condition_number`); residuals are computed as norms
    ‖(C − λU)h‖ of the whitened data, never by differencing squared Gram matrices.

    **Arguments:**

    - `x`, `y`: snapshot pairs, shape `(m, d)` each (row i: y_i = F(x_i)); real or complex.
    - `dictionary`: an `AbstractDictionary` on d-dimensional states (default
      `Identity(d)`, which makes this DMD).
    - `weights`: quadrature weights w_i ≥ 0, shape `(m,)`; normalised to sum to 1
      (default: 1/m, for random or ergodic sampling).
    - `rank`: keep at most this many singular directions (1..min(m, N)); default: the
      numerical rank.
    - `rcond`: relative singular-value cut-off (default 1e-12 in float64, 1e-6 in float32).

    **Returns:** a `KoopmanResult`.

    **Raises:** `ValueError` if x and y differ in shape, x is not `(m, d)`, the dictionary's
    dimension differs from d, weights have the wrong shape or sign, `rank` is outside
    1..min(m, N), or data are non-finite; `FloatingPointError` if the dictionary produces
    non-finite features. Under `jit`, `rank` must be given.

    **References:** Williams, Kevrekidis & Rowley, *A data-driven approximation of the
    Koopman operator: extending dynamic mode decomposition*, J. Nonlinear Sci. 25 (2015);
    Colbrook & Townsend, *Rigorous data-driven computation of spectral properties of Koopman
    operators for dynamical systems*, CPAM 77 (2024); Colbrook, Mezić & Stepanenko,
    *Limits and Powers of Koopman Learning* (2024).
    """
    x, y = _check_pairs("edmd", x, y)
    m, d = x.shape
    dictionary = Identity(d) if dictionary is None else dictionary
    _check_dictionary("edmd", dictionary, d)
    w = _check_weights("edmd", weights, m, x.dtype)
    return _fit("edmd", _weighted_svd, dictionary, x, y, w, rank, rcond)


def _fit(owner, factor, dictionary, x, y, w, rank, rcond):
    """EDMD from a factorisation √WΨ_X = UΣV* (`factor` returns U, Σ, V*, √WΨ_Y)."""
    if rcond is None:
        rcond = 1e-12 if jnp.finfo(x.dtype).bits == 64 else 1e-6
    u, s, vh, py = factor(dictionary, x, y, w)
    r = _choose_rank(owner, s, rank, rcond, x.shape[0], dictionary.num_features)
    sw = jnp.sqrt(w)[:, None]
    out = _galerkin(u, s, vh, py, x, sw, r)
    return KoopmanResult(*out, singular_values=s, dictionary=dictionary, rank=r)


def dmd(x: Inexact[ArrayLike, "m d"], y: Inexact[ArrayLike, "m d"], *,
        rank: int | None = None, weights: Float[ArrayLike, " m"] | None = None,
        rcond: float | None = None) -> KoopmanResult:
    """Exact dynamic mode decomposition with SVD rank truncation, with residuals.

    DMD is EDMD with the identity dictionary (Williams et al. 2015, §3.3): for snapshot
    matrices X = xᵀ, Y = yᵀ (d × m) and X = UΣV* truncated to rank r, the DMD operator
    Ã = U*YVΣ⁻¹ has the eigenvalues returned here (Tu et al. 2014); PyDMD's `DMD(svd_rank=r)`
    gives the same eigenvalues on the same data. The `modes` are the Koopman modes of the
    state, so x_n ≈ Σ_j λ_j^n φ_j(x_0) modes_j (see `predict`).

    **Arguments:** `x`, `y` (`(m, d)` snapshot pairs, e.g. `traj[:-1]`, `traj[1:]`), `rank`
    (1..min(m, d); default the numerical rank), `weights`, `rcond` — as in `edmd`.

    **Returns:** a `KoopmanResult` whose dictionary is `Identity(d)`.

    **Raises:** as `edmd`.

    **References:** Schmid, *Dynamic mode decomposition of numerical and experimental data*,
    JFM 656 (2010); Tu et al., *On dynamic mode decomposition: theory and applications*,
    J. Comput. Dyn. 1 (2014).
    """
    x, _ = _check_pairs("dmd", x, y)
    return edmd(x, y, Identity(x.shape[1]), weights=weights, rank=rank, rcond=rcond)


# ----------------------------------------------------------------------------- kernels

class KernelFeatures(AbstractDictionary):
    """The dictionary ψ_j(x) = k(x, z_j) of a kernel at landmarks z_1..z_n.

    With the landmarks equal to the data x this is kernel EDMD (Williams, Rowley & Kevrekidis
    2015); with fewer landmarks it is its Nyström approximation. Kernels: `"gaussian"`
    exp(−‖x − z‖²/(2ℓ²)), `"laplacian"` exp(−‖x − z‖/ℓ), `"polynomial"` (c + xᵀz/ℓ²)^p.
    """

    landmarks: Float[Array, "n d"]
    lengthscale: Float[Array, ""]
    kernel: str = eqx.field(static=True)
    degree: int = eqx.field(static=True, default=2)
    offset: float = eqx.field(static=True, default=1.0)

    @property
    def dim(self) -> int:
        return self.landmarks.shape[1]

    @property
    def num_features(self) -> int:
        return self.landmarks.shape[0]

    def features(self, x):
        z = self.landmarks.astype(x.dtype)
        ls = self.lengthscale.astype(x.dtype)
        if self.kernel == "polynomial":
            return (self.offset + z @ x / ls**2) ** self.degree
        r2 = jnp.sum((x - z) ** 2, axis=-1)
        if self.kernel == "gaussian":
            return jnp.exp(-r2 / (2 * ls**2))
        safe = jnp.where(r2 > 0, r2, 1.0)
        return jnp.exp(-jnp.where(r2 > 0, jnp.sqrt(safe), 0.0) / ls)


_KERNELS = ("gaussian", "laplacian", "polynomial")


def kernel_edmd(x: Float[ArrayLike, "m d"], y: Float[ArrayLike, "m d"],
                kernel: str = "gaussian", *, lengthscale: float | None = None,
                degree: int = 2, offset: float = 1.0, landmarks: int | Float[ArrayLike, "n d"]
                | None = None, key: PRNGKeyArray | None = None,
                weights: Float[ArrayLike, " m"] | None = None, rank: int | None = None,
                rcond: float | None = None) -> KoopmanResult:
    """Kernel EDMD, exact or with Nyström landmarks, with residuals.

    The implicit dictionary of a kernel k is {k(·, x_i)}; its Gram matrix on the data is
    k(X, X) and the Galerkin matrix (Σ⁺Q*) k(Y, X) (QΣ⁺) of Williams, Rowley & Kevrekidis
    (2015) is, up to similarity, EDMD with the features ψ_i = k(·, x_i) truncated to the
    leading singular directions — which is how it is computed here, so eigenvalues come with
    ResDMD residuals. `landmarks=n` (an int) uses n k-means centres of x instead of all m
    points (Nyström), so the cost is O(m n²) instead of O(m³). With all m points and uniform
    weights the symmetric k(X, X) = QΛQᵀ is factored by one `eigh` (its SVD is |Λ| with
    U = Q·sign Λ), which on CPU is ~3× faster than the general SVD taken otherwise.

    Residuals on the training data are optimistic when the number of landmarks is close to
    m (the dictionary interpolates the data); compute them on fresh pairs with `resdmd`.

    **Arguments:**

    - `x`, `y`: snapshot pairs, `(m, d)`.
    - `kernel`: `"gaussian"`, `"laplacian"` or `"polynomial"`.
    - `lengthscale`: ℓ (default: the median pairwise distance of up to 1000 points of x).
    - `degree`, `offset`: p and c of the polynomial kernel.
    - `landmarks`: `None` (all of x), an int n (k-means centres, needs `key`) or an array
      `(n, d)` of landmark points.
    - `weights`, `rank`, `rcond`: as in `edmd`.

    **Returns:** a `KoopmanResult` whose dictionary is a `KernelFeatures`.

    **Raises:** `ValueError` for an unknown kernel, non-positive lengthscale, bad landmarks or
    a missing `key`, and as `edmd`.

    **References:** Williams, Rowley & Kevrekidis, *A kernel-based method for data-driven
    Koopman spectral analysis*, J. Comput. Dyn. 2 (2015); Colbrook & Townsend (2024), §4.
    """
    x, y = _check_pairs("kernel_edmd", x, y)
    if kernel not in _KERNELS:
        raise ValueError(f"kernel_edmd: kernel must be one of {_KERNELS}, got {kernel!r}")
    if not isinstance(degree, int) or degree < 1:
        raise ValueError(f"kernel_edmd: degree must be an int >= 1, got {degree!r}")
    if landmarks is None:
        z = x
    elif isinstance(landmarks, int) and not isinstance(landmarks, bool):
        if key is None:
            raise ValueError("kernel_edmd: landmarks=<int> chooses k-means centres and needs "
                             "key=<PRNG key>")
        z = kmeans(x, landmarks, key=key)
    else:
        z = jnp.asarray(landmarks, dtype=x.dtype)
        if z.ndim != 2 or z.shape[1] != x.shape[1]:
            raise ValueError(f"kernel_edmd: landmarks must have shape (n, {x.shape[1]}), got "
                             f"{shape_str(z)}")
    if lengthscale is None:
        sub = x[: min(1000, x.shape[0])]
        dist = jnp.sqrt(jnp.maximum(jnp.sum((sub[:, None] - sub[None]) ** 2, -1), 0))
        iu = np.triu_indices(sub.shape[0], 1)
        lengthscale = float(jnp.median(dist[iu])) if sub.shape[0] > 1 else 1.0
        lengthscale = lengthscale if lengthscale > 0 else 1.0
    if not np.all(np.asarray(lengthscale) > 0):
        raise ValueError(f"kernel_edmd: lengthscale must be positive, got {lengthscale!r}")
    features = KernelFeatures(z, jnp.asarray(lengthscale, x.dtype), kernel, degree,
                              float(offset))
    if landmarks is not None or weights is not None:
        return edmd(x, y, features, weights=weights, rank=rank, rcond=rcond)
    # Exact kernel EDMD with uniform weights: Ψ_X = k(X, X) is symmetric, so its SVD comes
    # from one `eigh` (as kernel methods usually factor the Gram matrix).
    w = _check_weights("kernel_edmd", None, x.shape[0], x.dtype)
    return _fit("kernel_edmd", _symmetric_svd, features, x, y, w, rank, rcond)


# ----------------------------------------------------------------------------- after the fit

def eigenfunctions(result: KoopmanResult, x: Inexact[ArrayLike, "*batch d"]
                   ) -> Complex[Array, "*batch r"]:
    """The approximate Koopman eigenfunctions φ_j(x) = Ψ(x) g_j, shape `(..., r)`."""
    psi = result.dictionary(x)
    return psi.astype(result.eigenvectors.dtype) @ result.eigenvectors


def predict(result: KoopmanResult, x0: Inexact[ArrayLike, "*batch d"], steps: int
            ) -> Inexact[Array, "steps_plus_1 *batch d"]:
    """Forecast by Koopman mode decomposition: x_n ≈ Σ_j λ_j^n φ_j(x_0) modes_j.

    **Arguments:** `result` (from `edmd`/`dmd`/`kernel_edmd`), `x0` (initial states,
    `(..., d)`), `steps` (n_max ≥ 0, static).

    **Returns:** the forecasts for n = 0..steps, shape `(steps + 1, ..., d)`; real when the
    data were real (the imaginary part of a conjugate-symmetric expansion is round-off).

    **Raises:** `ValueError` if `steps` is not an int ≥ 0 or x0 has the wrong last axis.
    """
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"predict: steps must be an int >= 0, got {steps!r}")
    x0 = jnp.asarray(x0)
    phi = eigenfunctions(result, x0)                                   # (..., r)
    n = jnp.arange(steps + 1)
    powers = result.eigenvalues[None, :] ** n[:, None]                 # (n, r)
    out = jnp.einsum("nr,...r,rd->n...d", powers, phi, result.modes)
    return out if jnp.iscomplexobj(x0) else out.real


def gram_matrices(dictionary: AbstractDictionary, x: Inexact[ArrayLike, "m d"],
                  y: Inexact[ArrayLike, "m d"], *, weights: Float[ArrayLike, " m"] | None = None
                  ) -> tuple[Inexact[Array, "N N"], Inexact[Array, "N N"], Inexact[Array, "N N"]]:
    """The ResDMD matrices G = Ψ_X*WΨ_X, A = Ψ_X*WΨ_Y, L = Ψ_Y*WΨ_Y (weights normalised).

    As m → ∞, G_jk → ⟨ψ_k, ψ_j⟩, A_jk → ⟨Kψ_k, ψ_j⟩ and L_jk → ⟨Kψ_k, Kψ_j⟩. Provided for
    inspection and for users' own algorithms; the estimators here do not form them.
    """
    x, y = _check_pairs("gram_matrices", x, y)
    _check_dictionary("gram_matrices", dictionary, x.shape[1])
    w = _check_weights("gram_matrices", weights, x.shape[0], x.dtype)
    px, py = dictionary(x), dictionary(y)
    wx = w[:, None] * px
    return px.conj().T @ wx, wx.conj().T @ py, py.conj().T @ (w[:, None] * py)


def resdmd(result: KoopmanResult, x: Inexact[ArrayLike, "m d"], y: Inexact[ArrayLike, "m d"],
           *, weights: Float[ArrayLike, " m"] | None = None) -> KoopmanResult:
    """Residuals of `result`'s eigenpairs measured on other snapshot pairs (x, y).

    res_j = ‖√W(Ψ_Y − λ_jΨ_X)g_j‖ / ‖√WΨ_X g_j‖ — the ResDMD residual of the fixed candidate
    (λ_j, g_j), evaluated as a norm on the new data (no Gram matrices). Use a second,
    independent data set (as ResDMD does for kernel dictionaries learned from the first) so
    that residuals are not optimistic.

    **Returns:** a copy of `result` with `residuals` replaced.

    **Raises:** as `edmd` for bad pairs or weights.
    """
    x, y = _check_pairs("resdmd", x, y)
    _check_dictionary("resdmd", result.dictionary, x.shape[1])
    w = _check_weights("resdmd", weights, x.shape[0], x.dtype)
    res = _new_residuals(result, x, y, w)
    return eqx.tree_at(lambda r: r.residuals, result, res)


@eqx.filter_jit
def _new_residuals(result, x, y, w):
    sw = jnp.sqrt(w)[:, None]
    g = result.eigenvectors
    px = (sw * result.dictionary(x)).astype(g.dtype) @ g
    py = (sw * result.dictionary(y)).astype(g.dtype) @ g
    num = jnp.linalg.norm(py - px * result.eigenvalues[None, :], axis=0)
    den = jnp.linalg.norm(px, axis=0)
    return num / den


def observable_coefficients(result: KoopmanResult, x: Inexact[ArrayLike, "m d"],
                            values: Inexact[ArrayLike, " m"], *,
                            weights: Float[ArrayLike, " m"] | None = None) -> Inexact[Array, " N"]:
    """Dictionary coefficients c of an observable, g ≈ Ψc, by weighted least squares on the
    kept subspace of `result` (min ‖√W(Ψ_X c − g(x))‖ with c = T f̃).

    **Arguments:** `result`, states `x` `(m, d)`, the observable's `values` at them `(m,)`,
    optional `weights` `(m,)`.

    **Returns:** c, shape `(N,)` (complex dtype of the result).

    **Raises:** `ValueError` for mismatched shapes.
    """
    x = _inexact(x, "x", "observable_coefficients")
    values = jnp.asarray(values)
    if x.ndim != 2 or values.shape != (x.shape[0],):
        raise ValueError(f"observable_coefficients: need x of shape (m, d) and values of shape "
                         f"(m,), got {shape_str(x)} and {shape_str(values)}")
    _check_dictionary("observable_coefficients", result.dictionary, x.shape[1])
    w = _check_weights("observable_coefficients", weights, x.shape[0], x.dtype)
    cdt = result.eigenvectors.dtype
    sw = jnp.sqrt(w)
    design = (sw[:, None] * result.dictionary(x)).astype(cdt) @ result.basis.astype(cdt)
    ft = jnp.linalg.lstsq(design, (sw * values).astype(cdt))[0]
    return result.basis.astype(cdt) @ ft
