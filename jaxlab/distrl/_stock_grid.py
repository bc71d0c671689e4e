"""The stock of stock-augmented dynamic programming: the policies defined on a stock grid,
where a next stock lands on the grid, and the grid that holds every reachable stock.

The stock c is the reward collected so far, scaled by the discount: c' = (c + r)/γ
(Pires et al., 2025). When the returns lie on a lattice δℤ (rewards on δℤ, γ = 1, a finite
horizon) every stock reachable from c₀ lies on c₀ + δℤ within the partial-return range, and
`reachable_stock_grid` is that set: stock augmentation on it is exact.
"""

from collections.abc import Sequence
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from .._core.checks import (
    as_float_array,
    cast,
    check_instance,
    concrete_values,
    message,
    shape_str,
)
from ._mdp import FiniteMDP

Stocks = ArrayLike | Sequence[float]   # a number, a sequence or an array of stocks


class StockPolicy(eqx.Module):
    """A deterministic policy of the stock-augmented state: an action for every (t, s, c).

    **Fields:**

    - `actions`: `(T, S, C)` action indices; T = horizon (one table per step) or T = 1 for a
      stationary policy of an infinite-horizon problem.
    - `stock_grid`: `(C,)` increasing stock values the table is defined on.
    - `discount`: γ (the stock update is c' = (c + r)/γ).

    Between grid points the policy picks the table entry of the lower or upper neighbour at
    random, with probability given by linear interpolation. Outside the grid the end entry
    is used. On a grid that holds every reachable stock (`reachable_stock_grid`) neither
    happens and the policy is deterministic.
    """

    actions: Int[Array, "T S C"]
    stock_grid: Float[Array, " C"]
    discount: float = eqx.field(static=True)

    @property
    def stationary(self) -> bool:
        return self.actions.shape[0] == 1

    def locate(self, stock: ArrayLike) -> tuple[Array, Array, Array]:
        """(lower index, upper index, weight of upper) of `stock` on the grid (clamped)."""
        return locate(self.stock_grid, jnp.asarray(stock, self.stock_grid.dtype))

    def __call__(self, t: ArrayLike, state: ArrayLike, stock: ArrayLike, *,
                 key: PRNGKeyArray | None = None) -> Int[Array, ""]:
        """The action at step `t` in `state` with `stock` (random only between grid points,
        and only with a `key`; without one the nearer grid point's)."""
        lo, hi, w = self.locate(stock)
        if key is None:
            idx = jnp.where(w > 0.5, hi, lo)
        else:
            idx = jnp.where(jax.random.uniform(key, dtype=w.dtype) < w, hi, lo)
        table = self.actions[0 if self.stationary else t]
        return table[state, idx]


def grid_tolerance(grid: Array | np.ndarray) -> float | Array:
    """Stocks closer than this to a grid point are on it (NumPy for a NumPy grid)."""
    eps = float(np.finfo(grid.dtype).eps)
    if isinstance(grid, np.ndarray):
        return 64 * eps * max(1.0, float(np.abs(grid).max()))
    return 64 * eps * jnp.maximum(1.0, jnp.max(jnp.abs(grid)))


def locate(grid: Array | np.ndarray, c: Array | np.ndarray
           ) -> tuple[Array | np.ndarray, Array | np.ndarray, Array | np.ndarray]:
    """Lower index, upper index and the weight of the upper one of stocks `c` on `grid`
    (clamped at the ends; a stock within rounding of a grid point is on it, weight 0). In
    NumPy when both are concrete NumPy arrays, in JAX otherwise."""
    xp = np if isinstance(grid, np.ndarray) and isinstance(c, np.ndarray) else jnp
    n = grid.shape[0]
    if n == 1:
        z = xp.zeros(c.shape, np.int32)
        return z, z, xp.zeros(c.shape, grid.dtype)
    lo = xp.clip(xp.searchsorted(grid, c, side="right") - 1, 0, n - 2).astype(np.int32)
    w = (c - grid[lo]) / (grid[lo + 1] - grid[lo])
    w = xp.clip(w, 0.0, 1.0)
    tol = grid_tolerance(grid)
    w = xp.where(w < tol, 0.0, xp.where(w > 1 - tol, 1.0, w))
    # put exact hits on the upper point onto that point as the lower neighbour
    lo = xp.where(w == 1.0, lo + 1, lo)
    w = xp.where(w == 1.0, 0.0, w)
    hi = xp.minimum(lo + 1, n - 1)
    return lo, hi, w


class StockPlan(NamedTuple):
    """Grid neighbours of every next stock c' = (c + r)/γ, `(S, C, A, M)` each; `clipped`:
    it left the grid; `between`: it fell strictly between two grid points."""

    lower: Array
    upper: Array
    weight: Array
    clipped: Array
    between: Array


def stock_plan(mdp: FiniteMDP, grid: Array) -> StockPlan:
    c_next = (grid[None, :, None, None] + mdp.reward[:, None]) / mdp.discount
    lo, hi, w = locate(grid, c_next)
    tol = grid_tolerance(grid)
    clipped = (c_next < grid[0] - tol) | (c_next > grid[-1] + tol)
    live = (mdp.prob[:, None] > 0) & ~mdp.terminal[mdp.next_state][:, None]
    return StockPlan(lo, hi, w, clipped & live, (w > 0) & ~clipped & live)


def check_stock_grid(fn: str, stock_grid: Stocks, dtype) -> Array:
    """`stock_grid` as a finite, strictly increasing `(C,)` floating array of `dtype`.

    **Raises:** `TypeError` for a non-numeric grid; `ValueError` otherwise.
    """
    grid = as_float_array(fn, "stock_grid", stock_grid)
    grid = cast(grid, dtype)
    if grid.ndim != 1 or grid.shape[0] < 1:
        raise ValueError(message(fn, "stock_grid", "of shape (C,) with C >= 1",
                                 f"shape {shape_str(grid)}"))
    c = concrete_values(grid)
    if c is not None:
        if not np.isfinite(c).all():
            raise ValueError(message(fn, "stock_grid", "finite",
                                     f"{float(c[~np.isfinite(c)][0])!r} among its values"))
        if c.size > 1 and not (np.diff(c) > 0).all():
            i = int(np.argmin(np.diff(c) > 0))
            raise ValueError(message(fn, "stock_grid", "strictly increasing",
                                     f"{float(c[i])!r} followed by {float(c[i + 1])!r} at "
                                     f"index {i}"))
    return grid


def check_initial_stocks(fn: str, initial_stocks: Stocks, dtype) -> Array:
    """`initial_stocks` (a number or `(N,)`) as a finite `(N,)` floating array of `dtype`."""
    stocks = as_float_array(fn, "initial_stocks", initial_stocks, ndim=(0, 1))
    c = concrete_values(stocks)
    stocks = cast(jnp.atleast_1d(stocks) if c is None else np.atleast_1d(c), dtype)
    if stocks.shape[0] < 1:
        raise ValueError(message(fn, "initial_stocks", "a number or a non-empty (N,) array",
                                 "shape (0,)"))
    c = concrete_values(stocks)
    if c is not None and not np.isfinite(c).all():
        raise ValueError(message(fn, "initial_stocks", "finite",
                                 f"{float(c[~np.isfinite(c)][0])!r} among its values"))
    return stocks


def reachable_stock_grid(mdp: FiniteMDP, initial_stocks: Stocks
                         ) -> Float[Array, " C"]:
    """A grid holding every stock reachable from the initial stocks: exact stock augmentation.

    With the returns on a lattice δℤ (`FiniteMDP.return_lattice`: rewards on δℤ, γ = 1, a
    finite horizon), every stock reachable from c₀ at a step t < H is c₀ plus a partial
    return, so it lies on c₀ + δℤ between c₀ + the least and c₀ + the largest partial
    return from an initial state. The grid is the union of these lattice intervals over the
    initial stocks (integer rewards from c₀ = 0: the integers; half-integer rewards: the
    half-integers). Stock-augmented DP on it is exact from those initial stocks.

    **Arguments:** `mdp`; `initial_stocks`: a number or `(N,)` stocks c₀ (any values: each
    gets its own lattice c₀ + δℤ).

    **Returns:** `(C,)` increasing stocks, in the MDP's floating dtype.

    **Raises:** `ValueError` when the returns lie on no lattice (γ < 1, no horizon, or
    rewards with an irrational ratio: pass a `stock_grid` of your own to the solvers, whose
    status then reports the approximation).
    """
    fn = "reachable_stock_grid"
    check_instance(fn, "mdp", mdp, FiniteMDP)
    delta = mdp.return_lattice()
    if delta is None:
        raise ValueError(message(fn, "mdp", "an MDP whose returns lie on a lattice δℤ "
                                 "(rewards on δℤ, discount 1, a finite horizon)",
                                 f"discount={mdp.discount}, horizon={mdp.horizon}, rewards "
                                 f"{np.unique(mdp._live_rewards())[:8].tolist()}"))
    c0 = np.unique(np.asarray(check_initial_stocks(fn, initial_stocks, mdp.reward.dtype),
                              np.float64))
    low, high = mdp._stop_anytime_bounds()   # every partial return, per start state
    start = np.asarray(mdp.initial) > 0
    first, last = round(low[start].min() / delta), round(high[start].max() / delta)
    points = (c0[:, None] + delta * np.arange(first, last + 1)[None]).ravel()
    points = np.sort(points)
    scale = max(1.0, float(np.abs(points).max()))
    keep = np.concatenate([[True], np.diff(points) > 1e-9 * scale])
    return jnp.asarray(points[keep], mdp.reward.dtype)


def check_stock_policy(fn: str, mdp: FiniteMDP, policy) -> StockPolicy:
    """`policy` if it is a `StockPolicy` that fits `mdp`.

    **Raises:** `TypeError` for a non-`StockPolicy`; `ValueError` for a table whose shape or
    discount does not fit `mdp`.
    """
    check_instance(fn, "policy", policy, StockPolicy)
    t, s, _ = policy.actions.shape
    got = f"shape {shape_str(policy.actions)}"
    if s != mdp.num_states:
        raise ValueError(message(fn, "policy.actions", f"of shape (T, S, C) with S = "
                                 f"{mdp.num_states}", got))
    if mdp.horizon is None and t != 1:
        raise ValueError(message(fn, "policy.actions", "of shape (1, S, C) for an "
                                 "infinite-horizon MDP", got))
    if mdp.horizon is not None and t not in (1, mdp.horizon):
        raise ValueError(message(fn, "policy.actions", f"of shape (T, S, C) with T = 1 or "
                                 f"horizon = {mdp.horizon}", got))
    if policy.discount != mdp.discount:
        raise ValueError(message(fn, "policy.discount", f"mdp.discount = {mdp.discount}",
                                 policy.discount))
    return policy
