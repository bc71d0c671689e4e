"""Training objectives: interpolant regressions, conditional flow matching, denoising.

Every loss has the `jaxlab.train.fit` signature `loss(model, batch, key, **options)`; bind
the options with `functools.partial`. `model(t, x)` (or `model(t, x, label)` for
class-conditional training) maps a scalar time and one point `(d,)` to a prediction `(d,)`;
the loss vmaps it over the batch.
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from .._core.checks import shape_str
from ._couplings import couple
from ._paths import Diffusion, Interpolant, convert

INTERPOLANT_TARGETS = ("drift", "velocity", "score", "denoiser")
PREDICTIONS = ("noise", "data", "score", "velocity")


def _check_pair(owner, x0, x1):
    if x0.ndim != 2 or x1.ndim != 2 or x0.shape[1] != x1.shape[1]:
        raise ValueError(f"{owner}: batch must be (x0, x1[, labels]) with x0: (B, d) and "
                         f"x1: (B', d), got shapes {shape_str(x0)} and {shape_str(x1)}")


def _split_batch(owner, batch):
    if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
        raise ValueError(f"{owner}: batch must be a tuple (x0, x1) or (x0, x1, labels), got "
                         f"{type(batch).__name__}")
    x0, x1 = jnp.asarray(batch[0]), jnp.asarray(batch[1])
    labels = None if len(batch) == 2 else jnp.asarray(batch[2])
    _check_pair(owner, x0, x1)
    return x0, x1, labels


def _drop_labels(labels, key, drop_prob, null_label):
    """Classifier-free guidance training: each label replaced by `null_label` with
    probability `drop_prob`."""
    if labels is None or drop_prob == 0:
        return labels
    if null_label is None:
        raise ValueError("label_drop > 0 needs null_label (the label meaning 'unconditional')")
    drop = jax.random.bernoulli(key, drop_prob, labels.shape[:1])
    return jnp.where(drop.reshape((-1,) + (1,) * (labels.ndim - 1)), null_label, labels)


def _apply(model, ts, xs, labels):
    if labels is None:
        return jax.vmap(model)(ts, xs)
    return jax.vmap(model)(ts, xs, labels)


def _times(key, n, t_min, t_max, dtype):
    if not (0 <= t_min < t_max <= 1):
        raise ValueError(f"need 0 <= t_min < t_max <= 1, got t_min={t_min!r}, t_max={t_max!r}")
    return jax.random.uniform(key, (n,), dtype=dtype, minval=t_min, maxval=t_max)


def interpolant_loss(model, batch, key: PRNGKeyArray, *, interpolant: Interpolant,
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

    **Returns:** the scalar loss.
    """
    if target not in INTERPOLANT_TARGETS:
        raise ValueError(f"interpolant_loss: target must be one of {INTERPOLANT_TARGETS}, got "
                         f"{target!r}")
    x0, x1, labels = _split_batch("interpolant_loss", batch)
    if x0.shape != x1.shape:
        raise ValueError(f"interpolant_loss: x0 and x1 must be paired (same shape), got "
                         f"{shape_str(x0)} and {shape_str(x1)}")
    kt, kz, kl = jax.random.split(key, 3)
    ts = _times(kt, x0.shape[0], t_min, t_max, x0.dtype)
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


def cfm_loss(model, batch, key: PRNGKeyArray, *, coupling: str = "independent",
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
    """
    x0, x1, labels = _split_batch("cfm_loss", batch)
    if coupling == "schrodinger" and not sigma > 0:
        raise ValueError(f"cfm_loss: coupling='schrodinger' needs sigma > 0, got {sigma!r}")
    kc, kt, kz, kl = jax.random.split(key, 4)
    if coupling == "schrodinger":
        i0, i1 = couple(x0, x1, kc, method="sinkhorn", epsilon=2 * sigma**2)
    else:
        i0, i1 = couple(x0, x1, kc, method=coupling, epsilon=epsilon)
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


def denoising_loss(model, batch, key: PRNGKeyArray, *, diffusion: Diffusion,
                   prediction: str = "noise", weighting=None, times=None,
                   label_drop: float = 0.0, null_label=None) -> Array:
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

    **Raises:** `ValueError` for an unknown `prediction`, data not of shape `(B, d)`, or
    `times` returning other than `(B,)`.
    """
    if prediction not in PREDICTIONS:
        raise ValueError(f"denoising_loss: prediction must be one of {PREDICTIONS}, got "
                         f"{prediction!r}")
    if isinstance(batch, (tuple, list)):
        x0, labels = jnp.asarray(batch[0]), jnp.asarray(batch[1])
    else:
        x0, labels = jnp.asarray(batch), None
    if x0.ndim != 2:
        raise ValueError(f"denoising_loss: the data must have shape (B, d), got "
                         f"{shape_str(x0)}")
    kt, kz, kl = jax.random.split(key, 3)
    if times is None:
        ts = jax.random.uniform(kt, (x0.shape[0],), dtype=x0.dtype, minval=diffusion.t_min,
                                maxval=diffusion.T)
    else:
        ts = jnp.asarray(times(kt, x0.shape[0]), dtype=x0.dtype)
        if ts.shape != x0.shape[:1]:
            raise ValueError(f"denoising_loss: times(key, {x0.shape[0]}) must return shape "
                             f"({x0.shape[0]},), got {shape_str(ts)}")
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
    return jnp.mean(w * err)


def beta_times(t_min: float, T: float, a: float = 1.0, b: float = 2.0):
    """Training times t = t_min + (T − t_min)·Beta(a, b), for `denoising_loss(times=...)`.
    Beta(1, 2) (the default) puts density 2(1 − u) on u = (t − t_min)/(T − t_min), twice the
    uniform's near t_min, where the data's structure is (Deveney et al. 2023 train on
    T·Beta(1, 2)).

    **Raises:** `ValueError` unless 0 ≤ t_min < T and a, b > 0.
    """
    if not (0 <= t_min < T) or a <= 0 or b <= 0:
        raise ValueError(f"beta_times: need 0 <= t_min < T and a, b > 0, got t_min={t_min}, "
                         f"T={T}, a={a}, b={b}")

    def draw(key, n):
        return t_min + (T - t_min) * jax.random.beta(key, a, b, (n,))

    return draw


def as_field(model, path, *, prediction: str, output: str, label=None):
    """The field `(t, x) -> output` from a model trained to predict `prediction`, through
    `convert` (e.g. a noise-predicting diffusion model as its score or its probability-flow
    velocity). `label` is passed to the model when given."""

    def field(t, x):
        pred = model(t, x) if label is None else model(t, x, label)
        return convert(pred, x, t, path, source=prediction, target=output)

    return field


def guided(model, label, null_label, weight: float):
    """Classifier-free guidance (Ho & Salimans 2022): (1 + w)·m(t, x, c) − w·m(t, x, ∅).
    Valid for any prediction target (the conversions are affine in the prediction)."""

    def field(t, x):
        return (1 + weight) * model(t, x, label) - weight * model(t, x, null_label)

    return field
