"""chaos-catalogue on a tiny subset: rows, comparison with dysts, the page, cache resume."""

import json

import pytest

from jaxlab.experiments import ConfigError, run_experiment

TINY = ["systems=Lorenz,Henon,MackeyGlass", "initial_conditions=2", "lyapunov_periods=20",
        "map_iterations=3000", "points=600"]


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    out = tmp_path_factory.mktemp("catalogue")
    cache = out / "cache"
    record = run_experiment("chaos-catalogue", quick=True, out=out / "run",
                            overrides=[*TINY, f"cache_dir={cache}"])
    return record, out, cache


@pytest.mark.slow  # a tiny catalogue run (~40 s); the invariants are unit-tested in tests/systems
def test_rows_and_invariants(catalogue):
    record, out, _ = catalogue
    rows = {r["system"]: r for r in json.loads((out / "run" / "catalogue.json").read_text())}
    assert set(rows) == {"Lorenz", "Henon", "MackeyGlass"}
    assert rows["Lorenz"]["kind"] == "flow" and rows["MackeyGlass"]["kind"] == "delay"
    # 20 periods (~30 time units) of averaging: λ_max of Lorenz within ±15% of 0.9056.
    assert abs(rows["Lorenz"]["lambda_max"] - 0.9056) < 0.15 * 0.9056
    # Hénon over 3000 iterations: standard error ≈ 0.01.
    assert abs(rows["Henon"]["lambda_max"] - 0.41922) < 0.04
    # dysts's default τ = 16 gives a periodic orbit (chaos starts near τ ≈ 16.8), so
    # λ_max = 0; 120 time units of averaging leave an O(1/T) ≈ 0.03 start-up bias.
    assert abs(rows["MackeyGlass"]["lambda_max"]) < 0.05
    assert 1.8 < rows["Lorenz"]["correlation_dimension"] < 2.3
    assert rows["Lorenz"]["dysts"]["lambda_max"] == pytest.approx(0.8917, rel=1e-3)
    assert rows["Lorenz"]["gaps"]["lambda_max"] == pytest.approx(
        abs(rows["Lorenz"]["lambda_max"] - 0.8917098) / 0.8917098, rel=1e-6)
    metrics = record.result.metrics
    assert metrics["systems"] == 3 and metrics["systems_failed"] == 0


@pytest.mark.slow  # a tiny catalogue run (~40 s); the invariants are unit-tested in tests/systems
def test_catalogue_page(catalogue):
    _, out, _ = catalogue
    page = (out / "run" / "systems.md").read_text()
    assert page.count("\n| ") == 4  # the header and three systems
    assert "| Lorenz | flow | 3 | Tsit5 |" in page
    assert (out / "run" / "attractors.png").exists()


@pytest.mark.slow  # a tiny catalogue run (~40 s); the invariants are unit-tested in tests/systems
def test_cache_makes_the_rerun_resume(catalogue, tmp_path):
    record, _, cache = catalogue
    names = sorted(p.name for p in cache.iterdir())
    assert [n.rsplit("-", 1)[0] for n in names] == ["delay-MackeyGlass", "flow-Lorenz",
                                                    "map-Henon"]
    again = run_experiment("chaos-catalogue", quick=True, out=tmp_path / "again",
                           overrides=[*TINY, f"cache_dir={cache}"])
    assert again.wall_s < record.wall_s / 3
    assert again.result.metrics == record.result.metrics
    # The cache key includes the configuration and the seed: another averaging length, or
    # another seed, is a new row; the same ones reuse it.
    henon = ["systems=Henon", "initial_conditions=2", "map_iterations=500", "points=600",
             f"cache_dir={cache}"]
    for seed, rows in ((0, 2), (0, 2), (1, 3)):
        other = run_experiment("chaos-catalogue", quick=True, seed=seed, overrides=henon)
        assert len(list(cache.glob("map-Henon-*.json"))) == rows
        assert other.result.metrics["systems"] == 1


def test_unknown_system_is_a_config_error(user_errors):
    with pytest.raises(ConfigError, match="unknown system 'Lorentz'; did you mean 'Lorenz'"):
        run_experiment("chaos-catalogue", quick=True, overrides=["systems=Lorentz"])
