"""Finite Markov decision processes with reward distributions, stored as outcome lists."""

import math
from collections.abc import Sequence
from fractions import Fraction

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray

from .._core.checks import (
    as_float_array,
    cast,
    check_instance,
    check_int,
    check_number,
    common_float_dtype,
    concrete_values,
    message,
    shape_str,
)

__all__ = ["FiniteMDP", "check_episodic", "lattice_spacing"]

# the most lattice points a default support or stock grid may have
MAX_LATTICE_POINTS = 2001


class FiniteMDP(eqx.Module):
    """A finite MDP (S states, A actions) whose transitions are lists of M outcomes.

    Outcome m of the pair (s, a) moves to `next_state[s, a, m]`, pays `reward[s, a, m]` and
    has probability `prob[s, a, m]`. This one layout covers a dense transition tensor with
    deterministic rewards (M = S'), reward distributions (M = S'·R) and sparse problems with
    10⁴+ states (M = a few); the constructor builds it from the dense arrays and drops
    zero-probability outcomes.

    The return is G = Σ_{t ≥ 0} γ^t R_{t+1}, summed until the horizon (if any) or until a
    `terminal` state is entered (terminal states pay nothing more).

    **Arguments** (of `FiniteMDP(...)`):

    - `transitions`: `(S, A, S)` probabilities P(s' | s, a); each row sums to 1.
    - `rewards`: `(S, A, S)` the reward of each transition, or `(S, A, S, R)` reward atoms
      with `reward_probs`.
    - `reward_probs`: `(S, A, S, R)` probabilities of the reward atoms (rows sum to 1), or
      None for deterministic rewards.
    - `discount`: γ in (0, 1]; γ = 1 needs a `horizon` or terminal states.
    - `horizon`: episode length H (a positive int), or None for an infinite-horizon problem.
    - `initial`: `(S,)` the initial-state distribution; default uniform.
    - `terminal`: `(S,)` booleans marking absorbing states where the episode ends; default
      none.
    - `atol`: tolerance of the probability checks.

    Integer arrays are promoted to the default floating dtype; the MDP's arrays take the
    floating dtype of the data (`transitions`, `rewards`, `reward_probs`, `initial`).

    **Raises:** `TypeError` for non-numeric, boolean or complex arrays, a non-boolean
    `terminal`, a discount that is not a number or a horizon that is not an int;
    `ValueError` naming the array, its shape or the offending entry, when shapes disagree,
    or (for concrete inputs) a probability is negative, NaN or a row does not sum to 1
    within `atol`, or a reward is not finite.

    Use `FiniteMDP.from_outcomes` to give the outcome arrays directly.
    """

    next_state: Int[Array, "S A M"]
    reward: Float[Array, "S A M"]
    prob: Float[Array, "S A M"]
    initial: Float[Array, " S"]
    terminal: Bool[Array, " S"]
    discount: float = eqx.field(static=True)
    horizon: int | None = eqx.field(static=True)

    def __init__(self, transitions: ArrayLike | None, rewards: ArrayLike | None, *,
                 discount: float, horizon: int | None = None,
                 reward_probs: ArrayLike | None = None, initial: ArrayLike | None = None,
                 terminal: ArrayLike | None = None, atol: float = 1e-6, _outcomes=None):
        if _outcomes is not None:  # from `from_outcomes`, already checked
            self._set(*_outcomes, discount, horizon, initial, terminal, atol)
            return
        fn = "FiniteMDP"
        transitions = as_float_array(fn, "transitions", transitions)
        rewards = as_float_array(fn, "rewards", rewards)
        rprobs = as_float_array(fn, "reward_probs", reward_probs, none_ok=True)
        initial = as_float_array(fn, "initial", initial, none_ok=True)
        dtype = common_float_dtype(transitions, rewards, rprobs, initial)
        transitions, rewards = cast(transitions, dtype), cast(rewards, dtype)
        if transitions.ndim != 3 or transitions.shape[0] != transitions.shape[2]:
            raise ValueError(message(fn, "transitions", "of shape (S, A, S)",
                                     f"shape {shape_str(transitions)}"))
        s, a, _ = transitions.shape
        _check_probabilities("transitions", transitions, atol)
        if rprobs is None:
            if rewards.shape != (s, a, s):
                raise ValueError(message(
                    fn, "rewards", f"of shape (S, A, S) = {(s, a, s)} like transitions (or "
                    "(S, A, S, R) with reward_probs)", f"shape {shape_str(rewards)}"))
            rewards = rewards[..., None]
            rprobs = jnp.asarray(np.ones(rewards.shape), dtype)
        else:
            rprobs = cast(rprobs, dtype)
            if rewards.ndim != 4 or rewards.shape[:3] != (s, a, s):
                raise ValueError(message(fn, "rewards", f"of shape (S, A, S, R) with (S, A, S) "
                                         f"= {(s, a, s)} when reward_probs is given",
                                         f"shape {shape_str(rewards)}"))
            if rprobs.shape != rewards.shape:
                raise ValueError(message(fn, "reward_probs", "of the shape of rewards "
                                         f"{shape_str(rewards)}", f"shape {shape_str(rprobs)}"))
            _check_probabilities("reward_probs", rprobs, atol)
        r = rewards.shape[-1]
        # the outcome layout in NumPy when the arrays are concrete (no compile per shape)
        concrete = [concrete_values(x) for x in (transitions, rewards, rprobs)]
        xp = np if all(c is not None for c in concrete) else jnp
        if xp is np:
            transitions, rewards, rprobs = concrete
        prob = (transitions[..., None] * rprobs).reshape(s, a, s * r)
        reward = xp.broadcast_to(rewards, (s, a, s, r)).reshape(s, a, s * r)
        nxt = xp.broadcast_to(xp.arange(s)[:, None], (s, r)).reshape(-1)
        nxt = xp.broadcast_to(nxt, (s, a, s * r))
        nxt, reward, prob = _drop_impossible(nxt, reward, prob)
        self._set(nxt, reward, prob, discount, horizon, initial, terminal, atol)

    def _set(self, nxt, reward, prob, discount, horizon, initial, terminal, atol):
        fn = "FiniteMDP"
        s = nxt.shape[0]
        _check_finite("rewards", reward)
        discount = check_number(fn, "discount", discount, minimum=0.0, maximum=1.0,
                                open_minimum=True)
        horizon = check_int(fn, "horizon", horizon, minimum=1, none_ok=True)
        if initial is None:
            initial = np.full(s, 1.0 / s)
        initial = cast(as_float_array(fn, "initial", initial), prob.dtype)
        if initial.shape != (s,):
            raise ValueError(message(fn, "initial", f"of shape (S,) = ({s},)",
                                     f"shape {shape_str(initial)}"))
        _check_probabilities("initial", initial, atol)
        terminal = jnp.asarray(np.zeros(s, bool) if terminal is None else terminal)
        if terminal.dtype != jnp.bool_:
            raise TypeError(message(fn, "terminal", "a boolean array",
                                    f"dtype {terminal.dtype}"))
        if terminal.shape != (s,):
            raise ValueError(message(fn, "terminal", f"of shape ({s},)",
                                     f"shape {shape_str(terminal)}"))
        if discount == 1.0 and horizon is None:
            t = concrete_values(terminal)
            if t is not None and not t.any():
                raise ValueError(message(fn, "horizon", "a positive int, or terminal states "
                                         "given, when discount=1 (the return is otherwise "
                                         "unbounded)", "horizon=None and no terminal state"))
        self.next_state = cast(nxt, jnp.int32)
        self.reward = reward
        self.prob = prob
        self.initial = initial
        self.terminal = terminal
        self.discount = discount
        self.horizon = horizon

    @classmethod
    def from_outcomes(cls, next_state: ArrayLike, reward: ArrayLike, prob: ArrayLike, *,
                      discount: float, horizon: int | None = None,
                      initial: ArrayLike | None = None, terminal: ArrayLike | None = None,
                      atol: float = 1e-6) -> "FiniteMDP":
        """Build from outcome arrays `next_state, reward, prob: (S, A, M)` directly.

        Sparse problems (many states, few successors) are given this way.

        **Raises:** as the constructor does; `TypeError` for a non-integer `next_state`;
        `ValueError` for next states outside `0..S-1`.
        """
        fn = "FiniteMDP.from_outcomes"
        nxt = jnp.asarray(next_state)
        reward = as_float_array(fn, "reward", reward)
        prob = as_float_array(fn, "prob", prob)
        initial = as_float_array(fn, "initial", initial, none_ok=True)
        dtype = common_float_dtype(reward, prob, initial)
        reward, prob = cast(reward, dtype), cast(prob, dtype)
        if nxt.ndim != 3:
            raise ValueError(message(fn, "next_state", "of shape (S, A, M)",
                                     f"shape {shape_str(nxt)}"))
        for name, x in (("reward", reward), ("prob", prob)):
            if x.shape != nxt.shape:
                raise ValueError(message(fn, name, f"of the shape of next_state "
                                         f"{shape_str(nxt)}", f"shape {shape_str(x)}"))
        if not jnp.issubdtype(nxt.dtype, jnp.integer):
            raise TypeError(message(fn, "next_state", "an integer array",
                                    f"dtype {nxt.dtype}"))
        c = concrete_values(nxt)
        if c is not None and (c.min() < 0 or c.max() >= nxt.shape[0]):
            raise ValueError(message(fn, "next_state", f"in 0..{nxt.shape[0] - 1}",
                                     f"values in {c.min()}..{c.max()}"))
        _check_probabilities("prob", prob, atol)
        return cls(None, None, discount=discount, horizon=horizon, initial=initial,
                   terminal=terminal, atol=atol, _outcomes=(nxt, reward, prob))

    @property
    def num_states(self) -> int:
        return self.next_state.shape[0]

    @property
    def num_actions(self) -> int:
        return self.next_state.shape[1]

    @property
    def num_outcomes(self) -> int:
        return self.next_state.shape[2]

    def transition_matrix(self) -> Float[Array, "S A S"]:
        """The dense P(s' | s, a), `(S, A, S)`."""
        s = self.num_states
        onehot = jax.nn.one_hot(self.next_state, s, dtype=self.prob.dtype)
        return jnp.einsum("sam,samt->sat", self.prob, onehot)

    def expected_reward(self) -> Float[Array, "S A"]:
        """E[R | s, a], `(S, A)`."""
        return jnp.sum(self.prob * self.reward, axis=-1)

    def reward_bounds(self) -> tuple[float, float]:
        """(min, max) of the rewards that can be paid (positive probability, from
        non-terminal states); concrete MDPs only."""
        live = self._live_rewards()
        if live.size == 0:
            return 0.0, 0.0
        return float(live.min()), float(live.max())

    def _live_rewards(self) -> np.ndarray:
        r, p = np.asarray(self.reward), np.asarray(self.prob)
        return r[(p > 0) & ~np.asarray(self.terminal)[:, None, None]]

    def return_bounds(self) -> tuple[float, float]:
        """Bounds (lo ≤ 0 ≤ hi) on every partial return Σ_{k<t} γᵏ R_{k+1}, from any state.

        With a horizon: exact, by dynamic programming over paths that may stop at any step
        (so they also bound the return from any state at any time, and every prefix sum).
        Without one: the geometric bound from the reward bounds (γ < 1), or S·bounds when
        only terminal states end the episode (a loose guess).
        """
        if self.horizon is None:
            lo, hi = self.reward_bounds()
            n = 1.0 / (1.0 - self.discount) if self.discount < 1.0 else float(self.num_states)
            return min(n * lo, 0.0), max(n * hi, 0.0)
        low, high = self._stop_anytime_bounds()
        return float(low.min()), float(high.max())

    def _stop_anytime_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per state, min and max over paths of length 0..H of the discounted reward sum."""
        nxt = np.asarray(self.next_state)
        r = np.asarray(self.reward, np.float64)
        live = (np.asarray(self.prob) > 0) & ~np.asarray(self.terminal)[:, None, None]
        low = np.zeros(self.num_states)
        high = np.zeros(self.num_states)
        for _ in range(self.horizon):
            low = np.minimum(0.0, np.where(live, r + self.discount * low[nxt], np.inf)
                             .min(axis=(1, 2)))
            high = np.maximum(0.0, np.where(live, r + self.discount * high[nxt], -np.inf)
                              .max(axis=(1, 2)))
        return low, high

    def has_integer_rewards(self) -> bool:
        """Whether every reward that can be paid is an integer."""
        r = self._live_rewards()
        return bool(np.all(r == np.round(r)))

    def return_lattice(self) -> float | None:
        """The spacing δ of the lattice δℤ that holds every return, or None.

        Returns δ, the largest spacing with every reward that can be paid an integer
        multiple of δ (within the rounding of the rewards' dtype; `lattice_spacing`), when
        the problem is episodic with γ = 1 and a finite horizon: then every partial return
        lies on δℤ, and a support or stock grid on it represents the returns exactly (half
        integers: δ = 0.5; integers: δ = 1 or a multiple). None otherwise: γ < 1, no horizon,
        rewards with an irrational ratio such as 1 and √2, or a lattice so fine that the
        return range holds more than 2001 of its points (a float32 √2 is a ratio of integers
        at float32 precision, but not a usable one); concrete MDPs only.
        """
        if self.discount != 1.0 or self.horizon is None:
            return None
        rounding = 64 * float(jnp.finfo(self.reward.dtype).eps)
        delta = lattice_spacing(self._live_rewards(), rounding=rounding)
        if delta is None:
            return None
        lo, hi = self.return_bounds()
        return delta if round(hi / delta) - round(lo / delta) + 1 <= MAX_LATTICE_POINTS else None

    def step(self, state: ArrayLike, action: ArrayLike, *,
             key: PRNGKeyArray) -> tuple[Int[Array, ""], Float[Array, ""]]:
        """Sample `(next_state, reward)` from state `state` under `action` (scalars)."""
        p = self.prob[state, action]
        m = jax.random.categorical(key, jnp.log(p))
        return self.next_state[state, action, m], self.reward[state, action, m]


def lattice_spacing(values: ArrayLike | Sequence[float], *, rounding: float = 1e-12,
                    max_denominator: int = 10_000) -> float | None:
    """The largest δ > 0 with every value an integer multiple of δ, or None.

    The values' ratios to the smallest nonzero |value| are written as fractions with
    denominators up to `max_denominator` (each within `rounding` of the ratio, relatively);
    δ is then that smallest value times the fractions' greatest common divisor. 1, 0.5 and
    2.5 give 0.5; 0.1 and 0.25 give 0.05; π and 2π give π; 1 and √2 give None. All zeros
    give 1.

    **Arguments:** `values` (any shape); `rounding` the relative rounding a value may carry;
    `max_denominator` the largest denominator tried.

    **Returns:** δ as a float, or None when no such δ exists at this precision.
    """
    v = np.asarray(values, np.float64).ravel()
    scale = float(np.abs(v).max()) if v.size else 0.0
    nonzero = v[np.abs(v) > rounding * scale]
    if nonzero.size == 0:
        return 1.0
    if not np.all(np.isfinite(nonzero)):
        return None
    smallest = float(np.abs(nonzero).min())
    fractions = []
    for q in np.unique(np.abs(nonzero)) / smallest:
        f = Fraction(float(q)).limit_denominator(max_denominator)
        if abs(float(q) - float(f)) > rounding * max(1.0, abs(float(q))):
            return None
        fractions.append(f)
    common = math.lcm(*(f.denominator for f in fractions))
    divisor = math.gcd(*(f.numerator * (common // f.denominator) for f in fractions))
    return smallest * divisor / common


def check_episodic(fn: str, mdp, *, name: str = "mdp") -> FiniteMDP:
    """`mdp` if it is a `FiniteMDP` with a finite horizon and discount 1.

    **Raises:** `TypeError` for a non-`FiniteMDP`; `ValueError` otherwise.
    """
    check_instance(fn, name, mdp, FiniteMDP)
    if mdp.horizon is None:
        raise ValueError(message(fn, name, "a FiniteMDP with a finite horizon",
                                 "horizon=None"))
    if mdp.discount != 1.0:
        raise ValueError(message(fn, name, "a FiniteMDP with discount 1 (the stock update "
                                 "c' = c + r)", f"discount={mdp.discount}"))
    return mdp


def _drop_impossible(nxt, reward, prob):
    """Keep, for every (s, a), only the outcomes with positive probability (padded)."""
    p = concrete_values(prob)
    if p is None:
        return nxt, reward, prob
    keep = p > 0
    m = max(int(keep.sum(axis=-1).max()), 1)
    order = np.argsort(~keep, axis=-1, kind="stable")[..., :m]
    arrays = [concrete_values(x) for x in (nxt, reward)]
    if any(x is None for x in arrays):
        take = lambda x: jnp.take_along_axis(jnp.asarray(x), jnp.asarray(order), axis=-1)
        return take(nxt), take(reward), take(prob)
    dtype = jnp.asarray(prob).dtype
    take = lambda x: np.take_along_axis(x, order, axis=-1)
    return (jnp.asarray(take(arrays[0])), jnp.asarray(take(arrays[1]), dtype),
            jnp.asarray(take(p), dtype))


def _check_probabilities(name: str, p, atol: float) -> None:
    fn = "FiniteMDP"
    c = concrete_values(p)
    if c is None:
        return
    if np.isnan(c).any():
        where = tuple(int(i) for i in np.argwhere(np.isnan(c))[0])
        raise ValueError(message(fn, name, "free of NaN", f"NaN at index {where}"))
    if (c < -atol).any() or (c > 1 + atol).any():
        bad = np.argwhere((c < -atol) | (c > 1 + atol))[0]
        raise ValueError(message(fn, name, "probabilities in [0, 1]",
                                 f"{float(c[tuple(bad)])!r} at index {tuple(int(i) for i in bad)}"))
    sums = c.sum(axis=-1)
    off = np.abs(sums - 1.0) > atol
    if off.any():
        bad = tuple(int(i) for i in np.argwhere(off)[0])
        row = f"{name}[{', '.join(map(str, bad))}, :]" if bad else name
        raise ValueError(message(fn, f"every row of {name} {shape_str(c)}",
                                 f"summing to 1 (within atol={atol})",
                                 f"{row} summing to {sums[bad]:.6g}"))


def _check_finite(name: str, x) -> None:
    c = concrete_values(x)
    if c is not None and not np.isfinite(c).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(c))[0])
        raise ValueError(message("FiniteMDP", name, "finite",
                                 f"{float(c[bad])!r} at outcome {bad}"))
