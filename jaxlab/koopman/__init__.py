"""Koopman operators from data, with verified spectra: DMD, EDMD, kernel EDMD and ResDMD.

Every eigenvalue comes with its residual ‖(K − λ)φ‖/‖φ‖ (ResDMD), so spurious eigenvalues
are flagged; `pseudospectrum` computes the indicator τ_N(z) on grids of points (vmapped,
batched), `verified_spectrum` selects spectral points with an error certificate that
converges as the dictionary grows, and `spectral_measure` / `moment_spectral_measure` give
smoothed spectral measures of measure-preserving systems. Dictionaries are composable
`eqx.Module`s (polynomial, Hermite, Legendre, radial basis with k-means centres, random
Fourier features, time delays, concatenations, and a learned MLP dictionary). Data come
from `flow_pairs` (flows integrated by `jaxlab.systems.integrate`), `delay_pairs` and
`sample_sublevel_set` (uniform states of an invariant energy sublevel set).

**References:** Colbrook, Mezić & Stepanenko, *Limits and Powers of Koopman Learning* (2024);
Colbrook & Townsend, *Rigorous data-driven computation of spectral properties of Koopman
operators for dynamical systems*, CPAM 77 (2024); Williams, Kevrekidis & Rowley (2015).
"""

from ._data import FlowPairs as FlowPairs
from ._data import SublevelSample as SublevelSample
from ._data import flow_pairs as flow_pairs
from ._data import sample_sublevel_set as sample_sublevel_set
from ._dictionaries import AbstractDictionary as AbstractDictionary
from ._dictionaries import Concatenate as Concatenate
from ._dictionaries import Hermite as Hermite
from ._dictionaries import Identity as Identity
from ._dictionaries import Legendre as Legendre
from ._dictionaries import Monomials as Monomials
from ._dictionaries import RadialBasis as RadialBasis
from ._dictionaries import RandomFourier as RandomFourier
from ._dictionaries import TimeDelay as TimeDelay
from ._dictionaries import delay_pairs as delay_pairs
from ._dictionaries import kmeans as kmeans
from ._dictionaries import total_degree_exponents as total_degree_exponents
from ._dmd import dmd as dmd
from ._edmd import edmd as edmd
from ._edmd import gram_matrices as gram_matrices
from ._edmd import resdmd as resdmd
from ._kernel_edmd import KernelFeatures as KernelFeatures
from ._kernel_edmd import kernel_edmd as kernel_edmd
from ._learned import DictionaryFit as DictionaryFit
from ._learned import LearnedDictionary as LearnedDictionary
from ._learned import dictionary_loss as dictionary_loss
from ._learned import fit_dictionary as fit_dictionary
from ._measures import ergodic_moments as ergodic_moments
from ._measures import moment_spectral_measure as moment_spectral_measure
from ._measures import spectral_measure as spectral_measure
from ._measures import spectral_measure_kernel as spectral_measure_kernel
from ._modes import eigenfunctions as eigenfunctions
from ._modes import observable_coefficients as observable_coefficients
from ._modes import predict as predict
from ._result import KoopmanResult as KoopmanResult
from ._spectra import VerifiedSpectrum as VerifiedSpectrum
from ._spectra import complex_grid as complex_grid
from ._spectra import pseudospectrum as pseudospectrum
from ._spectra import verified_spectrum as verified_spectrum
