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
    return (jax.random.normal(k0, (N, 2), dtype=jnp.float64), _target().sample(N, key=k1))


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
        lambda t, x: a * exact(t, x) + c, batch, key=key, interpolant=interp, target=target,
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
        f = lambda key: gen.interpolant_loss(marg.drift, batch, key=key, interpolant=interp,
                                             antithetic=antithetic)
        return np.asarray(jax.jit(jax.vmap(f))(jax.random.split(jax.random.PRNGKey(3), 64)))

    assert losses(True).std() < 0.5 * losses(False).std()


def test_cfm_loss_is_minimised_by_the_marginal_velocity(float64):
    # I-CFM with σ = 0 regresses on x1 − x0; its minimiser is the drift of the linear
    # interpolant without noise: L(f + c) − L(f) = |c|²/d.
    marg = gen.PathMarginal(gen.Interpolant.linear("zero"), _target())
    batch = _data(jax.random.PRNGKey(4))
    key = jax.random.PRNGKey(5)
    loss = jax.jit(lambda c: gen.cfm_loss(lambda t, x: marg.drift(t, x) + c, batch, key=key))
    gap = float(loss(jnp.asarray(SHIFT)) - loss(jnp.zeros(2)))
    assert abs(gap - float(SHIFT @ SHIFT) / 2) < 0.03, gap


def test_denoising_loss_parameterisations(float64):
    vp = gen.Diffusion.vp()
    marg = gen.PathMarginal(vp, _target())
    eps_hat = lambda t, x: -jnp.sqrt(vp.coefficients(t).gamma2) * marg.score(t, x)
    x0 = _target().sample(N, key=jax.random.PRNGKey(6))
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
    x0 = np.asarray(_target().sample(64, key=jax.random.PRNGKey(8)))
    key = jax.random.PRNGKey(9)
    t0 = 0.3
    model = lambda t, x: -x * (1.0 + t)
    draw = gen.beta_times(0.1, 2.0)
    got, ts = jax.jit(lambda x: (
        gen.denoising_loss(model, x, key=key, diffusion=ou, prediction="score",
                           weighting=lambda t: 1.0 + 0.0 * t,
                           times=lambda k, n: jnp.full((n,), t0)),
        draw(jax.random.PRNGKey(10), 40000)))(jnp.asarray(x0))
    eps = np.asarray(jax.random.normal(jax.random.split(key, 3)[1], x0.shape))
    a, s2 = np.exp(-t0), 0.5 * (1 - np.exp(-2 * t0))
    xt = a * x0 + np.sqrt(s2) * eps
    expected = np.mean(np.sum((-xt * (1 + t0) + eps / np.sqrt(s2)) ** 2, -1))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # beta_times: t_min + (T − t_min)·Beta(1, 2), mean t_min + (T − t_min)/3, sd (T − t_min)/√18
    ts = np.asarray(ts)
    assert ts.min() >= 0.1 and ts.max() <= 2.0
    assert abs(ts.mean() - (0.1 + 1.9 / 3)) < 4 * 1.9 / np.sqrt(18 * 40000)
    with pytest.raises(ValueError, match=r"denoising_loss: times\(key, 64\) must be of shape "
                                         r"\(64,\), got shape \(64, 1\)"):
        gen.denoising_loss(model, jnp.asarray(x0), key=key, diffusion=ou,
                           times=lambda k, n: jnp.zeros((n, 1)))
    with pytest.raises(ValueError, match=r"beta_times: t_min must be a finite number in "
                                         r"\[0.0, 0.5\)"):
        gen.beta_times(1.0, 0.5)
    with pytest.raises(ValueError, match="beta_times: a must be a positive finite number"):
        gen.beta_times(0.0, 1.0, a=0.0)


def test_ot_coupling_is_optimal_by_brute_force():
    # couple(method="ot") pairs x0[i0] with x1[i1] at the least total squared distance of all
    # 6! pairings; under jit and vmap as well
    rng = np.random.default_rng(0)
    x0, x1 = rng.normal(size=(6, 2)), rng.normal(size=(6, 2)) + 1
    i0, i1 = gen.couple(jnp.asarray(x0), jnp.asarray(x1), method="ot")
    cost = lambda p: np.sum((x0 - x1[list(p)]) ** 2)
    best = min(cost(p) for p in itertools.permutations(range(6)))
    np.testing.assert_array_equal(i0, np.arange(6))
    assert sorted(np.asarray(i1).tolist()) == list(range(6))
    np.testing.assert_allclose(cost(np.asarray(i1)), best, rtol=1e-6)
    batched = jax.jit(jax.vmap(lambda a, b: gen.couple(a, b, method="ot")[1]))(
        jnp.stack([jnp.asarray(x0)] * 2), jnp.stack([jnp.asarray(x1)] * 2))
    np.testing.assert_array_equal(batched, np.stack([i1, i1]))


@pytest.mark.slow  # POT's Sinkhorn at a small ε; the exact coupling is tested by default
def test_sinkhorn_coupling_tends_to_the_ot_coupling():
    # at small ε the entropic plan concentrates on the optimal permutation, so the drawn
    # pairs are mostly the optimal pairs
    rng = np.random.default_rng(1)
    x0, x1 = jnp.asarray(rng.normal(size=(32, 2))), jnp.asarray(rng.normal(size=(32, 2)) + 2)
    perm = np.asarray(gen.couple(x0, x1, method="ot")[1])
    i0, i1 = gen.couple(x0, x1, key=jax.random.PRNGKey(0), method="sinkhorn", epsilon=0.01)
    assert np.mean(np.asarray(i1) == perm[np.asarray(i0)]) > 0.8


def test_ot_coupling_shortens_the_pairs():
    rng = np.random.default_rng(2)
    x0, x1 = jnp.asarray(rng.normal(size=(128, 2))), jnp.asarray(rng.normal(size=(128, 2)) * 2)
    i0, i1 = gen.couple(x0, x1, method="ot")
    assert float(jnp.sum((x0[i0] - x1[i1]) ** 2)) < 0.5 * float(jnp.sum((x0 - x1) ** 2))


def test_couple_arguments_are_checked(user_errors):
    z = jnp.zeros((4, 2))
    with pytest.raises(ValueError, match="couple: method must be one of 'independent', 'ot', "
                                         "'sinkhorn', got 'greedy'"):
        gen.couple(z, z, method="greedy")
    with pytest.raises(ValueError, match=r"couple: x1 must be of the shape of x0 \(4, 2\) "
                                         r"with method='ot', got shape \(3, 2\)"):
        gen.couple(z, z[:3], method="ot")
    with pytest.raises(TypeError, match="couple: key must be a PRNG key"):
        gen.couple(z, z, method="sinkhorn")


def test_cfm_couplings_run_and_schrodinger_needs_sigma():
    rng = np.random.default_rng(3)
    batch = (jnp.asarray(rng.normal(size=(16, 2)), jnp.float32),
             jnp.asarray(rng.normal(size=(16, 2)), jnp.float32))
    field = lambda t, x: -x
    for coupling, sigma in [("independent", 0.1), ("ot", 0.0), ("schrodinger", 0.5)]:
        value = gen.cfm_loss(field, batch, key=jax.random.PRNGKey(0), coupling=coupling,
                             sigma=sigma)
        assert np.isfinite(float(value)) and float(value) > 0
    with pytest.raises(ValueError, match=r"cfm_loss: sigma must be > 0 with "
                                         r"coupling='schrodinger', got 0\.0"):
        gen.cfm_loss(field, batch, key=jax.random.PRNGKey(0), coupling="schrodinger")
    with pytest.raises(ValueError, match="cfm_loss: coupling must be one of"):
        gen.cfm_loss(field, batch, key=jax.random.PRNGKey(0), coupling="greedy")
    with pytest.raises(ValueError, match=r"x0: \(B, d\)"):
        gen.cfm_loss(field, (batch[0], batch[1][:, :1]), key=jax.random.PRNGKey(0))


def test_label_dropout_and_classifier_free_guidance():
    # the model outputs its label and the CFM target is 0, so the loss is the fraction of
    # labels kept (1) rather than replaced by the null label (0)
    x = jnp.zeros((4000, 2))
    labels = jnp.ones(4000)
    model = lambda t, y, label: jnp.full_like(y, label)
    kept = float(gen.cfm_loss(model, (x, x, labels), key=jax.random.PRNGKey(0),
                              label_drop=0.2, null_label=0.0))
    assert abs(kept - 0.8) < 4 * np.sqrt(0.2 * 0.8 / 4000)
    assert float(gen.cfm_loss(model, (x, x, labels), key=jax.random.PRNGKey(0))) == 1.0
    with pytest.raises(ValueError, match="cfm_loss: null_label must be the label meaning"):
        gen.cfm_loss(model, (x, x, labels), key=jax.random.PRNGKey(0), label_drop=0.2)
    cond = lambda t, y, c: y * c
    y = jnp.array([1.0, 2.0])
    np.testing.assert_allclose(gen.guided(cond, 3.0, 0.0, 0.0)(0.5, y), 3 * y)
    np.testing.assert_allclose(gen.guided(cond, 3.0, 1.0, 2.0)(0.5, y), 3 * 3 * y - 2 * y)


def test_loss_arguments_are_checked(user_errors):
    f = lambda t, x: x
    z = jnp.zeros((4, 2))
    key = jax.random.PRNGKey(0)
    linear = gen.Interpolant.linear()
    with pytest.raises(ValueError, match="interpolant_loss: target must be one of"):
        gen.interpolant_loss(f, (z, z), key=key, interpolant=linear, target="flow")
    with pytest.raises(ValueError, match="interpolant_loss: batch must be paired rows"):
        gen.interpolant_loss(f, (z, z[:3]), key=key, interpolant=linear)
    with pytest.raises(ValueError, match=r"interpolant_loss: t_min must be a finite number "
                                         r"in \[0.0, 0.5\), got 0.7"):
        gen.interpolant_loss(f, (z, z), key=key, interpolant=linear, t_min=0.7, t_max=0.5)
    with pytest.raises(TypeError, match="interpolant_loss: interpolant must be an Interpolant"
                                        ", got a Diffusion"):
        gen.interpolant_loss(f, (z, z), key=key, interpolant=gen.Diffusion.vp())
    with pytest.raises(TypeError, match=r"interpolant_loss: key must be a PRNG key"):
        gen.interpolant_loss(f, (z, z), key=None, interpolant=linear)
    with pytest.raises(TypeError, match="interpolant_loss: x0 must be a real array"):
        gen.interpolant_loss(f, (z > 0, z), key=key, interpolant=linear)
    with pytest.raises(ValueError, match="denoising_loss: prediction must be one of"):
        gen.denoising_loss(f, z, key=key, diffusion=gen.Diffusion.vp(), prediction="eps")
    with pytest.raises(ValueError, match=r"denoising_loss: the data must be of shape \(B, d\), "
                                         r"got shape \(4,\)"):
        gen.denoising_loss(f, z[:, 0], key=key, diffusion=gen.Diffusion.vp())
    with pytest.raises(TypeError, match="cfm_loss: batch must be a tuple"):
        gen.cfm_loss(f, z, key=key)
    with pytest.raises(ValueError, match="cfm_loss: label_drop must be a finite number in"):
        gen.cfm_loss(f, (z, z), key=key, label_drop=1.5)
    with pytest.raises(TypeError, match="as_field: model must be a callable"):
        gen.as_field(None, linear, prediction="noise", output="score")
    with pytest.raises(ValueError, match="as_field: output must be one of"):
        gen.as_field(f, linear, prediction="noise", output="eps")
    with pytest.raises(TypeError, match="guided: weight must be a real finite number"):
        gen.guided(f, 1.0, 0.0, "strong")


def test_losses_promote_integer_batches_and_keep_float32(float64):
    # integer data are promoted to the default float (CONTRIBUTING §6); float32 data give a
    # float32 loss even with x64 on and a float64 model (dtypes by eval_shape: traced only)
    field = lambda t, x: -x * jnp.ones((), jnp.float64)
    key = jax.random.PRNGKey(0)
    ints = (jnp.arange(8).reshape(4, 2), jnp.ones((4, 2), int))
    promoted, floats = jax.jit(lambda: (
        gen.cfm_loss(field, ints, key=key),
        gen.cfm_loss(field, tuple(x.astype(jnp.float64) for x in ints), key=key)))()
    assert promoted.dtype == jnp.float64
    np.testing.assert_allclose(promoted, floats, rtol=1e-15)
    small = tuple(x.astype(jnp.float32) for x in ints)
    out = jax.eval_shape(lambda: (
        gen.cfm_loss(field, small, key=key),
        gen.interpolant_loss(field, small, key=key, interpolant=gen.Interpolant.linear()),
        gen.denoising_loss(field, small[0], key=key, diffusion=gen.Diffusion.vp())))
    assert [o.dtype for o in out] == [jnp.float32] * 3
