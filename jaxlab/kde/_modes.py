"""The modes of a one-dimensional Gaussian KDE: local maxima on a grid and their topographic
prominence, as `scipy.signal.find_peaks` measures it."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Real

from .._core.checks import (
    as_float_array,
    check_finite_values,
    check_int,
    check_number,
    check_positive_values,
    check_shape,
    common_float_dtype,
    message,
)
from ._kde import KDE

# Rows of the grid × grid prominence computation held at once (memory: rows × grid_size).
_ROWS = 128


class ModeProminences(eqx.Module):
    """A 1-D Gaussian KDE on a grid and the topographic prominence of its local maxima.

    **Fields:**

    - `grid`: the evaluation grid, `grid_size` equally spaced points from
      min(samples) − 3h to max(samples) + 3h.
    - `density`: the KDE on the grid.
    - `prominence`: at each local maximum of `density`, its topographic prominence (the
      height above the higher of the two lowest points between it and the nearest higher
      point on either side, or the end of the grid); 0 at every other grid point.

    Works batched (under `vmap`, every field gains the batch axes in front).
    """

    grid: Float[Array, " grid"]
    density: Float[Array, " grid"]
    prominence: Float[Array, " grid"]

    def is_mode(self, prominence: float = 0.1) -> Bool[Array, "*batch grid"]:
        """The grid points that are modes: local maxima whose prominence is positive and at
        least `prominence` × the highest density. `mask.sum(-1)` counts the modes, also
        under `jit`/`vmap`.

        **Arguments:**

        - `prominence`: the relative threshold, a number in [0, 1].

        **Returns:** a boolean mask of the grid's shape (batched like the fields).

        **Raises:** `TypeError`/`ValueError` for a `prominence` that is not a number in
        [0, 1].
        """
        prominence = check_number("ModeProminences.is_mode", "prominence", prominence,
                                  minimum=0.0, maximum=1.0)
        return _is_mode(self.density, self.prominence, prominence)


def _is_mode(density, prominences, threshold):
    """Local maxima whose prominence is positive and ≥ threshold × max(density)."""
    threshold = threshold * jnp.max(density, axis=-1, keepdims=True)
    return (prominences > 0) & (prominences >= threshold)


def _local_maxima(x: Array) -> Array:
    """x[i − 1] < x[i] ≥ x[i + 1] at the interior points (a flat top counts once, at its
    left end; one that rises again gets prominence 0 and is not a mode)."""
    inner = (x[1:-1] > x[:-2]) & (x[1:-1] >= x[2:])
    false = jnp.zeros((1,), bool)
    return jnp.concatenate([false, inner, false])


def _prominences(x: Array) -> Array:
    """The topographic prominence of every grid point taken as a peak, by scipy's rule:
    walk left (right) from i while x ≤ x[i]; the lowest values met on each side are the
    bases; the prominence is x[i] − max(left base, right base). O(grid²) work, held
    `_ROWS` rows at a time."""
    size = x.shape[0]
    index = jnp.arange(size)

    def one(i):
        height = x[i]
        higher = x > height
        left_stop = jnp.max(jnp.where(higher & (index < i), index, -1))
        right_stop = jnp.min(jnp.where(higher & (index > i), index, size))
        left = jnp.min(jnp.where((index > left_stop) & (index <= i), x, jnp.inf))
        right = jnp.min(jnp.where((index >= i) & (index < right_stop), x, jnp.inf))
        return height - jnp.maximum(left, right)

    return jax.lax.map(one, index, batch_size=min(_ROWS, size))


def mode_prominences(samples: Real[ArrayLike, " n"], *, bandwidth: float | Real[ArrayLike, ""],
                     grid_size: int = 2048) -> ModeProminences:
    """A 1-D Gaussian KDE of `samples` on a grid, with the prominence of its local maxima.

    The density is `KDE(samples, "gaussian", bandwidth)` (h in data units, not a factor of
    the data's scale) at `grid_size` equally spaced points from min − 3h to max + 3h; the
    prominences are those of `scipy.signal.peak_prominences` at the local maxima. Jittable
    and vmappable (the grid size is static): `mode_prominences(...).is_mode(p).sum()` is the
    number of modes, the batched form of `find_modes`.

    **Arguments:**

    - `samples`: `(n,)` finite samples, n ≥ 1 (integers are promoted).
    - `bandwidth`: the kernel standard deviation h > 0, in the units of `samples`.
    - `grid_size`: the number of grid points, an int ≥ 3.

    **Returns:** a `ModeProminences` (grid, density, prominence), in the dtype of `samples`.

    **Raises:** `TypeError` for non-real samples or bandwidth, or a non-int `grid_size`;
    `ValueError` for samples that are not 1-D, empty or (when known) not finite, a
    bandwidth that is not a scalar or (when known) not positive, or `grid_size` < 3.

    **References:** the prominence of `scipy.signal.find_peaks` / `peak_prominences`;
    Parzen (1962) for the estimator.
    """
    fn = "mode_prominences"
    x, h, grid_size = _mode_inputs(fn, samples, bandwidth, grid_size)
    return _jit_mode_prominences(x, h, grid_size)


def _mode_inputs(fn, samples, bandwidth, grid_size):
    x = as_float_array(fn, "samples", samples, ndim=1)
    if x.shape[0] < 1:
        raise ValueError(message(fn, "samples", "a non-empty 1-D array", "shape (0,)"))
    check_finite_values(fn, "samples", x)
    h = as_float_array(fn, "bandwidth", bandwidth)
    check_shape(fn, "bandwidth", h, (), want="() (a scalar)")
    check_positive_values(fn, "bandwidth", h)
    grid_size = check_int(fn, "grid_size", grid_size, minimum=3)
    dtype = common_float_dtype(x, h)
    return _cast(x, dtype), _cast(h, dtype), grid_size


def _cast(x, dtype):
    return x if x.dtype == dtype else x.astype(dtype)


def _mode_prominences(x, h, grid_size):
    grid = jnp.linspace(jnp.min(x) - 3.0 * h, jnp.max(x) + 3.0 * h, grid_size, dtype=x.dtype)
    density = KDE(x, "gaussian", h).pdf(grid)
    prominence = jnp.where(_local_maxima(density), _prominences(density), 0.0)
    return ModeProminences(grid=grid, density=density, prominence=prominence)


_jit_mode_prominences = jax.jit(_mode_prominences, static_argnums=2)



def find_modes(samples: Real[ArrayLike, " n"], *, bandwidth: float | Real[ArrayLike, ""],
               prominence: float = 0.1, grid_size: int = 2048) -> Float[Array, " k"]:
    """The locations of the modes of a 1-D Gaussian KDE, ordered from left to right.

    A mode is a local maximum of the KDE with bandwidth h (in data units) on a grid of
    `grid_size` points from min − 3h to max + 3h whose topographic prominence is at least
    `prominence` × the highest density: what `scipy.signal.find_peaks(density,
    prominence=prominence * density.max())` keeps, with jaxlab's KDE for the density.
    `len(find_modes(...))` is the number of modes. The count depends on the values, so this
    runs eagerly; under `jit`/`vmap` use `mode_prominences(...).is_mode(prominence)`.

    **Arguments:**

    - `samples`: `(n,)` finite samples, n ≥ 1 (integers are promoted).
    - `bandwidth`: the kernel standard deviation h > 0, in the units of `samples`.
    - `prominence`: the relative prominence threshold, a number in [0, 1].
    - `grid_size`: the number of grid points, an int ≥ 3.

    **Returns:** the k mode locations (grid points), shape `(k,)`, in the dtype of
    `samples`; they are accurate to a grid cell, (max − min + 6h)/(grid_size − 1).

    **Raises:** `TypeError` for traced samples or bandwidth (use `mode_prominences`),
    non-real samples, or non-number arguments; `ValueError` for samples that are not 1-D,
    empty or not finite, a bandwidth that is not a positive scalar, `prominence` outside
    [0, 1] or `grid_size` < 3.

    **References:** the prominence of `scipy.signal.find_peaks`; Parzen (1962).
    """
    fn = "find_modes"
    for name, value in (("samples", samples), ("bandwidth", bandwidth)):
        if isinstance(value, jax.core.Tracer):
            raise TypeError(message(fn, name, "concrete (the number of modes depends on the "
                                    "values; under jit/vmap use mode_prominences(...)"
                                    ".is_mode(prominence))", "a traced array"))
    prominence = check_number(fn, "prominence", prominence, minimum=0.0, maximum=1.0)
    x, h, grid_size = _mode_inputs(fn, samples, bandwidth, grid_size)
    result = _jit_mode_prominences(x, h, grid_size)
    return jnp.asarray(np.asarray(result.grid)[np.asarray(result.is_mode(prominence))])
