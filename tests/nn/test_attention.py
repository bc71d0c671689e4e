"""MultiHeadAttention: a float64 einsum forward pass, permutation equivariance, causality,
grouped-query heads, rotary positions (relative-position property) and argument errors."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.nn import MultiHeadAttention, rotary_embedding


def build(**kw):
    """A small layer (float64 parameters under x64), built once per configuration under jit:
    eager construction dispatches one compilation per initialiser op."""
    kw = {"num_kv_heads": 2, **kw}
    return _build(tuple(sorted(kw.items())), jax.config.read("jax_enable_x64"))


@functools.cache
def _build(kw, x64):
    return eqx.filter_jit(lambda k: MultiHeadAttention(8, 4, key=k, **dict(kw)))(
        jax.random.key(0))


def numpy_mha(m, x, causal, rotary=False):
    """Projections, per-head softmax(q kᵀ/√d) v with einsum, output projection (float64)."""
    w = lambda lin: np.asarray(lin.weight, np.float64)
    b, length, _ = x.shape
    q = (x @ w(m.q_proj).T).reshape(b, length, m.num_heads, m.head_dim)
    k = (x @ w(m.k_proj).T).reshape(b, length, m.num_kv_heads, m.head_dim)
    v = (x @ w(m.v_proj).T).reshape(b, length, m.num_kv_heads, m.head_dim)
    if rotary:
        q = np.asarray(rotary_embedding(jnp.asarray(q), jnp.arange(length)))
        k = np.asarray(rotary_embedding(jnp.asarray(k), jnp.arange(length)))
    group = m.num_heads // m.num_kv_heads
    k, v = np.repeat(k, group, axis=2), np.repeat(v, group, axis=2)
    s = np.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(m.head_dim)
    if causal:
        s = np.where(np.tril(np.ones((length, length), bool)), s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    o = np.einsum("bhqk,bkhd->bqhd", p, v).reshape(b, length, -1)
    return o @ w(m.o_proj).T


@pytest.mark.parametrize(("causal", "rotary"), [(False, False), (True, True)])
def test_matches_float64_einsum(float64, causal, rotary):
    m = build(causal=causal, rotary=rotary)
    x = jax.random.normal(jax.random.key(1), (2, 6, 8))
    got = eqx.filter_jit(lambda m, x: m(x))(m, x)
    np.testing.assert_allclose(got, numpy_mha(m, np.asarray(x), causal, rotary), rtol=1e-10,
                               atol=1e-12)


def test_permutation_equivariance_and_causality():
    """Without positions or mask, permuting tokens permutes outputs; with a causal mask,
    ∂out_t/∂x_s = 0 for s > t."""
    m, mc = build(), build(causal=True)
    x = jax.random.normal(jax.random.key(2), (6, 8))
    perm = np.array([3, 0, 5, 1, 4, 2])

    @eqx.filter_jit
    def run(m, mc, x):
        return m(x), m(x[perm]), jax.jacrev(mc)(x)

    out, out_perm, jac = run(m, mc, x)
    np.testing.assert_allclose(out_perm, out[perm], rtol=1e-5, atol=1e-6)
    strength = np.abs(np.asarray(jac)).sum(axis=(1, 3))
    assert np.all(strength[np.triu_indices(6, k=1)] == 0.0)
    assert np.all(strength[np.tril_indices(6)] > 0.0)


def test_rotary_scores_depend_on_relative_position(float64):
    q = jax.random.normal(jax.random.key(3), (5, 1, 8))
    k = jax.random.normal(jax.random.key(4), (5, 1, 8))
    pos = jnp.arange(5)
    scores = lambda shift: jnp.einsum("qhd,khd->qk", rotary_embedding(q, pos + shift),
                                      rotary_embedding(k, pos + shift))
    np.testing.assert_allclose(scores(0), scores(17), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(jnp.linalg.norm(rotary_embedding(q, pos), axis=-1),
                               jnp.linalg.norm(q, axis=-1), rtol=1e-12)   # rotations


def test_cross_attention_mask_and_batch_axes():
    m = build(num_kv_heads=1)
    x = jax.random.normal(jax.random.key(5), (3, 4, 8))
    ctx = jax.random.normal(jax.random.key(6), (3, 7, 8))
    mask = jnp.arange(7)[None, None, None, :] < 3            # attend the first 3 keys only

    @eqx.filter_jit
    def run(m, x, ctx):
        return m(x, ctx, mask=mask), m(x, ctx[:, :3])

    masked, truncated = run(m, x, ctx)
    assert masked.shape == (3, 4, 8)
    np.testing.assert_allclose(masked, truncated, rtol=1e-5, atol=1e-6)


def test_argument_errors(user_errors):
    with pytest.raises(ValueError, match=r"MultiHeadAttention: num_kv_heads must divide "
                                         r"num_heads = 4, got 3"):
        MultiHeadAttention(8, 4, num_kv_heads=3, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"MultiHeadAttention: num_heads must divide d_model = "
                                         r"8 \(or pass head_dim\), got 3"):
        MultiHeadAttention(8, 3, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"MultiHeadAttention: head_dim must be even for rotary "
                                         r"embeddings, got 3"):
        MultiHeadAttention(8, 2, head_dim=3, rotary=True, key=jax.random.key(0))
    with pytest.raises(TypeError, match=r"MultiHeadAttention: num_heads must be a positive int, "
                                        r"got '4'"):
        MultiHeadAttention(8, "4", key=jax.random.key(0))
    m = build()
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., L, d_model\) = "
                                         r"\(\.\.\., L, 8\), got \(5, 4\)"):
        m(jnp.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"positions must have shape \(L,\) = \(5,\), got \(4,\)"):
        rotary_embedding(jnp.zeros((5, 1, 4)), jnp.arange(4))
    with pytest.raises(TypeError, match=r"rotary_embedding: positions must be a real array "
                                        r"\(floating or integer dtype\), got dtype bool"):
        rotary_embedding(jnp.zeros((5, 1, 4)), jnp.ones(5, bool))
    with pytest.raises(ValueError, match=r"rotary_embedding: x must have shape \(\.\.\., L, "
                                         r"heads, head_dim\), got \(5, 4\)"):
        rotary_embedding(jnp.zeros((5, 4)), jnp.arange(5))
    with pytest.raises(TypeError, match=r"MultiHeadAttention: context must be real \(complex "
                                        r"input is not supported\), got dtype complex"):
        m(jnp.zeros((5, 8)), jnp.zeros((5, 8), complex))
