"""`diffusion-orders`: convergence orders of probability-flow samplers with an exact score.

A VP diffusion (β from 0.1 to 20, t_min = 10⁻³) of a three-component Gaussian mixture in
d = 2 has a closed-form score (`PathMarginal`), so the only error of a sampler is its
discretisation. From the same noise x_T, the probability-flow ODE is solved by Euler, Heun
and DDIM with N steps and compared with an adaptive Tsit5 solution at tolerance 10⁻¹²
(float64); the order is the fitted slope of log(mean error) against log N. The monograph
(Lai et al. 2025, ch. 9) states first order for Euler and DDIM and second order for Heun.
"""

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from matplotlib.figure import Figure

from jaxlab import generative as gen

from ._base import Config, Experiment, Reference, Result

PAPER = ("Lai, Song, Kim, Mitsufuji & Ermon (2025), The Principles of Diffusion Models, "
         "ch. 9 (samplers as ODE solvers)")


@dataclasses.dataclass(frozen=True)
class DiffusionOrdersConfig(Config):
    """Configuration of `diffusion-orders`.

    **Fields:** `points` (noise samples x_T), `min_steps`, `max_steps` (the step counts are
    the powers of two between them), `beta_min`, `beta_max`, `t_min` (the VP diffusion),
    `reference_tol` (rtol = atol of the Tsit5 reference).
    """

    points: int = 512
    min_steps: int = 16
    max_steps: int = 512
    beta_min: float = 0.1
    beta_max: float = 20.0
    t_min: float = 1e-3
    reference_tol: float = 1e-12

    QUICK: ClassVar[dict] = {"points": 128, "max_steps": 256}

    def validate(self) -> None:
        self.require(self.points >= 1, "points", "at least 1")
        self.require(self.min_steps >= 1, "min_steps", "at least 1")
        self.require(self.max_steps >= 4 * self.min_steps, "max_steps",
                     "at least 4 × min_steps (three step counts to fit a slope)")
        self.require(0 < self.beta_min < self.beta_max, "beta_max", "> beta_min > 0")
        self.require(0 < self.t_min < 1, "t_min", "in (0, 1)")
        self.require(0 < self.reference_tol <= 1e-8, "reference_tol", "in (0, 1e-8]")


def mixture():
    """The target: a three-component Gaussian mixture in d = 2 (float64 when enabled)."""
    return gen.GaussianMixture(jnp.array([0.2, 0.5, 0.3]),
                               jnp.array([[-2.0, 0.0], [1.0, 1.5], [1.5, -1.5]]),
                               jnp.array([0.1, 0.3, 0.2]))


def run(config: DiffusionOrdersConfig, *, key) -> Result:
    """Errors of Euler, Heun and DDIM against the adaptive reference; fitted slopes (every
    solve raises if it fails or leaves a non-finite sample)."""
    with jax.enable_x64(True):
        vp = gen.Diffusion.vp(config.beta_min, config.beta_max, t_min=config.t_min)
        marg = gen.PathMarginal(vp, mixture())
        span = vp.T - vp.t_min

        def velocity(tau, x):  # the probability-flow ODE in τ ∈ [0, 1] (noise -> data)
            t = vp.T - tau * span
            return -span * marg.drift(t, x)

        xT = jax.random.normal(key, (config.points, 2), dtype=jnp.float64)
        reference = jax.jit(lambda x: gen.sample_ode(
            velocity, x, solver="tsit5", rtol=config.reference_tol,
            atol=config.reference_tol).xs)(xT)
        steps = []
        n = config.min_steps
        while n <= config.max_steps:
            steps.append(n)
            n *= 2
        score = marg.score
        samplers = {
            "euler": lambda x, n: gen.sample_ode(velocity, x, solver="euler", steps=n).xs,
            "heun": lambda x, n: gen.sample_ode(velocity, x, solver="heun", steps=n).xs,
            "ddim": lambda x, n: gen.ddim(score, vp, x, prediction="score", steps=n).xs,
        }
        errors = {name: [] for name in samplers}
        for name, sampler in samplers.items():
            for n in steps:
                out = jax.jit(lambda x, s=sampler, n=n: s(x, n))(xT)
                errors[name].append(float(jnp.mean(jnp.linalg.norm(out - reference, axis=1))))
    metrics = {}
    for name, errs in errors.items():
        slope = float(np.polyfit(np.log(steps), np.log(errs), 1)[0])
        metrics[f"order_{name}"] = -slope
        for n, e in zip(steps, errs, strict=True):
            metrics[f"error_{name}_N{n}"] = e
    references = {
        "order_euler": Reference(1.0, PAPER, "Euler is first order (issue #7: within ±0.2)"),
        "order_heun": Reference(2.0, PAPER, "Heun is second order (issue #7: within ±0.2)"),
        "order_ddim": Reference(1.0, "Song, Meng & Ermon (2021); Lu et al. (2022)",
                                "DDIM is the first-order exponential integrator"),
    }
    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    for name, errs in errors.items():
        ax.loglog(steps, errs, "o-", label=f"{name} (order {metrics[f'order_{name}']:.2f})")
    ax.set_xlabel("steps N")
    ax.set_ylabel("mean |x_N − x_ref|")
    ax.set_title("probability-flow samplers, exact score")
    ax.legend(fontsize=8)
    fig.tight_layout()
    summary = (f"With the exact score of a Gaussian mixture, the fitted orders over "
               f"N = {steps[0]}…{steps[-1]} steps are Euler {metrics['order_euler']:.2f}, "
               f"Heun {metrics['order_heun']:.2f}, DDIM {metrics['order_ddim']:.2f} "
               f"(expected 1, 2, 1).")
    return Result(metrics=metrics, figures={"orders": fig}, references=references,
                  summary=summary)


EXPERIMENT = Experiment(
    name="diffusion-orders",
    paper=PAPER,
    subpackage="generative",
    config=DiffusionOrdersConfig,
    run=run,
    quick_runtime_s=28.0,
    description="Convergence orders of Euler, Heun and DDIM probability-flow samplers with "
                "the analytic score of a Gaussian mixture",
)
