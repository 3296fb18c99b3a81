"""`jamsos premiums`: pay a month's bill under an SP2D, and see what is due."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from jamsos_ledger.billing import due_date, years_without_holidays
from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import DATE, MONTH, format_option, rupiah_option
from jamsos_ledger.cli.output import Column, render, warn
from jamsos_ledger.cli.report_forms import echo_position
from jamsos_ledger.money import count, rupiah
from jamsos_ledger.months import Month, today_in_jakarta
from jamsos_ledger.projections.premiums_due import premiums_due

__all__ = ["due_date", "premiums"]


@click.group()
def premiums() -> None:
    """Premium bills: pay a month under an SP2D, list months due."""


@premiums.command("pay")
@click.option("--month", type=MONTH, required=True, help="The month billed.")
@click.option("--sp2d", required=True, metavar="REF", help="The disbursement order (unique).")
@rupiah_option("--amount", "The amount paid, checked against the bill.")
@pass_ledger
def pay_command(obj: LedgerContext, month: Month, sp2d: str, amount: int | None) -> None:
    """Pay a month's bill for every covered participant not yet paid for it, under one SP2D."""
    participants, paid = obj.ledger.pay_premiums(
        month=month, sp2d=sp2d, amount=amount, code=obj.program_code
    )
    click.echo(
        f"Paid {rupiah(paid)} for {count(participants)} participants in {month} under SP2D "
        f"{sp2d}"
    )


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
    this_month = Month.of(today)
    p = obj.program()
    bills, at = premiums_due(obj.ledger.views, p.id, today)
    rows: list[dict[str, Any]] = [
        {
            "month": str(bill.month),
            "participants": bill.participants,
            "amount": bill.amount,
            "jkk": bill.jkk,
            "jkm": bill.jkm,
            "due": bill.due.isoformat(),
            "overdue": bill.overdue(today),
            "months_unpaid": bill.months_unpaid,
            "at_risk": bill.at_risk,
            "deactivation": bill.deactivation.isoformat(),
            "status": bill.status(today),
            "position": at,
        }
        for bill in bills
    ]
    total = sum(r["amount"] for r in rows)
    caption = (
        f"{rupiah(total)} due for {count(len(rows))} months up to {this_month}"
        if rows
        else f"Nothing due: every covered month up to {this_month} is paid"
    )
    render(fmt, DUE_COLUMNS, rows, title=f"Premiums due in {p.code} on {today}", caption=caption)
    if fmt == "table":
        echo_position(at)
    for r in rows:
        if r["at_risk"]:
            warn(
                f"{r['month']} is unpaid for {count(r['participants'])} participants "
                f"({rupiah(r['amount'])}), {r['months_unpaid']} months before {this_month}: "
                f"BPJS makes them inactive on {r['deactivation']} (three months unpaid)"
                + (" - already passed" if today >= date.fromisoformat(r["deactivation"]) else "")
            )
    missing = years_without_holidays(bills)
    if missing:
        warn(
            f"the ledger has no public holidays for {', '.join(map(str, missing))}: due dates "
            "of those years are moved past weekends only"
        )
