"""lyapunov_ensemble against one lyapunov_spectrum call per member."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import RESULTS
from jaxlab.parallel import data_mesh
from jaxlab.systems import Henon, Lorenz, MackeyGlass, lyapunov_ensemble, lyapunov_spectrum


def test_map_ensemble_equals_members(float64):
    y0s = jnp.array([[0.1, 0.1], [0.2, 0.0], [0.1, 0.2]], jnp.float64)
    batch = lyapunov_ensemble(Henon(), y0s, num_intervals=300, transient=50,
                              mesh=data_mesh(2))
    assert batch.exponents.shape == (3, 2) and batch.exponents.dtype == jnp.float64
    assert batch.running.shape == (3, 300, 2) and batch.converged.shape == (3,)
    for i, y0 in enumerate(y0s):
        one = lyapunov_spectrum(Henon(), y0, num_intervals=300, transient=50)
        np.testing.assert_allclose(np.asarray(batch.exponents[i]), np.asarray(one.exponents),
                                   rtol=1e-10)
        np.testing.assert_allclose(np.asarray(batch.final_state[i]),
                                   np.asarray(one.final_state), rtol=1e-10)
    assert bool(jnp.all(batch.converged))


_FLOW_Y0S = Lorenz().initial_state() + jnp.array([[0.0, 0.0, 0.0], [1.0, -1.0, 2.0]])
_FLOW_RUN = {"num_intervals": 20, "interval": 0.3, "transient": 1.0}


def test_flow_ensemble_trace_identity_float32():
    # the default-suite variant (one compilation): every member of the sharded flow ensemble
    # obeys the trace identity Σλ = −(σ + 1 + β) = −13.667, to float32 accuracy over 6 units
    batch = lyapunov_ensemble(Lorenz(), _FLOW_Y0S, **_FLOW_RUN)
    assert batch.exponents.dtype == jnp.float32 and batch.exponents.shape == (2, 3)
    np.testing.assert_allclose(np.asarray(batch.exponents.sum(axis=1)), -13.6667, atol=0.02)
    assert bool(jnp.all(batch.converged))


@pytest.mark.slow  # a second flow-spectrum compilation (the member function)
def test_flow_ensemble_equals_members_float32():
    # the configuration of test_lyapunov's float32 tests: short, non-chaotic-horizon runs
    batch = lyapunov_ensemble(Lorenz(), _FLOW_Y0S, **_FLOW_RUN)
    for i in range(2):
        one = lyapunov_spectrum(Lorenz(), _FLOW_Y0S[i], **_FLOW_RUN)
        np.testing.assert_allclose(np.asarray(batch.exponents[i]), np.asarray(one.exponents),
                                   rtol=1e-4, atol=1e-4)


def test_delay_ensemble_and_failures_are_reported(float64):
    y0s = jnp.array([[0.9], [1.1]], jnp.float64)
    kwargs = {"num_intervals": 5, "interval": 17.0, "transient": 0.0, "dt": 0.5}
    batch = lyapunov_ensemble(MackeyGlass(tau=17.0), y0s, **kwargs)
    one = lyapunov_spectrum(MackeyGlass(tau=17.0), y0s[1], **kwargs)
    np.testing.assert_allclose(np.asarray(batch.exponents[1]), np.asarray(one.exponents),
                               rtol=1e-10)
    # One member whose orbit overflows (the logistic-like blow-up of Hénon far from its
    # attractor): its status says so, the others converge; with throw it raises.
    y0s = jnp.array([[0.1, 0.1], [50.0, 50.0]], jnp.float64)
    failed = lyapunov_ensemble(Henon(), y0s, num_intervals=50, transient=0, throw=False)
    assert bool(failed.converged[0]) and not bool(failed.converged[1])
    np.testing.assert_array_equal(np.asarray(failed.status == RESULTS.nonfinite), [False, True])
    with pytest.raises(Exception, match="lyapunov_ensemble: Nonfinite"):
        lyapunov_ensemble(Henon(), y0s, num_intervals=50, transient=0)


def test_jit_inside_member_and_vmap_consistency(float64):
    # The ensemble is vmap of the member function: a jitted vmap of lyapunov_spectrum
    # gives the same numbers.
    y0s = jnp.array([[0.1, 0.1], [0.2, 0.0]], jnp.float64)
    batch = lyapunov_ensemble(Henon(), y0s, num_intervals=100, transient=10)
    vmapped = jax.jit(jax.vmap(lambda y: lyapunov_spectrum(Henon(), y, num_intervals=100,
                                                           transient=10).exponents))(y0s)
    np.testing.assert_allclose(np.asarray(batch.exponents), np.asarray(vmapped), rtol=1e-12)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (("Lorenz", jnp.zeros((2, 3))), {}, TypeError,
         "lyapunov_ensemble: system must be an AbstractFlow, AbstractMap or AbstractDelay"),
        ((Lorenz(), jnp.zeros(3)), {}, ValueError,
         r"y0s must be of shape \(b, 3\) with b ≥ 1 for Lorenz, got shape \(3,\)"),
        ((Lorenz(), jnp.zeros((2, 2))), {}, ValueError, r"got shape \(2, 2\)"),
        ((Lorenz(), jnp.zeros((2, 3))), {"mesh": "cpu"}, TypeError,
         "mesh must be a jax.sharding.Mesh, got a str"),
        ((Lorenz(), jnp.zeros((2, 3))), {"num_intervals": 0}, ValueError,
         "lyapunov_spectrum: num_intervals must be a positive int, got 0"),
    ],
)
def test_bad_input(args, kwargs, error, message, user_errors):
    with pytest.raises(error, match=message):
        lyapunov_ensemble(*args, **kwargs)
