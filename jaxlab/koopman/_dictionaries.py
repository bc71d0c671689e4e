"""Dictionaries of observables ψ_1..ψ_N: composable `eqx.Module`s mapping states to features."""

import abc
import itertools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Inexact, Num, PRNGKeyArray, Real

from .._core.checks import (
    as_float_array,
    as_inexact_array,
    check_choice,
    check_instance,
    check_int,
    check_key,
    check_number,
    check_positive_values,
    message,
    shape_str,
)
from .._core.distances import squared_distances
from ..systems import delay_embed

__all__ = [
    "AbstractDictionary", "Concatenate", "Hermite", "Identity", "Legendre", "Monomials",
    "RadialBasis", "RandomFourier", "TimeDelay", "delay_pairs", "kmeans",
    "total_degree_exponents",
]


class AbstractDictionary(eqx.Module):
    """A dictionary of observables: `__call__(x)` maps states `(..., d)` to features `(..., N)`.

    Subclasses implement `features(x)` for one state `x: (d,)` (or override `__call__`) and
    set `dim` (d) and `num_features` (N). Dictionaries are pytrees: parameters such as RBF
    centres are arrays (so a dictionary can be trained, vmapped or passed through `jit`), and
    structural sizes are static fields.
    """

    dim: eqx.AbstractVar[int]
    num_features: eqx.AbstractVar[int]

    @abc.abstractmethod
    def features(self, x: Inexact[Array, " d"]) -> Inexact[Array, " N"]:
        """The features of one state, shape `(N,)`."""

    def __call__(self, x: Num[ArrayLike, "*batch d"]) -> Inexact[Array, "*batch N"]:
        """Evaluate the dictionary on states `x` of shape `(..., d)` (integer states are
        promoted to the default float); returns `(..., N)`.

        **Raises:** `TypeError` for a non-numeric `x`; `ValueError` unless its last axis is d.
        """
        name = type(self).__name__
        x = as_inexact_array(name, "x", x)
        if x.ndim < 1 or x.shape[-1] != self.dim:
            raise ValueError(message(name, "x", f"of shape (..., {self.dim}) (the state "
                                     "dimension last)", f"shape {shape_str(x)}"))
        return _evaluate(self, x)

    def __add__(self, other: "AbstractDictionary") -> "Concatenate":
        return Concatenate(self, other)


@eqx.filter_jit
def _evaluate(dictionary: AbstractDictionary, x):
    # One compiled program per dictionary structure and input shape: evaluated eagerly, the
    # vmapped features would dispatch (and compile) every primitive separately.
    flat = x.reshape(-1, dictionary.dim)
    out = jax.vmap(dictionary.features)(flat)
    return out.reshape(*x.shape[:-1], out.shape[-1])


class Identity(AbstractDictionary):
    """The coordinates themselves, ψ(x) = x (optionally with the constant function first).

    With the identity dictionary, EDMD is DMD (Williams, Kevrekidis & Rowley 2015, §3.3).
    """

    dim: int = eqx.field(static=True)
    constant: bool = eqx.field(static=True, default=False)

    @property
    def num_features(self) -> int:
        return self.dim + int(self.constant)

    def features(self, x):
        return jnp.concatenate([jnp.ones((1,), x.dtype), x]) if self.constant else x


def total_degree_exponents(dim: int, degree: int) -> tuple[tuple[int, ...], ...]:
    """All exponent tuples k ∈ ℕ^dim with |k| ≤ degree, ordered by total degree, then
    lexicographically (largest power of the first coordinate first); (0, …, 0) comes first."""
    return _exponents("total_degree_exponents", dim, degree)


def _exponents(fn, dim, degree):
    dim = check_int(fn, "dim", dim, minimum=1)
    degree = check_int(fn, "degree", degree, minimum=0)
    out = []
    for total in range(degree + 1):
        for combo in itertools.combinations_with_replacement(range(dim), total):
            k = [0] * dim
            for i in combo:
                k[i] += 1
            out.append(tuple(k))
    return tuple(out)


def _per_coordinate(fn, name, value, dim):
    """A scalar or `(dim,)` parameter as a `(dim,)` float array."""
    array = as_float_array(fn, name, value, ndim=(0, 1))
    if array.ndim == 1 and array.shape[0] != dim:
        raise ValueError(message(fn, name, f"a scalar or of shape ({dim},)",
                                 f"shape {shape_str(array)}"))
    return jnp.broadcast_to(array.astype(jnp.result_type(float)), (dim,))


def _powers(x, degree):
    """x^0..x^degree for every coordinate: (d, degree + 1)."""
    return x[:, None] ** jnp.arange(degree + 1, dtype=x.dtype)


def _hermite_table(x, degree):
    """Probabilists' Hermite He_0..He_degree at every coordinate: (d, degree + 1)."""
    cols = [jnp.ones_like(x), x]
    for n in range(1, degree):
        cols.append(x * cols[n] - n * cols[n - 1])
    return jnp.stack(cols[: degree + 1], axis=-1)


def _legendre_table(x, degree):
    """Legendre P_0..P_degree at every coordinate: (d, degree + 1)."""
    cols = [jnp.ones_like(x), x]
    for n in range(1, degree):
        cols.append(((2 * n + 1) * x * cols[n] - n * cols[n - 1]) / (n + 1))
    return jnp.stack(cols[: degree + 1], axis=-1)


class _TensorPolynomial(AbstractDictionary):
    dim: int = eqx.field(static=True)
    degree: int = eqx.field(static=True)
    exponents: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    loc: Float[Array, " d"]
    scale: Float[Array, " d"]

    def __init__(self, dim: int, degree: int, *, loc: Real[ArrayLike, " d"] | float = 0.0,
                 scale: Real[ArrayLike, " d"] | float = 1.0):
        name = type(self).__name__
        self.exponents = _exponents(name, dim, degree)
        self.dim, self.degree = dim, degree
        self.loc = _per_coordinate(name, "loc", loc, dim)
        self.scale = _per_coordinate(name, "scale", scale, dim)
        check_positive_values(name, "scale", self.scale)

    @property
    def num_features(self) -> int:
        return len(self.exponents)

    @abc.abstractmethod
    def _table(self, x, degree):
        """The 1-D basis functions 0..degree at every coordinate, shape (d, degree + 1)."""

    def features(self, x):
        x = (x - self.loc.astype(x.dtype)) / self.scale.astype(x.dtype)
        table = self._table(x, self.degree)                                   # (d, p + 1)
        k = np.asarray(self.exponents)                                        # (N, d)
        return jnp.prod(table[np.arange(self.dim)[None, :], k], axis=-1)


class Monomials(_TensorPolynomial):
    """All monomials ∏ ((x_i − loc_i)/scale_i)^{k_i} of total degree ≤ `degree` (N = C(d+p, p)).

    The constant is the first feature, then the coordinates, then higher degrees (see
    `total_degree_exponents`). For a linear map x ↦ Bx the span is invariant and EDMD's
    eigenvalues are exactly the products ∏ μ_i^{k_i} of B's eigenvalues.

    **Arguments:** `dim` (d), `degree` (p ≥ 0), keyword `loc`, `scale` (shape `(d,)` or
    scalars) to centre and scale the coordinates first.
    """

    def _table(self, x, degree):
        return _powers(x, degree)


class Hermite(_TensorPolynomial):
    """Tensor products of probabilists' Hermite polynomials He_k, total degree ≤ `degree`.

    Orthonormal up to the factors √(k!) under the standard normal after the affine map
    (x − loc)/scale; a good choice for data that are roughly Gaussian.
    """

    def _table(self, x, degree):
        return _hermite_table(x, degree)


class Legendre(_TensorPolynomial):
    """Tensor products of Legendre polynomials P_k, total degree ≤ `degree`.

    Orthogonal on the box [loc − scale, loc + scale] (uniform weight); a good choice for
    uniformly sampled data on a box.
    """

    def _table(self, x, degree):
        return _legendre_table(x, degree)


def kmeans(x: Real[ArrayLike, "m d"], num_centres: int, *, key: PRNGKeyArray,
           iterations: int = 50) -> Float[Array, "k d"]:
    """k-means centres by k-means++ seeding and Lloyd iterations (jit-compiled).

    **Arguments:**

    - `x`: points, shape `(m, d)`.
    - `num_centres`: k, `1 ≤ k ≤ m`.
    - `key`: PRNG key of the seeding.
    - `iterations`: Lloyd iterations (an empty cluster keeps its previous centre).

    **Returns:** the centres, shape `(k, d)`, in the floating dtype of `x` (integer points
    are promoted to the default float).

    **Raises:** `TypeError` for a non-real `x`, a non-int `num_centres` or `iterations`, or
    a bad key; `ValueError` for a bad shape or k outside `1..m`.

    **References:** Arthur & Vassilvitskii, *k-means++: the advantages of careful seeding*,
    SODA (2007); Lloyd, *Least squares quantization in PCM*, IEEE Trans. Inf. Theory (1982).
    """
    return kmeans_centres("kmeans", x, num_centres, key, iterations)


def kmeans_centres(fn, x, num_centres, key, iterations):
    x = as_float_array(fn, "x", x, ndim=2)
    num_centres = check_int(fn, "num_centres", num_centres, minimum=1, maximum=x.shape[0])
    iterations = check_int(fn, "iterations", iterations, minimum=0)
    key = check_key(fn, key)
    return _kmeans(x, key, num_centres, iterations)


@eqx.filter_jit
def _kmeans(x, key, k, iterations):
    m = x.shape[0]
    k0, key = jax.random.split(key)
    first = x[jax.random.randint(k0, (), 0, m)]
    centres = jnp.zeros((k, x.shape[1]), x.dtype).at[0].set(first)
    d2 = squared_distances(x, first[None])[:, 0]

    def seed(i, carry):
        centres, d2 = carry
        p = d2 / jnp.maximum(jnp.sum(d2), jnp.finfo(x.dtype).tiny)
        c = x[jax.random.choice(jax.random.fold_in(key, i), m, p=p)]
        return centres.at[i].set(c), jnp.minimum(d2, squared_distances(x, c[None])[:, 0])

    centres, _ = jax.lax.fori_loop(1, k, seed, (centres, d2))

    def lloyd(_, centres):
        label = jnp.argmin(squared_distances(x, centres), axis=-1)
        sums = jax.ops.segment_sum(x, label, num_segments=k)
        counts = jax.ops.segment_sum(jnp.ones((m,), x.dtype), label, num_segments=k)
        return jnp.where(counts[:, None] > 0, sums / jnp.maximum(counts, 1)[:, None], centres)

    return jax.lax.fori_loop(0, iterations, lloyd, centres)


_RADIAL_KINDS = ("gaussian", "exponential", "thin_plate", "laplacian")


def radial(r2: Inexact[Array, "*n"], lengthscale: Inexact[Array, ""], kind: str
           ) -> Inexact[Array, "*n"]:
    """φ(r/ℓ) at squared distances r²: `"gaussian"` exp(−r²/ℓ²), `"exponential"` and
    `"laplacian"` exp(−r/ℓ), `"thin_plate"` s log √s with s = r²/ℓ² (0 at r = 0); the
    square root is safe at r = 0 (finite gradients)."""
    if kind == "gaussian":
        return jnp.exp(-r2 / lengthscale**2)
    safe = jnp.where(r2 > 0, r2, 1.0)
    if kind in ("exponential", "laplacian"):
        return jnp.exp(-jnp.where(r2 > 0, jnp.sqrt(safe), 0.0) / lengthscale)
    s = safe / lengthscale**2
    return jnp.where(r2 > 0, 0.5 * s * jnp.log(s), 0.0)


def check_lengthscale(fn: str, lengthscale) -> None:
    """Raise unless a concrete `lengthscale` is a positive finite scalar (traced ones pass)."""
    if isinstance(lengthscale, jax.core.Tracer):
        return
    check_number(fn, "lengthscale", lengthscale, minimum=0.0, open_minimum=True)


class RadialBasis(AbstractDictionary):
    """Radial basis functions ψ_j(x) = φ(‖x − c_j‖ / ℓ) around centres c_j.

    `kind="gaussian"`: φ(r) = exp(−r²); `kind="exponential"`: φ(r) = exp(−r) (the dictionary
    of the Duffing example of Colbrook, Mezić & Stepanenko, with ℓ = d̄/2 for d̄ the mean
    distance of the data from their mean); `kind="thin_plate"`: φ(r) = r² log r.
    Build it from data with `RadialBasis.from_data` (k-means centres from a separate sample,
    as the reference does, so residuals are not optimistic).

    **Arguments:** `centres` (shape `(N, d)`; integer centres are promoted), `lengthscale`
    (ℓ > 0, a scalar), keyword `kind`.

    **Raises:** `TypeError` for non-real centres or a non-numeric lengthscale; `ValueError`
    for centres not of shape `(N, d)`, an unknown kind or ℓ ≤ 0.
    """

    centres: Float[Array, "N d"]
    lengthscale: Float[Array, ""]
    kind: str = eqx.field(static=True)

    def __init__(self, centres: Real[ArrayLike, "N d"], lengthscale: float | Real[ArrayLike, ""],
                 *, kind: str = "gaussian"):
        centres = as_float_array("RadialBasis", "centres", centres, ndim=2)
        self.kind = check_choice("RadialBasis", "kind", kind, _RADIAL_KINDS[:3])
        check_lengthscale("RadialBasis", lengthscale)
        self.centres = centres
        self.lengthscale = jnp.asarray(lengthscale, dtype=centres.dtype)

    @property
    def dim(self) -> int:
        return self.centres.shape[1]

    @property
    def num_features(self) -> int:
        return self.centres.shape[0]

    @classmethod
    def from_data(cls, x: Real[ArrayLike, "m d"], num_centres: int, *, key: PRNGKeyArray,
                  kind: str = "gaussian", lengthscale: float | None = None,
                  iterations: int = 50) -> "RadialBasis":
        """Centres by `kmeans` of `x`; lengthscale (default) the mean distance d̄ of `x` from
        its mean for Gaussian RBFs and d̄/2 for exponential ones (the Duffing example's
        exp(−2‖x − c‖/d̄)).

        **Raises:** as `kmeans` and `RadialBasis`.
        """
        x = as_float_array("RadialBasis.from_data", "x", x, ndim=2)
        kind = check_choice("RadialBasis.from_data", "kind", kind, _RADIAL_KINDS[:3])
        centres = kmeans_centres("RadialBasis.from_data", x, num_centres, key, iterations)
        if lengthscale is None:
            dbar = jnp.mean(jnp.linalg.norm(x - jnp.mean(x, axis=0), axis=-1))
            lengthscale = dbar / 2 if kind == "exponential" else dbar
        return cls(centres, lengthscale, kind=kind)

    def features(self, x):
        # by differences: exp(−r/ℓ) needs r exact near a centre, where |x|² + |c|² − 2x·c
        # cancels (r off by 5e-4 in float32, 4e-8 in float64 for states in [−2, 2]²)
        r2 = squared_distances(x, self.centres.astype(x.dtype), by_differences=True)
        return radial(r2, self.lengthscale.astype(x.dtype), self.kind)


class RandomFourier(AbstractDictionary):
    """Random Fourier features √(2/N) cos(ωᵀx + b), ω ~ N(0, I/ℓ²), b ~ U[0, 2π).

    Their inner products approximate the Gaussian kernel exp(−‖x − y‖²/(2ℓ²)) (Rahimi & Recht
    2007), so EDMD with them approximates kernel EDMD at O(mN²) cost.

    **Arguments:** `dim` (d ≥ 1), `num_features` (N ≥ 1), `lengthscale` (ℓ > 0), keyword
    `key`, `dtype` (default: the default float).

    **Raises:** `TypeError` for non-int sizes or a bad key; `ValueError` for sizes < 1 or
    ℓ ≤ 0.

    **References:** Rahimi & Recht, *Random features for large-scale kernel machines*,
    NeurIPS (2007).
    """

    frequencies: Float[Array, "N d"]
    phases: Float[Array, " N"]

    def __init__(self, dim: int, num_features: int, lengthscale: float = 1.0, *,
                 key: PRNGKeyArray, dtype=None):
        dim = check_int("RandomFourier", "dim", dim, minimum=1)
        num_features = check_int("RandomFourier", "num_features", num_features, minimum=1)
        lengthscale = check_number("RandomFourier", "lengthscale", lengthscale, minimum=0.0,
                                   open_minimum=True)
        key = check_key("RandomFourier", key)
        dtype = dtype or jnp.result_type(float)
        kw, kb = jax.random.split(key)
        self.frequencies = jax.random.normal(kw, (num_features, dim), dtype) / lengthscale
        self.phases = jax.random.uniform(kb, (num_features,), dtype, 0.0, 2 * math.pi)

    @property
    def dim(self) -> int:
        return self.frequencies.shape[1]

    @property
    def num_features(self) -> int:
        return self.frequencies.shape[0]

    def features(self, x):
        n = self.frequencies.shape[0]
        return math.sqrt(2.0 / n) * jnp.cos(self.frequencies.astype(x.dtype) @ x
                                            + self.phases.astype(x.dtype))


class Concatenate(AbstractDictionary):
    """The union of dictionaries on the same state: features concatenated in order.

    **Raises:** `TypeError` if a part is not an `AbstractDictionary`; `ValueError` for no
    parts or parts on different state dimensions.
    """

    parts: tuple[AbstractDictionary, ...]

    def __init__(self, *parts: AbstractDictionary):
        flat = []
        for p in parts:
            check_instance("Concatenate", "every part", p, AbstractDictionary,
                           want="an AbstractDictionary")
            flat.extend(p.parts if isinstance(p, Concatenate) else [p])
        if not flat:
            raise ValueError(message("Concatenate", "parts", "at least one dictionary",
                                     "none"))
        dims = [p.dim for p in flat]
        if len(set(dims)) != 1:
            raise ValueError(message("Concatenate", "parts", "dictionaries on one state "
                                     "dimension", f"dimensions {dims}"))
        self.parts = tuple(flat)

    @property
    def dim(self) -> int:
        return self.parts[0].dim

    @property
    def num_features(self) -> int:
        return sum(p.num_features for p in self.parts)

    def features(self, x):
        return jnp.concatenate([p.features(x) for p in self.parts])


class TimeDelay(AbstractDictionary):
    """Apply `inner` to each of `delays` stacked copies of a state and concatenate.

    For delay vectors (x_t, x_{t+1}, …, x_{t+k−1}) of a `dim`-channel series (as produced by
    `jaxlab.systems.delay_embed` or `delay_pairs`), the input has `delays·dim` coordinates and
    the features are (inner(x_t), inner(x_{t+1}), …). With `inner=Identity(dim)` this is Hankel
    DMD (Arbabi & Mezić 2017).

    **Raises:** `TypeError` if `inner` is not an `AbstractDictionary` or `delays` not an
    int; `ValueError` for `delays` < 1.
    """

    inner: AbstractDictionary
    delays: int = eqx.field(static=True)

    def __init__(self, inner: AbstractDictionary, delays: int):
        self.inner = check_instance("TimeDelay", "inner", inner, AbstractDictionary,
                                    want="an AbstractDictionary")
        self.delays = check_int("TimeDelay", "delays", delays, minimum=1)

    @property
    def dim(self) -> int:
        return self.inner.dim * self.delays

    @property
    def num_features(self) -> int:
        return self.inner.num_features * self.delays

    def features(self, x):
        blocks = x.reshape(self.delays, self.inner.dim)
        return jax.vmap(self.inner.features)(blocks).reshape(-1)


def delay_pairs(series: Real[ArrayLike, "n ..."], delays: int, *, lag: int = 1
                ) -> tuple[Float[Array, "m e"], Float[Array, "m e"]]:
    """Snapshot pairs of delay vectors from one time series (Hankel DMD / delay EDMD data).

    Row i of `x` is the delay vector starting at sample i (`jaxlab.systems.delay_embed` with
    `lag` and `delays`), row i of `y` the one starting one sample later.

    **Arguments:** `series` of shape `(n,)` or `(n, c)` (integer series are promoted);
    `delays` (the embedding dimension ≥ 1); `lag` (samples between delayed copies ≥ 1).

    **Returns:** `(x, y)`, each of shape `(n − (delays − 1)·lag − 1, delays·c)`.

    **Raises:** `TypeError` for a non-real series or non-int `delays`/`lag`; `ValueError`
    for a bad shape, `delays` or `lag` < 1, or a series too short for one pair.

    **References:** Arbabi & Mezić, *Ergodic theory, dynamic mode decomposition, and
    computation of spectral properties of the Koopman operator*, SIADS 16 (2017).
    """
    series = as_float_array("delay_pairs", "series", series, ndim=(1, 2))
    delays = check_int("delay_pairs", "delays", delays, minimum=1)
    lag = check_int("delay_pairs", "lag", lag, minimum=1)
    need = (delays - 1) * lag + 2
    if series.shape[0] < need:
        raise ValueError(message("delay_pairs", "series", f"at least {need} samples long for "
                                 f"delays={delays}, lag={lag}", f"{series.shape[0]} samples"))
    h = delay_embed(series, lag, delays)
    return h[:-1], h[1:]
