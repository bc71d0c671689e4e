"""`chaos-catalogue`: every system of the catalogue integrated, its invariants computed by us
(`systems.catalogue_invariants`) beside dysts's stored values (`systems.compare_with_dysts`)."""

import dataclasses
import hashlib
import json
import math
import sys
import time
from pathlib import Path
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from matplotlib.figure import Figure
from tqdm.auto import tqdm

from jaxlab import systems
from jaxlab._core.io import atomic_write_text
from jaxlab.parallel import data_mesh

from ._base import Config, ConfigError, Experiment, Reference, Result, unknown_name_message

QUICK_SYSTEMS = "Lorenz,Rossler,Aizawa,Thomas,DoublePendulum,Henon,Ikeda,MackeyGlass"


@dataclasses.dataclass(frozen=True)
class ChaosCatalogueConfig(Config):
    """Configuration of `chaos-catalogue`.

    **Fields:**

    - `systems`: `"all"`, or comma-separated names (flows, maps and delay systems).
    - `initial_conditions`: perturbed copies of each default initial condition (sharded
      over devices); λ_max is reported as mean ± standard deviation over them.
    - `lyapunov_periods`: averaging time of the Lyapunov spectrum, in dominant periods
      (flows and delay systems).
    - `map_iterations`: iterations averaged for maps.
    - `points`, `pts_per_period`: the trajectory used for the correlation dimension, the
      dominant period and the attractor figure.
    - `rtol`, `atol`: ODE tolerances (float64).
    - `cache_dir`: if set, each finished system's row is written there atomically (named
      with a hash of the configuration and the key) and reused by a rerun with both equal.
    """

    systems: str = "all"
    initial_conditions: int = 4
    lyapunov_periods: float = 100.0
    map_iterations: int = 20_000
    points: int = 3000
    pts_per_period: int = 30
    rtol: float = 1e-8
    atol: float = 1e-10
    cache_dir: str = ""

    QUICK: ClassVar[dict] = {"systems": QUICK_SYSTEMS, "initial_conditions": 2,
                             "lyapunov_periods": 40.0, "map_iterations": 5000, "points": 1500}

    def validate(self) -> None:
        self.require(self.initial_conditions >= 1, "initial_conditions", "a positive int")
        self.require(self.lyapunov_periods > 0, "lyapunov_periods", "positive")
        self.require(self.map_iterations >= 100, "map_iterations", "at least 100")
        self.require(self.points >= 200, "points", "at least 200")
        self.require(self.pts_per_period >= 5, "pts_per_period", "at least 5")
        self.require(self.rtol > 0 and self.atol > 0, "rtol", "positive (and atol too)")
        self.require(bool(self.systems.strip()), "systems", "'all' or comma-separated names")


def _select(config) -> list[tuple[str, str]]:
    if config.systems.strip() == "all":
        return [(kind, n) for kind in ("flow", "delay", "map") for n in systems.names(kind)]
    chosen, known = [s.strip() for s in config.systems.split(",") if s.strip()], systems.names()
    if unknown := [n for n in chosen if n not in known]:
        raise ConfigError(unknown_name_message("ChaosCatalogueConfig.systems: unknown system",
                                               unknown[0], known))
    return [(systems.kind_of(name), name) for name in chosen]


def _system_row(kind, name, config, key, mesh) -> dict:
    """One system's row: our invariants (`catalogue_invariants`) beside dysts's."""
    start = time.perf_counter()
    system = systems.get(name, kind=kind)
    ic = system.initial_state(jnp.float64)
    y0s = ic * (1 + 1e-3 * jax.random.normal(key, (config.initial_conditions, ic.size), ic.dtype))
    options = {k: getattr(config, k) for k in ("lyapunov_periods", "map_iterations", "points",
                                               "pts_per_period", "rtol", "atol")}
    res = systems.catalogue_invariants(system, y0s, **options, mesh=mesh, throw=False)
    converged = np.asarray(res.spectra.converged)
    comparison = systems.compare_with_dysts(res, name, kind=kind)
    row = {"system": name, "kind": kind, "dimension": system.dimension, "solver": res.solver,
           "converged_ics": int(converged.sum()), "ics": config.initial_conditions,
           **{q: c["jaxlab"] for q, c in comparison.items()},
           "lambda_max_std": float(res.lambda_max_std),
           "lyapunov_spectrum": np.asarray(res.exponents).tolist(),
           "dysts": {q: c["dysts"] for q, c in comparison.items()},
           "gaps": {q: c["relative_gap"] for q, c in comparison.items()}}
    if bool(res.trajectory.converged):
        ys = np.asarray(res.trajectory.ys)
        row["attractor"] = (ys[:, :2] if ys.shape[1] > 1
                            else np.stack([ys[:-1, 0], ys[1:, 0]], axis=1)).tolist()
    row["wall_s"] = time.perf_counter() - start
    return row


def _flags(row) -> str:
    gaps = row.get("gaps", {})
    flags = [label for q, tol, label in (("lambda_max", 0.5, "λ"), ("kaplan_yorke", 0.25, "KY"),
                                         ("correlation_dimension", 0.25, "D2"))
             if (gaps.get(q) or 0.0) > tol]
    if row["converged_ics"] < row["ics"]:
        flags.append(f"solver failed for {row['ics'] - row['converged_ics']} IC")
    return ", ".join(flags)


def _ok(row) -> bool:  # the row has a spectrum
    return row.get("lambda_max") is not None


def _fmt(value, digits=3):
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}g}"


def catalogue_markdown(rows, config) -> str:
    """The catalogue page: one row per system, ours beside dysts's stored values."""
    lines = [
        "# The jaxlab.systems catalogue", "",
        "Generated by `jaxlab run chaos-catalogue` (full size): every system integrated from "
        f"{config.initial_conditions} perturbed initial conditions in float64; λ_max is the "
        "mean ± standard deviation over them (Benettin/QR, averaged over "
        f"{config.lyapunov_periods:g} dominant periods for flows and delay systems, "
        f"{config.map_iterations} iterations for maps). D_KY is the Kaplan–Yorke dimension "
        "of the mean spectrum; D2 the Grassberger–Procaccia correlation dimension of a "
        f"{config.points}-point trajectory at {config.pts_per_period} points per period. "
        "dysts's stored values (0.96 metadata) stand beside ours. Flags: λ where λ_max "
        "differs from dysts's by more than 50%, KY and D2 by more than 25% (relative to "
        "max(|dysts|, 0.01)). dysts's own metadata is loose (its two Lyapunov estimates "
        "agree within 25% for about 45% of systems), so a flag means: look here, not: "
        "jaxlab is wrong.", "",
        "| system | kind | d | solver | λ_max (jaxlab) | λ_max (dysts) | D_KY (jaxlab) | "
        "D_KY (dysts) | D2 (jaxlab) | D2 (dysts) | period (jaxlab) | period (dysts) | flags |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [r["system"], r["kind"], r["dimension"], r["solver"],
                 f"{r['lambda_max']:.4g} ± {r['lambda_max_std']:.2g}" if _ok(r) else "failed",
                 _fmt(r["dysts"].get("lambda_max"), 4)]
        for q in ("kaplan_yorke", "correlation_dimension", "period"):
            cells += [_fmt(r.get(q)), _fmt(r["dysts"].get(q))]
        lines.append("| " + " | ".join(str(c) for c in [*cells, _flags(r)]) + " |")
    return "\n".join(lines) + "\n"


def _metrics(rows) -> dict:
    ok = [r for r in rows if _ok(r)]

    def agreement(quantity, tol):
        gaps = [r["gaps"][quantity] for r in ok if r["gaps"][quantity] is not None]
        return float(np.mean([g <= tol for g in gaps])) if gaps else float("nan")

    # dysts's two estimates of λ_max against each other (its metadata's own looseness)
    internal = [abs(lam - spec[0]) <= 0.25 * max(abs(spec[0]), 1e-2)
                for kind in ("flow", "delay") for m in systems.dysts_metadata(kind=kind).values()
                if (lam := m["maximum_lyapunov_estimated"]) is not None
                and (spec := m["lyapunov_spectrum_estimated"])]
    chaotic = [r for r in ok if r["lambda_max"] * (1 if r["kind"] == "map"
                                                   else r["dysts"]["period"] or 1) > 0.01]
    metrics = {
        "systems": len(rows), "systems_with_spectrum": len(ok),
        "systems_failed": len(rows) - len(ok), "chaotic_fraction": len(chaotic) / max(len(ok), 1),
        "lambda_max_within_50pct_of_dysts": agreement("lambda_max", 0.5),
        "kaplan_yorke_within_25pct_of_dysts": agreement("kaplan_yorke", 0.25),
        "correlation_dimension_within_25pct_of_dysts": agreement("correlation_dimension", 0.25),
        "dysts_internal_lyapunov_agreement_25pct": float(np.mean(internal)),
        "median_seconds_per_system": float(np.nanmedian([r["wall_s"] for r in rows])),
    }
    for r in (r for r in ok if r["system"] == "Lorenz"):
        metrics["lorenz_lambda_max"] = r["lambda_max"]
    return metrics


def _figure(rows) -> Figure:
    drawn = [r for r in rows if "attractor" in r]
    cols, nrows = min(12, max(1, len(drawn))), max(1, math.ceil(len(drawn) / 12))
    fig = Figure(figsize=(1.6 * cols, 1.6 * nrows))
    for j, r in enumerate(drawn):
        ax = fig.add_subplot(nrows, cols, j + 1)
        pts = np.asarray(r["attractor"])
        style = {"lw": 0.2} if r["kind"] != "map" else {"ls": "", "marker": ",", "ms": 0.5}
        ax.plot(pts[:, 0], pts[:, 1], **style)
        ax.set_title(r["system"], fontsize=6)
        ax.set(xticks=[], yticks=[])
    fig.tight_layout()
    return fig


def run(config: ChaosCatalogueConfig, *, key) -> Result:
    """Integrate every selected system, compute its invariants, compare with dysts."""
    cache = Path(config.cache_dir) if config.cache_dir else None
    fields = {**config.to_dict(), "cache_dir": None,
              "key": np.asarray(jax.random.key_data(key)).tolist()}
    row_key = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]
    rows = []
    with jax.enable_x64(True):
        mesh = data_mesh()
        bar = tqdm(_select(config), desc="systems", unit="sys", disable=not sys.stderr.isatty())
        for i, (kind, name) in enumerate(bar):
            bar.set_postfix_str(name)
            cached = cache / f"{kind}-{name}-{row_key}.json" if cache else None
            if cached is not None and cached.exists():
                rows.append(json.loads(cached.read_text()))
                continue
            try:
                row = _system_row(kind, name, config, jax.random.fold_in(key, i), mesh)
            except Exception as error:  # one broken system must not stop the catalogue
                row = {"system": name, "kind": kind, "dimension": None, "solver": "-",
                       "converged_ics": 0, "ics": config.initial_conditions, "dysts": {},
                       "error": f"{type(error).__name__}: {str(error).splitlines()[0][:200]}",
                       "wall_s": float("nan")}
            if cached is not None:
                atomic_write_text(cached, json.dumps(row))
            rows.append(row)
    references = {"lorenz_lambda_max": Reference(0.9056, "Sprott (2003)"),
                  "dysts_internal_lyapunov_agreement_25pct": Reference(
                      0.45, "jaxlab reference notes on dysts 0.96 metadata",
                      "recomputed from metadata")}
    fig, table = _figure(rows), catalogue_markdown(rows, config)
    failed = [f"{r['system']} ({r.get('error', 'no converged IC')})" for r in rows if not _ok(r)]
    summary = (f"{len(rows)} systems ({len(rows) - len(failed)} with a spectrum) integrated from "
               f"{config.initial_conditions} initial conditions each, sharded over "
               f"{mesh.size} device(s); invariants beside dysts's stored values in "
               "`systems.md`." + (f" Failed: {'; '.join(failed)}." if failed else ""))
    rows = [{k: v for k, v in r.items() if k != "attractor"} for r in rows]
    return Result(metrics=_metrics(rows), figures={"attractors": fig}, references=references,
                  summary=summary, artifacts={"systems.md": table,
                                              "catalogue.json": json.dumps(rows, indent=1)})


EXPERIMENT = Experiment(
    name="chaos-catalogue",
    paper="Gilpin (2021), Chaos as an interpretable benchmark for forecasting and data-driven "
          "modelling",
    subpackage="systems",
    config=ChaosCatalogueConfig,
    run=run,
    tags=("demo",),
    quick_runtime_s=78.0,
    description="Every dysts system integrated in JAX, invariants recomputed and compared "
                "with dysts's metadata",
)
