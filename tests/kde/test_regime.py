"""The regime classification of a bandwidth (condensed, heavy-tailed, CLT)."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.kde import BandwidthRegime, regime


def test_regime_clear_cases():
    n, d = round(math.exp(0.5 * 40)), 40  # α = 0.5: h_G ≈ 0.652, h_CLT ≈ 0.922
    for h, want in ((0.4, "condensed"), (0.62, "condensed"), (0.8, "heavy-tailed"),
                    (1.2, "clt"), (3.0, "clt")):
        got = regime(n, d, h)
        assert isinstance(got, BandwidthRegime)
        assert got.regime == want
        assert got.alpha == pytest.approx(0.5, rel=1e-9)
        assert got.mu == pytest.approx(h * h / got.h_G ** 2)
    assert 1.0 < regime(n, d, 0.8).mu < 2.0
    assert regime(n, d, 0.8).h_CLT == pytest.approx(math.sqrt(2) * regime(n, d, 0.8).h_G)
    # fewer points at the same d → smaller α → larger thresholds
    assert regime(1000, 40, 0.8).regime == "condensed"


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((1, 10, 0.5), ValueError, r"regime: n must be an int >= 2, got 1"),
        ((100.0, 10, 0.5), TypeError, r"regime: n must be an int >= 2, got 100\.0"),
        ((100, 0, 0.5), ValueError, r"regime: d must be a positive int, got 0"),
        ((100, 10, -0.5), ValueError, r"regime: h must be a positive finite number, got -0\.5"),
        ((100, 10, np.ones(2)), TypeError, r"regime: h must be a positive finite number, got "
                                           r"an array of shape \(2,\)"),
        ((100, 10, "0.5"), TypeError, r"regime: h must be a positive finite number, got "
                                      r"'0\.5'"),
    ],
)
def test_regime_bad_inputs(args, error, message, user_errors):
    with pytest.raises(error, match=message):
        regime(*args)


def test_regime_is_a_module_and_rejects_traced_h(user_errors):
    got = regime(1000, 10, jnp.asarray(0.9))
    assert isinstance(got, eqx.Module) and not isinstance(got, tuple)
    assert isinstance(got.h_G, float) and isinstance(got.mu, float)
    with pytest.raises(TypeError, match=r"regime: h must be a concrete number .* got a traced "
                                        r"value"):
        jax.jit(lambda h: regime(1000, 10, h).mu)(0.9)
