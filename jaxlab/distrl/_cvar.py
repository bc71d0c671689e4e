"""CVaR-optimal control through the Rockafellar–Uryasev form and stock augmentation."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._mdp import FiniteMDP
from ._objectives import NegativePart
from ._stock import (
    StockPolicy,
    StockSolution,
    integer_stock_grid,
    stock_augmented_value_iteration,
)


class CVaRSolution(eqx.Module):
    """The result of `optimize_cvar`.

    **Fields:**

    - `cvar`: the optimal lower-tail CVaR_τ of the return.
    - `threshold`: b*, the maximiser of b + V(−b)/τ (a τ-quantile of the optimal return).
    - `initial_stock`: −b*, the stock to start `policy` with.
    - `thresholds`: `(C,)` the candidate b = −c for every grid stock c.
    - `cvar_by_threshold`: `(C,)` b + V(−b)/τ for each candidate (−inf where the value was
      not exact because the stock left the grid).
    - `policy`: the CVaR-optimal `StockPolicy` (start it at `initial_stock`).
    - `solution`: the `StockSolution` of the inner problem max E min(c + G, 0).
    - `tau`: τ.
    """

    cvar: Float[Array, ""]
    threshold: Float[Array, ""]
    initial_stock: Float[Array, ""]
    thresholds: Float[Array, " C"]
    cvar_by_threshold: Float[Array, " C"]
    policy: StockPolicy
    solution: StockSolution
    tau: float = eqx.field(static=True)


def optimize_cvar(mdp: FiniteMDP, tau: float, *, stock_grid: ArrayLike | None = None,
                  support: ArrayLike | None = None, num_atoms: int = 51,
                  **kwargs) -> CVaRSolution:
    """Maximise the lower-tail CVaR_τ of the return over history-dependent policies.

    CVaR_τ(G) = max_b { b − E(b − G)⁺/τ } (Rockafellar & Uryasev), so
    max_π CVaR_τ(G^π) = max_b { b + V(−b)/τ } with V(c) = max_π E min(c + G^π, 0): an expected
    utility of the stock-augmented return with initial stock c = −b. One run of
    `stock_augmented_value_iteration` gives V at every grid stock at once, so the outer search
    over b is exhaustive over b ∈ −stock_grid. For integer rewards with γ = 1 and a finite
    horizon the default grid contains every return value, among which an optimal b lies
    (b + V(−b)/τ is concave and piecewise linear with kinks at the returns), so the result is
    exact.

    **Arguments:**

    - `mdp`: a `FiniteMDP`.
    - `tau`: the tail fraction in (0, 1] (τ = 1 gives the mean).
    - `stock_grid`: `(C,)`; default (integer rewards, γ = 1, finite horizon) the integer grid
      closed under the stock update from every c₀ = −b, b in the return range.
    - `support`, `num_atoms`, `**kwargs`: passed to `stock_augmented_value_iteration`.

    **Returns:** a `CVaRSolution`.

    **Raises:** `ValueError` if `tau` is not in (0, 1], or no default grid exists.

    **Reference:** Pires et al. (2025), §5 (CVaR); Rockafellar & Uryasev (2000).
    """
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not 0 < tau <= 1:
        raise ValueError(f"optimize_cvar: tau must be a float in (0, 1], got {tau!r}")
    if stock_grid is None:
        lo, hi = mdp.return_bounds()
        try:
            stock_grid = integer_stock_grid(mdp, [-round(hi), -round(lo)])
        except ValueError as e:
            raise ValueError(f"optimize_cvar: pass stock_grid explicitly ({e})") from None
    solution = stock_augmented_value_iteration(mdp, NegativePart(), stock_grid=stock_grid,
                                               support=support, num_atoms=num_atoms, **kwargs)
    grid = solution.stock_grid
    v = jnp.einsum("s,sc->c", mdp.initial, solution.values)
    live = np.asarray(mdp.initial) > 0
    exact = jnp.all(solution.exact[live], axis=0)
    b = -grid
    objective = jnp.where(exact, b + v / tau, -jnp.inf)
    best = jnp.argmax(objective)
    if not bool(jnp.isfinite(objective[best])):
        raise ValueError("optimize_cvar: the stock left the grid from every initial stock; "
                         "widen stock_grid")
    return CVaRSolution(objective[best], b[best], grid[best], b, objective, solution.policy,
                        solution, float(tau))
