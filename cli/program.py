"""`jamsos program`: open a program, amend it, read its terms, figures and capacity."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import MONTH, format_option, rupiah_option, workers_range
from jamsos_ledger.cli.output import Column, echo_fields, echo_json, echo_recorded, render
from jamsos_ledger.cli.report_forms import echo_position
from jamsos_ledger.domain.model import Program
from jamsos_ledger.domain.money import count, counted, rupiah
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.rules import DEFAULT_JKK_MONTHLY, DEFAULT_JKM_MONTHLY
from jamsos_ledger.domain.whatif import amended, capacity_by_start


@click.group()
def program() -> None:
    """Open, amend and show a program (allocation, quota, premiums); its capacity for more."""


@program.command("open")
@click.option("--year", type=click.IntRange(1900, 9999), required=True, help="Fiscal year.")
@rupiah_option("--allocation", "The allocation (pagu) in rupiah.", required=True)
@click.option("--quota", type=workers_range(), required=True, help="Workers it may cover.")
@click.option("--start", type=MONTH, help="First month of the period [default: January].")
@click.option("--end", type=MONTH, help="Last month of the period [default: December].")
@rupiah_option("--jkk-monthly", f"JKK premium a month [default: {DEFAULT_JKK_MONTHLY}].")
@rupiah_option("--jkm-monthly", f"JKM premium a month [default: {DEFAULT_JKM_MONTHLY}].")
@click.option("--name", help="Name of the program, e.g. 'SIGAP 2026'.")
@click.option(
    "--code", metavar="ID", help="Its id for --program [default: the name, else the year]."
)
@pass_ledger
def open_command(
    obj: LedgerContext,
    year: int,
    allocation: int,
    quota: int,
    start: Month | None,
    end: Month | None,
    jkk_monthly: int | None,
    jkm_monthly: int | None,
    name: str | None,
    code: str | None,
) -> None:
    """Open a program for a fiscal year (by default January to December); the first one
    creates the ledger, where --store says."""
    ledger = obj.creating()
    p = ledger.open_program(
        year=year,
        allocation=allocation,
        quota=quota,
        start=start,
        end=end,
        jkk_monthly=DEFAULT_JKK_MONTHLY if jkk_monthly is None else jkk_monthly,
        jkm_monthly=DEFAULT_JKM_MONTHLY if jkm_monthly is None else jkm_monthly,
        name=name,
        code=code,
    )
    echo_recorded(
        f"Opened program {p.code} ({p.name}): {p.start} to {p.end}, allocation "
        f"{rupiah(p.allocation)}, quota {count(p.quota)}, premium {rupiah(p.premium.total)} a "
        f"month (JKK {rupiah(p.premium.jkk)} + JKM {rupiah(p.premium.jkm)})"
    )
    fit = p.capacity(p.start)
    click.echo(f"{counted(fit, 'worker')} {'fits' if fit == 1 else 'fit'} for the whole period")
    if ledger.created:
        click.echo(f"Created the ledger at {ledger.store.where()}")


@program.command("amend")
@rupiah_option("--allocation", "The new allocation (pagu) in rupiah.")
@click.option("--quota", type=workers_range(), help="The new quota.")
@click.option("--reason", required=True, help="Why: the decree or budget document (APBD-P).")
@pass_ledger
def amend_command(
    obj: LedgerContext, allocation: int | None, quota: int | None, reason: str
) -> None:
    """Raise or cut the allocation or the quota by amendment, never below what is used."""
    if allocation is None and quota is None:
        raise click.UsageError("give --allocation, --quota or both")
    before = obj.program()
    after = obj.ledger.amend_program(
        obj.program_code, allocation=allocation, quota=quota, reason=reason
    )
    changes = []
    if after.allocation != before.allocation:
        changes.append(f"allocation {rupiah(before.allocation)} -> {rupiah(after.allocation)}")
    if after.quota != before.quota:
        changes.append(f"quota {count(before.quota)} -> {count(after.quota)}")
    if not changes:
        click.echo(f"Program {after.code} already has these terms: nothing was recorded")
        return
    echo_recorded(f"Amended program {after.code}: {', '.join(changes)} ({reason})")
    click.echo(f"Available {rupiah(after.available)}, places left {count(after.places_left)}")


def figures(p: Program) -> dict[str, Any]:
    """A program's terms and figures, as plain integers."""
    return {
        "program": p.code,
        "name": p.name,
        "year": p.year,
        "start": str(p.start),
        "end": str(p.end),
        "months": p.months,
        "ruleset": p.ruleset,
        "jkk_monthly": p.premium.jkk,
        "jkm_monthly": p.premium.jkm,
        "premium_monthly": p.premium.total,
        "allocation": p.allocation,
        "committed": p.committed.total,
        "paid": p.paid_total.total,
        "overpaid": p.overpaid.total,
        "available": p.available,
        "quota": p.quota,
        "enrolled": p.enrolled,
        "places_left": p.places_left,
    }


@program.command("show")
@format_option("table", "json")
@pass_ledger
def show_command(obj: LedgerContext, fmt: str) -> None:
    """Show a program's terms and its figures now."""
    p = obj.program()
    data = figures(p)
    if fmt == "json":
        echo_json(data)
        return
    echo_fields(
        [
            ("Program", f"{p.code} ({p.name}), fiscal year {p.year}"),
            ("Period", f"{p.start} to {p.end} ({counted(p.months, 'month')})"),
            ("Premium", f"{rupiah(p.premium.total)} a month: JKK {rupiah(p.premium.jkk)} + "
                        f"JKM {rupiah(p.premium.jkm)}"),
            ("Priority", p.ruleset),
            ("Allocation", rupiah(p.allocation)),
            ("Committed", rupiah(data["committed"])),
            ("Paid", rupiah(data["paid"])),
            ("Overpaid", rupiah(data["overpaid"])),
            ("Available", rupiah(p.available)),
            ("Quota", count(p.quota)),
            ("Enrolled", count(p.enrolled)),
            ("Places left", count(p.places_left)),
        ],
        title=f"Program {p.code}",
    )


CAPACITY_COLUMNS = [
    Column("start", "Start"),
    Column("months", "Months", "count"),
    Column("cost_per_worker", "Cost a worker", "money"),
    Column("workers", "Workers that fit", "count"),
    Column("commits", "Would commit", "money"),
    Column("limited_by", "Limited by"),
]
WHAT_IF_COLUMNS = [
    Column("workers_amended", "Fit if amended", "count"),
    Column("more", "Change", "count"),
    Column("limited_by_amended", "Then limited by"),
]


@program.command("capacity")
@click.option(
    "--start", type=MONTH, help="Coverage starting this month [default: the program's start]."
)
@rupiah_option("--allocation", "What if the allocation were amended to this (nothing is saved).")
@click.option("--quota", type=workers_range(),
              help="What if the quota were amended to this (nothing is saved).")
@format_option()
@pass_ledger
def capacity_command(
    obj: LedgerContext,
    start: Month | None,
    allocation: int | None,
    quota: int | None,
    fmt: str,
) -> None:
    """How many more workers the money and the places can cover from a start month.

    The table shows the given start and every later start month of the period, and what runs
    out first. With --allocation or --quota, it also shows what that amendment would change
    (checked as `program amend` would check it; nothing is recorded).
    """
    p = obj.program()
    first = start or p.start
    rows: list[dict[str, Any]] = [asdict(c) | {"start": str(c.start)}
                                  for c in capacity_by_start(p, first)]
    columns = list(CAPACITY_COLUMNS)
    what_if: dict[str, Any] | None = None
    if allocation is not None or quota is not None:
        q = amended(p, allocation=allocation, quota=quota)
        for row, c in zip(rows, capacity_by_start(q, first), strict=True):
            row.update(workers_amended=c.workers, more=c.workers - row["workers"],
                       commits_amended=c.commits, limited_by_amended=c.limited_by)
        columns += WHAT_IF_COLUMNS
        what_if = {
            "allocation": q.allocation,
            "quota": q.quota,
            "available": q.available,
            "places_left": q.places_left,
            "workers": rows[0]["workers_amended"],
            "more": rows[0]["more"],
        }
    head = rows[0]
    at = int(obj.ledger.recorder.max_notification_id() or 0)
    data = {
        "program": p.code,
        "start": head["start"],
        "months": head["months"],
        "workers": head["workers"],
        "commits": head["commits"],
        "limited_by": head["limited_by"],
        "available": p.available,
        "places_left": p.places_left,
        "by_start": rows,
        "position": at,
        **({"what_if": what_if} if what_if else {}),
    }
    caption = (
        f"{counted(head['workers'], 'more worker')} {'fits' if head['workers'] == 1 else 'fit'}"
        f" from {head['start']}: {rupiah(p.available)} available, "
        f"{counted(p.places_left, 'place')} left"
    )
    if what_if:
        caption += (
            f". Amended to {rupiah(what_if['allocation'])} and a quota of "
            f"{count(what_if['quota'])}: {count(what_if['workers'])} "
            f"{'fits' if what_if['workers'] == 1 else 'fit'} "
            f"({'+' if what_if['more'] >= 0 else '-'}{count(abs(what_if['more']))})"
        )
    render(fmt, columns, rows, data=data, title=f"Capacity of {p.code}", caption=caption,
           summary={"available": p.available, "places_left": p.places_left, "position": at})
    if fmt == "table":
        echo_position(at)
