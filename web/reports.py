"""The reports the service answers, built by the same functions as the CLI's `--format json`.

The one place the service asks for a report: `projections.reporting` for the figures and
`report_values` for the keys scripts read, so `/api/v1/reports/...` and `jamsos report ...
--format json` give the same object (tests/test_service_api.py compares them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from jamsos_ledger.application import Ledger
from jamsos_ledger.domainmodel import Program
from jamsos_ledger.projections.reporting import (
    budget_report,
    claims_report,
    enrolment_by_kecamatan_and_decile,
    position,
    quota_groups,
    quota_report,
)
from jamsos_ledger.report_values import premiums_due_rows, priority_json


def _masker(ledger: Ledger):  # type: ignore[no-untyped-def]
    def mask(ids: Sequence[UUID]) -> dict[UUID, str]:
        return {wid: w.masked_nik for wid, w in ledger.aggregates(list(ids)).items()}

    return mask


def budget(ledger: Ledger, program: Program) -> dict[str, Any]:
    with ledger.views.reading() as views:
        return budget_report(views, program.id)


def quota(ledger: Ledger, program: Program) -> dict[str, Any]:
    with ledger.views.reading() as views:
        data = quota_report(views, program.id)
    data["priority"] = priority_json(data["priority"], _masker(ledger))
    return data


def quota_by(ledger: Ledger, program: Program, by: str) -> list[dict[str, Any]]:
    with ledger.views.reading() as views:
        rows = quota_groups(views, program.id, by)
        at = quota_report(views, program.id)["position"]
    return [{**r, "position": at} for r in rows]


def claims(ledger: Ledger, program: Program) -> dict[str, Any]:
    with ledger.views.reading() as views:
        return {"program": program.code, **claims_report(views, program.id)}


def premiums_due(ledger: Ledger, program: Program, today: date) -> list[dict[str, Any]]:
    return premiums_due_rows(ledger.views, program.id, today)[1]


def coverage_table(ledger: Ledger, program: Program) -> tuple[dict[str, dict[int, int]], int]:
    """Enrolled workers by kecamatan and decile (the quota chart's table), and the position."""
    with ledger.views.reading() as views:
        return enrolment_by_kecamatan_and_decile(views, program.id), position(views)
