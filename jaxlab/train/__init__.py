"""The one training loop of jaxlab: `fit`, with checkpoints, progress, callbacks, data parallelism.

`fit(loss_fn, model, data, optimizer, steps=..., key=...)` trains any equinox model with an
optax optimiser, calling `loss_fn(model, batch, key=key)`, and returns a `FitResult` (an
`eqx.Module` with `model`, `opt_state`, `step`, `history` and a `status`). Minibatches and
loss keys depend only on `(key, step)`, so an interrupted run resumed from its checkpoint
(`checkpoint_dir=..., resume=True`) ends bit-identical to an uninterrupted one. Checkpoints
are single files with a SHA-256 checksum, written atomically.
"""

from ._checkpoint import Checkpoint as Checkpoint
from ._checkpoint import CheckpointError as CheckpointError
from ._checkpoint import checkpoint_path as checkpoint_path
from ._checkpoint import latest_checkpoint as latest_checkpoint
from ._checkpoint import load_checkpoint as load_checkpoint
from ._checkpoint import save_checkpoint as save_checkpoint
from ._fit import FitResult as FitResult
from ._fit import fit as fit

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "FitResult",
    "checkpoint_path",
    "fit",
    "latest_checkpoint",
    "load_checkpoint",
    "save_checkpoint",
]
