"""The Brownian driver of the fixed-step neural SDEs."""

import diffrax
import jax

from .._core.brownian import GridBrownianPath
from .._core.checks import check_int


def brownian_driver(ts, noise_size: int, dtype, key, dt0: float, grid_steps: int | None):
    """The Brownian path and stepping of a fixed-step neural SDE on [ts[0], ts[-1]]:
    `(path, dt0, stepsize_controller)` — a `VirtualBrownianTree` (tolerance dt0/2) with steps
    of dt0, or, with `grid_steps`, a `GridBrownianPath` stepped exactly on its grid."""
    shape = (noise_size,)
    if grid_steps is None:
        bm = diffrax.VirtualBrownianTree(ts[0], ts[-1], tol=dt0 / 2,
                                         shape=jax.ShapeDtypeStruct(shape, dtype), key=key)
        return bm, dt0, diffrax.ConstantStepSize()
    bm = GridBrownianPath(ts[0], ts[-1], grid_steps, shape, key=key, dtype=dtype)
    return bm, None, diffrax.StepTo(ts=bm.grid)


def check_grid_steps(owner: str, grid_steps) -> None:
    check_int(owner, "grid_steps", grid_steps, minimum=1, none_ok=True)
