"""Monte Carlo rollouts of Markov and stock-dependent policies."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._core.checks import (
    as_float_array,
    check_bool,
    check_instance,
    check_int,
    check_key,
    message,
)
from ._bellman import _markov_policy
from ._mdp import FiniteMDP
from ._stock_grid import StockPolicy, check_stock_policy


def sample_returns(mdp: FiniteMDP, policy, *, key: PRNGKeyArray, num_episodes: int,
                   num_steps: int | None = None, initial_stock: ArrayLike = 0.0,
                   return_rewards: bool = False
                   ) -> Float[Array, " num_episodes"] | tuple[Array, Array]:
    """Sample returns G = Σ_t γᵗ R_{t+1} of `policy` by simulating `num_episodes` episodes.

    **Arguments:**

    - `mdp`: a `FiniteMDP`; S₀ ~ `mdp.initial`.
    - `policy`: Markov probabilities `(S, A)` / `(H, S, A)`, actions `(S,)` / `(H, S)`, or a
      `StockPolicy` (started at `initial_stock`, stock updated c' = (c + r)/γ).
    - `key`: PRNG key.
    - `num_episodes`: how many episodes.
    - `num_steps`: steps per episode; default the horizon. Needed for infinite-horizon
      problems (the truncation error is at most γ^num_steps·max|r|/(1 − γ)).
    - `return_rewards`: also return the rewards of every step (0 after the episode ended).

    **Returns:** `(num_episodes,)` sampled returns, and with `return_rewards` also the
    `(num_episodes, num_steps)` rewards.

    **Raises:** `TypeError` for non-int counts or a bad key; `ValueError` for a bad policy,
    or a missing `num_steps` without a horizon.

    **Reference:** Pires et al. (2025), §3 (the stock update c' = (c + r)/γ).
    """
    fn = "sample_returns"
    check_instance(fn, "mdp", mdp, FiniteMDP)
    check_key(fn, key)
    num_episodes = check_int(fn, "num_episodes", num_episodes, minimum=1)
    num_steps = check_int(fn, "num_steps", num_steps, minimum=1, none_ok=True)
    return_rewards = check_bool(fn, "return_rewards", return_rewards)
    if num_steps is None:
        if mdp.horizon is None:
            raise ValueError(message(fn, "num_steps", "given for an infinite-horizon MDP (the "
                                     "episode is truncated after num_steps)", "None"))
        num_steps = mdp.horizon
    if isinstance(policy, StockPolicy):
        check_stock_policy(fn, mdp, policy)
        probs = None
    else:
        probs = _markov_policy(fn, policy, mdp)
    if mdp.horizon is not None:
        num_steps = min(num_steps, mdp.horizon)
    c0 = as_float_array(fn, "initial_stock", initial_stock, ndim=0).astype(mdp.reward.dtype)
    g, rewards = _rollouts(mdp, policy if probs is None else probs, key, num_episodes,
                           num_steps, c0)
    return (g, rewards) if return_rewards else g


@eqx.filter_jit
def _rollouts(mdp, policy, key, num_episodes, num_steps, c0):
    keys = jax.random.split(key, num_episodes)
    return jax.vmap(lambda k: _episode(mdp, policy, k, num_steps, c0))(keys)


def _episode(mdp, policy, key, num_steps, c0):
    k0, key = jax.random.split(key)
    s0 = jax.random.categorical(k0, jnp.log(mdp.initial))
    dtype = mdp.reward.dtype

    def step(carry, t):
        s, c, g, scale, done, key = carry
        key, ka, ks = jax.random.split(key, 3)
        if isinstance(policy, StockPolicy):
            a = policy(t, s, c, key=ka)
        else:
            p = policy[s] if policy.ndim == 2 else policy[t, s]
            a = jax.random.categorical(ka, jnp.log(p))
        s2, r = mdp.step(s, a, key=ks)
        done = done | mdp.terminal[s]
        r = jnp.where(done, 0.0, r)
        g = g + scale * r
        c = jnp.where(done, c, (c + r) / mdp.discount)
        s2 = jnp.where(done, s, s2)
        return (s2, c, g, scale * mdp.discount, done, key), r

    init = (s0, c0, jnp.zeros((), dtype), jnp.ones((), dtype), jnp.asarray(False), key)
    (_, _, g, _, _, _), rewards = jax.lax.scan(step, init, jnp.arange(num_steps))
    return g, rewards
