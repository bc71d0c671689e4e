"""Paths, closed-form fields and target conversions against hand-written float64 formulas,
the continuity and probability-flow identities, and round trips."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import generative as gen

TARGETS = ("noise", "data", "score", "velocity")


def _gmm(d, key=0, dtype=jnp.float64):
    rng = np.random.default_rng(key)
    K = 3
    a = rng.normal(size=(K, d, d)) * 0.4
    covs = np.einsum("kij,klj->kil", a, a) + 0.2 * np.eye(d)
    w = rng.uniform(0.5, 1.5, K)
    return gen.GaussianMixture(jnp.asarray(w / w.sum(), dtype),
                               jnp.asarray(rng.normal(size=(K, d)) * 2, dtype),
                               jnp.asarray(covs, dtype))


INTERPOLANTS = {
    "linear-sqrt": lambda: gen.Interpolant.linear("sqrt"),
    "linear-quadratic": lambda: gen.Interpolant.linear("quadratic"),
    "trig-sin2": lambda: gen.Interpolant.trigonometric("sin2"),
    "vp-like": lambda: gen.Interpolant.vp_like(),
    "custom-gamma": lambda: gen.Interpolant(lambda t: (1 - t) ** 2, lambda t: t**2,
                                            lambda t: 0.3 * jnp.sin(jnp.pi * t)),
}


@pytest.mark.parametrize("name", sorted(INTERPOLANTS))
def test_interpolant_end_points(float64, name):
    interp = INTERPOLANTS[name]()
    x0, x1, z = (jnp.asarray(np.random.default_rng(i).normal(size=4)) for i in range(3))
    np.testing.assert_allclose(interp(0.0, x0, x1, z), x0, atol=1e-15)
    np.testing.assert_allclose(interp(1.0, x0, x1, z), x1, atol=1e-15)


def test_coefficient_derivatives_against_hand_written(float64):
    for t in [0.0, 0.13, 0.5, 0.91, 1.0]:
        c = gen.Interpolant.linear("sqrt").coefficients(t)
        np.testing.assert_allclose([c.alpha, c.beta, c.gamma2, c.dalpha, c.dbeta,
                                    c.gamma_dgamma],
                                   [1 - t, t, t * (1 - t), -1, 1, (1 - 2 * t) / 2], atol=1e-14)
        c = gen.Interpolant.trigonometric("quadratic").coefficients(t)
        np.testing.assert_allclose(
            [c.alpha, c.beta, c.gamma2, c.dalpha, c.dbeta, c.gamma_dgamma],
            [np.cos(np.pi * t / 2), np.sin(np.pi * t / 2), (t * (1 - t)) ** 2,
             -np.pi / 2 * np.sin(np.pi * t / 2), np.pi / 2 * np.cos(np.pi * t / 2),
             t * (1 - t) * (1 - 2 * t)], atol=1e-14)


def test_diffusion_coefficients_closed_form(float64):
    bmin, bmax = 0.1, 20.0
    vp, svp = gen.Diffusion.vp(bmin, bmax), gen.Diffusion.sub_vp(bmin, bmax)
    ve = gen.Diffusion.ve(0.01, 50.0)
    for t in [0.001, 0.2, 0.7, 1.0]:
        beta = bmin + t * (bmax - bmin)
        a = np.exp(-0.5 * (bmin * t + 0.5 * (bmax - bmin) * t**2))
        c = vp.coefficients(t)
        np.testing.assert_allclose([c.beta, c.gamma2], [a, 1 - a**2], rtol=1e-13)
        f, g2 = vp.sde(t)
        np.testing.assert_allclose([f, g2], [-beta / 2, beta], rtol=1e-12)
        f, g2 = svp.sde(t)
        np.testing.assert_allclose([f, g2], [-beta / 2, beta * (1 - a**4)], rtol=1e-12)
        sigma = 0.01 * (50 / 0.01) ** t
        f, g2 = ve.sde(t)
        np.testing.assert_allclose([ve.coefficients(t).gamma2, f, g2],
                                   [sigma**2, 0.0, 2 * sigma**2 * np.log(50 / 0.01)],
                                   rtol=1e-12, atol=1e-300)


def test_gaussian_to_gaussian_drift_and_score_closed_form(float64):
    # 1-D: x0 ~ N(m0, c0), x1 ~ N(m1, c1), linear interpolant with γ = √(t(1−t)):
    # x_t ~ N(μ, S), μ = (1−t)m0 + t m1, S = (1−t)²c0 + t²c1 + t(1−t); s = −(x−μ)/S and
    # b = μ̇ + ½ Ṡ/S (x − μ), written here in plain NumPy.
    m0, c0, m1, c1 = 0.3, 0.7, -1.2, 2.5
    target = gen.GaussianMixture(jnp.array([1.0]), jnp.array([[m1]]), jnp.array([[[c1]]]))
    base = gen.GaussianMixture(jnp.array([1.0]), jnp.array([[m0]]), jnp.array([[[c0]]]))
    marg = gen.PathMarginal(gen.Interpolant.linear("sqrt"), target, base)
    xs = np.linspace(-4, 4, 17)
    fields = jax.jit(jax.vmap(lambda t, x: (marg.score(t, x)[0], marg.drift(t, x)[0],
                                            marg.log_prob(t, x)), in_axes=(None, 0)))
    for t in [0.0, 0.01, 0.37, 0.5, 0.99, 1.0]:
        mu = (1 - t) * m0 + t * m1
        S = (1 - t) ** 2 * c0 + t**2 * c1 + t * (1 - t)
        dS = -2 * (1 - t) * c0 + 2 * t * c1 + 1 - 2 * t
        s_ref = -(xs - mu) / S
        b_ref = (m1 - m0) + 0.5 * dS / S * (xs - mu)
        logp_ref = -0.5 * (xs - mu) ** 2 / S - 0.5 * np.log(2 * np.pi * S)
        s, b, lp = fields(t, jnp.asarray(xs)[:, None])
        np.testing.assert_allclose(s, s_ref, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b, b_ref, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(lp, logp_ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["linear-sqrt", "trig-sin2", "custom-gamma"])
def test_mixture_fields_satisfy_continuity_equation(float64, name):
    # ∂_t log p + ∇·b + b·∇log p = 0 and s = ∇ log p, by autodiff of the log-density.
    # a mixture-to-mixture path (the base has 3 components too)
    marg = gen.PathMarginal(INTERPOLANTS[name](), _gmm(3), _gmm(3, key=11))
    pts = jnp.asarray(np.random.default_rng(5).normal(size=(6, 3)) * 2)

    @jax.jit
    def check(t, x):
        dlogp_dt = jax.grad(marg.log_prob, argnums=0)(t, x)
        grad_logp = jax.grad(marg.log_prob, argnums=1)(t, x)
        div_b = jnp.trace(jax.jacfwd(lambda y: marg.drift(t, y))(x))
        flux = marg.drift(t, x) @ grad_logp
        residual = dlogp_dt + div_b + flux
        scale = jnp.abs(dlogp_dt) + jnp.abs(div_b) + jnp.abs(flux)
        return residual, scale, grad_logp - marg.score(t, x), jnp.abs(grad_logp)

    ts = jnp.array([0.05, 0.4, 0.8, 0.97])
    residual, scale, score_err, score_size = jax.vmap(
        lambda t: jax.vmap(lambda x: check(t, x))(pts))(ts)
    assert np.all(np.abs(residual) <= 1e-10 * scale), np.max(np.abs(residual) / scale)
    assert np.all(np.abs(score_err) <= 1e-10 * score_size + 1e-12)


def test_drift_is_velocity_minus_gamma_gamma_dot_score(float64):
    interp = gen.Interpolant.linear("sqrt")
    marg = gen.PathMarginal(interp, _gmm(2))
    x = jnp.array([0.3, -0.8])

    @jax.jit
    @jax.vmap
    def check(t):
        b = gen.drift_from_velocity_and_score(marg.velocity(t, x), marg.score(t, x), t, interp)
        eta = -interp.gamma(t) * marg.score(t, x)
        return b, marg.drift(t, x), gen.score_from_denoiser(eta, t, interp), marg.score(t, x)

    b, drift, s, score = check(jnp.array([0.2, 0.6]))
    assert b.dtype == jnp.float64
    np.testing.assert_allclose(b, drift, rtol=1e-12)
    np.testing.assert_allclose(s, score, rtol=1e-12)


def test_drift_and_score_conversions_check_their_arguments(user_errors):
    x, interp = jnp.zeros(2), gen.Interpolant.linear("sqrt")
    with pytest.raises(TypeError, match="drift_from_velocity_and_score: interpolant must be an "
                                        "Interpolant, got a Diffusion"):
        gen.drift_from_velocity_and_score(x, x, 0.5, gen.Diffusion.vp())
    with pytest.raises(ValueError, match=r"drift_from_velocity_and_score: score must be of the "
                                         r"shape of velocity \(2,\), got shape \(3,\)"):
        gen.drift_from_velocity_and_score(x, jnp.zeros(3), 0.5, interp)
    with pytest.raises(TypeError, match="score_from_denoiser: interpolant must be an "):
        gen.score_from_denoiser(x, 0.5, "linear")


PATHS = {
    "vp": lambda: gen.Diffusion.vp(),
    "sub-vp": lambda: gen.Diffusion.sub_vp(),
    "ve": lambda: gen.Diffusion.ve(),
    "linear-sqrt": lambda: gen.Interpolant.linear("sqrt"),
    "trig": lambda: gen.Interpolant.trigonometric("quadratic"),
}


@pytest.mark.parametrize("name", sorted(PATHS))
def test_conversions_round_trip(float64, name):
    path = PATHS[name]()
    rng = np.random.default_rng(1)
    x, p = jnp.asarray(rng.normal(size=3)), jnp.asarray(rng.normal(size=3))
    for t in [0.05, 0.5, 0.9]:
        for source, target in itertools.permutations(TARGETS, 2):
            there = gen.convert(p, x, t, path, source=source, target=target)
            back = gen.convert(there, x, t, path, source=target, target=source)
            np.testing.assert_allclose(back, p, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", sorted(PATHS))
def test_conversions_agree_with_exact_fields(float64, name):
    # From the exact score of a mixture target with base N(0, I), the converted velocity is
    # the exact drift (for a diffusion also f x − ½ g² s), and noise/data are consistent.
    path = PATHS[name]()
    marg = gen.PathMarginal(path, _gmm(2, key=3))
    x = jnp.array([0.4, -1.1])
    for t in [0.1, 0.5, 0.8]:
        s = marg.score(t, x)
        v = gen.convert(s, x, t, path, source="score", target="velocity")
        np.testing.assert_allclose(v, marg.drift(t, x), rtol=1e-10, atol=1e-12)
        if isinstance(path, gen.Diffusion):
            f, g2 = path.sde(t)
            np.testing.assert_allclose(v, f * x - 0.5 * g2 * s, rtol=1e-10, atol=1e-12)


def test_diffusion_as_interpolant_time_change(float64):
    vp = gen.Diffusion.vp()
    interp = vp.as_interpolant()
    target = _gmm(2, key=7)
    m_d, m_i = gen.PathMarginal(vp, target), gen.PathMarginal(interp, target)
    span = vp.T - vp.t_min
    x = jnp.array([0.2, 0.5])
    for tau in [0.0, 0.3, 1.0]:
        t = vp.T - tau * span
        np.testing.assert_allclose(m_i.score(tau, x), m_d.score(t, x), rtol=1e-10)
        np.testing.assert_allclose(m_i.drift(tau, x), -span * m_d.drift(t, x), rtol=1e-10)


def test_bad_arguments_name_themselves(user_errors):
    with pytest.raises(ValueError, match="Interpolant: gamma must be one of 'quadratic', "
                                         "'sin2', 'sqrt', 'zero', got 'cubic'"):
        gen.Interpolant.linear("cubic")
    with pytest.raises(TypeError, match="Interpolant: alpha must be a callable t -> scalar"):
        gen.Interpolant(1.0, lambda t: t)
    with pytest.raises(ValueError, match="Interpolant: gamma_scale must be a non-negative"):
        gen.Interpolant.linear(gamma_scale=-1.0)
    with pytest.raises(ValueError, match="convert: source must be one of"):
        gen.convert(jnp.zeros(2), jnp.zeros(2), 0.5, gen.Diffusion.vp(), source="eps",
                    target="score")
    with pytest.raises(ValueError, match=r"convert: prediction must be of the shape of x "
                                         r"\(3,\), got shape \(2,\)"):
        gen.convert(jnp.zeros(2), jnp.zeros(3), 0.5, gen.Diffusion.vp(), source="noise",
                    target="score")
    with pytest.raises(ValueError, match=r"Diffusion\.vp: beta_min must be a positive finite "
                                         r"number, got -1\.0"):
        gen.Diffusion.vp(beta_min=-1.0)
    with pytest.raises(ValueError, match=r"Diffusion: t_min must be a finite number in "
                                         r"\[0.0, 1.0\), got 2.0"):
        gen.Diffusion.vp(t_min=2.0)
    with pytest.raises(TypeError, match="Diffusion: signal must be a callable"):
        gen.Diffusion("vp", lambda t: t)


def test_ou_diffusion_is_the_papers_process(float64):
    ou = gen.Diffusion.ou(t_min=1e-3, T=5.0)
    for t in [0.01, 0.5, 3.0]:
        c = ou.coefficients(t)
        np.testing.assert_allclose([c.beta, c.gamma2], [np.exp(-t), 0.5 * (1 - np.exp(-2 * t))],
                                   rtol=1e-13)
        np.testing.assert_allclose(ou.sde(t), [-1.0, 1.0], rtol=1e-12)
