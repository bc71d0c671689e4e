import dataclasses
import html
import io
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._core.io import atomic_write_bytes, atomic_write_text
from ._base import Experiment, Reference, Result
from ._registry import get


@dataclasses.dataclass
class RunRecord:
    """One finished (or failed) run: what `run_experiment` returns and `run_many` reports."""

    experiment: Experiment
    config: dict[str, Any]
    seed: int
    quick: bool
    wall_s: float
    result: Result | None
    figures: dict[str, Path]
    out: Path | None
    error: str | None = None


def to_json(value: Any) -> Any:
    """Metrics as plain JSON: arrays to (nested) lists, numpy/jax scalars to Python numbers."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if hasattr(value, "tolist"):
        return to_json(value.tolist())
    raise TypeError(f"to_json: a metric must be a number, string, bool, None, array or a "
                    f"list/dict of them, got a {type(value).__name__}")


def format_value(value: Any) -> str:
    """A metric for a table: floats to 5 significant digits, lists elementwise."""
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    if isinstance(value, float):
        return f"{value:.5g}"
    return str(value)


def metrics_rows(result: Result) -> list[tuple[str, str, str, str]]:
    """(metric, ours, paper, source) rows: every metric, with its reference where one exists."""
    metrics = to_json(result.metrics)
    rows = []
    for name, value in metrics.items():
        ref: Reference | None = result.references.get(name)
        rows.append((name, format_value(value),
                     format_value(to_json(ref.value)) if ref else "",
                     (ref.source + (f" ({ref.note})" if ref.note else "")) if ref else ""))
    return rows


def metrics_table(result: Result) -> str:
    """The metrics as a Markdown table."""
    lines = ["| metric | jaxlab | paper | source |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in metrics_rows(result)]
    return "\n".join(lines)


def _save_figure(fig, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return atomic_write_bytes(path, buffer.getvalue())


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for package in ("jaxlab", "jax", "jaxlib", "equinox", "diffrax", "optax"):
        try:
            out[package] = md.version(package)
        except md.PackageNotFoundError:
            out[package] = "not installed"
    return out


def run_experiment(name: str | Experiment, *, quick: bool = False, seed: int = 0,
                   overrides: Sequence[str] = (), out: str | Path | None = None) -> RunRecord:
    """Run one registered experiment and (if `out` is given) write its outputs.

    Writes, each atomically, into `out`: `metrics.json` (metrics, config, seed, references,
    wall time, versions), one PNG per figure, and `summary.md` (summary and metrics table).

    **Arguments:**

    - `name`: a registered name or an `Experiment`.
    - `quick`: use `Config.quick()` instead of the full-size defaults.
    - `seed`: the integer seed of the run's PRNG key.
    - `overrides`: `field=value` strings applied to the config.
    - `out`: the output directory (created if missing), or `None` to write nothing.

    **Returns:** a `RunRecord`.

    **Raises:** `UnknownExperimentError` for an unknown name; `ConfigError` for bad overrides.
    """
    import jax

    experiment = get(name) if isinstance(name, str) else name
    config = experiment.config.quick() if quick else experiment.config()
    config = config.with_overrides(list(overrides))
    start = time.perf_counter()
    result = experiment.run(config, key=jax.random.key(seed))
    wall = time.perf_counter() - start
    figures: dict[str, Path] = {}
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        out_path.mkdir(parents=True, exist_ok=True)
        for stem, fig in result.figures.items():
            figures[stem] = _save_figure(fig, out_path / f"{stem}.png")
        for filename, text in result.artifacts.items():
            atomic_write_text(out_path / filename, text)
        payload = {
            "experiment": experiment.name, "paper": experiment.paper, "quick": quick,
            "seed": seed, "config": to_json(config.to_dict()), "wall_time_s": wall,
            "metrics": to_json(result.metrics),
            "references": {k: {"value": to_json(r.value), "source": r.source, "note": r.note}
                           for k, r in result.references.items()},
            "figures": sorted(f"{s}.png" for s in figures), "versions": _versions(),
            "artifacts": sorted(result.artifacts),
        }
        atomic_write_text(out_path / "metrics.json", json.dumps(payload, indent=2) + "\n")
        summary = [f"# {experiment.name}", "", f"*{experiment.paper}*", "",
                   result.summary.strip(), "", metrics_table(result), "",
                   f"Wall time: {wall:.1f} s ({'quick' if quick else 'full'} size, seed {seed}).",
                   ""]
        summary += [f"![{s}]({s}.png)" for s in figures]
        atomic_write_text(out_path / "summary.md", "\n".join(summary) + "\n")
    for fig in result.figures.values():
        _close(fig)
    return RunRecord(experiment, config.to_dict(), seed, quick, wall, result, figures, out_path)


def _close(fig) -> None:
    try:
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # a Figure not managed by pyplot needs no closing
        pass


def run_many(names: Sequence[str], *, quick: bool = True, seed: int = 0,
             out: str | Path = "runs/repro", progress: bool | None = None) -> tuple[Path, list]:
    """Run several experiments into `out/<name>/` and write `report.md` and `report.html`.

    A failing experiment is recorded in the report (with its error) and the others still
    run.

    **Arguments:**

    - `names`: registered experiment names.
    - `quick`, `seed`: as in `run_experiment`.
    - `out`: the report directory.
    - `progress`: a tqdm bar over experiments (default: when stderr is a terminal).

    **Returns:** `(path of report.md, list of RunRecord)`.
    """
    import sys

    from tqdm.auto import tqdm

    experiments = [get(n) for n in names]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    records = []
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(experiments, desc="experiments", unit="exp", disable=not show)
    for experiment in bar:
        bar.set_postfix_str(experiment.name)
        try:
            records.append(run_experiment(experiment, quick=quick, seed=seed,
                                          out=out / experiment.name))
        except Exception as error:  # keep going: the report shows what failed
            records.append(RunRecord(experiment, {}, seed, quick, float("nan"), None, {},
                                     out / experiment.name,
                                     error=f"{type(error).__name__}: {error}"))
    report = write_report(records, out)
    return report, records


def write_report(records: Sequence[RunRecord], out: Path) -> Path:
    """Write `report.md` and `report.html` for finished runs; return the Markdown path."""
    md = ["# jaxlab reproduction report", "",
          "| experiment | paper | subpackage | status | wall time |", "|---|---|---|---|---|"]
    for r in records:
        status = "ok" if r.error is None else "FAILED"
        md.append(f"| [{r.experiment.name}](#{r.experiment.name}) | {r.experiment.paper} | "
                  f"{r.experiment.subpackage} | {status} | {r.wall_s:.1f} s |")
    parts = []
    for r in records:
        md += ["", f"## {r.experiment.name}", "", f"*{r.experiment.paper}*", ""]
        section = [f"<h2 id='{html.escape(r.experiment.name)}'>{html.escape(r.experiment.name)}"
                   f"</h2><p><em>{html.escape(r.experiment.paper)}</em></p>"]
        if r.error is not None:
            md.append(f"**Failed:** `{r.error}`")
            section.append(f"<p><strong>Failed:</strong> <code>{html.escape(r.error)}</code></p>")
        else:
            md += [r.result.summary.strip(), "", metrics_table(r.result), ""]
            rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                           for row in metrics_rows(r.result))
            section.append(f"<p>{html.escape(r.result.summary.strip())}</p><table><tr>"
                           "<th>metric</th><th>jaxlab</th><th>paper</th><th>source</th></tr>"
                           f"{rows}</table>")
            for stem, path in r.figures.items():
                rel = path.relative_to(out).as_posix()
                md.append(f"![{stem}]({rel})")
                section.append(f"<figure><img src='{html.escape(rel)}' alt='{html.escape(stem)}'>"
                               f"<figcaption>{html.escape(stem)}</figcaption></figure>")
        parts.append("\n".join(section))
    report = atomic_write_text(out / "report.md", "\n".join(md) + "\n")
    style = ("body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:"
             "collapse}td,th{border:1px solid #ccc;padding:.2em .5em}img{max-width:100%}")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>jaxlab report</title>"
            f"<style>{style}</style></head><body><h1>jaxlab reproduction report</h1>"
            + "".join(parts) + "</body></html>\n")
    atomic_write_text(out / "report.html", page)
    return report
