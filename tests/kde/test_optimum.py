"""The parabolic refinement of a sampled curve's minimum, against NumPy's polyfit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.kde import ParabolicMinimum, parabolic_minimum


def test_vertex_equals_polyfit(float64):
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = np.sort(rng.uniform(-2, 2, 9))
        y = rng.uniform(0, 1, 9)
        i = int(np.argmin(y))
        got = parabolic_minimum(x, y)
        assert got.location.dtype == jnp.float64
        if i in (0, 8):
            assert bool(got.at_edge) and float(got.location) == x[i]
            assert float(got.value) == y[i]
            continue
        a, b, c = np.polyfit(x[i - 1:i + 2], y[i - 1:i + 2], 2)
        vertex = np.clip(-b / (2 * a), x[i - 1], x[i + 1])
        assert not bool(got.at_edge)
        assert float(got.location) == pytest.approx(vertex, rel=1e-10, abs=1e-12)
        assert float(got.value) == pytest.approx(np.polyval([a, b, c], vertex), rel=1e-10)


def test_exact_on_a_parabola_and_close_on_a_smooth_curve(float64):
    log_h = np.log(np.geomspace(0.4, 1.5, 12))
    got = parabolic_minimum(log_h, 3.0 * (log_h + 0.3) ** 2 + 1.0)
    assert float(got.location) == pytest.approx(-0.3, rel=1e-12)
    assert float(got.value) == pytest.approx(1.0, rel=1e-12)
    # cosh: the vertex error is O(δ³) for a grid spacing δ = 0.12
    smooth = parabolic_minimum(log_h, np.cosh(log_h + 0.3))
    assert abs(float(smooth.location) + 0.3) < 0.12**3
    # NaN is never the minimum
    y = np.array([3.0, np.nan, 1.0, 2.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    assert float(parabolic_minimum(np.arange(9.0), y).location) > 1.0


def test_jit_vmap_float32_and_edges():
    x = jnp.linspace(0.0, 1.0, 9)
    centres = jnp.array([0.23, 0.5, 0.77, 1.3])
    curves = (x[None, :] - centres[:, None]) ** 2
    batched = jax.jit(jax.vmap(parabolic_minimum, in_axes=(None, 0)))(x, curves)
    assert isinstance(batched, ParabolicMinimum)
    assert batched.location.shape == (4,) and batched.location.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(batched.location[:3]), [0.23, 0.5, 0.77],
                               atol=1e-5)
    np.testing.assert_array_equal(np.asarray(batched.at_edge), [False, False, False, True])
    assert float(batched.location[3]) == 1.0


def test_bad_input(user_errors):
    with pytest.raises(ValueError, match=r"parabolic_minimum: x and y must be of equal shape "
                                         r"\(k,\) with k >= 3, got shapes \(3,\) and \(4,\)"):
        parabolic_minimum(jnp.arange(3.0), jnp.arange(4.0))
    with pytest.raises(ValueError, match=r"parabolic_minimum: x and y must be of equal shape "
                                         r"\(k,\) with k >= 3, got shapes \(2,\)"):
        parabolic_minimum(jnp.arange(2.0), jnp.arange(2.0))
    with pytest.raises(ValueError, match=r"parabolic_minimum: x must be strictly increasing, "
                                         r"got x\[1\] = 1\.0 and x\[2\] = 1\.0"):
        parabolic_minimum(jnp.array([0.0, 1.0, 1.0, 2.0]), jnp.zeros(4))
    with pytest.raises(ValueError, match=r"parabolic_minimum: y must be an array with 1 "
                                         r"dimensions"):
        parabolic_minimum(jnp.arange(3.0), jnp.zeros((3, 1)))
    with pytest.raises(TypeError, match=r"parabolic_minimum: x must be real"):
        parabolic_minimum(jnp.arange(3.0) + 1j, jnp.zeros(3))
