"""Pallas kernels for the Mamba-1 selective scan: fused forward and recomputing backward.

**Forward** (grid: batch × channel blocks of `block_d` channels, all in one group): the
`(block_d, N)` state stays on chip; a `fori_loop` walks the sequence in chunks of `chunk`
steps, each chunk unrolled with per-step `ref[t]` loads (the form Triton and Mosaic lower:
no `xs`, no stacked outputs). `δ = softplus(delta + bias)` is computed in the kernel. The state
at the start of every chunk is written out (`(batch, L/chunk, dim, N)`), nothing else.

**Backward** (same grid): chunks in reverse; each chunk's states are recomputed from its
checkpoint (held on chip, `chunk` of them), then the adjoint recursion
`g_t = C_t ∂y_t + exp(δ_{t+1}A) g_{t+1}` runs backwards through the chunk, writing `∂u_t`,
`∂delta_t` and this block's partial sums of `∂B_t, ∂C_t` (summed over blocks outside), and
accumulating `∂A`. `exp(δA)` is never inverted (it may underflow to 0).

The sequence is padded to a multiple of `chunk`; padded steps get `δ = 0`, the identity.
On CPU the kernels run with `interpret=True` (tests); on GPU through the Triton lowering and
on TPU through Mosaic with the whole sequence of a channel block in VMEM.
"""

import functools

import jax
import jax.numpy as jnp
from jax import lax

from . import _compat
from ._compat import pl


def _config(dim_per_group: int) -> tuple[int, int]:
    """(block_d, chunk) for the current platform: block_d a power of two dividing the group."""
    kind = _compat.platform()
    cap, chunk = {"gpu": (16, 8), "tpu": (128, 8)}.get(kind, (8, 4))
    block = 1
    while block * 2 <= cap and dim_per_group % (block * 2) == 0:
        block *= 2
    if kind == "tpu" and dim_per_group % 128 != 0:
        block = dim_per_group     # Mosaic wants lane blocks of 128 or the whole axis
    return block, chunk


def vmem_bytes(length: int, dim_per_group: int, n: int) -> int:
    """VMEM one program of the backward kernel holds (the larger one), double-buffered f32."""
    block_d, chunk = _config(dim_per_group)
    length_p = -(-length // chunk) * chunk
    return 8 * (length_p * (5 * block_d + 4 * n) + (length_p // chunk) * block_d * n)


def _softplus(x):
    return jnp.maximum(x, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(x)))


def _delta(raw, bias, t, length, softplus):
    """δ_t for one step (0 on padded steps) and the pre-activation."""
    x = raw + bias
    d = _softplus(x) if softplus else x
    return jnp.where(t < length, d, 0.0), x


def _forward_kernel(u_ref, d_ref, bias_ref, a_ref, b_ref, c_ref, h0_ref,
                    y_ref, h_ref, ckpt_ref, *, chunk, n_chunks, length, softplus):
    A = a_ref[...]
    bias = bias_ref[0, :]

    def body(c, h):
        ckpt_ref[c] = h
        for i in range(chunk):
            t = c * chunk + i
            d, _ = _delta(d_ref[t, :], bias, t, length, softplus)
            u = u_ref[t, :]
            h = jnp.exp(d[:, None] * A) * h + (d * u)[:, None] * b_ref[t, :][None, :]
            y_ref[t, :] = jnp.sum(h * c_ref[t, :][None, :], axis=1).astype(y_ref.dtype)
        return h

    h_ref[...] = lax.fori_loop(0, n_chunks, body, h0_ref[...])


def _backward_kernel(u_ref, d_ref, bias_ref, a_ref, b_ref, c_ref, ckpt_ref, dy_ref, dhl_ref,
                     du_ref, dd_ref, db_ref, dc_ref, da_ref, dh0_ref, *, chunk, n_chunks,
                     length, softplus):
    A = a_ref[...]
    bias = bias_ref[0, :]

    def body(k, carry):
        dh, dA = carry
        c = n_chunks - 1 - k
        h = ckpt_ref[c]
        steps = []
        for i in range(chunk):                      # recompute the chunk's states
            t = c * chunk + i
            d, x = _delta(d_ref[t, :], bias, t, length, softplus)
            u, B = u_ref[t, :], b_ref[t, :]
            a = jnp.exp(d[:, None] * A)
            h_new = a * h + (d * u)[:, None] * B[None, :]
            steps.append((t, d, x, u, B, a, h, h_new))
            h = h_new
        for t, d, x, u, B, a, h_prev, h in reversed(steps):
            dy = dy_ref[t, :]
            C = c_ref[t, :]
            g = dh + dy[:, None] * C[None, :]       # total adjoint of h_t
            dc_ref[t, :] = jnp.sum(h * dy[:, None], axis=0)
            ga = g * h_prev * a
            dA = dA + ga * d[:, None]
            d_in = jnp.sum(g * B[None, :], axis=1)  # ∂/∂(δ_t u_t)
            dd = jnp.sum(ga * A, axis=1) + d_in * u
            if softplus:
                dd = dd / (1.0 + jnp.exp(-x))          # softplus′ = sigmoid
            dd_ref[t, :] = jnp.where(t < length, dd, 0.0)
            du_ref[t, :] = d_in * d
            db_ref[t, :] = jnp.sum(g * (d * u)[:, None], axis=0)
            dh = g * a
        return dh, dA

    dh, dA = lax.fori_loop(0, n_chunks, body, (dhl_ref[...], jnp.zeros_like(A)))
    dh0_ref[...] = dh
    da_ref[...] = dA


def _specs(batch, length_p, dim, n, block_d, per_group_blocks, n_chunks):
    """BlockSpecs shared by both kernels (grid: batch × channel blocks)."""
    seq = pl.BlockSpec((None, length_p, block_d), lambda b, j: (b, 0, j))
    group = pl.BlockSpec((None, length_p, None, n), lambda b, j: (b, 0, j // per_group_blocks, 0))
    state = pl.BlockSpec((None, block_d, n), lambda b, j: (b, j, 0))
    return {
        "seq": seq, "group": group, "state": state,
        "bias": pl.BlockSpec((1, block_d), lambda b, j: (0, j)),
        "A": pl.BlockSpec((block_d, n), lambda b, j: (j, 0)),
        "ckpt": pl.BlockSpec((None, n_chunks, block_d, n), lambda b, j: (b, 0, j, 0)),
        "partial": pl.BlockSpec((None, length_p, None, n), lambda b, j: (b, 0, j, 0)),
    }


def _flatten(u, delta, bias, A, B, C, h0, chunk):
    """Grouped layout → channels-last arrays padded to a multiple of `chunk` steps."""
    batch, length, groups, p = u.shape
    n = A.shape[-1]
    pad = -length % chunk
    seq = lambda x: jnp.pad(x.reshape(batch, length, -1), [(0, 0), (0, pad), (0, 0)])
    grp = lambda x: jnp.pad(x, [(0, 0), (0, pad), (0, 0), (0, 0)])
    return (seq(u), seq(delta), bias.reshape(1, groups * p), A.reshape(groups * p, n),
            grp(B), grp(C), h0.reshape(batch, groups * p, n))


def _call_forward(u, delta, bias, A, B, C, h0, *, length, softplus, block_d, chunk):
    batch, length_p, dim = u.shape
    n, groups = A.shape[1], B.shape[2]
    n_chunks = length_p // chunk
    s = _specs(batch, length_p, dim, n, block_d, dim // groups // block_d, n_chunks)
    kernel = functools.partial(_forward_kernel, chunk=chunk, n_chunks=n_chunks, length=length,
                               softplus=softplus)
    return pl.pallas_call(
        kernel,
        grid=(batch, dim // block_d),
        in_specs=[s["seq"], s["seq"], s["bias"], s["A"], s["group"], s["group"], s["state"]],
        out_specs=[s["seq"], s["state"], s["ckpt"]],
        out_shape=[jax.ShapeDtypeStruct((batch, length_p, dim), u.dtype),
                   jax.ShapeDtypeStruct((batch, dim, n), u.dtype),
                   jax.ShapeDtypeStruct((batch, n_chunks, dim, n), u.dtype)],
        interpret=_compat.interpret_mode(),
        compiler_params=_compat.compiler_params(("parallel", "parallel"), num_warps=4,
                                                num_stages=1),
        name="selective_scan_forward",
    )(u, delta, bias, A, B, C, h0)


def _call_backward(u, delta, bias, A, B, C, ckpt, dy, dh_last, *, length, softplus, block_d,
                   chunk):
    batch, length_p, dim = u.shape
    n, groups = A.shape[1], B.shape[2]
    n_chunks, n_blocks = length_p // chunk, dim // block_d
    s = _specs(batch, length_p, dim, n, block_d, dim // groups // block_d, n_chunks)
    kernel = functools.partial(_backward_kernel, chunk=chunk, n_chunks=n_chunks,
                               length=length, softplus=softplus)
    dt = u.dtype
    return pl.pallas_call(
        kernel,
        grid=(batch, n_blocks),
        in_specs=[s["seq"], s["seq"], s["bias"], s["A"], s["group"], s["group"], s["ckpt"],
                  s["seq"], s["state"]],
        out_specs=[s["seq"], s["seq"], s["partial"], s["partial"], s["state"], s["state"]],
        out_shape=[jax.ShapeDtypeStruct((batch, length_p, dim), dt),
                   jax.ShapeDtypeStruct((batch, length_p, dim), dt),
                   jax.ShapeDtypeStruct((batch, length_p, n_blocks, n), dt),
                   jax.ShapeDtypeStruct((batch, length_p, n_blocks, n), dt),
                   jax.ShapeDtypeStruct((batch, dim, n), dt),   # ∂A per batch element
                   jax.ShapeDtypeStruct((batch, dim, n), dt)],
        interpret=_compat.interpret_mode(),
        compiler_params=_compat.compiler_params(("parallel", "parallel"), num_warps=4,
                                                num_stages=1),
        name="selective_scan_backward",
    )(u, delta, bias, A, B, C, ckpt, dy, dh_last)


@functools.partial(jax.custom_vjp, nondiff_argnums=(7, 8, 9))
def _scan(u, delta, bias, A, B, C, h0, softplus, block_d, chunk):
    return _scan_fwd(u, delta, bias, A, B, C, h0, softplus, block_d, chunk)[0]


def _scan_fwd(u, delta, bias, A, B, C, h0, softplus, block_d, chunk):
    length = u.shape[1]
    flat = _flatten(u, delta, bias, A, B, C, h0, chunk)
    y, h, ckpt = _call_forward(*flat, length=length, softplus=softplus, block_d=block_d,
                               chunk=chunk)
    return (y[:, :length].reshape(u.shape), h.reshape(h0.shape)), (u, delta, bias, A, B, C,
                                                                   ckpt)


def _scan_bwd(softplus, block_d, chunk, residuals, cotangents):
    u, delta, bias, A, B, C, ckpt = residuals
    dy, dh_last = cotangents
    batch, length, groups, p = u.shape
    n = A.shape[-1]
    fu, fd, fbias, fA, fB, fC, _ = _flatten(u, delta, bias, A, B, C, ckpt[:, 0], chunk)
    fdy = jnp.pad(dy.reshape(batch, length, -1), [(0, 0), (0, fu.shape[1] - length), (0, 0)])
    du, dd, db, dc, da, dh0 = _call_backward(
        fu, fd, fbias, fA, fB, fC, ckpt, fdy, dh_last.reshape(batch, groups * p, n),
        length=length, softplus=softplus, block_d=block_d, chunk=chunk)
    per_group = lambda x: x[:, :length].reshape(batch, length, groups, -1, n).sum(axis=3)
    dd = dd[:, :length].reshape(u.shape)
    return (du[:, :length].reshape(u.shape), dd, dd.sum(axis=(0, 1)),
            da.sum(axis=0).reshape(A.shape), per_group(db), per_group(dc),
            dh0.reshape(batch, groups, p, n))


_scan.defvjp(_scan_fwd, _scan_bwd)


def selective_scan_pallas(u, delta, bias, A, B, C, h0, *, softplus, block_d=None,
                          chunk=None):
    """The Pallas selective scan on the grouped layout (see `_selective_scan.py`).

    **Arguments:** `u, delta: (b, L, G, P)` (`delta` before bias and softplus),
    `bias: (G, P)`, `A: (G, P, N)`, `B, C: (b, L, G, N)`, `h0: (b, G, P, N)`; `softplus`;
    `block_d` channels per program (a power of two dividing `P`) and `chunk` steps between
    state checkpoints, by default chosen for the platform.

    **Returns:** `y: (b, L, G, P)` (without `D` and `z`) and `h_L: (b, G, P, N)`.
    """
    default_block, default_chunk = _config(u.shape[3])
    block_d = default_block if block_d is None else block_d
    chunk = default_chunk if chunk is None else chunk
    if u.shape[3] % block_d:
        raise ValueError(f"selective_scan_pallas: block_d must divide the channels per group, "
                         f"{u.shape[3]}, got {block_d}")
    n = A.shape[-1]
    n_pad = (1 << (n - 1).bit_length()) - n if _compat.platform() == "gpu" else 0
    if n_pad:   # Triton blocks are powers of two: zero state components stay zero
        pad = lambda x: jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, n_pad)])
        y, h = _scan(u, delta, bias, pad(A), pad(B), pad(C), pad(h0), softplus, block_d, chunk)
        return y, h[..., :n]
    return _scan(u, delta, bias, A, B, C, h0, softplus, block_d, chunk)
