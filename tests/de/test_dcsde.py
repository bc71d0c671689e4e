"""Directed-chain SDE: Euler–Maruyama against a NumPy recursion with the interpolated
neighbour, the additive-noise law, the neural-ODE special case, the DC-GAN loss and the
neighbour-independence check at every time."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import de

from .test_models import _assert_gradient_matches_differences


class _Pull(eqx.Module):
    # b(t, x, x̃) = rate (x̃ − x)
    rate: float = eqx.field(static=True)

    def __call__(self, t, x, neighbour):
        return self.rate * (neighbour - x)


class _Walk(eqx.Module):
    # a path generator g(ts, key=k): scale × a Gaussian random walk on the times given
    scale: jax.Array

    def __call__(self, ts, *, key):
        steps = jax.random.normal(key, (ts.shape[0], 1), ts.dtype)
        return self.scale * jnp.cumsum(steps, axis=0)


class _ConstantNoise(eqx.Module):
    a: jax.Array

    def __call__(self, t, x, neighbour):
        return self.a


def test_euler_recursion_with_interpolated_neighbour(float64):
    ts = np.linspace(0.0, 1.0, 6)
    neighbour = np.stack([np.sin(4 * ts), ts**2], 1)
    model = de.DirectedChainSDE(2, noise_size=1, dt0=0.1, drift=_Pull(1.5),
                                diffusion=_ConstantNoise(jnp.zeros((2, 1))))
    y0 = np.array([0.3, -0.2])
    out = model(ts, y0, neighbour, key=jax.random.key(0))
    # NumPy: X_{k+1} = X_k + dt·1.5·(x̃(t_k) − X_k), x̃ linearly interpolated (steps of half
    # the observation spacing)
    x, saved = y0.copy(), [y0.copy()]
    grid = np.linspace(0.0, 1.0, 11)
    for k, t in enumerate(grid[:-1]):
        nb = np.array([np.interp(t, ts, neighbour[:, j]) for j in range(2)])
        x = x + 0.1 * 1.5 * (nb - x)
        if k % 2 == 1:
            saved.append(x.copy())
    np.testing.assert_allclose(out, np.stack(saved), rtol=1e-12, atol=1e-14)


def test_additive_noise_increments_have_the_right_law(float64):
    a = jnp.array([[0.5, 0.0, 0.2], [0.1, 0.3, 0.0]])
    model = de.DirectedChainSDE(2, noise_size=3, dt0=0.05, drift=_Pull(0.0),
                                diffusion=_ConstantNoise(a))
    ts = jnp.linspace(0.0, 2.0, 3)
    n = 4000
    run = eqx.filter_jit(jax.vmap(lambda k: model(ts, jnp.zeros(2), jnp.zeros((3, 2)), key=k)))
    ends = np.asarray(run(jax.random.split(jax.random.key(1), n)))[:, -1]
    cov = np.asarray(a @ a.T) * 2.0  # A Aᵀ T
    se = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / n)  # sd of the sample cov
    assert np.all(np.abs(np.cov(ends.T) - cov) < 5 * se)
    assert np.all(np.abs(ends.mean(0)) < 5 * np.sqrt(np.diag(cov) / n))


def test_without_noise_or_neighbour_it_is_a_neural_ode(float64):
    field = de.MLPField(2, (2,), width=8, depth=1, key=jax.random.key(2))

    class Ignore(eqx.Module):
        f: de.MLPField

        def __call__(self, t, x, neighbour):
            return self.f(t, x)

    model = de.DirectedChainSDE(2, noise_size=1, dt0=0.05, drift=Ignore(field),
                                diffusion=_ConstantNoise(jnp.zeros((2, 1))))
    ode = de.NeuralODE(2, field=field, solver=diffrax.Euler(),
                       stepsize_controller=diffrax.ConstantStepSize(), dt0=0.05)
    ts = jnp.linspace(0.0, 1.0, 5)
    y0 = jnp.array([0.4, 0.1])
    np.testing.assert_allclose(model(ts, y0, jnp.ones((5, 2)), key=jax.random.key(3)),
                               ode(ts, y0), rtol=1e-12)


def test_dc_gan_loss_and_neighbour_correlation(float64):
    model = de.DirectedChainSDE(1, noise_size=2, width=8, depth=1, grid_steps=10,
                                key=jax.random.key(4))
    ts = jnp.tile(jnp.linspace(0.0, 1.0, 6), (5, 1))
    xs = jnp.cumsum(jax.random.normal(jax.random.key(5), (5, 6, 1)) * 0.3, 1)
    key = jax.random.key(6)

    @eqx.filter_jit
    def run(m):
        (loss, aux), grads = eqx.filter_value_and_grad(de.dc_gan_loss, has_aux=True)(
            m, (ts, xs), key=key)
        keys = jax.random.split(key, 5)
        fake = jax.vmap(lambda y0, nb, k: m(ts[0], y0, nb, key=k))(
            jnp.roll(xs[:, 0], -2, 0), jnp.roll(xs, -1, 0), keys)
        return loss, aux, grads, fake

    loss, aux, grads, fake = run(model)
    mmd = jax.jit(de.signature_mmd, static_argnums=2)  # compiled once per path shape
    # the basepoint: (t0, 0) prepended to each (time, value) path, written out
    def based(x):
        start = np.zeros((x.shape[0], 1, 2))
        start[:, 0, 0] = np.asarray(ts[:, 0])
        return np.concatenate([start, np.asarray(de.with_time(ts, x))], axis=1)

    expected = mmd(based(fake), based(xs), 4)
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    walk = _Walk(jnp.asarray(0.5))
    variants = eqx.filter_jit(lambda m, g: (
        de.dc_gan_loss(m, (ts, xs), key=key, basepoint=False)[0],
        de.dc_gan_loss(m, (ts, xs), key=key, decorrelation=0.5),
        de.signature_mmd_loss(g, (ts, xs), key=key, depth=4),
        jax.vmap(lambda t, k: g(t, key=k))(ts, jax.random.split(key, 5))))
    without, (penalised, aux2), walk_loss, walk_paths = variants(model, walk)
    # signature_mmd_loss of a plain generator: the same written-out MMD of its paths (one
    # per real path, from the split key)
    np.testing.assert_allclose(walk_loss, mmd(based(walk_paths), based(xs), 4), rtol=1e-12)
    np.testing.assert_allclose(without, mmd(de.with_time(ts, fake),
                                                         de.with_time(ts, xs), 4), rtol=1e-12)
    # translating every path changes the loss only through the basepoint
    assert abs(float(expected) - float(mmd(based(fake + 1.0), based(xs), 4))) > 0
    np.testing.assert_allclose(
        mmd(de.with_time(ts, fake + 1.0), de.with_time(ts, xs), 4), without,
        rtol=1e-10)
    flat = np.concatenate([np.ravel(g) for g in jax.tree.leaves(eqx.filter(grads, eqx.is_array))])
    assert np.all(np.isfinite(flat)) and np.any(flat != 0)
    # the correlation at every time, against NumPy
    corr = de.neighbour_correlation(fake, jnp.roll(xs, -1, 0))
    nb = np.roll(np.asarray(xs), -1, 0)
    for t in range(1, 6):
        np.testing.assert_allclose(corr[t, 0], abs(np.corrcoef(fake[:, t, 0], nb[:, t, 0])[0, 1]),
                                   rtol=1e-10)
    np.testing.assert_allclose(aux["neighbour_corr"], np.max(corr), rtol=1e-12)
    np.testing.assert_allclose(aux["mmd"], loss, rtol=1e-12)
    # the decorrelation penalty: λ × mean over times of the squared NumPy correlation
    # (t = 0 included: there the output is the initial value of another path)
    squares = [np.corrcoef(fake[:, t, 0], nb[:, t, 0])[0, 1] ** 2 for t in range(6)]
    np.testing.assert_allclose(penalised, loss + 0.5 * np.mean(squares), rtol=1e-10)
    np.testing.assert_allclose(aux2["mmd"], loss, rtol=1e-12)


def test_neighbour_correlation_detects_a_copying_generator(float64):
    # X pulled hard towards its neighbour: correlated at later times, not at t = 0
    model = de.DirectedChainSDE(1, noise_size=1, dt0=0.01, drift=_Pull(20.0),
                                diffusion=_ConstantNoise(jnp.full((1, 1), 0.1)))
    ts = jnp.linspace(0.0, 1.0, 5)
    n = 400
    neighbours = jax.random.uniform(jax.random.key(7), (n, 1, 1), minval=-2, maxval=2) + \
        jnp.zeros((n, 5, 1))
    y0s = jax.random.uniform(jax.random.key(8), (n, 1), minval=-2, maxval=2)
    out = eqx.filter_jit(model.propagate)(ts, y0s, neighbours, key=jax.random.key(9))
    corr = np.asarray(de.neighbour_correlation(out, neighbours))[:, 0]
    assert corr[0] < 4 / np.sqrt(n) and np.all(corr[2:] > 0.9)


def test_dcsde_bad_input(user_errors):
    model = de.DirectedChainSDE(2, key=jax.random.key(0))
    ts = jnp.linspace(0.0, 1.0, 4)
    with pytest.raises(ValueError, match=r"neighbour must be of shape \(T, size\) = \(4, 2\), "
                                         r"got shape \(3, 2\)"):
        model(ts, jnp.zeros(2), jnp.zeros((3, 2)), key=jax.random.key(1))
    with pytest.raises(ValueError, match=r"y0 must be of shape \(2,\), got shape \(3,\)"):
        model(ts, jnp.zeros(3), jnp.zeros((4, 2)), key=jax.random.key(1))
    with pytest.raises(TypeError, match="DirectedChainSDE: neighbour must be a real array"):
        model(ts, jnp.zeros(2), jnp.zeros((4, 2), bool), key=jax.random.key(1))
    with pytest.raises(ValueError, match=r"decorrelation must be a non-negative finite number, "
                                         r"got -1.0"):
        de.dc_gan_loss(model, (jnp.zeros((3, 4)), jnp.zeros((3, 4, 2))), key=jax.random.key(1),
                       decorrelation=-1.0)
    with pytest.raises(ValueError, match=r"B >= 3 paths .*got shape \(2, 4, 2\)"):
        de.dc_gan_loss(model, (jnp.zeros((2, 4)), jnp.zeros((2, 4, 2))), key=jax.random.key(1))
    with pytest.raises(ValueError, match=r"dc_gan_loss: batch must be \(ts, xs\) of shapes "
                                         r"\(B, T\) and \(B, T, size\), got shapes \(3, 5\) "
                                         r"and \(3, 4, 2\)"):
        de.dc_gan_loss(model, (jnp.zeros((3, 5)), jnp.zeros((3, 4, 2))), key=jax.random.key(1))
    with pytest.raises(TypeError, match=r"dc_gan_loss: batch must be \(ts, xs\) of shapes "
                                        r"\(B, T\) and \(B, T, size\), got a ArrayImpl"):
        de.dc_gan_loss(model, jnp.zeros((3, 4, 2)), key=jax.random.key(1))
    with pytest.raises(ValueError, match="propagate: times must be a positive int, got 0"):
        model.propagate(ts, jnp.zeros((3, 2)), jnp.zeros((3, 4, 2)), key=jax.random.key(1),
                        times=0)
    with pytest.raises(ValueError, match=r"propagate: y0s must be of shape \(3, 2\)"):
        model.propagate(ts, jnp.zeros((2, 2)), jnp.zeros((3, 4, 2)), key=jax.random.key(1))
    with pytest.raises(ValueError, match=r"same shape \(n, T, c\) with n >= 2, got \(3, 4, 2\) "
                                         r"and \(3, 4, 1\)"):
        de.neighbour_correlation(jnp.zeros((3, 4, 2)), jnp.zeros((3, 4, 1)))
    with pytest.raises(ValueError, match=r"with_time: ts must be of shape \(3, 4\)"):
        de.with_time(jnp.zeros((3, 5)), jnp.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match=r"with_basepoint: paths must be of shape \(n, T, c\) "
                                         r"with c >= 2.*got shape \(3, 4, 1\)"):
        de.with_basepoint(jnp.zeros((3, 4, 1)))
    with pytest.raises(TypeError, match=r"DirectedChainSDE: key must be a PRNG key .* or pass "
                                        r"drift= and diffusion=, got None"):
        de.DirectedChainSDE(2)
    with pytest.raises(TypeError, match="DirectedChainSDE: noise_size must be a positive int"):
        de.DirectedChainSDE(2, noise_size=None, key=jax.random.key(0))
    with pytest.raises(TypeError, match="propagate: history must be a bool, got 1"):
        model.propagate(ts, jnp.zeros((3, 2)), jnp.zeros((3, 4, 2)), key=jax.random.key(1),
                        history=1)
    with pytest.raises(ValueError, match=r"signature_mmd_loss: batch must be \(ts, xs\) of "
                                         r"shapes \(B, T\) and \(B, T, c\), got shapes "
                                         r"\(3, 5\) and \(3, 4, 1\)"):
        de.signature_mmd_loss(_Walk(jnp.asarray(1.0)), (jnp.zeros((3, 5)), jnp.zeros((3, 4, 1))),
                              key=jax.random.key(1))
    with pytest.raises(TypeError, match="signature_mmd_loss: generator must be a callable"):
        de.signature_mmd_loss(1, (jnp.zeros((3, 4)), jnp.zeros((3, 4, 1))),
                              key=jax.random.key(1))


def test_helpers_promote_integers_and_follow_the_dtype(float64):
    # with_time, with_basepoint and neighbour_correlation against NumPy, on integer input
    # (promoted) and float32 input (kept float32), under jit and vmap
    ts = np.tile(np.arange(4), (3, 1))
    xs = np.arange(24).reshape(3, 4, 2) % 5

    @jax.jit
    def helpers(ts, xs):
        timed = de.with_time(ts, xs)
        single = jax.vmap(lambda p: de.with_basepoint(p[None])[0])(timed)
        return timed, de.with_basepoint(timed), single, de.neighbour_correlation(xs, xs[::-1])

    timed, based, single, corr = helpers(ts, xs)
    np.testing.assert_array_equal(timed, np.concatenate([ts[..., None], xs], -1))
    assert timed.dtype == jnp.float64
    np.testing.assert_array_equal(based[:, 0], np.zeros((3, 3)))
    np.testing.assert_array_equal(based[:, 1:], timed)
    np.testing.assert_array_equal(single, based)
    assert jax.eval_shape(de.with_time, ts.astype(np.float32),
                          xs.astype(np.float32)).dtype == jnp.float32
    for t in range(4):
        for c in range(2):
            r = np.corrcoef(xs[:, t, c], xs[::-1, t, c])[0, 1]
            np.testing.assert_allclose(corr[t, c], abs(r), rtol=1e-12)


@pytest.mark.slow  # the default suite checks the DC-GAN loss's gradient is finite and nonzero
def test_dcsde_gradient_matches_finite_differences(float64):
    model = de.DirectedChainSDE(1, noise_size=2, width=6, depth=1, grid_steps=20,
                                key=jax.random.key(11))
    ts = jnp.linspace(0.0, 1.0, 5)
    neighbour = jnp.sin(3 * ts)[:, None]
    _assert_gradient_matches_differences(
        lambda m: jnp.sum(m(ts, jnp.array([0.2]), neighbour, key=jax.random.key(12)) ** 2),
        model, jax.random.key(13))


def test_propagate_gives_each_round_new_initial_values(float64):
    # b ≡ 0, σ ≡ 0: a path stays at its initial value, so round r of `propagate` shows which
    # initial value it was given: y0s rolled by r, never its neighbour's (round r − 1's)
    model = de.DirectedChainSDE(1, noise_size=1, dt0=0.25, drift=_Pull(0.0),
                                diffusion=_ConstantNoise(jnp.zeros((1, 1))))
    ts = jnp.linspace(0.0, 1.0, 3)
    y0s = jnp.arange(5.0)[:, None]
    neighbours = jnp.zeros((5, 3, 1))
    for times in (1, 2, 4):
        out = model.propagate(ts, y0s, neighbours, key=jax.random.key(0), times=times)
        expected = np.roll(np.arange(5.0), -(times - 1))
        np.testing.assert_array_equal(np.asarray(out)[:, :, 0], np.repeat(expected[:, None], 3, 1))
    # with history, every round: round r at the initial values rolled by r, the last = out
    rounds = model.propagate(ts, y0s, neighbours, key=jax.random.key(0), times=4, history=True)
    assert rounds.shape == (4, 5, 3, 1)
    for r in range(4):
        np.testing.assert_array_equal(np.asarray(rounds)[r, :, :, 0],
                                      np.repeat(np.roll(np.arange(5.0), -r)[:, None], 3, 1))
    np.testing.assert_array_equal(rounds[-1], out)


def test_bounded_neighbour_field_against_numpy(float64):
    # NeighbourField(MLPField(..., tanh, scale=b)): b · tanh(MLP(t, [x, x̃])) ∈ (−b, b)
    mlp_field = de.MLPField(2, (1, 3), width=4, depth=1, final_activation=jnp.tanh, scale=0.2,
                            key=jax.random.key(16))
    field = de.NeighbourField(mlp_field)
    rng = np.random.default_rng(3)
    x, nb, t = rng.normal(size=(6, 1)) * 5, rng.normal(size=(6, 1)) * 5, rng.uniform(size=6)
    got = jax.jit(lambda *args: jax.vmap(field)(*args))(t, x, nb)
    (w1, b1), (w2, b2) = [(np.asarray(layer.weight), np.asarray(layer.bias))
                          for layer in mlp_field.mlp.layers]
    inputs = np.concatenate([t[:, None], x, nb], 1)
    hidden = np.log1p(np.exp(inputs @ w1.T + b1))  # softplus
    expected = 0.2 * np.tanh(hidden @ w2.T + b2).reshape(6, 1, 3)
    assert got.shape == (6, 1, 3) and got.dtype == jnp.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert np.all(np.abs(np.asarray(got)) < 0.2)
