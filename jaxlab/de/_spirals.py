"""Clockwise and anticlockwise spirals at irregular times with missing values: the toy
classification data of neural CDEs."""

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._core.checks import check_int, check_key, check_number


def spirals(n: int, length: int, *, drop: float = 0.3, noise: float = 0.01,
            key: PRNGKeyArray) -> tuple[Float[Array, "n length"], Float[Array, "n length 2"],
                                        Float[Array, " n"]]:
    """`n` decaying 2-D spirals, half clockwise and half anticlockwise, each observed at its
    own irregular times with values missing at random: the classification task of neural
    CDEs on irregular, partially observed series.

    Series i is x(t) = (±cos(φᵢ + t), sin(φᵢ + t)) / (1 + t/2) + noise·ε on t ∈ [0, 4π],
    with a uniform phase φᵢ, the sign − (clockwise) for the first ⌊n/2⌋ rows and + after.
    Its `length` times are irregular but strictly increasing: the gaps are uniform in
    [0.2, 1.8] × the mean gap, the first time 0 and the last 4π. Each value is independently
    missing (NaN) with probability `drop`.

    **Arguments:** `n` (series, ≥ 2), `length` (times per series, ≥ 2), `drop` (in [0, 1)),
    `noise` (observation noise sd, ≥ 0), `key` (keyword-only).

    **Returns:** `(ts, xs, labels)`: times `(n, length)`, values `(n, length, 2)` with NaN
    for missing entries, labels `(n,)` (0. clockwise, 1. anticlockwise), in the default
    floating dtype; a batch for `jaxlab.train.fit`, and `control_path(ts[i], xs[i])` reads
    one series.

    **Raises:** `TypeError` for a non-int `n` or `length`, a non-number `drop` or `noise`, or
    a bad `key`; `ValueError` for values outside the ranges above.

    **Reference:** Kidger, Morrill, Foster & Lyons, *Neural Controlled Differential Equations
    for Irregular Time Series* (NeurIPS 2020) (torchcde's `time_series_classification`
    example, here irregular and partially observed).
    """
    n = check_int("spirals", "n", n, minimum=2)
    length = check_int("spirals", "length", length, minimum=2)
    drop = check_number("spirals", "drop", drop, minimum=0.0, maximum=1.0,
                        open_maximum=True)
    noise = check_number("spirals", "noise", noise, minimum=0.0)
    key = check_key("spirals", key)
    return _spirals(n, length, drop, noise, key)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _spirals(n, length, drop, noise, key):
    k_t, k_phase, k_noise, k_drop = jax.random.split(key, 4)
    gaps = jax.random.uniform(k_t, (n, length - 1), minval=0.2, maxval=1.8)
    ends = jnp.cumsum(gaps, axis=1)
    ts = 4 * jnp.pi * jnp.concatenate([jnp.zeros((n, 1)), ends / ends[:, -1:]], axis=1)
    phase = jax.random.uniform(k_phase, (n, 1), maxval=2 * jnp.pi)
    decay = 1 + 0.5 * ts
    labels = (jnp.arange(n) >= n // 2).astype(ts.dtype)
    sign = jnp.where(labels[:, None] > 0, 1.0, -1.0)
    xs = jnp.stack([sign * jnp.cos(phase + ts) / decay, jnp.sin(phase + ts) / decay], -1)
    xs = xs + noise * jax.random.normal(k_noise, xs.shape)
    missing = jax.random.uniform(k_drop, xs.shape) < drop
    return ts, jnp.where(missing, jnp.nan, xs), labels
