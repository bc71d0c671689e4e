"""Every catalogue system against dysts 0.96, run side by side (float64, 20 random states)."""

import inspect
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.systems import AbstractFlow, AbstractMap, flows, get, kind_of, maps, names

with warnings.catch_warnings():  # dysts warns that numba is absent
    warnings.simplefilter("ignore")
    import dysts.flows as dysts_flows
    import dysts.maps as dysts_maps

FLOWS, MAPS = names("flow"), names("map")
# Deliberate deviations from dysts's defaults (documented in the class docstrings).
PARAMETER_DEVIATIONS = {("flow", "Lorenz"): {"beta": (8 / 3, 2.667)}}


def _dysts(kind: str, name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(dysts_flows if kind == "flow" else dysts_maps, name)()


def _states(ic: np.ndarray, seed: int) -> np.ndarray:
    # Perturbations around dysts's initial condition (which lies on the attractor), so
    # every state is inside the domain of systems in polar or other restricted coordinates.
    rng = np.random.default_rng(seed)
    return ic * (1 + 0.05 * rng.standard_normal((20, ic.size))) + 0.01 * rng.standard_normal(
        (20, ic.size))


def test_catalogue_is_complete():
    assert len(FLOWS) == 129 and len(MAPS) == 23 and len(names("delay")) == 6
    assert len(names()) == 129 + 23 + 6 - 1  # "Duffing" is both a flow and a map
    for kind, module, ours in (("flow", dysts_flows, FLOWS), ("map", dysts_maps, MAPS)):
        base = "DynSys" if kind == "flow" else "DynMap"
        theirs = {n for n, c in inspect.getmembers(module, inspect.isclass)
                  if c.__module__ == module.__name__ and base in [b.__name__ for b in c.__mro__]
                  and "DynSysDelay" not in [b.__name__ for b in c.__mro__]}
        assert set(ours) == theirs
    delays = {n for n, c in inspect.getmembers(dysts_flows, inspect.isclass)
              if c.__module__ == dysts_flows.__name__
              and "DynSysDelay" in [b.__name__ for b in c.__mro__]}
    assert set(names("delay")) == delays


@pytest.mark.parametrize("name", FLOWS)
def test_flow_matches_dysts(name, float64):
    theirs = _dysts("flow", name)
    ours = get(name, kind="flow", **theirs.params)
    assert isinstance(ours, AbstractFlow) and ours.dimension == len(theirs.ic)
    states = _states(np.asarray(theirs.ic, dtype=np.float64), seed=hash(name) % 2**32)
    times = np.random.default_rng(1).uniform(0.0, 10.0, 20)
    expected = np.stack([np.asarray(theirs.rhs(x, t), dtype=np.float64).ravel()
                         for x, t in zip(states, times, strict=True)])
    got = jax.vmap(ours.vector_field)(jnp.asarray(times), jnp.asarray(states))
    assert got.dtype == jnp.float64
    assert np.isfinite(expected).mean() > 0.9
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", MAPS)
def test_map_matches_dysts(name, float64):
    theirs = _dysts("map", name)
    ours = get(name, kind="map", **theirs.params)
    assert isinstance(ours, AbstractMap) and ours.dimension == len(np.atleast_1d(theirs.ic))
    states = _states(np.atleast_1d(np.asarray(theirs.ic, dtype=np.float64)), seed=len(name))
    if name == "BlinkingVortexMap":
        # dysts's map is stateful (it flips b after each call); compare one blink.
        p = theirs.params
        expected = np.stack([np.asarray(theirs._rhs(*x, p["a"], p["b"], p["gamma"], p["t"]))
                             for x in states])
        got = jax.vmap(lambda x: ours.half_step(x, ours.b))(jnp.asarray(states))
    else:
        # dysts's rhs wants a column for 1-D maps and a flat vector otherwise
        call = (lambda x: theirs.rhs(x[:, None])) if ours.dimension == 1 else theirs.rhs
        expected = np.stack([np.asarray(call(x), dtype=np.float64).ravel() for x in states])
        got = jax.vmap(ours.step)(jnp.asarray(states))
    assert got.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(("kind", "name"),
                         [("flow", n) for n in FLOWS] + [("map", n) for n in MAPS])
def test_metadata_matches_dysts(kind, name):
    theirs = _dysts(kind, name)
    cls = type(get(name, kind=kind))
    np.testing.assert_allclose(np.asarray(cls.default_ic, dtype=float),
                               np.atleast_1d(np.asarray(theirs.ic, dtype=float)), rtol=1e-12)
    if kind == "flow":
        assert cls.dt == pytest.approx(theirs.dt) and cls.period == pytest.approx(theirs.period)
    assert " ".join(cls.citation.split()) == " ".join((theirs.citation or "").split())
    deviations = PARAMETER_DEVIATIONS.get((kind, name), {})
    for param, value in theirs.params.items():
        ours = getattr(cls(), param)
        if param in deviations:
            assert (ours, value) == pytest.approx(deviations[param])
        else:
            np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(value, float))


def test_namespaces_and_lookup(user_errors):
    assert flows.Lorenz is get("Lorenz").__class__
    assert maps.Duffing is get("Duffing", kind="map").__class__
    assert get("Duffing").__class__ is flows.Duffing  # the flow wins without a kind
    with pytest.raises(ValueError, match=r"get: name must be a name from jaxlab.systems.names"
                                         r"\(\), got 'Lorentz' \(did you mean Lorenz"):
        get("Lorentz")
    with pytest.raises(ValueError, match=r"names\('map'\), got 'Lorenz'"):
        get("Lorenz", kind="map")
    with pytest.raises(ValueError, match=r"get: params must be parameters of Lorenz, "
                                         r"\['beta', 'rho', 'sigma'\], got \['r'\]"):
        get("Lorenz", r=1.0)
    with pytest.raises(ValueError, match="names: kind must be one of None, 'flow', 'delay', "
                                         "'map', got 'delay-ish'"):
        names("delay-ish")
    with pytest.raises(TypeError, match="get: name must be a system name"):
        get(3)
    assert [kind_of(n) for n in ("Lorenz", "Duffing", "MackeyGlass", "Henon")] == [
        "flow", "flow", "delay", "map"]
    with pytest.raises(ValueError, match="kind_of: name must be a name from "):
        kind_of("Lorentz")


def test_parameters_are_differentiable_and_vmappable():
    rossler = get("Rossler")
    y = rossler.initial_state()
    grad = jax.grad(lambda c: get("Rossler", c=c).vector_field(0.0, y)[2])(5.7)
    np.testing.assert_allclose(float(grad), -float(y[2]), rtol=1e-6)  # d/dc [b + z(x − c)] = −z
    fields = jax.vmap(lambda a: get("Rossler", a=a).vector_field(0.0, y))(jnp.array([0.1, 0.2]))
    assert fields.shape == (2, 3)


@pytest.mark.parametrize(("kind", "name"), [("flow", n) for n in FLOWS]
                         + [("map", n) for n in MAPS] + [("delay", n) for n in names("delay")])
def test_default_instance_is_finite_at_its_initial_condition(kind, name):
    # The dysts comparison above passes dysts's parameters; this checks our own defaults.
    system = get(name, kind=kind)
    y = system.initial_state()
    if kind == "flow":
        out = system.vector_field(jnp.asarray(0.0), y)
    elif kind == "map":
        out = system.step(y)
    else:
        out = system.vector_field(jnp.asarray(0.0), y, y)
    assert out.shape == (system.dimension,)
    assert bool(jnp.all(jnp.isfinite(out)))


def test_blinking_vortex_map_is_differentiable(float64):
    from jaxlab.systems import lyapunov_spectrum

    system = maps.BlinkingVortexMap()
    res = lyapunov_spectrum(system, num_intervals=50, transient=10)
    assert bool(jnp.all(jnp.isfinite(res.exponents)))
    # The Kepler root's implicit derivative against central differences, in the state and
    # in a parameter (the blink time t).
    # (Jitted: run op by op, these few evaluations cost ~150 small compilations.)
    y = jnp.asarray(system.default_ic, jnp.float64)
    step = jax.jit(system.step)
    jac = jax.jit(jax.jacfwd(system.step))(y)
    eps = 1e-6
    fd = np.stack([(np.asarray(step(y + eps * e)) - np.asarray(step(y - eps * e)))
                   / (2 * eps) for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(np.asarray(jac), fd, rtol=1e-6, atol=1e-8)

    def step_at(t):
        return eqx.tree_at(lambda s: s.t, system, t).step(y)

    dt = jax.jit(jax.jacrev(step_at))(jnp.asarray(1.5))
    shifted = [np.asarray(jax.jit(step_at)(jnp.asarray(1.5 + h))) for h in (eps, -eps)]
    np.testing.assert_allclose(np.asarray(dt), (shifted[0] - shifted[1]) / (2 * eps), rtol=1e-6,
                               atol=1e-8)


def test_blinking_vortex_map_spectrum_sharded(float64):
    # Regression: the root-find must work under shard_map + vmap + linearize.
    from jaxlab.parallel import data_mesh, sharded_map
    from jaxlab.systems import lyapunov_spectrum

    system = maps.BlinkingVortexMap()
    y0s = jnp.asarray(system.default_ic, jnp.float64) * (1 + 1e-3 * jnp.arange(4.0)[:, None])

    def member(y):
        return lyapunov_spectrum(system, y, num_intervals=30, transient=5).exponents

    np.testing.assert_allclose(np.asarray(sharded_map(member, y0s, mesh=data_mesh())),
                               np.asarray(jax.vmap(member)(y0s)), rtol=1e-8)
