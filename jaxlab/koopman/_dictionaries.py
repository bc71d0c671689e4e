"""Dictionaries of observables ψ_1..ψ_N: composable `eqx.Module`s mapping states to features."""

import abc
import itertools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Inexact, PRNGKeyArray

from .._core.checks import shape_str

__all__ = [
    "AbstractDictionary", "Concatenate", "Hermite", "Identity", "Legendre", "Monomials",
    "RadialBasis", "RandomFourier", "TimeDelay", "delay_pairs", "kmeans",
    "total_degree_exponents",
]


def _check_dim(owner: str, x, dim: int):
    if jnp.ndim(x) < 1 or jnp.shape(x)[-1] != dim:
        raise ValueError(f"{owner}: x must have shape (..., {dim}) (the state dimension), got "
                         f"shape {shape_str(x)}")


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

    def __call__(self, x: Inexact[ArrayLike, "*batch d"]) -> Inexact[Array, "*batch N"]:
        """Evaluate the dictionary on states `x` of shape `(..., d)`; returns `(..., N)`."""
        x = jnp.asarray(x)
        _check_dim(type(self).__name__, x, self.dim)
        if not jnp.issubdtype(x.dtype, jnp.inexact):
            x = x.astype(jnp.result_type(float))
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
    if not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dim must be an int >= 1, got {dim!r}")
    if not isinstance(degree, int) or degree < 0:
        raise ValueError(f"degree must be an int >= 0, got {degree!r}")
    out = []
    for total in range(degree + 1):
        for combo in itertools.combinations_with_replacement(range(dim), total):
            k = [0] * dim
            for i in combo:
                k[i] += 1
            out.append(tuple(k))
    return tuple(out)


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

    def __init__(self, dim: int, degree: int, *, loc: Float[ArrayLike, " d"] | float = 0.0,
                 scale: Float[ArrayLike, " d"] | float = 1.0):
        self.exponents = total_degree_exponents(dim, degree)
        self.dim, self.degree = dim, degree
        self.loc = jnp.broadcast_to(jnp.asarray(loc, dtype=float), (dim,))
        self.scale = jnp.broadcast_to(jnp.asarray(scale, dtype=float), (dim,))
        if np.any(np.asarray(self.scale) <= 0):
            raise ValueError(f"{type(self).__name__}: scale must be positive, got {scale!r}")

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


def kmeans(x: Float[ArrayLike, "m d"], num_centres: int, *, key: PRNGKeyArray,
           iterations: int = 50) -> Float[Array, "k d"]:
    """k-means centres by k-means++ seeding and Lloyd iterations (jit-compiled).

    **Arguments:**

    - `x`: points, shape `(m, d)`.
    - `num_centres`: k, `1 ≤ k ≤ m`.
    - `key`: PRNG key of the seeding.
    - `iterations`: Lloyd iterations (an empty cluster keeps its previous centre).

    **Returns:** the centres, shape `(k, d)`, in the dtype of `x`.

    **Raises:** `ValueError` for a bad shape or k outside `1..m`.
    """
    x = jnp.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"kmeans: x must have shape (m, d), got {shape_str(x)}")
    if not isinstance(num_centres, int) or not 1 <= num_centres <= x.shape[0]:
        raise ValueError(f"kmeans: num_centres must be an int in 1..{x.shape[0]} (the number "
                         f"of points), got {num_centres!r}")
    if not isinstance(iterations, int) or iterations < 0:
        raise ValueError(f"kmeans: iterations must be an int >= 0, got {iterations!r}")
    return _kmeans(x, key, num_centres, iterations)


@eqx.filter_jit
def _kmeans(x, key, k, iterations):
    m = x.shape[0]
    k0, key = jax.random.split(key)
    first = x[jax.random.randint(k0, (), 0, m)]
    centres = jnp.zeros((k, x.shape[1]), x.dtype).at[0].set(first)
    d2 = jnp.sum((x - first) ** 2, axis=-1)

    def seed(i, carry):
        centres, d2 = carry
        p = d2 / jnp.maximum(jnp.sum(d2), jnp.finfo(x.dtype).tiny)
        c = x[jax.random.choice(jax.random.fold_in(key, i), m, p=p)]
        return centres.at[i].set(c), jnp.minimum(d2, jnp.sum((x - c) ** 2, axis=-1))

    centres, _ = jax.lax.fori_loop(1, k, seed, (centres, d2))

    def lloyd(_, centres):
        dist = (jnp.sum(x**2, -1)[:, None] - 2 * x @ centres.T + jnp.sum(centres**2, -1)[None])
        label = jnp.argmin(dist, axis=-1)
        sums = jax.ops.segment_sum(x, label, num_segments=k)
        counts = jax.ops.segment_sum(jnp.ones((m,), x.dtype), label, num_segments=k)
        return jnp.where(counts[:, None] > 0, sums / jnp.maximum(counts, 1)[:, None], centres)

    return jax.lax.fori_loop(0, iterations, lloyd, centres)


class RadialBasis(AbstractDictionary):
    """Radial basis functions ψ_j(x) = φ(‖x − c_j‖ / ℓ) around centres c_j.

    `kind="gaussian"`: φ(r) = exp(−r²); `kind="exponential"`: φ(r) = exp(−r) (the dictionary
    of the Duffing example of Colbrook, Mezić & Stepanenko, with ℓ = d̄/2 for d̄ the mean
    distance of the data from their mean); `kind="thin_plate"`: φ(r) = r² log r.
    Build it from data with `RadialBasis.from_data` (k-means centres from a separate sample,
    as the reference does, so residuals are not optimistic).
    """

    centres: Float[Array, "N d"]
    lengthscale: Float[Array, ""]
    kind: str = eqx.field(static=True)

    def __init__(self, centres: Float[ArrayLike, "N d"], lengthscale: float | Float[ArrayLike, ""],
                 *, kind: str = "gaussian"):
        centres = jnp.asarray(centres)
        if centres.ndim != 2:
            raise ValueError(f"RadialBasis: centres must have shape (N, d), got "
                             f"{shape_str(centres)}")
        if kind not in ("gaussian", "exponential", "thin_plate"):
            raise ValueError(f"RadialBasis: kind must be 'gaussian', 'exponential' or "
                             f"'thin_plate', got {kind!r}")
        ls = np.asarray(lengthscale) if not isinstance(lengthscale, jax.core.Tracer) else None
        if ls is not None and (ls.ndim != 0 or not ls > 0):
            raise ValueError(f"RadialBasis: lengthscale must be a positive scalar, got "
                             f"{lengthscale!r}")
        self.centres = centres
        self.lengthscale = jnp.asarray(lengthscale, dtype=centres.dtype)
        self.kind = kind

    @property
    def dim(self) -> int:
        return self.centres.shape[1]

    @property
    def num_features(self) -> int:
        return self.centres.shape[0]

    @classmethod
    def from_data(cls, x: Float[ArrayLike, "m d"], num_centres: int, *, key: PRNGKeyArray,
                  kind: str = "gaussian", lengthscale: float | None = None,
                  iterations: int = 50) -> "RadialBasis":
        """Centres by `kmeans` of `x`; lengthscale (default) the mean distance d̄ of `x` from
        its mean for Gaussian RBFs and d̄/2 for exponential ones (the Duffing example's
        exp(−2‖x − c‖/d̄))."""
        x = jnp.asarray(x)
        centres = kmeans(x, num_centres, key=key, iterations=iterations)
        if lengthscale is None:
            dbar = jnp.mean(jnp.linalg.norm(x - jnp.mean(x, axis=0), axis=-1))
            lengthscale = dbar / 2 if kind == "exponential" else dbar
        return cls(centres, lengthscale, kind=kind)

    def features(self, x):
        diff = x - self.centres.astype(x.dtype)
        if self.kind == "gaussian":
            return jnp.exp(-jnp.sum(diff**2, -1) / self.lengthscale.astype(x.dtype) ** 2)
        r2 = jnp.sum(diff**2, -1)
        safe = jnp.where(r2 > 0, r2, 1.0)
        if self.kind == "exponential":
            r = jnp.where(r2 > 0, jnp.sqrt(safe), 0.0)
            return jnp.exp(-r / self.lengthscale.astype(x.dtype))
        s = safe / self.lengthscale.astype(x.dtype) ** 2
        return jnp.where(r2 > 0, 0.5 * s * jnp.log(s), 0.0)


class RandomFourier(AbstractDictionary):
    """Random Fourier features √(2/N) cos(ωᵀx + b), ω ~ N(0, I/ℓ²), b ~ U[0, 2π).

    Their inner products approximate the Gaussian kernel exp(−‖x − y‖²/(2ℓ²)) (Rahimi & Recht
    2007), so EDMD with them approximates kernel EDMD at O(mN²) cost.
    """

    frequencies: Float[Array, "N d"]
    phases: Float[Array, " N"]

    def __init__(self, dim: int, num_features: int, lengthscale: float = 1.0, *,
                 key: PRNGKeyArray, dtype=None):
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"RandomFourier: dim must be an int >= 1, got {dim!r}")
        if not isinstance(num_features, int) or num_features < 1:
            raise ValueError(f"RandomFourier: num_features must be an int >= 1, got "
                             f"{num_features!r}")
        if not lengthscale > 0:
            raise ValueError(f"RandomFourier: lengthscale must be positive, got {lengthscale!r}")
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
    """The union of dictionaries on the same state: features concatenated in order."""

    parts: tuple[AbstractDictionary, ...]

    def __init__(self, *parts: AbstractDictionary):
        flat = []
        for p in parts:
            if not isinstance(p, AbstractDictionary):
                raise TypeError(f"Concatenate: every part must be an AbstractDictionary, got "
                                f"{type(p).__name__}")
            flat.extend(p.parts if isinstance(p, Concatenate) else [p])
        if not flat:
            raise ValueError("Concatenate: needs at least one dictionary")
        dims = {p.dim for p in flat}
        if len(dims) != 1:
            raise ValueError(f"Concatenate: all parts must act on the same state dimension, got "
                             f"{[p.dim for p in flat]}")
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
    """

    inner: AbstractDictionary
    delays: int = eqx.field(static=True)

    def __init__(self, inner: AbstractDictionary, delays: int):
        if not isinstance(inner, AbstractDictionary):
            raise TypeError(f"TimeDelay: inner must be an AbstractDictionary, got "
                            f"{type(inner).__name__}")
        if not isinstance(delays, int) or delays < 1:
            raise ValueError(f"TimeDelay: delays must be an int >= 1, got {delays!r}")
        self.inner, self.delays = inner, delays

    @property
    def dim(self) -> int:
        return self.inner.dim * self.delays

    @property
    def num_features(self) -> int:
        return self.inner.num_features * self.delays

    def features(self, x):
        blocks = x.reshape(self.delays, self.inner.dim)
        return jax.vmap(self.inner.features)(blocks).reshape(-1)


def delay_pairs(series: Float[ArrayLike, "n ..."], delays: int, *, lag: int = 1
                ) -> tuple[Float[Array, "m e"], Float[Array, "m e"]]:
    """Snapshot pairs of delay vectors from one time series (Hankel DMD / delay EDMD data).

    Row i of `x` is the delay vector starting at time i·1 (`jaxlab.systems.delay_embed` with
    `lag` and `delays`), row i of `y` the one starting one sample later.

    **Arguments:** `series` of shape `(n,)` or `(n, c)`; `delays` (the embedding dimension ≥ 1);
    `lag` (samples between delayed copies ≥ 1).

    **Returns:** `(x, y)`, each of shape `(n − (delays − 1)·lag − 1, delays·c)`.

    **Raises:** `ValueError` if the series is too short for one pair.
    """
    from jaxlab.systems import delay_embed

    series = jnp.asarray(series)
    if series.ndim not in (1, 2):
        raise ValueError(f"delay_pairs: series must have shape (n,) or (n, c), got "
                         f"{shape_str(series)}")
    if isinstance(delays, int) and isinstance(lag, int) and delays >= 1 and lag >= 1:
        need = (delays - 1) * lag + 2
        if series.shape[0] < need:
            raise ValueError(f"delay_pairs: series needs at least {need} samples for delays="
                             f"{delays}, lag={lag}; got {series.shape[0]}")
    h = delay_embed(series, lag, delays)
    return h[:-1], h[1:]
