"""Integration against SciPy's DOP853 and closed forms."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from jaxlab import RESULTS
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
    assert traj.status == RESULTS.max_steps_reached  # diffrax's reason, promoted
    assert not np.all(np.isfinite(np.asarray(traj.ys)))
    with pytest.raises(Exception, match="integrate: The maximum number of solver steps"):
        integrate(Lorenz(), Lorenz().initial_state(), ts, max_steps=3)


def test_fixed_step_overflow_is_nonfinite():
    # diffrax does not check a constant-step solve: the state's overflow is the status.
    ts = jnp.linspace(0.0, 10.0, 3)
    traj = integrate(_blowup, jnp.ones(1), ts, solver=diffrax.Euler(), dt0=0.1, throw=False)
    assert traj.status == RESULTS.nonfinite
    with pytest.raises(Exception, match="integrate: Nonfinite"):
        integrate(_blowup, jnp.ones(1), ts, solver=diffrax.Euler(), dt0=0.1)


def _blowup(t, y):
    return y**3 * 1e3


def _rotation(t, y):
    # y' = A y, A = [[−1/2, 2], [−2, −1/2]]: y(t) = e^{−t/2} R(−2t) y0.
    return jnp.stack([-0.5 * y[0] + 2.0 * y[1], -2.0 * y[0] - 0.5 * y[1]])


def _growth(t, y):
    return t * y  # y(t) = y0 exp(t²/2): a non-autonomous field


def test_plain_vector_field_against_closed_forms(float64):
    ts = np.linspace(0.0, 3.0, 13)
    traj = integrate(_rotation, jnp.array([1.0, 0.0]), ts)
    assert traj.ys.dtype == jnp.float64 and bool(traj.converged)
    exact = np.exp(-ts / 2)[:, None] * np.stack([np.cos(2 * ts), -np.sin(2 * ts)], axis=1)
    # the float64 defaults, Dopri8 at rtol 1e-10 / atol 1e-12 per step: the global error
    # over a few dozen steps stays within a hundred local tolerances
    np.testing.assert_allclose(np.asarray(traj.ys), exact, rtol=0, atol=1e-8)
    # non-autonomous, adaptive and tight: y' = t·y, y(0) = 2 gives 2·exp(t²/2)
    grow = integrate(_growth, jnp.array([2.0]), ts, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(grow.ys[:, 0]), 2.0 * np.exp(ts**2 / 2), rtol=1e-9)
    # a non-autonomous field with a fixed-step solver and dt0: Euler's global error on
    # y' = t·y, y(1) = e^{1/2}, is first order in the step (and would not be, were t not
    # passed through)
    errors = [abs(float(integrate(_growth, jnp.array([1.0]), jnp.array([0.0, 1.0]),
                                  solver=diffrax.Euler(), dt0=h).ys[-1, 0]) - np.exp(0.5))
              for h in (1 / 64, 1 / 128)]
    assert abs(np.log2(errors[0] / errors[1]) - 1) < 0.1, errors


def test_plain_vector_field_float32_jit_and_vmap():
    ts = jnp.linspace(0.0, 1.0, 5)
    y0s = jnp.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    batched = jax.jit(jax.vmap(lambda y0: integrate(_rotation, y0, ts).ys))(y0s)
    assert batched.dtype == jnp.float32 and batched.shape == (3, 5, 2)
    # linear: the third solution is the sum of the first two
    np.testing.assert_allclose(batched[2], batched[0] + batched[1], rtol=1e-5, atol=1e-5)
    # an integer y0 is promoted to the default float (traced only: nothing to compile)
    promoted = jax.eval_shape(lambda: integrate(_rotation, jnp.array([1, 0]), ts))
    assert promoted.ys.dtype == jnp.float32


def test_iterate_henon_matches_loop():
    orbit = iterate(Henon(), jnp.array([0.1, 0.1]), 5)
    x = np.array([0.1, 0.1], np.float32)
    ref = [x]
    for _ in range(5):
        x = np.array([1 - 1.4 * x[0] ** 2 + x[1], 0.3 * x[0]], np.float32)
        ref.append(x)
    np.testing.assert_allclose(np.asarray(orbit), np.stack(ref), rtol=1e-6)


def test_bad_inputs(user_errors):
    with pytest.raises(ValueError, match=r"integrate: y0 must be of shape \(3,\) for Lorenz, "
                                         r"got shape \(4,\)"):
        integrate(Lorenz(), jnp.zeros(4), jnp.linspace(0, 1, 3))
    with pytest.raises(ValueError, match=r"ts must be a 1-D array of at least 2 times, got "
                                         r"shape \(1,\)"):
        integrate(Lorenz(), jnp.zeros(3), jnp.array([0.0]))
    with pytest.raises(ValueError, match=r"ts must be strictly increasing, got ts\[1\] = 2.0 "
                                         r"followed by 1.0"):
        integrate(Lorenz(), jnp.zeros(3), jnp.array([0.0, 2.0, 1.0]))
    with pytest.raises(TypeError, match="Henon is solved by iterate"):
        integrate(Henon(), jnp.zeros(2), jnp.linspace(0, 1, 3))
    with pytest.raises(TypeError, match="integrate: system must be an AbstractFlow or a vector "
                                        "field f\\(t, y\\), got a str"):
        integrate("Lorenz", jnp.zeros(3), jnp.linspace(0, 1, 3))
    with pytest.raises(TypeError, match="y0 must be a real array"):
        integrate(Lorenz(), jnp.zeros(3, bool), jnp.linspace(0, 1, 3))
    with pytest.raises(ValueError, match=r"rtol must be a positive finite number or None, "
                                         r"got -1\.0"):
        integrate(Lorenz(), jnp.zeros(3), jnp.linspace(0, 1, 3), rtol=-1.0)
    with pytest.raises(TypeError, match=r"max_steps must be a positive int, got 10\.5"):
        integrate(Lorenz(), jnp.zeros(3), jnp.linspace(0, 1, 3), max_steps=10.5)
    with pytest.raises(ValueError, match="dt0 must be given for a non-adaptive solver"):
        integrate(_rotation, jnp.zeros(2), jnp.linspace(0, 1, 3), solver=diffrax.Euler())
    with pytest.raises(ValueError, match=r"y0 must be an array with 1 dimensions, got shape "
                                         r"\(2, 2\)"):
        integrate(_rotation, jnp.zeros((2, 2)), jnp.linspace(0, 1, 3))
    with pytest.raises(TypeError, match="iterate: system must be an AbstractMap \\(flows use "
                                        "integrate\\), got a Lorenz"):
        iterate(Lorenz(), jnp.zeros(3), 3)
    with pytest.raises(ValueError, match="iterate: n must be a non-negative int, got -1"):
        iterate(Henon(), jnp.zeros(2), -1)
    with pytest.raises(TypeError, match=r"iterate: n must be a non-negative int, got 2\.0"):
        iterate(Henon(), jnp.zeros(2), 2.0)


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
