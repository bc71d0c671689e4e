"""Equinox layers built on `jaxlab.kernels`: the Mamba and Mamba-2 blocks and multi-head
(grouped-query) attention with optional rotary positions.

Every layer is an `eqx.Module`, takes `(..., L, d_model)` and returns the same shape; the
kernel implementation is a static `impl=` (default `"auto"`: Pallas on GPU/TPU, the fastest
XLA path on CPU).

**References:** Gu & Dao, *Mamba* (2023); Dao & Gu, *Transformers are SSMs* (2024); Vaswani
et al. (2017); Ainslie et al., *GQA* (2023); Su et al., *RoFormer* (2021).
"""

from ._attention import MultiHeadAttention as MultiHeadAttention
from ._attention import rotary_embedding as rotary_embedding
from ._conv import causal_depthwise_conv as causal_depthwise_conv
from ._mamba import MambaBlock as MambaBlock
from ._mamba2 import Mamba2Block as Mamba2Block
