"""A learned dictionary (EDMD with dictionary learning), trained with `jaxlab.train.fit`."""

import equinox as eqx
import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._core.checks import shape_str
from ._dictionaries import AbstractDictionary, Identity

__all__ = ["LearnedDictionary", "dictionary_loss", "fit_dictionary"]


class LearnedDictionary(AbstractDictionary):
    """Fixed features (default: the constant and the coordinates) followed by the outputs of a
    trainable MLP, as in EDMD with dictionary learning (Li et al. 2017). The fixed part keeps
    the state in the span (so Koopman modes and forecasts of x exist) and rules out the
    trivial minimiser Ψ = 0 of the one-step loss.

    **Arguments:** `dim` (d), `num_learned` (MLP outputs), keyword `width`, `depth` of the
    MLP (tanh activations), `key`, `fixed` (an `AbstractDictionary`; default
    `Identity(dim, constant=True)`).
    """

    mlp: eqx.nn.MLP
    fixed: AbstractDictionary
    dim: int = eqx.field(static=True)
    num_learned: int = eqx.field(static=True)

    def __init__(self, dim: int, num_learned: int, *, key: PRNGKeyArray, width: int = 32,
                 depth: int = 2, fixed: AbstractDictionary | None = None, dtype=None):
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"LearnedDictionary: dim must be an int >= 1, got {dim!r}")
        if not isinstance(num_learned, int) or num_learned < 1:
            raise ValueError(f"LearnedDictionary: num_learned must be an int >= 1, got "
                             f"{num_learned!r}")
        fixed = Identity(dim, constant=True) if fixed is None else fixed
        if fixed.dim != dim:
            raise ValueError(f"LearnedDictionary: fixed acts on dimension {fixed.dim}, not {dim}")
        self.mlp = eqx.nn.MLP(dim, num_learned, width, depth, activation=jnp.tanh, key=key,
                              dtype=dtype or jnp.result_type(float))
        self.fixed, self.dim, self.num_learned = fixed, dim, num_learned

    @property
    def num_features(self) -> int:
        return self.fixed.num_features + self.num_learned

    def features(self, x):
        return jnp.concatenate([self.fixed.features(x), self.mlp(x).astype(x.dtype)])


def dictionary_loss(dictionary: AbstractDictionary, x: Float[Array, "m d"],
                    y: Float[Array, "m d"], ridge: float = 1e-6) -> Float[Array, ""]:
    """The EDMD one-step loss min_K ‖Ψ(Y) − Ψ(X)K‖²_F / m + ridge‖K‖²_F, with the ridge
    minimiser K = (G + ridge·I)⁻¹A solved in closed form (so the gradient flows through K)."""
    px, py = dictionary(x), dictionary(y)
    m, n = px.shape
    g = px.T @ px / m
    a = px.T @ py / m
    k = jnp.linalg.solve(g + ridge * jnp.eye(n, dtype=g.dtype), a)
    return jnp.sum((py - px @ k) ** 2) / m + ridge * jnp.sum(k**2)


def fit_dictionary(dictionary: LearnedDictionary, x: Float[ArrayLike, "m d"],
                   y: Float[ArrayLike, "m d"], *, steps: int, key: PRNGKeyArray,
                   optimizer: optax.GradientTransformation | None = None,
                   batch_size: int | None = None, ridge: float = 1e-6,
                   progress: bool | None = None):
    """Train a `LearnedDictionary` on snapshot pairs by minimising `dictionary_loss`.

    Uses `jaxlab.train.fit` (checkpoints, progress, resumable); only the MLP is trained, the
    fixed features are frozen. Then pass the trained dictionary to `edmd`.

    **Arguments:** `dictionary`, pairs `x`, `y` `(m, d)`, `steps`, `key`, `optimizer`
    (default Adam 1e-3), `batch_size` (default full batch), `ridge` (> 0), `progress`.

    **Returns:** `(trained_dictionary, FitResult)`.

    **Raises:** `TypeError` if `dictionary` is not a `LearnedDictionary`; `ValueError` for
    mismatched shapes or a non-positive ridge.
    """
    from jaxlab.train import fit

    if not isinstance(dictionary, LearnedDictionary):
        raise TypeError(f"fit_dictionary: dictionary must be a LearnedDictionary, got "
                        f"{type(dictionary).__name__}")
    x, y = jnp.asarray(x), jnp.asarray(y)
    if x.ndim != 2 or x.shape != y.shape or x.shape[1] != dictionary.dim:
        raise ValueError(f"fit_dictionary: x and y must both have shape (m, {dictionary.dim}), "
                         f"got {shape_str(x)} and {shape_str(y)}")
    if not ridge > 0:
        raise ValueError(f"fit_dictionary: ridge must be positive, got {ridge!r}")
    def loss_fn(mlp, batch, key):
        model = eqx.tree_at(lambda d: d.mlp, dictionary, mlp)
        return dictionary_loss(model, batch[0], batch[1], ridge)

    optimizer = optax.adam(1e-3) if optimizer is None else optimizer
    result = fit(loss_fn, dictionary.mlp, (x, y), optimizer, steps=steps, key=key,
                 batch_size=batch_size, progress=progress)
    return eqx.tree_at(lambda d: d.mlp, dictionary, result.model), result
