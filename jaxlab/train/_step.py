"""The compiled training step of `fit`: minibatch selection, loss, gradient, update."""

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jax.sharding import NamedSharding


class StepConfig(NamedTuple):
    """The static configuration of the jitted step (hashable, so compiled once per config)."""

    loss_fn: Callable[..., Any]
    optimizer: optax.GradientTransformation
    batch_size: int | None
    has_aux: bool
    batch_sharding: NamedSharding | None
    replicated: NamedSharding | None


class Cursor(NamedTuple):
    """Where the run is: the 0-based step `index`, and the shuffle of the current epoch."""

    index: jax.Array  # int32 scalar: updates done so far
    order: jax.Array | None  # int32 (n,): permutation of the rows for epoch `order_epoch`
    order_epoch: jax.Array | None  # int32 scalar; -1 before the first permutation


def initial_cursor(start: int, n: int, batch_size: int | None) -> Cursor:
    """The cursor of a run that has done `start` updates (no epoch shuffled yet)."""
    index = jnp.asarray(start, dtype=jnp.int32)
    if batch_size is None:
        return Cursor(index, None, None)
    return Cursor(index, jnp.zeros(n, jnp.int32), jnp.asarray(-1, dtype=jnp.int32))


def constrain(tree, sharding):
    """`with_sharding_constraint` on the array leaves of `tree` (nothing when `sharding` is
    None)."""
    if sharding is None:
        return tree
    return jax.tree.map(
        lambda x: jax.lax.with_sharding_constraint(x, sharding) if eqx.is_array(x) else x, tree
    )


def strong(tree):
    """Drop weak types from array leaves, so the step's outputs match its inputs' types."""
    return jax.tree.map(
        lambda x: jax.lax.convert_element_type(x, x.dtype)
        if isinstance(x, jax.Array) and x.weak_type else x,
        tree,
    )


def check_loss_output(out, has_aux: bool):
    """`(loss, aux)` from what `loss_fn` returned, checked at trace time.

    **Raises:** `TypeError` for an output of the wrong kind (a tuple without `has_aux`, no
    `(loss, aux)` pair with it, an aux that is not a dict with string keys, a loss that is
    not floating-point); `ValueError` for a loss or aux entry that is not a scalar.
    """
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            got = (f"a tuple of length {len(out)}" if isinstance(out, tuple)
                   else "one array" if hasattr(out, "shape") else f"a {type(out).__name__}")
            raise TypeError(f"fit: loss_fn must return (loss, aux_dict) with has_aux=True, "
                            f"got {got}")
        loss, aux = out
        if not isinstance(aux, Mapping):
            raise TypeError(f"fit: the aux returned by loss_fn must be a dict of scalars, got "
                            f"a {type(aux).__name__}")
        for name, value in aux.items():
            if not isinstance(name, str):
                raise TypeError(f"fit: the aux returned by loss_fn must be a dict with string "
                                f"keys, got the key {name!r}")
            if jnp.shape(value) != ():
                raise ValueError(f"fit: the aux returned by loss_fn must be a dict of scalars, "
                                 f"got entry {name!r} of shape {jnp.shape(value)}")
        aux = dict(aux)
    else:
        if isinstance(out, tuple):
            raise TypeError("fit: loss_fn must return a scalar loss (pass has_aux=True if it "
                            "returns (loss, aux_dict)), got a tuple")
        loss, aux = out, {}
    if not jnp.issubdtype(jnp.result_type(loss), jnp.inexact):
        raise TypeError(f"fit: loss_fn must return a floating-point scalar loss, got dtype "
                        f"{jnp.result_type(loss)}")
    if jnp.shape(loss) != ():
        raise ValueError(f"fit: loss_fn must return a floating-point scalar loss, got shape "
                         f"{jnp.shape(loss)}")
    return loss, aux


def _minibatch_rows(cursor: Cursor, shuffle_key, n: int, batch_size: int):
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
    return rows, Cursor(cursor.index, order, epoch.astype(jnp.int32))


@eqx.filter_jit
def train_step(model, opt_state, data, cursor: Cursor, key, config: StepConfig):
    """One optimiser update, the `cursor.index + 1`-th of the run: the minibatch of the
    cursor, `loss_fn(model, batch, key=fold_in(step_key, index))`, its gradient, the update.

    **Returns:** `(model, opt_state, cursor, loss, aux)` after the update (`loss` and `aux`
    of the parameters before it).
    """
    shuffle_key, step_key = jax.random.split(key)
    loss_key = jax.random.fold_in(step_key, cursor.index)
    if config.batch_size is None:
        batch = data
    else:
        n = jax.tree.leaves(data)[0].shape[0]
        rows, cursor = _minibatch_rows(cursor, shuffle_key, n, config.batch_size)
        batch = jax.tree.map(lambda x: jnp.take(x, rows, axis=0), data)
    batch = constrain(batch, config.batch_sharding)

    def loss_and_aux(m):
        return check_loss_output(config.loss_fn(m, batch, key=loss_key), config.has_aux)

    (loss, aux), grads = eqx.filter_value_and_grad(loss_and_aux, has_aux=True)(model)
    params = eqx.filter(model, eqx.is_inexact_array)
    updates, opt_state = config.optimizer.update(grads, opt_state, params)
    model = eqx.apply_updates(model, updates)
    model = constrain(model, config.replicated)
    opt_state = constrain(opt_state, config.replicated)
    cursor = constrain(cursor._replace(index=cursor.index + 1), config.replicated)
    return model, opt_state, cursor, loss, aux
