"""The stock QR-DQN's network and greedy rule: shapes, dtypes, batching, the greedy action
and policy table on a hand-set network, and bad inputs."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import distrl as D
from jaxlab.distrl import _qrdqn_train

from .test_qrdqn import SAFE_RISKY, _constant_network


def test_network_shapes_dtypes_and_batching(float64):
    net = eqx.filter_jit(D.StockQNetwork(3, 2, 8, horizon=5, stock_scale=10.0,
                                         return_scale=4.0, key=jax.random.key(0)))
    out = net(1, 2.5, 3)
    assert out.shape == (2, 8) and out.dtype == jnp.float64  # the default float
    net32 = D.StockQNetwork(3, 2, 8, horizon=5, dtype=jnp.float32, key=jax.random.key(0))
    assert eqx.filter_jit(net32)(1, 2.5, 3).dtype == jnp.float32
    batch = jax.vmap(net)(jnp.asarray([0, 2]), jnp.asarray([0.0, -4.0]), jnp.asarray([0, 4]))
    assert batch.shape == (2, 2, 8)
    np.testing.assert_allclose(np.asarray(batch[1]), np.asarray(net(2, -4.0, 4)), rtol=1e-6)
    # stock and time both enter the output
    assert not np.allclose(np.asarray(net(1, 2.5, 3)), np.asarray(net(1, -2.5, 3)))
    assert not np.allclose(np.asarray(net(1, 2.5, 3)), np.asarray(net(1, 2.5, 0)))
    stationary = D.StockQNetwork(3, 2, 8, horizon=None, key=jax.random.key(1))
    assert eqx.filter_jit(stationary)(0, 1.0).shape == (2, 8)
    assert stationary.mlp.layers[0].in_features == 4


def _identity(x):
    return x


# action 0: safe, G = 1 surely; action 1: risky, G = −3 or 5 (quantiles −3, 5, 5, 5)


@pytest.mark.parametrize(("stock", "action", "values"), [
    (-2.0, 0, (-1.0, -1.25)),        # E min(c + G, 0): safe −1, risky (−5 + 3·0)/4
    (-10.0, 1, (-9.0, -7.0)),        # deep in debt: the risky arm's mean wins
    (5.0, 0, (0.0, 0.0)),            # both safely above 0: a tie goes to the lowest index
])
def test_greedy_rule_uses_the_stock(stock, action, values):
    net = _constant_network(SAFE_RISKY)
    a, v = eqx.filter_jit(D.greedy_stock_action)(net, D.NegativePart(), 0, stock, 1)
    assert int(a) == action
    np.testing.assert_allclose(np.asarray(v), values, rtol=1e-6)
    # the risk-neutral utility (no stock effect) always prefers the risky arm's mean 3 > 1
    a_mean, _ = eqx.filter_jit(D.greedy_stock_action)(net, D.ExpectedUtility(_identity), 0,
                                                      stock, 1)
    assert int(a_mean) == 1


def test_policy_table_and_td_targets_follow_the_greedy_rule():
    net = _constant_network(SAFE_RISKY)
    objective = D.NegativePart()
    grid = jnp.arange(-12.0, 13.0)
    policy = D.stock_qrdqn_policy(net, objective, stock_grid=grid)
    assert policy.actions.shape == (4, 1, 25) and policy.discount == 1.0
    # E min(c + G, 0): safe min(c + 1, 0), risky (min(c − 3, 0) + 3 min(c + 5, 0))/4, so
    # risky iff c ≤ −3 (c ≥ 3 ties at 0 and goes to the safe arm, index 0)
    want = np.where(np.asarray(grid) <= -3, 1, 0)
    np.testing.assert_array_equal(np.asarray(policy.actions), np.broadcast_to(want, (4, 1, 25)))
    # TD targets: r + θ(s', c', a*) with a* greedy at (s', c'), or r at the end of an episode
    buffer = _qrdqn_train._empty_buffer(4, jnp.float32)
    buffer |= {"reward": jnp.asarray([2.0, -1.0, 5.0, 0.0]),
               "next_stock": jnp.asarray([-8.0, 0.0, 3.0, -2.0]),
               "time": jnp.asarray([0, 1, 3, 2], jnp.int32),
               "end": jnp.asarray([False, False, True, False])}
    targets = _qrdqn_train._td_targets(net, objective, buffer)
    q = np.asarray(SAFE_RISKY)
    np.testing.assert_allclose(np.asarray(targets),
                               [2.0 + q[1], -1.0 + q[0], np.full(4, 5.0), 0.0 + q[0]])


def test_network_and_greedy_bad_inputs(user_errors):
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="StockQNetwork: num_quantiles must be a positive int, "
                                         "got 0"):
        D.StockQNetwork(1, 2, 0, horizon=4, key=key)
    with pytest.raises(TypeError, match=r"StockQNetwork: width must be a positive int, got 8.0"):
        D.StockQNetwork(1, 2, 4, horizon=4, width=8.0, key=key)
    with pytest.raises(ValueError, match=r"StockQNetwork: stock_scale must be a positive finite "
                                         r"number, got 0.0"):
        D.StockQNetwork(1, 2, 4, horizon=4, stock_scale=0.0, key=key)
    with pytest.raises(TypeError, match="StockQNetwork: key must be a PRNG key"):
        D.StockQNetwork(1, 2, 4, horizon=4, key=0)
    net = _constant_network(SAFE_RISKY)
    with pytest.raises(TypeError, match=r"greedy_stock_action: objective must be an "
                                        r"AbstractExpectedUtility .*got a MeanVariance"):
        D.greedy_stock_action(net, D.MeanVariance(), 0, 0.0)
    with pytest.raises(TypeError, match="greedy_stock_action: network must be a "
                                        "StockQNetwork, got a dict"):
        D.greedy_stock_action({}, D.NegativePart(), 0, 0.0)
    with pytest.raises(ValueError, match=r"stock_qrdqn_policy: stock_grid must be strictly "
                                         r"increasing, got 1.0 followed by 0.0"):
        D.stock_qrdqn_policy(net, D.NegativePart(), stock_grid=[1.0, 0.0])
