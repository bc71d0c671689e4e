"""Integration against SciPy's DOP853 and closed forms."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from jaxlab.systems import Henon, Lorenz, Rossler, integrate, iterate


def test_lorenz_matches_scipy_dop853(float64):
    # Two Lyapunov times (~2.2 time units): long enough to test, short enough that the
    # reference's own error (1e-12 tolerance) is not amplified past 1e-7.
    ts = np.linspace(0.0, 2.0, 201)
    y0 = np.array(Lorenz.default_ic)

    def rhs(t, y):
        return [10.0 * (y[1] - y[0]), y[0] * (28.0 - y[2]) - y[1], y[0] * y[1] - 8 / 3 * y[2]]

    ref = solve_ivp(rhs, (0.0, 2.0), y0, method="DOP853", t_eval=ts, rtol=1e-12, atol=1e-12)
    traj = integrate(Lorenz(), jnp.asarray(y0), jnp.asarray(ts), rtol=1e-12, atol=1e-12)
    assert traj.ys.dtype == jnp.float64
    assert bool(traj.converged)
    np.testing.assert_allclose(np.asarray(traj.ys), ref.y.T, rtol=1e-7, atol=1e-7)


def test_float32_rossler_close_to_float64(float64):
    ts = jnp.linspace(0.0, 10.0, 51)
    y64 = integrate(Rossler(), Rossler().initial_state(jnp.float64), ts).ys
    y32 = integrate(Rossler(), Rossler().initial_state(jnp.float32), ts.astype(jnp.float32)).ys
    assert y32.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(y32), np.asarray(y64), rtol=1e-3, atol=1e-3)


def test_vmap_over_initial_conditions_and_parameters():
    ts = jnp.linspace(0.0, 1.0, 11)
    y0s = Lorenz().initial_state() + jnp.arange(4.0)[:, None]
    batched = jax.vmap(lambda y0: integrate(Lorenz(), y0, ts).ys)(y0s)
    single = integrate(Lorenz(), y0s[2], ts).ys
    np.testing.assert_allclose(batched[2], single, rtol=1e-5, atol=1e-5)
    rhos = jnp.array([20.0, 28.0])
    ys = jax.vmap(lambda rho: integrate(Lorenz(rho=rho), y0s[0], ts).ys)(rhos)
    assert ys.shape == (2, 11, 3)


def test_gradient_against_finite_differences(float64):
    ts = jnp.linspace(0.0, 0.5, 6)

    def final_x(rho):
        return integrate(Lorenz(rho=rho), Lorenz().initial_state(), ts, solver=diffrax.Tsit5(),
                         rtol=1e-11, atol=1e-11).ys[-1, 0]

    rho = jnp.asarray(28.0)  # an array: a Python float is static, each value a new compile
    g = jax.grad(final_x)(rho)
    fd = (final_x(rho + 1e-5) - final_x(rho - 1e-5)) / 2e-5
    np.testing.assert_allclose(float(g), float(fd), rtol=1e-5)


def test_failure_reported_not_silent():
    ts = jnp.linspace(0.0, 5.0, 3)
    traj = integrate(Lorenz(), Lorenz().initial_state(), ts, max_steps=3, throw=False)
    assert not bool(traj.converged)
    assert not np.all(np.isfinite(np.asarray(traj.ys)))
    with pytest.raises(Exception, match="max_steps"):
        integrate(Lorenz(), Lorenz().initial_state(), ts, max_steps=3)


def test_iterate_henon_matches_loop():
    orbit = iterate(Henon(), jnp.array([0.1, 0.1]), 5)
    x = np.array([0.1, 0.1], np.float32)
    ref = [x]
    for _ in range(5):
        x = np.array([1 - 1.4 * x[0] ** 2 + x[1], 0.3 * x[0]], np.float32)
        ref.append(x)
    np.testing.assert_allclose(np.asarray(orbit), np.stack(ref), rtol=1e-6)


def test_bad_inputs(user_errors):
    with pytest.raises(ValueError, match=r"y0 must have shape \(3,\) for Lorenz, got shape \(4,\)"):
        integrate(Lorenz(), jnp.zeros(4), jnp.linspace(0, 1, 3))
    with pytest.raises(ValueError, match=r"ts must be a 1-D array of at least 2 times"):
        integrate(Lorenz(), jnp.zeros(3), jnp.array([0.0]))
    with pytest.raises(ValueError, match="strictly increasing"):
        integrate(Lorenz(), jnp.zeros(3), jnp.array([0.0, 2.0, 1.0]))
    with pytest.raises(TypeError, match="maps use iterate"):
        integrate(Henon(), jnp.zeros(2), jnp.linspace(0, 1, 3))
    with pytest.raises(TypeError, match="flows use integrate"):
        iterate(Lorenz(), jnp.zeros(3), 3)
    with pytest.raises(ValueError, match="n must be a non-negative int, got -1"):
        iterate(Henon(), jnp.zeros(2), -1)


def test_compiles_once_per_shape(caplog):
    ts = jnp.linspace(0.0, 1.0, 5)
    y_a, y_b = Lorenz().initial_state(), Lorenz().initial_state() + 1.0
    h_a, h_b = jnp.array([0.1, 0.1]), jnp.array([0.2, 0.0])
    integrate(Lorenz(), y_a, ts)
    iterate(Henon(), h_a, 10)
    with jax.log_compiles(), caplog.at_level("WARNING", logger="jax"):
        integrate(Lorenz(), y_b, ts)
        iterate(Henon(), h_b, 10)
    ours = [r for r in caplog.records if "_integrate" in r.getMessage()
            or "_iterate" in r.getMessage()]
    assert not ours
