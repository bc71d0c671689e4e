"""The QR re-orthonormalisation step of the Benettin method, shared by the spectra of flows,
maps and delay systems."""

import jax.numpy as jnp
from jaxtyping import Array, Float

__all__ = ["orthonormalise"]


def orthonormalise(q: Float[Array, "d k"]) -> tuple[Float[Array, "d k"], Float[Array, " k"]]:
    """QR with a positive diagonal of R; returns (Q, log|diag R|)."""
    if q.shape[1] == 1:  # one vector: a normalisation, much cheaper than a LAPACK QR call
        norm = jnp.linalg.norm(q)
        return q / norm, jnp.log(norm)[None]
    q, r = jnp.linalg.qr(q)
    diag = jnp.diagonal(r)
    sign = jnp.where(diag < 0, -1.0, 1.0).astype(q.dtype)
    return q * sign, jnp.log(jnp.abs(diag))
