"""`fit`: the one training loop of jaxlab (equinox + optax), resumable and data-parallel."""

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
import tqdm
from jax.sharding import AxisType, Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from jaxtyping import PRNGKeyArray, PyTree

from .._core.checks import (
    check_bool,
    check_callable,
    check_instance,
    check_int,
    check_key,
    message,
)
from .._core.results import RESULTS, AbstractResult
from ._loop import (
    LoopState,
    LossLog,
    RunCheckpoints,
    Schedule,
    empty_history,
    run_steps,
)
from ._step import StepConfig, initial_cursor, strong


class FitResult(AbstractResult):
    """What `fit` returns.

    **Fields:**

    - `model`: the trained model (same structure as the `model` given to `fit`).
    - `opt_state`: the final optax optimiser state.
    - `step`: the number of optimiser updates applied in total (equal to `steps`, or fewer
      when a loss became non-finite with `throw=False`).
    - `history`: a dict with
        - `"step"`: `list[int]`, the step numbers `1..step`;
        - `"loss"`: `list[float]`, the (minibatch) loss evaluated at step `s` on the
          parameters *before* update `s`;
        - `"aux"`: `dict[str, list[float]]`, per-step scalars returned by `loss_fn` when
          `has_aux=True` (empty otherwise);
        - `"eval"`: `list[tuple[int, dict[str, float]]]`, the `eval_fn` metrics after each
          evaluated step.
    - `status`: `RESULTS.successful`, or `RESULTS.nonfinite` when a loss became NaN or
      infinite (only returned with `throw=False`; the first such step is the first
      non-finite entry of `history["loss"]`). `converged` is `status ==
      RESULTS.successful`.
    """

    model: PyTree
    opt_state: PyTree
    step: int
    history: dict[str, Any]
    status: RESULTS


def fit(
    loss_fn: Callable[..., Any],
    model: PyTree,
    data: PyTree,
    optimizer: optax.GradientTransformation,
    *,
    steps: int,
    key: PRNGKeyArray,
    batch_size: int | None = None,
    has_aux: bool = False,
    eval_fn: Callable[[PyTree], Mapping[str, Any]] | None = None,
    eval_every: int | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    progress: bool | None = None,
    mesh: Mesh | None = None,
    data_axis: str = "data",
    callbacks: Sequence[Callable[[int, PyTree, dict[str, float]], Any]] = (),
    throw: bool = True,
) -> FitResult:
    """Train `model` by minimising `loss_fn` over minibatches of `data` with `optimizer`.

    The run is a pure function of `(key, steps)`: `key` is split into a shuffle key and a
    step key; epoch `e` visits the rows of `data` in the order
    `permutation(fold_in(shuffle_key, e), n)`, cut into `n // batch_size` minibatches (the
    `n % batch_size` rows left over wait for a later epoch's shuffle), and step
    `s = 1..steps` takes the `(s - 1) % (n // batch_size)`-th of them with loss key
    `fold_in(step_key, s - 1)`. So a run interrupted at any step and resumed from its
    checkpoint ends with bit-identical parameters to an uninterrupted one. The shuffle is
    computed once per epoch inside the step, so a step costs O(`batch_size`), not O(n).

    The update is one `eqx.filter_jit`-compiled step, compiled once per (model structure,
    data shapes, `loss_fn`, `optimizer`, `batch_size`, `mesh`) and reused by later `fit`
    calls with the same configuration (pass the same `optimizer` object to reuse it).
    Trainable leaves are the inexact arrays of `model` (`eqx.is_inexact_array`); other
    leaves are carried unchanged. Losses are fetched from the device in blocks of
    steps rather than one by one, so asynchronous dispatch is not stalled.

    With `mesh`, the data set is replicated on every device of the mesh (or, for full-batch
    training, sharded along its leading axis), each minibatch is sharded along its leading
    axis over mesh axis `data_axis` (`NamedSharding(mesh, P(data_axis))`), the model and
    optimiser state are replicated (`NamedSharding(mesh, P())`) and XLA inserts the
    gradient all-reduce.

    **Arguments:**

    - `loss_fn`: called as `loss_fn(model, batch, key=key) -> loss` (a floating-point
      scalar), or `-> (loss, aux)` with `aux` a dict of scalars when `has_aux=True`. The
      key is passed **by keyword** (every loss of the library takes a keyword-only `key`;
      `def loss(model, batch, key)` works too, and a loss that needs no randomness still
      accepts `key`). `batch` has the structure of `data` with leading size `batch_size`
      (or `n`).
    - `model`: the initial model, any equinox Module or pytree.
    - `data`: a pytree of arrays sharing a leading axis of size `n` (`x: (n, ...)`, ...).
    - `optimizer`: an `optax.GradientTransformation`.
    - `steps`: the total number of optimiser updates (counting those done before a resume).
    - `key`: the PRNG key of the run.
    - `batch_size`: rows per step, in `1..n`; `None` uses the full data set every step.
    - `has_aux`: whether `loss_fn` returns `(loss, aux)`; the aux scalars are recorded per
      step in `history["aux"]`.
    - `eval_fn`: `eval_fn(model) -> dict[str, float]`, called every `eval_every` steps and
      after the last step; recorded in `history["eval"]`.
    - `eval_every`: period of `eval_fn` and `callbacks`; `None` means only after the last step.
    - `checkpoint_dir`: where to write checkpoints (after every `checkpoint_every` steps and
      after the last step; the newest two are kept). A fresh run (`resume=False`) needs a
      directory without checkpoints. On `KeyboardInterrupt` the last finished step is
      checkpointed before the interrupt propagates.
    - `checkpoint_every`: period of checkpoints; needs `checkpoint_dir`.
    - `resume`: continue from the newest valid checkpoint in `checkpoint_dir` (torn or
      corrupt files are skipped with a warning); start fresh if there is none.
    - `progress`: show a tqdm bar with the loss (refreshed every few dozen steps); `None`
      shows it only when stderr is a terminal.
    - `mesh`: a `jax.sharding.Mesh` for data-parallel training, or `None` for one device.
    - `data_axis`: the mesh axis that minibatches are split along.
    - `callbacks`: callables `cb(step, model, metrics)` called at the same steps as
      `eval_fn`, with `metrics = {"loss": loss at that step, **eval metrics}`; their return
      value is ignored.
    - `throw`: whether a loss that becomes NaN or infinite raises (`FloatingPointError`);
      with `throw=False` training stops instead (within 50 steps of that loss: losses are
      fetched from the device in blocks) and the result has `status=RESULTS.nonfinite`;
      no checkpoint is written after the non-finite loss.

    **Returns:** a `FitResult` with the trained `model`, `opt_state`, `step` (`== steps`
    unless stopped by a non-finite loss), `history` (`"step"`, `"loss"`, `"aux"`, `"eval"`)
    and `status` (`RESULTS.successful` or `RESULTS.nonfinite`).

    **Raises:**

    - `TypeError` (at the call, before any step runs) naming the argument: `steps`,
      `batch_size`, `eval_every`, `checkpoint_every` not ints; `has_aux`, `resume`,
      `throw`, `progress` not bools; `loss_fn`, `eval_fn` or a callback not callable;
      `optimizer` not an optax transformation; `key` not a PRNG key. At the first trace
      of the step: a `loss_fn` output of the wrong kind (a tuple without `has_aux`, a
      non-floating loss, an aux that is not a dict of scalars).
    - `ValueError` (at the call) naming the argument: `steps`, `eval_every`,
      `checkpoint_every` not positive, `batch_size` outside `1..n`; leaves of `data` with
      different leading sizes or none; `checkpoint_every` or `resume=True` without
      `checkpoint_dir`; `data_axis` not an axis of `mesh` or a batch size not divisible by
      its size; a fresh run into a directory with checkpoints; a checkpoint beyond `steps`
      or written with another `key`. At the first trace: a non-scalar loss or aux entry.
    - `FloatingPointError` naming the step, if the loss becomes NaN or infinite and
      `throw=True` (training stops; no result is returned).

    **Example:**

    ```python
    def loss_fn(model, batch, *, key):
        return jnp.mean((jax.vmap(model)(batch["x"]) - batch["y"]) ** 2)

    result = fit(loss_fn, model, {"x": x, "y": y}, optax.adam(1e-3), steps=1000,
                 key=jax.random.key(0), batch_size=64)
    result.model, result.history["loss"][-1], result.status
    ```
    """
    data, n, batch_size = _check_arguments(
        loss_fn, data, optimizer, steps=steps, key=key, batch_size=batch_size,
        has_aux=has_aux, eval_fn=eval_fn, eval_every=eval_every,
        checkpoint_dir=checkpoint_dir, checkpoint_every=checkpoint_every, resume=resume,
        progress=progress, data_axis=data_axis, callbacks=callbacks, throw=throw)
    batch_sharding, replicated = _shardings(mesh, data_axis, n, batch_size)

    model = strong(model)
    opt_state = strong(optimizer.init(eqx.filter(model, eqx.is_inexact_array)))
    history, start, checkpoints = empty_history(), 0, None
    if checkpoint_dir is not None:
        checkpoints = RunCheckpoints(Path(checkpoint_dir), key)
        restored = checkpoints.restore(resume, model, opt_state, steps)
        if restored is not None:
            model, opt_state, start, history = restored

    cursor = initial_cursor(start, n, batch_size)
    step_key = key
    if mesh is not None:
        model, opt_state, cursor, step_key = _device_put_arrays(
            (model, opt_state, cursor, step_key), replicated)
        data = jax.device_put(data, replicated if batch_size is not None else batch_sharding)
    config = StepConfig(loss_fn, optimizer, batch_size, has_aux, batch_sharding, replicated)
    schedule = Schedule(steps, eval_every, checkpoint_every, checkpoint_dir is not None)

    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    bar = tqdm.tqdm(total=steps, initial=start, disable=not progress, desc="fit",
                    unit="step", dynamic_ncols=True)
    log = LossLog(history, bar, throw)
    try:
        state = run_steps(LoopState(start, model, opt_state, cursor, None, None), data,
                          step_key, config, schedule, log, checkpoints, eval_fn, callbacks)
    finally:
        bar.close()
    status = RESULTS.successful if log.nonfinite_step is None else RESULTS.nonfinite
    return FitResult(model=state.model, opt_state=state.opt_state, step=state.step,
                     history=history, status=status)


def _check_arguments(loss_fn, data, optimizer, *, steps, key, batch_size, has_aux, eval_fn,
                     eval_every, checkpoint_dir, checkpoint_every, resume, progress,
                     data_axis, callbacks, throw) -> tuple[PyTree, int, int | None]:
    """Check `fit`'s arguments before any step runs.

    **Returns:** `(data, n, batch_size)`: `data` as arrays, its leading size, and
    `batch_size` (None when it equals `n`: the same batch without the gather).
    """
    check_callable("fit", "loss_fn", loss_fn)
    check_instance("fit", "optimizer", optimizer, optax.GradientTransformation,
                   "an optax.GradientTransformation")
    check_int("fit", "steps", steps, minimum=1)
    check_key("fit", key)
    data, n = _check_data(data)
    batch_size = check_int("fit", "batch_size", batch_size, minimum=1, maximum=n,
                           none_ok=True)
    for name, value in (("has_aux", has_aux), ("resume", resume), ("throw", throw)):
        check_bool("fit", name, value)
    if progress is not None:
        check_bool("fit", "progress", progress)
    if eval_fn is not None:
        check_callable("fit", "eval_fn", eval_fn, "a callable or None")
    check_int("fit", "eval_every", eval_every, minimum=1, none_ok=True)
    check_int("fit", "checkpoint_every", checkpoint_every, minimum=1, none_ok=True)
    if checkpoint_every is not None and checkpoint_dir is None:
        raise ValueError(f"fit: checkpoint_every={checkpoint_every} needs checkpoint_dir, got "
                         "checkpoint_dir=None")
    if resume and checkpoint_dir is None:
        raise ValueError("fit: resume=True needs checkpoint_dir, got checkpoint_dir=None")
    check_instance("fit", "data_axis", data_axis, str, "a mesh axis name (a str)")
    for i, callback in enumerate(callbacks):
        check_callable("fit", f"callbacks[{i}]", callback)
    return data, n, None if batch_size == n else batch_size


def _check_data(data) -> tuple[PyTree, int]:
    """`data` as a pytree of JAX arrays, and the leading size `n` its leaves share."""
    leaves_with_paths = jax.tree_util.tree_flatten_with_path(data)[0]
    if not leaves_with_paths:
        raise ValueError("fit: data must be a pytree of arrays with a shared leading axis, "
                         "got a pytree with no leaves")
    sizes = []
    for path, leaf in leaves_with_paths:
        shape = jnp.shape(leaf)
        if len(shape) == 0:
            raise ValueError(
                f"fit: every leaf of data must have a leading (example) axis, got "
                f"data{jax.tree_util.keystr(path)} of shape ()"
            )
        sizes.append((jax.tree_util.keystr(path), shape[0]))
    n = sizes[0][1]
    if any(size != n for _, size in sizes):
        listing = ", ".join(f"data{p}: {size}" for p, size in sizes)
        raise ValueError(
            f"fit: every leaf of data must have the same leading size n, got leading sizes "
            f"{listing}"
        )
    if n == 0:
        raise ValueError("fit: data must hold at least one example, got leading size 0")
    return jax.tree.map(jnp.asarray, data), n


def _shardings(mesh: Mesh | None, data_axis: str, n: int, batch_size: int | None
               ) -> tuple[NamedSharding | None, NamedSharding | None]:
    """`(batch_sharding, replicated)` on `mesh` (both None without one).

    **Raises:** `ValueError` if `data_axis` is not an axis of `mesh` or the rows of a step
    do not divide evenly over it.
    """
    if mesh is None:
        return None, None
    check_instance("fit", "mesh", mesh, Mesh, "a jax.sharding.Mesh or None")
    if data_axis not in mesh.axis_names:
        raise ValueError(message("fit", "data_axis",
                                 f"an axis of mesh {tuple(mesh.axis_names)}", repr(data_axis)))
    axis_size = mesh.shape[data_axis]
    rows = n if batch_size is None else batch_size
    if rows % axis_size:
        what = "n (full batch)" if batch_size is None else "batch_size"
        raise ValueError(message("fit", what,
                                 f"divisible by the size {axis_size} of mesh axis "
                                 f"{data_axis!r}", rows))
    # The step relies on sharding propagation (GSPMD): the same mesh with Auto axes lets
    # `with_sharding_constraint` place the batch whatever axis types `mesh` has.
    auto_mesh = Mesh(mesh.devices, mesh.axis_names,
                     axis_types=(AxisType.Auto,) * len(mesh.axis_names))
    return NamedSharding(auto_mesh, P(data_axis)), NamedSharding(auto_mesh, P())


def _device_put_arrays(tree, sharding):
    """`jax.device_put` the array leaves of `tree` with `sharding`, leaving the rest."""
    arrays, static = eqx.partition(tree, eqx.is_array)
    return eqx.combine(jax.device_put(arrays, sharding), static)
