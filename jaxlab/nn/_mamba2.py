"""The Mamba-2 block on `jaxlab.kernels.ssd_scan`."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, Real

from .._core.checks import check_int, check_number
from ..kernels import ssd_scan
from ._conv import causal_depthwise_conv
from ._dense import dense
from ._init import dt_bias_init
from ._input import layer_input


class Mamba2Block(eqx.Module):
    """Mamba-2 block: one in-projection to `(z, x, B, C, dt)`, causal depthwise convolution of
    `(x, B, C)`, the SSD scan, a gated RMS norm and an out-projection.

        (z, xBC, dt) = W_in u;   (x, B, C) = silu(conv(xBC))
        y = ssd_scan(x, dt, −exp(A_log), B, C, D, dt_bias=dt_bias, dt_softplus=True)
        out = W_out rmsnorm_g(y ⊙ silu(z)) ⊙ w        (per group of d_inner / groups channels)

    Initialisation as mamba-ssm's `Mamba2`: `A = −U(A_init_range)` per head, `D = 1`, dt bias
    by inverse softplus of a log-uniform `dt ∈ [dt_min, dt_max]` floored at `dt_init_floor`.

    **Arguments:**

    - `d_model`; `d_state`: N (64); `d_conv` (4); `expand` (2); `head_dim` (64, must divide
      `expand · d_model`); `groups`: B/C groups (1, must divide the number of heads).
    - `dt_min`, `dt_max`, `dt_init_floor`, `A_init_range` ((1, 16)); `eps` of the norm (1e-5);
      `bias` on the projections (False); `conv_bias` (True).
    - `impl`: the `ssd_scan` implementation; `dtype`; `key`.

    Call on `x: (..., L, d_model)` (integer values are promoted to the parameter dtype);
    returns the same shape. Causal along L.

    **Raises:** `TypeError` for a size that is not an int or a boolean/complex input;
    `ValueError` for inconsistent sizes, `dt_min <= 0` or `dt_max < dt_min`, or an input of
    the wrong width.

    **References:** Dao & Gu, *Transformers are SSMs* (2024), §7; mamba-ssm `Mamba2Simple`.
    """

    in_proj: eqx.nn.Linear
    conv_weight: Float[Array, "conv_dim d_conv"]
    conv_bias: Float[Array, " conv_dim"] | None
    dt_bias: Float[Array, " heads"]
    A_log: Float[Array, " heads"]
    D: Float[Array, " heads"]
    norm_weight: Float[Array, " d_inner"]
    out_proj: eqx.nn.Linear
    d_model: int = eqx.field(static=True)
    d_inner: int = eqx.field(static=True)
    d_state: int = eqx.field(static=True)
    head_dim: int = eqx.field(static=True)
    groups: int = eqx.field(static=True)
    eps: float = eqx.field(static=True)
    impl: str = eqx.field(static=True)

    def __init__(self, d_model: int, *, d_state: int = 64, d_conv: int = 4, expand: int = 2,
                 head_dim: int = 64, groups: int = 1, dt_min: float = 1e-3, dt_max: float = 0.1,
                 dt_init_floor: float = 1e-4, A_init_range: tuple[float, float] = (1.0, 16.0),
                 eps: float = 1e-5, bias: bool = False, conv_bias: bool = True,
                 impl: str = "auto", dtype=None, key: PRNGKeyArray):
        for name, value in (("d_model", d_model), ("d_state", d_state), ("d_conv", d_conv),
                            ("expand", expand), ("head_dim", head_dim), ("groups", groups)):
            check_int("Mamba2Block", name, value, minimum=1)
        d_inner = expand * d_model
        if d_inner % head_dim:
            raise ValueError(f"Mamba2Block: head_dim must divide expand * d_model = {d_inner}, "
                             f"got {head_dim}")
        heads = d_inner // head_dim
        if heads % groups:
            raise ValueError(f"Mamba2Block: groups must divide the number of heads, {heads}, "
                             f"got {groups}")
        dt_min = check_number("Mamba2Block", "dt_min", dt_min, minimum=0.0, open_minimum=True)
        dt_max = check_number("Mamba2Block", "dt_max", dt_max, minimum=dt_min)
        if not 0 < A_init_range[0] <= A_init_range[1]:
            raise ValueError(f"Mamba2Block: A_init_range must satisfy 0 < low <= high, got "
                             f"{A_init_range}")
        dtype = jnp.result_type(float) if dtype is None else dtype
        conv_dim = d_inner + 2 * groups * d_state
        k_in, k_conv, k_cb, k_dt, k_a, k_out = jax.random.split(key, 6)
        self.in_proj = eqx.nn.Linear(d_model, d_inner + conv_dim + heads, use_bias=bias,
                                     key=k_in, dtype=dtype)
        bound = 1.0 / jnp.sqrt(d_conv)
        self.conv_weight = jax.random.uniform(k_conv, (conv_dim, d_conv), dtype, -bound, bound)
        self.conv_bias = (jax.random.uniform(k_cb, (conv_dim,), dtype, -bound, bound)
                          if conv_bias else None)
        self.dt_bias = dt_bias_init(k_dt, (heads,), dt_min=dt_min, dt_max=dt_max,
                                    floor=dt_init_floor, dtype=dtype)
        self.A_log = jnp.log(jax.random.uniform(k_a, (heads,), dtype, *A_init_range))
        self.D = jnp.ones((heads,), dtype)
        self.norm_weight = jnp.ones((d_inner,), dtype)
        self.out_proj = eqx.nn.Linear(d_inner, d_model, use_bias=bias, key=k_out, dtype=dtype)
        self.d_model, self.d_inner, self.d_state = d_model, d_inner, d_state
        self.head_dim, self.groups, self.eps, self.impl = head_dim, groups, eps, impl

    def __call__(self, x: Real[ArrayLike, "*batch L d_model"]
                 ) -> Float[Array, "*batch L d_model"]:
        x = layer_input("Mamba2Block", "x", x, self.d_model, self.D.dtype)
        lead, (length, _) = x.shape[:-2], x.shape[-2:]
        u = x.reshape(-1, length, self.d_model)
        batch, d, gn = u.shape[0], self.d_inner, self.groups * self.d_state
        proj = dense(self.in_proj, u)
        z, xbc, dt = proj[..., :d], proj[..., d:2 * d + 2 * gn], proj[..., 2 * d + 2 * gn:]
        xbc = jax.nn.silu(causal_depthwise_conv(xbc, self.conv_weight, self.conv_bias))
        xs = xbc[..., :d].reshape(batch, length, -1, self.head_dim)
        B = xbc[..., d:d + gn].reshape(batch, length, self.groups, self.d_state)
        C = xbc[..., d + gn:].reshape(batch, length, self.groups, self.d_state)
        y = ssd_scan(xs, dt, -jnp.exp(self.A_log), B, C, self.D, dt_bias=self.dt_bias,
                     dt_softplus=True, impl=self.impl).reshape(batch, length, d)
        y = (y * jax.nn.silu(z)).reshape(batch, length, self.groups, -1)
        y = y * jax.lax.rsqrt(jnp.mean(y * y, axis=-1, keepdims=True) + self.eps)
        y = y.reshape(batch, length, d) * self.norm_weight
        return dense(self.out_proj, y).reshape(*lead, length, self.d_model)
