"""The reports the service answers, built by the same functions as the CLI's `--format json`.

The one place the service asks for a report: the typed report values of `projections`
(`reporting`, `premiums_due`), made plain by `report_json`, the function `jamsos report ...
--format json` prints with, so `/api/v1/reports/...` and the CLI give the same object
(tests/test_service_api.py compares them).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any
from uuid import UUID

from jamsos_ledger.application import Ledger
from jamsos_ledger.application.as_of import report_views
from jamsos_ledger.application.moments import parse_when
from jamsos_ledger.application.proposal_view import pending_rows
from jamsos_ledger.domain.model import Program
from jamsos_ledger.projections.premiums_due import premiums_due_report
from jamsos_ledger.projections.report_values import report_json
from jamsos_ledger.projections.reporting import (
    budget_report,
    claims_report,
    enrolment_by_kecamatan_and_decile,
    position,
    quota_by_report,
    quota_report,
)
from jamsos_ledger.projections.views import Views


def _masker(ledger: Ledger) -> Any:
    def mask(ids: Sequence[UUID]) -> Mapping[UUID, str]:
        return {wid: w.masked_nik for wid, w in ledger.aggregates(list(ids)).items()}

    return mask


def moment(as_of: str | None) -> datetime | None:
    """The moment `as_of` names, read as the CLI's `--as-of WHEN` reads it (InvalidInput, so
    422, naming what is wrong)."""
    return None if as_of is None else parse_when(as_of)


@contextmanager
def _views(ledger: Ledger, program: Program, when: datetime | None) -> Iterator[Views]:
    """The live views, or the views as of `when` (replayed from the events recorded up to
    then, as `report ... --as-of` does), read in one transaction."""
    with report_views(ledger, when, program) as views, views.reading() as reading:
        yield reading


def budget(ledger: Ledger, program: Program, when: datetime | None = None) -> dict[str, Any]:
    """`report budget --format json`: with the proposals pending now, unless as of a moment."""
    pending = None if when is not None else ledger.pending(program.code)
    with _views(ledger, program, when) as views:
        shown = report_json(budget_report(views, program.id))
    return shown if pending is None else {**shown, "pending": pending_rows(pending)}


def quota(ledger: Ledger, program: Program, when: datetime | None = None) -> dict[str, Any]:
    with _views(ledger, program, when) as views:
        return report_json(
            quota_report(views, program.id, _masker(ledger))
        )


def quota_by(
    ledger: Ledger, program: Program, by: str, when: datetime | None = None
) -> list[dict[str, Any]]:
    with _views(ledger, program, when) as views:
        return report_json(
            quota_by_report(views, program.id, by, _masker(ledger))
        )


def claims(ledger: Ledger, program: Program, when: datetime | None = None) -> dict[str, Any]:
    with _views(ledger, program, when) as views:
        return report_json(
            claims_report(views, program.id, program.code)
        )


def premiums_due(ledger: Ledger, program: Program, today: date) -> list[dict[str, Any]]:
    return report_json(
        premiums_due_report(ledger.views, program.id, program.code, today)
    )


def coverage_table(ledger: Ledger, program: Program) -> tuple[dict[str, dict[int, int]], int]:
    """Enrolled workers by kecamatan and decile (the quota chart's table), and the position."""
    with ledger.views.reading() as views:
        return enrolment_by_kecamatan_and_decile(views, program.id), position(views)
