"""`jamsos audit replay` and `jamsos audit log`: every figure re-derived from the events, and the
trail of who did what, when and why."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from itertools import islice
from typing import Any

import click

from jamsos_ledger.application.moments import as_of_title
from jamsos_ledger.application.replay import CHECKS, ReplayReport, replay
from jamsos_ledger.application.trail import TrailEntry, audit_trail
from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.errors import EXIT_DISCREPANCY
from jamsos_ledger.cli.options import NIK, as_of_option, format_option
from jamsos_ledger.cli.output import Column, echo_json, echo_table, progress_bar, wib
from jamsos_ledger.domain.money import count, counted
from jamsos_ledger.domain.nik import mask_nik

# Differences named in the error message (all of them are in the table or the JSON).
SHOWN_DIFFERENCES = 5
# Rows of the trail in one table: the log is streamed, a long one printed table after table.
TRAIL_PAGE = 1_000


class ReplayDisagrees(click.ClickException):
    """The projections disagree with the figures re-derived from the events (exit 4)."""

    exit_code = EXIT_DISCREPANCY


COMPARED_COLUMNS = [
    Column("check", "Check"),
    Column("report", "Report"),
    Column("rows", "Rows", "count"),
    Column("figures", "Figures", "count"),
]
DIFFERENCE_COLUMNS = [
    Column("check", "Check"),
    Column("report", "Report"),
    Column("key", "Key"),
    Column("field", "Field"),
    Column("expected", "Expected"),
    Column("found", "Found"),
]


def _report_json(report: ReplayReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "as_of": None if report.when is None else report.when.isoformat(),
        "position": report.position,
        "events": report.events,
        "programs": report.programs,
        "figures": report.figures,
        "checks": CHECKS,
        "compared": [vars(c) for c in report.compared],
        "differences": [vars(d) for d in report.differences],
    }


@click.command("replay")
@as_of_option()
@format_option("table", "json")
@pass_ledger
def replay_command(obj: LedgerContext, as_of: datetime | None, fmt: str) -> None:
    """Re-derive every figure of every report from the events alone and compare (exit 4 if any
    differs).

    Without --as-of, projections rebuilt from the whole log in a private database are compared,
    report by report, with the live projection tables, and the rebuilt budget and quota with
    each program's own books (rebuilt from the program's events). With --as-of, the figures as
    of then are compared with the programs' books as of then. The log is read in pages.
    """
    head = int(obj.ledger.recorder.max_notification_id() or 0)
    with progress_bar(head, "Replaying the event log") as advance:
        report = replay(obj.ledger, as_of, progress=advance)
    if fmt == "json":
        echo_json(_report_json(report))
    else:
        title = (
            f"Replay{as_of_title(report.when)}: {counted(report.events, 'event')} read (up to "
            f"position {count(report.position)}), {counted(report.programs, 'program')}"
        )
        rows = [vars(c) for c in report.compared]
        echo_table(
            COMPARED_COLUMNS, rows, title=title,
            caption="; ".join(f"{name}: {text}" for name, text in CHECKS.items()
                              if any(r["check"] == name for r in rows)),
        )
        if report.ok:
            click.echo(
                "No differences: "
                + (f"all {counted(report.figures, 'figure')} compared agree" if report.figures != 1
                   else "the 1 figure compared agrees")
                + " with the events."
            )
        else:
            echo_table(
                DIFFERENCE_COLUMNS,
                [{**vars(d), "expected": _text(d.expected), "found": _text(d.found)}
                 for d in report.differences],
                title=counted(len(report.differences), "difference"),
            )
    if not report.ok:
        shown = "; ".join(
            f"{d.report} {d.key} {d.field}: expected {_text(d.expected)}, found "
            f"{_text(d.found)} ({d.check})"
            for d in report.differences[:SHOWN_DIFFERENCES]
        )
        more = len(report.differences) - SHOWN_DIFFERENCES
        raise ReplayDisagrees(
            f"the replay found {counted(len(report.differences), 'difference')} in "
            f"{counted(report.figures, 'figure')}: {shown}"
            f"{f' (and {count(more)} more)' if more > 0 else ''}. Expected is what the events "
            "say; found is what the projection tables hold (projections) or what the replayed "
            "projections hold against the programs' own books (books). Rebuild the projections "
            "(`projections rebuild`) once the cause is understood."
        )


TRAIL_COLUMNS = [
    Column("time", "Time (WIB)"),
    Column("position", "#", "count"),
    Column("actor", "Actor"),
    Column("event", "Event"),
    Column("aggregate", "Of"),
    Column("changes", "What changed"),
    Column("reference", "Reference"),
]


@click.command("log")
@click.option("--nik", type=NIK, help="Only this worker's events, and the program events "
              "that name the worker.")
@format_option("table", "jsonl")
@click.option(
    "--unmask",
    is_flag=True,
    help="Show NIKs, names and birth dates in full. They are personal data protected by "
    "UU 27/2022 (Pelindungan Data Pribadi): use only where the audit needs them.",
)
@pass_ledger
def log_command(obj: LedgerContext, nik: str | None, fmt: str, unmask: bool) -> None:
    """The chronological trail: time, actor, event, what changed and its reference (decree,
    SP2D, claim reference or reason); NIKs masked, names as initials, birth dates as years."""
    entries = audit_trail(obj.ledger, nik, unmask=unmask)
    if fmt == "jsonl":
        for entry in entries:
            click.echo(json.dumps(entry.as_dict(), ensure_ascii=False))
        return
    shown = 0
    title = "Audit trail"
    if nik:
        title += f" of {nik.strip() if unmask else mask_nik(nik.strip())}"
    while page := list(islice(entries, TRAIL_PAGE)):
        echo_table(TRAIL_COLUMNS, [_trail_row(e) for e in page], title=title if not shown else None)
        shown += len(page)
    click.echo(counted(shown, "event"))


def _trail_row(entry: TrailEntry) -> dict[str, Any]:
    return {
        "time": wib(entry.time),
        "position": entry.position,
        "actor": entry.actor,
        "event": entry.event,
        "aggregate": entry.aggregate,
        "changes": _changes(entry.changes.items()),
        "reference": entry.reference,
    }


def _changes(items: Iterable[tuple[str, Any]]) -> str:
    return ", ".join(f"{k}={_text(v)}" for k, v in items)


def _text(value: Any) -> str:
    return "-" if value is None else str(value)
