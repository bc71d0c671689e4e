"""Hot loops of sequence models: the Mamba selective scans and softmax attention.

Each op is one public function with several implementations behind `impl=`: a pure-jnp
reference (the test oracle), XLA implementations, and Pallas kernels for GPU and TPU (run
interpreted on CPU), every one differentiable. `impl="auto"` picks Pallas on GPU/TPU and the
fastest XLA path on CPU.

**References:** Gu & Dao, *Mamba* (2023); Dao & Gu, *Transformers are SSMs* (Mamba-2, 2024);
Dao, *FlashAttention-2* (2023); mamba-ssm and flash-attention reference code.
"""

from ._attention import attention as attention
from ._selective_scan import selective_scan as selective_scan
from ._ssd import ssd_scan as ssd_scan
