"""`fm-2d`: conditional flow matching in 2-D, independent vs minibatch-OT coupling, with
torchcfm's protocol (Tong et al. 2024).

Tasks: 8 Gaussians → moons and N(0, I) → 8 Gaussians (`generative.toy_pair`). Data as
torchcfm's `utils.py` (`generative.eight_gaussians`: centres 5·(unit vectors at multiples of
45°), noise standard deviation 0.1^¼ ≈ 0.56, as torchcfm passes √0.1 as the covariance;
`generative.moons`: torchdyn's half circles with a uniform shift U[0, 0.2), ×3 − 1, here
with uniformly random angles instead of a grid). Model:
torchcfm's MLP (time appended, three hidden layers of 64 SELU units); Adam (lr 10⁻³),
batch 256, σ = 0.1, 20000 steps; samples by an adaptive ODE solve (Dopri5, rtol = atol =
10⁻⁴). Metrics:

- W2 between 2000 generated and 2000 held-out target samples (`metrics.wasserstein`, exact
  assignment);
- the normalised path energy NPE = |E∫₀¹|v(t, x_t)|²dt − W2²(ρ₀, ρ₁)| / W2²(ρ₀, ρ₁) along the
  generated trajectories (0 for straight, optimal-transport paths).

OT-CFM should give W2 no larger than I-CFM and a much smaller NPE (Tong et al. 2024,
Table 2); torchcfm trained the same way is timed and scored side by side in
`benchmarks/bench_generative.py`.
"""

import dataclasses
import functools
import time
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from matplotlib.figure import Figure

from jaxlab import de, metrics, train
from jaxlab import generative as gen

from ._base import Config, Experiment, Reference, Result

PAPER = ("Tong, Fatras, Malkin, Huguet, Zhang, Rector-Brooks, Wolf & Bengio (2024), "
         "Improving and generalizing flow-based generative models with minibatch optimal "
         "transport (TMLR); torchcfm")

TASKS = ("8gaussians-moons", "normal-8gaussians")
METHODS = {"icfm": "independent", "otcfm": "ot"}


@dataclasses.dataclass(frozen=True)
class FM2DConfig(Config):
    """Configuration of `fm-2d`.

    **Fields:** `tasks` (comma-separated, from 8gaussians-moons, normal-8gaussians),
    `methods` (comma-separated, from icfm, otcfm), `steps`, `batch_size`, `lr`, `sigma`,
    `width`, `pairs` (training samples of each side), `eval_points`, `tol` (of the ODE
    solve), `energy_times` (saved times for the path energy).
    """

    tasks: str = ",".join(TASKS)
    methods: str = "icfm,otcfm"
    steps: int = 20000
    batch_size: int = 256
    lr: float = 1e-3
    sigma: float = 0.1
    width: int = 64
    pairs: int = 100_000
    eval_points: int = 2000
    tol: float = 1e-4
    energy_times: int = 101

    QUICK: ClassVar[dict] = {"steps": 1000, "pairs": 20_000, "eval_points": 1000}

    def validate(self) -> None:
        tasks = self.tasks.split(",")
        methods = self.methods.split(",")
        self.require(bool(tasks) and all(t in TASKS for t in tasks), "tasks",
                     f"comma-separated names from {TASKS}")
        self.require(bool(methods) and all(m in METHODS for m in methods), "methods",
                     f"comma-separated names from {tuple(METHODS)}")
        self.require(self.steps >= 1, "steps", "at least 1")
        self.require(2 <= self.batch_size <= self.pairs, "batch_size", "in 2..pairs")
        self.require(self.lr > 0, "lr", "positive")
        self.require(self.sigma >= 0, "sigma", ">= 0")
        self.require(self.width >= 1, "width", "at least 1")
        self.require(self.eval_points >= 2, "eval_points", "at least 2")
        self.require(0 < self.tol < 1, "tol", "in (0, 1)")
        self.require(self.energy_times >= 3, "energy_times", "at least 3")


def training_setup(task: str, config: FM2DConfig, key):
    """(data, initial model, fit key) of `train_field(task, ..., key)`: the data set
    `(x0, x1)` of `config.pairs` rows and torchcfm's MLP, (t, x) → 64 → 64 → 64 → 2, SELU."""
    k_data, k_model, k_fit = jax.random.split(key, 3)
    data = gen.toy_pair(task, config.pairs, key=k_data)
    model = de.MLPField(2, (2,), width=config.width, depth=3, activation=jax.nn.selu,
                        key=k_model)
    return data, model, k_fit


def train_field(task: str, method: str, config: FM2DConfig, key):
    """The trained velocity MLP (and the training time in seconds)."""
    data, model, k_fit = training_setup(task, config, key)
    loss = functools.partial(gen.cfm_loss, coupling=METHODS[method], sigma=config.sigma)
    start = time.perf_counter()
    result = train.fit(loss, model, data, optax.adam(config.lr), steps=config.steps,
                       key=k_fit, batch_size=config.batch_size)
    return result.model, time.perf_counter() - start


def evaluate(field, task: str, config: FM2DConfig, key) -> dict:
    """W2 to held-out target samples and the normalised path energy of `field` (the ODE
    solve raises if it fails or leaves a non-finite sample)."""
    k_eval, k_ref = jax.random.split(key)
    base, _ = gen.toy_pair(task, config.eval_points, key=k_eval)
    _, target = gen.toy_pair(task, config.eval_points, key=k_ref)
    times = jnp.linspace(0.0, 1.0, config.energy_times)
    traj = eqx.filter_jit(lambda f, x: gen.sample_ode(
        f, x, solver="dopri5", rtol=config.tol, atol=config.tol,
        save_times=times).trajectory)(field, base)
    speeds = eqx.filter_jit(lambda f: jax.vmap(lambda t, xs: jnp.sum(
        jax.vmap(lambda x: f(t, x))(xs) ** 2, -1))(times, traj))(field)  # (T, n)
    energy = float(np.mean(np.trapezoid(np.asarray(speeds), np.asarray(times), axis=0)))
    ot_cost = float(metrics.wasserstein(base, target)) ** 2
    return {"w2": float(metrics.wasserstein(traj[-1], target)),
            "npe": abs(energy - ot_cost) / ot_cost,
            "path_energy": energy, "samples": np.asarray(traj[-1])}


def run(config: FM2DConfig, *, key) -> Result:
    """Train I-CFM and OT-CFM on each task; W2 and normalised path energy."""
    tasks, methods = config.tasks.split(","), config.methods.split(",")
    scores, samples = {}, {}
    keys = jax.random.split(key, len(tasks))
    for task, k_task in zip(tasks, keys, strict=True):
        k_train, k_eval = jax.random.split(k_task)
        for method in methods:
            # the same data, initialisation and evaluation points for both couplings
            field, seconds = train_field(task, method, config, k_train)
            out = evaluate(field, task, config, k_eval)
            scores[f"w2_{method}_{task}"] = out["w2"]
            scores[f"npe_{method}_{task}"] = out["npe"]
            scores[f"train_s_{method}_{task}"] = seconds
            samples[(task, method)] = out["samples"]
    references = {}
    if "w2_icfm_8gaussians-moons" in scores and "w2_otcfm_8gaussians-moons" in scores:
        references["w2_otcfm_8gaussians-moons"] = Reference(
            scores["w2_icfm_8gaussians-moons"], "jaxlab issue #7 (the I-CFM value of this run)",
            "OT-CFM's W2 no larger than I-CFM's on 8 Gaussians → moons")
    fig = Figure(figsize=(3.2 * len(methods), 3.2 * len(tasks)))
    axes = fig.subplots(len(tasks), len(methods), squeeze=False)
    for i, task in enumerate(tasks):
        for j, method in enumerate(methods):
            pts = samples[(task, method)]
            axes[i, j].scatter(pts[:, 0], pts[:, 1], s=1, alpha=0.4)
            axes[i, j].set_title(f"{method}: {task}\nW2 {scores[f'w2_{method}_{task}']:.3f}, "
                                 f"NPE {scores[f'npe_{method}_{task}']:.3f}", fontsize=8)
    fig.tight_layout()
    parts = [f"{task}: " + ", ".join(
        f"{m} W2 {scores[f'w2_{m}_{task}']:.3f} / NPE {scores[f'npe_{m}_{task}']:.3f}"
        for m in methods) for task in tasks]
    summary = f"After {config.steps} steps — " + "; ".join(parts) + "."
    return Result(metrics=scores, figures={"samples": fig}, references=references,
                  summary=summary)


EXPERIMENT = Experiment(
    name="fm-2d",
    paper=PAPER,
    subpackage="generative",
    config=FM2DConfig,
    run=run,
    quick_runtime_s=83.0,
    description="I-CFM vs OT-CFM on 8 Gaussians -> moons and N(0, I) -> 8 Gaussians: W2 and "
                "normalised path energy (torchcfm's 2-D protocol)",
)
