"""The generative experiments: their data against closed forms, their metrics, configs, and
tiny end-to-end runs (`slow`)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.experiments import ConfigError, fm_2d, interpolants_gmm, run_experiment


def test_eight_gaussians_and_moons_moments():
    n = 40000
    x = np.asarray(fm_2d.eight_gaussians(jax.random.PRNGKey(0), n), dtype=np.float64)
    # centres 5·(unit vectors at k·45°): mean 0, per-coordinate variance 25/2 + √0.1
    var = 12.5 + 0.1**0.5
    assert np.all(np.abs(x.mean(0)) < 5 * np.sqrt(var / n))
    np.testing.assert_allclose(x.var(0), var, rtol=0.03)
    m = np.asarray(fm_2d.moons(jax.random.PRNGKey(1), n), dtype=np.float64)
    # before ×3 − 1: E x = ½(E cos θ + 1 − E cos θ) + 0.1 = 0.6,
    # E y = ½(2/π + ½ − 2/π) + 0.1 = 0.35
    assert np.all(np.abs(m.mean(0) - [0.8, 0.05]) < 5 * m.std(0) / np.sqrt(n))


def test_w2_of_point_clouds():
    x = jax.random.normal(jax.random.PRNGKey(2), (64, 2))
    assert fm_2d.w2(x, x[::-1]) == pytest.approx(0.0, abs=1e-6)
    shift = jnp.array([0.3, -0.4])
    assert fm_2d.w2(x, x + shift) == pytest.approx(0.5, rel=1e-5)


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
