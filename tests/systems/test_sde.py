"""SDE simulation: Euler–Maruyama's orders against exact solutions, the time-dependent OU
process against its closed-form moments, opinion dynamics against NumPy."""

from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import ArrayLike

from jaxlab import RESULTS
from jaxlab.de import GridBrownianPath
from jaxlab.systems import (
    AbstractSDE,
    Lorenz,
    OpinionDynamics,
    TimeDependentOU,
    simulate_sde,
)


class GeometricBM(AbstractSDE):
    """dY = μ Y dt + σ Y dW: Y_T = Y_0 exp((μ − σ²/2) T + σ W_T)."""

    mu: ArrayLike = 0.5
    sigma: ArrayLike = 0.5

    dimension: ClassVar[int] = 1
    dt: ClassVar[float] = 0.01
    citation: ClassVar[str] = "test system"

    def drift(self, t, y):
        return self.mu * y

    def diffusion(self, t, y):
        return self.sigma * y

    def initial_state(self, dtype=None):
        return jnp.ones(1, dtype)


class SharedNoise(AbstractSDE):
    """dY = (0, 0) dt + (1, 2)ᵀ dW with one scalar W: Y₂ − 2 Y₁ stays constant."""

    dimension: ClassVar[int] = 2
    dt: ClassVar[float] = 0.1
    citation: ClassVar[str] = "test system"

    @property
    def noise_shape(self):
        return (1,)

    def drift(self, t, y):
        return jnp.zeros_like(y)

    def diffusion(self, t, y):
        return jnp.array([[1.0], [2.0]], y.dtype)

    def initial_state(self, dtype=None):
        return jnp.zeros(2, dtype)


class Cubic(AbstractSDE):
    """dY = Y³ dt + dW from Y₀ = 2 explodes in finite time (near t = 1/8)."""

    dimension: ClassVar[int] = 1
    dt: ClassVar[float] = 0.01
    citation: ClassVar[str] = "test system"

    def drift(self, t, y):
        return y**3

    def diffusion(self, t, y):
        return jnp.ones_like(y)

    def initial_state(self, dtype=None):
        return jnp.full(1, 2.0, dtype)


def _terminal(system, steps, keys):
    """Y_T by simulate_sde on [0, 1] with `steps` steps, and the exact solution on the same
    Brownian path (rebuilt from the same key, as simulate_sde documents)."""

    def one(key):
        y = simulate_sde(system, jnp.ones(1), np.array([0.0, 1.0]), dt=1 / steps,
                         key=key).ys[-1, 0]
        w = GridBrownianPath(0.0, 1.0, steps, (1,), key=key, dtype=y.dtype).values[-1, 0]
        exact = jnp.exp((system.mu - system.sigma**2 / 2) + system.sigma * w)
        return y, exact

    return jax.vmap(one)(keys)


def _orders(hs, n):
    """Strong and weak errors of Euler–Maruyama on geometric Brownian motion (μ = σ = 1/2) at
    the steps `hs`, each averaged over `n` paths against the exact solution on the same path
    (a control variate: the Monte Carlo error of the weak error is the spread of Y^h − Y
    over √n); also the weak error's standard error and the paths (Y^h, Y) at the last
    step."""
    system = GeometricBM(mu=0.5, sigma=0.5)
    keys = jax.random.split(jax.random.key(0), n)
    strong, weak = [], []
    for h in hs:
        y, exact = (np.asarray(a) for a in _terminal(system, round(1 / h), keys))
        strong.append(np.mean(np.abs(y - exact)))
        weak.append(np.mean(y - exact))
    return np.array(strong), np.array(weak), np.std(y - exact) / np.sqrt(n), y, exact


def test_euler_maruyama_exact_errors_at_one_step(float64):
    # For geometric Brownian motion the errors of Euler–Maruyama have closed forms, from
    # Y^h = Π (1 + μh + σΔW_k) and Y = exp((μ − σ²/2)T + σW_T): E[(Y^h)²] = ((1 + μh)² + σ²h)^N,
    # E[Y^h Y] = (e^{μh}(1 + μh + σ²h))^N, E[Y²] = e^{(2μ + σ²)T}, so the mean-square
    # (strong) error is known, and the weak error of the mean is (1 + μh)^N − e^{μT}. Both
    # estimates (2000 paths, h = 1/4) must lie within 5 standard errors of them. (The
    # orders, fitted over four steps and 16000 paths, are slow.)
    mu, sigma, h, n = 0.5, 0.5, 0.25, 2000
    _, weak, standard_error, y, exact = _orders(np.array([h]), n)
    squared = (y - exact) ** 2
    mse = (((1 + mu * h) ** 2 + sigma**2 * h) ** 4
           - 2 * (np.exp(mu * h) * (1 + mu * h + sigma**2 * h)) ** 4 + np.exp(2 * mu + sigma**2))
    assert abs(squared.mean() - mse) < 5 * squared.std() / np.sqrt(n), (squared.mean(), mse)
    assert abs(weak[0] - ((1 + mu * h) ** 4 - np.exp(mu))) < 5 * standard_error


@pytest.mark.slow  # four step sizes × 16000 paths (the default suite fits two steps)
def test_euler_maruyama_strong_and_weak_orders(float64):
    # Over 20 seeds of this design (NumPy) the fitted slopes spread by 0.006 (strong) and
    # 0.05 (weak) around 0.50 and 0.96; the bands below are 3 of those spreads or more.
    hs = np.array([1 / 4, 1 / 8, 1 / 16, 1 / 32])
    strong, weak, standard_error, _, _ = _orders(hs, 16_000)
    strong_slope = np.polyfit(np.log(hs), np.log(strong), 1)[0]
    weak_slope = np.polyfit(np.log(hs), np.log(np.abs(weak)), 1)[0]
    assert abs(strong_slope - 0.5) < 0.05, strong
    assert abs(weak_slope - 1.0) < 0.15, weak
    assert abs(weak[-1] - ((1 + 0.5 / 32) ** 32 - np.exp(0.5))) < 5 * standard_error


def test_ou_moments_closed_forms_against_quadrature(float64):
    # m and v against numerical integration of their defining integrals:
    # m = m₀ e^{−θt} + ∫₀ᵗ e^{−θ(t−s)} a s ds, v = v₀ e^{−2θt} + ∫₀ᵗ e^{−2θ(t−s)} (c s)² ds.
    from scipy.integrate import quad

    ou = TimeDependentOU()
    a, theta, c = 0.02, 0.1, 0.4 * 2 / 64
    for t in (0.5, 16.0, 32.0, 63.0):
        m = 0.3 * np.exp(-theta * t) + quad(lambda s, t=t: np.exp(-theta * (t - s)) * a * s,
                                            0, t)[0]
        v = np.exp(-2 * theta * t) / 3 + quad(
            lambda s, t=t: np.exp(-2 * theta * (t - s)) * (c * s) ** 2, 0, t)[0]
        got_m, got_v = ou.mean(jnp.asarray(t), 0.3), ou.variance(jnp.asarray(t), 1 / 3)
        assert got_m.dtype == jnp.float64 and got_v.dtype == jnp.float64
        np.testing.assert_allclose(float(got_m), m, rtol=1e-10)
        np.testing.assert_allclose(float(got_v), v, rtol=1e-10)
    # vectorised over t, jit-able, float32 for float32 times
    ts = jnp.arange(4.0, dtype=jnp.float32)
    assert jax.jit(ou.variance)(ts).dtype == jnp.float32
    np.testing.assert_allclose(ou.mean(jnp.zeros(3)), 0.0)


@pytest.mark.parametrize(
    ("n", "horizon"),
    [(4000, 16), pytest.param(20_000, 63, marks=pytest.mark.slow)],  # default: t ≤ 16
)
def test_ou_simulation_matches_its_moments(n, horizon, float64):
    # n paths from Y₀ ~ U(−1, 1) at dt = 0.05. For a linear SDE the moments of the
    # Euler–Maruyama chain obey exact recursions, m ← (1 − θh) m + a t h and
    # v ← (1 − θh)² v + (c t)² h: the sample moments must match them within 5 standard
    # errors (√(v/n) for the mean, v √(2/(n − 1)) for the variance), and the recursions
    # converge to the closed forms at first order in h.
    ou, h = TimeDependentOU(), 0.05
    ts = np.arange(horizon + 1.0)
    k0, kw = jax.random.split(jax.random.key(0))
    y0 = jax.random.uniform(k0, (n, 1), jnp.float64, minval=-1.0, maxval=1.0)
    ys = jax.vmap(lambda y, k: simulate_sde(ou, y, ts, dt=h, key=k).ys[:, 0])(
        y0, jax.random.split(kw, n))
    ys = np.asarray(ys)
    assert ys.shape == (n, horizon + 1) and ys.dtype == np.float64

    def em_moments(h):
        a, theta, c = 0.02, 0.1, 0.4 * 2 / 64
        m, v, out = 0.0, 1 / 3, [(0.0, 1 / 3)]
        steps = round(1 / h)
        for k in range(horizon * steps):
            t = k * h
            m, v = (1 - theta * h) * m + a * t * h, (1 - theta * h) ** 2 * v + (c * t) ** 2 * h
            if (k + 1) % steps == 0:
                out.append((m, v))
        return np.array(out).T

    m, v = em_moments(h)
    check = np.array([1, horizon // 4, horizon // 2, horizon])
    sample_m = ys[:, check].mean(0) - y0.mean()  # removes the sample's initial-mean error
    np.testing.assert_array_less(np.abs(sample_m - m[check]), 5 * np.sqrt(v[check] / n))
    np.testing.assert_array_less(np.abs(ys[:, check].var(0) - v[check]),
                                 5 * v[check] * np.sqrt(2 / (n - 1)))
    exact_m = np.asarray(ou.mean(jnp.asarray(ts), 0.0))
    exact_v = np.asarray(ou.variance(jnp.asarray(ts), 1 / 3))
    errors = [np.abs(em_moments(step)[0] - exact_m).max() for step in (h, h / 2)]
    assert abs(np.log2(errors[0] / errors[1]) - 1) < 0.1
    errors = [np.abs(em_moments(step)[1] - exact_v).max() for step in (h, h / 2)]
    assert abs(np.log2(errors[0] / errors[1]) - 1) < 0.1


def test_opinion_drift_against_numpy_double_loop(float64):
    system = OpinionDynamics(particles=9)
    x = np.random.default_rng(0).uniform(-2, 2, 9)
    expected = np.zeros(9)
    for i in range(9):
        for j in range(9):
            r = abs(x[i] - x[j])
            phi = 6 * np.exp(-0.01 / (1 - (r - 0.2) ** 2)) if r < 1.2 else 0.0
            expected[i] -= phi * (x[i] - x[j]) / 9
    got = jax.jit(system.drift)(jnp.asarray(0.0), jnp.asarray(x))  # one compilation
    assert got.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12, atol=1e-15)
    r = np.linspace(0, 2, 41)
    phi = np.where(r < 1.2, 6 * np.exp(-0.01 / np.maximum(1 - (r - 0.2) ** 2, 1e-300)), 0.0)
    np.testing.assert_allclose(np.asarray(jax.jit(system.interaction)(jnp.asarray(r))), phi,
                               rtol=1e-12, atol=0)


def test_opinion_paths_numpy_reference_and_martingale(float64):
    # 32 paths of 7 particles under jit(vmap(...)) over keys. (1) Path 0 against a plain
    # NumPy Euler–Maruyama loop on the same Brownian increments (the path simulate_sde
    # documents, rebuilt from the same key), saved every fifth step. (2) The interaction is
    # antisymmetric, so Σᵢ drift_i = 0 and the particles' mean moves only by the noise:
    # mean(X_t) − mean(X_0) = σ mean(W_t) on every path (to rounding), hence
    # E[mean(X_t)] = mean(X_0); over 32 paths the average displacement at t = 1 has a
    # standard error of σ/√(N · 32), and it must lie within 5 of them.
    n, keys = 7, jax.random.split(jax.random.key(3), 32)
    x = np.random.default_rng(1).uniform(-2, 2, n)
    x0 = jnp.asarray(x)
    ts = np.linspace(0.0, 1.0, 21)
    simulate = jax.jit(jax.vmap(lambda k: simulate_sde(OpinionDynamics(particles=n), x0, ts,
                                                       dt=0.01, key=k)))
    paths = simulate(keys)
    assert paths.ys.shape == (32, 21, n) and bool(jnp.all(paths.converged))
    assert int(paths.num_steps[0]) == 100
    ws = jax.vmap(lambda k: GridBrownianPath(0.0, 1.0, 100, (n,), key=k,
                                             dtype=jnp.float64).values)(keys)  # (32, 101, n)
    dws = np.diff(np.asarray(ws[0]), axis=0)
    saved = [x]
    for k in range(100):
        diff = x[:, None] - x[None, :]
        r = np.abs(diff)
        phi = np.where(r < 1.2, 6 * np.exp(-0.01 / np.where(r < 1.2, 1 - (r - 0.2) ** 2, 1)),
                       0.0)
        x = x - np.mean(phi * diff, axis=1) * 0.01 + 0.1 * dws[k]
        saved.append(x)
    np.testing.assert_allclose(np.asarray(paths.ys[0]), np.stack(saved)[::5], rtol=1e-12,
                               atol=1e-12)
    shift = np.asarray(paths.ys.mean(axis=2) - x0.mean())                 # (32, 21)
    np.testing.assert_allclose(shift, 0.1 * np.asarray(ws[:, ::5].mean(axis=2)), rtol=0,
                               atol=1e-12)
    assert abs(shift[:, -1].mean()) < 5 * 0.1 / np.sqrt(n * 32)
    assert shift[:, -1].std() > 0  # and it does move


def test_same_key_same_path_float32_and_general_noise():
    ou = TimeDependentOU()
    ts = np.arange(5.0)
    a = simulate_sde(ou, jnp.zeros(1), ts, dt=0.3, key=jax.random.key(1))
    b = simulate_sde(ou, jnp.zeros(1), ts, dt=0.3, key=jax.random.key(1))
    c = simulate_sde(ou, jnp.zeros(1), ts, dt=0.3, key=jax.random.key(2))
    assert a.ys.dtype == jnp.float32 and a.ts.dtype == jnp.float32
    np.testing.assert_array_equal(a.ys, b.ys)
    assert not np.allclose(a.ys, c.ys)
    # a dt that does not divide the span is shrunk: 4 / 0.3 → 14 steps of 4/14
    assert int(a.num_steps) == 14
    # matrix noise, noise_shape (1,): both components are driven by the same W
    shared = simulate_sde(SharedNoise(), jnp.zeros(2), ts, dt=0.1, key=jax.random.key(3))
    np.testing.assert_allclose(shared.ys[:, 1], 2 * shared.ys[:, 0], rtol=1e-5, atol=1e-5)
    assert float(jnp.abs(shared.ys[-1, 0])) > 0


def test_jit_vmap_over_keys_and_parameters():
    ts = np.arange(5.0)

    @jax.jit
    def final(key, theta):
        return simulate_sde(TimeDependentOU(theta=theta), jnp.ones(1), ts, dt=0.5,
                            key=key).ys[-1, 0]

    keys = jax.random.split(jax.random.key(0), 3)
    batch = jax.vmap(final)(keys, jnp.array([0.1, 0.2, 0.3]))
    np.testing.assert_allclose(batch[1], final(keys[1], jnp.asarray(0.2)), rtol=1e-6)


def test_nonfinite_state_is_reported():
    ts = np.array([0.0, 1.0])
    traj = simulate_sde(Cubic(), jnp.array([2.0]), ts, dt=0.01, key=jax.random.key(0),
                        throw=False)
    assert traj.status == RESULTS.nonfinite and not bool(traj.converged)
    with pytest.raises(Exception, match="simulate_sde: Nonfinite"):
        simulate_sde(Cubic(), jnp.array([2.0]), ts, dt=0.01, key=jax.random.key(0))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"system": Lorenz()}, TypeError, "simulate_sde: system must be a AbstractSDE, got a "
                                          "Lorenz"),
        ({"y0": jnp.zeros(2)}, ValueError, r"y0 must be of shape \(1,\) for TimeDependentOU"),
        ({"ts": np.array([1.0, 0.0])}, ValueError, "ts must be strictly increasing"),
        ({"ts": np.array([1.0])}, ValueError, "ts must be a 1-D array of at least 2 times"),
        ({"dt": 0.0}, ValueError, "dt must be a positive finite number, got 0.0"),
        ({"key": 0}, TypeError, r"key must be a PRNG key \(jax.random.key\(seed\)\), got 0"),
        ({"solver": "euler"}, TypeError, "solver must be a diffrax solver, got a str"),
        ({"throw": 1}, TypeError, "throw must be a bool, got 1"),
    ],
)
def test_bad_input(kwargs, error, message, user_errors):
    args = {"system": TimeDependentOU(), "y0": jnp.zeros(1), "ts": np.arange(3.0), "dt": 0.1,
            "key": jax.random.key(0)} | kwargs
    with pytest.raises(error, match=message):
        simulate_sde(args.pop("system"), args.pop("y0"), args.pop("ts"), **args)


def test_traced_times_and_bad_systems_are_rejected(user_errors):
    with pytest.raises(ValueError, match="simulate_sde: ts must be concrete, not traced"):
        jax.jit(lambda ts: simulate_sde(TimeDependentOU(), jnp.zeros(1), ts, dt=0.1,
                                        key=jax.random.key(0)).ys)(jnp.arange(3.0))
    with pytest.raises(TypeError, match=r"OpinionDynamics: particles must be a positive int, "
                                        r"got 2\.5"):
        OpinionDynamics(particles=2.5)
    with pytest.raises(TypeError, match=r"TimeDependentOU\.mean: t must be a real array"):
        TimeDependentOU().mean(jnp.zeros(2, bool))
