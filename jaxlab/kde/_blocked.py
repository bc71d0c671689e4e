"""Blocked, memory-bounded log-sum-exp of kernel terms over data and queries."""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.sharding import Mesh, PartitionSpec
from jaxtyping import Array, Float, Int

# One tile of squared distances is query_block × data_block numbers. Small tiles that stay
# in a core's cache win on CPU: measured on 2 cores (n = 10⁵, m = 10⁴, float32), 1024 × 256
# tiles took 0.78 s at d = 8 and 1.41 s at d = 32, against 1.88 s and 3.3 s for
# 1024 × 4096 tiles.
QUERY_BLOCK, DATA_BLOCK = 1024, 256
TILE_ELEMENTS = QUERY_BLOCK * DATA_BLOCK


def block_sizes(m: int, n: int, query_block: int | None, data_block: int | None
                ) -> tuple[int, int]:
    """Default block sizes: data blocks of up to 256 points, query blocks of up to 1024."""
    bn = data_block if data_block is not None else min(n, DATA_BLOCK)
    bq = query_block if query_block is not None else max(1, min(m, TILE_ELEMENTS // bn))
    return bq, bn


def _pad(x, size, value=0.0):
    extra = size - x.shape[0]
    if extra == 0:
        return x
    widths = [(0, extra)] + [(0, 0)] * (x.ndim - 1)
    return jnp.pad(x, widths, constant_values=value)


def _block_logsumexp(queries, query_index, data_blocks, log_weight_blocks, index_blocks,
                     log_profile, exclude_self):
    """log Σ_i exp(log w_i + log k(|q − y_i|²)) for one block of queries, scanning over data
    blocks with a running (max, scaled sum)."""
    q_sq = jnp.sum(queries**2, axis=1)
    dtype = queries.dtype

    def body(carry, block):
        running_max, running_sum = carry
        data, log_w, index = block
        r2 = q_sq[:, None] + jnp.sum(data**2, axis=1)[None, :] - 2.0 * queries @ data.T
        terms = log_w[None, :] + log_profile(jnp.maximum(r2, 0.0))
        if exclude_self:
            terms = jnp.where(query_index[:, None] == index[None, :], -jnp.inf, terms)
        block_max = jnp.max(terms, axis=1)
        new_max = jax.lax.stop_gradient(jnp.maximum(running_max, block_max))
        shift = jnp.where(jnp.isfinite(new_max), new_max, 0.0)
        running_sum = (running_sum * jnp.exp(running_max - shift)
                       + jnp.sum(jnp.exp(terms - shift[:, None]), axis=1))
        return (new_max, running_sum), None

    init = (jnp.full(queries.shape[0], -jnp.inf, dtype), jnp.zeros(queries.shape[0], dtype))
    (running_max, running_sum), _ = jax.lax.scan(
        body, init, (data_blocks, log_weight_blocks, index_blocks))
    shift = jnp.where(jnp.isfinite(running_max), running_max, 0.0)
    return shift + jnp.log(running_sum)


@eqx.filter_jit
def log_kernel_sums(queries: Float[Array, "m d"], data: Float[Array, "n d"],
                    log_weights: Float[Array, " n"], log_profile: Callable[[Array], Array], *,
                    query_block: int, data_block: int, exclude_self: bool = False,
                    query_index: Int[Array, " m"] | None = None, mesh: Mesh | None = None
                    ) -> Float[Array, " m"]:
    """log Σ_i w_i k(|q_j − y_i|²) for every query q_j, never holding more than one
    `query_block × data_block` tile of distances at a time.

    Queries are processed block by block (`lax.map`; across the devices of `mesh` when one
    is given, the data replicated); for each block the data are scanned in blocks with a
    running log-sum-exp. `exclude_self` drops the term i = query_index[j] (leave-one-out).
    Squared distances come from |q|² + |y|² − 2 q·y (a matmul); callers centre and whiten
    both sides first so the cancellation stays at rounding level.
    """
    m, d = queries.shape
    n = data.shape[0]
    dtype = queries.dtype
    num_data_blocks = -(-n // data_block)
    data = _pad(data, num_data_blocks * data_block)
    log_weights = _pad(log_weights, num_data_blocks * data_block, -jnp.inf)
    data_blocks = data.reshape(num_data_blocks, data_block, d)
    log_weight_blocks = log_weights.reshape(num_data_blocks, data_block)
    index_blocks = jnp.arange(num_data_blocks * data_block).reshape(num_data_blocks, data_block)
    if query_index is None:
        query_index = jnp.full((m,), -1)

    shards = 1 if mesh is None else mesh.size
    num_query_blocks = -(-m // (query_block * shards)) * shards
    queries = _pad(queries, num_query_blocks * query_block).reshape(
        num_query_blocks, query_block, d)
    query_index = _pad(query_index, num_query_blocks * query_block, -1).reshape(
        num_query_blocks, query_block)

    def over_blocks(q_blocks, i_blocks, data_blocks, log_weight_blocks, index_blocks):
        return jax.lax.map(
            lambda qi: _block_logsumexp(qi[0], qi[1], data_blocks, log_weight_blocks,
                                        index_blocks, log_profile, exclude_self),
            (q_blocks, i_blocks))

    if mesh is None:
        out = over_blocks(queries, query_index, data_blocks, log_weight_blocks, index_blocks)
    else:
        axis = mesh.axis_names[0]
        spec, replicated = PartitionSpec(axis), PartitionSpec()
        out = jax.shard_map(over_blocks, mesh=mesh,
                            in_specs=(spec, spec, replicated, replicated, replicated),
                            out_specs=spec, check_vma=False)(
            queries, query_index, data_blocks, log_weight_blocks, index_blocks)
    return out.reshape(-1)[:m].astype(dtype)
