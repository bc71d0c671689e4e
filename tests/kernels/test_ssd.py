"""ssd_scan (Mamba-2): the reference against a NumPy loop, finite differences and the Mamba-1
selective scan; every implementation against the reference, forward and gradients."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from jaxlab.kernels import _ssd, selective_scan, ssd_scan
from tests.kernels._helpers import (
    assert_close,
    assert_scan_matches,
    outputs_and_grads,
    to_float32,
)

XLA_IMPLS = ["scan", "chunked"]
ARGS = ("x", "dt", "A", "B", "C", "D", "z", "dt_bias", "initial_state")

# (batch, L, heads, head_dim, N, groups or None, extras, softplus). L = 70 spans two SSD
# chunks of 64, the second padded. Pallas (interpreted on CPU, slow) gets L = 21: three
# chunks of 8 steps, the last padded.
CASES = {
    "L1-plain": (1, 1, 2, 2, 3, None, False, False),
    "L70-grouped-all": (2, 70, 4, 2, 3, 2, True, True),
    "L21-grouped-all": (2, 21, 4, 2, 3, 2, True, True),
}
# L = 1 for the non-default XLA implementation runs in `make test-all` (compile time).
IMPL_CASES = [(i, c) if i == "chunked" or c != "L1-plain" else
              pytest.param(i, c, marks=pytest.mark.slow)
              for i in XLA_IMPLS for c in ("L1-plain", "L70-grouped-all")] + [
    ("pallas", "L1-plain"), ("pallas", "L21-grouped-all")]


def make_inputs(batch, length, heads, p, n, groups, extras, seed=0, dtype=None):
    dtype = jnp.result_type(float) if dtype is None else dtype    # float64 under x64
    rng = np.random.default_rng(seed)
    bshape = (batch, length, n) if groups is None else (batch, length, groups, n)
    x = {
        "x": rng.normal(size=(batch, length, heads, p)),
        "dt": 0.5 * rng.uniform(size=(batch, length, heads)),
        "A": -rng.uniform(0.5, 1.5, size=heads),
        "B": rng.normal(size=bshape),
        "C": rng.normal(size=bshape),
        "D": rng.normal(size=heads) if extras else None,
        "z": rng.normal(size=(batch, length, heads, p)) if extras else None,
        "dt_bias": 0.5 * rng.normal(size=heads) if extras else None,
        "initial_state": rng.normal(size=(batch, heads, p, n)) if extras else None,
    }
    return {k: None if v is None else jnp.asarray(v, dtype) for k, v in x.items()}


def numpy_ssd(x, dt, A, B, C, D, z, dt_bias, initial_state, softplus):
    """Plain NumPy loop over batch, head and time."""
    x, dt, A, B, C = (np.asarray(a, float) for a in (x, dt, A, B, C))
    batch, length, heads, p = x.shape
    if B.ndim == 3:
        B, C = B[:, :, None], C[:, :, None]
    n = B.shape[-1]
    per_group = heads // B.shape[2]
    y = np.zeros_like(x)
    last = np.zeros((batch, heads, p, n))
    for b in range(batch):
        for hd in range(heads):
            g = hd // per_group
            h = np.zeros((p, n)) if initial_state is None else np.array(initial_state[b, hd])
            for t in range(length):
                d = dt[b, t, hd] + (0.0 if dt_bias is None else dt_bias[hd])
                if softplus:
                    d = np.log1p(np.exp(d))
                h = np.exp(d * A[hd]) * h + d * np.outer(x[b, t, hd], B[b, t, g])
                y[b, t, hd] = h @ C[b, t, g] + (0.0 if D is None else D[hd] * x[b, t, hd])
                if z is not None:
                    y[b, t, hd] *= z[b, t, hd] / (1.0 + np.exp(-z[b, t, hd]))
            last[b, hd] = h
    return y, last


def run(impl, inputs, softplus):
    return ssd_scan(*(inputs[k] for k in ARGS[:8]), dt_softplus=softplus,
                    initial_state=inputs["initial_state"], return_last_state=True, impl=impl)


def run_with_grads(impl, inputs, softplus):
    """(y, H_L) and gradients of a random linear functional w.r.t. every input, one compile."""
    names = [k for k in ARGS if inputs[k] is not None]
    rng = np.random.default_rng(7)
    b, _, heads, p = inputs["x"].shape
    wy = jnp.asarray(rng.normal(size=inputs["x"].shape), inputs["x"].dtype)
    wh = jnp.asarray(rng.normal(size=(b, heads, p, inputs["B"].shape[-1])), inputs["x"].dtype)

    return outputs_and_grads(lambda x: run(impl, x, softplus), inputs, names, (wy, wh))


@pytest.fixture(scope="module")
def references():
    with jax.enable_x64(True):
        return {name: (make_inputs(*c[:-1]),
                       *run_with_grads("reference", make_inputs(*c[:-1]), c[-1]))
                for name, c in CASES.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_reference_matches_numpy_loop(float64, references, case):
    inputs, (y, h), _ = references[case]
    want_y, want_h = numpy_ssd(*(inputs[k] for k in ARGS), CASES[case][-1])
    np.testing.assert_allclose(y, want_y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h, want_h, rtol=1e-12, atol=1e-12)


def test_reference_equals_selective_scan_with_a_shared_decay(float64):
    """SSD is the Mamba-1 scan with A repeated over head_dim and δ repeated per head."""
    x = make_inputs(2, 9, 3, 2, 4, None, False, seed=4)
    b, length, heads, p = x["x"].shape
    y = ssd_scan(x["x"], x["dt"], x["A"], x["B"], x["C"], impl="reference")
    y1 = selective_scan(x["x"].reshape(b, length, heads * p), jnp.repeat(x["dt"], p, axis=2),
                        jnp.repeat(x["A"], p)[:, None] * jnp.ones(4), x["B"], x["C"],
                        impl="reference")
    np.testing.assert_allclose(y.reshape(b, length, -1), y1, rtol=1e-12, atol=1e-12)


def test_reference_gradients_match_finite_differences(float64):
    inputs = make_inputs(1, 4, 2, 2, 2, 2, True, seed=3)
    names = [k for k in ARGS if inputs[k] is not None]

    @jax.jit
    def f(*values):
        y, h = run("reference", dict(zip(names, values, strict=True)), True)
        return jnp.sum(jnp.sin(y)) + jnp.sum(h**2)

    check_grads(f, tuple(inputs[k] for k in names), order=1, modes=["rev"], eps=1e-6,
                atol=1e-7, rtol=1e-7)


@pytest.mark.parametrize(("impl", "case"), IMPL_CASES)
def test_float64_matches_reference(float64, references, impl, case):
    inputs, (y_ref, h_ref), g_ref = references[case]
    (y, h), g = run_with_grads(impl, inputs, CASES[case][-1])
    assert_scan_matches(((y, h), g), ((y_ref, h_ref), g_ref), jnp.float64, 1e-12, 1e-11)


@pytest.mark.parametrize(("impl", "case"), [
    *((i, "L70-grouped-all") for i in ("reference", *XLA_IMPLS)), ("pallas", "L21-grouped-all")])
def test_float32_matches_float64_reference(references, impl, case):
    inputs64, (y_ref, h_ref), _ = references[case]
    assert_scan_matches((run(impl, to_float32(inputs64), True), {}), ((y_ref, h_ref), {}),
                        jnp.float32, 1e-5)


@pytest.mark.parametrize(("impl", "case"), [("chunked", "L70-grouped-all"), *(
    pytest.param(i, c, marks=pytest.mark.slow) for i, c in [
        ("reference", "L70-grouped-all"), ("scan", "L70-grouped-all"),
        ("pallas", "L21-grouped-all")])])
def test_float32_gradients_match_float64_reference(references, impl, case):
    inputs64, _, g_ref = references[case]
    _, g = run_with_grads(impl, to_float32(inputs64), True)
    for k in g_ref:
        assert g[k].dtype == jnp.float32
        assert_close(g[k], g_ref[k], 1e-5)


def test_chunk_lengths_agree(float64):
    """The SSD decomposition is exact for every chunk length (here 1 and 5 over L = 21)."""
    rng = np.random.default_rng(5)
    args = [jnp.asarray(a) for a in (
        rng.normal(size=(2, 21, 2, 1, 3)), rng.uniform(size=(2, 21, 2, 1)),
        -rng.uniform(size=(2, 1)), rng.normal(size=(2, 21, 2, 4)),
        rng.normal(size=(2, 21, 2, 4)), rng.normal(size=(2, 2, 1, 3, 4)))]
    want = jax.jit(_ssd.ssd_reference)(*args)
    for chunk in (1, 5):
        got = jax.jit(functools.partial(_ssd.ssd_chunked, chunk=chunk))(*args)
        for a, b in zip(got, want, strict=True):
            assert_close(a, b, 1e-12)


def test_compiles_once_per_shape_and_vmaps():
    x = make_inputs(2, 9, 2, 2, 3, None, False, dtype=np.float32)

    @jax.jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def f(xx, dt):
        return ssd_scan(xx, dt, x["A"], x["B"], x["C"], impl="chunked")

    before = _ssd._ssd_jit._cache_size()
    for seed in range(3):
        y = make_inputs(2, 9, 2, 2, 3, None, False, seed=seed, dtype=np.float32)
        f(y["x"], y["dt"])
        ssd_scan(y["x"], y["dt"], x["A"], x["B"], x["C"], impl="chunked")
    # An integer x is promoted to float32 (the dtype of the other inputs) before the jitted
    # kernel: the same compilation, and the result of the float array of the same values.
    x_int = jnp.asarray(np.arange(2 * 9 * 2 * 2).reshape(2, 9, 2, 2) % 5 - 2, jnp.int32)
    y_int = ssd_scan(x_int, y["dt"], x["A"], x["B"], x["C"], impl="chunked")
    assert y_int.dtype == jnp.float32
    np.testing.assert_array_equal(y_int, ssd_scan(x_int.astype(jnp.float32), y["dt"], x["A"],
                                                  x["B"], x["C"], impl="chunked"))
    assert _ssd._ssd_jit._cache_size() == before + 1
    xs = jnp.stack([x["x"], -x["x"]])
    got = jax.vmap(lambda v: ssd_scan(v, x["dt"], x["A"], x["B"], x["C"]))(xs)
    np.testing.assert_allclose(got[1], ssd_scan(xs[1], x["dt"], x["A"], x["B"], x["C"]),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(("change", "message"), [
    ({"B": np.zeros((2, 8, 3))}, r"B must have shape \(batch, L, N\) = \(2, 9, 3\) or "
                                 r"\(batch, L, groups, N\) = \(2, 9, groups, 3\) with groups "
                                 r"dividing heads = 4, got \(2, 8, 3\)"),
    ({"dt": np.zeros((2, 9, 3))}, r"dt must have shape \(batch, L, heads\) = \(2, 9, 4\), got "
                                  r"\(2, 9, 3\)"),
    ({"x": np.zeros((2, 9, 4))}, r"x must have shape \(batch, L, heads, head_dim\), got"),
    ({"A": np.zeros((4, 3))}, r"A must have shape \(heads,\) = \(4,\), got \(4, 3\)"),
    ({"C": np.zeros((2, 9, 3, 3)), "B": np.zeros((2, 9, 3, 3))}, r"groups dividing heads = 4"),
    ({"z": np.zeros((2, 9, 4, 3))}, r"z must have the shape of x"),
    ({"initial_state": np.zeros((2, 4, 2, 2))}, r"initial_state must have shape \(batch, heads, "
                                                r"head_dim, N\) = \(2, 4, 2, 3\)"),
])
def test_bad_shapes_name_the_argument(user_errors, change, message):
    x = {**make_inputs(2, 9, 4, 2, 3, None, True), **change}
    with pytest.raises(ValueError, match=message):
        ssd_scan(*(x[k] for k in ARGS[:8]), initial_state=x["initial_state"])
    with pytest.raises(ValueError, match=r"impl must be 'auto' or one of"):
        ssd_scan(*(make_inputs(1, 2, 1, 1, 1, None, False)[k] for k in ARGS[:5]), impl="x")


def test_bad_dtypes_rejected(user_errors):
    x = make_inputs(1, 2, 1, 1, 1, None, False)
    rest = [x[k] for k in ARGS[2:5]]
    with pytest.raises(TypeError, match=r"ssd_scan: dt must be a real array \(floating or "
                                        r"integer dtype\), got dtype bool"):
        ssd_scan(x["x"], x["dt"] > 0, *rest)
    with pytest.raises(TypeError, match=r"ssd_scan: A must be real \(complex input is not "
                                        r"supported\), got dtype complex"):
        ssd_scan(x["x"], x["dt"], x["A"] * 1j, *rest[1:])


def test_float32_stays_float32_with_x64_and_integers_take_the_float_dtype(float64):
    """Traced only (no compilation): float32 inputs give float32 outputs and states with x64
    on, for every implementation; integer inputs take the floating dtype of the others
    (float32), or the default float (float64 here) when all are integers. (Gradients take
    the dtype of their primal input by construction.)"""
    x = to_float32(make_inputs(2, 9, 4, 2, 3, 2, True))
    for impl in ["reference", "scan", "chunked", "pallas"]:
        y, h = jax.eval_shape(lambda x, impl=impl: run(impl, x, True), x)
        assert y.dtype == h.dtype == jnp.float32, impl
    y, _ = jax.eval_shape(lambda x: run("auto", x, True), {**x, "x": x["x"].astype(jnp.int32)})
    assert y.dtype == jnp.float32
    ints = [jnp.ones(s, jnp.int32) for s in ((2, 9, 4, 2), (2, 9, 4), (4,), (2, 9, 3), (2, 9, 3))]
    assert jax.eval_shape(ssd_scan, *ints).dtype == jnp.float64
    # and the values of all-integer inputs are those of the float64 arrays of the same values
    ints = [jnp.asarray(np.arange(np.prod(v.shape)).reshape(v.shape) % 3 - 1, jnp.int32)
            for v in ints]
    ints[1], ints[2] = jnp.abs(ints[1]), -jnp.abs(ints[2]) - 1   # dt ≥ 0, A < 0
    np.testing.assert_array_equal(
        ssd_scan(*ints, impl="reference"),
        ssd_scan(*(v.astype(jnp.float64) for v in ints), impl="reference"))
