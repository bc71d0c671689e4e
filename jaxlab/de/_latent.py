"""Latent SDEs: a posterior SDE fitted to observed series by the ELBO, with the KL divergence to
a prior SDE accumulated along the path (Girsanov)."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpyro.distributions as dist
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray, Real

from .._core.checks import (
    as_float_array,
    check_int,
    check_key,
    check_number,
    message,
    shape_str,
)
from .._core.results import RESULTS, AbstractResult, check_status, from_diffrax
from ._cde import observed_entries
from ._fields import MLPField
from ._ode import check_dt0, check_max_steps, check_path_batch, check_state, check_times
from ._sde import sde_defaults
from ._solution import DESolution, solution


class LatentPosterior(AbstractResult):
    """A solve of the posterior SDE of a `LatentSDE`: the latent path and the path KL
    accumulated along it, with the solver's status.

    **Fields:** `ts` `(T,)` (the save times), `zs` `(T, latent_size)` (the latent path),
    `kl` `(T,)` (∫_{t₀}^{t_i} ½‖u_s‖² ds, the KL of the posterior path law to the prior's
    up to each save time; `kl[-1]` is the ELBO's path term), `status` (a `jaxlab.RESULTS`
    item; `converged` is derived from it), `num_steps`.
    """

    ts: Float[Array, " T"]
    zs: Float[Array, "T latent"]
    kl: Float[Array, " T"]
    status: RESULTS
    num_steps: Int[Array, ""]


class _ContextDrift(eqx.Module):
    # The default posterior drift: an MLP of (t, z, context).
    field: MLPField

    def __call__(self, t, z, context):
        return self.field(t, jnp.concatenate([z, context.astype(z.dtype)]))


class _PositiveDiffusion(eqx.Module):
    # The default diffusion: one small MLP per latent coordinate, g_i = sigmoid(MLP_i(t, z_i)),
    # so the noise is diagonal in the strict sense (g_i depends on z_i only) and g_i > 0.
    fields: MLPField  # vmapped over the latent coordinates

    def __call__(self, t, z):
        return eqx.filter_vmap(lambda f, zi: f(t, zi[None])[0],
                               in_axes=(eqx.if_array(0), 0))(self.fields, z)


class _Field(eqx.Module):
    # (t, z, args) -> field(t, z): a user field as a diffrax vector field.
    field: eqx.Module

    def __call__(self, t, z, args):
        return self.field(t, z)


class _DiagonalNoise(eqx.Module):
    diffusion: eqx.Module

    def __call__(self, t, z, args):
        return lx.DiagonalLinearOperator(self.diffusion(t, z))


class _AugmentedDrift(eqx.Module):
    # State (z, KL so far): the posterior drift and ½‖(f − h)/g‖², with the context of the
    # first observation time after t (args = (observation times, contexts)).
    posterior_drift: eqx.Module
    prior_drift: eqx.Module
    diffusion: eqx.Module
    guard: float = eqx.field(static=True)

    def __call__(self, t, y, args):
        times, context = args
        z = y[:-1]
        index = jnp.minimum(jnp.searchsorted(times, t + self.guard, side="right"),
                            times.shape[0] - 1)
        f = self.posterior_drift(t, z, context[index])
        u = (f - self.prior_drift(t, z)) / self.diffusion(t, z)
        return jnp.concatenate([f, 0.5 * jnp.sum(u**2, keepdims=True)])


class _AugmentedNoise(eqx.Module):
    # diag(g) on z, no noise on the KL channel: shape (latent + 1, latent).
    diffusion: eqx.Module

    def __call__(self, t, y, args):
        g = self.diffusion(t, y[:-1])
        return jnp.concatenate([jnp.diag(g), jnp.zeros((1, g.shape[0]), g.dtype)])


class LatentSDE(eqx.Module):
    """A latent SDE model of time series, trained by maximising the evidence lower bound.

    Generative model (prior): z₀ ~ N(m_p, s_p²), dz = h_θ(t, z)dt + g_θ(t, z)∘dW,
    x_{t_i} ~ N(decoder(z_{t_i}), noise_std²) independently per observed entry.
    Approximate posterior: z₀ ~ N(m_q, s_q²) from the context at t₀, dz = f_φ(t, z, c_t)dt +
    g_θ(t, z)∘dW with the *same* diffusion, where the context c_t is a GRU run backwards over
    the observations (c_t summarises the observations after t). Then (Girsanov)

        ELBO = E_q[Σ_i log p(x_i | z_{t_i})] − KL(q(z₀) ‖ p(z₀)) − E_q ∫ ½‖u_t‖² dt,
        u_t = (f_φ − h_θ)/g_θ,

    and the path KL is accumulated as an extra state channel with zero diffusion, so one SDE
    solve gives the whole bound. The difference of drifts is the same in the Itô and the
    Stratonovich form (the correction ½g∂g cancels), so the KL term holds for both
    interpretations. Missing observations (NaN or `mask=False`) are left out of the likelihood
    and fed to the encoder as zeros with a mask channel.

    g is diagonal (one Brownian motion per latent coordinate) and must stay positive: the
    default is g_i = sigmoid(MLP_i(t, z_i)), one small MLP per coordinate as in torchsde's
    latent-SDE example. Solvers and adjoints as for `NeuralSDE` (default `ReversibleHeun` and
    `RecursiveCheckpointAdjoint`; `Heun` with `BacksolveAdjoint`; `Euler` for Itô).

    **Arguments:** `data_size`, `latent_size`, `context_size` (GRU state), `width`, `depth`
    (of the default MLPs), `noise_std` (observation noise, fixed), `interpretation`, `dt0`
    (fixed step), `max_steps`, `solver`, `adjoint`, `posterior_drift` (a Module
    `(t, z, context) -> (latent_size,)`), `prior_drift` (`(t, z) -> (latent_size,)`),
    `diffusion` (`(t, z) -> (latent_size,)`, positive), `key`.

    **Raises:** `TypeError`/`ValueError` for a non-int or non-positive `data_size`,
    `latent_size`, `context_size` or `max_steps`, a non-positive `noise_std` or `dt0`, an
    unknown `interpretation`, or a solver of the other interpretation.

    **Reference:** Li, Wong, Chen & Duvenaud, *Scalable Gradients for Stochastic Differential
    Equations* (AISTATS 2020); Kidger, *On Neural Differential Equations* (2022), §4.4.
    """

    encoder: eqx.nn.GRUCell
    to_z0: eqx.nn.Linear
    prior_z0_mean: Array
    prior_z0_logstd: Array
    posterior_drift: eqx.Module
    prior_drift: eqx.Module
    diffusion: eqx.Module
    decoder: eqx.nn.Linear
    data_size: int = eqx.field(static=True)
    latent_size: int = eqx.field(static=True)
    context_size: int = eqx.field(static=True)
    noise_std: float = eqx.field(static=True)
    interpretation: str = eqx.field(static=True)
    dt0: float = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    solver: diffrax.AbstractSolver
    adjoint: diffrax.AbstractAdjoint

    def __init__(self, data_size: int, latent_size: int, *, context_size: int = 16,
                 width: int = 32, depth: int = 2, noise_std: float = 0.1,
                 interpretation: str = "stratonovich", dt0: float = 0.05,
                 max_steps: int = 16_384, solver: diffrax.AbstractSolver | None = None,
                 adjoint: diffrax.AbstractAdjoint | None = None,
                 posterior_drift: eqx.Module | None = None,
                 prior_drift: eqx.Module | None = None, diffusion: eqx.Module | None = None,
                 key: PRNGKeyArray):
        for name, value in (("data_size", data_size), ("latent_size", latent_size),
                            ("context_size", context_size)):
            check_int("LatentSDE", name, value, minimum=1)
        noise_std = check_number("LatentSDE", "noise_std", noise_std, minimum=0.0,
                                 open_minimum=True)
        dt0 = check_dt0("LatentSDE", dt0)
        max_steps = check_max_steps("LatentSDE", max_steps)
        self.solver, self.adjoint = sde_defaults("LatentSDE", interpretation, solver, adjoint)
        keys = jax.random.split(check_key("LatentSDE", key), 6)
        self.encoder = eqx.nn.GRUCell(2 * data_size, context_size, key=keys[0])
        self.to_z0 = eqx.nn.Linear(context_size, 2 * latent_size, key=keys[1])
        self.prior_z0_mean = jnp.zeros(latent_size)
        self.prior_z0_logstd = jnp.zeros(latent_size)
        self.posterior_drift = posterior_drift if posterior_drift is not None else \
            _ContextDrift(MLPField(latent_size + context_size, (latent_size,), width=width,
                                   depth=depth, key=keys[2]))
        self.prior_drift = prior_drift if prior_drift is not None else \
            MLPField(latent_size, (latent_size,), width=width, depth=depth, key=keys[3])
        if diffusion is None:
            make = eqx.filter_vmap(lambda k: MLPField(1, (1,), width=width, depth=depth,
                                               final_activation=jax.nn.sigmoid, key=k))
            diffusion = _PositiveDiffusion(make(jax.random.split(keys[4], latent_size)))
        self.diffusion = diffusion
        self.decoder = eqx.nn.Linear(latent_size, data_size, key=keys[5])
        self.data_size, self.latent_size = data_size, latent_size
        self.context_size = context_size
        self.noise_std = float(noise_std)
        self.interpretation = interpretation
        self.dt0 = float(dt0)
        self.max_steps = max_steps

    def _data(self, ts, xs, mask):
        ts = check_times("LatentSDE", ts)
        xs = as_float_array("LatentSDE", "xs", xs)
        if xs.shape != (ts.shape[0], self.data_size):
            raise ValueError(message("LatentSDE", "xs", f"of shape (T, data_size) = "
                                     f"({ts.shape[0]}, {self.data_size})",
                                     f"shape {shape_str(xs)}"))
        return ts.astype(xs.dtype), xs, observed_entries("LatentSDE", xs, mask)

    def encode(self, ts: Real[ArrayLike, " T"], xs: Real[ArrayLike, "T data"], *,
               mask: Bool[ArrayLike, "T data"] | None = None) -> Float[Array, "T context"]:
        """The context c_{t_i} of every observation time: the GRU state after reading the
        observations from the last back to the i-th (missing entries as zero plus a mask
        channel). Shape `(T, context_size)`.

        **Raises:** `ValueError` for a wrongly shaped `ts`, `xs` or `mask`; `TypeError` for
        non-real data.
        """
        _, xs, observed = self._data(ts, xs, mask)
        inputs = jnp.concatenate([jnp.where(observed, xs, 0.0), observed.astype(xs.dtype)], 1)

        def step(h, x):
            h = self.encoder(x, h)
            return h, h

        h0 = jnp.zeros(self.context_size, xs.dtype)
        _, context = jax.lax.scan(step, h0, inputs, reverse=True)
        return context

    def _brownian(self, ts, dtype, key):
        return diffrax.VirtualBrownianTree(
            ts[0], ts[-1], tol=self.dt0 / 2,
            shape=jax.ShapeDtypeStruct((self.latent_size,), dtype), key=key)

    def solve_posterior(self, ts: Real[ArrayLike, " T"], z0: Real[ArrayLike, " latent"],
                        context: Real[ArrayLike, "T context"], *, key: PRNGKeyArray,
                        throw: bool = True) -> LatentPosterior:
        """The posterior SDE from `z0`, with the path KL accumulated along it (an extra state
        channel with zero diffusion). The context at time t is `context[i]` for the first
        observation time t_i > t (the last one after t_{T−1}); observation times within
        1e-3·dt0 of t count as passed, so rounding in t never decides the context.

        **Arguments:** `ts` `(T,)`, `z0` `(latent_size,)`, `context` `(T, context)` (e.g.
        from `encode`), `key` (keyword-only: the Brownian path), `throw` (keyword-only:
        with `True` a failed solve raises at run time with the status's message).

        **Returns:** a `LatentPosterior`: `zs` `(T, latent_size)` and the accumulated
        ∫₀ᵗ ½‖u_s‖² ds as `kl` `(T,)`.

        **Raises:** `ValueError` for a wrongly shaped `ts`, `z0` or `context`; `TypeError`
        for non-real input or a bad `key`.
        """
        ts = check_times("LatentSDE", ts)
        z0 = check_state("LatentSDE", z0, self.latent_size, name="z0")
        context = as_float_array("LatentSDE", "context", context)
        if context.ndim != 2 or context.shape[0] != ts.shape[0]:
            raise ValueError(message("LatentSDE", "context", f"of shape (T, context) with "
                                     f"T = {ts.shape[0]}", f"shape {shape_str(context)}"))
        key = check_key("LatentSDE", key)
        dtype = jnp.result_type(z0, ts, context)
        ts = ts.astype(dtype)
        # The context jumps at the observation times, where the solver also evaluates the
        # drift; the guard makes a knot count as passed whatever the rounding of t there
        # (without it, jit and eager runs took different contexts at a knot: 1% apart).
        guard = 1e-3 * self.dt0

        # The fields are Modules, not closures, so that BacksolveAdjoint sees the parameters.
        terms = diffrax.MultiTerm(
            diffrax.ODETerm(_AugmentedDrift(self.posterior_drift, self.prior_drift,
                                            self.diffusion, guard)),
            diffrax.ControlTerm(_AugmentedNoise(self.diffusion),
                                self._brownian(ts, dtype, key)))
        y0 = jnp.concatenate([z0.astype(dtype), jnp.zeros(1, dtype)])
        sol = diffrax.diffeqsolve(terms, self.solver, ts[0], ts[-1], self.dt0, y0,
                                  args=(ts, context.astype(dtype)),
                                  saveat=diffrax.SaveAt(ts=ts), adjoint=self.adjoint,
                                  max_steps=self.max_steps, throw=False)
        status = from_diffrax(sol.result)
        ys = check_status("LatentSDE.solve_posterior", status, sol.ys, throw)
        return LatentPosterior(ts=sol.ts, zs=ys[:, :-1], kl=ys[:, -1], status=status,
                               num_steps=sol.stats["num_steps"])

    def elbo(self, ts: Real[ArrayLike, " T"], xs: Real[ArrayLike, "T data"], *,
             key: PRNGKeyArray, mask: Bool[ArrayLike, "T data"] | None = None
             ) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
        """A one-sample estimate of the ELBO of one series, and its parts.

        **Arguments:** `ts` `(T,)`, `xs` `(T, data_size)` with NaN for missing entries,
        `key` (`k0, kb = jax.random.split(key)`: `k0` draws z₀, `kb` the Brownian path),
        `mask` (optional, `False` = missing).

        **Returns:** `(elbo, {"log_likelihood", "kl_z0", "kl_path"})`, all scalars.

        **Raises:** `ValueError` for wrongly shaped `ts`, `xs` or `mask`; `TypeError` for
        non-real data or a bad `key`.
        """
        ts, xs, observed = self._data(ts, xs, mask)
        key = check_key("LatentSDE", key)
        context = self.encode(ts, xs, mask=observed)
        mean, logstd = jnp.split(self.to_z0(context[0]), 2)
        k0, kb = jax.random.split(key)
        z0 = mean + jnp.exp(logstd) * jax.random.normal(k0, mean.shape, mean.dtype)
        posterior = self.solve_posterior(ts, z0, context, key=kb)
        predicted = jax.vmap(self.decoder)(posterior.zs)
        log_p = dist.Normal(predicted, self.noise_std).log_prob(jnp.where(observed, xs, 0.0))
        log_likelihood = jnp.sum(jnp.where(observed, log_p, 0.0))
        kl_z0 = jnp.sum(dist.kl_divergence(
            dist.Normal(mean, jnp.exp(logstd)),
            dist.Normal(self.prior_z0_mean.astype(mean.dtype),
                        jnp.exp(self.prior_z0_logstd).astype(mean.dtype))))
        kl_path = posterior.kl[-1]
        parts = {"log_likelihood": log_likelihood, "kl_z0": kl_z0, "kl_path": kl_path}
        return log_likelihood - kl_z0 - kl_path, parts

    def sample(self, ts: Real[ArrayLike, " T"], *, key: PRNGKeyArray,
               throw: bool = True) -> DESolution:
        """A series from the prior: z₀ ~ p(z₀), the prior SDE, decoded means at `ts`
        (without the observation noise).

        **Arguments:** `ts` `(T,)`, `key` (keyword-only: `k0, kb = jax.random.split(key)`,
        `k0` draws z₀, `kb` the Brownian path), `throw` (keyword-only: with `True` a failed
        solve raises at run time with the status's message).

        **Returns:** a `DESolution` whose `ys` are the decoded means, shape
        `(T, data_size)`.

        **Raises:** `ValueError` for a wrongly shaped `ts`; `TypeError` for a bad `key`.
        """
        ts = check_times("LatentSDE", ts)
        key = check_key("LatentSDE", key)
        dtype = jnp.result_type(ts, self.prior_z0_mean)
        ts = ts.astype(dtype)
        k0, kb = jax.random.split(key)
        z0 = self.prior_z0_mean + jnp.exp(self.prior_z0_logstd) * jax.random.normal(
            k0, (self.latent_size,), dtype)

        terms = diffrax.MultiTerm(diffrax.ODETerm(_Field(self.prior_drift)),
                                  diffrax.ControlTerm(_DiagonalNoise(self.diffusion),
                                                      self._brownian(ts, dtype, kb)))
        sol = diffrax.diffeqsolve(terms, self.solver, ts[0], ts[-1], self.dt0,
                                  z0.astype(dtype), saveat=diffrax.SaveAt(ts=ts),
                                  adjoint=self.adjoint, max_steps=self.max_steps, throw=False)
        return solution("LatentSDE.sample", eqx.tree_at(
            lambda s: s.ys, sol, jax.vmap(self.decoder)(sol.ys)), throw)


def latent_sde_loss(model: LatentSDE, batch, *, key: PRNGKeyArray
                    ) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
    """The negative ELBO per observed entry, averaged over a batch: a `loss_fn` for
    `jaxlab.train.fit(..., has_aux=True)`.

    **Arguments:** `model`; `batch = (ts, xs)` with `ts: (B, T)` and `xs: (B, T, data_size)`
    (NaN = missing); `key` (keyword-only, as `jaxlab.train.fit` passes it).

    **Returns:** `(loss, {"log_likelihood", "kl_z0", "kl_path"})`, the parts averaged over
    the batch (per series, not per entry).

    **Raises:** `ValueError` for a batch that is not `(B, T)` times with `(B, T, data_size)`
    values; `TypeError` for a bad `key`.

    **Reference:** Li, Wong, Chen & Duvenaud, *Scalable Gradients for Stochastic Differential
    Equations* (AISTATS 2020).
    """
    key = check_key("latent_sde_loss", key)
    ts, xs = check_path_batch("latent_sde_loss", batch, "data_size")
    keys = jax.random.split(key, xs.shape[0])
    elbo, parts = jax.vmap(lambda t, x, k: model.elbo(t, x, key=k))(ts, xs, keys)
    entries = jnp.maximum(jnp.sum(jnp.isfinite(xs)), 1)
    return -jnp.sum(elbo) / entries, jax.tree.map(jnp.mean, parts)
