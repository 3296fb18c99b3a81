"""Long catch-ups read the log in two processes, and replays compare tables inside SQLite; the
tables come out the same as one process reading page after page.

Thresholds are lowered so that a small year of a few dozen workers is "long": a helper process
is started, ranges of ten events are claimed by whichever process is free, and the first
process is slowed so that the helper gets some.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from jamsos_ledger.application import Ledger, as_of
from jamsos_ledger.application import replay as replaying
from jamsos_ledger.application.replay import replay
from jamsos_ledger.domain.model import Registration
from jamsos_ledger.domain.months import Month
from jamsos_ledger.projections import helper, runner
from jamsos_ledger.projections.runner import Runner

JAN = Month(2026, 1)
NIKS = [f"3275014101900{i:03d}" for i in range(1, 41)]
TABLES = ("budget_programs", "budget_months", "budget_payments", "quota_programs",
          "quota_workers", "quota_enrolments", "claims", "priority_workers",
          "priority_enrolments", "claim_benefits")


def registration(i: int, nik: str) -> Registration:
    return Registration(nik, f"Pekerja {i}", date(1990, 1, 1), "P", "0" + str(1 + i % 9),
                        "Margahayu", ["ojol", "kuli bangunan"][i % 2], 1 + i % 5, "Disnaker")


@pytest.fixture
def ledger(store_url: str) -> Iterator[Ledger]:
    ledger = Ledger(store_url, actor="operator")
    ledger.open_program(year=2026, allocation=20_000_000, quota=30, four_eyes=False)
    ledger.register(registration(i, n) for i, n in enumerate(NIKS))
    ledger.prioritize()
    ledger.enrol(start=JAN, niks=NIKS[:20], decree="KEP-1")
    ledger.pay_premiums(month=JAN, sp2d="SP2D-1")
    ledger.end_coverage(NIKS[3], month=JAN, reason="moved")
    ledger.file_claim(NIKS[0], scheme="JKK", incident_date=date(2026, 1, 9), reference="JKK-1")
    ledger.record_benefit(NIKS[0], reference="JKK-1", amount=1_000_000)
    try:
        yield ledger
    finally:
        ledger.close()


def tables(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection table, caught up."""
    ledger.views.catch_up()
    found = {}
    with ledger.views.db.transaction(commit=False) as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT * FROM {ledger.views.db.table(table)} ORDER BY 1, 2")
            found[table] = cursor.fetchall()
    return found


def has_index(ledger: Ledger, name: str) -> bool:
    db = ledger.views.db
    with db.transaction(commit=False) as cursor:
        if db.postgres:
            cursor.execute(
                "SELECT 1 FROM pg_indexes WHERE schemaname = ? AND indexname = ?",
                (db.schema, name),
            )
        else:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (name,))
        return cursor.fetchone() is not None


@pytest.fixture
def helped(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, int]]:
    """Ranges of ten events, a helper from 10 events behind, and what each helper did.

    This process takes its time over each range, so that a helper, which needs a second or
    so to start, gets some of them.
    """
    monkeypatch.setattr(runner, "BATCH", 10)
    monkeypatch.setattr(helper, "HELPER_FROM", 10)
    apply_range = Runner.apply_range

    def slowly(self: Runner, lo: int, hi: int, keep_waiting: Any) -> int | None:
        time.sleep(0.2)
        return apply_range(self, lo, hi, keep_waiting)

    monkeypatch.setattr(Runner, "apply_range", slowly)
    results: list[dict[str, int]] = []
    result = helper._result

    def kept(process: Any) -> dict[str, int]:
        results.append(result(process))
        return results[-1]

    monkeypatch.setattr(helper, "_result", kept)
    return results


@pytest.mark.slow
def test_a_helper_rebuilds_alongside_to_the_same_tables(
    ledger: Ledger, helped: list[dict[str, int]]
) -> None:
    expected = tables(ledger)
    helped.clear()
    head = int(ledger.recorder.max_notification_id() or 0)
    assert ledger.views.rebuild() == head
    assert tables(ledger) == expected
    assert [s.position for s in ledger.views.status()] == [head] * 5
    assert len(helped) == 1 and 0 < helped[0]["read"] < head  # the helper did some
    assert has_index(ledger, "quota_workers_rank")  # made once the load was done
    assert replay(ledger).ok


@pytest.mark.slow
def test_a_replay_rebuilt_with_a_helper_agrees(
    ledger: Ledger, helped: list[dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(as_of, "LARGE_LOG", 0)  # a file, which the helper opens too
    ledger.views.catch_up()
    helped.clear()
    head = ledger.recorder.max_notification_id()
    report = replay(ledger)
    assert report.ok, report.differences
    assert report.events == head
    assert len(helped) == 1 and helped[0]["read"] > 0
    # As of a moment (here: now), the last event applied is known whichever process applied it.
    now = datetime.now(UTC)
    assert replay(ledger, now).ok
    views = as_of.views_as_of(ledger, now)
    try:
        assert views.runner.last_applied == head
    finally:
        views.close()


def test_a_range_waits_for_its_turn_and_a_helper_gone_leaves_the_rest_to_the_catch_up(
    ledger: Ledger,
) -> None:
    expected = tables(ledger)
    views = ledger.views
    with views.db.transaction() as cursor:
        for name in views.names:
            cursor.execute(
                f"UPDATE {views.db.table(runner.POSITIONS)} SET position = 0 WHERE name = ?",
                (name,),
            )
        for projection in views.runner.projections.values():
            for table in projection.tables:
                cursor.execute(f"DELETE FROM {views.db.table(table)}")
    # The range after 10 is not its turn while the one before it is not applied: it waits,
    # and gives up when the process that claimed that range is gone.
    waited: list[int] = []

    def gone() -> bool:
        waited.append(1)
        return False

    assert views.runner.apply_range(10, 20, gone) is None
    assert waited == [1]
    assert {s.position for s in views.status()} == {0}
    # Its turn come, it applies; the catch-up then reads from where every projection stands.
    assert views.runner.apply_range(0, 10, lambda: False) == 10
    assert views.catch_up() > 0
    assert tables(ledger) == expected


def test_tables_whose_rows_pair_by_rowid_are_compared_inside_sqlite(sqlite_url: str) -> None:
    ledger = Ledger(sqlite_url, actor="operator")
    ledger.open_program(year=2026, allocation=20_000_000, quota=30)
    ledger.register(registration(i, n) for i, n in enumerate(NIKS[:5]))
    report = replay(ledger)
    compared = {c.report: c for c in report.compared if c.report.startswith("table ")}
    assert report.ok and compared["table quota_workers"].figures == 2
    # The same rows, written again in another order: no longer paired by rowid, so the
    # digests compare them, and find them the same.
    db = ledger.views.db
    with db.transaction() as cursor:
        cursor.execute(f"SELECT * FROM {db.table('priority_workers')} ORDER BY worker_id DESC")
        rows = cursor.fetchall()
        cursor.execute(f"DELETE FROM {db.table('priority_workers')}")
        cursor.executemany(f"INSERT INTO {db.table('priority_workers')} VALUES (?, ?, ?)", rows)
    views = as_of.private_views(ledger)
    try:
        matched = replaying._matched_in_sqlite(views.db, db, ["priority_workers", "quota_workers"])
    finally:
        views.close()
    assert list(matched) == ["quota_workers"]
    assert replay(ledger).ok
    ledger.close()
