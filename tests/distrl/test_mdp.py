"""FiniteMDP construction, validation errors and the environments."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import distrl as D


def _dense(s=3, a=2, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(s), size=(s, a))
    r = rng.integers(-2, 3, size=(s, a, s)).astype(float)
    return p, r


def test_dense_and_outcome_forms_agree(float64):
    p, r = _dense()
    mdp = D.FiniteMDP(p, r, discount=0.9)
    np.testing.assert_allclose(np.asarray(mdp.transition_matrix()), p, atol=1e-15)
    np.testing.assert_allclose(np.asarray(mdp.expected_reward()), (p * r).sum(-1), atol=1e-14)
    again = D.FiniteMDP.from_outcomes(mdp.next_state, mdp.reward, mdp.prob, discount=0.9)
    np.testing.assert_allclose(np.asarray(again.transition_matrix()), p, atol=1e-15)
    assert mdp.num_states == 3 and mdp.num_actions == 2


def test_reward_distributions_and_zero_outcomes_are_dropped(float64):
    p = np.zeros((2, 1, 2))
    p[:, 0, 0] = 1.0
    atoms = np.zeros((2, 1, 2, 3))
    atoms[..., :] = [-1.0, 0.0, 5.0]
    probs = np.zeros((2, 1, 2, 3))
    probs[..., :] = [0.2, 0.0, 0.8]
    mdp = D.FiniteMDP(p, atoms, reward_probs=probs, discount=0.5)
    assert mdp.num_outcomes == 2            # 6 candidate outcomes, 2 with positive probability
    np.testing.assert_allclose(np.asarray(mdp.expected_reward()), [[3.8], [3.8]], atol=1e-14)
    assert mdp.reward_bounds() == (-1.0, 5.0)


@pytest.mark.parametrize("case, match", [
    ("sum", r"transitions\[0, 1, :\] sums to 1.2"),
    ("negative", "must hold probabilities in"),
    ("nan", "transitions contains NaN"),
    ("shape", r"rewards must have shape \(S, A, S\) = \(3, 2, 3\)"),
    ("square", r"transitions must have shape \(S, A, S\)"),
    ("initial", r"initial must have shape \(S,\) = \(3,\)"),
    ("initial_sum", "every row of initial"),
    ("reward_nan", "rewards must be finite"),
    ("discount", r"discount must be a float in \(0, 1\]"),
    ("undiscounted", "discount=1 needs a finite horizon"),
    ("horizon", "horizon must be a positive int"),
    ("reward_probs", "reward_probs must have the shape of rewards"),
    ("terminal", "terminal must be a boolean array"),
])
def test_invalid_mdps_raise_clear_errors(case, match):
    p, r = _dense()
    kwargs = {"discount": 0.9}
    if case == "sum":
        p = p.copy()
        p[0, 1] *= 1.2
    elif case == "negative":
        p = p.copy()
        p[1, 0, 0] = -0.5
        p[1, 0, 1] += 0.5
    elif case == "nan":
        p = p.copy()
        p[2, 1, 2] = np.nan
    elif case == "shape":
        r = r[:, :, :2]
    elif case == "square":
        p = p[:, :, :2]
    elif case == "initial":
        kwargs["initial"] = np.ones(4) / 4
    elif case == "initial_sum":
        kwargs["initial"] = np.ones(3)
    elif case == "reward_nan":
        r = r.copy()
        r[0, 0, 0] = np.inf
    elif case == "discount":
        kwargs["discount"] = 1.5
    elif case == "undiscounted":
        kwargs["discount"] = 1.0
    elif case == "horizon":
        kwargs["horizon"] = 0
    elif case == "reward_probs":
        r = np.stack([r, r], -1)
        kwargs["reward_probs"] = np.ones((3, 2, 3, 3)) / 3
    elif case == "terminal":
        kwargs["terminal"] = np.zeros(3)
    with pytest.raises(ValueError, match=match):
        D.FiniteMDP(p, r, **kwargs)


def test_from_outcomes_validation():
    nxt = np.zeros((2, 1, 2), np.int32)
    r = np.zeros((2, 1, 2))
    p = np.full((2, 1, 2), 0.5)
    with pytest.raises(ValueError, match=r"next_state must lie in 0..1"):
        D.FiniteMDP.from_outcomes(nxt + 2, r, p, discount=0.9)
    with pytest.raises(ValueError, match="reward must have the shape of next_state"):
        D.FiniteMDP.from_outcomes(nxt, r[:, :, :1], p, discount=0.9)
    with pytest.raises(ValueError, match="next_state must be integer"):
        D.FiniteMDP.from_outcomes(nxt.astype(float), r, p, discount=0.9)
    with pytest.raises(ValueError, match=r"prob\[1, 0, :\] sums to 0.9"):
        D.FiniteMDP.from_outcomes(nxt, r, np.array([[[0.5, 0.5]], [[0.5, 0.4]]]),
                                  discount=0.9)


def test_mdp_is_a_pytree_under_jit(float64):
    p, r = _dense()
    mdp = D.FiniteMDP(p, r, discount=0.9, horizon=4)
    out = jax.jit(lambda m: m.expected_reward().sum())(mdp)
    assert float(out) == pytest.approx((p * r).sum())
    s2, rew = jax.jit(lambda m, k: m.step(k, 0, 1))(mdp, jax.random.key(0))
    assert 0 <= int(s2) < 3 and float(rew) in set(r[0, 1].tolist())


def test_step_samples_the_transition_law(float64):
    p, r = _dense(seed=3)
    mdp = D.FiniteMDP(p, r, discount=0.9)
    keys = jax.random.split(jax.random.key(1), 40_000)
    nxt, _ = jax.vmap(lambda k: mdp.step(k, 2, 1))(keys)
    freq = np.bincount(np.asarray(nxt), minlength=3) / keys.shape[0]
    se = np.sqrt(p[2, 1] * (1 - p[2, 1]) / keys.shape[0])
    assert np.all(np.abs(freq - p[2, 1]) < 5 * se + 1e-12)


def test_environments_are_valid_mdps(float64):
    grid = D.cliff_gridworld(4, 6, slip=0.1)
    assert grid.num_states == 24 and grid.num_actions == 4
    assert int(np.asarray(grid.terminal).sum()) == 5        # 4 cliff cells and the goal
    assert grid.reward_bounds() == (-21.0, -1.0)
    np.testing.assert_allclose(np.asarray(grid.prob).sum(-1), 1.0, atol=1e-12)
    chain = D.risky_safe_chain(3)
    assert chain.num_states == 1 and chain.horizon == 3
    gamble = D.two_step_gamble()
    assert gamble.horizon == 2 and gamble.num_states == 2
    forage = D.foraging_homeostasis(10)
    np.testing.assert_allclose(np.asarray(forage.prob).sum(-1), 1.0, atol=1e-12)
    rnd = D.random_mdp(jax.random.key(0), 50, 3, 4)
    assert rnd.next_state.shape == (50, 3, 4)
    with pytest.raises(ValueError, match="slip must be in"):
        D.cliff_gridworld(slip=1.0)
    with pytest.raises(ValueError, match="equal-length"):
        D.risky_safe_chain(risky_rewards=(0.0, 1.0), risky_probs=(1.0,))
    with pytest.raises(ValueError, match="storm_prob must be in"):
        D.foraging_homeostasis(storm_prob=2.0)


def test_default_support_is_the_integer_lattice(float64):
    chain = D.risky_safe_chain(3, risky_rewards=(-2.0, 3.0))
    z = D.default_support(chain)
    np.testing.assert_array_equal(np.asarray(z), np.arange(-6, 10))
    mdp = D.random_mdp(jax.random.key(0), 5, 2, 2, discount=0.5)
    z = D.default_support(mdp, 31)
    assert z.shape == (31,) and float(z[0]) <= 0 <= float(z[-1])
    assert float(z[-1]) == pytest.approx(2.0 / 0.5)
    assert jnp.result_type(z) == jnp.float64
