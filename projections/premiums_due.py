"""The inputs of `premiums due`, put together from the budget projection's months."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from jamsos_ledger.domain.billing import Bill, unpaid_bills
from jamsos_ledger.domain.months import Month
from jamsos_ledger.projections.reporting import position
from jamsos_ledger.projections.views import Views


def premiums_due(views: Views, program_id: UUID, today: date) -> tuple[list[Bill], int]:
    """The program's unpaid bills of the months up to `today`'s, and the log position they were
    read at (one read of the projections: months and position agree)."""
    with views.reading() as reading:
        months = [
            (Month.parse(b["month"]), int(b["active"]), int(b["paid_participants"]),
             int(b["committed_jkk"]), int(b["committed_jkm"]))
            for b in reading.budget_months(program_id)
        ]
        at = position(reading)
    return unpaid_bills(months, today), at
