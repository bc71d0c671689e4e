"""Minibatch couplings between base and target samples for flow matching, on the optimal
transport of `jaxlab.metrics`.

`"ot"` re-pairs a batch by the optimal assignment (`metrics.optimal_assignment`: the optimal
plan between two uniform empirical measures of the same size is a permutation,
Birkhoff–von Neumann); `"sinkhorn"` draws pairs from the entropic plan
(`metrics.entropic_wasserstein`, POT's log-domain Sinkhorn).
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Int, PRNGKeyArray, Real

from .. import metrics
from .._core.checks import as_float_array, check_choice, check_key, message, shape_str

COUPLINGS = ("independent", "ot", "sinkhorn")
# The Sinkhorn plan of a coupling: the iteration budget and marginal tolerance. The plan is
# used whether or not it met the tolerance: pairs drawn for a regression need no tight
# marginals (ott-jax, used before, stopped at a marginal error of 1e-3 without a status).
SINKHORN_MAX_ITER = 1000
SINKHORN_TOL = 1e-6


def couple(x0: Real[ArrayLike, "n d"], x1: Real[ArrayLike, "m d"], *,
           key: PRNGKeyArray | None = None, method: str = "independent",
           epsilon: float | None = None) -> tuple[Int[Array, " n"], Int[Array, " n"]]:
    """Index arrays `(i0, i1)` pairing rows of `x0` and `x1`: the coupled batch is
    `(x0[i0], x1[i1])`.

    `"independent"`: the rows as given; `"ot"`: the exact assignment
    (`metrics.optimal_assignment`); `"sinkhorn"`: `len(x0)` pairs drawn with replacement from
    the entropic plan for the squared Euclidean cost (`metrics.entropic_wasserstein`, as
    torchcfm's OT plan sampler), with regularisation `epsilon` (absolute; None: 0.05 times
    the standard deviation of the cost entries). The plan is taken after at most 1000
    Sinkhorn iterations or a marginal error below 10⁻⁶, whichever comes first, without
    raising: pairs drawn for a regression need no tight marginals.

    **Arguments:** `x0` `(n, d)`, `x1` `(m, d)` (m = n for `"independent"` and `"ot"`);
    `key` (needed by `"sinkhorn"` only, which draws); `method`; `epsilon`.

    **Returns:** `(i0, i1)`, each of shape `(n,)`.

    **Raises:** `ValueError` naming `method`, or the shapes when they cannot be paired;
    `TypeError` for non-real arrays or a missing key with `"sinkhorn"`.
    """
    check_choice("couple", "method", method, COUPLINGS)
    x0 = as_float_array("couple", "x0", x0, ndim=2)
    x1 = as_float_array("couple", "x1", x1, ndim=2)
    n = x0.shape[0]
    if method in ("independent", "ot") and x0.shape != x1.shape:
        raise ValueError(message("couple", "x1", f"of the shape of x0 {shape_str(x0)} with "
                                 f"method={method!r}", f"shape {shape_str(x1)}"))
    if x0.shape[1] != x1.shape[1]:
        raise ValueError(message("couple", "x1", f"of shape (m, {x0.shape[1]})",
                                 f"shape {shape_str(x1)}"))
    if method == "independent":
        idx = jnp.arange(n)
        return idx, idx
    if method == "ot":
        return jnp.arange(n), metrics.optimal_assignment(x0, x1)
    key = check_key("couple", key)
    plan = metrics.entropic_wasserstein(x0, x1, epsilon=epsilon, max_iter=SINKHORN_MAX_ITER,
                                        tol=SINKHORN_TOL, throw=False).plan
    flat = jax.random.categorical(key, jnp.log(plan.reshape(-1) + 1e-30), shape=(n,))
    return flat // x1.shape[0], flat % x1.shape[0]
