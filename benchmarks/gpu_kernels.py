"""GPU check and benchmark of the Pallas kernels of `jaxlab.kernels`.

On a GPU (or TPU):

1. **Correctness**: every Pallas kernel (selective scan, SSD, attention — forward and
   backward) against the pure-jnp reference, float32, on shapes that are not multiples of
   any block, with grouped B/C, D, z, biases, GQA, causal; max error relative to the largest
   reference entry, against mamba-ssm's / JAX's tolerances.
2. **Copy bandwidth** of the card: `x + 1` on a 1 GiB array (read + write).
3. **Scans**: selective scan (batch 4, dim 1536, N 16) and SSD (batch 4, 24 heads × 64,
   N 128), bf16 inputs, L ∈ {1k, 4k, 16k}: time of `impl="pallas"` forward and
   forward+backward, and the achieved bandwidth of the forward pass: bytes the op must move
   (inputs read once, output and chunk checkpoints written once) / time, as a fraction of the
   copy bandwidth.
4. **Attention**: FlashAttention protocol (16k tokens per batch, hidden 2048, heads
   2048 / head_dim), bf16, L ∈ {1k, 4k, 16k}, head_dim ∈ {64, 128}, causal and not:
   TFLOP/s of `impl="pallas"` and of `jax.nn.dot_product_attention(implementation="cudnn")`
   (falling back to `"xla"` where cuDNN refuses), forward (4·B·S²·H·D, halved if causal) and
   forward+backward (3.5× forward).

It prints a table and writes JSON (`--out`, default `gpu_kernels.json`). `--smoke` runs the
same code on tiny sizes in interpret mode on CPU (the test suite does this); its timings mean
nothing.

Usage: `python -m benchmarks.gpu_kernels [--smoke] [--out FILE]`.
"""

import argparse
import json
import math
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxlab.kernels import _compat, attention, selective_scan, ssd_scan

# Tolerances (max error / max |reference|), float32: mamba-ssm's fp32 rtol for the scans, the
# Pallas Triton attention tests' fp32 level for attention. Gradients get 10×.
TOLERANCE = {"selective_scan": 6e-4, "ssd_scan": 1e-3, "attention": 1e-3}


def _time(fn, *args, repeat=10):
    """Median seconds of `repeat` calls after one warm-up call."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _rel_err(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))


# ----------------------------------------------------------------------------- inputs


def scan_inputs(key, batch, length, dim, n, groups, dtype):
    k = jax.random.split(key, 8)
    bshape = (batch, length, groups, n)
    return {"u": jax.random.normal(k[0], (batch, length, dim), dtype),
            "delta": (0.5 * jax.random.uniform(k[1], (batch, length, dim)) - 2).astype(dtype),
            "A": -0.5 * jax.random.uniform(k[2], (dim, n), jnp.float32) - 0.1,
            "B": jax.random.normal(k[3], bshape, dtype),
            "C": jax.random.normal(k[4], bshape, dtype),
            "D": jax.random.normal(k[5], (dim,), jnp.float32),
            "z": jax.random.normal(k[6], (batch, length, dim), dtype),
            "delta_bias": 0.1 * jax.random.normal(k[7], (dim,), jnp.float32)}


def ssd_inputs(key, batch, length, heads, head_dim, n, groups, dtype):
    k = jax.random.split(key, 7)
    bshape = (batch, length, groups, n)
    return {"x": jax.random.normal(k[0], (batch, length, heads, head_dim), dtype),
            "dt": (jax.random.normal(k[1], (batch, length, heads)) - 2).astype(dtype),
            "A": -jax.random.uniform(k[2], (heads,), jnp.float32, 1.0, 16.0),
            "B": jax.random.normal(k[3], bshape, dtype),
            "C": jax.random.normal(k[4], bshape, dtype),
            "D": jax.random.normal(k[5], (heads,), jnp.float32),
            "dt_bias": 0.1 * jax.random.normal(k[6], (heads,), jnp.float32)}


def attention_inputs(key, batch, length, heads, kv_heads, head_dim, dtype):
    k = jax.random.split(key, 3)
    return {"q": jax.random.normal(k[0], (batch, length, heads, head_dim), dtype),
            "k": jax.random.normal(k[1], (batch, length, kv_heads, head_dim), dtype),
            "v": jax.random.normal(k[2], (batch, length, kv_heads, head_dim), dtype)}


def op_fn(op, impl, mode, **static):
    """Jitted forward, or gradient of the sum w.r.t. every input, of one op."""
    if op == "selective_scan":
        def fwd(u, delta, A, B, C, D, z, delta_bias):
            return selective_scan(u, delta, A, B, C, D, z, delta_bias, delta_softplus=True,
                                  impl=impl)
    elif op == "ssd_scan":
        def fwd(x, dt, A, B, C, D, dt_bias):
            return ssd_scan(x, dt, A, B, C, D, dt_bias=dt_bias, dt_softplus=True, impl=impl)
    else:
        def fwd(q, k, v):
            return attention(q, k, v, impl=impl, **static)
    if mode == "forward":
        return jax.jit(fwd)

    def loss(*args):
        return jnp.sum(fwd(*args).astype(jnp.float32))

    return jax.jit(jax.grad(loss, argnums=tuple(range(fwd.__code__.co_argcount))))


# ----------------------------------------------------------------------------- 1. correctness


def check_correctness(smoke):
    rows = []
    key = jax.random.key(0)
    length = 21 if smoke else 1000
    cases = [
        ("selective_scan", {}, scan_inputs(key, 2, length, 8 if smoke else 256,
                                           4 if smoke else 16, 2, jnp.float32)),
        ("ssd_scan", {}, ssd_inputs(key, 2, length, 4 if smoke else 8, 4 if smoke else 64,
                                    4 if smoke else 64, 2, jnp.float32)),
        ("attention", {"causal": True}, attention_inputs(key, 2, length, 4, 2,
                                                         8 if smoke else 64, jnp.float32)),
    ]
    if not smoke:   # on CPU (interpreted) the causal case above covers the kernels
        cases.append(("attention", {"causal": False},
                      attention_inputs(key, 1, length + 3, 2, 1, 128, jnp.float32)))
    for op, static, inputs in cases:
        args = list(inputs.values())
        for mode in ("forward", "forward+backward"):
            got = op_fn(op, "pallas", mode, **static)(*args)
            want = op_fn(op, "reference", mode, **static)(*args)
            err = max(_rel_err(g, w) for g, w in zip(jax.tree.leaves(got),
                                                     jax.tree.leaves(want), strict=True))
            tol = TOLERANCE[op] * (1 if mode == "forward" else 10)
            rows.append({"op": op, "config": str(static) if static else "", "mode": mode,
                         "L": int(args[0].shape[1]), "max_rel_err": err, "tolerance": tol,
                         "ok": err <= tol})
    return rows


# ----------------------------------------------------------------------------- 2. bandwidth


def copy_bandwidth(smoke):
    """Bytes per second of `x + 1` on a large float32 array (read + write)."""
    n = (1 << 20) if smoke else (1 << 28)              # 4 MiB or 1 GiB
    x = jnp.zeros((n,), jnp.float32)
    seconds = _time(jax.jit(lambda x: x + 1), x, repeat=3 if smoke else 20)
    return 2 * 4 * n / seconds


# ----------------------------------------------------------------------------- 3. scans


def scan_rows(smoke, copy_bw):
    rows = []
    lengths = (40,) if smoke else (1024, 4096, 16384)
    dtype = jnp.bfloat16
    item = jnp.dtype(dtype).itemsize
    for length in lengths:
        if smoke:
            sel = scan_inputs(jax.random.key(1), 1, length, 8, 4, 1, dtype)
            ssd = ssd_inputs(jax.random.key(2), 1, length, 2, 4, 4, 1, dtype)
        else:
            sel = scan_inputs(jax.random.key(1), 4, length, 1536, 16, 1, dtype)
            ssd = ssd_inputs(jax.random.key(2), 4, length, 24, 64, 128, 1, dtype)
        b, _, dim = sel["u"].shape
        n = sel["A"].shape[1]
        # u, delta, z, B, C read; y written; float32 chunk-start states (every 8 steps).
        sel_bytes = (item * b * length * (4 * dim + 2 * n)
                     + 4 * b * math.ceil(length / 8) * dim * n)
        _, _, heads, p = ssd["x"].shape
        n2 = ssd["B"].shape[-1]
        chunk = 64
        ssd_bytes = (item * b * length * (2 * heads * p + heads + 2 * n2)
                     + 4 * b * heads * math.ceil(length / chunk) * p * n2)
        for op, inputs, nbytes in [("selective_scan", sel, sel_bytes),
                                   ("ssd_scan", ssd, ssd_bytes)]:
            args = list(inputs.values())
            fwd = _time(op_fn(op, "pallas", "forward"), *args, repeat=3 if smoke else 10)
            both = _time(op_fn(op, "pallas", "forward+backward"), *args,
                         repeat=2 if smoke else 5)
            rows.append({"op": op, "L": length, "shape": {k: list(v.shape)
                                                          for k, v in inputs.items()},
                         "forward_s": fwd, "forward_backward_s": both,
                         "bytes": nbytes, "bandwidth_GBps": nbytes / fwd / 1e9,
                         "fraction_of_copy": nbytes / fwd / copy_bw})
    return rows


# ----------------------------------------------------------------------------- 4. attention


def attention_flops(batch, length, heads, head_dim, causal, mode):
    fwd = 4 * batch * length**2 * heads * head_dim / (2 if causal else 1)
    return fwd * (1 if mode == "forward" else 3.5)


def attention_rows(smoke):
    rows = []
    lengths = (32,) if smoke else (1024, 4096, 16384)
    head_dims = (8,) if smoke else (64, 128)
    tokens, hidden = (64, 16) if smoke else (16384, 2048)
    for length in lengths:
        for d in head_dims:
            batch, heads = max(tokens // length, 1), hidden // d
            inputs = attention_inputs(jax.random.key(3), batch, length, heads, heads, d,
                                      jnp.bfloat16)
            args = list(inputs.values())
            for causal in (True,) if smoke else (False, True):
                for mode in ("forward", "forward+backward"):
                    flops = attention_flops(batch, length, heads, d, causal, mode)
                    row = {"L": length, "head_dim": d, "batch": batch, "heads": heads,
                           "causal": causal, "mode": mode, "flops": flops}
                    ours = _time(op_fn("attention", "pallas", mode, causal=causal), *args,
                                 repeat=2 if smoke else 10)
                    row.update(pallas_s=ours, pallas_TFLOPs=flops / ours / 1e12)
                    row.update(_peer_attention(args, causal, mode, flops, smoke))
                    rows.append(row)
    return rows


def _peer_attention(args, causal, mode, flops, smoke):
    """jax.nn.dot_product_attention with cuDNN where it is available, else XLA."""
    for implementation in ("cudnn", "xla"):
        def fwd(q, k, v, implementation=implementation):
            return jax.nn.dot_product_attention(q, k, v, is_causal=causal,
                                                implementation=implementation)
        fn = jax.jit(fwd if mode == "forward" else jax.grad(
            lambda *a, f=fwd: jnp.sum(f(*a).astype(jnp.float32)), argnums=(0, 1, 2)))
        try:
            seconds = _time(fn, *args, repeat=2 if smoke else 10)
        except Exception as error:  # cuDNN refuses a shape, dtype or platform
            last = f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
            continue
        return {"peer": f"jax.nn.dot_product_attention({implementation})", "peer_s": seconds,
                "peer_TFLOPs": flops / seconds / 1e12}
    return {"peer": "none", "peer_error": last}


# ----------------------------------------------------------------------------- report


def _table(title, header, rows):
    lines = [f"\n{title}", "| " + " | ".join(header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def report(result):
    out = [f"device: {result['device']} ({result['platform']}, interpret={result['interpret']})"
           f", jax {result['jax']}", f"copy bandwidth: {result['copy_GBps']:.1f} GB/s"]
    out.append(_table("correctness (max error / max |reference|)",
                      ["op", "config", "L", "pass", "error", "tolerance", "ok"],
                      [[r["op"], r["config"], r["L"], r["mode"], f"{r['max_rel_err']:.1e}",
                        f"{r['tolerance']:.0e}", "yes" if r["ok"] else "NO"]
                       for r in result["correctness"]]))
    out.append(_table("scans, bf16, impl='pallas'",
                      ["op", "L", "forward", "fwd+bwd", "GB/s (forward)", "of copy"],
                      [[r["op"], r["L"], f"{r['forward_s'] * 1e3:.3g} ms",
                        f"{r['forward_backward_s'] * 1e3:.3g} ms",
                        f"{r['bandwidth_GBps']:.1f}", f"{r['fraction_of_copy']:.0%}"]
                       for r in result["scans"]]))
    out.append(_table("attention, bf16 (FlashAttention protocol), TFLOP/s",
                      ["L", "head_dim", "causal", "pass", "pallas", "peer", "peer TFLOP/s",
                       "pallas / peer"],
                      [[r["L"], r["head_dim"], r["causal"], r["mode"],
                        f"{r['pallas_TFLOPs']:.3g}", r["peer"],
                        f"{r['peer_TFLOPs']:.3g}" if "peer_TFLOPs" in r else "—",
                        f"{r['pallas_TFLOPs'] / r['peer_TFLOPs']:.2f}"
                        if "peer_TFLOPs" in r else "—"]
                       for r in result["attention"]]))
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes; on CPU the kernels run interpreted")
    parser.add_argument("--out", default="gpu_kernels.json", help="JSON output file")
    args = parser.parse_args(argv)
    if not args.smoke and _compat.interpret_mode():
        parser.error("no GPU/TPU: the kernels would run interpreted; use --smoke")
    device = jax.devices()[0]
    copy_bw = copy_bandwidth(args.smoke)
    result = {"device": device.device_kind, "platform": device.platform, "jax": jax.__version__,
              "interpret": _compat.interpret_mode(), "smoke": args.smoke,
              "copy_GBps": copy_bw / 1e9, "correctness": check_correctness(args.smoke)}
    result["scans"] = scan_rows(args.smoke, copy_bw)
    result["attention"] = attention_rows(args.smoke)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(report(result))
    return 0 if all(r["ok"] for r in result["correctness"]) else 1


if __name__ == "__main__":
    sys.exit(main())
