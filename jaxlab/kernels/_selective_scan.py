"""Mamba-1 selective scan: a `lax.scan` reference and XLA implementations behind one function.

Internally every implementation works on a *grouped* layout: the `dim` channels split into
`groups` blocks of `P = dim // groups` channels that share one `B_t, C_t ∈ R^N`, so
`u, δ: (batch, L, groups, P)`, `A: (groups, P, N)`, `B, C: (batch, L, groups, N)` and the
state `h: (batch, groups, P, N)`. Arithmetic runs in float32 for half-precision inputs (as in
mamba-ssm) and in float64 for float64 inputs.
"""

import functools

import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, ArrayLike, Float, Real

from .._core.checks import as_float_arrays, shape_str
from ._checks import check_grouped_bc
from ._dispatch import resolve_impl
from ._selective_scan_pallas import selective_scan_pallas, vmem_bytes

IMPLS = ("reference", "scan", "associative", "chunked", "pallas")

# Steps per chunk of the "scan" implementation: only the states at chunk boundaries are kept
# for the backward pass (the rest are recomputed). Unrolling the step loop made it slower on
# CPU (2048 steps, dim 256, N 16: forward+backward 0.22 s at unroll 1, 0.31 s at 4, 0.50 s at
# 8) and multiplies compile time, so it is off.
SCAN_CHUNK = 64
SCAN_UNROLL = 1
# Steps per chunk of the "chunked" implementation (associative scan within, scan across).
ASSOCIATIVE_CHUNK = 64


# --------------------------------------------------------------------------- validation


def _check_shapes(u, delta, A, B, C, D, z, delta_bias, initial_state):
    """Static shape checks; returns (batch, L, dim, groups, N). Raises ValueError."""
    name = "selective_scan"
    if jnp.ndim(u) != 3:
        raise ValueError(f"{name}: u must have shape (batch, L, dim), got {shape_str(u)}")
    batch, length, dim = jnp.shape(u)
    if jnp.shape(delta) != (batch, length, dim):
        raise ValueError(f"{name}: delta must have the shape of u, (batch, L, dim) = "
                         f"{(batch, length, dim)}, got {shape_str(delta)}")
    if jnp.ndim(A) != 2 or jnp.shape(A)[0] != dim:
        raise ValueError(f"{name}: A must have shape (dim, N) = ({dim}, N), got "
                         f"{shape_str(A)}")
    n = jnp.shape(A)[1]
    groups = check_grouped_bc(name, B, C, batch, length, n, dim, "dim")
    for arg, value in [("D", D), ("delta_bias", delta_bias)]:
        if value is not None and jnp.shape(value) != (dim,):
            raise ValueError(f"{name}: {arg} must have shape (dim,) = ({dim},), got "
                             f"{shape_str(value)}")
    if z is not None and jnp.shape(z) != (batch, length, dim):
        raise ValueError(f"{name}: z must have the shape of u, (batch, L, dim) = "
                         f"{(batch, length, dim)}, got {shape_str(z)}")
    if initial_state is not None and jnp.shape(initial_state) != (batch, dim, n):
        raise ValueError(f"{name}: initial_state must have shape (batch, dim, N) = "
                         f"{(batch, dim, n)}, got {shape_str(initial_state)}")
    return batch, length, dim, groups, n


# --------------------------------------------------------------------------- public function


def selective_scan(
    u: Real[ArrayLike, "batch L dim"],
    delta: Real[ArrayLike, "batch L dim"],
    A: Real[ArrayLike, "dim N"],
    B: Real[ArrayLike, "batch L *groups N"],
    C: Real[ArrayLike, "batch L *groups N"],
    D: Real[ArrayLike, " dim"] | None = None,
    z: Real[ArrayLike, "batch L dim"] | None = None,
    delta_bias: Real[ArrayLike, " dim"] | None = None,
    *,
    delta_softplus: bool = False,
    return_last_state: bool = False,
    initial_state: Real[ArrayLike, "batch dim N"] | None = None,
    impl: str = "auto",
) -> Float[Array, "batch L dim"] | tuple[Float[Array, "batch L dim"], Float[Array, "batch dim N"]]:
    """The Mamba-1 selective scan (a diagonal, input-dependent linear recurrence).

    With `δ = softplus(delta + delta_bias)` if `delta_softplus` else `delta + delta_bias`,

        h_t = exp(δ_t ⊙ A) ⊙ h_{t−1} + (δ_t ⊙ u_t) ⊗ B_t        h: (batch, dim, N)
        y_t = h_t · C_t + D ⊙ u_t,        y ← y ⊙ silu(z)

    with `h_0 = initial_state` (zeros by default). With grouped `B, C: (batch, L, groups, N)`
    channel `d` uses group `d // (dim // groups)`. Arithmetic is float32 for half-precision
    inputs and float64 for float64 inputs; differentiable in every argument in reverse mode
    (`grad`, `vjp`: the fast implementations carry custom VJPs; forward mode, `jvp`, needs
    `impl="reference"`).

    **Arguments:**

    - `u`: inputs, `(batch, L, dim)` (channels last).
    - `delta`: step sizes before the optional bias and softplus, `(batch, L, dim)`.
    - `A`: state matrix (diagonal per channel, usually negative), `(dim, N)`.
    - `B`, `C`: input and output projections, `(batch, L, N)` or `(batch, L, groups, N)`.
    - `D`: skip connection, `(dim,)`; `z`: gate, `(batch, L, dim)`; `delta_bias`: `(dim,)`.
    - `delta_softplus`: apply softplus to `delta + delta_bias`.
    - `return_last_state`: also return `h_L`.
    - `initial_state`: `h_0`, `(batch, dim, N)`.
    - `impl`: `"reference"` (plain `lax.scan`, the test oracle), `"scan"` (`lax.scan` over
      chunks of steps with a hand-written backward pass that recomputes each chunk's states
      from its start),
      `"associative"` (`lax.associative_scan`: parallel in L, materialises every state),
      `"chunked"` (associative scan within chunks, `lax.scan` across), `"pallas"` (fused
      GPU/TPU kernel with a recomputing backward kernel; interpreted on CPU) or `"auto"`
      (Pallas on GPU and on TPU where its blocks fit VMEM, `"scan"` otherwise).

    **Returns:** `y: (batch, L, dim)` in the promoted input dtype; with `return_last_state`,
    `(y, h_L)` with `h_L: (batch, dim, N)` in the compute dtype.

    Integer inputs are promoted to the floating dtype of the others (the default floating
    dtype when all are integers).

    **Raises:** `ValueError` for a wrong shape (naming the argument and the shape wanted) or an
    unknown `impl`; `TypeError` for a boolean, complex or non-numeric input.

    **References:** Gu & Dao, *Mamba: Linear-Time Sequence Modeling with Selective State
    Spaces* (2023), Algorithm 2; mamba-ssm `selective_scan_ref` (Apache-2.0).
    """
    x = as_float_arrays("selective_scan", u=u, delta=delta, A=A, B=B, C=C, D=D, z=z,
                        delta_bias=delta_bias, initial_state=initial_state)
    _, length, dim, groups, n = _check_shapes(**x)
    impl = resolve_impl("selective_scan", impl, IMPLS,
                        pallas_bytes=vmem_bytes(length, dim // groups, n))
    return _selective_scan_jit(**x, impl=impl, delta_softplus=delta_softplus,
                               return_last_state=return_last_state)


@functools.partial(jax.jit, static_argnames=("impl", "delta_softplus", "return_last_state"))
def _selective_scan_jit(u, delta, A, B, C, D, z, delta_bias, initial_state, *, impl,
                        delta_softplus, return_last_state):
    present = [x for x in (u, delta, A, B, C, D, z, delta_bias) if x is not None]
    out_dtype = jnp.result_type(*present)
    cdt = jnp.promote_types(out_dtype, jnp.float32)
    if jnp.ndim(B) == 3:
        B, C = B[:, :, None, :], C[:, :, None, :]
    batch, length, dim = u.shape
    groups, n = B.shape[2], A.shape[1]
    p = dim // groups
    h0 = (jnp.zeros((batch, dim, n), cdt) if initial_state is None
          else initial_state.astype(cdt)).reshape(batch, groups, p, n)
    ug = u.astype(cdt).reshape(batch, length, groups, p)
    Ag = A.astype(cdt).reshape(groups, p, n)
    Bc, Cc = B.astype(cdt), C.astype(cdt)

    if impl == "pallas":
        bias = (jnp.zeros((dim,), cdt) if delta_bias is None else delta_bias.astype(cdt))
        y, h = selective_scan_pallas(ug, delta.astype(cdt).reshape(ug.shape),
                                     bias.reshape(groups, p), Ag, Bc, Cc, h0,
                                     softplus=delta_softplus)
    else:
        dl = delta.astype(cdt)
        if delta_bias is not None:
            dl = dl + delta_bias.astype(cdt)
        if delta_softplus:
            dl = jax.nn.softplus(dl)
        dl = dl.reshape(ug.shape)
        scan = {"reference": scan_reference, "scan": scan_chunked_loop,
                "associative": scan_associative, "chunked": scan_chunked_associative}[impl]
        y, h = scan(ug, dl, Ag, Bc, Cc, h0)

    y = y.reshape(batch, length, dim)
    if D is not None:
        y = y + u.astype(cdt) * D.astype(cdt)
    if z is not None:
        y = y * jax.nn.silu(z.astype(cdt))
    y = y.astype(out_dtype)
    if return_last_state:
        return y, h.reshape(batch, dim, n)
    return y


# --------------------------------------------------------------------------- implementations
# Grouped layout: u, dl (δ after bias/softplus): (b, L, G, P); A: (G, P, N); B, C: (b, L, G, N);
# h0: (b, G, P, N). Each returns y_ssm (without D, z): (b, L, G, P) and h_L: (b, G, P, N).


def _step(h, u_t, d_t, B_t, C_t, A):
    """One step of the recurrence on (b, G, P, N) states."""
    h = jnp.exp(d_t[..., None] * A) * h + (d_t * u_t)[..., None] * B_t[:, :, None, :]
    return h, jnp.sum(h * C_t[:, :, None, :], axis=-1)


def scan_reference(u, dl, A, B, C, h0):
    """The oracle: one `lax.scan` step per time step, exactly the recurrence."""
    def step(h, xs):
        return _step(h, *xs, A)

    xs = tuple(jnp.moveaxis(x, 1, 0) for x in (u, dl, B, C))
    h, ys = lax.scan(step, h0, xs)
    return jnp.moveaxis(ys, 0, 1), h


def _pad_time(length, chunk, *arrays):
    """Zero-pad axis 1 to a multiple of `chunk`: with δ = 0 a padded step is the identity."""
    pad = -length % chunk
    if pad == 0:
        return arrays
    return tuple(jnp.pad(x, [(0, 0), (0, pad)] + [(0, 0)] * (x.ndim - 2)) for x in arrays)


def _to_chunks(x, chunk):
    """(b, L, ...) → (L/chunk, b, chunk, ...)."""
    b, length = x.shape[:2]
    return jnp.moveaxis(x.reshape(b, length // chunk, chunk, *x.shape[2:]), 1, 0)


def _from_chunks(y, length):
    """(nC, b, chunk, ...) → (b, L, ...), dropping padding."""
    y = jnp.moveaxis(y, 0, 1)
    return y.reshape(y.shape[0], -1, *y.shape[3:])[:, :length]


def scan_chunked_loop(u, dl, A, B, C, h0, *, chunk=SCAN_CHUNK, unroll=SCAN_UNROLL):
    """`lax.scan` over chunks of a `lax.scan` over steps, with a hand-written VJP.

    Reverse-mode autodiff of a plain scan stores `exp(δ_t A)` for every step, an
    `(L, batch, dim, N)` history. Here the forward pass keeps only the `L / chunk` states at
    chunk starts; the backward pass walks the chunks in reverse, recomputes each chunk's
    states from its start and runs the adjoint recursion
    `g_t = C_t ∂y_t + exp(δ_{t+1} A) g_{t+1}` (never inverting `exp(δA)`, which may underflow).
    """
    length = u.shape[1]
    chunk = min(chunk, length)
    unroll = max(1, min(unroll, chunk))
    xs = tuple(jnp.moveaxis(_to_chunks(x, chunk), 2, 1)      # (nC, chunk, b, ...)
               for x in _pad_time(length, chunk, u, dl, B, C))
    ys, h = _chunked_loop(*xs, A, h0, unroll)
    return _from_chunks(jnp.moveaxis(ys, 1, 2), length), h


def _chunk_states(h, u_c, d_c, B_c, C_c, A, unroll):
    """Run one chunk from state h: (outputs (T, ...), states before each step (T, ...), h_T)."""
    def step(h, x):
        h_new, y = _step(h, *x, A)
        return h_new, (y, h)

    h, (ys, h_prev) = lax.scan(step, h, (u_c, d_c, B_c, C_c), unroll=unroll)
    return ys, h_prev, h


@functools.partial(jax.custom_vjp, nondiff_argnums=(6,))
def _chunked_loop(u, dl, B, C, A, h0, unroll):
    # Without differentiation one flat scan over the steps is enough (and faster than the
    # nested one, which only exists to save the chunk-start states).
    def step(h, x):
        return _step(h, *x, A)

    flat = lambda x: x.reshape(-1, *x.shape[2:])             # (nC, T, ...) → (nC·T, ...)
    h, ys = lax.scan(step, h0, tuple(flat(x) for x in (u, dl, B, C)), unroll=unroll)
    return ys.reshape(*u.shape[:2], *ys.shape[1:]), h


def _chunked_loop_fwd(u, dl, B, C, A, h0, unroll):
    def chunk_body(h, xs):
        def step(h, x):
            return _step(h, *x, A)

        h_end, ys = lax.scan(step, h, xs, unroll=unroll)
        return h_end, (ys, h)

    h, (ys, starts) = lax.scan(chunk_body, h0, (u, dl, B, C))
    return (ys, h), (u, dl, B, C, A, starts)


def _chunked_loop_bwd(unroll, residuals, cotangents):
    u, dl, B, C, A, starts = residuals
    dys, dh_last = cotangents

    def chunk_body(carry, xs):
        dh, dA = carry                          # dh: ∂loss/∂h at the chunk's end
        u_c, d_c, B_c, C_c, dy_c, h_start = xs
        _, h_prev, _ = _chunk_states(h_start, u_c, d_c, B_c, C_c, A, unroll)

        def step(carry, x):
            dh, dA = carry
            u_t, d_t, B_t, C_t, dy_t, hp = x
            a = jnp.exp(d_t[..., None] * A)
            du_in = d_t * u_t
            h = a * hp + du_in[..., None] * B_t[:, :, None, :]
            g = dh + dy_t[..., None] * C_t[:, :, None, :]      # total adjoint of h_t
            dC_t = jnp.sum(h * dy_t[..., None], axis=2)
            ga = g * hp * a                                     # ∂/∂(δ_t A) of the decay
            dA = dA + jnp.sum(ga * d_t[..., None], axis=0)
            d_in = jnp.sum(g * B_t[:, :, None, :], axis=-1)     # ∂/∂(δ_t u_t)
            dd_t = jnp.sum(ga * A, axis=-1) + d_in * u_t
            dB_t = jnp.sum(g * du_in[..., None], axis=2)
            return (g * a, dA), (d_in * d_t, dd_t, dB_t, dC_t)

        (dh, dA), grads = lax.scan(step, (dh, dA), (u_c, d_c, B_c, C_c, dy_c, h_prev),
                                   reverse=True, unroll=unroll)
        return (dh, dA), grads

    (dh0, dA), (du, ddl, dB, dC) = lax.scan(
        chunk_body, (dh_last, jnp.zeros_like(A)), (u, dl, B, C, dys, starts), reverse=True)
    return du, ddl, dB, dC, dA, dh0


_chunked_loop.defvjp(_chunked_loop_fwd, _chunked_loop_bwd)


def _combine(left, right):
    """Composition of affine maps h ↦ a h + b (left first)."""
    a1, b1 = left
    a2, b2 = right
    return a1 * a2, a2 * b1 + b2


def scan_associative(u, dl, A, B, C, h0):
    """`lax.associative_scan` over all L steps (log depth; materialises every state)."""
    return scan_chunked_associative(u, dl, A, B, C, h0, chunk=u.shape[1])


def scan_chunked_associative(u, dl, A, B, C, h0, *, chunk=ASSOCIATIVE_CHUNK):
    """Two levels: associative scan within chunks, `lax.scan` carrying the state across.

    The backward pass is the same two-level structure run in reverse: per chunk (last first)
    the states are recomputed by an associative scan and the adjoints
    `g_t = C_t ∂y_t + exp(δ_{t+1} A) g_{t+1}` by a reversed associative scan, so memory is
    one chunk of states.
    """
    length = u.shape[1]
    chunk = min(chunk, length)
    xs = tuple(_to_chunks(x, chunk) for x in _pad_time(length, chunk, u, dl, B, C))
    ys, h = _chunked_associative(*xs, A, h0)         # xs: (nC, b, chunk, ...)
    return _from_chunks(ys, length), h


def _associative_chunk(h, u_c, d_c, B_c, C_c, A):
    """States of one chunk (b, T, G, P, N) from the start state h, and the decays a_t."""
    a = jnp.exp(d_c[..., None] * A)
    b = (d_c * u_c)[..., None] * B_c[:, :, :, None, :]
    a_cum, b_cum = lax.associative_scan(_combine, (a, b), axis=1)
    return a_cum * h[:, None] + b_cum, a


@jax.custom_vjp
def _chunked_associative(u, dl, B, C, A, h0):
    return _chunked_associative_fwd(u, dl, B, C, A, h0)[0]


def _chunked_associative_fwd(u, dl, B, C, A, h0):
    def chunk_body(h, xs):
        u_c, d_c, B_c, C_c = xs
        hs, _ = _associative_chunk(h, u_c, d_c, B_c, C_c, A)
        return hs[:, -1], (jnp.sum(hs * C_c[:, :, :, None, :], axis=-1), h)

    h, (ys, starts) = lax.scan(chunk_body, h0, (u, dl, B, C))
    return (ys, h), (u, dl, B, C, A, starts)


def _chunked_associative_bwd(residuals, cotangents):
    u, dl, B, C, A, starts = residuals
    dys, dh_last = cotangents

    def chunk_body(carry, xs):
        dh, dA = carry                          # dh: ∂loss/∂h at the chunk's end
        u_c, d_c, B_c, C_c, dy_c, h_start = xs
        hs, a = _associative_chunk(h_start, u_c, d_c, B_c, C_c, A)
        h_prev = jnp.concatenate([h_start[:, None], hs[:, :-1]], axis=1)
        # g_t = c_t + a_{t+1} g_{t+1}, g_{T-1} = c_{T-1} + dh: an affine recursion backwards in
        # time, i.e. an associative scan over the reversed chunk with decays (1, a_{T-1}, …, a_1).
        c = dy_c[..., None] * C_c[:, :, :, None, :]
        decay = jnp.concatenate([jnp.ones_like(a[:, :1]), a[:, :0:-1]], axis=1)
        c_rev = c[:, ::-1].at[:, 0].add(dh)
        _, g_rev = lax.associative_scan(_combine, (decay, c_rev), axis=1)
        g = g_rev[:, ::-1]
        ga = g * h_prev * a
        du_in = d_c * u_c
        d_in = jnp.sum(g * B_c[:, :, :, None, :], axis=-1)
        grads = (d_in * d_c,
                 jnp.sum(ga * A, axis=-1) + d_in * u_c,
                 jnp.sum(g * du_in[..., None], axis=3),
                 jnp.sum(hs * dy_c[..., None], axis=3))
        dA = dA + jnp.sum(ga * d_c[..., None], axis=(0, 1))
        return (g[:, 0] * a[:, 0], dA), grads

    (dh0, dA), (du, ddl, dB, dC) = lax.scan(
        chunk_body, (dh_last, jnp.zeros_like(A)), (u, dl, B, C, dys, starts), reverse=True)
    return du, ddl, dB, dC, dA, dh0


_chunked_associative.defvjp(_chunked_associative_fwd, _chunked_associative_bwd)
