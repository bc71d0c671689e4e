"""The grouped `B`, `C` shapes of the scan kernels (selective_scan and ssd_scan)."""

import jax.numpy as jnp

from .._core.checks import shape_str


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
