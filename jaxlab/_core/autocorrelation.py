"""Lagged products of a series by zero-padded FFT: the core of autocorrelations."""

import jax.numpy as jnp
from jaxtyping import Array, Inexact

__all__ = ["lagged_products"]


def lagged_products(x: Inexact[Array, " n"], max_lag: int) -> Inexact[Array, " k"]:
    """c(k) = Σ_{t=0}^{n−1−k} x_{t+k} conj(x_t) for k = 0..max_lag, shape `(max_lag + 1,)`.

    The FFT is zero-padded to a power of two ≥ 2n − 1, so no circular wrap-around enters;
    O(n log n). Real input gives a real result in its dtype, complex input a complex one.
    Callers centre and normalise (autocorrelation: divide by c(0); ergodic moments: by n − k).
    `max_lag` must be a static int in 0..n − 1 (the callers check it).
    """
    n = x.shape[0]
    size = 1 << (2 * n - 1).bit_length()
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        f = jnp.fft.fft(x, size)
        return jnp.fft.ifft(f * jnp.conj(f))[: max_lag + 1]
    f = jnp.fft.rfft(x, size)
    return jnp.fft.irfft(f * jnp.conj(f), size)[: max_lag + 1].astype(x.dtype)
