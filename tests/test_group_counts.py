"""The quota projection's counts by group equal counting the worker rows themselves.

`report quota` reads the counts (a few hundred rows) instead of every worker of the city;
they must give what the worker and enrolment rows give, after enrolments, ends and
corrections that move workers between groups, live and rebuilt.
"""

from __future__ import annotations

from typing import Any

from test_bulk_registration import people

from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.months import Month
from jamsos_ledger.projections.group_counts import GROUPED, group_rows
from jamsos_ledger.projections.quota import ENROLMENTS, WORKERS


def counted_from_rows(ledger: Ledger, program_id: str, by: str) -> list[dict[str, Any]]:
    """The counts as the workers' rows give them (the report's query before the counts)."""
    views = ledger.views
    return views.query(
        f"SELECT w.{by} AS grp, w.decile AS decile, COUNT(*) AS registered, "
        "SUM(CASE WHEN e.worker_id IS NOT NULL AND e.ended_month IS NULL "
        "THEN 1 ELSE 0 END) AS enrolled, "
        "SUM(CASE WHEN e.ended_month IS NOT NULL THEN 1 ELSE 0 END) AS ended, "
        "SUM(CASE WHEN e.worker_id IS NULL THEN 1 ELSE 0 END) AS never "
        f"FROM {views.db.table(WORKERS)} w LEFT JOIN {views.db.table(ENROLMENTS)} e "
        "ON e.worker_id = w.worker_id AND e.program_id = ? "
        f"GROUP BY w.{by}, w.decile",
        (program_id,),
    )


def as_set(rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {
        (str(r["grp"]), int(r["decile"]), int(r["registered"]), int(r["enrolled"]),
         int(r["ended"]), int(r["never"]))
        for r in rows
    }


def test_counts_follow_enrolments_ends_and_corrections(store_url: str) -> None:
    ledger = Ledger(store_url, actor="disnaker")
    try:
        program = ledger.open_program(year=2026, allocation=2_000_000_000, quota=10_000,
                                      four_eyes=False)
        rows = people(60)
        ledger.register(rows)
        ledger.prioritize()
        ledger.enrol(niks=[r.nik for r in rows[:12] if r.decile <= 5], start=Month(2026, 1))
        enrolled = [r for r in rows[:12] if r.decile <= 5]
        ledger.end_coverage(enrolled[0].nik, month=Month(2026, 3), reason="died")
        # Corrections that move an enrolled, an ended and a never-enrolled worker.
        ledger.correct_worker(enrolled[1].nik, field="kecamatan", value="Bantargebang",
                              reason="pindah")
        ledger.correct_worker(enrolled[0].nik, field="decile", value="9", reason="DTSEN")
        ledger.correct_worker(rows[40].nik, field="occupation", value="Pemulung",
                              reason="survei")
        ledger.correct_worker(enrolled[2].nik, field="decile", value="4", reason="DTSEN")
        pid = str(program.id)
        for by in GROUPED:
            expected = as_set(counted_from_rows(ledger, pid, by))
            assert as_set(group_rows(ledger.views, pid, by)) == expected, by
        ledger.views.rebuild()
        for by in GROUPED:
            assert as_set(group_rows(ledger.views, pid, by)) == as_set(
                counted_from_rows(ledger, pid, by)
            ), by
    finally:
        ledger.close()
