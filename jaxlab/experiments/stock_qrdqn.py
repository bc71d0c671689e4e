"""`stock-qrdqn`: a stock-augmented quantile-regression DQN learns the CVaR-optimal,
stock-dependent policy of a risky/safe bandit chain, judged by exact evaluation."""

import dataclasses
import time
from typing import ClassVar

import numpy as np
from matplotlib.figure import Figure

from jaxlab import distrl as D

from ._base import Config, Experiment, Reference, Result

PAPER = ("Pires et al. (2025), Optimizing Return Distributions with Distributional Dynamic "
         "Programming, JMLR (stock-augmented deep agent); Dabney et al. (2018), QR-DQN")


@dataclasses.dataclass(frozen=True)
class StockQRDQNConfig(Config):
    """Configuration of `stock-qrdqn`.

    **Fields:**

    - `horizon`, `safe_reward`, `risky_rewards`, `risky_probs`: the environment,
      `jaxlab.distrl.risky_safe_chain` (integer rewards, so the exact evaluation is exact).
    - `tau`: the CVaR tail fraction.
    - `num_quantiles`, `width`, `depth`: the `StockQNetwork`.
    - `rounds`, `episodes_per_round`, `steps_per_round`, `batch_size`, `buffer_rounds`,
      `learning_rate`, `epsilon_end`, `kappa`: the training loop (`train_stock_qrdqn`).
    - `track_every`: evaluate the agent's CVaR exactly every this many rounds (the training
      curve; never used to select anything).
    """

    horizon: int = 4
    safe_reward: float = 1.0
    risky_rewards: tuple[float, ...] = (-3.0, 5.0)
    risky_probs: tuple[float, ...] = (0.25, 0.75)
    tau: float = 0.25
    num_quantiles: int = 32
    width: int = 64
    depth: int = 2
    rounds: int = 150
    episodes_per_round: int = 256
    steps_per_round: int = 100
    batch_size: int = 256
    buffer_rounds: int = 20
    learning_rate: float = 1e-3
    epsilon_end: float = 0.05
    kappa: float = 1.0
    track_every: int = 5

    QUICK: ClassVar[dict] = {"rounds": 30, "track_every": 10}

    def validate(self) -> None:
        self.require(1 <= self.horizon <= 8, "horizon", "an int in 1..8 (brute-force Markov "
                     "reference)")
        self.require(float(self.safe_reward).is_integer(), "safe_reward", "an integer")
        self.require(len(self.risky_rewards) >= 1
                     and all(float(r).is_integer() for r in self.risky_rewards),
                     "risky_rewards", "a non-empty tuple of integers")
        self.require(len(self.risky_probs) == len(self.risky_rewards)
                     and all(p >= 0 for p in self.risky_probs)
                     and abs(sum(self.risky_probs) - 1.0) < 1e-9,
                     "risky_probs", "non-negative probabilities summing to 1, one per "
                     "risky reward")
        self.require(0 < self.tau <= 1, "tau", "in (0, 1]")
        for name in ("num_quantiles", "width", "rounds", "episodes_per_round",
                     "steps_per_round", "batch_size", "buffer_rounds", "track_every"):
            self.require(getattr(self, name) >= 1, name, "a positive int")
        self.require(self.depth >= 0, "depth", "an int >= 0")
        self.require(self.batch_size <= self.buffer_rounds * self.episodes_per_round
                     * self.horizon, "batch_size", "at most the buffer size "
                     "buffer_rounds·episodes_per_round·horizon")
        self.require(self.learning_rate > 0, "learning_rate", "positive")
        self.require(0 <= self.epsilon_end <= 1, "epsilon_end", "in [0, 1]")
        self.require(self.kappa >= 0, "kappa", "non-negative")


def _negative_part(x: float) -> float:
    """NegativePart's utility min(x, 0), in float64 for the exact references."""
    return min(x, 0.0)


def run(config: StockQRDQNConfig, *, key) -> Result:
    """Train the agent, pick b̂ by its own estimate, evaluate its policy exactly."""
    mdp = D.risky_safe_chain(config.horizon, safe_reward=config.safe_reward,
                             risky_rewards=config.risky_rewards,
                             risky_probs=config.risky_probs)
    tau = config.tau
    lo, hi = mdp.return_bounds()
    thresholds = np.arange(round(lo), round(hi) + 1)
    objective = D.NegativePart()

    tracked: dict[str, list[float]] = {"round": [], "cvar": []}

    def track(round_, network):
        # exact CVaR of the policy the agent would deploy now (its own b̂): a curve only
        if round_ % config.track_every == 0 or round_ == config.rounds:
            out = D.stock_qrdqn_cvar(network, mdp, tau, thresholds=thresholds, compare=False)
            tracked["round"].append(round_)
            tracked["cvar"].append(float(out.cvar))
        return {}

    start = time.perf_counter()
    trained = D.train_stock_qrdqn(
        mdp, objective, key=key, initial_stocks=-thresholds, num_quantiles=config.num_quantiles,
        width=config.width, depth=config.depth, rounds=config.rounds,
        episodes_per_round=config.episodes_per_round, steps_per_round=config.steps_per_round,
        batch_size=config.batch_size, buffer_rounds=config.buffer_rounds,
        learning_rate=config.learning_rate, epsilon_end=config.epsilon_end,
        kappa=config.kappa, callback=track)
    train_time = time.perf_counter() - start
    result = D.stock_qrdqn_cvar(trained.network, mdp, tau, thresholds=thresholds)
    optimum = result.optimum
    agent, best, markov = float(result.cvar), float(optimum.cvar), result.markov_cvar
    gap = (best - agent) / abs(best)
    grid = np.asarray(result.policy.stock_grid)
    agreement, reachable = D.optimal_action_agreement(
        mdp, result.policy, _negative_part, initial_stocks=[float(result.initial_stock)])
    agreement_all, reachable_all = D.optimal_action_agreement(
        mdp, result.policy, _negative_part, initial_stocks=-thresholds.astype(float))
    b_hat = float(result.threshold)
    i_hat = int(np.flatnonzero(thresholds == round(b_hat))[0])

    metrics = {
        "agent_cvar": agent,
        "optimum_cvar": best,
        "best_markov_cvar": markov,
        "relative_gap": gap,
        "within_10_percent": bool(gap <= 0.10),
        "agent_threshold": b_hat,
        "optimum_threshold": float(optimum.threshold),
        "agent_estimated_cvar": float(result.estimated_cvar_by_threshold[i_hat]),
        "action_agreement": agreement,
        "reachable_states": reachable,
        "action_agreement_all_starts": agreement_all,
        "reachable_states_all_starts": reachable_all,
        "final_loss": trained.history["loss"][-1],
        "train_time_s": train_time,
    }
    references = {"agent_cvar": Reference(best, "exact optimum: stock-augmented DP "
                                          "(jaxlab.distrl.optimize_cvar) on the same MDP")}

    fig_train = Figure(figsize=(10, 3.8))
    ax_loss, ax_cvar = fig_train.subplots(1, 2)
    ax_loss.plot(trained.history["round"], trained.history["loss"], lw=1.2)
    ax_loss.set_xlabel("round")
    ax_loss.set_ylabel("mean quantile Huber loss")
    ax_loss.set_title("TD loss (targets move every round)")
    ax_cvar.plot(tracked["round"], tracked["cvar"], "o-", ms=3, label="agent (exact evaluation)")
    ax_cvar.axhline(best, color="k", ls="--", lw=1, label=f"optimum {best:.4g}")
    ax_cvar.axhline(0.9 * best, color="k", ls=":", lw=1, label="90% of optimum")
    if markov is not None:
        ax_cvar.axhline(markov, color="tab:red", ls="-.", lw=1,
                        label=f"best Markov {markov:.4g}")
    ax_cvar.set_xlabel("round")
    ax_cvar.set_ylabel(f"CVaR$_{{{tau:g}}}$ of the return")
    ax_cvar.set_title("CVaR of the deployed policy")
    ax_cvar.legend(fontsize=8)

    fig_b = Figure(figsize=(6.5, 4.2))
    ax = fig_b.add_subplot()
    opt_b = np.asarray(optimum.thresholds)
    opt_curve = np.asarray(optimum.cvar_by_threshold)
    keep = np.isin(opt_b, thresholds) & np.isfinite(opt_curve)
    order = np.argsort(opt_b[keep])
    ax.plot(opt_b[keep][order], opt_curve[keep][order], "k--", lw=1,
            label="exact b + V*(−b)/τ (DP)")
    ax.plot(thresholds, np.asarray(result.estimated_cvar_by_threshold), lw=1.5,
            label="network estimate b + V̂(−b)/τ")
    ax.plot(thresholds, np.asarray(result.cvar_by_threshold), "o", ms=3,
            label="exact CVaR of the agent started at −b")
    ax.axvline(b_hat, color="tab:green", lw=0.8, label=f"agent's b̂ = {b_hat:g}")
    ax.set_ylim(min(-2.0, (markov or best) - 6), best + 1.5)
    ax.set_xlabel("threshold b (initial stock c₀ = −b)")
    ax.set_ylabel("CVaR")
    ax.set_title("Rockafellar–Uryasev outer search")
    ax.legend(fontsize=8)

    fig_pol = Figure(figsize=(9, 3.2))
    axes = fig_pol.subplots(1, 2, sharey=True)
    for ax, table, title in ((axes[0], result.policy.actions, "agent"),
                             (axes[1], optimum.policy.actions, "exact DP")):
        img = np.asarray(table)[:, 0, :]
        ax.imshow(img, aspect="auto", cmap="coolwarm", vmin=0, vmax=1, interpolation="nearest",
                  extent=(grid[0] - 0.5, grid[-1] + 0.5, img.shape[0] - 0.5, -0.5))
        ax.set_yticks(range(img.shape[0]))
        ax.set_title(f"{title}: action by (t, c) (red = risky)")
        ax.set_xlabel("stock c")
    axes[0].set_ylabel("step t")

    summary = (
        f"A stock-augmented QR-DQN (`jaxlab.distrl.train_stock_qrdqn`, {config.num_quantiles} "
        f"quantiles, {config.rounds} rounds of {config.episodes_per_round} ε-greedy episodes "
        f"and {config.steps_per_round} `fit` steps) was trained on a risky/safe bandit chain "
        f"of horizon {config.horizon} (safe +{config.safe_reward:g}; risky "
        f"{config.risky_rewards} w.p. {config.risky_probs}) with initial stocks c₀ = −b over "
        f"the whole return range. It picks b̂ = {b_hat:g} from its own estimate "
        f"b + V̂(−b)/τ; its greedy policy, tabulated on the integer stock grid and evaluated "
        f"exactly, has CVaR_{tau:g} = {agent:.4g} against the exact optimum {best:.4g} "
        f"(relative gap {100 * gap:.1f}%) and {markov if markov is None else f'{markov:.4g}'} "
        f"for the best Markov policy, which cannot look at the stock. Its action is optimal "
        f"at {100 * agreement:.0f}% of the {reachable} (t, s, c) it reaches from −b̂ and at "
        f"{100 * agreement_all:.0f}% of the {reachable_all} reachable from any start."
    )
    return Result(metrics=metrics,
                  figures={"training": fig_train, "cvar_vs_threshold": fig_b,
                           "policy": fig_pol},
                  references=references, summary=summary)


EXPERIMENT = Experiment(
    name="stock-qrdqn",
    paper=PAPER,
    subpackage="distrl",
    config=StockQRDQNConfig,
    run=run,
    quick_runtime_s=24.5,
    description="Stock-augmented QR-DQN for CVaR on a risky/safe chain, evaluated exactly "
                "against the stock-augmented DP optimum and the best Markov policy",
)
