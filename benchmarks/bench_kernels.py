"""jaxlab.kernels on CPU against PyTorch 2.13 (CPU), float32, same data, same run.

Every XLA implementation of each op is timed, forward and forward+backward (gradients with
respect to every input), at L ∈ {512, 2048, 8192}, against the PyTorch equivalent a user
would write or call:

1. **Selective scan** (Mamba-1; batch 1, dim 256, N 16, with D, z, delta_bias and softplus)
   vs a straightforward PyTorch loop in the layout and structure of mamba-ssm's
   `selective_scan_ref`: `exp(δA)` and `δ u B` materialised for all steps, then one loop
   iteration per step (autograd through the loop for the backward pass; per-step views taken
   with `unbind`, since mamba-ssm's indexing makes the backward pass quadratic in L).
2. **SSD** (Mamba-2; batch 1, 8 heads × 32, N 64, with D, dt_bias, softplus) vs the same
   kind of PyTorch step loop on the recurrence.
3. **Causal attention** (batch 1, 8 heads × 64) vs
   `torch.nn.functional.scaled_dot_product_attention(is_causal=True)` (PyTorch's fused CPU
   flash kernel). The materialising implementations ("reference", "xla") are not run at
   L = 8192 with the backward pass (≈ 10 GB of logits and their gradients).

The Pallas implementations are not timed on CPU (they run interpreted there; see
`benchmarks/gpu_kernels.py` for GPU). `extra_info` holds the peer time, the ratio
peer / jaxlab (> 1: jaxlab faster), the compile time, whether the row is what `impl="auto"`
picks on CPU, and the load average. Outputs are checked against PyTorch's (forward; rtol
1e-4 of the largest entry). `python -m benchmarks.bench_kernels results.json` prints the
markdown table from a `--benchmark-json` file.
"""

import functools
import json
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.kernels import _dispatch, attention, selective_scan, ssd_scan

from ._timing import best_of, compile_time, record

LENGTHS = (512, 2048, 8192)
MODES = ("forward", "forward+backward")
SCAN_IMPLS = ("reference", "scan", "associative", "chunked")
SSD_IMPLS = ("reference", "scan", "chunked")
ATTENTION_IMPLS = ("reference", "xla", "flash")
DIM, STATE = 256, 16                              # selective scan
HEADS, HEAD_DIM, SSD_STATE = 8, 32, 64            # SSD
ATT_HEADS, ATT_DIM = 8, 64                        # attention


def _load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def _torch():
    import torch

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    return torch


def _rounds(length):
    return 2 if length >= 8192 else 3


# ----------------------------------------------------------------------------- inputs


@functools.cache
def scan_inputs(length):
    rng = np.random.default_rng(0)
    f = lambda *shape: rng.normal(size=shape).astype(np.float32)
    return {"u": f(1, length, DIM), "delta": 0.5 * rng.uniform(size=(1, length, DIM)).astype(
        np.float32) - 2.0, "A": -np.exp(f(DIM, STATE) * 0.5), "B": f(1, length, STATE),
        "C": f(1, length, STATE), "D": f(DIM), "z": f(1, length, DIM),
        "delta_bias": f(DIM) * 0.1}


@functools.cache
def ssd_inputs(length):
    rng = np.random.default_rng(1)
    f = lambda *shape: rng.normal(size=shape).astype(np.float32)
    return {"x": f(1, length, HEADS, HEAD_DIM), "dt": f(1, length, HEADS) - 2.0,
            "A": -np.exp(f(HEADS) * 0.5), "B": f(1, length, SSD_STATE),
            "C": f(1, length, SSD_STATE), "D": f(HEADS), "dt_bias": f(HEADS) * 0.1}


@functools.cache
def attention_inputs(length):
    rng = np.random.default_rng(2)
    return {k: rng.normal(size=(1, length, ATT_HEADS, ATT_DIM)).astype(np.float32)
            for k in "qkv"}


# ----------------------------------------------------------------------------- jaxlab sides


def jax_selective_scan(impl, mode):
    def fwd(u, delta, A, B, C, D, z, delta_bias):
        return selective_scan(u, delta, A, B, C, D, z, delta_bias, delta_softplus=True,
                              impl=impl)

    if mode == "forward":
        return jax.jit(fwd)
    return jax.jit(jax.grad(lambda *a: jnp.sum(fwd(*a)), argnums=tuple(range(8))))


def jax_ssd(impl, mode):
    def fwd(x, dt, A, B, C, D, dt_bias):
        return ssd_scan(x, dt, A, B, C, D, dt_bias=dt_bias, dt_softplus=True, impl=impl)

    if mode == "forward":
        return jax.jit(fwd)
    return jax.jit(jax.grad(lambda *a: jnp.sum(fwd(*a)), argnums=tuple(range(7))))


def jax_attention(impl, mode):
    def fwd(q, k, v):
        return attention(q, k, v, causal=True, impl=impl)

    if mode == "forward":
        return jax.jit(fwd)
    return jax.jit(jax.grad(lambda *a: jnp.sum(fwd(*a)), argnums=(0, 1, 2)))


# ----------------------------------------------------------------------------- PyTorch peers


def torch_selective_scan(u, delta, A, B, C, D, z, delta_bias):
    """mamba-ssm `selective_scan_ref` structure, layout (batch, dim, L), B/C (batch, N, L)."""
    torch = _torch()
    delta = torch.nn.functional.softplus(delta + delta_bias[..., None])
    delta_a = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    delta_b_u = torch.einsum("bdl,bnl,bdl->bdln", delta, B, u)
    x = u.new_zeros((u.shape[0], u.shape[1], A.shape[1]))
    ys = []
    # Per-step views by `unbind`: indexing `delta_a[:, :, i]` as mamba-ssm's reference does
    # makes autograd add a full-size gradient per step (quadratic in L: 81 s at L = 2048).
    for a_t, bu_t, c_t in zip(delta_a.unbind(2), delta_b_u.unbind(2), C.unbind(2),
                              strict=True):
        x = a_t * x + bu_t
        ys.append(torch.einsum("bdn,bn->bd", x, c_t))
    y = torch.stack(ys, dim=2) + u * D[:, None]
    return y * torch.nn.functional.silu(z)


def torch_ssd(x, dt, A, B, C, D, dt_bias):
    """The Mamba-2 recurrence, one step per iteration; x (b, L, H, P), dt (b, L, H)."""
    torch = _torch()
    dt = torch.nn.functional.softplus(dt + dt_bias)
    decay = torch.exp(dt * A)
    h = x.new_zeros((x.shape[0], x.shape[2], x.shape[3], B.shape[-1]))
    ys = []
    for a_t, d_t, x_t, b_t, c_t in zip(decay.unbind(1), dt.unbind(1), x.unbind(1),
                                       B.unbind(1), C.unbind(1), strict=True):
        h = a_t[:, :, None, None] * h + (d_t[:, :, None] * x_t)[..., None] * b_t[:, None, None]
        ys.append(torch.einsum("bhpn,bn->bhp", h, c_t))
    return torch.stack(ys, dim=1) + x * D[:, None]


def torch_attention(q, k, v):
    torch = _torch()
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)


def _torch_args(op, length):
    """The peer's inputs in its native layout (converted before timing)."""
    torch = _torch()
    t = lambda a: torch.tensor(np.ascontiguousarray(a))
    if op == "selective_scan":
        x = scan_inputs(length)
        return [t(x["u"].transpose(0, 2, 1)), t(x["delta"].transpose(0, 2, 1)), t(x["A"]),
                t(x["B"].transpose(0, 2, 1)), t(x["C"].transpose(0, 2, 1)), t(x["D"]),
                t(x["z"].transpose(0, 2, 1)), t(x["delta_bias"])]
    if op == "ssd_scan":
        x = ssd_inputs(length)
        return [t(x[k]) for k in ("x", "dt", "A", "B", "C", "D", "dt_bias")]
    x = attention_inputs(length)
    return [t(x[k].transpose(0, 2, 1, 3)) for k in "qkv"]


PEERS = {"selective_scan": ("PyTorch loop (selective_scan_ref structure)", torch_selective_scan),
         "ssd_scan": ("PyTorch step loop", torch_ssd),
         "attention": ("torch scaled_dot_product_attention (causal)", torch_attention)}


def _peer_output(op, out):
    """The peer's output in jaxlab's layout."""
    out = out.detach().numpy()
    if op == "selective_scan":
        return out.transpose(0, 2, 1)
    if op == "attention":
        return out.transpose(0, 2, 1, 3)
    return out


@functools.cache
def peer_time(op, length, mode):
    torch = _torch()
    fn = PEERS[op][1]
    args = _torch_args(op, length)
    if mode == "forward":
        with torch.no_grad():
            return best_of(lambda: fn(*args), repeat=_rounds(length))

    def fwd_bwd():
        leaves = [a.detach().requires_grad_() for a in args]
        fn(*leaves).sum().backward()
        return leaves[0].grad

    return best_of(fwd_bwd, repeat=_rounds(length))


@functools.cache
def peer_output(op, length):
    torch = _torch()
    with torch.no_grad():
        return _peer_output(op, PEERS[op][1](*_torch_args(op, length)))


# ----------------------------------------------------------------------------- benchmarks


def _cases(impls, skip=()):
    return [(impl, length, mode) for length in LENGTHS for mode in MODES for impl in impls
            if (impl, length, mode) not in skip]


def auto_impl(op, length):
    """What `impl="auto"` runs on CPU for this op and length."""
    xla_default = _dispatch.cpu_attention_impl(length, length) if op == "attention" else None
    return _dispatch.resolve_impl(op, "auto", (), xla_default=xla_default)


def _run(benchmark, op, build, inputs, impl, length, mode):
    fn = build(impl, mode)
    args = [jnp.asarray(a) for a in inputs.values()]
    compile_s = compile_time(fn, *args)
    out = benchmark.pedantic(lambda: jax.block_until_ready(fn(*args)), rounds=_rounds(length))
    max_rel_err = None
    if mode == "forward":
        want = peer_output(op, length)
        max_rel_err = float(np.abs(np.asarray(out) - want).max() / np.abs(want).max())
    auto = auto_impl(op, length)
    record(benchmark, peer_name=PEERS[op][0], peer_s=peer_time(op, length, mode),
           compile_s=compile_s, op=op, impl=impl, L=length, mode=mode, auto=(impl == auto),
           max_rel_err_vs_peer=max_rel_err, load=_load())
    if max_rel_err is not None:
        assert max_rel_err < 1e-4, max_rel_err


@pytest.mark.parametrize(("impl", "length", "mode"), _cases(SCAN_IMPLS))
def test_selective_scan(benchmark, impl, length, mode):
    _run(benchmark, "selective_scan", jax_selective_scan, scan_inputs(length), impl, length,
         mode)


@pytest.mark.parametrize(("impl", "length", "mode"), _cases(SSD_IMPLS))
def test_ssd_scan(benchmark, impl, length, mode):
    _run(benchmark, "ssd_scan", jax_ssd, ssd_inputs(length), impl, length, mode)


@pytest.mark.parametrize(("impl", "length", "mode"), _cases(
    ATTENTION_IMPLS, skip={("reference", 8192, "forward+backward"),
                           ("xla", 8192, "forward+backward")}))
def test_attention(benchmark, impl, length, mode):
    _run(benchmark, "attention", jax_attention, attention_inputs(length), impl, length, mode)


# ----------------------------------------------------------------------------- table


def _ms(s):
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def markdown_table(path):
    """Markdown rows (op, L, mode, each impl's time, peer, auto/peer ratio) from a JSON run."""
    rows = {}
    for b in json.load(open(path))["benchmarks"]:
        e = b["extra_info"]
        key = (e["op"], e["L"], e["mode"])
        rows.setdefault(key, {"peer": e["peer_s"], "peer_name": e["peer"]})
        rows[key][e["impl"]] = (e["jaxlab_s"], e["compile_s"],
                                 e["impl"] == auto_impl(e["op"], e["L"]))
    lines = []
    for op, impls in [("selective_scan", SCAN_IMPLS), ("ssd_scan", SSD_IMPLS),
                      ("attention", ATTENTION_IMPLS)]:
        keys = sorted(k for k in rows if k[0] == op)
        if not keys:
            continue
        lines += [f"\n**{op}** vs {rows[keys[0]]['peer_name']}\n",
                  "| L | pass | " + " | ".join(f"`{i}`" for i in impls)
                  + " | PyTorch | speed-up of `auto` vs PyTorch |",
                  "|---|---|" + "---|" * len(impls) + "---|---|"]
        for key in sorted(keys, key=lambda k: (k[1], MODES.index(k[2]))):
            r = rows[key]
            cells, auto_s = [], None
            for impl in impls:
                if impl not in r:
                    cells.append("—")
                    continue
                t, _, is_auto = r[impl]
                cells.append(f"**{_ms(t)}**" if is_auto else _ms(t))
                auto_s = t if is_auto else auto_s
            ratio = f"{r['peer'] / auto_s:.2f}×" if auto_s else "—"
            lines.append(f"| {key[1]} | {key[2]} | " + " | ".join(cells)
                         + f" | {_ms(r['peer'])} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table(sys.argv[1]))
