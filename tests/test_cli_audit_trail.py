"""An auditor at the command line, on SQLite and on PostgreSQL: reports as of a moment, the
replay (exit 4 when a projection was altered) and the trail, masked unless asked.

The small program of test_cli_story: Rp 2.000.000 for 10 workers at Rp 16.800 a month. Nine are
enrolled for the year (Rp 1.814.400 committed), January is paid (Rp 151.200), then worker 2 dies
in March: April to December, unpaid, are released (Rp 151.200). The moments are read between
the commands, so each one falls between two of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cli_helpers import as_json, jamsos, ok
from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.months import JAKARTA

HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"
BIRTH = date(1984, 5, 17)


def nik(serial: int, sex: str) -> str:
    day = BIRTH.day + (40 if sex == "P" else 0)
    return f"327501{day:02d}{BIRTH.month:02d}{BIRTH.year % 100:02d}{serial:04d}"


SEXES = {i: "P" if i % 2 else "L" for i in range(1, 13)}
NIKS = {i: nik(i, SEXES[i]) for i in range(1, 13)}
AGUS = NIKS[2]  # decile 1: among the nine enrolled; dies in March
AGUS_MASKED = "327501********02"


def moment() -> str:
    """Now as an ISO timestamp, after letting the clock tick past it."""
    now = datetime.now(UTC)
    while datetime.now(UTC) <= now:
        pass
    return now.isoformat()


@dataclass
class Story:
    url: str
    at: dict[str, str]


@pytest.fixture
def story(store_url: str, tmp_path: Path) -> Iterator[Story]:
    deciles = [3, 1, 2, 5, 4, 1, 7, 2, 3, 7, 4, 5]
    lines = [HEADER] + [
        f"{NIKS[i]},Pekerja Nomor {i},{BIRTH.isoformat()},{SEXES[i]},{['01', '02', '03'][i % 3]},"
        f"Margahayu,{['ojol', 'buruh harian'][i % 2]},{decile},Disnaker"
        for i, decile in enumerate(deciles, start=1)
    ]
    registrations = tmp_path / "registrations.csv"
    registrations.write_text("\n".join(lines) + "\n", encoding="utf-8")
    url = store_url
    at = {"before": moment()}
    ok(url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000", "--quota",
       "10")
    at["opened"] = moment()
    ok(url, "workers", "import", str(registrations))
    ok(url, "workers", "prioritize")
    at["ranked"] = moment()
    ok(url, "enroll", "--top", "9", "--start", "2026-01", "--decree", "KEP-WALI/1/2026")
    at["enrolled"] = moment()
    ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/01/2026", actor="bpkad")
    at["paid"] = moment()
    ok(url, "end", "--nik", AGUS, "--month", "2026-03", "--reason", "died")
    at["died"] = moment()
    ok(url, "claims", "file", "--nik", AGUS, "--scheme", "JKM", "--date", "2026-03-14",
       "--reference", "JKM-0001")
    at["claimed"] = moment()
    yield Story(url, at)


# (committed, paid, enrolled, claims) at each moment, worked out by hand.
FIGURES = {
    "opened": (0, 0, 0, 0),
    "ranked": (0, 0, 0, 0),
    "enrolled": (1_814_400, 0, 9, 0),
    "paid": (1_663_200, 151_200, 9, 0),
    "died": (1_512_000, 151_200, 8, 0),
    "claimed": (1_512_000, 151_200, 8, 1),
}


def test_reports_as_of_each_moment(story: Story) -> None:
    for step, (committed, paid, enrolled, claims) in FIGURES.items():
        when = story.at[step]
        budget = as_json(story.url, "report", "budget", "--as-of", when)
        assert (budget["allocation"], budget["committed"], budget["paid"]) == (
            2_000_000, committed, paid), step
        assert budget["available"] == 2_000_000 - committed - paid
        quota = as_json(story.url, "report", "quota", "--as-of", when)
        assert (quota["quota"], quota["enrolled"], quota["available"]) == (
            10, enrolled, 10 - enrolled), step
        by_decile = as_json(story.url, "report", "quota", "--by", "decile", "--as-of", when)
        assert sum(r["enrolled"] for r in by_decile) == enrolled, step
        assert len(as_json(story.url, "report", "claims", "--as-of", when)["claims"]) == claims
    # Today's figures are those of the last moment, whatever was asked as of before.
    assert as_json(story.url, "report", "budget")["committed"] == 1_512_000


def test_a_report_as_of_a_moment_says_so_in_its_tables(story: Story) -> None:
    result = ok(story.url, "report", "budget", "--as-of", story.at["paid"])
    assert result.stdout.startswith(f"As of {story.at['paid']}: replayed from the events")
    assert "Rp 151.200" in result.stdout
    today = datetime.now(JAKARTA).date().isoformat()
    result = ok(story.url, "report", "quota", "--as-of", today)
    assert f"As of {today} (end of day, Asia/Jakarta)" in result.stdout
    claims = ok(story.url, "report", "claims", "--as-of", story.at["claimed"])
    assert "JKM-0001" in claims.stdout and "As of" in claims.stdout


def test_before_the_program_was_opened_the_reports_refuse(story: Story) -> None:
    yesterday = (datetime.now(JAKARTA).date() - timedelta(days=1)).isoformat()
    for args in (["report", "budget"], ["report", "quota"], ["report", "claims"]):
        result = jamsos(story.url, *args, "--as-of", yesterday)
        assert result.exit_code == 1, result.output
        assert f"program 2026 was not open yet as of {yesterday}" in result.stderr
    early = jamsos(story.url, "report", "budget", "--as-of", story.at["before"])
    assert early.exit_code == 1 and "not open yet" in early.stderr


def test_a_worker_as_of_a_moment(story: Story) -> None:
    shown = as_json(story.url, "workers", "show", AGUS, "--as-of", story.at["ranked"])
    assert shown["coverages"] == [] and shown["rank"] == 1 and shown["nik"] == AGUS_MASKED
    enrolled = as_json(story.url, "workers", "show", AGUS, "--as-of", story.at["enrolled"])
    assert enrolled["coverages"] == [{"program": "2026", "start": "2026-01", "end": "2026-12",
                                      "ended": None, "decree": "KEP-WALI/1/2026"}]
    died = as_json(story.url, "workers", "show", AGUS, "--as-of", story.at["died"])
    assert died["coverages"][0]["ended"] == "2026-03" and died["claims"] == []
    assert died["as_of"] == story.at["died"]
    table = ok(story.url, "workers", "show", AGUS, "--as-of", story.at["died"])
    assert f"Worker {AGUS_MASKED} as of {story.at['died']}" in " ".join(table.stdout.split())
    missing = jamsos(story.url, "workers", "show", AGUS, "--as-of", story.at["opened"])
    assert missing.exit_code == 1 and f"{AGUS_MASKED} was registered as of" in missing.stderr


@pytest.mark.parametrize(
    ("when", "words"),
    [
        ("31/03/2026", "neither a date"),
        ("yesterday", "'yesterday' is neither a date"),
        ("2026-02-30", "'2026-02-30' is not a date of the calendar"),
        ("2026-03-31T17:00:00", "'2026-03-31T17:00:00' has no UTC offset"),
    ],
)
def test_a_malformed_when_is_refused_naming_it(sqlite_url: str, when: str, words: str) -> None:
    for args in (["report", "budget"], ["workers", "show", AGUS], ["audit", "replay"]):
        result = jamsos(sqlite_url, *args, "--as-of", when)
        assert result.exit_code == 2, result.output
        assert "--as-of" in result.stderr and words in result.stderr, result.stderr


# --- audit replay -----------------------------------------------------------------------


def test_the_replay_of_an_intact_ledger_exits_0_saying_what_it_compared(story: Story) -> None:
    result = ok(story.url, "audit", "replay")
    for words in ("budget_months", "quota by kecamatan", "claims", "books", "projections",
                  "No differences"):
        assert words in result.stdout, words
    data = as_json(story.url, "audit", "replay")
    assert data["ok"] is True and data["differences"] == [] and data["programs"] == 1
    assert data["figures"] > 300 and data["as_of"] is None
    as_of = as_json(story.url, "audit", "replay", "--as-of", story.at["paid"])
    assert as_of["ok"] is True and as_of["as_of"] == story.at["paid"]
    assert {c["check"] for c in as_of["compared"]} == {"books"}


def tamper(url: str, statement: str) -> None:
    """Alter a live projection table with SQL, behind the ledger's back."""
    ledger = Ledger(url)
    try:
        db = ledger.views.db
        for table in ("budget_programs", "quota_programs"):
            statement = statement.replace(f"<{table}>", db.table(table))
        with db.transaction() as cursor:
            cursor.execute(statement)
    finally:
        ledger.close()


def test_the_replay_exits_4_naming_an_altered_allocation(story: Story) -> None:
    tamper(story.url, "UPDATE <budget_programs> SET allocation = allocation + 1")
    result = jamsos(story.url, "audit", "replay")
    assert result.exit_code == 4, result.output
    assert "differences" in result.stdout and "allocation" in result.stdout
    assert "2000001" in result.stdout
    assert "budget 2026 allocation: expected 2000000, found 2000001 (projections)" in (
        result.stderr)
    data = json.loads(jamsos(story.url, "audit", "replay", "--format", "json").stdout)
    assert data["ok"] is False
    assert {"check": "projections", "report": "budget", "key": "2026", "field": "allocation",
            "expected": 2_000_000, "found": 2_000_001} in data["differences"]
    # As of a moment the live tables are not read: the events themselves are sound.
    ok(story.url, "audit", "replay", "--as-of", story.at["claimed"])


def test_the_replay_exits_4_naming_a_deleted_quota_row(story: Story) -> None:
    tamper(story.url, "DELETE FROM <quota_programs>")
    result = jamsos(story.url, "audit", "replay", "--format", "json")
    assert result.exit_code == 4, result.output
    data = json.loads(result.stdout)
    assert {"check": "projections", "report": "quota", "key": "2026", "field": "(row)",
            "expected": "present", "found": "missing"} in data["differences"]


# --- audit log --------------------------------------------------------------------------


def test_the_log_shows_who_did_what_and_why_with_niks_masked(story: Story) -> None:
    result = ok(story.url, "audit", "log")
    out = result.stdout
    for words in ("operator", "bpkad", "Program.Opened", "Worker.Enrolled", "KEP-WALI/1/2026",
                  "SP2D/01/2026", "Program.CoverageReleased", "died", "JKM-0001", AGUS_MASKED):
        assert words in out, words
    assert not any(n in out for n in NIKS.values())
    assert "Pekerja Nomor" not in out and BIRTH.isoformat() not in out


def test_the_log_as_json_lines_and_for_one_worker(story: Story) -> None:
    lines = ok(story.url, "audit", "log", "--format", "jsonl").stdout.splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["position"] for e in entries] == list(range(1, len(entries) + 1))
    paid = [e for e in entries if e["event"] == "Program.PremiumPaid"]
    assert [(e["actor"], e["reference"]) for e in paid] == [("bpkad", "SP2D/01/2026")]
    assert paid[0]["changes"]["participants"] == 9
    assert all(e["time"].endswith("+07:00") for e in entries)
    mine = [json.loads(line) for line in ok(
        story.url, "audit", "log", "--nik", AGUS, "--format", "jsonl").stdout.splitlines()]
    assert [e["event"] for e in mine] == [
        "Worker.Registered", "Worker.Prioritized", "Worker.Enrolled",
        "Program.CoverageReleased", "Worker.CoverageEnded", "Worker.ClaimFiled"]
    assert mine[0]["changes"]["nik"] == AGUS_MASKED
    assert mine[0]["changes"]["name"] == "P. N. 2."
    assert mine[0]["changes"]["birth_date"] == "1984"


def test_the_log_shows_personal_data_only_when_asked(story: Story) -> None:
    result = ok(story.url, "audit", "log", "--nik", AGUS, "--unmask", "--reason", "BPK audit")
    assert AGUS in result.stdout and "Pekerja Nomor 2" in result.stdout
    assert "UU 27/2022" in ok(story.url, "audit", "log", "--help").stdout
    unknown = jamsos(story.url, "audit", "log", "--nik", nik(99, "L"))
    assert unknown.exit_code == 1 and "327501********99" in unknown.stderr
    assert nik(99, "L") not in unknown.stderr
