"""Exact optimal transport between point clouds: the optimal assignment of two equal-size
uniform clouds, and the exact Wasserstein distance (assignment, or POT's network simplex
for weighted or unequal clouds), both as host callbacks that work under `jit` and `vmap`."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, Real

from .._core.checks import as_weights, check_number, common_float_dtype, message, shape_str
from ._clouds import as_clouds, normalise, pairwise_cost
from ._host import host_callback

# The network simplex stops after this many pivots (POT's default is 10⁵, too few for clouds
# of a few thousand points); it then reports a non-optimal result code.
_EMD_MAX_ITER = 10**7


def _assignment_host(cost):
    # importing scipy.optimize costs ~0.25 s: only when an assignment is solved
    from scipy.optimize import linear_sum_assignment

    _, cols = linear_sum_assignment(np.asarray(cost, dtype=np.float64))
    return cols.astype(np.int32)


def assignment(cost: Float[Array, "n n"]) -> Int[Array, " n"]:
    """The permutation π minimising Σᵢ cost[i, πᵢ] (SciPy's `linear_sum_assignment` on the
    host, in float64), shape `(n,)`; no gradient flows through it."""
    (perm,) = host_callback(lambda c: (_assignment_host(c),),
                            (jax.ShapeDtypeStruct(cost.shape[:1], jnp.int32),), cost)
    return perm


def _emd_host(a, b, cost):
    import ot  # importing POT costs ~1.5 s (it loads its backends): only when a plan is solved

    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    plan, log = ot.emd(a / a.sum(), b / b.sum(), np.asarray(cost, np.float64),
                       numItermax=_EMD_MAX_ITER, log=True)
    return plan, np.asarray(log["result_code"] == 1)


def exact_plan(a: Float[Array, " n"], b: Float[Array, " m"], cost: Float[Array, "n m"]
               ) -> tuple[Float[Array, "n m"], Array]:
    """The optimal transport plan between the weights `a` and `b` for `cost` (POT's network
    simplex, `ot.emd`, on the host in float64) and whether it is optimal (POT's result code
    1); no gradient flows through it."""
    shapes = (jax.ShapeDtypeStruct(cost.shape, cost.dtype), jax.ShapeDtypeStruct((), jnp.bool_))
    return host_callback(_emd_host, shapes, a, b, cost)


def optimal_assignment(x: Real[ArrayLike, "n ..."], y: Real[ArrayLike, "n ..."]
                       ) -> Int[Array, " n"]:
    """The permutation π minimising Σᵢ |xᵢ − y_{πᵢ}|², shape `(n,)`.

    The optimal transport plan between two uniform empirical measures of the same size is a
    permutation (Birkhoff–von Neumann), so this is exact optimal transport for the squared
    Euclidean cost: `y[π]` is the optimal re-pairing of the rows of `y` with those of `x`.
    Solved by SciPy's `linear_sum_assignment` (O(n³)) in a host callback, so it works under
    `jit` and `vmap` (one solve per batch element).

    **Arguments:** `x`, `y`: point clouds of the same shape `(n, d)` (a 1-D array is `(n, 1)`).

    **Returns:** π, int32, shape `(n,)`.

    **Raises:** `TypeError` for non-real input; `ValueError` for clouds of different shapes
    or empty ones.

    **References:** Kuhn, *The Hungarian method for the assignment problem* (1955); Crouse,
    *On implementing 2D rectangular assignment algorithms* (IEEE TAES 2016, SciPy's solver).
    """
    fn = "optimal_assignment"
    x, y = as_clouds(fn, x, y)
    if x.shape != y.shape:
        raise ValueError(message(fn, "x and y", "clouds of the same shape",
                                 f"shapes {shape_str(x)} and {shape_str(y)}"))
    return _optimal_assignment(x, y)


@jax.jit
def _optimal_assignment(x, y):
    return assignment(pairwise_cost(x, y, 2.0))


def wasserstein(
    x: Real[ArrayLike, "n ..."],
    y: Real[ArrayLike, "m ..."],
    *,
    order: float = 2.0,
    x_weights: Real[ArrayLike, " n"] | None = None,
    y_weights: Real[ArrayLike, " m"] | None = None,
) -> Float[Array, ""]:
    """The exact p-Wasserstein distance between two point clouds,
    W_p = (min over couplings γ of Σᵢⱼ γᵢⱼ |xᵢ − yⱼ|^p)^{1/p} (Euclidean norm).

    Two uniform clouds of the same size are solved as an assignment problem (SciPy's
    `linear_sum_assignment`, O(n³)); weighted or unequal clouds by POT's network simplex
    (`ot.emd`, the solver of `ot.emd2`). Both run in float64 in a host callback, so the
    function works under `jit` and `vmap`. The cost Σ γᵢⱼ |xᵢ − yⱼ|^p is summed in JAX with
    the optimal plan held fixed, so `grad` with respect to the points is the envelope-theorem
    gradient (exact wherever the optimal plan is unique); no gradient flows to the weights.
    If the network simplex stops before optimality (more than 10⁷ pivots) the result is NaN.

    **Arguments:**

    - `x`, `y`: point clouds, shapes `(n, d)` and `(m, d)` (a 1-D array is `(n, 1)`).
    - `order`: p ≥ 1.
    - `x_weights`, `y_weights`: non-negative weights of the points (normalised to sum 1),
      or None for uniform weights.

    **Returns:** W_p, a scalar in the floating dtype of the clouds and weights.

    **Raises:** `TypeError` for non-real input; `ValueError` for clouds of different
    dimension, bad weights or `order < 1`.

    **References:** Villani, *Optimal Transport: Old and New* (2009), Ch. 6; Bonneel, van de
    Panne, Paris & Heidrich, *Displacement interpolation using Lagrangian mass transport*
    (SIGGRAPH Asia 2011; POT's network simplex).
    """
    fn = "wasserstein"
    order = check_number(fn, "order", order, minimum=1.0)
    x, y = as_clouds(fn, x, y)
    dtype = common_float_dtype(x, y, x_weights, y_weights)
    x, y = x.astype(dtype), y.astype(dtype)
    n, m = x.shape[0], y.shape[0]
    if x_weights is None and y_weights is None and n == m:
        return _assignment_wasserstein(x, y, order)
    wx = as_weights(fn, "x_weights", x_weights, n, dtype)
    wy = as_weights(fn, "y_weights", y_weights, m, dtype)
    return _plan_wasserstein(x, y, wx, wy, order)


@functools.partial(jax.jit, static_argnames="order")
def _assignment_wasserstein(x, y, order: float):
    cost = pairwise_cost(x, y, order)
    perm = assignment(cost)
    return jnp.mean(jnp.take_along_axis(cost, perm[:, None], axis=1)) ** (1.0 / order)


@functools.partial(jax.jit, static_argnames="order")
def _plan_wasserstein(x, y, wx, wy, order: float):
    cost = pairwise_cost(x, y, order)
    plan, optimal = exact_plan(normalise(wx), normalise(wy), cost)
    return jnp.where(optimal, jnp.sum(plan * cost), jnp.nan) ** (1.0 / order)
