"""Training objectives: interpolant regressions, conditional flow matching, denoising.

Every loss has the `jaxlab.train.fit` signature `loss(model, batch, *, key, **options)`
(`fit` calls `loss(model, batch, key=key)`); bind the options with `functools.partial`.
`model(t, x)` (or `model(t, x, label)` for class-conditional training) maps a scalar time
and one point `(d,)` to a prediction `(d,)`; the loss vmaps it over the batch.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from .._core.checks import (
    as_float_array,
    check_bool,
    check_callable,
    check_choice,
    check_instance,
    check_key,
    check_ndim,
    check_number,
    common_float_dtype,
    message,
    shape_str,
)
from ._couplings import COUPLINGS, couple
from ._paths import Diffusion, Interpolant, convert

INTERPOLANT_TARGETS = ("drift", "velocity", "score", "denoiser")
PREDICTIONS = ("noise", "data", "score", "velocity")


def _split_batch(owner, batch):
    """(x0, x1, labels) from `batch = (x0, x1[, labels])`: x0 `(B, d)`, x1 `(B', d)`, both
    in their common floating dtype (integer arrays promoted)."""
    if not isinstance(batch, (tuple, list)):
        raise TypeError(message(owner, "batch", "a tuple (x0, x1) or (x0, x1, labels)",
                                f"a {type(batch).__name__}"))
    if len(batch) not in (2, 3):
        raise ValueError(message(owner, "batch", "a tuple (x0, x1) or (x0, x1, labels)",
                                 f"a {type(batch).__name__} of length {len(batch)}"))
    x0 = as_float_array(owner, "x0", batch[0])
    x1 = as_float_array(owner, "x1", batch[1])
    if x0.ndim != 2 or x1.ndim != 2 or x0.shape[1] != x1.shape[1]:
        raise ValueError(message(owner, "batch", "(x0, x1[, labels]) with x0: (B, d) and "
                                 "x1: (B', d)", f"shapes {shape_str(x0)} and {shape_str(x1)}"))
    dtype = common_float_dtype(x0, x1)
    labels = None if len(batch) == 2 else jnp.asarray(batch[2])
    return x0.astype(dtype), x1.astype(dtype), labels


def _check_label_drop(owner, label_drop, null_label, labels) -> float:
    """`label_drop` as a probability; a `null_label` is needed to drop labels."""
    label_drop = check_number(owner, "label_drop", label_drop, minimum=0.0, maximum=1.0)
    if labels is not None and label_drop > 0 and null_label is None:
        raise ValueError(message(owner, "null_label", "the label meaning 'unconditional' "
                                 "when label_drop > 0", None))
    return label_drop


def _drop_labels(labels, key, drop_prob, null_label):
    """Classifier-free guidance training: each label replaced by `null_label` with
    probability `drop_prob`."""
    if labels is None or drop_prob == 0:
        return labels
    drop = jax.random.bernoulli(key, drop_prob, labels.shape[:1])
    return jnp.where(drop.reshape((-1,) + (1,) * (labels.ndim - 1)), null_label, labels)


def _apply(model, ts, xs, labels):
    """The model on the batch, in the batch's dtype (the loss follows the data's dtype)."""
    out = jax.vmap(model)(ts, xs) if labels is None else jax.vmap(model)(ts, xs, labels)
    return out.astype(xs.dtype)


def _time_window(owner, t_min, t_max) -> tuple[float, float]:
    t_max = check_number(owner, "t_max", t_max, minimum=0.0, maximum=1.0, open_minimum=True)
    t_min = check_number(owner, "t_min", t_min, minimum=0.0, maximum=t_max, open_maximum=True)
    return t_min, t_max


def interpolant_loss(model: Callable, batch, *, key: PRNGKeyArray, interpolant: Interpolant,
                     target: str = "drift", antithetic: bool = True, t_min: float = 1e-3,
                     t_max: float = 1 - 1e-3, label_drop: float = 0.0,
                     null_label=None) -> Array:
    """The quadratic interpolant loss of Albergo, Boffi & Vanden-Eijnden (2023), eq. (2.13)
    ff., averaged over t ~ U[t_min, t_max] and the batch:

    - `"drift"` b: ½|b̂|² − (∂_tI + γ̇z)·b̂;
    - `"velocity"` v = E[∂_tI | x_t]: ½|v̂|² − ∂_tI·v̂;
    - `"score"` s: ½|ŝ|² + γ⁻¹z·ŝ;
    - `"denoiser"` η = E[z | x_t] (so s = −η/γ): ½|η̂|² − z·η̂.

    Each is minimised exactly by its conditional expectation (the minimum is not 0). With
    `antithetic=True` the pair x_t = I ± γz is used (variance reduction, §6.1).

    **Arguments:** `model(t, x[, label]) -> (d,)`; `batch = (x0, x1[, labels])` with x₀, x₁
    `(B, d)` (paired rows: the coupling); `key`; `interpolant`; `target`; `t_min`, `t_max`
    (γ̇ is infinite at 0 and 1 for γ = √(t(1−t))); `label_drop`, `null_label` (classifier-free
    guidance dropout).

    **Returns:** the scalar loss, in the floating dtype of the batch.

    **Raises:** `ValueError` for an unknown `target`, unpaired or misshapen batches, or
    times outside 0 ≤ t_min < t_max ≤ 1; `TypeError` for a batch that is not a tuple of
    real arrays or a missing key.
    """
    fn = "interpolant_loss"
    check_callable(fn, "model", model)
    check_choice(fn, "target", target, INTERPOLANT_TARGETS)
    check_instance(fn, "interpolant", interpolant, Interpolant, "an Interpolant")
    antithetic = check_bool(fn, "antithetic", antithetic)
    key = check_key(fn, key)
    t_min, t_max = _time_window(fn, t_min, t_max)
    x0, x1, labels = _split_batch(fn, batch)
    if x0.shape != x1.shape:
        raise ValueError(message(fn, "batch", "paired rows (x0 and x1 of the same shape)",
                                 f"shapes {shape_str(x0)} and {shape_str(x1)}"))
    label_drop = _check_label_drop(fn, label_drop, null_label, labels)
    kt, kz, kl = jax.random.split(key, 3)
    ts = jax.random.uniform(kt, (x0.shape[0],), dtype=x0.dtype, minval=t_min, maxval=t_max)
    z = jax.random.normal(kz, x0.shape, dtype=x0.dtype)
    labels = _drop_labels(labels, kl, label_drop, null_label)
    c = jax.vmap(interpolant.coefficients)(ts)
    gamma = jnp.sqrt(c.gamma2)[:, None]
    mean = c.alpha[:, None] * x0 + c.beta[:, None] * x1
    dI = c.dalpha[:, None] * x0 + c.dbeta[:, None] * x1
    dgamma_z = (c.gamma_dgamma[:, None] / gamma) * z if target == "drift" else None

    def one(sign):
        pred = _apply(model, ts, mean + sign * gamma * z, labels)
        if target == "drift":
            lin = dI + sign * dgamma_z
            return jnp.sum(0.5 * pred**2 - lin * pred, -1)
        if target == "velocity":
            return jnp.sum(0.5 * pred**2 - dI * pred, -1)
        if target == "score":
            return jnp.sum(0.5 * pred**2 + sign * z / gamma * pred, -1)
        return jnp.sum(0.5 * pred**2 - sign * z * pred, -1)

    per_point = 0.5 * (one(1.0) + one(-1.0)) if antithetic else one(1.0)
    return jnp.mean(per_point)


def cfm_loss(model: Callable, batch, *, key: PRNGKeyArray, coupling: str = "independent",
             sigma: float = 0.0, epsilon: float | None = None, label_drop: float = 0.0,
             null_label=None) -> Array:
    """Conditional flow matching (Lipman et al. 2023; Tong et al. 2024, torchcfm's protocol):
    mean over batch and coordinates of |v̂(t, x_t) − u_t|², t ~ U[0, 1].

    - `"independent"` (I-CFM): pairs as given; x_t = (1−t)x₀ + t x₁ + σε, u_t = x₁ − x₀.
    - `"ot"` (OT-CFM): the batch is re-paired by the exact optimal assignment for the squared
      Euclidean cost (x₀ and x₁ of equal size; the optimal plan between two uniform empirical
      measures of equal size is a permutation); then as I-CFM.
    - `"sinkhorn"`: pairs drawn from the entropic OT plan (regularisation `epsilon`, default
      0.05 · mean cost) — for large batches.
    - `"schrodinger"` (SB-CFM): pairs from the entropic plan with ε = 2σ², x_t with noise
      σ√(t(1−t)), u_t = (1−2t)/(2t(1−t))·(x_t − μ_t) + x₁ − x₀. Needs σ > 0.

    **Arguments:** `model(t, x[, label])`; `batch = (x0, x1[, labels])` (labels go with x₁);
    `key`; `coupling`; `sigma`; `epsilon`; `label_drop`, `null_label`.

    **Returns:** the scalar loss, in the floating dtype of the batch.

    **Raises:** `ValueError` for an unknown `coupling`, a negative `sigma` (or σ = 0 with
    `"schrodinger"`) or misshapen batches; `TypeError` for a batch that is not a tuple of
    real arrays or a missing key.
    """
    fn = "cfm_loss"
    check_callable(fn, "model", model)
    check_choice(fn, "coupling", coupling, (*COUPLINGS, "schrodinger"))
    sigma = check_number(fn, "sigma", sigma, minimum=0.0)
    key = check_key(fn, key)
    x0, x1, labels = _split_batch(fn, batch)
    if coupling == "schrodinger" and not sigma > 0:
        raise ValueError(message(fn, "sigma", "> 0 with coupling='schrodinger'", sigma))
    label_drop = _check_label_drop(fn, label_drop, null_label, labels)
    kc, kt, kz, kl = jax.random.split(key, 4)
    if coupling == "schrodinger":
        i0, i1 = couple(x0, x1, key=kc, method="sinkhorn", epsilon=2 * sigma**2)
    else:
        i0, i1 = couple(x0, x1, key=kc, method=coupling, epsilon=epsilon)
    x0, x1 = x0[i0], x1[i1]
    labels = None if labels is None else labels[i1]
    labels = _drop_labels(labels, kl, label_drop, null_label)
    n = x0.shape[0]
    ts = jax.random.uniform(kt, (n,), dtype=x0.dtype)
    if coupling == "schrodinger":
        # keep t away from the ends, where the SB target's factor 1/(t(1−t)) blows up
        ts = 1e-4 + (1 - 2e-4) * ts
    eps = jax.random.normal(kz, x0.shape, dtype=x0.dtype)
    mu = (1 - ts)[:, None] * x0 + ts[:, None] * x1
    if coupling == "schrodinger":
        noise = sigma * jnp.sqrt(ts * (1 - ts))[:, None] * eps
        xt = mu + noise
        ut = ((1 - 2 * ts) / (2 * ts * (1 - ts)))[:, None] * noise + x1 - x0
    else:
        xt = mu + sigma * eps
        ut = x1 - x0
    return jnp.mean((_apply(model, ts, xt, labels) - ut) ** 2)


def denoising_loss(model: Callable, batch, *, key: PRNGKeyArray, diffusion: Diffusion,
                   prediction: str = "noise", weighting: Callable | None = None,
                   times: Callable | None = None, label_drop: float = 0.0,
                   null_label=None) -> Array:
    """Denoising score matching for a diffusion (Vincent 2011; Ho et al. 2020; Song et al.
    2021) in any of the four parameterisations: t ~ U[t_min, T] (or `times`),
    x_t = a x₀ + σε, and mean of w(t)·|m̂(t, x_t) − target|² with target ε (`"noise"`),
    x₀ (`"data"`), −ε/σ (`"score"`) or ȧx₀ + σ̇ε (`"velocity"`).

    **Arguments:** `model(t, x[, label])`; `batch = x0` `(B, d)` or `(x0, labels)`; `key`;
    `diffusion`; `prediction`; `weighting` (callable t -> w(t); default 1, or σ² for the
    score, which makes the score loss equal the noise loss); `times` (callable
    `(key, B) -> (B,)` drawing the training times, e.g. `beta_times`; default uniform on
    [t_min, T]; the loss is then E over that law, another time weighting); `label_drop`,
    `null_label`.

    **Returns:** the scalar loss, in the floating dtype of the data.

    **Raises:** `ValueError` for an unknown `prediction`, data not of shape `(B, d)`, or
    `times` returning other than `(B,)`; `TypeError` for non-real data, a `diffusion` that
    is not a `Diffusion`, or a missing key.
    """
    fn = "denoising_loss"
    check_callable(fn, "model", model)
    check_choice(fn, "prediction", prediction, PREDICTIONS)
    check_instance(fn, "diffusion", diffusion, Diffusion, "a Diffusion")
    key = check_key(fn, key)
    if isinstance(batch, (tuple, list)):
        x0, labels = as_float_array(fn, "x0", batch[0]), jnp.asarray(batch[1])
    else:
        x0, labels = as_float_array(fn, "batch", batch), None
    check_ndim(fn, "the data", x0, 2, want="of shape (B, d)")
    label_drop = _check_label_drop(fn, label_drop, null_label, labels)
    kt, kz, kl = jax.random.split(key, 3)
    if times is None:
        ts = jax.random.uniform(kt, (x0.shape[0],), dtype=x0.dtype, minval=diffusion.t_min,
                                maxval=diffusion.T)
    else:
        ts = jnp.asarray(times(kt, x0.shape[0]), dtype=x0.dtype)
        if ts.shape != x0.shape[:1]:
            raise ValueError(message(fn, f"times(key, {x0.shape[0]})",
                                     f"of shape ({x0.shape[0]},)", f"shape {shape_str(ts)}"))
    eps = jax.random.normal(kz, x0.shape, dtype=x0.dtype)
    labels = _drop_labels(labels, kl, label_drop, null_label)
    c = jax.vmap(diffusion.coefficients)(ts)
    sigma = jnp.sqrt(c.gamma2)[:, None]
    xt = c.beta[:, None] * x0 + sigma * eps
    targets = {"noise": eps, "data": x0, "score": -eps / sigma,
               "velocity": c.dbeta[:, None] * x0 + (c.gamma_dgamma[:, None] / sigma) * eps}
    err = jnp.sum((_apply(model, ts, xt, labels) - targets[prediction]) ** 2, -1)
    if weighting is None:
        w = c.gamma2 if prediction == "score" else jnp.ones_like(ts)
    else:
        w = jax.vmap(weighting)(ts)
    return jnp.mean(w.astype(err.dtype) * err)


def beta_times(t_min: float, T: float, a: float = 1.0, b: float = 2.0) -> Callable:
    """Training times t = t_min + (T − t_min)·Beta(a, b), for `denoising_loss(times=...)`.
    Beta(1, 2) (the default) puts density 2(1 − u) on u = (t − t_min)/(T − t_min), twice the
    uniform's near t_min, where the data's structure is (Deveney et al. 2023 train on
    T·Beta(1, 2)).

    **Returns:** `draw(key, n) -> (n,)`, in the default floating dtype.

    **Raises:** `ValueError` unless 0 ≤ t_min < T and a, b > 0.
    """
    fn = "beta_times"
    T = check_number(fn, "T", T, minimum=0.0, open_minimum=True)
    t_min = check_number(fn, "t_min", t_min, minimum=0.0, maximum=T, open_maximum=True)
    a = check_number(fn, "a", a, minimum=0.0, open_minimum=True)
    b = check_number(fn, "b", b, minimum=0.0, open_minimum=True)

    def draw(key, n):
        return t_min + (T - t_min) * jax.random.beta(key, a, b, (n,))

    return draw


def as_field(model: Callable, path, *, prediction: str, output: str, label=None) -> Callable:
    """The field `(t, x) -> output` from a model trained to predict `prediction`, through
    `convert` (e.g. a noise-predicting diffusion model as its score or its probability-flow
    velocity). `label` is passed to the model when given.

    **Raises:** `ValueError` for an unknown `prediction` or `output`; `TypeError` for a
    model that is not callable.
    """
    check_callable("as_field", "model", model)
    check_choice("as_field", "prediction", prediction, PREDICTIONS)
    check_choice("as_field", "output", output, PREDICTIONS)

    def field(t, x):
        pred = model(t, x) if label is None else model(t, x, label)
        return convert(pred, x, t, path, source=prediction, target=output)

    return field


def guided(model: Callable, label, null_label, weight: float) -> Callable:
    """Classifier-free guidance (Ho & Salimans 2022): (1 + w)·m(t, x, c) − w·m(t, x, ∅).
    Valid for any prediction target (the conversions are affine in the prediction).

    **Arguments:** `model(t, x, label)`; `label` (c); `null_label` (∅); `weight` (w, a
    finite number).

    **Returns:** the guided field `(t, x) -> (d,)`.

    **Raises:** `TypeError` for a model that is not callable or a non-numeric weight.
    """
    check_callable("guided", "model", model)
    weight = check_number("guided", "weight", weight)

    def field(t, x):
        return (1 + weight) * model(t, x, label) - weight * model(t, x, null_label)

    return field
