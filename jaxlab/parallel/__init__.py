"""Device meshes, sharded ensembles and multi-host start-up.

Work beyond one device is expressed with `jax.sharding` meshes. `sharded_map` runs a
per-item function over a batch split across devices with `jax.shard_map`, so every device
runs its own (adaptive, data-dependent) loop over its slice of the batch.
"""

from ._mesh import data_mesh as data_mesh
from ._mesh import device_count as device_count
from ._multihost import initialize_multihost as initialize_multihost
from ._sharded_map import sharded_map as sharded_map

__all__ = ["data_mesh", "device_count", "initialize_multihost", "sharded_map"]
