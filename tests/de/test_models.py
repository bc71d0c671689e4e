"""Neural ODE / CDE / SDE models: gradients by every adjoint against finite differences and
each other, irregular data (NaN = missing), causality of the control paths, input errors."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

import jaxlab
from jaxlab import de

TIGHT = diffrax.PIDController(rtol=1e-10, atol=1e-10)


def _assert_gradient_matches_differences(loss, model, key, *, rtol=1e-5, h=1e-6):
    """∇L·v by autodiff against the central difference (L(θ + hv) − L(θ − hv)) / 2h, for a
    random direction v over the model's floating-point parameters; returns the gradient as
    one flat vector."""
    params, static = eqx.partition(model, eqx.is_inexact_array)
    leaves, treedef = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(key, len(leaves))
    v = jax.tree_util.tree_unflatten(treedef, [jax.random.normal(k, x.shape, x.dtype)
                                               for k, x in zip(keys, leaves, strict=True)])
    compiled = eqx.filter_jit(loss)  # both differences share one compilation

    def at(step):
        return float(compiled(eqx.combine(
            jax.tree_util.tree_map(lambda p, d: p + step * d, params, v), static)))

    grads = eqx.filter_jit(eqx.filter_grad(loss))(model)
    flat_g = jnp.concatenate([g.ravel() for g in jax.tree_util.tree_leaves(
        eqx.filter(grads, eqx.is_inexact_array))])
    flat_v = jnp.concatenate([d.ravel() for d in jax.tree_util.tree_leaves(v)])
    fd = (at(h) - at(-h)) / (2 * h)
    np.testing.assert_allclose(float(flat_g @ flat_v), fd, rtol=rtol)
    return np.asarray(flat_g)


def _assert_same_gradient(a, b, rtol):
    """Two gradients agree: ‖a − b‖ ≤ rtol ‖a‖ (entries far below the gradient's scale are
    compared at that scale, not their own)."""
    assert np.linalg.norm(a - b) <= rtol * np.linalg.norm(a), (
        f"relative gradient difference {np.linalg.norm(a - b) / np.linalg.norm(a):.2e}")


ADJOINTS = {
    "recursive": diffrax.RecursiveCheckpointAdjoint(),
    "direct": diffrax.DirectAdjoint(),
    "backsolve": diffrax.BacksolveAdjoint(stepsize_controller=TIGHT),
}


def _neural_ode_gradients(names):
    ts = jnp.linspace(0.0, 1.0, 6)
    y0 = jnp.array([0.5, -0.3])
    grads = {}
    for name in names:
        model = de.NeuralODE(2, width=8, depth=1, stepsize_controller=TIGHT,
                             adjoint=ADJOINTS[name], key=jax.random.key(0))

        def loss(m):
            return jnp.sum(m(ts, y0) ** 2)

        # each gradient is checked against central differences inside the helper
        grads[name] = _assert_gradient_matches_differences(loss, model, jax.random.key(1))
    return grads


def test_neural_ode_gradients_default_and_backsolve_adjoints(float64):
    g = _neural_ode_gradients(("recursive", "backsolve"))
    assert np.linalg.norm(g["recursive"] - g["backsolve"]) <= 1e-6 * np.linalg.norm(
        g["recursive"])


@pytest.mark.slow  # a third ~12 s compilation; the default suite checks the other two
def test_neural_ode_gradient_direct_adjoint(float64):
    g = _neural_ode_gradients(("recursive", "direct"))
    assert np.linalg.norm(g["recursive"] - g["direct"]) <= 1e-6 * np.linalg.norm(
        g["recursive"])


def test_neural_ode_matches_a_known_field(float64):
    # A user field dy/dt = A y: the model is the matrix exponential.
    class Linear(eqx.Module):
        a: jax.Array

        def __call__(self, t, y, args):
            return self.a @ y

    a = jnp.array([[-0.5, 2.0], [-2.0, -0.5]])
    model = de.NeuralODE(2, field=Linear(a), stepsize_controller=TIGHT)
    ts = jnp.linspace(0.0, 2.0, 5)
    y0 = jnp.array([1.0, 0.0])
    expected = np.stack([scipy.linalg.expm(np.asarray(a) * t) @ np.asarray(y0)
                         for t in np.asarray(ts)])
    np.testing.assert_allclose(model(ts, y0), expected, rtol=1e-8, atol=1e-10)
    # integer times and state are promoted (CONTRIBUTING §6): the same solve (the same
    # compiled program) at t = 0, 1, 2, 3, 4, with its status and step counts
    sol = model.solve(jnp.arange(5), jnp.array([1, 0]))
    assert isinstance(sol, de.DESolution) and bool(sol.converged)
    assert sol.ys.dtype == sol.ts.dtype == jnp.float64
    expected = np.stack([scipy.linalg.expm(np.asarray(a) * t)[:, 0] for t in range(5)])
    np.testing.assert_allclose(sol.ys, expected, rtol=1e-8, atol=1e-10)
    assert int(sol.num_steps) == int(sol.num_accepted_steps) + int(sol.num_rejected_steps) > 0


def _spiral_data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    ts = np.sort(rng.uniform(0, 4, n))
    ts[0] = 0.0
    xs = np.stack([np.cos(ts), np.sin(ts)], axis=1) * np.exp(-0.1 * ts)[:, None]
    return jnp.asarray(ts), jnp.asarray(xs)


# `slow`: 9 solves compiled twice each. By default, finite differences through the CDE run in
# test_neural_cde_gradient_with_respect_to_the_data, and all adjoints in the neural ODE test.
@pytest.mark.slow
@pytest.mark.parametrize("interpolation", ["hermite", "linear", "rectilinear"])
def test_neural_cde_gradients_every_adjoint(interpolation, float64):
    ts, xs = _spiral_data()
    xs = xs.at[3, 0].set(jnp.nan).at[7, 1].set(jnp.nan)
    path = de.control_path(ts, xs, interpolation=interpolation)
    channels = de.path_channels(2)
    grads = {}
    for name, adjoint in ADJOINTS.items():
        model = de.NeuralCDE(channels, 4, 1, width=8, depth=1, stepsize_controller=TIGHT,
                             adjoint=adjoint, key=jax.random.key(2))

        def loss(m):
            return jnp.sum(m(path) ** 2)

        grads[name] = _assert_gradient_matches_differences(loss, model, jax.random.key(3))
    for name in ("direct", "backsolve"):
        _assert_same_gradient(grads["recursive"], grads[name], 1e-6)


def test_neural_cde_gradient_with_respect_to_the_data(float64):
    # The SDE-GAN critic differentiates through the path it reads. Fixed steps (as the
    # critic uses): the gradient is that of the discrete solve, so central differences match
    # it to their own O(h²) error, and the program compiles in a fraction of the adaptive one.
    ts, xs = _spiral_data()
    model = de.NeuralCDE(de.path_channels(2, False), 4, 1, width=8, depth=1,
                         stepsize_controller=diffrax.ConstantStepSize(), dt0=0.02,
                         key=jax.random.key(4))

    def loss(data):
        return jnp.sum(model(de.control_path(ts, data, observation_counts=False)) ** 2)

    g = jax.jit(jax.grad(loss))(xs)
    v = jax.random.normal(jax.random.key(5), xs.shape)
    at = jax.jit(loss)
    fd = (at(xs + 1e-6 * v) - at(xs - 1e-6 * v)) / 2e-6
    np.testing.assert_allclose(float(jnp.vdot(g, v)), float(fd), rtol=1e-5)


def test_missing_values_are_filled_forward_and_counted(float64):
    ts, xs = _spiral_data()
    missing = xs.at[3, 0].set(jnp.nan).at[4, 0].set(jnp.nan).at[0, 1].set(jnp.nan)
    # by hand: forward fill (the first value of channel 1 is its first observation) + counts
    filled = np.array(xs)
    filled[3, 0] = filled[4, 0] = filled[2, 0]
    filled[0, 1] = filled[1, 1]
    observed = np.isfinite(np.asarray(missing))
    counts = np.cumsum(observed, axis=0) / observed.shape[0]
    expected = np.concatenate([np.asarray(ts)[:, None], filled, counts], axis=1)
    for interpolation in ("hermite", "linear"):
        path = de.control_path(ts, missing, interpolation=interpolation)
        got = jax.vmap(path.evaluate)(ts)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    # a mask marks the same values missing as the NaNs do
    mask = jnp.asarray(observed)
    via_mask = de.control_path(ts, jnp.where(mask, xs, 123.0), mask=mask)
    via_nan = de.control_path(ts, missing)
    np.testing.assert_allclose(jax.vmap(via_mask.evaluate)(ts[:-1] + 0.01),
                               jax.vmap(via_nan.evaluate)(ts[:-1] + 0.01), rtol=1e-12)


def test_nan_never_reaches_the_loss_or_its_gradient(float64):
    ts, xs = _spiral_data()
    xs = xs.at[5].set(jnp.nan).at[-1, 0].set(jnp.nan)
    model = de.NeuralCDE(de.path_channels(2), 4, 1, width=8, depth=1, key=jax.random.key(6))

    def loss(m, data):
        return jnp.sum(m(de.control_path(ts, data)) ** 2)

    value, (g_model, g_data) = eqx.filter_value_and_grad(
        lambda args: loss(*args))((model, xs))
    assert np.isfinite(float(value))
    assert all(np.all(np.isfinite(x)) for x in jax.tree_util.tree_leaves(
        eqx.filter(g_model, eqx.is_inexact_array)))
    # missing entries get zero gradient; observed ones are finite
    assert np.all(np.asarray(g_data)[5] == 0) and np.asarray(g_data)[-1, 0] == 0
    assert np.all(np.isfinite(np.asarray(g_data)))


@pytest.mark.parametrize("interpolation", ["hermite", "linear", "rectilinear"])
def test_control_paths_are_causal(interpolation, float64):
    ts, xs = _spiral_data()
    k = 7
    changed = xs.at[k].add(5.0)
    a = de.control_path(ts, xs, interpolation=interpolation)
    b = de.control_path(ts, changed, interpolation=interpolation)
    # before the knot preceding observation k, the path has not seen it
    end = ts[k - 1] if interpolation != "rectilinear" else 2.0 * (k - 1)
    probe = jnp.linspace(a.t0, end, 50)
    np.testing.assert_allclose(jax.vmap(a.evaluate)(probe), jax.vmap(b.evaluate)(probe),
                               rtol=0, atol=1e-12)
    at_k = ts[k] if interpolation != "rectilinear" else 2.0 * k
    assert not np.allclose(a.evaluate(at_k), b.evaluate(at_k))


@pytest.mark.slow  # 8 solves compiled twice each; test_neural_sde_default_gradient runs by default
@pytest.mark.parametrize("noise", ["diagonal", "general"])
def test_neural_sde_gradients_every_adjoint(noise, float64):
    # Same Brownian path (key) in every evaluation. Discretise-then-optimise adjoints are
    # compared on ReversibleHeun, the backsolve adjoint on Heun against Heun's own.
    ts = jnp.linspace(0.0, 0.5, 6)
    y0 = jnp.array([0.2, -0.1])
    key = jax.random.key(7)
    grads = {}
    for solver, adjoints in ((diffrax.ReversibleHeun(), ("recursive", "direct")),
                             (diffrax.Heun(), ("recursive", "backsolve"))):
        for name in adjoints:
            adjoint = {"recursive": diffrax.RecursiveCheckpointAdjoint(),
                       "direct": diffrax.DirectAdjoint(),
                       "backsolve": diffrax.BacksolveAdjoint()}[name]
            model = de.NeuralSDE(2, noise=noise, noise_size=3 if noise == "general" else None,
                                 width=8, depth=1, dt0=1e-3, solver=solver, adjoint=adjoint,
                                 key=jax.random.key(8))

            def loss(m):
                return jnp.sum(m(ts, y0, key=key) ** 2)

            grads[type(solver).__name__, name] = _assert_gradient_matches_differences(loss, model,
                                                                    jax.random.key(9))
    _assert_same_gradient(grads["ReversibleHeun", "recursive"],
                          grads["ReversibleHeun", "direct"], 1e-9)
    _assert_same_gradient(grads["Heun", "recursive"], grads["Heun", "backsolve"], 1e-4)
    # the two solvers converge to the same Stratonovich solution
    _assert_same_gradient(grads["ReversibleHeun", "recursive"], grads["Heun", "recursive"],
                          1e-2)


def test_neural_sde_default_gradient(float64):
    # The default configuration (ReversibleHeun, RecursiveCheckpointAdjoint, diagonal noise)
    # against finite differences on a fixed Brownian path.
    ts = jnp.linspace(0.0, 0.3, 4)
    model = de.NeuralSDE(2, width=8, depth=1, dt0=1e-2, key=jax.random.key(8))
    _assert_gradient_matches_differences(lambda m: jnp.sum(m(ts, jnp.array([0.2, -0.1]),
                                           key=jax.random.key(7)) ** 2),
                       model, jax.random.key(9))


def test_neural_sde_same_key_same_path():
    model = de.NeuralSDE(3, dt0=0.01, key=jax.random.key(0))
    ts = jnp.linspace(0.0, 1.0, 11)
    y0 = jnp.zeros(3)
    a = model(ts, y0, key=jax.random.key(1))
    np.testing.assert_array_equal(a, model(ts, y0, key=jax.random.key(1)))
    assert not np.allclose(a, model(ts, y0, key=jax.random.key(2)))
    assert a.shape == (11, 3) and a.dtype == jnp.float32


@pytest.mark.slow  # three 3000-step solves compiled (~20 s); solver/interpretation pairing is
# checked by default in test_bad_input_names_the_argument
def test_ito_and_stratonovich_differ_by_the_drift_correction(float64):
    # One state, σ(y) state dependent: the Stratonovich solution has the extra drift
    # ½σσ'; with the same Brownian path and a small step, Itô + that correction equals it.
    model = de.NeuralSDE(1, dt0=1e-4, width=8, depth=1, key=jax.random.key(3))
    ito = de.NeuralSDE(1, dt0=1e-4, width=8, depth=1, interpretation="ito",
                       key=jax.random.key(3))
    assert jax.tree_util.tree_all(jax.tree_util.tree_map(
        lambda a, b: bool(jnp.all(a == b)), eqx.filter(model.drift, eqx.is_array),
        eqx.filter(ito.drift, eqx.is_array)))
    ts = jnp.linspace(0.0, 0.3, 4)
    y0 = jnp.array([0.3])
    key = jax.random.key(4)

    def sigma(t, y):
        return model.diffusion.field(t, y, None)

    class Corrected(eqx.Module):
        def __call__(self, t, y, args):
            s = sigma(t, y)
            ds = jax.jacfwd(lambda z: sigma(t, z))(y)[0, 0]
            return ito.drift(t, y) + 0.5 * s * ds

    ito_fixed = eqx.tree_at(lambda m: m.drift, ito, Corrected())
    strat = model(ts, y0, key=key)
    plain_ito = ito(ts, y0, key=key)
    np.testing.assert_allclose(ito_fixed(ts, y0, key=key), strat, atol=5e-3)
    assert np.max(np.abs(np.asarray(plain_ito) - np.asarray(strat))) > 5 * np.max(
        np.abs(np.asarray(ito_fixed(ts, y0, key=key)) - np.asarray(strat)))


def test_bad_input_names_the_argument(user_errors):
    ts = jnp.linspace(0.0, 1.0, 5)
    with pytest.raises(ValueError, match=r"control_path: xs must be of shape \(T, c\) = "
                                         r"\(5, c\).*got shape \(4, 2\)"):
        de.control_path(ts, jnp.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"xs must be of shape .*got shape \(5,\)"):
        de.control_path(ts, jnp.zeros(5))
    with pytest.raises(ValueError, match=r"ts must be of shape \(T,\).*got shape \(5, 1\)"):
        de.control_path(jnp.zeros((5, 1)), jnp.zeros((5, 2)))
    with pytest.raises(TypeError, match=r"control_path: xs must be real.*complex64"):
        de.control_path(ts, jnp.zeros((5, 2), jnp.complex64))
    with pytest.raises(TypeError, match=r"control_path: ts must be a real array.*bool"):
        de.control_path(jnp.ones(5, bool), jnp.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"mask must be of the shape of xs.*got shape \(5, 3\)"):
        de.control_path(ts, jnp.zeros((5, 2)), mask=jnp.ones((5, 3), bool))
    with pytest.raises(ValueError, match=r"interpolation must be one of.*got 'cubic'"):
        de.control_path(ts, jnp.zeros((5, 2)), interpolation="cubic")
    with pytest.raises(TypeError, match="observation_counts must be a bool, got 1"):
        de.control_path(ts, jnp.zeros((5, 2)), observation_counts=1)
    with pytest.raises(ValueError, match="path_channels: data_channels must be a positive int"):
        de.path_channels(0)
    with pytest.raises(TypeError, match=r"NeuralCDE: hidden_size must be a positive int, got 4.0"):
        de.NeuralCDE(5, 4.0, 1, key=jax.random.key(0))
    model = de.NeuralCDE(5, 4, 1, key=jax.random.key(0))
    path = de.control_path(ts, jnp.zeros((5, 1)))  # 3 channels
    with pytest.raises(ValueError, match=r"path must be a path of 5 channels.*got shape \(3,\)"):
        model(path)
    with pytest.raises(TypeError, match=r"path must be a diffrax path.*got a ArrayImpl"):
        model(jnp.zeros((5, 5)))
    with pytest.raises(ValueError, match=r"NeuralCDE: ts must be an array with 1 dimensions"):
        model.solve(diffrax.LinearInterpolation(ts, jnp.zeros((5, 5))), jnp.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"y0 must be of shape \(2,\), got shape \(3,\)"):
        de.NeuralODE(2, key=jax.random.key(0))(ts, jnp.zeros(3))
    with pytest.raises(TypeError, match="NeuralODE: size must be a positive int, got '2'"):
        de.NeuralODE("2", key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"NeuralODE: dt0 must be a positive finite number or "
                                         r"None, got -0.1"):
        de.NeuralODE(2, dt0=-0.1, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"NeuralSDE: solver must be a solver for "
                                         r"interpretation='stratonovich', got Euler\(\) "
                                         r"\(Euler converges to the Itô solution\)"):
        de.NeuralSDE(2, solver=diffrax.Euler(), key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"got Heun.*converges to the Stratonovich solution"):
        de.NeuralSDE(2, interpretation="ito", solver=diffrax.Heun(), key=jax.random.key(0))
    with pytest.raises(TypeError, match="noise_size must be a positive int with general noise, "
                                        "got None"):
        de.NeuralSDE(2, noise="general", key=jax.random.key(0))
    with pytest.raises(ValueError, match="noise must be one of 'diagonal', 'general', got "
                                         "'diag'"):
        de.NeuralSDE(2, noise="diag", key=jax.random.key(0))
    with pytest.raises(ValueError, match="BacksolveAdjoint with ReversibleHeun.*got "
                                         r"ReversibleHeun\(\)"):
        de.NeuralSDE(2, solver=diffrax.ReversibleHeun(), adjoint=diffrax.BacksolveAdjoint(),
                     key=jax.random.key(0))
    sde = de.NeuralSDE(2, adjoint=diffrax.BacksolveAdjoint(), key=jax.random.key(0))
    assert isinstance(sde.solver, diffrax.Heun)
    with pytest.raises(ValueError, match=r"interpretation must be 'stratonovich' with "
                                         r"BacksolveAdjoint.*got 'ito'"):
        de.NeuralSDE(2, interpretation="ito", adjoint=diffrax.BacksolveAdjoint(),
                     key=jax.random.key(0))
    with pytest.raises(TypeError, match=r"NeuralSDE: key must be a PRNG key.*got 0"):
        sde.solve(ts, jnp.zeros(2), key=0)
    with pytest.raises(TypeError, match=r"NeuralODE: key must be a PRNG key .* or pass field=, "
                                        r"got None"):
        de.NeuralODE(2)
    with pytest.raises(TypeError, match="MLPField: shape must be a non-empty tuple of positive "
                                        r"ints, got \(2.0,\)"):
        de.MLPField(2, (2.0,), key=jax.random.key(0))
    with pytest.raises(ValueError, match="MLPField: scale must be a positive finite number, "
                                         "got 0"):
        de.MLPField(2, (2,), scale=0, key=jax.random.key(0))
    with pytest.raises(ValueError, match="CubicField: width must be a positive int, got 0"):
        de.CubicField(2, width=0, key=jax.random.key(0))
    with pytest.raises(TypeError, match="lipswish: x must be real"):
        de.lipswish(jnp.ones(2, jnp.complex64))


def test_integer_input_is_promoted(float64):
    # CONTRIBUTING §6: integer arrays become the default float, as jnp.sin does; the result
    # equals that of the same values given as floats.
    # (the neural ODE's promotion: test_neural_ode_matches_a_known_field)
    ts_int, xs_int = jnp.arange(5), jnp.arange(10).reshape(5, 2)
    a = de.control_path(ts_int, xs_int, interpolation="linear")
    b = de.control_path(ts_int.astype(float), xs_int.astype(float), interpolation="linear")
    assert a.ys.dtype == jnp.float64
    np.testing.assert_array_equal(a.ys, b.ys)
    np.testing.assert_allclose(de.lipswish(jnp.arange(-2, 3)),
                               0.909 * np.arange(-2, 3) / (1 + np.exp(-np.arange(-2, 3))),
                               rtol=1e-12)


def test_cubic_field_is_an_mlp_of_the_cubed_state(float64):
    # jit and vmap over states, against the MLP written out in NumPy
    field = de.CubicField(2, width=5, depth=1, key=jax.random.key(0))
    ys = np.random.default_rng(0).normal(size=(4, 2))
    got = eqx.filter_jit(jax.vmap(lambda y: field(0.0, y, None)))(jnp.asarray(ys))
    (w1, b1), (w2, b2) = [(np.asarray(layer.weight), np.asarray(layer.bias))
                          for layer in field.mlp.layers]
    expected = np.tanh(ys**3 @ w1.T + b1) @ w2.T + b2
    assert got.dtype == jnp.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_solver_failure_is_reported_not_silent():
    model = de.NeuralODE(2, key=jax.random.key(0), max_steps=2)
    ts = jnp.linspace(0.0, 10.0, 3)
    sol = model.solve(ts, jnp.ones(2), throw=False)
    assert isinstance(sol, de.DESolution)
    assert sol.status == jaxlab.RESULTS.max_steps_reached and not bool(sol.converged)
    assert int(sol.num_steps) == 2 and sol.ts.shape == (3,)
    with pytest.raises(Exception, match=r"NeuralODE: .*max_steps"):
        model(ts, jnp.ones(2))
    with pytest.raises(Exception, match=r"NeuralODE: .*max_steps"):
        model.solve(ts, jnp.ones(2)).ys.block_until_ready()


def test_compiles_once_per_shape():
    model = de.NeuralCDE(de.path_channels(2), 4, 1, key=jax.random.key(0))

    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def run(m, ts, xs):
        return m(de.control_path(ts, xs))

    ts, xs = _spiral_data()
    ts, xs = ts.astype(jnp.float32), xs.astype(jnp.float32)
    run(model, ts, xs)
    run(model, ts + 0.5, xs.at[2, 1].set(jnp.nan))
