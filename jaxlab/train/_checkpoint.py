"""Training checkpoints: one self-checking file per step, written atomically.

A checkpoint file holds, in this order::

    b"JAXLABCK"                    8 bytes   magic
    header length                  8 bytes   little-endian unsigned
    payload length                 8 bytes   little-endian unsigned
    SHA-256(header + payload)     32 bytes
    header                                   UTF-8 JSON: format version, step, PRNG key, history
    payload                                  `eqx.tree_serialise_leaves((model, opt_state))`

The file is written to a temporary name in the same directory, flushed, fsynced and then
renamed onto its final name (`jaxlab._core.io.atomic_write_bytes`), so a reader sees either no
file or the whole file. The lengths and the checksum catch what atomic renames cannot
(a copy cut short, a disk that lost the tail after a power cut, bit rot): such a file is
rejected on load and `latest_checkpoint` falls back to the previous one.
"""

import hashlib
import io
import json
import os
import re
import struct
import warnings
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray, PyTree

from .._core.checks import check_int, check_key, message
from .._core.io import atomic_write_bytes

_MAGIC = b"JAXLABCK"
_PREAMBLE = struct.Struct("<8sQQ32s")
_FORMAT_VERSION = 1
_NAME_RE = re.compile(r"^checkpoint_(\d+)\.jlck$")


class CheckpointError(ValueError):
    """A file that should be a checkpoint is torn, corrupted or not a checkpoint at all."""


class Checkpoint(eqx.Module):
    """What `load_checkpoint` returns (its fields are keyword-only in the constructor).

    **Fields:**

    - `model`: the model, with the structure of `model_like`.
    - `opt_state`: the optimiser state, with the structure of `opt_state_like`.
    - `step`: the number of optimiser updates applied to reach `model`.
    - `key`: the PRNG key the run was started with (a typed key if one was saved, else the
      raw `uint32` key array).
    - `history`: the run's history up to `step` (see `jaxlab.train.fit`).
    - `path`: the file it was read from.
    """

    model: PyTree = eqx.field(kw_only=True)
    opt_state: PyTree = eqx.field(kw_only=True)
    step: int = eqx.field(kw_only=True)
    key: PRNGKeyArray = eqx.field(kw_only=True)
    history: dict[str, Any] = eqx.field(kw_only=True)
    path: Path = eqx.field(kw_only=True)


def checkpoint_path(checkpoint_dir: str | os.PathLike, step: int) -> Path:
    """The file name `fit` gives the checkpoint of `step` inside `checkpoint_dir`.

    **Arguments:**

    - `checkpoint_dir`: the directory holding a run's checkpoints.
    - `step`: a non-negative step number.

    **Returns:** `checkpoint_dir / "checkpoint_<step, 10 digits>.jlck"`.

    **Raises:** `TypeError` if `step` is not an int; `ValueError` if it is negative.
    """
    step = check_int("checkpoint_path", "step", step, minimum=0)
    return Path(checkpoint_dir) / f"checkpoint_{step:010d}.jlck"


def _encode_key(key) -> dict[str, Any]:
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        data = np.asarray(jax.random.key_data(key))
        impl = str(jax.random.key_impl(key))
        typed = True
    else:
        data = np.asarray(key)
        impl = None
        typed = False
    if data.dtype != np.uint32:
        raise TypeError(message("save_checkpoint", "key",
                                "a typed PRNG key or a uint32 key array", f"dtype {data.dtype}"))
    return {"typed": typed, "impl": impl, "shape": list(data.shape),
            "data": [int(v) for v in data.ravel()]}


def same_key_data(a, b) -> bool:
    """Whether two PRNG keys (typed or raw) hold the same key data."""
    a, b = _encode_key(a), _encode_key(b)
    return a["shape"] == b["shape"] and a["data"] == b["data"]


def _decode_key(record: dict[str, Any]):
    data = jnp.asarray(np.asarray(record["data"], dtype=np.uint32).reshape(record["shape"]))
    if record["typed"]:
        return jax.random.wrap_key_data(data, impl=record["impl"])
    return data


def _history_to_json(history: dict[str, Any]) -> dict[str, Any]:
    out = dict(history)
    if "eval" in out:
        out["eval"] = [[int(step), {k: float(v) for k, v in metrics.items()}]
                       for step, metrics in out["eval"]]
    return out


def _history_from_json(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    if "eval" in out:
        out["eval"] = [(int(step), dict(metrics)) for step, metrics in out["eval"]]
    return out


def save_checkpoint(
    path: str | os.PathLike,
    model: PyTree,
    opt_state: PyTree,
    *,
    step: int,
    key: PRNGKeyArray,
    history: dict[str, Any],
) -> Path:
    """Write a training checkpoint to `path` atomically, with a checksum.

    The arrays of `model` and `opt_state` are stored with `eqx.tree_serialise_leaves`;
    `step`, the raw data of `key` and `history` go into a JSON header. The file is written
    under a temporary name in the same directory, fsynced and renamed onto `path`, so `path`
    is never seen half-written.

    **Arguments:**

    - `path`: the file to write (its directory is created if missing). `fit` names files
      with `checkpoint_path(dir, step)`, which is what `latest_checkpoint` looks for.
    - `model`: the model pytree (any equinox Module or pytree of arrays).
    - `opt_state`: the optax optimiser state.
    - `step`: the number of optimiser updates applied to reach `model`.
    - `key`: the PRNG key of the run (typed key or raw `uint32` array).
    - `history`: a JSON-serialisable dict; an `"eval"` entry of `(step, metrics)` pairs is
      stored as lists and turned back into tuples on load.

    **Returns:** `path` as a `Path`.

    **Raises:** `TypeError` if `step` is not an int, `key` is not a PRNG key or `history`
    holds a value JSON cannot write; `ValueError` if `step` is negative or `history` holds
    a circular reference.
    """
    step = check_int("save_checkpoint", "step", step, minimum=0)
    check_key("save_checkpoint", key)
    header = {
        "format": "jaxlab.train.checkpoint",
        "version": _FORMAT_VERSION,
        "step": step,
        "key": _encode_key(key),
        "history": _history_to_json(history),
    }
    try:
        header_bytes = json.dumps(header).encode("utf-8")
    except TypeError as e:  # a value JSON has no type for
        raise TypeError(f"save_checkpoint: history must be JSON-serialisable, got: {e}") from e
    except ValueError as e:  # a circular reference
        raise ValueError(f"save_checkpoint: history must be JSON-serialisable, got: {e}") from e
    buffer = io.BytesIO()
    eqx.tree_serialise_leaves(buffer, (model, opt_state))
    payload = buffer.getvalue()
    digest = hashlib.sha256(header_bytes)
    digest.update(payload)
    preamble = _PREAMBLE.pack(_MAGIC, len(header_bytes), len(payload), digest.digest())
    return atomic_write_bytes(path, b"".join((preamble, header_bytes, payload)))


def _read_verified(path: Path) -> tuple[dict[str, Any], bytes]:
    """Read `path`, check magic, lengths and checksum; return (header, payload)."""
    try:
        blob = path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"load_checkpoint: cannot read {path}: {e}") from e
    if len(blob) < _PREAMBLE.size or blob[:8] != _MAGIC:
        raise CheckpointError(
            f"load_checkpoint: {path} is not a jaxlab checkpoint (no {_MAGIC!r} header; "
            f"{len(blob)} bytes)"
        )
    _, header_len, payload_len, digest = _PREAMBLE.unpack_from(blob)
    expected = _PREAMBLE.size + header_len + payload_len
    if len(blob) != expected:
        raise CheckpointError(
            f"load_checkpoint: {path} is truncated or has trailing bytes: its header says "
            f"{expected} bytes, the file has {len(blob)}"
        )
    body = memoryview(blob)[_PREAMBLE.size:]
    if hashlib.sha256(body).digest() != digest:
        raise CheckpointError(
            f"load_checkpoint: {path} fails its SHA-256 checksum (torn or corrupted file)"
        )
    header_bytes = bytes(body[:header_len])
    try:
        header = json.loads(header_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"load_checkpoint: {path} has an unreadable header: {e}") from e
    if header.get("format") != "jaxlab.train.checkpoint" or header.get("version") != 1:
        raise CheckpointError(
            f"load_checkpoint: {path} has format {header.get('format')!r} version "
            f"{header.get('version')!r}, wanted 'jaxlab.train.checkpoint' version 1"
        )
    return header, bytes(body[header_len:])


def load_checkpoint(path: str | os.PathLike, model_like: PyTree, opt_state_like: PyTree
                    ) -> Checkpoint:
    """Read and verify a checkpoint written by `save_checkpoint`.

    **Arguments:**

    - `path`: the checkpoint file.
    - `model_like`: a pytree with the structure, shapes and dtypes of the saved model (the
      freshly initialised model, or `eqx.filter_eval_shape` of its constructor).
    - `opt_state_like`: likewise for the optimiser state (e.g. `optimizer.init(params)`).

    **Returns:** a `Checkpoint` (`model`, `opt_state`, `step`, `key`, `history`, `path`).

    **Raises:**

    - `CheckpointError` (a `ValueError`) if the file is missing, not a checkpoint, truncated,
      or fails its SHA-256 checksum.
    - `ValueError` if the file is intact but its arrays do not match `model_like` /
      `opt_state_like` (different structure, shapes or dtypes).
    """
    path = Path(path)
    header, payload = _read_verified(path)
    buffer = io.BytesIO(payload)
    try:
        model, opt_state = eqx.tree_deserialise_leaves(buffer, (model_like, opt_state_like))
    except (RuntimeError, ValueError, EOFError, OSError) as e:
        raise ValueError(
            f"load_checkpoint: model_like/opt_state_like must match the arrays in {path}, got "
            f"a mismatch: {e}"
        ) from e
    if buffer.tell() != len(payload):
        raise ValueError(
            f"load_checkpoint: model_like/opt_state_like must account for the {len(payload)} "
            f"bytes of arrays in {path}, got a different structure accounting for "
            f"{buffer.tell()}"
        )
    return Checkpoint(model=model, opt_state=opt_state, step=int(header["step"]),
                      key=_decode_key(header["key"]),
                      history=_history_from_json(header["history"]), path=path)


def list_checkpoints(checkpoint_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """The `(step, path)` of every file named like a checkpoint in the directory, newest first.

    Files are not opened, so torn or corrupt ones are listed too; temporary files of
    unfinished writes are not.

    **Arguments:**

    - `checkpoint_dir`: a directory (a missing one has no checkpoints).

    **Returns:** a list of `(step, path)`, sorted by decreasing step.
    """
    directory = Path(checkpoint_dir)
    if not directory.is_dir():
        return []
    found = []
    for entry in directory.iterdir():
        match = _NAME_RE.match(entry.name)
        if match is not None and entry.is_file():
            found.append((int(match.group(1)), entry))
    return sorted(found, reverse=True)


def latest_checkpoint(checkpoint_dir: str | os.PathLike) -> Path | None:
    """The newest checkpoint in `checkpoint_dir` that passes its checksum.

    Files are tried from the highest step down; a torn or corrupt file is skipped with a
    `RuntimeWarning` naming it, so a run resumes from the previous good checkpoint.

    **Arguments:**

    - `checkpoint_dir`: the directory `fit` wrote checkpoints to.

    **Returns:** the path of the newest valid checkpoint, or `None` if there is none.
    """
    for step, path in list_checkpoints(checkpoint_dir):
        try:
            header, _ = _read_verified(path)
        except CheckpointError as e:
            warnings.warn(f"latest_checkpoint: skipping {path}: {e}", RuntimeWarning,
                          stacklevel=2)
            continue
        if header.get("step") != step:
            warnings.warn(
                f"latest_checkpoint: skipping {path}: its header says step "
                f"{header.get('step')}, its name says {step}", RuntimeWarning, stacklevel=2)
            continue
        return path
    return None


def prune_checkpoints(checkpoint_dir: str | os.PathLike, *, keep: int) -> None:
    """Delete all but the `keep` newest checkpoint files (by step) in `checkpoint_dir`."""
    for _, path in list_checkpoints(checkpoint_dir)[keep:]:
        path.unlink(missing_ok=True)


def remove_stale_temporaries(checkpoint_dir: str | os.PathLike) -> None:
    """Delete temporary files left by checkpoint writes that were killed mid-way."""
    directory = Path(checkpoint_dir)
    if not directory.is_dir():
        return
    for entry in directory.glob(".checkpoint_*.jlck.*.tmp"):
        entry.unlink(missing_ok=True)
