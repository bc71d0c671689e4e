"""The dtype rule of CONTRIBUTING.md §6, checked the same way across every subpackage.

One representative data-taking function of each subpackage (and several of the shared
layers) is called on the same values as integers, float32 and float64:

- integer input is promoted: it gives the default floating dtype and the values of the
  same call on floats of that dtype;
- results follow the floating dtype of the data: float32 in gives float32 out even with
  `jax_enable_x64` on, float64 in gives float64 out (complex results: complex64/complex128).

Each subpackage's own tests check its other functions; this table guards the rule itself.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import de, distrl, generative, kde, kernels, koopman, metrics, systems

_RNG = np.random.default_rng(0)
# Small integer data (also valid as real-valued inputs of every function below).
_SERIES = _RNG.integers(-5, 6, size=40)
_POINTS = _RNG.integers(-3, 4, size=(30, 2))
_OTHER = _RNG.integers(-3, 4, size=(25, 2))
_PAIRS_X = _RNG.integers(-3, 4, size=(40, 3))
_PAIRS_Y = np.roll(_PAIRS_X, 1, axis=0) + _RNG.integers(-1, 2, size=(40, 3))
_QKV = _RNG.integers(-2, 3, size=(3, 1, 4, 2, 8))
_PATH = np.cumsum(_RNG.integers(-2, 3, size=(12, 2)), axis=0)
_ATOMS = np.array([-3, -1, 0, 2, 5])
_TS = np.linspace(0.0, 0.05, 3)


def _probability_dtype(atoms):
    """float probabilities of the atoms' precision (float32 for integer atoms)."""
    return atoms.dtype if jnp.issubdtype(atoms.dtype, jnp.floating) else jnp.float32


# name -> (function of one data array, the integer data)
CASES = {
    "systems.autocorrelation": (lambda x: systems.autocorrelation(x, 5), _SERIES),
    "systems.delay_embed": (lambda x: systems.delay_embed(x, 2, 3), _SERIES),
    "systems.kaplan_yorke_dimension": (systems.kaplan_yorke_dimension, np.array([1, 0, -14])),
    "systems.integrate": (lambda y0: systems.integrate(systems.Lorenz(), y0, _TS).ys,
                          np.array([1, 1, 1])),
    "kde.scott_bandwidth": (kde.scott_bandwidth, _POINTS),
    "kde.gaussian_kde.logpdf": (lambda x: kde.gaussian_kde(x).logpdf(x[:5]), _POINTS),
    "koopman.dmd": (lambda x: koopman.dmd(x[:-1], x[1:]).eigenvalues, _PAIRS_X),
    "koopman.ergodic_moments": (lambda x: koopman.ergodic_moments(x, 3), _SERIES),
    "metrics.wasserstein_1d": (lambda x: metrics.wasserstein_1d(x, x[::-1] + 1), _SERIES),
    "metrics.mmd": (lambda x: metrics.mmd(x, x[::2] + 1), _POINTS),
    "metrics.energy_distance": (lambda x: metrics.energy_distance(x, x[::3] - 1), _POINTS),
    "metrics.smape": (lambda x: metrics.smape(x, x + 1), _SERIES),
    "distrl.cvar": (lambda a: distrl.cvar(a, jnp.full(a.shape, 0.2, _probability_dtype(a)),
                                          0.5), _ATOMS),
    "generative.convert": (lambda x: generative.convert(
        x, 2 * x, 0.5, generative.Interpolant.linear(), source="noise", target="score"),
        _POINTS),
    "generative.drift_from_velocity_and_score": (
        lambda x: generative.drift_from_velocity_and_score(
            x, x + 1, 0.3, generative.Interpolant.linear(gamma_scale=1.0)), _POINTS),
    "generative.score_from_denoiser": (lambda x: generative.score_from_denoiser(
        x, 0.3, generative.Interpolant.linear(gamma_scale=1.0)), _POINTS),
    "de.signature": (lambda p: de.signature(p, 2), _PATH),
    "kernels.attention": (lambda qkv: kernels.attention(qkv[0], qkv[1], qkv[2]), _QKV),
}


def _floating(dtype):
    return jnp.issubdtype(dtype, jnp.inexact)


def _kind(dtype):
    """float32/complex64 -> 32, float64/complex128 -> 64."""
    return jnp.finfo(dtype).bits


@pytest.mark.parametrize("name", sorted(CASES))
def test_integer_input_is_promoted_to_the_default_float(name):
    fn, data = CASES[name]
    from_int = fn(jnp.asarray(data))
    from_float = fn(jnp.asarray(data, jnp.float32))
    assert _floating(from_int.dtype) and _kind(from_int.dtype) == 32, from_int.dtype
    assert from_int.dtype == from_float.dtype
    np.testing.assert_allclose(np.asarray(from_int), np.asarray(from_float), rtol=1e-6,
                               atol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_follow_the_floating_dtype_of_the_data(name, float64):
    fn, data = CASES[name]
    single = fn(jnp.asarray(data, jnp.float32))
    double = fn(jnp.asarray(data, jnp.float64))
    from_int = fn(jnp.asarray(data))                # integers: the default float, now 64
    assert _kind(single.dtype) == 32, f"float32 data gave {single.dtype}"
    assert _kind(double.dtype) == 64, f"float64 data gave {double.dtype}"
    assert _kind(from_int.dtype) == 64, f"integer data gave {from_int.dtype} with x64 on"
    np.testing.assert_allclose(np.asarray(single), np.asarray(double), rtol=2e-4, atol=2e-4)
    with jax.enable_x64(False):                    # back to the float32 default: unchanged
        assert _kind(fn(jnp.asarray(data, jnp.float32)).dtype) == 32
