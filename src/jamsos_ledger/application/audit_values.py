"""`audit verify`'s answer as a value scripts read: the JSON of `jamsos audit verify --format
json` and of the service's `/api/v1/audit/verify`, built here once for both front doors.
"""

from __future__ import annotations

from typing import Any

from jamsos_ledger.application.seal_check import SealReport
from jamsos_ledger.stores.integrity import VerifyReport


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


__all__ = ["verify_json"]
