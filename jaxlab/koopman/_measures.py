"""Spectral measures of measure-preserving systems: resolvent-based (rational kernels on a
fitted Koopman operator) and moment-based (autocorrelations along one trajectory)."""

import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Complex, Float, Num, Real

from .._core.autocorrelation import lagged_products
from .._core.checks import (
    as_float_array,
    as_inexact_array,
    check_choice,
    check_int,
    check_number,
    check_shape,
    message,
    shape_str,
)
from ._result import KoopmanResult, check_result

__all__ = ["ergodic_moments", "moment_spectral_measure", "spectral_measure",
           "spectral_measure_kernel"]


def spectral_measure_kernel(order: int, epsilon: float
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poles and residues of the order-m rational smoothing kernel on the unit circle.

    The poles are λ_j = e^{iθ}(1 + εδ_j) with δ_j = 1 + i(2j/(m + 1) − 1), j = 1..m; the
    residues c, d solve the Vandermonde systems Σ_j c_j σ_j^k = δ_{k0}, Σ_j d_j δ_j^k =
    δ_{k0} (k < m), σ_j = −δ̄_j/(1 + εδ̄_j), which give a kernel with m − 1 vanishing moments,
    so smoothing errors are O(ε^m log(1/ε)). Poles and residue systems after ResDMD's
    `IsomMeas.m` (M. Colbrook, BSD-2-Clause).

    **Arguments:** `order` (m ≥ 1), `epsilon` (ε in (0, 1)).

    **Returns:** `(delta, c, d)`, complex NumPy arrays of shape `(m,)`.

    **Raises:** `TypeError` for a non-int order or a non-number ε; `ValueError` for m < 1
    or ε outside (0, 1).

    **References:** Colbrook & Townsend, CPAM 77 (2024), §4.
    """
    return _kernel("spectral_measure_kernel", order, epsilon)


def _kernel(fn, order, epsilon):
    order = check_int(fn, "order", order, minimum=1)
    epsilon = check_number(fn, "epsilon", epsilon, minimum=0.0, maximum=1.0, open_minimum=True,
                           open_maximum=True)
    j = np.arange(1, order + 1)
    delta = 1.0 + 1j * (2.0 * j / (order + 1) - 1.0)
    sigma = -delta.conj() / (1.0 + epsilon * delta.conj())
    k = np.arange(order)
    e0 = np.eye(order)[0]
    c = np.linalg.solve(sigma[None, :] ** k[:, None], e0)
    d = np.linalg.solve(delta[None, :] ** k[:, None], e0)
    return delta, c, d


def spectral_measure(result: KoopmanResult, coefficients: Num[ArrayLike, " N"],
                     theta: Real[ArrayLike, " p"], *, epsilon: float, order: int = 2
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

    **Raises:** `TypeError` for a non-result or non-numeric input; `ValueError` for a
    coefficient vector of the wrong shape, θ not 1-D, or bad ε / order.

    **References:** Colbrook & Townsend, *Rigorous data-driven computation of spectral
    properties of Koopman operators for dynamical systems*, CPAM 77 (2024), §4.
    """
    fn = "spectral_measure"
    check_result(fn, result)
    coefficients = as_inexact_array(fn, "coefficients", coefficients)
    check_shape(fn, "coefficients", coefficients, (result.num_features,),
                want=f"({result.num_features},) (one per dictionary function)")
    theta = as_float_array(fn, "theta", theta)
    check_shape(fn, "theta", theta, (None,), want="(p,)")
    delta, c, d = _kernel(fn, order, epsilon)
    cdt = result.eigenvalues.dtype
    lam, weights = _partial_fractions(result, coefficients.astype(cdt))
    return _isom_density(lam, weights, theta.astype(jnp.finfo(cdt).dtype),
                         jnp.asarray(delta, cdt), jnp.asarray(c, cdt), jnp.asarray(d, cdt),
                         jnp.asarray(epsilon, jnp.finfo(cdt).dtype))


@eqx.filter_jit
def _partial_fractions(result, coefficients):
    """The eigenvalues λ_k of Ã and the weights f̃*H_k (H⁻¹f̃)_k of ⟨R(λ)g, g⟩ =
    Σ_k w_k/(λ_k − λ), from the eigendecomposition Ã = HΛH⁻¹ that the fit already holds.

    The basis is T = V_rΣ_r⁻¹ (orthogonal columns), so T⁺ = Σ_r²T*: the coordinates of
    g = Ψc = ΨTf̃ on the kept subspace are f̃ = Σ_r²T*c, and the eigenvectors of Ã are
    H = Σ_r²T*G for the stored eigenvectors G = TH (column scales cancel in the weights).
    """
    s2 = (result.singular_values[: result.rank] ** 2).astype(coefficients.dtype)
    t_adjoint = result.basis.astype(coefficients.dtype).conj().T            # T*: (r, N)
    ft = s2 * (t_adjoint @ coefficients)                                    # f̃ = T⁺c
    h = s2[:, None] * (t_adjoint @ result.eigenvectors)                     # H
    a = jnp.linalg.solve(h, ft)                                             # H⁻¹ f̃
    b = h.conj().T @ ft                                                     # H* f̃
    return result.eigenvalues, b.conj() * a


@eqx.filter_jit
def _isom_density(lam, weights, theta, delta, c, d, epsilon):
    poles = jnp.exp(1j * theta)[:, None] * (1 + epsilon * delta)[None, :]         # (p, m)
    inv = 1.0 / (lam[None, None, :] - poles[:, :, None])                          # (p, m, r)
    s0 = jnp.sum(weights * inv, axis=-1)                          # ⟨R(λ) g, g⟩
    s1 = jnp.sum(weights * lam * inv, axis=-1)                    # ⟨K R(λ) g, g⟩
    terms = c[None, :] * poles.conj() * s0.conj() + d[None, :] * s1
    return -jnp.sum(terms.real, axis=-1) / (2 * math.pi)


def ergodic_moments(values: Num[ArrayLike, " n"], num_moments: int) -> Complex[Array, " k"]:
    """Autocorrelations ⟨K^k g, g⟩ ≈ (1/(n − k)) Σ_t g(x_{t+k}) conj(g(x_t)), k = 0..num_moments,
    of an observable along one ergodic trajectory (the Fourier coefficients of ν_g).

    **Arguments:** `values` (g along the trajectory, shape `(n,)`, real or complex; integer
    values are promoted), `num_moments` (K < n).

    **Returns:** the moments for k = 0..K, shape `(K + 1,)`, complex (complex64 for float32
    values, complex128 for float64 ones).

    **Raises:** `TypeError` for non-numeric values or a non-int K; `ValueError` for a bad
    shape or K ≥ n.

    **References:** Colbrook & Townsend, CPAM 77 (2024), §4.2 (the moment route,
    ResDMD's `MomentMeas.m`).
    """
    values = as_inexact_array("ergodic_moments", "values", values)
    check_shape("ergodic_moments", "values", values, (None,), want="(n,)")
    n = values.shape[0]
    num_moments = check_int("ergodic_moments", "num_moments", num_moments, minimum=0,
                            maximum=n - 1)
    return _moments(values, num_moments)


@eqx.filter_jit
def _moments(values, k):
    n = values.shape[0]
    corr = lagged_products(values, k)                              # Σ_t v_{t+k} conj(v_t)
    corr = corr.astype(jnp.result_type(values.dtype, jnp.complex64))
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


def moment_spectral_measure(moments: Num[ArrayLike, " k"], theta: Real[ArrayLike, " p"], *,
                            filter: str = "vandeven") -> Float[Array, " p"]:
    """Smoothed spectral density from the moments ν̂(k) = ⟨K^k g, g⟩, k = 0..K.

    ν^K(θ) = (1/2π) Σ_{|k|≤K} φ(|k|/K) ν̂(k) e^{−ikθ}, with ν̂(−k) = conj ν̂(k) and a filter φ
    (`"fejer"` 1 − x, first order; `"cosine"`, second order; `"vandeven"`, the fourth-order
    Vandeven filter; `"sharp_cosine"`, eighth order), so that errors are O(K^{−order}) where
    ν_g is smooth. This is the moment route of ResDMD (`MomentMeas.m`), for data along one
    trajectory (`ergodic_moments`).

    **Arguments:** `moments` (ν̂(0..K), shape `(K + 1,)`, K ≥ 1), `theta` (angles, shape
    `(p,)`), `filter`.

    **Returns:** the smoothed density at `theta`, shape `(p,)`.

    **Raises:** `TypeError` for non-numeric input; `ValueError` for an unknown filter, a
    moment vector of fewer than 2 entries or θ not 1-D.

    **References:** Colbrook & Townsend, CPAM 77 (2024), §4.2.
    """
    fn = "moment_spectral_measure"
    filter = check_choice(fn, "filter", filter, _FILTERS)
    moments = as_inexact_array(fn, "moments", moments)
    if moments.ndim != 1 or moments.shape[0] < 2:
        raise ValueError(message(fn, "moments", "of shape (K + 1,) with K >= 1",
                                 f"shape {shape_str(moments)}"))
    theta = as_float_array(fn, "theta", theta)
    check_shape(fn, "theta", theta, (None,), want="(p,)")
    return _moment_density(moments, theta, filter)


@eqx.filter_jit
def _moment_density(moments, theta, name):
    cdt = jnp.result_type(moments.dtype, theta.dtype, jnp.complex64)
    rdt = jnp.finfo(cdt).dtype
    kmax = moments.shape[0] - 1
    k = jnp.arange(kmax + 1, dtype=rdt)
    phi = _filter(name, k / kmax).at[-1].set(0.0)
    weighted = (phi * moments).astype(cdt)
    series = jnp.exp(-1j * theta.astype(rdt)[:, None] * k[None, :]) @ weighted      # k ≥ 0
    return (2 * series.real - weighted[0].real) / (2 * math.pi)
