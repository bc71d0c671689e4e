"""benchmarks/gpu_kernels.py: its accounting and report by default; the whole script in
interpret mode on CPU (`--smoke`, about a minute of interpreted kernels) in `make test-all`."""

import json

import pytest

from benchmarks import gpu_kernels


def test_flop_accounting_and_refusal_without_accelerator(tmp_path):
    # FlashAttention protocol: forward 4·B·S²·H·D, halved when causal; fwd+bwd 3.5× forward.
    assert gpu_kernels.attention_flops(8, 2048, 16, 128, False, "forward") == 4 * 8 * 2048**2 * \
        16 * 128
    assert gpu_kernels.attention_flops(8, 2048, 16, 128, True, "forward+backward") == \
        3.5 * 2 * 8 * 2048**2 * 16 * 128
    with pytest.raises(SystemExit):   # on CPU only --smoke runs
        gpu_kernels.main(["--out", str(tmp_path / "x.json")])


def test_report_renders_every_section():
    result = {"device": "d", "platform": "gpu", "interpret": False, "jax": "0", "copy_GBps": 3e3,
              "correctness": [{"op": "attention", "config": "", "L": 5, "mode": "forward",
                               "max_rel_err": 1e-6, "tolerance": 1e-3, "ok": True}],
              "scans": [{"op": "ssd_scan", "L": 4, "forward_s": 1e-3,
                         "forward_backward_s": 3e-3, "bandwidth_GBps": 2e3,
                         "fraction_of_copy": 0.5}],
              "attention": [{"L": 4, "head_dim": 64, "causal": True, "mode": "forward",
                             "pallas_TFLOPs": 300.0, "peer": "cudnn", "peer_TFLOPs": 400.0},
                            {"L": 4, "head_dim": 64, "causal": False, "mode": "forward",
                             "pallas_TFLOPs": 300.0, "peer": "none", "peer_error": "x"}]}
    text = gpu_kernels.report(result)
    assert "copy bandwidth: 3000.0 GB/s" in text
    assert "| ssd_scan | 4 | 1 ms | 3 ms | 2000.0 | 50% |" in text
    assert "| 4 | 64 | True | forward | 300 | cudnn | 400 | 0.75 |" in text
    assert "| 4 | 64 | False | forward | 300 | none | — | — |" in text


@pytest.mark.slow
def test_smoke_run_in_interpret_mode(tmp_path):
    out = tmp_path / "gpu.json"
    assert gpu_kernels.main(["--smoke", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["interpret"] and result["smoke"]
    assert {r["op"] for r in result["correctness"]} == {"selective_scan", "ssd_scan",
                                                        "attention"}
    assert all(r["ok"] for r in result["correctness"])
    assert {r["op"] for r in result["scans"]} == {"selective_scan", "ssd_scan"}
    assert all(r["pallas_TFLOPs"] > 0 and "peer_TFLOPs" in r for r in result["attention"])
