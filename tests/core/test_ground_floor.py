"""The private ground floor (`jaxlab._core`): argument checks and their one error rule, the
status enumeration, squared distances and FFT lagged products, against plain references."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
import pytest

from jaxlab._core import checks
from jaxlab._core.autocorrelation import lagged_products
from jaxlab._core.distances import median_distance, squared_distances
from jaxlab._core.results import RESULTS, AbstractResult, check_status, from_diffrax, status_where


def test_int_checks_split_type_and_value_errors(user_errors):
    assert checks.check_int("f", "n", np.int64(3), minimum=1) == 3
    assert checks.check_int("f", "n", None, none_ok=True) is None
    with pytest.raises(TypeError, match=r"^f: n must be a positive int, got 2\.5$"):
        checks.check_int("f", "n", 2.5, minimum=1)
    with pytest.raises(TypeError, match=r"^f: n must be an int, got True$"):
        checks.check_int("f", "n", True)
    with pytest.raises(ValueError, match=r"^f: n must be an int in 1\.\.4, got 5$"):
        checks.check_int("f", "n", 5, minimum=1, maximum=4)


def test_number_checks(user_errors):
    assert checks.check_number("f", "x", jnp.asarray(0.5), minimum=0) == 0.5
    assert checks.check_number("f", "x", 2, minimum=0, open_minimum=True) == 2.0
    with pytest.raises(ValueError, match=r"^f: x must be a positive finite number, got 0$"):
        checks.check_number("f", "x", 0, minimum=0, open_minimum=True)
    with pytest.raises(ValueError, match=r"got nan"):
        checks.check_number("f", "x", float("nan"))
    with pytest.raises(TypeError, match=r"^f: x must be a finite number in \[0, 1\], got 'a'$"):
        checks.check_number("f", "x", "a", minimum=0, maximum=1)
    with pytest.raises(TypeError, match=r"got False"):
        checks.check_number("f", "x", False)


def test_choice_instance_key_checks(user_errors):
    with pytest.raises(ValueError, match=r"^f: method must be one of 'ode', 'sde', got 'oed' "
                                         r"\(did you mean 'ode'\?\)$"):
        checks.check_choice("f", "method", "oed", ("ode", "sde"))
    with pytest.raises(TypeError, match=r"^f: system must be a int or float, got a str$"):
        checks.check_instance("f", "system", "x", (int, float))
    checks.check_key("f", jax.random.key(0))
    checks.check_key("f", jax.random.PRNGKey(0))
    with pytest.raises(TypeError, match=r"^f: key must be a PRNG key"):
        checks.check_key("f", 0)
    with pytest.raises(ValueError, match=r"a single PRNG key of shape \(\), got keys of shape"):
        checks.check_key("f", jax.random.split(jax.random.key(0), 3))


def test_integer_arrays_are_promoted_and_floats_kept(float64, user_errors):
    assert checks.as_float_array("f", "x", [1, 2]).dtype == jnp.float64
    assert checks.as_float_array("f", "x", np.ones(2, np.float32)).dtype == jnp.float32
    out = checks.as_float_arrays("f", a=np.ones(2, np.float32), b=np.arange(2), c=None)
    assert out["a"].dtype == out["b"].dtype == jnp.float32 and out["c"] is None
    assert checks.common_float_dtype(np.ones(2, np.float32), 3.0, np.arange(3)) == jnp.float32
    assert checks.as_inexact_array("f", "x", np.ones(2) * 1j).dtype == jnp.complex128
    with pytest.raises(TypeError, match=r"^f: x must be real \(complex input is not "
                                        r"supported\), got dtype complex128$"):
        checks.as_float_array("f", "x", np.ones(2) * 1j)
    with pytest.raises(TypeError, match=r"^f: x must be a real array .*got dtype bool$"):
        checks.as_float_array("f", "x", np.ones(2, bool))
    with pytest.raises(ValueError, match=r"^f: x must be of shape \(\?, 3\), got shape \(2, 2\)"):
        checks.as_float_array("f", "x", np.ones((2, 2)), shape=(None, 3))
    with pytest.raises(ValueError, match=r"^f: x must be an array with 1 dimensions, got shape"):
        checks.as_float_array("f", "x", np.ones((2, 2)), ndim=1)


def test_value_checks_run_eagerly_only(user_errors):
    with pytest.raises(ValueError, match=r"^f: w must be finite, got nan at index \(1,\)$"):
        checks.check_finite_values("f", "w", np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match=r"^f: w must be positive and finite, got -1\.0 at "):
        checks.check_positive_values("f", "w", np.array([1.0, -1.0]))
    # under tracing the values are unknown: nothing raises, the status reports failures
    jax.jit(lambda w: checks.check_positive_values("f", "w", w) or w)(jnp.array([-1.0]))


class _Solve(AbstractResult):
    value: jax.Array
    status: RESULTS


def test_results_promote_diffrax_and_optimistix_and_raise_with_the_function_name():
    assert bool(from_diffrax(diffrax.RESULTS.max_steps_reached) == RESULTS.max_steps_reached)
    assert bool(RESULTS.promote(optx.RESULTS.nonlinear_divergence)
                == RESULTS.nonlinear_divergence)
    batch = jax.vmap(lambda ok: _Solve(jnp.ones(()), status_where(ok, RESULTS.not_converged)))(
        jnp.array([True, False]))
    assert batch.converged.tolist() == [True, False]
    ok = eqx.filter_jit(lambda: check_status(
        "solve", status_where(jnp.array(True), RESULTS.not_converged), jnp.ones(2), True))()
    np.testing.assert_array_equal(ok, np.ones(2))
    quiet = check_status("solve", status_where(jnp.array(False), RESULTS.nonfinite),
                         jnp.ones(2), False)
    np.testing.assert_array_equal(quiet, np.ones(2))
    with pytest.raises(Exception, match=r"solve: The iteration stopped at its budget"):
        check_status("solve", status_where(jnp.array(False), RESULTS.not_converged),
                     jnp.ones(2), True)


def test_squared_distances_both_ways_against_numpy(float64):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    want = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(squared_distances(jnp.asarray(x), jnp.asarray(y)), want,
                               rtol=1e-12)
    np.testing.assert_allclose(squared_distances(jnp.asarray(x), jnp.asarray(y),
                                                 by_differences=True), want, rtol=1e-14)
    # one query (no batch axis), and exactness at coincident points
    np.testing.assert_allclose(squared_distances(jnp.asarray(x[0]), jnp.asarray(y)), want[0],
                               rtol=1e-12)
    far = jnp.asarray(x + 1e4)
    assert float(squared_distances(far, far, by_differences=True)[2, 2]) == 0.0
    assert float(squared_distances(far, far)[2, 2]) >= 0.0  # clipped, not negative


def test_lagged_products_against_direct_sums(float64):
    rng = np.random.default_rng(1)
    x = rng.normal(size=37)
    z = x + 1j * rng.normal(size=37)
    want_x = np.array([np.sum(x[k:] * x[: x.size - k]) for k in range(11)])
    want_z = np.array([np.sum(z[k:] * np.conj(z[: z.size - k])) for k in range(11)])
    got_x = lagged_products(jnp.asarray(x), 10)
    assert got_x.dtype == jnp.float64
    np.testing.assert_allclose(got_x, want_x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lagged_products(jnp.asarray(z), 10), want_z, rtol=1e-12,
                               atol=1e-12)
    assert lagged_products(jnp.asarray(x, jnp.float32), 3).dtype == jnp.float32


def test_median_distance_against_scipy_pdist(float64):
    from scipy.spatial.distance import pdist

    z = np.random.default_rng(5).normal(size=(31, 3))
    assert float(median_distance(jnp.asarray(z))) == pytest.approx(np.median(pdist(z)),
                                                                   rel=1e-12)
    assert float(median_distance(jnp.asarray(z[:2]))) == pytest.approx(
        np.linalg.norm(z[0] - z[1]), rel=1e-12)


def test_cast_concrete_and_traced(float64):
    x = np.array([1, -2, 3])
    got = checks.cast(x, jnp.float32)
    assert got.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(got), [1.0, -2.0, 3.0])
    traced = jax.jit(lambda v: checks.cast(v, jnp.float32))(jnp.asarray(x))
    assert traced.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(traced), np.asarray(got))
