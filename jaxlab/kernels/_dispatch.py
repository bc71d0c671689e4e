"""`impl="auto"`: which implementation each op uses on the current platform.

On GPU and TPU the Pallas kernels; elsewhere (and on TPU when a kernel's per-program blocks
would not fit VMEM) the fastest XLA path, as measured on CPU (2 cores, float32; see
BENCHMARKS.md and `benchmarks/bench_kernels.py`):

- selective scan (dim 256, N 16, L = 512 / 2048 / 8192), forward+backward: chunked `lax.scan`
  with its recomputing VJP 0.08 / 0.54 / 2.1 s, `lax.associative_scan` 0.18 / 0.78 / 3.4 s
  (twice the arithmetic, every state materialised; forward alone it takes 0.98–1.33×);
- SSD (8 heads × 32, N 64): the chunked SSD form 5 / 21 / 173 ms forward+backward, `lax.scan`
  0.13 / 0.54 / 2.3 s;
- causal attention (8 heads × 64): `jax.nn.dot_product_attention` ("xla") 12 / 271 / 6140 ms
  forward, 26 / 749 ms forward+backward; blocked online softmax ("flash") 12 / 119 / 2000 ms
  forward, 39 / 437 / 7170 ms forward+backward, in O(L) memory. So "xla" up to 1024² logits
  per head (between 512², where it is faster, and 2048², where flash is twice as fast), "flash"
  beyond.
"""

import numpy as np

from . import _compat

# Fastest XLA implementation on CPU, per op (measured, above); attention: for long sequences.
_CPU_DEFAULT = {"selective_scan": "scan", "ssd_scan": "chunked", "attention": "flash"}
_CPU_ATTENTION_XLA_MAX_LOGITS = 1024**2


def cpu_attention_impl(lq: int, lk: int, dtype=None) -> str:
    """The XLA attention `impl="auto"` uses for `lq` queries and `lk` keys: `"xla"` for short
    sequences, except in float64 (`jax.nn.dot_product_attention` accumulates logits in float32),
    where the materialised `"reference"` computes the same in full precision; `"flash"` for
    long sequences."""
    if lq * lk > _CPU_ATTENTION_XLA_MAX_LOGITS:
        return "flash"
    return "reference" if dtype is not None and dtype == np.float64 else "xla"

# Scoped VMEM a TPU kernel may use by default (16 MiB on v5e, 32 MiB on v6e), with headroom.
_TPU_VMEM_BYTES = 12 * 2**20


def resolve_impl(op: str, impl: str, impls: tuple[str, ...], *, pallas_bytes: int = 0,
                 xla_default: str | None = None) -> str:
    """Check `impl` against `impls` and resolve `"auto"` for the current platform.

    **Arguments:**

    - `op`: the op's name (for messages and the CPU default).
    - `impl`: `"auto"` or one of `impls`.
    - `impls`: the op's implementations.
    - `pallas_bytes`: VMEM one program of the op's Pallas kernel holds (double-buffered
      blocks); on TPU `"auto"` falls back to XLA above the scoped-VMEM default.
    - `xla_default`: the XLA implementation for this call's shapes, if the op's depends on them.

    **Returns:** the implementation's name.

    **Raises:** `ValueError` naming the op and the valid choices for an unknown `impl`.
    """
    if impl != "auto" and impl not in impls:
        raise ValueError(f"{op}: impl must be 'auto' or one of {impls}, got {impl!r}")
    if impl != "auto":
        return impl
    kind = _compat.platform()
    if kind == "gpu" and _compat.pallas_available():
        return "pallas"
    if kind == "tpu" and _compat.pallas_available() and pallas_bytes <= _TPU_VMEM_BYTES:
        return "pallas"
    return xla_default or _CPU_DEFAULT[op]
