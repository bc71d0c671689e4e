"""Stock-augmented DP against brute force over history-dependent policies — integer,
half-integer and irrational rewards —, and its failure modes (non-mixture-indifferent
objectives, stocks leaving or falling between the grid's points, an inexact support)."""

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import distrl as D
from jaxlab._core.results import RESULTS


def _small_mdp(seed: int, states: int = 2, outcomes: int = 2, horizon: int = 3,
               rewards=(-2.0, 0.0, 1.0, 3.0)):
    """A random finite-horizon MDP with γ = 1, starting in state 0."""
    return D.random_mdp(states, 2, outcomes, key=jax.random.key(seed), rewards=rewards,
                        discount=1.0, horizon=horizon, initial_state=0)


def _policy_return_law(mdp, policy, c0):
    """The law of G under a `StockPolicy` started at stock c0 with S₀ ~ mdp.initial, by
    recursion over histories in float64 with the true stock c' = c + r (exact; every stock
    reached must be a grid point)."""
    nxt, rew, prob = (np.asarray(x, np.float64) for x in (mdp.next_state, mdp.reward,
                                                          mdp.prob))
    terminal = np.asarray(mdp.terminal)
    grid, table = np.asarray(policy.stock_grid, np.float64), np.asarray(policy.actions)

    @functools.cache
    def law(t, s, c):
        if t == mdp.horizon or terminal[s]:
            return ((0.0, 1.0),)
        i = int(np.argmin(np.abs(grid - c)))
        assert abs(grid[i] - c) < 1e-9, f"stock {c} is off the grid"
        a = int(table[t, s, i])
        return tuple((r + g, p * q) for s2, r, p in zip(nxt[s, a], rew[s, a], prob[s, a],
                                                        strict=True) if p > 0
                     for g, q in law(t + 1, int(s2), c + r))

    pairs = [(g, w * q) for s, w in enumerate(np.asarray(mdp.initial, np.float64)) if w > 0
             for g, q in law(0, s, float(c0))]
    merged: dict[float, float] = {}
    for g, q in pairs:
        merged[round(g, 12)] = merged.get(round(g, 12), 0.0) + q
    return tuple(sorted(merged.items()))


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
        assert sol.status == RESULTS.successful and float(sol.cvar_error) == 0.0
        # the policy started at c0 = −b* attains it, by exact evaluation
        ev = D.evaluate_stock_policy(mdp, sol.policy, initial_stocks=sol.initial_stock,
                                     support=sol.solution.distributions.support)
        g = ev.return_distribution(sol.initial_stock)
        assert float(D.cvar(g.atoms, g.probs, tau)) == pytest.approx(brute, abs=1e-9)


@pytest.mark.parametrize("case", ["chain", pytest.param("random", marks=pytest.mark.slow)])
def test_half_integer_cvar_equals_brute_force_with_the_defaults(float64, case):
    """Rewards on the half-integer lattice: the default stock grid and support are the
    half-integers of the reachable range, so optimize_cvar's optimum is exact."""
    if case == "chain":
        mdp = D.risky_safe_chain(3, safe_reward=0.5, risky_rewards=(-1.5, 2.5),
                                 risky_probs=(0.25, 0.75))
    else:
        mdp = _small_mdp(2, rewards=(-1.5, 0.0, 0.5, 2.5))
    assert mdp.return_lattice() == 0.5
    dists = D.history_policy_distributions(mdp)
    for tau in (0.1, 0.3, 0.7, 1.0):
        sol = D.optimize_cvar(mdp, tau)
        brute = max(D.cvar_of(d, tau) for d in dists)
        print(f"{case} tau {tau}: DP {float(sol.cvar):.12f}  brute force {brute:.12f} "
              f"({len(dists)} policies), b* = {float(sol.threshold)}")
        assert float(sol.cvar) == pytest.approx(brute, abs=1e-9)
        assert sol.status == RESULTS.successful and float(sol.cvar_error) == 0.0
        # the policy, followed with its true stock from −b*, has exactly that CVaR
        law = _policy_return_law(mdp, sol.policy, float(sol.initial_stock))
        assert D.cvar_of(law, tau) == pytest.approx(brute, abs=1e-9)
    grid = np.asarray(sol.policy.stock_grid)
    np.testing.assert_allclose(grid * 2, np.round(grid * 2), atol=1e-12)   # half-integers


def test_an_integer_grid_for_half_integer_rewards_is_flagged(float64):
    """The silent failure of the past: a user's integer stock grid (and the old integer
    support) for half-integer rewards. Now every off-grid stock is reported."""
    mdp = D.risky_safe_chain(3, safe_reward=0.5, risky_rewards=(-1.5, 2.5),
                             risky_probs=(0.25, 0.75))
    exact = D.optimize_cvar(mdp, 0.3)
    half_grid = exact.policy.stock_grid                    # the half-integers in [−12, 12]
    # integers, as many as the exact grid (one compile), wide: interpolated stocks drift
    grid = jnp.arange(-24.0, 25.0)
    assert grid.shape == half_grid.shape
    sol = D.optimize_cvar(mdp, 0.3, stock_grid=grid, throw=False)
    assert sol.status == RESULTS.inexact_support and not bool(sol.converged)
    # stocks fell between the integers: no bound on the CVaR's error (it is off by ~0.4)
    assert float(sol.cvar_error) == np.inf and float(exact.cvar) - float(sol.cvar) > 0.1
    with pytest.raises(Exception, match="optimize_cvar: The support does not contain every "
                                        "reachable value"):
        D.optimize_cvar(mdp, 0.3, stock_grid=grid)
    # a support that misses the half-integers (integers, as many as the exact support): a
    # positive projection error, reported too
    support = jnp.arange(-12.0, 13.0)
    assert support.shape == exact.solution.distributions.support.shape
    inner = D.stock_augmented_value_iteration(mdp, D.NegativePart(), stock_grid=half_grid,
                                              support=support, throw=False)
    assert inner.status == RESULTS.inexact_support
    assert float(inner.projection_error[0, jnp.argmin(jnp.abs(half_grid))]) > 0


def _reachable_stocks(rewards, horizon):
    """Every partial return and every stock −b + partial return, b a partial return,
    enumerated by brute force (values equal to 1e-9 merged, each kept as computed, not
    rounded: a rounded grid point is not the stock c + r the DP reaches from it)."""

    def unique(values):
        return list({round(v, 9): v for v in values}.values())

    partial, sums = [0.0], [0.0]
    for _ in range(horizon):
        sums = unique(x + r for x in sums for r in rewards)
        partial = unique(partial + sums)
    return sorted(unique(-b + p for b in partial for p in partial))


def test_irrational_rewards_report_their_projection_error(float64):
    """Rewards 1, −3 and 2 + √2 lie on no lattice: with a grid holding every reachable stock
    (enumerated) and the default evenly spaced support, optimize_cvar reports
    inexact_support, and its cvar_error bounds the gap to the true CVaR of its policy."""
    risky = 2.0 + np.sqrt(2.0)
    mdp = D.risky_safe_chain(3, safe_reward=1.0, risky_rewards=(-3.0, risky),
                             risky_probs=(0.25, 0.75))
    assert mdp.return_lattice() is None
    with pytest.raises(ValueError, match="optimize_cvar: stock_grid must be given when the "
                                         "returns lie on no lattice"):
        D.optimize_cvar(mdp, 0.3)
    grid = np.asarray(_reachable_stocks((1.0, -3.0, risky), 3))
    tau = 0.3
    sol = D.optimize_cvar(mdp, tau, stock_grid=grid, num_atoms=101, throw=False)
    assert sol.status == RESULTS.inexact_support
    error = float(sol.cvar_error)
    true = D.cvar_of(_policy_return_law(mdp, sol.policy, float(sol.initial_stock)), tau)
    brute = D.best_history_policy_value(mdp, lambda d: D.cvar_of(d, tau))
    print(f"DP {float(sol.cvar):.6f} ± {error:.6f}; its policy's true CVaR {true:.6f}; "
          f"optimum {brute:.6f}")
    assert 0 < error < 1.0
    assert abs(float(sol.cvar) - true) <= error + 1e-12
    assert true <= brute + 1e-12


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
        sol = D.stock_augmented_value_iteration(mdp, objective, initial_stocks=c0)
        brute = max(_expected_utility(d, lambda x, c0=c0, f=f: f(c0 + x)) for d in dists)
        assert float(sol.value(c0)) == pytest.approx(brute, abs=1e-9), type(objective).__name__
        assert sol.status == RESULTS.successful


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
    for objective in (D.NegativePart(), D.ThresholdProbability()):
        vi = D.stock_augmented_value_iteration(mdp, objective, initial_stocks=[-3.0, 0.0, 3.0])
        pi = D.stock_augmented_policy_iteration(mdp, objective,
                                                initial_stocks=[-3.0, 0.0, 3.0])
        assert bool(pi.converged) and int(pi.iterations) <= mdp.horizon + 1
        assert vi.status == RESULTS.successful
        np.testing.assert_array_equal(np.asarray(vi.stock_grid), np.asarray(pi.stock_grid))
        np.testing.assert_allclose(np.asarray(pi.values), np.asarray(vi.values), atol=1e-12)


def test_stock_policy_rollouts_match_exact_evaluation(float64):
    mdp = D.risky_safe_chain(4, safe_reward=1.0, risky_rewards=(-3.0, 5.0),
                             risky_probs=(0.25, 0.75))
    sol = D.optimize_cvar(mdp, 0.25)
    ev = D.evaluate_stock_policy(mdp, sol.policy, initial_stocks=sol.initial_stock,
                                 support=sol.solution.distributions.support)
    assert ev.status == RESULTS.successful
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
    mdp = D.random_mdp(4, 2, 2, key=jax.random.key(7), discount=0.8)
    grid = jnp.linspace(-40.0, 40.0, 81)
    with pytest.warns(D.MixtureWarning, match="not declared positively homogeneous"):
        sol = D.stock_augmented_value_iteration(mdp, D.ExpectedUtility(lambda x: x),
                                                stock_grid=grid, num_atoms=101)
    assert bool(sol.converged)          # infinite horizon: the status reports convergence
    p, r = np.asarray(mdp.transition_matrix()), np.asarray(mdp.expected_reward())
    v = np.zeros(4)
    for _ in range(400):
        v = (r + 0.8 * p @ v).max(-1)
    assert bool(jnp.all(sol.left_grid))
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
        sol = D.stock_augmented_value_iteration(mdp, D.MeanVariance(lam))
    ev = D.evaluate_stock_policy(mdp, sol.policy, support=sol.distributions.support)
    g = ev.return_distribution(0.0)
    achieved = mean_variance([(float(a), float(q)) for a, q in zip(g.atoms, g.probs,
                                                                   strict=True) if q > 0])
    best = D.best_history_policy_value(mdp, mean_variance)
    print(f"mean-variance (λ={lam}): greedy DP policy {achieved:.6f}, best policy {best:.6f}")
    assert achieved < best - 0.5
    # CVaR plugged in directly warns too, and does no better than the Rockafellar–Uryasev route
    with pytest.warns(D.MixtureWarning):
        direct = D.stock_augmented_value_iteration(mdp, D.CVaRObjective(0.25))
    evd = D.evaluate_stock_policy(mdp, direct.policy, support=direct.distributions.support)
    gd = evd.return_distribution(0.0)
    assert float(D.cvar(gd.atoms, gd.probs, 0.25)) <= float(D.optimize_cvar(mdp, 0.25).cvar)


def test_expected_utilities_do_not_warn(float64):
    mdp = _small_mdp(8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sol = D.stock_augmented_value_iteration(mdp, D.NegativePart())
    assert [str(w.message) for w in caught] == []
    assert bool(sol.converged)


def test_a_grid_too_small_is_flagged(float64):
    mdp = D.risky_safe_chain(3)
    # from c0 = 0 the greedy (safe, a tie at value 0) policy holds stock 2 > 1 at step 2
    sol = D.stock_augmented_value_iteration(mdp, D.NegativePart(),
                                            stock_grid=jnp.arange(-3.0, 2.0), throw=False)
    assert bool(sol.left_grid[0, 3])
    assert sol.status == RESULTS.left_grid
    with pytest.raises(Exception, match="stock_augmented_value_iteration: A value left the "
                                        "grid"):
        D.stock_augmented_value_iteration(mdp, D.NegativePart(),
                                          stock_grid=jnp.arange(-3.0, 2.0))
    # on −2..2 it reaches 3 only after its last step, where no decision depends on it: exact
    fits = D.stock_augmented_value_iteration(mdp, D.NegativePart(),
                                             stock_grid=jnp.arange(-2.0, 3.0))
    assert fits.status == RESULTS.successful and not bool(fits.left_grid[0, 2])
    assert float(fits.value(0.0)) == 0.0
    full = D.stock_augmented_value_iteration(mdp, D.NegativePart())   # 0..9
    np.testing.assert_array_equal(np.asarray(full.stock_grid), np.arange(10))
    assert full.status == RESULTS.successful and not bool(full.left_grid[0, 0])
    assert bool(full.left_grid[0, -1])         # c = 9 at t = 0 is not reachable from c0 = 0


def test_reachable_stock_grid(float64):
    """The union of c₀ + δℤ over the reachable partial-return range, for each c₀."""
    chain = D.risky_safe_chain(2, safe_reward=0.5, risky_rewards=(-1.5, 2.5))
    # partial returns from 0 over 2 steps lie in [−3, 5] on the half-integers
    np.testing.assert_array_equal(np.asarray(D.reachable_stock_grid(chain, 0.0)),
                                  np.arange(-6, 11) * 0.5)
    grid = np.asarray(D.reachable_stock_grid(chain, [0.25, 1.0]))
    np.testing.assert_allclose(grid, np.union1d(0.25 + np.arange(-6, 11) * 0.5,
                                                1.0 + np.arange(-6, 11) * 0.5))
    assert D.reachable_stock_grid(chain, 0.0).dtype == jnp.float64
    with jax.enable_x64(False):
        chain32 = D.risky_safe_chain(2, safe_reward=0.5, risky_rewards=(-1.5, 2.5))
        assert D.reachable_stock_grid(chain32, 0.0).dtype == jnp.float32


def test_stock_errors(user_errors):
    mdp = D.risky_safe_chain(3)
    grid = D.reachable_stock_grid(mdp, [0.0])
    with pytest.raises(TypeError, match="stock_augmented_value_iteration: objective must be an "
                                        r"AbstractObjective \(e.g. ExpectedUtility\(f\)\), got "
                                        "a function"):
        D.stock_augmented_value_iteration(mdp, lambda x: x, stock_grid=grid)
    with pytest.raises(ValueError, match=r"stock_grid must be strictly increasing, got 9.0 "
                                         r"followed by 8.0 at index 0"):
        D.stock_augmented_value_iteration(mdp, D.NegativePart(), stock_grid=grid[::-1])
    with pytest.raises(ValueError, match=r"optimize_cvar: tau must be a finite number in "
                                         r"\(0.0, 1.0\], got 0.0"):
        D.optimize_cvar(mdp, 0.0)
    with pytest.raises(ValueError, match="reachable_stock_grid: mdp must be an MDP whose "
                                         "returns lie on a lattice"):
        D.reachable_stock_grid(D.random_mdp(3, 2, 2, key=jax.random.key(0)), [0.0])
    with pytest.raises(ValueError, match="initial_stocks must be finite, got nan"):
        D.reachable_stock_grid(mdp, [0.5, np.nan])
    bad = D.StockPolicy(jnp.zeros((3, 2, grid.shape[0]), jnp.int32), grid, 1.0)
    with pytest.raises(ValueError, match=r"evaluate_stock_policy: policy.actions must be of "
                                         r"shape \(T, S, C\) with S = 1, got shape \(3, 2, 10\)"):
        D.evaluate_stock_policy(mdp, bad)
    with pytest.raises(TypeError, match="evaluate_stock_policy: policy must be a StockPolicy, "
                                        "got a ndarray"):
        D.evaluate_stock_policy(mdp, np.zeros((3, 1, 10), np.int32))
    with pytest.raises(ValueError, match="low < high"):
        D.Homeostasis(2.0, 1.0)
