"""Which of the three asymptotic regimes of Gaussian KDE a bandwidth is in."""

import math
import typing

import equinox as eqx
import jax
from jaxtyping import ArrayLike, Real

from .._core.checks import check_int, check_number, message
from ._asymptotics import gaussian_thresholds


@typing.final
class BandwidthRegime(eqx.Module):
    """Which asymptotic regime a bandwidth is in (see `regime`).

    **Fields:**

    - `regime`: `"clt"` (h ≥ h_CLT), `"heavy-tailed"` (h_G ≤ h < h_CLT) or `"condensed"`.
    - `alpha`: ln n / d.
    - `h_G`, `h_CLT`: the thresholds at this α.
    - `mu`: h²/h_G², the tail index of the kernel terms; the index of the α-stable law of ρ̂
      when it lies in [1, 2) (heavy-tailed regime); ≥ 2 means Gaussian fluctuations, < 1 a
      sum dominated by its largest term.
    """

    regime: str = eqx.field(static=True)
    alpha: float
    h_G: float
    h_CLT: float
    mu: float


def regime(n: int, d: int, h: float | Real[ArrayLike, ""]) -> BandwidthRegime:
    """Classify bandwidth `h` for n points in d dimensions, α = ln n / d.

    The thresholds are asymptotic (n, d → ∞ at fixed α) and derived for N(0, I_d) data and a
    Gaussian kernel of scale h in whitened units (divide h by the data's scale first); at
    d of a few tens the crossovers are smooth and shifted (finite-d corrections are
    O(log d / d)). Runs eagerly (it returns a string), not under `jit`.

    **Arguments:**

    - `n`: number of data points, an int ≥ 2.
    - `d`: dimension, an int ≥ 1.
    - `h`: bandwidth, positive.

    **Returns:** a `BandwidthRegime` (regime, alpha, h_G, h_CLT, mu) of Python values.

    **Raises:** `TypeError` for a non-int `n` or `d`, or an `h` that is not a concrete real
    number (a traced value, an array of more than one element); `ValueError` for `n` < 2,
    `d` < 1 or an `h` that is not positive and finite.

    **References:** Biroli & Mézard (2024).
    """
    n = check_int("regime", "n", n, minimum=2)
    d = check_int("regime", "d", d, minimum=1)
    if isinstance(h, jax.core.Tracer):
        raise TypeError(message("regime", "h", "a concrete number (regime runs eagerly; use "
                                "gaussian_thresholds under jit)", "a traced value"))
    value = check_number("regime", "h", h, minimum=0.0, open_minimum=True)
    alpha = math.log(n) / d
    h_g, h_clt = (float(v) for v in gaussian_thresholds(alpha))
    mu = value * value / (h_g * h_g)
    label = "clt" if value >= h_clt else "heavy-tailed" if value >= h_g else "condensed"
    return BandwidthRegime(regime=label, alpha=alpha, h_G=h_g, h_CLT=h_clt, mu=mu)
