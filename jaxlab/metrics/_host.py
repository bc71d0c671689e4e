"""Host callbacks that keep float64 exact.

`jax.enable_x64` is thread-local, and XLA may run a `jax.pure_callback` on another thread,
where x64 is off: there the callback's float64 inputs are placed on the device as float32
(rounded to ~1e-7) before the Python function sees them. So float64 arrays cross the
boundary as their bits (uint32 pairs), both ways.
"""

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np


def _encode(x):
    return jax.lax.bitcast_convert_type(x, jnp.uint32) if x.dtype == jnp.float64 else x


def _encoded_shape(s: jax.ShapeDtypeStruct) -> jax.ShapeDtypeStruct:
    if s.dtype == jnp.float64:
        return jax.ShapeDtypeStruct((*s.shape, 2), jnp.uint32)
    return s


def host_callback(fn: Callable, result_shapes: Sequence[jax.ShapeDtypeStruct], *args):
    """`jax.pure_callback(fn, result_shapes, *args, vmap_method="sequential")` with float64
    inputs and outputs passed bit-exactly; `fn` gets NumPy arrays and returns a tuple of
    arrays of the shapes and dtypes of `result_shapes`. No gradient flows through it."""
    args = jax.lax.stop_gradient(args)
    wide_in = [a.dtype == jnp.float64 for a in args]
    wide_out = [s.dtype == jnp.float64 for s in result_shapes]

    def host(*encoded):
        decoded = [np.ascontiguousarray(e).view(np.float64)[..., 0] if wide else np.asarray(e)
                   for e, wide in zip(encoded, wide_in, strict=True)]
        outs = fn(*decoded)
        return tuple(
            np.array(o, np.float64, order="C")[..., None].view(np.uint32)
            if wide else np.asarray(o, s.dtype)
            for o, s, wide in zip(outs, result_shapes, wide_out, strict=True))

    outs = jax.pure_callback(host, tuple(_encoded_shape(s) for s in result_shapes),
                             *(_encode(a) for a in args), vmap_method="sequential")
    return tuple(jax.lax.bitcast_convert_type(o, jnp.float64) if wide else o
                 for o, wide in zip(outs, wide_out, strict=True))
