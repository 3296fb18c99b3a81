"""Auditors' questions through the Python API, on SQLite and on PostgreSQL: the ledger as of each
moment of a small program's story, the replay, and the trail.

The program is the seed scaled down a thousand times: Rp 2.000.000 for 10 workers at Rp 16.800
a month (JKK 10.000 + JKM 6.800). The moments are real: the time is read between commands (and
the clock is let tick past it), so each moment falls between two commands. Every figure below is
worked out by hand.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from cli_helpers import admin_key, key_for
from jamsos_ledger import application
from jamsos_ledger.application import KeySource, Ledger, as_of
from jamsos_ledger.application.as_of import views_as_of, worker_as_of
from jamsos_ledger.application.composition import TemporaryViewDatabase
from jamsos_ledger.application.moments import parse_when
from jamsos_ledger.application.replay import Difference, replay
from jamsos_ledger.application.trail import TrailEntry, audit_trail, event_classes
from jamsos_ledger.domain.errors import NotFound
from jamsos_ledger.domain.model import Program, Reference, Registration, Worker, worker_id
from jamsos_ledger.domain.months import JAKARTA, Month
from jamsos_ledger.domain.principals import public_key_text
from jamsos_ledger.projections import runner

BIRTH = date(1984, 5, 17)
JAN, FEB, MAR = Month(2026, 1), Month(2026, 2), Month(2026, 3)


def nik(serial: int) -> str:
    """A woman's NIK of Bekasi Timur born on BIRTH (day + 40)."""
    return f"327501{BIRTH.day + 40:02d}{BIRTH.month:02d}{BIRTH.year % 100:02d}{serial:04d}"


NIKS = [nik(i) for i in range(1, 13)]
ENROLLED = NIKS[:9]
SITI, YANTI, RINA = NIKS[0], NIKS[1], NIKS[2]  # Siti dies in March; Yanti moves after January


def registration(i: int, n: str) -> Registration:
    return Registration(
        nik=n, name=f"Siti Pekerja {i}" if i == 1 else f"Pekerja Nomor {i}", birth_date=BIRTH,
        sex="P", kecamatan=["01", "02", "03"][i % 3], kelurahan="Margahayu",
        occupation=["ojol", "pedagang kaki lima"][i % 2], decile=[1, 2, 3, 4, 5][i % 5],
        source="Disnaker",
    )


def moment() -> datetime:
    """Now, after letting the clock tick past it: later events are recorded strictly after."""
    now = datetime.now(UTC)
    while datetime.now(UTC) <= now:
        pass
    return now


@dataclass
class Story:
    ledger: Ledger
    at: dict[str, datetime]


@pytest.fixture
def story(store_url: str) -> Iterator[Story]:
    """A year's first months, with the moment after each step."""
    ledger = Ledger(store_url, actor="operator")
    at = {"before": moment()}
    ledger.open_program(year=2026, allocation=2_000_000, quota=10, four_eyes=False)
    at["opened"] = moment()
    ledger.register(registration(i, n) for i, n in enumerate(NIKS, start=1))
    at["registered"] = moment()
    ledger.enrol(start=JAN, niks=ENROLLED, decree="KEP-WALI/1/2026")
    at["enrolled"] = moment()
    ledger.pay_premiums(month=JAN, sp2d="SP2D/01/2026")
    at["paid January"] = moment()
    ledger.end_coverage(SITI, month=MAR, reason="died")
    at["Siti died"] = moment()
    # The head of BPKAD (an approver: amendments are the approver's) amends with a key of her
    # own, enrolled by the administrator: the events record the principal whose key sealed
    # them.
    kepala = key_for("kepala-bpkad")
    ledger.principals.enrol("kepala-bpkad", "BPKAD", ["finance", "approver"],
                            public_key_text(kepala.public_key))
    ledger.signing.use(KeySource(key=kepala))
    ledger.amend_program(allocation=2_100_000, reason="APBD-P 2026")
    at["amended"] = moment()
    ledger.signing.use(KeySource(key=admin_key()))
    ledger.file_claim(SITI, scheme="JKM", incident_date=date(2026, 3, 14), reference="JKM-0001")
    at["claimed"] = moment()
    ledger.pay_premiums(month=FEB, sp2d="SP2D/02/2026")
    at["paid February"] = moment()
    ledger.end_coverage(YANTI, month=JAN, reason="moved")
    at["Yanti moved"] = moment()
    try:
        yield Story(ledger, at)
    finally:
        ledger.close()


# (allocation, committed, paid, overpaid, enrolled, ended, claims) at each moment, by hand:
# 9 enrolled for 12 months commit 9 x 12 x 16.800 = 1.814.400; January's bill is 9 x 16.800 =
# 151.200; Siti's April-December, unpaid, release 9 x 16.800 = 151.200; February's bill is
# still 9 x 16.800 (Siti was covered in February); Yanti's end after January releases March-
# December (10 x 16.800 = 168.000) and turns her paid February into an overpayment of 16.800.
FIGURES = {
    "opened": (2_000_000, 0, 0, 0, 0, 0, 0),
    "registered": (2_000_000, 0, 0, 0, 0, 0, 0),
    "enrolled": (2_000_000, 1_814_400, 0, 0, 9, 0, 0),
    "paid January": (2_000_000, 1_663_200, 151_200, 0, 9, 0, 0),
    "Siti died": (2_000_000, 1_512_000, 151_200, 0, 8, 1, 0),
    "amended": (2_100_000, 1_512_000, 151_200, 0, 8, 1, 0),
    "claimed": (2_100_000, 1_512_000, 151_200, 0, 8, 1, 1),
    "paid February": (2_100_000, 1_360_800, 302_400, 0, 8, 1, 1),
    "Yanti moved": (2_100_000, 1_192_800, 302_400, 16_800, 7, 2, 1),
}


@pytest.mark.parametrize("step", list(FIGURES))
def test_the_reports_as_of_each_moment_show_the_figures_of_that_moment(
    story: Story, step: str
) -> None:
    allocation, committed, paid, overpaid, enrolled, ended, claims = FIGURES[step]
    program = story.ledger.program()
    views = views_as_of(story.ledger, story.at[step])
    try:
        budget = views.budget(program.id)
        assert (budget["allocation"], budget["committed"], budget["paid"], budget["overpaid"],
                budget["enrolled"]) == (allocation, committed, paid, overpaid, enrolled)
        assert budget["available"] == allocation - committed - paid
        quota = views.quota(program.id)
        assert (quota["quota"], quota["enrolled"], quota["ended"], quota["available"]) == (
            10, enrolled, ended, 10 - enrolled)
        assert quota["registered"] == (0 if step == "opened" else 12)
        assert len(views.claims(program.id)) == claims
    finally:
        views.close()


def test_the_months_as_of_a_moment_count_who_was_covered_and_paid_for_then(story: Story) -> None:
    program = story.ledger.program()
    views = views_as_of(story.ledger, story.at["Siti died"])
    try:
        months = {m["month"]: m for m in views.budget_months(program.id)}
        assert (months["2026-01"]["active"], months["2026-01"]["paid_participants"]) == (9, 9)
        assert (months["2026-03"]["active"], months["2026-03"]["paid_participants"]) == (9, 0)
        assert (months["2026-04"]["active"], months["2026-12"]["active"]) == (8, 8)
        assert [p["sp2d"] for p in views.payments(program.id)] == ["SP2D/01/2026"]
    finally:
        views.close()
    now = story.ledger.views.budget_months(program.id)
    assert now[1]["paid_participants"] == 9  # today's projections are untouched


def test_before_the_program_was_opened_there_is_nothing(story: Story) -> None:
    views = views_as_of(story.ledger, story.at["before"])
    try:
        assert views.programs() == []
        with pytest.raises(LookupError):
            views.budget(story.ledger.program().id)
    finally:
        views.close()


def test_a_worker_as_of_a_moment_is_rebuilt_from_the_events_recorded_by_then(
    story: Story,
) -> None:
    with pytest.raises(NotFound, match=r"327501\*{8}01 was registered as of"):
        worker_as_of(story.ledger, SITI, story.at["opened"])
    registered = worker_as_of(story.ledger, SITI, story.at["registered"])
    assert registered.coverages == {}
    enrolled = worker_as_of(story.ledger, SITI, story.at["enrolled"])
    (coverage,) = enrolled.coverages.values()
    assert (coverage.start, coverage.ended, coverage.decree) == (JAN, None, "KEP-WALI/1/2026")
    died = worker_as_of(story.ledger, SITI, story.at["Siti died"])
    assert next(iter(died.coverages.values())).ended == MAR
    assert died.claims == []
    assert len(worker_as_of(story.ledger, SITI, story.at["claimed"]).claims) == 1


def test_a_date_means_the_end_of_that_day_in_jakarta(story: Story) -> None:
    today = datetime.now(JAKARTA).date()
    views = views_as_of(story.ledger, parse_when(today.isoformat()))
    try:
        assert views.budget(story.ledger.program().id)["committed"] == 1_192_800
    finally:
        views.close()


# --- Replay -----------------------------------------------------------------------------


def test_the_replay_of_an_intact_ledger_agrees_on_every_report(story: Story) -> None:
    report = replay(story.ledger)
    assert report.ok, report.differences
    assert report.position == report.events == story.ledger.recorder.max_notification_id()
    assert report.programs == 1
    compared = {(c.check, c.report): (c.rows, c.figures) for c in report.compared}
    for name in ("programs", "budget", "budget_months", "payments", "quota",
                 "quota by kecamatan", "quota by occupation", "quota by decile", "claims"):
        assert compared[("projections", name)][1] > 0, name
    assert compared[("projections", "budget_months")][0] == 12
    assert compared[("projections", "payments")][0] == 2
    assert compared[("projections", "claims")][0] == 1
    for name in ("budget", "budget_months", "payments", "quota", "quota by kecamatan"):
        assert compared[("books", name)][1] > 0, name


@pytest.mark.parametrize("step", ["before", "opened", "enrolled", "Siti died", "Yanti moved"])
def test_the_replay_as_of_each_moment_agrees_with_the_books_of_that_moment(
    story: Story, step: str
) -> None:
    report = replay(story.ledger, story.at[step])
    assert report.ok, report.differences
    assert report.when == story.at[step]
    assert report.programs == (0 if step == "before" else 1)
    assert {c.check for c in report.compared} <= {"books"}


def tamper(ledger: Ledger, statement: str, *params: Any) -> None:
    """Change a live projection table behind the ledger's back, as a careless DBA might."""
    db = ledger.views.db
    ledger.views.catch_up()
    tables = ("budget_programs", "quota_enrolments", "quota_enrolled", "quota_programs",
              "claims", "priority_workers")
    for table in tables:
        statement = statement.replace(f"<{table}>", db.table(table))
    with db.transaction() as cursor:
        cursor.execute(statement, params)


def test_the_replay_names_an_allocation_altered_in_the_projection(story: Story) -> None:
    tamper(story.ledger, "UPDATE <budget_programs> SET allocation = allocation + 1")
    report = replay(story.ledger)
    assert not report.ok
    assert Difference("projections", "budget", "2026", "allocation", 2_100_000, 2_100_001) in (
        report.differences
    )
    assert Difference("projections", "budget", "2026", "available", 604_800, 604_801) in (
        report.differences
    )
    assert {d.check for d in report.differences} == {"projections"}  # the events are sound
    assert replay(story.ledger, story.at["Yanti moved"]).ok  # as-of never reads the live tables


def test_the_replay_names_a_deleted_enrolment_and_a_deleted_quota_row(story: Story) -> None:
    tamper(story.ledger, "DELETE FROM <quota_enrolments> WHERE worker_id = ?",
           str(worker_id(RINA)))
    report = replay(story.ledger)
    assert Difference("projections", "quota", "2026", "enrolled", 7, 6) in report.differences
    assert Difference("projections", "table quota_enrolments", "rows and contents", "rows",
                      9, 8) in report.differences
    tamper(story.ledger, "DELETE FROM <quota_programs>")
    report = replay(story.ledger)
    assert Difference("projections", "quota", "2026", "(row)", "present", "missing") in (
        report.differences
    )


def test_the_replay_names_a_group_count_the_quota_report_shows(story: Story) -> None:
    """`report quota --by` reads the counts kept per group, not every worker: those counts
    are what the replay compares, figure by figure, as the report shows them."""
    # Workers 3, 6 and 9 of Bekasi Timur hold places; Rina, worker 3, sells in the street
    # and is of decile 4.
    tamper(story.ledger, "UPDATE <quota_enrolled> SET enrolled = enrolled - 1 "
           "WHERE kecamatan = 'Bekasi Timur' AND occupation = 'pedagang kaki lima' "
           "AND decile = 4")
    report = replay(story.ledger)
    assert Difference("projections", "quota by kecamatan", "2026 kecamatan=Bekasi Timur",
                      "enrolled", 3, 2) in report.differences
    assert Difference("projections", "quota by decile", "2026 decile=4", "enrolled",
                      2, 1) in report.differences
    assert {d.check for d in report.differences} == {"projections"}  # the events are sound


def test_the_replay_names_a_deleted_claim(story: Story) -> None:
    tamper(story.ledger, "DELETE FROM <claims>")
    report = replay(story.ledger)
    assert report.differences[0] == Difference(
        "projections", "claims", "JKM-0001", "(row)", "present", "missing"
    )
    # The claims table compared whole says the same: one row replayed, none live.
    table = [d for d in report.differences if d.report == "table claims"]
    assert {d.field: (d.expected, d.found) for d in table}["rows"] == (1, 0)
    assert len(report.differences) == 1 + len(table)


def test_the_replay_compares_every_projection_table_whole(story: Story) -> None:
    """A table no report reads (here the priority projection's) is compared all the same."""
    report = replay(story.ledger)
    tables = {c.report for c in report.compared if c.report.startswith("table ")}
    assert {"table priority_workers", "table priority_enrolments", "table claim_benefits",
            "table quota_workers", "table budget_months"} <= tables
    tamper(story.ledger, "UPDATE <priority_workers> SET decile = decile + 1")
    altered = replay(story.ledger)
    assert [d.report for d in altered.differences] == ["table priority_workers"]
    assert altered.differences[0].field == "digest"


def test_the_replay_reads_the_log_in_pages(
    story: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tiny pages give the same replay: every read is bounded, none takes the whole log."""
    expected = replay(story.ledger)
    monkeypatch.setattr(runner, "BATCH", 3)
    monkeypatch.setattr(application.service, "PAGE", 4)
    monkeypatch.setattr(as_of, "PAGE", 2)
    limits: list[int] = []
    recorder = story.ledger.recorder
    select = recorder.select_notifications

    def bounded(*args: Any, **kwargs: Any) -> Any:
        limits.append(kwargs["limit"] if "limit" in kwargs else args[1])
        return select(*args, **kwargs)

    monkeypatch.setattr(recorder, "select_notifications", bounded)
    small = replay(story.ledger)
    assert small.ok and small.compared == expected.compared
    trail = list(audit_trail(story.ledger))
    assert len(trail) == story.ledger.recorder.max_notification_id()
    assert limits and max(limits) <= 4


def test_a_long_log_is_replayed_in_a_temporary_file_removed_afterwards(
    story: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(as_of, "LARGE_LOG", 0)
    views = views_as_of(story.ledger, story.at["paid January"])
    db = views.db
    assert isinstance(db, TemporaryViewDatabase)  # built by the composition root
    assert (db.directory / "views.db").exists()
    assert views.budget(story.ledger.program().id)["paid"] == 151_200
    views.close()
    assert not db.directory.exists()
    assert replay(story.ledger).ok


# --- The trail --------------------------------------------------------------------------


def test_the_trail_says_who_did_what_when_and_why(story: Story) -> None:
    trail = list(audit_trail(story.ledger))
    assert [e.position for e in trail] == list(range(1, len(trail) + 1))
    assert all(e.time.utcoffset() == JAKARTA.utcoffset(None) for e in trail)
    # In the log's order, which is the order of commands; within one command the events carry
    # the times they were made, not always in the order they were saved.
    assert all(story.at["before"] < e.time <= story.at["Yanti moved"] for e in trail)
    by_event: dict[str, list[TrailEntry]] = {}
    for e in trail:
        by_event.setdefault(e.event, []).append(e)
    assert len(by_event["Worker.Registered"]) == 12
    (amended,) = by_event["Program.AllocationAmended"]
    assert (amended.actor, amended.reference) == ("kepala-bpkad", "APBD-P 2026")
    assert amended.changes == {"allocation": 2_100_000, "previous": 2_000_000}
    (committed,) = by_event["Program.PremiumsCommitted"]
    assert committed.reference == "KEP-WALI/1/2026"
    assert committed.changes["workers"] == 9 and committed.aggregate == "Program 2026"
    assert [e.reference for e in by_event["Program.PremiumPaid"]] == [
        "SP2D/01/2026", "SP2D/02/2026"]
    assert [e.reference for e in by_event["Program.CoverageReleased"]] == ["died", "moved"]
    (claim,) = by_event["Worker.ClaimFiled"]
    assert claim.reference == "JKM-0001"
    assert claim.changes == {"program": "2026", "scheme": "JKM", "incident_date": "2026-03-14"}
    assert claim.aggregate == "Worker 327501********01"
    assert {e.reference for e in by_event["Reference.Used"]} == {
        "KEP-WALI/1/2026", "SP2D/01/2026", "SP2D/02/2026", "JKM-0001"}
    assert {e.actor for e in trail} == {"operator", "kepala-bpkad"}


def test_the_trail_masks_personal_data_unless_asked(story: Story) -> None:
    masked = "\n".join(json.dumps(e.as_dict()) for e in audit_trail(story.ledger))
    assert not any(n in masked for n in NIKS)
    assert "Siti Pekerja" not in masked and BIRTH.isoformat() not in masked
    (siti,) = [e for e in audit_trail(story.ledger, SITI) if e.event == "Worker.Registered"]
    assert siti.changes["nik"] == "327501********01"
    assert (siti.changes["name"], siti.changes["birth_date"]) == ("S. P. 1.", "1984")
    unmasked = [e for e in audit_trail(story.ledger, SITI, unmask=True)]
    assert unmasked[0].changes["nik"] == SITI and unmasked[0].changes["name"] == "Siti Pekerja 1"
    assert unmasked[0].changes["birth_date"] == BIRTH.isoformat()
    assert unmasked[0].aggregate == f"Worker {SITI}"


def test_a_workers_trail_holds_its_events_and_the_program_events_naming_it(
    story: Story,
) -> None:
    trail = list(audit_trail(story.ledger, SITI))
    assert [e.event for e in trail] == [
        "Worker.Registered", "Worker.Enrolled", "Program.CoverageReleased",
        "Worker.CoverageEnded", "Worker.ClaimFiled",
    ]
    released = trail[2]
    assert released.changes["worker"] == "327501********01"
    assert (released.changes["jkk"], released.changes["jkm"]) == (90_000, 61_200)  # 9 months
    with pytest.raises(NotFound, match=r"327501\*{8}99"):
        list(audit_trail(story.ledger, nik(99)))


# --- Who, when, why -----------------------------------------------------------------------

# The field that says why or under which document, for the events of commands that have one.
REASONS = {
    Program.AllocationAmended: "reason",
    Program.QuotaAmended: "reason",
    Program.PremiumsCommitted: "decree",
    Program.CoverageReleased: "reason",
    Program.PremiumPaid: "sp2d",
    Worker.Corrected: "reason",
    Worker.Enrolled: "decree",
    Worker.CoverageEnded: "reason",
    Worker.ClaimFiled: "reference",
    Reference.Used: "value",
}


def names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def test_every_event_type_carries_the_actor_and_its_reason_where_the_command_has_one() -> None:
    declared = [
        cls for aggregate in (Program, Worker, Reference) for cls in event_classes(aggregate)
        if cls.__qualname__.split(".")[1] not in ("Event", "Created")
    ]
    assert len(declared) >= 13
    for cls in declared:
        assert "actor" in names(cls), f"{cls.__qualname__} does not record who acted"
        assert "timestamp" in names(cls)
    for cls, reason in REASONS.items():
        assert reason in names(cls), f"{cls.__qualname__} lacks {reason}"


def test_every_event_recorded_has_an_actor_and_a_time(story: Story) -> None:
    for n in story.ledger.read_log():
        event: Any = story.ledger.mapper.to_domain_event(n)
        assert event.actor in ("operator", "kepala-bpkad")
        assert event.timestamp.tzinfo is not None
        assert story.at["before"] < event.timestamp <= story.at["Yanti moved"]
