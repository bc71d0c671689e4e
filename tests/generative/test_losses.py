"""Objectives: each is minimised by its conditional expectation (the exact field of a
Gaussian-mixture target), couplings against brute force, guidance and label dropout."""

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import generative as gen

SHIFT = np.array([0.5, -0.5])
N = 20000


def _target():
    """The test mixture, in the precision enabled when called."""
    return gen.GaussianMixture(jnp.array([0.4, 0.6]), jnp.array([[-1.5, 1.0], [2.0, -0.5]]),
                               jnp.array([0.3, 0.5]))


def _data(key):
    k0, k1 = jax.random.split(key)
    return (jax.random.normal(k0, (N, 2), dtype=jnp.float64), _target().sample(k1, N))


@pytest.mark.parametrize("target", ["drift", "velocity", "score", "denoiser"])
def test_interpolant_loss_is_minimised_by_the_exact_field(float64, target):
    # L(f + c) − L(f) = ½|c|² + c·E[f − target] and E[f − target] = 0 for the exact f.
    interp = gen.Interpolant.linear("sqrt")
    marg = gen.PathMarginal(interp, _target())
    exact = {"drift": marg.drift, "velocity": marg.velocity, "score": marg.score,
             "denoiser": lambda t, x: -interp.gamma(t) * marg.score(t, x)}[target]
    batch = _data(jax.random.PRNGKey(0))
    # the score target γ⁻¹z is heavy near the ends: sample t in [0.05, 0.95] for it
    lo = 0.05 if target == "score" else 1e-3
    # one compiled loss for the affine family a·f + c of fields
    loss = jax.jit(lambda a, c, key: gen.interpolant_loss(
        lambda t, x: a * exact(t, x) + c, batch, key, interpolant=interp, target=target,
        t_min=lo, t_max=1 - lo))
    key = jax.random.PRNGKey(1)
    zero = jnp.zeros(2)
    base = loss(1.0, zero, key)
    shifted = loss(1.0, jnp.asarray(SHIFT), key)
    scaled = loss(0.8, zero, key)
    gap = float(shifted - base)
    assert abs(gap - 0.5 * float(SHIFT @ SHIFT)) < 0.05, gap
    assert float(scaled) > float(base)


def test_antithetic_sampling_reduces_the_variance_of_the_drift_loss(float64):
    interp = gen.Interpolant.linear("sqrt")
    marg = gen.PathMarginal(interp, _target())
    batch = tuple(x[:256] for x in _data(jax.random.PRNGKey(2)))

    def losses(antithetic):
        f = lambda key: gen.interpolant_loss(marg.drift, batch, key, interpolant=interp,
                                             antithetic=antithetic)
        return np.asarray(jax.jit(jax.vmap(f))(jax.random.split(jax.random.PRNGKey(3), 64)))

    assert losses(True).std() < 0.5 * losses(False).std()


def test_cfm_loss_is_minimised_by_the_marginal_velocity(float64):
    # I-CFM with σ = 0 regresses on x1 − x0; its minimiser is the drift of the linear
    # interpolant without noise: L(f + c) − L(f) = |c|²/d.
    marg = gen.PathMarginal(gen.Interpolant.linear("zero"), _target())
    batch = _data(jax.random.PRNGKey(4))
    key = jax.random.PRNGKey(5)
    loss = jax.jit(lambda c: gen.cfm_loss(lambda t, x: marg.drift(t, x) + c, batch, key))
    gap = float(loss(jnp.asarray(SHIFT)) - loss(jnp.zeros(2)))
    assert abs(gap - float(SHIFT @ SHIFT) / 2) < 0.03, gap


def test_denoising_loss_parameterisations(float64):
    vp = gen.Diffusion.vp()
    marg = gen.PathMarginal(vp, _target())
    eps_hat = lambda t, x: -jnp.sqrt(vp.coefficients(t).gamma2) * marg.score(t, x)
    x0 = _target().sample(jax.random.PRNGKey(6), N)
    key = jax.random.PRNGKey(7)
    loss = functools.partial(gen.denoising_loss, batch=x0, key=key, diffusion=vp)
    noise = loss(eps_hat)
    # the score loss with weight σ² is the noise loss, term by term
    score = loss(gen.as_field(eps_hat, vp, prediction="noise", output="score"),
                 prediction="score")
    np.testing.assert_allclose(score, noise, rtol=1e-10)
    gap = float(loss(lambda t, x: eps_hat(t, x) + SHIFT) - noise)
    assert abs(gap - float(SHIFT @ SHIFT)) < 0.05, gap
    # data and velocity predictions from the same exact model are minimisers too
    for prediction in ("data", "velocity"):
        field = gen.as_field(eps_hat, vp, prediction="noise", output=prediction)
        worse = lambda t, x, f=field: f(t, x) + 0.1 * SHIFT
        assert float(loss(worse, prediction=prediction)) > float(loss(field,
                                                                       prediction=prediction))


def test_denoising_loss_with_drawn_times_against_numpy(float64):
    # times(key, B) replaces the uniform draw: at a constant time t0 the score loss is the
    # NumPy mean of w(t0)|s(t0, x_t) + ε/σ|², with the loss's own ε (drawn after the times)
    ou = gen.Diffusion.ou(t_min=1e-3, T=5.0)
    x0 = np.asarray(_target().sample(jax.random.PRNGKey(8), 64))
    key = jax.random.PRNGKey(9)
    t0 = 0.3
    model = lambda t, x: -x * (1.0 + t)
    got = gen.denoising_loss(model, jnp.asarray(x0), key, diffusion=ou, prediction="score",
                             weighting=lambda t: 1.0 + 0.0 * t,
                             times=lambda k, n: jnp.full((n,), t0))
    eps = np.asarray(jax.random.normal(jax.random.split(key, 3)[1], x0.shape))
    a, s2 = np.exp(-t0), 0.5 * (1 - np.exp(-2 * t0))
    xt = a * x0 + np.sqrt(s2) * eps
    expected = np.mean(np.sum((-xt * (1 + t0) + eps / np.sqrt(s2)) ** 2, -1))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # beta_times: t_min + (T − t_min)·Beta(1, 2), mean t_min + (T − t_min)/3, sd (T − t_min)/√18
    draw = gen.beta_times(0.1, 2.0)
    ts = np.asarray(draw(jax.random.PRNGKey(10), 40000))
    assert ts.min() >= 0.1 and ts.max() <= 2.0
    assert abs(ts.mean() - (0.1 + 1.9 / 3)) < 4 * 1.9 / np.sqrt(18 * 40000)
    with pytest.raises(ValueError, match=r"times\(key, 64\) must return shape"):
        gen.denoising_loss(model, jnp.asarray(x0), key, diffusion=ou,
                           times=lambda k, n: jnp.zeros((n, 1)))
    with pytest.raises(ValueError, match="beta_times: need"):
        gen.beta_times(1.0, 0.5)


def test_ot_assignment_is_optimal_by_brute_force():
    rng = np.random.default_rng(0)
    x0, x1 = rng.normal(size=(6, 2)), rng.normal(size=(6, 2)) + 1
    perm = np.asarray(gen.ot_assignment(jnp.asarray(x0), jnp.asarray(x1)))
    cost = lambda p: np.sum((x0 - x1[list(p)]) ** 2)
    best = min(cost(p) for p in itertools.permutations(range(6)))
    assert sorted(perm.tolist()) == list(range(6))
    np.testing.assert_allclose(cost(perm), best, rtol=1e-6)
    # under jit and vmap as well
    batched = jax.jit(jax.vmap(gen.ot_assignment))(jnp.stack([jnp.asarray(x0)] * 2),
                                                    jnp.stack([jnp.asarray(x1)] * 2))
    np.testing.assert_array_equal(batched, np.stack([perm, perm]))


@pytest.mark.slow  # ott-jax's solver; the exact coupling is tested by default
def test_sinkhorn_plan_marginals_and_small_epsilon_limit():
    rng = np.random.default_rng(1)
    x0, x1 = jnp.asarray(rng.normal(size=(32, 2))), jnp.asarray(rng.normal(size=(32, 2)) + 2)
    plan = np.asarray(gen.sinkhorn_plan(x0, x1, epsilon=0.01))
    np.testing.assert_allclose(plan.sum(1), 1 / 32, rtol=2e-2)
    np.testing.assert_allclose(plan.sum(0), 1 / 32, rtol=2e-2)
    perm = np.asarray(gen.ot_assignment(x0, x1))
    # at small ε the plan concentrates on the optimal permutation
    assert np.mean(plan.argmax(1) == perm) > 0.9
    i0, i1 = gen.couple(x0, x1, jax.random.PRNGKey(0), method="sinkhorn", epsilon=0.01)
    assert np.mean(np.asarray(i1) == perm[np.asarray(i0)]) > 0.8


def test_ot_coupling_shortens_the_pairs():
    rng = np.random.default_rng(2)
    x0, x1 = jnp.asarray(rng.normal(size=(128, 2))), jnp.asarray(rng.normal(size=(128, 2)) * 2)
    i0, i1 = gen.couple(x0, x1, jax.random.PRNGKey(0), method="ot")
    assert float(jnp.sum((x0[i0] - x1[i1]) ** 2)) < 0.5 * float(jnp.sum((x0 - x1) ** 2))


def test_cfm_couplings_run_and_schrodinger_needs_sigma():
    rng = np.random.default_rng(3)
    batch = (jnp.asarray(rng.normal(size=(16, 2)), jnp.float32),
             jnp.asarray(rng.normal(size=(16, 2)), jnp.float32))
    field = lambda t, x: -x
    for coupling, sigma in [("independent", 0.1), ("ot", 0.0), ("schrodinger", 0.5)]:
        value = gen.cfm_loss(field, batch, jax.random.PRNGKey(0), coupling=coupling,
                             sigma=sigma)
        assert np.isfinite(float(value)) and float(value) > 0
    with pytest.raises(ValueError, match="needs sigma > 0"):
        gen.cfm_loss(field, batch, jax.random.PRNGKey(0), coupling="schrodinger")
    with pytest.raises(ValueError, match="method must be one of"):
        gen.cfm_loss(field, batch, jax.random.PRNGKey(0), coupling="greedy")
    with pytest.raises(ValueError, match=r"x0: \(B, d\)"):
        gen.cfm_loss(field, (batch[0], batch[1][:, :1]), jax.random.PRNGKey(0))


def test_label_dropout_and_classifier_free_guidance():
    # the model outputs its label and the CFM target is 0, so the loss is the fraction of
    # labels kept (1) rather than replaced by the null label (0)
    x = jnp.zeros((4000, 2))
    labels = jnp.ones(4000)
    model = lambda t, y, label: jnp.full_like(y, label)
    kept = float(gen.cfm_loss(model, (x, x, labels), jax.random.PRNGKey(0), label_drop=0.2,
                              null_label=0.0))
    assert abs(kept - 0.8) < 4 * np.sqrt(0.2 * 0.8 / 4000)
    assert float(gen.cfm_loss(model, (x, x, labels), jax.random.PRNGKey(0))) == 1.0
    with pytest.raises(ValueError, match="needs null_label"):
        gen.cfm_loss(model, (x, x, labels), jax.random.PRNGKey(0), label_drop=0.2)
    cond = lambda t, y, c: y * c
    y = jnp.array([1.0, 2.0])
    np.testing.assert_allclose(gen.guided(cond, 3.0, 0.0, 0.0)(0.5, y), 3 * y)
    np.testing.assert_allclose(gen.guided(cond, 3.0, 1.0, 2.0)(0.5, y), 3 * 3 * y - 2 * y)


def test_loss_arguments_are_checked():
    f = lambda t, x: x
    z = jnp.zeros((4, 2))
    with pytest.raises(ValueError, match="target must be one of"):
        gen.interpolant_loss(f, (z, z), jax.random.PRNGKey(0),
                             interpolant=gen.Interpolant.linear(), target="flow")
    with pytest.raises(ValueError, match="paired"):
        gen.interpolant_loss(f, (z, z[:3]), jax.random.PRNGKey(0),
                             interpolant=gen.Interpolant.linear())
    with pytest.raises(ValueError, match="prediction must be one of"):
        gen.denoising_loss(f, z, jax.random.PRNGKey(0), diffusion=gen.Diffusion.vp(),
                           prediction="eps")
    with pytest.raises(ValueError, match="batch must be a tuple"):
        gen.cfm_loss(f, z, jax.random.PRNGKey(0))
