"""Samplers with exact fields: shared marginals for every ε, the ODE likelihood against the
exact density, Hutchinson unbiasedness, diffusion samplers and DDIM's exactness."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import RESULTS
from jaxlab import generative as gen

N, STEPS = 4000, 100  # samples and steps of the moment tests (tolerances scale with N)


def _target():
    """The test mixture, in the precision enabled when called."""
    return gen.GaussianMixture(
        jnp.array([0.3, 0.7]), jnp.array([[-2.0, 0.5], [1.5, -0.5]]),
        jnp.array([[[0.3, 0.1], [0.1, 0.4]], [[0.5, -0.2], [-0.2, 0.3]]]))


def _moment_errors(xs, mean, cov):
    """(|mean error| / s.e., |cov error| / s.e.) of a sample against exact moments, with the
    standard errors of the sample mean and of the sample covariance entries (Gaussian
    fourth moments are replaced by the sample's own)."""
    xs = np.asarray(xs, dtype=np.float64)
    n = xs.shape[0]
    m = xs.mean(0)
    c = np.cov(xs.T)
    se_mean = np.sqrt(np.diag(c) / n)
    centred = xs - m
    prods = centred[:, :, None] * centred[:, None, :]
    se_cov = prods.std(0) / np.sqrt(n)
    return np.abs(m - mean) / se_mean, np.abs(c - cov) / se_cov


def test_forward_sde_marginals_do_not_depend_on_epsilon(float64):
    marg = gen.PathMarginal(gen.Interpolant.linear("sqrt"), _target())
    mean, cov = np.asarray(_target().mean()), np.asarray(_target().covariance())
    x0 = jax.random.normal(jax.random.PRNGKey(0), (N, 2), dtype=jnp.float64)
    run = jax.jit(lambda x, k, e: gen.sample_sde(marg.drift, marg.score, x, key=k,
                                                 diffusion=e, steps=STEPS, solver="heun").xs)
    for eps in [0.0, 0.5, 2.0]:
        xs = run(x0, jax.random.PRNGKey(1), eps)
        z_mean, z_cov = _moment_errors(xs, mean, cov)
        # 5 standard errors: fails for a wrong sign of ε s (the variance then drifts) or a
        # missing √2 in the noise
        assert z_mean.max() < 5 and z_cov.max() < 5, (eps, z_mean, z_cov)


@pytest.mark.slow  # shows the moment test can fail; the ε test itself runs by default
def test_wrong_epsilon_term_is_detected(float64):
    # the moment test can fail: dropping the +εs correction with ε = 2 changes the marginals
    marg = gen.PathMarginal(gen.Interpolant.linear("sqrt"), _target())
    x0 = jax.random.normal(jax.random.PRNGKey(0), (N, 2), dtype=jnp.float64)
    xs = jax.jit(lambda x: gen.sample_sde(marg.drift, lambda t, y: 0 * y, x,
                                          key=jax.random.PRNGKey(1), diffusion=2.0,
                                          steps=STEPS, solver="heun").xs)(x0)
    _, z_cov = _moment_errors(xs, np.asarray(_target().mean()), np.asarray(_target().covariance()))
    assert z_cov.max() > 20


@pytest.mark.slow  # the same sampler as the default forward-SDE test, time reversed
def test_backward_sde_returns_to_the_base(float64):
    marg = gen.PathMarginal(gen.Interpolant.linear("sqrt"), _target())
    x1 = _target().sample(N, key=jax.random.PRNGKey(2))
    xs = jax.jit(lambda x: gen.sample_sde(marg.drift, marg.score, x, key=jax.random.PRNGKey(3),
                                          diffusion=1.0, steps=STEPS, solver="heun",
                                          direction="backward").xs)(x1)
    z_mean, z_cov = _moment_errors(xs, np.zeros(2), np.eye(2))
    assert z_mean.max() < 5 and z_cov.max() < 5, (z_mean, z_cov)


@pytest.mark.slow  # diffrax's solvers; the samplers' plumbing is covered by default tests
def test_ode_adaptive_and_fixed_step_agree(float64):
    marg = gen.PathMarginal(gen.Interpolant.linear("sqrt"), _target())
    x0 = jax.random.normal(jax.random.PRNGKey(4), (64, 2), dtype=jnp.float64)
    ref = gen.sample_ode(marg.drift, x0, solver="tsit5", rtol=1e-10, atol=1e-10).xs
    heun = gen.sample_ode(marg.drift, x0, solver="heun", steps=STEPS).xs
    euler = gen.sample_ode(marg.drift, x0, solver="euler", steps=STEPS).xs
    err_h = float(jnp.max(jnp.abs(heun - ref)))
    err_e = float(jnp.max(jnp.abs(euler - ref)))
    assert err_h < 2e-3 and err_e > 20 * err_h, (err_h, err_e)


def test_ode_log_likelihood_matches_exact_density(float64):
    marg = gen.PathMarginal(gen.Interpolant.linear("zero"), _target())
    x1 = _target().sample(16, key=jax.random.PRNGKey(5))
    base = lambda x: -0.5 * x @ x - jnp.log(2 * jnp.pi)
    ll = jax.jit(lambda x: gen.log_likelihood(marg.drift, x, base, rtol=1e-9,
                                              atol=1e-9).log_prob)(x1)
    np.testing.assert_allclose(ll, _target().log_prob(x1), rtol=1e-6, atol=1e-6)
    # Hutchinson with 64 probes per point: unbiased, so the mean error over points is small
    llh = jax.jit(lambda x: gen.log_likelihood(marg.drift, x, base, probes=64,
                                               key=jax.random.PRNGKey(6), rtol=1e-7,
                                               atol=1e-7).log_prob)(x1)
    err = np.asarray(llh - _target().log_prob(x1))
    assert abs(err.mean()) < 4 * err.std() / np.sqrt(err.size) + 1e-6
    assert err.std() > 0  # the probes are random: not the exact trace


def test_hutchinson_divergence_is_unbiased(float64):
    w = jnp.asarray(np.random.default_rng(0).normal(size=(5, 5)))
    fn = lambda x: jnp.tanh(w @ x) + x**3
    x = jnp.asarray(np.random.default_rng(1).normal(size=5))
    exact = gen.divergence(fn, x)
    jac = np.asarray(jax.jacfwd(fn)(x))
    np.testing.assert_allclose(exact, np.trace(jac), rtol=1e-12)
    keys = jax.random.split(jax.random.PRNGKey(0), 4000)
    est = np.asarray(jax.jit(jax.vmap(lambda k: gen.divergence(fn, x, key=k, probes=1)))(keys))
    # Rademacher: Var = 2 Σ_{i≠j} J_ij² (J symmetrised)
    sym = 0.5 * (jac + jac.T)
    sd = np.sqrt(2 * (np.sum(sym**2) - np.sum(np.diag(sym) ** 2)))
    assert abs(est.mean() - float(exact)) < 4 * sd / np.sqrt(keys.shape[0])
    np.testing.assert_allclose(est.std(), sd, rtol=0.1)


# the PF-ODE by default; the reverse SDE and DDIM with `slow` (DDIM's exactness and the
# SDE sampler are covered by default tests of their own)
@pytest.mark.parametrize("method", ["ode", pytest.param("sde", marks=pytest.mark.slow),
                                    pytest.param("ddim", marks=pytest.mark.slow)])
def test_diffusion_samplers_with_the_analytic_score(float64, method):
    vp = gen.Diffusion.vp()
    marg = gen.PathMarginal(vp, _target())
    model = lambda t, x: -jnp.sqrt(vp.coefficients(t).gamma2) * marg.score(t, x)  # ε̂
    xT = jax.random.normal(jax.random.PRNGKey(7), (N, 2), dtype=jnp.float64)
    xs = jax.jit(lambda x: gen.sample_diffusion(model, vp, x, prediction="noise",
                                                method=method, key=jax.random.PRNGKey(8),
                                                steps=STEPS).xs)(xT)
    z_mean, z_cov = _moment_errors(xs, np.asarray(_target().mean()),
                                   np.asarray(_target().covariance()))
    assert z_mean.max() < 5 and z_cov.max() < 5, (z_mean, z_cov)


def test_ddim_is_exact_for_a_point_mass(float64):
    # data = δ_m: ε̂ is constant along the probability-flow trajectory, so one DDIM step is
    # the exact flow map x_T -> a(t_min) m + σ(t_min) ε.
    vp = gen.Diffusion.vp()
    m = jnp.array([1.0, -2.0])
    point = gen.PathMarginal(vp, gen.GaussianMixture(jnp.ones(1), m[None],
                                                     jnp.zeros((1, 2, 2))))
    model = lambda t, x: -jnp.sqrt(vp.coefficients(t).gamma2) * point.score(t, x)
    xT = jax.random.normal(jax.random.PRNGKey(9), (8, 2), dtype=jnp.float64)
    one = gen.ddim(model, vp, xT, steps=1).xs
    many = gen.ddim(model, vp, xT, steps=37).xs
    c = vp.coefficients(vp.t_min)
    cT = vp.coefficients(vp.T)
    exact = c.beta * m + jnp.sqrt(c.gamma2) * (xT - cT.beta * m) / jnp.sqrt(cT.gamma2)
    np.testing.assert_allclose(one, exact, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(many, exact, rtol=1e-10, atol=1e-12)


def test_sampler_arguments_are_checked(user_errors):
    f = lambda t, x: x
    z = jnp.zeros((2, 3))
    key = jax.random.PRNGKey(0)
    vp = gen.Diffusion.vp()
    with pytest.raises(ValueError, match=r"sample_ode: x0 must be of shape \(n, d\), got shape "
                                         r"\(3,\)"):
        gen.sample_ode(f, jnp.zeros(3))
    with pytest.raises(ValueError, match="sample_ode: steps must be a positive int, got 0"):
        gen.sample_ode(f, z, steps=0)
    with pytest.raises(TypeError, match=r"sample_ode: steps must be a positive int, got 2\.5"):
        gen.sample_ode(f, z, steps=2.5)
    with pytest.raises(ValueError, match="sample_ode: solver must be one of 'dopri5', 'euler'"):
        gen.sample_ode(f, z, solver="rk4")
    with pytest.raises(ValueError, match="sample_ode: rtol must be a positive finite number"):
        gen.sample_ode(f, z, solver="tsit5", rtol=0.0)
    with pytest.raises(ValueError, match="sample_ode: t1 must be different from t0"):
        gen.sample_ode(f, z, t0=1.0)
    with pytest.raises(TypeError, match="sample_ode: x0 must be a real array"):
        gen.sample_ode(f, z > 0)
    with pytest.raises(ValueError, match="sample_sde: diffusion must be a scalar >= 0"):
        gen.sample_sde(f, f, z, key=key, diffusion=-1.0)
    with pytest.raises(ValueError, match="sample_sde: direction must be one of"):
        gen.sample_sde(f, f, z, key=key, direction="up")
    with pytest.raises(TypeError, match="sample_sde: key must be a PRNG key"):
        gen.sample_sde(f, f, z, key=None)
    with pytest.raises(ValueError, match=r"sample_sde: t1 must be greater than t0 = 1\.0"):
        gen.sample_sde(f, f, z, key=key, t0=1.0, t1=0.0)
    with pytest.raises(TypeError, match="divergence: key must be a PRNG key"):
        gen.divergence(f, jnp.zeros(3), probes=2)
    with pytest.raises(ValueError, match=r"divergence: x must be one point of shape \(d,\)"):
        gen.divergence(f, z)
    with pytest.raises(TypeError, match="log_likelihood: key must be a PRNG key"):
        gen.log_likelihood(f, z, lambda x: 0.0, probes=2)
    with pytest.raises(TypeError, match="log_likelihood: base_log_prob must be a callable"):
        gen.log_likelihood(f, z, None)
    with pytest.raises(TypeError, match="ddim: diffusion must be a Diffusion, got a Interpolant"):
        gen.ddim(f, gen.Interpolant.linear(), z)
    with pytest.raises(ValueError, match="ddim: prediction must be one of"):
        gen.ddim(f, vp, z, prediction="eps")
    with pytest.raises(ValueError, match="sample_diffusion: method must be one of"):
        gen.sample_diffusion(f, vp, z, method="dpm")
    with pytest.raises(TypeError, match="sample_diffusion: key must be a PRNG key"):
        gen.sample_diffusion(f, vp, z, method="sde")


def test_diffusion_sampler_rejects_an_adaptive_sde_solver(user_errors):
    vp = gen.Diffusion.vp()
    with pytest.raises(ValueError, match="sample_diffusion: solver must be one of 'euler', "
                                         "'heun', got 'tsit5'"):
        gen.sample_diffusion(lambda t, x: x, vp, jnp.zeros((2, 2)), method="sde",
                             solver="tsit5", key=jax.random.PRNGKey(0))


def test_samplers_report_their_status_and_throw():
    # an adaptive solve with too few steps reports max_steps_reached; a non-finite sample is
    # RESULTS.nonfinite, raised with the status's message under throw=True (the default)
    f = lambda t, x: x
    x0 = jnp.ones((3, 2))
    short = jax.jit(lambda x, throw: gen.sample_ode(f, x, solver="tsit5", max_steps=2,
                                                    throw=throw), static_argnums=1)
    assert short(x0, False).status == RESULTS.max_steps_reached
    with pytest.raises(Exception, match="sample_ode: The maximum number of solver steps"):
        jax.block_until_ready(short(x0, True).xs)
    overflow = lambda t, x: x * jnp.inf
    with pytest.raises(Exception, match="sample_ode: Nonfinite"):
        jax.block_until_ready(jax.jit(lambda x: gen.sample_ode(overflow, x, solver="euler",
                                                               steps=2).xs)(x0))
    sde, ll, ddim = jax.jit(lambda x: (
        gen.sample_sde(overflow, f, x, key=jax.random.PRNGKey(0), steps=2, throw=False),
        gen.log_likelihood(overflow, x, lambda y: -0.5 * y @ y, solver="euler", steps=2,
                           throw=False),
        gen.ddim(overflow, gen.Diffusion.vp(), x, steps=2, throw=False)))(x0)
    assert sde.status == RESULTS.nonfinite and not bool(sde.converged)
    assert ll.status == RESULTS.nonfinite and ddim.status == RESULTS.nonfinite
    with pytest.raises(Exception, match="ddim: Nonfinite"):
        jax.block_until_ready(jax.jit(lambda x: gen.ddim(overflow, gen.Diffusion.vp(), x,
                                                         steps=2).xs)(x0))


def test_save_times_vmap_and_linear_flow(float64):
    # dx/dt = −x: x(t) = x0 e^{−t}, saved at the requested times (off any step grid: the
    # adaptive solve interpolates); the Tsit5 solve at 1e-10 against the closed form,
    # vmapped over two batches
    f = lambda t, x: -x
    x0 = jnp.asarray(np.random.default_rng(0).normal(size=(2, 5, 3)))
    times = jnp.array([0.0, 0.25, 1.0])
    out = jax.jit(jax.vmap(lambda x: gen.sample_ode(f, x, solver="tsit5", rtol=1e-10,
                                                    atol=1e-10, save_times=times)))(x0)
    assert out.trajectory.shape == (2, 3, 5, 3) and out.xs.shape == (2, 5, 3)
    expected = np.exp(-np.asarray(times))[None, :, None, None] * np.asarray(x0)[:, None]
    np.testing.assert_allclose(out.trajectory, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out.xs, expected[:, -1], rtol=1e-9)
    assert out.xs.dtype == jnp.float64 and bool(jnp.all(out.converged))
    assert np.all(np.asarray(out.num_steps) > 1)


def test_samplers_keep_float32_and_promote_integers(float64):
    # float32 points give float32 samples even with x64 on and a field computing in float64
    # (the dtypes are fixed at trace time: eval_shape traces without compiling); integer
    # points are promoted to the default float (float64 here): Euler on dx/dt = −x with 3
    # steps is exactly x0 (2/3)³
    wide = lambda t, x: -x * jnp.ones((), jnp.float64)
    key = jax.random.PRNGKey(0)
    out = jax.eval_shape(lambda x: (
        gen.sample_ode(wide, x, solver="euler", steps=2).xs,
        gen.sample_sde(wide, wide, x, key=key, steps=2).xs,
        gen.ddim(wide, gen.Diffusion.vp(), x, steps=2).xs,
        gen.sample_diffusion(wide, gen.Diffusion.vp(), x, steps=2).xs,
        gen.log_likelihood(wide, x, lambda y: -0.5 * y @ y, solver="euler", steps=2).log_prob,
    ), jnp.zeros((4, 2), jnp.float32))
    assert [o.dtype for o in out] == [jnp.float32] * 5
    ints = jax.jit(lambda y: gen.sample_ode(lambda t, z: -z, y, solver="euler", steps=3).xs)(
        jnp.arange(4).reshape(2, 2))
    assert ints.dtype == jnp.float64
    np.testing.assert_allclose(ints, np.arange(4).reshape(2, 2) * (2 / 3) ** 3, rtol=1e-14)
