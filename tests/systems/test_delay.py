"""Delay-differential equations: convergence order against closed forms, the six dysts delay
systems against dysts itself, and Lyapunov exponents against characteristic roots."""

import dataclasses
import math
import warnings
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import ArrayLike
from scipy.special import lambertw

from jaxlab import RESULTS
from jaxlab.systems import (
    AbstractDelay,
    IkedaDelay,
    Lorenz,
    MackeyGlass,
    PiecewiseCircuit,
    ScrollDelay,
    SprottDelay,
    VossDelay,
    integrate_delay,
    lyapunov_spectrum,
)

DELAY_SYSTEMS = [IkedaDelay, MackeyGlass, PiecewiseCircuit, ScrollDelay, SprottDelay, VossDelay]


class LinearDelay(AbstractDelay):
    """y'(t) = b y(t) + c y(t − τ): closed forms and characteristic roots are known."""

    b: ArrayLike = 0.0
    c: ArrayLike = -1.0
    tau: float = eqx.field(default=1.0, static=True)

    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (1.0,)
    dt: ClassVar[float] = 1 / 16
    period: ClassVar[float] = 4.0
    citation: ClassVar[str] = "test system"

    def vector_field(self, t, y, history):
        return self.b * y + self.c * history


class ForcedDelay(AbstractDelay):
    """y'(t) = −y(t) − y(t − 1) + g(t), with g chosen so that y = cos t for t ≥ 0.

    The history is cos 0 = 1 with slope 0 = −sin 0, so the solution is C¹ at 0; it depends
    on y(t), y(t − 1) and t, so every stage of a scheme matters (unlike y' = −y(t − 1),
    where a scheme reduces to a quadrature rule).
    """

    tau: float = eqx.field(default=1.0, static=True)

    dimension: ClassVar[int] = 1
    default_ic: ClassVar[tuple[float, ...]] = (1.0,)
    dt: ClassVar[float] = 1 / 16
    period: ClassVar[float] = 2 * math.pi
    citation: ClassVar[str] = "test system"

    def vector_field(self, t, y, history):
        exact_delayed = jnp.where(t >= self.tau, jnp.cos(t - self.tau), 1.0)
        forcing = -jnp.sin(t) + jnp.cos(t) + exact_delayed
        return -y - history + forcing


def pure_delay_solution(t, a=1.0):
    """y' = −a y(t − 1), y = 1 on [−1, 0], by the method of steps.

    On [k − 1, k] the step integrates the previous piece shifted by one, so
    y(t) = Σ_{j ≥ 0} (−a)^j (t − j + 1)^j / j! over the terms with t ≥ j − 1:
    1 − at on [0, 1]; + a²(t − 1)²/2 on [1, 2]; − a³(t − 2)³/6 on [2, 3]; …
    Also returns dy/da, the same sum differentiated term by term.
    """
    t = np.asarray(t, np.float64)
    y, dy_da = np.zeros_like(t), np.zeros_like(t)
    for j in range(int(t.max()) + 2):
        s = np.maximum(t - j + 1, 0.0)
        y += (-a) ** j * s**j / math.factorial(j)
        if j > 0:
            dy_da += j * (-1) ** j * a ** (j - 1) * s**j / math.factorial(j)
    return y, dy_da


def slope(hs, errors):
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])


# ------------------------------------------------------------------- convergence order


def test_rk4_fourth_order_on_piecewise_polynomial_solution(float64):
    # Acceptance criterion. On [0, 3] the exact solution is a piecewise cubic with corners
    # at t = 0, 1, 2 (grid points, since h divides τ): RK4 with Hermite history reproduces
    # it to rounding, which fails if the corner at 0 (history slope 0, solution slope −1)
    # is smeared. After t = 3 the pieces are quartic and higher, and the error is the
    # scheme's: its log-log slope against h must be 4.
    ts = np.linspace(0.0, 8.0, 97)  # spacing 1/12: off the grid for every h below
    exact, _ = pure_delay_solution(ts)
    hs = np.array([1 / 8, 1 / 16, 1 / 32, 1 / 64])
    errors = []
    for h in hs:
        traj = integrate_delay(LinearDelay(), jnp.array([1.0]), ts, dt=float(h))
        assert traj.ys.dtype == jnp.float64
        assert bool(traj.converged)
        assert int(traj.num_steps) == round(8.0 / h)
        err = np.abs(np.asarray(traj.ys[:, 0]) - exact)
        assert err[ts <= 3.0].max() < 1e-13
        errors.append(err.max())
    assert 3.7 < slope(hs, errors) < 4.3, errors


def forced_errors(method, hs):
    ts = np.linspace(0.0, 10.0, 121)
    return [np.abs(np.asarray(integrate_delay(ForcedDelay(), jnp.array([1.0]), ts, dt=h,
                                              method=method).ys[:, 0]) - np.cos(ts)).max()
            for h in hs]


def test_rk4_fourth_order_on_smooth_forced_solution(float64):
    # Here every stage of the scheme matters, the midpoint history values included.
    errors = forced_errors("rk4", (1 / 16, 1 / 32))
    assert abs(math.log2(errors[0] / errors[1]) - 4) < 0.3, errors
    assert errors[1] < 1e-8


@pytest.mark.parametrize(("method", "order"), [("euler", 1), ("heun", 2), ("rk3", 3)])
def test_order_of_lower_order_methods(method, order, float64):
    # Halving h divides the error by 2^order.
    errors = forced_errors(method, (1 / 16, 1 / 32))
    assert abs(math.log2(errors[0] / errors[1]) - order) < 0.3, errors


def test_transient_and_off_grid_saves(float64):
    # ts[0] > 0 integrates [0, ts[0]) as a transient; saves between grid points come from
    # the Hermite interpolant, so they are as accurate as the grid values.
    full_ts = np.array([0.0, 2.3, 5.05, 7.77])
    late_ts = np.array([1.1, 2.3, 5.05, 7.77])
    full = integrate_delay(LinearDelay(), jnp.array([1.0]), full_ts, dt=1 / 32)
    late = integrate_delay(LinearDelay(), jnp.array([1.0]), late_ts, dt=1 / 32)
    np.testing.assert_allclose(np.asarray(late.ys[1:]), np.asarray(full.ys[1:]), rtol=0,
                               atol=1e-15)
    np.testing.assert_allclose(np.asarray(late.ys[:, 0]), pure_delay_solution(late_ts)[0],
                               atol=2e-9)
    # Many saves inside one step; a dt that does not divide τ is shrunk to the largest τ/m
    # below it (here 0.3 → 1/4, the same grid).
    dense_ts = np.linspace(4.0, 4.25, 26)
    dense = integrate_delay(LinearDelay(), jnp.array([1.0]), dense_ts, dt=1 / 4)
    np.testing.assert_allclose(np.asarray(dense.ys[:, 0]), pure_delay_solution(dense_ts)[0],
                               atol=1e-4)
    shrunk = integrate_delay(LinearDelay(), jnp.array([1.0]), dense_ts, dt=0.3)
    assert int(shrunk.num_steps) == 17
    np.testing.assert_array_equal(np.asarray(shrunk.ys), np.asarray(dense.ys))


def test_gradients_match_closed_form(float64):
    ts = np.array([6.5])
    _, dy_da = pure_delay_solution(ts, a=0.8)

    def final(a, y0):
        return integrate_delay(LinearDelay(c=-a), y0, ts, dt=1 / 32).ys[-1, 0]

    grad_a, grad_y0 = jax.grad(final, argnums=(0, 1))(0.8, jnp.array([2.0]))
    np.testing.assert_allclose(float(grad_a), 2.0 * dy_da[0], rtol=1e-7)
    # The equation and the scheme are linear and the history constant, so y(t) is y0 times
    # the answer for y0 = 1: the derivative in y0 is that answer, to rounding.
    np.testing.assert_allclose(float(grad_y0[0]), float(final(0.8, jnp.array([1.0]))),
                               rtol=1e-12)


# ------------------------------------------------------------------------ the catalogue


@pytest.mark.parametrize("cls", DELAY_SYSTEMS, ids=lambda c: c.__name__)
def test_vector_field_and_metadata_match_dysts(cls, float64):
    with warnings.catch_warnings():  # dysts warns that numba is absent
        warnings.simplefilter("ignore")
        import dysts.flows as dysts_flows

        ref = getattr(dysts_flows, cls.__name__)()
    ours = cls()
    # Parameters: dysts's sorted parameter list is our fields' values, in name order.
    assert sorted(ref.params) == sorted(f.name for f in dataclasses.fields(ours))
    for name, value in ref.params.items():
        assert float(getattr(ours, name)) == float(value), name
    assert ours.tau == float(ref.tau)
    assert cls.dt == ref.dt and cls.period == ref.period
    assert cls.default_ic == (float(ref.ic[0]),)  # dysts starts from the first of its ten
    assert cls.citation == ref.citation
    rng = np.random.default_rng(0)
    center = float(ref.ic[0])
    states = center + rng.uniform(-2.0, 2.0, size=(20, 2))
    if cls is MackeyGlass:  # its attractor is positive; (−x)^10 is fine, but stay on it
        states = rng.uniform(0.1, 2.0, size=(20, 2))
    times = rng.uniform(0.0, 10.0, size=20)
    field = jax.jit(ours.vector_field)
    for (x, xt), t in zip(states, times, strict=True):
        expected = ref._rhs(x, xt, t, *ref.param_list)
        got = field(jnp.asarray(t), jnp.array([x]), jnp.array([xt]))
        assert got.shape == (1,) and got.dtype == jnp.float64
        np.testing.assert_allclose(float(got[0]), expected, rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------- Lyapunov exponents


def test_mackey_glass_is_chaotic(float64):
    # τ = 17, the classic chaotic value (dysts's default τ = 16 lies just before the onset
    # of chaos at τ ≈ 16.8; we measure λ_max ≈ 0 there: a periodic orbit).
    # Measured: λ_max = 0.0050 per time unit (mean of 7 trajectories of T = 17000, spread
    # 0.0047-0.0054, RK4 h = 0.25 and Heun h = 0.05 agree). One trajectory of T = 8500 at
    # h = 0.5 fluctuates by ~±0.0008; the band below is about twice that.
    system = MackeyGlass(tau=17.0)
    res = lyapunov_spectrum(system, jnp.array([0.9]), num_intervals=250, interval=34.0,
                                  transient=500.0, dt=0.5)
    assert bool(res.converged) and res.exponents.dtype == jnp.float64
    assert res.exponents.shape == (1,) and res.running.shape == (250, 1)
    assert 0.0033 < float(res.exponents[0]) < 0.0075, float(res.exponents[0])
    np.testing.assert_allclose(float(res.times[-1]), 8500.0)
    traj = integrate_delay(system, jnp.array([0.9]), np.linspace(500.0, 2500.0, 2001), dt=0.5)
    ys = np.asarray(traj.ys[:, 0])
    assert 0.2 < ys.min() and ys.max() < 1.5    # bounded, positive
    assert ys.std() > 0.1                       # and not at its fixed point x = 1


def characteristic_roots(b, c, tau, branches):
    """Roots of λ = b + c e^{−λτ}: λ = b + W_k(cτ e^{−bτ})/τ (Lambert W, branch k)."""
    return [complex(b + lambertw(c * tau * np.exp(-b * tau), k) / tau) for k in branches]


def test_linear_delay_exponents_are_characteristic_roots(float64):
    # For a linear DDE the Lyapunov exponents are the real parts of the characteristic
    # roots (complex pairs twice). Rates are measured after the first quarter of the run,
    # which removes the bias of the initial tangent vectors (single grid points).
    b, c = -1.0, 0.5
    real, pair = characteristic_roots(b, c, 1.0, [0, 1])
    assert abs(real.imag) < 1e-12 and pair.imag > 1
    res = lyapunov_spectrum(LinearDelay(b=b, c=c), jnp.array([1.0]), num_exponents=3,
                                  num_intervals=400, interval=0.5, transient=0.0)
    sums, times = np.asarray(res.running * res.times[:, None]), np.asarray(res.times)
    rate = (sums[-1] - sums[99]) / (times[-1] - times[99])
    np.testing.assert_allclose(rate[0], real.real, rtol=1e-6)
    # A complex pair rotates in its plane: only the sum of its two exponents settles fast.
    np.testing.assert_allclose(rate[1] + rate[2], 2 * pair.real, rtol=2e-3)
    # the default step is the system's dt hint, the default scheme RK4
    same = lyapunov_spectrum(LinearDelay(b=b, c=c), jnp.array([1.0]), num_exponents=3,
                             num_intervals=400, interval=0.5, transient=0.0,
                             dt=LinearDelay.dt, method="rk4")
    np.testing.assert_allclose(np.asarray(same.running), np.asarray(res.running), rtol=1e-12)


def test_mackey_glass_fixed_point_exponents(float64):
    # x = 1 is an (unstable) equilibrium of Mackey-Glass, held exactly in floating point.
    # Linearised there, δx' = −γ δx + β g'(1) δx(t − τ) with g(u) = u/(1 + uⁿ), g'(1) =
    # (2 − n)/4 = −2: the exponents are the real parts of the roots of
    # λ = −0.1 − 0.4 e^{−17λ}, the pairs 0.0413 ± 0.139i and −0.0109 ± 0.473i.
    lead, second = characteristic_roots(-0.1, -0.4, 17.0, [0, 1])
    res = lyapunov_spectrum(MackeyGlass(tau=17.0), jnp.array([1.0]), num_exponents=4,
                                  num_intervals=300, interval=17.0, transient=0.0, dt=0.5)
    sums, times = np.asarray(res.running * res.times[:, None]), np.asarray(res.times)
    rate = (sums[-1] - sums[49]) / (times[-1] - times[49])
    np.testing.assert_allclose(float(res.final_state[0]), 1.0, rtol=0, atol=0)
    np.testing.assert_allclose(rate[0] + rate[1], 2 * lead.real, rtol=2e-3)
    np.testing.assert_allclose(rate[2] + rate[3], 2 * second.real, rtol=2e-2)


# ------------------------------------------------------------ dtypes, vmap, compilation


def test_float32_and_float64(float64):
    system, ts = MackeyGlass(tau=17.0), np.linspace(0.0, 100.0, 101)
    y32 = integrate_delay(system, system.initial_state(jnp.float32), ts, dt=0.25)
    y64 = integrate_delay(system, system.initial_state(jnp.float64), ts, dt=0.25)
    assert y32.ys.dtype == jnp.float32 and y32.ts.dtype == jnp.float32
    assert y64.ys.dtype == jnp.float64
    # 100 time units is well under a Lyapunov time (~200): rounding is not amplified.
    np.testing.assert_allclose(np.asarray(y32.ys), np.asarray(y64.ys), atol=1e-4)


def test_float32_by_default():
    system = MackeyGlass(tau=17.0)
    traj = integrate_delay(system, system.initial_state(), np.linspace(0.0, 50.0, 26), dt=0.5)
    assert traj.ys.dtype == jnp.float32
    res = lyapunov_spectrum(system, num_intervals=5, interval=17.0, transient=0.0, dt=0.5)
    assert res.exponents.dtype == jnp.float32 and res.final_state.shape == (1,)


def test_vmap_over_initial_conditions_and_parameters():
    ts = np.linspace(0.0, 50.0, 26)
    system = MackeyGlass(tau=17.0)
    y0s = jnp.linspace(0.5, 1.2, 4)[:, None]
    batched = jax.jit(jax.vmap(lambda y0: integrate_delay(system, y0, ts, dt=0.5).ys))(y0s)
    looped = jnp.stack([integrate_delay(system, y0, ts, dt=0.5).ys for y0 in y0s])
    np.testing.assert_allclose(batched, looped, rtol=1e-6, atol=1e-6)
    betas = jnp.array([0.2, 0.25])
    by_beta = jax.vmap(lambda beta: integrate_delay(MackeyGlass(beta=beta, tau=17.0),
                                                    jnp.array([0.9]), ts, dt=0.5).ys)(betas)
    one = integrate_delay(MackeyGlass(beta=0.25, tau=17.0), jnp.array([0.9]), ts, dt=0.5).ys
    np.testing.assert_allclose(by_beta[1], one, rtol=1e-6, atol=1e-6)
    assert not np.allclose(by_beta[0], by_beta[1])
    lam = jax.vmap(lambda y0: lyapunov_spectrum(
        system, y0, num_intervals=5, interval=17.0, transient=0.0, dt=0.5).exponents)(y0s)
    assert lam.shape == (4, 1) and bool(jnp.all(jnp.isfinite(lam)))


def test_compiles_once_per_shape(caplog):
    system, ts = MackeyGlass(tau=17.0), np.linspace(0.0, 50.0, 26)
    integrate_delay(system, jnp.array([0.9]), ts, dt=0.5)
    lyapunov_spectrum(system, jnp.array([0.9]), num_intervals=5, interval=17.0,
                            transient=0.0, dt=0.5)
    with jax.log_compiles(), caplog.at_level("WARNING", logger="jax"):
        # New initial state, new parameters, shifted save times with the same step count.
        integrate_delay(MackeyGlass(beta=0.21, tau=17.0), jnp.array([0.7]), ts, dt=0.5)
        integrate_delay(system, jnp.array([0.7]), np.linspace(0.1, 50.0, 26), dt=0.5)
        lyapunov_spectrum(MackeyGlass(gamma=0.11, tau=17.0), jnp.array([0.8]),
                                num_intervals=5, interval=17.0, transient=0.0, dt=0.5)
    compiled = [r.getMessage() for r in caplog.records if "_delay" in r.getMessage()]
    assert not compiled, compiled


# ------------------------------------------------------------------ failures and errors


def test_non_finite_state_is_reported():
    blowup = LinearDelay(b=100.0, c=0.0)     # e^{100 t} overflows before t = 10
    ts = np.array([0.0, 10.0])
    traj = integrate_delay(blowup, jnp.array([1.0]), ts, throw=False)
    assert not bool(traj.converged) and traj.status == RESULTS.nonfinite
    with pytest.raises(Exception, match="integrate_delay: Nonfinite"):
        integrate_delay(blowup, jnp.array([1.0]), ts, throw=True)
    res = lyapunov_spectrum(blowup, jnp.array([1.0]), num_intervals=40, interval=0.5,
                            transient=0.0, throw=False)
    assert not bool(res.converged) and res.status == RESULTS.nonfinite
    with pytest.raises(Exception, match="lyapunov_spectrum: Nonfinite"):
        lyapunov_spectrum(blowup, jnp.array([1.0]), num_intervals=40, interval=0.5,
                                transient=0.0)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((Lorenz(), jnp.zeros(3), [1.0]), {}, TypeError,
         "integrate_delay: system must be an AbstractDelay .*got a Lorenz"),
        ((MackeyGlass(), jnp.zeros(2), [1.0]), {}, ValueError,
         r"y0 must be of shape \(1,\) for MackeyGlass, got shape \(2,\)"),
        ((MackeyGlass(), jnp.ones(1), [[1.0]]), {}, ValueError,
         r"ts must be a 1-D array of at least 1 time, got shape \(1, 1\)"),
        ((MackeyGlass(), jnp.ones(1), [-1.0, 1.0]), {}, ValueError,
         r"start at or after 0 .*got ts\[0\] = -1.0"),
        ((MackeyGlass(), jnp.ones(1), [2.0, 1.0]), {}, ValueError,
         r"ts must be strictly increasing, got ts\[0\] = 2.0 followed by 1.0"),
        ((MackeyGlass(), jnp.ones(1), [1.0]), {"dt": 0.0}, ValueError,
         "dt must be a positive finite number, got 0.0"),
        ((MackeyGlass(), jnp.ones(1), [1.0]), {"dt": "small"}, TypeError,
         "dt must be a positive finite number, got 'small'"),
        ((MackeyGlass(), jnp.ones(1), [1.0]), {"method": "rk45"}, ValueError,
         r"method must be one of 'euler', 'heun', 'rk3', 'rk4', got 'rk45'"),
        ((MackeyGlass(), jnp.ones(1), ["a"]), {}, TypeError,
         r"ts must be a real array"),
    ],
)
def test_integrate_bad_input(args, kwargs, error, message, user_errors):
    with pytest.raises(error, match=message):
        integrate_delay(*args, **kwargs)


def test_traced_ts_and_tau_are_rejected(user_errors):
    with pytest.raises(ValueError, match="ts must be concrete, not traced"):
        jax.jit(lambda ts: integrate_delay(MackeyGlass(), jnp.ones(1), ts).ys)(
            jnp.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"AbstractDelay: tau must be a positive finite "
                                         r"Python number.*got -1"):
        MackeyGlass(tau=-1.0)
    with pytest.raises(TypeError, match="cannot be traced, vmapped or differentiated"):
        jax.vmap(lambda tau: MackeyGlass(tau=tau).beta)(jnp.array([16.0, 17.0]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_exponents": 0}, r"num_exponents must be an int in 1..35, got 0"),
        ({"num_exponents": 36}, r"num_exponents must be an int in 1..35, got 36"),
        ({"num_intervals": 0}, "num_intervals must be a positive int, got 0"),
        ({"interval": -1.0}, "interval must be a positive finite number, got -1.0"),
        ({"transient": -2.0}, "transient must be a non-negative finite number, got -2.0"),
        ({"y0": jnp.zeros(3)}, r"y0 must be of shape \(1,\)"),
    ],
)
def test_lyapunov_bad_input(kwargs, message, user_errors):
    with pytest.raises(ValueError, match=message):
        lyapunov_spectrum(MackeyGlass(tau=17.0), dt=0.5, **kwargs)


def test_lyapunov_rejects_ode_options(user_errors):
    import diffrax

    with pytest.raises(ValueError, match=r"lyapunov_spectrum: rtol and solver must be None "
                                         r"for delay systems"):
        lyapunov_spectrum(MackeyGlass(), rtol=1e-6, solver=diffrax.Tsit5())
    with pytest.raises(ValueError, match=r"method must be one of 'euler', 'heun', 'rk3', 'rk4'"):
        lyapunov_spectrum(MackeyGlass(), method="rk45")
