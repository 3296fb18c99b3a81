"""`report claims` with benefits, and how a benefit is recorded: `claims file --benefit N` or
`claims benefit` later, both as `Worker.BenefitRecorded` events; `ClaimFiled` is unchanged.

Nine of the small program are enrolled from January (serials 1-3, 6, 8, 9 of tier 1, then 5,
11, 4). Serial 2 dies on 10 March: JKM pays Rp 42.000.000 (PP 82/2019). Serial 6 has a work
accident on 10 June: its JKK benefit is first Rp 5.000.000, then Rp 7.500.000 as treatment goes
on (the later record replaces the earlier). Benefits: JKK 7.500.000 + JKM 42.000.000 =
Rp 49.500.000, paid by BPJS: the budget is untouched.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cli_helpers import as_json, events, head_digest, jamsos, ok
from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.model import Worker
from jamsos_ledger.projections.benefits import BENEFITS
from jamsos_ledger.projections.runner import POSITIONS

BIRTH = date(1984, 5, 17)
DECILES = [3, 1, 2, 5, 4, 1, 7, 2, 3, 7, 4, 5]


def nik(serial: int) -> str:
    sex = "P" if serial % 2 else "L"
    day = BIRTH.day + (40 if sex == "P" else 0)
    return f"327501{day:02d}{BIRTH.month:02d}{BIRTH.year % 100:02d}{serial:04d}"


@pytest.fixture
def enrolled(store_url: str, tmp_path: Path) -> str:
    lines = ["nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"]
    for i, decile in enumerate(DECILES, start=1):
        sex = "P" if i % 2 else "L"
        kecamatan = "Rawalumbu" if i in (2, 6) else "Jatiasih"
        lines.append(f"{nik(i)},Pekerja {i},{BIRTH},{sex},{kecamatan},K,ojol,{decile},Dinsos")
    path = tmp_path / "r.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ok(store_url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000",
       "--quota", "10")
    ok(store_url, "workers", "import", str(path))
    ok(store_url, "workers", "prioritize")
    ok(store_url, "enroll", "--top", "9", "--start", "2026-01")
    return store_url


def test_claims_by_scheme_month_and_kecamatan_with_benefits(enrolled: str) -> None:
    url = enrolled
    budget = as_json(url, "report", "budget")
    filed = ok(url, "claims", "file", "--nik", nik(2), "--scheme", "JKM", "--date", "2026-03-10",
               "--reference", "JKM-1", "--benefit", "42000000")
    assert "benefit Rp 42.000.000 paid by BPJS" in filed.stdout
    ok(url, "claims", "file", "--nik", nik(6), "--scheme", "JKK", "--date", "2026-06-10",
       "--reference", "JKK-1")
    ok(url, "claims", "file", "--nik", nik(1), "--scheme", "JKK", "--date", "2026-06-20",
       "--reference", "JKK-2")
    assert as_json(url, "report", "claims")["benefits_by_scheme"] == {"JKK": 0, "JKM": 42_000_000}
    ok(url, "claims", "benefit", "--nik", nik(6), "--reference", "JKK-1", "--amount", "5000000")
    ok(url, "claims", "benefit", "--nik", nik(6), "--reference", "JKK-1", "--amount", "7500000")

    c = as_json(url, "report", "claims")
    assert (c["program"], c["total"], c["by_scheme"]) == ("2026", 3, {"JKK": 2, "JKM": 1})
    assert c["benefits_by_scheme"] == {"JKK": 7_500_000, "JKM": 42_000_000}
    assert (c["benefits_total"], c["with_benefit"]) == (49_500_000, 2)
    assert [r["benefit"] for r in c["claims"]] == [42_000_000, 7_500_000, None]
    assert c["by_month"] == [
        {"month": "2026-03", "JKK": 0, "JKM": 1, "total": 1, "benefits": 42_000_000},
        {"month": "2026-06", "JKK": 2, "JKM": 0, "total": 2, "benefits": 7_500_000},
    ]
    assert c["by_kecamatan"] == [
        {"kecamatan": "Jatiasih", "JKK": 1, "JKM": 0, "total": 1, "benefits": 0},
        {"kecamatan": "Rawalumbu", "JKK": 1, "JKM": 1, "total": 2, "benefits": 49_500_000},
    ]
    assert c["position"] > 0
    # Benefits are BPJS's money: the city's budget is exactly as it was.
    assert as_json(url, "report", "budget")["available"] == budget["available"]

    table = ok(url, "report", "claims").stdout
    for text in ("3 claims: JKK 2, JKM 1", "Rp 42.000.000", "Rp 49.500.000", "By scheme",
                 "By month", "By kecamatan", "Benefits recorded on 2 of 3 claims",
                 "Computed from the ledger up to event"):
        assert text in table, text
    csv_lines = ok(url, "report", "claims", "--format", "csv").stdout.splitlines()
    # The claim's columns, then the report's totals, position and digest (the same on every
    # row).
    assert csv_lines[0].endswith(",benefit,total_claims,total_jkk,total_jkm,total_benefits,"
                                 "position,digest")
    assert csv_lines[1].endswith(f",42000000,3,2,1,49500000,{events(url)},{head_digest(url)}")

    # The worker aggregate holds the benefit too.
    ledger = Ledger(url)
    try:
        assert [c["benefit"] for c in ledger.worker(nik(6)).claims] == [7_500_000]
        before = ledger.views.claims()
        ledger.views.rebuild("claims")
        assert ledger.views.claims() == before
    finally:
        ledger.close()


def test_benefit_refusals(enrolled: str) -> None:
    url = enrolled
    ok(url, "claims", "file", "--nik", nik(2), "--scheme", "JKM", "--date", "2026-03-10",
       "--reference", "JKM-1", "--benefit", "42000000")
    unknown = jamsos(url, "claims", "benefit", "--nik", nik(2), "--reference", "JKM-9",
                     "--amount", "1")
    assert unknown.exit_code == 1 and "has no claim 'JKM-9'" in unknown.stderr
    same = jamsos(url, "claims", "benefit", "--nik", nik(2), "--reference", "JKM-1",
                  "--amount", "42000000")
    assert same.exit_code == 1 and "nothing to record" in same.stderr
    negative = jamsos(url, "claims", "file", "--nik", nik(6), "--scheme", "JKK", "--date",
                      "2026-06-10", "--reference", "JKK-1", "--benefit", "-5")
    assert negative.exit_code == 2
    assert as_json(url, "report", "claims")["total"] == 1


def test_claim_filed_keeps_its_stored_schema(enrolled: str) -> None:
    """No class_version, no upcaster: a claim filed with a benefit is two events."""
    ok(enrolled, "claims", "file", "--nik", nik(2), "--scheme", "JKM", "--date", "2026-03-10",
       "--reference", "JKM-1", "--benefit", "42000000")
    ledger = Ledger(enrolled)
    try:
        assert getattr(Worker.ClaimFiled, "class_version", 1) == 1
        tail = list(ledger.read_log(start=int(ledger.recorder.max_notification_id() or 0) - 3))
        topics = [n.topic.rsplit(".", 1)[-1] for n in tail]
        assert topics[-3:] == ["ClaimFiled", "BenefitRecorded", "Used"]
        filed = ledger.mapper.transcoder.decode(tail[-3].state)
        assert "benefit" not in filed and "class_version" not in filed
    finally:
        ledger.close()


def test_a_store_made_before_benefits_gets_their_projection(enrolled: str) -> None:
    """A ledger whose projections were set up before benefits existed: the benefits
    projection is set up when the ledger is next opened and reads the log from the start."""
    ok(enrolled, "claims", "file", "--nik", nik(2), "--scheme", "JKM", "--date", "2026-03-10",
       "--reference", "JKM-1", "--benefit", "42000000")
    ledger = Ledger(enrolled)
    db = ledger.views.db
    with db.transaction() as cursor:  # as the previous release left it: no such projection
        cursor.execute(f"DROP TABLE {db.table(BENEFITS)}")
        cursor.execute(f"DELETE FROM {db.table(POSITIONS)} WHERE name = 'benefits'")
    ledger.close()
    assert as_json(enrolled, "report", "claims")["benefits_total"] == 42_000_000
