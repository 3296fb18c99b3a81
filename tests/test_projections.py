"""Projections: caught up from the event log in batches, resumable, rebuilt to the same figures.

A small story on each store: the 2026 program, Siti, Budi and Dewi enrolled from January,
January paid, Budi moves away in February, a claim for Siti.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.model import Registration
from jamsos_ledger.domain.months import Month
from jamsos_ledger.projections import GROUPINGS, ProjectionStatus
from jamsos_ledger.projections.reporting import quota_groups

JAN, FEB, MAR = Month(2026, 1), Month(2026, 2), Month(2026, 3)

SITI = Registration("3275014101900001", "Siti Aminah", date(1990, 1, 1), "P", "01", "-",
                    "pedagang kaki lima", 1, "Disnaker")
BUDI = Registration("3275051708850002", "Budi Santoso", date(1985, 8, 17), "L", "05", "-",
                    "ojol", 2, "Disnaker")
DEWI = Registration("3275087112990003", "Dewi Lestari", date(1999, 12, 31), "P", "08", "-",
                    "ojol", 4, "Dinsos")


def head(ledger: Ledger) -> int:
    return int(ledger.recorder.max_notification_id() or 0)


def positions(ledger: Ledger) -> dict[str, int]:
    """What the table jamsos_projection_position holds."""
    with ledger.views.db.transaction(commit=False) as cursor:
        cursor.execute(
            f"SELECT name, position FROM {ledger.views.db.table('jamsos_projection_position')}"
        )
        return {name: int(position) for name, position in cursor.fetchall()}


def story(ledger: Ledger) -> None:
    """Events only: no query runs, so the projections are not caught up by it."""
    ledger.open_program(year=2026, allocation=2_000_000_000, quota=10_000, code="bekasi-2026",
                        four_eyes=False)
    ledger.register([SITI, BUDI, DEWI])
    ledger.enrol(start=JAN, niks=[SITI.nik, BUDI.nik, DEWI.nik], decree="KEP-1")
    ledger.pay_premiums(month=JAN, sp2d="SP2D-1")
    ledger.pay_premiums(month=FEB, sp2d="SP2D-2")
    ledger.end_coverage(BUDI.nik, month=JAN, reason="moved")
    ledger.file_claim(SITI.nik, scheme="JKK", incident_date=date(2026, 3, 2), reference="JKK-1")


def reports(ledger: Ledger) -> dict[str, Any]:
    pid = ledger.program().id
    found: dict[str, Any] = {
        "programs": ledger.views.programs(),
        "budget": ledger.views.budget(pid),
        "budget_months": ledger.views.budget_months(pid),
        "payments": ledger.views.payments(pid),
        "quota": ledger.views.quota(pid),
        "claims": ledger.views.claims(),
    }
    for by in GROUPINGS:
        found[by] = quota_groups(ledger.views, pid, by)
    return found


@pytest.fixture
def ledger(store_url: str) -> Ledger:
    ledger = Ledger(store_url, actor="operator")
    story(ledger)
    return ledger


def test_the_small_story_in_the_budget_and_quota(ledger: Ledger) -> None:
    pid = ledger.program().id
    budget = ledger.views.budget(pid)
    # Paid: January and February for 3 = 6 x 16.800 = 100.800 (JKK 60.000, JKM 40.800).
    # Budi moved in January: February (paid) is overpaid 16.800; March-December released.
    # Committed: Siti and Dewi, March-December: 2 x 10 x 16.800 = 336.000.
    # Available: 2.000.000.000 - 336.000 - 100.800 = 1.999.563.200.
    assert (budget["committed"], budget["paid"], budget["overpaid"]) == (336_000, 100_800, 16_800)
    assert (budget["paid_jkk"], budget["paid_jkm"]) == (60_000, 40_800)
    assert (budget["committed_jkk"], budget["committed_jkm"]) == (200_000, 136_000)
    assert budget["available"] == 1_999_563_200
    assert budget["enrolled"] == 2
    february = ledger.views.budget_months(pid)[1]
    assert (february["month"], february["active"], february["paid_participants"]) == (
        "2026-02", 2, 3
    )
    quota = ledger.views.quota(pid)
    assert (quota["enrolled"], quota["ended"], quota["available"]) == (2, 1, 9_998)
    assert {r["decile"]: r["enrolled"] for r in quota_groups(ledger.views, pid, "decile")} == {
        1: 1, 2: 0, 4: 1
    }
    (claim,) = ledger.views.claims(pid)
    assert (claim["reference"], claim["kecamatan"], claim["actor"]) == (
        "JKK-1", "Bekasi Timur", "operator"
    )


def test_status_shows_how_far_behind_the_projections_are(ledger: Ledger) -> None:
    # Nothing has asked a question yet: every projection is at 0, the log further on.
    end = head(ledger)
    assert ledger.views.status() == [
        ProjectionStatus("budget", 0, end),
        ProjectionStatus("quota", 0, end),
        ProjectionStatus("claims", 0, end),
        ProjectionStatus("priority", 0, end),
        ProjectionStatus("benefits", 0, end),
    ]
    assert all(s.behind == end for s in ledger.views.status())
    assert ledger.views.catch_up() == end
    assert all(s.behind == 0 for s in ledger.views.status())
    ledger.pay_premiums(month=MAR, sp2d="SP2D-3")
    # One payment: the program's PremiumPaid and the SP2D's Reference.Used.
    assert [s.behind for s in ledger.views.status()] == [2] * 5


def test_catch_up_is_resumable(store_url: str, ledger: Ledger) -> None:
    end = head(ledger)
    # A catch-up stopped half-way (as by a crash after a batch) keeps its position...
    half = end // 2
    assert ledger.views.runner.catch_up(stop=half) == half
    assert positions(ledger) == dict.fromkeys(
        ("budget", "quota", "claims", "priority", "benefits"), half
    )

    # ...and another process resumes there, applying each event once.
    other = Ledger(store_url, actor="auditor")
    assert [s.behind for s in other.views.status()] == [end - half] * 5
    assert other.views.catch_up() == end - half
    assert positions(other) == dict.fromkeys(
        ("budget", "quota", "claims", "priority", "benefits"), end
    )
    assert other.views.catch_up() == 0
    assert ledger.views.catch_up() == 0

    resumed = reports(other)
    other.views.rebuild()
    assert reports(other) == resumed


def test_rebuild_gives_identical_reports(ledger: Ledger) -> None:
    before = reports(ledger)
    assert ledger.views.rebuild() == head(ledger)
    assert reports(ledger) == before
    # One projection alone.
    assert ledger.views.rebuild("budget") == head(ledger)
    assert positions(ledger)["budget"] == head(ledger)
    assert reports(ledger) == before
    with pytest.raises(KeyError, match="unknown projection ledger"):
        ledger.views.rebuild("ledger")


def test_memory_store_keeps_its_projections_in_memory() -> None:
    ledger = Ledger("memory://", actor="operator")
    story(ledger)
    budget = ledger.views.budget(ledger.program().id)
    assert (budget["committed"], budget["paid"]) == (336_000, 100_800)
    before = reports(ledger)
    ledger.views.rebuild()
    assert reports(ledger) == before
    # Two in-memory ledgers do not share their views.
    assert Ledger("memory://").views.programs() == []


def test_unknown_lookups(ledger: Ledger) -> None:
    from uuid import uuid4

    with pytest.raises(LookupError):
        ledger.views.budget(uuid4())
    with pytest.raises(LookupError):
        ledger.views.quota(uuid4())
    with pytest.raises(ValueError, match="group by one of kecamatan, occupation, decile"):
        quota_groups(ledger.views, ledger.program().id, "name")


def test_a_projection_of_a_new_version_is_rebuilt_when_the_ledger_opens(store_url: str) -> None:
    ledger = Ledger(store_url, actor="disnaker")
    story(ledger)
    expected = reports(ledger)
    table = ledger.views.db.table
    # As a ledger written by an older jamsos would hold it: the quota tables of version 0,
    # with figures the new version would compute differently (here: simply wrong).
    with ledger.views.db.transaction() as cursor:
        cursor.execute(
            f"UPDATE {table('jamsos_projection_position')} SET version = 0 WHERE name = 'quota'"
        )
        cursor.execute(f"DELETE FROM {table('quota_enrolments')}")
    ledger.close()
    reopened = Ledger(store_url, actor="inspektorat")
    try:
        assert positions(reopened)["quota"] == 0  # dropped, to be rebuilt from the first event
        assert reports(reopened) == expected
        assert positions(reopened)["quota"] == head(reopened)
    finally:
        reopened.close()
