"""Truncated path signatures of piecewise-linear paths, and the expected-signature MMD."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Real

from .. import metrics
from .._core.checks import as_float_array, check_bool, check_int, message, shape_str


def signature_size(channels: int, depth: int) -> int:
    """The number of terms of a depth-`depth` signature of a `channels`-channel path,
    c + c² + … + c^depth (level 0, the constant 1, is left out).

    **Raises:** `TypeError` unless both are ints; `ValueError` unless both are ≥ 1.
    """
    channels = check_int("signature_size", "channels", channels, minimum=1)
    depth = check_int("signature_size", "depth", depth, minimum=1)
    return sum(channels**k for k in range(1, depth + 1))


def _segment_update(levels, delta, depth):
    # Chen: S(x * segment) = S(x) ⊗ exp(Δ); level n of the product is
    # Σ_{k=0..n} S_{n−k}(x) ⊗ Δ^{⊗k}/k!, with S_0 = 1.
    powers = [delta]
    for k in range(2, depth + 1):
        powers.append(jnp.multiply.outer(powers[-1], delta) / k)
    new = []
    for n in range(1, depth + 1):
        term = powers[n - 1]
        for k in range(1, n):
            term = term + jnp.multiply.outer(levels[n - k - 1], powers[k - 1])
        new.append(term + levels[n - 1])
    return new


def signature(path: Real[ArrayLike, "L c"], depth: int, *,
              flatten: bool = True) -> Float[Array, " terms"] | list[Array]:
    """The signature of the piecewise-linear path through the points `path`, truncated at
    `depth`.

    Level k is the tensor of iterated integrals ∫_{s₁<…<s_k} dx^{i₁}_{s₁}…dx^{i_k}_{s_k}, of
    shape `(c,)*k`; the signature of a linear segment with increment Δ is the tensor
    exponential (level k = Δ^{⊗k}/k!), and segments are joined by Chen's identity, one
    `lax.scan` step per segment (O(L · c^depth · depth) work).

    **Arguments:** `path` `(L, c)` with L ≥ 2 points; `depth` ≥ 1; `flatten`.

    **Returns:** with `flatten`, one vector of `signature_size(c, depth)` terms (levels 1…depth
    in order, each in row-major order); otherwise the list of level tensors.

    Integer paths are promoted to the default floating dtype.

    **Raises:** `ValueError` for a path that is not `(L, c)` with L ≥ 2 or `depth` < 1;
    `TypeError` for a non-real path or a non-int `depth`.

    **Reference:** Lyons, Caruana & Lévy, *Differential Equations Driven by Rough Paths*
    (2007), Ch. 2; used as an MMD critic in Min, Hu & Ichiba, *Directed Chain Generative
    Adversarial Networks* (ICML 2023).
    """
    depth = check_int("signature", "depth", depth, minimum=1)
    flatten = check_bool("signature", "flatten", flatten)
    path = as_float_array("signature", "path", path)
    if path.ndim != 2 or path.shape[0] < 2 or path.shape[1] < 1:
        raise ValueError(message("signature", "path", "of shape (L, c) with L >= 2 points",
                                 f"shape {shape_str(path)}"))
    c = path.shape[1]
    deltas = jnp.diff(path, axis=0)
    levels = [jnp.zeros((c,) * k, path.dtype) for k in range(1, depth + 1)]
    levels, _ = jax.lax.scan(lambda s, d: (_segment_update(s, d, depth), None), levels, deltas)
    if not flatten:
        return levels
    return jnp.concatenate([level.ravel() for level in levels])


def _batch_signatures(fn, name, paths, depth):
    paths = as_float_array(fn, name, paths)
    if paths.ndim != 3 or paths.shape[1] < 2:
        raise ValueError(message(fn, name, "paths of shape (n, L, c) with L >= 2",
                                 f"shape {shape_str(paths)}"))
    return jax.vmap(lambda p: signature(p, depth))(paths)


def signature_mmd(x: Real[ArrayLike, "n L c"], y: Real[ArrayLike, "m M c"], depth: int, *,
                  unbiased: bool = False) -> Float[Array, ""]:
    """The squared MMD between two samples of paths with the truncated-signature kernel
    k(x, y) = ⟨S(x), S(y)⟩: ‖E S(X) − E S(Y)‖² (the expected-signature distance), computed
    by `jaxlab.metrics.mmd(..., kernel="linear")` on the signature features.

    The expected signature determines the law of a path (under moment conditions, e.g. for
    bounded paths), so this is a distribution-matching loss on path space, the critic of the
    DC-GAN reference code (there ‖E S_8(X̂) − E S_8(X)‖, unsquared). Level k of a path with
    increments of size |Δ| scales like |Δ|^k/k!: rescale paths to |Δ| ≈ 1 (and add time as a
    channel, which makes the signature determine the path up to reparametrisation).

    **Arguments:** `x` `(n, L, c)`, `y` `(m, L, c)` (the same c; lengths may differ); `depth`;
    `unbiased` (the U-statistic, leaving out the i = j terms: unbiased for the squared MMD,
    can be negative; needs n, m ≥ 2).

    **Returns:** a scalar.

    **Raises:** `ValueError` for wrongly shaped samples, different channel counts or
    `depth` < 1; `TypeError` for non-real samples, a non-int `depth` or a non-bool
    `unbiased`.

    **Reference:** Min, Hu & Ichiba, *Directed Chain Generative Adversarial Networks*
    (ICML 2023); Chevyrev & Oberhauser, *Signature Moments to Characterize Laws of
    Stochastic Processes* (JMLR 2022).
    """
    depth = check_int("signature_mmd", "depth", depth, minimum=1)
    unbiased = check_bool("signature_mmd", "unbiased", unbiased)
    sx = _batch_signatures("signature_mmd", "x", x, depth)
    sy = _batch_signatures("signature_mmd", "y", y, depth)
    cx, cy = jnp.shape(x)[-1], jnp.shape(y)[-1]
    if cx != cy:
        raise ValueError(message("signature_mmd", "x and y", "paths with the same number of "
                                 "channels", f"{cx} and {cy}"))
    n, m = sx.shape[0], sy.shape[0]
    if unbiased and (n < 2 or m < 2):
        raise ValueError(message("signature_mmd", "x and y", "at least 2 paths each with "
                                 "unbiased=True", f"{n} and {m}"))
    return metrics.mmd(sx, sy, kernel="linear", unbiased=unbiased)
