"""`impl="auto"`: which implementation each op uses on the current platform.

On GPU and TPU the Pallas kernels; elsewhere (and on TPU when a kernel's per-program blocks
would not fit VMEM) the fastest XLA path, as measured on CPU (2 cores, float32; see
BENCHMARKS.md and `benchmarks/bench_kernels.py`):

- selective scan (dim 256, N 16, L = 512 / 2048 / 8192), forward+backward: chunked `lax.scan`
  with its recomputing VJP 0.13 / 0.50 / 2.0 s, `lax.associative_scan` 0.18 / 0.80 / 3.5 s
  (twice the arithmetic, every state materialised; forward alone the two are within 15 %);
- SSD (8 heads × 32, N 64): the chunked SSD form 7 / 27 / 249 ms forward+backward, `lax.scan`
  0.18 / 0.70 / 2.3 s;
- causal attention (8 heads × 64): blocked online softmax ("flash") 13 / 288 / 4010 ms forward,
  `jax.nn.dot_product_attention` 19 / 545 / 12800 ms, and O(L) memory.
"""

from . import _compat

# Fastest XLA implementation on CPU, per op (measured, above).
_CPU_DEFAULT = {"selective_scan": "scan", "ssd_scan": "chunked", "attention": "flash"}

# Scoped VMEM a TPU kernel may use by default (16 MiB on v5e, 32 MiB on v6e), with headroom.
_TPU_VMEM_BYTES = 12 * 2**20


def resolve_impl(op: str, impl: str, impls: tuple[str, ...], *, pallas_bytes: int = 0) -> str:
    """Check `impl` against `impls` and resolve `"auto"` for the current platform.

    **Arguments:**

    - `op`: the op's name (for messages and the CPU default).
    - `impl`: `"auto"` or one of `impls`.
    - `impls`: the op's implementations.
    - `pallas_bytes`: VMEM one program of the op's Pallas kernel holds (double-buffered
      blocks); on TPU `"auto"` falls back to XLA above the scoped-VMEM default.

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
    return _CPU_DEFAULT[op]
