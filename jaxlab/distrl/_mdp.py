"""Finite Markov decision processes with reward distributions, stored as outcome lists."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray

from .._core.checks import concrete_values, shape_str


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

    **Raises:** `ValueError` naming the array, its shape or the offending entry, when shapes
    disagree, or (for concrete inputs) a probability is negative, NaN or a row does not sum
    to 1 within `atol`, or a reward is not finite.

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
        transitions = jnp.asarray(transitions)
        rewards = jnp.asarray(rewards)
        if transitions.ndim != 3 or transitions.shape[0] != transitions.shape[2]:
            raise ValueError(f"FiniteMDP: transitions must have shape (S, A, S), got "
                             f"{shape_str(transitions)}")
        s, a, _ = transitions.shape
        _check_probabilities("transitions", transitions, atol)
        if reward_probs is None:
            if rewards.shape != (s, a, s):
                raise ValueError(f"FiniteMDP: rewards must have shape (S, A, S) = {(s, a, s)} "
                                 f"like transitions (or (S, A, S, R) with reward_probs), got "
                                 f"{shape_str(rewards)}")
            rewards = rewards[..., None]
            rprobs = jnp.ones_like(rewards, dtype=transitions.dtype)
        else:
            rprobs = jnp.asarray(reward_probs)
            if rewards.ndim != 4 or rewards.shape[:3] != (s, a, s):
                raise ValueError(f"FiniteMDP: with reward_probs, rewards must have shape "
                                 f"(S, A, S, R) with (S, A, S) = {(s, a, s)}, got "
                                 f"{shape_str(rewards)}")
            if rprobs.shape != rewards.shape:
                raise ValueError(f"FiniteMDP: reward_probs must have the shape of rewards "
                                 f"{shape_str(rewards)}, got {shape_str(rprobs)}")
            _check_probabilities("reward_probs", rprobs, atol)
        r = rewards.shape[-1]
        prob = (transitions[..., None] * rprobs).reshape(s, a, s * r)
        reward = jnp.broadcast_to(rewards, (s, a, s, r)).reshape(s, a, s * r)
        nxt = jnp.broadcast_to(jnp.arange(s)[:, None], (s, r)).reshape(-1)
        nxt = jnp.broadcast_to(nxt, (s, a, s * r))
        nxt, reward, prob = _drop_impossible(nxt, reward, prob)
        self._set(nxt, reward, prob, discount, horizon, initial, terminal, atol)

    def _set(self, nxt, reward, prob, discount, horizon, initial, terminal, atol):
        s = nxt.shape[0]
        _check_finite("rewards", reward)
        if isinstance(discount, bool) or not isinstance(discount, (int, float)) \
                or not 0.0 < float(discount) <= 1.0:
            raise ValueError(f"FiniteMDP: discount must be a float in (0, 1], got {discount!r}")
        if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, int)
                                    or horizon < 1):
            raise ValueError(f"FiniteMDP: horizon must be a positive int or None, got "
                             f"{horizon!r}")
        if initial is None:
            initial = jnp.full((s,), 1.0 / s, prob.dtype)
        initial = jnp.asarray(initial, prob.dtype)
        if initial.shape != (s,):
            raise ValueError(f"FiniteMDP: initial must have shape (S,) = ({s},), got "
                             f"{shape_str(initial)}")
        _check_probabilities("initial", initial, atol)
        terminal = jnp.zeros((s,), bool) if terminal is None else jnp.asarray(terminal)
        if terminal.shape != (s,) or terminal.dtype != jnp.bool_:
            raise ValueError(f"FiniteMDP: terminal must be a boolean array of shape ({s},), "
                             f"got {shape_str(terminal)} of dtype {terminal.dtype}")
        if float(discount) == 1.0 and horizon is None:
            t = concrete_values(terminal)
            if t is not None and not t.any():
                raise ValueError("FiniteMDP: discount=1 needs a finite horizon or terminal "
                                 "states (the return is otherwise unbounded), got "
                                 "horizon=None and no terminal state")
        self.next_state = nxt.astype(jnp.int32)
        self.reward = reward
        self.prob = prob
        self.initial = initial
        self.terminal = terminal
        self.discount = float(discount)
        self.horizon = horizon

    @classmethod
    def from_outcomes(cls, next_state: ArrayLike, reward: ArrayLike, prob: ArrayLike, *,
                      discount: float, horizon: int | None = None,
                      initial: ArrayLike | None = None, terminal: ArrayLike | None = None,
                      atol: float = 1e-6) -> "FiniteMDP":
        """Build from outcome arrays `next_state, reward, prob: (S, A, M)` directly.

        Sparse problems (many states, few successors) are given this way. Raises
        `ValueError` as the constructor does, and for next states outside `0..S-1`.
        """
        nxt, reward, prob = jnp.asarray(next_state), jnp.asarray(reward), jnp.asarray(prob)
        if nxt.ndim != 3:
            raise ValueError(f"FiniteMDP.from_outcomes: next_state must have shape (S, A, M), "
                             f"got {shape_str(nxt)}")
        for name, x in (("reward", reward), ("prob", prob)):
            if x.shape != nxt.shape:
                raise ValueError(f"FiniteMDP.from_outcomes: {name} must have the shape of "
                                 f"next_state {shape_str(nxt)}, got {shape_str(x)}")
        if not jnp.issubdtype(nxt.dtype, jnp.integer):
            raise ValueError(f"FiniteMDP.from_outcomes: next_state must be integer, got "
                             f"{nxt.dtype}")
        c = concrete_values(nxt)
        if c is not None and (c.min() < 0 or c.max() >= nxt.shape[0]):
            raise ValueError(f"FiniteMDP.from_outcomes: next_state must lie in "
                             f"0..{nxt.shape[0] - 1}, got values in {c.min()}..{c.max()}")
        _check_probabilities("prob", prob, atol)
        if not jnp.issubdtype(reward.dtype, jnp.floating):
            reward = reward.astype(prob.dtype)
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
        r = self._live_rewards()
        return bool(np.all(r == np.round(r)))

    def step(self, key: PRNGKeyArray, state: ArrayLike, action: ArrayLike
             ) -> tuple[Int[Array, ""], Float[Array, ""]]:
        """Sample `(next_state, reward)` from state `state` under `action` (scalars)."""
        p = self.prob[state, action]
        m = jax.random.categorical(key, jnp.log(p))
        return self.next_state[state, action, m], self.reward[state, action, m]


def _drop_impossible(nxt, reward, prob):
    """Keep, for every (s, a), only the outcomes with positive probability (padded)."""
    p = concrete_values(prob)
    if p is None:
        return nxt, reward, prob
    keep = p > 0
    m = max(int(keep.sum(axis=-1).max()), 1)
    order = np.argsort(~keep, axis=-1, kind="stable")[..., :m]
    take = lambda x: jnp.take_along_axis(jnp.asarray(x), jnp.asarray(order), axis=-1)
    return take(nxt), take(reward), take(prob)


def _check_probabilities(name: str, p, atol: float) -> None:
    c = concrete_values(p)
    if c is None:
        return
    if not np.issubdtype(c.dtype, np.floating):
        raise ValueError(f"FiniteMDP: {name} must be floating point probabilities, got dtype "
                         f"{c.dtype}")
    if np.isnan(c).any():
        where = tuple(int(i) for i in np.argwhere(np.isnan(c))[0])
        raise ValueError(f"FiniteMDP: {name} contains NaN (first at index {where})")
    if (c < -atol).any() or (c > 1 + atol).any():
        bad = np.argwhere((c < -atol) | (c > 1 + atol))[0]
        raise ValueError(f"FiniteMDP: {name} must hold probabilities in [0, 1], got "
                         f"{c[tuple(bad)]!r} at index {tuple(int(i) for i in bad)}")
    sums = c.sum(axis=-1)
    off = np.abs(sums - 1.0) > atol
    if off.any():
        bad = tuple(int(i) for i in np.argwhere(off)[0])
        raise ValueError(f"FiniteMDP: every row of {name} {shape_str(c)} must sum to 1 "
                         f"(within atol={atol}), but {name}[{', '.join(map(str, bad))}, :] sums "
                         f"to {sums[bad]:.6g}")


def _check_finite(name: str, x) -> None:
    c = concrete_values(x)
    if c is not None and not np.isfinite(c).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(c))[0])
        raise ValueError(f"FiniteMDP: {name} must be finite, got {c[bad]!r} at outcome {bad}")
