"""catalogue_invariants, dysts_metadata and compare_with_dysts."""

import json
from importlib.resources import files

import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import RESULTS
from jaxlab.systems import (
    CatalogueInvariants,
    Henon,
    LyapunovResult,
    Trajectory,
    catalogue_invariants,
    compare_with_dysts,
    dysts_metadata,
    kaplan_yorke_dimension,
)

STORED = json.loads(files("jaxlab.systems").joinpath("data/dysts_metadata.json").read_text())


def test_dysts_metadata_is_the_stored_entry():
    assert dysts_metadata("Lorenz") == STORED["flow"]["Lorenz"]
    assert dysts_metadata("Lorenz")["maximum_lyapunov_estimated"] == pytest.approx(0.8917098)
    assert dysts_metadata("MackeyGlass")["delay"] is True         # found without a kind
    assert dysts_metadata("Duffing", kind="map") == STORED["map"]["Duffing"]
    assert set(dysts_metadata(kind="delay")) == set(STORED["delay"])
    entry = dysts_metadata("Lorenz")
    entry["period"] = -1.0                                          # a deep copy
    entry["lyapunov_spectrum_estimated"][0] = -99.0
    again = dysts_metadata("Lorenz")
    assert again["period"] == STORED["flow"]["Lorenz"]["period"]
    assert again["lyapunov_spectrum_estimated"] == STORED["flow"]["Lorenz"][
        "lyapunov_spectrum_estimated"]
    kind = dysts_metadata(kind="flow")
    kind["Lorenz"]["lyapunov_spectrum_estimated"][0] = -99.0
    assert dysts_metadata("Lorenz") == STORED["flow"]["Lorenz"]


def test_dysts_metadata_bad_input(user_errors):
    with pytest.raises(ValueError, match="dysts_metadata: kind must be given when name is None"):
        dysts_metadata()
    with pytest.raises(ValueError, match="kind_of: name must be a name from"):
        dysts_metadata("Lorentz")
    with pytest.raises(ValueError, match="dysts_metadata: name must be a delay of the catalogue, "
                                         "got 'Lorenz'"):
        dysts_metadata("Lorenz", kind="delay")
    with pytest.raises(TypeError, match="dysts_metadata: name must be a system name"):
        dysts_metadata(3)


def _fake(lambda_max, kaplan_yorke, d2, period):
    """A CatalogueInvariants with given invariants (only these enter the comparison)."""
    z = jnp.zeros((1, 1))
    spectra = LyapunovResult(exponents=z, running=z[None], times=z, final_state=z,
                             status=RESULTS.successful)
    traj = Trajectory(ts=jnp.zeros(2), ys=jnp.zeros((2, 1)), status=RESULTS.successful,
                      num_steps=jnp.asarray(1))
    return CatalogueInvariants(
        spectra=spectra, exponents=jnp.array([lambda_max, 0.0, -14.0]),
        lambda_max_std=jnp.asarray(0.0), kaplan_yorke=jnp.asarray(kaplan_yorke), trajectory=traj,
        correlation_dimension=jnp.asarray(d2), dominant_period=jnp.asarray(period), solver="-",
        status=RESULTS.successful)


def test_compare_with_dysts_relative_gaps(float64):
    stored = STORED["flow"]["Lorenz"]
    got = compare_with_dysts(_fake(0.9056, 2.06, 2.05, float("nan")), "Lorenz")
    assert got["lambda_max"]["dysts"] == stored["maximum_lyapunov_estimated"]
    np.testing.assert_allclose(got["lambda_max"]["relative_gap"],
                               abs(0.9056 - 0.8917098035724058) / 0.8917098035724058, rtol=1e-12)
    np.testing.assert_allclose(got["kaplan_yorke"]["relative_gap"],
                               abs(2.06 - 2.075158758095728) / 2.075158758095728, rtol=1e-12)
    assert got["correlation_dimension"]["jaxlab"] == pytest.approx(2.05)
    # a non-finite value of ours gives no gap
    assert got["period"] == {"jaxlab": None, "dysts": 1.5008, "relative_gap": None}
    # near-zero stored values: the gap is relative to max(|dysts|, 0.01)
    henon = compare_with_dysts(_fake(0.42, 1.26, 1.2, float("nan")), "Henon")
    assert henon["lambda_max"] == {"jaxlab": pytest.approx(0.42), "dysts": None,
                                   "relative_gap": None}


def test_compare_with_dysts_bad_input(user_errors):
    with pytest.raises(TypeError, match="compare_with_dysts: result must be a "
                                        "CatalogueInvariants, got a dict"):
        compare_with_dysts({}, "Lorenz")


def test_map_invariants(float64):
    # Hénon from two states: λ over 2000 iterations has a standard error of ≈ 0.014 (0.002
    # at 1e5, test_lyapunov), so 0.06 is four of them; the sum is ln b exactly.
    y0s = jnp.array([[0.1, 0.1], [0.12, 0.1]], jnp.float64)
    res = catalogue_invariants(Henon(), y0s, map_iterations=2000, points=1000)
    assert res.converged and res.solver == "-"
    assert res.exponents.dtype == jnp.float64 and res.spectra.exponents.shape == (2, 2)
    np.testing.assert_allclose(np.asarray(res.exponents), [0.41922, -1.62319], atol=0.06)
    np.testing.assert_allclose(float(res.exponents.sum()), np.log(0.3), atol=1e-10)
    np.testing.assert_allclose(float(res.kaplan_yorke),
                               float(kaplan_yorke_dimension(res.exponents)), rtol=1e-12)
    spread = np.asarray(res.spectra.exponents)[:, 0].std(ddof=1)
    np.testing.assert_allclose(float(res.lambda_max_std), spread, rtol=1e-12)
    # D₂ of the Hénon attractor is ≈ 1.21; a 1000-point estimate lies within 0.15 of it
    assert abs(float(res.correlation_dimension) - 1.21) < 0.15
    assert np.isnan(float(res.dominant_period))   # no period for a map
    assert res.trajectory.ys.shape == (1000, 2)


def test_failure_is_the_status(float64, user_errors):
    # Hénon far from its attractor: every orbit overflows, no spectrum
    y0s = jnp.array([[50.0, 50.0]], jnp.float64)
    res = catalogue_invariants(Henon(), y0s, map_iterations=100, points=100, throw=False)
    assert res.status == RESULTS.nonfinite and not bool(res.converged)
    assert np.all(np.isnan(np.asarray(res.exponents))) and np.isnan(float(res.kaplan_yorke))
    with pytest.raises(Exception, match="catalogue_invariants: Nonfinite"):
        catalogue_invariants(Henon(), y0s, map_iterations=100, points=100)
    with pytest.raises(ValueError, match=r"y0s must be of shape \(b, 2\) with b ≥ 1, got "
                                         r"shape \(2,\)"):
        catalogue_invariants(Henon(), jnp.zeros(2))
    with pytest.raises(TypeError, match=r"points must be an int >= 8, got 10\.5"):
        catalogue_invariants(Henon(), jnp.zeros((1, 2)), points=10.5)
