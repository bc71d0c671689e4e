"""Exhaustive references for small finite-horizon MDPs (plain Python/NumPy, float64).

Independent of the dynamic programmes: the return distribution of a history-dependent
policy is built by recursion over histories, and the best policy is found by enumerating
every deterministic choice at every history.
"""

import itertools
from collections.abc import Callable

import numpy as np

from ._mdp import FiniteMDP

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


def _check(mdp: FiniteMDP) -> None:
    if mdp.horizon is None:
        raise ValueError("brute force needs a finite-horizon MDP, got horizon=None")


def history_policy_distributions(mdp: FiniteMDP, *, limit: int = 2_000_000) -> list[Dist]:
    """The return distributions of every deterministic history-dependent policy (deduplicated).

    A history is (s₀, a₀, r₁, s₁, …); distinct outcomes (s', r) of a step are distinct
    histories, so each can get its own action. **Raises** `ValueError` beyond `limit`
    distributions at one node (the enumeration grows doubly exponentially with the horizon).
    """
    _check(mdp)
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
                raise ValueError(f"brute force: more than limit={limit} policies at step {t}")
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
    """(policy (H, S), return distribution) of every deterministic time-dependent Markov policy."""
    _check(mdp)
    outs = _outcomes(mdp)
    terminal = np.asarray(mdp.terminal)
    h, s_n, a_n = mdp.horizon, mdp.num_states, mdp.num_actions
    if a_n ** (h * s_n) > 2_000_000:
        raise ValueError(f"brute force: {a_n}^({h}·{s_n}) Markov policies is too many")
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
    """max over deterministic history-dependent policies of `objective(return distribution)`."""
    return max(objective(d) for d in history_policy_distributions(mdp))


def best_markov_policy_value(mdp: FiniteMDP, objective: Callable[[Dist], float]
                             ) -> tuple[float, np.ndarray]:
    """max over deterministic time-dependent Markov policies, and a maximising policy (H, S)."""
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
