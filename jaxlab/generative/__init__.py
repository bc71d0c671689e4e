"""Stochastic interpolants, flow matching and diffusion as one framework.

A path from a base to a target distribution (`Interpolant`, or a `Diffusion` in its own
time), a velocity field whose flow carries the base to the target, and the family of SDEs
that share its marginals. Each method is a configuration: flow matching is the linear
interpolant with γ = 0 and the velocity loss (`cfm_loss`, with independent, exact-OT,
Sinkhorn or Schrödinger-bridge couplings); score-based diffusion is a `Diffusion` with
`denoising_loss` and `sample_diffusion`; the interpolant family trains b, v, s or η with
`interpolant_loss` and samples with `sample_ode` or `sample_sde` for any diffusion ε.
`convert` maps between the four prediction targets; `PathMarginal` gives the exact score,
drift and density for Gaussian-mixture targets; `fokker_planck_residual` is the
regulariser that closes the ODE–SDE gap. The samplers return `Samples` (and
`log_likelihood` a `LogLikelihood`) with the status of the solve; `eight_gaussians`,
`moons`, `toy_pair` and `ring_mixture` are the 2-D toy problems of the literature.

**References:** Albergo, Boffi & Vanden-Eijnden, *Stochastic Interpolants: A Unifying
Framework for Flows and Diffusions* (2023); Lai, Song, Kim, Mitsufuji & Ermon, *The
Principles of Diffusion Models* (2025); Deveney, Stanczuk, Kreusser, Budd & Schönlieb,
*Closing the ODE–SDE gap in score-based diffusion models through the Fokker–Planck equation*
(2023); Lipman et al., *Flow Matching for Generative Modeling* (ICLR 2023); Tong et al.,
*Improving and generalizing flow-based generative models with minibatch optimal transport*
(TMLR 2024).
"""

from ._couplings import couple as couple
from ._exact import GaussianMixture as GaussianMixture
from ._exact import PathMarginal as PathMarginal
from ._fokker_planck import LogDensity as LogDensity
from ._fokker_planck import diffusion_residual as diffusion_residual
from ._fokker_planck import fokker_planck_loss as fokker_planck_loss
from ._fokker_planck import fokker_planck_residual as fokker_planck_residual
from ._fokker_planck import score_of as score_of
from ._losses import as_field as as_field
from ._losses import beta_times as beta_times
from ._losses import cfm_loss as cfm_loss
from ._losses import denoising_loss as denoising_loss
from ._losses import guided as guided
from ._losses import interpolant_loss as interpolant_loss
from ._paths import Diffusion as Diffusion
from ._paths import Interpolant as Interpolant
from ._paths import PathCoefficients as PathCoefficients
from ._paths import convert as convert
from ._paths import drift_from_velocity_and_score as drift_from_velocity_and_score
from ._paths import score_from_denoiser as score_from_denoiser
from ._results import LogLikelihood as LogLikelihood
from ._results import Samples as Samples
from ._samplers import ddim as ddim
from ._samplers import divergence as divergence
from ._samplers import log_likelihood as log_likelihood
from ._samplers import sample_diffusion as sample_diffusion
from ._samplers import sample_ode as sample_ode
from ._samplers import sample_sde as sample_sde
from ._toy_data import eight_gaussians as eight_gaussians
from ._toy_data import moons as moons
from ._toy_data import ring_mixture as ring_mixture
from ._toy_data import toy_pair as toy_pair
