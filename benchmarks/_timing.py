"""Timing helpers shared by the benchmark files: compile first, then time steady state."""

import time

import jax


def compile_time(fn, *args) -> float:
    """Seconds of the first call (trace + compile + one run)."""
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def best_of(fn, *args, repeat: int = 3) -> float:
    """The fastest of `repeat` calls, in seconds (for the peer side)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - start)
    return best


def record(benchmark, *, peer_name: str, peer_s: float, compile_s: float, **extra) -> None:
    """Store the peer's time and the ratio peer / jaxlab (> 1: jaxlab is faster)."""
    ours = benchmark.stats.stats.min
    benchmark.extra_info.update({
        "peer": peer_name, "peer_s": peer_s, "jaxlab_s": ours, "compile_s": compile_s,
        "speedup_vs_peer": peer_s / ours, **extra,
    })
    print(f"\n{benchmark.name}: jaxlab {ours * 1e3:.2f} ms, {peer_name} {peer_s * 1e3:.2f} ms, "
          f"speed-up {peer_s / ours:.2f}x (compile {compile_s:.2f} s)")
