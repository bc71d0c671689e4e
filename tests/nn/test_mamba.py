"""MambaBlock and Mamba2Block: a float64 NumPy forward pass written plainly, initialisation,
causality (Jacobian), batching, jit/grad and argument errors."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.nn import Mamba2Block, MambaBlock, causal_depthwise_conv
from jaxlab.nn._input import layer_input
from tests.kernels.test_selective_scan import numpy_selective_scan
from tests.kernels.test_ssd import numpy_ssd


def silu(x):
    return x / (1 + np.exp(-x))


def numpy_linear(lin, x):
    y = x @ np.asarray(lin.weight).T
    return y if lin.bias is None else y + np.asarray(lin.bias)


def numpy_conv(x, w, b):
    """Causal depthwise convolution, one output at a time."""
    length = x.shape[1]
    width = w.shape[1]
    y = np.zeros_like(x)
    for t in range(length):
        for k in range(width):
            s = t - (width - 1) + k
            if s >= 0:
                y[:, t] += x[:, s] * w[:, k]
    return y + (0 if b is None else b)


def numpy_mamba(m, x):
    xz = numpy_linear(m.in_proj, x)
    xs, z = xz[..., :m.d_inner], xz[..., m.d_inner:]
    xs = silu(numpy_conv(xs, np.asarray(m.conv_weight), np.asarray(m.conv_bias)))
    dbc = numpy_linear(m.x_proj, xs)
    r, n = m.dt_rank, m.d_state
    dt = dbc[..., :r] @ np.asarray(m.dt_proj.weight).T
    y, _ = numpy_selective_scan(xs, dt, -np.exp(np.asarray(m.A_log)), dbc[..., r:r + n],
                                dbc[..., r + n:], np.asarray(m.D), z,
                                np.asarray(m.dt_proj.bias), None, True)
    return numpy_linear(m.out_proj, y)


def numpy_mamba2(m, x):
    d, gn = m.d_inner, m.groups * m.d_state
    proj = numpy_linear(m.in_proj, x)
    z, xbc, dt = proj[..., :d], proj[..., d:2 * d + 2 * gn], proj[..., 2 * d + 2 * gn:]
    xbc = silu(numpy_conv(xbc, np.asarray(m.conv_weight), np.asarray(m.conv_bias)))
    b, length = x.shape[:2]
    xs = xbc[..., :d].reshape(b, length, -1, m.head_dim)
    B = xbc[..., d:d + gn].reshape(b, length, m.groups, m.d_state)
    C = xbc[..., d + gn:].reshape(b, length, m.groups, m.d_state)
    y, _ = numpy_ssd(xs, dt, -np.exp(np.asarray(m.A_log)), B, C, np.asarray(m.D), None,
                     np.asarray(m.dt_bias), None, True)
    y = (y.reshape(b, length, d) * silu(z)).reshape(b, length, m.groups, -1)
    y = y / np.sqrt(np.mean(y**2, axis=-1, keepdims=True) + m.eps)
    return numpy_linear(m.out_proj, y.reshape(b, length, d) * np.asarray(m.norm_weight))


def make(cls):
    """A small block (float64 parameters under x64), built once under jit: eager construction
    dispatches one compilation per initialiser op."""
    return _make(cls, jax.config.read("jax_enable_x64"))


@functools.cache
def _make(cls, x64):
    if cls is MambaBlock:
        build = lambda key: MambaBlock(8, d_state=4, key=key)
    else:
        build = lambda key: Mamba2Block(8, d_state=4, head_dim=4, groups=2, key=key)
    return eqx.filter_jit(build)(jax.random.key(0))


@pytest.mark.parametrize(("cls", "reference"), [(MambaBlock, numpy_mamba),
                                                (Mamba2Block, numpy_mamba2)])
def test_forward_matches_numpy(float64, cls, reference):
    m = make(cls)
    x = jax.random.normal(jax.random.key(1), (2, 7, 8))
    np.testing.assert_allclose(eqx.filter_jit(lambda m, x: m(x))(m, x),
                               reference(m, np.asarray(x)), rtol=1e-10,
                               atol=1e-12)


def test_mamba_initialisation():
    m = eqx.filter_jit(lambda k: MambaBlock(32, d_state=16, dt_min=1e-3, dt_max=0.1, key=k))(
        jax.random.key(3))
    assert m.d_inner == 64 and m.dt_rank == 2
    np.testing.assert_allclose(-np.exp(m.A_log), -np.tile(np.arange(1, 17), (64, 1)), rtol=1e-6)
    np.testing.assert_array_equal(m.D, 1.0)
    dt = jax.nn.softplus(m.dt_proj.bias)
    assert float(dt.min()) >= 1e-3 * (1 - 1e-5) and float(dt.max()) <= 0.1 * (1 + 1e-5)
    assert float(jnp.abs(m.dt_proj.weight).max()) <= 2**-0.5
    m2 = eqx.filter_jit(lambda k: Mamba2Block(32, d_state=16, head_dim=16, key=k))(
        jax.random.key(3))
    a = np.exp(np.asarray(m2.A_log))
    assert m2.A_log.shape == (4,) and a.min() >= 1 and a.max() <= 16
    assert m2.in_proj.weight.shape == (2 * 64 + 2 * 16 + 4, 32)


@pytest.mark.parametrize("cls", [MambaBlock, Mamba2Block])
def test_causal_jacobian(float64, cls):
    """∂ out_t / ∂ x_s = 0 for s > t, and ≠ 0 for s ≤ t."""
    m = make(cls)
    x = jax.random.normal(jax.random.key(2), (6, 8))
    jac = np.asarray(eqx.filter_jit(lambda m, x: jax.jacrev(m)(x))(m, x))   # (t, out, s, in)
    strength = np.abs(jac).sum(axis=(1, 3))
    assert np.all(strength[np.triu_indices(6, k=1)] == 0.0)
    assert np.all(strength[np.tril_indices(6)] > 0.0)


@pytest.mark.parametrize("cls", [MambaBlock, pytest.param(Mamba2Block, marks=pytest.mark.slow)])
def test_batch_axes_jit_grad(cls):
    m = make(cls)
    x = jax.random.normal(jax.random.key(4), (2, 3, 5, 8))

    @eqx.filter_jit
    def run(m, x):
        grads = eqx.filter_grad(lambda m, x: jnp.sum(m(x) ** 2))(m, x)
        return m(x), m(x[1, 2]), grads

    out, single, grads = run(m, x)
    assert out.shape == x.shape and out.dtype == jnp.float32
    np.testing.assert_allclose(out[1, 2], single, rtol=1e-5, atol=1e-6)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))
    assert float(jnp.abs(grads.A_log).sum()) > 0


def test_conv_is_causal_and_matches_numpy(float64):
    x = jax.random.normal(jax.random.key(5), (2, 9, 3))
    w, b = jax.random.normal(jax.random.key(6), (3, 4)), jnp.arange(3.0)
    np.testing.assert_allclose(jax.jit(causal_depthwise_conv)(x, w, b),
                               numpy_conv(np.asarray(x), np.asarray(w), np.asarray(b)),
                               rtol=1e-12, atol=1e-12)


def test_argument_errors(user_errors):
    m = make(MambaBlock)
    with pytest.raises(ValueError, match=r"MambaBlock: x must have shape \(\.\.\., L, d_model\) "
                                         r"= \(\.\.\., L, 8\), got \(7, 6\)"):
        m(jnp.zeros((7, 6)))
    with pytest.raises(TypeError, match=r"MambaBlock: x must be a real array \(floating or "
                                        r"integer dtype\), got dtype bool"):
        m(jnp.zeros((7, 8), bool))
    with pytest.raises(ValueError, match=r"MambaBlock: d_state must be a positive int, got 0"):
        MambaBlock(8, d_state=0, key=jax.random.key(0))
    with pytest.raises(TypeError, match=r"MambaBlock: d_model must be a positive int, got 8.0"):
        MambaBlock(8.0, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"MambaBlock: dt_max must be a finite number >= 0.1, "
                                         r"got 0.01"):
        MambaBlock(8, dt_min=0.1, dt_max=0.01, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"Mamba2Block: dt_min must be a positive finite "
                                         r"number, got 0"):
        Mamba2Block(8, head_dim=4, dt_min=0, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"Mamba2Block: head_dim must divide expand \* d_model "
                                         r"= 16, got 5"):
        Mamba2Block(8, head_dim=5, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"Mamba2Block: groups must divide the number of "
                                         r"heads, 4, got 3"):
        Mamba2Block(8, head_dim=4, groups=3, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"causal_depthwise_conv: weight must have shape "
                                         r"\(channels, width\) = \(3, width\), got \(4, 2\)"):
        causal_depthwise_conv(jnp.zeros((1, 5, 3)), jnp.zeros((4, 2)))
    with pytest.raises(TypeError, match=r"causal_depthwise_conv: weight must be real \(complex "
                                        r"input is not supported\), got dtype complex"):
        causal_depthwise_conv(jnp.zeros((1, 5, 3)), jnp.zeros((3, 2), complex))


def test_integer_inputs_are_promoted(float64):
    """Integer x gives the result of the float array of the same values, in the dtype of the
    parameters (float32 here, with x64 on: nothing widens). The layers promote x once, on
    entry (`layer_input`), so its values and the traced output dtype prove it, without
    compiling the blocks again."""
    x_int = jnp.asarray(np.arange(2 * 7 * 8).reshape(2, 7, 8) % 5 - 2, jnp.int32)
    promoted = layer_input("MambaBlock", "x", x_int, 8, jnp.float32)
    assert promoted.dtype == jnp.float32
    np.testing.assert_array_equal(promoted, np.asarray(x_int, np.float32))
    for block in (lambda **kw: MambaBlock(8, d_state=4, **kw),
                  lambda **kw: Mamba2Block(8, d_state=4, head_dim=4, groups=2, **kw)):
        m = eqx.filter_eval_shape(block, dtype=jnp.float32, key=jax.random.key(0))
        out = eqx.filter_eval_shape(lambda m, x: m(x), m, x_int)
        assert out.shape == x_int.shape and out.dtype == jnp.float32
    w = jnp.asarray([[1.0, -2.0], [0.5, 3.0], [2.0, 1.0]], jnp.float32)
    conv = causal_depthwise_conv(x_int[:, :, :3], w)
    assert conv.dtype == jnp.float32
    np.testing.assert_array_equal(conv, numpy_conv(np.asarray(x_int[:, :, :3], np.float64),
                                                   np.asarray(w, np.float64), None))
