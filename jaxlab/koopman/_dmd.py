"""Exact dynamic mode decomposition: EDMD with the identity dictionary."""

from jaxtyping import ArrayLike, Num, Real

from ._edmd import fit_edmd
from ._result import KoopmanResult

__all__ = ["dmd"]


def dmd(x: Num[ArrayLike, "m d"], y: Num[ArrayLike, "m d"], *,
        rank: int | None = None, weights: Real[ArrayLike, " m"] | None = None,
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
    return fit_edmd("dmd", x, y, None, weights=weights, rank=rank, rcond=rcond)
