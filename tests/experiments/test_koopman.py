"""koopman-duffing, koopman-pendulum and koopman-lorenz-delay in small configurations."""

import itertools
import math

import pytest

from jaxlab.experiments import ConfigError, names, run_experiment
from jaxlab.experiments.koopman_duffing import KoopmanDuffingConfig


@pytest.mark.slow  # ~60 s; the Duffing EDMD and residual pieces are unit-tested in tests/koopman
def test_duffing_edmd_residuals_stay_large_and_spurious_ones_are_flagged(tmp_path):
    tiny = ["initial_conditions=600", "sizes=20,40", "grid_spacing=0.2", "refine=4"]
    rec = run_experiment("koopman-duffing", quick=True, out=tmp_path, overrides=tiny)
    m = rec.result.metrics
    assert {"koopman-duffing", "koopman-pendulum", "koopman-lorenz-delay"} <= set(names())
    for tag in ("alpha_0p3", "alpha_0"):
        # EDMD's maximal residual is O(1) at every size: no per-eigenvalue guarantee.
        assert min(m[f"{tag}_edmd_max_residual"]) > 0.5
        assert all(c > 0 and math.isfinite(c) for c in m[f"{tag}_certificate"])
        # Nested dictionaries: on the finally verified set the bound max τ_N can only fall
        # as N grows, and at the largest N it is that run's certificate.
        bound = m[f"{tag}_final_set_bound"]
        assert all(b2 <= b1 * (1 + 1e-9) for b1, b2 in itertools.pairwise(bound))
        assert bound[-1] == pytest.approx(m[f"{tag}_certificate"][-1], rel=1e-6)
    # α = 0: eigenvalues inside the disc are spurious and carry large residuals.
    assert min(m["alpha_0_inside_disc_min_residual"]) > 0.1
    assert (tmp_path / "duffing_certificates.png").stat().st_size > 0


@pytest.mark.slow  # ~30 s; the residual flagging is unit-tested in tests/koopman
def test_pendulum_spurious_eigenvalues_are_all_flagged(tmp_path):
    tiny = ["points=2000", "num_features=60", "grid_spacing=0.2", "refine=4"]
    m = run_experiment("koopman-pendulum", quick=True, out=tmp_path, overrides=tiny).result.metrics
    assert m["num_edmd_eigenvalues_inside_disc"] > 0
    assert m["fraction_inside_disc_flagged"] == 1.0
    assert m["isometry_bound_violations"] == 0
    # With the measure-preserving correction the verified points sit near the circle.
    assert m["num_verified"] >= 1 and m["verified_max_distance_from_circle"] < 0.1


@pytest.mark.slow  # ~20 s; the resolvent and moment measures are unit-tested in tests/koopman
def test_lorenz_delay_spectral_measures_agree(tmp_path):
    tiny = ["samples=3000", "delays=40", "moments=60"]
    m = run_experiment("koopman-lorenz-delay", quick=True, out=tmp_path,
                       overrides=tiny).result.metrics
    # Both smoothed measures have the total mass ‖g‖² (kernels of unit mass).
    assert m["mass_resolvent"] == pytest.approx(m["norm_squared"], rel=1e-6)
    assert m["mass_moments"] == pytest.approx(m["norm_squared"], rel=1e-6)
    # Both peak at the lobe-rotation period ≈ 0.75 time units.
    assert m["peak_period_resolvent"] == pytest.approx(0.75, rel=0.1)
    assert m["peak_period_moments"] == pytest.approx(0.75, rel=0.1)


def test_configs_are_validated():
    with pytest.raises(ConfigError, match="sizes"):
        KoopmanDuffingConfig(sizes=(100, 50))
    with pytest.raises(ConfigError, match="kind"):
        KoopmanDuffingConfig(kind="cubic")
