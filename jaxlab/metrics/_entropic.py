"""Entropy-regularised optimal transport between point clouds, by POT's log-domain Sinkhorn."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, Real

from .._core.checks import as_weights, check_bool, check_int, check_number, common_float_dtype
from .._core.results import RESULTS, AbstractResult, check_status, status_where
from ._clouds import as_clouds, normalise, pairwise_cost
from ._host import host_callback

# ott-jax's default regularisation for a point cloud: this fraction of the standard
# deviation of the cost matrix's entries.
_RELATIVE_EPSILON = 0.05


class EntropicTransport(AbstractResult):
    """The output of `entropic_wasserstein`.

    **Fields:**

    - `distance`: (Σᵢⱼ Pᵢⱼ Cᵢⱼ)^{1/p}, the transport cost of the entropic plan P under the
      cost Cᵢⱼ = |xᵢ − yⱼ|^p, to the power 1/p (it tends to W_p as ε → 0).
    - `plan`: P, shape `(n, m)`, total mass 1; its row sums are the weights of `x` exactly,
      its column sums those of `y` up to `error`.
    - `epsilon`: the regularisation ε used (absolute, in units of the cost).
    - `error`: POT's stopping criterion at the last check, ‖Pᵀ1 − b‖₂ (checked every 10
      iterations).
    - `num_iterations`: the Sinkhorn iterations run.
    - `status`: `RESULTS.successful`, `RESULTS.not_converged` when `error` is still above
      `tol` after `max_iter` iterations, or `RESULTS.nonfinite`.
    """

    distance: Float[Array, ""]
    plan: Float[Array, "n m"]
    epsilon: Float[Array, ""]
    error: Float[Array, ""]
    num_iterations: Int[Array, ""]
    status: RESULTS


def _sinkhorn_host(a, b, cost, epsilon, *, max_iter: int, tol: float):
    import ot  # importing POT costs ~1.5 s (it loads its backends): only when a plan is solved

    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    # POT's log dict also holds the scalings exp(log u), exp(log v), which overflow at small
    # ε; they are not used here, and the plan itself is formed in the log domain (checked
    # for finiteness by the caller, status `nonfinite`)
    with np.errstate(over="ignore"):
        plan, log = ot.sinkhorn(a / a.sum(), b / b.sum(), np.asarray(cost, np.float64),
                                float(epsilon), method="sinkhorn_log", numItermax=max_iter,
                                stopThr=tol, log=True, warn=False)
    error = log["err"][-1] if log["err"] else np.inf
    return plan, np.asarray(error), np.asarray(log["niter"] + 1, np.int32)


def entropic_wasserstein(
    x: Real[ArrayLike, "n ..."],
    y: Real[ArrayLike, "m ..."],
    *,
    epsilon: float | None = None,
    order: float = 2.0,
    x_weights: Real[ArrayLike, " n"] | None = None,
    y_weights: Real[ArrayLike, " m"] | None = None,
    max_iter: int = 1000,
    tol: float = 1e-9,
    throw: bool = True,
) -> EntropicTransport:
    """Entropy-regularised optimal transport between two point clouds: the plan
    P = argmin ⟨P, C⟩ − ε H(P) over the couplings of the two weight vectors, with
    Cᵢⱼ = |xᵢ − yⱼ|^p, and its transport cost.

    Solved by POT's log-domain Sinkhorn (`ot.sinkhorn(..., method="sinkhorn_log")`, stable
    for small ε) in float64 in a host callback, so it works under `jit` and `vmap`; the
    distance is summed in JAX with the plan held fixed (`grad` with respect to the points is
    ⟨P, ∂C⟩, the gradient of the regularised cost; no gradient flows to the weights). The
    iteration stops when the marginal error ‖Pᵀ1 − b‖₂ falls below `tol`, checked every 10
    iterations; if it has not after `max_iter` iterations the status is
    `RESULTS.not_converged`.

    **Arguments:**

    - `x`, `y`: point clouds, shapes `(n, d)` and `(m, d)` (a 1-D array is `(n, 1)`).
    - `epsilon`: the regularisation ε > 0 (absolute, in units of the cost); None: 0.05 times
      the standard deviation of the cost matrix's entries (ott-jax's default).
    - `order`: p ≥ 1.
    - `x_weights`, `y_weights`: non-negative weights of the points (normalised to sum 1),
      or None for uniform weights.
    - `max_iter`: the iteration budget (≥ 1); `tol`: the marginal-error tolerance (> 0).
    - `throw`: raise at run time when the status is not successful (otherwise only report).

    **Returns:** an `EntropicTransport` (`distance`, `plan`, `epsilon`, `error`,
    `num_iterations`, `status`), arrays in the floating dtype of the clouds and weights.

    **Raises:** `TypeError` for non-real input or a wrongly typed option; `ValueError` for
    clouds of different dimension, bad weights, or an option out of range.

    **References:** Cuturi, *Sinkhorn distances: lightspeed computation of optimal
    transport* (NeurIPS 2013); Peyré & Cuturi, *Computational Optimal Transport* (2019),
    §4.4 (log-domain stabilisation).
    """
    fn = "entropic_wasserstein"
    epsilon = check_number(fn, "epsilon", epsilon, minimum=0.0, open_minimum=True, none_ok=True)
    order = check_number(fn, "order", order, minimum=1.0)
    max_iter = check_int(fn, "max_iter", max_iter, minimum=1)
    tol = check_number(fn, "tol", tol, minimum=0.0, open_minimum=True)
    throw = check_bool(fn, "throw", throw)
    x, y = as_clouds(fn, x, y)
    dtype = common_float_dtype(x, y, x_weights, y_weights)
    x, y = x.astype(dtype), y.astype(dtype)
    wx = as_weights(fn, "x_weights", x_weights, x.shape[0], dtype)
    wy = as_weights(fn, "y_weights", y_weights, y.shape[0], dtype)
    eps = None if epsilon is None else jnp.asarray(epsilon, dtype)
    return _entropic_wasserstein(x, y, wx, wy, eps, order=order, max_iter=max_iter, tol=tol,
                                 throw=throw)


@eqx.filter_jit
def _entropic_wasserstein(x, y, wx, wy, eps, *, order: float, max_iter: int, tol: float,
                          throw: bool) -> EntropicTransport:
    fn = "entropic_wasserstein"
    dtype = x.dtype
    cost = pairwise_cost(x, y, order)
    if eps is None:
        eps = _RELATIVE_EPSILON * jnp.std(cost)
    shapes = (jax.ShapeDtypeStruct(cost.shape, dtype), jax.ShapeDtypeStruct((), dtype),
              jax.ShapeDtypeStruct((), jnp.int32))
    host = functools.partial(_sinkhorn_host, max_iter=max_iter, tol=tol)
    plan, error, iterations = host_callback(host, shapes, normalise(wx), normalise(wy), cost,
                                            eps)
    finite = jnp.all(jnp.isfinite(plan))
    status = RESULTS.where(finite, status_where(error < tol, RESULTS.not_converged),
                           RESULTS.nonfinite)
    distance = jnp.sum(plan * cost) ** (1.0 / order)
    distance, plan = check_status(fn, status, (distance, plan), throw)
    return EntropicTransport(distance=distance, plan=plan, epsilon=eps, error=error,
                             num_iterations=iterations, status=status)
