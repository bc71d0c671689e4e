"""Checkpoints: round trip, torn-file rejection, bit-identical resume, SIGKILL safety."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxlab
from jaxlab.train import (
    Checkpoint,
    CheckpointError,
    checkpoint_path,
    fit,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)

ADAM = optax.adam(1e-2)


def mlp_mse(model, batch, key):
    # Dropout-like noise from the loss key, so resuming must also restore the key stream.
    noise = 1e-3 * jax.random.normal(key, batch["y"].shape)
    return jnp.mean((jax.vmap(model)(batch["x"]) + noise - batch["y"]) ** 2)


def mlp_problem(n=128):
    mkey, dkey = jax.random.split(jax.random.key(1))
    x = jax.random.uniform(dkey, (n, 2), minval=-2.0, maxval=2.0)
    y = jnp.sin(x[:, :1]) * jnp.cos(x[:, 1:])
    return eqx.nn.MLP(2, 1, 16, 2, key=mkey), {"x": x, "y": y}


def array_leaves(tree):
    return jax.tree.leaves(eqx.filter(tree, eqx.is_array))


def assert_trees_equal(a, b):
    leaves_a, leaves_b = array_leaves(a), array_leaves(b)
    assert len(leaves_a) == len(leaves_b)
    for x, y in zip(leaves_a, leaves_b, strict=True):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def train(directory, steps, *, batch_size, resume=False, **kwargs):
    model, data = mlp_problem()
    return fit(mlp_mse, model, data, ADAM, steps=steps, key=jax.random.key(7),
               batch_size=batch_size, checkpoint_dir=directory, checkpoint_every=10,
               resume=resume, **kwargs)


def checkpoint_steps(directory):
    return sorted(int(p.name.split("_")[1].split(".")[0]) for p in Path(directory).glob("*.jlck"))


def test_save_load_round_trip(tmp_path):
    model, _ = mlp_problem()
    opt_state = ADAM.init(eqx.filter(model, eqx.is_inexact_array))
    history = {"step": [1, 2], "loss": [0.5, 0.25], "aux": {}, "eval": [(2, {"m": 1.5})]}
    for key in (jax.random.key(3), jax.random.PRNGKey(3)):
        path = save_checkpoint(tmp_path / "c.jlck", model, opt_state, step=2, key=key,
                               history=history)
        loaded = load_checkpoint(path, model, opt_state)
        assert isinstance(loaded, Checkpoint) and isinstance(loaded, eqx.Module)
        assert not isinstance(loaded, tuple)
        assert_trees_equal(loaded.model, model)
        assert_trees_equal(loaded.opt_state, opt_state)
        assert loaded.step == 2 and loaded.path == path
        assert loaded.history == history
        np.testing.assert_array_equal(
            jax.random.key_data(loaded.key) if key.dtype != jnp.uint32 else loaded.key,
            jax.random.key_data(key) if key.dtype != jnp.uint32 else key)
        assert loaded.key.dtype == key.dtype
    assert [p.name for p in tmp_path.iterdir()] == ["c.jlck"]  # no temporary left behind


def test_load_float64_preserves_dtype(tmp_path, float64):
    model = {"w": jnp.linspace(0.0, 1.0, 5, dtype=jnp.float64)}
    path = save_checkpoint(tmp_path / "c.jlck", model, (), step=0, key=jax.random.key(0),
                           history={})
    loaded = load_checkpoint(path, model, ())
    assert loaded.model["w"].dtype == jnp.float64
    np.testing.assert_array_equal(loaded.model["w"], model["w"])


def test_torn_and_garbage_files_are_rejected(tmp_path):
    model, _ = mlp_problem()
    good = save_checkpoint(tmp_path / "good.jlck", model, (), step=1, key=jax.random.key(0),
                           history={})
    blob = good.read_bytes()
    cases = {
        "truncated": (blob[: len(blob) // 2], r"truncated .* header says \d+ bytes, the file "
                                              r"has \d+"),
        "empty": (b"", r"not a jaxlab checkpoint"),
        "garbage": (b"x" * 500, r"not a jaxlab checkpoint"),
        "flipped": (blob[:-10] + bytes([blob[-10] ^ 1]) + blob[-9:], r"SHA-256 checksum"),
    }
    for name, (content, message) in cases.items():
        bad = tmp_path / f"{name}.jlck"
        bad.write_bytes(content)
        with pytest.raises(CheckpointError, match=message):
            load_checkpoint(bad, model, ())
    with pytest.raises(CheckpointError, match="cannot read"):
        load_checkpoint(tmp_path / "missing.jlck", model, ())
    # An intact file whose arrays do not fit the `like` trees is a different error.
    other = eqx.nn.MLP(2, 1, 16, 1, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"load_checkpoint: model_like/opt_state_like must "
                                         r"match the arrays in .*good.jlck, got a mismatch"):
        load_checkpoint(good, other, ())
    with pytest.raises(ValueError, match="different structure"):
        load_checkpoint(good, eqx.filter(model, lambda _: False), ())


@pytest.mark.parametrize("batch_size", [None, 16])
def test_resume_is_bit_identical(tmp_path, batch_size):
    full = train(tmp_path / "a", 40, batch_size=batch_size)
    assert checkpoint_steps(tmp_path / "a") == [30, 40]  # the newest two are kept
    first = train(tmp_path / "b", 20, batch_size=batch_size)
    assert first.step == 20
    resumed = train(tmp_path / "b", 40, batch_size=batch_size, resume=True)
    assert resumed.step == 40
    assert_trees_equal(resumed.model, full.model)
    assert_trees_equal(resumed.opt_state, full.opt_state)
    assert resumed.history["loss"] == full.history["loss"]
    assert resumed.history["step"] == list(range(1, 41))
    # Resuming a finished run returns it unchanged.
    again = train(tmp_path / "b", 40, batch_size=batch_size, resume=True)
    assert_trees_equal(again.model, full.model)


def test_keyboard_interrupt_checkpoints_last_finished_step(tmp_path):
    full = train(tmp_path / "a", 30, batch_size=16)

    def interrupt_at_13(step, model, metrics):
        if step == 13:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "b", 30, batch_size=16, eval_every=1, callbacks=[interrupt_at_13])
    assert checkpoint_steps(tmp_path / "b") == [10, 13]
    resumed = train(tmp_path / "b", 30, batch_size=16, resume=True)
    assert_trees_equal(resumed.model, full.model)
    assert resumed.history["loss"] == full.history["loss"]


def test_resume_falls_back_past_a_torn_checkpoint(tmp_path):
    full = train(tmp_path / "a", 30, batch_size=16)
    train(tmp_path / "b", 20, batch_size=16)
    newest = checkpoint_path(tmp_path / "b", 20)
    newest.write_bytes(newest.read_bytes()[:-100])
    with pytest.warns(RuntimeWarning, match=r"skipping .*checkpoint_0000000020.jlck.*truncated"):
        assert latest_checkpoint(tmp_path / "b") == checkpoint_path(tmp_path / "b", 10)
    with pytest.warns(RuntimeWarning, match=r"fit: skipping checkpoint .*0020.jlck"):
        resumed = train(tmp_path / "b", 30, batch_size=16, resume=True)
    assert_trees_equal(resumed.model, full.model)
    assert resumed.history["loss"] == full.history["loss"]


def test_resume_errors(tmp_path):
    train(tmp_path / "b", 20, batch_size=16)
    with pytest.raises(ValueError, match=r"fit: checkpoint_dir must hold no checkpoints for a "
                                         r"fresh run \(pass resume=True .*\), got .* "
                                         r"\(newest at step 20\)"):
        train(tmp_path / "b", 20, batch_size=16)
    with pytest.raises(ValueError, match=r"fit: steps must be at least the step of the "
                                         r"checkpoint that resume=True found \(20, in .*\), "
                                         r"got 15"):
        train(tmp_path / "b", 15, batch_size=16, resume=True)
    model, data = mlp_problem()
    with pytest.raises(ValueError, match=r"fit: key must be the key the checkpointed run was "
                                         r"started with \(resume=True\), got a key that "
                                         r"differs"):
        fit(mlp_mse, model, data, ADAM, steps=30, key=jax.random.key(8), batch_size=16,
            checkpoint_dir=tmp_path / "b", resume=True)
    # resume=True with no checkpoint starts fresh.
    fresh = train(tmp_path / "empty", 10, batch_size=16, resume=True)
    assert fresh.history["step"] == list(range(1, 11))
    assert latest_checkpoint(tmp_path / "nowhere") is None


def test_bad_save_arguments(tmp_path, user_errors):
    with pytest.raises(ValueError, match=r"save_checkpoint: step must be a non-negative int, "
                                         r"got -1"):
        save_checkpoint(tmp_path / "c.jlck", {}, (), step=-1, key=jax.random.key(0),
                        history={})
    with pytest.raises(TypeError, match=r"save_checkpoint: step must be a non-negative int, "
                                        r"got 1.0"):
        save_checkpoint(tmp_path / "c.jlck", {}, (), step=1.0, key=jax.random.key(0),
                        history={})
    with pytest.raises(TypeError, match=r"save_checkpoint: key must be a PRNG key"):
        save_checkpoint(tmp_path / "c.jlck", {}, (), step=1, key=7, history={})
    with pytest.raises(TypeError, match=r"save_checkpoint: history must be JSON-serialisable, "
                                        r"got: .*object"):
        save_checkpoint(tmp_path / "c.jlck", {}, (), step=1, key=jax.random.key(0),
                        history={"x": object()})
    circular = {}
    circular["self"] = circular
    with pytest.raises(ValueError, match=r"save_checkpoint: history must be JSON-serialisable, "
                                         r"got: Circular reference"):
        save_checkpoint(tmp_path / "c.jlck", {}, (), step=1, key=jax.random.key(0),
                        history=circular)
    with pytest.raises(ValueError, match=r"checkpoint_path: step must be a non-negative int, "
                                         r"got -3"):
        checkpoint_path(tmp_path, -3)
    with pytest.raises(TypeError, match=r"checkpoint_path: step must be a non-negative int, "
                                        r"got True"):
        checkpoint_path(tmp_path, True)
    assert not list(tmp_path.iterdir())


_WRITER = textwrap.dedent(
    """
    import sys
    import jax, jax.numpy as jnp, optax
    from jaxlab.train import fit

    # 2M float32 parameters: each checkpoint is ~8 MB, so a write takes milliseconds and
    # a kill often lands inside one.
    model = {"w": jnp.linspace(0.0, 1.0, 2_000_000)}
    data = {"x": jnp.zeros((8, 1))}

    def loss_fn(m, batch, key):
        return jnp.mean(m["w"] ** 2) + jnp.sum(batch["x"])

    def announce(step, model, metrics):
        print(step, flush=True)  # printed just before this step's checkpoint is written

    fit(loss_fn, model, data, optax.sgd(1e-3), steps=10**6, key=jax.random.key(0),
        checkpoint_dir=sys.argv[1], checkpoint_every=1, eval_every=1, callbacks=[announce],
        resume=True, progress=False)
    """
)


def test_sigkill_during_checkpoint_writes_leaves_a_loadable_checkpoint(tmp_path):
    directory = tmp_path / "ckpt"
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    env = dict(os.environ)
    repo_root = str(Path(jaxlab.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [repo_root, env.get("PYTHONPATH")]))
    env["JAX_PLATFORMS"] = "cpu"
    rng = np.random.default_rng(0)
    model_like = {"w": jnp.zeros(2_000_000)}
    last_step = 0
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, str(script), str(directory)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            announced = 0
            for _ in range(int(rng.integers(2, 5))):
                line = proc.stdout.readline()
                assert line, proc.stderr.read()
                announced = int(line)
            # A save of this model takes ~50 ms (serialise, hash, write, fsync, rename, prune);
            # a random delay of 20-70 ms makes the kill land at different points of it.
            time.sleep(float(rng.uniform(0.02, 0.07)))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            # the writer may have gone on past the lines read so far: the pipe holds the
            # rest of what it printed before the kill (under load, several more steps)
            printed = proc.stdout.read().split()
            if printed:
                announced = int(printed[-1])
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        # Every file under a checkpoint name is complete; only temporaries may be torn.
        for path in directory.glob("checkpoint_*.jlck"):
            load_checkpoint(path, model_like, ())
        newest = latest_checkpoint(directory)
        assert newest is not None
        loaded = load_checkpoint(newest, model_like, ())
        # The writer resumed, so steps only move forward; it prints a step just before
        # writing that step's checkpoint, so the last step printed before the kill (whose
        # write may have been cut) is the newest checkpoint or one ahead of it.
        assert last_step <= loaded.step and announced - 1 <= loaded.step <= announced
        assert loaded.history["step"] == list(range(1, loaded.step + 1))
        # A resumed writer clears temporaries of killed writes: at most the last one remains.
        assert len(list(directory.glob(".checkpoint_*.tmp"))) <= 1
        last_step = loaded.step
