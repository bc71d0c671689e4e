"""Snapshot pairs of flows (through systems.integrate) against closed forms, and uniform
samples of sublevel sets against their exact laws. The float64 flow_pairs checks (closed
form, an AbstractFlow) are in test_edmd.py, where they share one compiled solve with the
Duffing tests."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from jaxlab import RESULTS
from jaxlab import koopman as kp


def rotation(t, s):
    """x' = y, y' = −x: the flow map is the rotation by −t."""
    return jnp.stack([s[1], -s[0]])


def _rotated(x0, t):
    c, s = np.cos(t), np.sin(t)
    return np.stack([c * x0[:, 0] + s * x0[:, 1], -s * x0[:, 0] + c * x0[:, 1]], axis=1)


class Rotation(eqx.Module):
    """x' = ωy, y' = −ωx as an `eqx.Module`: ω is traced, so every ω shares one compiled
    solve (a plain function is checked under jit and vmap below)."""

    rate: jax.Array

    def __call__(self, t, s):
        return self.rate * jnp.stack([s[1], -s[0]])


def test_flow_pairs_float32_jit_and_vmap():
    x0 = np.array([[1.0, 0.0], [0.0, 2.0]], np.float32)
    pairs = kp.flow_pairs(Rotation(jnp.asarray(1.0)), x0, dt=0.5, steps=2, max_steps=64)
    assert pairs.x.dtype == jnp.float32 and pairs.y.dtype == jnp.float32
    assert pairs.status == RESULTS.successful and bool(pairs.converged)
    np.testing.assert_allclose(np.asarray(pairs.y[2:]), _rotated(x0, 1.0), atol=2e-5)
    # step-major: the second pairs start where the first ones end
    np.testing.assert_array_equal(np.asarray(pairs.x[2:]), np.asarray(pairs.y[:2]))
    # integer states are promoted to the default float (the same solve as x0's)
    ints = kp.flow_pairs(Rotation(jnp.asarray(1.0)), np.array([[1, 0], [0, 2]]), dt=0.5,
                         steps=2, max_steps=64)
    assert ints.x.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(ints.y), np.asarray(pairs.y))
    # a plain function, under jit and vmap (one state per batch element): the same pairs
    batched = eqx.filter_jit(jax.vmap(
        lambda s: kp.flow_pairs(rotation, s[None], dt=0.5, steps=2).y))(x0)   # (2, 2, 2)
    np.testing.assert_allclose(np.asarray(batched[:, 0]), np.asarray(pairs.y[:2]), atol=1e-6)
    np.testing.assert_allclose(np.asarray(batched[:, 1]), _rotated(x0, 1.0), atol=2e-5)


def test_flow_pairs_status_and_throw():
    """A fast rotation exhausts the step budget: reported with throw=False, raised with
    throw=True (the solve compiled for the test above, ω being traced)."""
    x0 = np.array([[1.0, 0.0], [0.0, 2.0]], np.float32)
    fast = Rotation(jnp.asarray(500.0))
    failed = kp.flow_pairs(fast, x0, dt=0.5, steps=2, max_steps=64, throw=False)
    assert failed.status == RESULTS.max_steps_reached and not bool(failed.converged)
    with pytest.raises(Exception, match=r"flow_pairs: .*max_steps"):
        jax.block_until_ready(kp.flow_pairs(fast, x0, dt=0.5, steps=2, max_steps=64).x)


def test_bad_flow_pairs_input_is_named(user_errors):
    x0 = np.zeros((3, 2))
    with pytest.raises(TypeError, match=r"flow_pairs: vector_field must be a callable"):
        kp.flow_pairs(3.0, x0, dt=0.1, steps=1)
    with pytest.raises(ValueError, match=r"flow_pairs: initial_states must be of shape \(n, "
                                         r"d\), got shape \(3,\)"):
        kp.flow_pairs(rotation, x0[:, 0], dt=0.1, steps=1)
    with pytest.raises(ValueError, match=r"flow_pairs: dt must be a positive finite number, "
                                         r"got -0.1"):
        kp.flow_pairs(rotation, x0, dt=-0.1, steps=1)
    with pytest.raises(TypeError, match=r"flow_pairs: steps must be a positive int, got 1.0"):
        kp.flow_pairs(rotation, x0, dt=0.1, steps=1.0)
    with pytest.raises(TypeError, match=r"flow_pairs: initial_states must be real"):
        kp.flow_pairs(rotation, x0 + 0j, dt=0.1, steps=1)


# ---------------------------------------------------------------------- sublevel sets


def _norm2(s):
    return jnp.sum(s**2)


def test_sublevel_samples_of_a_disc_are_uniform(float64):
    """The unit disc in [−1, 1]²: uniform points have |x|² ~ U(0, 1) and uniform angles
    (Kolmogorov–Smirnov against the exact laws), and the acceptance rate is π/4."""
    out = kp.sample_sublevel_set(_norm2, 1.0, 4000, low=[-1.0, -1.0], high=[1.0, 1.0],
                                 key=jax.random.key(0), batch_size=1000)
    pts = np.asarray(out.points)
    assert pts.shape == (4000, 2) and pts.dtype == np.float64 and bool(out.converged)
    r2 = (pts**2).sum(1)
    assert r2.max() <= 1.0
    assert scipy.stats.kstest(r2, "uniform").pvalue > 0.01
    angle = np.arctan2(pts[:, 1], pts[:, 0])
    assert scipy.stats.kstest(angle, "uniform", args=(-np.pi, 2 * np.pi)).pvalue > 0.01
    draws, accepted = int(out.num_draws), int(out.num_accepted)
    assert draws % 1000 == 0 and accepted >= 4000
    p = np.pi / 4
    assert abs(accepted / draws - p) < 4 * np.sqrt(p * (1 - p) / draws)
    # the same key gives the same points; the points keep the order they were drawn in
    again = kp.sample_sublevel_set(_norm2, 1.0, 4000, low=[-1.0, -1.0], high=[1.0, 1.0],
                                   key=jax.random.key(0), batch_size=1000)
    np.testing.assert_array_equal(np.asarray(again.points), pts)


def test_sublevel_samples_float32_jit_vmap_and_budget():
    low, high = np.full(2, -2.0, np.float32), np.full(2, 2.0, np.float32)
    out = kp.sample_sublevel_set(_norm2, 1.0, 50, low=low, high=high, key=jax.random.key(1))
    assert out.points.dtype == jnp.float32
    keys = jnp.stack([jax.random.key(1), jax.random.key(2)])
    batched = eqx.filter_jit(jax.vmap(lambda k: kp.sample_sublevel_set(
        _norm2, 1.0, 50, low=low, high=high, key=k).points))(keys)
    np.testing.assert_array_equal(np.asarray(batched[0]), np.asarray(out.points))
    assert batched.shape == (2, 50, 2) and float(jnp.max(jnp.sum(batched**2, -1))) <= 1.0
    assert not np.allclose(np.asarray(batched[0]), np.asarray(batched[1]))
    # A set too small for the budget: reported, NaN rows, or raised with throw=True.
    tiny = kp.sample_sublevel_set(_norm2, 1e-6, 50, low=low, high=high, key=jax.random.key(1),
                                  max_rounds=2, throw=False)
    assert tiny.status == RESULTS.not_converged and not bool(tiny.converged)
    assert int(tiny.num_draws) == 2 * (2 * 50 + 64) and np.isnan(np.asarray(tiny.points)).any()
    with pytest.raises(Exception, match=r"sample_sublevel_set: The iteration stopped"):
        jax.block_until_ready(kp.sample_sublevel_set(
            _norm2, 1e-6, 50, low=low, high=high, key=jax.random.key(1), max_rounds=2).points)


def test_bad_sublevel_input_is_named(user_errors):
    key = jax.random.key(0)
    with pytest.raises(TypeError, match=r"sample_sublevel_set: function must be a callable"):
        kp.sample_sublevel_set(1.0, 1.0, 5, low=[0.0], high=[1.0], key=key)
    with pytest.raises(ValueError, match=r"sample_sublevel_set: high must be greater than low "
                                         r"in every coordinate, got high = \[1.0, 0.0\]"):
        kp.sample_sublevel_set(_norm2, 1.0, 5, low=[0.0, 0.0], high=[1.0, 0.0], key=key)
    with pytest.raises(ValueError, match=r"sample_sublevel_set: high must be of shape \(2,\)"):
        kp.sample_sublevel_set(_norm2, 1.0, 5, low=[0.0, 0.0], high=[1.0], key=key)
    with pytest.raises(ValueError, match=r"sample_sublevel_set: n must be a positive int, got 0"):
        kp.sample_sublevel_set(_norm2, 1.0, 0, low=[0.0], high=[1.0], key=key)
    with pytest.raises(TypeError, match=r"sample_sublevel_set: key must be a PRNG key"):
        kp.sample_sublevel_set(_norm2, 1.0, 5, low=[0.0], high=[1.0], key=3)
