"""jaxlab.de training steps against PyTorch 2.13 (CPU) with torchdiffeq 0.2.5 / torchcde 0.2.5.

One *training step* = loss + gradient (backpropagation through the solver) + Adam update
(optax `adam(1e-3)` / `torch.optim.Adam(lr=1e-3)`), float32 on both sides, the same data
and the same initial weights (copied from the jaxlab model into the PyTorch one), timed in
the same run. Both sides use the Dormand–Prince 5(4) pair (`diffrax.Dopri5()` /
torchdiffeq `"dopri5"`: the same tableau, the same 4th-order dense output) with the same
I-controller (`PIDController(rtol=1e-3, atol=1e-6)`; torchdiffeq's default controller is
the same rule: RMS norm, safety 0.9, step factor in [0.2, 10], exponent 1/5), the same
first step 0.01 (`dt0=0.01` / `options["first_step"]`; see below) and discretise-then-
optimise gradients (`RecursiveCheckpointAdjoint`, the jaxlab default / `odeint`, not
`odeint_adjoint`; `cdeint(adjoint=False)`).

1. **Neural ODE**, state 2, field MLP (t, y) → 64 → 64 → 2 with softplus (time the first
   input), 256 trajectories of a damped linear spiral y' = [[-0.1, 2], [-2, -0.1]] y
   (closed form) at 32 times on [0, 10], MSE loss over all times. Two sets of weights:
   `init` (the initialised field is slow: ~5 solver steps) and `fitted` (the field first
   regressed on the true one, no solver involved, so the solver takes the ~22 steps of a
   model that has learnt the spiral). Two jaxlab variants:
   - `vmap`: `jax.vmap` of `NeuralODE` over the trajectories, what a jaxlab user writes:
     every trajectory has its own step sizes (the vmapped loop runs until the slowest is
     done).
   - `joint`: `NeuralODE(field=...)` with a field that applies the same `MLPField` to every
     trajectory of the flattened batch, so the whole batch is one ODE with one step size
     and the RMS error norm over the batch — exactly what torchdiffeq does with a batched
     `y0`. This is the same computation as the PyTorch side.
2. **Neural CDE**, `control_path(ts, xs, interpolation="hermite", observation_counts=False)`
   (time + 2 channels), hidden 16, field MLP 16 → 64 → 64 → 16·3 with softplus and tanh
   output, linear read-in of X(t₀) and linear readout to one logit, binary cross-entropy;
   128 noisy spirals of length 50 (clockwise vs anticlockwise, as in torchcde's example).
   PyTorch: `torchcde.hermite_cubic_coefficients_with_backward_differences` (the same
   Hermite cubic with backward differences as diffrax's `backward_hermite_coefficients`),
   time as its first channel, and `torchcde.CubicSpline`. jaxlab vmaps `NeuralCDE` over the
   series (its API takes one path), so each series has its own steps, while torchcde solves
   the batch jointly; the step counts (recorded in `extra_info`) come out equal here, since
   the solver steps onto each of the 49 knots. The paths / spline coefficients are built
   once, outside the step, on both sides (torchcde's recommended use).

What makes the PyTorch side take exactly diffrax's steps:
- `options["step_t"]`: torchdiffeq steps onto the final time (diffrax clips its last step
  to t1; torchdiffeq would otherwise step past it and interpolate back) and, for the CDE,
  onto every knot of the spline, as `NeuralCDE` does with a Hermite path
  (`ClipStepSizeController(step_ts=path.ts)`).
- `first_step` = `dt0` = 0.01: diffrax 0.7.2 never runs its initial-step heuristic
  (`diffeqsolve` wraps the terms in `WrapTerm` before `PIDController.init`, whose
  `_select_initial_step` returns 0.01 for anything that is not an `ODETerm`), so 0.01 *is*
  what jaxlab's `dt0=None` gives (checked: also for y' = -100 y); torchdiffeq's Hairer
  heuristic would pick 0.093 (`init`) / 0.028 (`fitted`) for the ODE batch here.

`test_*_same_computation` (also marked `benchmark`) copies the jaxlab weights into the
PyTorch modules and checks that the loss and every weight and bias gradient agree, in
float64 (the same computation: round-off only) and float32 (see AGREEMENT): the `joint`
ODE against torchdiffeq on the full batch, and the per-trajectory `vmap` models (ODE and
CDE) against PyTorch solving the same trajectories one at a time (a batch of one has that
trajectory's own step sizes).

Ratios: `speedup_vs_peer` = PyTorch time / jaxlab time (> 1: jaxlab faster) and
`ratio_jaxlab_over_torch` its inverse, from the fastest of ROUNDS steps on each side;
medians are in `extra_info` too, and the same against PyTorch on one thread
(`speedup_vs_peer_1thread`; see `_run`). Each side carries its model and optimiser state
from step to step, as training does. The jaxlab compile time (first call of the jitted step) is
reported separately. PyTorch runs with `torch.set_num_threads` = the cores of this process
(the cores XLA's CPU thread pool uses; 2 on the project machine). Everything is float32
whatever `jax_enable_x64` says (other benchmark files turn it on): the jaxlab models are
initialised with x64 off and cast.
"""

import functools
import os
import statistics
import time

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxlab.de import MLPField, NeuralCDE, NeuralODE, control_path, path_channels

from ._timing import compile_time, record

RTOL, ATOL = 1e-3, 1e-6
FIRST_STEP = 0.01                      # = diffrax 0.7.2's dt0=None (see the docstring)
LEARNING_RATE = 1e-3
ODE_SIZE, ODE_WIDTH, ODE_DEPTH = 2, 64, 2
ODE_BATCH, ODE_TIMES, ODE_T1 = 256, 32, 10.0
SPIRAL = np.array([[-0.1, 2.0], [-2.0, -0.1]])
FIT_STEPS, FIT_POINTS = 500, 4096      # regression of the field on SPIRAL @ y ("fitted")
CDE_DATA_CHANNELS, CDE_HIDDEN, CDE_WIDTH, CDE_DEPTH = 2, 16, 64, 2
CDE_BATCH, CDE_LENGTH = 128, 50
CDE_CHANNELS = path_channels(CDE_DATA_CHANNELS, observation_counts=False)     # time + 2
ROUNDS = 10
GUARD_SERIES = 4                       # trajectories of the per-trajectory agreement checks
# Relative agreement required of (loss, each gradient). float64: the same steps and the same
# arithmetic, so round-off only: ≤ 4e-13 measured in a fresh process (float64 runs first for
# that reason: after a float32 diffrax solve in the same process, a float64 one under
# `jax.enable_x64` saves values at SaveAt(ts) that differ by ~1e-9 — seemingly a cached
# constant stays float32 — still 10⁵ below any difference of algorithm). float32:
# measured ≤ 3.1e-5 (loss) and ≤ 7.3e-5 (gradients); that is the float32 floor of this
# problem, not a difference of algorithm: each side's float32 result is itself that far from
# the float64 one (`init` gradients: PyTorch 4.8e-5, jaxlab 1.2e-4 — a sum with much
# cancellation; `fitted` loss, a mean of small residuals: PyTorch 2.4e-5, jaxlab 7.3e-6).
AGREEMENT = {"float32": (1e-4, 2e-4), "float64": (1e-8, 1e-8)}


def _load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


TORCH_THREADS = len(os.sched_getaffinity(0))      # the cores XLA's CPU thread pool uses


@functools.cache
def _torch():
    import torch

    torch.set_num_threads(TORCH_THREADS)
    return torch


def _cast(tree, dtype=jnp.float32):
    return jax.tree.map(lambda x: x.astype(dtype) if eqx.is_inexact_array(x) else x, tree)


def _times(fn, rounds):
    """Wall times of `rounds` calls of `fn` (the peer side; jaxlab's come from `benchmark`)."""
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        out.append(time.perf_counter() - start)
    return out


# ----------------------------------------------------------------------------- data


def spiral_data(batch=ODE_BATCH, times=ODE_TIMES, seed=0):
    """`ts: (T,)`, `ys: (batch, T, 2)`: y' = [[-0.1, 2], [-2, -0.1]] y, y(0) on the annulus
    1 <= |y| <= 2; exact solution e^{-0.1 t} R(2t) y(0), computed in float64."""
    rng = np.random.default_rng(seed)
    radius, angle = rng.uniform(1.0, 2.0, batch), rng.uniform(0.0, 2 * np.pi, batch)
    y0 = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    ts = np.linspace(0.0, ODE_T1, times)
    c, s, decay = np.cos(2 * ts), np.sin(2 * ts), np.exp(-0.1 * ts)
    rot = decay[:, None, None] * np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], -2)
    ys = np.einsum("tij,bj->bti", rot, y0)
    return ts.astype(np.float32), ys.astype(np.float32)


def cde_data(batch=CDE_BATCH, length=CDE_LENGTH, seed=0):
    """`ts: (L,)`, `xs: (batch, L, 2)`, `labels: (batch,)`: spirals that turn anticlockwise
    (label 1) or clockwise (label 0), with 0.01 noise on x (torchcde's example)."""
    rng = np.random.default_rng(seed)
    ts = np.linspace(0.0, 4 * np.pi, length)
    start = rng.uniform(0.0, 2 * np.pi, batch)[:, None]
    x = np.cos(start + ts) / (1 + 0.5 * ts)
    y = np.sin(start + ts) / (1 + 0.5 * ts)
    labels = (np.arange(batch) % 2).astype(np.float32)
    x = np.where(labels[:, None] == 1, x, -x) + 0.01 * rng.normal(size=x.shape)
    order = rng.permutation(batch)
    xs = np.stack([x, y], axis=-1)[order]
    return ts.astype(np.float32), xs.astype(np.float32), labels[order]


# ----------------------------------------------------------------------------- jaxlab side


def _solver_kwargs():
    return {"solver": diffrax.Dopri5(), "dt0": FIRST_STEP,
            "stepsize_controller": diffrax.PIDController(rtol=RTOL, atol=ATOL)}


class BatchField(eqx.Module):
    """One `MLPField` applied to each trajectory of a flattened batch `(B·size,)`: the batch
    as one ODE (one step size, one error norm), as torchdiffeq solves a batched `y0`."""

    field: MLPField
    size: int = eqx.field(static=True)

    def __call__(self, t, y, args=None):
        rows = jax.vmap(self.field, in_axes=(None, 0))(t, y.reshape(-1, self.size))
        return rows.reshape(-1)


def jax_ode(seed=0):
    # Initialised with x64 off, so that the weights do not depend on whether another
    # benchmark file has turned `jax_enable_x64` on (it changes what the random draws give).
    with jax.enable_x64(False):
        return _cast(NeuralODE(ODE_SIZE, width=ODE_WIDTH, depth=ODE_DEPTH,
                               key=jax.random.key(seed), **_solver_kwargs()))


@functools.cache
def ode_model(weights):
    """`"init"`: the initialised model (its field is slow: ~5 solver steps over [0, 10]).
    `"fitted"`: the same model after FIT_STEPS Adam steps regressing its field on the true
    one, SPIRAL @ y, at FIT_POINTS random (t, y) ∈ [0, 10] × [-2, 2]² (no solver involved),
    so that the solver takes the steps of a model that has learnt the spiral (~22)."""
    ode = jax_ode()
    if weights == "init":
        return ode
    rng = np.random.default_rng(1)
    y = rng.uniform(-2.0, 2.0, (FIT_POINTS, ODE_SIZE)).astype(np.float32)
    t = rng.uniform(0.0, ODE_T1, FIT_POINTS).astype(np.float32)
    target = (y @ SPIRAL.T).astype(np.float32)
    optimizer = optax.adam(1e-2)

    @eqx.filter_jit
    def step(field, opt_state):
        mse = lambda f: jnp.mean((jax.vmap(f)(t, y) - target) ** 2)
        grads = eqx.filter_grad(mse)(field)
        updates, opt_state = optimizer.update(grads, opt_state)
        return eqx.apply_updates(field, updates), opt_state

    with jax.enable_x64(False):
        field = ode.field
        opt_state = optimizer.init(eqx.filter(field, eqx.is_inexact_array))
        for _ in range(FIT_STEPS):
            field, opt_state = step(field, opt_state)
    return eqx.tree_at(lambda m: m.field, ode, field)


def jax_ode_joint(ode, batch):
    return NeuralODE(ODE_SIZE * batch, field=BatchField(ode.field, ODE_SIZE),
                     **_solver_kwargs())


def ode_loss_vmap(model, ts, ys):
    pred = jax.vmap(model, in_axes=(None, 0))(ts, ys[:, 0])
    return jnp.mean((pred - ys) ** 2)


def ode_loss_joint(model, ts, ys):
    batch = ys.shape[0]
    pred = model(ts, ys[:, 0].reshape(-1)).reshape(ts.shape[0], batch, ODE_SIZE)
    return jnp.mean((jnp.swapaxes(pred, 0, 1) - ys) ** 2)


def jax_cde(seed=1):
    with jax.enable_x64(False):                              # as in `jax_ode`
        return _cast(NeuralCDE(CDE_CHANNELS, CDE_HIDDEN, 1, width=CDE_WIDTH, depth=CDE_DEPTH,
                               key=jax.random.key(seed), **_solver_kwargs()))


def jax_paths(ts, xs):
    build = lambda x: control_path(ts, x, interpolation="hermite", observation_counts=False)
    return eqx.filter_jit(jax.vmap(build))(jnp.asarray(xs))


def cde_loss(model, paths, labels):
    logits = jax.vmap(model)(paths)[:, 0]
    return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, labels))


def jax_train_step(loss_fn, optimizer):
    """The equinox idiom: `filter_value_and_grad` + optax update inside one `filter_jit`."""

    @eqx.filter_jit
    def step(model, opt_state, *data):
        loss, grads = eqx.filter_value_and_grad(loss_fn)(model, *data)
        params = eqx.filter(model, eqx.is_inexact_array)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return eqx.apply_updates(model, updates), opt_state, loss

    return step


# ----------------------------------------------------------------------------- PyTorch side


def _copy_linear(linear, torch_linear):
    torch = _torch()
    with torch.no_grad():
        torch_linear.weight.copy_(torch.from_numpy(np.array(linear.weight)))
        torch_linear.bias.copy_(torch.from_numpy(np.array(linear.bias)))


def torch_mlp(field: MLPField):
    """`nn.Sequential` of the layers of the MLP of `field`, softplus between, its weights."""
    torch = _torch()
    assert field.mlp.activation is jax.nn.softplus, field.mlp.activation   # torch: Softplus
    modules = []
    for index, layer in enumerate(field.mlp.layers):
        linear = torch.nn.Linear(layer.in_features, layer.out_features)
        _copy_linear(layer, linear)
        modules.append(linear)
        if index < len(field.mlp.layers) - 1:
            modules.append(torch.nn.Softplus())
    return torch.nn.Sequential(*modules)


def torch_ode(ode: NeuralODE):
    """The field of `ode` as a torchdiffeq module: time is the first input, as in MLPField."""
    torch = _torch()

    class ODEField(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.mlp = torch_mlp(ode.field)
            self.evaluations = 0

        def forward(self, t, y):
            self.evaluations += 1
            return self.mlp(torch.cat([t.reshape(1).expand(*y.shape[:-1], 1), y], dim=-1))

    return ODEField()


def torch_ode_loss(field, ts, ys):
    """MSE of torchdiffeq's Dopri5 solution from `ys[:, 0]`, saved at `ts`."""
    import torchdiffeq

    torch = _torch()
    pred = torchdiffeq.odeint(field, ys[:, 0], ts, method="dopri5", rtol=RTOL, atol=ATOL,
                              options={"step_t": ts[-1:], "first_step": FIRST_STEP})
    return torch.mean((pred.transpose(0, 1) - ys) ** 2)


def torch_cde(cde: NeuralCDE):
    torch = _torch()
    import torchcde

    hidden, channels = cde.hidden_size, cde.channels

    class CDEField(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.mlp = torch_mlp(cde.field)
            self.evaluations = 0

        def forward(self, t, z):
            self.evaluations += 1
            return torch.tanh(self.mlp(z)).view(*z.shape[:-1], hidden, channels)

    class CDE(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.initial = torch.nn.Linear(channels, hidden)
            self.field = CDEField()
            self.readout = torch.nn.Linear(hidden, cde.readout.out_features)
            _copy_linear(cde.initial, self.initial)
            _copy_linear(cde.readout, self.readout)

        def forward(self, coeffs, ts):
            path = torchcde.CubicSpline(coeffs, ts)
            z0 = self.initial(path.evaluate(path.interval[0]))
            zs = torchcde.cdeint(path, self.field, z0, path.interval, adjoint=False,
                                 method="dopri5", rtol=RTOL, atol=ATOL,
                                 options={"step_t": path.grid_points,
                                          "first_step": FIRST_STEP})
            return self.readout(zs[..., -1, :])

    return CDE()


def torch_cde_inputs(ts, xs):
    """Time as the first channel, then Hermite coefficients with backward differences."""
    torch = _torch()
    import torchcde

    t = torch.from_numpy(ts)
    x = torch.cat([t[None, :, None].expand(xs.shape[0], -1, 1), torch.from_numpy(xs)], dim=-1)
    return torchcde.hermite_cubic_coefficients_with_backward_differences(x, t), t


def torch_cde_loss(model, coeffs, ts, labels):
    torch = _torch()
    logits = model(coeffs, ts)[:, 0]
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)


def torch_train_step(module, loss_fn):
    torch = _torch()
    optimizer = torch.optim.Adam(module.parameters(), lr=LEARNING_RATE)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def _dopri5_attempts(evaluations):
    # torchdiffeq with `first_step` given: f(t0, y0), then 6 per attempted step
    # (first-same-as-last).
    return (evaluations - 1) // 6


# ----------------------------------------------------------------------------- agreement


def _rel(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _linears(model):
    """The eqx.nn.Linear layers of a jaxlab model, in the order of the PyTorch modules."""
    if isinstance(model, NeuralCDE):
        return [model.initial, *model.field.mlp.layers, model.readout]
    field = model.field.field if isinstance(model.field, BatchField) else model.field
    return list(field.mlp.layers)


def _torch_linears(module):
    torch = _torch()
    return [m for m in module.modules() if isinstance(m, torch.nn.Linear)]


def _agreement(jax_loss, jax_grads, torch_loss, torch_module):
    """Relative differences of the loss and of each weight and bias gradient (l2 norm of the
    difference / l2 norm of PyTorch's)."""
    out = {"loss": abs(float(jax_loss) - float(torch_loss)) / abs(float(torch_loss))}
    pairs = zip(_linears(jax_grads), _torch_linears(torch_module), strict=True)
    for index, (grad, linear) in enumerate(pairs):
        out[f"layer{index}.weight"] = _rel(grad.weight, linear.weight.grad.numpy())
        out[f"layer{index}.bias"] = _rel(grad.bias, linear.bias.grad.numpy())
    return out


def _per_trajectory_torch(module, losses):
    """Mean of per-trajectory losses, each solved on its own (batch of one); gradients of
    the mean accumulated in `module`."""
    module.zero_grad(set_to_none=True)
    total = 0.0
    for loss in losses:
        (loss / len(losses)).backward()
        total += float(loss.detach()) / len(losses)
    return total


def _check(name, diff, dtype):
    print(f"\n{name}, {dtype}: loss rel diff {diff['loss']:.1e}, max gradient rel diff "
          f"{max(v for k, v in diff.items() if k != 'loss'):.1e} ({diff})")
    loss_tol, grad_tol = AGREEMENT[dtype]
    assert diff["loss"] < loss_tol, diff
    assert all(v < grad_tol for k, v in diff.items() if k != "loss"), diff


@pytest.mark.benchmark
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("weights", ["init", "fitted"])
def test_neural_ode_same_computation(weights, dtype):
    torch = _torch()
    to_torch = lambda a: torch.from_numpy(np.asarray(a, dtype))
    model = ode_model(weights)
    with jax.enable_x64(dtype == "float64"):
        ts, ys = (np.asarray(a, dtype) for a in spiral_data())
        ode = _cast(model, jnp.dtype(dtype))
        joint = jax_ode_joint(ode, ODE_BATCH)
        loss, grads = eqx.filter_value_and_grad(ode_loss_joint)(joint, ts, ys)
        field = torch_ode(ode).to(getattr(torch, dtype))
        torch_loss = torch_ode_loss(field, to_torch(ts), to_torch(ys))
        torch_loss.backward()
        _check(f"neural ODE ({weights}), joint batch vs torchdiffeq ({ODE_BATCH} trajectories)",
               _agreement(loss, grads, torch_loss.detach(), field), dtype)

        loss, grads = eqx.filter_value_and_grad(ode_loss_vmap)(ode, ts, ys[:GUARD_SERIES])
        field = torch_ode(ode).to(getattr(torch, dtype))
        torch_loss = _per_trajectory_torch(field, [
            torch_ode_loss(field, to_torch(ts), to_torch(ys[i:i + 1]))
            for i in range(GUARD_SERIES)])
        _check(f"neural ODE ({weights}), vmap vs torchdiffeq one at a time "
               f"({GUARD_SERIES} trajectories)",
               _agreement(loss, grads, torch_loss, field), dtype)


@pytest.mark.benchmark
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_neural_cde_same_computation(dtype):
    torch = _torch()
    with jax.enable_x64(dtype == "float64"):
        ts, xs, labels = (np.asarray(a, dtype) for a in cde_data())
        cde = _cast(jax_cde(), jnp.dtype(dtype))
        paths = jax_paths(ts, xs[:GUARD_SERIES])
        loss, grads = eqx.filter_value_and_grad(cde_loss)(cde, paths, labels[:GUARD_SERIES])
        module = torch_cde(cde).to(getattr(torch, dtype))
        coeffs, t = torch_cde_inputs(ts, xs)
        torch_labels = torch.from_numpy(labels)
        torch_loss = _per_trajectory_torch(module, [
            torch_cde_loss(module, coeffs[i:i + 1], t, torch_labels[i:i + 1])
            for i in range(GUARD_SERIES)])
        _check(f"neural CDE, vmap vs torchcde one at a time ({GUARD_SERIES} series)",
               _agreement(loss, grads, torch_loss, module), dtype)


# ----------------------------------------------------------------------------- benchmarks


def _run(benchmark, *, step, state, data, torch_step, peer_name, **extra):
    """Time the jitted step (carrying its model and optimiser state, as training does)
    against the PyTorch step (which carries its own), and record both. The sides alternate —
    before each timed jaxlab round, one PyTorch step with TORCH_THREADS threads and one with
    a single thread — so that load from other processes hits all alike. The single-thread
    figure is there because PyTorch's OpenMP threads suffer far more from other processes
    than XLA's pool does: with another job on the 2 cores the fastest 2-thread step took
    3–7× the fastest 1-thread one, while at low load the two are within ~20%."""
    torch = _torch()

    def ours():
        state[0], state[1], loss = step(state[0], state[1], *data)
        return loss

    def peer_round():
        for threads, times in ((TORCH_THREADS, peer), (1, peer_1)):
            torch.set_num_threads(threads)
            times.extend(_times(torch_step, 1))
        torch.set_num_threads(TORCH_THREADS)

    compile_s = compile_time(ours)
    torch_first_s = _times(torch_step, 1)[0]
    peer, peer_1 = [], []
    benchmark.pedantic(lambda: jax.block_until_ready(ours()), rounds=ROUNDS, warmup_rounds=1,
                       setup=peer_round)
    peer, peer_1 = peer[1:] or peer, peer_1[1:] or peer_1     # drop the warm-up round's
    peer_s, ours_s = min(peer), benchmark.stats.stats.min
    record(benchmark, peer_name=peer_name, peer_s=peer_s, compile_s=compile_s,
           ratio_jaxlab_over_torch=ours_s / peer_s, jaxlab_median_s=benchmark.stats.stats.median,
           peer_median_s=statistics.median(peer), torch_threads=TORCH_THREADS,
           peer_1thread_s=min(peer_1), peer_1thread_median_s=statistics.median(peer_1),
           speedup_vs_peer_1thread=min(peer_1) / ours_s,
           ratio_jaxlab_over_torch_1thread=ours_s / min(peer_1),
           torch_first_call_s=torch_first_s, rounds=len(peer), load=_load(), **extra)
    print(f"  jaxlab / torch {ours_s / peer_s:.2f}, / torch 1 thread "
          f"{ours_s / min(peer_1):.2f} (torch 1 thread {min(peer_1) * 1e3:.1f} ms; medians "
          f"jaxlab {benchmark.stats.stats.median * 1e3:.1f}, torch "
          f"{statistics.median(peer) * 1e3:.1f}, 1 thread "
          f"{statistics.median(peer_1) * 1e3:.1f} ms); {extra}; load {_load()}")


@pytest.mark.benchmark
@pytest.mark.parametrize("variant", ["vmap", "joint"])
@pytest.mark.parametrize("weights", ["init", "fitted"])
def test_neural_ode_train_step(benchmark, weights, variant):
    torch = _torch()
    ts, ys = spiral_data()
    ode = ode_model(weights)
    optimizer = optax.adam(LEARNING_RATE)
    if variant == "vmap":
        model, loss_fn = ode, ode_loss_vmap
        steps = jax.vmap(lambda y0: ode.solve(ts, y0).num_steps)(ys[:, 0])
        jax_steps = {"jaxlab_solver_steps_max": int(steps.max()),
                     "jaxlab_solver_steps_mean": float(steps.mean())}
    else:
        model, loss_fn = jax_ode_joint(ode, ODE_BATCH), ode_loss_joint
        jax_steps = {"jaxlab_solver_steps": int(
            model.solve(ts, ys[:, 0].reshape(-1)).num_steps)}
    state = [model, optimizer.init(eqx.filter(model, eqx.is_inexact_array))]

    field = torch_ode(ode)
    t, y = torch.from_numpy(ts), torch.from_numpy(ys)
    with torch.no_grad():
        torch_ode_loss(field, t, y)
    torch_steps = _dopri5_attempts(field.evaluations)
    torch_step = torch_train_step(field, lambda: torch_ode_loss(field, t, y))
    _run(benchmark, step=jax_train_step(loss_fn, optimizer), state=state,
         data=(jnp.asarray(ts), jnp.asarray(ys)), torch_step=torch_step,
         peer_name="torchdiffeq odeint dopri5 + torch.optim.Adam", variant=variant,
         weights=weights,
         batch=ODE_BATCH, times=ODE_TIMES, width=ODE_WIDTH, depth=ODE_DEPTH,
         torch_solver_steps=torch_steps, **jax_steps)


@pytest.mark.benchmark
def test_neural_cde_train_step(benchmark):
    torch = _torch()
    ts, xs, labels = cde_data()
    cde = jax_cde()
    optimizer = optax.adam(LEARNING_RATE)
    paths = jax_paths(ts, xs)
    steps = jax.vmap(lambda p: cde.solve(p).num_steps)(paths)
    state = [cde, optimizer.init(eqx.filter(cde, eqx.is_inexact_array))]

    module = torch_cde(cde)
    coeffs, t = torch_cde_inputs(ts, xs)
    torch_labels = torch.from_numpy(labels)
    with torch.no_grad():
        module(coeffs, t)
    torch_steps = _dopri5_attempts(module.field.evaluations)
    torch_step = torch_train_step(module, lambda: torch_cde_loss(module, coeffs, t,
                                                                 torch_labels))
    _run(benchmark, step=jax_train_step(cde_loss, optimizer), state=state,
         data=(paths, jnp.asarray(labels)), torch_step=torch_step,
         peer_name="torchcde cdeint dopri5 (Hermite spline) + torch.optim.Adam",
         batch=CDE_BATCH, length=CDE_LENGTH, hidden=CDE_HIDDEN, width=CDE_WIDTH,
         depth=CDE_DEPTH, torch_solver_steps=torch_steps,
         jaxlab_solver_steps_max=int(steps.max()),
         jaxlab_solver_steps_mean=float(steps.mean()))
