"""`dcgan-opinion`: a directed-chain SDE against a plain neural SDE on stochastic opinion
dynamics, whose marginal is bimodal at t = 0.5.

N particles follow dXⁱ = −(1/N) Σ_j φ(|Xⁱ − Xʲ|)(Xⁱ − Xʲ) dt + 0.1 dWⁱ (`systems.
OpinionDynamics`), X₀ ~ U(−2, 2), simulated by Euler–Maruyama with Δt = 0.01 on t ∈ [0, 1]
(`systems.simulate_sde`); each particle's path is one sample. Opinions within reach of each
other merge: the marginal splits into two clusters by t ≈ 0.5, which merge into one by t = 1
(the multimodal t = 1 marginal of the paper is not what this system produces, docs/de.md).

Two generators are trained on these paths with the same loss, the squared signature MMD of
basepoint-augmented (time, value) paths (`with_basepoint`: the signature alone does not see
where a path starts):

- the DC-GAN generator, a `DirectedChainSDE` whose drift and diffusion read the neighbour
  path X̃ (another data path), started from the initial value of a third data path, trained
  with `dc_gan_loss`;
- the baseline, the neural SDE generator of SDE-GANs (`SDEGenerator`: the initial value
  from Gaussian noise, a Stratonovich neural SDE and a linear readout).

Reported: the 1-D Wasserstein distance W1 of the marginals at t = 0.1, 0.5 and 1.0 to
held-out particles (`metrics.wasserstein_1d`), the number of modes at t = 0.5 and t = 1
(`kde.find_modes`: peaks of a Gaussian KDE of bandwidth `mode_bandwidth` with prominence at
least `mode_prominence` × the highest peak), and, for the DC-GAN, max over saved times of
|corr(X̂_t, X̃_t)| after 1 and after 10 links of the chain (the reference only checked t = 0).
"""

import dataclasses
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from matplotlib.figure import Figure

from jaxlab import de, kde, metrics, systems, train

from ._base import Config, Experiment, Reference, Result

PAPER = ("Min, Hu & Ichiba (2023), Directed Chain Generative Adversarial Networks, ICML "
         "(stochastic opinion dynamics)")

CHECK_TIMES = (0.1, 0.5, 1.0)
MODE_TIMES = (0.5, 1.0)


@dataclasses.dataclass(frozen=True)
class DCGANOpinionConfig(Config):
    """Configuration of `dcgan-opinion`.

    **Fields:** `particles` (N, simulated jointly; half train, half held out), `dt`
    (Euler–Maruyama step of the data), `save_every` (data steps between saved times),
    `width`, `depth` (of the MLPs), `noise` (Brownian dimension of the generators),
    `hidden` (state of the baseline SDE), `sig_depth` (signature truncation), `batch_size`,
    `steps` (training steps of each generator), `learning_rate` (Adam), `diffusion_bound`
    (the DC-SDE's diffusion is `diffusion_bound · tanh(MLP)`, a learned field inside a fixed
    bound, twice the data's noise level by default: a learnable bound ran away, docs/de.md),
    `decorrelation` (weight λ of the squared output–neighbour correlation added to the DC-GAN
    loss, see `dc_gan_loss`: without it the generator pulled its output towards its
    neighbour, docs/de.md), `eval_paths` (generated for the metrics), `links` (chain links
    for the second evaluation), `mode_bandwidth`, `mode_prominence` (of `kde.find_modes`).
    """

    particles: int = 2000
    dt: float = 0.01
    save_every: int = 5
    width: int = 32
    depth: int = 2
    noise: int = 2
    hidden: int = 16
    sig_depth: int = 4
    batch_size: int = 256
    steps: int = 2000
    learning_rate: float = 3e-3
    diffusion_bound: float = 0.2
    decorrelation: float = 1.0
    eval_paths: int = 8192
    links: int = 10
    mode_bandwidth: float = 0.1
    mode_prominence: float = 0.1

    QUICK: ClassVar[dict] = {"particles": 1000, "steps": 150, "eval_paths": 2048}

    def validate(self) -> None:
        self.require(self.particles >= 16, "particles", "at least 16")
        self.require(0 < self.dt <= 0.1, "dt", "in (0, 0.1]")
        steps = round(1 / self.dt)
        self.require(abs(steps * self.dt - 1) < 1e-9, "dt", "1/k for an integer k")
        self.require(self.save_every >= 1 and steps % self.save_every == 0, "save_every",
                     f"a divisor of 1/dt = {steps}")
        saved = steps // self.save_every
        for t in CHECK_TIMES:
            self.require(abs(round(t * saved) - t * saved) < 1e-9, "save_every",
                         f"a spacing that saves t = {CHECK_TIMES}")
        for name in ("width", "depth", "noise", "hidden", "links"):
            self.require(getattr(self, name) >= 1, name, "at least 1")
        self.require(2 <= self.sig_depth <= 6, "sig_depth", "in 2..6")
        self.require(3 <= self.batch_size <= self.particles // 2, "batch_size",
                     "in 3..particles // 2")
        self.require(self.steps >= 1, "steps", "at least 1")
        self.require(self.learning_rate > 0, "learning_rate", "positive")
        self.require(self.diffusion_bound > 0, "diffusion_bound", "positive")
        self.require(self.decorrelation >= 0, "decorrelation", "non-negative")
        self.require(self.eval_paths >= 16, "eval_paths", "at least 16")
        self.require(self.mode_bandwidth > 0, "mode_bandwidth", "positive")
        self.require(0 < self.mode_prominence < 1, "mode_prominence", "in (0, 1)")


def count_modes(samples, config: "DCGANOpinionConfig") -> int:
    """The number of modes of a Gaussian KDE of 1-D `samples` (`kde.find_modes`)."""
    return len(kde.find_modes(samples, bandwidth=config.mode_bandwidth,
                              prominence=config.mode_prominence))


def run(config: DCGANOpinionConfig, *, key) -> Result:
    """Train both generators; W1 of marginals, modes at t = 1, neighbour correlation."""
    k_data, k_split, k_dc, k_sde, k_fit_dc, k_fit_sde, k_eval = jax.random.split(key, 7)
    # the particle paths (particles, T) from X₀ ~ U(−2, 2): one solve of the whole system
    k0, kw = jax.random.split(k_data)
    x0 = jax.random.uniform(k0, (config.particles,), minval=-2.0, maxval=2.0)
    saved_ts = jnp.linspace(0.0, 1.0, round(1 / config.dt) // config.save_every + 1)
    paths = systems.simulate_sde(systems.OpinionDynamics(config.particles), x0, saved_ts,
                                 dt=config.dt, key=kw).ys.T
    order = jax.random.permutation(k_split, config.particles)
    half = config.particles // 2
    train_paths = paths[order[:half]][..., None]
    test_paths = np.asarray(paths[order[half:]], dtype=np.float64)
    length = paths.shape[1]
    ts1 = jnp.linspace(0.0, 1.0, length)
    ts = jnp.broadcast_to(ts1, (half, length))
    grid_steps = length - 1

    k_dc, k_sigma = jax.random.split(k_dc)
    # σ(t, x, x̃) = bound · tanh(MLP(t, x, x̃)), shape (1, noise): a learned field in a fixed bound
    sigma = de.NeighbourField(de.MLPField(2, (1, config.noise), width=config.width,
                                          depth=config.depth, final_activation=jnp.tanh,
                                          scale=config.diffusion_bound, key=k_sigma))
    dc = de.DirectedChainSDE(1, noise_size=config.noise, width=config.width,
                             depth=config.depth, grid_steps=grid_steps, diffusion=sigma,
                             key=k_dc)
    baseline = de.SDEGenerator(1, config.hidden, noise_size=config.noise, width=config.width,
                               depth=config.depth, grid_steps=grid_steps, key=k_sde)

    def baseline_loss(g, batch, *, key):
        return de.signature_mmd_loss(g, batch, key=key, depth=config.sig_depth)

    def dc_loss(m, batch, *, key):
        return de.dc_gan_loss(m, batch, key=key, depth=config.sig_depth,
                              decorrelation=config.decorrelation)

    schedule = optax.cosine_decay_schedule(config.learning_rate, config.steps, alpha=0.1)
    fit_dc = train.fit(dc_loss, dc, (ts, train_paths), optax.adam(schedule),
                       steps=config.steps, key=k_fit_dc, batch_size=config.batch_size,
                       has_aux=True)
    fit_sde = train.fit(baseline_loss, baseline, (ts, train_paths), optax.adam(schedule),
                        steps=config.steps, key=k_fit_sde, batch_size=config.batch_size)

    # Evaluation: neighbours and initial values drawn (with replacement, independently) from
    # the training paths; the chain is then continued for `links` links (round r started at
    # the initial values rolled by r).
    k_nb, k_y0, k_many, k_base = jax.random.split(k_eval, 4)
    n = config.eval_paths
    neighbours = train_paths[jax.random.randint(k_nb, (n,), 0, half)]
    y0s = train_paths[jax.random.randint(k_y0, (n,), 0, half), 0]
    rounds = fit_dc.model.propagate(ts1, y0s, neighbours, key=k_many, times=config.links,
                                    history=True)
    before = rounds[-2] if config.links > 1 else neighbours
    corr_one = np.asarray(de.neighbour_correlation(rounds[0], neighbours))[:, 0]
    corr_last = np.asarray(de.neighbour_correlation(rounds[-1], before))[:, 0]
    base = eqx.filter_jit(lambda g, k: jax.vmap(lambda kk: g(ts1, key=kk))(
        jax.random.split(k, n)))(fit_sde.model, k_base)

    samples = {"dc_gan": rounds[0], f"dc_gan_{config.links}_links": rounds[-1],
               "neural_sde": base}
    samples = {name: np.asarray(s[..., 0], dtype=np.float64) for name, s in samples.items()}
    if not all(np.all(np.isfinite(s)) for s in samples.values()):
        raise FloatingPointError("dcgan-opinion: a trained generator produced non-finite paths")
    index = {t: round(t * (length - 1)) for t in CHECK_TIMES + MODE_TIMES}
    # the floor for W1: the training particles against the held-out ones
    train_np = np.asarray(train_paths[..., 0], dtype=np.float64)
    scores = {f"w1_{name}_t{t}": float(metrics.wasserstein_1d(s[:, index[t]],
                                                              test_paths[:, index[t]]))
              for name, s in {**samples, "data": train_np}.items() for t in CHECK_TIMES}
    scores |= {f"modes_{name}_t{t}": count_modes(s[:, index[t]], config)
               for name, s in {**samples, "data": test_paths}.items() for t in MODE_TIMES}
    scores["max_abs_corr_1_link"] = float(corr_one.max())
    scores[f"max_abs_corr_{config.links}_links"] = float(corr_last.max())
    scores["corr_standard_error"] = float(1 / np.sqrt(n))
    for name, history in (("loss_dc_gan", fit_dc.history["loss"]),
                          ("mmd_dc_gan", fit_dc.history["aux"]["mmd"]),
                          ("loss_neural_sde", fit_sde.history["loss"])):
        scores[f"final_{name}"] = float(np.mean(np.asarray(history)[-50:]))
    scores["steps"] = config.steps
    references = {
        "modes_dc_gan_t0.5": Reference(
            scores["modes_data_t0.5"], "the data's t = 0.5 marginal (measured in the same run)",
            "DC-GAN reproduces the multimodal marginal (Min et al. 2023)"),
        "max_abs_corr_1_link": Reference(0.05, "jaxlab issue #5",
                                         "|corr| < 0.05 at every saved time")}

    fig = Figure(figsize=(14, 4))
    axes = fig.subplots(1, 4)
    bins = np.linspace(-2.5, 2.5, 81)
    for ax, t in zip(axes[:2], MODE_TIMES, strict=True):
        i = index[t]
        ax.hist(test_paths[:, i], bins, density=True, alpha=0.5,
                label=f"data ({scores[f'modes_data_t{t}']} modes)")
        for name, label in (("dc_gan", "DC-GAN"), ("neural_sde", "neural SDE")):
            ax.hist(samples[name][:, i], bins, density=True, histtype="step", lw=1.5,
                    label=f"{label} ({scores[f'modes_{name}_t{t}']} modes)")
        ax.set_title(f"marginal at t = {t}")
        ax.legend(fontsize=8)
    axes[2].plot(ts1, test_paths[:30].T, color="C0", alpha=0.4, lw=0.8)
    axes[2].plot(ts1, samples["dc_gan"][:30].T, color="C1", alpha=0.4, lw=0.8)
    axes[3].plot(ts1, corr_one, label="1 link")
    axes[3].plot(ts1, corr_last, label=f"{config.links} links")
    axes[3].axhline(0.05, color="k", ls="--", lw=0.8)
    axes[3].legend(fontsize=8)
    for ax, title in zip(axes[2:], ("paths: data (blue), DC-GAN (orange)",
                                    "|corr(output, neighbour)|"), strict=True):
        ax.set(title=title, xlabel="t")
    fig.tight_layout()
    links = f"dc_gan_{config.links}_links"
    joined = lambda key, times, fmt: " / ".join(
        format(scores[key.format(t)], fmt) for t in times)
    summary = (
        f"Modes of the marginal at t = 0.5 / 1: data {joined('modes_data_t{}', MODE_TIMES, '')}"
        f", DC-GAN {joined('modes_dc_gan_t{}', MODE_TIMES, '')} (after {config.links} links "
        f"{joined(f'modes_{links}_t{{}}', MODE_TIMES, '')}), neural SDE "
        f"{joined('modes_neural_sde_t{}', MODE_TIMES, '')}. W1 at t = 0.1 / 0.5 / 1: DC-GAN "
        f"{joined('w1_dc_gan_t{}', CHECK_TIMES, '.3f')}, neural SDE "
        f"{joined('w1_neural_sde_t{}', CHECK_TIMES, '.3f')}, held-out data "
        f"{joined('w1_data_t{}', CHECK_TIMES, '.3f')}. max_t |corr(output, neighbour)| = "
        f"{scores['max_abs_corr_1_link']:.3f} (1 link), "
        f"{scores[f'max_abs_corr_{config.links}_links']:.3f} ({config.links} links).")
    return Result(metrics=scores, figures={"opinion": fig}, references=references,
                  summary=summary)


EXPERIMENT = Experiment(
    name="dcgan-opinion",
    paper=PAPER,
    subpackage="de",
    config=DCGANOpinionConfig,
    run=run,
    quick_runtime_s=83.0,
    description="DC-GAN vs neural SDE on multimodal stochastic opinion dynamics",
)
