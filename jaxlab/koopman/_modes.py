"""What a fitted Koopman operator gives: eigenfunctions, forecasts by Koopman mode
decomposition, and the dictionary coefficients of an observable."""

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Complex, Inexact, Num, Real

from .._core.checks import as_inexact_array, check_int, check_shape, message, shape_str
from ._result import KoopmanResult, check_dictionary, check_result, check_weights

__all__ = ["eigenfunctions", "observable_coefficients", "predict"]


def _check_states(fn, name, result, x):
    x = as_inexact_array(fn, name, x)
    d = result.modes.shape[1]
    if x.ndim < 1 or x.shape[-1] != d:
        raise ValueError(message(fn, name, f"of shape (..., {d}) (states of the fitted "
                                 "system)", f"shape {shape_str(x)}"))
    return x


def eigenfunctions(result: KoopmanResult, x: Num[ArrayLike, "*batch d"]
                   ) -> Complex[Array, "*batch r"]:
    """The approximate Koopman eigenfunctions φ_j(x) = Ψ(x) g_j, shape `(..., r)`.

    **Arguments:** `result` (a `KoopmanResult`), states `x` `(..., d)`.

    **Returns:** φ_j at every state, shape `(..., r)`, complex.

    **Raises:** `TypeError` for a non-result or non-numeric states; `ValueError` if the
    last axis of `x` is not d.

    **References:** Williams, Kevrekidis & Rowley (2015), §2.
    """
    check_result("eigenfunctions", result)
    x = _check_states("eigenfunctions", "x", result, x)
    return _eigenfunctions(result, x)


def _eigenfunctions(result, x):
    psi = result.dictionary(x)
    return psi.astype(result.eigenvectors.dtype) @ result.eigenvectors


def predict(result: KoopmanResult, x0: Num[ArrayLike, "*batch d"], steps: int
            ) -> Inexact[Array, "steps_plus_1 *batch d"]:
    """Forecast by Koopman mode decomposition: x_n ≈ Σ_j λ_j^n φ_j(x_0) modes_j.

    **Arguments:** `result` (from `edmd`/`dmd`/`kernel_edmd`), `x0` (initial states,
    `(..., d)`), `steps` (n_max ≥ 0, static).

    **Returns:** the forecasts for n = 0..steps, shape `(steps + 1, ..., d)`; real when the
    data were real (the imaginary part of a conjugate-symmetric expansion is round-off).

    **Raises:** `TypeError` for a non-result or a non-int `steps`; `ValueError` if `steps`
    < 0 or x0 has the wrong last axis.

    **References:** Mezić, *Analysis of fluid flows via spectral properties of the Koopman
    operator*, Annu. Rev. Fluid Mech. 45 (2013).
    """
    check_result("predict", result)
    steps = check_int("predict", "steps", steps, minimum=0)
    x0 = _check_states("predict", "x0", result, x0)
    phi = _eigenfunctions(result, x0)                                  # (..., r)
    n = jnp.arange(steps + 1)
    powers = result.eigenvalues[None, :] ** n[:, None]                 # (n, r)
    out = jnp.einsum("nr,...r,rd->n...d", powers, phi, result.modes)
    return out if jnp.iscomplexobj(x0) else out.real


def observable_coefficients(result: KoopmanResult, x: Num[ArrayLike, "m d"],
                            values: Num[ArrayLike, " m"], *,
                            weights: Real[ArrayLike, " m"] | None = None) -> Inexact[Array, " N"]:
    """Dictionary coefficients c of an observable, g ≈ Ψc, by weighted least squares on the
    kept subspace of `result` (min ‖√W(Ψ_X c − g(x))‖ with c = T f̃).

    **Arguments:** `result`, states `x` `(m, d)`, the observable's `values` at them `(m,)`,
    optional `weights` `(m,)`.

    **Returns:** c, shape `(N,)` (complex dtype of the result).

    **Raises:** `TypeError` for a non-result or non-numeric input; `ValueError` for
    mismatched shapes or bad weights.

    **References:** Colbrook & Townsend, CPAM 77 (2024), §4.
    """
    fn = "observable_coefficients"
    check_result(fn, result)
    x = as_inexact_array(fn, "x", x)
    check_shape(fn, "x", x, (None, None), want="(m, d)")
    values = as_inexact_array(fn, "values", values)
    check_shape(fn, "values", values, (x.shape[0],), want=f"({x.shape[0]},) (one per state)")
    check_dictionary(fn, result.dictionary, x.shape[1])
    w = check_weights(fn, weights, x.shape[0], x.dtype)
    cdt = result.eigenvectors.dtype
    sw = jnp.sqrt(w)
    design = (sw[:, None] * result.dictionary(x)).astype(cdt) @ result.basis.astype(cdt)
    ft = jnp.linalg.lstsq(design, (sw * values).astype(cdt))[0]
    return result.basis.astype(cdt) @ ft
