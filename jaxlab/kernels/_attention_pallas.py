"""Pallas flash-attention kernels: forward, and a backward in two kernels (∂Q; ∂K and ∂V).

**Forward** (grid: batch × heads × query blocks): a query block stays on chip while a
`fori_loop` walks the key blocks with the online softmax (running max `m`, normaliser `l`,
unnormalised output). It writes `O`, `m` and `l` (not `LSE = m + log l`, which rounds to `m`
for a query whose keys are all masked).

**Backward**: with `Δ = rowsum(∂O ⊙ O)` (computed outside, elementwise),
`P = exp(S − m) / l`, `∂S = P ⊙ (∂O Vᵀ − Δ)` zeroed where masked:
the ∂Q kernel (grid over query blocks, loop over key blocks) accumulates `∂Q = s ∂S K` and
writes `∂S` as the bias gradient when there is a bias; the ∂K∂V kernel (grid over key blocks
of each *query* head, loop over query blocks) accumulates `∂V = Pᵀ ∂O` and `∂K = s ∂Sᵀ Q`;
grouped-query heads are summed outside.

Causal attention without a mask or bias skips the key blocks above the diagonal (with a mask
a query may have all its keys masked and must then average over every key, as the
reference does). Sequences are padded to block multiples; padded keys get logit −∞.
Matrix products take the input dtype and accumulate in float32 (float64 for float64 input).
"""

import functools
import math

import jax
import jax.numpy as jnp
from jax import lax

from . import _compat
from ._compat import pl


def _default_blocks(head_dim: int) -> tuple[int, int, int, int, int]:
    """(block_q, block_k, block_q_bwd, block_k_bwd, num_warps) for the current platform."""
    kind = _compat.platform()
    if kind == "gpu":
        return 128, 64, 64, 64, 4 if head_dim <= 64 else 8
    if kind == "tpu":
        return 128, 128, 128, 128, 4
    return 8, 8, 8, 8, 4


def vmem_bytes(lq: int, lk: int, head_dim: int, operands: int) -> int:
    """VMEM one program holds (the larger of the forward and ∂K∂V kernels), double-buffered
    at 4 bytes an element; `operands` counts the mask and bias given."""
    bq, bk, bqb, bkb, _ = _default_blocks(head_dim)
    round_up = lambda n, m: -(-n // m) * m
    lq_p, lk_p = round_up(lq, math.lcm(bq, bqb)), round_up(lk, math.lcm(bk, bkb))
    forward = 2 * lk_p * head_dim + operands * bq * lk_p
    dkv = lq_p * (2 * head_dim + 3) + operands * lq_p * bkb
    return 8 * max(forward, dkv)


def _mm(a, b, contract, acc):
    precision = (lax.Precision.HIGHEST if a.dtype in (jnp.float32, jnp.float64)
                 else lax.Precision.DEFAULT)
    return lax.dot_general(a, b, (((contract[0],), (contract[1],)), ((), ())),
                           precision=precision, preferred_element_type=acc)


def _logits(q, k, mask_ref, bias_ref, rows, cols, qi, kj, *, scale, causal, lk, acc,
            mask_value):
    """Scaled, biased, masked logits of one (query block, key block) and the keep-mask."""
    s = _mm(q, k, (1, 1), acc) * scale
    if bias_ref is not None:
        s = s + bias_ref[rows, cols].astype(acc)
    keep = None
    if mask_ref is not None:
        keep = mask_ref[rows, cols] != 0
    if causal:
        c = qi[:, None] >= kj[None, :]
        keep = c if keep is None else keep & c
    if keep is not None:
        s = jnp.where(keep, s, mask_value)
    return jnp.where(kj[None, :] < lk, s, -jnp.inf), keep


def _causal_key_blocks(i, block_q, block_k, n_k):
    """Key blocks that query block i needs under a causal mask: ⌈(i+1)·bq / bk⌉, at most n_k."""
    return jnp.minimum(n_k, lax.div((i + 1) * block_q + block_k - 1, jnp.int32(block_k)))


def _forward_kernel(q_ref, k_ref, v_ref, *refs, has_mask, has_bias, block_q, block_k, n_k,
                    skip, scale, causal, lk, acc, mask_value):
    mask_ref = refs[0] if has_mask else None
    bias_ref = refs[int(has_mask)] if has_bias else None
    o_ref, m_ref, l_ref = refs[int(has_mask) + int(has_bias):]
    i = pl.program_id(2)
    q = q_ref[...]
    qi = i * block_q + lax.broadcasted_iota(jnp.int32, (block_q,), 0)

    def body(j, carry):
        o, m, norm = carry
        cols = pl.ds(j * block_k, block_k)
        kj = j * block_k + lax.broadcasted_iota(jnp.int32, (block_k,), 0)
        s, _ = _logits(q, k_ref[cols, :], mask_ref, bias_ref, slice(None), cols, qi, kj,
                       scale=scale, causal=causal, lk=lk, acc=acc, mask_value=mask_value)
        m_new = jnp.maximum(m, jnp.max(s, axis=1))
        p = jnp.exp(s - m_new[:, None])
        correction = jnp.exp(m - m_new)
        v = v_ref[cols, :]
        o = correction[:, None] * o + _mm(p.astype(v.dtype), v, (1, 0), acc)
        return o, m_new, correction * norm + jnp.sum(p, axis=1)

    upper = _causal_key_blocks(i, block_q, block_k, n_k) if skip else n_k
    init = (jnp.zeros((block_q, v_ref.shape[-1]), acc), jnp.full((block_q,), -jnp.inf, acc),
            jnp.zeros((block_q,), acc))
    o, m, norm = lax.fori_loop(0, upper, body, init)
    o_ref[...] = (o / norm[:, None]).astype(o_ref.dtype)
    m_ref[...] = m
    l_ref[...] = norm


def _dq_kernel(q_ref, k_ref, v_ref, do_ref, m_ref, l_ref, delta_ref, *refs, has_mask, has_bias,
               block_q, block_k, n_k, skip, scale, causal, lk, acc, mask_value):
    mask_ref = refs[0] if has_mask else None
    bias_ref = refs[int(has_mask)] if has_bias else None
    dq_ref = refs[int(has_mask) + int(has_bias)]
    dbias_ref = refs[-1] if has_bias else None
    i = pl.program_id(2)
    q, do = q_ref[...], do_ref[...]
    m, norm, delta = m_ref[...], l_ref[...], delta_ref[...]
    qi = i * block_q + lax.broadcasted_iota(jnp.int32, (block_q,), 0)

    def body(j, dq):
        cols = pl.ds(j * block_k, block_k)
        kj = j * block_k + lax.broadcasted_iota(jnp.int32, (block_k,), 0)
        k, v = k_ref[cols, :], v_ref[cols, :]
        s, keep = _logits(q, k, mask_ref, bias_ref, slice(None), cols, qi, kj, scale=scale,
                          causal=causal, lk=lk, acc=acc, mask_value=mask_value)
        p = jnp.exp(s - m[:, None]) / norm[:, None]
        ds = p * (_mm(do, v, (1, 1), acc) - delta[:, None])
        if keep is not None:
            ds = jnp.where(keep, ds, 0.0)
        if dbias_ref is not None:
            dbias_ref[:, cols] = ds.astype(dbias_ref.dtype)
        return dq + _mm(ds.astype(k.dtype), k, (1, 0), acc)

    upper = _causal_key_blocks(i, block_q, block_k, n_k) if skip else n_k
    dq = lax.fori_loop(0, upper, body, jnp.zeros(q.shape, acc))
    dq_ref[...] = (dq * scale).astype(dq_ref.dtype)


def _dkv_kernel(q_ref, k_ref, v_ref, do_ref, m_ref, l_ref, delta_ref, *refs, has_mask,
                has_bias, block_q, block_k, n_q, skip, scale, causal, lk, acc, mask_value):
    mask_ref = refs[0] if has_mask else None
    bias_ref = refs[int(has_mask)] if has_bias else None
    dk_ref, dv_ref = refs[int(has_mask) + int(has_bias):]
    j = pl.program_id(2)
    k, v = k_ref[...], v_ref[...]
    kj = j * block_k + lax.broadcasted_iota(jnp.int32, (block_k,), 0)

    def body(i, carry):
        dk, dv = carry
        rows = pl.ds(i * block_q, block_q)
        qi = i * block_q + lax.broadcasted_iota(jnp.int32, (block_q,), 0)
        q, do = q_ref[rows, :], do_ref[rows, :]
        s, keep = _logits(q, k, mask_ref, bias_ref, rows, slice(None), qi, kj, scale=scale,
                          causal=causal, lk=lk, acc=acc, mask_value=mask_value)
        p = jnp.exp(s - m_ref[rows][:, None]) / l_ref[rows][:, None]
        dv = dv + _mm(p.astype(do.dtype), do, (0, 0), acc)
        ds = p * (_mm(do, v, (1, 1), acc) - delta_ref[rows][:, None])
        if keep is not None:
            ds = jnp.where(keep, ds, 0.0)
        return dk + _mm(ds.astype(q.dtype), q, (0, 0), acc), dv

    lower = lax.div(j * block_k, jnp.int32(block_q)) if skip else 0
    dk, dv = lax.fori_loop(lower, n_q, body, (jnp.zeros(k.shape, acc), jnp.zeros(v.shape, acc)))
    dk_ref[...] = (dk * scale).astype(dk_ref.dtype)
    dv_ref[...] = dv.astype(dv_ref.dtype)


def _pad_axis(x, axis, multiple, value=0):
    pad = -x.shape[axis] % multiple
    if pad == 0:
        return x
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, pad)
    return jnp.pad(x, widths, constant_values=value)


def _logits_operand(x, lq, lk, block_q, block_k, dtype):
    """A 4-d mask/bias → (b', H', Lq_p, Lk_p) in `dtype` (broadcast over Lq, Lk, padded)."""
    if x is None:
        return None
    x = jnp.broadcast_to(x, (*x.shape[:2], lq, lk)).astype(dtype)
    return _pad_axis(_pad_axis(x, 2, block_q), 3, block_k)


def _operand_spec(x, block, index):
    """BlockSpec of a (b', H', Lq_p, Lk_p) operand; broadcast batch/head axes read index 0."""
    bcast_b, bcast_h = x.shape[0] == 1, x.shape[1] == 1

    def index_map(b, h, i):
        rows, cols = index(i)
        return (0 if bcast_b else b, 0 if bcast_h else h, rows, cols)

    return pl.BlockSpec((None, None, *block), index_map)


class _Static:
    """Static configuration of one attention call (hashable for custom_vjp)."""

    def __init__(self, causal, scale, lq, lk, block_q, block_k, block_q_bwd, block_k_bwd,
                 num_warps, has_mask, has_bias):
        self.causal, self.scale, self.lq, self.lk = causal, scale, lq, lk
        self.block_q, self.block_k = block_q, block_k
        self.block_q_bwd, self.block_k_bwd = block_q_bwd, block_k_bwd
        self.num_warps, self.has_mask, self.has_bias = num_warps, has_mask, has_bias
        self.skip = causal and not has_mask and not has_bias

    def _key(self):
        return tuple(sorted(vars(self).items()))

    def __hash__(self):
        return hash(self._key())

    def __eq__(self, other):
        return isinstance(other, _Static) and self._key() == other._key()


def _kernel_kwargs(st, acc):
    return dict(has_mask=st.has_mask, has_bias=st.has_bias, scale=st.scale, causal=st.causal,
                lk=st.lk, acc=acc, mask_value=-0.7 * float(jnp.finfo(acc).max))


def _params(st):
    return _compat.compiler_params(("parallel",) * 3, num_warps=st.num_warps, num_stages=2)


def _forward(q, k, v, mask, bias, st):
    """Padded inputs → (O, m, l) on the padded query range."""
    batch, lq_p, heads, d = q.shape
    lk_p, kv_heads = k.shape[1], k.shape[2]
    group = heads // kv_heads
    bq, bk = st.block_q, st.block_k
    acc = jnp.promote_types(q.dtype, jnp.float32)
    operands = [x for x in (mask, bias) if x is not None]
    row_spec = lambda x: _operand_spec(x, (bq, lk_p), lambda i: (i, 0))
    kernel = functools.partial(_forward_kernel, block_q=bq, block_k=bk, n_k=lk_p // bk,
                               skip=st.skip, **_kernel_kwargs(st, acc))
    stat = pl.BlockSpec((None, None, bq), lambda b, h, i: (b, h, i))
    return pl.pallas_call(
        kernel, grid=(batch, heads, lq_p // bq),
        in_specs=[pl.BlockSpec((None, bq, None, d), lambda b, h, i: (b, i, h, 0)),
                  pl.BlockSpec((None, lk_p, None, d), lambda b, h, i: (b, 0, h // group, 0)),
                  pl.BlockSpec((None, lk_p, None, d), lambda b, h, i: (b, 0, h // group, 0)),
                  *(row_spec(x) for x in operands)],
        out_specs=[pl.BlockSpec((None, bq, None, d), lambda b, h, i: (b, i, h, 0)), stat, stat],
        out_shape=[jax.ShapeDtypeStruct(q.shape, q.dtype),
                   jax.ShapeDtypeStruct((batch, heads, lq_p), acc),
                   jax.ShapeDtypeStruct((batch, heads, lq_p), acc)],
        interpret=_compat.interpret_mode(), compiler_params=_params(st),
        name="attention_forward",
    )(q, k, v, *operands)


def _backward(q, k, v, mask, bias, o, m, norm, do, st):
    batch, lq_p, heads, d = q.shape
    lk_p, kv_heads = k.shape[1], k.shape[2]
    group = heads // kv_heads
    bq, bk = st.block_q_bwd, st.block_k_bwd
    acc = jnp.promote_types(q.dtype, jnp.float32)
    delta = jnp.moveaxis(jnp.sum(do.astype(acc) * o.astype(acc), axis=-1), 1, 2)   # (b, H, Lq)
    operands = [x for x in (mask, bias) if x is not None]
    kw = _kernel_kwargs(st, acc)
    head_seq = lambda n: pl.BlockSpec((None, n, None, d), lambda b, h, i: (b, 0, h, 0))
    kv_seq = pl.BlockSpec((None, lk_p, None, d), lambda b, h, i: (b, 0, h // group, 0))
    q_block = pl.BlockSpec((None, bq, None, d), lambda b, h, i: (b, i, h, 0))
    stat_block = pl.BlockSpec((None, None, bq), lambda b, h, i: (b, h, i))
    stat_seq = pl.BlockSpec((None, None, lq_p), lambda b, h, i: (b, h, 0))

    dq_out = [jax.ShapeDtypeStruct(q.shape, q.dtype)]
    dq_specs = [q_block]
    if bias is not None:
        dq_out.append(jax.ShapeDtypeStruct((batch, heads, lq_p, lk_p), acc))
        dq_specs.append(pl.BlockSpec((None, None, bq, lk_p), lambda b, h, i: (b, h, i, 0)))
    dq_kernel = functools.partial(_dq_kernel, block_q=bq, block_k=bk, n_k=lk_p // bk,
                                  skip=st.skip, **kw)
    dq = pl.pallas_call(
        dq_kernel, grid=(batch, heads, lq_p // bq),
        in_specs=[q_block, kv_seq, kv_seq, q_block, stat_block, stat_block, stat_block,
                  *(_operand_spec(x, (bq, lk_p), lambda i: (i, 0)) for x in operands)],
        out_specs=dq_specs, out_shape=dq_out,
        interpret=_compat.interpret_mode(), compiler_params=_params(st),
        name="attention_backward_dq",
    )(q, k, v, do, m, norm, delta, *operands)

    kv_block = pl.BlockSpec((None, bk, None, d), lambda b, h, j: (b, j, h // group, 0))
    kv_out = pl.BlockSpec((None, bk, None, d), lambda b, h, j: (b, j, h, 0))
    dkv_kernel = functools.partial(_dkv_kernel, block_q=bq, block_k=bk, n_q=lq_p // bq,
                                   skip=st.skip, **kw)
    dk, dv = pl.pallas_call(
        dkv_kernel, grid=(batch, heads, lk_p // bk),
        in_specs=[head_seq(lq_p), kv_block, kv_block, head_seq(lq_p), stat_seq, stat_seq,
                  stat_seq, *(_operand_spec(x, (lq_p, bk), lambda j: (0, j))
                              for x in operands)],
        out_specs=[kv_out, kv_out],
        out_shape=[jax.ShapeDtypeStruct((batch, lk_p, heads, d), k.dtype),
                   jax.ShapeDtypeStruct((batch, lk_p, heads, d), v.dtype)],
        interpret=_compat.interpret_mode(), compiler_params=_params(st),
        name="attention_backward_dkv",
    )(q, k, v, do, m, norm, delta, *operands)
    per_kv = lambda x: x.reshape(batch, lk_p, kv_heads, group, d).sum(axis=3)
    return dq, per_kv(dk), per_kv(dv)


def _pad_inputs(q, k, v, mask, bias, st):
    bq = math.lcm(st.block_q, st.block_q_bwd)
    bk = math.lcm(st.block_k, st.block_k_bwd)
    d = q.shape[-1]
    d_pad = (1 << (d - 1).bit_length()) - d if _compat.platform() == "gpu" else 0
    pad = lambda x, axis, mult: _pad_axis(x, axis, mult)
    qp = pad(pad(q, 1, bq), 3, d + d_pad) if d_pad else pad(q, 1, bq)
    kp = pad(pad(k, 1, bk), 3, d + d_pad) if d_pad else pad(k, 1, bk)
    vp = pad(pad(v, 1, bk), 3, d + d_pad) if d_pad else pad(v, 1, bk)
    maskp = _logits_operand(mask, st.lq, st.lk, bq, bk, jnp.int32)
    acc = jnp.promote_types(q.dtype, jnp.float32)
    biasp = _logits_operand(bias, st.lq, st.lk, bq, bk, acc)
    return qp, kp, vp, maskp, biasp


@functools.partial(jax.custom_vjp, nondiff_argnums=(5,))
def _attention(q, k, v, mask, bias, st):
    return _attention_fwd(q, k, v, mask, bias, st)[0]


def _attention_fwd(q, k, v, mask, bias, st):
    qp, kp, vp, maskp, biasp = _pad_inputs(q, k, v, mask, bias, st)
    o, m, norm = _forward(qp, kp, vp, maskp, biasp, st)
    return o[:, :st.lq, :, :q.shape[-1]], (q, k, v, mask, bias, o, m, norm)


def _attention_bwd(st, residuals, d_out):
    q, k, v, mask, bias, o, m, norm = residuals
    qp, kp, vp, maskp, biasp = _pad_inputs(q, k, v, mask, bias, st)
    dop = jnp.zeros(o.shape, d_out.dtype).at[:, :st.lq, :, :q.shape[-1]].set(d_out)
    dq, dk, dv = _backward(qp, kp, vp, maskp, biasp, o, m, norm, dop, st)
    d = q.shape[-1]
    dbias = None
    if bias is not None:
        ds = dq[1][:, :, :st.lq, :st.lk]
        axes = tuple(i for i in range(4) if bias.shape[i] == 1 and ds.shape[i] != 1)
        dbias = jnp.sum(ds, axis=axes, keepdims=True).astype(bias.dtype)
    dq = dq[0]
    return (dq[:, :st.lq, :, :d], dk[:, :st.lk, :, :d], dv[:, :st.lk, :, :d], None, dbias)


_attention.defvjp(_attention_fwd, _attention_bwd)


def attention_pallas(q, k, v, mask, bias, *, causal, scale, block_q=None, block_k=None,
                     block_q_bwd=None, block_k_bwd=None):
    """Fused attention (layout of `attention`), blocks by platform unless given.

    On GPU the head dimension is zero-padded to a power of two (Triton block shapes).
    """
    bq, bk, bqb, bkb, warps = _default_blocks(q.shape[-1])
    st = _Static(causal, scale, q.shape[1], k.shape[1], block_q or bq, block_k or bk,
                 block_q_bwd or bqb, block_k_bwd or bkb, warps, mask is not None,
                 bias is not None)
    return _attention(q, k, v, mask, bias, st)
