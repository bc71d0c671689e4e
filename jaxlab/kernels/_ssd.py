"""Mamba-2 state-space dual (SSD): scalar-decay selective scan, reference and chunked forms.

Internally every implementation works on a grouped layout: the `heads` split into `groups`
blocks of `R = heads // groups` heads sharing `B_t, C_t ∈ R^N`, so `x: (batch, L, G, R, P)`,
`δ: (batch, L, G, R)`, `A: (G, R)`, `B, C: (batch, L, G, N)` and the state
`h: (batch, G, R, P, N)`.
"""

import functools

import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, ArrayLike, Float, Real

from .._core.checks import as_float_arrays, shape_str
from ._checks import check_grouped_bc
from ._dispatch import resolve_impl
from ._selective_scan import _from_chunks, _pad_time, _to_chunks
from ._ssd_pallas import ssd_pallas, vmem_bytes

IMPLS = ("reference", "scan", "chunked", "pallas")

SCAN_CHUNK = 64      # steps per rematerialised chunk of the "scan" implementation
SCAN_UNROLL = 1
SSD_CHUNK = 64       # chunk length Q of the "chunked" (SSD) implementation

_HIGHEST = lax.Precision.HIGHEST


def _check_shapes(x, dt, A, B, C, D, z, dt_bias, initial_state):
    """Static shape checks; returns (batch, L, heads, head_dim, groups, N). Raises
    ValueError."""
    name = "ssd_scan"
    if jnp.ndim(x) != 4:
        raise ValueError(f"{name}: x must have shape (batch, L, heads, head_dim), got "
                         f"{shape_str(x)}")
    batch, length, heads, head_dim = jnp.shape(x)
    if jnp.shape(dt) != (batch, length, heads):
        raise ValueError(f"{name}: dt must have shape (batch, L, heads) = "
                         f"{(batch, length, heads)}, got {shape_str(dt)}")
    for arg, value in [("A", A), ("D", D), ("dt_bias", dt_bias)]:
        if value is not None and jnp.shape(value) != (heads,):
            raise ValueError(f"{name}: {arg} must have shape (heads,) = ({heads},), got "
                             f"{shape_str(value)}")
    if jnp.ndim(B) not in (3, 4):
        raise ValueError(f"{name}: B must have shape (batch, L, N) or (batch, L, groups, N), "
                         f"got {shape_str(B)}")
    n = jnp.shape(B)[-1]
    groups = check_grouped_bc(name, B, C, batch, length, n, heads, "heads")
    if z is not None and jnp.shape(z) != jnp.shape(x):
        raise ValueError(f"{name}: z must have the shape of x, (batch, L, heads, head_dim) = "
                         f"{jnp.shape(x)}, got {shape_str(z)}")
    want = (batch, heads, head_dim, n)
    if initial_state is not None and jnp.shape(initial_state) != want:
        raise ValueError(f"{name}: initial_state must have shape (batch, heads, head_dim, N) = "
                         f"{want}, got {shape_str(initial_state)}")
    return batch, length, heads, head_dim, groups, n


def ssd_scan(
    x: Real[ArrayLike, "batch L heads head_dim"],
    dt: Real[ArrayLike, "batch L heads"],
    A: Real[ArrayLike, " heads"],
    B: Real[ArrayLike, "batch L *groups N"],
    C: Real[ArrayLike, "batch L *groups N"],
    D: Real[ArrayLike, " heads"] | None = None,
    z: Real[ArrayLike, "batch L heads head_dim"] | None = None,
    dt_bias: Real[ArrayLike, " heads"] | None = None,
    *,
    dt_softplus: bool = False,
    return_last_state: bool = False,
    initial_state: Real[ArrayLike, "batch heads head_dim N"] | None = None,
    impl: str = "auto",
) -> (Float[Array, "batch L heads head_dim"]
      | tuple[Float[Array, "batch L heads head_dim"], Float[Array, "batch heads head_dim N"]]):
    """The Mamba-2 scan: a selective scan whose decay is one scalar per head and step.

    With `δ = softplus(dt + dt_bias)` if `dt_softplus` else `dt + dt_bias`, per head `h`,

        H_t = exp(δ_t A) H_{t−1} + δ_t x_t ⊗ B_t       H: (head_dim, N)
        y_t = H_t C_t + D x_t,        y ← y ⊙ silu(z)

    `H_0 = initial_state` (zeros by default). With grouped `B, C: (batch, L, groups, N)`, head
    `h` uses group `h // (heads // groups)`. Arithmetic is float32 for half-precision inputs
    and float64 for float64 inputs; differentiable in every argument in reverse mode
    (`grad`, `vjp`: the fast implementations carry custom VJPs; forward mode, `jvp`, needs
    `impl="reference"`).

    **Arguments:**

    - `x`: inputs, `(batch, L, heads, head_dim)`; `dt`: step sizes, `(batch, L, heads)`.
    - `A`: per-head decay rate (usually negative), `(heads,)`.
    - `B`, `C`: `(batch, L, N)` or `(batch, L, groups, N)`.
    - `D`: skip, `(heads,)`; `z`: gate, shape of `x`; `dt_bias`: `(heads,)`.
    - `dt_softplus`, `return_last_state`, `initial_state` (`(batch, heads, head_dim, N)`).
    - `impl`: `"reference"` (plain `lax.scan`, the oracle), `"scan"` (`lax.scan` over
      rematerialised chunks), `"chunked"` (the SSD algorithm: quadratic
      attention-like form within chunks of 64 steps, a recurrence over chunk states),
      `"pallas"` (the chunked algorithm fused in one GPU/TPU kernel per direction, with a
      hand-derived backward kernel; interpreted on CPU) or `"auto"` (Pallas on GPU and on
      TPU where its blocks fit VMEM, `"chunked"` otherwise).

    **Returns:** `y` with the shape of `x`, in the promoted input dtype; with
    `return_last_state`, `(y, H_L)` with `H_L` in the compute dtype.

    Integer inputs are promoted to the floating dtype of the others (the default floating
    dtype when all are integers); the output has the promoted dtype of the inputs.

    **Raises:** `ValueError` for a wrong shape (naming the argument and the shape wanted) or
    an unknown `impl`; `TypeError` for a boolean, complex or non-numeric input.

    **References:** Dao & Gu, *Transformers are SSMs: Generalized Models and Efficient
    Algorithms Through Structured State Space Duality* (2024), §6 (`ssd_minimal_discrete`).
    """
    arrays = as_float_arrays("ssd_scan", x=x, dt=dt, A=A, B=B, C=C, D=D, z=z, dt_bias=dt_bias,
                             initial_state=initial_state)
    _, length, _, head_dim, _, n = _check_shapes(**arrays)
    impl = resolve_impl("ssd_scan", impl, IMPLS, pallas_bytes=vmem_bytes(length, head_dim, n))
    return _ssd_jit(**arrays, impl=impl, dt_softplus=dt_softplus,
                    return_last_state=return_last_state)


@functools.partial(jax.jit, static_argnames=("impl", "dt_softplus", "return_last_state"))
def _ssd_jit(x, dt, A, B, C, D, z, dt_bias, initial_state, *, impl, dt_softplus,
             return_last_state):
    present = [a for a in (x, dt, A, B, C, D, z, dt_bias) if a is not None]
    out_dtype = jnp.result_type(*present)
    cdt = jnp.promote_types(out_dtype, jnp.float32)
    if jnp.ndim(B) == 3:
        B, C = B[:, :, None, :], C[:, :, None, :]
    batch, length, heads, p = x.shape
    groups, n = B.shape[2], B.shape[3]
    r = heads // groups
    xg = x.astype(cdt).reshape(batch, length, groups, r, p)
    Ag = A.astype(cdt).reshape(groups, r)
    h0 = (jnp.zeros((batch, heads, p, n), cdt) if initial_state is None
          else initial_state.astype(cdt)).reshape(batch, groups, r, p, n)
    Bc, Cc = B.astype(cdt), C.astype(cdt)
    if impl == "pallas":
        bias = jnp.zeros((heads,), cdt) if dt_bias is None else dt_bias.astype(cdt)
        y, h = ssd_pallas(xg, dt.astype(cdt).reshape(batch, length, groups, r),
                          bias.reshape(groups, r), Ag, Bc, Cc, h0, softplus=dt_softplus)
    else:
        dl = dt.astype(cdt)
        if dt_bias is not None:
            dl = dl + dt_bias.astype(cdt)
        if dt_softplus:
            dl = jax.nn.softplus(dl)
        dl = dl.reshape(batch, length, groups, r)
        scan = {"reference": ssd_reference, "scan": ssd_chunked_loop,
                "chunked": ssd_chunked}[impl]
        y, h = scan(xg, dl, Ag, Bc, Cc, h0)

    y = y.reshape(batch, length, heads, p)
    if D is not None:
        y = y + x.astype(cdt) * D.astype(cdt)[:, None]
    if z is not None:
        y = y * jax.nn.silu(z.astype(cdt))
    y = y.astype(out_dtype)
    if return_last_state:
        return y, h.reshape(batch, heads, p, n)
    return y


# --------------------------------------------------------------------------- implementations
# x: (b, L, G, R, P); dl: (b, L, G, R); A: (G, R); B, C: (b, L, G, N); h0: (b, G, R, P, N).
# Each returns y (without D, z): (b, L, G, R, P) and H_L: (b, G, R, P, N).


def _ssd_step(h, x_t, d_t, B_t, C_t, A):
    h = (jnp.exp(d_t * A)[..., None, None] * h
         + (d_t[..., None] * x_t)[..., None] * B_t[:, :, None, None, :])
    return h, jnp.sum(h * C_t[:, :, None, None, :], axis=-1)


def ssd_reference(x, dl, A, B, C, h0):
    """The oracle: one `lax.scan` step per time step."""
    def step(h, xs):
        return _ssd_step(h, *xs, A)

    xs = tuple(jnp.moveaxis(v, 1, 0) for v in (x, dl, B, C))
    h, ys = lax.scan(step, h0, xs)
    return jnp.moveaxis(ys, 0, 1), h


def ssd_chunked_loop(x, dl, A, B, C, h0, *, chunk=SCAN_CHUNK, unroll=SCAN_UNROLL):
    """`lax.scan` over rematerialised chunks of a `lax.scan` over steps (reverse-mode autodiff
    stores only the chunk-boundary states and recomputes the rest)."""
    length = x.shape[1]
    chunk = min(chunk, length)

    @jax.checkpoint
    def chunk_body(h, xs):
        def step(h, v):
            return _ssd_step(h, *v, A)

        return lax.scan(step, h, xs, unroll=min(unroll, chunk))

    xs = tuple(jnp.moveaxis(_to_chunks(v, chunk), 2, 1)
               for v in _pad_time(length, chunk, x, dl, B, C))
    h, ys = lax.scan(chunk_body, h0, xs)
    return _from_chunks(jnp.moveaxis(ys, 1, 2), length), h


def _segment_decay(cum):
    """exp(cum_i − cum_j) for i ≥ j, else 0: (..., Q) → (..., Q, Q) (mamba's `segsum`)."""
    q = cum.shape[-1]
    diff = cum[..., :, None] - cum[..., None, :]
    lower = jnp.tril(jnp.ones((q, q), dtype=bool))
    return jnp.exp(jnp.where(lower, diff, -jnp.inf))


def ssd_chunked(x, dl, A, B, C, h0, *, chunk=SSD_CHUNK):
    """The SSD algorithm: intra-chunk quadratic form + recurrence over chunk states.

    1. `Y_diag = (C Bᵀ ⊙ exp(segsum(δA))) (δ x)` within each chunk of `Q` steps;
    2. chunk states `S_c = Σ_j exp(cum_Q − cum_j) δ_j x_j ⊗ B_j`;
    3. states at chunk starts by a `lax.scan` over chunks, `H_{c+1} = e^{cum_Q} H_c + S_c`;
    4. `Y_off = e^{cum_i} H_c C_i`; `Y = Y_diag + Y_off`.
    """
    length = x.shape[1]
    chunk = min(chunk, length)
    x, dl, B, C = (_to_chunks(v, chunk) for v in _pad_time(length, chunk, x, dl, B, C))
    # Chunk-major: x (c, b, Q, G, R, P); dl (c, b, Q, G, R); B, C (c, b, Q, G, N).
    cum = jnp.cumsum(dl * A, axis=2)                                    # (c, b, Q, G, R)
    cum_t = jnp.moveaxis(cum, 2, -1)                                    # (c, b, G, R, Q)
    decay = _segment_decay(cum_t)                                       # (c, b, G, R, Q, Q)
    scores = jnp.einsum("cbign,cbjgn->cbgij", C, B, precision=_HIGHEST)
    xd = x * dl[..., None]                                              # δ x
    y_diag = jnp.einsum("cbgij,cbgrij,cbjgrp->cbigrp", scores, decay, xd, precision=_HIGHEST)
    to_end = jnp.exp(cum[:, :, -1:] - cum)                              # (c, b, Q, G, R)
    states = jnp.einsum("cbjgn,cbjgr,cbjgrp->cbgrpn", B, to_end, xd, precision=_HIGHEST)
    chunk_decay = jnp.exp(cum[:, :, -1])                                # (c, b, G, R)

    def carry_state(h, inputs):
        s, a = inputs
        return a[..., None, None] * h + s, h

    h_last, h_start = lax.scan(carry_state, h0, (states, chunk_decay))  # h_start: (c, b, ...)
    y_off = jnp.einsum("cbign,cbgrpn,cbigr->cbigrp", C, h_start, jnp.exp(cum),
                       precision=_HIGHEST)
    return _from_chunks(y_diag + y_off, length), h_last
