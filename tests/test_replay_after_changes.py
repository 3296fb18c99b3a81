"""`audit replay` agrees with the live projections after every kind of change, not only imports.

The live projections are kept up a few events at a time, as commands come; a replay builds them
again from the whole log at once. The counts by group (`quota_registered`, `quota_enrolled`)
are where the two ways could part: a correction moves a worker out of its group, and the
group's row is then a row of zeros live, while a replay, which nets the move out before it
writes, never makes that row. The replay compares every table whole, so a row of zeros was a
difference: exit 4, which an auditor reads as tampering.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from test_bulk_registration import people

from cli_helpers import jamsos, ok
from jamsos_ledger.application import Ledger
from jamsos_ledger.application.replay import replay
from jamsos_ledger.domain.months import Month
from jamsos_ledger.projections.group_counts import ENROLLED, REGISTERED

HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"


def registration_file(tmp_path: Path) -> Path:
    """Twenty-three workers, each alone in its (kecamatan, occupation, decile) group."""
    lines = [HEADER]
    for r in people(23):
        lines.append(
            f"{r.nik},{r.name},{r.birth_date.isoformat()},{r.sex},{r.kecamatan},{r.kelurahan},"
            f"{r.occupation},{r.decile},{r.source}"
        )
    path = tmp_path / "registrasi.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_correction_then_audit_replay_finds_no_difference(
    store_url: str, tmp_path: Path
) -> None:
    """The README's own story: open, import, prioritize, replay, correct a decile, replay."""
    ok(store_url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000000",
       "--quota", "10000")
    ok(store_url, "workers", "import", str(registration_file(tmp_path)))
    ok(store_url, "workers", "prioritize")
    ok(store_url, "audit", "replay")
    first = people(1)[0]  # decile 1, alone in its group: the correction empties the group
    ok(store_url, "workers", "correct", first.nik, "--field", "decile", "--value", "2",
       "--reason", "DTSEN 2026-Q2")
    replayed = jamsos(store_url, "audit", "replay")
    assert replayed.exit_code == 0, replayed.output
    assert "No differences" in replayed.output
    # Once more after the worker is enrolled, moved to another kecamatan and ended.
    ok(store_url, "enroll", "--nik", first.nik, "--start", "2026-01", "--decree", "KEP-1")
    ok(store_url, "workers", "correct", first.nik, "--field", "kecamatan", "--value",
       "Bantargebang", "--reason", "pindah domisili")
    ok(store_url, "end", "--nik", first.nik, "--month", "2026-03", "--reason", "moved")
    ok(store_url, "workers", "correct", first.nik, "--field", "occupation", "--value",
       "Pemulung", "--reason", "survei")
    replayed = jamsos(store_url, "audit", "replay")
    assert replayed.exit_code == 0, replayed.output


@pytest.fixture
def ledger(store_url: str) -> Iterator[Ledger]:
    opened = Ledger(store_url, actor="disnaker")
    try:
        yield opened
    finally:
        opened.close()


def no_zero_rows(ledger: Ledger) -> None:
    """A group row stands for a group with someone in it, live as rebuilt."""
    views = ledger.views
    views.catch_up()
    assert views.query(
        f"SELECT * FROM {views.db.table(REGISTERED)} WHERE workers = 0"
    ) == []
    assert views.query(
        f"SELECT * FROM {views.db.table(ENROLLED)} WHERE enrolled = 0 AND ended = 0"
    ) == []


def test_every_kind_of_change_replays_to_the_live_tables(ledger: Ledger) -> None:
    """Each step is followed by a whole replay: corrections of every correctable field, on
    workers waiting, enrolled and ended, in two programs; enrolments, endings, moves,
    amendments, payments before and after an ending, claims and benefits."""
    rows = people(30)
    eligible = [r for r in rows if r.decile <= 5]
    a, b, c, d, e = (r.nik for r in eligible[:5])
    waiting = eligible[6].nik
    bridge = Month(2025, 11), Month(2025, 12)
    steps: list[tuple[str, Callable[[], object]]] = [
        ("open the 2025 bridge", lambda: ledger.open_program(
            year=2025, code="SIGAP-2025", start=bridge[0], end=bridge[1],
            allocation=10 * 2 * 16_800, quota=10, four_eyes=False)),
        ("open the 2026 year", lambda: ledger.open_program(
            year=2026, code="2026", allocation=9 * 12 * 16_800 + 1, quota=9, four_eyes=False)),
        ("register", lambda: ledger.register(rows)),
        ("prioritize", ledger.prioritize),
        ("correct a waiting worker's decile", lambda: ledger.correct_worker(
            waiting, field="decile", value="1", reason="DTSEN 2026-Q2")),
        ("correct a waiting worker's kecamatan", lambda: ledger.correct_worker(
            waiting, field="kecamatan", value="Jatiasih", reason="pindah")),
        ("enrol in the bridge", lambda: ledger.enrol(
            "SIGAP-2025", start=bridge[0], niks=[a, b, c], decree="KEP-655")),
        ("correct an enrolled worker's occupation", lambda: ledger.correct_worker(
            a, field="occupation", value="Pedagang kaki lima", reason="survei")),
        ("pay the bridge's November", lambda: ledger.pay_premiums(
            code="SIGAP-2025", month=bridge[0], sp2d="SP2D/11/2025")),
        ("end a bridge coverage after payment", lambda: ledger.end_coverage(
            b, code="SIGAP-2025", month=bridge[0], reason="died")),
        ("correct an ended worker's decile", lambda: ledger.correct_worker(
            b, field="decile", value="5", reason="DTSEN 2026-Q2")),
        ("enrol in 2026", lambda: ledger.enrol(
            "2026", start=Month(2026, 1), niks=[a, c, d, e], decree="KEP-1")),
        ("end before any payment", lambda: ledger.end_coverage(
            e, code="2026", month=Month(2026, 2), reason="formal")),
        ("move a worker enrolled in two programs", lambda: ledger.correct_worker(
            c, field="kecamatan", value="Bantargebang", reason="pindah")),
        ("correct a kelurahan", lambda: ledger.correct_worker(
            c, field="kelurahan", value="Ciketing Udik", reason="pindah")),
        ("correct a source", lambda: ledger.correct_worker(
            d, field="source", value="Dinsos", reason="verifikasi")),
        ("correct a name", lambda: ledger.correct_worker(
            d, field="name", value="Warga Baru", reason="KTP")),
        ("correct a decile to ineligible", lambda: ledger.correct_worker(
            d, field="decile", value="8", reason="DTSEN 2026-Q3")),
        ("amend the allocation", lambda: ledger.amend_program(
            "2026", allocation=12 * 12 * 16_800, reason="APBD-P 2026")),
        ("amend the quota", lambda: ledger.amend_program(
            "2026", quota=12, reason="Perwal 12/2026")),
        ("pay 2026's January", lambda: ledger.pay_premiums(
            code="2026", month=Month(2026, 1), sp2d="SP2D/01/2026")),
        ("end after payment", lambda: ledger.end_coverage(
            d, code="2026", month=Month(2026, 1), reason="ineligible")),
        ("claim", lambda: ledger.file_claim(
            a, scheme="JKK", incident_date=date(2026, 3, 2), reference="JKK-1")),
        ("benefit", lambda: ledger.record_benefit(a, reference="JKK-1", amount=5_000_000)),
        ("re-rank", ledger.prioritize),
        ("correct back", lambda: ledger.correct_worker(
            c, field="kecamatan", value="03", reason="salah input")),
    ]
    for what, step in steps:
        step()
        report = replay(ledger)
        assert report.ok, f"after {what}: {report.differences}"
        no_zero_rows(ledger)
