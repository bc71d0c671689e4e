"""Minibatch couplings between base and target samples for flow matching.

`exact` re-pairs a batch by the optimal assignment (SciPy's `linear_sum_assignment` through
`jax.pure_callback`: the optimal plan between two uniform empirical measures of the same size
is a permutation, Birkhoff–von Neumann); `sinkhorn` draws pairs from the entropic plan solved
by ott-jax (imported on first use).
"""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from .._core.checks import shape_str

METHODS = ("independent", "ot", "sinkhorn")


def squared_distances(x, y) -> Array:
    """|xᵢ − yⱼ|², shape `(n, m)`."""
    return (jnp.sum(x**2, -1)[:, None] + jnp.sum(y**2, -1)[None, :] - 2 * x @ y.T).clip(0)


def _assignment(cost):
    from scipy.optimize import linear_sum_assignment

    _, cols = linear_sum_assignment(np.asarray(cost, dtype=np.float64))
    return cols.astype(np.int32)


def ot_assignment(x0, x1) -> Array:
    """The permutation π minimising Σᵢ |x0ᵢ − x1_{πᵢ}|² (exact; O(B³) on the host), shape
    `(B,)`. Works under `jit` and `vmap` (a host callback)."""
    if x0.shape != x1.shape:
        raise ValueError(f"ot_assignment: x0 and x1 must have the same shape, got "
                         f"{shape_str(x0)} and {shape_str(x1)}")
    cost = squared_distances(x0, x1)
    return jax.pure_callback(_assignment, jax.ShapeDtypeStruct((x0.shape[0],), jnp.int32),
                             cost, vmap_method="sequential")


def sinkhorn_plan(x0, x1, epsilon: float | None = None) -> Array:
    """The entropic OT plan between the uniform empirical measures of `x0` (n, d) and `x1`
    (m, d) for the squared Euclidean cost, by ott-jax's Sinkhorn solver; `epsilon` absolute,
    or None for ott's default (5% of the mean cost). Shape `(n, m)`, total mass 1."""
    from ott.geometry import pointcloud
    from ott.solvers import linear

    geom = pointcloud.PointCloud(x0, x1, epsilon=epsilon)
    return linear.solve(geom).matrix


def couple(x0, x1, key: PRNGKeyArray, *, method: str = "independent",
           epsilon: float | None = None) -> tuple[Array, Array]:
    """Index arrays `(i0, i1)` pairing rows of `x0` and `x1`: the coupled batch is
    `(x0[i0], x1[i1])`.

    `"independent"`: the rows as given; `"ot"`: the exact assignment; `"sinkhorn"`: `len(x0)`
    pairs drawn with replacement from the entropic plan (as torchcfm's OT plan sampler).

    **Raises:** `ValueError` naming `method`, or the shapes when they cannot be paired.
    """
    if method not in METHODS:
        raise ValueError(f"couple: method must be one of {METHODS}, got {method!r}")
    n = x0.shape[0]
    if method in ("independent", "ot") and x0.shape != x1.shape:
        raise ValueError(f"couple: method={method!r} needs x0 and x1 of the same shape, got "
                         f"{shape_str(x0)} and {shape_str(x1)}")
    if method == "independent":
        idx = jnp.arange(n)
        return idx, idx
    if method == "ot":
        return jnp.arange(n), ot_assignment(x0, x1)
    plan = sinkhorn_plan(x0, x1, epsilon)
    flat = jax.random.categorical(key, jnp.log(plan.reshape(-1) + 1e-30), shape=(n,))
    return flat // x1.shape[0], flat % x1.shape[0]
