"""Latent SDEs: a posterior SDE fitted to observed series by the ELBO, with the KL divergence to
a prior SDE accumulated along the path (Girsanov)."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpyro.distributions as dist
from jaxtyping import Array, ArrayLike, Bool, Float, PRNGKeyArray

from .._core.checks import check_real_floating, shape_str
from ._cde import observed_entries
from ._fields import MLPField
from ._ode import check_times
from ._sde import sde_defaults


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


def _check_positive_int(owner, **values):
    for name, value in values.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")


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
        _check_positive_int("LatentSDE", data_size=data_size, latent_size=latent_size,
                            context_size=context_size)
        if not noise_std > 0:
            raise ValueError(f"LatentSDE: noise_std must be positive, got {noise_std!r}")
        if not dt0 > 0:
            raise ValueError(f"LatentSDE: dt0 must be positive, got {dt0!r}")
        self.solver, self.adjoint = sde_defaults("LatentSDE", interpretation, solver, adjoint)
        keys = jax.random.split(key, 6)
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
        xs = jnp.asarray(xs)
        if xs.shape != (ts.shape[0], self.data_size):
            raise ValueError(f"LatentSDE: xs must have shape (T, data_size) = ({ts.shape[0]}, "
                             f"{self.data_size}), got shape {shape_str(xs)}")
        check_real_floating("LatentSDE", xs=xs)
        return ts.astype(xs.dtype), xs, observed_entries("LatentSDE", xs, mask)

    def encode(self, ts: Float[ArrayLike, " T"], xs: Float[ArrayLike, "T data"], *,
               mask: Bool[ArrayLike, "T data"] | None = None) -> Float[Array, "T context"]:
        """The context c_{t_i} of every observation time: the GRU state after reading the
        observations from the last back to the i-th (missing entries as zero plus a mask
        channel). Shape `(T, context_size)`."""
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

    def solve_posterior(self, ts: Float[ArrayLike, " T"], z0: Float[ArrayLike, " latent"],
                        context: Float[ArrayLike, "T context"], *, key: PRNGKeyArray,
                        throw: bool = True) -> diffrax.Solution:
        """The posterior SDE from `z0` with the path KL as a last state channel: `ys` has
        shape `(T, latent_size + 1)`, `ys[:, :-1]` the latent path at `ts` and `ys[:, -1]`
        the accumulated ∫₀ᵗ ½‖u_s‖² ds. The context at time t is `context[i]` for the first
        observation time t_i > t (the last one after t_{T−1}); observation times within
        1e-3·dt0 of t count as passed, so rounding in t never decides the context."""
        ts = check_times("LatentSDE", ts)
        z0 = jnp.asarray(z0)
        context = jnp.asarray(context)
        if z0.shape != (self.latent_size,):
            raise ValueError(f"LatentSDE: z0 must have shape ({self.latent_size},), got shape "
                             f"{shape_str(z0)}")
        if context.ndim != 2 or context.shape[0] != ts.shape[0]:
            raise ValueError(f"LatentSDE: context must have shape (T, context) with T = "
                             f"{ts.shape[0]}, got shape {shape_str(context)}")
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
        return diffrax.diffeqsolve(terms, self.solver, ts[0], ts[-1], self.dt0, y0,
                                   args=(ts, context.astype(dtype)),
                                   saveat=diffrax.SaveAt(ts=ts), adjoint=self.adjoint,
                                   max_steps=self.max_steps, throw=throw)

    def elbo(self, ts: Float[ArrayLike, " T"], xs: Float[ArrayLike, "T data"], *,
             key: PRNGKeyArray, mask: Bool[ArrayLike, "T data"] | None = None
             ) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
        """A one-sample estimate of the ELBO of one series, and its parts.

        **Arguments:** `ts` `(T,)`, `xs` `(T, data_size)` with NaN for missing entries,
        `key` (`k0, kb = jax.random.split(key)`: `k0` draws z₀, `kb` the Brownian path),
        `mask` (optional, `False` = missing).

        **Returns:** `(elbo, {"log_likelihood", "kl_z0", "kl_path"})`, all scalars.

        **Raises:** `ValueError` for wrongly shaped `ts`, `xs` or `mask`.
        """
        ts, xs, observed = self._data(ts, xs, mask)
        context = self.encode(ts, xs, mask=observed)
        mean, logstd = jnp.split(self.to_z0(context[0]), 2)
        k0, kb = jax.random.split(key)
        z0 = mean + jnp.exp(logstd) * jax.random.normal(k0, mean.shape, mean.dtype)
        ys = self.solve_posterior(ts, z0, context, key=kb).ys
        predicted = jax.vmap(self.decoder)(ys[:, :-1])
        log_p = dist.Normal(predicted, self.noise_std).log_prob(jnp.where(observed, xs, 0.0))
        log_likelihood = jnp.sum(jnp.where(observed, log_p, 0.0))
        kl_z0 = jnp.sum(dist.kl_divergence(
            dist.Normal(mean, jnp.exp(logstd)),
            dist.Normal(self.prior_z0_mean.astype(mean.dtype),
                        jnp.exp(self.prior_z0_logstd).astype(mean.dtype))))
        kl_path = ys[-1, -1]
        parts = {"log_likelihood": log_likelihood, "kl_z0": kl_z0, "kl_path": kl_path}
        return log_likelihood - kl_z0 - kl_path, parts

    def sample(self, ts: Float[ArrayLike, " T"], *, key: PRNGKeyArray,
               throw: bool = True) -> Float[Array, "T data"]:
        """A series from the prior: z₀ ~ p(z₀), the prior SDE, decoded means at `ts`
        (without the observation noise). Shape `(T, data_size)`."""
        ts = check_times("LatentSDE", ts)
        dtype = jnp.result_type(ts, self.prior_z0_mean)
        ts = ts.astype(dtype)
        k0, kb = jax.random.split(key)
        z0 = self.prior_z0_mean + jnp.exp(self.prior_z0_logstd) * jax.random.normal(
            k0, (self.latent_size,), dtype)

        terms = diffrax.MultiTerm(diffrax.ODETerm(_Field(self.prior_drift)),
                                  diffrax.ControlTerm(_DiagonalNoise(self.diffusion),
                                                      self._brownian(ts, dtype, kb)))
        zs = diffrax.diffeqsolve(terms, self.solver, ts[0], ts[-1], self.dt0, z0.astype(dtype),
                                 saveat=diffrax.SaveAt(ts=ts), adjoint=self.adjoint,
                                 max_steps=self.max_steps, throw=throw).ys
        return jax.vmap(self.decoder)(zs)


def latent_sde_loss(model: LatentSDE, batch, key: PRNGKeyArray):
    """The negative ELBO per observed entry, averaged over a batch: a `loss_fn` for
    `jaxlab.train.fit(..., has_aux=True)`.

    **Arguments:** `model`; `batch = (ts, xs)` with `ts: (B, T)` and `xs: (B, T, data_size)`
    (NaN = missing); `key`.

    **Returns:** `(loss, {"log_likelihood", "kl_z0", "kl_path"})`, the parts averaged over
    the batch (per series, not per entry).
    """
    ts, xs = batch
    keys = jax.random.split(key, xs.shape[0])
    elbo, parts = jax.vmap(lambda t, x, k: model.elbo(t, x, key=k))(ts, xs, keys)
    entries = jnp.maximum(jnp.sum(jnp.isfinite(xs)), 1)
    return -jnp.sum(elbo) / entries, jax.tree.map(jnp.mean, parts)
