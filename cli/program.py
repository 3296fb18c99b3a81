"""`jamsos program`: open a program, amend it, read its terms, figures and capacity."""

from __future__ import annotations

import click

from jamsos_ledger.application import default_actor
from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import MONTH, format_option, rupiah_option, workers_range
from jamsos_ledger.cli.output import Column, echo_fields, echo_json, echo_recorded, render
from jamsos_ledger.cli.proposals import said_proposed
from jamsos_ledger.cli.report_forms import echo_position, where_columns
from jamsos_ledger.domain.money import count, counted, rupiah
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.rules import DEFAULT_JKK_MONTHLY, DEFAULT_JKM_MONTHLY
from jamsos_ledger.projections.program_reports import capacity_report, program_figures
from jamsos_ledger.projections.report_values import report_json


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
@click.option(
    "--admin-name",
    metavar="NAME",
    help="Creating the ledger: the name of its administrator, whose key (--key) it is "
    "[default: --actor, else the OS user].",
)
@click.option(
    "--admin-office",
    metavar="OFFICE",
    default="",
    help="Creating the ledger: the administrator's office, e.g. Diskominfo.",
)
@click.option(
    "--four-eyes/--one-key",
    default=True,
    show_default=True,
    help="Four eyes (the default): enrolment decrees, monthly payments, amendments, "
    "reversals of payments and annulments of enrolments are proposed and take effect only "
    "when a second principal approves them "
    "(`jamsos proposals`). --one-key lets one principal holding the role act alone, for a "
    "small office without a second officer. The choice is recorded in the program's terms "
    "and shown by `program show`; `audit verify` lists what one principal moved alone on it.",
)
@click.option(
    "--reason",
    "one_key_reason",
    metavar="TEXT",
    help="With --one-key: why one key suffices (e.g. 'one officer at Disnaker, SK 12/2026'), "
    "recorded in the program's terms and shown by `program show`.",
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
    admin_name: str | None,
    admin_office: str,
    four_eyes: bool,
    one_key_reason: str | None,
) -> None:
    """Open a program for a fiscal year (by default January to December); the first one
    creates the ledger, where --store says, and makes the holder of --key its administrator:
    the fingerprint of that key, printed then, is what auditors keep.

    By default the program has four eyes: `enroll`, `premiums pay`, `program amend`,
    `premiums reverse` and `annul` only propose, and a second principal approves
    (`jamsos proposals approve`). A small office opens it with --one-key instead, and that
    choice is recorded, with its reason when given (--reason). Either way `audit verify` lists,
    for auditors, every program of one key and the money and places one principal moved on it
    alone.
    """
    if one_key_reason is not None and four_eyes:
        raise click.UsageError("--reason says why a program runs with one key: give it with "
                               "--one-key (nothing was written)")
    ledger = obj.creating()
    root = None
    if ledger.signing.root_seal() is None and not ledger.recorder.max_notification_id():
        root = ledger.signing.establish_root(
            admin_name or obj.actor or default_actor(), admin_office
        )
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
        four_eyes=four_eyes,
        one_key_reason=one_key_reason or "",
    )
    eyes = (
        "; four eyes on" if p.four_eyes
        else "; one key (four eyes off): one principal with the role acts alone"
        + (f" ({p.one_key_reason})" if p.one_key_reason else "")
    )
    echo_recorded(
        f"Opened program {p.code} ({p.name}): {p.start} to {p.end}, allocation "
        f"{rupiah(p.allocation)}, quota {count(p.quota)}, premium {rupiah(p.premium.total)} a "
        f"month (JKK {rupiah(p.premium.jkk)} + JKM {rupiah(p.premium.jkm)}){eyes}"
    )
    fit = p.capacity(p.start)
    click.echo(f"{counted(fit, 'worker')} {'fits' if fit == 1 else 'fit'} for the whole period")
    if ledger.created:
        click.echo(f"Created the ledger at {ledger.store.where()}")
    if root is not None:
        click.echo(
            f"Administrator: {root.principal}, key fingerprint {root.fingerprint}\n"
            "Keep this fingerprint outside the system: auditors check the ledger against it "
            "(`jamsos audit verify --root FINGERPRINT`)"
        )


@program.command("amend")
@rupiah_option("--allocation", "The new allocation (pagu) in rupiah.")
@click.option("--quota", type=workers_range(), help="The new quota.")
@click.option("--reason", required=True, help="Why: the decree or budget document (APBD-P).")
@pass_ledger
def amend_command(
    obj: LedgerContext, allocation: int | None, quota: int | None, reason: str
) -> None:
    """Raise or cut the allocation or the quota by amendment, never below what is used.

    A program with four eyes on (the default; `program open --one-key` turns it off) takes
    it as a proposal, checked now, changing nothing until another principal holding the role
    approver approves it (`jamsos proposals approve`).
    """
    if allocation is None and quota is None:
        raise click.UsageError("give --allocation, --quota or both")
    before = obj.program()
    if before.four_eyes:
        said_proposed(obj.ledger.propose_amendment(
            before.code, allocation=allocation, quota=quota, reason=reason
        ))
        return
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


@program.command("show")
@format_option("table", "json")
@pass_ledger
def show_command(obj: LedgerContext, fmt: str) -> None:
    """Show a program's terms and its figures now."""
    program = obj.program()
    f = program_figures(program, obj.ledger.recorder)
    if fmt == "json":
        echo_json(report_json(f))
        return
    echo_fields(
        [
            ("Program", f"{f.program} ({f.name}), fiscal year {f.year}"),
            ("Period", f"{f.start} to {f.end} ({counted(f.months, 'month')})"),
            ("Premium", f"{rupiah(f.premium_monthly)} a month: JKK {rupiah(f.jkk_monthly)} + "
                        f"JKM {rupiah(f.jkm_monthly)}"),
            ("Priority", f.ruleset),
            ("Four eyes", "on: decrees, payments, amendments, reversals and annulments by "
                          "proposal and approval"
             if program.four_eyes
             else "off (--one-key): one principal acts alone"
             + (f"; why: {program.one_key_reason}" if program.one_key_reason else "")),
            ("Allocation", rupiah(f.allocation)),
            ("Committed", rupiah(f.committed)),
            ("Paid", rupiah(f.paid)),
            ("Overpaid", rupiah(f.overpaid)),
            ("Available", rupiah(f.available)),
            ("Quota", count(f.quota)),
            ("Enrolled", count(f.enrolled)),
            ("Places left", count(f.places_left)),
        ],
        title=f"Program {f.program}",
    )
    echo_position(f.position, f.digest)


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
    report = capacity_report(p, start or p.start, obj.ledger.recorder,
                             allocation=allocation, quota=quota)
    what_if = report.what_if
    columns = CAPACITY_COLUMNS + (WHAT_IF_COLUMNS if what_if else [])
    caption = (
        f"{counted(report.workers, 'more worker')} {'fits' if report.workers == 1 else 'fit'}"
        f" from {report.start}: {rupiah(p.available)} available, "
        f"{counted(p.places_left, 'place')} left"
    )
    if what_if:
        caption += (
            f". Amended to {rupiah(what_if.allocation)} and a quota of "
            f"{count(what_if.quota)}: {count(what_if.workers)} "
            f"{'fits' if what_if.workers == 1 else 'fit'} "
            f"({'+' if what_if.more >= 0 else '-'}{count(abs(what_if.more))})"
        )
    data = report_json(report)
    render(fmt, columns, data["by_start"], data=data, title=f"Capacity of {p.code}",
           caption=caption, summary={"available": p.available, "places_left": p.places_left,
                                     **where_columns(report.position, report.digest)})
    if fmt == "table":
        echo_position(report.position, report.digest)
