"""stock-qrdqn at its quick size: the exact references, the agent's exactly evaluated CVaR,
the action agreement, the outputs, and the config's validation (`optimal_action_agreement`
itself is tested in tests/distrl/test_references.py)."""

import json
import math

import pytest

from jaxlab.experiments import ConfigError, names, run_experiment
from jaxlab.experiments.stock_qrdqn import StockQRDQNConfig


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    out = tmp_path_factory.mktemp("stock-qrdqn")
    return run_experiment("stock-qrdqn", quick=True, out=out), out


@pytest.mark.slow  # runs the experiment (quick size, 30 rounds); `make test-all`
def test_metrics_are_sane(record):
    rec, _ = record
    m = rec.result.metrics
    assert "stock-qrdqn" in names()
    # exact references for risky_safe_chain(4, 1, (−3, 5), (0.25, 0.75)), τ = 0.25
    assert m["optimum_cvar"] == pytest.approx(4.875, abs=1e-5)
    assert m["optimum_threshold"] == 8.0
    assert m["best_markov_cvar"] == pytest.approx(4.0, abs=1e-9)
    assert m["agent_cvar"] <= m["optimum_cvar"] + 1e-5
    assert m["relative_gap"] == pytest.approx((m["optimum_cvar"] - m["agent_cvar"])
                                              / m["optimum_cvar"])
    assert m["within_10_percent"] == (m["relative_gap"] <= 0.10)
    # the quick run (30 rounds, seed 0) reached the optimum CVaR 4.875 from b̂ = 9 (its
    # policy from −9 differs from the inner problem's optimum at 2 of the 9 states it
    # reaches, yet its return has the optimal CVaR) and acts optimally at 98.7% of the 156
    # states reachable from any start. Short runs of other seeds can stay at the Markov
    # value 4.0, so the bound asserted is beating it.
    print({k: m[k] for k in ("agent_cvar", "agent_threshold", "action_agreement",
                             "action_agreement_all_starts")})
    assert m["agent_cvar"] > m["best_markov_cvar"] + 0.1
    assert float(m["agent_threshold"]).is_integer() and -12 <= m["agent_threshold"] <= 20
    assert 0.0 <= m["action_agreement"] <= 1.0 and m["reachable_states"] >= 4
    assert m["action_agreement_all_starts"] >= 0.9 and m["reachable_states_all_starts"] > 100
    assert math.isfinite(m["final_loss"]) and math.isfinite(m["agent_estimated_cvar"])


@pytest.mark.slow  # runs the experiment (quick size, 30 rounds); `make test-all`
def test_outputs_written(record):
    _, out = record
    payload = json.loads((out / "metrics.json").read_text())
    assert payload["references"]["agent_cvar"]["value"] == pytest.approx(4.875, abs=1e-5)
    for stem in ("training", "cvar_vs_threshold", "policy"):
        assert (out / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "evaluated exactly" in (out / "summary.md").read_text()


def test_quick_is_smaller():
    full, quick = StockQRDQNConfig(), StockQRDQNConfig.quick()
    assert quick.rounds < full.rounds


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tau": 0.0}, r"StockQRDQNConfig\.tau must be in \(0, 1\], got 0\.0"),
        ({"risky_probs": (0.5, 0.4)}, "risky_probs must be non-negative probabilities"),
        ({"risky_rewards": (-3.5, 5.0)}, "risky_rewards must be a non-empty tuple of integers"),
        ({"horizon": 0}, r"horizon must be an int in 1\.\.8"),
        ({"batch_size": 100_000}, "batch_size must be at most the buffer size"),
        ({"rounds": 0}, "rounds must be a positive int, got 0"),
    ],
)
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        StockQRDQNConfig(**kwargs)


def test_override_parsing():
    config = StockQRDQNConfig().with_overrides(["tau=0.1", "risky_rewards=-2,4"])
    assert config.tau == 0.1 and config.risky_rewards == (-2.0, 4.0)
