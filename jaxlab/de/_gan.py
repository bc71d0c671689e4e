"""SDE-GANs: a neural SDE generator against a neural CDE critic, Wasserstein objective with
Lipschitz control by weight clipping (Kidger et al. 2021; Kidger 2022, §6)."""

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, Real

from .._core.checks import check_callable, check_int, check_key, message
from ._cde import NeuralCDE, control_path
from ._fields import lipswish
from ._ode import check_path_batch, check_times
from ._sde import NeuralSDE


class SDEGenerator(eqx.Module):
    """The SDE-GAN generator: Y₀ = ζ_θ(V), V ~ N(0, I); dY = μ_θ(t, Y)dt + σ_θ(t, Y)∘dW
    (a `NeuralSDE` with general noise); sample X_t = ℓ_θ(Y_t), a linear readout.

    **Arguments:** `data_size`, `hidden_size` (of Y), `initial_noise_size` (of V),
    `noise_size` (Brownian dimension), `width`, `depth`, `dt0`, `grid_steps` (see
    `NeuralSDE`), `solver` (default
    `ReversibleHeun`), `adjoint` (default `RecursiveCheckpointAdjoint`), `key`.

    **Raises:** `TypeError`/`ValueError` for a non-int or non-positive size, and as
    `NeuralSDE` for its arguments.

    **Reference:** Kidger, Foster, Li, Oberhauser & Lyons, *Neural SDEs as
    Infinite-Dimensional GANs* (ICML 2021).
    """

    initial: eqx.nn.MLP
    sde: NeuralSDE
    readout: eqx.nn.Linear
    initial_noise_size: int = eqx.field(static=True)

    def __init__(self, data_size: int, hidden_size: int = 16, *, initial_noise_size: int = 5,
                 noise_size: int = 3, width: int = 16, depth: int = 1, dt0: float = 1.0,
                 grid_steps: int | None = None, solver: diffrax.AbstractSolver | None = None,
                 adjoint: diffrax.AbstractAdjoint | None = None, key: PRNGKeyArray):
        for name, value in (("data_size", data_size), ("hidden_size", hidden_size),
                            ("initial_noise_size", initial_noise_size)):
            check_int("SDEGenerator", name, value, minimum=1)
        k1, k2, k3 = jax.random.split(check_key("SDEGenerator", key), 3)
        self.initial = eqx.nn.MLP(initial_noise_size, hidden_size, width, depth,
                                  activation=lipswish, key=k1)
        self.sde = NeuralSDE(hidden_size, noise="general", noise_size=noise_size, width=width,
                             depth=depth, dt0=dt0, grid_steps=grid_steps, solver=solver,
                             adjoint=adjoint, key=k2)
        self.readout = eqx.nn.Linear(hidden_size, data_size, key=k3)
        self.initial_noise_size = initial_noise_size

    def __call__(self, ts: Real[ArrayLike, " T"], *, key: PRNGKeyArray
                 ) -> Float[Array, "T data"]:
        """One sample path at `ts`, shape `(T, data_size)`; raises if the solver fails."""
        ts = check_times("SDEGenerator", ts)
        key = check_key("SDEGenerator", key)
        kv, kw = jax.random.split(key)
        v = jax.random.normal(kv, (self.initial_noise_size,), ts.dtype)
        ys = self.sde(ts, self.initial(v), key=kw)
        return jax.vmap(self.readout)(ys)


class SDEGAN(eqx.Module):
    """A generator and its critic, trained together by `sde_gan_losses` (one model for
    `jaxlab.train.fit`). The default critic is a `NeuralCDE` with LipSwish hidden
    activations, reading the path (time, values) linearly interpolated, on the fixed step
    `dt0` with `ReversibleHeun`.

    **Arguments:** `data_size` (channels of the paths), `hidden_size` (generator SDE state),
    `critic_hidden_size`, `width`, `depth` (of every MLP), `initial_noise_size`,
    `noise_size` (Brownian dimension), `dt0` (fixed step of both), `generator`, `critic`
    (replace the defaults; the critic must read a `control_path` of `1 + data_size`
    channels), `key`.

    **Raises:** `TypeError`/`ValueError` as `SDEGenerator` and `NeuralCDE` for their
    arguments; `TypeError` for a bad `key`.

    **Reference:** Kidger, Foster, Li, Oberhauser & Lyons, *Neural SDEs as
    Infinite-Dimensional GANs* (ICML 2021).
    """

    generator: SDEGenerator
    critic: NeuralCDE

    def __init__(self, data_size: int, *, hidden_size: int = 16, critic_hidden_size: int = 16,
                 width: int = 16, depth: int = 1, initial_noise_size: int = 5,
                 noise_size: int = 3, dt0: float = 1.0, generator: SDEGenerator | None = None,
                 critic: NeuralCDE | None = None, key: PRNGKeyArray):
        kg, kc = jax.random.split(check_key("SDEGAN", key))
        self.generator = generator if generator is not None else SDEGenerator(
            data_size, hidden_size, initial_noise_size=initial_noise_size,
            noise_size=noise_size, width=width, depth=depth, dt0=dt0, key=kg)
        self.critic = critic if critic is not None else NeuralCDE(
            1 + data_size, critic_hidden_size, 1, width=width, depth=depth,
            activation=lipswish, solver=diffrax.ReversibleHeun(),
            stepsize_controller=diffrax.ConstantStepSize(), dt0=dt0, key=kc)


@jax.custom_vjp
def _flip_gradient(x):
    return x


def _flip_fwd(x):
    return x, None


def _flip_bwd(_, g):
    return (jax.tree.map(jnp.negative, g),)


_flip_gradient.defvjp(_flip_fwd, _flip_bwd)


def _score(critic, ts, xs):
    return critic(control_path(ts, xs, interpolation="linear", observation_counts=False))[0]


def sde_gan_losses(model: SDEGAN, batch, *, key: PRNGKeyArray
                   ) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
    """The Wasserstein SDE-GAN objective as one loss for `jaxlab.train.fit`.

    loss = E D(fake) − E D(real). The critic descends it (it learns to score real paths high
    and generated ones low); the generated paths pass through a gradient-reversing identity,
    so one gradient step also moves the generator *up* E D(fake) — the simultaneous
    gradient descent–ascent of Kidger et al. (2021). Each generated path is given the
    missing-value pattern (NaN entries) of the real path it is paired with, so that the
    critic sees real and generated paths through the same forward fill and cannot tell them
    apart by missingness. Use with an optimiser chained with `clip_lipschitz` (weights of
    the critic's linear layers to ±1/out_features after every step).

    **Arguments:** `model` (`SDEGAN`); `batch = (ts, xs)`, `ts: (B, T)`, `xs: (B, T, c)`
    real paths (NaN = missing); `key` (keyword-only, as `jaxlab.train.fit` passes it).

    **Returns:** `(loss, {"real_score", "fake_score"})`: −loss estimates the Wasserstein-1
    distance (up to the critic's Lipschitz constant) between the data and the generator.

    **Raises:** `ValueError` for a batch that is not `(B, T)` times with `(B, T, c)` values;
    `TypeError` for a bad `key`.

    **Reference:** Kidger, Foster, Li, Oberhauser & Lyons, *Neural SDEs as
    Infinite-Dimensional GANs* (ICML 2021), §4.
    """
    key = check_key("sde_gan_losses", key)
    ts, xs = check_path_batch("sde_gan_losses", batch)
    keys = jax.random.split(key, xs.shape[0])
    fake = jax.vmap(lambda t, k: model.generator(t, key=k))(ts, keys)
    fake = jnp.where(jnp.isnan(xs), jnp.nan, _flip_gradient(fake))
    real_score = jnp.mean(jax.vmap(lambda t, x: _score(model.critic, t, x))(ts, xs))
    fake_score = jnp.mean(jax.vmap(lambda t, x: _score(model.critic, t, x))(ts, fake))
    return fake_score - real_score, {"real_score": real_score, "fake_score": fake_score}


def clip_lipschitz(select: Callable = lambda params: params.critic
                   ) -> optax.GradientTransformationExtraArgs:
    """An optax transformation, chained last, that clips the weights of every
    `eqx.nn.Linear` in `select(params)` to ±1/out_features after the update (params + update
    is clipped; other parameters pass unchanged). With 1-Lipschitz activations (LipSwish,
    tanh) this bounds the critic's Lipschitz constant, as a cheap alternative to a gradient
    penalty (Kidger et al. 2021, §4; clip after every optimiser step, not in the forward
    pass).

    **Arguments:** `select`: picks the subtree to clip from the parameters (default: the
    `critic` of an `SDEGAN`).

    **Returns:** an optax transformation whose `update(updates, state, params)` needs
    `params` (a `TypeError` without them).

    **Raises:** `TypeError` if `select` is not callable.

    **Reference:** Kidger, Foster, Li, Oberhauser & Lyons, *Neural SDEs as
    Infinite-Dimensional GANs* (ICML 2021), §4.
    """
    check_callable("clip_lipschitz", "select", select)

    def linears(tree):
        return [x for x in jax.tree.leaves(select(tree),
                                           is_leaf=lambda x: isinstance(x, eqx.nn.Linear))
                if isinstance(x, eqx.nn.Linear)]

    def update(updates, state, params=None, **extra):
        if params is None:
            raise TypeError(message("clip_lipschitz", "params", "the parameters, passed to the "
                                    "optimiser's update(updates, state, params)", "None"))
        new = eqx.apply_updates(params, updates)
        layers = linears(new)
        clipped = [jnp.clip(layer.weight, -1 / layer.out_features, 1 / layer.out_features)
                   for layer in layers]
        new = eqx.tree_at(lambda p: [layer.weight for layer in linears(p)], new, clipped)
        return jax.tree.map(lambda a, b: a - b, new, params), state

    return optax.GradientTransformationExtraArgs(lambda params: optax.EmptyState(), update)
