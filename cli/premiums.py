"""`jamsos premiums`: pay a month's bill under an SP2D, and see what is due."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import DATE, MONTH, format_option, rupiah_option
from jamsos_ledger.cli.output import Column, render, warn
from jamsos_ledger.money import count, rupiah
from jamsos_ledger.months import Month

# BPJS Ketenagakerjaan bills a month's premiums by the 15th of the following month.
DUE_DAY = 15
# Three months unpaid makes a participant inactive at BPJS; warn a month before.
WARN_AFTER_MONTHS = 2
JAKARTA = ZoneInfo("Asia/Jakarta")


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


def due_date(month: Month) -> date:
    """When BPJS's bill for a month is due: the 15th of the next month."""
    following = month + 1
    return date(following.year, following.month, DUE_DAY)


DUE_COLUMNS = [
    Column("month", "Month"),
    Column("participants", "Unpaid participants", "count"),
    Column("amount", "Amount", "money"),
    Column("due", "Due by"),
    Column("status", "Status"),
]


@premiums.command("due")
@click.option("--today", type=DATE, help="The date to look from [default: today, Asia/Jakarta].")
@format_option()
@pass_ledger
def due_command(obj: LedgerContext, today: date | None, fmt: str) -> None:
    """List the months up to this one with participants not yet paid for.

    A month's bill is due by the 15th of the next month. The due date is not yet rolled past
    weekends and holidays. Months unpaid for two months or more are warned about: three months
    unpaid make participants inactive at BPJS.
    """
    today = today or datetime.now(JAKARTA).date()
    this_month = Month.of(today)
    p = obj.program()
    rows: list[dict[str, Any]] = []
    for books in obj.ledger.views.budget_months(p.id):
        month = Month.parse(books["month"])
        unpaid = int(books["active"]) - int(books["paid_participants"])
        if month > this_month or unpaid <= 0:
            continue
        due = due_date(month)
        rows.append({
            "month": str(month),
            "participants": unpaid,
            "amount": int(books["committed_jkk"]) + int(books["committed_jkm"]),
            "jkk": int(books["committed_jkk"]),
            "jkm": int(books["committed_jkm"]),
            "due": due.isoformat(),
            "overdue": today > due,
            "months_unpaid": this_month - month,
            "status": "overdue" if today > due else "due",
        })
    total = sum(r["amount"] for r in rows)
    caption = (
        f"{rupiah(total)} due for {count(len(rows))} months up to {this_month}"
        if rows
        else f"Nothing due: every covered month up to {this_month} is paid"
    )
    render(fmt, DUE_COLUMNS, rows, title=f"Premiums due in {p.code} on {today}", caption=caption)
    for r in rows:
        if r["months_unpaid"] >= WARN_AFTER_MONTHS:
            warn(
                f"{r['month']} is unpaid for {count(r['participants'])} participants "
                f"({rupiah(r['amount'])}), {r['months_unpaid']} months before {this_month}: "
                "three months unpaid make them inactive at BPJS"
            )
