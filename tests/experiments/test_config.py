"""Experiment configs: validation, quick sizes, overrides; the registry."""

import dataclasses

import pytest

from jaxlab.experiments import ConfigError, UnknownExperimentError, all_experiments, get, names
from jaxlab.experiments.lorenz_lyapunov import LorenzLyapunovConfig


def test_registry():
    assert "lorenz-lyapunov" in names()
    assert "lorenz-lyapunov" in names(tag="demo")
    experiment = get("lorenz-lyapunov")
    assert experiment.subpackage == "systems"
    with pytest.raises(UnknownExperimentError, match="did you mean 'lorenz-lyapunov'"):
        get("lorenz_lyapunov")


@pytest.mark.parametrize("info", all_experiments(), ids=lambda i: i.name)
def test_listing_matches_the_imported_experiment(info):
    # `jaxlab list` reads the EXPERIMENT statements without importing; the import agrees
    experiment = get(info.name)
    for field in ("name", "paper", "subpackage", "tags", "quick_runtime_s", "description"):
        assert getattr(experiment, field) == getattr(info, field), field


def test_quick_and_full_sizes():
    full, quick = LorenzLyapunovConfig(), LorenzLyapunovConfig.quick()
    assert quick.ensemble < full.ensemble and quick.num_intervals < full.num_intervals
    assert LorenzLyapunovConfig.quick(ensemble=3).ensemble == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        full.ensemble = 2


def test_overrides_parse_by_type():
    config = LorenzLyapunovConfig().with_overrides(
        ["rho=35", "ensemble=4", "precision=float32", "rtol=1e-5", "atol=none"])
    assert config.rho == 35.0 and isinstance(config.rho, float)
    assert config.ensemble == 4 and config.precision == "float32"
    assert config.rtol == 1e-5 and config.atol is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ensemble": 0}, r"LorenzLyapunovConfig\.ensemble must be a positive int, got 0"),
        ({"ensemble": 2.5}, r"ensemble must be int, got 2\.5"),
        ({"interval": 5.0}, r"interval must be None or in \(0, 2\]"),
        ({"precision": "half"}, "precision must be 'float32' or 'float64', got 'half'"),
        ({"rtol": -1.0}, "rtol must be positive or None"),
        ({"sigma": "ten"}, "sigma must be float"),
    ],
)
def test_validation_names_the_field(kwargs, message, user_errors):
    with pytest.raises(ConfigError, match=message):
        LorenzLyapunovConfig(**kwargs)


def test_unknown_field_suggests():
    with pytest.raises(ConfigError, match="did you mean 'interval'"):
        LorenzLyapunovConfig().replace(intervals=3)


def test_lorenz_qr_interval_default_depends_on_precision():
    # float32's collapse margin ln(1/(1000 eps)) ≈ 9 needs a shorter QR interval than float64's.
    assert LorenzLyapunovConfig().qr_interval == 0.3
    assert LorenzLyapunovConfig(precision="float32").qr_interval == 0.1
    assert LorenzLyapunovConfig(precision="float32", interval=0.25).qr_interval == 0.25
    assert LorenzLyapunovConfig().replace(interval=0.2).qr_interval == 0.2
