"""The log Fokker–Planck residual vanishes for exact log-densities (OU with Gaussian data, the
paper's oracle; a VP diffusion of a Gaussian mixture) and not for wrong ones."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import generative as gen


def _ou_log_density(m, S, variance_error=0.0):
    # dX = −X dt + dW from N(m, S): X_t ~ N(m e^{−t}, S e^{−2t} + ½(1 − e^{−2t}) I)
    d = m.shape[0]

    def u(t, x):
        cov = S * jnp.exp(-2 * t) + (0.5 * (1 - jnp.exp(-2 * t)) + variance_error) * jnp.eye(d)
        diff = x - m * jnp.exp(-t)
        _, logdet = jnp.linalg.slogdet(cov)
        return -0.5 * diff @ jnp.linalg.solve(cov, diff) - 0.5 * logdet - 0.5 * d * jnp.log(
            2 * jnp.pi)

    return u


def _ou():
    return {"drift": lambda t, x: -x, "g2": lambda t: 1.0 + 0.0 * t}


def _points(n, d, seed):
    rng = np.random.default_rng(seed)
    return (jnp.asarray(rng.uniform(1e-3, 3.0, n)), jnp.asarray(rng.normal(size=(n, d)) * 1.5))


def test_residual_vanishes_for_the_ou_gaussian(float64):
    m = jnp.array([1.0, -0.5])
    S = jnp.array([[0.4, 0.1], [0.1, 0.2]])
    ts, xs = _points(64, 2, 0)

    @jax.jit
    def residuals(variance_error):
        u = _ou_log_density(m, S, variance_error)
        res = jax.vmap(lambda t, x: gen.fokker_planck_residual(u, t, x, **_ou()))(ts, xs)
        return res, gen.fokker_planck_loss(u, ts, xs, **_ou()), gen.fokker_planck_loss(
            u, ts, xs, weighting=lambda t: -0.5 * jnp.expm1(-2 * t), **_ou())

    res, loss, _ = residuals(0.0)
    assert np.max(np.abs(res)) < 1e-10 and float(loss) < 1e-20
    wrong, wrong_loss, weighted = residuals(0.05)
    assert np.max(np.abs(wrong)) > 1e-2
    np.testing.assert_allclose(wrong_loss, np.mean(np.asarray(wrong) ** 2), rtol=1e-12)
    lam = 0.5 * (1 - np.exp(-2 * np.asarray(ts)))
    np.testing.assert_allclose(weighted, np.mean(lam * np.asarray(wrong) ** 2), rtol=1e-12)


def test_hutchinson_residual_is_unbiased(float64):
    m, S = jnp.zeros(3), jnp.diag(jnp.array([0.3, 1.0, 2.0])) + 0.1
    u = _ou_log_density(m, S, variance_error=0.1)
    t, x = 0.4, jnp.array([0.3, -1.0, 0.8])
    keys = jax.random.split(jax.random.PRNGKey(0), 2000)
    exact, est = jax.jit(lambda ks: (
        gen.fokker_planck_residual(u, t, x, **_ou()),
        jax.vmap(lambda k: gen.fokker_planck_residual(u, t, x, probes=1, key=k, **_ou()))(ks)
    ))(keys)
    est = np.asarray(est)
    assert est.std() > 0
    assert abs(est.mean() - float(exact)) < 4 * est.std() / np.sqrt(est.size)


def test_residual_vanishes_for_a_vp_diffusion_of_a_mixture(float64):
    vp = gen.Diffusion.vp()
    target = gen.GaussianMixture(jnp.array([0.5, 0.5]), jnp.array([[-1.0, 0.0], [1.0, 1.0]]),
                                 jnp.array([0.2, 0.4]))
    marg = gen.PathMarginal(vp, target)
    ts, xs = _points(32, 2, 1)
    ts = 0.05 + ts / 3 * 0.9
    res = jax.jit(jax.vmap(lambda t, x: gen.diffusion_residual(marg.log_prob, vp, t, x)))(
        ts, xs)
    scale = jax.jit(jax.vmap(lambda t: vp.sde(t)[1]))(ts)  # g² sets the size of the terms
    assert np.max(np.abs(res) / scale) < 1e-9
    # the conservative score of the log-density is the mixture's score
    score = gen.score_of(marg.log_prob)
    np.testing.assert_allclose(score(0.3, xs[0]), marg.score(0.3, xs[0]), rtol=1e-10)


def test_fokker_planck_arguments_are_checked(user_errors):
    u = _ou_log_density(jnp.zeros(2), jnp.eye(2))
    x = jnp.zeros(2)
    with pytest.raises(ValueError, match=r"fokker_planck_residual: x must be one point of shape "
                                         r"\(d,\) \(vmap over points\), got shape \(3, 2\)"):
        gen.fokker_planck_residual(u, 0.5, jnp.zeros((3, 2)), **_ou())
    with pytest.raises(TypeError, match="fokker_planck_residual: key must be a PRNG key"):
        gen.fokker_planck_residual(u, 0.5, x, probes=2, **_ou())
    with pytest.raises(TypeError, match="fokker_planck_residual: drift must be a callable"):
        gen.fokker_planck_residual(u, 0.5, x, drift=None, g2=lambda t: t)
    with pytest.raises(ValueError, match=r"fokker_planck_loss: ts and xs must be of shapes "
                                         r"\(n,\) and \(n, d\), got \(4,\) and \(3, 2\)"):
        gen.fokker_planck_loss(u, jnp.ones(4), jnp.zeros((3, 2)), **_ou())
    with pytest.raises(TypeError, match="diffusion_residual: diffusion must be a Diffusion, "
                                        "got a Interpolant"):
        gen.diffusion_residual(u, gen.Interpolant.linear(), 0.5, x)
    with pytest.raises(TypeError, match="score_of: log_density must be a callable"):
        gen.score_of("u")
