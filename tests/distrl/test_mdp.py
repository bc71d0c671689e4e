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
    ("sum", r"transitions\[0, 1, :\] summing to 1.2"),
    ("negative", r"transitions must be probabilities in \[0, 1\], got -0.5"),
    ("nan", r"transitions must be free of NaN, got NaN at index \(2, 1, 2\)"),
    ("shape", r"rewards must be of shape \(S, A, S\) = \(3, 2, 3\)"),
    ("square", r"transitions must be of shape \(S, A, S\), got shape \(3, 2, 2\)"),
    ("initial", r"initial must be of shape \(S,\) = \(3,\), got shape \(4,\)"),
    ("initial_sum", "every row of initial"),
    ("reward_nan", "rewards must be finite"),
    ("discount", r"discount must be a finite number in \(0.0, 1.0\], got 1.5"),
    ("undiscounted", "horizon must be a positive int, or terminal states given, when "
                     "discount=1"),
    ("horizon", "horizon must be a positive int or None, got 0"),
    ("reward_probs", r"reward_probs must be of the shape of rewards \(3, 2, 3, 2\)"),
    ("terminal", r"terminal must be of shape \(3,\), got shape \(2,\)"),
])
def test_invalid_mdps_raise_clear_errors(user_errors, case, match):
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
        kwargs["terminal"] = np.zeros(2, bool)
    with pytest.raises(ValueError, match=match):
        D.FiniteMDP(p, r, **kwargs)


def test_from_outcomes_validation(user_errors):
    nxt = np.zeros((2, 1, 2), np.int32)
    r = np.zeros((2, 1, 2))
    p = np.full((2, 1, 2), 0.5)
    with pytest.raises(ValueError, match=r"next_state must be in 0..1, got values in 2..2"):
        D.FiniteMDP.from_outcomes(nxt + 2, r, p, discount=0.9)
    with pytest.raises(ValueError, match=r"reward must be of the shape of next_state "
                                         r"\(2, 1, 2\), got shape \(2, 1, 1\)"):
        D.FiniteMDP.from_outcomes(nxt, r[:, :, :1], p, discount=0.9)
    with pytest.raises(TypeError, match="next_state must be an integer array, got dtype"):
        D.FiniteMDP.from_outcomes(nxt.astype(float), r, p, discount=0.9)
    with pytest.raises(ValueError, match=r"prob\[1, 0, :\] summing to 0.9"):
        D.FiniteMDP.from_outcomes(nxt, r, np.array([[[0.5, 0.5]], [[0.5, 0.4]]]),
                                  discount=0.9)
    with pytest.raises(TypeError, match="FiniteMDP: terminal must be a boolean array, got "
                                        "dtype float"):
        D.FiniteMDP.from_outcomes(nxt, r, p, discount=0.9, terminal=np.zeros(2))
    with pytest.raises(TypeError, match="FiniteMDP: discount must be a finite number"):
        D.FiniteMDP.from_outcomes(nxt, r, p, discount="0.9")
    with pytest.raises(TypeError, match=r"FiniteMDP.from_outcomes: prob must be a real array "
                                        r"\(floating or integer dtype\), got dtype bool"):
        D.FiniteMDP.from_outcomes(nxt, r, p > 0, discount=0.9)


def test_integer_arrays_are_promoted(float64):
    """Integer rewards and 0/1 integer probabilities become the default float."""
    nxt = np.array([[[0, 1]], [[1, 1]]], np.int32)
    mdp = D.FiniteMDP.from_outcomes(nxt, np.array([[[1, -2]], [[0, 3]]]),
                                    np.array([[[1, 0]], [[0, 1]]]), discount=0.5)
    assert mdp.reward.dtype == jnp.float64 and mdp.prob.dtype == jnp.float64
    np.testing.assert_array_equal(np.asarray(mdp.expected_reward()), [[1.0], [3.0]])
    dense = D.FiniteMDP(np.eye(2, dtype=int)[:, None], np.ones((2, 1, 2), int), discount=0.5)
    assert dense.prob.dtype == jnp.float64 and dense.reward.dtype == jnp.float64
    with jax.enable_x64(False):
        f32 = D.FiniteMDP(np.eye(2, dtype=np.float32)[:, None],
                          np.ones((2, 1, 2), np.float32), discount=0.5)
        assert f32.prob.dtype == jnp.float32 and f32.reward.dtype == jnp.float32


def test_mdp_is_a_pytree_under_jit(float64):
    p, r = _dense()
    mdp = D.FiniteMDP(p, r, discount=0.9, horizon=4)
    out = jax.jit(lambda m: m.expected_reward().sum())(mdp)
    assert float(out) == pytest.approx((p * r).sum())
    s2, rew = jax.jit(lambda m, k: m.step(0, 1, key=k))(mdp, jax.random.key(0))
    assert 0 <= int(s2) < 3 and float(rew) in set(r[0, 1].tolist())


def test_step_samples_the_transition_law(float64):
    p, r = _dense(seed=3)
    mdp = D.FiniteMDP(p, r, discount=0.9)
    keys = jax.random.split(jax.random.key(1), 40_000)
    nxt, _ = jax.vmap(lambda k: mdp.step(2, 1, key=k))(keys)
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
    rnd = D.random_mdp(50, 3, 4, key=jax.random.key(0))
    assert rnd.next_state.shape == (50, 3, 4)
    again = D.random_mdp(50, 3, 4, key=jax.random.key(0), initial_state=2)
    np.testing.assert_array_equal(np.asarray(again.next_state), np.asarray(rnd.next_state))
    assert np.asarray(again.initial).tolist() == [0.0] * 2 + [1.0] + [0.0] * 47
    with pytest.raises(ValueError, match=r"slip must be a finite number in \[0.0, 1.0\)"):
        D.cliff_gridworld(slip=1.0)
    with pytest.raises(ValueError, match="equal-length"):
        D.risky_safe_chain(risky_rewards=(0.0, 1.0), risky_probs=(1.0,))
    with pytest.raises(ValueError, match="storm_prob must be a finite number in"):
        D.foraging_homeostasis(storm_prob=2.0)


def test_random_mdp_bad_inputs(user_errors):
    key = jax.random.key(0)
    with pytest.raises(TypeError, match="random_mdp: key must be a PRNG key"):
        D.random_mdp(3, 2, 2, key=0)
    with pytest.raises(TypeError, match=r"random_mdp: num_states must be a positive int, got "
                                        r"3.0"):
        D.random_mdp(3.0, 2, 2, key=key)
    with pytest.raises(ValueError, match="random_mdp: num_outcomes must be a positive int, "
                                         "got 0"):
        D.random_mdp(3, 2, 0, key=key)
    with pytest.raises(ValueError, match=r"random_mdp: initial_state must be an int in "
                                         r"0..2 or None, got 3"):
        D.random_mdp(3, 2, 2, key=key, initial_state=3)


def test_default_support_is_the_integer_lattice(float64):
    chain = D.risky_safe_chain(3, risky_rewards=(-2.0, 3.0))
    z = D.default_support(chain)
    np.testing.assert_array_equal(np.asarray(z), np.arange(-6, 10))
    mdp = D.random_mdp(5, 2, 2, key=jax.random.key(0), discount=0.5)
    z = D.default_support(mdp, 31)
    assert z.shape == (31,) and float(z[0]) <= 0 <= float(z[-1])
    assert float(z[-1]) == pytest.approx(2.0 / 0.5)
    assert jnp.result_type(z) == jnp.float64

    # half-integer rewards: the half-integer lattice from the least to the largest return
    half = D.risky_safe_chain(3, safe_reward=0.5, risky_rewards=(-1.5, 2.5))
    np.testing.assert_array_equal(np.asarray(D.default_support(half)),
                                  np.arange(-9, 16) * 0.5)


@pytest.mark.parametrize(("values", "spacing"), [
    ([0.0, 1.0, -3.0, 5.0], 1.0), ([0.5, -1.5, 2.5], 0.5), ([2.0, -4.0, 6.0], 2.0),
    ([0.1, 0.25, -0.3], 0.05), ([np.pi, -2 * np.pi], np.pi), ([0.0, 0.0], 1.0),
    ([1.0, np.sqrt(2)], None), ([1.0, np.pi], None)])
def test_lattice_spacing(values, spacing):
    got = D.lattice_spacing(values)
    if spacing is None:
        assert got is None
    else:
        assert got == pytest.approx(spacing, rel=1e-12)
        # every value is an integer multiple of it
        ratios = np.asarray(values) / got
        np.testing.assert_allclose(ratios, np.round(ratios), atol=1e-9)


def test_return_lattice_needs_an_episodic_undiscounted_problem(float64):
    half = D.risky_safe_chain(2, safe_reward=0.5, risky_rewards=(-1.5, 2.5))
    assert half.return_lattice() == 0.5
    root = D.risky_safe_chain(2, safe_reward=1.0, risky_rewards=(-1.0, np.sqrt(2)))
    assert root.return_lattice() is None
    discounted = D.random_mdp(3, 2, 2, key=jax.random.key(0), discount=0.9, horizon=3)
    assert discounted.return_lattice() is None
    assert D.random_mdp(3, 2, 2, key=jax.random.key(0), discount=0.9).return_lattice() is None
