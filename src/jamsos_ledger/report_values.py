"""The reports as values scripts read: the JSON of `jamsos report ... --format json` and of the
service's `/api/v1/reports/...`, built here once for both front doors.

The figures come from `projections.reporting` (and `projections.premiums_due`); this module
only gives them the keys scripts rely on (kept from release to release), with the workers'
NIKs masked by the caller's `mask` (the projections hold no personal data).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from jamsos_ledger.billing import Bill
from jamsos_ledger.projections.premiums_due import premiums_due
from jamsos_ledger.projections.reporting import PriorityCheck
from jamsos_ledger.projections.views import Views

# Masked NIKs of workers, by aggregate id.
MaskNiks = Callable[[Sequence[UUID]], Mapping[UUID, str]]


def priority_json(check: PriorityCheck, mask: MaskNiks) -> dict[str, Any]:
    """The priority check of `report quota`: respected or not, with examples masked."""
    ids = [e.worker_id for e in check.examples] + [e.first_waiting for e in check.examples]
    masked = mask(ids) if ids else {}
    return {
        "ruleset": check.ruleset,
        "respected": check.respected,
        "violations": check.violations,
        "examples": [
            {
                "enrolled": masked.get(e.worker_id, str(e.worker_id)),
                "decile": e.decile,
                "tier": e.tier,
                "position": e.position,
                "waiting": e.waiting,
                "first_waiting": masked.get(e.first_waiting, str(e.first_waiting)),
                "first_waiting_decile": e.first_waiting_decile,
            }
            for e in check.examples
        ],
    }


def premiums_due_rows(
    views: Views, program_id: UUID, today: date
) -> tuple[list[Bill], list[dict[str, Any]], int]:
    """`premiums due`: the unpaid bills up to `today`'s month, one row each (with the position
    it was read at), and that position."""
    bills, at = premiums_due(views, program_id, today)
    return bills, [
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
    ], at
