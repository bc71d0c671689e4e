"""The `jaxlab` command: list, run, repro, info, and the exit-2 paths for user errors."""

import json
import subprocess
import sys

import pytest

from jaxlab.cli import main

# A tiny but real lorenz-lyapunov run: 2 members, 30 QR intervals, float32.
TINY = ["--set", "ensemble=2", "--set", "num_intervals=30", "--set", "transient=2.0",
        "--set", "precision=float32"]


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "lorenz-lyapunov *" in out
    assert "systems" in out


def test_run_writes_outputs(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "lorenz-lyapunov", "--quick", "--out", str(out), *TINY]) == 0
    printed = capsys.readouterr().out
    assert "lyapunov_exponents" in printed and "(0.9056, 0, -14.572)" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["metrics"]["lyapunov_exponents"]) == 3
    assert isinstance(metrics["metrics"]["kaplan_yorke_dimension"], float)
    assert metrics["config"]["ensemble"] == 2
    assert metrics["references"]["lyapunov_exponents"]["value"] == [0.9056, 0.0, -14.5723]
    # even a 9-time-unit float32 run must satisfy the trace identity to float32 accuracy
    assert abs(metrics["metrics"]["exponent_sum"] + 13.6667) < 0.01
    for name in ("convergence.png", "attractor.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| lyapunov_exponents |" in (out / "summary.md").read_text()
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temporaries


def test_run_json_and_seed_reproducible(tmp_path, capsys):
    args = ["run", "lorenz-lyapunov", "--quick", "--json", "--seed", "3", *TINY]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    second = json.loads(capsys.readouterr().out)
    assert first == second
    assert main(["run", "lorenz-lyapunov", "--quick", "--json", "--seed", "4", *TINY,
                 "--out", str(tmp_path / "c")]) == 0
    assert json.loads(capsys.readouterr().out) != first


def test_repro_writes_report(tmp_path, capsys, monkeypatch):
    from jaxlab.experiments import get, names

    # lorenz-lyapunov at the size of TINY, so that its compilations from
    # test_run_writes_outputs are reused
    tiny = {"lorenz-lyapunov": {"ensemble": 2, "num_intervals": 30, "transient": 2.0,
                                "precision": "float32"},
            "chaos-catalogue": {"systems": "Henon", "initial_conditions": 1,
                                "map_iterations": 200, "points": 200}}
    assert set(names(tag="demo")) <= set(tiny), "give every demo experiment a tiny size here"
    for name, fields in tiny.items():
        config = get(name).config
        small = config.quick(**fields)
        monkeypatch.setattr(config, "quick", classmethod(lambda cls, small=small: small))
    assert main(["repro", "--demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"report: {tmp_path / 'report.md'}" in out
    report = (tmp_path / "report.md").read_text()
    assert "## lorenz-lyapunov" in report and "(0.9056, 0, -14.572)" in report
    assert "lorenz-lyapunov/convergence.png" in report
    assert "<table>" in (tmp_path / "report.html").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "lorenz-lyapnov"], "did you mean 'lorenz-lyapunov'"),
        (["run", "lorenz-lyapunov", "--set", "ensembel=3"], "did you mean 'ensemble'"),
        (["run", "lorenz-lyapunov", "--set", "ensemble=three"], "cannot read 'three' as int"),
        (["run", "lorenz-lyapunov", "--set", "ensemble=0"], "ensemble must be a positive int"),
        (["run", "lorenz-lyapunov", "--set", "precision=float16"], "'float32' or 'float64'"),
        (["run", "lorenz-lyapunov", "--set", "noequals"], "expects field=value"),
        (["repro", "--only", "nope"], "unknown experiment 'nope'"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_user_errors_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) if argv == ["frobnicate"] else _no_exit() as caught:
        status = main(argv)
    if argv == ["frobnicate"]:
        status = caught.value.code
    err = capsys.readouterr().err
    assert status == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


class _no_exit:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_subprocess_entry_points():
    # `python -m jaxlab`: a real process, no traceback for a user error.
    bad = subprocess.run([sys.executable, "-m", "jaxlab", "run", "nope"], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.startswith("jaxlab: error: unknown experiment 'nope'")
    info = subprocess.run([sys.executable, "-m", "jaxlab", "info"], capture_output=True,
                          text=True, timeout=120)
    assert info.returncode == 0
    assert "backend" in info.stdout and "devices" in info.stdout
