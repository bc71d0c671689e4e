"""jaxlab.systems against SciPy and NumPy: integration, Lyapunov spectra (one trajectory and
an ensemble) and SDE simulation (float64, same tolerances and step)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from jaxlab.parallel import data_mesh
from jaxlab.systems import (
    Logistic,
    Lorenz,
    TimeDependentOU,
    integrate,
    lyapunov_ensemble,
    lyapunov_spectrum,
    simulate_sde,
)

from ._timing import best_of, compile_time, record

jax.config.update("jax_enable_x64", True)

SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0
RTOL, ATOL = 1e-10, 1e-12


def _lorenz(t, y):
    return np.array([SIGMA * (y[1] - y[0]), y[0] * (RHO - y[2]) - y[1], y[0] * y[1] - BETA * y[2]])


def _lorenz_tangent(t, s):
    y, q = s[:3], s[3:].reshape(3, 3)
    jac = np.array([[-SIGMA, SIGMA, 0.0], [RHO - y[2], -1.0, -y[0]], [y[1], y[0], -BETA]])
    return np.concatenate([_lorenz(t, y), (jac @ q).ravel()])


def scipy_lyapunov(y0, num_intervals, interval, transient):
    """The Benettin/QR loop a user would write with SciPy: DOP853 per interval."""
    y = solve_ivp(_lorenz, (0, transient), y0, method="DOP853", rtol=RTOL, atol=ATOL).y[:, -1]
    q, sums, t = np.eye(3), np.zeros(3), transient
    for _ in range(num_intervals):
        s = solve_ivp(_lorenz_tangent, (t, t + interval), np.concatenate([y, q.ravel()]),
                      method="DOP853", rtol=RTOL, atol=ATOL).y[:, -1]
        y, t = s[:3], t + interval
        q, r = np.linalg.qr(s[3:].reshape(3, 3))
        sums += np.log(np.abs(np.diag(r)))
        q = q * np.sign(np.diag(r))
    return sums / (num_intervals * interval)


def test_integrate_lorenz_1000_points(benchmark):
    y0 = np.array(Lorenz.default_ic)
    ts = np.linspace(0.0, 50.0, 1000)
    fn = jax.jit(lambda y: integrate(Lorenz(), y, jnp.asarray(ts), rtol=RTOL, atol=ATOL).ys)
    compile_s = compile_time(fn, jnp.asarray(y0))
    ours = benchmark.pedantic(lambda: jax.block_until_ready(fn(jnp.asarray(y0))), rounds=5)
    peer_s = best_of(lambda: solve_ivp(_lorenz, (0, 50), y0, method="DOP853", t_eval=ts,
                                       rtol=RTOL, atol=ATOL).y)
    ref = solve_ivp(_lorenz, (0, 2), y0, method="DOP853", t_eval=ts[ts <= 2], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(np.asarray(ours)[: ref.y.shape[1]], ref.y.T, rtol=1e-6, atol=1e-6)
    record(benchmark, peer_name="scipy DOP853", peer_s=peer_s, compile_s=compile_s)


@pytest.mark.parametrize("members", [64])
def test_integrate_lorenz_ensemble(benchmark, members):
    y0s = np.array(Lorenz.default_ic) + np.random.default_rng(0).normal(size=(members, 3))
    ts = np.linspace(0.0, 10.0, 200)
    fn = jax.jit(jax.vmap(lambda y: integrate(Lorenz(), y, jnp.asarray(ts), rtol=RTOL,
                                              atol=ATOL).ys))
    compile_s = compile_time(fn, jnp.asarray(y0s))
    benchmark.pedantic(lambda: jax.block_until_ready(fn(jnp.asarray(y0s))), rounds=3)
    peer_s = best_of(lambda: [solve_ivp(_lorenz, (0, 10), y, method="DOP853", t_eval=ts,
                                        rtol=RTOL, atol=ATOL).y for y in y0s], repeat=1)
    record(benchmark, peer_name="scipy DOP853 loop", peer_s=peer_s, compile_s=compile_s,
           members=members)


def test_lyapunov_lorenz(benchmark):
    y0 = np.array(Lorenz.default_ic)
    n, h, burn = 300, 0.3, 10.0
    fn = jax.jit(lambda y: lyapunov_spectrum(Lorenz(), y, num_intervals=n, interval=h,
                                             transient=burn).exponents)
    compile_s = compile_time(fn, jnp.asarray(y0))
    ours = benchmark.pedantic(lambda: jax.block_until_ready(fn(jnp.asarray(y0))), rounds=3)
    peer_s = best_of(lambda: scipy_lyapunov(y0, n, h, burn), repeat=1)
    peer = scipy_lyapunov(y0, n, h, burn)
    np.testing.assert_allclose(float(np.sum(ours)), peer.sum(), atol=1e-6)
    record(benchmark, peer_name="scipy DOP853 Benettin loop", peer_s=peer_s, compile_s=compile_s,
           averaging_time=n * h)


def test_lyapunov_logistic(benchmark):
    n = 100_000
    fn = jax.jit(lambda y: lyapunov_spectrum(Logistic(r=4.0), y, num_intervals=n).exponents)
    y0 = jnp.array([0.1234])
    compile_s = compile_time(fn, y0)
    benchmark.pedantic(lambda: jax.block_until_ready(fn(y0)), rounds=5)

    def numpy_loop():
        x, total = 0.1234, 0.0
        for _ in range(1000):
            x = 4.0 * x * (1.0 - x)
        for _ in range(n):
            total += np.log(abs(4.0 * (1.0 - 2.0 * x)))
            x = 4.0 * x * (1.0 - x)
        return total / n

    peer_s = best_of(numpy_loop, repeat=1)
    record(benchmark, peer_name="python/numpy loop", peer_s=peer_s, compile_s=compile_s)


def test_lyapunov_lorenz_ensemble(benchmark):
    # 16 members sharded over the devices against the SciPy loop run member after member
    # (timed on 2 members and scaled: it is a Python loop, linear in the members).
    members, n, h, burn = 16, 100, 0.3, 5.0
    y0s = np.array(Lorenz.default_ic) + np.random.default_rng(1).normal(size=(members, 3))
    mesh = data_mesh()

    def ours():
        return lyapunov_ensemble(Lorenz(), jnp.asarray(y0s), num_intervals=n, interval=h,
                                 transient=burn, mesh=mesh).exponents

    compile_s = compile_time(ours)
    out = benchmark.pedantic(lambda: jax.block_until_ready(ours()), rounds=3)
    peer_s = best_of(lambda: [scipy_lyapunov(y, n, h, burn) for y in y0s[:2]],
                     repeat=1) * members / 2
    np.testing.assert_allclose(np.asarray(out).sum(axis=1), -(SIGMA + 1 + BETA), atol=1e-6)
    record(benchmark, peer_name="scipy DOP853 Benettin loop per member", peer_s=peer_s,
           compile_s=compile_s, members=members, devices=mesh.size)


def test_simulate_ou_ensemble(benchmark):
    # 4096 Euler–Maruyama paths of the time-dependent OU process at dt = 0.05 over 63 time
    # units, against the same scheme vectorised over paths in NumPy.
    paths, dt, obs = 4096, 0.05, np.arange(64.0)
    ou = TimeDependentOU()
    keys = jax.random.split(jax.random.key(0), paths)
    fn = jax.jit(jax.vmap(lambda k: simulate_sde(ou, jnp.zeros(1), obs, dt=dt, key=k).ys))
    compile_s = compile_time(fn, keys)
    ours = benchmark.pedantic(lambda: jax.block_until_ready(fn(keys)), rounds=5)

    def numpy_em():
        rng = np.random.default_rng(0)
        y, out, steps = np.zeros(paths), [np.zeros(paths)], round(1 / dt)
        for k in range(63 * steps):
            t = k * dt
            y = y + (0.02 * t - 0.1 * y) * dt + 0.0125 * t * rng.normal(0, np.sqrt(dt), paths)
            if (k + 1) % steps == 0:
                out.append(y)
        return np.stack(out, axis=1)

    peer_s = best_of(numpy_em, repeat=1)
    # the same law: the sample means agree within 5 standard errors at t = 63
    se = np.sqrt(2 * float(ou.variance(jnp.asarray(63.0))) / paths)
    assert abs(float(np.mean(ours[:, -1, 0])) - numpy_em()[:, -1].mean()) < 5 * se
    record(benchmark, peer_name="numpy Euler-Maruyama (vectorised over paths)", peer_s=peer_s,
           compile_s=compile_s, paths=paths)
