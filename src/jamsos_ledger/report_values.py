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
from jamsos_ledger.integrity import VerifyReport
from jamsos_ledger.projections.premiums_due import premiums_due
from jamsos_ledger.projections.reporting import PriorityCheck
from jamsos_ledger.projections.views import Views
from jamsos_ledger.seal_check import SealReport

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


def verify_json(
    report: VerifyReport, seals: SealReport, pinned: str | None, *, intact: bool
) -> dict[str, Any]:
    """`audit verify`: the chain's check and the seals' (`intact` when neither found a
    problem), with the head's digest and the root administrator's key fingerprint."""
    found = report.discrepancy
    unsealed = seals.finding
    return {
        "intact": intact,
        "events_checked": report.events_checked,
        "head_position": report.head_position,
        "head_digest": str(report.head_digest),
        "digest_checked": None if report.digest_checked is None else str(report.digest_checked),
        "discrepancy": None
        if found is None
        else {"position": found.position, "kind": found.kind, "detail": found.detail},
        "seals_checked": seals.seals_checked,
        "sealed_up_to": seals.covered,
        "root": None if seals.root is None else seals.root.name,
        "root_fingerprint": seals.root_fingerprint,
        "root_pinned": pinned is not None,
        "adopted_up_to": seals.adopted_upto,
        "signers": seals.signers,
        "unsealed": None
        if unsealed is None
        else {"position": unsealed.position, "detail": unsealed.detail},
    }
