"""SDE-GAN: the simultaneous descent–ascent objective (critic gradient as is, generator
gradient reversed), missing values shared by real and generated paths, weight clipping."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxlab import de


def _flat(tree):
    return np.concatenate([np.ravel(x) for x in jax.tree.leaves(eqx.filter(tree, eqx.is_array))])


@pytest.mark.slow  # ~60 s, compiling the SDE generator and CDE critic gradients twice
def test_sde_gan_gradients_are_descent_for_critic_and_ascent_for_generator(float64):
    model = de.SDEGAN(2, hidden_size=3, critic_hidden_size=3, width=4, depth=1,
                      initial_noise_size=2, noise_size=2, dt0=0.25, key=jax.random.key(0))
    ts = jnp.tile(jnp.linspace(0.0, 1.0, 5), (3, 1))
    xs = jax.random.normal(jax.random.key(1), (3, 5, 2)).at[1, 2, 0].set(jnp.nan)
    key = jax.random.key(2)

    def reference(m):
        # E D(fake) − E D(real) written out, without the gradient reversal; fake paths take
        # the real paths' NaN pattern
        keys = jax.random.split(key, 3)
        fake = jax.vmap(lambda t, k: m.generator(t, key=k))(ts, keys)
        fake = jnp.where(jnp.isnan(xs), jnp.nan, fake)

        def score(t, x):
            return m.critic(de.control_path(t, x, interpolation="linear",
                                            observation_counts=False))[0]

        return jnp.mean(jax.vmap(score)(ts, fake)) - jnp.mean(jax.vmap(score)(ts, xs))

    @eqx.filter_jit
    def run(m):
        (loss, aux), g = eqx.filter_value_and_grad(de.sde_gan_losses, has_aux=True)(
            m, (ts, xs), key=key)
        value, g_ref = eqx.filter_value_and_grad(reference)(m)
        return loss, aux, g, value, g_ref

    loss, aux, grads, value, ref = run(model)
    np.testing.assert_allclose(loss, value, rtol=1e-12)
    np.testing.assert_allclose(loss, aux["fake_score"] - aux["real_score"], rtol=1e-12)
    np.testing.assert_allclose(_flat(grads.critic), _flat(ref.critic), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(_flat(grads.generator), -_flat(ref.generator), rtol=1e-10,
                               atol=1e-14)
    assert np.all(np.isfinite(_flat(grads))) and np.any(_flat(grads.generator) != 0)


def test_clip_lipschitz_bounds_only_the_critic_weights(float64):
    model = de.SDEGAN(1, hidden_size=3, width=4, key=jax.random.key(3))
    params = eqx.filter(model, eqx.is_inexact_array)
    updates = jax.tree.map(lambda p: 5.0 * jnp.ones_like(p), params)
    plain = eqx.apply_updates(model, updates)
    optimizer = optax.chain(optax.identity(), de.clip_lipschitz())
    clipped_updates, _ = optimizer.update(updates, optimizer.init(params), params)
    clipped = eqx.apply_updates(model, clipped_updates)
    def linears(m):
        return [x for x in jax.tree.leaves(m.critic, is_leaf=lambda x: isinstance(
            x, eqx.nn.Linear)) if isinstance(x, eqx.nn.Linear)]

    assert len(linears(clipped)) == 4  # read-in, two field layers, readout
    for layer, unclipped in zip(linears(clipped), linears(plain), strict=True):
        assert np.all(unclipped.weight > 1 / layer.out_features)
        np.testing.assert_allclose(layer.weight, 1 / layer.out_features)
        np.testing.assert_array_equal(layer.bias, unclipped.bias)  # biases are not clipped
    np.testing.assert_array_equal(_flat(clipped.generator), _flat(plain.generator))
    with pytest.raises(TypeError, match=r"clip_lipschitz: params must be the parameters.*got "
                                        r"None"):
        de.clip_lipschitz().update(updates, optax.EmptyState())


def test_gan_bad_input(user_errors):
    with pytest.raises(TypeError, match="clip_lipschitz: select must be a callable, got 1"):
        de.clip_lipschitz(1)
    with pytest.raises(TypeError, match=r"SDEGenerator: hidden_size must be a positive int, "
                                        r"got 2.5"):
        de.SDEGenerator(1, 2.5, key=jax.random.key(0))
    with pytest.raises(TypeError, match="SDEGAN: key must be a PRNG key"):
        de.SDEGAN(1, key=0)
    # the batch and key are checked before the model is used (no model needed here)
    with pytest.raises(ValueError, match=r"sde_gan_losses: batch must be \(ts, xs\) of shapes "
                                         r"\(B, T\) and \(B, T, c\), got shapes \(2, 5\) and "
                                         r"\(2, 4, 1\)"):
        de.sde_gan_losses(None, (jnp.zeros((2, 5)), jnp.zeros((2, 4, 1))),
                          key=jax.random.key(1))
    with pytest.raises(TypeError, match="sde_gan_losses: key must be a PRNG key"):
        de.sde_gan_losses(None, (jnp.zeros((2, 4)), jnp.zeros((2, 4, 1))), key=None)
