"""The work of the Bekasi year, as child tasks: the real `jamsos` commands, run in-process.

Each task runs in a child process (`child.py`) whose environment names the ledger
(`JAMSOS_STORE`). Commands are invoked through the CLI's own click group, exactly as `jamsos`
parses and runs them (global options, error translation, exit codes, output), minus the
interpreter's start-up: that is the same for every command and is not what the benchmark
measures. The timed section holds only the invocations; reading the log head before and after
(to count the events a phase wrote) and finding enrolled workers for the claims are not timed.
"""

from __future__ import annotations

import csv
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from outcome import TaskFailed, figures

ACTOR = "bench.operator"
# The demo's folder: its registration file generator makes the benchmark's file.
DEMO = Path(__file__).resolve().parent.parent / "demo"


class Jamsos:
    """The `jamsos` command, invoked in this process as a shell script would run it."""

    def __init__(self) -> None:
        from jamsos_ledger.cli import main

        self.group = main

    def __call__(self, args: Sequence[str]) -> int:
        """Run one command line; its exit code (README, "Exit codes"), 0 when it returned normally.

        What click's `main()` does, minus `sys.exit`: the context is closed at the end, so the
        ledger the command opened is closed as it would be at the end of a process.
        """
        try:
            with self.group.make_context("jamsos", ["--actor", ACTOR, *args]) as ctx:
                self.group.invoke(ctx)
        except click.exceptions.Exit as e:
            return e.exit_code
        except click.ClickException as e:
            e.show()
            return e.exit_code
        except click.exceptions.Abort:
            return 1
        return 0


def store_url() -> str:
    return os.environ["JAMSOS_STORE"]


def ledger_head(url: str) -> int:
    """The position of the last event in the ledger's log (0 when empty)."""
    from jamsos_ledger.application import Ledger

    ledger = Ledger(url, actor="bench")
    try:
        return int(ledger.recorder.max_notification_id() or 0)
    finally:
        ledger.close()


def _run(jamsos: Jamsos, args: Sequence[str]) -> float:
    """Seconds one command took; TaskFailed unless it exited 0."""
    started = time.perf_counter()
    code = jamsos(args)
    seconds = time.perf_counter() - started
    if code != 0:
        raise TaskFailed(f"`jamsos {' '.join(args)}` exited {code} (see the log for its message)")
    return seconds


# --- tasks ----------------------------------------------------------------------------------


def generate(params: dict[str, Any]) -> dict[str, Any]:
    """Write the registration file: exactly `workers` valid rows, none repeated."""
    # The demo's generator, a script of the repository (demo/), not of the installed package.
    sys.path.insert(0, str(DEMO))
    from registration_file import generate_registrations

    started = time.perf_counter()
    held = generate_registrations(
        Path(params["path"]), params["workers"], bad_rate=0.0, duplicate_rate=0.0
    )
    seconds = time.perf_counter() - started
    if held["rows"] != params["workers"] or held["bad_nik"] or held["duplicates"]:
        raise TaskFailed(f"the registration file holds {held}, not {params['workers']} good rows")
    return figures(seconds, held["rows"])


def commands(params: dict[str, Any]) -> dict[str, Any]:
    """Run command lines one after the other, timing them together.

    `count` says what the phase's events are: `written` (the log grew by them) or `read`
    (replay, rebuild, verify read the whole log: its head).
    """
    jamsos = Jamsos()
    url = store_url()
    before = ledger_head(url)  # also imports what the first command would import lazily
    each = [_run(jamsos, args) for args in params["commands"]]
    after = ledger_head(url)
    events = after - before if params["count"] == "written" else after
    return figures(sum(each), events, head=after, each_seconds=each)


def claims(params: dict[str, Any]) -> dict[str, Any]:
    """File `claims` claims for enrolled workers, a tenth of them deaths (JKM) whose coverage
    is then ended; some with the benefit BPJS paid. One process, one command at a time."""
    niks = enrolled_niks(Path(params["csv"]), params["claims"])
    lines: list[list[str]] = []
    deaths = params["deaths"]
    for i, nik in enumerate(niks):
        month = 1 + i % 12
        day = 1 + (i * 7) % 28
        when = f"2026-{month:02d}-{day:02d}"
        if i < deaths:
            lines.append(["claims", "file", "--nik", nik, "--scheme", "JKM", "--date", when,
                          "--reference", f"JKM-2026-{i:06d}", "--benefit", "42000000"])
            lines.append(["end", "--nik", nik, "--month", f"2026-{month:02d}", "--reason", "died"])
        else:
            benefit = ["--benefit", str(1_000_000 + 25_000 * i)] if i % 3 == 0 else []
            lines.append(["claims", "file", "--nik", nik, "--scheme", "JKK", "--date", when,
                          "--reference", f"JKK-2026-{i:06d}", *benefit])
    jamsos = Jamsos()
    url = store_url()
    before = ledger_head(url)
    each = [_run(jamsos, args) for args in lines]
    after = ledger_head(url)
    return figures(sum(each), after - before, head=after, commands=len(lines), claims=len(niks),
                   deaths=deaths)


def enrolled_niks(registrations: Path, wanted: int) -> list[str]:
    """NIKs of enrolled workers, looked up as an operator would (as the demo does), by NIK.

    The best-ranked are enrolled, and ranks follow the file's order within a decile, so the
    scan stops early; it is not timed.
    """
    from jamsos_ledger.application import Ledger

    ledger = Ledger(store_url(), actor="bench")
    try:
        program = ledger.program()
        found: list[str] = []
        with registrations.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if program.id in ledger.worker(row["nik"]).coverages:
                    found.append(row["nik"])
                    if len(found) == wanted:
                        return found
    finally:
        ledger.close()
    raise TaskFailed(f"found {len(found)} enrolled workers, fewer than the {wanted} claims need")


def reports(params: dict[str, Any]) -> dict[str, Any]:
    """Run each report command `repeat` times; every invocation timed on its own.

    The first invocation also pays for what the command imports lazily (its max shows it);
    the target is on the median.
    """
    jamsos = Jamsos()
    head = ledger_head(store_url())
    found: dict[str, dict[str, Any]] = {}
    for name, args in params["reports"].items():
        ms = [_run(jamsos, args) * 1000 for _ in range(params["repeat"])]
        found[name] = {
            "times_ms": [round(t, 2) for t in ms],
            "median_ms": round(statistics.median(ms), 2),
            "max_ms": round(max(ms), 2),
        }
    seconds = sum(sum(r["times_ms"]) for r in found.values()) / 1000
    return figures(seconds, 0, head=head, reports=found)


def idle(params: dict[str, Any]) -> dict[str, Any]:
    """Import the CLI and open the ledger, nothing else: the memory every phase starts from."""
    Jamsos()
    return figures(0.0, 0, head=ledger_head(store_url()))


TASKS = {
    "generate": generate,
    "commands": commands,
    "claims": claims,
    "reports": reports,
    "idle": idle,
}
