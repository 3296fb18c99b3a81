"""`jamsos premiums`: pay a month's bill under an SP2D, and see what is due."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import DATE, MONTH, format_option, rupiah_option
from jamsos_ledger.cli.output import Column, echo_recorded, render, warn
from jamsos_ledger.cli.proposals import said_proposed
from jamsos_ledger.cli.report_forms import echo_position, where_columns
from jamsos_ledger.domain.billing import due_date
from jamsos_ledger.domain.money import counted, rupiah
from jamsos_ledger.domain.months import Month, today_in_jakarta
from jamsos_ledger.domain.texts import normal_spaces
from jamsos_ledger.files.invoice_file import invoice_digest
from jamsos_ledger.projections.premiums_due import premiums_due_report
from jamsos_ledger.projections.report_values import BillDue, report_json

__all__ = ["due_date", "premiums"]


@click.group()
def premiums() -> None:
    """Premium bills: reconcile BPJS's invoice, pay a month under an SP2D, reverse a payment,
    list months due."""


@premiums.command("pay")
@click.option("--month", type=MONTH, required=True, help="The month billed.")
@click.option("--sp2d", required=True, metavar="REF", help="The disbursement order (unique).")
@rupiah_option("--amount", "The amount paid, checked against the bill.")
@click.option("--invoice", "invoice_path",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="BPJS's invoice of the month, reconciled with `premiums reconcile`: pay "
                   "what it agreed.")
@pass_ledger
def pay_command(
    obj: LedgerContext, month: Month, sp2d: str, amount: int | None, invoice_path: Path | None
) -> None:
    """Pay a month's bill for every covered participant not yet paid for it, under one SP2D.

    With --invoice, the file reconciled last for the month (`premiums reconcile`): only the
    participants its reconciliation agreed are paid; another file is refused (exit 1).

    A program with four eyes on (the default; `program open --one-key` turns it off) takes it
    as a proposal, checked now, paying nothing until another principal holding the role
    finance approves it (`jamsos proposals approve`). It pays the amount and participants it
    showed: if the bill has changed by then, the approval is refused with both figures.
    """
    four_eyes = obj.program().four_eyes
    # Before the invoice is read: a principal without the role learns that (exit 7).
    obj.ledger.check_role("propose_payment" if four_eyes else "pay_premiums")
    invoice = None if invoice_path is None else invoice_digest(invoice_path)
    if four_eyes:
        said_proposed(obj.ledger.propose_payment(
            month=month, sp2d=sp2d, amount=amount, code=obj.program_code, invoice=invoice
        ))
        return
    participants, paid = obj.ledger.pay_premiums(
        month=month, sp2d=sp2d, amount=amount, code=obj.program_code, invoice=invoice
    )
    echo_recorded(
        f"Paid {rupiah(paid)} for {counted(participants, 'participant')} in {month} under SP2D "
        f"{normal_spaces(sp2d)}"
    )
    earlier = obj.program().unpaid_before(month)
    if earlier:
        warn(
            f"{month} is paid while {month_list(earlier)} "
            f"{'is' if len(earlier) == 1 else 'are'} still unpaid: BPJS makes a month's "
            "participants inactive once it is three months unpaid (`jamsos premiums due` "
            "lists the bills)"
        )


def month_list(months: Iterable[Month]) -> str:
    """Months as people read them: runs of three or more consecutive months as ranges, e.g.
    `2026-02, 2026-04 to 2026-09, 2026-11 and 2026-12`."""
    runs: list[list[Month]] = []
    for m in sorted(months):
        if runs and runs[-1][-1] + 1 == m:
            runs[-1].append(m)
        else:
            runs.append([m])
    parts = [f"{r[0]} to {r[-1]}" if len(r) > 2 else str(m) for r in runs
             for m in (r[:1] if len(r) > 2 else r)]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


DUE_COLUMNS = [
    Column("month", "Month"),
    Column("participants", "Unpaid participants", "count"),
    Column("amount", "Amount", "money"),
    Column("due", "Due by"),
    Column("months_unpaid", "Months unpaid", "count"),
    Column("deactivation", "Inactive at BPJS from"),
    Column("status", "Status"),
]


@premiums.command("due")
@click.option("--today", type=DATE, help="The date to look from [default: today, Asia/Jakarta].")
@format_option()
@pass_ledger
def due_command(obj: LedgerContext, today: date | None, fmt: str) -> None:
    """List the bills of the months up to this one with participants not yet paid for.

    A month's bill is due by the 15th of the next month, moved to the next working day when
    that is a weekend, a national holiday or a cuti bersama (the ledger ships the holidays of
    each year's SKB 3 Menteri). Months unpaid for two months or more are warned about, with the
    date BPJS would make their participants inactive (three months unpaid).
    """
    today = today or today_in_jakarta()
    p = obj.program()
    report = premiums_due_report(obj.ledger.views, p.id, p.code, today)
    rows: list[dict[str, Any]] = report_json(report)
    caption = (
        f"{rupiah(report.total_amount)} due for {counted(len(rows), 'month')} up to "
        f"{report.month}"
        if rows
        else f"Nothing due: every covered month up to {report.month} is paid"
    )
    render(fmt, DUE_COLUMNS, rows, summary={"total_amount": report.total_amount,
                                            **where_columns(report.position, report.digest)},
           title=f"Premiums due in {p.code} on {today}", caption=caption)
    if fmt == "table":
        echo_position(report.position, report.digest)
    at_risk = [b for b in report.bills if b.at_risk]
    if at_risk:
        warn(_at_risk_warning(at_risk, today))
    missing = report.years_without_holidays
    if missing:
        warn(
            f"the ledger has no public holidays for {', '.join(map(str, missing))}: due dates "
            "of those years are moved past weekends only"
        )


def _at_risk_warning(bills: Sequence[BillDue], today: date) -> str:
    """One sentence for every month unpaid two months or more: which months' participants
    BPJS has made inactive already, and when the others' become inactive."""
    amount = sum(b.amount for b in bills)
    gone = [b for b in bills if today >= date.fromisoformat(b.deactivation)]
    coming = [b for b in bills if today < date.fromisoformat(b.deactivation)]
    if len(bills) == 1:
        b = bills[0]
        return (
            f"{b.month} is unpaid for {counted(b.participants, 'participant')} "
            f"({rupiah(amount)}): BPJS "
            + (f"has made them inactive since {b.deactivation} (three months unpaid)" if gone
               else f"makes them inactive on {b.deactivation} unless it is paid by then")
        )
    said = []
    if gone:
        months = month_list(Month.parse(b.month) for b in gone)
        said.append(f"has made the participants of {months} inactive (three months unpaid)")
    said += [f"makes those of {b.month} inactive on {b.deactivation} unless it is paid by "
             "then" for b in coming]
    return (f"{counted(len(bills), 'month')} are unpaid two months or more ({rupiah(amount)} "
            f"in all): BPJS {', and '.join(said)}")
