"""Initialisations shared by the Mamba blocks: S4D-real A and the inverse-softplus dt bias."""

import jax
import jax.numpy as jnp


def inverse_softplus(y):
    """x with softplus(x) = y, for y > 0: y + log(−expm1(−y)) (stable for small and large y)."""
    return y + jnp.log(-jnp.expm1(-y))


def dt_bias_init(key, shape, *, dt_min: float, dt_max: float, floor: float, dtype):
    """Bias b with softplus(b) log-uniform in [dt_min, dt_max], floored at `floor` (Mamba)."""
    u = jax.random.uniform(key, shape, dtype)
    dt = jnp.exp(u * (jnp.log(dt_max) - jnp.log(dt_min)) + jnp.log(dt_min))
    return inverse_softplus(jnp.maximum(dt, floor))
