"""`impl="auto"`: which implementation each op uses on the current platform.

On GPU and TPU the Pallas kernels; on CPU the fastest XLA path as measured by
`benchmarks/bench_kernels.py` (for the selective scan a chunked `lax.scan` beats
`lax.associative_scan` several-fold: the associative scan does ~2× the arithmetic and
materialises every state; see BENCHMARKS.md).
"""

from . import _compat

# Fastest XLA implementation on CPU, per op (measured, see BENCHMARKS.md).
_CPU_DEFAULT = {"selective_scan": "scan", "ssd_scan": "chunked", "attention": "xla"}


def resolve_impl(op: str, impl: str, impls: tuple[str, ...]) -> str:
    """Check `impl` against `impls` and resolve `"auto"` for the current platform.

    **Raises:** `ValueError` naming the op and the valid choices for an unknown `impl`.
    """
    if impl != "auto" and impl not in impls:
        raise ValueError(f"{op}: impl must be 'auto' or one of {impls}, got {impl!r}")
    if impl != "auto":
        return impl
    if _compat.platform() in ("gpu", "tpu") and _compat.pallas_available():
        return "pallas"
    return _CPU_DEFAULT[op]
