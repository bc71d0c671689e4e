"""Stock-augmented quantile-regression DQN: the deep agent of distributional DP.

A network θ(s, c, t) gives Q quantiles of the future return G for every action, from MDP
state s, stock c and step t. It is trained by quantile regression (Dabney et al., 2018) on
the targets r + θ(s', c + r, t + 1, a*), where a* is greedy for an expected utility u of the
stock-augmented return, a*(s, c, t) = argmax_a (1/Q) Σ_q u(c + θ_q(s, c, t, a)) — the greedy
rule of stock-augmented distributional dynamic programming (Pires et al., 2025). On a
finite-horizon MDP with γ = 1 and integer rewards the trained network is tabulated on the
integer stock grid, so its policy is evaluated *exactly* (`evaluate_stock_policy`); CVaR goes
through the Rockafellar–Uryasev outer search over the initial stock c₀ = −b.
"""

import functools
import math
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import tqdm
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from .._core.checks import concrete_values, shape_str
from ..train import fit
from ._bruteforce import best_markov_policy_value, cvar_of
from ._cvar import CVaRSolution, optimize_cvar
from ._distributions import Quantiles
from ._mdp import FiniteMDP
from ._objectives import AbstractExpectedUtility, NegativePart
from ._stock import StockEvaluation, StockPolicy, evaluate_stock_policy, integer_stock_grid


def quantile_huber_loss(pred: Float[ArrayLike, "*batch Q"], target: Float[ArrayLike, "*batch P"],
                        taus: Float[ArrayLike, " Q"], kappa: float = 1.0
                        ) -> Float[Array, "*batch"]:
    """The quantile-regression (Huber) loss of QR-DQN.

    With u_ij = target_j − pred_i,
    loss = Σ_i (1/P) Σ_j |τ_i − 1{u_ij < 0}| · L_κ(u_ij)/κ, where L_κ is the Huber loss
    (½u² for |u| ≤ κ, κ(|u| − ½κ) beyond). κ = 0 gives the plain quantile loss
    |τ_i − 1{u_ij < 0}| · |u_ij| (the limit of L_κ/κ). Minimised over `pred`, pred_i tends to
    the τ_i-quantile of the target distribution (for κ = 0 exactly).

    **Arguments:**

    - `pred`: `(*batch, Q)` predicted quantile locations θ_i.
    - `target`: `(*batch, P)` samples (or quantiles) of the target distribution; treated as
      constants (no gradient flows into them).
    - `taus`: `(Q,)` the quantile levels of `pred` (usually `Quantiles.midpoints(Q)`).
    - `kappa`: the Huber threshold κ ≥ 0.

    **Returns:** `(*batch,)` the loss of every batch element.

    **Raises:** `ValueError` naming the argument when `pred` and `target` have different
    batch shapes, `taus` is not `(Q,)`, or `kappa` is negative.

    **Reference:** Dabney, Rowland, Bellemare, Munos (2018), *Distributional Reinforcement
    Learning with Quantile Regression*, AAAI, eq. (10).
    """
    pred, target, taus = jnp.asarray(pred), jnp.asarray(target), jnp.asarray(taus)
    if pred.ndim < 1 or target.ndim != pred.ndim or target.shape[:-1] != pred.shape[:-1]:
        raise ValueError(f"quantile_huber_loss: pred (*batch, Q) and target (*batch, P) must "
                         f"share their batch shape, got pred {shape_str(pred)} and target "
                         f"{shape_str(target)}")
    if taus.shape != pred.shape[-1:]:
        raise ValueError(f"quantile_huber_loss: taus must have shape (Q,) = "
                         f"({pred.shape[-1]},) like the last axis of pred, got "
                         f"{shape_str(taus)}")
    if isinstance(kappa, bool) or not isinstance(kappa, (int, float)) or kappa < 0:
        raise ValueError(f"quantile_huber_loss: kappa must be a float >= 0, got {kappa!r}")
    u = jax.lax.stop_gradient(target)[..., None, :] - pred[..., :, None]     # (*batch, Q, P)
    if kappa == 0:
        huber = jnp.abs(u)
    else:
        a = jnp.abs(u)
        huber = jnp.where(a <= kappa, 0.5 * u ** 2, kappa * (a - 0.5 * kappa)) / kappa
    weight = jnp.abs(taus[:, None] - (u < 0).astype(u.dtype))
    return jnp.sum(jnp.mean(weight * huber, axis=-1), axis=-1)


class StockQNetwork(eqx.Module):
    """An MLP from (state, stock, step) to Q quantiles of the future return for each action.

    The input is the one-hot state, the stock c / `stock_scale` and, for a finite horizon H,
    the fraction of time left (H − t)/H; the output `(A, Q)` holds θ_q(s, c, t, a), the
    quantiles (at the midpoints τ_q = (2q − 1)/(2Q)) of the future return G from (s, c) at
    step t after action a — of G, not of c + G, which the greedy rule forms as c + θ.

    **Arguments** (of `StockQNetwork(...)`):

    - `num_states`, `num_actions`, `num_quantiles`: S, A and Q (positive ints).
    - `horizon`: H (a positive int) to give the network the time left, or None for a
      stationary network.
    - `stock_scale`: stocks are divided by this (> 0) before entering the MLP.
    - `return_scale`: the MLP's outputs are multiplied by this (> 0).
    - `width`, `depth`: hidden width and number of hidden layers of the MLP.
    - `dtype`: parameter dtype (default: JAX's default float).
    - `key`: PRNG key of the initialisation.

    **Raises:** `ValueError` naming the argument for non-positive sizes or scales.

    **Reference:** Pires et al. (2025), *Optimizing Return Distributions with Distributional
    Dynamic Programming*, JMLR (the stock-augmented agent); Dabney et al. (2018) (QR-DQN).
    """

    mlp: eqx.nn.MLP
    num_states: int = eqx.field(static=True)
    num_actions: int = eqx.field(static=True)
    num_quantiles: int = eqx.field(static=True)
    horizon: int | None = eqx.field(static=True)
    stock_scale: float = eqx.field(static=True)
    return_scale: float = eqx.field(static=True)

    def __init__(self, num_states: int, num_actions: int, num_quantiles: int, *,
                 horizon: int | None, stock_scale: float = 1.0, return_scale: float = 1.0,
                 width: int = 64, depth: int = 2, dtype: Any = None, key: PRNGKeyArray):
        for name, value in (("num_states", num_states), ("num_actions", num_actions),
                            ("num_quantiles", num_quantiles), ("width", width)):
            _check_positive_int(f"StockQNetwork: {name}", value)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
            raise ValueError(f"StockQNetwork: depth must be an int >= 0, got {depth!r}")
        if horizon is not None:
            _check_positive_int("StockQNetwork: horizon", horizon)
        for name, value in (("stock_scale", stock_scale), ("return_scale", return_scale)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or value <= 0:
                raise ValueError(f"StockQNetwork: {name} must be a finite float > 0, got "
                                 f"{value!r}")
        in_size = num_states + 1 + (horizon is not None)
        self.mlp = _init_mlp(in_size, num_actions * num_quantiles, width, depth, dtype, key)
        self.num_states = num_states
        self.num_actions = num_actions
        self.num_quantiles = num_quantiles
        self.horizon = horizon
        self.stock_scale = float(stock_scale)
        self.return_scale = float(return_scale)

    @property
    def dtype(self) -> Any:
        return self.mlp.layers[0].weight.dtype

    def __call__(self, state: Int[ArrayLike, ""], stock: Float[ArrayLike, ""],
                 time: Int[ArrayLike, ""] = 0) -> Float[Array, "A Q"]:
        """θ(s, c, t): `(A, Q)` return quantiles at `state` (int), `stock`, step `time`."""
        dtype = self.dtype
        parts = [jax.nn.one_hot(state, self.num_states, dtype=dtype),
                 (jnp.asarray(stock, dtype) / self.stock_scale)[None]]
        if self.horizon is not None:
            left = (self.horizon - jnp.asarray(time, dtype)) / self.horizon
            parts.append(left[None])
        out = self.mlp(jnp.concatenate(parts))
        return self.return_scale * out.reshape(self.num_actions, self.num_quantiles)


@eqx.filter_jit
def _init_mlp(in_size, out_size, width, depth, dtype, key):
    """`eqx.nn.MLP`'s default initialisation, every W and b ~ U(±1/√fan_in), from a single
    random draw: each separate random op costs a second or more to compile on CPU."""
    shapes = eqx.filter_eval_shape(
        lambda: eqx.nn.MLP(in_size, out_size, width, depth, activation=jax.nn.relu,
                           dtype=dtype, key=jax.random.key(0)))
    limits = [lim for layer in shapes.layers
              for lim in (1 / math.sqrt(layer.in_features),) * (1 + layer.use_bias)]
    params, static = eqx.partition(shapes, lambda x: isinstance(x, jax.ShapeDtypeStruct))
    leaves, treedef = jax.tree.flatten(params)
    sizes = [math.prod(x.shape) for x in leaves]
    draw = jax.random.uniform(key, (sum(sizes),), leaves[0].dtype, -1.0, 1.0)
    arrays = [lim * part.reshape(x.shape) for lim, part, x in
              zip(limits, jnp.split(draw, np.cumsum(sizes)[:-1]), leaves, strict=True)]
    return eqx.combine(jax.tree.unflatten(treedef, arrays), static)


def greedy_stock_action(network: StockQNetwork, objective: AbstractExpectedUtility,
                        state: Int[ArrayLike, ""], stock: Float[ArrayLike, ""],
                        time: Int[ArrayLike, ""] = 0) -> tuple[Int[Array, ""], Float[Array, " A"]]:
    """The greedy action of stock-augmented distributional DP under the network's quantiles.

    a* = argmax_a (1/Q) Σ_q u(c + θ_q(s, c, t, a)), u = `objective.utility` (lowest index
    among exact ties).

    **Returns:** `(action, values)`: the int32 action and the `(A,)` estimates of
    E u(c + G) for every action.

    **Raises:** `TypeError` unless `network` is a `StockQNetwork` and `objective` an
    `AbstractExpectedUtility`.
    """
    _check_network(network, "greedy_stock_action")
    _check_objective(objective, "greedy_stock_action")
    return _greedy(network, objective, state, stock, time)


def _greedy(network, objective, state, stock, time):
    theta = network(state, stock, time)
    c = jnp.asarray(stock, theta.dtype)
    values = jnp.mean(objective.utility(c + theta), axis=-1)
    return jnp.argmax(values).astype(jnp.int32), values


class StockQRDQNResult(NamedTuple):
    """What `train_stock_qrdqn` returns.

    **Fields:**

    - `network`: the trained `StockQNetwork`.
    - `history`: a dict of per-round lists: `"round"` (1..rounds), `"loss"` (mean TD loss
      over the round's `fit` steps), `"epsilon"` (the exploration rate of the round's
      episodes), `"episode_return"` (mean return G of those episodes), and one list per
      metric returned by `callback`.
    """

    network: StockQNetwork
    history: dict[str, list]


def train_stock_qrdqn(
        mdp: FiniteMDP, objective: AbstractExpectedUtility, *, key: PRNGKeyArray,
        initial_stocks: ArrayLike, network: StockQNetwork | None = None,
        num_quantiles: int = 32, width: int = 64, depth: int = 2, rounds: int = 40,
        episodes_per_round: int = 256, steps_per_round: int = 100, batch_size: int = 256,
        buffer_rounds: int = 20, learning_rate: float = 1e-3, epsilon_start: float = 1.0,
        epsilon_end: float = 0.05, epsilon_decay_rounds: int | None = None,
        kappa: float = 1.0,
        callback: Callable[[int, StockQNetwork], dict[str, float]] | None = None,
        progress: bool | None = None) -> StockQRDQNResult:
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

    **Returns:** a `StockQRDQNResult` (the network and the per-round history).

    **Raises:** `TypeError` for an `mdp` that is not a `FiniteMDP`, an `objective` that is
    not an `AbstractExpectedUtility` or a `network` that is not a `StockQNetwork`;
    `ValueError` naming the argument for an infinite horizon, a discount ≠ 1, an empty,
    non-1-D or non-finite `initial_stocks`, a network whose sizes or horizon do not fit
    `mdp`, or sizes and rates out of range.

    **References:** Pires et al. (2025), *Optimizing Return Distributions with Distributional
    Dynamic Programming*, JMLR (stock augmentation, the greedy rule, the deep agent);
    Dabney, Rowland, Bellemare, Munos (2018), *Distributional Reinforcement Learning with
    Quantile Regression*, AAAI (QR-DQN).
    """
    _check_mdp(mdp, "train_stock_qrdqn")
    _check_objective(objective, "train_stock_qrdqn")
    dtype = mdp.reward.dtype
    stocks = jnp.asarray(initial_stocks, dtype)
    if stocks.ndim != 1 or stocks.shape[0] < 1:
        raise ValueError(f"train_stock_qrdqn: initial_stocks must have shape (K,) with K >= 1, "
                         f"got {shape_str(stocks)}")
    c = concrete_values(stocks)
    if c is not None and not np.isfinite(c).all():
        raise ValueError("train_stock_qrdqn: initial_stocks must be finite")
    for name, value in (("num_quantiles", num_quantiles), ("width", width),
                        ("rounds", rounds), ("episodes_per_round", episodes_per_round),
                        ("steps_per_round", steps_per_round), ("batch_size", batch_size),
                        ("buffer_rounds", buffer_rounds)):
        _check_positive_int(f"train_stock_qrdqn: {name}", value)
    if epsilon_decay_rounds is not None:
        _check_positive_int("train_stock_qrdqn: epsilon_decay_rounds", epsilon_decay_rounds)
    for name, value in (("epsilon_start", epsilon_start), ("epsilon_end", epsilon_end)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not 0 <= value <= 1:
            raise ValueError(f"train_stock_qrdqn: {name} must be in [0, 1], got {value!r}")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) \
            or not learning_rate > 0:
        raise ValueError(f"train_stock_qrdqn: learning_rate must be a float > 0, got "
                         f"{learning_rate!r}")
    if isinstance(kappa, bool) or not isinstance(kappa, (int, float)) or kappa < 0:
        raise ValueError(f"train_stock_qrdqn: kappa must be a float >= 0, got {kappa!r}")
    h = mdp.horizon
    per_round = episodes_per_round * h
    capacity = buffer_rounds * per_round
    if batch_size > capacity:
        raise ValueError(f"train_stock_qrdqn: batch_size must be at most the buffer size "
                         f"buffer_rounds·episodes_per_round·horizon = {capacity}, got "
                         f"{batch_size}")
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
        _check_network(network, "train_stock_qrdqn")
        _check_network_fits(network, mdp, "train_stock_qrdqn")
    decay = max(rounds // 2, 1) if epsilon_decay_rounds is None else epsilon_decay_rounds

    def epsilon(i: int) -> float:
        frac = min(i / decay, 1.0)
        return float(epsilon_start + frac * (epsilon_end - epsilon_start))

    loss_fn = _td_loss(float(kappa))
    optimizer = _adam(float(learning_rate))
    buffer = _empty_buffer(capacity, dtype)
    history: dict[str, list] = {"round": [], "loss": [], "epsilon": [], "episode_return": []}
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    bar = tqdm.tqdm(range(rounds), disable=not progress, desc="stock QR-DQN", unit="round",
                    dynamic_ncols=True)
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
    finally:
        bar.close()
    return StockQRDQNResult(network, history)


@functools.cache
def _adam(learning_rate: float) -> optax.GradientTransformation:
    # one object per rate, so every round (and every call) reuses fit's compiled step
    return optax.adam(learning_rate)


@functools.cache
def _td_loss(kappa: float) -> Callable[..., Any]:
    def loss_fn(model, batch, key):
        theta = jax.vmap(model)(batch["state"], batch["stock"], batch["time"])   # (B, A, Q)
        pred = jnp.take_along_axis(theta, batch["action"][:, None, None], axis=1)[:, 0]
        taus = Quantiles.midpoints(model.num_quantiles, pred.dtype)
        per = quantile_huber_loss(pred, batch["target"], taus, kappa)
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
            greedy, _ = _greedy(network, objective, s, c, t)
            explore = jax.random.uniform(ke, dtype=dtype) < epsilon
            a = jnp.where(explore, jax.random.randint(ka, (), 0, mdp.num_actions), greedy)
            a = a.astype(jnp.int32)
            s2, r = mdp.step(ks, s, a)
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
def _td_targets(network, objective, buffer):
    """r + θ(s', c', t + 1, a*) (or r where the episode ends) for every transition, (N, Q)."""

    def one(s2, c2, t2, r, end):
        a, _ = _greedy(network, objective, s2, c2, t2)
        theta = network(s2, c2, t2)[a]
        return r + jnp.where(end, 0.0, theta)

    return jax.lax.stop_gradient(jax.vmap(one)(
        buffer["next_state"], buffer["next_stock"], buffer["time"] + 1, buffer["reward"],
        buffer["end"]))


def stock_qrdqn_policy(network: StockQNetwork, objective: AbstractExpectedUtility, *,
                       stock_grid: ArrayLike) -> StockPolicy:
    """The network's greedy policy as a `StockPolicy` table on a stock grid.

    Entry (t, s, c) is `greedy_stock_action(network, objective, s, c, t)` for every step
    t < H, state s and grid stock c, so the policy can be evaluated exactly with
    `evaluate_stock_policy` (on the integer grid of `integer_stock_grid`, for integer
    rewards). The table is stationary (T = 1) for a network without a horizon.

    **Arguments:** `network`; `objective` (the expected utility of the greedy rule);
    `stock_grid`: `(C,)` increasing stocks.

    **Returns:** a `StockPolicy` with `actions` `(H, S, C)` and discount 1.

    **Raises:** `TypeError` for a wrong `network` or `objective` type; `ValueError` for a
    `stock_grid` that is not 1-D, finite and strictly increasing.
    """
    _check_network(network, "stock_qrdqn_policy")
    _check_objective(objective, "stock_qrdqn_policy")
    grid = jnp.asarray(stock_grid, network.dtype)
    c = concrete_values(grid)
    if grid.ndim != 1 or grid.shape[0] < 1 or (c is not None and (
            not np.isfinite(c).all() or (c.size > 1 and not (np.diff(c) > 0).all()))):
        raise ValueError(f"stock_qrdqn_policy: stock_grid must be a finite, strictly "
                         f"increasing (C,) array, got shape {shape_str(grid)}")
    return StockPolicy(_policy_table(network, objective, grid), grid, 1.0)


@eqx.filter_jit
def _policy_table(network, objective, grid):
    steps = 1 if network.horizon is None else network.horizon
    states = jnp.arange(network.num_states, dtype=jnp.int32)

    def action(t, s, c):
        return _greedy(network, objective, s, c, t)[0]

    per_c = jax.vmap(action, in_axes=(None, None, 0))
    per_s = jax.vmap(per_c, in_axes=(None, 0, None))
    per_t = jax.vmap(per_s, in_axes=(0, None, None))
    return per_t(jnp.arange(steps, dtype=jnp.int32), states, grid)


class StockQRDQNCVaR(eqx.Module):
    """The CVaR of a trained stock QR-DQN, evaluated exactly (`stock_qrdqn_cvar`).

    **Fields:**

    - `cvar`: the exact CVaR_τ of the return of the agent's policy started at
      `initial_stock` (the number to compare with `optimum.cvar`).
    - `threshold`: b̂ = argmax_b b + V̂(−b)/τ, chosen with the network's own estimate V̂.
    - `initial_stock`: −b̂.
    - `thresholds`: `(B,)` the candidate thresholds b.
    - `estimated_cvar_by_threshold`: `(B,)` the network's estimate b + V̂(−b)/τ, with
      V̂(c) = E_{S₀} max_a (1/Q) Σ_q min(c + θ_q(S₀, c, 0, a), 0).
    - `cvar_by_threshold`: `(B,)` the exact CVaR_τ of the agent's policy started at −b.
    - `policy`: the agent's `StockPolicy` on the integer stock grid.
    - `evaluation`: its exact `StockEvaluation`.
    - `optimum`: `optimize_cvar(mdp, tau)` (the exact optimum over history-dependent
      policies), or None when not compared.
    - `markov_cvar`: the best CVaR of a deterministic time-dependent Markov policy (brute
      force), or None when not compared or when there are more than 20 000 such policies
      (A^(H·S)).
    - `tau`: τ.
    """

    cvar: Float[Array, ""]
    threshold: Float[Array, ""]
    initial_stock: Float[Array, ""]
    thresholds: Float[Array, " B"]
    estimated_cvar_by_threshold: Float[Array, " B"]
    cvar_by_threshold: Float[Array, " B"]
    policy: StockPolicy
    evaluation: StockEvaluation
    optimum: CVaRSolution | None
    markov_cvar: float | None = eqx.field(static=True)
    tau: float = eqx.field(static=True)


def stock_qrdqn_cvar(network: StockQNetwork, mdp: FiniteMDP, tau: float, *,
                     thresholds: ArrayLike | None = None,
                     compare: bool = True) -> StockQRDQNCVaR:
    """CVaR control with a trained stock QR-DQN, evaluated exactly.

    The Rockafellar–Uryasev outer search of Pires et al. (2025) with the network in place of
    dynamic programming: b̂ = argmax_b b + V̂(−b)/τ over the candidate `thresholds`, with
    V̂(c) the network's greedy estimate of E min(c + G, 0) at t = 0 (`NegativePart`). The
    agent then acts greedily for `NegativePart` from the initial stock −b̂. Its policy is
    tabulated on the integer stock grid (`stock_qrdqn_policy`) and evaluated exactly
    (`evaluate_stock_policy`), and the exact CVaR_τ of its return is reported — beside the
    exact optimum (`optimize_cvar`) and the best Markov policy when `compare`.

    **Arguments:**

    - `network`: a trained `StockQNetwork` (e.g. from `train_stock_qrdqn` with
      `NegativePart()` and `initial_stocks = −thresholds`).
    - `mdp`: the `FiniteMDP` it was trained on (finite horizon, γ = 1, integer rewards).
    - `tau`: the tail fraction in (0, 1].
    - `thresholds`: `(B,)` integer candidates b; default every integer in the return range.
    - `compare`: also compute `optimize_cvar(mdp, tau)` and, by enumeration when there are
      at most 20 000 of them, the best deterministic Markov policy.

    **Returns:** a `StockQRDQNCVaR`.

    **Raises:** `TypeError` for a wrong `network` or `mdp` type; `ValueError` naming the
    argument for a bad `tau`, non-integer or non-1-D `thresholds`, an infinite horizon, a
    discount ≠ 1, non-integer rewards, or a network that does not fit `mdp`.

    **Reference:** Pires et al. (2025), §5 (CVaR) and the deep agent; Rockafellar & Uryasev
    (2000).
    """
    _check_network(network, "stock_qrdqn_cvar")
    _check_mdp(mdp, "stock_qrdqn_cvar")
    _check_network_fits(network, mdp, "stock_qrdqn_cvar")
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not 0 < tau <= 1:
        raise ValueError(f"stock_qrdqn_cvar: tau must be a float in (0, 1], got {tau!r}")
    if not mdp.has_integer_rewards():
        raise ValueError("stock_qrdqn_cvar: mdp must have integer rewards (the policy is "
                         "evaluated exactly on the integer stock grid)")
    dtype = mdp.reward.dtype
    if thresholds is None:
        lo, hi = mdp.return_bounds()
        thresholds = np.arange(round(lo), round(hi) + 1)
    b = np.asarray(thresholds, np.float64)
    if b.ndim != 1 or b.size < 1 or not np.all(np.isfinite(b)) or not np.all(b == np.round(b)):
        raise ValueError(f"stock_qrdqn_cvar: thresholds must be a non-empty (B,) array of "
                         f"integers, got shape {b.shape}")
    objective = NegativePart()
    grid = integer_stock_grid(mdp, -b)
    policy = stock_qrdqn_policy(network, objective, stock_grid=grid)
    evaluation = evaluate_stock_policy(mdp, policy)
    bs = jnp.asarray(b, dtype)
    estimated, exact = _cvar_curves(network, objective, evaluation, mdp.initial, bs,
                                    jnp.asarray(tau, dtype))
    best = int(jnp.argmax(estimated))
    optimum, markov = None, None
    if compare:
        optimum = optimize_cvar(mdp, tau)
        if mdp.num_actions ** (mdp.horizon * mdp.num_states) <= _MARKOV_LIMIT:
            markov, _ = best_markov_policy_value(mdp, lambda d: cvar_of(d, tau))
    return StockQRDQNCVaR(exact[best], bs[best], -bs[best], bs, estimated, exact, policy,
                          evaluation, optimum, markov, float(tau))


@eqx.filter_jit
def _cvar_curves(network, objective, evaluation, initial, bs, tau):
    states = jnp.arange(network.num_states, dtype=jnp.int32)

    def estimate(b):
        best = jax.vmap(lambda s: jnp.max(_greedy(network, objective, s, -b, 0)[1]))(states)
        return b + jnp.dot(initial, best) / tau

    def exact(b):
        return evaluation.return_distribution(-b).cvar(tau)

    return jax.vmap(estimate)(bs), jax.vmap(exact)(bs)


_MARKOV_LIMIT = 20_000  # deterministic Markov policies enumerated by `stock_qrdqn_cvar`


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _check_objective(objective: Any, where: str) -> None:
    if not isinstance(objective, AbstractExpectedUtility):
        raise TypeError(f"{where}: objective must be an AbstractExpectedUtility (its utility "
                        f"drives the greedy rule), got {type(objective).__name__}")


def _check_network(network: Any, where: str) -> None:
    if not isinstance(network, StockQNetwork):
        raise TypeError(f"{where}: network must be a StockQNetwork, got "
                        f"{type(network).__name__}")


def _check_mdp(mdp: Any, where: str) -> None:
    if not isinstance(mdp, FiniteMDP):
        raise TypeError(f"{where}: mdp must be a FiniteMDP, got {type(mdp).__name__}")
    if mdp.horizon is None:
        raise ValueError(f"{where}: mdp must have a finite horizon, got horizon=None")
    if mdp.discount != 1.0:
        raise ValueError(f"{where}: mdp must have discount 1 (the stock update c' = c + r), "
                         f"got discount={mdp.discount}")


def _check_network_fits(network: StockQNetwork, mdp: FiniteMDP, where: str) -> None:
    want = (mdp.num_states, mdp.num_actions, mdp.horizon)
    got = (network.num_states, network.num_actions, network.horizon)
    if got != want:
        raise ValueError(f"{where}: network must have (num_states, num_actions, horizon) = "
                         f"{want} to fit mdp, got {got}")
