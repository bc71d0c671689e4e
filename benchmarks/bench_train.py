"""`jaxlab.train.fit` against the hand-written equinox + optax loop a user would otherwise write.

Both sides train the same MLP with Adam on the same regression data for the same number of
steps and bring the per-step losses back to the host. The peer is the loop of the equinox
examples: an `eqx.filter_jit` step called from a Python `for` loop, fed by a NumPy
dataloader that shuffles the rows on the host once per epoch and slices minibatches from the
shuffle (full-batch: the device arrays every step). `fit` shuffles on the device instead.
The ratio `fit / hand loop` of median wall times is recorded in `benchmark.extra_info`;
compile time (first call minus a steady call) is reported separately.
"""

import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxlab.train import fit

STEPS = 300
ROUNDS = 5


def regression_problem(n=1024, d=8):
    mkey, xkey = jax.random.split(jax.random.key(0))
    x = jax.random.normal(xkey, (n, d))
    y = jnp.sin(x @ jnp.linspace(-1.0, 1.0, d))[:, None]
    return eqx.nn.MLP(d, 1, 64, 2, key=mkey), {"x": x, "y": y}


def mse(model, batch, *, key):
    del key  # fit passes the loss key by keyword; this loss is deterministic
    return jnp.mean((jax.vmap(model)(batch["x"]) - batch["y"]) ** 2)


@eqx.filter_jit
def hand_step(model, opt_state, batch, optimizer):
    loss, grads = eqx.filter_value_and_grad(mse)(model, batch, key=None)
    updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(model, eqx.is_array))
    return eqx.apply_updates(model, updates), opt_state, loss


def numpy_batches(data, batch_size, *, seed):
    """The dataloader of the equinox examples: shuffle per epoch on the host, then slice."""
    arrays = {name: np.asarray(value) for name, value in data.items()}
    n = len(arrays["x"])
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            rows = order[start:start + batch_size]
            yield {name: value[rows] for name, value in arrays.items()}


def hand_loop(model, data, optimizer, *, steps, batch_size, seed=0):
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    batches = numpy_batches(data, batch_size, seed=seed) if batch_size else None
    losses = []
    for _ in range(steps):
        batch = data if batch_size is None else next(batches)
        model, opt_state, loss = hand_step(model, opt_state, batch, optimizer)
        losses.append(loss)
    return model, [float(v) for v in jax.device_get(losses)]


def timed(fn):
    start = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - start


@pytest.mark.benchmark
@pytest.mark.parametrize("batch_size", [None, 128], ids=["full-batch", "batch128"])
def test_fit_vs_hand_loop(benchmark, batch_size):
    model, data = regression_problem()
    optimizer = optax.adam(1e-3)
    key = jax.random.key(1)

    def run_fit():
        result = fit(mse, model, data, optimizer, steps=STEPS, key=key, batch_size=batch_size,
                     progress=False)
        return eqx.filter(result.model, eqx.is_array)

    def run_hand():
        trained, _ = hand_loop(model, data, optimizer, steps=STEPS, batch_size=batch_size)
        return eqx.filter(trained, eqx.is_array)

    first_fit, first_hand = timed(run_fit), timed(run_hand)  # compile both
    out = benchmark.pedantic(lambda: jax.block_until_ready(run_fit()), rounds=ROUNDS,
                             iterations=1, warmup_rounds=1)
    # The ratio comes from rounds that alternate the two sides, so that load from other
    # processes on the machine hits both alike.
    fit_times, hand_times = [], []
    for _ in range(ROUNDS):
        fit_times.append(timed(run_fit))
        hand_times.append(timed(run_hand))
    fit_median = statistics.median(fit_times)
    hand_median = statistics.median(hand_times)
    benchmark.extra_info.update(
        steps=STEPS,
        batch_size=batch_size,
        device=str(jax.devices()[0].platform),
        hand_loop_median_s=hand_median,
        fit_median_s=fit_median,
        fit_compile_s=first_fit - fit_median,
        hand_compile_s=first_hand - hand_median,
        ratio_vs_hand_loop=fit_median / hand_median,
    )
    hand = run_hand()
    if batch_size is None:  # the same computation: the two loops agree to float32 round-off
        for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(hand), strict=True):
            assert jnp.allclose(a, b, rtol=1e-4, atol=1e-5)
    else:  # different shuffles: both must have trained to a similar full-data loss
        full = lambda params: float(mse(eqx.combine(params, model), data, key=None))
        assert full(out) < 0.5 * float(mse(model, data, key=None))
        assert 0.5 < full(out) / full(hand) < 2.0
