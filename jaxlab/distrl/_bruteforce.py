"""Exhaustive references for small finite-horizon MDPs (plain Python/NumPy, float64).

Independent of the dynamic programmes: the return distribution of a history-dependent
policy is built by recursion over histories, and the best policy is found by enumerating
every deterministic choice at every history.
"""

import functools
import itertools
from collections.abc import Callable

import numpy as np

from .._core.checks import check_callable, check_instance, check_int, message
from ._mdp import FiniteMDP
from ._stock_grid import StockPolicy, Stocks, check_stock_policy

Dist = tuple[tuple[float, float], ...]   # sorted ((atom, prob), ...)


def _normalise(pairs) -> Dist:
    acc: dict[float, float] = {}
    for x, p in pairs:
        if p > 0:
            key = round(float(x), 12)
            acc[key] = acc.get(key, 0.0) + float(p)
    return tuple(sorted(acc.items()))


def _outcomes(mdp: FiniteMDP):
    nxt, r, p = (np.asarray(x) for x in (mdp.next_state, mdp.reward, mdp.prob))
    out = {}
    for s in range(nxt.shape[0]):
        for a in range(nxt.shape[1]):
            merged: dict[tuple[int, float], float] = {}
            for m in range(nxt.shape[2]):
                if p[s, a, m] > 0:
                    k = (int(nxt[s, a, m]), float(r[s, a, m]))
                    merged[k] = merged.get(k, 0.0) + float(p[s, a, m].astype(np.float64))
            out[s, a] = list(merged.items())
    return out


def _check(fn: str, mdp: FiniteMDP) -> None:
    check_instance(fn, "mdp", mdp, FiniteMDP)
    if mdp.horizon is None:
        raise ValueError(message(fn, "mdp", "a finite-horizon MDP (brute force enumerates "
                                 "histories)", "horizon=None"))


def history_policy_distributions(mdp: FiniteMDP, *, limit: int = 2_000_000) -> list[Dist]:
    """The return distributions of every deterministic history-dependent policy (deduplicated).

    A history is (s₀, a₀, r₁, s₁, …); distinct outcomes (s', r) of a step are distinct
    histories, so each can get its own action.

    **Raises:** `ValueError` for an MDP without a horizon, or beyond `limit` distributions
    at one node (the enumeration grows doubly exponentially with the horizon).
    """
    fn = "history_policy_distributions"
    _check(fn, mdp)
    limit = check_int(fn, "limit", limit, minimum=1)
    outs = _outcomes(mdp)
    terminal = np.asarray(mdp.terminal)
    gamma = mdp.discount
    memo: dict[tuple[int, int], list[Dist]] = {}

    def options(t: int, s: int) -> list[Dist]:
        if t == mdp.horizon or terminal[s]:
            return [((0.0, 1.0),)]
        if (t, s) in memo:
            return memo[t, s]
        found: set[Dist] = set()
        for a in range(mdp.num_actions):
            branches = outs[s, a]
            child_sets = [options(t + 1, s2) for (s2, _), _ in branches]
            count = int(np.prod([len(c) for c in child_sets]))
            if len(found) + count > limit:
                raise ValueError(message(fn, "limit", f"above the number of policies at "
                                         f"step {t}", f"limit={limit}"))
            for combo in itertools.product(*child_sets):
                pairs = [(r + gamma * x, q * px) for ((_, r), q), d in zip(branches, combo,
                                                                           strict=True)
                         for x, px in d]
                found.add(_normalise(pairs))
        memo[t, s] = sorted(found)
        return memo[t, s]

    initial = np.asarray(mdp.initial, np.float64)
    starts = [s for s in range(mdp.num_states) if initial[s] > 0]
    result = set()
    for combo in itertools.product(*[options(0, s) for s in starts]):
        pairs = [(x, initial[s] * px) for s, d in zip(starts, combo, strict=True) for x, px in d]
        result.add(_normalise(pairs))
    return sorted(result)


def markov_policy_distributions(mdp: FiniteMDP) -> list[tuple[np.ndarray, Dist]]:
    """(policy (H, S), return distribution) of every deterministic time-dependent Markov policy.

    **Raises:** `ValueError` for an MDP without a horizon or with more than 2 000 000 such
    policies (A^(H·S)).
    """
    fn = "markov_policy_distributions"
    _check(fn, mdp)
    outs = _outcomes(mdp)
    terminal = np.asarray(mdp.terminal)
    h, s_n, a_n = mdp.horizon, mdp.num_states, mdp.num_actions
    if a_n ** (h * s_n) > 2_000_000:
        raise ValueError(message(fn, "mdp", "at most 2 000 000 deterministic Markov policies",
                                 f"{a_n}^({h}·{s_n})"))
    initial = np.asarray(mdp.initial, np.float64)
    result = []
    for flat in itertools.product(range(a_n), repeat=h * s_n):
        pol = np.asarray(flat).reshape(h, s_n)
        dists: list[Dist] = [((0.0, 1.0),)] * s_n
        for t in range(h - 1, -1, -1):
            new = []
            for s in range(s_n):
                if terminal[s]:
                    new.append(((0.0, 1.0),))
                    continue
                pairs = [(r + mdp.discount * x, q * px) for (s2, r), q in outs[s, pol[t, s]]
                         for x, px in dists[s2]]
                new.append(_normalise(pairs))
            dists = new
        pairs = [(x, initial[s] * px) for s in range(s_n) for x, px in dists[s]]
        result.append((pol, _normalise(pairs)))
    return result


def best_history_policy_value(mdp: FiniteMDP, objective: Callable[[Dist], float]) -> float:
    """max over deterministic history-dependent policies of `objective(return distribution)`.

    **Raises:** as `history_policy_distributions`; `TypeError` for a non-callable objective.
    """
    check_callable("best_history_policy_value", "objective", objective)
    return max(objective(d) for d in history_policy_distributions(mdp))


def best_markov_policy_value(mdp: FiniteMDP, objective: Callable[[Dist], float]
                             ) -> tuple[float, np.ndarray]:
    """max over deterministic time-dependent Markov policies, and a maximising policy (H, S).

    **Raises:** as `markov_policy_distributions`; `TypeError` for a non-callable objective.
    """
    check_callable("best_markov_policy_value", "objective", objective)
    best, arg = -np.inf, None
    for pol, d in markov_policy_distributions(mdp):
        v = objective(d)
        if v > best:
            best, arg = v, pol
    return float(best), arg


def cvar_of(dist: Dist, tau: float) -> float:
    """Lower-tail CVaR_τ of a distribution given as sorted ((atom, prob), ...), in float64."""
    need, acc = tau, 0.0
    for x, p in dist:
        take = min(p, need)
        acc += take * x
        need -= take
        if need <= 0:
            break
    return acc / tau


def optimal_action_agreement(mdp: FiniteMDP, policy: StockPolicy,
                             utility: Callable[[float], float], *,
                             initial_stocks: Stocks,
                             tie_tolerance: float = 1e-9) -> tuple[float, int]:
    """The share of the (t, s, c) a stock policy reaches where its action is optimal.

    Optimal means attaining max_a E u(c + G) under optimal play afterwards, computed by
    plain memoised backward induction over the reachable (t, s, c) in float64 (independent
    of the dynamic programmes). Reachability is under `policy` itself, from S₀ ~
    `mdp.initial` and every stock in `initial_stocks`, with the stock updated c' = c + r;
    an action counts as optimal within `tie_tolerance·(1 + |best|)` of the best.

    **Arguments:**

    - `mdp`: a finite-horizon `FiniteMDP` with discount 1.
    - `policy`: a `StockPolicy` whose grid holds every stock it reaches (e.g. on
      `reachable_stock_grid`).
    - `utility`: u, a function of a float (e.g. `lambda x: min(x, 0.0)` for the inner
      problem of CVaR).
    - `initial_stocks`: the stocks c₀ episodes start from.
    - `tie_tolerance`: the relative tolerance of ties.

    **Returns:** `(fraction, count)`: the share of agreeing (t, s, c) and their number.

    **Raises:** `TypeError` for a non-`StockPolicy` or non-callable `utility`; `ValueError`
    for an MDP without a horizon or with a discount ≠ 1, or a reached stock that is not on
    the policy's grid.

    **Reference:** Pires et al. (2025), §4 (optimality of the stock-augmented greedy policy).
    """
    fn = "optimal_action_agreement"
    _check(fn, mdp)
    if mdp.discount != 1.0:
        raise ValueError(message(fn, "mdp", "a FiniteMDP with discount 1",
                                 f"discount={mdp.discount}"))
    check_stock_policy(fn, mdp, policy)
    check_callable(fn, "utility", utility)
    outs = _outcomes(mdp)
    terminal = np.asarray(mdp.terminal)
    grid = np.asarray(policy.stock_grid, np.float64)
    table = np.asarray(policy.actions)
    horizon, num_actions = mdp.horizon, mdp.num_actions
    scale = max(1.0, float(np.abs(grid).max()))

    @functools.cache
    def value(t, s, c):
        if t == horizon or terminal[s]:
            return float(utility(c))
        return max(q(t, s, c, a) for a in range(num_actions))

    @functools.cache
    def q(t, s, c, a):
        return sum(p * value(t + 1, s2, c + r) for (s2, r), p in outs[s, a])

    starts = np.flatnonzero(np.asarray(mdp.initial) > 0)
    frontier = {(int(s), float(c)) for s in starts
                for c in np.atleast_1d(np.asarray(initial_stocks, np.float64))}
    agree = total = 0
    for t in range(horizon):
        following = set()
        for s, c in frontier:
            if terminal[s]:
                continue
            i = int(np.argmin(np.abs(grid - c)))
            if abs(grid[i] - c) > 1e-9 * scale:
                raise ValueError(message(fn, "policy.stock_grid", "a grid holding every "
                                         "stock the policy reaches", f"stock {c} reached at "
                                         f"step {t}, off the grid"))
            a = int(table[t if table.shape[0] > 1 else 0, s, i])
            qs = [q(t, s, c, b) for b in range(num_actions)]
            best = max(qs)
            total += 1
            agree += qs[a] >= best - tie_tolerance * (1 + abs(best))
            following.update((s2, c + r) for (s2, r), _ in outs[s, a])
        frontier = following
    return agree / max(total, 1), total
