"""Pallas kernels for the Mamba-2 SSD scan: fused chunked forward and recomputing backward.

Grid: batch × heads; each program keeps its head's `(head_dim, N)` state on chip and walks
the sequence in chunks of `Q` steps (`fori_loop`). Per chunk, with `cum` the in-chunk
cumulative sum of `δA` (a masked row sum: in-kernel `cumsum` lowers only on Triton):

    Y = (C Bᵀ ⊙ exp(cum_i − cum_j)_{i≥j}) (δ ⊙ x) + (C Hᵀ) ⊙ exp(cum)
    H ← exp(cum_Q) H + (δ ⊙ x ⊙ exp(cum_Q − cum))ᵀ B

four matrix products per chunk. The state at every chunk start is written out for the
backward kernel, which walks the chunks in reverse and differentiates the two lines above by
hand (all in chunk-sized matrices), carrying `∂H` backwards. Outputs that sum over heads
(`∂B, ∂C` of a group, `∂A` over time) are written per head and step and summed outside.
"""

import functools

import jax
import jax.numpy as jnp
from jax import lax

from . import _compat
from ._compat import pl

_HIGHEST = lax.Precision.HIGHEST


def _default_chunk() -> int:
    return {"gpu": 64, "tpu": 128}.get(_compat.platform(), 8)


def vmem_bytes(length: int, head_dim: int, n: int) -> int:
    """VMEM one program of the backward kernel holds, double-buffered float32."""
    chunk = _default_chunk()
    length_p = -(-length // chunk) * chunk
    return 8 * (length_p * (3 * head_dim + 4 * n + 3) + (length_p // chunk) * head_dim * n)


def _softplus(x):
    return jnp.maximum(x, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(x)))


def _mm(a, b, contract):
    """a · b contracting axis contract[0] of a with contract[1] of b (2-d operands)."""
    return lax.dot_general(a, b, (((contract[0],), (contract[1],)), ((), ())),
                           precision=_HIGHEST, preferred_element_type=a.dtype)


def _chunk_terms(x_ref, dt_ref, b_ref, c_ref, a_ref, bias_ref, c, *, chunk, length, softplus):
    """Loads of chunk c and the quantities both kernels need."""
    sl = pl.ds(c * chunk, chunk)
    x, raw, B, C = x_ref[sl, :], dt_ref[sl], b_ref[sl, :], c_ref[sl, :]
    pre = raw + bias_ref[...]
    t = c * chunk + lax.broadcasted_iota(jnp.int32, (chunk,), 0)
    delta = jnp.where(t < length, _softplus(pre) if softplus else pre, 0.0)
    dA = delta * a_ref[...]
    row = lax.broadcasted_iota(jnp.int32, (chunk, chunk), 0)
    col = lax.broadcasted_iota(jnp.int32, (chunk, chunk), 1)
    lower = row >= col
    cum = jnp.sum(jnp.where(lower, dA[None, :], 0.0), axis=1)
    total = jnp.sum(dA)
    decay = jnp.exp(jnp.where(lower, cum[:, None] - cum[None, :], -jnp.inf))
    return dict(sl=sl, x=x, B=B, C=C, pre=pre, valid=t < length, delta=delta, cum=cum,
                total=total, lower=lower, decay=decay, scores=_mm(C, B, (1, 1)),
                w=x * delta[:, None])


def _forward_kernel(x_ref, dt_ref, b_ref, c_ref, a_ref, bias_ref, h0_ref,
                    y_ref, h_ref, ckpt_ref, *, chunk, n_chunks, length, softplus):
    def body(c, h):
        v = _chunk_terms(x_ref, dt_ref, b_ref, c_ref, a_ref, bias_ref, c, chunk=chunk,
                         length=length, softplus=softplus)
        ckpt_ref[c] = h
        y = (_mm(v["scores"] * v["decay"], v["w"], (1, 0))
             + _mm(v["C"], h, (1, 1)) * jnp.exp(v["cum"])[:, None])
        y_ref[v["sl"], :] = y.astype(y_ref.dtype)
        to_end = jnp.exp(v["total"] - v["cum"])
        return jnp.exp(v["total"]) * h + _mm(v["w"] * to_end[:, None], v["B"], (0, 0))

    h_ref[...] = lax.fori_loop(0, n_chunks, body, h0_ref[...])


def _backward_kernel(x_ref, dt_ref, b_ref, c_ref, a_ref, bias_ref, ckpt_ref, dy_ref, dhl_ref,
                     dx_ref, ddt_ref, dda_ref, db_ref, dc_ref, dh0_ref, *, chunk, n_chunks,
                     length, softplus):
    A = a_ref[...]

    def body(k, dh):
        c = n_chunks - 1 - k
        v = _chunk_terms(x_ref, dt_ref, b_ref, c_ref, a_ref, bias_ref, c, chunk=chunk,
                         length=length, softplus=softplus)
        h = ckpt_ref[c]
        dy = dy_ref[v["sl"], :]
        x, B, C, w, decay, scores = v["x"], v["B"], v["C"], v["w"], v["decay"], v["scores"]
        e = jnp.exp(v["cum"])
        to_end = jnp.exp(v["total"] - v["cum"])
        e_total = jnp.exp(v["total"])
        m = scores * decay
        # Y_diag = M W
        dm = _mm(dy, w, (1, 1))
        dw = _mm(m, dy, (0, 0))
        ds = dm * decay
        dC = _mm(ds, B, (1, 0))
        dB = _mm(ds, C, (0, 0))
        r = dm * m                                  # ∂/∂(cum_i − cum_j) of the decays
        dcum = jnp.sum(r, axis=1) - jnp.sum(r, axis=0)
        # Y_off = (C Hᵀ) ⊙ e
        dz = dy * e[:, None]
        dC = dC + _mm(dz, h, (1, 0))
        dh_start = _mm(dz, C, (0, 0))
        dcum = dcum + jnp.sum(dy * _mm(C, h, (1, 1)) * e[:, None], axis=1)
        # H_end = e_total H + Vᵀ B with V = W ⊙ to_end
        vv = w * to_end[:, None]
        dh_start = dh_start + e_total * dh
        dv = _mm(B, dh, (1, 1))
        dB = dB + _mm(vv, dh, (1, 0))
        sv = jnp.sum(dv * vv, axis=1)
        dtotal = jnp.sum(dh * h) * e_total + jnp.sum(sv)
        dcum = dcum - sv
        dw = dw + dv * to_end[:, None]
        # cum_i = Σ_{j≤i} δ_j A, total = Σ_j δ_j A
        d_da = jnp.sum(jnp.where(v["lower"], dcum[:, None], 0.0), axis=0) + dtotal
        ddelta = d_da * A + jnp.sum(dw * x, axis=1)
        if softplus:
            ddelta = ddelta / (1.0 + jnp.exp(-v["pre"]))    # softplus′ = sigmoid
        sl = v["sl"]
        dx_ref[sl, :] = dw * v["delta"][:, None]
        ddt_ref[sl] = jnp.where(v["valid"], ddelta, 0.0)
        dda_ref[sl] = d_da * v["delta"]
        db_ref[sl, :] = dB
        dc_ref[sl, :] = dC
        return dh_start

    dh0_ref[...] = lax.fori_loop(0, n_chunks, body, dhl_ref[...])


def _specs(length_p, p, n, per_group, n_chunks):
    return {
        "x": pl.BlockSpec((None, length_p, None, p), lambda b, h: (b, 0, h, 0)),
        "dt": pl.BlockSpec((None, None, length_p), lambda b, h: (b, h, 0)),
        "group": pl.BlockSpec((None, length_p, None, n),
                              lambda b, h: (b, 0, h // per_group, 0)),
        "head": pl.BlockSpec((None, length_p, None, n), lambda b, h: (b, 0, h, 0)),
        "scalar": pl.BlockSpec((None, 1), lambda b, h: (h, 0)),
        "state": pl.BlockSpec((None, None, p, n), lambda b, h: (b, h, 0, 0)),
        "ckpt": pl.BlockSpec((None, None, n_chunks, p, n), lambda b, h: (b, h, 0, 0, 0)),
    }


def _flatten(x, dt, bias, A, B, C, chunk):
    """Grouped layout → (b, Lp, H, P), (b, H, Lp), (H, 1), (H, 1), (b, Lp, G, N) ×2."""
    batch, length, groups, r, p = x.shape
    pad = -length % chunk
    xf = jnp.pad(x.reshape(batch, length, groups * r, p), [(0, 0), (0, pad), (0, 0), (0, 0)])
    dtf = jnp.pad(jnp.moveaxis(dt.reshape(batch, length, groups * r), 1, 2),
                  [(0, 0), (0, 0), (0, pad)])
    grp = lambda v: jnp.pad(v, [(0, 0), (0, pad), (0, 0), (0, 0)])
    return xf, dtf, bias.reshape(-1, 1), A.reshape(-1, 1), grp(B), grp(C)


def _compiler_params():
    return _compat.compiler_params(("parallel", "parallel"), num_warps=4, num_stages=1)


def _call_forward(x, dt, bias, A, B, C, h0, *, length, softplus, chunk):
    batch, length_p, heads, p = x.shape
    groups, n = B.shape[2], B.shape[3]
    n_chunks = length_p // chunk
    s = _specs(length_p, p, n, heads // groups, n_chunks)
    kernel = functools.partial(_forward_kernel, chunk=chunk, n_chunks=n_chunks, length=length,
                               softplus=softplus)
    return pl.pallas_call(
        kernel, grid=(batch, heads),
        in_specs=[s["x"], s["dt"], s["group"], s["group"], s["scalar"], s["scalar"],
                  s["state"]],
        out_specs=[s["x"], s["state"], s["ckpt"]],
        out_shape=[jax.ShapeDtypeStruct(x.shape, x.dtype),
                   jax.ShapeDtypeStruct((batch, heads, p, n), x.dtype),
                   jax.ShapeDtypeStruct((batch, heads, n_chunks, p, n), x.dtype)],
        interpret=_compat.interpret_mode(), compiler_params=_compiler_params(),
        name="ssd_forward",
    )(x, dt, B, C, A, bias, h0)


def _call_backward(x, dt, bias, A, B, C, ckpt, dy, dh_last, *, length, softplus, chunk):
    batch, length_p, heads, p = x.shape
    groups, n = B.shape[2], B.shape[3]
    n_chunks = length_p // chunk
    s = _specs(length_p, p, n, heads // groups, n_chunks)
    kernel = functools.partial(_backward_kernel, chunk=chunk, n_chunks=n_chunks,
                               length=length, softplus=softplus)
    f = x.dtype
    return pl.pallas_call(
        kernel, grid=(batch, heads),
        in_specs=[s["x"], s["dt"], s["group"], s["group"], s["scalar"], s["scalar"], s["ckpt"],
                  s["x"], s["state"]],
        out_specs=[s["x"], s["dt"], s["dt"], s["head"], s["head"], s["state"]],
        out_shape=[jax.ShapeDtypeStruct(x.shape, f),
                   jax.ShapeDtypeStruct(dt.shape, f),
                   jax.ShapeDtypeStruct(dt.shape, f),
                   jax.ShapeDtypeStruct((batch, length_p, heads, n), f),
                   jax.ShapeDtypeStruct((batch, length_p, heads, n), f),
                   jax.ShapeDtypeStruct((batch, heads, p, n), f)],
        interpret=_compat.interpret_mode(), compiler_params=_compiler_params(),
        name="ssd_backward",
    )(x, dt, B, C, A, bias, ckpt, dy, dh_last)


@functools.partial(jax.custom_vjp, nondiff_argnums=(7, 8))
def _ssd(x, dt, bias, A, B, C, h0, softplus, chunk):
    return _ssd_fwd(x, dt, bias, A, B, C, h0, softplus, chunk)[0]


def _ssd_fwd(x, dt, bias, A, B, C, h0, softplus, chunk):
    batch, length, groups, r, p = x.shape
    xf, dtf, bf, af, Bf, Cf = _flatten(x, dt, bias, A, B, C, chunk)
    y, h, ckpt = _call_forward(xf, dtf, bf, af, Bf, Cf, h0.reshape(batch, groups * r, p, -1),
                               length=length, softplus=softplus, chunk=chunk)
    return ((y[:, :length].reshape(x.shape), h.reshape(h0.shape)),
            (x, dt, bias, A, B, C, ckpt))


def _ssd_bwd(softplus, chunk, residuals, cotangents):
    x, dt, bias, A, B, C, ckpt = residuals
    dy, dh_last = cotangents
    batch, length, groups, r, p = x.shape
    n = B.shape[-1]
    xf, dtf, bf, af, Bf, Cf = _flatten(x, dt, bias, A, B, C, chunk)
    dyf = jnp.pad(dy.reshape(batch, length, groups * r, p),
                  [(0, 0), (0, xf.shape[1] - length), (0, 0), (0, 0)])
    dx, ddt, dda, db, dc, dh0 = _call_backward(
        xf, dtf, bf, af, Bf, Cf, ckpt, dyf, dh_last.reshape(batch, groups * r, p, n),
        length=length, softplus=softplus, chunk=chunk)
    ddt = jnp.moveaxis(ddt[:, :, :length], 1, 2).reshape(dt.shape)
    per_group = lambda v: v[:, :length].reshape(batch, length, groups, r, n).sum(axis=3)
    return (dx[:, :length].reshape(x.shape), ddt, ddt.sum(axis=(0, 1)),
            dda[:, :, :length].sum(axis=(0, 2)).reshape(A.shape), per_group(db), per_group(dc),
            dh0.reshape(batch, groups, r, p, n))


_ssd.defvjp(_ssd_fwd, _ssd_bwd)


def ssd_pallas(x, dt, bias, A, B, C, h0, *, softplus, chunk=None):
    """The Pallas SSD scan on the grouped layout (see `_ssd.py`).

    **Arguments:** `x: (b, L, G, R, P)`, `dt: (b, L, G, R)` (before bias and softplus),
    `bias, A: (G, R)`, `B, C: (b, L, G, N)`, `h0: (b, G, R, P, N)`; `softplus`; `chunk`
    steps per chunk (default by platform: 64 on GPU, 128 on TPU).

    **Returns:** `y: (b, L, G, R, P)` (without `D` and `z`) and `H_L: (b, G, R, P, N)`.
    """
    chunk = _default_chunk() if chunk is None else chunk
    return _ssd(x, dt, bias, A, B, C, h0, softplus, chunk)
