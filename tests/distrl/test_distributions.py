"""Representations, projections, risk measures and distances against float64 NumPy/SciPy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from jaxlab import distrl as D
from jaxlab.distrl._projection import project_outcomes, projection_plan


def _simplex(key, shape) -> jax.Array:
    """Dirichlet(1, …, 1) rows over the last axis of `shape`, drawn as normalised standard
    exponentials (the same law as `jax.random.dirichlet` with unit concentrations, whose
    gamma sampler takes seconds to compile for every shape)."""
    e = jax.random.exponential(key, shape)
    return e / jnp.sum(e, axis=-1, keepdims=True)


def _naive_projection(atoms, probs, support):
    """Textbook C51 projection, one atom at a time (float64)."""
    z = np.asarray(support, float)
    dz = z[1] - z[0]
    out = np.zeros(z.size)
    for x, p in zip(np.asarray(atoms, float), np.asarray(probs, float), strict=True):
        b = np.clip((x - z[0]) / dz, 0, z.size - 1)
        lo, hi = int(np.floor(b)), int(np.ceil(b))
        if lo == hi:
            out[lo] += p
        else:
            out[lo] += p * (hi - b)
            out[hi] += p * (b - lo)
    return out


def test_projection_matches_textbook_and_preserves_mass_and_mean(float64):
    rng = np.random.default_rng(0)
    z = np.linspace(-4.0, 6.0, 21)
    for _ in range(5):
        atoms = rng.uniform(-4, 6, size=30)
        probs = rng.dirichlet(np.ones(30))
        ours = np.asarray(D.categorical_projection(atoms, probs, z))
        np.testing.assert_allclose(ours, _naive_projection(atoms, probs, z), atol=1e-14)
        assert ours.sum() == pytest.approx(1.0, abs=1e-14)
        assert ours @ z == pytest.approx(probs @ atoms, abs=1e-12)   # inside the grid
    # mass beyond the ends goes to the end points: the mean moves, the mass stays
    out = np.asarray(D.categorical_projection(np.array([-10.0, 20.0]), np.array([0.5, 0.5]), z))
    assert out[0] == pytest.approx(0.5) and out[-1] == pytest.approx(0.5)


def test_projection_is_idempotent(float64):
    z = jnp.linspace(-1.0, 1.0, 11)
    p = _simplex(jax.random.key(1), (11,))
    once = D.categorical_projection(z, p, z)
    np.testing.assert_allclose(np.asarray(once), np.asarray(p), atol=1e-15)
    np.testing.assert_allclose(np.asarray(D.categorical_projection(z, once, z)),
                               np.asarray(once), atol=1e-15)


@pytest.mark.parametrize("gamma", [1.0, 0.9, 0.37])
@pytest.mark.parametrize("distinct", [4, 40])
def test_sweep_projection_equals_textbook_projection(float64, gamma, distinct):
    """The projection of the DP sweeps (grouped by reward for few distinct rewards, a
    scatter-add for many) equals the textbook one, outcome by outcome and summed."""
    key = jax.random.key(2)
    z = jnp.linspace(-5.0, 7.0, 25)
    values = jax.random.uniform(key, (distinct,), minval=-9, maxval=9).at[:4].set(
        jnp.asarray([0.0, 1.0, -2.0, 0.5]))
    r = values[jnp.arange(40) % distinct].reshape(5, 2, 4)            # (S, A, M) rewards
    mass = _simplex(key, (5, 3, 2, 4, 25)) / 4  # (S, C, A, M, K)
    plan = projection_plan(r, gamma, z)
    assert (plan.phi is not None) == (distinct <= 32)
    fast, cost = (np.asarray(x) for x in project_outcomes(mass, plan))
    zs, rs, ms = np.asarray(z), np.asarray(r), np.asarray(mass)
    # the transport cost of each shifted atom: moving a point mass to its textbook
    # projection (the only coupling of a point with a law) costs Σ_i w_i |x − z_i|
    atom_cost = np.zeros((5, 2, 4, 25))
    for s, a, m, j in np.ndindex(5, 2, 4, 25):
        x = rs[s, a, m] + gamma * zs[j]
        atom_cost[s, a, m, j] = _naive_projection([x], [1.0], zs) @ np.abs(x - zs)
    for s, c, a in np.ndindex(5, 3, 2):
        ref = sum(_naive_projection(np.asarray(r[s, a, m] + gamma * z),
                                    np.asarray(mass[s, c, a, m]), z) for m in range(4))
        np.testing.assert_allclose(fast[s, c, a], ref, atol=1e-13)
        assert cost[s, c, a] == pytest.approx(np.sum(ms[s, c, a] * atom_cost[s, a]),
                                              abs=1e-12)


def test_projection_cost_is_zero_on_the_lattice_and_bounds_w1(float64):
    """The transport cost of a projection is 0 when every shifted atom is a support point
    (a lattice support), and an upper bound on W1 between a mixture and its projection."""
    z = jnp.arange(-6.0, 7.0) * 0.5                       # the half-integer lattice
    rewards = jnp.asarray([[[0.5, -1.5]]])                 # (S, A, M) = (1, 1, 2)
    mass = jnp.zeros((1, 1, 1, 2, 13)).at[..., 4:9].set(0.1)
    plan = projection_plan(rewards, 1.0, z)
    _, cost = project_outcomes(mass, plan)
    assert float(cost[0, 0, 0]) == 0.0
    off = jnp.asarray([[[0.3, -1.2]]])                     # off the lattice
    projected, cost = project_outcomes(mass, projection_plan(off, 1.0, z))
    atoms = np.concatenate([0.3 + np.asarray(z), -1.2 + np.asarray(z)])
    probs = np.asarray(mass[0, 0, 0]).reshape(-1)
    w1 = scipy.stats.wasserstein_distance(atoms, np.asarray(z), probs,
                                          np.asarray(projected[0, 0, 0]))
    print(f"W1(mixture, projection) = {w1:.6f} <= transport cost {float(cost[0, 0, 0]):.6f}")
    assert 0 < w1 <= float(cost[0, 0, 0]) + 1e-12


def test_cvar_and_quantile_against_numpy(float64):
    rng = np.random.default_rng(3)
    atoms = rng.normal(size=(4, 50))
    probs = rng.dirichlet(np.ones(50), size=4)
    for tau in (0.05, 0.3, 1.0):
        ours = np.asarray(D.cvar(atoms, probs, tau))
        for i in range(4):
            dist = tuple(sorted(zip(atoms[i].tolist(), probs[i].tolist(), strict=True)))
            assert ours[i] == pytest.approx(D.cvar_of(dist, tau), abs=1e-12)
            # Rockafellar–Uryasev: max_b b − E(b − X)⁺/τ, maximised at an atom
            ru = max(b - probs[i] @ np.maximum(b - atoms[i], 0) / tau for b in atoms[i])
            assert ours[i] == pytest.approx(ru, abs=1e-12)
        q = np.asarray(D.quantile(atoms, probs, tau))
        for i in range(4):
            order = np.argsort(atoms[i])
            cum = np.cumsum(probs[i][order])
            assert q[i] == atoms[i][order][np.searchsorted(cum, tau - 1e-12)]
    np.testing.assert_allclose(np.asarray(D.cvar(atoms, probs, 1.0)),
                               (atoms * probs).sum(-1), atol=1e-12)
    with pytest.raises(ValueError, match=r"cvar: tau must be in \(0, 1\], got 0.0"):
        D.cvar(atoms, probs, 0.0)


@pytest.mark.parametrize("tau", [0.05, 0.25, 0.5])
def test_cvar_closed_forms(float64, tau):
    n = 200_000
    u = (np.arange(n) + 0.5) / n
    uniform = D.Quantiles(jnp.asarray(u))
    assert float(uniform.cvar(tau)) == pytest.approx(tau / 2, abs=1e-5)
    mu, sigma = 1.5, 2.0
    normal = D.Quantiles(jnp.asarray(scipy.stats.norm.ppf(u, mu, sigma)))
    exact = mu - sigma * scipy.stats.norm.pdf(scipy.stats.norm.ppf(tau)) / tau
    assert float(normal.cvar(tau)) == pytest.approx(exact, abs=2e-3)


def test_finite_support_compact_and_overflow(float64):
    d = D.FiniteSupport(jnp.asarray([[3.0, 1.0, 3.0, 2.0, 1.0], [0.0, 0.0, 5.0, 5.0, 5.0]]),
                        jnp.asarray([[0.1, 0.2, 0.3, 0.4, 0.0], [0.5, 0.1, 0.1, 0.1, 0.2]]))
    c, over = d.compact(4)
    np.testing.assert_allclose(np.asarray(c.values[0, :3]), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(np.asarray(c.masses[0]), [0.2, 0.4, 0.4, 0.0], atol=1e-15)
    np.testing.assert_allclose(np.asarray(c.masses[1, :2]), [0.6, 0.4], atol=1e-15)
    assert not bool(over.any())
    assert np.asarray(c.num_atoms()).tolist() == [3, 2]
    small, over = d.compact(2)
    np.testing.assert_allclose(np.asarray(small.masses[1]), [0.6, 0.4], atol=1e-15)
    assert np.asarray(over).tolist() == [True, False]
    assert float(c.mean()[0]) == pytest.approx(float(d.mean()[0]))


def test_distances_against_scipy_and_closed_forms(float64):
    rng = np.random.default_rng(4)
    xa, xb = rng.normal(size=40), rng.normal(1.0, 2.0, size=25)
    pa, pb = rng.dirichlet(np.ones(40)), rng.dirichlet(np.ones(25))
    a, b = D.FiniteSupport(jnp.asarray(xa), jnp.asarray(pa)), \
        D.FiniteSupport(jnp.asarray(xb), jnp.asarray(pb))
    w1 = scipy.stats.wasserstein_distance(xa, xb, pa, pb)
    assert float(D.wasserstein(a, b)) == pytest.approx(w1, rel=1e-12)
    # scipy's energy distance is √2 times the Cramér (ℓ₂) distance
    e = scipy.stats.energy_distance(xa, xb, pa, pb)
    assert float(D.cramer(a, b)) == pytest.approx(e / np.sqrt(2), rel=1e-12)
    grid = np.sort(np.concatenate([xa, xb]))
    fa = np.array([pa[xa <= g].sum() for g in grid])
    fb = np.array([pb[xb <= g].sum() for g in grid])
    assert float(D.kolmogorov_smirnov(a, b)) == pytest.approx(np.abs(fa - fb).max(), abs=1e-14)
    # W_p between equal-size uniform samples: the sorted matching
    u, v = rng.normal(size=64), rng.exponential(size=64)
    qa, qb = D.Quantiles(jnp.asarray(u)), D.Quantiles(jnp.asarray(v))
    for p in (1.0, 2.0, 3.0):
        ref = np.mean(np.abs(np.sort(u) - np.sort(v)) ** p) ** (1 / p)
        assert float(D.wasserstein(qa, qb, order=p)) == pytest.approx(ref, rel=1e-12)


def test_distances_are_vectorised_over_batches(float64, user_errors):
    key = jax.random.key(5)
    z = jnp.linspace(-2.0, 2.0, 9)
    p = D.Categorical(z, _simplex(key, (3, 4, 9)))
    q = D.Categorical(z, _simplex(jax.random.key(6), (3, 4, 9)))
    for fn in (D.wasserstein, D.cramer, D.kolmogorov_smirnov):
        out = fn(p, q)
        assert out.shape == (3, 4)
        ref = fn(D.Categorical(z, p.weights[2, 1]), D.Categorical(z, q.weights[2, 1]))
        assert float(out[2, 1]) == pytest.approx(float(ref), abs=1e-14)
        assert float(jnp.max(fn(p, p))) == pytest.approx(0.0, abs=1e-14)
    # categorical W1 = Δz Σ|F − G|
    w1 = 0.5 * jnp.sum(jnp.abs(jnp.cumsum(p.weights - q.weights, -1)), -1)
    np.testing.assert_allclose(np.asarray(D.wasserstein(p, q)), np.asarray(w1), atol=1e-14)
    with pytest.raises(ValueError, match=r"wasserstein: p and q must be of broadcastable batch "
                                         r"shapes, got \(3, 4\) and \(2, 2\)"):
        D.wasserstein(p, D.Categorical(z, q.weights[:2, :2]))
    with pytest.raises(TypeError, match="cramer: p and q must be distributions"):
        D.cramer(p, q.weights)
    with pytest.raises(ValueError, match="wasserstein: order must be a finite number >= 1"):
        D.wasserstein(p, q, order=0.5)
    # jit and vmap give the same numbers as the eager batch
    jitted = jax.jit(lambda a, b: D.wasserstein(D.Categorical(z, a), D.Categorical(z, b)))
    np.testing.assert_allclose(np.asarray(jitted(p.weights, q.weights)),
                               np.asarray(D.wasserstein(p, q)), atol=1e-14)


def test_quantile_projection_is_w1_optimal(float64):
    rng = np.random.default_rng(7)
    x, w = rng.gamma(2.0, size=200), rng.dirichlet(np.ones(200))
    dist = D.FiniteSupport(jnp.asarray(x), jnp.asarray(w))
    locs = D.quantile_projection(x, w, 10)
    best = float(D.wasserstein(dist, D.Quantiles(locs)))
    for _ in range(20):
        other = D.Quantiles(locs + jnp.asarray(rng.normal(scale=0.05, size=10)))
        assert float(D.wasserstein(dist, other)) >= best - 1e-12


def test_categorical_rejects_mismatched_shapes(user_errors):
    with pytest.raises(ValueError, match="weights must have shape"):
        D.Categorical(jnp.linspace(0, 1, 5), jnp.ones((2, 4)) / 4)
    with pytest.raises(ValueError, match="same shape"):
        D.FiniteSupport(jnp.zeros(3), jnp.ones(4))
