"""The minimum of a sampled curve, refined by the parabola through the three lowest grid
points (the interpolated optimum of a cross-entropy or risk curve over bandwidths)."""

import functools
import typing

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Real

from .._core.checks import as_float_array, concrete_values, message, shape_str


@typing.final
class ParabolicMinimum(eqx.Module):
    """The refined minimum of a sampled curve (see `parabolic_minimum`).

    **Fields:**

    - `location`: the minimiser x̂, inside [x[0], x[-1]].
    - `value`: the parabola's value at x̂ (the sampled value at an edge).
    - `at_edge`: whether the smallest sample is the first or last one, where the minimum is
      not bracketed (then x̂ is that grid point): widen the grid.
    """

    location: Float[Array, ""]
    value: Float[Array, ""]
    at_edge: Bool[Array, ""]


def check_increasing(fn: str, name: str, x) -> None:
    """A `ValueError` naming the first offending pair when the values of `x` (`(..., k)`),
    known now, do not increase strictly along the last axis; skipped under tracing."""
    values = concrete_values(x)
    if values is None:
        return
    ok = np.diff(values, axis=-1) > 0
    if not np.all(ok):
        k = np.unravel_index(int(np.argmin(ok)), ok.shape)
        nxt = (*k[:-1], k[-1] + 1)
        raise ValueError(message(fn, name, "strictly increasing",
                                 f"{name}[{k[-1]}] = {float(values[k])!r} and "
                                 f"{name}[{k[-1] + 1}] = {float(values[nxt])!r}"))


def parabolic_minimum(x: Real[ArrayLike, " k"], y: Real[ArrayLike, " k"]
                      ) -> ParabolicMinimum:
    """The minimiser of a curve sampled at increasing x: the grid argmin i, refined to the
    vertex of the parabola through (x, y) at i − 1, i, i + 1.

    The vertex is clipped to [x[i − 1], x[i + 1]]; where the three points are not convex
    (a zero or negative curvature) the grid point x[i] is kept. For a curve sampled on a
    logarithmic grid (bandwidths) pass log x and exponentiate the location. The error of
    the vertex is O(δ³ f'''/f'') for a smooth curve on a grid of spacing δ. Works under
    `jit`/`vmap` (batch several curves with `vmap`, e.g. bootstrap resamples).

    **Arguments:**

    - `x`: `(k,)` strictly increasing abscissae, k ≥ 3.
    - `y`: `(k,)` values (finite; NaN is never the minimum).

    **Returns:** a `ParabolicMinimum` (location, value, at_edge), in the dtype of `x` and
    `y` promoted together.

    **Raises:** `TypeError` for non-real inputs; `ValueError` for shapes other than two
    equal `(k,)` with k ≥ 3, or (when known) an `x` that is not strictly increasing.

    **References:** successive parabolic interpolation, e.g. Press et al., *Numerical
    Recipes* (3rd ed., 2007), §10.3.
    """
    fn = "parabolic_minimum"
    x = as_float_array(fn, "x", x, ndim=1)
    y = as_float_array(fn, "y", y, ndim=1)
    if x.shape[0] < 3 or y.shape != x.shape:
        raise ValueError(message(fn, "x and y", "of equal shape (k,) with k >= 3",
                                 f"shapes {shape_str(x)} and {shape_str(y)}"))
    check_increasing(fn, "x", x)
    dtype = jnp.result_type(x, y)
    return _parabolic_minimum(x, y, dtype)


@functools.partial(jax.jit, static_argnums=2)
def _parabolic_minimum(x, y, dtype):
    x, y = x.astype(dtype), y.astype(dtype)
    size = x.shape[0]
    i = jnp.argmin(jnp.where(jnp.isnan(y), jnp.inf, y))
    at_edge = (i == 0) | (i == size - 1)
    j = jnp.clip(i, 1, size - 2)
    x0, x1, x2 = x[j - 1], x[j], x[j + 1]
    y0, y1, y2 = y[j - 1], y[j], y[j + 1]
    # the parabola a (t − x1)² + b (t − x1) + y1 through the three points
    s0, s2 = (y0 - y1) / (x0 - x1), (y2 - y1) / (x2 - x1)
    a = (s2 - s0) / (x2 - x0)
    b = s0 - a * (x0 - x1)
    convex = a > 0
    vertex = jnp.clip(x1 - b / (2 * jnp.where(convex, a, 1)), x0, x2)
    vertex = jnp.where(convex, vertex, x1)
    value = a * (vertex - x1) ** 2 + b * (vertex - x1) + y1
    return ParabolicMinimum(location=jnp.where(at_edge, x[i], vertex),
                            value=jnp.where(at_edge, y[i], value), at_edge=at_edge)
