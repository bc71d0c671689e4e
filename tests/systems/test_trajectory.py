"""trajectory(): dysts-style resampling, additive noise, standardisation."""

from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.systems import AbstractFlow, Henon, Lorenz, integrate, iterate, trajectory


class OrnsteinUhlenbeck(AbstractFlow):
    """dy = −θ y dt (+ σ dW via trajectory(noise=σ)); stationary variance σ²/(2θ)."""

    theta: float = 2.0
    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (0.0,)
    dt: ClassVar[float] = 0.01
    period: ClassVar[float] = 1.0
    citation: ClassVar[str] = "Uhlenbeck & Ornstein (1930)"

    def vector_field(self, t, y):
        return -self.theta * y


def test_resampling_matches_integrate(float64):
    traj = trajectory(Lorenz(), 1000, pts_per_period=100)
    span = Lorenz.period * 1000 / 100
    np.testing.assert_allclose(float(traj.ts[-1] - traj.ts[0]), span, rtol=1e-12)
    # trajectory's own max_steps, so the reference reuses its compiled solve
    ref = integrate(Lorenz(), Lorenz().initial_state(), jnp.linspace(0.0, span, 1000),
                    max_steps=10_000_000)
    np.testing.assert_allclose(np.asarray(traj.ys), np.asarray(ref.ys), rtol=1e-9, atol=1e-9)
    assert traj.ys.dtype == jnp.float64


def test_transient_shifts_the_window(float64):
    traj = trajectory(Lorenz(), 50, transient=2.0)
    ref = integrate(Lorenz(), Lorenz().initial_state(), traj.ts.at[0].set(0.0),
                    max_steps=10_000_000)  # trajectory's: one compiled solve for both
    np.testing.assert_allclose(float(traj.ts[0]), 2.0 * Lorenz.period)
    np.testing.assert_allclose(np.asarray(traj.ys[1:]), np.asarray(ref.ys[1:]), rtol=1e-7,
                               atol=1e-7)


def test_additive_noise_has_the_ou_stationary_variance(float64):
    # 32 independent paths of 200 time units; the sample variance of y over the last 100
    # (long after relaxation, τ = 1/θ = 0.5) estimates σ²/(2θ) = 0.0625 with a relative
    # standard error of ≈ sqrt(2 τ / T_total) = sqrt(2·0.5 / (32·100)) ≈ 1.8%; 6% is 3.4 of
    # them. Heun's bias at θ·dt = 0.02 is O(1e-4), negligible. (simulate_sde underneath.)
    sigma, theta = 0.5, 2.0
    keys = jax.random.split(jax.random.key(0), 32)
    paths = jax.vmap(lambda k: trajectory(OrnsteinUhlenbeck(theta=theta), 2000,
                                          pts_per_period=10, noise=sigma, key=k).ys)(keys)
    variance = float(jnp.var(paths[:, 1000:, 0]))
    np.testing.assert_allclose(variance, sigma**2 / (2 * theta), rtol=0.06)
    same = trajectory(OrnsteinUhlenbeck(theta=theta), 2000, pts_per_period=10, noise=sigma,
                      key=keys[3]).ys
    np.testing.assert_allclose(np.asarray(same), np.asarray(paths[3]), rtol=1e-12, atol=1e-15)


def test_maps_noise_and_standardize(float64):
    clean = trajectory(Henon(), 200, transient=5)
    orbit = iterate(Henon(), Henon().initial_state(), 204)
    np.testing.assert_allclose(np.asarray(clean.ys), np.asarray(orbit[5:]))
    noisy = trajectory(Henon(), 200, noise=1e-3, key=jax.random.key(1))
    assert 0 < float(jnp.abs(noisy.ys - iterate(Henon(), Henon().initial_state(), 199)).max())
    z = trajectory(Lorenz(), 50, standardize=True).ys  # the shape of test_transient_...
    np.testing.assert_allclose(np.asarray(z.mean(0)), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(z.std(0)), 1.0, rtol=1e-12)


def test_delay_systems_resample_by_period(float64):
    from jaxlab.systems import MackeyGlass, integrate_delay

    traj = trajectory(MackeyGlass(), 300, pts_per_period=20)
    ts = np.linspace(0.0, MackeyGlass.period * 300 / 20, 300)
    ref = integrate_delay(MackeyGlass(), MackeyGlass().initial_state(), ts)
    np.testing.assert_allclose(np.asarray(traj.ys), np.asarray(ref.ys), rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n": 1}, ValueError, r"trajectory: n must be an int >= 2, got 1"),
        ({"n": 2.5}, TypeError, r"trajectory: n must be an int >= 2, got 2\.5"),
        ({"n": 10, "pts_per_period": 0}, ValueError, "pts_per_period must be a positive int"),
        ({"n": 10, "noise": -1.0}, ValueError,
         r"noise must be a non-negative finite number, got -1\.0"),
        ({"n": 10, "noise": 0.1}, TypeError, r"key must be a PRNG key .*got None"),
        ({"n": 10, "transient": -1.0}, ValueError,
         "transient must be a non-negative finite number"),
        ({"n": 10, "system": Henon(), "transient": 1.5}, ValueError,
         r"transient must be a whole number of iterations for a map, got 1\.5"),
        ({"n": 10, "system": "Lorenz"}, TypeError,
         "system must be an AbstractFlow, AbstractMap or AbstractDelay, got a str"),
    ],
)
def test_bad_inputs(kwargs, error, message, user_errors):
    system = kwargs.pop("system", Lorenz())
    with pytest.raises(error, match=message):
        trajectory(system, **kwargs)


def test_delay_systems_take_no_noise(user_errors):
    from jaxlab.systems import MackeyGlass

    with pytest.raises(ValueError, match=r"noise must be 0 for a delay system, got 0\.1"):
        trajectory(MackeyGlass(), 10, noise=0.1, key=jax.random.key(0))
