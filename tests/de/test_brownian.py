"""GridBrownianPath: the law of its increments, and neural SDEs stepped on its grid against a
NumPy Euler–Maruyama loop on the same increments, with gradients against finite differences."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import de

from .test_models import _assert_gradient_matches_differences


def test_grid_increments_are_independent_gaussians(float64):
    n, steps = 4000, 8
    paths = jax.vmap(lambda k: de.GridBrownianPath(0.5, 2.5, steps, (1,), key=k))(
        jax.random.split(jax.random.key(0), n))
    grid = np.linspace(0.5, 2.5, steps + 1)
    inc = np.asarray(jax.vmap(lambda p: jax.vmap(lambda a, b: p.evaluate(a, b))(
        grid[:-1], grid[1:]))(paths))[..., 0]  # (n, steps)
    dt = 0.25
    cov = np.cov(inc.T)
    se = dt * np.sqrt(2 / n)
    assert np.all(np.abs(np.diag(cov) - dt) < 5 * se)
    assert np.all(np.abs(cov[~np.eye(steps, dtype=bool)]) < 5 * dt / np.sqrt(n))
    one = jax.tree.map(lambda x: x[0], paths)
    # W(t0) = 0; increments are differences of values; off-grid values interpolate linearly
    assert float(one.evaluate(0.5)[0]) == 0.0
    np.testing.assert_allclose(one.evaluate(1.0, 2.0), one.evaluate(2.0) - one.evaluate(1.0))
    np.testing.assert_allclose(one.evaluate(0.625), (one.evaluate(0.5) + one.evaluate(0.75)) / 2)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        de.GridBrownianPath(0.0, 1.0, 0, (1,), key=jax.random.key(0))


def test_neural_sde_on_the_grid_is_euler_maruyama(float64):
    model = de.NeuralSDE(2, noise="general", noise_size=3, interpretation="ito", width=8,
                         depth=1, grid_steps=20, key=jax.random.key(1))
    ts = jnp.linspace(0.0, 1.0, 5)
    y0 = jnp.array([0.3, -0.1])
    key = jax.random.key(2)
    out = eqx.filter_jit(lambda m: m(ts, y0, key=key))(model)
    w = np.asarray(de.GridBrownianPath(0.0, 1.0, 20, (3,), key=key).values)
    drift = jax.jit(lambda t, y: model.drift(t, y))
    sigma = jax.jit(lambda t, y: model.diffusion(t, y, None))
    y, saved = np.asarray(y0), [np.asarray(y0)]
    for k in range(20):
        t = k / 20
        y = y + 0.05 * np.asarray(drift(t, y)) + np.asarray(sigma(t, y)) @ (w[k + 1] - w[k])
        if k % 5 == 4:
            saved.append(y)
    np.testing.assert_allclose(out, np.stack(saved), rtol=1e-10, atol=1e-12)


def test_grid_gradients_match_finite_differences(float64):
    ts = jnp.linspace(0.0, 0.5, 6)
    # the default ReversibleHeun and RecursiveCheckpointAdjoint, stepping on the grid
    model = de.NeuralSDE(2, width=8, depth=1, grid_steps=50, key=jax.random.key(3))
    _assert_gradient_matches_differences(
        lambda m: jnp.sum(m(ts, jnp.array([0.2, -0.1]), key=jax.random.key(4)) ** 2), model,
        jax.random.key(5))
