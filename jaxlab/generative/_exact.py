"""Closed-form drift, score and density along a path whose target is a Gaussian mixture.

With a Gaussian base x₀ ~ N(m₀, C₀) independent of the target x₁ ~ Σₖ pₖ N(mₖ, Cₖ), the state
x_t = αx₀ + βx₁ + γz is, given component k, Gaussian with mean μₖ = αm₀ + βmₖ and covariance
Σₖ = α²C₀ + β²Cₖ + γ²I; (x_t, ẋ_t) are jointly Gaussian with Cov(ẋ_t, x_t | k) = ½Σ̇ₖ. So

    s(t, x) = −Σₖ wₖ Σₖ⁻¹(x − μₖ),
    b(t, x) = Σₖ wₖ [μ̇ₖ + ½Σ̇ₖ Σₖ⁻¹(x − μₖ)],      wₖ ∝ pₖ N(x; μₖ, Σₖ),

exact for every `Interpolant` (any α, β, γ) and every `Diffusion` (α ≡ 0). These are the
oracles of the generative experiments and tests.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpyro.distributions as dist
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, Real

from .._core.checks import (
    as_float_array,
    check_instance,
    check_int,
    check_key,
    check_shape,
    common_float_dtype,
    concrete_values,
    message,
)


class GaussianMixture(eqx.Module):
    """Σₖ pₖ N(mₖ, Cₖ) in d dimensions.

    **Arguments:** `weights` (K,) positive, summing to 1; `means` (K, d); `covs` (K, d, d)
    symmetric positive definite, or (K,) isotropic variances, or None (identity). The arrays
    take the floating dtype of `means` (integer arrays are promoted).

    **Raises:** `ValueError` naming the argument on wrong shapes or invalid values;
    `TypeError` for non-real arrays.
    """

    weights: Float[Array, " K"]
    means: Float[Array, "K d"]
    covs: Float[Array, "K d d"]

    def __init__(self, weights: ArrayLike, means: ArrayLike, covs: ArrayLike | None = None):
        fn = "GaussianMixture"
        means = as_float_array(fn, "means", means)
        check_shape(fn, "means", means, (None, None), want="(K, d)")
        K, d = means.shape
        weights = as_float_array(fn, "weights", weights).astype(means.dtype)
        check_shape(fn, "weights", weights, (K,))
        if covs is None:
            covs = jnp.broadcast_to(jnp.eye(d, dtype=means.dtype), (K, d, d))
        else:
            covs = as_float_array(fn, "covs", covs).astype(means.dtype)
            if covs.shape == (K,):
                covs = covs[:, None, None] * jnp.eye(d, dtype=means.dtype)
            check_shape(fn, "covs", covs, (K, d, d), want=f"({K}, {d}, {d}) or ({K},)")
        w = concrete_values(weights)
        if w is not None and (w.min() <= 0 or abs(w.sum() - 1) > 1e-6):
            raise ValueError(message(fn, "weights", "positive and summing to 1", w.tolist()))
        self.weights, self.means, self.covs = weights, means, covs

    @property
    def dim(self) -> int:
        """The dimension d."""
        return self.means.shape[1]

    def distribution(self) -> dist.MixtureSameFamily:
        """The numpyro distribution (its argument validation off: the constructor has
        checked the arguments, and numpyro's checks run eagerly, compiling op by op)."""
        return dist.MixtureSameFamily(
            dist.Categorical(probs=self.weights, validate_args=False),
            dist.MultivariateNormal(self.means, covariance_matrix=self.covs,
                                    validate_args=False),
            validate_args=False)

    def log_prob(self, x: Real[ArrayLike, "*batch d"]) -> Array:
        """log density at `x`, shape `batch`.

        **Raises:** `ValueError` unless the last axis of `x` has length d.
        """
        x = as_float_array("GaussianMixture.log_prob", "x", x)
        if x.ndim < 1 or x.shape[-1] != self.dim:
            raise ValueError(message("GaussianMixture.log_prob", "x",
                                     f"of shape (..., {self.dim})", f"shape {x.shape}"))
        return self.distribution().log_prob(x.astype(common_float_dtype(x, self.means)))

    def sample(self, n: int, *, key: PRNGKeyArray) -> Float[Array, "n d"]:
        """`n` independent samples, shape `(n, d)`, in the dtype of the means.

        **Raises:** `TypeError`/`ValueError` unless `n` is a positive int and `key` a key.
        """
        n = check_int("GaussianMixture.sample", "n", n, minimum=1)
        key = check_key("GaussianMixture.sample", key)
        return self.distribution().sample(key, (n,)).astype(self.means.dtype)

    def mean(self) -> Float[Array, " d"]:
        """The mixture's mean Σₖ pₖ mₖ."""
        return self.weights @ self.means

    def covariance(self) -> Float[Array, "d d"]:
        """The mixture's covariance Σₖ pₖ (Cₖ + (mₖ − m)(mₖ − m)ᵀ)."""
        centred = self.means - self.mean()
        return (jnp.einsum("k,kij->ij", self.weights, self.covs)
                + jnp.einsum("k,ki,kj->ij", self.weights, centred, centred))


class PathMarginal(eqx.Module):
    """The marginal law of x_t along a path from a Gaussian-mixture base to a
    `GaussianMixture` target (independent coupling), with its exact score, drift
    (probability-flow velocity) and log density.

    With base Σⱼ qⱼ N(m₀ⱼ, C₀ⱼ), x_t is the mixture over pairs (j, k) with weights qⱼpₖ, means
    αm₀ⱼ + βmₖ and covariances α²C₀ⱼ + β²Cₖ + γ²I; the formulas of the module docstring hold
    with k running over the pairs.

    **Arguments:** `path` (`Interpolant` or `Diffusion`), `target` (`GaussianMixture`),
    `base` (`GaussianMixture` of x₀; default N(0, I); irrelevant for a `Diffusion`, whose
    α ≡ 0).

    **Raises:** `TypeError` if `target` or `base` is not a `GaussianMixture` or `path` has
    no `coefficients`; `ValueError` if base and target have different dimensions.
    """

    path: eqx.Module
    target: GaussianMixture
    base: GaussianMixture

    def __init__(self, path, target: GaussianMixture, base: GaussianMixture | None = None):
        if not callable(getattr(path, "coefficients", None)):
            raise TypeError(message("PathMarginal", "path", "an Interpolant or a Diffusion",
                                    f"a {type(path).__name__}"))
        check_instance("PathMarginal", "target", target, GaussianMixture)
        d = target.dim
        dtype = target.means.dtype
        if base is None:
            base = GaussianMixture(jnp.ones(1, dtype), jnp.zeros((1, d), dtype))
        check_instance("PathMarginal", "base", base, GaussianMixture)
        if base.dim != d:
            raise ValueError(message("PathMarginal", "base",
                                     f"of the target's dimension {d}", f"dimension {base.dim}"))
        self.path, self.target, self.base = path, target, base

    def components(self, t):
        """Weights (J·K,), means μ (J·K, d), covariances Σ (J·K, d, d), μ̇ and ½Σ̇ of the
        mixture x_t over (base, target) component pairs."""
        c = self.path.coefficients(t)
        d = self.target.dim
        eye = jnp.eye(d, dtype=self.target.means.dtype)
        m0, C0 = self.base.means[:, None], self.base.covs[:, None]
        m1, C1 = self.target.means[None], self.target.covs[None]
        weights = (self.base.weights[:, None] * self.target.weights[None]).reshape(-1)
        mu = (c.alpha * m0 + c.beta * m1).reshape(-1, d)
        dmu = (c.dalpha * m0 + c.dbeta * m1).reshape(-1, d)
        cov = (c.alpha**2 * C0 + c.beta**2 * C1 + c.gamma2 * eye).reshape(-1, d, d)
        half_dcov = (c.alpha * c.dalpha * C0 + c.beta * c.dbeta * C1
                     + c.gamma_dgamma * eye).reshape(-1, d, d)
        return weights, mu, cov, dmu, half_dcov

    def _posterior(self, t, x):
        weights, mu, cov, dmu, half_dcov = self.components(t)
        chol = jnp.linalg.cholesky(cov)
        diff = x - mu
        # L⁻¹ depends on t only: under vmap over points it is computed once, and each point
        # costs matrix-vector products (a per-point batched LAPACK solve hung XLA:CPU for
        # 20000 points inside an SDE solve).
        eye = jnp.broadcast_to(jnp.eye(x.shape[-1], dtype=chol.dtype), chol.shape)
        chol_inv = jax.scipy.linalg.solve_triangular(chol, eye, lower=True)
        white = jnp.einsum("kij,kj->ki", chol_inv, diff)     # Lₖ⁻¹(x − μₖ)
        solved = jnp.einsum("kji,kj->ki", chol_inv, white)   # Σₖ⁻¹(x − μₖ)
        logdet = 2 * jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
        d = x.shape[-1]
        log_comp = (jnp.log(weights) - 0.5 * jnp.sum(white**2, -1)
                    - 0.5 * logdet - 0.5 * d * jnp.log(2 * jnp.pi))
        return log_comp, solved, dmu, half_dcov

    def log_prob(self, t: Real[ArrayLike, ""], x: Real[ArrayLike, " d"]) -> Array:
        """log p_t(x) for one point `x` (vmap over points)."""
        log_comp, *_ = self._posterior(t, jnp.asarray(x))
        return jax.nn.logsumexp(log_comp)

    def score(self, t: Real[ArrayLike, ""], x: Real[ArrayLike, " d"]) -> Array:
        """∇ₓ log p_t(x) = −Σₖ wₖ Σₖ⁻¹(x − μₖ)."""
        log_comp, solved, _, _ = self._posterior(t, jnp.asarray(x))
        w = jax.nn.softmax(log_comp)
        return -w @ solved

    def drift(self, t: Real[ArrayLike, ""], x: Real[ArrayLike, " d"]) -> Array:
        """b(t, x) = Σₖ wₖ [μ̇ₖ + ½Σ̇ₖ Σₖ⁻¹(x − μₖ)]: the velocity whose flow carries p_t
        (the interpolant drift; for a `Diffusion` the probability-flow ODE velocity
        f x − ½g² s)."""
        log_comp, solved, dmu, half_dcov = self._posterior(t, jnp.asarray(x))
        w = jax.nn.softmax(log_comp)
        return w @ (dmu + jnp.einsum("kij,kj->ki", half_dcov, solved))

    def velocity(self, t: Real[ArrayLike, ""], x: Real[ArrayLike, " d"]) -> Array:
        """v(t, x) = E[∂_t I | x_t = x] = b + γγ̇ s (the interpolant's velocity without the
        γ̇z term)."""
        return self.drift(t, x) + self.path.coefficients(t).gamma_dgamma * self.score(t, x)

    def sample(self, t: Real[ArrayLike, ""], n: int, *, key: PRNGKeyArray
               ) -> Float[Array, "n d"]:
        """`n` exact samples of x_t, shape `(n, d)`.

        **Raises:** `TypeError`/`ValueError` unless `n` is a positive int and `key` a key.
        """
        n = check_int("PathMarginal.sample", "n", n, minimum=1)
        key = check_key("PathMarginal.sample", key)
        k0, k1, kz = jax.random.split(key, 3)
        d = self.target.dim
        x0 = self.base.sample(n, key=k0)
        x1 = self.target.sample(n, key=k1)
        z = jax.random.normal(kz, (n, d), dtype=x1.dtype)
        c = self.path.coefficients(t)
        return c.alpha * x0 + c.beta * x1 + jnp.sqrt(c.gamma2) * z
