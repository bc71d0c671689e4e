"""LatentSDE: the path KL against Girsanov's closed form for an OU posterior, the ELBO's parts
against independent formulas, missing data, gradients by every adjoint, input errors."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from jaxlab import de

from .test_models import _assert_gradient_matches_differences, _assert_same_gradient


class _OU(eqx.Module):
    theta: float = eqx.field(static=True)

    def __call__(self, t, z, context):
        return -self.theta * z


class _Zero(eqx.Module):
    def __call__(self, t, z):
        return jnp.zeros_like(z)


class _Constant(eqx.Module):
    sigma: float = eqx.field(static=True)

    def __call__(self, t, z):
        return jnp.full_like(z, self.sigma)


def test_path_kl_matches_girsanov_for_an_ou_posterior(float64):
    # Posterior dz = −θz dt + σ dW, prior dz = σ dW, z₀ = 1: u = −θz/σ and
    # KL = θ²/(2σ²) ∫₀ᵀ E z_t² dt, E z_t² = z₀²e^{−2θt} + σ²(1 − e^{−2θt})/(2θ).
    theta, sigma, z0, horizon, n = 1.0, 0.5, 1.0, 1.0, 2000
    model = de.LatentSDE(1, 1, dt0=0.01, posterior_drift=_OU(theta), prior_drift=_Zero(),
                         diffusion=_Constant(sigma), key=jax.random.key(0))
    ts = jnp.linspace(0.0, horizon, 5)
    context = jnp.zeros((5, model.context_size))
    run = eqx.filter_jit(jax.vmap(lambda k: model.solve_posterior(ts, jnp.array([z0]), context,
                                                                  key=k)))
    posterior = run(jax.random.split(jax.random.key(1), n))
    assert isinstance(posterior, de.LatentPosterior) and bool(jnp.all(posterior.converged))
    assert posterior.zs.shape == (n, 5, 1) and posterior.kl.shape == (n, 5)
    a = (1 - np.exp(-2 * theta * horizon)) / (2 * theta)
    exact_kl = theta**2 / (2 * sigma**2) * (z0**2 * a + sigma**2 / (2 * theta) * (horizon - a))
    kl = np.asarray(posterior.kl[:, -1])
    assert abs(kl.mean() - exact_kl) < 4 * kl.std() / np.sqrt(n) + 0.01 * exact_kl
    # the latent path is the OU process: mean z₀e^{−θt}, variance σ²(1 − e^{−2θt})/(2θ)
    t = np.asarray(ts)
    z = np.asarray(posterior.zs[:, :, 0])
    var = sigma**2 * (1 - np.exp(-2 * theta * t)) / (2 * theta)
    assert np.all(np.abs(z.mean(0) - z0 * np.exp(-theta * t)) < 4 * np.sqrt(var / n) + 1e-3)
    assert np.all(np.abs(z.var(0)[1:] / var[1:] - 1) < 4 * np.sqrt(2 / n) + 0.02)


def test_elbo_parts_and_missing_values(float64):
    model = de.LatentSDE(2, 3, context_size=4, width=8, depth=1, noise_std=0.3, dt0=0.05,
                         key=jax.random.key(2))
    ts = jnp.linspace(0.0, 1.0, 6)
    xs = jnp.stack([jnp.sin(3 * ts), jnp.cos(2 * ts)], 1)
    xs_nan = xs.at[2, 0].set(jnp.nan).at[4, 1].set(jnp.nan)
    key = jax.random.key(3)
    observed = np.isfinite(np.asarray(xs_nan))
    mask = jnp.asarray(observed)

    @eqx.filter_jit
    def run(m):
        # one compilation: the ELBO with NaNs, with a mask instead, with a junk value in a
        # missing entry, its gradient in the data, and the pieces for the reference below
        value, parts = m.elbo(ts, xs_nan, key=key)
        with_mask = m.elbo(ts, xs, key=key, mask=mask)[0]
        junk = m.elbo(ts, xs.at[2, 0].set(1e6), key=key, mask=mask)[0]
        return value, parts, with_mask, junk, m.encode(ts, xs_nan)

    value, parts, with_mask, junk, context = run(model)
    # independent formulas, on separately compiled pieces: the Gaussian log-density over the
    # observed entries (scipy) and the KL of two diagonal Gaussians
    mean, logstd = np.split(np.asarray(model.to_z0(context[0])), 2)
    std = np.exp(logstd)
    k0, kb = jax.random.split(key)
    z0 = mean + std * np.asarray(jax.random.normal(k0, mean.shape))
    posterior = eqx.filter_jit(lambda m: m.solve_posterior(ts, z0, context, key=kb))(model)
    predicted = np.asarray(jax.vmap(model.decoder)(posterior.zs))
    log_lik = scipy.stats.norm.logpdf(np.asarray(xs_nan)[observed], predicted[observed], 0.3)
    np.testing.assert_allclose(parts["log_likelihood"], log_lik.sum(), rtol=1e-10)
    np.testing.assert_allclose(parts["kl_z0"], np.sum(-logstd + (std**2 + mean**2) / 2 - 0.5),
                               rtol=1e-10)
    np.testing.assert_allclose(parts["kl_path"], posterior.kl[-1], rtol=1e-10)
    np.testing.assert_allclose(value, parts["log_likelihood"] - parts["kl_z0"]
                               - parts["kl_path"], rtol=1e-12)
    assert parts["kl_path"] > 0 and parts["kl_z0"] > 0
    # NaN = missing = mask False; the value in a missing entry does not matter
    np.testing.assert_allclose(with_mask, value, rtol=1e-12)
    np.testing.assert_allclose(junk, value, rtol=1e-12)


@pytest.mark.slow  # three more ELBO programs (~30 s)
def test_missing_data_gradient_loss_for_fit_and_prior_samples(float64):
    model = de.LatentSDE(2, 3, context_size=4, width=8, depth=1, noise_std=0.3, dt0=0.05,
                         key=jax.random.key(2))
    ts = jnp.linspace(0.0, 1.0, 6)
    xs = jnp.stack([jnp.sin(3 * ts), jnp.cos(2 * ts)], 1)
    mask = jnp.ones((6, 2), bool).at[2, 0].set(False).at[4, 1].set(False)
    key = jax.random.key(3)

    @eqx.filter_jit
    def run(m):
        grad_x = jax.grad(lambda x: m.elbo(ts, x, key=key, mask=mask)[0])(xs)
        batch = (jnp.stack([ts, ts]), jnp.stack([jnp.where(mask, xs, jnp.nan), xs]))
        keys = jax.random.split(key, 2)
        elbos = jax.vmap(lambda t, x, k: m.elbo(t, x, key=k)[0])(*batch, keys)
        return grad_x, de.latent_sde_loss(m, batch, key=key)[0], elbos, m.sample(ts, key=key)

    grad_x, loss, elbos, prior = run(model)
    sample = prior.ys
    assert isinstance(prior, de.DESolution) and bool(prior.converged)
    # a missing entry gets no gradient; every observed one does
    assert np.all(np.isfinite(grad_x))
    assert grad_x[2, 0] == 0 and grad_x[4, 1] == 0 and np.all(grad_x[mask] != 0)
    # the loss for fit: the negative ELBO per observed entry (10 + 12 of them)
    np.testing.assert_allclose(loss, -np.sum(elbos) / 22, rtol=1e-10)
    assert sample.shape == (6, 2) and np.all(np.isfinite(sample))


@pytest.mark.slow  # four ELBO gradients compiled twice each (~1 min)
def test_elbo_gradients_every_adjoint(float64):
    # Fixed key: the same z₀ draw and Brownian path in every evaluation.
    ts = jnp.linspace(0.0, 0.4, 5)
    xs = jnp.stack([jnp.sin(3 * ts), jnp.nan * ts.at[1].set(0.0)], 1)  # one entry observed
    key = jax.random.key(5)
    configs = {"recursive": (None, diffrax.RecursiveCheckpointAdjoint()),
               "direct": (None, diffrax.DirectAdjoint()),
               "heun": (diffrax.Heun(), diffrax.RecursiveCheckpointAdjoint()),
               "backsolve": (diffrax.Heun(), diffrax.BacksolveAdjoint())}
    grads = {}
    for name, (solver, adj) in configs.items():
        model = de.LatentSDE(2, 2, context_size=3, width=6, depth=1, dt0=1e-3, solver=solver,
                             adjoint=adj, key=jax.random.key(6))
        grads[name] = _assert_gradient_matches_differences(
            lambda m: m.elbo(ts, xs, key=key)[0], model, jax.random.key(7))
    # both differentiate the same discretisation exactly: equal up to float64 rounding,
    # accumulated over 400 steps (measured 1.2e-9)
    _assert_same_gradient(grads["recursive"], grads["direct"], 1e-8)
    _assert_same_gradient(grads["heun"], grads["backsolve"], 1e-4)


def test_latent_sde_bad_input(user_errors):
    model = de.LatentSDE(2, 3, key=jax.random.key(0))
    ts = jnp.linspace(0.0, 1.0, 4)
    with pytest.raises(ValueError, match=r"xs must be of shape \(T, data_size\) = \(4, 2\).*"
                                         r"got shape \(4, 3\)"):
        model.elbo(ts, jnp.zeros((4, 3)), key=jax.random.key(1))
    with pytest.raises(ValueError, match=r"mask must be of the shape of xs.*got shape \(4,\)"):
        model.elbo(ts, jnp.zeros((4, 2)), key=jax.random.key(1), mask=jnp.ones((4,), bool))
    with pytest.raises(TypeError, match="LatentSDE: xs must be real"):
        model.elbo(ts, jnp.zeros((4, 2), jnp.complex64), key=jax.random.key(1))
    with pytest.raises(ValueError, match=r"z0 must be of shape \(3,\), got shape \(2,\)"):
        model.solve_posterior(ts, jnp.zeros(2), jnp.zeros((4, 16)), key=jax.random.key(1))
    with pytest.raises(ValueError, match=r"context must be of shape \(T, context\) with T = 4, "
                                         r"got shape \(3, 16\)"):
        model.solve_posterior(ts, jnp.zeros(3), jnp.zeros((3, 16)), key=jax.random.key(1))
    with pytest.raises(TypeError, match="LatentSDE: key must be a PRNG key"):
        model.sample(ts, key=1)
    with pytest.raises(ValueError, match=r"noise_std must be a positive finite number, got 0.0"):
        de.LatentSDE(2, 3, noise_std=0.0, key=jax.random.key(0))
    with pytest.raises(ValueError, match="latent_size must be a positive int, got 0"):
        de.LatentSDE(2, 0, key=jax.random.key(0))
    with pytest.raises(TypeError, match=r"context_size must be a positive int, got 2.5"):
        de.LatentSDE(2, 3, context_size=2.5, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"LatentSDE: solver must be .*got Euler\(\) \(Euler "
                                         r"converges to the Itô"):
        de.LatentSDE(2, 3, solver=diffrax.Euler(), key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"latent_sde_loss: batch must be \(ts, xs\) of shapes"):
        de.latent_sde_loss(model, (jnp.zeros((2, 4)), jnp.zeros((3, 4, 2))),
                           key=jax.random.key(1))
