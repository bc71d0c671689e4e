"""`sde-gan-ou`: an SDE-GAN learns a time-dependent Ornstein–Uhlenbeck process.

The toy of Kidger et al. (2021) and of Kidger (2022, §6): dY = (a·t − θ·Y)dt + c·t dW with
a = 0.02, θ = 0.1, c = 0.4·2/64, Y₀ ~ U(−1, 1), observed at t = 0, 1, …, 63, with 30% of
the observations missing (NaN). The data are simulated by Euler–Maruyama on a fine grid
(`systems.simulate_sde(systems.TimeDependentOU(), ...)`, one diffrax solve per path);
the generator (`SDEGenerator`, Stratonovich, reversible Heun on the unit grid) and the
neural CDE critic (LipSwish, weights clipped by `clip_lipschitz`) are trained together with
`sde_gan_losses` and `jaxlab.train.fit` on data normalised by the mean and standard
deviation of the observed initial values, the generator's weights averaged over the last
tenth of training (the paper averages too; over the second half the averaged weights
shrank the early noise, docs/de.md). The metric: the generated marginal mean and standard
deviation against the analytic ones (the system's `mean` and `variance`),

    m(t) = a[t/θ − (1 − e^{−θt})/θ²],
    v(t) = e^{−2θt}/3 + c²[t²/k − 2t/k² + 2(1 − e^{−kt})/k³],  k = 2θ,

at t = 16, 32 and 63.
"""

import dataclasses
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from matplotlib.figure import Figure

from jaxlab import de, systems, train

from ._base import Config, Experiment, Reference, Result

PAPER = ("Kidger, Foster, Li, Oberhauser & Lyons (2021), Neural SDEs as Infinite-Dimensional "
         "GANs; Kidger (2022), On Neural Differential Equations, §6")

OU = systems.TimeDependentOU()  # a = 0.02, θ = 0.1, c = 0.4 · 2/64
INITIAL_VARIANCE = 1 / 3  # Y₀ ~ U(−1, 1)
CHECK_TIMES = (16, 32, 63)


def analytic_moments(t) -> tuple[np.ndarray, np.ndarray]:
    """The analytic mean and standard deviation of Y_t from Y₀ ~ U(−1, 1) (NumPy float64
    arrays of the shape of `t`)."""
    t = jnp.asarray(t, float)
    return (np.asarray(OU.mean(t, 0.0), np.float64),
            np.sqrt(np.asarray(OU.variance(t, INITIAL_VARIANCE), np.float64)))


@dataclasses.dataclass(frozen=True)
class SDEGANOUConfig(Config):
    """Configuration of `sde-gan-ou`.

    **Fields:** `paths` (training data), `eval_paths` (generated for the metrics), `length`
    (observation times 0 … length − 1), `drop` (probability that an observation is
    missing), `substeps` (Euler–Maruyama steps per unit time for the data), `hidden`
    (generator SDE state), `critic_hidden`, `width`, `depth`, `initial_noise`, `noise`
    (Brownian dimension), `batch_size`, `steps`, `generator_lr`, `critic_lr` (RMSprop),
    `average_from` (fraction of training after which the generator's weights are
    averaged), `average_every` (steps between the averaged snapshots).
    """

    paths: int = 8192
    eval_paths: int = 8192
    length: int = 64
    drop: float = 0.3
    substeps: int = 20
    hidden: int = 16
    critic_hidden: int = 16
    width: int = 16
    depth: int = 1
    initial_noise: int = 5
    noise: int = 3
    batch_size: int = 128
    steps: int = 12000
    generator_lr: float = 1e-4
    critic_lr: float = 5e-4
    average_from: float = 0.9
    average_every: int = 10

    QUICK: ClassVar[dict] = {"paths": 1024, "eval_paths": 2048, "steps": 200}

    def validate(self) -> None:
        self.require(self.paths >= 8, "paths", "at least 8")
        self.require(self.eval_paths >= 8, "eval_paths", "at least 8")
        self.require(self.length >= 64, "length", "at least 64 (the checks read t = 63)")
        self.require(0 <= self.drop < 1, "drop", "in [0, 1)")
        self.require(self.substeps >= 1, "substeps", "at least 1")
        for name in ("hidden", "critic_hidden", "width", "depth", "initial_noise", "noise"):
            self.require(getattr(self, name) >= 1, name, "at least 1")
        self.require(1 <= self.batch_size <= self.paths, "batch_size", "in 1..paths")
        self.require(self.steps >= 1, "steps", "at least 1")
        self.require(self.generator_lr > 0, "generator_lr", "positive")
        self.require(self.critic_lr > 0, "critic_lr", "positive")
        self.require(0 <= self.average_from < 1, "average_from", "in [0, 1)")
        self.require(self.average_every >= 1, "average_every", "at least 1")


def _labels(params):
    # "generator" / "critic" for every leaf: the two players get their own learning rates
    return eqx.tree_at(lambda p: (p.generator, p.critic), params,
                       (jax.tree.map(lambda _: "generator", params.generator),
                        jax.tree.map(lambda _: "critic", params.critic)))


def run(config: SDEGANOUConfig, *, key) -> Result:
    """Train the SDE-GAN; compare generated marginal moments with the analytic ones."""
    k_data, k_drop, k_model, k_fit, k_gen = jax.random.split(key, 5)
    ts1 = jnp.arange(config.length, dtype=jnp.float32)
    k0, kw = jax.random.split(k_data)
    y0s = jax.random.uniform(k0, (config.paths, 1), minval=-1.0, maxval=1.0)
    ys = jax.vmap(lambda y0, k: systems.simulate_sde(
        OU, y0, ts1, dt=1 / config.substeps, key=k).ys[:, 0])(
            y0s, jax.random.split(kw, config.paths))
    observed = jnp.where(jax.random.uniform(k_drop, ys.shape) < config.drop, jnp.nan, ys)
    # normalised by the observed initial values, as in Kidger et al.: the initial spread is
    # 1 and the noise the generator must learn is O(1) per unit time. (Normalised by the
    # spread of all values instead, the noise to learn is ~30 times smaller than a fresh
    # generator's and the generated spread stayed 2-4 times too large after 6000 steps.)
    initial = np.asarray(observed[:, 0])
    initial = initial[np.isfinite(initial)]
    shift, scale = float(initial.mean()), float(initial.std())
    xs = ((observed - shift) / scale)[..., None]
    ts = jnp.broadcast_to(ts1, (config.paths, config.length))

    kg, kc = jax.random.split(k_model)
    generator = de.SDEGenerator(1, config.hidden, initial_noise_size=config.initial_noise,
                                noise_size=config.noise, width=config.width,
                                depth=config.depth, grid_steps=config.length - 1, key=kg)
    model = de.SDEGAN(1, critic_hidden_size=config.critic_hidden, width=config.width,
                      depth=config.depth, dt0=1.0, generator=generator, key=kc)
    optimizer = optax.chain(
        optax.multi_transform({"generator": optax.rmsprop(config.generator_lr),
                               "critic": optax.rmsprop(config.critic_lr)}, _labels),
        de.clip_lipschitz())

    # Weight averaging of the generator over the later part of training: a running mean of
    # snapshots taken every `average_every` steps from step `average_from · steps` on.
    first = int(config.average_from * config.steps)
    average = {"sum": None, "count": 0}

    def accumulate(step, m, metrics):
        if step <= first:
            return
        params = eqx.filter(m.generator, eqx.is_inexact_array)
        average["sum"] = params if average["sum"] is None else jax.tree.map(
            jnp.add, average["sum"], params)
        average["count"] += 1

    result = train.fit(de.sde_gan_losses, model, (ts, xs), optimizer, steps=config.steps,
                       key=k_fit, batch_size=config.batch_size, has_aux=True,
                       eval_every=config.average_every, callbacks=[accumulate])
    final = result.model.generator
    averaged = final
    if average["count"]:
        mean_params = jax.tree.map(lambda s: s / average["count"], average["sum"])
        averaged = eqx.combine(mean_params, eqx.filter(final, eqx.is_inexact_array,
                                                       inverse=True))

    @eqx.filter_jit
    def sample(g, keys):
        return jax.vmap(lambda k: g(ts1, key=k))(keys)[..., 0]

    keys = jax.random.split(k_gen, config.eval_paths)
    check = np.asarray(CHECK_TIMES)
    truth_mean, truth_std = analytic_moments(check)
    metrics = {}
    curves = {}
    for name, g in (("", averaged), ("_final", final)):
        gen = np.asarray(sample(g, keys), dtype=np.float64) * scale + shift
        if not np.all(np.isfinite(gen)):
            raise FloatingPointError("sde-gan-ou: the trained generator produced non-finite "
                                     "paths")
        curves[name] = gen
        rel_mean = np.abs(gen[:, check].mean(0) - truth_mean) / np.abs(truth_mean)
        rel_std = np.abs(gen[:, check].std(0) - truth_std) / truth_std
        for t, em, es in zip(CHECK_TIMES, rel_mean, rel_std, strict=True):
            metrics[f"mean_rel_error_t{t}{name}"] = float(em)
            metrics[f"std_rel_error_t{t}{name}"] = float(es)
        metrics[f"max_rel_error{name}"] = float(max(rel_mean.max(), rel_std.max()))
    data = np.asarray(ys, dtype=np.float64)
    metrics["data_max_rel_error"] = float(max(
        np.max(np.abs(data[:, check].mean(0) - truth_mean) / np.abs(truth_mean)),
        np.max(np.abs(data[:, check].std(0) - truth_std) / truth_std)))
    metrics["observed_fraction"] = float(np.mean(np.isfinite(np.asarray(xs))))
    metrics["averaged_snapshots"] = average["count"]
    aux = result.history["aux"]
    metrics["final_critic_gap"] = float(np.mean(np.asarray(aux["real_score"])[-50:])
                                        - np.mean(np.asarray(aux["fake_score"])[-50:]))
    metrics["steps"] = config.steps
    references = {"max_rel_error": Reference(
        0.10, "jaxlab issue #5 target (Kidger 2022, §6 OU toy)",
        "generated mean and std within 10% of the analytic ones at t = 16, 32, 63")}

    grid = np.arange(config.length)
    gen = curves[""]
    fig = Figure(figsize=(10, 4))
    ax1, ax2 = fig.subplots(1, 2)
    for i in range(20):
        ax1.plot(grid, data[i], color="C0", alpha=0.4, lw=0.8)
        ax1.plot(grid, gen[i], color="C1", alpha=0.4, lw=0.8)
    ax1.plot([], [], color="C0", label="data")
    ax1.plot([], [], color="C1", label="generated")
    ax1.set_xlabel("t")
    ax1.legend(fontsize=8)
    ax1.set_title("sample paths")
    mean_t, std_t = analytic_moments(grid)
    ax2.plot(grid, mean_t, "k-", label="analytic mean ± sd")
    ax2.plot(grid, mean_t + std_t, "k--", lw=0.8)
    ax2.plot(grid, mean_t - std_t, "k--", lw=0.8)
    ax2.plot(grid, gen.mean(0), "C1-", label="generated")
    ax2.plot(grid, gen.mean(0) + gen.std(0), "C1--", lw=0.8)
    ax2.plot(grid, gen.mean(0) - gen.std(0), "C1--", lw=0.8)
    ax2.set_xlabel("t")
    ax2.legend(fontsize=8)
    ax2.set_title("marginal moments")
    fig.tight_layout()
    worst = metrics["max_rel_error"]
    summary = (f"After {config.steps} steps the SDE-GAN's generated marginals (weights "
               f"averaged over {average['count']} snapshots) match the analytic OU mean and "
               f"standard deviation at t = 16, 32, 63 to within {worst:.1%} (target 10%; the "
               f"last iterate: {metrics['max_rel_error_final']:.1%}); "
               f"{1 - metrics['observed_fraction']:.0%} of the observations were missing.")
    return Result(metrics=metrics, figures={"ou_marginals": fig}, references=references,
                  summary=summary)


EXPERIMENT = Experiment(
    name="sde-gan-ou",
    paper=PAPER,
    subpackage="de",
    config=SDEGANOUConfig,
    run=run,
    quick_runtime_s=67.0,
    description="SDE-GAN learning a time-dependent Ornstein-Uhlenbeck process, moments "
                "against the closed form",
)
