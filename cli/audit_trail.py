"""`jamsos audit replay` and `jamsos audit log`: every figure re-derived from the events, and the
trail of who did what, when and why."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from itertools import islice
from typing import Any

import click

from jamsos_ledger.application.history_rules import RULES
from jamsos_ledger.application.moments import as_of_title
from jamsos_ledger.application.replay import CHECKS, ReplayReport, replay, replay_json
from jamsos_ledger.application.trail import TrailEntry, audit_trail
from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.errors import EXIT_DISCREPANCY
from jamsos_ledger.cli.options import NIK, as_of_option, format_option
from jamsos_ledger.cli.output import Column, echo_json, echo_table, progress_bar, wib
from jamsos_ledger.cli.report_forms import digest_line
from jamsos_ledger.cli.viewings import unmask_options, viewed
from jamsos_ledger.domain.money import count, counted
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.stores.integrity import digest_at

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
BREACH_COLUMNS = [
    Column("position", "#", "count"),
    Column("rule", "Rule"),
    Column("program", "Program"),
    Column("event", "Event"),
    Column("figures", "Figures"),
]



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

    Every event that moves money or places is also re-applied in log order through the
    program's rules, checked at every position: committed + paid within the allocation,
    enrolled within the quota, no month paid twice, each payment equal to its month's bill,
    no worker covered twice in a month. A breach exits 4 naming its position, the rule and the
    figures, even when the chain and the projections agree.
    """
    head = int(obj.ledger.recorder.max_notification_id() or 0)
    with progress_bar(head, "Replaying the event log") as advance:
        report = replay(obj.ledger, as_of, progress=advance)
    digest = digest_at(obj.ledger.recorder, report.position)
    if fmt == "json":
        echo_json(replay_json(report, digest))
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
        if report.history.ok:
            click.echo(
                f"Rules: every rule held at each of the {count(report.history.events)} events "
                f"that move money or places, up to position {count(report.history.position)}."
            )
        else:
            echo_table(
                BREACH_COLUMNS, [b.as_dict() for b in report.history.breaches],
                title=counted(report.history.total, "breach", "breaches")
                + " of the program's rules",
                caption="; ".join(f"{name}: {RULES[name]}" for name in
                                  dict.fromkeys(b.rule for b in report.history.breaches)),
            )
        if not report.differences:
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
        click.echo(digest_line(report.position, digest))
    if not report.history.ok:
        first = report.history.breaches[0]
        raise ReplayDisagrees(
            f"the history breaks the program's rules {counted(report.history.total, 'time')}; "
            f"first at position {count(first.position)} ({first.event} of program "
            f"{first.program}), rule {first.rule} ({RULES[first.rule]}): {first.figures}. The "
            "events were recorded without the rule that should have refused them (a forged "
            "or mis-sealed write, or a past bug): the events say what happened, not what was "
            "allowed."
            + _differences_text(report)
        )
    if report.differences:
        text = _differences_text(report).lstrip()
        raise ReplayDisagrees(text[0].lower() + text[1:])


def _differences_text(report: ReplayReport) -> str:
    """The differences found, for the error message (a leading space before it)."""
    if not report.differences:
        return ""
    shown = "; ".join(
        f"{d.report} {d.key} {d.field}: expected {_text(d.expected)}, found "
        f"{_text(d.found)} ({d.check})"
        for d in report.differences[:SHOWN_DIFFERENCES]
    )
    more = len(report.differences) - SHOWN_DIFFERENCES
    return (
        f" The replay found {counted(len(report.differences), 'difference')} in "
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
@unmask_options
@pass_ledger
def log_command(
    obj: LedgerContext, nik: str | None, fmt: str, unmask: bool, reason: str | None
) -> None:
    """The chronological trail: time, actor, event, what changed and its reference (decree,
    SP2D, claim reference or reason); NIKs masked, names as initials, birth dates as years.

    With --unmask and --reason they are shown in full, to an auditor or operator, and the
    viewing is recorded first (who, whose, when, why: `jamsos audit viewings`)."""
    if unmask:
        viewed(obj, "audit log", reason, [nik.strip()] if nik else [])
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
        "actor": _actor(entry),
        "event": entry.event,
        "aggregate": entry.aggregate,
        "changes": _changes(entry.changes.items()),
        "reference": entry.reference,
    }


def _actor(entry: TrailEntry) -> str:
    """The principal whose key sealed the event; the name the event records beside it when
    they differ (a write that went round the service), or `(unsealed)` when no seal covers
    it (`audit verify` says why)."""
    if entry.sealed_by is None:
        return f"{entry.actor} (unsealed)"
    if entry.sealed_by != entry.actor:
        return f"{entry.sealed_by} (declared {entry.actor})"
    return entry.sealed_by


def _changes(items: Iterable[tuple[str, Any]]) -> str:
    return ", ".join(f"{k}={_text(v)}" for k, v in items)


def _text(value: Any) -> str:
    return "-" if value is None else str(value)
