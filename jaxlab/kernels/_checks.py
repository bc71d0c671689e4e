"""Input rules shared by the kernels (and the layers on them): integer promotion to the data's
floating dtype, and the grouped `B`, `C` shapes of the scan kernels."""

import jax.numpy as jnp

from .._core.checks import as_float_array, common_float_dtype, shape_str


def as_float_arrays(fn: str, **arrays) -> dict:
    """The arrays given (None entries kept as None) as real floating JAX arrays, by the
    library's integer rule: floating arrays keep their dtype; integer arrays take the
    floating dtype of the floating ones (`common_float_dtype`, so an integer argument never
    widens the result: JAX's own int-with-float promotion), or the default floating dtype
    when none is floating.

    **Raises:** `TypeError` naming the argument for a boolean, complex or non-numeric array.
    """
    checked = {name: None if x is None else as_float_array(fn, name, x)
               for name, x in arrays.items()}
    integer = [name for name, x in arrays.items()
               if x is not None and jnp.issubdtype(jnp.result_type(x), jnp.integer)]
    if integer:
        dtype = common_float_dtype(*[x for name, x in checked.items() if name not in integer])
        for name in integer:
            checked[name] = checked[name].astype(dtype)
    return checked


def check_grouped_bc(name, B, C, batch, length, n, channels, channel_name) -> int:
    """Check that B and C are (batch, L, N) or (batch, L, groups, N) with groups dividing the
    channel count, both with the same number of groups; return that number (1 when
    ungrouped). Raises `ValueError` naming B or C, the shape wanted and the shape given."""
    groups = None
    for arg, value in [("B", B), ("C", C)]:
        shape = jnp.shape(value)
        ok = (len(shape) == 3 and shape == (batch, length, n)) or (
            len(shape) == 4 and shape[:2] == (batch, length) and shape[3] == n
            and shape[2] > 0 and channels % shape[2] == 0)
        if not ok:
            raise ValueError(
                f"{name}: {arg} must have shape (batch, L, N) = {(batch, length, n)} or "
                f"(batch, L, groups, N) = ({batch}, {length}, groups, {n}) with groups "
                f"dividing {channel_name} = {channels}, got {shape_str(value)}")
        g = 1 if len(shape) == 3 else shape[2]
        if groups is not None and g != groups:
            raise ValueError(f"{name}: B and C must have the same number of groups, got "
                             f"{shape_str(B)} and {shape_str(C)}")
        groups = g
    return groups
