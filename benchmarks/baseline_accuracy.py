"""``pvpp bench baseline_accuracy``: how accurate each baseline is on 60 real London households.

1. Accuracy on days without events: the Std (flat-tariff) households, every working day of 2013
   as a pseudo-event, for the evening window 17:00–20:00 and for all 24 hours; RRMSE and bias
   per household, then mean and median over households.
2. Per-household choice: each month, each household gets the method that was most accurate over
   the previous ``--train-months`` months; it is scored on that month only (March–December).
3. High-price response: the ToU households' baseline − actual over the 2013 dToU High hours,
   minus the same figure for the Std households over the same hours (difference in differences).

Writes ``benchmarks/results/baseline_accuracy.json``; ``--update-docs`` also rewrites the
generated tables in ``docs/baselines.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import numpy as np

from backend.savings.accuracy import (
    Candidate,
    Predictions,
    household_scores,
    predict,
    summarise,
)
from backend.savings.calendar import DayType, as_dates, day_type, uk_bank_holidays
from backend.savings.grid import (
    HourlyGrid,
    load_dtou_signals,
    load_households,
    load_lcl_hourly,
)
from backend.savings.methods import SPECS, AdjustmentRule, BaselineSettings, Method
from backend.savings.response import difference_in_differences, per_household_gaps
from backend.savings.selection import rolling_choice

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "meter_data"
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "baseline_accuracy.json"
DOCS = REPO_ROOT / "docs" / "baselines.md"
NEAR_ZERO_SHARE = 0.10  # households with ≥ 10% zero half-hours (README: vacant or faulty)
WINDOWS = {"evening_17_20": (17, 20), "all_day": (0, 24)}
CHOICE = "per_household_choice"
SENSITIVITY_MONTHS = (1, 2, 3, 6, 12)
_T0 = time.monotonic()


def progress(message: str) -> None:
    print(f"[bench baseline_accuracy {time.monotonic() - _T0:6.1f}s] {message}", flush=True)


def parse_args(args: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pvpp bench baseline_accuracy", description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    p.add_argument("--train-months", type=int, default=2, help="months of past days the per-household choice uses")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    p.add_argument("--update-docs", action="store_true", help=f"rewrite the generated tables in {DOCS.name}")
    return p.parse_args(args)


def candidates() -> list[Candidate]:
    """The four methods, plus DFS without its gaming guard and cap (to show what they cost)."""
    out = [Candidate(m.value, SPECS[m]) for m in Method]
    loose = BaselineSettings(adjustment=AdjustmentRule(guard=False, cap_fraction=math.inf))
    out.append(Candidate("uk_dfs_unguarded", SPECS[Method.UK_DFS], loose))
    return out


def _scores(pred: np.ndarray, actual: np.ndarray, mask: np.ndarray) -> dict:
    rr, bi = household_scores(pred, actual, mask)
    return {"rrmse": summarise(rr), "bias": summarise(bi)}


def _paired(diff: np.ndarray) -> dict:
    """Per-household RRMSE difference (choice − fixed): mean, standard error, households better off."""
    d = diff[np.isfinite(diff)]
    return {"mean": float(d.mean()), "se": float(d.std(ddof=1) / np.sqrt(d.size)),
            "households_better": int((d < 0).sum()), "households": int(d.size)}


def _sensitivity(p: Predictions, official: list[int], months: np.ndarray) -> dict:
    """The choice's mean RRMSE for other training lengths (12 = every earlier month); reported, not tuned."""
    out = {}
    for train in SENSITIVITY_MONTHS:
        choice = rolling_choice(p.predicted[official], p.actual, months, train_months=train)
        mask = p.common_mask() & (choice.chosen >= 0)[:, :, None]
        chosen_rr, _ = household_scores(choice.predicted, p.actual, mask)
        fixed_rr, _ = household_scores(p.predicted[official], p.actual, mask)
        best_fixed = min(summarise(fixed_rr[j])["mean"] for j in range(len(official)))
        out[str(train)] = {"choice_mean_rrmse": summarise(chosen_rr)["mean"], "best_fixed_mean_rrmse": best_fixed}
    return out


def accuracy(grid: HourlyGrid, holidays, train_months: int) -> dict:
    dates = as_dates(grid.days)
    targets = [i for i, d in enumerate(dates) if day_type(d, holidays) is DayType.WORKING]
    months = np.array([dates[t].month for t in targets])
    cands = candidates()
    official = [i for i, c in enumerate(cands) if c.label in {m.value for m in Method}]
    out: dict = {}
    for name, hours in WINDOWS.items():
        progress(f"accuracy: {name}, {len(targets)} working days × {len(cands)} methods")
        p: Predictions = predict(grid.kwh, grid.days, targets, hours, cands, holidays=holidays)
        common = p.common_mask()
        choice = rolling_choice(p.predicted[official], p.actual, months, train_months=train_months)
        held_out = common & (choice.chosen >= 0)[:, :, None]
        table = {c.label: _scores(p.predicted[i], p.actual, held_out) for i, c in enumerate(cands)}
        table[CHOICE] = _scores(choice.predicted, p.actual, held_out)
        choice_rr, _ = household_scores(choice.predicted, p.actual, held_out)
        fixed_rr, _ = household_scores(p.predicted[official], p.actual, held_out)
        picks = choice.chosen[choice.chosen >= 0]
        full_year = {c.label: _scores(p.predicted[i], p.actual, common) for i, c in enumerate(cands)}
        dfs = cands[official[[cands[i].label for i in official].index(Method.UK_DFS.value)]].label
        evaluated = np.isfinite(p.predicted[[c.label for c in cands].index(dfs)]).all(axis=-1)
        out[name] = {
            "hours": list(hours),
            "held_out": {"months": sorted({int(m) for m in months[(choice.chosen >= 0).any(axis=0)]}),
                         "household_hours": int(held_out.sum()), "table": table},
            "full_year": {"household_hours": int(common.sum()), "table": full_year},
            "choice_beats_every_fixed_method_on_mean_rrmse": bool(
                all(table[CHOICE]["rrmse"]["mean"] < table[cands[i].label]["rrmse"]["mean"] for i in official)),
            "choice_beats_every_fixed_method_on_median_rrmse": bool(
                all(table[CHOICE]["rrmse"]["median"] < table[cands[i].label]["rrmse"]["median"] for i in official)),
            "share_of_households_where_choice_beats_best_fixed": float(
                np.mean(choice_rr[np.isfinite(choice_rr)] < np.nanmin(fixed_rr, axis=0)[np.isfinite(choice_rr)])),
            "chosen_share": {cands[i].label: float(np.mean(picks == j)) for j, i in enumerate(official)},
            "choice_minus_fixed_rrmse": {cands[i].label: _paired(choice_rr - fixed_rr[j]) for j, i in enumerate(official)},
            "train_months_sensitivity": _sensitivity(p, official, months),
            "dfs_guard": {
                "pseudo_events": int(evaluated.sum()),
                "upward_refused_share": float(p.upward_refused[dfs][evaluated].mean()),
                "capped_share": float(p.capped[dfs][evaluated].mean()),
            },
        }
    return out


def high_price_response(grid: HourlyGrid, households: dict, data_dir: Path, holidays) -> dict:
    signals = load_dtou_signals(data_dir / "dtou_tariff_2013.csv")
    if not np.array_equal(signals["days"], grid.days):
        raise ValueError("the tariff schedule and the readings cover different days")
    signal_days = {d for d, on in zip(as_dates(grid.days), (signals["High"] | signals["Low"]).any(axis=1)) if on}
    treated = np.array([households[h]["tariff_group"] == "ToU" for h in grid.households])
    out: dict = {"high_hours": int(signals["High"].sum()),
                 "high_days": int(signals["High"].any(axis=1).sum()),
                 "excluded_signal_days": len(signal_days), "methods": {}}
    for cand in candidates():
        progress(f"High-price response: {cand.label}")
        gap, base, count, covered = per_household_gaps(grid.kwh, grid.days, signals["High"], cand.spec,
                                                       holidays=holidays, event_days=signal_days,
                                                       settings=cand.settings)
        r = difference_in_differences(gap, base, count, treated, covered)
        out["methods"][cand.label] = {
            "event_days": r.event_days,
            "treated": r.treated.__dict__, "control": r.control.__dict__,
            "did_kwh_per_hour": r.did_kwh_per_hour, "did_kwh_per_hour_se": r.did_kwh_per_hour_se,
            "did_percent": r.did_percent, "did_percent_se": r.did_percent_se,
        }
    return out


def _pct(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{100 * x:.1f}%"


def render_markdown(result: dict) -> str:
    lines = []
    for block in result["accuracy"].values():
        h0, h1 = block["hours"]
        held = block["held_out"]
        lines += [f"#### Window {h0:02d}:00–{h1:02d}:00, held-out months {held['months'][0]}–{held['months'][-1]}",
                  "", "| method | RRMSE mean | RRMSE median | bias mean | bias median | households |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for label, s in held["table"].items():
            lines.append(f"| {label} | {_pct(s['rrmse']['mean'])} | {_pct(s['rrmse']['median'])} | "
                         f"{_pct(s['bias']['mean'])} | {_pct(s['bias']['median'])} | {s['rrmse']['households']} |")
        share = ", ".join(f"{k} {100 * v:.0f}%" for k, v in block["chosen_share"].items())
        guard = block["dfs_guard"]
        lines += ["", (f"- Per-household choice beats every fixed method on mean RRMSE: "
                      f"**{'yes' if block['choice_beats_every_fixed_method_on_mean_rrmse'] else 'no'}**; "
                      f"on median RRMSE: **{'yes' if block['choice_beats_every_fixed_method_on_median_rrmse'] else 'no'}**."),
                  "- Choice − fixed method, per-household RRMSE (mean ± standard error; households where the "
                  "choice is better): " + "; ".join(
                      f"{k} {100 * v['mean']:+.1f} ± {100 * v['se']:.1f} pp ({v['households_better']}/{v['households']})"
                      for k, v in block["choice_minus_fixed_rrmse"].items()) + ".",
                  (f"- Households where the choice beats their own best fixed method in hindsight: "
                  f"{100 * block['share_of_households_where_choice_beats_best_fixed']:.0f}%."),
                  f"- How often each method was chosen (household-months): {share}.",
                  "- Training length (months) → mean RRMSE of the choice vs the best fixed method on the same days: "
                  + "; ".join(f"{k}: {_pct(v['choice_mean_rrmse'])} vs {_pct(v['best_fixed_mean_rrmse'])}"
                              for k, v in block["train_months_sensitivity"].items()) + ".",
                  (f"- DFS gaming guard on {guard['pseudo_events']} ordinary days: upward adjustment refused on "
                  f"{100 * guard['upward_refused_share']:.1f}%, adjustment capped on {100 * guard['capped_share']:.1f}%."),
                  ""]
    hp = result["high_price"]
    lines += [(f"#### High-price response ({hp['high_hours']} High hours on {hp['high_days']} days; "
              f"{hp['excluded_signal_days']} signal days excluded from baselines)"), "",
              "| method | event days | ToU: baseline − actual | Std (control) | difference | ToU % | Std % | difference % |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label, m in hp["methods"].items():
        t, c = m["treated"], m["control"]
        lines.append(f"| {label} | {m['event_days']} | {t['kwh_per_hour']:.3f} ± {t['kwh_per_hour_se']:.3f} | "
                     f"{c['kwh_per_hour']:.3f} ± {c['kwh_per_hour_se']:.3f} | "
                     f"**{m['did_kwh_per_hour']:.3f} ± {m['did_kwh_per_hour_se']:.3f}** | "
                     f"{t['percent']:.1f} ± {t['percent_se']:.1f} | {c['percent']:.1f} ± {c['percent_se']:.1f} | "
                     f"**{m['did_percent']:.1f} ± {m['did_percent_se']:.1f}** |")
    some = next(iter(hp["methods"].values()))
    lines += ["", (f"kWh per household-hour, mean over households ± standard error; {some['treated']['households']} ToU "
                  f"and {some['control']['households']} Std households."), ""]
    return "\n".join(lines)


def update_docs(markdown: str, path: Path = DOCS) -> None:
    begin, end = "<!-- baseline_accuracy:begin -->", "<!-- baseline_accuracy:end -->"
    text = path.read_text()
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{markdown}\n{end}{tail}")


def main(args: list[str]) -> int:
    opts = parse_args(args)
    progress(f"loading {opts.data_dir}")
    grid = load_lcl_hourly(opts.data_dir / "meter_hourly.csv.gz")
    households = load_households(opts.data_dir / "households.csv")
    holidays = uk_bank_holidays(range(2012, 2015))
    near_zero = sorted(h for h in grid.households if float(households[h]["zero_halfhour_share"]) >= NEAR_ZERO_SHARE)
    usable = [h for h in grid.households if h not in near_zero]
    std = [h for h in usable if households[h]["tariff_group"] == "Std"]
    result = {
        "benchmark": "baseline_accuracy",
        "data": {"households": len(grid.households), "near_zero_excluded": near_zero,
                 "accuracy_households": len(std), "days": [str(grid.days[0]), str(grid.days[-1])],
                 "holidays": "England bank holidays (holidays.country_holidays('GB', subdiv='ENG'))"},
        "design": {"pseudo_event_days": "every working day (Mon–Fri, not a bank holiday)",
                   "train_months": opts.train_months,
                   "windows": {k: list(v) for k, v in WINDOWS.items()}},
        "accuracy": accuracy(grid.subset(std), holidays, opts.train_months),
        "high_price": high_price_response(grid.subset(usable), households, opts.data_dir, holidays),
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "seconds": round(time.monotonic() - _T0, 1),
    }
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(result, indent=2) + "\n")
    markdown = render_markdown(result)
    print(markdown)
    if opts.update_docs:
        update_docs(markdown)
        progress(f"updated {DOCS}")
    progress(f"wrote {opts.output}")
    return 0
