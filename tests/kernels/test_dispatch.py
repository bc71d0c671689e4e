"""impl="auto": Pallas on GPU, and on TPU while a program's blocks fit VMEM; the measured
fastest XLA path elsewhere. Platforms are simulated by patching `_compat.platform`."""

import numpy as np
import pytest

from jaxlab.kernels import (
    _attention_pallas,
    _compat,
    _dispatch,
    _selective_scan_pallas,
    _ssd_pallas,
)

OPS = ("selective_scan", "ssd_scan", "attention")


def test_cpu_picks_the_measured_xla_default():
    assert _compat.platform() == "cpu" and _compat.interpret_mode()
    got = {op: _dispatch.resolve_impl(op, "auto", ("pallas",)) for op in OPS}
    assert got == {"selective_scan": "scan", "ssd_scan": "chunked", "attention": "flash"}
    assert _dispatch.resolve_impl("attention", "pallas", ("xla", "pallas")) == "pallas"
    # attention: XLA's materialised softmax for short sequences, the blocked one for long
    assert _dispatch.cpu_attention_impl(512, 512) == "xla"
    assert _dispatch.cpu_attention_impl(1024, 1024) == "xla"
    assert _dispatch.cpu_attention_impl(2048, 2048) == "flash"
    assert _dispatch.cpu_attention_impl(512, 512, np.float64) == "reference"   # full precision
    assert _dispatch.cpu_attention_impl(512, 512, np.float32) == "xla"
    assert _dispatch.resolve_impl("attention", "auto", (), xla_default="xla") == "xla"


def test_gpu_picks_pallas_when_the_triton_lowering_exists(monkeypatch):
    monkeypatch.setattr(_compat, "platform", lambda: "gpu")
    for op in OPS:
        want = "pallas" if _compat.HAS_TRITON else _dispatch._CPU_DEFAULT[op]
        assert _dispatch.resolve_impl(op, "auto", ("pallas",), pallas_bytes=2**40) == want
    assert not _compat.interpret_mode()


def test_tpu_picks_pallas_only_when_the_blocks_fit_vmem(monkeypatch):
    monkeypatch.setattr(_compat, "platform", lambda: "tpu")
    small = _selective_scan_pallas.vmem_bytes(1024, 256, 16)
    large = _selective_scan_pallas.vmem_bytes(65536, 256, 16)
    assert small < _dispatch._TPU_VMEM_BYTES < large
    assert _dispatch.resolve_impl("selective_scan", "auto", (), pallas_bytes=small) == "pallas"
    assert _dispatch.resolve_impl("selective_scan", "auto", (), pallas_bytes=large) == "scan"
    assert _ssd_pallas.vmem_bytes(1024, 64, 128) < _dispatch._TPU_VMEM_BYTES
    assert _attention_pallas.vmem_bytes(4096, 4096, 128, 0) < _dispatch._TPU_VMEM_BYTES
    assert _attention_pallas.vmem_bytes(65536, 65536, 128, 1) > _dispatch._TPU_VMEM_BYTES


def test_unknown_impl_names_the_op_and_choices():
    with pytest.raises(ValueError, match=r"ssd_scan: impl must be 'auto' or one of \('a', 'b'\)"
                                         r", got 'c'"):
        _dispatch.resolve_impl("ssd_scan", "c", ("a", "b"))
