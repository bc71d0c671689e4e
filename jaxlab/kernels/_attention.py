"""Softmax attention: a materialised reference, `jax.nn.dot_product_attention`, and a blocked
online-softmax ("flash") implementation in pure JAX with a recomputing custom VJP.

Layout `(batch, L, heads, head_dim)` as `jax.nn.dot_product_attention`; grouped-query
attention when `k, v` have fewer heads (`heads % kv_heads == 0`, query head `i` reads KV head
`i // (heads // kv_heads)`). Masked logits take the value `-0.7 · finfo.max` as in
`jax.nn.dot_product_attention`, so a query whose keys are all masked averages all values.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jaxtyping import Array, ArrayLike, Bool, Float, Real

from .._core.checks import as_float_arrays, check_number, shape_str
from ._attention_pallas import attention_pallas, vmem_bytes
from ._dispatch import cpu_attention_impl, resolve_impl

IMPLS = ("reference", "xla", "flash", "pallas")

FLASH_BLOCK_K = 128      # keys per block of the "flash" implementation

_HIGHEST = lax.Precision.HIGHEST


def mask_value(dtype) -> float:
    """The logit given to masked entries (as `jax.nn.dot_product_attention`)."""
    return -0.7 * float(jnp.finfo(dtype).max)


def attention(
    q: Real[ArrayLike, "batch Lq heads head_dim"],
    k: Real[ArrayLike, "batch Lk kv_heads head_dim"],
    v: Real[ArrayLike, "batch Lk kv_heads head_dim"],
    *,
    mask: Bool[ArrayLike, "_ _ _ _"] | None = None,
    bias: Real[ArrayLike, "_ _ _ _"] | None = None,
    causal: bool = False,
    scale: float | None = None,
    impl: str = "auto",
) -> Float[Array, "batch Lq heads head_dim"]:
    """Scaled dot-product attention, `softmax(scale · q kᵀ + bias, masked) v`, per head.

    **Arguments:**

    - `q`: queries, `(batch, Lq, heads, head_dim)`.
    - `k`, `v`: keys and values, `(batch, Lk, kv_heads, head_dim)` with `kv_heads` dividing
      `heads` (grouped-query attention; `kv_heads = 1` is multi-query attention).
    - `mask`: boolean, `True` where a query may attend a key; 4-d, broadcastable to
      `(batch, heads, Lq, Lk)`.
    - `bias`: additive logits, 4-d, broadcastable to `(batch, heads, Lq, Lk)`.
    - `causal`: query `i` attends keys `j ≤ i` (top-left aligned, as `jax.nn`).
    - `scale`: logit scale, default `1 / sqrt(head_dim)`.
    - `impl`: `"reference"` (materialised float32/float64 softmax, the oracle), `"xla"`
      (`jax.nn.dot_product_attention`; it accumulates logits in float32, so float64 inputs
      get float32 accuracy), `"flash"` (online softmax over blocks of 128 keys in
      pure JAX, O(L) memory, custom VJP recomputing the probabilities), `"pallas"` (fused
      kernels; interpreted on CPU) or `"auto"` (Pallas on GPU and on TPU where its blocks fit
      VMEM; otherwise `"xla"` up to 1024² logits per head — `"reference"` for float64 —
      and `"flash"` beyond, as measured on CPU).

    **Returns:** `(batch, Lq, heads, head_dim)` in the promoted dtype of `q, k, v`.
    Differentiable in `q, k, v, bias` in reverse mode; `"flash"` and `"pallas"` carry custom
    VJPs, so forward mode (`jvp`) needs `"reference"` or `"xla"`.

    Integer `q, k, v, bias` are promoted to the floating dtype of the others (the default
    floating dtype when all are integers).

    **Raises:** `ValueError` for a wrong shape (naming the argument and the shape wanted),
    a non-finite `scale` or an unknown `impl`; `TypeError` for a non-boolean mask, a
    `scale` that is not a real number, or a boolean, complex or non-numeric input.

    **References:** Vaswani et al., *Attention Is All You Need* (2017); Dao,
    *FlashAttention-2* (2023), Algorithms 1 and 2; Ainslie et al., *GQA* (2023).
    """
    x = as_float_arrays("attention", q=q, k=k, v=v, bias=bias)
    _, lq, lk, _, _, head_dim = _check_shapes(**x, mask=mask)
    scale = check_number("attention", "scale", scale, none_ok=True)
    operands = (mask is not None) + (bias is not None)
    impl = resolve_impl("attention", impl, IMPLS,
                        pallas_bytes=vmem_bytes(lq, lk, head_dim, operands),
                        xla_default=cpu_attention_impl(lq, lk, jnp.result_type(
                            x["q"], x["k"], x["v"])))
    scale = float(1.0 / np.sqrt(head_dim) if scale is None else scale)
    return _attention_jit(x["q"], x["k"], x["v"], mask, x["bias"], impl=impl, causal=causal,
                          scale=scale)


def _check_shapes(q, k, v, mask, bias):
    """Static shape and mask checks; returns (batch, Lq, Lk, heads, kv_heads, head_dim)."""
    name = "attention"
    if mask is not None and jnp.result_type(mask) != jnp.bool_:
        raise TypeError(f"{name}: mask must be boolean (True = attend; pass additive masks as "
                        f"bias), got dtype {jnp.result_type(mask)}")
    if jnp.ndim(q) != 4:
        raise ValueError(f"{name}: q must have shape (batch, L, heads, head_dim), got "
                         f"{shape_str(q)}")
    batch, lq, heads, head_dim = jnp.shape(q)
    kshape = jnp.shape(k)
    if (len(kshape) != 4 or kshape[0] != batch or kshape[3] != head_dim or kshape[2] == 0
            or heads % kshape[2] != 0):
        raise ValueError(f"{name}: k must have shape (batch, Lk, kv_heads, head_dim) = "
                         f"({batch}, Lk, kv_heads, {head_dim}) with kv_heads dividing heads = "
                         f"{heads}, got {shape_str(k)}")
    if jnp.shape(v) != kshape:
        raise ValueError(f"{name}: v must have the shape of k, {tuple(kshape)}, got "
                         f"{shape_str(v)}")
    lk, kv_heads = kshape[1], kshape[2]
    full = (batch, heads, lq, lk)
    for arg, value in [("mask", mask), ("bias", bias)]:
        if value is None:
            continue
        shape = jnp.shape(value)
        if len(shape) != 4 or any(s not in (1, f) for s, f in zip(shape, full, strict=True)):
            raise ValueError(f"{name}: {arg} must have a 4-d shape broadcastable to "
                             f"(batch, heads, Lq, Lk) = {full}, got {shape_str(value)}")
    return batch, lq, lk, heads, kv_heads, head_dim


@functools.partial(jax.jit, static_argnames=("impl", "causal", "scale"))
def _attention_jit(q, k, v, mask, bias, *, impl, causal, scale):
    if impl == "xla":
        return jax.nn.dot_product_attention(q, k, v, bias, mask, scale=scale, is_causal=causal)
    out_dtype = jnp.result_type(q, k, v)
    cdt = jnp.promote_types(out_dtype, jnp.float32)
    if impl == "pallas":    # products in the input dtype, accumulation in float32 or wider
        q, k, v = (a.astype(out_dtype) for a in (q, k, v))
        bias = None if bias is None else bias.astype(cdt)
        return attention_pallas(q, k, v, mask, bias, causal=causal, scale=scale)
    q, k, v = (a.astype(cdt) for a in (q, k, v))
    bias = None if bias is None else bias.astype(cdt)
    fn = {"reference": attention_reference, "flash": flash_attention}[impl]
    return fn(q, k, v, mask, bias, causal=causal, scale=scale).astype(out_dtype)


def _grouped(q, kv_heads):
    """(b, Lq, H, D) → (b, K, G, Lq, D)."""
    b, lq, h, d = q.shape
    return jnp.moveaxis(q.reshape(b, lq, kv_heads, h // kv_heads, d), 1, 3)


def _grouped_logits_operand(x, kv_heads):
    """A 4-d mask/bias (b', H' ∈ {1, H}, Lq', Lk') → (b', K', G', Lq', Lk')."""
    b, h, lq, lk = x.shape
    if h == 1:
        return x[:, :, None]
    return x.reshape(b, kv_heads, h // kv_heads, lq, lk)


def _ungrouped(o):
    """(b, K, G, Lq, D) → (b, Lq, H, D)."""
    b, kh, g, lq, d = o.shape
    return jnp.moveaxis(o, 3, 1).reshape(b, lq, kh * g, d)


def _keep(mask, causal, lq, lk, q_offset=0, k_offset=0):
    """Boolean keep-mask of shape broadcastable to (…, Lq, Lk), or None if none applies."""
    keep = mask
    if causal:
        qi = q_offset + jnp.arange(lq)[:, None]
        kj = k_offset + jnp.arange(lk)[None, :]
        keep = qi >= kj if keep is None else keep & (qi >= kj)
    return keep


def attention_reference(q, k, v, mask, bias, *, causal, scale):
    """The oracle: logits, mask, softmax and weighted sum, all materialised."""
    kv_heads = k.shape[2]
    s = scale * jnp.einsum("bkgqd,bskd->bkgqs", _grouped(q, kv_heads), k, precision=_HIGHEST)
    if bias is not None:
        s = s + _grouped_logits_operand(bias, kv_heads)
    mask = None if mask is None else _grouped_logits_operand(mask, kv_heads)
    keep = _keep(mask, causal, q.shape[1], k.shape[1])
    if keep is not None:
        s = jnp.where(keep, s, mask_value(s.dtype))
    p = jax.nn.softmax(s, axis=-1)
    return _ungrouped(jnp.einsum("bkgqs,bskd->bkgqd", p, v, precision=_HIGHEST))


# --------------------------------------------------------------------------- flash (pure JAX)


def _key_blocks(x, block, axis):
    """Split `axis` (length a multiple of `block`) into (n_blocks, ...) with blocks leading."""
    shape = x.shape
    x = x.reshape(*shape[:axis], shape[axis] // block, block, *shape[axis + 1:])
    return jnp.moveaxis(x, axis, 0)


def _flash_prepare(k, v, mask, bias, block_k):
    """Pad keys to a multiple of the block and split keys, values, mask and bias in blocks."""
    lk = k.shape[1]
    pad = -lk % block_k
    if pad:
        k = jnp.pad(k, [(0, 0), (0, pad), (0, 0), (0, 0)])
        v = jnp.pad(v, [(0, 0), (0, pad), (0, 0), (0, 0)])
    kb, vb = _key_blocks(k, block_k, 1), _key_blocks(v, block_k, 1)   # (nk, b, bk, K, D)
    blocks = []
    for x, fill in [(mask, False), (bias, 0)]:
        if x is None or x.shape[-1] == 1:
            blocks.append(None)
            continue
        if pad:
            x = jnp.pad(x, [(0, 0)] * 3 + [(0, pad)], constant_values=fill)
        blocks.append(_key_blocks(x, block_k, 3))                     # (nk, b', H', Lq', bk)
    return kb, vb, *blocks


def _flash_logits(qs, k_j, mask, bias, mask_j, bias_j, j, *, causal, lk, block_k, kv_heads):
    """Scaled logits of one key block, masked, (b, K, G, Lq, bk), and the keep-mask (or None).

    The mask is applied by `where`, so logits it replaces get no gradient (as in the reference)
    even when a query's keys are all masked and the softmax gives them weight.
    """
    s = jnp.einsum("bkgqd,bskd->bkgqs", qs, k_j, precision=_HIGHEST)
    if bias is not None:
        s = s + _grouped_logits_operand(bias if bias_j is None else bias_j, kv_heads)
    m = None if mask is None else _grouped_logits_operand(mask if mask_j is None else mask_j,
                                                          kv_heads)
    keep = _keep(m, causal, qs.shape[3], block_k, k_offset=j * block_k)
    if keep is not None:
        s = jnp.where(keep, s, mask_value(s.dtype))
    key = j * block_k + jnp.arange(block_k)
    return jnp.where(key < lk, s, -jnp.inf), keep     # padded keys are never attended


@functools.partial(jax.custom_vjp, nondiff_argnums=(5, 6, 7))
def _flash(q, k, v, mask, bias, causal, scale, block_k):
    return _flash_forward(q, k, v, mask, bias, causal, scale, block_k)[0]


def _flash_forward(q, k, v, mask, bias, causal, scale, block_k):
    kv_heads, lk = k.shape[2], k.shape[1]
    qs = _grouped(q, kv_heads) * scale                                # (b, K, G, Lq, D)
    kb, vb, mb, bb = _flash_prepare(k, v, mask, bias, block_k)
    stat_shape = qs.shape[:-1]

    def body(carry, xs):
        m, norm, acc = carry
        j, k_j, v_j, mask_j, bias_j = xs
        s, _ = _flash_logits(qs, k_j, mask, bias, mask_j, bias_j, j, causal=causal, lk=lk,
                             block_k=block_k, kv_heads=kv_heads)
        m_new = jnp.maximum(m, jnp.max(s, axis=-1))
        p = jnp.exp(s - m_new[..., None])
        correction = jnp.exp(m - m_new)
        norm = correction * norm + jnp.sum(p, axis=-1)
        acc = correction[..., None] * acc + jnp.einsum("bkgqs,bskd->bkgqd", p, v_j,
                                                       precision=_HIGHEST)
        return (m_new, norm, acc), None

    init = (jnp.full(stat_shape, -jnp.inf, q.dtype), jnp.zeros(stat_shape, q.dtype),
            jnp.zeros((*stat_shape, v.shape[-1]), q.dtype))
    (m, norm, acc), _ = lax.scan(body, init, (jnp.arange(kb.shape[0]), kb, vb, mb, bb))
    out = acc / norm[..., None]
    # The backward pass needs P = exp(S − m) / l. Not exp(S − LSE): for a query whose keys
    # are all masked, m is the mask value (≈ −10^38) and m + log l rounds back to m.
    return _ungrouped(out), (m, norm)


def _flash_fwd(q, k, v, mask, bias, causal, scale, block_k):
    out, stats = _flash_forward(q, k, v, mask, bias, causal, scale, block_k)
    return out, (q, k, v, mask, bias, out, stats)


def _flash_bwd(causal, scale, block_k, residuals, d_out):
    q, k, v, mask, bias, out, (m, norm) = residuals
    kv_heads, lk = k.shape[2], k.shape[1]
    qs = _grouped(q, kv_heads) * scale
    do = _grouped(d_out, kv_heads)                                    # (b, K, G, Lq, D)
    delta = jnp.sum(do * _grouped(out, kv_heads), axis=-1)            # rowsum(dO ⊙ O)
    kb, vb, mb, bb = _flash_prepare(k, v, mask, bias, block_k)

    def body(dq, xs):
        j, k_j, v_j, mask_j, bias_j = xs
        s, keep = _flash_logits(qs, k_j, mask, bias, mask_j, bias_j, j, causal=causal, lk=lk,
                                block_k=block_k, kv_heads=kv_heads)
        p = jnp.exp(s - m[..., None]) / norm[..., None]               # (b, K, G, Lq, bk)
        dv_j = jnp.einsum("bkgqs,bkgqd->bskd", p, do, precision=_HIGHEST)
        dp = jnp.einsum("bkgqd,bskd->bkgqs", do, v_j, precision=_HIGHEST)
        ds = p * (dp - delta[..., None])
        if keep is not None:
            ds = jnp.where(keep, ds, 0.0)
        dq = dq + jnp.einsum("bkgqs,bskd->bkgqd", ds, k_j, precision=_HIGHEST)
        dk_j = jnp.einsum("bkgqs,bkgqd->bskd", ds, qs, precision=_HIGHEST)
        return dq, (dk_j, dv_j, ds if bias is not None else None)

    dq, (dk, dv, ds) = lax.scan(body, jnp.zeros_like(qs), (jnp.arange(kb.shape[0]), kb, vb,
                                                          mb, bb))
    dq = _ungrouped(dq * scale)
    dk = jnp.moveaxis(dk, 0, 1).reshape(k.shape[0], -1, *k.shape[2:])[:, :lk]
    dv = jnp.moveaxis(dv, 0, 1).reshape(v.shape[0], -1, *v.shape[2:])[:, :lk]
    dbias = None
    if bias is not None:
        # ds: (nk, b, K, G, Lq, bk) → (b, H, Lq, Lk), then summed over bias's broadcast axes.
        b, kh, g, lq = ds.shape[1:5]
        ds = jnp.moveaxis(ds, 0, 4).reshape(b, kh * g, lq, -1)[..., :lk]
        axes = tuple(i for i in range(4) if bias.shape[i] == 1 and ds.shape[i] != 1)
        dbias = jnp.sum(ds, axis=axes, keepdims=True).astype(bias.dtype)
    return dq, dk, dv, None, dbias


_flash.defvjp(_flash_fwd, _flash_bwd)


def flash_attention(q, k, v, mask, bias, *, causal, scale, block_k=FLASH_BLOCK_K):
    """Online-softmax attention over blocks of `block_k` keys (`lax.scan`), O(L) memory.

    The forward pass keeps the running max `m`, normaliser `l` and unnormalised output per
    query and saves only `O`, `m` and `l`; the backward pass recomputes each block's
    probabilities `P = exp(S − m) / l` and accumulates `dQ`, emitting `dK, dV` per block.
    """
    block_k = min(block_k, k.shape[1])
    return _flash(q, k, v, mask, bias, causal, scale, block_k)
