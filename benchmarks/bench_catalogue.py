"""jaxlab.systems catalogue against dysts: 1000-point trajectories of every system, cold and
warm, and ensembles of 1024 initial conditions (float64, dysts's tolerances).

(a) Every system of the catalogue (129 flows + 6 delay systems, dysts's 135 continuous
systems), one 1000-point trajectory each at 100 points per dominant period, as
`make_trajectory(1000, resample=True, pts_per_period=100)` makes it. jaxlab runs in two fresh
subprocesses sharing one persistent compilation cache: *cold* (an empty cache, so every
system is traced and compiled) and *warm* (the cache filled by the cold run: traced again,
but the XLA executables are loaded from disk). dysts (Radau, rtol = atol = 1e-12, its
defaults) takes about 12 minutes for all 135 systems here, so it runs on a fixed subset
(`DYSTS_SUBSET`) and its total is extrapolated: median per system × 135.

(b) Ensembles: 1024 initial conditions (the default one times 1 + 1e-3·N(0, 1)) of Lorenz,
Rössler and MackeyGlass, 1000 points each, `sharded_map` over the CPU devices, compiled
first; dysts integrates `DYSTS_SAMPLE` of the same initial conditions one after the other.
Reported as trajectories per second.
"""

import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxlab.systems as S
from jaxlab.parallel import data_mesh, sharded_map

from ._timing import compile_time

jax.config.update("jax_enable_x64", True)

N, PTS_PER_PERIOD = 1000, 100
RTOL = ATOL = 1e-12  # dysts's make_trajectory defaults (Radau)
ROOT = Path(__file__).resolve().parents[1]
FLOWS, DELAYS = S.names("flow"), S.names("delay")
NUM_CONTINUOUS = len(FLOWS) + len(DELAYS)  # 135, as in dysts
# Every 8th flow (alphabetical) and one delay system: 17 + 1 systems.
DYSTS_SUBSET = (*FLOWS[::8], "MackeyGlass")
ENSEMBLE, DYSTS_SAMPLE = 1024, 4
WORKER_TIMEOUT_S = 900

# One fresh interpreter: import jax and jaxlab, then make every trajectory in turn (float64,
# throw=False), timing each. Delay systems skip their first delay as dysts does (it
# integrates [0, τ + span] and keeps the last span). With `repeat`, a second pass times the
# already compiled functions.
_WORKER = r"""
import json, sys, time
start = time.perf_counter()
cache, out, n, ppp, rtol, atol, repeat = sys.argv[1:8]
n, ppp, rtol, atol, repeat = int(n), int(ppp), float(rtol), float(atol), repeat == "1"
import jax
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_compilation_cache_dir", cache)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
import jax.numpy as jnp
import jaxlab.systems as S
imported = time.perf_counter()

def make(name, kind):
    system = S.get(name, kind=kind)
    y0 = system.initial_state(jnp.float64)
    if kind == "flow":
        return S.trajectory(system, n, pts_per_period=ppp, y0=y0, rtol=rtol, atol=atol,
                            throw=False)
    return S.trajectory(system, n, pts_per_period=ppp, y0=y0,
                        transient=system.tau / system.period, throw=False)

rows = {}
for kind in ("flow", "delay"):
    for name in S.names(kind):
        t = time.perf_counter()
        try:
            tr = jax.block_until_ready(make(name, kind))
            ok = bool(tr.converged) and bool(jnp.all(jnp.isfinite(tr.ys)))
            rows[name] = {"kind": kind, "s": time.perf_counter() - t, "ok": ok,
                          "steps": int(tr.num_steps), "error": None}
        except Exception as exc:  # recorded as a failure, the loop goes on
            rows[name] = {"kind": kind, "s": time.perf_counter() - t, "ok": False,
                          "steps": 0, "error": repr(exc)[:300]}
done = time.perf_counter()
if repeat:
    for name, row in rows.items():
        if row["error"] is None:
            t = time.perf_counter()
            jax.block_until_ready(make(name, row["kind"]))
            row["again_s"] = time.perf_counter() - t
json.dump({"import_s": imported - start, "loop_s": done - imported, "systems": rows},
          open(out, "w"))
"""


def _run_worker(cache: Path, out: Path, *, repeat: bool) -> dict:
    """Run `_WORKER` in a fresh interpreter; add its wall time (start-up included)."""
    args = [sys.executable, "-c", _WORKER, str(cache), str(out), str(N), str(PTS_PER_PERIOD),
            repr(RTOL), repr(ATOL), "1" if repeat else "0"]
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                          timeout=WORKER_TIMEOUT_S)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"worker failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(out.read_text())
    result["wall_s"] = wall
    return result


def _dysts_system(name: str):
    import dysts.flows

    return getattr(dysts.flows, name)()


def _dysts_trajectory(name: str, init_cond=None):
    """`make_trajectory` with dysts's defaults (Radau, rtol = atol = 1e-12 for flows)."""
    system = _dysts_system(name)
    kwargs = {} if init_cond is None else {"init_cond": np.asarray(init_cond)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return system.make_trajectory(N, resample=True, pts_per_period=PTS_PER_PERIOD,
                                      **kwargs)


def _timed_dysts(name: str, init_cond=None):
    start = time.perf_counter()
    try:
        ys = _dysts_trajectory(name, init_cond)
    except Exception:
        ys = None
    return time.perf_counter() - start, ys


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def test_catalogue_cold_warm_vs_dysts(benchmark):
    load_before = _load()
    with tempfile.TemporaryDirectory(prefix="jaxlab-cache-") as tmp:
        tmp = Path(tmp)
        cache = tmp / "cache"
        cache.mkdir()
        cold = _run_worker(cache, tmp / "cold.json", repeat=False)
        cache_files = sum(1 for p in cache.rglob("*") if p.is_file())
        cache_mb = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) / 2**20
        runs = {}
        benchmark.pedantic(
            lambda: runs.setdefault("warm", _run_worker(cache, tmp / "warm.json", repeat=True)),
            rounds=1, iterations=1)
        warm = runs["warm"]

    dysts_s, dysts_ok = {}, {}
    for name in DYSTS_SUBSET:
        seconds, ys = _timed_dysts(name)
        dysts_s[name] = seconds
        dysts_ok[name] = ys is not None and bool(np.all(np.isfinite(ys)))
    load_after = _load()

    cold_sys, warm_sys = cold["systems"], warm["systems"]
    failed = sorted(n for n, r in cold_sys.items() if not r["ok"])
    errors = {n: r["error"] for n, r in cold_sys.items() if r["error"]}
    both_ok = [n for n in DYSTS_SUBSET if dysts_ok[n] and cold_sys[n]["ok"]]
    median = statistics.median(dysts_s.values())
    subset = {
        "dysts_s": sum(dysts_s[n] for n in both_ok),
        "jaxlab_cold_s": sum(cold_sys[n]["s"] for n in both_ok),
        "jaxlab_warm_s": sum(warm_sys[n]["s"] for n in both_ok),
        "jaxlab_compiled_s": sum(warm_sys[n].get("again_s", math.nan) for n in both_ok),
    }
    extrapolated = median * NUM_CONTINUOUS
    compiled_total = sum(r.get("again_s", 0.0) for r in warm_sys.values())
    benchmark.extra_info.update({
        "systems": len(cold_sys), "failed": failed, "errors": errors,
        "rtol": RTOL, "atol": ATOL,
        "cold_wall_s": cold["wall_s"], "cold_import_s": cold["import_s"],
        "cold_loop_s": cold["loop_s"],
        "warm_wall_s": warm["wall_s"], "warm_import_s": warm["import_s"],
        "warm_loop_s": warm["loop_s"], "compiled_loop_s": compiled_total,
        "cache_files": cache_files, "cache_mib": cache_mb,
        "dysts_subset": list(DYSTS_SUBSET), "dysts_subset_ok": dysts_ok,
        "dysts_per_system_s": dysts_s, "dysts_median_s": median,
        "dysts_extrapolated_total_s": extrapolated,
        "subset_compared": both_ok, **{f"subset_{k}": v for k, v in subset.items()},
        "speedup_cold_vs_dysts_extrapolated": extrapolated / cold["wall_s"],
        "speedup_warm_vs_dysts_extrapolated": extrapolated / warm["wall_s"],
        "speedup_cold_vs_dysts_subset": subset["dysts_s"] / subset["jaxlab_cold_s"],
        "speedup_warm_vs_dysts_subset": subset["dysts_s"] / subset["jaxlab_warm_s"],
        "jaxlab_cold_per_system_s": {n: r["s"] for n, r in cold_sys.items()},
        "jaxlab_warm_per_system_s": {n: r["s"] for n, r in warm_sys.items()},
        "jaxlab_compiled_per_system_s": {n: r.get("again_s") for n, r in warm_sys.items()},
        "load_before": load_before, "load_after": load_after,
    })
    print(f"\n{benchmark.name}: {len(cold_sys)} systems, failed {failed or 'none'}"
          f"\n  jaxlab cold {cold['wall_s']:.1f} s (import {cold['import_s']:.1f} s), warm "
          f"{warm['wall_s']:.1f} s (import {warm['import_s']:.1f} s), already compiled "
          f"{compiled_total:.2f} s; cache {cache_files} files, {cache_mb:.0f} MiB"
          f"\n  dysts subset ({len(DYSTS_SUBSET)} systems): median {median:.2f} s/system, "
          f"sum {subset['dysts_s']:.1f} s vs jaxlab cold {subset['jaxlab_cold_s']:.1f} s / "
          f"warm {subset['jaxlab_warm_s']:.1f} s / compiled {subset['jaxlab_compiled_s']:.2f} s"
          f"\n  dysts extrapolated to {NUM_CONTINUOUS} systems: {extrapolated:.0f} s -> cold "
          f"{extrapolated / cold['wall_s']:.2f}x, warm {extrapolated / warm['wall_s']:.2f}x"
          f"\n  load {load_before} -> {load_after}")
    assert not errors, errors


def _ensemble_ics(system) -> np.ndarray:
    ic = np.asarray(system.default_ic, np.float64)
    noise = np.random.default_rng(0).standard_normal((ENSEMBLE, ic.size))
    return ic * (1.0 + 1e-3 * noise)


def _delay_grid(system):
    """dysts's delay grid: `ddeint` on linspace(0, τ + span, n), whose spacing is its step
    (VODE between grid points, the delayed value linear between them); it keeps
    linspace(τ, τ + span, n)."""
    span = system.period * N / PTS_PER_PERIOD
    step = (system.tau + span) / (N - 1)
    return np.linspace(system.tau, system.tau + span, N), step


@pytest.mark.parametrize("name", ["Lorenz", "Rossler", "MackeyGlass"])
def test_ensemble_vs_dysts(benchmark, name):
    system = S.get(name)
    y0s = jnp.asarray(_ensemble_ics(system))
    delay = isinstance(system, S.AbstractDelay)
    extra = {}
    if delay:
        ts, step = _delay_grid(system)

        def member(y, dt=step):
            tr = S.integrate_delay(system, y, ts, dt=dt, throw=False)
            return tr.ys, tr.converged

        extra.update(delay_step=step, jaxlab_default_dt=system.dt,
                     note="dysts: ddeint (VODE between output points, delayed value "
                          "linear between them, step = output spacing); jaxlab: RK4, "
                          "h = tau/ceil(tau/step)")
    else:

        def member(y):
            tr = S.trajectory(system, N, pts_per_period=PTS_PER_PERIOD, y0=y, rtol=RTOL,
                              atol=ATOL, throw=False)
            return tr.ys, tr.converged

    mesh = data_mesh()
    fn = jax.jit(lambda y: sharded_map(member, y, mesh=mesh))
    compile_s = compile_time(fn, y0s)
    out = benchmark.pedantic(lambda: jax.block_until_ready(fn(y0s)), rounds=3)
    ours = benchmark.stats.stats.min
    ys, converged = (np.asarray(x) for x in out)
    failed_members = int(np.sum(~converged | ~np.all(np.isfinite(ys), axis=(1, 2))))

    peer, peer_ys = [], []
    for y in np.asarray(y0s[:DYSTS_SAMPLE]):
        seconds, traj = _timed_dysts(name, y)
        peer.append(seconds)
        peer_ys.append(traj)
    peer_s = statistics.median(peer)
    ours_tps, peer_tps = ENSEMBLE / ours, 1.0 / peer_s
    first = np.asarray(peer_ys[0]).reshape(N, -1)[:, : system.dimension]
    extra["max_abs_diff_vs_dysts_first_ic"] = float(np.max(np.abs(first - ys[0])))
    if delay:
        # Both fixed-step solutions against jaxlab at its default step (63x finer here).
        fine_fn = jax.jit(lambda y: sharded_map(lambda v: member(v, dt=system.dt), y, mesh=mesh))
        extra["default_dt_compile_s"] = compile_time(fine_fn, y0s)
        start = time.perf_counter()
        fine, _ = jax.block_until_ready(fine_fn(y0s))
        extra["default_dt_s"] = time.perf_counter() - start
        extra["default_dt_traj_per_s"] = ENSEMBLE / extra["default_dt_s"]
        fine = np.asarray(fine)
        extra["max_abs_err_jaxlab_matched_step"] = float(np.max(np.abs(ys[0] - fine[0])))
        extra["max_abs_err_dysts"] = float(np.max(np.abs(first - fine[0])))
    benchmark.extra_info.update({
        "peer": f"dysts make_trajectory ({DYSTS_SAMPLE} ICs, one at a time)",
        "members": ENSEMBLE, "devices": mesh.size, "rtol": RTOL, "atol": ATOL,
        "jaxlab_s": ours, "compile_s": compile_s, "jaxlab_traj_per_s": ours_tps,
        "dysts_per_traj_s": peer, "dysts_median_s": peer_s, "dysts_traj_per_s": peer_tps,
        "speedup_vs_peer": ours_tps / peer_tps, "failed_members": failed_members,
        "load": _load(), **extra,
    })
    print(f"\n{benchmark.name}: jaxlab {ENSEMBLE} ICs in {ours:.2f} s = {ours_tps:.0f} traj/s "
          f"(compile {compile_s:.1f} s, {failed_members} failed), dysts {peer_s:.2f} s/traj = "
          f"{peer_tps:.2f} traj/s, ratio {ours_tps / peer_tps:.0f}x; "
          + ", ".join(f"{k} {v:.3g}" for k, v in extra.items() if isinstance(v, float))
          + f"; load {_load()}")
    assert failed_members == 0
