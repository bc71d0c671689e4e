"""distdp-cvar and distdp-homeostasis in small configurations: the claims they measure hold."""

import json

import pytest

from jaxlab.experiments import ConfigError, names, run_experiment
from jaxlab.experiments.distdp_cvar import DistDPCVaRConfig
from jaxlab.experiments.distdp_homeostasis import DistDPHomeostasisConfig


@pytest.fixture(scope="module")
def cvar_record(tmp_path_factory):
    out = tmp_path_factory.mktemp("distdp-cvar")
    tiny = ["random_mdps=2", "taus=0.1,0.5,1.0", "grid_cols=4", "grid_horizon=8",
            "cliff_penalty=20", "rollouts=20000"]
    return run_experiment("distdp-cvar", quick=True, out=out, overrides=tiny), out


@pytest.mark.slow  # ~45 s (shared fixture); CVaR DP = brute force is unit-tested in distrl
def test_cvar_dp_equals_brute_force_and_beats_markov(cvar_record):
    rec, out = cvar_record
    m = rec.result.metrics
    assert "distdp-cvar" in names() and "distdp-homeostasis" in names()
    # the headline: risky/safe chain, horizon 4, τ = 0.25 (values printed by the run)
    assert abs(m["dp_minus_brute_force"]) < 1e-9
    assert m["cvar_stock_augmented_dp"] == pytest.approx(4.875, abs=1e-9)
    assert m["cvar_best_markov_policy"] == pytest.approx(4.0, abs=1e-9)
    assert m["dp_minus_best_markov"] > 0.5
    assert m["dp_policy_exact_cvar"] == pytest.approx(m["cvar_stock_augmented_dp"], abs=1e-9)
    for dp, brute, markov in zip(m["sweep_cvar_dp"], m["sweep_cvar_brute_force"],
                                 m["sweep_cvar_markov"], strict=True):
        assert dp == pytest.approx(brute, abs=1e-9)
        assert dp >= markov - 1e-9
    assert m["random_max_abs_dp_minus_brute_force"] < 1e-9
    assert m["random_cases"] == 2 * 3
    payload = json.loads((out / "metrics.json").read_text())
    assert payload["metrics"]["cvar_best_markov_policy"] == m["cvar_best_markov_policy"]
    assert (out / "cvar.png").stat().st_size > 0


@pytest.mark.slow  # shares the run above
def test_cvar_gridworld_sweep(cvar_record):
    m = cvar_record[0].result.metrics
    for dp, mc, neutral in zip(m["gridworld_cvar_dp"], m["gridworld_cvar_monte_carlo"],
                               m["gridworld_cvar_risk_neutral"], strict=True):
        assert dp >= neutral - 1e-9                  # optimal is at least the risk-neutral one
        assert mc == pytest.approx(dp, abs=0.6)      # 20 000 rollouts; tail of ≥ 2 000 samples
    assert m["gridworld_more_cautious_as_tau_falls"]
    falls = m["gridworld_fall_probability"]
    assert falls[0] < falls[-1] == pytest.approx(m["gridworld_fall_probability_risk_neutral"])


@pytest.mark.slow  # runs the experiment; `make test-all`
def test_homeostasis_keeps_the_stock_in_the_band(tmp_path):
    rec = run_experiment("distdp-homeostasis", quick=True, out=tmp_path,
                         overrides=["horizon=12", "low=4", "high=6", "rollouts=20000"])
    m = rec.result.metrics
    assert m["homeostatic_p_final_in_band"] > m["risk_neutral_p_final_in_band"] + 0.2
    assert m["homeostatic_expected_distance_to_band"] < \
        m["risk_neutral_expected_distance_to_band"]
    assert m["homeostatic_fraction_of_time_in_band"] > m["risk_neutral_fraction_of_time_in_band"]
    assert m["homeostatic_value_equals_minus_expected_distance"] < 1e-12
    assert m["monte_carlo_agreement_in_standard_errors"] < 5


def test_configs_validate():
    with pytest.raises(ConfigError, match="horizon"):
        DistDPCVaRConfig(horizon=9)
    with pytest.raises(ConfigError, match="risky_probs"):
        DistDPCVaRConfig(risky_probs=(0.5, 0.6))
    with pytest.raises(ConfigError, match="high"):
        DistDPHomeostasisConfig(low=5.0, high=4.0)
    # any initial stock is exact: the stock grid is c0 + the integers
    assert DistDPHomeostasisConfig(initial_stock=0.5).initial_stock == 0.5
