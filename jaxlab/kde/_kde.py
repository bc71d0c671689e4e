"""The exact kernel density estimator: blocked log-sum-exp, any kernel, any bandwidth matrix."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, Real

from .._core.checks import (
    as_float_array,
    as_weights,
    check_finite_values,
    check_int,
    check_key,
    concrete_values,
    message,
    shape_str,
)
from ._blocked import block_sizes, log_kernel_sums
from ._kernels import AbstractKernel, Gaussian, get_kernel


def as_data(data, fn: str, name: str = "data") -> Array:
    """`(n, d)` real data (a 1-D array is n points in one dimension; integers promoted),
    with n, d ≥ 1 and (when known) finite values."""
    arr = as_float_array(fn, name, data, ndim=(1, 2))
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(message(fn, name, "of shape (n, d) or (n,) with n, d >= 1",
                                 f"shape {shape_str(data)}"))
    check_finite_values(fn, name, arr)
    return arr


def normalised_weights(weights, n: int, dtype, fn: str) -> Array:
    """Weights normalised to sum 1 (uniform if None), checked by `_core.checks.as_weights`."""
    w = as_weights(fn, "weights", weights, n, dtype, want=f"({n},) to match data")
    return w / jnp.sum(w)


def bandwidth_cholesky(bandwidth, d: int, dtype, fn: str) -> tuple[Array, str]:
    """L with H = L Lᵀ from a scalar h (H = h² I), a vector h (H = diag(h²)) or a matrix H."""
    h = as_float_array(fn, "bandwidth", bandwidth).astype(dtype)
    if h.ndim == 0 or h.shape == (1,):
        h = h.reshape(())
        values = concrete_values(h)
        if values is not None and not (np.isfinite(values) and values > 0):
            raise ValueError(f"{fn}: bandwidth must be positive and finite, got {values}")
        return h * jnp.eye(d, dtype=dtype), "scalar"
    if h.shape == (d,):
        values = concrete_values(h)
        if values is not None and not np.all(np.isfinite(values) & (values > 0)):
            raise ValueError(f"{fn}: a diagonal bandwidth must be positive and finite in "
                             f"every dimension, got {values}")
        return jnp.diag(h), "diagonal"
    if h.shape == (d, d):
        hn = concrete_values(h)
        if hn is not None:
            hn = hn.astype(np.float64)
            if not np.all(np.isfinite(hn)) or not np.allclose(hn, hn.T, rtol=1e-6,
                                                             atol=1e-12 * np.abs(hn).max()):
                raise ValueError(message(fn, "bandwidth", "a finite symmetric matrix",
                                         "one that is not finite or not symmetric"))
            eig = np.linalg.eigvalsh(hn)
            if eig.min() <= 1e-12 * max(eig.max(), 0.0) or eig.max() <= 0:
                raise ValueError(f"{fn}: the bandwidth matrix must be positive definite, got "
                                 f"eigenvalues from {eig.min():.3g} to {eig.max():.3g} "
                                 f"(singular: is the data covariance degenerate?)")
        return jnp.linalg.cholesky(h), "full"
    raise ValueError(f"{fn}: bandwidth must be a scalar, a vector of shape ({d},) or a matrix "
                     f"of shape ({d}, {d}), got shape {h.shape}")


class KDE(eqx.Module):
    """A kernel density estimate ρ̂(x) = Σ_i w_i K_H(x − y_i), exact, in log space.

    K_H(u) = K(L⁻¹u) / |det L| with H = L Lᵀ: a scalar bandwidth h gives H = h² I, a vector
    gives a diagonal H, a matrix is H itself (for the Gaussian kernel, H is the kernel's
    covariance). `logpdf` evaluates log ρ̂ with a blocked log-sum-exp over data and queries,
    so no n × m array is ever formed and nothing underflows in high dimension; it is
    differentiable in the data, the queries, the weights and the bandwidth.

    **Arguments (constructor):**

    - `data`: `(n, d)` (or `(n,)` for d = 1), finite.
    - `kernel`: `"gaussian"`, `"epanechnikov"`, `"tophat"`, `"exponential"`, `"linear"`,
      `"cosine"` (scikit-learn's profiles, normalised in R^d) or an `AbstractKernel`.
    - `bandwidth`: positive scalar, `(d,)` vector or `(d, d)` positive-definite matrix.
    - `weights`: optional non-negative `(n,)` weights (normalised internally).
    - `query_block`, `data_block`: tile sizes of the blocked sum (defaults 1024 × 256, a
      cache-sized tile; see `_blocked.py` for the measurements behind them).

    **Raises:** `ValueError` for data that are not finite or not 1-/2-D, a bandwidth that is
    not positive (definite) or of the wrong shape, weights of the wrong length, negative or
    summing to zero, or an unknown kernel.

    **References:** Parzen (1962), Rosenblatt (1956); Biroli & Mézard, *Kernel Density
    Estimators in Large Dimensions* (2024) for why log space matters in high d.
    """

    data: Float[Array, "n d"]
    weights: Float[Array, " n"]
    cholesky: Float[Array, "d d"]
    kernel: AbstractKernel
    bandwidth_kind: str = eqx.field(static=True)
    query_block: int | None = eqx.field(static=True)
    data_block: int | None = eqx.field(static=True)

    def __init__(self, data: Real[ArrayLike, "n d"] | Real[ArrayLike, " n"],
                 kernel: "str | AbstractKernel" = "gaussian",
                 bandwidth: Real[ArrayLike, "..."] = 1.0, *,
                 weights: Real[ArrayLike, " n"] | None = None, query_block: int | None = None,
                 data_block: int | None = None):
        self.data = as_data(data, "KDE")
        n, d = self.data.shape
        self.kernel = get_kernel(kernel, "KDE")
        self.weights = normalised_weights(weights, n, self.data.dtype, "KDE")
        self.cholesky, self.bandwidth_kind = bandwidth_cholesky(bandwidth, d, self.data.dtype,
                                                                "KDE")
        self.query_block = check_int("KDE", "query_block", query_block, minimum=1,
                                     none_ok=True)
        self.data_block = check_int("KDE", "data_block", data_block, minimum=1, none_ok=True)

    @property
    def n(self) -> int:
        return self.data.shape[0]

    @property
    def dimension(self) -> int:
        return self.data.shape[1]

    @property
    def bandwidth_matrix(self) -> Float[Array, "d d"]:
        """H = L Lᵀ."""
        return self.cholesky @ self.cholesky.T

    @property
    def effective_sample_size(self) -> Float[Array, ""]:
        """n_eff = 1 / Σ w_i² (n for equal weights)."""
        return 1.0 / jnp.sum(self.weights**2)

    def _log_det(self):
        return jnp.sum(jnp.log(jnp.abs(jnp.diagonal(self.cholesky))))

    def _whiten(self, x):
        """L⁻¹(x − centre): centred first so |q|² + |y|² − 2q·y does not cancel badly."""
        centre = jnp.sum(self.weights[:, None] * self.data, axis=0)
        if self.bandwidth_kind == "full":
            return jax.scipy.linalg.solve_triangular(self.cholesky, (x - centre).T,
                                                     lower=True).T
        return (x - centre) / jnp.diagonal(self.cholesky)

    def _queries(self, raw, fn):
        x = as_float_array(fn, "x", raw)
        raw_dtype = raw.dtype if hasattr(raw, "dtype") else np.asarray(raw).dtype
        if jnp.issubdtype(raw_dtype, jnp.integer):
            x = x.astype(self.data.dtype)  # integer queries do not widen the data's dtype
        d = self.dimension
        single = x.ndim == 0 or (x.ndim == 1 and d > 1)
        if x.ndim == 0:
            x = x.reshape(1, 1)
        elif x.ndim == 1:
            x = x[None, :] if d > 1 else x[:, None]
        if x.ndim != 2 or x.shape[1] != d:
            raise ValueError(f"{fn}: x must have shape (m, {d}) (or ({d},) for one point) to "
                             f"match the data's dimension {d}, got shape {tuple(jnp.shape(x))}")
        return x.astype(jnp.result_type(x.dtype, self.data.dtype)), single

    def _log_sums(self, queries, *, mesh=None, exclude_self=False, query_index=None):
        wq, wd = self._whiten(queries), self._whiten(self.data)
        bq, bn = block_sizes(wq.shape[0], self.n, self.query_block, self.data_block)
        return log_kernel_sums(wq, wd, jnp.log(self.weights), self.kernel.log_profile,
                               query_block=bq, data_block=bn, exclude_self=exclude_self,
                               query_index=query_index, mesh=mesh)

    def logpdf(self, x: Real[ArrayLike, "m d"] | Real[ArrayLike, " d"] | float, *,
               mesh: Mesh | None = None) -> Float[Array, " m"] | Float[Array, ""]:
        """log ρ̂(x).

        **Arguments:**

        - `x`: queries `(m, d)`, or one point `(d,)`; for d = 1 also `(m,)`.
        - `mesh`: a 1-D device mesh (`jaxlab.parallel.data_mesh()`) to split the queries
          across devices (the data are replicated).

        **Returns:** `(m,)` log-densities (a scalar for one point); −inf only where the
        density is exactly zero (outside a compact kernel's support).

        **Raises:** `ValueError` if `x` does not match the data's dimension.
        """
        queries, single = self._queries(x, "KDE.logpdf")
        out = (self._log_sums(queries, mesh=mesh) - self.kernel.log_normaliser(self.dimension)
               - self._log_det())
        return out[0] if single else out

    def pdf(self, x: Real[ArrayLike, "m d"] | Real[ArrayLike, " d"] | float, *,
            mesh: Mesh | None = None) -> Float[Array, " m"] | Float[Array, ""]:
        """ρ̂(x) = exp(logpdf(x)) (underflows to 0 in high dimension: prefer `logpdf`)."""
        return jnp.exp(self.logpdf(x, mesh=mesh))

    def leave_one_out_logpdf(self, *, mesh: Mesh | None = None) -> Float[Array, " n"]:
        """log ρ̂₋ᵢ(y_i): the density at each data point from the other points (weights
        renormalised without w_i), as used by likelihood cross-validation.

        **Returns:** `(n,)`; −inf where no other point reaches y_i (compact kernels).

        **Raises:** `ValueError` if fewer than two points carry weight.
        """
        if self.n < 2:
            raise ValueError(message("KDE.leave_one_out_logpdf", "data",
                                     "at least 2 points", f"{self.n}"))
        sums = self._log_sums(self.data, mesh=mesh, exclude_self=True,
                              query_index=jnp.arange(self.n))
        return (sums - jnp.log1p(-self.weights) - self.kernel.log_normaliser(self.dimension)
                - self._log_det())

    def sample(self, n: int, *, key: PRNGKeyArray) -> Float[Array, "n d"]:
        """`n` draws from ρ̂: a data point chosen with probability w_i plus L u, u ~ K.

        **Raises:** `TypeError` if `n` is not an int or `key` not a PRNG key; `ValueError`
        if `n` < 1.
        """
        n = check_int("KDE.sample", "n", n, minimum=1)
        check_key("KDE.sample", key)
        k_index, k_noise = jax.random.split(key)
        index = jax.random.choice(k_index, self.n, (n,), p=self.weights)
        noise = self.kernel.sample(n, self.dimension, self.data.dtype, key=k_noise)
        return self.data[index] + noise @ self.cholesky.T

    def marginal(self, dims) -> "KDE":
        """The KDE of the coordinates `dims` (exact for the Gaussian kernel: the data
        columns with the sub-block H[dims, dims] of the bandwidth matrix).

        **Raises:** `ValueError` for a non-Gaussian kernel (the marginal of a radial compact
        kernel is not the same kernel in fewer dimensions) or out-of-range / repeated dims.
        """
        dims = [int(i) for i in np.atleast_1d(np.asarray(dims))]
        if not dims or len(set(dims)) != len(dims) or not all(
                0 <= i < self.dimension for i in dims):
            raise ValueError(f"KDE.marginal: dims must be distinct indices in "
                             f"0..{self.dimension - 1}, got {dims}")
        if not isinstance(self.kernel, Gaussian):
            raise ValueError(message("KDE.marginal", "kernel",
                                     "the Gaussian (exact marginals need it)",
                                     repr(self.kernel.name)))
        idx = jnp.asarray(dims)
        sub = self.bandwidth_matrix[jnp.ix_(idx, idx)]
        return KDE(self.data[:, idx], self.kernel, sub, weights=self.weights,
                   query_block=self.query_block, data_block=self.data_block)

    def integrate_box(self, low: Real[ArrayLike, " d"], high: Real[ArrayLike, " d"], *,
                      key: PRNGKeyArray | None = None, num_samples: int = 8192
                      ) -> Float[Array, ""]:
        """P(low ≤ X ≤ high) for X ~ ρ̂ (Gaussian kernel).

        Exact (products of normal CDFs) for scalar and diagonal bandwidths; for a full
        matrix, Genz's separation-of-variables estimator with `num_samples` random points
        (needs `key`; standard error ≈ 1e-3 relative at the default).

        **Raises:** `ValueError` for a non-Gaussian kernel, `low`/`high` of the wrong shape,
        or a full bandwidth without `key`.

        **References:** Genz (1992), *Numerical computation of multivariate normal
        probabilities*, J. Comput. Graph. Stat. 1, 141-149.
        """
        fn = "KDE.integrate_box"
        if not isinstance(self.kernel, Gaussian):
            raise ValueError(message(fn, "kernel", "the Gaussian", repr(self.kernel.name)))
        d, dtype = self.dimension, self.data.dtype
        lo = as_float_array(fn, "low", low).astype(dtype).reshape(-1)
        hi = as_float_array(fn, "high", high).astype(dtype).reshape(-1)
        if lo.shape != (d,) or hi.shape != (d,):
            raise ValueError(f"KDE.integrate_box: low and high must have shape ({d},), got "
                             f"{jnp.shape(low)} and {jnp.shape(high)}")
        ndtr = jax.scipy.special.ndtr
        if self.bandwidth_kind != "full" or d == 1:
            s = jnp.diagonal(self.cholesky)
            p = jnp.prod(ndtr((hi - self.data) / s) - ndtr((lo - self.data) / s), axis=1)
            return jnp.sum(self.weights * p)
        if key is None:
            raise ValueError(message(fn, "key", "given for a full bandwidth matrix (Genz's "
                                     "Monte Carlo estimator)", "None"))
        check_key(fn, key)
        num_samples = check_int(fn, "num_samples", num_samples, minimum=1)
        return jnp.sum(self.weights * _genz_box(self.data, self.cholesky, lo, hi, key,
                                                num_samples))


def _genz_box(means, chol, lo, hi, key, num_samples):
    """P(lo ≤ μ_i + L z ≤ hi), z ~ N(0, I), for each row μ_i (Genz 1992)."""
    d = chol.shape[0]
    ndtr, ndtri = jax.scipy.special.ndtr, jax.scipy.special.ndtri
    u = jax.random.uniform(key, (num_samples, d), chol.dtype)

    def one(mu):
        a, b = lo - mu, hi - mu
        f = jnp.ones(num_samples, chol.dtype)
        ys = []
        for j in range(d):
            s = sum((chol[j, k] * ys[k] for k in range(j)), jnp.zeros(num_samples, chol.dtype))
            pa, pb = ndtr((a[j] - s) / chol[j, j]), ndtr((b[j] - s) / chol[j, j])
            f = f * (pb - pa)
            ys.append(ndtri(jnp.clip(pa + u[:, j] * (pb - pa), 1e-16, 1 - 1e-16)))
        return jnp.mean(f)

    return jax.lax.map(one, means)

