"""Answers as values scripts read, built here once for both front doors: the JSON of `jamsos
audit verify --format json` and `premiums reconcile --format json`, and of the service's
`/api/v1/audit/verify`, `/api/v1/invoices` and `/api/v1/premiums/recoveries`.
"""

from __future__ import annotations

from typing import Any

from jamsos_ledger.application import Ledger
from jamsos_ledger.application.seal_check import SealReport
from jamsos_ledger.domain.model import Program
from jamsos_ledger.domain.money import rupiah
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.reconciliation import Reconciliation
from jamsos_ledger.projections.reporting import position
from jamsos_ledger.stores.integrity import VerifyReport, digest_at


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
        "approved_by_proposers_principals": seals.own_approvers,
        "one_key_programs": seals.one_key_programs,
        "unsealed": None
        if unsealed is None
        else {"position": unsealed.position, "detail": unsealed.detail},
    }


__all__ = ["verify_json"]


# What a reconciliation lists besides the invoice's differences: premiums paid for months
# after a worker's coverage ended, to recover from BPJS.
RECOVER = "overpaid, to recover"


def recovery_rows(ledger: Ledger, program: Program) -> list[dict[str, Any]]:
    """Workers paid for months after their coverage ended, with the amounts to recover
    (NIKs masked): the rows `premiums reconcile` lists under `recover`."""
    recoveries = program.recoveries()
    if not recoveries:
        return []
    workers = ledger.aggregates(list(recoveries))
    rows = []
    for wid, premium in recoveries.items():
        worker = workers[wid]
        ended = worker.coverages[program.id].ended
        rows.append({
            "kind": RECOVER, "line": None, "nik": mask_nik(worker.nik),
            "kpj": getattr(worker, "kpj", None) or "", "name": "",
            "billed_jkk": 0, "billed_jkm": 0, "expected_jkk": 0, "expected_jkm": 0,
            "recover": premium.total,
            "detail": f"paid JKK {rupiah(premium.jkk)} and JKM {rupiah(premium.jkm)} for "
                      f"months after coverage ended in {ended}",
        })
    return sorted(rows, key=lambda r: (r["nik"], r["detail"]))


def reconciliation_json(
    ledger: Ledger, program: Program, result: Reconciliation, invoice: str
) -> dict[str, Any]:
    """`premiums reconcile --format json` and the service's `/api/v1/invoices`: the invoice's
    figures, its differences, the recoveries, and where in the log (position, digest)."""
    agreed = result.agreed_amount
    with ledger.views.reading() as reading:
        at = position(reading)
    chain = digest_at(ledger.recorder, at)
    return {
        "month": str(result.month),
        "invoice": invoice,
        "lines": result.lines,
        "billed": result.billed.total,
        "billed_jkk": result.billed.jkk,
        "billed_jkm": result.billed.jkm,
        "agreed": len(result.agreed),
        "agreed_amount": agreed.total,
        "agreed_jkk": agreed.jkk,
        "agreed_jkm": agreed.jkm,
        "counts": result.counts(),
        "differences": [d.row() | {"recover": 0} for d in result.differences],
        "recover": recovery_rows(ledger, program),
        "position": at,
        "digest": None if chain is None else str(chain),
    }
