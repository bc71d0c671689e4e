"""D_frac: the error of a generated trajectory's correlation dimension."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, Real

from .._core.checks import as_float_array, check_int, check_key, message, shape_str


class DimensionError(eqx.Module):
    """The output of `dimension_error`.

    **Fields:**

    - `error`: D_frac, the root-mean-square difference of the correlation dimensions over the
      runs, √(mean_r (D₂(true_r) − D₂(gen_r))²) (|D₂(true) − D₂(gen)| for one run); NaN when
      any dimension is NaN.
    - `true_dimension`, `generated_dimension`: the dimensions D₂ per run, shape `(runs,)`
      (NaN where `systems.correlation_dimension` finds no scaling region or a point is not
      finite).
    """

    error: Float[Array, ""]
    true_dimension: Float[Array, " runs"]
    generated_dimension: Float[Array, " runs"]


def dimension_error(
    x_true: Real[ArrayLike, "*runs n d"],
    x_gen: Real[ArrayLike, "*runs m d"],
    *,
    theiler: int = 0,
    max_points: int | None = 10_000,
    key: PRNGKeyArray | None = None,
) -> DimensionError:
    """D_frac: how far the correlation dimension of generated trajectories is from that of
    the true ones, the RMSE of the Grassberger–Procaccia dimensions D₂ over runs.

    Each D₂ is `jaxlab.systems.correlation_dimension(points, theiler=theiler,
    max_points=max_points, key=...)` with its automatic scaling range. When an estimate is
    NaN (no scaling region, or non-finite points: a diverged model) the error is NaN, and
    the per-run dimensions show which; NaN is never silently dropped from the mean. Eager
    (the scaling-range search inspects the values): not for `jit`.

    **Arguments:**

    - `x_true`, `x_gen`: trajectories, shapes `(n, d)` and `(m, d)` for one run, or
      `(runs, n, d)` and `(runs, m, d)` for several (paired by run).
    - `theiler`: the Theiler window in samples (≥ 0), applied to both.
    - `max_points`: subsample longer trajectories to this many points (None: all).
    - `key`: a PRNG key for random subsampling (split per run and trajectory); None: evenly
      spaced points.

    **Returns:** a `DimensionError` (`error`, `true_dimension`, `generated_dimension`).

    **Raises:** `TypeError` for non-real input; `ValueError` for trajectories that are not
    2-D or 3-D, different numbers of runs or dimensions, or options that
    `correlation_dimension` rejects.

    **References:** Grassberger & Procaccia, *Measuring the strangeness of strange
    attractors* (Physica D 1983); Liu et al., *PhyxMamba* (2025; D_frac).
    """
    # the systems catalogue costs ~0.2 s to import; the other metrics do not need it
    from ..systems import correlation_dimension

    fn = "dimension_error"
    theiler = check_int(fn, "theiler", theiler, minimum=0)
    max_points = check_int(fn, "max_points", max_points, minimum=3, none_ok=True)
    x_true = as_float_array(fn, "x_true", x_true, ndim=(2, 3))
    x_gen = as_float_array(fn, "x_gen", x_gen, ndim=(2, 3))
    if x_true.ndim != x_gen.ndim or (x_true.ndim == 3 and x_true.shape[0] != x_gen.shape[0]) \
            or x_true.shape[-1] != x_gen.shape[-1]:
        raise ValueError(message(fn, "x_true and x_gen",
                                 "the same number of runs and of dimensions",
                                 f"shapes {shape_str(x_true)} and {shape_str(x_gen)}"))
    if x_true.ndim == 2:
        x_true, x_gen = x_true[None], x_gen[None]
    runs = x_true.shape[0]
    if key is None:
        keys = [None] * (2 * runs)
    else:
        keys = list(jax.random.split(check_key(fn, key), 2 * runs))
    true_dims, gen_dims = [], []
    for r in range(runs):
        true_dims.append(correlation_dimension(x_true[r], theiler=theiler,
                                               max_points=max_points, key=keys[2 * r])
                         .dimension)
        gen_dims.append(correlation_dimension(x_gen[r], theiler=theiler,
                                              max_points=max_points, key=keys[2 * r + 1])
                        .dimension)
    true_dims, gen_dims = jnp.stack(true_dims), jnp.stack(gen_dims)
    error = jnp.sqrt(jnp.mean((true_dims - gen_dims) ** 2))
    return DimensionError(error=error, true_dimension=true_dims, generated_dimension=gen_dims)
