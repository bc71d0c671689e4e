"""Brownian motion on a fixed grid, drawn up front: exact increments over the grid's cells
without the per-step tree walk of `diffrax.VirtualBrownianTree` (diffrax #489, #517).

Shared by the neural SDEs of `jaxlab.de` and the samplers of `jaxlab.generative`; public as
`jaxlab.de.GridBrownianPath`."""

import diffrax
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from .checks import check_int, check_key


class GridBrownianPath(diffrax.AbstractPath):
    """Brownian motion W on [t0, t1] sampled at `steps + 1` equally spaced times (independent
    N(0, Δt) increments from `key`) and linearly interpolated between them.

    Over a cell of the grid, `evaluate(s, t)` is the exact Brownian increment; a solver that
    steps exactly on the grid (`diffrax.StepTo(ts=grid)`) therefore sees Brownian motion,
    with no bisection at query time. Between grid points the path is the piecewise-linear
    interpolation (not a Brownian bridge), so adaptive or off-grid steps are not Brownian.

    **Arguments:** `t0`, `t1`, `steps` (a Python int), `shape` (of W), `key`, `dtype`.
    """

    t0: Array
    t1: Array
    values: Array  # (steps + 1, *shape): W at the grid times, W(t0) = 0

    def __init__(self, t0, t1, steps: int, shape: tuple[int, ...], *, key: PRNGKeyArray,
                 dtype=None):
        steps = check_int("GridBrownianPath", "steps", steps, minimum=1)
        key = check_key("GridBrownianPath", key)
        dtype = jnp.result_type(t0, t1) if dtype is None else dtype
        self.t0 = jnp.asarray(t0, dtype)
        self.t1 = jnp.asarray(t1, dtype)
        dt = (self.t1 - self.t0) / steps
        increments = jax.random.normal(key, (steps, *shape), dtype) * jnp.sqrt(dt)
        self.values = jnp.concatenate([jnp.zeros((1, *shape), dtype),
                                       jnp.cumsum(increments, axis=0)])

    @property
    def grid(self) -> Array:
        """The grid times, shape `(steps + 1,)`."""
        return jnp.linspace(self.t0, self.t1, self.values.shape[0])

    def _at(self, t):
        steps = self.values.shape[0] - 1
        x = (t - self.t0) / (self.t1 - self.t0) * steps
        k = jnp.clip(jnp.floor(x), 0, steps - 1).astype(jnp.int32)
        frac = (x - k).astype(self.values.dtype)
        return self.values[k] + frac * (self.values[k + 1] - self.values[k])

    def evaluate(self, t0, t1=None, left: bool = True) -> Array:
        """W(t0), or the increment W(t1) − W(t0) when `t1` is given."""
        del left
        if t1 is None:
            return self._at(t0)
        return self._at(t1) - self._at(t0)
