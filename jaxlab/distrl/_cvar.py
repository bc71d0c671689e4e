"""CVaR-optimal control through the Rockafellar–Uryasev form and stock augmentation."""

from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._core.checks import check_instance, check_number, message
from .._core.results import RESULTS, AbstractResult, report_status
from ._mdp import FiniteMDP
from ._objectives import NegativePart
from ._stock import StockSolution, stock_augmented_value_iteration
from ._stock_grid import StockPolicy, reachable_stock_grid


class CVaRSolution(AbstractResult):
    """The result of `optimize_cvar`.

    **Fields:**

    - `cvar`: the optimal lower-tail CVaR_τ of the return.
    - `threshold`: b*, the maximiser of b + V(−b)/τ (a τ-quantile of the optimal return).
    - `initial_stock`: −b*, the stock to start `policy` with.
    - `thresholds`: `(C,)` the candidate b = −c for every grid stock c.
    - `cvar_by_threshold`: `(C,)` b + V(−b)/τ for each candidate (−inf where the stock
      left the grid from −b, so the value there is not that of a policy).
    - `cvar_error`: a bound on |`cvar` − the CVaR_τ of the return of `policy` started at
      `initial_stock`|: the projection error of its return distribution over τ (CVaR_τ is
      1/τ-Lipschitz in the 1-Wasserstein distance); 0 on a support holding every return;
      +inf when a stock reachable from `initial_stock` falls between grid points (the
      interpolation between the continuations has no bound).
    - `policy`: the CVaR-optimal `StockPolicy` (start it at `initial_stock`).
    - `solution`: the `StockSolution` of the inner problem max E min(c + G, 0).
    - `tau`: τ.
    - `status`: `successful` (exact); `left_grid` (a candidate threshold in the return range
      could not be judged because the stock left the grid from it: widen the grid);
      `inexact_support` (a reachable stock is not a grid point, the categorical projection
      moved mass, or the candidates miss a possible return value, so `cvar` carries an
      error); `not_converged`; `nonfinite`.
    - `converged`: `status == RESULTS.successful`.
    """

    cvar: Float[Array, ""]
    threshold: Float[Array, ""]
    initial_stock: Float[Array, ""]
    thresholds: Float[Array, " C"]
    cvar_by_threshold: Float[Array, " C"]
    cvar_error: Float[Array, ""]
    policy: StockPolicy
    solution: StockSolution
    status: RESULTS
    tau: float = eqx.field(static=True)


def optimize_cvar(mdp: FiniteMDP, tau: float, *,
                  stock_grid: ArrayLike | Sequence[float] | None = None,
                  support: ArrayLike | None = None, num_atoms: int = 51,
                  tol: float | None = None, max_iterations: int = 10_000,
                  tie_tolerance: float = 1e-9, throw: bool = True) -> CVaRSolution:
    """Maximise the lower-tail CVaR_τ of the return over history-dependent policies.

    CVaR_τ(G) = max_b { b − E(b − G)⁺/τ } (Rockafellar & Uryasev), so
    max_π CVaR_τ(G^π) = max_b { b + V(−b)/τ } with V(c) = max_π E min(c + G^π, 0): an expected
    utility of the stock-augmented return with initial stock c = −b. One run of
    `stock_augmented_value_iteration` gives V at every grid stock at once, so the outer search
    over b is exhaustive over b ∈ −stock_grid. b + V(−b)/τ is concave and piecewise linear
    with kinks at the possible returns, so an optimal b is a possible return.

    When the returns lie on a lattice δℤ (`FiniteMDP.return_lattice`: rewards on δℤ — the
    integers, the half-integers, ... —, γ = 1, a finite horizon), the default grid holds
    every lattice point of the return range and every stock reachable from it, and the
    default support every return, so the result is exact. Otherwise (or with a grid or
    support of your own that misses some) the status says so and `cvar_error` bounds the
    projection's share of the error.

    **Arguments:**

    - `mdp`: a `FiniteMDP`.
    - `tau`: the tail fraction in (0, 1] (τ = 1 gives the mean).
    - `stock_grid`: `(C,)`; default (returns on a lattice) `reachable_stock_grid(mdp, −b)`
      over the lattice points b of the return range.
    - `support`, `num_atoms`, `tol`, `max_iterations`, `tie_tolerance`: passed to
      `stock_augmented_value_iteration`.
    - `throw`: raise at run time when the status is not successful; with `throw=False` it
      is only reported.

    **Returns:** a `CVaRSolution`.

    **Raises:** `TypeError`/`ValueError` for a bad `tau` or settings, or a missing
    `stock_grid` where the returns lie on no lattice; with `throw`, a runtime error naming
    the status.

    **Reference:** Pires et al. (2025), §5 (CVaR); Rockafellar & Uryasev (2000).
    """
    fn = "optimize_cvar"
    check_instance(fn, "mdp", mdp, FiniteMDP)
    tau = check_number(fn, "tau", tau, minimum=0.0, maximum=1.0, open_minimum=True)
    lo, hi = mdp.return_bounds()
    delta = mdp.return_lattice()
    lattice_b = None
    if delta is not None:
        lattice_b = delta * np.arange(round(lo / delta), round(hi / delta) + 1)
    if stock_grid is None:
        if lattice_b is None:
            raise ValueError(message(fn, "stock_grid", "given when the returns lie on no "
                                     "lattice (rewards on δℤ, discount 1, a finite horizon)",
                                     f"None with discount={mdp.discount}, "
                                     f"horizon={mdp.horizon}"))
        stock_grid = reachable_stock_grid(mdp, -lattice_b)
    grid_np = np.asarray(stock_grid, np.float64)
    scale = max(1.0, float(np.abs(grid_np).max(initial=0.0)), abs(lo), abs(hi))
    slack = 64 * float(np.finfo(mdp.reward.dtype).eps) * scale      # the grid's rounding
    relevant = (-grid_np >= lo - slack) & (-grid_np <= hi + slack)
    starts = grid_np[relevant] if relevant.any() else grid_np
    solution = stock_augmented_value_iteration(
        mdp, NegativePart(), initial_stocks=starts, stock_grid=stock_grid, support=support,
        num_atoms=num_atoms, tol=tol, max_iterations=max_iterations,
        tie_tolerance=tie_tolerance, throw=False)
    grid_np = np.asarray(solution.stock_grid, np.float64)
    # every possible return is a candidate b (or the returns lie on no lattice: unverifiable)
    covered = lattice_b is not None and bool(np.all(
        np.min(np.abs(-grid_np[None] - lattice_b[:, None]), axis=1, initial=np.inf)
        <= slack))
    cvar, best, objective, error, status = _outer_search(
        mdp.initial, solution, grid_np, relevant, tau, covered)
    dtype = solution.values.dtype
    cvar = report_status(fn, status, jnp.asarray(cvar, dtype), throw)
    b = -grid_np
    return CVaRSolution(cvar, jnp.asarray(b[best], dtype), jnp.asarray(grid_np[best], dtype),
                        jnp.asarray(b, dtype), jnp.asarray(objective, dtype),
                        jnp.asarray(error, dtype), solution.policy, solution, status, tau)


def _outer_search(initial, solution, grid, relevant, tau, covered):
    """max_b b + V(−b)/τ over the grid stocks whose value is that of a policy, on the host
    (the values are concrete; no compile per grid size), and the status of the result."""
    initial = np.asarray(initial, np.float64)
    live = initial > 0
    left, off = np.asarray(solution.left_grid), np.asarray(solution.off_grid)
    projection_error = np.asarray(solution.projection_error, np.float64)
    valid = ~np.any(live[:, None] & left, axis=0)
    v = initial @ np.asarray(solution.values, np.float64)
    objective = np.where(valid, -grid + v / tau, -np.inf)
    best = int(np.argmax(objective))
    error = float(initial @ projection_error[:, best]) / tau
    if np.any(live & off[:, best]):
        error = np.inf    # interpolated between grid points: the projection bound does not hold
    inner = solution.status
    if bool(inner == RESULTS.not_converged) or bool(inner == RESULTS.nonfinite):
        status = inner
    elif np.any(relevant & ~valid) or not np.any(valid):
        status = RESULTS.left_grid
    elif not np.isfinite(objective[best]):
        status = RESULTS.nonfinite
    elif (not covered or np.any(live & off[:, best])
          or np.any(live & (projection_error[:, best] > 0))):
        status = RESULTS.inexact_support
    else:
        status = RESULTS.successful
    return float(objective[best]), best, objective, error, status
