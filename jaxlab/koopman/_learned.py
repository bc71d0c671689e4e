"""A learned dictionary (EDMD with dictionary learning), trained with `jaxlab.train.fit`."""

import equinox as eqx
import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, Real

from .._core.checks import (
    as_float_array,
    check_bool,
    check_instance,
    check_int,
    check_number,
    check_shape,
    message,
)
from .._core.results import RESULTS, AbstractResult
from ..train import FitResult, fit
from ._dictionaries import AbstractDictionary, Identity

__all__ = ["DictionaryFit", "LearnedDictionary", "dictionary_loss", "fit_dictionary"]


class LearnedDictionary(AbstractDictionary):
    """Fixed features (default: the constant and the coordinates) followed by the outputs of a
    trainable MLP, as in EDMD with dictionary learning (Li et al. 2017). The fixed part keeps
    the state in the span (so Koopman modes and forecasts of x exist) and rules out the
    trivial minimiser Ψ = 0 of the one-step loss.

    **Arguments:** `dim` (d), `num_learned` (MLP outputs), keyword `width`, `depth` of the
    MLP (tanh activations), `key`, `fixed` (an `AbstractDictionary`; default
    `Identity(dim, constant=True)`), `dtype` (default: the default float).

    **Raises:** `TypeError` for non-int sizes, a `fixed` that is not a dictionary or a bad
    key; `ValueError` for sizes < 1 or a `fixed` on another dimension.

    **References:** Li, Dietrich, Bollt & Kevrekidis, *Extended dynamic mode decomposition
    with dictionary learning*, Chaos 27 (2017).
    """

    mlp: eqx.nn.MLP
    fixed: AbstractDictionary
    dim: int = eqx.field(static=True)
    num_learned: int = eqx.field(static=True)

    def __init__(self, dim: int, num_learned: int, *, key: PRNGKeyArray, width: int = 32,
                 depth: int = 2, fixed: AbstractDictionary | None = None, dtype=None):
        fn = "LearnedDictionary"
        dim = check_int(fn, "dim", dim, minimum=1)
        num_learned = check_int(fn, "num_learned", num_learned, minimum=1)
        width = check_int(fn, "width", width, minimum=1)
        depth = check_int(fn, "depth", depth, minimum=0)
        fixed = Identity(dim, constant=True) if fixed is None else check_instance(
            fn, "fixed", fixed, AbstractDictionary, want="an AbstractDictionary")
        if fixed.dim != dim:
            raise ValueError(message(fn, "fixed", f"a dictionary on dimension dim = {dim}",
                                     f"one on dimension {fixed.dim}"))
        self.mlp = eqx.nn.MLP(dim, num_learned, width, depth, activation=jnp.tanh, key=key,
                              dtype=dtype or jnp.result_type(float))
        self.fixed, self.dim, self.num_learned = fixed, dim, num_learned

    @property
    def num_features(self) -> int:
        return self.fixed.num_features + self.num_learned

    def features(self, x):
        return jnp.concatenate([self.fixed.features(x), self.mlp(x).astype(x.dtype)])


def dictionary_loss(dictionary: AbstractDictionary, x: Real[ArrayLike, "m d"],
                    y: Real[ArrayLike, "m d"], *, ridge: float = 1e-6) -> Float[Array, ""]:
    """The EDMD one-step loss min_K ‖Ψ(Y) − Ψ(X)K‖²_F / m + ridge‖K‖²_F, with the ridge
    minimiser K = (G + ridge·I)⁻¹A solved in closed form (so the gradient flows through K).

    **Arguments:** `dictionary`, pairs `x`, `y` `(m, d)` (integer data are promoted),
    keyword `ridge` (> 0).

    **Returns:** the loss, a scalar.

    **Raises:** `TypeError` for non-real data; `ValueError` for pairs of different shapes.

    **References:** Li, Dietrich, Bollt & Kevrekidis, Chaos 27 (2017), eq. (10).
    """
    x = as_float_array("dictionary_loss", "x", x, ndim=2)
    y = as_float_array("dictionary_loss", "y", y)
    check_shape("dictionary_loss", "y", y, x.shape, want=f"{x.shape} (the shape of x)")
    px, py = dictionary(x), dictionary(y)
    m, n = px.shape
    g = px.T @ px / m
    a = px.T @ py / m
    k = jnp.linalg.solve(g + ridge * jnp.eye(n, dtype=g.dtype), a)
    return jnp.sum((py - px @ k) ** 2) / m + ridge * jnp.sum(k**2)


class DictionaryFit(AbstractResult):
    """What `fit_dictionary` returns.

    **Fields:** `dictionary` (the trained `LearnedDictionary`; pass it to `edmd`), `fit`
    (the `jaxlab.train.FitResult` of the MLP: `history`, `step`, `opt_state`), `status`
    (`RESULTS.successful`, or `RESULTS.nonfinite` when the loss became NaN or infinite with
    `throw=False`); `converged` is `status == RESULTS.successful`.
    """

    dictionary: LearnedDictionary
    fit: FitResult
    status: RESULTS


def fit_dictionary(dictionary: LearnedDictionary, x: Real[ArrayLike, "m d"],
                   y: Real[ArrayLike, "m d"], *, steps: int, key: PRNGKeyArray,
                   optimizer: optax.GradientTransformation | None = None,
                   batch_size: int | None = None, ridge: float = 1e-6,
                   progress: bool | None = None, throw: bool = True) -> DictionaryFit:
    """Train a `LearnedDictionary` on snapshot pairs by minimising `dictionary_loss`.

    Uses `jaxlab.train.fit`; only the MLP is trained, the fixed features are frozen. Then
    pass the trained dictionary to `edmd`.

    **Arguments:** `dictionary`, pairs `x`, `y` `(m, d)` (integer data are promoted),
    `steps`, `key`, `optimizer` (default Adam 1e-3), `batch_size` (default full batch),
    `ridge` (> 0), `progress`, `throw` (raise if the loss becomes non-finite; with
    `throw=False` it is reported in the status).

    **Returns:** a `DictionaryFit` (`.dictionary`, `.fit`, `.status`).

    **Raises:** `TypeError` if `dictionary` is not a `LearnedDictionary` or the data are
    not real; `ValueError` for mismatched shapes or a non-positive ridge; as
    `jaxlab.train.fit` for the training arguments (`FloatingPointError` for a non-finite
    loss with `throw=True`).

    **References:** Li, Dietrich, Bollt & Kevrekidis, Chaos 27 (2017).
    """
    fn = "fit_dictionary"
    check_instance(fn, "dictionary", dictionary, LearnedDictionary, want="a LearnedDictionary")
    x = as_float_array(fn, "x", x)
    y = as_float_array(fn, "y", y)
    d = dictionary.dim
    check_shape(fn, "x", x, (None, d), want=f"(m, {d}) (states of the dictionary)")
    check_shape(fn, "y", y, x.shape, want=f"{x.shape} (the shape of x)")
    ridge = check_number(fn, "ridge", ridge, minimum=0.0, open_minimum=True)
    throw = check_bool(fn, "throw", throw)

    def loss_fn(mlp, batch, *, key):
        # the MLP alone is trained: the fixed features are frozen
        model = eqx.tree_at(lambda d_: d_.mlp, dictionary, mlp)
        return dictionary_loss(model, batch[0], batch[1], ridge=ridge)

    optimizer = optax.adam(1e-3) if optimizer is None else optimizer
    result = fit(loss_fn, dictionary.mlp, (x, y), optimizer,
                 steps=steps, key=key, batch_size=batch_size, progress=progress, throw=throw)
    trained = eqx.tree_at(lambda d_: d_.mlp, dictionary, result.model)
    return DictionaryFit(dictionary=trained, fit=result, status=result.status)
