"""The Mamba (selective state-space) block on `jaxlab.kernels.selective_scan`."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, Real

from .._core.checks import check_int, check_number
from ..kernels import selective_scan
from ._conv import causal_depthwise_conv
from ._dense import dense
from ._init import dt_bias_init
from ._input import layer_input


class MambaBlock(eqx.Module):
    """Mamba block: in-projection, causal depthwise convolution, selective scan, gate,
    out-projection.

        (x, z) = W_in u;   x ← silu(conv(x));   (δ_low, B, C) = W_x x;   δ = W_dt δ_low
        y = selective_scan(x, δ, −exp(A_log), B, C, D, z, dt_bias, delta_softplus=True)
        out = W_out y

    Initialisation as mamba-ssm: `A = −(1, 2, …, N)` per channel (S4D-real), `D = 1`,
    `W_dt ~ U(±rank^{-1/2})`, `dt_bias = softplus⁻¹(dt)` with `dt` log-uniform in
    `[dt_min, dt_max]` floored at `dt_init_floor`, PyTorch-default linear and conv layers.

    **Arguments:**

    - `d_model`: feature size; `d_state`: N (16); `d_conv`: convolution width (4);
      `expand`: inner width `d_inner = expand · d_model` (2); `dt_rank`: rank of the step-size
      projection (default ⌈d_model / 16⌉).
    - `dt_min`, `dt_max`, `dt_init_floor`: step-size initialisation (1e-3, 0.1, 1e-4).
    - `bias`: biases on the in/out projections (False); `conv_bias`: on the conv (True).
    - `impl`: the `selective_scan` implementation (`"auto"`).
    - `dtype`: parameter dtype (default float32, float64 with x64 enabled).
    - `key`: PRNG key.

    Call on `x: (..., L, d_model)` (integer values are promoted to the parameter dtype);
    returns the same shape. Causal along L.

    **Raises:** `TypeError` for a size that is not an int or a boolean/complex input;
    `ValueError` for a non-positive size, `dt_min <= 0` or `dt_max < dt_min`, or an input
    of the wrong width.

    **References:** Gu & Dao, *Mamba: Linear-Time Sequence Modeling with Selective State
    Spaces* (2023), §3.4 and Appendix; mamba-ssm `Mamba` module (Apache-2.0).
    """

    in_proj: eqx.nn.Linear
    conv_weight: Float[Array, "d_inner d_conv"]
    conv_bias: Float[Array, " d_inner"] | None
    x_proj: eqx.nn.Linear
    dt_proj: eqx.nn.Linear
    A_log: Float[Array, "d_inner d_state"]
    D: Float[Array, " d_inner"]
    out_proj: eqx.nn.Linear
    d_model: int = eqx.field(static=True)
    d_inner: int = eqx.field(static=True)
    d_state: int = eqx.field(static=True)
    dt_rank: int = eqx.field(static=True)
    impl: str = eqx.field(static=True)

    def __init__(self, d_model: int, *, d_state: int = 16, d_conv: int = 4, expand: int = 2,
                 dt_rank: int | None = None, dt_min: float = 1e-3, dt_max: float = 0.1,
                 dt_init_floor: float = 1e-4, bias: bool = False, conv_bias: bool = True,
                 impl: str = "auto", dtype=None, key: PRNGKeyArray):
        dt_rank = math.ceil(d_model / 16) if dt_rank is None else dt_rank
        for name, value in (("d_model", d_model), ("d_state", d_state), ("d_conv", d_conv),
                            ("expand", expand), ("dt_rank", dt_rank)):
            check_int("MambaBlock", name, value, minimum=1)
        dt_min = check_number("MambaBlock", "dt_min", dt_min, minimum=0.0, open_minimum=True)
        dt_max = check_number("MambaBlock", "dt_max", dt_max, minimum=dt_min)
        dtype = jnp.result_type(float) if dtype is None else dtype
        d_inner = expand * d_model
        k_in, k_conv, k_cb, k_x, k_dt, k_dtb, k_out = jax.random.split(key, 7)
        self.in_proj = eqx.nn.Linear(d_model, 2 * d_inner, use_bias=bias, key=k_in, dtype=dtype)
        bound = 1.0 / math.sqrt(d_conv)       # PyTorch Conv1d default (fan_in = d_conv)
        self.conv_weight = jax.random.uniform(k_conv, (d_inner, d_conv), dtype, -bound, bound)
        self.conv_bias = (jax.random.uniform(k_cb, (d_inner,), dtype, -bound, bound)
                          if conv_bias else None)
        self.x_proj = eqx.nn.Linear(d_inner, dt_rank + 2 * d_state, use_bias=False, key=k_x,
                                    dtype=dtype)
        std = dt_rank**-0.5
        self.dt_proj = eqx.tree_at(
            lambda m: (m.weight, m.bias), eqx.nn.Linear(dt_rank, d_inner, key=k_dt, dtype=dtype),
            (jax.random.uniform(k_dt, (d_inner, dt_rank), dtype, -std, std),
             dt_bias_init(k_dtb, (d_inner,), dt_min=dt_min, dt_max=dt_max,
                          floor=dt_init_floor, dtype=dtype)))
        self.A_log = jnp.log(jnp.broadcast_to(jnp.arange(1, d_state + 1, dtype=dtype),
                                              (d_inner, d_state)))
        self.D = jnp.ones((d_inner,), dtype)
        self.out_proj = eqx.nn.Linear(d_inner, d_model, use_bias=bias, key=k_out, dtype=dtype)
        self.d_model, self.d_inner, self.d_state, self.dt_rank = d_model, d_inner, d_state, dt_rank
        self.impl = impl

    def __call__(self, x: Real[ArrayLike, "*batch L d_model"]
                 ) -> Float[Array, "*batch L d_model"]:
        x = layer_input("MambaBlock", "x", x, self.d_model, self.D.dtype)
        lead = x.shape[:-2]
        u = x.reshape(-1, *x.shape[-2:])
        xz = dense(self.in_proj, u)
        xs, z = xz[..., :self.d_inner], xz[..., self.d_inner:]
        xs = jax.nn.silu(causal_depthwise_conv(xs, self.conv_weight, self.conv_bias))
        dbc = dense(self.x_proj, xs)
        r, n = self.dt_rank, self.d_state
        dt = dbc[..., :r] @ self.dt_proj.weight.T      # bias added inside the scan
        B, C = dbc[..., r:r + n], dbc[..., r + n:]
        y = selective_scan(xs, dt, -jnp.exp(self.A_log), B, C, self.D, z, self.dt_proj.bias,
                           delta_softplus=True, impl=self.impl)
        return dense(self.out_proj, y).reshape(*lead, *x.shape[-2:])
