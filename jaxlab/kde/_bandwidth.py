"""Bandwidth selection: rules of thumb and cross-validation (likelihood and least squares)."""

import typing

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, ArrayLike, Float, Real

from .._core.checks import check_bool, check_int, message
from .._core.results import RESULTS, AbstractResult, check_status
from ._kde import KDE, as_data, normalised_weights
from ._kernels import AbstractKernel, Gaussian, get_kernel


def weighted_covariance(data: Real[ArrayLike, "n d"], weights: Real[ArrayLike, " n"] | None
                        = None) -> Float[Array, "d d"]:
    """The unbiased weighted covariance of the rows of `data`, as `np.cov(data.T,
    aweights=weights)` (the data covariance scipy's `gaussian_kde` scales).

    **Raises:** `ValueError` for bad data or weights, or fewer than two points.
    """
    x = as_data(data, "weighted_covariance")
    if x.shape[0] < 2:
        raise ValueError(message("weighted_covariance", "data", "at least 2 points",
                                 x.shape[0]))
    w = normalised_weights(weights, x.shape[0], x.dtype, "weighted_covariance")
    centred = x - jnp.sum(w[:, None] * x, axis=0)
    return (centred * w[:, None]).T @ centred / (1.0 - jnp.sum(w**2))


def _effective_n(weights, n, dtype, fn):
    w = normalised_weights(weights, n, dtype, fn)
    return 1.0 / jnp.sum(w**2)


def scott_factor(n_eff: float | Array, d: int) -> Array:
    """Scott's rule n_eff^(−1/(d+4))."""
    return jnp.asarray(n_eff) ** (-1.0 / (d + 4))


def silverman_factor(n_eff: float | Array, d: int) -> Array:
    """Silverman's rule (n_eff (d + 2) / 4)^(−1/(d+4))."""
    return (jnp.asarray(n_eff) * (d + 2) / 4.0) ** (-1.0 / (d + 4))


def scott_bandwidth(data: Real[ArrayLike, "n d"], *, weights: Real[ArrayLike, " n"] | None
                    = None) -> Float[Array, "d d"]:
    """Scott's rule: the bandwidth matrix H = n_eff^(−2/(d+4)) Σ̂ (Σ̂ the weighted data
    covariance), as scipy's `gaussian_kde(bw_method="scott")`.

    Beware in high dimension: the factor tends to 1 and puts the estimator in the classical
    (CLT) regime, which is not KL-optimal there (see `jaxlab.kde.regime`).

    **References:** Scott (1992), *Multivariate Density Estimation*, Wiley.
    """
    x = as_data(data, "scott_bandwidth")
    n_eff = _effective_n(weights, x.shape[0], x.dtype, "scott_bandwidth")
    return scott_factor(n_eff, x.shape[1]) ** 2 * weighted_covariance(x, weights)


def silverman_bandwidth(data: Real[ArrayLike, "n d"], *,
                        weights: Real[ArrayLike, " n"] | None = None) -> Float[Array, "d d"]:
    """Silverman's rule: H = (n_eff (d+2)/4)^(−2/(d+4)) Σ̂, as scipy's
    `gaussian_kde(bw_method="silverman")`.

    **References:** Silverman (1986), *Density Estimation for Statistics and Data Analysis*.
    """
    x = as_data(data, "silverman_bandwidth")
    n_eff = _effective_n(weights, x.shape[0], x.dtype, "silverman_bandwidth")
    return silverman_factor(n_eff, x.shape[1]) ** 2 * weighted_covariance(x, weights)


@typing.final
class CrossValidationResult(AbstractResult):
    """The outcome of a cross-validated bandwidth search over H = c² Σ̂.

    **Fields:** `bandwidth` (the matrix H, `(d, d)`), `factor` (c), `objective` (the
    criterion at c: minus the mean leave-one-out log-likelihood for LCV, the LSCV risk
    estimate for LSCV), `status` (a `jaxlab.RESULTS`: `successful` when BFGS met its
    tolerance within its step budget, else optimistix's reason, e.g.
    `nonlinear_max_steps_reached`; `converged` is derived from it).
    """

    bandwidth: Float[Array, "d d"]
    factor: Float[Array, ""]
    objective: Float[Array, ""]
    status: RESULTS


def _scaled_kde(x, w, kernel, covariance, log_c):
    return KDE(x, kernel, jnp.exp(2 * log_c) * covariance, weights=w)


def lcv_objective(log_factor, data, weights, kernel, covariance):
    """Minus the weighted mean leave-one-out log-likelihood at H = exp(2·log_factor) Σ̂."""
    kde = _scaled_kde(data, weights, kernel, covariance, log_factor)
    loo = kde.leave_one_out_logpdf()
    return -jnp.sum(kde.weights * loo)


def lscv_objective(log_factor, data, weights, covariance):
    """The least-squares CV risk ∫ρ̂² − 2 Σ_i w_i ρ̂₋ᵢ(y_i) (Gaussian kernel: ∫ρ̂² is the
    double sum of N(y_i − y_j; 0, 2H))."""
    kde = _scaled_kde(data, weights, Gaussian(), covariance, log_factor)
    loo = kde.leave_one_out_logpdf()
    wide = KDE(data, Gaussian(), 2 * kde.bandwidth_matrix, weights=weights)
    log_square = jax.nn.logsumexp(jnp.log(wide.weights) + wide.logpdf(data))
    return jnp.exp(log_square) - 2 * jnp.sum(kde.weights * jnp.exp(loo))


def _lcv(log_c, args):
    return lcv_objective(log_c, *args)


def _lscv(log_c, args):
    return lscv_objective(log_c, *args)


@eqx.filter_jit
def _cross_validate(fn, objective, args, covariance, start, max_steps, throw):
    # `objective` is a module-level function of (log c, args) and the data travel in `args`,
    # so a second call with data of the same shape reuses the compiled BFGS (a closure over
    # the data, new at every call, made optimistix recompile each time: ~3.5 s per call).
    solver = optx.BFGS(rtol=1e-6, atol=1e-8)
    sol = optx.minimise(objective, solver, jnp.log(start), args=args, max_steps=max_steps,
                        throw=False)
    log_c = sol.value
    status = RESULTS.promote(sol.result)
    # `throw` is traced (both settings share one compilation): raise only where it is set
    raised = RESULTS.where(throw, status, RESULTS.successful)
    factor = check_status(fn, raised, jnp.exp(log_c), True)
    return CrossValidationResult(bandwidth=jnp.exp(2 * log_c) * covariance, factor=factor,
                                 objective=objective(log_c, args), status=status)


def _cv_inputs(fn, data, weights, max_steps, throw):
    """Validated data, normalised weights, the data covariance Σ̂, Scott's factor (the
    search's start), the step budget and `throw`."""
    x = as_data(data, fn)
    w = normalised_weights(weights, x.shape[0], x.dtype, fn)
    max_steps = check_int(fn, "max_steps", max_steps, minimum=1)
    throw = jnp.asarray(check_bool(fn, "throw", throw))
    start = scott_factor(1.0 / jnp.sum(w**2), x.shape[1])
    return x, w, weighted_covariance(x, w), start, max_steps, throw


def lcv_bandwidth(data: Real[ArrayLike, "n d"], *, kernel: "str | AbstractKernel" = "gaussian",
                  weights: Real[ArrayLike, " n"] | None = None, max_steps: int = 100,
                  throw: bool = True) -> CrossValidationResult:
    """Likelihood cross-validation: the factor c of H = c² Σ̂ that maximises the mean
    leave-one-out log-likelihood Σ_i w_i log ρ̂₋ᵢ(y_i), found with BFGS (optimistix) on
    log c from Scott's factor. The objective is differentiated through the exact blocked
    sum.

    For compact kernels the objective is −inf wherever some point has no neighbour within
    the bandwidth; start from a data set without isolated points or use the Gaussian.

    **Arguments:**

    - `data`: `(n, d)` (or `(n,)`) real data, n ≥ 2.
    - `kernel`: a kernel name or an `AbstractKernel`.
    - `weights`: optional non-negative `(n,)` weights.
    - `max_steps`: the BFGS step budget, an int ≥ 1.
    - `throw`: raise at run time (also under `jit`) when BFGS stops without meeting its
      tolerance; with False the failure is only reported in `status`.

    **Returns:** a `CrossValidationResult` (bandwidth, factor, objective, status).

    **Raises:** `TypeError`/`ValueError` for bad data, weights, kernel, `max_steps` or
    `throw`; with `throw=True`, a runtime error naming the status when BFGS fails.

    **References:** Duin (1976), *On the choice of smoothing parameters for Parzen
    estimators*, IEEE Trans. Computers C-25, 1175-1179.
    """
    fn = "lcv_bandwidth"
    kern = get_kernel(kernel, fn)
    x, w, cov, start, max_steps, throw = _cv_inputs(fn, data, weights, max_steps, throw)
    if not isinstance(kern, Gaussian):
        start = 2.0 * start  # compact kernels need a wider start to reach every point
    return _cross_validate(fn, _lcv, (x, w, kern, cov), cov, start, max_steps, throw)


def lscv_bandwidth(data: Real[ArrayLike, "n d"], *,
                   weights: Real[ArrayLike, " n"] | None = None, max_steps: int = 100,
                   throw: bool = True) -> CrossValidationResult:
    """Least-squares (unbiased) cross-validation for the Gaussian kernel: the factor c of
    H = c² Σ̂ minimising ∫ρ̂² − 2 Σ_i w_i ρ̂₋ᵢ(y_i), an unbiased estimate of the integrated
    squared error minus a constant; BFGS on log c from Scott's factor.

    **Arguments:** as `lcv_bandwidth` (the kernel is the Gaussian).

    **Returns:** a `CrossValidationResult` (objective: the LSCV risk).

    **Raises:** as `lcv_bandwidth`.

    **References:** Rudemo (1982), Bowman (1984), *An alternative method of
    cross-validation for the smoothing of density estimates*, Biometrika 71, 353-360.
    """
    fn = "lscv_bandwidth"
    x, w, cov, start, max_steps, throw = _cv_inputs(fn, data, weights, max_steps, throw)
    return _cross_validate(fn, _lscv, (x, w, cov), cov, start, max_steps, throw)

