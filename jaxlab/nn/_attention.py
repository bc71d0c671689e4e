"""Multi-head attention on `jaxlab.kernels.attention`, with grouped-query heads and optional
rotary position embeddings."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, PRNGKeyArray, Real

from .._core.checks import as_float_array, check_int, check_number, shape_str
from ..kernels import attention
from ._dense import dense
from ._input import layer_input


def rotary_embedding(
    x: Real[ArrayLike, "*batch L heads head_dim"],
    positions: Real[ArrayLike, " L"],
    *,
    base: float = 10000.0,
) -> Float[Array, "*batch L heads head_dim"]:
    """Rotary position embedding: rotate feature pairs `(x_i, x_{i + d/2})` by `p · θ_i`.

    `θ_i = base^{−2i/d}` (the "rotate half" layout of GPT-NeoX and LLaMA), so
    `⟨rope(q, m), rope(k, n)⟩` depends on positions only through `m − n`.

    **Arguments:** `x: (..., L, heads, head_dim)` with even `head_dim` (integer values are
    promoted to the default floating dtype); `positions: (L,)` (usually integers); `base`
    (positive).

    **Returns:** the rotated array, same shape and (floating) dtype.

    **Raises:** `TypeError` for a boolean or complex `x` or `positions`; `ValueError` if
    `x` has fewer than 3 axes, `head_dim` is odd, `positions` has the wrong length or
    `base` is not positive.

    **References:** Su et al., *RoFormer: Enhanced Transformer with Rotary Position
    Embedding* (2021).
    """
    x = as_float_array("rotary_embedding", "x", x)
    if x.ndim < 3:
        raise ValueError(f"rotary_embedding: x must have shape (..., L, heads, head_dim), got "
                         f"{shape_str(x)}")
    positions = as_float_array("rotary_embedding", "positions", positions)
    base = check_number("rotary_embedding", "base", base, minimum=0.0, open_minimum=True)
    d = x.shape[-1]
    if d % 2:
        raise ValueError(f"rotary_embedding: head_dim must be even, got {d}")
    if jnp.shape(positions) != (x.shape[-3],):
        raise ValueError(f"rotary_embedding: positions must have shape (L,) = ({x.shape[-3]},),"
                         f" got {shape_str(positions)}")
    dtype = jnp.promote_types(x.dtype, jnp.float32)
    theta = base ** (-jnp.arange(0, d // 2, dtype=dtype) * 2 / d)
    angle = jnp.asarray(positions, dtype)[:, None] * theta               # (L, d/2)
    cos, sin = jnp.cos(angle)[:, None, :], jnp.sin(angle)[:, None, :]   # (L, 1, d/2)
    x1, x2 = x[..., :d // 2].astype(dtype), x[..., d // 2:].astype(dtype)
    return jnp.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1).astype(x.dtype)


class MultiHeadAttention(eqx.Module):
    """Multi-head (or grouped-query) attention: Q/K/V projections, optional rotary positions,
    `jaxlab.kernels.attention`, output projection.

    **Arguments:**

    - `d_model`; `num_heads`; `num_kv_heads` (default `num_heads`; must divide it: grouped-query
      attention, 1 = multi-query); `head_dim` (default `d_model // num_heads`).
    - `causal`: query `t` attends keys `≤ t`; `rotary`: rotary embeddings of positions
      `0, …, L−1` on queries and keys (`rope_base`); `use_bias` on the projections (False).
    - `impl`: the `attention` implementation; `dtype`; `key`.

    Call on `x: (..., L, d_model)` (self-attention) or with `context: (..., Lk, d_model)`
    (cross-attention, keys and values from `context`), optional boolean `mask` and additive
    `bias` broadcastable to `(batch, heads, L, Lk)` (4-d, leading axes flattened to one
    batch axis). Integer `x`, `context` are promoted to the parameter dtype. Returns
    `(..., L, d_model)`.

    **Raises:** `TypeError` for a size that is not an int or a boolean/complex input;
    `ValueError` for inconsistent sizes or an input of the wrong width.

    **References:** Vaswani et al. (2017); Ainslie et al., *GQA* (2023); Su et al. (2021).
    """

    q_proj: eqx.nn.Linear
    k_proj: eqx.nn.Linear
    v_proj: eqx.nn.Linear
    o_proj: eqx.nn.Linear
    d_model: int = eqx.field(static=True)
    num_heads: int = eqx.field(static=True)
    num_kv_heads: int = eqx.field(static=True)
    head_dim: int = eqx.field(static=True)
    causal: bool = eqx.field(static=True)
    rotary: bool = eqx.field(static=True)
    rope_base: float = eqx.field(static=True)
    impl: str = eqx.field(static=True)

    def __init__(self, d_model: int, num_heads: int, *, num_kv_heads: int | None = None,
                 head_dim: int | None = None, causal: bool = False, rotary: bool = False,
                 rope_base: float = 10000.0, use_bias: bool = False, impl: str = "auto",
                 dtype=None, key: PRNGKeyArray):
        num_kv_heads = num_heads if num_kv_heads is None else num_kv_heads
        for name, value in (("d_model", d_model), ("num_heads", num_heads),
                            ("num_kv_heads", num_kv_heads)):
            check_int("MultiHeadAttention", name, value, minimum=1)
        if head_dim is None:
            if d_model % num_heads:
                raise ValueError(f"MultiHeadAttention: num_heads must divide d_model = "
                                 f"{d_model} (or pass head_dim), got {num_heads}")
            head_dim = d_model // num_heads
        check_int("MultiHeadAttention", "head_dim", head_dim, minimum=1)
        if num_heads % num_kv_heads:
            raise ValueError(f"MultiHeadAttention: num_kv_heads must divide num_heads = "
                             f"{num_heads}, got {num_kv_heads}")
        if rotary and head_dim % 2:
            raise ValueError(f"MultiHeadAttention: head_dim must be even for rotary "
                             f"embeddings, got {head_dim}")
        dtype = jnp.result_type(float) if dtype is None else dtype
        kq, kk, kv, ko = jax.random.split(key, 4)
        lin = lambda i, o, k: eqx.nn.Linear(i, o, use_bias=use_bias, key=k, dtype=dtype)
        self.q_proj = lin(d_model, num_heads * head_dim, kq)
        self.k_proj = lin(d_model, num_kv_heads * head_dim, kk)
        self.v_proj = lin(d_model, num_kv_heads * head_dim, kv)
        self.o_proj = lin(num_heads * head_dim, d_model, ko)
        self.d_model, self.num_heads, self.num_kv_heads = d_model, num_heads, num_kv_heads
        self.head_dim, self.causal, self.rotary = head_dim, causal, rotary
        self.rope_base, self.impl = float(rope_base), impl

    def __call__(self, x: Real[ArrayLike, "*batch L d_model"],
                 context: Real[ArrayLike, "*batch Lk d_model"] | None = None, *,
                 mask: Bool[ArrayLike, "_ _ _ _"] | None = None,
                 bias: Real[ArrayLike, "_ _ _ _"] | None = None,
                 ) -> Float[Array, "*batch L d_model"]:
        dtype = self.q_proj.weight.dtype
        x = layer_input("MultiHeadAttention", "x", x, self.d_model, dtype)
        context = x if context is None else layer_input("MultiHeadAttention", "context",
                                                        context, self.d_model, dtype)
        lead, length = x.shape[:-2], x.shape[-2]
        xs = x.reshape(-1, length, self.d_model)
        cs = context.reshape(-1, context.shape[-2], self.d_model)
        if cs.shape[0] != xs.shape[0]:
            raise ValueError(f"MultiHeadAttention: context must have the leading axes of x, "
                             f"{lead}, got {context.shape[:-2]}")
        q = dense(self.q_proj, xs).reshape(*xs.shape[:2], self.num_heads, self.head_dim)
        k = dense(self.k_proj, cs).reshape(*cs.shape[:2], self.num_kv_heads, self.head_dim)
        v = dense(self.v_proj, cs).reshape(*cs.shape[:2], self.num_kv_heads, self.head_dim)
        if self.rotary:
            q = rotary_embedding(q, jnp.arange(length), base=self.rope_base)
            k = rotary_embedding(k, jnp.arange(cs.shape[1]), base=self.rope_base)
        o = attention(q, k, v, mask=mask, bias=bias, causal=self.causal,
                      scale=1.0 / math.sqrt(self.head_dim), impl=self.impl)
        return dense(self.o_proj, o.reshape(*xs.shape[:2], -1)).reshape(*lead, length,
                                                                        self.d_model)
