"""The quantile-regression (Huber) loss of QR-DQN."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from .._core.checks import as_float_array, check_number, common_float_dtype, message, shape_str


def quantile_huber_loss(pred: Float[ArrayLike, "*batch Q"], target: Float[ArrayLike, "*batch P"],
                        taus: Float[ArrayLike, " Q"], *, kappa: float = 1.0
                        ) -> Float[Array, "*batch"]:
    """The quantile-regression (Huber) loss of QR-DQN.

    With u_ij = target_j − pred_i,
    loss = Σ_i (1/P) Σ_j |τ_i − 1{u_ij < 0}| · L_κ(u_ij)/κ, where L_κ is the Huber loss
    (½u² for |u| ≤ κ, κ(|u| − ½κ) beyond). κ = 0 gives the plain quantile loss
    |τ_i − 1{u_ij < 0}| · |u_ij| (the limit of L_κ/κ). Minimised over `pred`, pred_i tends to
    the τ_i-quantile of the target distribution (for κ = 0 exactly).

    **Arguments:**

    - `pred`: `(*batch, Q)` predicted quantile locations θ_i.
    - `target`: `(*batch, P)` samples (or quantiles) of the target distribution; treated as
      constants (no gradient flows into them).
    - `taus`: `(Q,)` the quantile levels of `pred` (usually `Quantiles.midpoints(Q)`).
    - `kappa`: the Huber threshold κ ≥ 0.

    **Returns:** `(*batch,)` the loss of every batch element, in the floating dtype of
    `pred` and `target` (integer arrays promoted).

    **Raises:** `TypeError` for non-numeric arrays; `ValueError` naming the argument when
    `pred` and `target` have different batch shapes, `taus` is not `(Q,)`, or `kappa` is
    negative.

    **Reference:** Dabney, Rowland, Bellemare, Munos (2018), *Distributional Reinforcement
    Learning with Quantile Regression*, AAAI, eq. (10).
    """
    fn = "quantile_huber_loss"
    pred = as_float_array(fn, "pred", pred)
    target = as_float_array(fn, "target", target)
    taus = as_float_array(fn, "taus", taus)
    dtype = common_float_dtype(pred, target)
    pred, target, taus = pred.astype(dtype), target.astype(dtype), taus.astype(dtype)
    if pred.ndim < 1 or target.ndim != pred.ndim or target.shape[:-1] != pred.shape[:-1]:
        raise ValueError(message(fn, "pred (*batch, Q) and target (*batch, P)",
                                 "of the same batch shape",
                                 f"pred {shape_str(pred)} and target {shape_str(target)}"))
    if taus.shape != pred.shape[-1:]:
        raise ValueError(message(fn, "taus", f"of shape (Q,) = ({pred.shape[-1]},) like the "
                                 "last axis of pred", f"shape {shape_str(taus)}"))
    kappa = check_number(fn, "kappa", kappa, minimum=0.0)
    u = jax.lax.stop_gradient(target)[..., None, :] - pred[..., :, None]     # (*batch, Q, P)
    if kappa == 0:
        huber = jnp.abs(u)
    else:
        a = jnp.abs(u)
        huber = jnp.where(a <= kappa, 0.5 * u ** 2, kappa * (a - 0.5 * kappa)) / kappa
    weight = jnp.abs(taus[:, None] - (u < 0).astype(u.dtype))
    return jnp.sum(jnp.mean(weight * huber, axis=-1), axis=-1)
