"""sharded_map: the 8-device result equals the single-device and plain vmap results."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.parallel import data_mesh, device_count, initialize_multihost, sharded_map


def _decay_then_orbit(item):
    """An adaptive diffrax solve whose step count depends on the item."""
    y0, rate = item["y0"], item["rate"]
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, a: jnp.stack([-a * y[0], y[0] - y[1]])),
        diffrax.Tsit5(), 0.0, 2.0, 0.01, y0, args=rate,
        stepsize_controller=diffrax.PIDController(rtol=1e-7, atol=1e-9))
    return sol.ys[-1], sol.stats["num_steps"]


def test_eight_devices_equal_one_device():
    assert device_count() == 8  # set by tests/conftest.py
    n = 13  # not a multiple of 8: exercises the padding
    batch = {"y0": jnp.stack([jnp.linspace(1.0, 2.0, n), jnp.zeros(n)], axis=1),
             "rate": jnp.linspace(0.5, 20.0, n)}
    eight, steps8 = sharded_map(_decay_then_orbit, batch, mesh=data_mesh(8))
    # One device: the plain vmap (every item's adaptive solve, and its step count, is the
    # same whether its loop runs alone on a device or in lock-step with the batch).
    one, steps1 = jax.vmap(_decay_then_orbit)(batch)
    assert eight.shape == (n, 2)
    np.testing.assert_allclose(eight, one, rtol=1e-6)
    np.testing.assert_array_equal(steps8, steps1)
    # closed form of the first component: y0 * exp(-rate * 2)
    np.testing.assert_allclose(eight[:, 0], batch["y0"][:, 0] * jnp.exp(-2 * batch["rate"]),
                               rtol=1e-4, atol=1e-7)


def test_float64_and_default_mesh(float64):
    x = jnp.linspace(0.0, 1.0, 16, dtype=jnp.float64)
    out = sharded_map(lambda v: jnp.sin(v) ** 2, x)
    assert out.dtype == jnp.float64
    np.testing.assert_allclose(out, np.sin(np.asarray(x)) ** 2, rtol=1e-15)


def test_output_is_sharded_across_devices():
    out = sharded_map(lambda v: v * 2.0, jnp.arange(16.0), mesh=data_mesh(8))
    assert len(out.sharding.device_set) == 8
    # a one-device mesh, with a batch that needs no padding there but would on 8 devices
    one = sharded_map(lambda v: v * 2.0, jnp.arange(13.0), mesh=data_mesh(1))
    assert len(one.sharding.device_set) == 1
    np.testing.assert_array_equal(one, 2.0 * np.arange(13.0))


def test_compiles_once_for_repeated_calls():
    calls = []

    def fn(v):
        calls.append(1)  # runs at trace time only
        return v + 1.0

    for _ in range(3):
        sharded_map(fn, jnp.arange(8.0), mesh=data_mesh(8))
    assert len(calls) == 1


def test_bad_inputs(user_errors):
    with pytest.raises(ValueError, match=r"share the leading batch size, got sizes \[3, 4\]"):
        sharded_map(lambda x: x, {"a": jnp.zeros(3), "b": jnp.zeros(4)})
    with pytest.raises(ValueError, match="needs a leading batch axis, got a scalar leaf"):
        sharded_map(lambda x: x, jnp.float32(1.0))
    with pytest.raises(ValueError, match=r"sharded_map: axis_name must be an axis of the mesh, "
                                         r"one of \('data',\), got 'model'"):
        sharded_map(lambda x: x, jnp.zeros(8), axis_name="model")
    with pytest.raises(TypeError, match=r"sharded_map: fn must be a callable, got 3"):
        sharded_map(3, jnp.zeros(8))
    with pytest.raises(TypeError, match=r"sharded_map: mesh must be a jax.sharding.Mesh or "
                                        r"None, got a str"):
        sharded_map(lambda x: x, jnp.zeros(8), mesh="data")
    with pytest.raises(ValueError, match=r"data_mesh: num_devices must be an int in 1..8, "
                                         r"got 9"):
        data_mesh(9)
    with pytest.raises(TypeError, match=r"data_mesh: num_devices must be an int in 1..8, "
                                        r"got 2.0"):
        data_mesh(2.0)
    with pytest.raises(ValueError, match=r"data_mesh: axis_name must be a non-empty string, "
                                         r"got ''"):
        data_mesh(axis_name="")
    with pytest.raises(ValueError, match="give all of coordinator_address, num_processes"):
        initialize_multihost("localhost:1234")
