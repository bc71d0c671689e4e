"""float64 on demand for tests (used by the `float64` fixture and reference computations)."""

import contextlib

import jax


@contextlib.contextmanager
def x64():
    """Run the block with 64-bit floats enabled, restoring the previous setting after."""
    previous = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)
