"""sharded_map (one slice per device) against plain vmap and automatic sharding of a vmap."""

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from jaxlab.parallel import data_mesh, sharded_map
from jaxlab.systems import Lorenz, lyapunov_spectrum

from ._timing import best_of, compile_time, record


def _member(y0):
    return lyapunov_spectrum(Lorenz(), y0, num_intervals=200, interval=0.3,
                             transient=5.0).exponents


def test_sharded_lyapunov_ensemble(benchmark):
    mesh = data_mesh()
    y0s = jnp.asarray(np.array(Lorenz.default_ic) +
                      np.random.default_rng(0).normal(size=(8 * mesh.size, 3)), jnp.float32)
    compile_s = compile_time(lambda y: sharded_map(_member, y, mesh=mesh), y0s)
    benchmark.pedantic(lambda: jax.block_until_ready(sharded_map(_member, y0s, mesh=mesh)),
                       rounds=3)
    vmapped = jax.jit(jax.vmap(_member))
    jax.block_until_ready(vmapped(y0s))
    vmap_s = best_of(vmapped, y0s)
    placed = jax.device_put(y0s, NamedSharding(mesh, PartitionSpec(mesh.axis_names[0])))
    jax.block_until_ready(vmapped(placed))
    auto_s = best_of(vmapped, placed)
    record(benchmark, peer_name="jax.vmap on one device", peer_s=vmap_s, compile_s=compile_s,
           devices=mesh.size, auto_sharded_vmap_s=auto_s,
           speedup_vs_auto_sharding=auto_s / benchmark.stats.stats.min)
