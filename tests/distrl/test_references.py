"""The exhaustive references: the optimal-action agreement of a stock policy, and the brute
force's bad inputs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import distrl as D


def _negative_part(x):
    return min(x, 0.0)


def test_action_agreement_of_the_optimal_policy_is_one(float64):
    mdp = D.risky_safe_chain(4, safe_reward=1.0, risky_rewards=(-3.0, 5.0),
                             risky_probs=(0.25, 0.75))
    sol = D.optimize_cvar(mdp, 0.25)
    starts = -np.arange(-12.0, 21.0)
    frac, count = D.optimal_action_agreement(mdp, sol.policy, _negative_part,
                                             initial_stocks=starts)
    assert frac == 1.0 and count > 100
    # flipping every action: wrong wherever the two actions are not tied
    flipped = D.StockPolicy(1 - sol.policy.actions, sol.policy.stock_grid, 1.0)
    frac_flipped, _ = D.optimal_action_agreement(mdp, flipped, _negative_part,
                                                 initial_stocks=starts)
    assert frac_flipped < 0.6


def test_references_bad_inputs(user_errors):
    mdp = D.risky_safe_chain(2)
    grid = jnp.arange(-2.0, 3.0)
    policy = D.StockPolicy(jnp.zeros((2, 1, 5), jnp.int32), grid, 1.0)
    with pytest.raises(ValueError, match=r"optimal_action_agreement: policy.stock_grid must be "
                                         r"a grid holding every stock the policy reaches, got "
                                         r"stock 3.0 reached at step 1"):
        D.optimal_action_agreement(mdp, D.StockPolicy(jnp.ones((2, 1, 5), jnp.int32), grid,
                                                      1.0), _negative_part, initial_stocks=0.0)
    with pytest.raises(TypeError, match="optimal_action_agreement: policy must be a "
                                        "StockPolicy, got a ndarray"):
        D.optimal_action_agreement(mdp, np.zeros((2, 1, 5)), _negative_part,
                                   initial_stocks=0.0)
    with pytest.raises(TypeError, match="optimal_action_agreement: utility must be a callable"):
        D.optimal_action_agreement(mdp, policy, 0.0, initial_stocks=0.0)
    infinite = D.random_mdp(3, 2, 2, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"history_policy_distributions: mdp must be a "
                                         r"finite-horizon MDP .*got horizon=None"):
        D.history_policy_distributions(infinite)
    with pytest.raises(ValueError, match="markov_policy_distributions: mdp must be a "
                                         "finite-horizon MDP"):
        D.markov_policy_distributions(infinite)
    with pytest.raises(ValueError, match="history_policy_distributions: limit must be above "
                                         "the number of policies at step 1, got limit=1"):
        D.history_policy_distributions(mdp, limit=1)
    with pytest.raises(TypeError, match="best_markov_policy_value: objective must be a "
                                        "callable"):
        D.best_markov_policy_value(mdp, 1.0)
