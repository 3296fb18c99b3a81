"""What a benchmark run prints and writes: tables per store, targets, JSON, comparisons.

The JSON holds every figure the tables show and more (each command's seconds, each report
invocation's milliseconds, the machine, the commit), so that a later run can be compared with
this one (`--compare PATH`) without re-running it.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from bekasi_year import YearResult
from calibration import describe
from measure import Measured
from targets import INFO_RATIOS, MEMORY_PHASES, RATIO_TARGETS, Check

# Two processes at once this much slower than one alone: the two cores were not two.
CONTENDED = 1.5

FORMAT = "jamsos-bench/1"
# Phases whose time grows with the number of workers: what the 10M extrapolation scales.
SCALING_PHASES = ("import", "prioritize", "replay", "rebuild")
EXTRAPOLATE_TO = 10_000_000


# --- tables ---------------------------------------------------------------------------------


def print_run(result: YearResult, checks: Sequence[Check], generated: Measured | None) -> None:
    """The run's phases with their anchors and targets, its anchors, reports and memory."""
    by_target = {c.target: c for c in checks}
    print(f"\n### {result.name} ({result.role})")
    header = (f"{'phase':<11} {'events':>10} {'seconds':>9} {'events/s':>10} {'peak MB':>8} | "
              f"{'anchor':<18} {'anchor ev/s':>11} {'ratio':>8} {'target':>12} {'met?':>6}")
    print(header)
    print("-" * len(header))
    if generated is not None:
        print(_phase_cells("generate", generated) + " | (the CSV file: not timed as a target)")
    for name, phase in result.phases.items():
        rows = _target_rows(result, name, by_target)
        cells = _phase_cells(name, phase)
        if not rows:
            print(cells + " |")
        for i, row in enumerate(rows):
            print((cells if i == 0 else " " * len(cells)) + " | " + row)
    if result.anchors:
        print(f"\n{'anchor':<18} {'events':>10} {'seconds':>9} {'events/s':>10} "
              f"{'peak MB':>8}  how")
        for name, a in result.anchors.items():
            print(f"{name:<18} {a.events:>10,} {a.seconds:>9.2f} {a.rate:>10,.0f} "
                  f"{a.peak_mb:>8.0f}  {_anchor_note(name, a)}")
    if result.reports:
        title = f"report ({result.plan.report_repeat} runs each)"
        print(f"\n{title:<30} {'median ms':>10} {'max ms':>8} {'target':>10} {'met?':>6}")
        for name, m in result.reports.items():
            check = by_target[f"{name} median"]
            print(f"{name:<30} {m.extra['median_ms']:>10.1f} {m.extra['max_ms']:>8.1f} "
                  f"{check.wanted:>10} {check.verdict:>6}")
    memory = [by_target[k] for k in (f"{p} peak memory" for p in MEMORY_PHASES) if k in by_target]
    if memory:
        peaks = ", ".join(f"{c.target.split()[0]} {c.value:.0f} MB {c.verdict}" for c in memory)
        print(f"\npeak memory (target {memory[0].wanted}): {peaks}", end="")
    else:
        peaks = ", ".join(f"{p} {result.phases[p].peak_mb:.0f} MB" for p in MEMORY_PHASES
                          if p in result.phases)
        print(f"\npeak memory: {peaks}", end="")
    if result.baseline:
        print(f"; baseline (imports + open) {result.baseline.peak_mb:.0f} MB", end="")
    print()
    loads = [m.load for group in (result.phases, result.anchors, result.reports)
             for m in group.values()]
    cores = len(os.sched_getaffinity(0))
    busy = "  (BUSY: above the cores, figures suspect)" if max(loads) > cores else ""
    print(f"load average when each child started: {min(loads):.2f} to {max(loads):.2f} on "
          f"{cores} cores{busy}")
    contended = [m.contention for group in (result.phases, result.anchors)
                 for m in group.values() if m.contention]
    if contended:
        suspect = sorted(name for group in (result.phases, result.anchors)
                         for name, m in group.items() if m.contention >= CONTENDED)
        shown = f"  (CONTENDED at {', '.join(suspect)}: two cores ran as one)" if suspect else ""
        print(f"two processes at once against one alone, before each child: "
              f"{min(contended):.2f}x to {max(contended):.2f}x{shown}")


def _phase_cells(name: str, m: Measured) -> str:
    return (f"{name:<11} {m.events:>10,} {m.seconds:>9.2f} {m.rate:>10,.0f} {m.peak_mb:>8.0f}")


def _target_rows(result: YearResult, phase: str, by_target: dict[str, Check]) -> list[str]:
    rows = []
    for target_phase, anchor, _limit, _note in RATIO_TARGETS:
        check = by_target.get(f"{phase} vs {anchor}")
        if target_phase == phase and check is not None:
            rows.append(f"{anchor:<18} {result.anchors[anchor].rate:>11,.0f} "
                        f"{check.value:>7.3g}x {check.wanted:>12} {check.verdict:>6}")
    for target_phase, anchor in INFO_RATIOS:
        check = by_target.get(f"{phase} vs {anchor}")
        if target_phase == phase and check is not None:
            rows.append(f"{anchor:<18} {result.anchors[anchor].rate:>11,.0f} "
                        f"{check.value:>7.3g}x {'(no target)':>12} {check.verdict:>6}")
    return rows


def _anchor_note(name: str, m: Measured) -> str:
    extra = m.extra
    repeats = extra.get("repeats") or []
    best = (f"; fastest of {len(repeats)} ({', '.join(f'{r:.2f}' for r in repeats)} s)"
            if len(repeats) > 1 else "")
    if name == "library-save":
        return f"Application.save() of {extra['batch']:,} aggregates a call, msgpack"
    if name == "raw-insert":
        if "executemany_seconds" in extra:
            return (f"one transaction, binary COPY{best}; executemany "
                    f"{extra['executemany_seconds']:.2f} s; the faster ({extra['method']}) counts")
        return f"one transaction, sqlite3 executemany{best}"
    if name == "raw-replay":
        return (f"read + msgpack + totals ({extra['registered']:,} registered, "
                f"{extra['enrolled']:,} enrolled, {extra['claims']:,} claims, "
                f"Rp {extra['paid']:,} paid){best}")
    if name == "raw-fold":
        return (f"read + msgpack + fold into the projections' {extra['rows']:,} rows "
                f"({extra['tables']} tables), written in one transaction{best}")
    if name == "per-event-rebuild":
        ranges = " + ".join(f"{count:,} after {after:,}" for after, count in extra["ranges"])
        return f"a transaction per event, sample {ranges}{best}"
    return ""


def print_growth(checks: Sequence[Check]) -> None:
    if not checks:
        return
    print(f"\n### memory growth with the length of history ({checks[0].run})")
    for c in checks:
        print(f"{c.target:<26} {c.value:>6.2f}x ({c.note})  target {c.wanted:<8} {c.verdict}")


def print_summary(checks: Sequence[Check]) -> None:
    counted = [c for c in checks if c.counted]
    missed = [c for c in counted if not c.met]
    print(f"\n### targets: {len(counted) - len(missed)} of {len(counted)} met")
    for c in missed:
        print(f"MISSED  {c.run}: {c.target} = {_value(c)} (target {c.wanted})")


def _value(c: Check) -> str:
    if c.unit == "x":
        return f"{c.value:.3g}x"
    return f"{c.value:,.1f} {c.unit}"


def extrapolation(result: YearResult) -> dict[str, Any]:
    """Seconds at 10,000,000 workers, linear from the measured rates (stated as such)."""
    scale = EXTRAPOLATE_TO / result.plan.workers
    phases = {
        name: {
            "measured_seconds": round(result.phases[name].seconds, 2),
            "measured_events": result.phases[name].events,
            "events_per_second": round(result.phases[name].rate),
            "extrapolated_seconds": round(result.phases[name].seconds * scale, 1),
        }
        for name in SCALING_PHASES if name in result.phases
    }
    return {
        "from_workers": result.plan.workers,
        "to_workers": EXTRAPOLATE_TO,
        "assumption": "time grows linearly with the number of workers: each phase keeps the "
        "events per second measured at the smaller size (indexes deepen and caches overflow, "
        "so the real figure can only be worse)",
        "phases": phases,
        "report_median_ms_measured": {
            name: m.extra["median_ms"] for name, m in result.reports.items()
        },
    }


def print_extrapolation(data: dict[str, Any]) -> None:
    print(f"\n### extrapolation from {data['from_workers']:,} to {data['to_workers']:,} workers "
          "(PostgreSQL)")
    print(f"assumption: {data['assumption']}")
    for name, p in data["phases"].items():
        print(f"{name:<11} measured {p['measured_seconds']:>9.1f} s ({p['events_per_second']:,} "
              f"events/s) -> {p['extrapolated_seconds']:>9,.0f} s "
              f"({p['extrapolated_seconds'] / 60:,.1f} min)")
    medians = ", ".join(f"{k} {v:.0f} ms" for k, v in data["report_median_ms_measured"].items())
    print(f"report medians measured at {data['from_workers']:,}: {medians}")


# --- comparison with an earlier run ---------------------------------------------------------


def print_comparison(current: dict[str, Any], previous_path: Path) -> None:
    """Each phase's and anchor's events/s now, then, and now/then; report medians likewise."""
    try:
        previous = json.loads(previous_path.read_text())
    except (OSError, ValueError) as e:
        print(f"\n(cannot compare with {previous_path}: {e})")
        return
    print(f"\n### compared with {previous_path} ({previous.get('started', '?')}, commit "
          f"{str(previous.get('git', {}).get('commit', '?'))[:10]})")
    now_speed = current.get("machine", {}).get("speed")
    then_speed = previous.get("machine", {}).get("speed")
    if now_speed and then_speed:
        factor = then_speed["one_core_s"] / now_speed["one_core_s"]
        print(f"machine now: {describe(now_speed)}\nmachine then: {describe(then_speed)}\n"
              f"this machine did the fixed work {factor:.2f}x as fast as that one: a rate that "
              "changed by about as much changed with the machine, not the ledger")
    else:
        print("(one of the runs has no machine speed: rates compare machines as well)")
    earlier = {(r["store"], r["role"], r["plan"]["workers"]): r for r in previous.get("runs", [])}
    for run in current["runs"]:
        key = (run["store"], run["role"], run["plan"]["workers"])
        before = earlier.get(key)
        if before is None:
            print(f"{key[0]} {key[2]:,} workers ({key[1]}): not in the earlier run")
            continue
        print(f"{key[0]} {key[2]:,} workers ({key[1]})   events/s now / then = ratio")
        for group in ("phases", "anchors"):
            for name, now in run[group].items():
                then = before.get(group, {}).get(name)
                if then is None:
                    # An anchor added since (raw-fold, issue #14): nothing to set it against.
                    print(f"  {name:<20} {now['events_per_second']:>12,.0f} / "
                          f"{'(not measured then)':>12}")
                elif then["events_per_second"] and now["events_per_second"]:
                    r = now["events_per_second"] / then["events_per_second"]
                    print(f"  {name:<20} {now['events_per_second']:>12,.0f} / "
                          f"{then['events_per_second']:>12,.0f} = {r:6.2f}x")
        for name, now in run["reports"].items():
            then = before.get("reports", {}).get(name)
            if then:
                r = then["extra"]["median_ms"] / max(now["extra"]["median_ms"], 1e-9)
                print(f"  {name:<30} median {now['extra']['median_ms']:>8.1f} ms / "
                      f"{then['extra']['median_ms']:>8.1f} ms ({r:.2f}x as fast)")


# --- JSON -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were measured on: they mean little without it."""
    versions: dict[str, str | None] = {}
    for package in ("jamsos-ledger", "eventsourcing", "psycopg", "msgpack", "click"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "load_average": os.getloadavg(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "versions": versions,
    }


def git_state(root: Path) -> dict[str, Any]:
    """The commit measured, and whether the working tree differed from it."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line]
    return {"commit": git("rev-parse", "HEAD") or None, "changed_files": changed}


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
