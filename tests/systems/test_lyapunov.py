"""Lyapunov spectra against exact identities and published values."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import RESULTS
from jaxlab.systems import (
    Henon,
    Logistic,
    Lorenz,
    Rossler,
    kaplan_yorke_dimension,
    lyapunov_spectrum,
)

LORENZ_SPROTT = np.array([0.9056, 0.0, -14.5723])


def test_lorenz_spectrum_float64(float64):
    # One trajectory, averaging time 600. The finite-time fluctuation of λ1 at T = 600 is
    # ~0.5% (std across an ensemble, measured); 2% is four standard errors.
    res = lyapunov_spectrum(Lorenz(), jnp.asarray(Lorenz.default_ic, jnp.float64),
                            num_intervals=2000, interval=0.3)
    lam = np.asarray(res.exponents)
    assert res.exponents.dtype == jnp.float64
    assert bool(res.converged)
    assert abs(lam[0] - LORENZ_SPROTT[0]) / LORENZ_SPROTT[0] < 0.02
    assert abs(lam[1]) < 0.01                        # a flow has one zero exponent
    assert abs(lam[2] - LORENZ_SPROTT[2]) < 0.02
    # The divergence is constant, -(σ + 1 + β): the sum is exact up to solver error.
    assert abs(lam.sum() - (-(10.0 + 1.0 + 8.0 / 3.0))) < 1e-3
    np.testing.assert_allclose(res.running[-1], res.exponents)
    np.testing.assert_allclose(res.times[-1], 600.0)


def test_lorenz_sum_tracks_parameters(float64):
    # The trace identity holds for any parameters: a check that cannot pass by accident.
    system = Lorenz(sigma=16.0, rho=45.92, beta=4.0)
    res = lyapunov_spectrum(system, num_intervals=300, interval=0.2,
                            y0=jnp.array([1.0, 1.0, 20.0]))
    np.testing.assert_allclose(float(res.exponents.sum()), -(16.0 + 1.0 + 4.0), atol=1e-6)


@pytest.mark.slow  # a second published spectrum; Lorenz (float64) and Hénon run by default
def test_rossler_float64(float64):
    # Rössler's λ1 converges slowly: single runs of T = 10^4 spread by about ±2% around
    # Sprott's 0.0714 (measured), so the mean of four independent runs is tested at 3%.
    y0s = Rossler().initial_state(jnp.float64) * (
        1 + 0.01 * jax.random.normal(jax.random.key(0), (4, 3), jnp.float64))
    spectra = jax.jit(jax.vmap(lambda y0: lyapunov_spectrum(
        Rossler(), y0, num_intervals=5000, interval=2.0, solver=diffrax.Tsit5(), rtol=1e-9,
        atol=1e-11).exponents))(y0s)
    lam = np.asarray(spectra).mean(axis=0)
    np.testing.assert_allclose(lam[0], 0.0714, rtol=0.03)
    assert abs(lam[1]) < 0.005
    np.testing.assert_allclose(lam[2], -5.394, rtol=0.01)


def test_logistic_r4_is_ln2(float64):
    res = lyapunov_spectrum(Logistic(r=4.0), jnp.array([0.1234]), num_intervals=100_000)
    # The orbit average of ln|4(1 − 2x)| has standard error ≈ 1.1/√1e5 ≈ 0.0035 (0.5%).
    np.testing.assert_allclose(float(res.exponents[0]), np.log(2.0), rtol=0.01)


def test_henon_against_numpy_reference(float64):
    # An independent float64 NumPy Benettin loop with the analytic Jacobian. Chaotic orbits
    # computed by two programs separate like e^{0.42 n} from rounding differences, so the
    # running estimates are compared over 30 iterations (divergence < 1e-10) from a state
    # already on the attractor; the long-run values are checked against Sprott's table.
    a, b, n = 1.4, 0.3, 30
    x = np.array([0.1, 0.1])
    for _ in range(1000):
        x = np.array([1 - a * x[0] ** 2 + x[1], b * x[0]])
    start = x.copy()
    q, sums, running = np.eye(2), np.zeros(2), []
    for i in range(n):
        jac = np.array([[-2 * a * x[0], 1.0], [b, 0.0]])
        x = np.array([1 - a * x[0] ** 2 + x[1], b * x[0]])
        q, r = np.linalg.qr(jac @ q)
        sums += np.log(np.abs(np.diag(r)))
        q = q * np.sign(np.diag(r))
        running.append(sums / (i + 1))
    res = lyapunov_spectrum(Henon(a=a, b=b), jnp.asarray(start), num_intervals=n, transient=0)
    np.testing.assert_allclose(np.asarray(res.running), np.stack(running), rtol=1e-8,
                               atol=1e-12)
    long = lyapunov_spectrum(Henon(a=a, b=b), num_intervals=100_000)
    np.testing.assert_allclose(float(long.exponents.sum()), np.log(b), atol=1e-10)
    # Standard error of λ1 at n = 1e5 is ≈ 0.002; 0.01 is five of them.
    np.testing.assert_allclose(np.asarray(long.exponents), [0.41922, -1.62319], atol=0.01)


def test_map_interval_and_partial_spectrum(float64):
    full = lyapunov_spectrum(Henon(), num_intervals=4000)
    blocked = lyapunov_spectrum(Henon(), num_intervals=1000, interval=4)
    top = lyapunov_spectrum(Henon(), num_exponents=1, num_intervals=4000)
    np.testing.assert_allclose(blocked.exponents, full.exponents, rtol=1e-8)
    np.testing.assert_allclose(top.exponents[0], full.exponents[0], rtol=1e-10)
    assert top.exponents.shape == (1,)


def test_float32_default_dtype():
    res = lyapunov_spectrum(Lorenz(), num_intervals=100, interval=0.3)
    assert res.exponents.dtype == jnp.float32
    assert res.running.shape == (100, 3)
    np.testing.assert_allclose(float(res.exponents.sum()), -13.6667, atol=0.01)


def test_jit_and_vmap_over_parameters(float64):
    @jax.jit
    @jax.vmap
    def top(r):
        return lyapunov_spectrum(Logistic(r=r), jnp.array([0.3]), num_intervals=5000).exponents[0]

    rs = jnp.array([2.5, 4.0])
    lam = top(rs)
    # r = 2.5: the fixed point 1 − 1/r is stable with multiplier 2 − r, so λ = ln 0.5.
    np.testing.assert_allclose(lam, [np.log(0.5), np.log(2.0)], rtol=0.01)


@pytest.mark.slow  # reverse mode through a tight Tsit5 solve (~20 s of compilation)
def test_parameter_gradient_of_the_exponent_sum(float64):
    # Differentiable in parameters: d/dβ of the Lorenz exponent sum is exactly −1.
    def total(beta):
        return lyapunov_spectrum(Lorenz(beta=beta), num_intervals=20, interval=0.2,
                                 transient=1.0, solver=diffrax.Tsit5(), rtol=1e-9,
                                 atol=1e-9).exponents.sum()

    np.testing.assert_allclose(float(jax.grad(total)(8.0 / 3.0)), -1.0, atol=1e-6)


def test_compiles_once_per_shape(caplog):
    h_b, l_b = jnp.array([0.2, 0.0]), Lorenz().initial_state() + 1.0
    lyapunov_spectrum(Henon(), num_intervals=50, transient=10)
    # the configuration of test_float32_default_dtype: its compilation serves both tests
    lyapunov_spectrum(Lorenz(), num_intervals=100, interval=0.3)
    with jax.log_compiles(), caplog.at_level("WARNING", logger="jax"):
        lyapunov_spectrum(Henon(), h_b, num_intervals=50, transient=10)
        lyapunov_spectrum(Lorenz(), l_b, num_intervals=100, interval=0.3)
    assert not [r for r in caplog.records if "_spectrum_jit" in r.getMessage()]


def test_solver_failure_is_reported():
    res = lyapunov_spectrum(Lorenz(), num_intervals=5, interval=0.3, max_steps=2, throw=False)
    assert not bool(res.converged)
    assert res.status == RESULTS.max_steps_reached  # diffrax's reason, promoted
    with pytest.raises(Exception, match="lyapunov_spectrum: The maximum number of solver"):
        lyapunov_spectrum(Lorenz(), num_intervals=5, interval=0.3, max_steps=2, throw=True)


def test_collapsed_tangent_vector_is_reported(float64):
    # (λ1 − λ3)·interval = 15.5 × 5 ≈ 77 > ln(1/eps) ≈ 36: the third tangent vector is lost
    # below float64 precision within one interval, so its R_33 is rounding error and the
    # third exponent is wrong (the trace identity fails by far).
    kwargs = {"num_intervals": 20, "interval": 5.0, "transient": 5.0}
    res = lyapunov_spectrum(Lorenz(), throw=False, **kwargs)
    assert not bool(res.converged) and res.status == RESULTS.tangent_collapsed
    assert abs(float(res.exponents.sum()) + 13.6667) > 1.0
    with pytest.raises(Exception, match="tangent vector collapsed"):
        lyapunov_spectrum(Lorenz(), **kwargs)
    short = lyapunov_spectrum(Lorenz(), num_intervals=200, interval=0.5, transient=5.0)
    assert bool(short.converged)


@pytest.mark.slow  # Kvaerno5 and Dopri8 compiled (~20 s); explicit spectra run by default
def test_implicit_solver_matches_explicit(float64):
    # The tangent state is one flat array, so implicit solvers (for stiff tangent dynamics)
    # work; both must satisfy the trace identity and agree on a short, non-chaotic horizon.
    kwargs = {"num_intervals": 20, "interval": 0.1, "transient": 1.0, "rtol": 1e-10,
              "atol": 1e-12}
    implicit = lyapunov_spectrum(Lorenz(), solver=diffrax.Kvaerno5(), **kwargs)
    explicit = lyapunov_spectrum(Lorenz(), solver=diffrax.Dopri8(), **kwargs)
    assert bool(implicit.converged)
    np.testing.assert_allclose(float(implicit.exponents.sum()), -(10.0 + 1.0 + 8.0 / 3.0),
                               atol=1e-6)
    np.testing.assert_allclose(implicit.exponents, explicit.exponents, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"y0": jnp.zeros(2)}, ValueError, r"y0 must be of shape \(3,\).*got shape \(2,\)"),
        ({"num_exponents": 4}, ValueError, r"num_exponents must be an int in 1..3, got 4"),
        ({"num_exponents": 2.0}, TypeError, r"num_exponents must be an int in 1..3, got 2.0"),
        ({"num_intervals": 0}, ValueError, r"num_intervals must be a positive int, got 0"),
        ({"interval": -1.0}, ValueError, r"interval must be a positive finite number, got -1.0"),
        ({"transient": -2.0}, ValueError, r"transient must be a non-negative finite number"),
        ({"dt": 0.1}, ValueError, r"dt must be None for flows .*got dt=0.1"),
        ({"throw": "yes"}, TypeError, r"throw must be a bool, got 'yes'"),
    ],
)
def test_bad_input(kwargs, error, message, user_errors):
    with pytest.raises(error, match=message):
        lyapunov_spectrum(Lorenz(), **kwargs)


def test_bad_system(user_errors):
    with pytest.raises(TypeError, match="lyapunov_spectrum: system must be an AbstractFlow, "
                                        "AbstractMap or AbstractDelay, got a str"):
        lyapunov_spectrum("Lorenz")


def test_map_options(user_errors):
    with pytest.raises(TypeError, match=r"interval must be a positive int, got 0\.5"):
        lyapunov_spectrum(Henon(), interval=0.5)
    with pytest.raises(ValueError, match=r"rtol must be None for maps \(nothing is "
                                         r"integrated\), got rtol=1e-06"):
        lyapunov_spectrum(Henon(), rtol=1e-6)


def test_map_nonfinite_orbit_is_reported(float64):
    # The logistic map at r = 5 sends x = 0.5 to 1.25 and then to −∞: the exponent is not
    # finite, and that is the status (not a silent NaN).
    res = lyapunov_spectrum(Logistic(r=5.0), jnp.array([0.5]), num_intervals=50, transient=0,
                            throw=False)
    assert res.status == RESULTS.nonfinite and not bool(res.converged)
    with pytest.raises(Exception, match="lyapunov_spectrum: Nonfinite"):
        lyapunov_spectrum(Logistic(r=5.0), jnp.array([0.5]), num_intervals=50, transient=0)


@pytest.mark.parametrize(
    ("spectrum", "expected"),
    [
        ([0.9056, 0.0, -14.5723], 2.0 + 0.9056 / 14.5723),       # Lorenz
        ([0.41922, -1.62319], 1.0 + 0.41922 / 1.62319),          # Hénon
        ([-0.5, -1.0], 0.0),                                     # a stable fixed point
        ([0.3, 0.1], 2.0),                                       # every partial sum ≥ 0
        ([-14.5723, 0.9056, 0.0], 2.0 + 0.9056 / 14.5723),       # order does not matter
        ([1.0, -0.5, -1.0], 2.0 + 0.5 / 1.0),
    ],
)
def test_kaplan_yorke_closed_form(spectrum, expected, float64):
    got = kaplan_yorke_dimension(jnp.asarray(spectrum, jnp.float64))
    assert got.dtype == jnp.float64
    np.testing.assert_allclose(float(got), expected, rtol=1e-12)


def test_kaplan_yorke_jit_and_bad_input(user_errors):
    f = jax.jit(kaplan_yorke_dimension)
    np.testing.assert_allclose(float(f(jnp.array([0.5, -1.0]))), 1.5, rtol=1e-6)
    with pytest.raises(ValueError, match=r"kaplan_yorke_dimension: exponents must be a "
                                         r"non-empty 1-D array, got shape \(2, 2\)"):
        kaplan_yorke_dimension(jnp.zeros((2, 2)))
    with pytest.raises(TypeError, match="exponents must be a real array"):
        kaplan_yorke_dimension(jnp.zeros(2, bool))
