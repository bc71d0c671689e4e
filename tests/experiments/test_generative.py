"""The generative experiments: their data, configs, and tiny end-to-end runs (`slow`). The
toy data sets and the distances they use are tested with the library
(tests/generative/test_toy_data.py, tests/metrics)."""

import jax
import numpy as np
import pytest

from jaxlab.experiments import ConfigError, interpolants_gmm, run_experiment


def test_interpolants_gmm_mixtures():
    base, target = interpolants_gmm.mixtures(2, jax.random.PRNGKey(0))
    assert base.dim == target.dim == 2
    base16, target16 = interpolants_gmm.mixtures(16, jax.random.PRNGKey(0))
    assert base16.means.shape == (4, 16) and target16.means.shape == (3, 16)


@pytest.mark.parametrize(("name", "override", "message"), [
    ("interpolants-gmm", "dims=2,x", "dims must be comma-separated positive ints"),
    ("fm-2d", "tasks=moons", "tasks must be comma-separated names"),
    ("fm-2d", "methods=sbcfm", "methods must be comma-separated names"),
    ("diffusion-orders", "max_steps=20", "max_steps must be at least 4"),
    ("fp-gap", "weights=0,-1", "weights must be comma-separated numbers >= 0"),
    ("fp-gap", "residual_scale=sigma3", "residual_scale must be 'sigma4', 'sigma2' or 'none'"),
    ("fp-gap", "collocation_times=linear", "collocation_times must be 'log' or 'uniform'"),
    ("fp-gap", "dsm_weighting=sigma", "dsm_weighting must be 'none' or 'sigma2'"),
    ("fp-gap", "dsm_times=log", "dsm_times must be 'beta' or 'uniform'"),
])
def test_config_errors(name, override, message, user_errors):
    with pytest.raises(ConfigError, match=message):
        run_experiment(name, quick=True, overrides=[override])


@pytest.mark.slow
def test_tiny_runs(tmp_path):
    orders = run_experiment("diffusion-orders", quick=True, out=tmp_path / "orders",
                            overrides=["points=16", "max_steps=128", "min_steps=16"])
    m = orders.result.metrics
    assert abs(m["order_euler"] - 1) < 0.2 and abs(m["order_heun"] - 2) < 0.2
    fm = run_experiment("fm-2d", quick=True, out=tmp_path / "fm",
                        overrides=["steps=50", "tasks=8gaussians-moons", "eval_points=100",
                                   "pairs=1000"])
    assert np.isfinite(fm.result.metrics["w2_otcfm_8gaussians-moons"])
    ig = run_experiment("interpolants-gmm", quick=True, out=tmp_path / "ig",
                        overrides=["steps=20", "pairs=1024", "eval_points=64",
                                   "kl_points=16", "kde_samples=256", "sampler_steps=10"])
    assert np.isfinite(ig.result.metrics["kl_ode_exact_d2"])
    fp = run_experiment("fp-gap", quick=True, out=tmp_path / "fp",
                        overrides=["weights=0,1", "steps=20", "samples=500", "data=1000",
                                   "sampler_steps=10"]).result.metrics
    for name in ("gap_w0", "gap_w1", "residual_sigma4_w1", "exact_score_gap",
                 "truth_truth_floor"):
        assert np.isfinite(fp[name]) and fp[name] >= 0, name
