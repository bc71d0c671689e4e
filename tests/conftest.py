"""Test-suite set-up: 8 simulated CPU devices (set before jax is imported) and a float64 fixture."""

import os

_flag = "--xla_force_host_platform_device_count=8"
if _flag not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + _flag).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def float64():
    """Run the test body with 64-bit floats enabled, restoring the previous setting after."""
    previous = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)


@pytest.fixture
def user_errors():
    """Turn off the suite's runtime jaxtyping checks, to see the errors a user gets.

    The suite runs with `--jaxtyping-packages=jaxlab,beartype.beartype`, which rejects a
    wrongly shaped argument before our own validation runs. Users do not run that hook, so
    bad-input tests assert the messages of our own `ValueError`/`TypeError`s with it off.
    """
    import jaxtyping

    previous = jaxtyping.config.jaxtyping_disable
    jaxtyping.config.update("jaxtyping_disable", True)
    try:
        yield
    finally:
        jaxtyping.config.update("jaxtyping_disable", previous)
