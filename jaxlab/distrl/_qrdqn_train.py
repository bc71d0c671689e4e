"""The training loop of the stock-augmented quantile-regression DQN.

A network θ(s, c, t) gives Q quantiles of the future return G for every action, from MDP
state s, stock c and step t. It is trained by quantile regression (Dabney et al., 2018) on
the targets r + θ(s', c + r, t + 1, a*), where a* is greedy for an expected utility u of the
stock-augmented return, a*(s, c, t) = argmax_a (1/Q) Σ_q u(c + θ_q(s, c, t, a)) — the greedy
rule of stock-augmented distributional dynamic programming (Pires et al., 2025).
"""

import functools
import sys
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import tqdm
from jaxtyping import Array, PRNGKeyArray

from .._core.checks import (
    as_float_array,
    check_bool,
    check_callable,
    check_finite_values,
    check_int,
    check_key,
    check_number,
    message,
)
from .._core.results import RESULTS, AbstractResult, check_status
from ..train import fit
from ._distributions import Quantiles
from ._greedy import check_utility, greedy_action
from ._mdp import FiniteMDP, check_episodic
from ._network import StockQNetwork, check_network
from ._objectives import AbstractExpectedUtility
from ._quantile_loss import quantile_huber_loss
from ._stock_grid import Stocks


class StockQRDQNResult(AbstractResult):
    """What `train_stock_qrdqn` returns.

    **Fields:**

    - `network`: the trained `StockQNetwork`.
    - `history`: a dict of per-round lists: `"round"` (1..rounds), `"loss"` (mean TD loss
      over the round's `fit` steps), `"epsilon"` (the exploration rate of the round's
      episodes), `"episode_return"` (mean return G of those episodes), and one list per
      metric returned by `callback`.
    - `status`: `successful`, or `nonfinite` when the loss became non-finite (training
      stopped at that round).
    - `converged`: `status == RESULTS.successful`.
    """

    network: StockQNetwork
    history: dict[str, list]
    status: RESULTS


def train_stock_qrdqn(
        mdp: FiniteMDP, objective: AbstractExpectedUtility, *, key: PRNGKeyArray,
        initial_stocks: Stocks, network: StockQNetwork | None = None,
        num_quantiles: int = 32, width: int = 64, depth: int = 2, rounds: int = 40,
        episodes_per_round: int = 256, steps_per_round: int = 100, batch_size: int = 256,
        buffer_rounds: int = 20, learning_rate: float = 1e-3, epsilon_start: float = 1.0,
        epsilon_end: float = 0.05, epsilon_decay_rounds: int | None = None,
        kappa: float = 1.0,
        callback: Callable[[int, StockQNetwork], dict[str, float]] | None = None,
        progress: bool | None = None, throw: bool = True) -> StockQRDQNResult:
    """Train a stock-augmented QR-DQN on a finite-horizon MDP with γ = 1.

    Each of `rounds` rounds

    1. plays `episodes_per_round` ε-greedy episodes (one jitted, vmapped rollout with
       `mdp.step`), each from S₀ ~ `mdp.initial` and a stock c₀ drawn uniformly from
       `initial_stocks`, with the stock updated c' = c + r, and writes their H transitions
       (s, c, t, a, r, s', c', end) into a fixed-size circular replay buffer of
       `buffer_rounds` rounds;
    2. freezes the current network as the target network and computes, for every stored
       transition, the target quantiles r + θ(s', c', t + 1, a*) with a* the greedy action at
       (s', c', t + 1) (`greedy_stock_action`), or r alone where the episode ends (a terminal
       state was entered or t + 1 = H);
    3. runs `jaxlab.train.fit` for `steps_per_round` Adam steps of the quantile Huber loss
       on minibatches of the buffer (the loss function and optimiser objects are shared by
       all rounds and calls, so fit's step compiles once); the result becomes the online
       and, at the next round, the target network.

    ε decays linearly from `epsilon_start` to `epsilon_end` over `epsilon_decay_rounds`
    rounds (default: half of them) and stays there. The run is a pure function of `key`.

    **Arguments:**

    - `mdp`: a `FiniteMDP` with a finite horizon and discount 1.
    - `objective`: the expected utility u whose greedy rule is learned (e.g. `NegativePart()`
      for the inner problem of CVaR).
    - `key`: PRNG key.
    - `initial_stocks`: `(K,)` the stocks episodes start from (for CVaR: c₀ = −b over the
      range of thresholds b to be searched).
    - `network`: the initial `StockQNetwork`; default a fresh one with `num_quantiles`,
      `width`, `depth`, the stock scaled by the largest reachable |c| and the output by the
      largest |return|.
    - `rounds`, `episodes_per_round`, `steps_per_round`, `batch_size`, `buffer_rounds`,
      `learning_rate`: sizes of the loop above (`batch_size` at most the buffer size
      `buffer_rounds · episodes_per_round · H`).
    - `epsilon_start`, `epsilon_end`, `epsilon_decay_rounds`: the exploration schedule.
    - `kappa`: the Huber threshold of `quantile_huber_loss`.
    - `callback`: `callback(round, network) -> dict of floats`, called after every round;
      the values are appended to `history`.
    - `progress`: a tqdm bar over rounds with the last loss; `None` shows it only when
      stderr is a terminal.
    - `throw`: raise when the loss became non-finite; with `throw=False` the status only
      reports it.

    **Returns:** a `StockQRDQNResult` (the network, the per-round history, the status).

    **Raises:** `TypeError` for an `mdp` that is not a `FiniteMDP`, an `objective` that is
    not an `AbstractExpectedUtility`, a `network` that is not a `StockQNetwork`, or
    non-int sizes; `ValueError` naming the argument for an infinite horizon, a discount ≠ 1,
    an empty, non-1-D or non-finite `initial_stocks`, a network whose sizes or horizon do
    not fit `mdp`, or sizes and rates out of range; with `throw`, a runtime error when the
    loss became non-finite.

    **References:** Pires et al. (2025), *Optimizing Return Distributions with Distributional
    Dynamic Programming*, JMLR (stock augmentation, the greedy rule, the deep agent);
    Dabney, Rowland, Bellemare, Munos (2018), *Distributional Reinforcement Learning with
    Quantile Regression*, AAAI (QR-DQN).
    """
    fn = "train_stock_qrdqn"
    check_episodic(fn, mdp)
    check_utility(fn, objective)
    check_key(fn, key)
    dtype = mdp.reward.dtype
    stocks = as_float_array(fn, "initial_stocks", initial_stocks, ndim=1).astype(dtype)
    if stocks.shape[0] < 1:
        raise ValueError(message(fn, "initial_stocks", "a non-empty (K,) array", "shape (0,)"))
    check_finite_values(fn, "initial_stocks", stocks)
    for name, value in (("num_quantiles", num_quantiles), ("width", width),
                        ("rounds", rounds), ("episodes_per_round", episodes_per_round),
                        ("steps_per_round", steps_per_round), ("batch_size", batch_size),
                        ("buffer_rounds", buffer_rounds)):
        check_int(fn, name, value, minimum=1)
    check_int(fn, "depth", depth, minimum=0)
    check_int(fn, "epsilon_decay_rounds", epsilon_decay_rounds, minimum=1, none_ok=True)
    for name, value in (("epsilon_start", epsilon_start), ("epsilon_end", epsilon_end)):
        check_number(fn, name, value, minimum=0.0, maximum=1.0)
    learning_rate = check_number(fn, "learning_rate", learning_rate, minimum=0.0,
                                 open_minimum=True)
    kappa = check_number(fn, "kappa", kappa, minimum=0.0)
    if callback is not None:
        check_callable(fn, "callback", callback)
    throw = check_bool(fn, "throw", throw)
    h = mdp.horizon
    per_round = episodes_per_round * h
    capacity = buffer_rounds * per_round
    if batch_size > capacity:
        raise ValueError(message(fn, "batch_size", "at most the buffer size "
                                 f"buffer_rounds·episodes_per_round·horizon = {capacity}",
                                 batch_size))
    key_net, key_loop = jax.random.split(key)
    if network is None:
        rlo, rhi = mdp.reward_bounds()
        cmax = float(np.max(np.abs(np.asarray(stocks)))) + h * max(abs(rlo), abs(rhi))
        glo, ghi = mdp.return_bounds()
        network = StockQNetwork(mdp.num_states, mdp.num_actions, num_quantiles, horizon=h,
                                stock_scale=max(cmax, 1.0),
                                return_scale=max(abs(glo), abs(ghi), 1.0),
                                width=width, depth=depth, dtype=dtype, key=key_net)
    else:
        check_network(fn, network, mdp)
    decay = max(rounds // 2, 1) if epsilon_decay_rounds is None else epsilon_decay_rounds

    def epsilon(i: int) -> float:
        frac = min(i / decay, 1.0)
        return float(epsilon_start + frac * (epsilon_end - epsilon_start))

    loss_fn = _td_loss(kappa)
    optimizer = _adam(learning_rate)
    buffer = _empty_buffer(capacity, dtype)
    history: dict[str, list] = {"round": [], "loss": [], "epsilon": [], "episode_return": []}
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    bar = tqdm.tqdm(range(rounds), disable=not progress, desc="stock QR-DQN", unit="round",
                    dynamic_ncols=True)
    finite = True
    try:
        for i in bar:
            key_collect, key_fit = jax.random.split(jax.random.fold_in(key_loop, i))
            eps = epsilon(i)
            batch, episode_return = _collect(network, objective, mdp, key_collect, stocks,
                                             jnp.asarray(eps, dtype), episodes_per_round)
            buffer = _insert(buffer, batch, jnp.asarray((i % buffer_rounds) * per_round))
            data = {"state": buffer["state"], "stock": buffer["stock"], "time": buffer["time"],
                    "action": buffer["action"], "weight": buffer["valid"].astype(dtype),
                    "target": _td_targets(network, objective, buffer)}
            result = fit(loss_fn, network, data, optimizer, steps=steps_per_round,
                         key=key_fit, batch_size=batch_size, progress=False)
            network = result.model
            history["round"].append(i + 1)
            history["loss"].append(float(np.mean(result.history["loss"])))
            history["epsilon"].append(eps)
            history["episode_return"].append(float(episode_return))
            if callback is not None:
                for name, value in callback(i + 1, network).items():
                    history.setdefault(name, []).append(float(value))
            bar.set_postfix({"loss": f"{history['loss'][-1]:.4g}", "eps": f"{eps:.2f}"},
                            refresh=False)
            finite = bool(np.isfinite(history["loss"][-1]))
            if not finite:
                break
    finally:
        bar.close()
    status = RESULTS.where(jnp.asarray(finite), RESULTS.successful, RESULTS.nonfinite)
    check_status(fn, status, jnp.asarray(history["loss"][-1]), throw)
    return StockQRDQNResult(network, history, status)


@functools.cache
def _adam(learning_rate: float) -> optax.GradientTransformation:
    # one object per rate, so every round (and every call) reuses fit's compiled step
    return optax.adam(learning_rate)


@functools.cache
def _td_loss(kappa: float) -> Callable[..., Any]:
    def loss_fn(model, batch, *, key):
        del key     # the loss is deterministic; `fit` passes its key by keyword
        theta = jax.vmap(model)(batch["state"], batch["stock"], batch["time"])   # (B, A, Q)
        pred = jnp.take_along_axis(theta, batch["action"][:, None, None], axis=1)[:, 0]
        taus = Quantiles.midpoints(model.num_quantiles, pred.dtype)
        per = quantile_huber_loss(pred, batch["target"], taus, kappa=kappa)
        w = batch["weight"]
        return jnp.sum(w * per) / jnp.maximum(jnp.sum(w), 1.0)

    return loss_fn


_FIELDS = ("state", "stock", "time", "action", "reward", "next_state", "next_stock", "end",
           "valid")


def _empty_buffer(capacity, dtype):
    i32 = jnp.zeros((capacity,), jnp.int32)
    f = jnp.zeros((capacity,), dtype)
    b = jnp.zeros((capacity,), bool)
    return {"state": i32, "stock": f, "time": i32, "action": i32, "reward": f,
            "next_state": i32, "next_stock": f, "end": b, "valid": b}


@jax.jit
def _insert(buffer, batch, start):
    return {k: jax.lax.dynamic_update_slice_in_dim(buffer[k], batch[k], start, axis=0)
            for k in _FIELDS}


@eqx.filter_jit
def _collect(network, objective, mdp, key, stocks, epsilon, num_episodes):
    """`num_episodes` ε-greedy episodes → transitions `(num_episodes·H,)` and mean return."""
    h = mdp.horizon
    dtype = mdp.reward.dtype

    def episode(k):
        k0, kc, k = jax.random.split(k, 3)
        s0 = jax.random.categorical(k0, jnp.log(mdp.initial)).astype(jnp.int32)
        c0 = stocks[jax.random.randint(kc, (), 0, stocks.shape[0])]

        def step(carry, t):
            s, c, done, g, k = carry
            k, ke, ka, ks = jax.random.split(k, 4)
            greedy, _ = greedy_action(network, objective, s, c, t)
            explore = jax.random.uniform(ke, dtype=dtype) < epsilon
            a = jnp.where(explore, jax.random.randint(ka, (), 0, mdp.num_actions), greedy)
            a = a.astype(jnp.int32)
            s2, r = mdp.step(s, a, key=ks)
            s2 = s2.astype(jnp.int32)
            c2 = c + r
            end = mdp.terminal[s2] | (t + 1 == h)
            record = {"state": s, "stock": c, "time": t, "action": a, "reward": r,
                      "next_state": s2, "next_stock": c2, "end": end, "valid": ~done}
            g = g + jnp.where(done, 0.0, r)
            carry = (jnp.where(done, s, s2), jnp.where(done, c, c2), done | mdp.terminal[s2],
                     g, k)
            return carry, record

        init = (s0, c0, mdp.terminal[s0], jnp.zeros((), dtype), k)
        (_, _, _, g, _), records = jax.lax.scan(step, init, jnp.arange(h, dtype=jnp.int32))
        return records, g

    records, returns = jax.vmap(episode)(jax.random.split(key, num_episodes))
    records = {k: v.reshape(-1) for k, v in records.items()}
    return records, jnp.mean(returns)


@eqx.filter_jit
def _td_targets(network: StockQNetwork, objective: AbstractExpectedUtility,
                buffer: dict[str, Array]) -> Array:
    """r + θ(s', c', t + 1, a*) (or r where the episode ends) for every transition, (N, Q)."""

    def one(s2, c2, t2, r, end):
        a, _ = greedy_action(network, objective, s2, c2, t2)
        theta = network(s2, c2, t2)[a]
        return r + jnp.where(end, 0.0, theta)

    return jax.lax.stop_gradient(jax.vmap(one)(
        buffer["next_state"], buffer["next_stock"], buffer["time"] + 1, buffer["reward"],
        buffer["end"]))
