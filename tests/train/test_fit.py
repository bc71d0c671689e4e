"""`jaxlab.train.fit`: convergence, determinism, compile-once, data parallelism, errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxlab import RESULTS
from jaxlab.train import FitResult, fit, load_checkpoint


class AffineModel(eqx.Module):
    w: jax.Array
    b: jax.Array

    def __call__(self, x):
        return x @ self.w + self.b


# Shared optimiser objects: the compiled step is cached per (loss_fn, optimizer, shapes), so
# reusing them keeps the module to a handful of compilations.
ADAM = optax.adam(1e-2)
SGD = optax.sgd(1e-2)
SGD2 = optax.sgd(2.0)


def mse(model, batch, key):  # a user's loss with a positional-or-keyword key
    del key
    return jnp.mean((model(batch["x"]) - batch["y"]) ** 2)


def mlp_mse(model, batch, *, key):  # the library's convention: fit passes key by keyword
    del key
    return jnp.mean((jax.vmap(model)(batch["x"]) - batch["y"]) ** 2)


def regression_data(n=256, d=5, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    y = x @ rng.standard_normal(d) + 0.7 + 0.01 * rng.standard_normal(n)
    return x.astype(dtype), y.astype(dtype)


def mlp_problem(n=128):
    mkey, dkey = jax.random.split(jax.random.key(1))
    x = jax.random.uniform(dkey, (n, 2), minval=-2.0, maxval=2.0)
    y = jnp.sin(x[:, :1]) * jnp.cos(x[:, 1:])
    return eqx.nn.MLP(2, 1, 16, 2, key=mkey), {"x": x, "y": y}


def array_leaves(tree):
    return jax.tree.leaves(eqx.filter(tree, eqx.is_array))


def test_linear_regression_reaches_least_squares_optimum(float64):
    x, y = regression_data(dtype=np.float64)
    model = AffineModel(jnp.zeros(5), jnp.asarray(0.0))
    # Full-batch gradient descent on the MSE: the Hessian 2/n [x 1]^T [x 1] has eigenvalues
    # in about [1.4, 2.6], so lr=0.5 contracts the error by <= 0.35 a step; 150 steps reach
    # float64 round-off.
    result = fit(mse, model, {"x": jnp.asarray(x), "y": jnp.asarray(y)}, optax.sgd(0.5),
                 steps=150, key=jax.random.key(0))
    design = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    np.testing.assert_allclose(np.asarray(result.model.w), coef[:5], rtol=0, atol=1e-10)
    np.testing.assert_allclose(float(result.model.b), coef[5], rtol=0, atol=1e-10)
    assert isinstance(result, FitResult) and isinstance(result, eqx.Module)
    assert not isinstance(result, tuple)
    assert result.status == RESULTS.successful and bool(result.converged)
    assert result.step == 150
    assert result.history["step"] == list(range(1, 151))
    assert all(isinstance(v, float) for v in result.history["loss"])
    # The first loss is the loss of the initial (zero) model.
    np.testing.assert_allclose(result.history["loss"][0], np.mean(y**2), rtol=1e-12)


def test_adam_minibatch_regression_float32():
    x, y = regression_data()
    model = AffineModel(jnp.zeros(5), jnp.asarray(0.0))
    result = fit(mse, model, {"x": x, "y": y}, optax.adam(3e-2), steps=600,
                 key=jax.random.key(0), batch_size=64)
    design = np.concatenate([x, np.ones((len(x), 1))], axis=1).astype(np.float64)
    coef = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)[0]
    # Minibatch noise keeps Adam within a few 1e-3 of the optimum (noise std is 0.01).
    np.testing.assert_allclose(np.asarray(result.model.w), coef[:5], atol=5e-3)
    assert result.history["loss"][-1] < 1e-3


def test_float64_dtype_preserved(float64):
    x, y = regression_data(n=64, dtype=np.float64)
    model = AffineModel(jnp.zeros(5, dtype=jnp.float64), jnp.asarray(0.0, dtype=jnp.float64))
    result = fit(mse, model, {"x": x, "y": y}, ADAM, steps=5,
                 key=jax.random.key(0), batch_size=16)
    for leaf in array_leaves(result.model):
        assert leaf.dtype == jnp.float64
    for leaf in jax.tree.leaves(result.opt_state):
        if jnp.issubdtype(leaf.dtype, jnp.floating):
            assert leaf.dtype == jnp.float64


def test_same_key_same_result_and_different_key_differs():
    model, data = mlp_problem()
    run = lambda k: fit(mlp_mse, model, data, ADAM, steps=10, key=k, batch_size=16)
    a, b, c = run(jax.random.key(3)), run(jax.random.key(3)), run(jax.random.key(4))
    for la, lb in zip(array_leaves(a.model), array_leaves(b.model), strict=True):
        np.testing.assert_array_equal(la, lb)
    assert a.history["loss"] == b.history["loss"]
    assert a.history["loss"] != c.history["loss"]


def test_raw_uint32_key_accepted():
    model, data = mlp_problem()
    typed = fit(mlp_mse, model, data, SGD, steps=3, key=jax.random.key(5))
    raw = fit(mlp_mse, model, data, SGD, steps=3, key=jax.random.PRNGKey(5))
    assert typed.history["loss"] == raw.history["loss"]


def test_step_compiles_once_across_steps_and_calls():
    model, data = mlp_problem()
    traces = []

    def counted_loss(m, batch, key):
        traces.append(1)  # runs only while the step is being traced
        return mlp_mse(m, batch, key=key)

    optimizer = optax.adam(1e-3)
    result = fit(counted_loss, model, data, optimizer, steps=50, key=jax.random.key(0),
                 batch_size=32, eval_fn=lambda m: {"zero": 0.0}, eval_every=7)
    assert len(traces) == 1
    assert len(result.history["loss"]) == 50
    fit(counted_loss, result.model, data, optimizer, steps=50, key=jax.random.key(1),
        batch_size=32)
    assert len(traces) == 1


def test_weakly_typed_parameters_do_not_cause_retracing():
    traces = []

    def counted_mse(m, batch, key):
        traces.append(1)
        return mse(m, batch, key)

    x, y = regression_data(n=32)
    model = AffineModel(jnp.zeros(5), jnp.asarray(0.0))  # `b` is weakly typed
    assert model.b.weak_type
    result = fit(counted_mse, model, {"x": x, "y": y}, SGD, steps=20, key=jax.random.key(0))
    assert len(traces) == 1
    assert result.model.b.dtype == jnp.float32


def test_loss_key_is_used_and_depends_on_step():
    model = AffineModel(jnp.zeros(1), jnp.asarray(0.0))
    data = {"x": jnp.zeros((4, 1)), "y": jnp.zeros(4)}

    def noise_loss(m, batch, key):
        return jax.random.normal(key) + 0.0 * m.b

    result = fit(noise_loss, model, data, optax.sgd(0.0), steps=4, key=jax.random.key(0))
    assert len(set(result.history["loss"])) == 4


def test_eval_callbacks_and_aux_history():
    model, data = mlp_problem()
    seen = []

    def loss_with_aux(m, batch, key):
        err = jax.vmap(m)(batch["x"]) - batch["y"]
        return jnp.mean(err**2), {"mae": jnp.mean(jnp.abs(err))}

    def eval_fn(m):
        return {"full_mse": mlp_mse(m, data, key=None)}

    result = fit(loss_with_aux, model, data, ADAM, steps=12,
                 key=jax.random.key(0), batch_size=32, has_aux=True, eval_fn=eval_fn,
                 eval_every=5, callbacks=[lambda s, m, metrics: seen.append((s, metrics))])
    history = result.history
    assert [s for s, _ in history["eval"]] == [5, 10, 12]
    assert [s for s, _ in seen] == [5, 10, 12]
    assert len(history["aux"]["mae"]) == 12
    last_step, last_metrics = history["eval"][-1]
    assert last_step == 12
    assert isinstance(last_metrics["full_mse"], float)
    np.testing.assert_allclose(last_metrics["full_mse"],
                               float(mlp_mse(result.model, data, key=None)), rtol=1e-6)
    for step, metrics in seen:
        assert metrics["loss"] == history["loss"][step - 1]
        assert metrics["full_mse"] == dict(history["eval"])[step]["full_mse"]


def test_progress_bar_forced_on_and_off(capsys):
    model, data = mlp_problem()
    fit(mlp_mse, model, data, SGD, steps=3, key=jax.random.key(0), progress=True)
    err = capsys.readouterr().err
    assert "fit" in err and "3/3" in err and "loss=" in err
    fit(mlp_mse, model, data, SGD, steps=3, key=jax.random.key(0), progress=False)
    assert capsys.readouterr().err == ""


def log_loss(m, batch, key):
    return jnp.log(m.w[0]) + 0.0 * jnp.sum(batch["x"])


def test_nonfinite_loss_raises_naming_the_step():
    model = AffineModel(jnp.ones(1), jnp.asarray(0.0))
    data = {"x": jnp.zeros((4, 1)), "y": jnp.zeros(4)}
    # w = 1 - 2 * (1 / 1) = -1 after the first update, so the loss at step 2 is log(-1).
    with pytest.raises(FloatingPointError, match="step 2 "):
        fit(log_loss, model, data, SGD2, steps=10, key=jax.random.key(0))


def test_nonfinite_loss_with_throw_false_is_the_status(tmp_path):
    model = AffineModel(jnp.ones(1), jnp.asarray(0.0))
    data = {"x": jnp.zeros((4, 1)), "y": jnp.zeros(4)}
    # The loss alternates log(1) = 0 and log(-1) = nan (the gradient 1/w flips w back).
    # Losses are fetched in blocks of 50 steps: training stops at the end of the first
    # block, not at step 120, and the history says where the loss first went bad.
    result = fit(log_loss, model, data, SGD2, steps=120, key=jax.random.key(0),
                 throw=False)
    assert result.status == RESULTS.nonfinite and not bool(result.converged)
    assert result.step == 50
    assert result.history["step"] == list(range(1, 51))
    losses = np.asarray(result.history["loss"])
    assert losses[0] == 0.0 and np.isnan(losses[1])
    # With checkpoints every step the loss is checked every step: the run stops after step
    # 2 and writes no checkpoint holding the non-finite loss.
    result = fit(log_loss, model, data, SGD2, steps=120, key=jax.random.key(0),
                 throw=False, checkpoint_dir=tmp_path, checkpoint_every=1)
    assert result.status == RESULTS.nonfinite and result.step == 2
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint_0000000001.jlck"]
    loaded = load_checkpoint(tmp_path / "checkpoint_0000000001.jlck", model,
                             SGD2.init(model))
    assert loaded.step == 1 and loaded.history["loss"] == [0.0]


@pytest.mark.parametrize("batch_size", [None, 16])
def test_mesh_data_parallel_matches_single_device(batch_size):
    assert len(jax.devices()) == 8
    model, data = mlp_problem()
    mesh = jax.make_mesh((8,), ("data",))
    kwargs = dict(steps=20, key=jax.random.key(2), batch_size=batch_size)
    single = fit(mlp_mse, model, data, ADAM, **kwargs)
    sharded = fit(mlp_mse, model, data, ADAM, mesh=mesh, **kwargs)
    for a, b in zip(array_leaves(single.model), array_leaves(sharded.model), strict=True):
        assert b.sharding.is_fully_replicated and len(b.sharding.device_set) == 8
        # float32 all-reduce sums in another order than the single-device mean.
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(single.history["loss"], sharded.history["loss"], rtol=1e-5)


def test_bad_inputs_raise_clear_errors(tmp_path, user_errors):
    model, data = mlp_problem()
    opt = SGD
    key = jax.random.key(0)
    call = lambda **kw: fit(mlp_mse, model, kw.pop("data", data), opt,
                            **{"steps": 2, "key": key, **kw})
    with pytest.raises(ValueError, match=r"fit: steps must be a positive int, got 0"):
        call(steps=0)
    with pytest.raises(TypeError, match=r"fit: steps must be a positive int, got True"):
        call(steps=True)
    with pytest.raises(TypeError, match=r"fit: steps must be a positive int, got 2.5"):
        call(steps=2.5)
    with pytest.raises(TypeError, match=r"fit: key must be a PRNG key"):
        call(key=0)
    with pytest.raises(TypeError, match=r"fit: loss_fn must be a callable, got 3"):
        fit(3, model, data, opt, steps=2, key=key)
    with pytest.raises(TypeError, match=r"fit: optimizer must be an "
                                        r"optax.GradientTransformation, got a function"):
        fit(mlp_mse, model, data, optax.sgd, steps=2, key=key)
    with pytest.raises(TypeError, match=r"fit: throw must be a bool, got 'yes'"):
        call(throw="yes")
    with pytest.raises(TypeError, match=r"fit: batch_size must be an int in 1..128 or None, "
                                        r"got 16.0"):
        call(batch_size=16.0)
    with pytest.raises(ValueError, match=r"fit: every leaf of data must have the same "
                                         r"leading size n, got leading sizes "
                                         r"data\['x'\]: 128, data\['y'\]: 127"):
        call(data={"x": data["x"], "y": data["y"][:-1]})
    with pytest.raises(ValueError, match=r"leading \(example\) axis, got data\['s'\] of "
                                         r"shape \(\)"):
        call(data={**data, "s": jnp.asarray(1.0)})
    with pytest.raises(ValueError, match=r"no leaves"):
        call(data={})
    with pytest.raises(ValueError, match=r"fit: batch_size must be an int in 1..128 or None, "
                                         r"got 129"):
        call(batch_size=129)
    with pytest.raises(ValueError, match=r"batch_size .* got 0"):
        call(batch_size=0)
    with pytest.raises(ValueError, match=r"fit: eval_every must be a positive int or None, "
                                         r"got 0"):
        call(eval_every=0)
    with pytest.raises(ValueError, match=r"fit: checkpoint_every=5 needs checkpoint_dir, got "
                                         r"checkpoint_dir=None"):
        call(checkpoint_every=5)
    with pytest.raises(ValueError, match=r"fit: resume=True needs checkpoint_dir"):
        call(resume=True)
    with pytest.raises(TypeError, match=r"fit: callbacks\[0\] must be a callable, got 3"):
        call(callbacks=[3])
    mesh = jax.make_mesh((8,), ("data",))
    with pytest.raises(ValueError, match=r"fit: batch_size must be divisible by the size 8 "
                                         r"of mesh axis 'data', got 30"):
        call(mesh=mesh, batch_size=30)
    with pytest.raises(ValueError, match=r"fit: n \(full batch\) must be divisible by the "
                                         r"size 8 of mesh axis 'data', got 100"):
        call(mesh=mesh, data=jax.tree.map(lambda a: a[:100], data))
    with pytest.raises(ValueError, match=r"fit: data_axis must be an axis of mesh "
                                         r"\('data',\), got 'batch'"):
        call(mesh=mesh, data_axis="batch")


def test_bad_loss_fn_outputs_raise(user_errors):
    model, data = mlp_problem()
    key = jax.random.key(0)
    with pytest.raises(TypeError, match=r"fit: loss_fn must return a scalar loss \(pass "
                                        r"has_aux=True if it returns \(loss, aux_dict\)\), "
                                        r"got a tuple"):
        fit(lambda m, b, key: (mlp_mse(m, b, key=key), {}), model, data, optax.sgd(0.1), steps=1,
            key=key)
    with pytest.raises(ValueError, match=r"fit: loss_fn must return a floating-point scalar "
                                         r"loss, got shape \(128, 1\)"):
        fit(lambda m, b, key: jax.vmap(m)(b["x"]), model, data, optax.sgd(0.1), steps=1,
            key=key)
    with pytest.raises(TypeError, match=r"fit: loss_fn must return a floating-point scalar "
                                        r"loss, got dtype int32"):
        fit(lambda m, b, key: jnp.sum(jnp.round(jax.vmap(m)(b["x"]))).astype(jnp.int32),
            model, data, optax.sgd(0.1), steps=1, key=key)
    with pytest.raises(ValueError, match=r"fit: the aux returned by loss_fn must be a dict of "
                                         r"scalars, got entry 'err' of shape \(128, 1\)"):
        fit(lambda m, b, key: (mlp_mse(m, b, key=key), {"err": jax.vmap(m)(b["x"])}), model, data,
            optax.sgd(0.1), steps=1, key=key, has_aux=True)
    with pytest.raises(TypeError, match=r"fit: loss_fn must return \(loss, aux_dict\) with "
                                        r"has_aux=True, got one array"):
        fit(mlp_mse, model, data, optax.sgd(0.1), steps=1, key=key, has_aux=True)


@pytest.mark.parametrize("n", [20, 22])
def test_minibatches_shuffle_each_epoch_without_repeats(n):
    batch_size = 5
    model = AffineModel(jnp.zeros(1), jnp.asarray(0.0))
    data = {"row": jnp.arange(n, dtype=jnp.float32)}

    def rows_as_aux(m, batch, key):
        aux = {f"r{j}": batch["row"][j] for j in range(batch_size)}
        return 0.0 * m.b + jnp.sum(batch["row"]) * 0.0, aux

    result = fit(rows_as_aux, model, data, optax.sgd(0.0), steps=12, key=jax.random.key(0),
                 batch_size=batch_size, has_aux=True)
    rows = np.stack([result.history["aux"][f"r{j}"] for j in range(batch_size)], axis=1)
    assert rows.shape == (12, batch_size)
    epochs = rows.reshape(3, 4 * batch_size)  # n // batch_size = 4 steps an epoch
    for epoch in epochs:
        assert len(set(epoch.tolist())) == 4 * batch_size  # no row twice within an epoch
        assert set(epoch.tolist()) <= set(range(n))
    if n == 20:
        assert all(sorted(epoch.tolist()) == list(range(20)) for epoch in epochs)
    assert not np.array_equal(epochs[0], epochs[1])  # a fresh shuffle each epoch
