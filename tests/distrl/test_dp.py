"""Distributional policy evaluation: exact references, Monte Carlo, contraction, classical DP."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxlab import distrl as D
from jaxlab._core.results import RESULTS


def _mc_w1_tolerance(dist: D.Categorical, n: int) -> float:
    """3× the bound E W₁(F_n, F) ≤ ∫ √(F(1 − F)/n) dx (del Barrio et al.), from F itself."""
    z = np.asarray(dist.support)
    f = np.cumsum(np.asarray(dist.weights))[:-1]
    return 3 * float(np.sum(np.diff(z) * np.sqrt(np.clip(f * (1 - f), 0, None)))) / np.sqrt(n)


def _simplex(key, shape) -> jax.Array:
    """Dirichlet(1, …, 1) rows over the last axis of `shape`, drawn as normalised standard
    exponentials (the same law as `jax.random.dirichlet` with unit concentrations, whose
    gamma sampler takes seconds to compile for every shape)."""
    e = jax.random.exponential(key, shape)
    return e / jnp.sum(e, axis=-1, keepdims=True)


def _empirical(samples) -> D.FiniteSupport:
    return D.FiniteSupport(samples, jnp.full(samples.shape, 1.0 / samples.shape[0],
                                             samples.dtype))


@pytest.mark.parametrize("seed", [0, 1])
def test_finite_horizon_evaluation_matches_brute_force_and_monte_carlo(float64, seed):
    key = jax.random.key(seed)
    mdp = D.random_mdp(4, 2, 3, key=key, rewards=(-1.0, 0.0, 2.0), discount=1.0, horizon=4)
    policy = _simplex(jax.random.fold_in(key, 1), (4, 2))
    ev = D.evaluate_policy(mdp, policy)
    assert bool(ev.converged) and int(ev.iterations) == 4
    assert ev.status == RESULTS.successful and float(jnp.max(ev.projection_error)) == 0.0
    # exact: FiniteSupport recursion (no projection) and the categorical lattice agree
    exact = D.exact_return_distribution(mdp, policy)
    assert exact.status == RESULTS.successful
    assert float(jnp.max(D.wasserstein(ev.state, exact.state))) < 1e-12
    assert float(D.kolmogorov_smirnov(ev.initial, exact.initial)) < 1e-12
    # Monte Carlo rollouts
    n = 40_000
    g = D.sample_returns(mdp, policy, key=jax.random.fold_in(key, 2), num_episodes=n)
    w1 = float(D.wasserstein(ev.initial, _empirical(g)))
    tol = _mc_w1_tolerance(ev.initial, n)
    print(f"seed {seed}: W1(DP, MC with {n} episodes) = {w1:.4f}, tolerance {tol:.4f}")
    assert w1 < tol


@pytest.mark.slow  # heavier; `make test-all`
def test_deterministic_markov_policy_matches_enumeration(float64):
    mdp = D.random_mdp(3, 2, 2, key=jax.random.key(3), rewards=(0.0, 1.0, 3.0), discount=1.0,
                       horizon=3)
    for pol, dist in D.markov_policy_distributions(mdp)[::13]:
        ev = D.evaluate_policy(mdp, jnp.asarray(pol, jnp.int32))
        atoms, probs = zip(*dist, strict=True)
        ref = D.FiniteSupport(jnp.asarray(atoms), jnp.asarray(probs))
        assert float(D.wasserstein(ev.initial, ref)) < 1e-12


def test_discounted_evaluation_matches_monte_carlo(float64):
    key = jax.random.key(4)
    mdp = D.random_mdp(6, 2, 3, key=key, discount=0.8)
    policy = jnp.zeros(6, jnp.int32)
    ev = D.evaluate_policy(mdp, policy, num_atoms=401)
    assert bool(ev.converged)
    # the categorical fixed point is approximate: its error bound is positive, and at most
    # the per-step bound Δz/2 summed over the discounted steps
    z = np.asarray(ev.initial.support)
    assert 0 < float(jnp.max(ev.projection_error)) <= (z[1] - z[0]) / 2 / (1 - 0.8) + 1e-9
    n, steps = 40_000, 150          # truncation error ≤ 0.8^150 · 2 / 0.2 ≈ 3e-14
    g = D.sample_returns(mdp, policy, key=key, num_episodes=n, num_steps=steps)
    w1 = float(D.wasserstein(ev.initial, _empirical(g)))
    # the categorical fixed point differs from the true law by at most its projection error
    # (≤ the projection's per-step smoothing Δz/2, discounted: Δz / (2(1 − γ)))
    bias = float(jnp.dot(mdp.initial, ev.projection_error))
    tol = _mc_w1_tolerance(ev.initial, n) + bias
    print(f"W1(DP, MC) = {w1:.4f}, tolerance {tol:.4f} (projection part {bias:.4f})")
    assert w1 < tol
    # the means are exact: the projection preserves them inside the support
    v = np.linalg.solve(np.eye(6) - 0.8 * np.asarray(mdp.transition_matrix())[:, 0],
                        np.asarray(mdp.expected_reward())[:, 0])
    np.testing.assert_allclose(np.asarray(ev.state.mean()), v, atol=1e-10)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), gamma=st.sampled_from([0.3, 0.7, 0.95]))
def test_bellman_operator_contracts_in_sup_wasserstein(seed, gamma):
    """sup W_p(Tη, Tν) ≤ γ sup W_p(η, ν) for the exact operator (p = 1, 2), and the projected
    operator is a √γ-contraction in sup-Cramér (Rowland et al. 2018)."""
    with jax.enable_x64(True):
        key = jax.random.key(seed)
        k1, k2, k3, k4, k5 = jax.random.split(key, 5)
        mdp = D.random_mdp(4, 2, 2, key=k1, discount=gamma)
        policy = _simplex(k2, (4, 2))

        def random_dist(k):
            ka, kb = jax.random.split(k)
            return D.FiniteSupport(jax.random.normal(ka, (4, 2, 3)) * 3,
                                   _simplex(kb, (4, 2, 3)))

        eta, nu = random_dist(k3), random_dist(k4)
        t_eta = D.exact_bellman_operator(mdp, policy, eta)
        t_nu = D.exact_bellman_operator(mdp, policy, nu)
        for p in (1.0, 2.0):
            before = float(jnp.max(D.wasserstein(eta, nu, order=p)))
            after = float(jnp.max(D.wasserstein(t_eta, t_nu, order=p)))
            assert after <= gamma * before + 1e-12
        z = jnp.linspace(-15.0, 15.0, 61)
        pc = D.Categorical(z, _simplex(k5, (4, 2, 61)))
        qc = D.Categorical(z, _simplex(k3, (4, 2, 61)))
        before = float(jnp.max(D.cramer(pc, qc)))
        after = float(jnp.max(D.cramer(D.categorical_bellman_operator(mdp, policy, pc),
                                       D.categorical_bellman_operator(mdp, policy, qc))))
        assert after <= np.sqrt(gamma) * before + 1e-12


def test_mean_objective_reduces_to_classical_value_iteration(float64):
    """K = mean: E η(s, c, a) = c + Q*(s, a) for every stock c (reference §4.1)."""
    mdp = D.random_mdp(5, 3, 2, key=jax.random.key(5), rewards=(-1.0, 0.0, 1.0, 2.0),
                       discount=1.0, horizon=5)
    p = np.asarray(mdp.transition_matrix())
    rbar = np.asarray(mdp.expected_reward())
    v = np.zeros(5)
    for _ in range(5):
        q = rbar + p @ v
        v = q.max(-1)
    grid = jnp.arange(-3.0, 4.0)
    # the stock leaves this small grid (rewards up to 2 for 5 steps): reported, not raised
    sol = D.stock_augmented_value_iteration(mdp, D.ExpectedUtility(lambda x: x),
                                            stock_grid=grid, throw=False)
    assert sol.status == RESULTS.left_grid and not bool(sol.converged)
    means = np.asarray(sol.distributions.mean())               # (S, C, A), law of G
    for j in range(grid.shape[0]):
        np.testing.assert_allclose(means[:, j], q, atol=1e-10)
        np.testing.assert_allclose(np.asarray(sol.values[:, j]), float(grid[j]) + v, atol=1e-10)


def test_evaluation_reports_non_convergence(float64):
    mdp = D.random_mdp(4, 2, 2, key=jax.random.key(6), discount=0.99)
    ev = D.evaluate_policy(mdp, jnp.zeros(4, jnp.int32), max_iterations=5, throw=False)
    assert not bool(ev.converged) and int(ev.iterations) == 5 and float(ev.residual) > 0
    assert ev.status == RESULTS.not_converged
    with pytest.raises(Exception, match="evaluate_policy: The iteration stopped at its budget"):
        D.evaluate_policy(mdp, jnp.zeros(4, jnp.int32), max_iterations=5)


def test_policy_and_support_errors(user_errors):
    mdp = D.random_mdp(4, 2, 2, key=jax.random.key(7), discount=0.9)
    with pytest.raises(ValueError, match=r"evaluate_policy: policy must be action indices of "
                                         r"shape \(S,\) = \(4,\) or \(H, S\)"):
        D.evaluate_policy(mdp, jnp.zeros(3, jnp.int32))
    with pytest.raises(ValueError, match=r"policy must be actions in 0..1, got 2..2"):
        D.evaluate_policy(mdp, jnp.full(4, 2, jnp.int32))
    with pytest.raises(ValueError, match=r"summing to 1 over the last axis, got sums from 1.4"):
        D.evaluate_policy(mdp, jnp.full((4, 2), 0.7))
    with pytest.raises(TypeError, match=r"policy must be action probabilities .* got dtype bool"):
        D.evaluate_policy(mdp, jnp.zeros((4, 2), bool))
    with pytest.raises(ValueError, match=r"support must be a range \[z_1, z_K\] containing 0"):
        D.evaluate_policy(mdp, jnp.zeros(4, jnp.int32), support=jnp.linspace(1.0, 5.0, 11))
    with pytest.raises(ValueError, match=r"support must be evenly spaced and increasing, got "
                                         r"spacings from 0.5 to 2.5"):
        D.evaluate_policy(mdp, jnp.zeros(4, jnp.int32),
                          support=jnp.asarray([-1.0, 0.0, 0.5, 3.0]))
    with pytest.raises(TypeError, match=r"evaluate_policy: max_iterations must be a positive "
                                        r"int, got 10.0"):
        D.evaluate_policy(mdp, jnp.zeros(4, jnp.int32), max_iterations=10.0)
    with pytest.raises(ValueError, match=r"exact_return_distribution: mdp must be a "
                                         r"finite-horizon MDP .*got horizon=None"):
        D.exact_return_distribution(mdp, jnp.zeros(4, jnp.int32))
    # the MDP of test_finite_horizon_evaluation_... (seed 0): one compile of random_mdp
    finite = D.random_mdp(4, 2, 3, key=jax.random.key(0), rewards=(-1.0, 0.0, 2.0),
                          discount=1.0, horizon=4)
    dropped = D.exact_return_distribution(finite, jnp.zeros(4, jnp.int32), max_atoms=4,
                                          throw=False)
    assert dropped.status == RESULTS.inexact_support
    with pytest.raises(Exception, match="exact_return_distribution: The support does not "
                                        "contain every reachable value"):
        D.exact_return_distribution(finite, jnp.zeros(4, jnp.int32), max_atoms=4)
    with pytest.raises(ValueError, match="sample_returns: num_steps must be given for an "
                                         "infinite-horizon MDP"):
        D.sample_returns(mdp, jnp.zeros(4, jnp.int32), key=jax.random.key(0), num_episodes=3)
    with pytest.raises(TypeError, match="sample_returns: num_episodes must be a positive int"):
        D.sample_returns(mdp, jnp.zeros(4, jnp.int32), key=jax.random.key(0),
                         num_episodes=3.0, num_steps=2)


def test_evaluation_compiles_once_per_shape(float64):
    import equinox as eqx

    from jaxlab.distrl import _bellman, _projection

    mdp = D.random_mdp(4, 2, 2, key=jax.random.key(8), discount=0.9)
    fn = eqx.debug.assert_max_traces(_bellman._evaluate.__wrapped__, max_traces=1)
    jitted = eqx.filter_jit(fn)
    z = D.default_support(mdp, 21)
    plan = _projection.projection_plan(mdp.reward, mdp.discount, z)
    for seed in range(3):
        pi = jax.nn.one_hot(jax.random.randint(jax.random.key(seed), (4,), 0, 2), 2)
        jitted(mdp, pi, z, plan, 1e-10, 1000)
