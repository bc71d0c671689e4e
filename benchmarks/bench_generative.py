"""jaxlab.generative against torchcfm 1.0 (PyTorch 2.13, CPU) on torchcfm's 2-D protocol.

The model on both sides is torchcfm's 2-D MLP: (t, x) → 64 → 64 → 64 → 2 with SELU (jaxlab:
`de.MLPField(2, (2,), width=64, depth=3, activation=jax.nn.selu)`; PyTorch: the same layers,
time as the first input, weights copied from the jaxlab model), float32, Adam(1e-3), batch
256, σ = 0.1.

1. `test_cfm_training_step[icfm|otcfm]`: one training step — draw the flow-matching sample
   (t, x_t, u_t), loss, gradient, Adam update — jaxlab `cfm_loss` in one jitted step vs
   torchcfm's `ConditionalFlowMatcher` / `ExactOptimalTransportConditionalFlowMatcher` (POT's
   exact `emd` plan; jaxlab: `metrics.optimal_assignment`, SciPy's `linear_sum_assignment`
   through a host callback) with
   `torch.optim.Adam`. Ratio = PyTorch time / jaxlab time (> 1: jaxlab faster), fastest of
   the rounds; the jaxlab compile time separately.
2. `test_ode_sampling_throughput`: 10000 samples through the ODE of the same (copied)
   field, Dopri5 with rtol = atol = 10⁻⁴, jaxlab `sample_ode` vs torchdiffeq `odeint` (the
   torchcfm examples' solver via torchdyn; torchdiffeq has the same Dopri5).
3. `test_fm2d_w2_against_torchcfm`: both libraries trained for `JAXLAB_BENCH_FM_STEPS`
   steps (default 20000, torchcfm's and `fm-2d`'s full run) on 8 Gaussians → moons with
   I-CFM and OT-CFM, from the same data set and initial weights, for `JAXLAB_BENCH_FM_SEEDS`
   seeds (default 3), each run evaluated by the same code (`metrics.wasserstein` between
   2000 samples of an adaptive solve and 2000 held-out moons, the same sets for every run):
   the mean W2
   of jaxlab within 20% of torchcfm's, and OT-CFM no worse than I-CFM.
"""

import os
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxlab import de, metrics
from jaxlab import generative as gen
from jaxlab.experiments import fm_2d

from ._timing import best_of, compile_time, record

torch = pytest.importorskip("torch")
cfm = pytest.importorskip("torchcfm.conditional_flow_matching")
torchdiffeq = pytest.importorskip("torchdiffeq")

torch.set_num_threads(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else (os.cpu_count() or 1))
BATCH, SIGMA, LR = 256, 0.1, 1e-3
FM_STEPS = int(os.environ.get("JAXLAB_BENCH_FM_STEPS", "20000"))
FM_SEEDS = int(os.environ.get("JAXLAB_BENCH_FM_SEEDS", "3"))


def _jax_model(seed=0):
    with jax.enable_x64(False):
        return de.MLPField(2, (2,), width=64, depth=3, activation=jax.nn.selu,
                           key=jax.random.PRNGKey(seed))


class TorchMLP(torch.nn.Module):
    """torchcfm's 2-D MLP with time as the first input."""

    def __init__(self, width=64):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(3, width), torch.nn.SELU(), torch.nn.Linear(width, width),
            torch.nn.SELU(), torch.nn.Linear(width, width), torch.nn.SELU(),
            torch.nn.Linear(width, 2))

    def forward(self, t, x):
        return self.net(torch.cat([t.reshape(-1, 1).expand(x.shape[0], 1), x], 1))


def _copy(jax_model) -> TorchMLP:
    model = TorchMLP()
    linears = [m for m in model.net if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for lin, layer in zip(linears, jax_model.mlp.layers, strict=True):
            lin.weight.copy_(torch.tensor(np.asarray(layer.weight)))
            lin.bias.copy_(torch.tensor(np.asarray(layer.bias)))
    return model


def _batch(seed):
    x0, x1 = gen.toy_pair("8gaussians-moons", BATCH, key=jax.random.PRNGKey(seed))
    return x0.astype(jnp.float32), x1.astype(jnp.float32)


def _matcher(method):
    return (cfm.ConditionalFlowMatcher(sigma=SIGMA) if method == "icfm"
            else cfm.ExactOptimalTransportConditionalFlowMatcher(sigma=SIGMA))


def _torch_step(model, opt, fm, x0, x1):
    opt.zero_grad()
    t, xt, ut = fm.sample_location_and_conditional_flow(x0, x1)
    loss = torch.mean((model(t, xt) - ut) ** 2)
    loss.backward()
    opt.step()
    return loss


def _jax_step(method):
    opt = optax.adam(LR)

    @eqx.filter_jit
    def step(model, state, batch, key):
        loss, grads = eqx.filter_value_and_grad(gen.cfm_loss)(
            model, batch, key=key, coupling=fm_2d.METHODS[method], sigma=SIGMA)
        updates, state = opt.update(grads, state, model)
        return eqx.apply_updates(model, updates), state, loss

    return opt, step


@pytest.mark.parametrize("method", ["icfm", "otcfm"])
def test_cfm_training_step(benchmark, method):
    with jax.enable_x64(False):
        model = _jax_model()
        opt, step = _jax_step(method)
        state = opt.init(eqx.filter(model, eqx.is_inexact_array))
        batch = _batch(1)
        key = jax.random.PRNGKey(2)
        carry = {"model": model, "state": state}
        compile_s = compile_time(lambda: step(model, state, batch, key)[2])

        def ours():
            carry["model"], carry["state"], loss = step(carry["model"], carry["state"], batch,
                                                        key)
            return loss

        benchmark.pedantic(lambda: jax.block_until_ready(ours()), rounds=30, iterations=5,
                           warmup_rounds=2)
    tmodel = _copy(_jax_model())
    topt = torch.optim.Adam(tmodel.parameters(), lr=LR)
    fm = _matcher(method)
    x0, x1 = (torch.from_numpy(np.asarray(b)) for b in batch)

    def theirs():
        for _ in range(5):
            _torch_step(tmodel, topt, fm, x0, x1)

    theirs()
    peer_s = best_of(theirs, repeat=30) / 5
    record(benchmark, peer_name=f"torchcfm {method}", peer_s=peer_s, compile_s=compile_s,
           ratio_jaxlab_over_torch=benchmark.stats.stats.min / peer_s)


def test_ode_sampling_throughput(benchmark):
    n = 10_000
    with jax.enable_x64(False):
        model = _jax_model(3)
        x0 = jax.random.normal(jax.random.PRNGKey(4), (n, 2), dtype=jnp.float32)
        run = eqx.filter_jit(lambda f, x: gen.sample_ode(f, x, solver="dopri5", rtol=1e-4,
                                                         atol=1e-4).xs)
        compile_s = compile_time(run, model, x0)
        ours = run(model, x0)
        benchmark.pedantic(lambda: jax.block_until_ready(run(model, x0)), rounds=10,
                           iterations=1, warmup_rounds=1)
    tmodel = _copy(model)
    tx0 = torch.from_numpy(np.asarray(x0))
    ts = torch.tensor([0.0, 1.0])

    def theirs():
        with torch.no_grad():
            return torchdiffeq.odeint(tmodel, tx0, ts, method="dopri5", rtol=1e-4, atol=1e-4)

    out = theirs()[-1].numpy()
    peer_s = best_of(theirs, repeat=5)
    # the same field and tolerance: the two solutions agree to the tolerance's scale
    assert np.max(np.abs(out - np.asarray(ours))) < 1e-2
    record(benchmark, peer_name="torchdiffeq dopri5", peer_s=peer_s, compile_s=compile_s,
           samples_per_s_jaxlab=n / benchmark.stats.stats.min, samples_per_s_torch=n / peer_s)


def _torch_train(method, config, key, seed):
    """torchcfm training from the same data set and initial weights as
    `fm_2d.train_field(..., key)`, random minibatches of `BATCH` rows."""
    torch.manual_seed(seed)
    (x0, x1), initial, _ = fm_2d.training_setup("8gaussians-moons", config, key)
    model = _copy(initial)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    fm = _matcher(method)
    x0, x1 = (torch.tensor(np.asarray(a, dtype=np.float32)) for a in (x0, x1))
    start = time.perf_counter()
    for _ in range(config.steps):
        idx = torch.randint(0, config.pairs, (BATCH,))
        _torch_step(model, opt, fm, x0[idx], x1[idx])
    return model, time.perf_counter() - start


def test_fm2d_w2_against_torchcfm(benchmark):
    config = fm_2d.FM2DConfig(steps=FM_STEPS)
    info = {}
    w2 = {(lib, m): [] for lib in ("jaxlab", "torchcfm") for m in ("icfm", "otcfm")}
    with jax.enable_x64(False):
        k_eval = jax.random.PRNGKey(1)  # the same evaluation sets for every run
        base, _ = gen.toy_pair("8gaussians-moons", config.eval_points,
                               key=jax.random.split(k_eval)[0])
        _, target = gen.toy_pair("8gaussians-moons", config.eval_points,
                                 key=jax.random.split(k_eval)[1])
        for seed in range(FM_SEEDS):
            k_train = jax.random.fold_in(jax.random.PRNGKey(0), seed)
            for method in ("icfm", "otcfm"):
                field, seconds = fm_2d.train_field("8gaussians-moons", method, config, k_train)
                w2["jaxlab", method].append(
                    fm_2d.evaluate(field, "8gaussians-moons", config, k_eval)["w2"])
                info[f"train_s_jaxlab_{method}_seed{seed}"] = seconds
                tmodel, tseconds = _torch_train(method, config, k_train, seed)
                with torch.no_grad():
                    out = torchdiffeq.odeint(tmodel, torch.from_numpy(np.asarray(base)),
                                             torch.tensor([0.0, 1.0]), method="dopri5",
                                             rtol=config.tol, atol=config.tol)[-1]
                w2["torchcfm", method].append(
                    float(metrics.wasserstein(jnp.asarray(out.numpy()), target)))
                info[f"train_s_torchcfm_{method}_seed{seed}"] = tseconds
    for (lib, method), values in w2.items():
        info[f"w2_{lib}_{method}"] = float(np.mean(values))
        info[f"w2_{lib}_{method}_sd"] = float(np.std(values))
        info[f"w2_{lib}_{method}_runs"] = [float(v) for v in values]
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    benchmark.extra_info.update({"steps": config.steps, "seeds": FM_SEEDS, **info})
    print("\n" + ", ".join(f"{k} {v}" for k, v in info.items() if k.startswith("w2")))
    for method in ("icfm", "otcfm"):
        ratio = info[f"w2_jaxlab_{method}"] / info[f"w2_torchcfm_{method}"]
        assert 0.8 <= ratio <= 1.2, (method, ratio)
    assert info["w2_jaxlab_otcfm"] <= info["w2_jaxlab_icfm"]
