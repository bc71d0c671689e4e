import jax
import numpy as np
from jax.sharding import Mesh


def device_count(*, backend: str | None = None) -> int:
    """Number of devices visible to this process (all hosts), optionally for one backend.

    **Arguments:**

    - `backend`: `"cpu"`, `"gpu"`, `"tpu"` or `None` for the default backend.

    **Returns:** the global device count.
    """
    return len(jax.devices(backend))


def data_mesh(num_devices: int | None = None, *, axis_name: str = "data",
              devices=None) -> Mesh:
    """A one-dimensional mesh for data parallelism and ensembles.

    **Arguments:**

    - `num_devices`: how many devices to use; `None` uses all of `devices` (default: all
      devices of the default backend, across every host after `initialize_multihost`).
    - `axis_name`: the name of the mesh axis that batches are split along.
    - `devices`: an explicit sequence of devices (for example `jax.devices("cpu")`).

    **Returns:** a `jax.sharding.Mesh` of shape `(num_devices,)`.

    **Raises:** `ValueError` if `num_devices` is not in `1..len(devices)`.
    """
    devices = list(jax.devices() if devices is None else devices)
    if num_devices is None:
        num_devices = len(devices)
    if not isinstance(num_devices, int) or not 1 <= num_devices <= len(devices):
        raise ValueError(
            f"data_mesh: num_devices must be an int in 1..{len(devices)} (the devices "
            f"available), got {num_devices!r}"
        )
    if not isinstance(axis_name, str) or not axis_name:
        raise ValueError(f"data_mesh: axis_name must be a non-empty string, got {axis_name!r}")
    return Mesh(np.asarray(devices[:num_devices]), (axis_name,))
