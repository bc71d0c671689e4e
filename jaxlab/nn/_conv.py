"""Causal depthwise 1-d convolution over the time axis (the short convolution of Mamba blocks)."""

import jax.numpy as jnp
from jaxtyping import Array, Float


def causal_depthwise_conv(
    x: Float[Array, "batch L channels"],
    weight: Float[Array, "channels width"],
    bias: Float[Array, " channels"] | None = None,
) -> Float[Array, "batch L channels"]:
    """`y[t, c] = Σ_k weight[c, k] · x[t − (width − 1) + k, c] + bias[c]`, zeros before t = 0.

    The output at `t` depends on inputs at `t − width + 1, …, t` only (PyTorch's
    `Conv1d(groups=channels, padding=width − 1)` truncated to the first L outputs, as in
    mamba-ssm's `causal_conv1d`).

    **Arguments:** `x: (batch, L, channels)`, `weight: (channels, width)`, `bias: (channels,)`.

    **Returns:** `(batch, L, channels)`.
    """
    width = weight.shape[1]
    length = x.shape[1]
    padded = jnp.pad(x, [(0, 0), (width - 1, 0), (0, 0)])
    y = sum(padded[:, k:k + length] * weight[:, k] for k in range(width))
    return y if bias is None else y + bias
