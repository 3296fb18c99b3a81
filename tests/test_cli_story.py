"""A year of a small program through the command line, on SQLite and on PostgreSQL.

The program is the seed scaled down a thousand times: Rp 2.000.000 for 10 workers at
Rp 16.800 a month (JKK 10.000 + JKM 6.800), Rp 201.600 a year. Nine fit for the whole year
(Rp 1.814.400); ten would cost Rp 2.016.000, Rp 16.000 over; ten fit from February
(11 months: Rp 1.848.000). Every figure below is worked out by hand from those.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cli_helpers import as_json, events, head_digest, jamsos, ok

HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"
BIRTH = date(1984, 5, 17)


def nik(serial: int, sex: str = "L", kecamatan: int = 1) -> str:
    day = BIRTH.day + (40 if sex == "P" else 0)
    return f"3275{kecamatan:02d}{day:02d}{BIRTH.month:02d}{BIRTH.year % 100:02d}{serial:04d}"


def registrations(tmp_path: Path) -> Path:
    """Twelve workers: ten in deciles 1-5 (eligible), two in decile 7 (not eligible)."""
    kecamatan = ["01", "02", "Rawalumbu", "04"]
    occupations = ["ojol", "pedagang kaki lima", "buruh harian"]
    deciles = [3, 1, 2, 5, 4, 1, 7, 2, 3, 7, 4, 5]
    lines = [HEADER]
    for i, decile in enumerate(deciles, start=1):
        sex = "P" if i % 2 else "L"
        lines.append(
            f"{nik(i, sex)},Pekerja {i},{BIRTH.isoformat()},{sex},{kecamatan[i % 4]},"
            f"Margahayu,{occupations[i % 3]},{decile},Disnaker"
        )
    path = tmp_path / "registrations.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def ranked(store_url: str, tmp_path: Path) -> str:
    """A store with the small program open and its twelve workers registered and ranked."""
    ok(store_url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000",
       "--quota", "10")
    ok(store_url, "workers", "import", str(registrations(tmp_path)))
    result = ok(store_url, "workers", "prioritize")
    assert "Ranked 10 eligible workers" in result.output
    return store_url


def test_a_full_year_for_ten_is_refused_with_the_figures_and_what_fits(ranked: str) -> None:
    before = events(ranked)
    result = jamsos(ranked, "enroll", "--top", "10", "--start", "2026-01", "--decree", "KEP-1")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    for figure in ("Rp 2.016.000", "Rp 16.000 is missing", "9 workers fit from 2026-01"):
        assert figure in result.stderr
    assert "Traceback" not in result.output
    assert events(ranked) == before  # nothing was written


def test_capacity_from_january_and_from_february(ranked: str) -> None:
    january = as_json(ranked, "program", "capacity")
    assert (january["workers"], january["start"], january["months"]) == (9, "2026-01", 12)
    assert january["commits"] == 9 * 201_600
    february = as_json(ranked, "program", "capacity", "--start", "2026-02")
    assert (february["workers"], february["commits"]) == (10, 1_848_000)
    assert [r["start"] for r in february["by_start"]][:2] == ["2026-02", "2026-03"]
    table = ok(ranked, "program", "capacity").stdout
    assert "Rp 201.600" in table and "Rp 1.814.400" in table and "2026-12" in table
    csv_rows = ok(ranked, "program", "capacity", "--format", "csv").stdout.splitlines()
    assert csv_rows[0] == ("start,months,cost_per_worker,workers,commits,limited_by,available,"
                           "places_left,position,digest")
    assert csv_rows[1].startswith("2026-01,12,201600,9,1814400,money,")
    assert len(csv_rows) == 13


def test_a_year_of_the_small_program(ranked: str) -> None:
    url = ranked
    enrolled = ok(url, "enroll", "--top", "10", "--start", "2026-02", "--decree", "KEP-2")
    assert enrolled.stdout.splitlines()[0] == (
        "Enrolled 10 workers from 2026-02 to 2026-12 under decree KEP-2: Rp 1.848.000 committed"
    )
    budget = as_json(url, "report", "budget")
    assert {k: budget[k] for k in ("allocation", "committed", "paid", "available")} == {
        "allocation": 2_000_000,
        "committed": 1_848_000,
        "paid": 0,
        "available": 152_000,
    }
    assert budget["committed_jkk"] == 10 * 11 * 10_000
    assert budget["committed_jkm"] == 10 * 11 * 6_800
    quota = as_json(url, "report", "quota")
    assert (quota["quota"], quota["enrolled"], quota["available"]) == (10, 10, 0)

    # The quota is full: one more is refused, and the program shows it.
    assert jamsos(url, "enroll", "--nik", nik(7, "P"), "--start", "2026-03").exit_code == 1
    shown = as_json(url, "program", "show")
    assert (shown["places_left"], shown["available"], shown["premium_monthly"]) == (0, 152_000,
                                                                                     16_800)

    # February's bill: 10 x Rp 16.800, once.
    paid = ok(url, "premiums", "pay", "--month", "2026-02", "--sp2d", "SP2D-0002",
              "--amount", "168000")
    assert "Paid Rp 168.000 for 10 participants in 2026-02" in paid.stdout
    before = events(url)
    again = jamsos(url, "premiums", "pay", "--month", "2026-03", "--sp2d", "SP2D-0002")
    assert again.exit_code == 1 and "SP2D-0002" in again.stderr
    wrong = jamsos(url, "premiums", "pay", "--month", "2026-03", "--sp2d", "SP2D-0003",
                   "--amount", "160000")
    assert wrong.exit_code == 1 and "Rp 168.000" in wrong.stderr
    nothing = jamsos(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D-0001")
    assert nothing.exit_code == 1 and "nothing to pay" in nothing.stderr
    assert events(url) == before

    # The best-ranked worker (decile 1, registered second) dies in March.
    first = nik(2, "L")
    ended = ok(url, "end", "--nik", first, "--month", "2026-03", "--reason", "died")
    assert "Rp 151.200 released" in ended.stdout  # April to December: 9 x Rp 16.800
    assert first not in ended.stdout
    budget = as_json(url, "report", "budget")
    assert (budget["committed"], budget["paid"], budget["available"]) == (
        1_848_000 - 168_000 - 151_200,
        168_000,
        2_000_000 - (1_848_000 - 168_000 - 151_200) - 168_000,
    )
    quota = as_json(url, "report", "quota")
    assert (quota["enrolled"], quota["ended"], quota["available"]) == (9, 1, 1)
    assert jamsos(url, "end", "--nik", first, "--month", "2026-04",
                  "--reason", "moved").exit_code == 1

    # Claims: JKM for the death in March, recorded; none for a month after coverage ended.
    claimed = ok(url, "claims", "file", "--nik", first, "--scheme", "JKM", "--date",
                 "2026-03-10", "--reference", "BPJS-JKM-1")
    assert "covered by program 2026" in claimed.stdout
    late = jamsos(url, "claims", "file", "--nik", first, "--scheme", "JKK", "--date",
                  "2026-05-01", "--reference", "BPJS-JKK-9")
    assert late.exit_code == 1 and "not covered in 2026-05" in late.stderr
    claims = as_json(url, "report", "claims")
    assert (claims["total"], claims["by_scheme"]) == (1, {"JKK": 0, "JKM": 1})
    assert claims["claims"][0]["reference"] == "BPJS-JKM-1"
    assert as_json(url, "report", "budget")["available"] == budget["available"]  # untouched

    # In May, March (10 covered), April and May (9 covered) are unpaid; March is two months old.
    due = jamsos(url, "premiums", "due", "--today", "2026-05-20", "--format", "json")
    assert due.exit_code == 0, due.output
    months = [(r["month"], r["participants"], r["amount"], r["due"], r["overdue"])
              for r in json.loads(due.stdout)]
    assert months == [
        ("2026-03", 10, 168_000, "2026-04-15", True),
        # 15 May 2026 is a cuti bersama (Ascension), then a weekend: due Monday 18 May.
        ("2026-04", 9, 151_200, "2026-05-18", True),
        ("2026-05", 9, 151_200, "2026-06-15", False),
    ]
    assert "Warning: 2026-03 is unpaid for 10 participants" in due.stderr
    assert "2026-04 is unpaid" not in due.stderr

    # The worker as an operator sees it: the NIK masked, the name as initials, coverage and
    # claim shown; the name in full only for a reason (`--unmask --reason`, recorded).
    shown_worker = ok(url, "workers", "show", first).stdout
    assert first not in shown_worker and "Pekerja 2" not in shown_worker
    assert "327501********02" in shown_worker
    for text in ("P. 2.", "KEP-2", "2026-03", "BPJS-JKM-1", "dtsen-desil-v1"):
        assert text in shown_worker, text
    worker = as_json(url, "workers", "show", first)
    assert (worker["decile"], worker["rank"], worker["coverages"][0]["ended"]) == (1, 1,
                                                                                   "2026-03")


def test_quota_by_group(ranked: str) -> None:
    ok(ranked, "enroll", "--top", "4", "--start", "2026-01")
    by_decile = as_json(ranked, "report", "quota", "--by", "decile")
    assert [(r["decile"], r["enrolled"]) for r in by_decile] == [
        (1, 2), (2, 2), (3, 0), (4, 0), (5, 0), (7, 0)
    ]
    by_kecamatan = as_json(ranked, "report", "quota", "--by", "kecamatan")
    assert sum(r["enrolled"] for r in by_kecamatan) == 4
    assert {r["kecamatan"] for r in by_kecamatan} == {
        "Bekasi Timur", "Bekasi Barat", "Rawalumbu", "Bekasi Selatan"
    }
    csv_text = ok(ranked, "report", "quota", "--by", "occupation", "--format", "csv").stdout
    assert csv_text.splitlines()[0] == ("occupation,enrolled,ended,registered,eligible,waiting,"
                                        "quota,total_enrolled,available,position,digest")
    table = ok(ranked, "report", "quota", "--by", "decile").stdout
    assert "4 enrolled of a quota of 10" in table


def test_amendments(ranked: str) -> None:
    url = ranked
    ok(url, "enroll", "--top", "9", "--start", "2026-01", "--decree", "KEP-1")
    # Rp 1.814.400 is committed: the allocation cannot go below it.
    before = events(url)
    refused = jamsos(url, "program", "amend", "--allocation", "1800000", "--reason", "cut")
    assert refused.exit_code == 1 and "Rp 1.814.400" in refused.stderr
    below = jamsos(url, "program", "amend", "--quota", "8", "--reason", "cut")
    assert below.exit_code == 1 and "9 workers are enrolled" in below.stderr
    assert events(url) == before
    # APBD-P: Rp 16.000 more makes room for the tenth for the whole year.
    amended = ok(url, "program", "amend", "--allocation", "2016000", "--reason", "APBD-P 2026")
    assert "allocation Rp 2.000.000 -> Rp 2.016.000" in amended.stdout
    assert as_json(url, "program", "capacity")["workers"] == 1
    ok(url, "enroll", "--top", "1", "--start", "2026-01", "--decree", "KEP-3")
    assert as_json(url, "report", "budget")["available"] == 0
    assert as_json(url, "program", "capacity")["workers"] == 0
    raised = ok(url, "program", "amend", "--quota", "12", "--reason", "DPRD")
    assert "quota 10 -> 12" in raised.stdout
    assert as_json(url, "program", "show")["places_left"] == 2
    assert jamsos(url, "program", "amend", "--reason", "nothing").exit_code == 2


def test_reports_as_tables_and_csv(ranked: str) -> None:
    ok(ranked, "enroll", "--top", "9", "--start", "2026-01")
    budget = ok(ranked, "report", "budget").stdout
    for text in ("Rp 2.000.000", "Rp 1.814.400", "Rp 185.600", "2026-12"):
        assert text in budget
    rows = ok(ranked, "report", "budget", "--format", "csv").stdout.splitlines()
    assert rows[0].startswith("month,active,paid_participants,planned,committed,paid,overpaid")
    assert rows[1].startswith("2026-01,9,0,151200,151200,0,0")
    assert len(rows) == 13
    quota_csv = ok(ranked, "report", "quota", "--format", "csv").stdout.splitlines()
    assert quota_csv == ["program,quota,enrolled,available,ended,registered,eligible,waiting,"
                         "priority_violations,position,digest",
                         f"2026,10,9,1,0,12,10,1,0,{events(ranked)},{head_digest(ranked)}"]
    assert "0 claims: JKK 0, JKM 0" in ok(ranked, "report", "claims").stdout
    assert ok(ranked, "report", "claims", "--format", "csv").stdout.startswith("reference,")


def test_projections_rebuild_to_the_same_figures(ranked: str) -> None:
    ok(ranked, "enroll", "--top", "9", "--start", "2026-01")
    ok(ranked, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D-1")
    budget = as_json(ranked, "report", "budget")
    rebuilt = ok(ranked, "projections", "rebuild")
    assert rebuilt.stdout.startswith("Rebuilt budget, quota, claims, priority, benefits from ")
    assert as_json(ranked, "report", "budget") == budget
    ok(ranked, "projections", "rebuild", "quota")
    assert as_json(ranked, "report", "quota")["enrolled"] == 9
    status = as_json(ranked, "projections", "status")
    assert {s["name"] for s in status} == {"budget", "quota", "claims", "priority", "benefits"}
    assert all(s["behind"] == 0 and s["position"] == s["head"] for s in status)
    unknown = jamsos(ranked, "projections", "rebuild", "ledger")
    assert unknown.exit_code == 2
    assert "known: budget, quota, claims, priority, benefits" in unknown.stderr


def test_enrol_by_nik_is_all_or_nothing(ranked: str) -> None:
    before = events(ranked)
    unknown = "3275011705849999"
    result = jamsos(ranked, "enroll", "--nik", nik(1, "P"), "--nik", unknown,
                    "--start", "2026-01")
    assert result.exit_code == 1 and "not registered" in result.stderr
    assert unknown not in result.stderr  # NIKs are masked in messages
    ineligible = jamsos(ranked, "enroll", "--nik", nik(1, "P"), "--nik", nik(7, "P"),
                        "--start", "2026-01")
    assert ineligible.exit_code == 1 and "decile 7" in ineligible.stderr
    assert events(ranked) == before
    done = ok(ranked, "enroll", "--nik", nik(1, "P"), "--nik", nik(3, "P"), "--start",
              "2026-07")
    assert "Enrolled 2 workers from 2026-07 to 2026-12: Rp 201.600 committed" in done.stdout
