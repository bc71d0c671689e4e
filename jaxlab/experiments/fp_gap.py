"""`fp-gap`: the Fokker–Planck regulariser closes the gap between the ODE and SDE samplers
of a score model (Deveney et al. 2023).

Data: an eight-component ring of Gaussians in 2-D (`generative.ring_mixture()`: radius 2,
standard deviation 0.25). Forward process the paper's OU dX = −X dt + dW on [t_min, T]
(prior N(0, ½I)). The model is a scalar u_θ(t, x) ≈ log p_t(x) (`generative.LogDensity` of
an MLP), its score s_θ = ∇ₓu_θ; the loss is denoising score matching
as in the paper (the unweighted score loss E|s_θ(t, x_t) + ε/σ|², t = t_min + (T − t_min)·
Beta(1, 2), which weighs the small times, where the data's structure is, by 1/σ²) plus
w · E[R²], R the log Fokker–Planck residual at collocation points (t uniform on [t_min, T],
x ~ U[−L, L]², exact Laplacian), for w ∈ {0, 0.1, 1, 10} from the same initial weights and
data. (The σ²-weighted DSM of `denoising_loss`'s default, with uniform times, fits the large
times and leaves a smaller gap that the regulariser does not close: see docs/generative.md.)
Samples from the reverse SDE (Euler–Maruyama) and the probability-flow ODE (Euler) with the
same steps, prior draws and (for the SDE) Brownian path; distances by the paper's protocol,
the W2 between 32 × 32 histograms on [−4, 4]² with exact transport
(`metrics.binned_wasserstein`): ODE–SDE
(the gap), ODE–truth and SDE–truth (truth: exact samples of the ring). Also reported: the
residual of each model on 4096 held-out collocation points, the floor of the W2 between two
exact sample sets, and the gap of the same samplers run with the exact score (what the time
steps and sample size leave).
"""

import dataclasses
import itertools
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from matplotlib.figure import Figure

from jaxlab import de, metrics, train
from jaxlab import generative as gen

from ._base import Config, Experiment, Reference, Result

PAPER = ("Deveney, Stanczuk, Kreusser, Budd & Schönlieb (2023), Closing the ODE–SDE gap in "
         "score-based diffusion models through the Fokker–Planck equation")


@dataclasses.dataclass(frozen=True)
class FPGapConfig(Config):
    """Configuration of `fp-gap`.

    **Fields:** `weights` (comma-separated FP weights w), `steps`, `batch_size`,
    `collocation` (points per step for the residual), `lr` (Adam, cosine decay), `width`,
    `depth`, `t_min`, `T`, `box` (collocation half-width L), `dsm_weighting` ("none": the
    paper's unweighted score loss; "sigma2": σ²-weighted, the noise-prediction loss),
    `dsm_times` ("beta": t_min + (T − t_min)·Beta(1, 2), the paper's; "uniform"),
    `residual_scale` ("sigma4":
    the residual term is E[σ⁴(t)R²], i.e. the O(1) quantity σ²R is fitted at every t;
    "sigma2": E[σ²(t)R²], which still weighs the small times more; "none": E[R²], dominated
    by the stiff small times), `collocation_times` ("log": log-uniform on
    [t_min, T], every scale of noise equally; "uniform"), `samples` (per sampler), `sampler_steps`,
    `bins`, `data` (training points).
    """

    weights: str = "0,0.1,1,10"
    steps: int = 6000
    batch_size: int = 256
    collocation: int = 256
    lr: float = 1e-3
    width: int = 64
    depth: int = 3
    t_min: float = 1e-3
    T: float = 5.0
    box: float = 3.5
    dsm_weighting: str = "none"
    dsm_times: str = "beta"
    residual_scale: str = "none"
    collocation_times: str = "uniform"
    samples: int = 100_000
    sampler_steps: int = 800
    bins: int = 32
    data: int = 50_000

    QUICK: ClassVar[dict] = {"steps": 600, "samples": 5000, "sampler_steps": 100,
                             "data": 10_000, "width": 32}

    @property
    def weight_list(self) -> tuple[float, ...]:
        return tuple(float(w) for w in self.weights.split(","))

    def validate(self) -> None:
        try:
            weights = self.weight_list
        except ValueError:
            weights = ()
        self.require(bool(weights) and all(w >= 0 for w in weights), "weights",
                     "comma-separated numbers >= 0, e.g. '0,0.1,1,10'")
        for name in ("steps", "batch_size", "collocation", "width", "depth", "samples",
                     "sampler_steps", "bins"):
            self.require(getattr(self, name) >= 1, name, "at least 1")
        self.require(self.data >= self.batch_size, "data", ">= batch_size")
        self.require(self.lr > 0, "lr", "positive")
        self.require(0 < self.t_min < self.T, "T", "> t_min > 0")
        self.require(self.box > 0, "box", "positive")
        self.require(self.dsm_weighting in ("none", "sigma2"), "dsm_weighting",
                     "'none' or 'sigma2'")
        self.require(self.dsm_times in ("beta", "uniform"), "dsm_times", "'beta' or 'uniform'")
        self.require(self.residual_scale in ("sigma4", "sigma2", "none"), "residual_scale",
                     "'sigma4', 'sigma2' or 'none'")
        self.require(self.collocation_times in ("log", "uniform"), "collocation_times",
                     "'log' or 'uniform'")


def run(config: FPGapConfig, *, key) -> Result:
    """Train one potential per FP weight; the ODE–SDE gap and the distances to the truth."""
    ou = gen.Diffusion.ou(t_min=config.t_min, T=config.T)
    target = gen.ring_mixture()
    k_data, k_model, k_fit, k_prior, k_sde, k_truth = jax.random.split(key, 6)
    data = target.sample(config.data, key=k_data)
    truth = target.sample(config.samples, key=k_truth)

    def variance(t):
        return ou.coefficients(t).gamma2

    def collocation(key, n):
        kt, kx = jax.random.split(key)
        if config.collocation_times == "log":
            ts = config.t_min * (config.T / config.t_min) ** jax.random.uniform(kt, (n,))
        else:
            ts = jax.random.uniform(kt, (n,), minval=config.t_min, maxval=config.T)
        xs = jax.random.uniform(kx, (n, 2), minval=-config.box, maxval=config.box)
        return ts, xs

    def residual(model, ts, xs, weighting):
        return gen.fokker_planck_loss(model, ts, xs, drift=lambda t, x: -x,
                                      g2=lambda t: 1.0 + 0.0 * t, weighting=weighting)

    dsm_weight = (lambda t: 1.0 + 0.0 * t) if config.dsm_weighting == "none" else None
    dsm_times = (gen.beta_times(config.t_min, config.T) if config.dsm_times == "beta"
                 else None)
    power = {"sigma4": 2, "sigma2": 1, "none": 0}[config.residual_scale]
    scale = (lambda t: variance(t) ** power) if power else None

    def loss(model, batch, *, key):
        # the model is (u_θ, w): the FP weight rides along as an array (one compiled fit for
        # every w) with its gradient stopped, so Adam leaves it unchanged
        potential, weight = model
        kd, kc = jax.random.split(key)
        dsm = gen.denoising_loss(potential.score, batch, key=kd, diffusion=ou,
                                 prediction="score", weighting=dsm_weight, times=dsm_times)
        fp = residual(potential, *collocation(kc, config.collocation), scale)
        return dsm + jax.lax.stop_gradient(weight) * fp

    # held-out collocation points: how well each model satisfies the FP equation
    held_out = collocation(jax.random.fold_in(k_fit, 1), 4096)
    residuals = eqx.filter_jit(lambda m: (
        residual(m, *held_out, lambda t: variance(t) ** 2), residual(m, *held_out, None)))

    schedule = optax.cosine_decay_schedule(config.lr, config.steps, alpha=0.05)
    optimizer = optax.adam(schedule)
    initial = gen.LogDensity(de.MLPField(2, (1,), width=config.width, depth=config.depth,
                                         activation=jax.nn.silu, key=k_model))
    prior = jnp.sqrt(ou.coefficients(config.T).gamma2) * jax.random.normal(
        k_prior, (config.samples, 2))

    @eqx.filter_jit
    def sample(score, method, key):  # raises if a sampler diverges (a non-finite sample)
        return gen.sample_diffusion(score, ou, prior, prediction="score", method=method,
                                    solver="euler", steps=config.sampler_steps, key=key).xs

    def w2(a, b):
        return metrics.binned_wasserstein(a, b, bins=config.bins)

    scores, samples = {}, {}
    for w in config.weight_list:
        fitted, _ = train.fit(loss, (initial, jnp.asarray(float(w))), data, optimizer,
                              steps=config.steps, key=k_fit,
                              batch_size=config.batch_size).model
        ode, sde = sample(fitted.score, "ode", k_sde), sample(fitted.score, "sde", k_sde)
        tag = f"w{w:g}"
        gap = w2(ode, sde)
        scores[f"gap_{tag}"] = float(gap.distance)
        scores[f"ode_truth_{tag}"] = float(w2(ode, truth).distance)
        scores[f"sde_truth_{tag}"] = float(w2(sde, truth).distance)
        scores[f"outside_{tag}"] = float(max(gap.outside_a, gap.outside_b))
        scaled, plain = residuals(fitted)
        scores[f"residual_sigma4_{tag}"], scores[f"residual_{tag}"] = float(scaled), float(plain)
        samples[w] = (ode, sde)
    gaps = [scores[f"gap_w{w:g}"] for w in config.weight_list]
    scores["gap_monotone"] = float(all(b < a for a, b in itertools.pairwise(gaps)))
    # the floor: two independent exact sample sets of the same size
    floor = float(w2(truth, target.sample(config.samples,
                                          key=jax.random.fold_in(k_truth, 1))).distance)
    scores["truth_truth_floor"] = floor
    # the same samplers with the exact score: the gap left by the time discretisation and
    # the sample size, which no regulariser can remove
    exact = gen.PathMarginal(ou, target).score
    scores["exact_score_gap"] = float(w2(sample(exact, "ode", k_sde),
                                         sample(exact, "sde", k_sde)).distance)
    references = {"gap_monotone": Reference(1.0, PAPER + " (Table 1; jaxlab issue #7)",
                                            "the ODE–SDE gap decreases as w grows")}
    fig = Figure(figsize=(3 * len(config.weight_list), 6))
    axes = fig.subplots(2, len(config.weight_list), squeeze=False)
    for j, w in enumerate(config.weight_list):
        for i, (name, xs) in enumerate(zip(("ODE", "SDE"), samples[w], strict=True)):
            pts = xs[:4000]
            axes[i, j].scatter(pts[:, 0], pts[:, 1], s=1, alpha=0.3)
            axes[i, j].set_xlim(-4, 4)
            axes[i, j].set_ylim(-4, 4)
            axes[i, j].set_title(f"{name}, w = {w:g}", fontsize=9)
    fig.tight_layout()
    summary = ("ODE–SDE gap (binned W2, 32 × 32 on [−4, 4]²) for w = "
               + ", ".join(f"{w:g}: {g:.3f}" for w, g in zip(config.weight_list, gaps,
                                                            strict=True))
               + f" ({'decreasing' if scores['gap_monotone'] else 'not monotone'}; the "
               f"sampling floor of two exact sample sets is {floor:.3f}, the gap of "
               f"the same samplers with the exact score {scores['exact_score_gap']:.3f}).")
    return Result(metrics=scores, figures={"samples": fig}, references=references,
                  summary=summary)


EXPERIMENT = Experiment(
    name="fp-gap",
    paper=PAPER,
    subpackage="generative",
    config=FPGapConfig,
    run=run,
    quick_runtime_s=60.0,
    description="Fokker-Planck regularised score model: the ODE-SDE gap against the FP "
                "weight (binned-histogram W2)",
)
