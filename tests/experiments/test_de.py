"""neural-ode-spiral and neural-cde-spirals in tiny configurations: they learn (loss falls,
accuracy far above chance), write their outputs, and validate their configs."""

import json
import math

import pytest

from jaxlab.experiments import ConfigError, names, run_experiment
from jaxlab.experiments.neural_cde_spirals import NeuralCDESpiralsConfig
from jaxlab.experiments.neural_ode_spiral import NeuralODESpiralConfig


@pytest.mark.slow  # ~25 s of training (full-run figures in docs/de.md)
def test_neural_ode_spiral_learns(tmp_path):
    rec = run_experiment("neural-ode-spiral", quick=True, out=tmp_path,
                         overrides=["samples=300", "horizon=7.5", "steps=300"])
    m = rec.result.metrics
    assert "neural-ode-spiral" in names()
    assert m["final_window_loss"] < m["initial_window_loss"] / 5
    assert all(math.isfinite(m[k]) for k in ("test_mse", "train_mse", "orbit_distance_mean"))
    # over the first 7.5 time units the trained rollout is closer than the untrained one
    # (measured 1.16 against 2.74)
    assert m["test_mse"] < m["test_mse_untrained"] / 2
    payload = json.loads((tmp_path / "metrics.json").read_text())
    assert payload["metrics"]["steps"] == 300
    assert (tmp_path / "spiral_fit.png").stat().st_size > 0


@pytest.mark.slow  # ~50 s of training (the quick and full runs are recorded in docs/de.md)
def test_neural_cde_spirals_classifies(tmp_path):
    rec = run_experiment("neural-cde-spirals", quick=True, out=tmp_path,
                         overrides=["train_series=128", "test_series=128",
                                    "steps=120"])
    m = rec.result.metrics
    assert "neural-cde-spirals" in names()
    assert 0.6 < m["observed_fraction"] < 0.8  # 30% dropped
    assert m["test_accuracy"] > 0.85  # chance is 0.5
    assert (tmp_path / "spirals.png").stat().st_size > 0


@pytest.mark.parametrize(("config", "kwargs", "message"), [
    (NeuralODESpiralConfig, {"window": 1}, "window must be in"),
    (NeuralCDESpiralsConfig, {"drop": 1.0}, r"drop must be in \[0, 1\)"),
    (NeuralCDESpiralsConfig, {"interpolation": "cubic"}, "interpolation must be"),
])
def test_configs_validate(config, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        config(**kwargs)
