"""kde-high-dim in a tiny configuration: finite metrics, the optimum's location, the markers,
the outputs, and the config's validation."""

import json
import math

import pytest

from jaxlab.experiments import ConfigError, names, run_experiment
from jaxlab.experiments.kde_high_dim import KDEHighDimConfig

TINY = ["dimensions=8,12", "queries=64", "num_bandwidths=8"]


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    out = tmp_path_factory.mktemp("kde-high-dim")
    return run_experiment("kde-high-dim", quick=True, out=out, overrides=TINY), out


@pytest.mark.slow  # a tiny run (~20 s); closed forms and estimators: tests/kde
def test_metrics_and_optimum(record):
    rec, _ = record
    metrics = rec.result.metrics
    assert "kde-high-dim" in names()
    for name in ("h_G", "h_CLT", "h_opt_asymptotic", "h_opt_gap_largest_d",
                 "h_opt_gap_coefficient", "hill_index_heavy"):
        assert math.isfinite(metrics[name]), name
    assert metrics["points"] == [55, 403]
    # the closed forms at α = 0.5 (kde.md §2.7)
    assert metrics["h_G"] == pytest.approx(0.652, abs=5e-4)
    assert metrics["h_CLT"] == pytest.approx(0.922, abs=5e-4)
    assert metrics["h_opt_asymptotic"] == pytest.approx(0.622, abs=5e-4)
    lo, hi = 0.8 * metrics["h_opt_asymptotic"], 1.2 * metrics["h_CLT"]
    for h_opt, se in zip(metrics["h_opt_empirical"], metrics["h_opt_empirical_se"],
                         strict=True):
        # the quick run (160 queries) found 0.86 at d = 8 and 0.80 at d = 12 with bootstrap
        # standard errors ≈ 0.013; with 64 queries the s.e. is ≈ 0.02 (reported, bounded here)
        assert lo < h_opt < hi
        assert 0 < se < 0.06
        # at d ≤ 12 the finite-d optimum sits well above √u_min = 0.622 (gap ≈ 0.2 ≫ s.e.)
        assert h_opt > metrics["h_opt_asymptotic"] + 3 * se
    assert not any(metrics["h_opt_at_grid_edge"])


@pytest.mark.slow  # a tiny run (~20 s); closed forms and estimators: tests/kde
def test_regime_markers_order(record):
    metrics = record[0].result.metrics
    condensed, heavy, clt = metrics["largest_fraction_by_regime"]
    # quick run, d = 20: 0.59, 0.27, 0.03; at d = 12 the order is the same with wider gaps
    assert condensed > heavy > clt
    assert condensed > 0.3 and clt < 0.15
    a, b, c = metrics["log_participation_per_d_by_regime"]
    assert a < b < c <= metrics["alpha_effective"][-1]
    assert metrics["log_participation_per_d_asymptotic"][0] == 0.0


@pytest.mark.slow  # a tiny run (~20 s); closed forms and estimators: tests/kde
def test_outputs_written(record):
    _, out = record
    payload = json.loads((out / "metrics.json").read_text())
    assert payload["references"]["h_G"]["value"] == 0.652
    for stem in ("cross_entropy", "log_density_histograms", "regime_markers"):
        assert (out / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "finite-d gap" in (out / "summary.md").read_text()


def test_quick_is_smaller():
    full, quick = KDEHighDimConfig(), KDEHighDimConfig.quick()
    assert max(quick.dimensions) < max(full.dimensions) and quick.queries <= full.queries


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0.0}, r"KDEHighDimConfig\.alpha must be in \(0, 4\], got 0\.0"),
        ({"dimensions": ()}, "dimensions must be a non-empty tuple of ints ≥ 2"),
        ({"dimensions": (16, 8)}, r"dimensions must be strictly increasing, got \(16, 8\)"),
        ({"dimensions": (1, 8)}, "dimensions must be a non-empty tuple of ints ≥ 2"),
        ({"h_min": 2.0}, r"h_min must be in \(0, h_max = 1\.5\), got 2\.0"),
        ({"queries": 5}, "queries must be at least 20, got 5"),
        ({"hill_fraction": 0.9}, r"hill_fraction must be in \(0, 0\.5\]"),
        ({"precision": "half"}, "precision must be 'float32' or 'float64', got 'half'"),
        ({"max_points": 1}, r"max_points must be in \[10, 5e7\], got 1"),
    ],
)
def test_config_rejects_bad_values(kwargs, message, user_errors):
    with pytest.raises(ConfigError, match=message):
        KDEHighDimConfig(**kwargs)


def test_override_parsing():
    config = KDEHighDimConfig().with_overrides(["alpha=0.25", "dimensions=16,24,32"])
    assert config.alpha == 0.25 and config.dimensions == (16, 24, 32)
    with pytest.raises(ConfigError, match="cannot read '8,x' as tuple"):
        KDEHighDimConfig().with_overrides(["dimensions=8,x"])
