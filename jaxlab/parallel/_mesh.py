import jax
import numpy as np
from jax.sharding import Mesh

from .._core.checks import check_instance, check_int, message


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

    **Raises:** `TypeError` if `num_devices` is not an int or `axis_name` not a string;
    `ValueError` if `num_devices` is not in `1..len(devices)` or `axis_name` is empty.
    """
    devices = list(jax.devices() if devices is None else devices)
    if num_devices is None:
        num_devices = len(devices)
    num_devices = check_int("data_mesh", "num_devices", num_devices, minimum=1,
                            maximum=len(devices))
    check_instance("data_mesh", "axis_name", axis_name, str, "a non-empty string")
    if not axis_name:
        raise ValueError(message("data_mesh", "axis_name", "a non-empty string", "''"))
    return Mesh(np.asarray(devices[:num_devices]), (axis_name,))
