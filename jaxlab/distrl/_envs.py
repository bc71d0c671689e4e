"""Small classic environments as `FiniteMDP`s, and random MDPs for tests and benchmarks."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

from .._core.checks import check_int, check_key, check_number, message
from ._mdp import FiniteMDP

_MOVES = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])  # up, right, down, left


def cliff_gridworld(rows: int = 4, cols: int = 6, *, slip: float = 0.1,
                    cliff_penalty: float = 20.0, step_reward: float = -1.0,
                    goal_reward: float = 0.0, horizon: int | None = 20,
                    discount: float = 1.0) -> FiniteMDP:
    """The cliff walk (Sutton & Barto, Example 6.6) with slippery moves.

    The start is the bottom-left cell, the goal the bottom-right, and the cells between them
    on the bottom row are the cliff. Actions 0..3 move up, right, down, left; with
    probability `slip` the move goes in one of the other three directions instead (uniformly);
    moves into a wall stay put. Every step pays `step_reward`; falling off the cliff pays
    `step_reward − cliff_penalty` and ends the episode; reaching the goal pays
    `step_reward + goal_reward` and ends it.

    States are numbered `row·cols + col`; returns `FiniteMDP` with terminal cliff and goal
    cells and all mass initially on the start.

    **Raises:** `TypeError` for non-int sizes; `ValueError` for fewer than 2 rows or 3
    columns or `slip` outside [0, 1).
    """
    fn = "cliff_gridworld"
    rows = check_int(fn, "rows", rows, minimum=2)
    cols = check_int(fn, "cols", cols, minimum=3)
    slip = check_number(fn, "slip", slip, minimum=0.0, maximum=1.0, open_maximum=True)
    n = rows * cols
    start, goal = (rows - 1) * cols, rows * cols - 1
    cliff = [(rows - 1) * cols + j for j in range(1, cols - 1)]
    terminal = np.zeros(n, bool)
    terminal[[*cliff, goal]] = True
    p = np.zeros((n, 4, n))
    r = np.zeros((n, 4, n))
    for s in range(n):
        i, j = divmod(s, cols)
        for a in range(4):
            if terminal[s]:
                p[s, a, s] = 1.0
                continue
            for d in range(4):
                prob = 1 - slip if d == a else slip / 3
                if prob == 0:
                    continue
                ni, nj = i + _MOVES[d][0], j + _MOVES[d][1]
                if not (0 <= ni < rows and 0 <= nj < cols):
                    ni, nj = i, j
                t = ni * cols + nj
                p[s, a, t] += prob
                r[s, a, t] = step_reward + (-cliff_penalty if t in cliff else 0.0) + \
                    (goal_reward if t == goal else 0.0)
    initial = np.zeros(n)
    initial[start] = 1.0
    return FiniteMDP(p, r, discount=discount, horizon=horizon, initial=initial,
                     terminal=jnp.asarray(terminal))


def risky_safe_chain(horizon: int = 3, *, safe_reward: float = 1.0,
                     risky_rewards: tuple[float, ...] = (0.0, 3.0),
                     risky_probs: tuple[float, ...] = (0.5, 0.5)) -> FiniteMDP:
    """A one-state bandit played `horizon` times: action 0 is safe, action 1 risky.

    The safe arm pays `safe_reward`; the risky arm pays `risky_rewards[i]` with probability
    `risky_probs[i]`. There is one state, so a Markov policy can only depend on time; a
    CVaR-optimal policy must depend on the rewards collected so far (the stock).
    """
    rr = np.asarray(risky_rewards, float)
    rp = np.asarray(risky_probs, float)
    if rr.shape != rp.shape or rr.ndim != 1:
        raise ValueError(f"risky_safe_chain: risky_rewards and risky_probs must be equal-length "
                         f"sequences, got {rr.shape} and {rp.shape}")
    m = rr.size
    reward = np.zeros((1, 2, m))
    prob = np.zeros((1, 2, m))
    reward[0, 0, 0], prob[0, 0, 0] = safe_reward, 1.0
    reward[0, 1], prob[0, 1] = rr, rp
    return FiniteMDP.from_outcomes(np.zeros((1, 2, m), np.int32), reward, prob, discount=1.0,
                                   horizon=horizon, initial=np.ones(1))


def two_step_gamble(*, first_rewards: tuple[float, ...] = (0.0, 2.0),
                    first_probs: tuple[float, ...] = (0.5, 0.5), safe_reward: float = 1.0,
                    risky_rewards: tuple[float, ...] = (-1.0, 4.0),
                    risky_probs: tuple[float, ...] = (0.5, 0.5)) -> FiniteMDP:
    """A forced lottery, then one choice between a safe and a risky arm (horizon 2).

    Step 0 pays `first_rewards[i]` with probability `first_probs[i]` whatever the action;
    both outcomes lead to the same state, where action 0 pays `safe_reward` and action 1 a
    draw from `risky_rewards`. A Markov policy cannot see the first reward; the CVaR-optimal
    policy gambles or not depending on it.
    """
    fr, fp = np.asarray(first_rewards, float), np.asarray(first_probs, float)
    rr, rp = np.asarray(risky_rewards, float), np.asarray(risky_probs, float)
    m = max(fr.size, rr.size)
    nxt = np.zeros((2, 2, m), np.int32)
    reward = np.zeros((2, 2, m))
    prob = np.zeros((2, 2, m))
    nxt[0] = 1
    reward[0, :, :fr.size], prob[0, :, :fr.size] = fr, fp
    reward[1, 0, 0], prob[1, 0, 0] = safe_reward, 1.0
    reward[1, 1, :rr.size], prob[1, 1, :rr.size] = rr, rp
    nxt[1] = 1
    return FiniteMDP.from_outcomes(nxt, reward, prob, discount=1.0, horizon=2,
                                   initial=np.array([1.0, 0.0]))


def foraging_homeostasis(horizon: int = 20, *, calm_success: float = 0.7,
                         storm_success: float = 0.3, storm_prob: float = 0.2,
                         calm_prob: float = 0.4) -> FiniteMDP:
    """A forager's energy budget: the homeostasis/inventory task.

    Two states (0 calm, 1 stormy weather; storms start with probability `storm_prob` and end
    with `calm_prob` per step). Action 0 *forages*: +2 energy on success (probability
    `calm_success` or `storm_success`), −1 otherwise. Action 1 *rests*: 0 or −1 with equal
    probability. The return is the energy gained; a risk-neutral forager always forages and
    overshoots any band, a homeostatic one (`Homeostasis(low, high)`) forages only while its
    stock is below the band.
    """
    for name, v in (("calm_success", calm_success), ("storm_success", storm_success),
                    ("storm_prob", storm_prob), ("calm_prob", calm_prob)):
        check_number("foraging_homeostasis", name, v, minimum=0.0, maximum=1.0)
    weather = np.array([[1 - storm_prob, storm_prob], [calm_prob, 1 - calm_prob]])
    success = np.array([calm_success, storm_success])
    nxt = np.zeros((2, 2, 4), np.int32)
    reward = np.zeros((2, 2, 4))
    prob = np.zeros((2, 2, 4))
    for s in range(2):
        for w in range(2):
            nxt[s, :, 2 * w:2 * w + 2] = w
            reward[s, 0, 2 * w:2 * w + 2] = (2.0, -1.0)
            prob[s, 0, 2 * w:2 * w + 2] = weather[s, w] * np.array([success[s], 1 - success[s]])
            reward[s, 1, 2 * w:2 * w + 2] = (0.0, -1.0)
            prob[s, 1, 2 * w:2 * w + 2] = weather[s, w] * 0.5
    return FiniteMDP.from_outcomes(nxt, reward, prob, discount=1.0, horizon=horizon,
                                   initial=np.array([1.0, 0.0]))


def random_mdp(num_states: int, num_actions: int, num_outcomes: int, *, key: PRNGKeyArray,
               rewards: tuple[float, ...] = (-1.0, 0.0, 1.0, 2.0), discount: float = 0.9,
               horizon: int | None = None, initial_state: int | None = None,
               dtype=None) -> FiniteMDP:
    """A random sparse MDP for tests and benchmarks.

    Every (s, a) has `num_outcomes` outcomes with uniformly random next states, rewards
    drawn uniformly from `rewards` and Dirichlet(1) probabilities. The same key gives the
    same MDP.

    **Arguments:**

    - `num_states`, `num_actions`, `num_outcomes`: S, A and M (positive ints).
    - `key`: PRNG key.
    - `rewards`: the reward values drawn from.
    - `discount`, `horizon`: as in `FiniteMDP`.
    - `initial_state`: start every episode in this state; default S₀ uniform over states.
    - `dtype`: floating dtype of the rewards and probabilities (default JAX's default float).

    **Returns:** a `FiniteMDP` with outcome arrays `(S, A, M)`.

    **Raises:** `TypeError` for non-int sizes or a bad key; `ValueError` for non-positive
    sizes, an empty `rewards` or an `initial_state` outside `0..S-1`.
    """
    fn = "random_mdp"
    shape = tuple(check_int(fn, name, n, minimum=1) for name, n in (
        ("num_states", num_states), ("num_actions", num_actions),
        ("num_outcomes", num_outcomes)))
    check_key(fn, key)
    rewards = tuple(float(x) for x in np.ravel(rewards))
    if not rewards:
        raise ValueError(message(fn, "rewards", "a non-empty sequence of numbers", "()"))
    initial_state = check_int(fn, "initial_state", initial_state, minimum=0,
                              maximum=num_states - 1, none_ok=True)
    dtype = jnp.dtype(dtype or jnp.result_type(float))
    nxt, r, p = _random_outcomes(key, shape, rewards, dtype)
    initial = np.full(num_states, 1.0 / num_states)
    if initial_state is not None:
        initial = np.eye(num_states)[initial_state]
    return FiniteMDP.from_outcomes(nxt, r, p, discount=discount, horizon=horizon,
                                   initial=jnp.asarray(initial, dtype))


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _random_outcomes(key, shape, rewards, dtype):
    k1, k2, k3 = jax.random.split(key, 3)
    nxt = jax.random.randint(k1, shape, 0, shape[0], dtype=jnp.int32)
    r = jnp.asarray(rewards, dtype)[jax.random.randint(k2, shape, 0, len(rewards))]
    # Dirichlet(1, …, 1) = normalised standard exponentials (cheaper to compile than the
    # general gamma sampler)
    p = jax.random.exponential(k3, shape, dtype)
    return nxt, r, p / jnp.sum(p, axis=-1, keepdims=True)
