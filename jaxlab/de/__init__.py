"""Neural differential equations on diffrax: neural ODEs, CDEs for irregular data, neural SDEs.

diffrax supplies the solvers, adjoints, Brownian motion and interpolation; this subpackage
supplies the models (final `eqx.Module`s with MLP vector fields by default), the control
paths that turn irregular, partially observed series into CDE controls (NaN = missing,
forward fill, observation counts), and checks on their inputs. The models' `solve` methods
return results with a status (`DESolution`, `LatentPosterior`); their forward passes
(`model(...)`) return arrays and raise when the solver fails.

**References:** Kidger, *On Neural Differential Equations* (doctoral thesis, Oxford, 2022);
Chen et al., *Neural Ordinary Differential Equations* (NeurIPS 2018); Kidger et al., *Neural
Controlled Differential Equations for Irregular Time Series* (NeurIPS 2020); Kidger et al.,
*Neural SDEs as Infinite-Dimensional GANs* (ICML 2021).
"""

from .._core.brownian import GridBrownianPath as GridBrownianPath
from ._cde import NeuralCDE as NeuralCDE
from ._cde import control_path as control_path
from ._cde import path_channels as path_channels
from ._dcsde import DirectedChainSDE as DirectedChainSDE
from ._dcsde import dc_gan_loss as dc_gan_loss
from ._dcsde import neighbour_correlation as neighbour_correlation
from ._dcsde import signature_mmd_loss as signature_mmd_loss
from ._dcsde import with_basepoint as with_basepoint
from ._dcsde import with_time as with_time
from ._fields import CubicField as CubicField
from ._fields import MLPField as MLPField
from ._fields import NeighbourField as NeighbourField
from ._fields import lipswish as lipswish
from ._gan import SDEGAN as SDEGAN
from ._gan import SDEGenerator as SDEGenerator
from ._gan import clip_lipschitz as clip_lipschitz
from ._gan import sde_gan_losses as sde_gan_losses
from ._latent import LatentPosterior as LatentPosterior
from ._latent import LatentSDE as LatentSDE
from ._latent import latent_sde_loss as latent_sde_loss
from ._ode import NeuralODE as NeuralODE
from ._sde import NeuralSDE as NeuralSDE
from ._signature import signature as signature
from ._signature import signature_mmd as signature_mmd
from ._signature import signature_size as signature_size
from ._solution import DESolution as DESolution
from ._spirals import spirals as spirals
