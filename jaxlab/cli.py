"""The `jaxlab` command: list, run and reproduce experiments; show the installation.

`jaxlab list | run NAME | repro | info` (also `python -m jaxlab`). User errors (an unknown
experiment, a bad `--set`) print one line and exit with status 2, without a traceback.
"""

import argparse
import os
import sys
from collections.abc import Sequence


def _use_all_cpu_cores() -> None:
    """Expose one XLA CPU device per core, so CPU runs shard ensembles over every core.

    Must run before jax is imported; it leaves an explicit user setting alone and only
    affects the CPU platform (GPUs and TPUs are unaffected).
    """
    if "jax" in sys.modules or "xla_force_host_platform_device_count" in os.environ.get(
            "XLA_FLAGS", ""):
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    flag = f"--xla_force_host_platform_device_count={max(1, cores or 1)}"
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flag).strip()


class _UserError(Exception):
    """An error in what the user typed: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2, no usage dump
        self.exit(2, f"jaxlab: error: {message} (see `jaxlab {self.prog.split()[-1]} --help`)\n"
                  if " " in self.prog else f"jaxlab: error: {message} (see `jaxlab --help`)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="jaxlab", description="jaxlab experiments and installation info.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    sub.add_parser("list", help="list the registered experiments")
    run = sub.add_parser("run", help="run one experiment")
    run.add_argument("name")
    run.add_argument("--quick", action="store_true", help="CPU-sized configuration")
    run.add_argument("--out", default=None, help="output folder (default runs/NAME)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="FIELD=VALUE", help="override a config field (repeatable)")
    run.add_argument("--json", action="store_true", help="print metrics as JSON")
    repro = sub.add_parser("repro", help="run many experiments and write a report")
    repro.add_argument("--quick", action="store_true", help="CPU-sized configurations")
    repro.add_argument("--demo", action="store_true",
                       help="only the curated showcase (tag 'demo'), at quick size")
    repro.add_argument("--only", nargs="+", default=None, metavar="NAME")
    repro.add_argument("--out", default="runs/repro")
    repro.add_argument("--seed", type=int, default=0)
    sub.add_parser("info", help="versions, devices and backend")
    return parser


def _cmd_list() -> int:
    from .experiments import all_experiments

    rows = [("name", "subpackage", "quick", "paper")]
    for e in all_experiments():
        quick = f"{e.quick_runtime_s:.0f} s" if e.quick_runtime_s else "?"
        rows.append((e.name + (" *" if "demo" in e.tags else ""), e.subpackage, quick, e.paper))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3])
    print("\n* part of the demo (`jaxlab repro --demo`); quick = runtime of --quick on 2 cores")
    return 0


def _cmd_run(args) -> int:
    import json

    from .experiments import ConfigError, UnknownExperimentError, get
    from .experiments._runner import format_value, metrics_rows, run_experiment, to_json

    try:
        experiment = get(args.name)
        config = experiment.config.quick() if args.quick else experiment.config()
        config.with_overrides(args.overrides)  # validate before any heavy work
    except (UnknownExperimentError, ConfigError) as error:
        raise _UserError(str(error)) from None
    out = args.out or os.path.join("runs", experiment.name)
    record = run_experiment(experiment, quick=args.quick, seed=args.seed,
                            overrides=args.overrides, out=out)
    if args.json:
        print(json.dumps(to_json(record.result.metrics), indent=2))
        return 0
    rows = [("metric", "jaxlab", "paper")] + [r[:3] for r in metrics_rows(record.result)]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print(f"\n{experiment.name}: {format_value(record.wall_s)} s; wrote {out}/metrics.json, "
          f"{out}/summary.md" + "".join(f", {p}" for p in record.figures.values()))
    return 0


def _cmd_repro(args) -> int:
    from .experiments import UnknownExperimentError, get, names
    from .experiments._runner import run_many

    if args.only:
        try:
            selected = [get(n).name for n in args.only]
        except UnknownExperimentError as error:
            raise _UserError(str(error)) from None
    else:
        selected = names(tag="demo") if args.demo else names()
    quick = args.quick or args.demo
    report, records = run_many(selected, quick=quick, seed=args.seed, out=args.out)
    failed = [r.experiment.name for r in records if r.error is not None]
    for r in records:
        status = "ok" if r.error is None else f"FAILED ({r.error})"
        print(f"{r.experiment.name}: {status}")
    print(f"report: {report}")
    return 1 if failed else 0


def _cmd_info() -> int:
    import importlib.metadata as md
    import platform

    import jax

    print(f"python     {platform.python_version()} ({sys.executable})")
    for package in ("jaxlab", "jax", "jaxlib", "equinox", "diffrax", "optax", "numpyro",
                    "lineax", "optimistix", "jaxtyping"):
        try:
            version = md.version(package)
        except md.PackageNotFoundError:
            version = "not installed"
        print(f"{package:<11}{version}")
    print(f"backend    {jax.default_backend()}")
    kinds = ", ".join(sorted({d.device_kind for d in jax.devices()}))
    print(f"devices    {jax.device_count()} ({kinds})")
    print(f"hosts      {jax.process_count()} (this is process {jax.process_index()})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `jaxlab` command; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.version:
        from . import __version__

        print(__version__)
        return 0
    if args.command is None:
        _parser().print_help()
        return 2
    if args.command in ("run", "repro"):
        _use_all_cpu_cores()
        os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        if args.command == "list":
            return _cmd_list()
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "repro":
            return _cmd_repro(args)
        return _cmd_info()
    except _UserError as error:
        print(f"jaxlab: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
