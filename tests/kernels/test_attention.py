"""attention: the materialised reference against a NumPy loop and finite differences; every
implementation against the reference, forward and gradients w.r.t. q, k, v and bias."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from jaxlab.kernels import _attention as at
from jaxlab.kernels import attention
from tests.kernels._helpers import assert_close, outputs_and_grads

# (batch, Lq, Lk, heads, kv_heads, head_dim, causal, mask, bias). L = 1; Lq ≠ Lk, neither a
# multiple of a block; grouped-query attention; causal, a boolean mask with one query whose
# keys are all masked, and a bias broadcast over the batch.
CASES = {
    "L1": (1, 1, 1, 2, 2, 4, False, False, False),
    "gqa-causal-mask-bias": (2, 9, 13, 4, 2, 3, True, True, True),
    "causal": (1, 19, 13, 2, 1, 4, True, False, False),
}
# The Pallas kernels (interpreted on CPU, blocks of 8) also get "causal": without mask and
# bias they skip the key blocks above the diagonal.
IMPL_CASES = [(i, c) for i in ("xla", "flash") for c in ("L1", "gqa-causal-mask-bias")] + [
    ("pallas", c) for c in CASES]
# Tolerance of jax.nn.dot_product_attention: it accumulates logits in float32.
XLA_RTOL = 2e-6


def make_inputs(batch, lq, lk, heads, kv_heads, d, causal, mask, bias, seed=0,
                dtype=None):
    dtype = jnp.result_type(float) if dtype is None else dtype    # float64 under x64
    rng = np.random.default_rng(seed)
    m = None
    if mask:
        m = rng.uniform(size=(batch, 1, lq, lk)) > 0.3
        m[0, 0, 2] = False                      # query 2 of batch 0 sees no key
    return {
        "q": jnp.asarray(rng.normal(size=(batch, lq, heads, d)), dtype),
        "k": jnp.asarray(rng.normal(size=(batch, lk, kv_heads, d)), dtype),
        "v": jnp.asarray(rng.normal(size=(batch, lk, kv_heads, d)), dtype),
        "mask": None if m is None else jnp.asarray(m),
        "bias": jnp.asarray(rng.normal(size=(1, heads, lq, lk)), dtype) if bias else None,
        "causal": causal,
    }


def numpy_attention(q, k, v, mask, bias, causal, scale):
    """Per batch and head: logits, masked with jax.nn's −0.7·max(float), softmax, values."""
    q, k, v = (np.asarray(a, float) for a in (q, k, v))
    batch, lq, heads, _ = q.shape
    lk, kv_heads = k.shape[1], k.shape[2]
    out = np.zeros_like(q)
    for b in range(batch):
        for h in range(heads):
            kh = h // (heads // kv_heads)
            s = scale * q[b, :, h] @ k[b, :, kh].T
            if bias is not None:
                s = s + np.broadcast_to(np.asarray(bias), (batch, heads, lq, lk))[b, h]
            keep = np.ones((lq, lk), bool)
            if mask is not None:
                keep &= np.broadcast_to(np.asarray(mask), (batch, heads, lq, lk))[b, h]
            if causal:
                keep &= np.arange(lq)[:, None] >= np.arange(lk)[None, :]
            s = np.where(keep, s, -0.7 * np.finfo(np.float64).max)
            p = np.exp(s - s.max(axis=1, keepdims=True))
            out[b, :, h] = (p / p.sum(axis=1, keepdims=True)) @ v[b, :, kh]
    return out


def run(impl, x, **kw):
    return attention(x["q"], x["k"], x["v"], mask=x["mask"], bias=x["bias"],
                     causal=x["causal"], impl=impl, **kw)


def diff_names(x):
    return [k for k in ("q", "k", "v", "bias") if x[k] is not None]


def run_with_grads(fn, x):
    """fn(q, k, v, bias) and its gradients w.r.t. q, k, v (and bias), one compilation."""
    names = diff_names(x)
    w = jnp.asarray(np.random.default_rng(7).normal(size=x["q"].shape), x["q"].dtype)

    return outputs_and_grads(lambda x: fn(**x), x, names, w)


def public(impl):
    return lambda q, k, v, mask, bias, causal: attention(q, k, v, mask=mask, bias=bias,
                                                         causal=causal, impl=impl)


@pytest.fixture(scope="module")
def references():
    with jax.enable_x64(True):
        return {name: (make_inputs(*c), *run_with_grads(public("reference"), make_inputs(*c)))
                for name, c in CASES.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_reference_matches_numpy_loop(float64, references, case):
    x, o, _ = references[case]
    want = numpy_attention(x["q"], x["k"], x["v"], x["mask"], x["bias"], x["causal"],
                           1 / np.sqrt(x["q"].shape[-1]))
    np.testing.assert_allclose(o, want, rtol=1e-12, atol=1e-12)
    if x["mask"] is not None:   # a query with every key masked averages all values
        np.testing.assert_allclose(o[0, 2, 0], np.mean(np.asarray(x["v"][0, :, 0]), axis=0),
                                   rtol=1e-12)


def test_reference_gradients_match_finite_differences(float64):
    x = make_inputs(1, 3, 4, 2, 1, 2, True, False, True, seed=2)
    f = jax.jit(lambda q, k, v, bias: jnp.sum(jnp.sin(attention(
        q, k, v, bias=bias, causal=True, impl="reference"))))
    check_grads(f, (x["q"], x["k"], x["v"], x["bias"]), order=1, modes=["rev"], eps=1e-6,
                atol=1e-7, rtol=1e-7)


@pytest.mark.parametrize(("impl", "case"), IMPL_CASES)
def test_float64_matches_reference(float64, references, impl, case):
    x, o_ref, g_ref = references[case]
    o, g = run_with_grads(public(impl), x)
    rtol = XLA_RTOL if impl == "xla" else 1e-12
    assert o.dtype == jnp.float64
    assert_close(o, o_ref, rtol)
    for k in g_ref:
        assert_close(g[k], g_ref[k], 10 * rtol)


def test_flash_over_several_key_blocks(float64, references):
    """Blocks of 4 keys over Lk = 13: four blocks, the last one padded."""
    x, o_ref, g_ref = references["gqa-causal-mask-bias"]
    flash = functools.partial(at.flash_attention, scale=1 / np.sqrt(3), block_k=4)
    o, g = run_with_grads(flash, x)
    assert_close(o, o_ref, 1e-12)
    for k in g_ref:
        assert_close(g[k], g_ref[k], 1e-11)


@pytest.mark.parametrize("impl", ["reference", "xla", "flash", "pallas"])
def test_float32_matches_float64_reference(references, impl):
    x64, o_ref, g_ref = references["gqa-causal-mask-bias"]
    x = {k: jnp.asarray(v, jnp.float32) if k in ("q", "k", "v", "bias") else v
         for k, v in x64.items()}
    o = run(impl, x)
    assert o.dtype == jnp.float32
    assert_close(o, o_ref, 1e-5)
    if impl == "xla":   # the CPU default; the other gradients are checked in float64 above
        _, g = run_with_grads(public(impl), x)
        for k in g_ref:
            assert g[k].dtype == jnp.float32
            assert_close(g[k], g_ref[k], 1e-5)


def test_bfloat16_keeps_dtype(references):
    x64, o_ref, _ = references["gqa-causal-mask-bias"]
    x = {k: jnp.asarray(v, jnp.bfloat16) if k in ("q", "k", "v", "bias") else v
         for k, v in x64.items()}
    for impl in ("flash", "xla", "pallas"):
        o = run(impl, x)
        assert o.dtype == jnp.bfloat16
        np.testing.assert_allclose(np.asarray(o, np.float64), o_ref, rtol=3e-2, atol=5e-2)


def test_compiles_once_per_shape_and_vmaps():
    x = make_inputs(2, 5, 6, 2, 1, 4, True, False, False, dtype=np.float32)

    @jax.jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def f(q, k):
        return attention(q, k, x["v"], causal=True)

    before = at._attention_jit._cache_size()
    for seed in range(3):
        y = make_inputs(2, 5, 6, 2, 1, 4, True, False, False, seed=seed, dtype=np.float32)
        f(y["q"], y["k"])
        attention(y["q"], y["k"], x["v"], causal=True)
    # An integer v is promoted to float32 (the dtype of q and k) before the jitted kernel:
    # the same compilation, and the result of the float array of the same values.
    v_int = jnp.asarray(np.arange(2 * 6 * 4).reshape(2, 6, 1, 4) % 7 - 3, jnp.int32)
    got = attention(y["q"], y["k"], v_int, causal=True)
    assert got.dtype == jnp.float32
    np.testing.assert_array_equal(
        got, attention(y["q"], y["k"], v_int.astype(jnp.float32), causal=True))
    assert at._attention_jit._cache_size() == before + 1
    qs = jnp.stack([x["q"], 2 * x["q"]])
    got = jax.vmap(lambda q: attention(q, x["k"], x["v"], impl="flash"))(qs)
    np.testing.assert_allclose(got[1], attention(qs[1], x["k"], x["v"], impl="reference"),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("change", "message"), [
    ({"q": np.zeros((2, 5, 4))}, r"q must have shape \(batch, L, heads, head_dim\), got"),
    ({"k": np.zeros((2, 6, 3, 4))}, r"k must have shape \(batch, Lk, kv_heads, head_dim\) = "
                                    r"\(2, Lk, kv_heads, 4\) with kv_heads dividing heads = 2, "
                                    r"got \(2, 6, 3, 4\)"),
    ({"k": np.zeros((2, 6, 1, 3))}, r"k must have shape"),
    ({"v": np.zeros((2, 7, 1, 4))}, r"v must have the shape of k, \(2, 6, 1, 4\), got "
                                    r"\(2, 7, 1, 4\)"),
    ({"mask": np.ones((2, 2, 5, 5), bool)}, r"mask must have a 4-d shape broadcastable to "
                                            r"\(batch, heads, Lq, Lk\) = \(2, 2, 5, 6\), got "
                                            r"\(2, 2, 5, 5\)"),
    ({"bias": np.ones((5, 6))}, r"bias must have a 4-d shape broadcastable"),
])
def test_bad_shapes_name_the_argument(user_errors, change, message):
    x = {**make_inputs(2, 5, 6, 2, 1, 4, False, False, False), **change}
    with pytest.raises(ValueError, match=message):
        attention(x["q"], x["k"], x["v"], mask=x["mask"], bias=x["bias"])


def test_bad_options(user_errors):
    x = make_inputs(1, 2, 2, 1, 1, 2, False, False, False)
    with pytest.raises(ValueError, match=r"impl must be 'auto' or one of"):
        attention(x["q"], x["k"], x["v"], impl="cudnn")
    with pytest.raises(TypeError, match=r"attention: mask must be boolean \(True = attend; "
                                        r"pass additive masks as bias\), got dtype float"):
        attention(x["q"], x["k"], x["v"], mask=jnp.ones((1, 1, 2, 2)))
    with pytest.raises(TypeError, match=r"attention: scale must be a real finite number or "
                                        r"None, got '2'"):
        attention(x["q"], x["k"], x["v"], scale="2")
    with pytest.raises(ValueError, match=r"attention: scale must be a real finite number or "
                                         r"None, got nan"):
        attention(x["q"], x["k"], x["v"], scale=float("nan"))
    with pytest.raises(TypeError, match=r"attention: q must be a real array \(floating or "
                                        r"integer dtype\), got dtype bool"):
        attention(x["q"] > 0, x["k"], x["v"])
    with pytest.raises(TypeError, match=r"attention: v must be real \(complex input is not "
                                        r"supported\), got dtype complex"):
        attention(x["q"], x["k"], x["v"] * 1j)


def test_float32_stays_float32_with_x64_and_integers_take_the_float_dtype(float64):
    """Traced only (no compilation): float32 inputs give float32 outputs with x64 on, for
    every implementation; integer inputs take the floating dtype of the others (float32),
    or the default float (float64 here) when all are integers. (Gradients take the dtype of
    their primal input by construction.)"""
    x = make_inputs(2, 5, 6, 2, 1, 4, True, True, True, dtype=np.float32)
    arrays = {k: x[k] for k in ("q", "k", "v", "bias")}
    for impl in at.IMPLS:
        out = jax.eval_shape(lambda a, impl=impl: run(impl, {**x, **a}), arrays)
        assert out.dtype == jnp.float32, impl
    out = jax.eval_shape(lambda a: run("auto", {**x, **a}),
                         {**arrays, "q": x["q"].astype(jnp.int32)})
    assert out.dtype == jnp.float32
    ints = [jnp.ones(s, jnp.int32) for s in ((2, 5, 2, 4), (2, 6, 1, 4), (2, 6, 1, 4))]
    assert jax.eval_shape(attention, *ints).dtype == jnp.float64
