"""Layer tests compile many small XLA programs: compile them without XLA's optimisation
passes (about a third less compile time; the numbers checked are the same)."""

import jax
import pytest


@pytest.fixture(autouse=True, scope="module")
def _unoptimised_compiles():
    previous = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", previous)
