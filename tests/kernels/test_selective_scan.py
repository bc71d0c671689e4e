"""selective_scan: the lax.scan reference against a plain NumPy loop and finite differences;
every implementation against the reference, forward and gradients w.r.t. every input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from jaxlab.kernels import _selective_scan as ss
from jaxlab.kernels import selective_scan
from tests.kernels._helpers import (
    assert_close,
    assert_scan_matches,
    outputs_and_grads,
    to_float32,
)

XLA_IMPLS = ["scan", "associative", "chunked"]
ARGS = ("u", "delta", "A", "B", "C", "D", "z", "delta_bias", "initial_state")

# Configurations: (batch, L, dim, N, groups or None for 3-d B/C, extras, softplus). L = 1, and
# L = 70: two chunks of the chunked implementations (64 steps), the second one padded; grouped
# and ungrouped B/C; with and without D, z, delta_bias, initial_state. Pallas runs interpreted
# on CPU, slowly: it gets L = 21 (six chunks of 4 steps, the last padded; two channel blocks);
# on L1-plain its channel blocks hold 1 channel, three to a group.
CASES = {
    "L1-plain": (1, 1, 3, 2, None, False, False),
    "L70-grouped-all": (2, 70, 4, 3, 2, True, True),
    "L21-grouped-all": (2, 21, 8, 3, 2, True, True),
}
# L = 1 for the non-default XLA implementations runs in `make test-all` (compile time).
IMPL_CASES = [(i, c) if i == "scan" or c != "L1-plain" else
              pytest.param(i, c, marks=pytest.mark.slow)
              for i in XLA_IMPLS for c in ("L1-plain", "L70-grouped-all")] + [
    ("pallas", "L1-plain"), ("pallas", "L21-grouped-all")]


def make_inputs(batch, length, dim, n, groups, extras, seed=0, dtype=None):
    """mamba-ssm's test distributions: A = −0.5·U, delta = 0.5·U, the rest Gaussian."""
    dtype = jnp.result_type(float) if dtype is None else dtype    # float64 under x64
    rng = np.random.default_rng(seed)
    bshape = (batch, length, n) if groups is None else (batch, length, groups, n)
    x = {
        "u": rng.normal(size=(batch, length, dim)),
        "delta": 0.5 * rng.uniform(size=(batch, length, dim)),
        "A": -0.5 * rng.uniform(size=(dim, n)),
        "B": rng.normal(size=bshape),
        "C": rng.normal(size=bshape),
        "D": rng.normal(size=dim) if extras else None,
        "z": rng.normal(size=(batch, length, dim)) if extras else None,
        "delta_bias": rng.normal(size=dim) * 0.5 if extras else None,
        "initial_state": rng.normal(size=(batch, dim, n)) if extras else None,
    }
    return {k: None if v is None else jnp.asarray(v, dtype) for k, v in x.items()}


def numpy_selective_scan(u, delta, A, B, C, D, z, delta_bias, initial_state, softplus):
    """Plain float64 NumPy loop of the recurrence, one channel and one state at a time."""
    u, delta, A = np.asarray(u, float), np.asarray(delta, float), np.asarray(A, float)
    B, C = np.asarray(B, float), np.asarray(C, float)
    batch, length, dim = u.shape
    n = A.shape[1]
    if B.ndim == 3:
        B, C = B[:, :, None], C[:, :, None]
    per_group = dim // B.shape[2]
    y = np.zeros((batch, length, dim))
    last = np.zeros((batch, dim, n))
    for b in range(batch):
        for d in range(dim):
            g = d // per_group
            h = np.zeros(n) if initial_state is None else np.array(initial_state[b, d], float)
            for t in range(length):
                dt = delta[b, t, d] + (0.0 if delta_bias is None else delta_bias[d])
                if softplus:
                    dt = np.log1p(np.exp(dt))
                h = np.exp(dt * A[d]) * h + dt * u[b, t, d] * B[b, t, g]
                y[b, t, d] = h @ C[b, t, g] + (0.0 if D is None else D[d] * u[b, t, d])
                if z is not None:
                    y[b, t, d] *= z[b, t, d] / (1.0 + np.exp(-z[b, t, d]))
            last[b, d] = h
    return y, last


def run(impl, inputs, softplus):
    return selective_scan(*(inputs[k] for k in ARGS[:8]), delta_softplus=softplus,
                          initial_state=inputs["initial_state"], return_last_state=True,
                          impl=impl)


def run_with_grads(impl, inputs, softplus):
    """(y, h_L) and the gradients of a random linear functional of them w.r.t. every input
    that is present, from one compilation."""
    names = [k for k in ARGS if inputs[k] is not None]
    rng = np.random.default_rng(7)
    y_shape, h_shape = inputs["u"].shape, (inputs["u"].shape[0], *inputs["A"].shape)
    wy = jnp.asarray(rng.normal(size=y_shape), inputs["u"].dtype)
    wh = jnp.asarray(rng.normal(size=h_shape), inputs["u"].dtype)

    return outputs_and_grads(lambda x: run(impl, x, softplus), inputs, names, (wy, wh))


@pytest.fixture(scope="module")
def references():
    """float64 reference outputs and gradients for every case (computed once)."""
    with jax.enable_x64(True):
        out = {}
        for name, (b, L, d, n, g, extras, sp) in CASES.items():
            inputs = make_inputs(b, L, d, n, g, extras)
            out[name] = (inputs, *run_with_grads("reference", inputs, sp))
        return out


@pytest.mark.parametrize("case", list(CASES))
def test_reference_matches_numpy_loop(float64, references, case):
    inputs, (y, h), _ = references[case]
    want_y, want_h = numpy_selective_scan(*(inputs[k] for k in ARGS), CASES[case][-1])
    np.testing.assert_allclose(y, want_y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h, want_h, rtol=1e-12, atol=1e-12)


def test_reference_gradients_match_finite_differences(float64):
    inputs = make_inputs(1, 5, 2, 2, 2, True, seed=3)
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
    softplus = CASES[case][-1]
    (y, h), g = run_with_grads(impl, inputs, softplus)
    assert_scan_matches(((y, h), g), ((y_ref, h_ref), g_ref), jnp.float64, 1e-12, 1e-11)


@pytest.mark.parametrize(("impl", "case"), [
    *((i, "L70-grouped-all") for i in ("reference", *XLA_IMPLS)), ("pallas", "L21-grouped-all")])
def test_float32_matches_float64_reference(references, impl, case):
    inputs64, (y_ref, h_ref), _ = references[case]
    assert_scan_matches((run(impl, to_float32(inputs64), True), {}), ((y_ref, h_ref), {}),
                        jnp.float32, 1e-5)


# Each gradient check is one XLA compilation of a few seconds: the default suite checks the
# CPU default ("scan") in float32, `make test-all` every implementation.
@pytest.mark.parametrize(("impl", "case"), [("scan", "L70-grouped-all"), *(
    pytest.param(i, c, marks=pytest.mark.slow) for i, c in [
        ("reference", "L70-grouped-all"), ("associative", "L70-grouped-all"),
        ("chunked", "L70-grouped-all"), ("pallas", "L21-grouped-all")])])
def test_float32_gradients_match_float64_reference(references, impl, case):
    inputs64, _, g_ref = references[case]
    _, g = run_with_grads(impl, to_float32(inputs64), True)
    for k in g_ref:
        assert g[k].dtype == jnp.float32
        assert_close(g[k], g_ref[k], 1e-5)


def test_bfloat16_inputs_computed_in_float32(references):
    inputs64, (y_ref, _), _ = references["L70-grouped-all"]
    inputs = {k: None if v is None else jnp.asarray(v, jnp.bfloat16) for k, v in inputs64.items()}
    y = selective_scan(*(inputs[k] for k in ARGS[:8]), delta_softplus=True,
                       initial_state=inputs["initial_state"])
    assert y.dtype == jnp.bfloat16
    # Inputs rounded to bf16 (rel. 2^-8) and the output rounded once: mamba's bf16 tolerance.
    np.testing.assert_allclose(np.asarray(y, np.float64), y_ref, rtol=3e-2,
                               atol=5e-2 * np.abs(y_ref).max())


def test_splitting_the_sequence_with_the_last_state(float64):
    """Scanning [0, 20) then [20, 33) from the returned state equals one scan."""
    x = make_inputs(2, 33, 4, 3, 2, False, seed=2)
    whole = selective_scan(x["u"], x["delta"], x["A"], x["B"], x["C"])
    first, h = selective_scan(*(x[k][:, :20] if k in "u delta B C" else x[k]
                                for k in ARGS[:5]), return_last_state=True)
    second = selective_scan(*(x[k][:, 20:] if k in "u delta B C" else x[k] for k in ARGS[:5]),
                            initial_state=h)
    np.testing.assert_allclose(jnp.concatenate([first, second], axis=1), whole, rtol=1e-12,
                               atol=1e-12)


def test_compiles_once_per_shape_jits_and_vmaps():
    x = make_inputs(2, 9, 4, 3, None, True, dtype=np.float32)

    @jax.jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def f(u, delta):
        return selective_scan(u, delta, x["A"], x["B"], x["C"], x["D"], impl="scan")

    before = ss._selective_scan_jit._cache_size()
    for seed in range(3):  # new values, same shapes: one trace, one compilation
        y = make_inputs(2, 9, 4, 3, None, True, seed=seed, dtype=np.float32)
        f(y["u"], y["delta"])
        selective_scan(y["u"], y["delta"], x["A"], x["B"], x["C"], impl="scan")
    # An integer u is promoted to float32 (the dtype of the other inputs) before the jitted
    # kernel: the same compilation, and the result of the float array of the same values.
    u_int = jnp.asarray(np.arange(2 * 9 * 4).reshape(2, 9, 4) % 5 - 2, jnp.int32)
    y_int = selective_scan(u_int, y["delta"], x["A"], x["B"], x["C"], impl="scan")
    assert y_int.dtype == jnp.float32
    np.testing.assert_array_equal(y_int, selective_scan(u_int.astype(jnp.float32), y["delta"],
                                                        x["A"], x["B"], x["C"], impl="scan"))
    assert ss._selective_scan_jit._cache_size() == before + 1

    # vmap over a leading axis of u equals a loop
    us = jnp.stack([x["u"], 2 * x["u"]])
    got = jax.vmap(lambda u: selective_scan(u, x["delta"], x["A"], x["B"], x["C"]))(us)
    for i in range(2):
        np.testing.assert_allclose(
            got[i], selective_scan(us[i], x["delta"], x["A"], x["B"], x["C"]), rtol=1e-6,
            atol=1e-6)


@pytest.mark.parametrize(("change", "message"), [
    ({"B": np.zeros((2, 8, 3))}, r"B must have shape \(batch, L, N\) = \(2, 9, 3\) or "
                                 r"\(batch, L, groups, N\) = \(2, 9, groups, 3\) with groups "
                                 r"dividing dim = 4, got \(2, 8, 3\)"),
    ({"C": np.zeros((2, 9, 3, 3)), "B": np.zeros((2, 9, 3, 3))}, r"groups dividing dim = 4"),
    ({"B": np.zeros((2, 9, 2, 3))}, r"B and C must have the same number of groups"),
    ({"u": np.zeros((2, 9))}, r"u must have shape \(batch, L, dim\), got \(2, 9\)"),
    ({"delta": np.zeros((2, 9, 5))}, r"delta must have the shape of u, \(batch, L, dim\) = "
                                     r"\(2, 9, 4\), got \(2, 9, 5\)"),
    ({"A": np.zeros((3, 3))}, r"A must have shape \(dim, N\) = \(4, N\), got \(3, 3\)"),
    ({"D": np.zeros(3)}, r"D must have shape \(dim,\) = \(4,\), got \(3,\)"),
    ({"delta_bias": np.zeros((4, 1))}, r"delta_bias must have shape \(dim,\)"),
    ({"z": np.zeros((2, 9, 3))}, r"z must have the shape of u"),
    ({"initial_state": np.zeros((2, 4, 2))}, r"initial_state must have shape \(batch, dim, N\) "
                                             r"= \(2, 4, 3\), got \(2, 4, 2\)"),
])
def test_bad_shapes_name_the_argument(user_errors, change, message):
    x = {**make_inputs(2, 9, 4, 3, None, True), **change}
    with pytest.raises(ValueError, match=message):
        selective_scan(*(x[k] for k in ARGS[:8]), initial_state=x["initial_state"])


def test_bad_options_and_dtypes(user_errors):
    x = make_inputs(1, 4, 2, 2, None, False)
    with pytest.raises(ValueError, match=r"impl must be 'auto' or one of"):
        selective_scan(x["u"], x["delta"], x["A"], x["B"], x["C"], impl="cuda")
    with pytest.raises(TypeError, match=r"selective_scan: A must be real \(complex input is not "
                                        r"supported\), got dtype complex"):
        selective_scan(x["u"], x["delta"], x["A"] * 1j, x["B"], x["C"])
    with pytest.raises(TypeError, match=r"selective_scan: u must be a real array \(floating or "
                                        r"integer dtype\), got dtype bool"):
        selective_scan(jnp.ones((1, 4, 2), bool), x["delta"], x["A"], x["B"], x["C"])


def test_float32_stays_float32_with_x64_and_integers_take_the_float_dtype(float64):
    """Traced only (no compilation): float32 inputs give float32 outputs and states with x64
    on, for every implementation; integer inputs take the floating dtype of the others
    (float32), or the default float (float64 here) when all are integers. (Gradients take
    the dtype of their primal input by construction.)"""
    x = to_float32(make_inputs(2, 9, 4, 3, 2, True))
    for impl in [*XLA_IMPLS, "reference", "pallas"]:
        y, h = jax.eval_shape(lambda x, impl=impl: run(impl, x, True), x)
        assert y.dtype == h.dtype == jnp.float32, impl
    y, _ = jax.eval_shape(lambda x: run("auto", x, True), {**x, "u": x["u"].astype(jnp.int32)})
    assert y.dtype == jnp.float32
    ints = [jnp.ones(s, jnp.int32) for s in ((2, 9, 4), (2, 9, 4), (4, 3), (2, 9, 3), (2, 9, 3))]
    assert jax.eval_shape(selective_scan, *ints).dtype == jnp.float64
    # and the values of all-integer inputs are those of the float64 arrays of the same values
    ints = [jnp.asarray(np.arange(np.prod(v.shape)).reshape(v.shape) % 3 - 1, jnp.int32)
            for v in ints]
    ints[2] = -jnp.abs(ints[2]) - 1                        # A < 0
    np.testing.assert_array_equal(
        selective_scan(*ints, impl="reference"),
        selective_scan(*(v.astype(jnp.float64) for v in ints), impl="reference"))
