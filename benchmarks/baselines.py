"""``pvpp bench baselines``: KPX Mid(6/10) baselines for a national fleet from hourly rollups in memory.

Synthetic data for scale: ``--households`` × ``--days`` × 24 hourly kWh (float32), generated in
chunks, with scattered missing hours and a share of households with long gaps (these must be
refused, not guessed). The calendar has weekends, one holiday and one earlier event day. The
measured step is :func:`backend.savings.batch.batch_baseline` for all 24 hours of the next day:
day eligibility, the coverage rule, picking the last 10 eligible days, and the trimmed mean.

Reference, same run and same array: ``np.sort`` over the days axis and ``np.nanmean`` over the
days axis — the bare cost of touching and ordering the data once.

Writes ``benchmarks/results/baselines.json``; ``--update-docs`` rewrites the generated summary
in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from backend.savings.batch import REFUSALS, batch_baseline
from backend.savings.calendar import DayType, calendar_mask
from backend.savings.methods import SPECS, Method

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "baselines.json"
DOCS = REPO_ROOT / "docs" / "performance.md"
GOAL_SECONDS = 60.0
EVENT_DAY = date(2025, 7, 14)  # a Monday
_T0 = time.monotonic()


def progress(message: str) -> None:
    print(f"[bench baselines {time.monotonic() - _T0:6.1f}s] {message}", flush=True)


def parse_args(args: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pvpp bench baselines", description=__doc__.split("\n")[0])
    p.add_argument("--households", type=int, default=1_000_000)
    p.add_argument("--days", type=int, default=21, help="days of history before the event day")
    p.add_argument("--chunk", type=int, default=100_000, help="households per generated and computed chunk")
    p.add_argument("--missing", type=float, default=0.002, help="share of hours missing at random")
    p.add_argument("--gappy", type=float, default=0.01, help="share of households missing a week of data")
    p.add_argument("--seed", type=int, default=20250714)
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    p.add_argument("--update-docs", action="store_true", help=f"rewrite the generated summary in {DOCS.name}")
    return p.parse_args(args)


def generate(rng: np.random.Generator, n: int, days: int, missing: float, gappy: float) -> np.ndarray:
    """Hourly kWh (n, days, 24) float32: a daily shape × a household scale × noise, with gaps."""
    hours = np.arange(24)
    shape = 0.25 + 0.2 * np.exp(-((hours - 8) ** 2) / 4) + 0.45 * np.exp(-((hours - 19) ** 2) / 6)
    scale = rng.lognormal(0.0, 0.5, size=(n, 1, 1)).astype(np.float32)
    kwh = (shape.astype(np.float32) * scale) * rng.gamma(4.0, 0.25, size=(n, days, 24)).astype(np.float32)
    kwh[rng.random(kwh.shape, dtype=np.float32) < missing] = np.nan
    gappy_rows = np.flatnonzero(rng.random(n) < gappy)
    kwh[gappy_rows, -7:, :] = np.nan
    return kwh


def run(opts: argparse.Namespace) -> dict:
    rng = np.random.default_rng(opts.seed)
    days = [EVENT_DAY - timedelta(days=opts.days - i) for i in range(opts.days)]
    holidays = {EVENT_DAY - timedelta(days=7)}
    eligible = calendar_mask(days, for_type=DayType.WORKING, holidays=holidays,
                             event_days={EVENT_DAY - timedelta(days=3)})
    spec = SPECS[Method.KPX_MID_6_10]
    progress(f"generating {opts.households:,} × {opts.days} × 24 float32 in chunks of {opts.chunk:,}")
    chunks = [generate(rng, min(opts.chunk, opts.households - s), opts.days, opts.missing, opts.gappy)
              for s in range(0, opts.households, opts.chunk)]
    gib = sum(c.nbytes for c in chunks) / 2**30
    progress(f"generated {gib:.2f} GiB; computing Mid(6/10) for 24 hours")
    refused = np.zeros(len(REFUSALS), dtype=np.int64)
    checksum = 0.0
    t = time.perf_counter()
    for c in chunks:
        result = batch_baseline(c, opts.days, 0, 24, spec, spec.working_days, eligible)
        refused += np.bincount(result.refused, minlength=len(REFUSALS))
        checksum += float(np.nansum(result.values[:, 19]))
    measured = time.perf_counter() - t
    progress(f"Mid(6/10): {measured:.2f} s; reference np.sort over the days axis")
    t = time.perf_counter()
    for c in chunks:
        np.sort(c, axis=1)
    ref_sort = time.perf_counter() - t
    t = time.perf_counter()
    for c in chunks:
        np.nanmean(c, axis=1)
    ref_nanmean = time.perf_counter() - t
    progress(f"references: sort {ref_sort:.2f} s, nanmean {ref_nanmean:.2f} s")
    return {
        "benchmark": "baselines",
        "method": spec.method.value,
        "households": opts.households, "days": opts.days, "hours": 24, "dtype": "float32",
        "array_gib": round(gib, 2), "chunk": opts.chunk, "missing": opts.missing, "gappy": opts.gappy,
        "eligible_days_in_calendar": int(eligible.sum()),
        "seconds": round(measured, 2),
        "households_per_s": round(opts.households / measured),
        "goal_seconds": GOAL_SECONDS,
        "meets_goal": measured <= GOAL_SECONDS,
        "reference": {"np_sort_days_axis_seconds": round(ref_sort, 2), "np_nanmean_days_axis_seconds": round(ref_nanmean, 2)},
        "ratio_to_sort": round(measured / ref_sort, 2),
        "refused": {(r.value if r else "computed"): int(n) for r, n in zip(REFUSALS, refused)},
        "checksum_19h_kwh": round(checksum, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__},
    }


def render_markdown(r: dict) -> str:
    refused = ", ".join(f"{k} {v:,}" for k, v in r["refused"].items() if v)
    return "\n".join([
        (f"Last run: {r['households']:,} households × {r['days']} days × 24 h ({r['dtype']}, {r['array_gib']} GiB), "
        f"{r['machine']['cpus']} CPUs, numpy {r['machine']['numpy']}."), "",
        "| step | seconds |", "| --- | ---: |",
        (f"| Mid(6/10) baselines, all 24 hours (eligibility, coverage rule, last 10 days, trimmed mean) | "
        f"**{r['seconds']}** |"),
        f"| reference: `np.sort` over the days axis, same array | {r['reference']['np_sort_days_axis_seconds']} |",
        f"| reference: `np.nanmean` over the days axis, same array | {r['reference']['np_nanmean_days_axis_seconds']} |",
        "", (f"Goal ≤ {r['goal_seconds']:.0f} s: **{'met' if r['meets_goal'] else 'missed'}** "
            f"({r['households_per_s']:,} households/s, {r['ratio_to_sort']}× the bare sort). Outcome per household: "
            f"{refused}."), ""])


def update_docs(markdown: str, path: Path = DOCS) -> None:
    begin, end = "<!-- bench_baselines:begin -->", "<!-- bench_baselines:end -->"
    head, rest = path.read_text().split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{markdown}\n{end}{tail}")


def main(args: list[str]) -> int:
    opts = parse_args(args)
    result = run(opts)
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(result, indent=2) + "\n")
    markdown = render_markdown(result)
    print(markdown)
    if opts.update_docs:
        update_docs(markdown)
        progress(f"updated {DOCS}")
    progress(f"wrote {opts.output}")
    return 0
