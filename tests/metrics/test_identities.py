"""D(x, x) = 0 exactly, also when XLA compiles with its full optimisation (the suite turns most
of it off; fused multiply-adds and fusion-dependent summation orders broke exact cancellation
of separately computed terms before the terms were stacked)."""

import jax
import numpy as np
import pytest

from jaxlab import metrics


@pytest.fixture
def full_optimisation():
    previous = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", False)
    try:
        yield
    finally:
        jax.config.update("jax_disable_most_optimizations", previous)


def test_distances_of_equal_data_are_exactly_zero(full_optimisation, float64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    for kernel in ("rbf", "rational_quadratic", "multiscale", "linear"):
        assert float(metrics.mmd(x, x, kernel=kernel)) == 0.0, kernel
    assert float(metrics.energy_distance(x, x)) == 0.0
    assert float(metrics.sliced_wasserstein(x, x, key=jax.random.key(0))) == 0.0
    assert float(metrics.wasserstein(x, x)) == 0.0
    assert float(metrics.wasserstein_1d(x[:, 0], x[:, 0], order=2.0)) == 0.0
    assert float(metrics.power_spectrum_distance(x, x)) == 0.0
    assert float(metrics.state_space_divergence(x, x, bins=8).divergence) == 0.0
    assert float(metrics.state_space_divergence(x, x, method="gmm", num_samples=64,
                                                key=jax.random.key(1)).divergence) == 0.0
