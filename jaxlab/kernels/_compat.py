"""Version- and platform-specific Pallas imports, in one place.

JAX moves its Pallas backends between releases (see `reference/kernels.md`, §1): the Triton
GPU backend is deprecated from 0.11 (default GPU lowering is Mosaic GPU since 0.9) and its
compiler parameters changed names over time; Mosaic TPU parameters live in
`jax.experimental.pallas.tpu`. Every kernel file imports Pallas from here, so a JAX upgrade
touches this file only.

- `pl`: `jax.experimental.pallas` (always present for JAX ≥ 0.10).
- `HAS_TRITON`, `HAS_MOSAIC_TPU`: whether the backend modules import.
- `platform()`: `"gpu"`, `"tpu"` or `"cpu"` (the default backend's platform).
- `interpret_mode()`: `True` where Pallas kernels must run interpreted (CPU).
- `compiler_params(semantics, ...)`: the backend's compiler parameters, or `None`.
"""

import jax
from jax.experimental import pallas as pl

try:  # Triton GPU backend: deprecated in JAX 0.11, may disappear later.
    from jax.experimental.pallas import triton as _pltriton

    HAS_TRITON = hasattr(_pltriton, "CompilerParams")
except ImportError:  # pragma: no cover - depends on the installed JAX
    _pltriton = None
    HAS_TRITON = False

try:  # Mosaic TPU backend.
    from jax.experimental.pallas import tpu as _pltpu

    HAS_MOSAIC_TPU = hasattr(_pltpu, "CompilerParams")
except ImportError:  # pragma: no cover - depends on the installed JAX
    _pltpu = None
    HAS_MOSAIC_TPU = False

__all__ = ["HAS_MOSAIC_TPU", "HAS_TRITON", "compiler_params", "interpret_mode", "pl",
           "platform"]


def platform() -> str:
    """The default backend's platform: `"gpu"` (CUDA or ROCm), `"tpu"` or `"cpu"`."""
    backend = jax.default_backend()
    if backend in ("cuda", "rocm", "gpu"):
        return "gpu"
    return "tpu" if backend == "tpu" else "cpu"


def interpret_mode() -> bool:
    """Pallas runs compiled on GPU and TPU and only interpreted (`interpret=True`) elsewhere."""
    return platform() not in ("gpu", "tpu")


def pallas_available() -> bool:
    """Whether our Pallas kernels can run on the default backend (compiled or interpreted).

    On GPU they need the Triton lowering (`pl.pallas_call` kernels written with per-step
    `ref[t]` loads); where a JAX release has dropped it, `impl="auto"` picks XLA instead.
    """
    kind = platform()
    if kind == "gpu":
        return HAS_TRITON
    if kind == "tpu":
        return HAS_MOSAIC_TPU
    return True


def compiler_params(semantics: tuple[str, ...], *, num_warps: int | None = None,
                    num_stages: int | None = None):
    """Compiler parameters for a `pl.pallas_call` on the current platform.

    **Arguments:**

    - `semantics`: one of `"parallel"` / `"arbitrary"` per grid axis (used on TPU, where an
      `"arbitrary"` axis runs in order and may carry state in scratch).
    - `num_warps`, `num_stages`: Triton launch parameters (used on GPU).

    **Returns:** `pltriton.CompilerParams` on GPU, `pltpu.CompilerParams` on TPU, `None`
    otherwise (interpret mode takes no compiler parameters).
    """
    kind = platform()
    if kind == "gpu" and HAS_TRITON:
        return _pltriton.CompilerParams(num_warps=num_warps, num_stages=num_stages)
    if kind == "tpu" and HAS_MOSAIC_TPU:
        return _pltpu.CompilerParams(dimension_semantics=tuple(semantics))
    return None
