"""Causal depthwise 1-d convolution over the time axis (the short convolution of Mamba blocks)."""

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Real

from .._core.checks import as_float_arrays, shape_str


def causal_depthwise_conv(
    x: Real[ArrayLike, "batch L channels"],
    weight: Real[ArrayLike, "channels width"],
    bias: Real[ArrayLike, " channels"] | None = None,
) -> Float[Array, "batch L channels"]:
    """`y[t, c] = Σ_k weight[c, k] · x[t − (width − 1) + k, c] + bias[c]`, zeros before t = 0.

    The output at `t` depends on inputs at `t − width + 1, …, t` only (PyTorch's
    `Conv1d(groups=channels, padding=width − 1)` truncated to the first L outputs, as in
    mamba-ssm's `causal_conv1d`).

    **Arguments:** `x: (batch, L, channels)`, `weight: (channels, width)`, `bias: (channels,)`.

    Integer arrays are promoted to the floating dtype of the others (the default floating
    dtype when all are integers).

    **Returns:** `(batch, L, channels)`, in the promoted dtype of the inputs.

    **Raises:** `TypeError` for a boolean, complex or non-numeric input; `ValueError` if
    the shapes do not fit together (naming the argument).
    """
    arrays = as_float_arrays("causal_depthwise_conv", x=x, weight=weight, bias=bias)
    x, weight, bias = arrays["x"], arrays["weight"], arrays["bias"]
    if jnp.ndim(x) != 3:
        raise ValueError(f"causal_depthwise_conv: x must have shape (batch, L, channels), got "
                         f"{shape_str(x)}")
    channels = x.shape[2]
    if jnp.ndim(weight) != 2 or weight.shape[0] != channels or weight.shape[1] < 1:
        raise ValueError(f"causal_depthwise_conv: weight must have shape (channels, width) = "
                         f"({channels}, width), got {shape_str(weight)}")
    if bias is not None and jnp.shape(bias) != (channels,):
        raise ValueError(f"causal_depthwise_conv: bias must have shape (channels,) = "
                         f"({channels},), got {shape_str(bias)}")
    width = weight.shape[1]
    length = x.shape[1]
    padded = jnp.pad(x, [(0, 0), (width - 1, 0), (0, 0)])
    y = sum(padded[:, k:k + length] * weight[:, k] for k in range(width))
    return y if bias is None else y + bias
