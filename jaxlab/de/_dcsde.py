"""Directed-chain SDEs (DC-GAN generators): dX = b(t, X, X̃)dt + σ(t, X, X̃)dW with the
neighbour path X̃ drawn from the data, trained by signature MMD."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, Real

from .._core.checks import (
    as_float_array,
    check_bool,
    check_callable,
    check_int,
    check_key,
    check_number,
    message,
    shape_str,
)
from ._brownian import brownian_driver, check_grid_steps
from ._fields import MLPField, NeighbourField
from ._ode import (
    check_dt0,
    check_key_for_fields,
    check_max_steps,
    check_path_batch,
    check_state,
    check_times,
)
from ._signature import signature_mmd


class _Drift(eqx.Module):
    drift: eqx.Module

    def __call__(self, t, x, neighbour_path):
        return self.drift(t, x, neighbour_path.evaluate(t))


class _Diffusion(eqx.Module):
    diffusion: eqx.Module

    def __call__(self, t, x, neighbour_path):
        return self.diffusion(t, x, neighbour_path.evaluate(t))


class DirectedChainSDE(eqx.Module):
    """A directed-chain SDE dX_t = b_θ(t, X_t, X̃_t)dt + σ_θ(t, X_t, X̃_t)dW_t (Itô), where the
    neighbour X̃ is another path with the law of X, independent of W.

    Training feeds real paths as neighbours (and, for the initial value, the start of a
    different real path); generation feeds real or previously generated paths
    (`propagate`). b and σ are MLPs of (t, [x, x̃]) by default, σ matrix-valued
    `(size, noise_size)`; the SDE is solved by Euler–Maruyama (`diffrax.Euler`) on the fixed
    step `dt0`, with the neighbour linearly interpolated between its observation times.

    A distribution-matching loss alone is minimised by copying the neighbour (X ≈ X̃);
    monitor `neighbour_correlation` at every time.

    **Arguments:** `size` (channels of X), `noise_size`, `width`, `depth`, `dt0`,
    `max_steps`, `grid_steps` (Brownian increments drawn up front on that many equal steps,
    as for `NeuralSDE`), `drift` (a Module `(t, x, x̃) -> (size,)`), `diffusion` (`(t, x, x̃) ->
    (size, noise_size)`; e.g. `NeighbourField(MLPField(2 * size, (size, noise_size),
    final_activation=jnp.tanh, scale=bound))` for a diffusion bounded by `bound`), `key`
    (needed for the default fields).

    **Raises:** `TypeError`/`ValueError` for a non-int or non-positive `size`, `noise_size`,
    `max_steps` or `grid_steps`, or a non-positive `dt0`; `TypeError` without `key` when a
    default field is needed.

    **Reference:** Min, Hu & Ichiba, *Directed Chain Generative Adversarial Networks*
    (ICML 2023).
    """

    drift: eqx.Module
    diffusion: eqx.Module
    size: int = eqx.field(static=True)
    noise_size: int = eqx.field(static=True)
    dt0: float = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    grid_steps: int | None = eqx.field(static=True)

    def __init__(self, size: int, *, noise_size: int = 3, width: int = 32, depth: int = 2,
                 dt0: float = 0.01, max_steps: int = 16_384, grid_steps: int | None = None,
                 drift: eqx.Module | None = None,
                 diffusion: eqx.Module | None = None, key: PRNGKeyArray | None = None):
        for name, value in (("size", size), ("noise_size", noise_size)):
            check_int("DirectedChainSDE", name, value, minimum=1)
        dt0 = check_dt0("DirectedChainSDE", dt0)
        check_grid_steps("DirectedChainSDE", grid_steps)
        if drift is None or diffusion is None:
            key = check_key_for_fields("DirectedChainSDE", key, "drift= and diffusion=")
        k1, k2 = jax.random.split(key) if key is not None else (None, None)
        self.drift = drift if drift is not None else NeighbourField(
            MLPField(2 * size, (size,), width=width, depth=depth, key=k1))
        self.diffusion = diffusion if diffusion is not None else NeighbourField(
            MLPField(2 * size, (size, noise_size), width=width, depth=depth,
                     final_activation=jnp.tanh, key=k2))
        self.size, self.noise_size = size, noise_size
        self.dt0 = dt0
        self.max_steps = check_max_steps("DirectedChainSDE", max_steps)
        self.grid_steps = grid_steps

    def __call__(self, ts: Real[ArrayLike, " T"], y0: Real[ArrayLike, " size"],
                 neighbour: Real[ArrayLike, "T size"], *, key: PRNGKeyArray
                 ) -> Float[Array, "T size"]:
        """A path at `ts` from `y0`, driven by the neighbour path observed at `ts` (shape
        `(T, size)`) and the Brownian motion of `key`. Returns shape `(T, size)`.

        **Raises:** `ValueError` for a wrongly shaped `ts`, `y0` or `neighbour`; `TypeError`
        for a non-real one or a bad `key`.
        """
        ts = check_times("DirectedChainSDE", ts)
        y0 = check_state("DirectedChainSDE", y0, self.size)
        neighbour = as_float_array("DirectedChainSDE", "neighbour", neighbour)
        if neighbour.shape != (ts.shape[0], self.size):
            raise ValueError(message("DirectedChainSDE", "neighbour", f"of shape (T, size) = "
                                     f"({ts.shape[0]}, {self.size})",
                                     f"shape {shape_str(neighbour)}"))
        key = check_key("DirectedChainSDE", key)
        dtype = jnp.result_type(y0, ts, neighbour)
        ts = ts.astype(dtype)
        path = diffrax.LinearInterpolation(ts, neighbour.astype(dtype))
        bm, dt0, controller = brownian_driver(ts, self.noise_size, dtype, key, self.dt0,
                                              self.grid_steps)
        terms = diffrax.MultiTerm(diffrax.ODETerm(_Drift(self.drift)),
                                  diffrax.ControlTerm(_Diffusion(self.diffusion), bm))
        return diffrax.diffeqsolve(terms, diffrax.Euler(), ts[0], ts[-1], dt0,
                                   y0.astype(dtype), args=path, saveat=diffrax.SaveAt(ts=ts),
                                   stepsize_controller=controller,
                                   max_steps=self.max_steps).ys

    def propagate(self, ts: Real[ArrayLike, " T"], y0s: Real[ArrayLike, "n size"],
                  neighbours: Real[ArrayLike, "n T size"], *, key: PRNGKeyArray,
                  times: int = 1, history: bool = False
                  ) -> Float[Array, "n T size"] | Float[Array, "times n T size"]:
        """Generate `n` paths from the neighbours given, then `times − 1` more rounds each
        using the previous round's output as neighbours (the chain's next links). Round r
        (from 0) starts path i at `y0s[(i + r) % n]`, so that no path starts where its
        neighbour did (reusing the same initial values every round would make output and
        neighbour equal at t = 0). Round r draws its Brownian paths from
        `jax.random.split(jax.random.split(key, times)[r], n)`.

        **Returns:** the last round, shape `(n, T, size)`; with `history`, every round,
        shape `(times, n, T, size)` (round r's neighbours are round r − 1, and `neighbours`
        for round 0).

        **Raises:** `TypeError`/`ValueError` for a non-int or non-positive `times`;
        `ValueError` for `neighbours` not `(n, T, size)` or `y0s` not `(n, size)`;
        `TypeError` for a non-bool `history` or a bad `key`.
        """
        fn = "DirectedChainSDE.propagate"
        times = check_int(fn, "times", times, minimum=1)
        history = check_bool(fn, "history", history)
        paths = as_float_array(fn, "neighbours", neighbours)
        if paths.ndim != 3 or paths.shape[2] != self.size:
            raise ValueError(message(fn, "neighbours", f"of shape (n, T, size) with size = "
                                     f"{self.size}", f"shape {shape_str(paths)}"))
        y0s = as_float_array(fn, "y0s", y0s, shape=(paths.shape[0], self.size))
        key = check_key(fn, key)
        run = jax.vmap(lambda y0, nb, k: self(ts, y0, nb, key=k))
        rounds = []
        for r, k in enumerate(jax.random.split(key, times)):
            paths = run(jnp.roll(y0s, -r, axis=0), paths, jax.random.split(k, y0s.shape[0]))
            rounds.append(paths)
        return jnp.stack(rounds) if history else paths


def neighbour_correlation(outputs: Real[ArrayLike, "n T c"],
                          neighbours: Real[ArrayLike, "n T c"]) -> Float[Array, "T c"]:
    """|corr(X̂_t, X̃_t)| across the sample, at every time and channel, shape `(T, c)`: the
    independence check of a directed chain (the reference code's check only looked at t = 0,
    through `int(loc) * length`).

    Pairs where either sample has zero variance get 0.

    **Raises:** `ValueError` unless both are `(n, T, c)` of the same shape with n ≥ 2;
    `TypeError` for non-real input.
    """
    fn = "neighbour_correlation"
    outputs = as_float_array(fn, "outputs", outputs)
    neighbours = as_float_array(fn, "neighbours", neighbours)
    if outputs.ndim != 3 or outputs.shape != neighbours.shape or outputs.shape[0] < 2:
        raise ValueError(message(fn, "outputs and neighbours", "of the same shape (n, T, c) "
                                 "with n >= 2",
                                 f"{shape_str(outputs)} and {shape_str(neighbours)}"))
    a = outputs - outputs.mean(0)
    b = neighbours - neighbours.mean(0)
    denominator = jnp.sqrt(jnp.sum(a**2, 0) * jnp.sum(b**2, 0))
    return jnp.abs(jnp.sum(a * b, 0)) / jnp.where(denominator > 0, denominator, jnp.inf)


def with_time(ts: Real[ArrayLike, "n T"], xs: Real[ArrayLike, "n T c"]
              ) -> Float[Array, "n T c+1"]:
    """Paths with time prepended as channel 0 (what the signature critic reads).

    **Arguments:** `ts` `(n, T)` (or any leading shape matching `xs`'s), `xs` `(n, T, c)`.

    **Returns:** `(n, T, c + 1)` in the floating dtype of `xs`.

    **Raises:** `ValueError` unless `ts` has the shape of `xs` without its last axis;
    `TypeError` for non-real input.
    """
    ts = as_float_array("with_time", "ts", ts)
    xs = as_float_array("with_time", "xs", xs)
    if xs.ndim < 1 or ts.shape != xs.shape[:-1]:
        raise ValueError(message("with_time", "ts", f"of shape {xs.shape[:-1]} (the shape of "
                                 "xs without its channels)", f"shape {shape_str(ts)}"))
    return jnp.concatenate([ts[..., None].astype(xs.dtype), xs], -1)


def with_basepoint(paths: Real[ArrayLike, "n T c"]) -> Float[Array, "n T+1 c"]:
    """Paths with a basepoint prepended: channel 0 (time, see `with_time`) keeps its first
    value, the other channels start from 0. A signature is blind to translations; the jump
    from the basepoint to the first point makes it see where a path starts.

    **Raises:** `ValueError` unless `paths` is `(n, T, c)` with c ≥ 2; `TypeError` for
    non-real input.
    """
    paths = as_float_array("with_basepoint", "paths", paths)
    if paths.ndim != 3 or paths.shape[-1] < 2:
        raise ValueError(message("with_basepoint", "paths", "of shape (n, T, c) with c >= 2 "
                                 "(time first)", f"shape {shape_str(paths)}"))
    start = jnp.zeros_like(paths[:, :1]).at[..., 0].set(paths[:, :1, 0])
    return jnp.concatenate([start, paths], axis=1)


def _path_mmd(ts, fake, real, depth, basepoint):
    # the squared signature MMD of (time, value) paths, with a basepoint when asked
    augment = with_basepoint if basepoint else (lambda paths: paths)
    return signature_mmd(augment(with_time(ts, fake)), augment(with_time(ts, real)), depth)


def signature_mmd_loss(generator, batch, *, key: PRNGKeyArray, depth: int = 4,
                       basepoint: bool = True) -> Float[Array, ""]:
    """The signature-MMD training loss of a path generator, for `jaxlab.train.fit`: the
    squared signature MMD (depth `depth`, time as a channel, with a basepoint by default, as
    in `dc_gan_loss`) between the real batch and one generated path per real path, each at
    that path's times — the loss of the neural SDE baseline of the DC-GAN paper.

    **Arguments:** `generator` (a callable `generator(ts, key=k) -> (T, c)` paths, e.g.
    `SDEGenerator`); `batch = (ts, xs)`, `ts: (B, T)`, `xs: (B, T, c)`; `key` (keyword-only;
    split into one key per path); `depth`; `basepoint`.

    **Returns:** the loss, a scalar.

    **Raises:** `ValueError` for a batch that is not `(B, T)` times with `(B, T, c)` values;
    `TypeError` for a non-callable generator, a non-bool `basepoint` or a bad `key`; as
    `signature_mmd` for `depth`.

    **Reference:** Min, Hu & Ichiba, *Directed Chain Generative Adversarial Networks*
    (ICML 2023) (the neural SDE baseline).
    """
    fn = "signature_mmd_loss"
    check_callable(fn, "generator", generator)
    basepoint = check_bool(fn, "basepoint", basepoint)
    key = check_key(fn, key)
    ts, xs = check_path_batch(fn, batch)
    keys = jax.random.split(key, xs.shape[0])
    fake = jax.vmap(lambda t, k: generator(t, key=k))(ts, keys)
    return _path_mmd(ts, fake, xs, depth, basepoint)


def dc_gan_loss(model: DirectedChainSDE, batch, *, key: PRNGKeyArray, depth: int = 4,
                basepoint: bool = True, decorrelation: float = 0.0
                ) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
    """The DC-GAN training loss for `jaxlab.train.fit(..., has_aux=True)`: the squared
    signature MMD (depth `depth`, time as a channel) between the real batch and paths
    generated with the batch's paths as neighbours — path i gets neighbour i + 1 and the
    initial value of path i + 2 (cyclically), so neither is its own.

    With `basepoint` (the default) the paths get a basepoint (`with_basepoint`) before the
    signature: without it the loss sees only increments, and a generator that ignores where
    a path starts (e.g. one that forgets that opinions far from the centre move inwards)
    matches them as well as the data do.

    With `decorrelation` = λ > 0 the loss adds λ × the mean over times and channels of the
    squared sample correlation corr(X̂_t, X̃_t)² across the batch: a generator that pulls its
    output towards its neighbour matches the marginals but not the independence of the
    chain's links; the penalty steers it to the solutions that do not.

    **Arguments:** `model`; `batch = (ts, xs)`, `ts: (B, T)`, `xs: (B, T, size)`, B ≥ 3;
    `key` (keyword-only, as `jaxlab.train.fit` passes it); `depth`; `basepoint`;
    `decorrelation` (λ ≥ 0).

    **Returns:** `(loss, {"neighbour_corr", "mmd"})`: the largest |corr(X̂_t, X̃_t)| over
    times and channels (rising towards 1 means the generator copies its neighbour) and the
    signature MMD alone.

    **Raises:** `ValueError` for a batch of fewer than 3 paths or a negative
    `decorrelation`; `TypeError` for a non-bool `basepoint` or a bad `key`.

    **Reference:** Min, Hu & Ichiba, *Directed Chain Generative Adversarial Networks*
    (ICML 2023).
    """
    fn = "dc_gan_loss"
    decorrelation = check_number(fn, "decorrelation", decorrelation, minimum=0.0)
    basepoint = check_bool(fn, "basepoint", basepoint)
    key = check_key(fn, key)
    ts, xs = check_path_batch(fn, batch, "size")
    if xs.shape[0] < 3:
        raise ValueError(message(fn, "xs", "a batch of shape (B, T, size) with B >= 3 paths "
                                 "(neighbour and initial value from other paths)",
                                 f"shape {shape_str(xs)}"))
    neighbours = jnp.roll(xs, -1, axis=0)
    y0s = jnp.roll(xs[:, 0], -2, axis=0)
    keys = jax.random.split(key, xs.shape[0])
    fake = jax.vmap(lambda t, y0, nb, k: model(t, y0, nb, key=k))(ts, y0s, neighbours, keys)
    mmd = _path_mmd(ts, fake, xs, depth, basepoint)
    loss = mmd
    if decorrelation > 0:
        a = fake - fake.mean(0)
        b = neighbours - neighbours.mean(0)
        denominator = jnp.sum(a**2, 0) * jnp.sum(b**2, 0)
        squared = jnp.sum(a * b, 0) ** 2 / jnp.where(denominator > 0, denominator, jnp.inf)
        loss = loss + decorrelation * jnp.mean(squared)
    corr = jnp.max(neighbour_correlation(fake, neighbours))
    return loss, {"neighbour_corr": jax.lax.stop_gradient(corr),
                  "mmd": jax.lax.stop_gradient(mmd)}
