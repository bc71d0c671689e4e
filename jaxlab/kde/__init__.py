"""Kernel density estimation: exact in log space, blocked and sharded, in any dimension.

`gaussian_kde` (scipy-compatible, every bandwidth selector) and the general `KDE` (six
kernels, scalar / diagonal / full bandwidths, weights) evaluate log ρ̂ with a memory-bounded
blocked log-sum-exp, so they stay finite where scipy's densities underflow and scale to
millions of points; they are differentiable in data, queries and bandwidth. `fft_kde` bins
onto a grid for 10⁶–10⁸ points; `find_modes` counts the modes of a 1-D estimate. The
high-dimensional regimes of Gaussian KDE (condensed, heavy-tailed, CLT) have their
thresholds (`gaussian_thresholds`), asymptotics, exact finite-n moments, diagnostics
(`kernel_sum_diagnostics`) and a data-free measurement (`sampled_kernel_sums`).

**References:** Biroli & Mézard, *Kernel Density Estimators in Large Dimensions* (2024).
"""

from ._asymptotics import asymptotic_cross_entropy as asymptotic_cross_entropy
from ._asymptotics import asymptotic_participation_exponent as asymptotic_participation_exponent
from ._asymptotics import condensation_t as condensation_t
from ._asymptotics import gaussian_thresholds as gaussian_thresholds
from ._asymptotics import nearest_neighbour_scale as nearest_neighbour_scale
from ._asymptotics import saddle_point_rate as saddle_point_rate
from ._bandwidth import CrossValidationResult as CrossValidationResult
from ._bandwidth import lcv_bandwidth as lcv_bandwidth
from ._bandwidth import lscv_bandwidth as lscv_bandwidth
from ._bandwidth import scott_bandwidth as scott_bandwidth
from ._bandwidth import silverman_bandwidth as silverman_bandwidth
from ._bandwidth import weighted_covariance as weighted_covariance
from ._binned import BinnedKDE as BinnedKDE
from ._binned import fft_kde as fft_kde
from ._binned import linear_binning as linear_binning
from ._diagnostics import KernelSumDiagnostics as KernelSumDiagnostics
from ._diagnostics import hill_tail_index as hill_tail_index
from ._diagnostics import kernel_sum_diagnostics as kernel_sum_diagnostics
from ._distances import gaussian_log_kernel_terms as gaussian_log_kernel_terms
from ._distances import pairwise_sq_distances as pairwise_sq_distances
from ._distances import sample_sq_distances as sample_sq_distances
from ._gaussian_kde import gaussian_kde as gaussian_kde
from ._kde import KDE as KDE
from ._kernels import KERNELS as KERNELS
from ._kernels import AbstractKernel as AbstractKernel
from ._kernels import Cosine as Cosine
from ._kernels import Epanechnikov as Epanechnikov
from ._kernels import Exponential as Exponential
from ._kernels import Gaussian as Gaussian
from ._kernels import Linear as Linear
from ._kernels import Tophat as Tophat
from ._modes import ModeProminences as ModeProminences
from ._modes import find_modes as find_modes
from ._modes import mode_prominences as mode_prominences
from ._optimum import ParabolicMinimum as ParabolicMinimum
from ._optimum import parabolic_minimum as parabolic_minimum
from ._oracles import gaussian_kde_log_mean as gaussian_kde_log_mean
from ._oracles import gaussian_kde_relative_variance as gaussian_kde_relative_variance
from ._regime import BandwidthRegime as BandwidthRegime
from ._regime import regime as regime
from ._sampled_sums import CrossEntropyOptimum as CrossEntropyOptimum
from ._sampled_sums import SampledKernelSums as SampledKernelSums
from ._sampled_sums import sampled_kernel_sums as sampled_kernel_sums
