"""Extended DMD with the residual of every eigenpair (EDMD + ResDMD), the ResDMD matrices,
and residuals of a fitted operator on other data."""

import equinox as eqx
from jaxtyping import Array, ArrayLike, Inexact, Num, Real

from ._dictionaries import AbstractDictionary, Identity
from ._result import (
    KoopmanResult,
    check_dictionary,
    check_pairs,
    check_result,
    check_weights,
    fit,
    residuals_on,
    weighted_svd,
)

__all__ = ["edmd", "gram_matrices", "resdmd"]


def edmd(x: Num[ArrayLike, "m d"], y: Num[ArrayLike, "m d"],
         dictionary: AbstractDictionary | None = None, *,
         weights: Real[ArrayLike, " m"] | None = None, rank: int | None = None,
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

    - `x`, `y`: snapshot pairs, shape `(m, d)` each (row i: y_i = F(x_i)); real or complex;
      integer data are promoted to the default float.
    - `dictionary`: an `AbstractDictionary` on d-dimensional states (default
      `Identity(d)`, which makes this DMD).
    - `weights`: quadrature weights w_i ≥ 0, shape `(m,)`; normalised to sum to 1
      (default: 1/m, for random or ergodic sampling).
    - `rank`: keep at most this many singular directions (1..min(m, N)); default: the
      numerical rank.
    - `rcond`: relative singular-value cut-off (default 1e-12 in float64, 1e-6 in float32).

    **Returns:** a `KoopmanResult` (complex eigenpairs in the precision of the data).

    **Raises:** `TypeError` for non-numeric data, a dictionary that is not an
    `AbstractDictionary` or a non-int rank; `ValueError` if x and y differ in shape, x is
    not `(m, d)`, the dictionary's dimension differs from d, weights have the wrong shape or
    sign, `rank` is outside 1..min(m, N), or data are non-finite; `FloatingPointError` if
    the dictionary produces non-finite features. Under `jit`, `rank` must be given.

    **References:** Williams, Kevrekidis & Rowley, *A data-driven approximation of the
    Koopman operator: extending dynamic mode decomposition*, J. Nonlinear Sci. 25 (2015);
    Colbrook & Townsend, *Rigorous data-driven computation of spectral properties of Koopman
    operators for dynamical systems*, CPAM 77 (2024); Colbrook, Mezić & Stepanenko,
    *Limits and Powers of Koopman Learning* (2024).
    """
    return fit_edmd("edmd", x, y, dictionary, weights=weights, rank=rank, rcond=rcond)


def fit_edmd(fn: str, x, y, dictionary, *, weights, rank, rcond,
             pairs_checked: bool = False) -> KoopmanResult:
    """`edmd` with errors named after the public function `fn` (`dictionary=None`: the
    identity, DMD); `pairs_checked` when the caller already ran `check_pairs` on x, y."""
    if not pairs_checked:
        x, y = check_pairs(fn, x, y)
    m, d = x.shape
    dictionary = Identity(d) if dictionary is None else check_dictionary(fn, dictionary, d)
    w = check_weights(fn, weights, m, x.dtype)
    return fit(fn, weighted_svd, dictionary, x, y, w, rank, rcond)


def gram_matrices(dictionary: AbstractDictionary, x: Num[ArrayLike, "m d"],
                  y: Num[ArrayLike, "m d"], *, weights: Real[ArrayLike, " m"] | None = None
                  ) -> tuple[Inexact[Array, "N N"], Inexact[Array, "N N"], Inexact[Array, "N N"]]:
    """The ResDMD matrices G = Ψ_X*WΨ_X, A = Ψ_X*WΨ_Y, L = Ψ_Y*WΨ_Y (weights normalised).

    As m → ∞, G_jk → ⟨ψ_k, ψ_j⟩, A_jk → ⟨Kψ_k, ψ_j⟩ and L_jk → ⟨Kψ_k, Kψ_j⟩. Provided for
    inspection and for users' own algorithms; the estimators here do not form them.

    **Arguments:** `dictionary`, pairs `x`, `y` `(m, d)`, optional `weights` `(m,)`.

    **Returns:** `(G, A, L)`, each `(N, N)`.

    **Raises:** as `edmd` for bad pairs, weights or dictionary.

    **References:** Colbrook & Townsend, CPAM 77 (2024), §3.
    """
    x, y = check_pairs("gram_matrices", x, y)
    check_dictionary("gram_matrices", dictionary, x.shape[1])
    w = check_weights("gram_matrices", weights, x.shape[0], x.dtype)
    px, py = dictionary(x), dictionary(y)
    wx = w[:, None] * px
    return px.conj().T @ wx, wx.conj().T @ py, py.conj().T @ (w[:, None] * py)


def resdmd(result: KoopmanResult, x: Num[ArrayLike, "m d"], y: Num[ArrayLike, "m d"],
           *, weights: Real[ArrayLike, " m"] | None = None) -> KoopmanResult:
    """Residuals of `result`'s eigenpairs measured on other snapshot pairs (x, y).

    res_j = ‖√W(Ψ_Y − λ_jΨ_X)g_j‖ / ‖√WΨ_X g_j‖ — the ResDMD residual of the fixed candidate
    (λ_j, g_j), evaluated as a norm on the new data (no Gram matrices). Use a second,
    independent data set (as ResDMD does for kernel dictionaries learned from the first) so
    that residuals are not optimistic.

    **Arguments:** `result` (a `KoopmanResult`), pairs `x`, `y` `(m, d)`, optional
    `weights` `(m,)`.

    **Returns:** a copy of `result` with `residuals` replaced.

    **Raises:** `TypeError` for a non-result; as `edmd` for bad pairs or weights.

    **References:** Colbrook & Townsend, CPAM 77 (2024), Algorithm 1.
    """
    check_result("resdmd", result)
    x, y = check_pairs("resdmd", x, y)
    check_dictionary("resdmd", result.dictionary, x.shape[1])
    w = check_weights("resdmd", weights, x.shape[0], x.dtype)
    res = residuals_on(result, x, y, w)
    return eqx.tree_at(lambda r: r.residuals, result, res.astype(result.residuals.dtype))
