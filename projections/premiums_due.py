"""`premiums due`: the unpaid bills, put together from the budget projection's months."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from jamsos_ledger.domain.billing import Bill, unpaid_bills, years_without_holidays
from jamsos_ledger.domain.model import unpaid_participants
from jamsos_ledger.domain.months import Month
from jamsos_ledger.projections.report_values import BillDue, PremiumsDueReport
from jamsos_ledger.projections.reporting import position
from jamsos_ledger.projections.views import Views
from jamsos_ledger.stores.integrity import digest_at


def premiums_due(views: Views, program_id: UUID, today: date) -> tuple[list[Bill], int]:
    """The program's unpaid bills of the months up to `today`'s, and the log position they were
    read at (one read of the projections: months and position agree)."""
    with views.reading() as reading:
        left_out = reading.budget_left_out(program_id)
        months = [
            (Month.parse(b["month"]),
             unpaid_participants(int(b["active"]), int(b["paid_participants"]),
                                 left_out.get(str(b["month"]), 0)),
             int(b["committed_jkk"]), int(b["committed_jkm"]))
            for b in reading.budget_months(program_id)
        ]
        at = position(reading)
    return unpaid_bills(months, today), at


def premiums_due_report(
    views: Views, program_id: UUID, code: str, today: date
) -> PremiumsDueReport:
    """`premiums due` of the program `code` on `today`: its unpaid bills, where in the log they
    were read and the chain digest there."""
    bills, at = premiums_due(views, program_id, today)
    shown = tuple(
        BillDue(
            month=str(bill.month),
            participants=bill.participants,
            amount=bill.amount,
            jkk=bill.jkk,
            jkm=bill.jkm,
            due=bill.due.isoformat(),
            overdue=bill.overdue(today),
            months_unpaid=bill.months_unpaid,
            at_risk=bill.at_risk,
            deactivation=bill.deactivation.isoformat(),
            status=bill.status(today),
        )
        for bill in bills
    )
    return PremiumsDueReport(
        program=code,
        today=today.isoformat(),
        month=str(Month.of(today)),
        bills=shown,
        total_amount=sum(b.amount for b in shown),
        years_without_holidays=tuple(years_without_holidays(bills)),
        position=at,
        digest=digest_at(views.runner.recorder, at),
    )
