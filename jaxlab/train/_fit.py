"""`fit`: the one training loop of jaxlab (equinox + optax), resumable and data-parallel."""

import math
import os
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
import tqdm
from jax.sharding import AxisType, Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from jaxtyping import PRNGKeyArray, PyTree

from ._checkpoint import (
    CheckpointError,
    _encode_key,
    checkpoint_path,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    remove_stale_temporaries,
    save_checkpoint,
)

# Losses stay on the device and are fetched in blocks of this many steps (and at every
# eval, checkpoint and the end): a host sync per step would stall JAX's asynchronous
# dispatch. Non-finite losses are therefore caught at most this many steps late.
_SYNC_EVERY = 50
_KEEP_CHECKPOINTS = 2


class FitResult(NamedTuple):
    """What `fit` returns.

    **Fields:**

    - `model`: the trained model (same structure as the `model` given to `fit`).
    - `opt_state`: the final optax optimiser state.
    - `step`: the number of optimiser updates applied in total (equal to `steps`).
    - `history`: a dict with
        - `"step"`: `list[int]`, the step numbers `1..steps`;
        - `"loss"`: `list[float]`, the (minibatch) loss evaluated at step `s` on the
          parameters *before* update `s`;
        - `"aux"`: `dict[str, list[float]]`, per-step scalars returned by `loss_fn` when
          `has_aux=True` (empty otherwise);
        - `"eval"`: `list[tuple[int, dict[str, float]]]`, the `eval_fn` metrics after each
          evaluated step.
    """

    model: PyTree
    opt_state: PyTree
    step: int
    history: dict[str, Any]


class _StepConfig(NamedTuple):
    """The static configuration of the jitted step (hashable, so compiled once per config)."""

    loss_fn: Callable[..., Any]
    optimizer: optax.GradientTransformation
    batch_size: int | None
    has_aux: bool
    batch_sharding: NamedSharding | None
    replicated: NamedSharding | None


def _constrain(tree, sharding):
    if sharding is None:
        return tree
    return jax.tree.map(
        lambda x: jax.lax.with_sharding_constraint(x, sharding) if eqx.is_array(x) else x, tree
    )


def _check_loss_output(out, has_aux: bool):
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ValueError(
                "fit: with has_aux=True, loss_fn must return (loss, aux_dict), got "
                f"{type(out).__name__}"
            )
        loss, aux = out
        if not isinstance(aux, Mapping):
            raise ValueError(
                f"fit: the aux returned by loss_fn must be a dict of scalars, got "
                f"{type(aux).__name__}"
            )
        for name, value in aux.items():
            if not isinstance(name, str) or jnp.shape(value) != ():
                raise ValueError(
                    f"fit: the aux returned by loss_fn must be a dict of scalars with string "
                    f"keys, got entry {name!r} of shape {jnp.shape(value)}"
                )
        aux = dict(aux)
    else:
        if isinstance(out, tuple):
            raise ValueError(
                "fit: loss_fn returned a tuple; pass has_aux=True if it returns "
                "(loss, aux_dict)"
            )
        loss, aux = out, {}
    if jnp.shape(loss) != () or not jnp.issubdtype(jnp.result_type(loss), jnp.inexact):
        raise ValueError(
            f"fit: loss_fn must return a floating-point scalar loss, got shape "
            f"{jnp.shape(loss)} and dtype {jnp.result_type(loss)}"
        )
    return loss, aux


class _Cursor(NamedTuple):
    """Where the run is: the 0-based step `index`, and the shuffle of the current epoch."""

    index: jax.Array  # int32 scalar: updates done so far
    order: jax.Array | None  # int32 (n,): permutation of the rows for epoch `order_epoch`
    order_epoch: jax.Array | None  # int32 scalar; -1 before the first permutation


def _initial_cursor(start: int, n: int, batch_size: int | None) -> _Cursor:
    index = jnp.asarray(start, dtype=jnp.int32)
    if batch_size is None:
        return _Cursor(index, None, None)
    return _Cursor(index, jnp.zeros(n, jnp.int32), jnp.asarray(-1, dtype=jnp.int32))


def _minibatch_rows(cursor: _Cursor, shuffle_key, n: int, batch_size: int):
    """Rows of step `cursor.index`: slice `index % (n // batch_size)` of the epoch's shuffle.

    Epoch `e` visits the rows in the order `permutation(fold_in(shuffle_key, e), n)`, cut
    into `n // batch_size` consecutive minibatches (the last `n % batch_size` rows of each
    shuffle wait for a later epoch). The permutation is computed once per epoch inside
    the step (a `lax.cond`), so a step costs O(batch_size), not O(n log n).
    """
    steps_per_epoch = n // batch_size
    epoch = cursor.index // steps_per_epoch
    order = jax.lax.cond(
        epoch == cursor.order_epoch,
        lambda: cursor.order,
        lambda: jax.random.permutation(jax.random.fold_in(shuffle_key, epoch), n)
        .astype(jnp.int32),
    )
    start = (cursor.index % steps_per_epoch) * batch_size
    rows = jax.lax.dynamic_slice_in_dim(order, start, batch_size)
    return rows, _Cursor(cursor.index, order, epoch.astype(jnp.int32))


@eqx.filter_jit
def _train_step(model, opt_state, data, cursor: _Cursor, key, config: _StepConfig):
    """One optimiser update, the `cursor.index + 1`-th of the run."""
    shuffle_key, step_key = jax.random.split(key)
    loss_key = jax.random.fold_in(step_key, cursor.index)
    if config.batch_size is None:
        batch = data
    else:
        n = jax.tree.leaves(data)[0].shape[0]
        rows, cursor = _minibatch_rows(cursor, shuffle_key, n, config.batch_size)
        batch = jax.tree.map(lambda x: jnp.take(x, rows, axis=0), data)
    batch = _constrain(batch, config.batch_sharding)

    def loss_and_aux(m):
        return _check_loss_output(config.loss_fn(m, batch, loss_key), config.has_aux)

    (loss, aux), grads = eqx.filter_value_and_grad(loss_and_aux, has_aux=True)(model)
    params = eqx.filter(model, eqx.is_inexact_array)
    updates, opt_state = config.optimizer.update(grads, opt_state, params)
    model = eqx.apply_updates(model, updates)
    model = _constrain(model, config.replicated)
    opt_state = _constrain(opt_state, config.replicated)
    cursor = _constrain(cursor._replace(index=cursor.index + 1), config.replicated)
    return model, opt_state, cursor, loss, aux


def _strong(tree):
    """Drop weak types from array leaves, so the step's outputs match its inputs' types."""
    return jax.tree.map(
        lambda x: jax.lax.convert_element_type(x, x.dtype)
        if isinstance(x, jax.Array) and x.weak_type else x,
        tree,
    )


def _positive_int_or_none(name: str, value) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 1):
        raise ValueError(f"fit: {name} must be a positive int or None, got {value!r}")


def _check_data(data) -> tuple[PyTree, int]:
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


class _Flusher:
    """Moves per-step losses from the device into `history`, checking they are finite."""

    def __init__(self, history: dict[str, Any], bar):
        self.history = history
        self.bar = bar
        self.pending: list[tuple[int, Any, Any]] = []

    def add(self, step: int, loss, aux) -> None:
        self.pending.append((step, loss, aux))

    def flush(self) -> None:
        if not self.pending:
            return
        steps = [s for s, _, _ in self.pending]
        values = jax.device_get([(loss, aux) for _, loss, aux in self.pending])
        self.pending = []
        for step, (loss, aux) in zip(steps, values, strict=True):
            loss = float(loss)
            if not math.isfinite(loss):
                raise FloatingPointError(
                    f"fit: the loss became {loss} at step {step} (the loss of the parameters "
                    f"after {step - 1} updates); stopping"
                )
            self.history["step"].append(step)
            self.history["loss"].append(loss)
            for name, value in aux.items():
                self.history["aux"].setdefault(name, []).append(float(value))
        postfix = {"loss": f"{self.history['loss'][-1]:.4g}"}
        for name, values_ in self.history["aux"].items():
            postfix[name] = f"{values_[-1]:.4g}"
        self.bar.set_postfix(postfix, refresh=False)


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

    - `loss_fn`: `loss_fn(model, batch, key) -> loss` (a floating-point scalar), or
      `-> (loss, aux)` with `aux` a dict of scalars when `has_aux=True`. `batch` has the
      structure of `data` with leading size `batch_size` (or `n`).
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

    **Returns:** a `FitResult` with the trained `model`, `opt_state`, `step` (`== steps`)
    and `history` (`"step"`, `"loss"`, `"aux"`, `"eval"`).

    **Raises:**

    - `ValueError` (at the call, before any step runs) naming the argument: `steps`,
      `batch_size`, `eval_every`, `checkpoint_every` not positive ints or out of range;
      leaves of `data` with different leading sizes; `checkpoint_every` or `resume=True`
      without `checkpoint_dir`; `data_axis` not an axis of `mesh` or a batch size not
      divisible by its size; a fresh run into a directory with checkpoints; a checkpoint
      beyond `steps` or written with another `key`; a `loss_fn` output of the wrong kind.
    - `FloatingPointError` naming the step, if the loss becomes NaN or infinite (training
      stops; no result is returned).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"fit: steps must be a positive int, got {steps!r}")
    data, n = _check_data(data)
    if batch_size is not None and (isinstance(batch_size, bool)
                                   or not isinstance(batch_size, int)
                                   or not 1 <= batch_size <= n):
        raise ValueError(
            f"fit: batch_size must be None or an int in 1..{n} (the number of examples in "
            f"data), got {batch_size!r}"
        )
    if batch_size == n:
        batch_size = None  # the same batch as drawing all n rows, without the gather
    _positive_int_or_none("eval_every", eval_every)
    _positive_int_or_none("checkpoint_every", checkpoint_every)
    if checkpoint_every is not None and checkpoint_dir is None:
        raise ValueError(
            f"fit: checkpoint_every={checkpoint_every} needs checkpoint_dir, got "
            "checkpoint_dir=None"
        )
    if resume and checkpoint_dir is None:
        raise ValueError("fit: resume=True needs checkpoint_dir, got checkpoint_dir=None")
    for i, callback in enumerate(callbacks):
        if not callable(callback):
            raise ValueError(f"fit: callbacks[{i}] must be callable, got {callback!r}")

    if mesh is None:
        batch_sharding = replicated = None
    else:
        if data_axis not in mesh.axis_names:
            raise ValueError(
                f"fit: data_axis must name an axis of mesh {tuple(mesh.axis_names)}, got "
                f"{data_axis!r}"
            )
        axis_size = mesh.shape[data_axis]
        rows = n if batch_size is None else batch_size
        if rows % axis_size:
            what = "n (full batch)" if batch_size is None else "batch_size"
            raise ValueError(
                f"fit: {what} must be divisible by the size {axis_size} of mesh axis "
                f"{data_axis!r}, got {rows}"
            )
        # The step relies on sharding propagation (GSPMD): the same mesh with Auto axes
        # lets `with_sharding_constraint` place the batch whatever axis types `mesh` has.
        auto_mesh = Mesh(mesh.devices, mesh.axis_names,
                         axis_types=(AxisType.Auto,) * len(mesh.axis_names))
        batch_sharding = NamedSharding(auto_mesh, P(data_axis))
        replicated = NamedSharding(auto_mesh, P())

    model = _strong(model)
    opt_state = _strong(optimizer.init(eqx.filter(model, eqx.is_inexact_array)))
    history: dict[str, Any] = {"step": [], "loss": [], "aux": {}, "eval": []}
    start = 0
    writes = checkpoint_dir is not None and jax.process_index() == 0
    if checkpoint_dir is not None:
        checkpoint_dir = Path(checkpoint_dir)
        existing = list_checkpoints(checkpoint_dir)
        if not resume and existing:
            raise ValueError(
                f"fit: checkpoint_dir {str(checkpoint_dir)!r} already holds checkpoints "
                f"(newest at step {existing[0][0]}); pass resume=True to continue from them "
                "or choose an empty directory"
            )
        if writes:
            remove_stale_temporaries(checkpoint_dir)
        for _, path in existing:
            try:
                loaded = load_checkpoint(path, model, opt_state)
            except CheckpointError as e:
                warnings.warn(f"fit: skipping checkpoint {path}: {e}", RuntimeWarning,
                              stacklevel=2)
                continue
            if loaded.step > steps:
                raise ValueError(
                    f"fit: resume=True found a checkpoint at step {loaded.step} in "
                    f"{str(checkpoint_dir)!r}, beyond steps={steps}; pass steps >= "
                    f"{loaded.step}"
                )
            if not _same_key_data(loaded.key, key):
                raise ValueError(
                    f"fit: resume=True needs the key the checkpointed run was started with; "
                    f"the key given differs from the one in {path}"
                )
            model, opt_state, start = _strong(loaded.model), loaded.opt_state, loaded.step
            for name, default in (("step", []), ("loss", []), ("aux", {}), ("eval", [])):
                history[name] = loaded.history.get(name, default)
            break

    cursor = _initial_cursor(start, n, batch_size)
    step_key = key
    if mesh is not None:
        model, opt_state, cursor, step_key = _constrain_host(
            (model, opt_state, cursor, step_key), replicated)
        data = jax.device_put(data, replicated if batch_size is not None else batch_sharding)
    config = _StepConfig(loss_fn, optimizer, batch_size, has_aux, batch_sharding, replicated)

    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    bar = tqdm.tqdm(total=steps, initial=start, disable=not progress, desc="fit",
                    unit="step", dynamic_ncols=True)
    flusher = _Flusher(history, bar)
    last_saved = start

    def save(step: int, model, opt_state) -> None:
        nonlocal last_saved
        flusher.flush()  # raises on a non-finite loss before anything is written
        if writes:
            save_checkpoint(checkpoint_path(checkpoint_dir, step), model, opt_state,
                            step=step, key=key, history=history)
            prune_checkpoints(checkpoint_dir, keep=_KEEP_CHECKPOINTS)
        last_saved = step

    # `state` is replaced by one assignment per step, so whenever a KeyboardInterrupt
    # arrives it holds a consistent (step, model, opt_state, cursor, loss, aux).
    state = (start, model, opt_state, cursor, None, None)
    try:
        for step in range(start + 1, steps + 1):
            state = (step, *_train_step(state[1], state[2], data, state[3], step_key, config))
            _, model, opt_state, cursor, loss, aux = state
            flusher.pending.append((step, loss, aux))  # (not a method: kept cheap per step)
            bar.update(1)
            is_last = step == steps
            evaluate = is_last or (eval_every is not None and step % eval_every == 0)
            checkpoint = checkpoint_dir is not None and (
                is_last or (checkpoint_every is not None and step % checkpoint_every == 0))
            if evaluate or checkpoint or len(flusher.pending) >= _SYNC_EVERY:
                flusher.flush()
            if evaluate and (eval_fn is not None or callbacks):
                metrics = {}
                if eval_fn is not None:
                    metrics = {name: float(value) for name, value in eval_fn(model).items()}
                    history["eval"].append((step, metrics))
                for callback in callbacks:
                    callback(step, model, {"loss": history["loss"][-1], **metrics})
            if checkpoint:
                save(step, model, opt_state)
    except KeyboardInterrupt:
        if checkpoint_dir is not None and state[0] > last_saved:
            _save_on_interrupt(state, flusher, save)
        raise
    finally:
        bar.close()
    flusher.flush()
    return FitResult(model=model, opt_state=opt_state, step=steps, history=history)


def _save_on_interrupt(state, flusher: _Flusher, save: Callable[..., None]) -> None:
    """Checkpoint the last finished step after a KeyboardInterrupt, if that is consistent."""
    step, model, opt_state, _, loss, aux = state
    if not flusher.pending or flusher.pending[-1][0] != step:
        recorded = flusher.pending[-1][0] if flusher.pending else (
            flusher.history["step"][-1] if flusher.history["step"] else 0)
        if recorded == step - 1:  # interrupted between the step and recording its loss
            flusher.add(step, loss, aux)
    flusher.flush()
    steps_seen = flusher.history["step"]
    consistent = (bool(steps_seen) and steps_seen[-1] == step
                  and (len(steps_seen) == 1 or steps_seen[-2] == step - 1)
                  and len(flusher.history["loss"]) == len(steps_seen))
    if consistent:
        save(step, model, opt_state)
    else:
        warnings.warn(f"fit: interrupted while recording step {step}; no checkpoint written "
                      f"for it (the last one is kept)", RuntimeWarning, stacklevel=3)


def _same_key_data(a, b) -> bool:
    """Whether two PRNG keys (typed or raw) hold the same key data."""
    a, b = _encode_key(a), _encode_key(b)
    return a["shape"] == b["shape"] and a["data"] == b["data"]


def _constrain_host(tree, sharding):
    """`jax.device_put` the array leaves of `tree` with `sharding`, leaving the rest."""
    arrays, static = eqx.partition(tree, eqx.is_array)
    return eqx.combine(jax.device_put(arrays, sharding), static)
