import jax


def initialize_multihost(coordinator_address: str | None = None,
                         num_processes: int | None = None,
                         process_id: int | None = None,
                         *, local_device_ids: list[int] | None = None,
                         **kwargs) -> dict[str, int]:
    """Start JAX's multi-host runtime so that meshes span every host's devices.

    A thin wrapper of `jax.distributed.initialize`: call it once per process, before any
    other JAX call. On Cloud TPU pods and SLURM/Open MPI clusters every argument can be
    left out (JAX discovers them from the environment); elsewhere give all three. After it,
    `jax.devices()` lists the devices of every host, so `data_mesh()` and `sharded_map`
    spread work over all of them, while each process feeds its own `jax.local_devices()`.

    **Arguments:**

    - `coordinator_address`: `"host:port"` of process 0.
    - `num_processes`: the total number of processes.
    - `process_id`: this process's index in `0..num_processes-1`.
    - `local_device_ids`: restrict this process to these local devices.
    - `**kwargs`: passed through to `jax.distributed.initialize`.

    **Returns:** `{"process_index", "process_count", "local_devices", "global_devices"}`.

    **Raises:** `ValueError` if only some of the three addressing arguments are given;
    whatever `jax.distributed.initialize` raises if the coordinator cannot be reached.
    """
    given = [a is not None for a in (coordinator_address, num_processes, process_id)]
    if any(given) and not all(given):
        raise ValueError(
            "initialize_multihost: give all of coordinator_address, num_processes and "
            "process_id, or none of them (auto-detection), got "
            f"coordinator_address={coordinator_address!r}, num_processes={num_processes!r}, "
            f"process_id={process_id!r}"
        )
    jax.distributed.initialize(coordinator_address, num_processes, process_id,
                               local_device_ids=local_device_ids, **kwargs)
    return {
        "process_index": jax.process_index(),
        "process_count": jax.process_count(),
        "local_devices": jax.local_device_count(),
        "global_devices": jax.device_count(),
    }
