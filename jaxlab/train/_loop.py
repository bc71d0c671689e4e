"""The host side of `fit`: the step loop, its loss log, evaluations, callbacks, and the
checkpoints it restores from and writes."""

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
from jaxtyping import PyTree

from ._checkpoint import (
    CheckpointError,
    checkpoint_path,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    remove_stale_temporaries,
    same_key_data,
    save_checkpoint,
)
from ._step import Cursor, StepConfig, strong, train_step

# Losses stay on the device and are fetched in blocks of this many steps (and at every
# eval, checkpoint and the end): a host sync per step would stall JAX's asynchronous
# dispatch. Non-finite losses are therefore caught at most this many steps late.
SYNC_EVERY = 50
_KEEP_CHECKPOINTS = 2


def empty_history() -> dict[str, Any]:
    """The history of a run with no steps yet."""
    return {"step": [], "loss": [], "aux": {}, "eval": []}


class LossLog:
    """Moves per-step losses from the device into `history` in blocks, checking they are
    finite: a non-finite loss raises `FloatingPointError` when `throw`, else it is recorded
    (`nonfinite_step`) and the loop stops."""

    def __init__(self, history: dict[str, Any], bar, throw: bool):
        self.history = history
        self.bar = bar
        self.throw = throw
        self.pending: list[tuple[int, Any, Any]] = []
        self.nonfinite_step: int | None = None

    def add(self, step: int, loss, aux) -> None:
        self.pending.append((step, loss, aux))

    def flush(self) -> bool:
        """Record the pending losses; whether every loss so far is finite."""
        if not self.pending:
            return self.nonfinite_step is None
        steps = [s for s, _, _ in self.pending]
        values = jax.device_get([(loss, aux) for _, loss, aux in self.pending])
        self.pending = []
        for step, (loss, aux) in zip(steps, values, strict=True):
            loss = float(loss)
            if not math.isfinite(loss) and self.nonfinite_step is None:
                if self.throw:
                    raise FloatingPointError(
                        f"fit: the loss became {loss} at step {step} (the loss of the "
                        f"parameters after {step - 1} updates); stopping (pass throw=False "
                        "to get the result with status RESULTS.nonfinite instead)")
                self.nonfinite_step = step
            self.history["step"].append(step)
            self.history["loss"].append(loss)
            for name, value in aux.items():
                self.history["aux"].setdefault(name, []).append(float(value))
        postfix = {"loss": f"{self.history['loss'][-1]:.4g}"}
        for name, values_ in self.history["aux"].items():
            postfix[name] = f"{values_[-1]:.4g}"
        self.bar.set_postfix(postfix, refresh=False)
        return self.nonfinite_step is None


class LoopState(NamedTuple):
    """The run after `step` updates (`loss`, `aux`: those of that step, None at the start)."""

    step: int
    model: PyTree
    opt_state: PyTree
    cursor: Cursor
    loss: Any
    aux: Any


class Schedule(NamedTuple):
    """When the loop evaluates (and calls back) and checkpoints, besides after the last step."""

    steps: int
    eval_every: int | None
    checkpoint_every: int | None
    checkpoints: bool

    def due(self, step: int) -> tuple[bool, bool]:
        """`(evaluate, checkpoint)` after `step`."""
        is_last = step == self.steps
        evaluate = is_last or (self.eval_every is not None and step % self.eval_every == 0)
        checkpoint = self.checkpoints and (
            is_last or (self.checkpoint_every is not None and step % self.checkpoint_every == 0))
        return evaluate, checkpoint


def evaluate(step: int, model, eval_fn: Callable[[PyTree], Mapping[str, Any]] | None,
             callbacks: Sequence[Callable[..., Any]], history: dict[str, Any]) -> None:
    """Run `eval_fn` (recorded in `history["eval"]`) and the callbacks after `step`."""
    if eval_fn is None and not callbacks:
        return
    metrics = {}
    if eval_fn is not None:
        metrics = {name: float(value) for name, value in eval_fn(model).items()}
        history["eval"].append((step, metrics))
    for callback in callbacks:
        callback(step, model, {"loss": history["loss"][-1], **metrics})


class RunCheckpoints:
    """The checkpoints of one run in `directory`: restoring the newest valid one, writing
    (on process 0 only) and pruning to the newest two."""

    def __init__(self, directory: Path, key, start: int = 0):
        self.directory = directory
        self.key = key
        self.writes = jax.process_index() == 0
        self.last_saved = start

    def restore(self, resume: bool, model, opt_state, steps: int):
        """`(model, opt_state, step, history)` of the newest valid checkpoint, or None.

        **Raises:** `ValueError` for a fresh run (`resume=False`) into a directory with
        checkpoints, a checkpoint beyond `steps`, or one written with another key.
        """
        existing = list_checkpoints(self.directory)
        if not resume and existing:
            raise ValueError(
                f"fit: checkpoint_dir must hold no checkpoints for a fresh run (pass "
                f"resume=True to continue from them or choose an empty directory), got "
                f"{str(self.directory)!r} holding checkpoints (newest at step "
                f"{existing[0][0]})")
        if self.writes:
            remove_stale_temporaries(self.directory)
        for _, path in existing:
            try:
                loaded = load_checkpoint(path, model, opt_state)
            except CheckpointError as e:
                warnings.warn(f"fit: skipping checkpoint {path}: {e}", RuntimeWarning,
                              stacklevel=3)
                continue
            if loaded.step > steps:
                raise ValueError(
                    f"fit: steps must be at least the step of the checkpoint that resume=True "
                    f"found ({loaded.step}, in {str(self.directory)!r}), got {steps}")
            if not same_key_data(loaded.key, self.key):
                raise ValueError(
                    f"fit: key must be the key the checkpointed run was started with "
                    f"(resume=True), got a key that differs from the one in {path}")
            history = empty_history()
            for name in history:
                history[name] = loaded.history.get(name, history[name])
            self.last_saved = loaded.step
            return strong(loaded.model), loaded.opt_state, loaded.step, history
        return None

    def save(self, step: int, model, opt_state, log: LossLog) -> None:
        """Checkpoint the run after `step` (its losses already flushed), unless a loss became
        non-finite."""
        if log.nonfinite_step is not None:
            return
        if self.writes:
            save_checkpoint(checkpoint_path(self.directory, step), model, opt_state,
                            step=step, key=self.key, history=log.history)
            prune_checkpoints(self.directory, keep=_KEEP_CHECKPOINTS)
        self.last_saved = step

    def save_on_interrupt(self, state: LoopState, log: LossLog) -> None:
        """Checkpoint the last finished step after a KeyboardInterrupt, if that is
        consistent (its loss recorded, and no step missing before it)."""
        if state.step <= self.last_saved:
            return
        step = state.step
        if not log.pending or log.pending[-1][0] != step:
            recorded = log.pending[-1][0] if log.pending else (
                log.history["step"][-1] if log.history["step"] else 0)
            if recorded == step - 1:  # interrupted between the step and recording its loss
                log.add(step, state.loss, state.aux)
        log.flush()
        steps_seen = log.history["step"]
        consistent = (bool(steps_seen) and steps_seen[-1] == step
                      and (len(steps_seen) == 1 or steps_seen[-2] == step - 1)
                      and len(log.history["loss"]) == len(steps_seen))
        if consistent:
            self.save(step, state.model, state.opt_state, log)
        else:
            warnings.warn(f"fit: interrupted while recording step {step}; no checkpoint "
                          f"written for it (the last one is kept)", RuntimeWarning,
                          stacklevel=4)


def run_steps(state: LoopState, data, step_key, config: StepConfig, schedule: Schedule,
              log: LossLog, checkpoints: RunCheckpoints | None,
              eval_fn: Callable[[PyTree], Mapping[str, Any]] | None,
              callbacks: Sequence[Callable[..., Any]]) -> LoopState:
    """Run the steps `state.step + 1 .. schedule.steps` (fewer if a loss becomes non-finite
    with `throw=False`), evaluating, calling back and checkpointing as scheduled.

    On `KeyboardInterrupt` the last finished step is checkpointed before the interrupt
    propagates. **Returns:** the state after the last step run, its losses flushed.
    """
    try:
        for step in range(state.step + 1, schedule.steps + 1):
            # One assignment per step, so whenever a KeyboardInterrupt arrives `state` is
            # a consistent (step, model, opt_state, cursor, loss, aux).
            state = LoopState(step, *train_step(state.model, state.opt_state, data,
                                                state.cursor, step_key, config))
            log.pending.append((step, state.loss, state.aux))  # (no method call: cheap)
            log.bar.update(1)
            evaluate_now, checkpoint_now = schedule.due(step)
            if evaluate_now or checkpoint_now or len(log.pending) >= SYNC_EVERY:
                if not log.flush():
                    break
            if evaluate_now:
                evaluate(step, state.model, eval_fn, callbacks, log.history)
            if checkpoint_now:
                checkpoints.save(step, state.model, state.opt_state, log)
    except KeyboardInterrupt:
        if checkpoints is not None:
            checkpoints.save_on_interrupt(state, log)
        raise
    log.flush()
    return state
