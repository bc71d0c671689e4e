"""Stock-augmented DP against brute force over history-dependent policies, and its failure
modes (non-mixture-indifferent objectives, stocks leaving the grid)."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import distrl as D


def _small_mdp(seed: int, states: int = 2, outcomes: int = 2, horizon: int = 3):
    """A random finite-horizon MDP with integer rewards, γ = 1, starting in state 0."""
    base = D.random_mdp(jax.random.key(seed), states, 2, outcomes, rewards=(-2.0, 0.0, 1.0, 3.0),
                        discount=1.0, horizon=horizon)
    initial = np.zeros(states)
    initial[0] = 1.0
    return D.FiniteMDP.from_outcomes(base.next_state, base.reward, base.prob, discount=1.0,
                                     horizon=horizon, initial=initial)


def _expected_utility(dist, f) -> float:
    return float(sum(p * f(x) for x, p in dist))


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow), 3])
def test_cvar_equals_brute_force_over_history_policies(float64, seed):
    mdp = _small_mdp(seed, outcomes=2 + seed % 2)
    dists = D.history_policy_distributions(mdp)
    for tau in (0.1, 0.3, 0.7, 1.0):
        sol = D.optimize_cvar(mdp, tau)
        brute = max(D.cvar_of(d, tau) for d in dists)
        print(f"seed {seed} tau {tau}: DP {float(sol.cvar):.12f}  brute force {brute:.12f} "
              f"({len(dists)} policies)")
        assert float(sol.cvar) == pytest.approx(brute, abs=1e-9)
        # the policy started at c0 = −b* attains it, by exact evaluation
        ev = D.evaluate_stock_policy(mdp, sol.policy, support=sol.solution.distributions.support)
        g = ev.return_distribution(sol.initial_stock)
        assert float(D.cvar(g.atoms, g.probs, tau)) == pytest.approx(brute, abs=1e-9)


@pytest.mark.slow  # heavier; `make test-all`
@pytest.mark.parametrize("seed", [4])
def test_expected_utilities_equal_brute_force(float64, seed):
    mdp = _small_mdp(seed, states=3)
    dists = D.history_policy_distributions(mdp)
    cases = [(D.ThresholdProbability(), -2.0, lambda x: float(x >= 0)),
             (D.Homeostasis(0.0, 2.0), -1.0, lambda x: -max(0.0 - x, 0.0, x - 2.0)),
             (D.ExpectedUtility(lambda x: -jnp.exp(-0.5 * x)), 1.0,
              lambda x: -np.exp(-0.5 * x))]
    for objective, c0, f in cases:
        sol = D.stock_augmented_value_iteration(
            mdp, objective, stock_grid=D.integer_stock_grid(mdp, [c0]))
        brute = max(_expected_utility(d, lambda x, c0=c0, f=f: f(c0 + x)) for d in dists)
        assert float(sol.value(c0)) == pytest.approx(brute, abs=1e-9), type(objective).__name__
        assert bool(sol.exact[0, int(np.argmax(np.asarray(sol.stock_grid) == c0))])


def test_stock_dependence_strictly_beats_markov_policies(float64):
    mdp = D.risky_safe_chain(4, safe_reward=1.0, risky_rewards=(-3.0, 5.0),
                             risky_probs=(0.25, 0.75))
    tau = 0.25
    sol = D.optimize_cvar(mdp, tau)
    brute = D.best_history_policy_value(mdp, lambda d: D.cvar_of(d, tau))
    markov, _ = D.best_markov_policy_value(mdp, lambda d: D.cvar_of(d, tau))
    print(f"CVaR_0.25: stock-augmented DP {float(sol.cvar):.6f}, brute force {brute:.6f}, "
          f"best Markov {markov:.6f}")
    assert float(sol.cvar) == pytest.approx(brute, abs=1e-9)
    assert float(sol.cvar) > markov + 0.5
    # the optimal policy really uses the stock: one step, one state, different actions
    table = np.asarray(sol.policy.actions)
    assert any(len(set(table[t, 0].tolist())) > 1 for t in range(1, 4))


def test_policy_iteration_equals_value_iteration(float64):
    mdp = _small_mdp(6, states=3, outcomes=3)
    grid = D.integer_stock_grid(mdp, [-3.0, 0.0, 3.0])
    for objective in (D.NegativePart(), D.ThresholdProbability()):
        vi = D.stock_augmented_value_iteration(mdp, objective, stock_grid=grid)
        pi = D.stock_augmented_policy_iteration(mdp, objective, stock_grid=grid)
        assert bool(pi.converged) and int(pi.iterations) <= mdp.horizon + 1
        np.testing.assert_allclose(np.asarray(pi.values), np.asarray(vi.values), atol=1e-12)


def test_stock_policy_rollouts_match_exact_evaluation(float64):
    mdp = D.risky_safe_chain(4, safe_reward=1.0, risky_rewards=(-3.0, 5.0),
                             risky_probs=(0.25, 0.75))
    sol = D.optimize_cvar(mdp, 0.25)
    ev = D.evaluate_stock_policy(mdp, sol.policy, support=sol.solution.distributions.support)
    exact = ev.return_distribution(sol.initial_stock)
    n = 40_000
    g = D.sample_returns(mdp, sol.policy, key=jax.random.key(0), num_episodes=n,
                         initial_stock=sol.initial_stock)
    emp = D.FiniteSupport(g, jnp.full((n,), 1.0 / n))
    f = np.cumsum(np.asarray(exact.weights))[:-1]
    tol = 3 * float(np.sum(np.sqrt(f * (1 - f)))) / np.sqrt(n)   # 3 × E W₁ bound, Δz = 1
    w1 = float(D.wasserstein(exact, emp))
    print(f"W1(exact, {n} rollouts) = {w1:.4f} (tolerance {tol:.4f})")
    assert w1 < tol


@pytest.mark.slow  # heavier; `make test-all`
def test_discounted_stock_iteration_with_the_mean_is_classical_vi(float64):
    """With γ < 1 the next stock (c + r)/γ falls between grid points and, growing like γ^(−t),
    eventually leaves any grid, so no value is flagged exact. For the mean neither the
    interpolation nor the clamp changes the greedy action (K is linear in c), so the values
    are still c + V*(s) exactly."""
    mdp = D.random_mdp(jax.random.key(7), 4, 2, 2, discount=0.8)
    grid = jnp.linspace(-40.0, 40.0, 81)
    with pytest.warns(D.MixtureWarning, match="not declared positively homogeneous"):
        sol = D.stock_augmented_value_iteration(mdp, D.ExpectedUtility(lambda x: x),
                                                stock_grid=grid, num_atoms=101)
    assert bool(sol.converged)
    p, r = np.asarray(mdp.transition_matrix()), np.asarray(mdp.expected_reward())
    v = np.zeros(4)
    for _ in range(400):
        v = (r + 0.8 * p @ v).max(-1)
    assert not bool(jnp.any(sol.exact))
    np.testing.assert_allclose(np.asarray(sol.values), np.asarray(grid)[None] + v[:, None],
                               atol=1e-8)
    # its policy, evaluated separately, gives the same return distributions
    ev = D.evaluate_stock_policy(mdp, sol.policy, support=sol.distributions.support)
    np.testing.assert_allclose(np.asarray(ev.state.mean()),
                               np.broadcast_to(v[:, None], (4, 81)), atol=1e-8)


def test_mean_variance_is_not_optimised_and_warns(float64):
    """Mean–variance is not indifferent to mixtures: the greedy stock-augmented policy is
    time-inconsistent and strictly worse than the best history-dependent policy."""
    mdp = D.risky_safe_chain(3, safe_reward=1.0, risky_rewards=(-3.0, 5.0),
                             risky_probs=(0.25, 0.75))
    lam = 0.25

    def mean_variance(dist):
        x, p = np.array([a for a, _ in dist]), np.array([q for _, q in dist])
        m = p @ x
        return float(m - lam * p @ (x - m) ** 2)

    with pytest.warns(D.MixtureWarning, match="not indifferent to mixtures"):
        sol = D.stock_augmented_value_iteration(mdp, D.MeanVariance(lam),
                                                stock_grid=D.integer_stock_grid(mdp, [0.0]))
    ev = D.evaluate_stock_policy(mdp, sol.policy, support=sol.distributions.support)
    g = ev.return_distribution(0.0)
    achieved = mean_variance([(float(a), float(q)) for a, q in zip(g.atoms, g.probs,
                                                                   strict=True) if q > 0])
    best = D.best_history_policy_value(mdp, mean_variance)
    print(f"mean-variance (λ={lam}): greedy DP policy {achieved:.6f}, best policy {best:.6f}")
    assert achieved < best - 0.5
    # CVaR plugged in directly warns too, and does no better than the Rockafellar–Uryasev route
    with pytest.warns(D.MixtureWarning):
        direct = D.stock_augmented_value_iteration(mdp, D.CVaRObjective(0.25),
                                                   stock_grid=D.integer_stock_grid(mdp, [0.0]))
    evd = D.evaluate_stock_policy(mdp, direct.policy, support=direct.distributions.support)
    gd = evd.return_distribution(0.0)
    assert float(D.cvar(gd.atoms, gd.probs, 0.25)) <= float(D.optimize_cvar(mdp, 0.25).cvar)


def test_expected_utilities_do_not_warn(float64):
    mdp = _small_mdp(8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sol = D.stock_augmented_value_iteration(mdp, D.NegativePart(),
                                                stock_grid=D.integer_stock_grid(mdp, [0.0]))
    assert [str(w.message) for w in caught] == []
    assert bool(sol.converged)


def test_a_grid_too_small_is_flagged(float64):
    mdp = D.risky_safe_chain(3)
    sol = D.stock_augmented_value_iteration(mdp, D.NegativePart(),
                                            stock_grid=jnp.arange(-2.0, 3.0))
    assert not bool(sol.exact[0, 2])          # from c0 = 0 the stock can reach 9 > 2
    grid = D.integer_stock_grid(mdp, [0.0])   # 0..9
    full = D.stock_augmented_value_iteration(mdp, D.NegativePart(), stock_grid=grid)
    assert bool(full.exact[0, 0])
    assert not bool(full.exact[0, -1])         # c = 9 at t = 0 is not reachable from c0 = 0


def test_stock_errors(user_errors):
    mdp = D.risky_safe_chain(3)
    grid = D.integer_stock_grid(mdp, [0.0])
    with pytest.raises(TypeError, match="objective must be an AbstractObjective"):
        D.stock_augmented_value_iteration(mdp, lambda x: x, stock_grid=grid)
    with pytest.raises(ValueError, match="strictly increasing"):
        D.stock_augmented_value_iteration(mdp, D.NegativePart(), stock_grid=grid[::-1])
    with pytest.raises(ValueError, match="tau must be a float in"):
        D.optimize_cvar(mdp, 0.0)
    with pytest.raises(ValueError, match="needs discount=1, a finite horizon"):
        D.integer_stock_grid(D.random_mdp(jax.random.key(0), 3, 2, 2), [0.0])
    with pytest.raises(ValueError, match="initial_stocks must be integers"):
        D.integer_stock_grid(mdp, [0.5])
    bad = D.StockPolicy(jnp.zeros((3, 2, grid.shape[0]), jnp.int32), grid, 1.0)
    with pytest.raises(ValueError, match=r"with S = 1"):
        D.evaluate_stock_policy(mdp, bad)
    with pytest.raises(ValueError, match="low < high"):
        D.Homeostasis(2.0, 1.0)
