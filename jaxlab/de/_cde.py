"""Neural CDEs on irregular, partially observed time series: control paths and the model."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, PRNGKeyArray, Real

from .._core.checks import (
    as_float_array,
    check_bool,
    check_choice,
    check_int,
    check_key,
    message,
    shape_str,
)
from ._fields import MLPField
from ._ode import check_dt0, check_max_steps, check_times, ode_defaults
from ._solution import DESolution, solution

INTERPOLATIONS = ("hermite", "linear", "rectilinear")


def path_channels(data_channels: int, observation_counts: bool = True) -> int:
    """The number of channels of `control_path` for `data_channels` observed channels: time,
    the (forward-filled) values and, with `observation_counts`, one cumulative count per
    channel.

    **Raises:** `TypeError` unless `data_channels` is an int and `observation_counts` a bool;
    `ValueError` for `data_channels` < 1.
    """
    data_channels = check_int("path_channels", "data_channels", data_channels, minimum=1)
    observation_counts = check_bool("path_channels", "observation_counts", observation_counts)
    return 1 + data_channels * (2 if observation_counts else 1)


def observed_entries(fn: str, xs: Array, mask) -> Array:
    """The entries of `xs` that are observed: finite, and `True` in `mask` when one is given
    (a `ValueError` naming `fn` if `mask` does not have the shape of `xs`)."""
    observed = jnp.isfinite(xs)
    if mask is not None:
        mask = jnp.asarray(mask)
        if mask.shape != xs.shape:
            raise ValueError(message(fn, "mask", f"of the shape of xs {shape_str(xs)}",
                                     f"shape {shape_str(mask)}"))
        observed = observed & mask.astype(bool)
    return observed


def _fill_forward(xs, observed):
    # Carry the last observed value of each channel forward; before a channel's first
    # observation use that first observation (0 for a channel never observed).
    first_index = jnp.argmax(observed, axis=0)
    first = jnp.where(jnp.any(observed, axis=0),
                      jnp.take_along_axis(xs, first_index[None], axis=0)[0], 0.0)

    def step(last, row):
        x, seen = row
        new = jnp.where(seen, x, last)
        return new, new

    _, filled = jax.lax.scan(step, first.astype(xs.dtype), (xs, observed))
    return filled


def control_path(ts: Real[ArrayLike, " T"], xs: Real[ArrayLike, "T c"], *,
                 mask: Bool[ArrayLike, "T c"] | None = None, interpolation: str = "hermite",
                 observation_counts: bool = True) -> diffrax.AbstractPath:
    """A continuous control path X from irregular, partially observed data (t_i, x_i).

    Missing observations are NaN in `xs` (or `False` in `mask`); they are filled forward
    (causally: a value is never informed by the future) and, with `observation_counts`, each
    channel gets a companion channel counting its observations so far (divided by T, so it
    rises from ≤ 1/T to ≤ 1 on the scale of the data), so that the model can
    tell "missing" from "unchanged" (Kidger 2022, §3.3). Time is the first channel, which makes
    the CDE sensitive to the sampling times. NaNs never reach the path: a NaN in an
    observation is a missing value, not a number.

    **Arguments:**

    - `ts`: observation times, shape `(T,)`, strictly increasing.
    - `xs`: observations, shape `(T, c)`; NaN marks a missing value. (For series of different
      lengths, pad the end of `xs` with NaN: the value channels are then held constant.)
    - `mask`: optional, shape `(T, c)`; `False` marks a missing value (combined with NaNs).
    - `interpolation`: `"hermite"` (cubic Hermite with backward differences: C¹ and causal,
      the default), `"linear"` (causal only at the knots) or `"rectilinear"` (update time,
      then values: causal; the path is parametrised by its knot index, 0 … 2T − 2).

    **Returns:** a diffrax path whose `evaluate(t)` has shape `(path_channels(c,
    observation_counts),)`, usable as the control of `NeuralCDE` or `diffrax.ControlTerm`.

    Integer `ts` and `xs` are promoted to the default floating dtype; the path takes the
    floating dtype of `xs`.

    **Raises:** `ValueError` if `ts` is not 1-D with T ≥ 2, `xs` is not `(T, c)`, `mask` does
    not match `xs`, or `interpolation` is unknown; `TypeError` for a complex, boolean or
    non-numeric `ts` or `xs`, or a non-bool `observation_counts`.
    """
    ts = check_times("control_path", ts)
    xs = as_float_array("control_path", "xs", xs)
    if xs.ndim != 2 or xs.shape[0] != ts.shape[0] or xs.shape[1] < 1:
        raise ValueError(message("control_path", "xs", f"of shape (T, c) = ({ts.shape[0]}, c) "
                                 "with T the length of ts and c >= 1 channels",
                                 f"shape {shape_str(xs)}"))
    check_choice("control_path", "interpolation", interpolation, INTERPOLATIONS)
    observation_counts = check_bool("control_path", "observation_counts", observation_counts)
    observed = observed_entries("control_path", xs, mask)
    ts = ts.astype(xs.dtype)
    channels = [ts[:, None], _fill_forward(xs, observed)]
    if observation_counts:
        # the fraction of the T times observed so far: the count scaled to [0, 1], so that
        # its increments (1/T) are on the scale of the values'; raw counts (increments of 1
        # summing to ~T) swamped the data channels and the spirals classifier stayed at
        # chance (50% vs 99.6% without the channel, 150 steps)
        channels.append(jnp.cumsum(observed, axis=0).astype(xs.dtype) / xs.shape[0])
    ys = jnp.concatenate(channels, axis=1)
    if interpolation == "hermite":
        return diffrax.CubicInterpolation(ts, diffrax.backward_hermite_coefficients(ts, ys))
    if interpolation == "linear":
        return diffrax.LinearInterpolation(ts, ys)
    _, values = diffrax.rectilinear_interpolation(ts, ys)
    return diffrax.LinearInterpolation(jnp.arange(values.shape[0], dtype=xs.dtype), values)


class NeuralCDE(eqx.Module):
    """A neural controlled differential equation z_t = z₀ + ∫ f_θ(z_s) dX_s with readout.

    z₀ = ζ_θ(X_{t₀}) (a linear read-in of the path's first value), f_θ: ℝ^hidden →
    ℝ^{hidden × channels} an MLP with tanh output, and the output ℓ_θ(z_T) a linear readout of
    the final state. The path X is any diffrax path (e.g. from `control_path`), so the model
    reads irregular and partially observed series, and is the continuous-time analogue of an
    RNN.

    **Arguments:** `channels` (of the control path: `path_channels(c)` for `control_path`
    data with c channels), `hidden_size`, `out_size`, `width`, `depth`, `activation` (hidden
    activation of the field MLP: softplus; `lipswish` for a Lipschitz-controlled critic),
    `solver` (default `Tsit5`), `stepsize_controller` (default `PIDController(rtol=1e-3,
    atol=1e-6)`), `adjoint` (default `RecursiveCheckpointAdjoint()`; `BacksolveAdjoint()` and
    `DirectAdjoint()` also work), `dt0` (initial step; with `None` diffrax 0.7 starts at
    0.01, see `NeuralODE`), `max_steps`, `key`.

    **Raises:** `TypeError`/`ValueError` for a non-int or non-positive `channels`,
    `hidden_size`, `out_size` or `max_steps`, or a non-positive `dt0`.

    **Reference:** Kidger, Morrill, Foster & Lyons, *Neural Controlled Differential Equations
    for Irregular Time Series* (NeurIPS 2020); Kidger (2022), §3.
    """

    initial: eqx.nn.Linear
    field: MLPField
    readout: eqx.nn.Linear
    channels: int = eqx.field(static=True)
    hidden_size: int = eqx.field(static=True)
    solver: diffrax.AbstractSolver
    stepsize_controller: diffrax.AbstractStepSizeController
    adjoint: diffrax.AbstractAdjoint
    dt0: float | None = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def __init__(self, channels: int, hidden_size: int, out_size: int, *, width: int = 32,
                 depth: int = 2, activation=jax.nn.softplus,
                 solver: diffrax.AbstractSolver | None = None,
                 stepsize_controller: diffrax.AbstractStepSizeController | None = None,
                 adjoint: diffrax.AbstractAdjoint | None = None, dt0: float | None = None,
                 max_steps: int = 4096, key: PRNGKeyArray):
        for name, value in (("channels", channels), ("hidden_size", hidden_size),
                            ("out_size", out_size)):
            check_int("NeuralCDE", name, value, minimum=1)
        dt0 = check_dt0("NeuralCDE", dt0, none_ok=True)
        max_steps = check_max_steps("NeuralCDE", max_steps)
        k1, k2, k3 = jax.random.split(check_key("NeuralCDE", key), 3)
        self.initial = eqx.nn.Linear(channels, hidden_size, key=k1)
        self.field = MLPField(hidden_size, (hidden_size, channels), width=width, depth=depth,
                              activation=activation, final_activation=jnp.tanh, use_time=False,
                              key=k2)
        self.readout = eqx.nn.Linear(hidden_size, out_size, key=k3)
        self.channels = channels
        self.hidden_size = hidden_size
        self.solver, self.stepsize_controller, self.adjoint = ode_defaults(
            solver, stepsize_controller, adjoint)
        self.dt0 = dt0
        self.max_steps = max_steps

    def _check(self, path):
        if not isinstance(path, diffrax.AbstractPath):
            raise TypeError(message("NeuralCDE", "path", "a diffrax path (e.g. from "
                                    "jaxlab.de.control_path)", f"a {type(path).__name__}"))
        shape = jax.eval_shape(path.evaluate, path.t0).shape
        if shape != (self.channels,):
            raise ValueError(message("NeuralCDE", "path", f"a path of {self.channels} channels "
                                     f"(shape ({self.channels},) at each time)",
                                     f"shape {shape}"))

    def solve(self, path: diffrax.AbstractPath, ts: Real[ArrayLike, " S"] | None = None, *,
              throw: bool = True) -> DESolution:
        """The hidden state z read along `path`, saved at `ts`, with the solver's status.

        **Arguments:** `path` (a diffrax path of `channels` channels, e.g. from
        `control_path`), `ts` (save times `(S,)` within the path's interval; default: only
        the path's final time), `throw` (keyword-only: with `True` a failed solve raises at
        run time with the status's message; with `False` it is only reported).

        **Returns:** a `DESolution` with `ys` of shape `(S, hidden_size)` (`(1, hidden_size)`
        by default).

        **Raises:** `TypeError` if `path` is not a diffrax path; `ValueError` if it has the
        wrong number of channels or `ts` is not 1-D.
        """
        self._check(path)
        if ts is None:
            saveat = diffrax.SaveAt(t1=True)
        else:
            ts = as_float_array("NeuralCDE", "ts", ts, ndim=1)
            saveat = diffrax.SaveAt(ts=ts)
        x0 = path.evaluate(path.t0)
        z0 = self.initial(x0)
        term = diffrax.ControlTerm(self.field, path).to_ode()
        controller = self.stepsize_controller
        if isinstance(controller, diffrax.AbstractAdaptiveStepSizeController):
            # Step onto the knots of an interpolated control: dX/dt jumps there (linear) or
            # has a kink in its derivative (Hermite), which an error estimate straddling a
            # knot mistakes for stiffness.
            if isinstance(path, diffrax.LinearInterpolation):
                controller = diffrax.ClipStepSizeController(controller, jump_ts=path.ts)
            elif isinstance(path, diffrax.CubicInterpolation):
                controller = diffrax.ClipStepSizeController(controller, step_ts=path.ts)
        sol = diffrax.diffeqsolve(term, self.solver, path.t0, path.t1, self.dt0, z0,
                                  saveat=saveat, stepsize_controller=controller,
                                  adjoint=self.adjoint, max_steps=self.max_steps, throw=False)
        return solution("NeuralCDE", sol, throw)

    def __call__(self, path: diffrax.AbstractPath) -> Float[Array, " out"]:
        """The readout of the final hidden state, shape `(out_size,)`."""
        return self.readout(self.solve(path).ys[-1])

    def evolving(self, path: diffrax.AbstractPath,
                 ts: Real[ArrayLike, " S"]) -> Float[Array, "S out"]:
        """The readout at every time of `ts` (online prediction), shape `(S, out_size)`;
        raises if the solver fails."""
        return jax.vmap(self.readout)(self.solve(path, ts).ys)
