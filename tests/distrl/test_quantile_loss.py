"""The quantile Huber loss of QR-DQN against a NumPy double loop, its minimiser, dtypes,
jit/vmap, and bad inputs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import distrl as D


def _loss_reference(pred, target, taus, kappa):
    """Dabney et al. (2018), eq. (10), written as plain loops in float64."""
    pred, target = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    out = np.zeros(pred.shape[:-1])
    for idx in np.ndindex(*pred.shape[:-1]):
        total = 0.0
        for i in range(pred.shape[-1]):
            for j in range(target.shape[-1]):
                u = target[(*idx, j)] - pred[(*idx, i)]
                if kappa == 0:
                    huber = abs(u)
                elif abs(u) <= kappa:
                    huber = 0.5 * u * u / kappa
                else:
                    huber = (abs(u) - 0.5 * kappa)
                total += abs(taus[i] - (1.0 if u < 0 else 0.0)) * huber / target.shape[-1]
        out[idx] = total
    return out


@pytest.mark.parametrize("kappa", [0.0, 0.5, 1.0, 3.0])
def test_quantile_huber_loss_matches_numpy_double_loop(float64, kappa):
    draws = 2 * jax.random.normal(jax.random.key(0), (3, 2, 12), jnp.float64)  # one compile
    pred, target = draws[..., :5], draws[..., 5:]
    taus = D.Quantiles.midpoints(5, jnp.float64)
    loss = D.quantile_huber_loss(pred, target, taus, kappa=kappa)
    assert loss.shape == (3, 2) and loss.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(loss), _loss_reference(pred, target, np.asarray(taus),
                                                                 kappa), rtol=1e-12)
    # jit and vmap give the same numbers
    jitted = jax.jit(lambda p, t: D.quantile_huber_loss(p, t, taus, kappa=kappa))(pred, target)
    mapped = jax.vmap(lambda p, t: D.quantile_huber_loss(p, t, taus, kappa=kappa))(pred, target)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(loss), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(mapped), np.asarray(loss), rtol=1e-12)


def test_quantile_huber_loss_float32_and_target_gets_no_gradient():
    pred = jnp.linspace(-1.0, 1.0, 4, dtype=jnp.float32)
    target = jnp.asarray([0.3, -2.0, 1.5], jnp.float32)
    taus = D.Quantiles.midpoints(4, jnp.float32)
    loss = D.quantile_huber_loss(pred, target, taus)
    assert loss.shape == () and loss.dtype == jnp.float32
    np.testing.assert_allclose(float(loss), _loss_reference(pred, target, np.asarray(taus),
                                                            1.0), rtol=1e-6)
    g = jax.grad(lambda t: D.quantile_huber_loss(pred, t, taus))(target)
    assert float(jnp.max(jnp.abs(g))) == 0.0


def test_quantile_loss_is_minimised_by_the_quantiles(float64):
    """κ = 0: the expected loss against a discrete law is minimised at its τ_i-quantiles."""
    values = jnp.asarray([-3.0, 1.0, 5.0], jnp.float64)
    probs = jnp.asarray([0.2, 0.3, 0.5], jnp.float64)
    samples = jnp.repeat(values, jnp.asarray([2, 3, 5]), total_repeat_length=10)  # exact law
    taus = D.Quantiles.midpoints(4, jnp.float64)                      # 0.125, .375, .625, .875
    best = D.quantile_projection(values, probs, 4)
    np.testing.assert_allclose(np.asarray(best), [-3.0, 1.0, 5.0, 5.0])
    base = float(D.quantile_huber_loss(best, samples, taus, kappa=0.0))
    for i in range(4):
        for step in (-0.5, 0.5):
            moved = best.at[i].add(step)
            assert float(D.quantile_huber_loss(moved, samples, taus, kappa=0.0)) > base + 1e-3


def test_quantile_huber_loss_bad_inputs(user_errors):
    with pytest.raises(ValueError, match=r"quantile_huber_loss: pred \(\*batch, Q\) and target "
                                         r"\(\*batch, P\) must be of the same batch shape, got "
                                         r"pred \(3, 4\) and target \(2, 4\)"):
        D.quantile_huber_loss(jnp.zeros((3, 4)), jnp.zeros((2, 4)), jnp.full(4, 0.5))
    with pytest.raises(ValueError, match=r"taus must be of shape \(Q,\) = \(4,\).*got shape "
                                         r"\(3,\)"):
        D.quantile_huber_loss(jnp.zeros((3, 4)), jnp.zeros((3, 2)), jnp.full(3, 0.5))
    with pytest.raises(ValueError, match=r"kappa must be a non-negative finite number, got -1.0"):
        D.quantile_huber_loss(jnp.zeros(4), jnp.zeros(2), jnp.full(4, 0.5), kappa=-1.0)
    with pytest.raises(TypeError, match="quantile_huber_loss: target must be a real array"):
        D.quantile_huber_loss(jnp.zeros(4), jnp.zeros(2, bool), jnp.full(4, 0.5))
    # integer targets are promoted (to the float of pred)
    loss = jax.jit(D.quantile_huber_loss)(jnp.zeros(4), jnp.asarray([1, -1]), jnp.full(4, 0.5))
    assert loss.dtype == jnp.zeros(4).dtype and float(loss) == pytest.approx(0.5 * 0.5 * 4)
