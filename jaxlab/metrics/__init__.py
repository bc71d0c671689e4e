"""Distances between distributions and scores of forecasts and reconstructed attractors,
shared by every domain of jaxlab (one implementation each; the domains call these).

**Distribution distances** — `wasserstein_1d` (exact W_p on the line, weighted, by the
quantile functions; jit/vmap/grad), `grid_wasserstein_1d` (W₁ between histograms on one
grid, O(K), batched), `optimal_assignment` and `wasserstein` (exact optimal
transport between point clouds), `entropic_wasserstein` (entropic OT by log-domain
Sinkhorn, with a status), `sliced_wasserstein`, `binned_wasserstein` (W₂ between 2-D
histograms, with the discarded fractions and a status), `mmd` (RBF, rational-quadratic,
multi-scale and linear kernels; V- and U-statistics) and `energy_distance`.

**Forecasting scores** — `smape` (0–200), `mse`, `mae`, `valid_prediction_time` (steps) and
`lyapunov_times` (steps to Lyapunov times).

**Attractor scores** — `state_space_divergence` (D_stsp: histogram or Gaussian-mixture KL,
with the out-of-box fraction), `power_spectrum_distance` (D_H) and `dimension_error`
(D_frac).

Optimal transport runs on POT (Python Optimal Transport) alone: SciPy's assignment solver
and POT's network simplex and log-domain Sinkhorn, called through `jax.pure_callback`. ott-jax
is not used: its only use in jaxlab was one entropic plan, and it pulls in the deprecated
jaxopt; POT is already needed for exact (network-simplex) transport.

`metrics` imports no domain of jaxlab (only `jaxlab._core` and `jaxlab.systems`); the
layers are checked by import-linter.

**References:** Villani, *Optimal Transport: Old and New* (2009); Peyré & Cuturi,
*Computational Optimal Transport* (2019); Flamary et al., *POT: Python Optimal Transport*
(JMLR 2021); Cuturi, *Sinkhorn distances* (NeurIPS 2013); Gretton et al., *A kernel
two-sample test* (JMLR 2012); Székely & Rizzo, *Energy statistics* (2013); Gilpin, *Chaos as
an interpretable benchmark for forecasting and data-driven modelling* (NeurIPS 2021); Liu et
al., *PhyxMamba* (2025); Koppe et al. (PLoS Comput. Biol. 2019) and Brenner et al.,
*Almost-linear RNNs* (NeurIPS 2024) for D_stsp and D_H; Grassberger & Procaccia (1983) for
D_frac.
"""

from ._binned import BinnedWasserstein as BinnedWasserstein
from ._binned import binned_wasserstein as binned_wasserstein
from ._dimension import DimensionError as DimensionError
from ._dimension import dimension_error as dimension_error
from ._energy import energy_distance as energy_distance
from ._entropic import EntropicTransport as EntropicTransport
from ._entropic import entropic_wasserstein as entropic_wasserstein
from ._forecast import lyapunov_times as lyapunov_times
from ._forecast import mae as mae
from ._forecast import mse as mse
from ._forecast import smape as smape
from ._forecast import valid_prediction_time as valid_prediction_time
from ._mmd import mmd as mmd
from ._power_spectrum import power_spectrum_distance as power_spectrum_distance
from ._state_space import StateSpaceDivergence as StateSpaceDivergence
from ._state_space import state_space_divergence as state_space_divergence
from ._transport import optimal_assignment as optimal_assignment
from ._transport import wasserstein as wasserstein
from ._wasserstein import grid_wasserstein_1d as grid_wasserstein_1d
from ._wasserstein import sliced_wasserstein as sliced_wasserstein
from ._wasserstein import wasserstein_1d as wasserstein_1d

__all__ = [
    "BinnedWasserstein",
    "DimensionError",
    "EntropicTransport",
    "StateSpaceDivergence",
    "binned_wasserstein",
    "dimension_error",
    "energy_distance",
    "entropic_wasserstein",
    "grid_wasserstein_1d",
    "lyapunov_times",
    "mae",
    "mmd",
    "mse",
    "optimal_assignment",
    "power_spectrum_distance",
    "sliced_wasserstein",
    "smape",
    "state_space_divergence",
    "valid_prediction_time",
    "wasserstein",
    "wasserstein_1d",
]
