"""The small things a person reads: one of a kind said in the singular, thousands with dots,
one time format (WIB, to the second), and every command named in its group's help."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import click
import pytest

from cli_helpers import jamsos, ok
from jamsos_ledger.cli import main
from jamsos_ledger.cli.audit_integrity import _discrepancy
from jamsos_ledger.stores.integrity import Digest, Discrepancy, VerifyReport
from registration_file import file_summary

BIRTH = date(1984, 5, 17)
NIK = f"327501{BIRTH.day + 40:02d}{BIRTH.month:02d}{BIRTH.year % 100:02d}0001"
HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"
# `1 claims`, `1 programs`...: a count of one with a plural noun after it.
ONE_PLURAL = re.compile(
    r"(?<![\d.,])1 (?:more |eligible |eligible, ranked )?(claims|programs|workers|events|months|"
    r"participants|rows|places|ranks|figures|differences|enrolments|NIKs|lines)\b"
)


def groups() -> list[click.Group]:
    return [c for c in main.commands.values() if isinstance(c, click.Group)]


@pytest.mark.parametrize("group", groups(), ids=lambda g: g.name)
def test_a_groups_help_names_every_command_it_holds(group: click.Group) -> None:
    """`jamsos workers --help` said `import, prioritize, show` and held `correct` too."""
    summary = (group.help or "").split("\n\n")[0].lower()
    for name in group.commands:
        assert re.search(rf"\b{name}\b", summary), (group.name, name, summary)


def test_one_of_a_kind_is_said_in_the_singular(sqlite_url: str, tmp_path: Path) -> None:
    url = sqlite_url
    said = [ok(url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000",
               "--quota", "1", "--start", "2026-12", "--end", "2026-12")]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\n{NIK[:-1]},Siti,{BIRTH},P,01,Aren Jaya,ojol,1,Disnaker\n",
                   encoding="utf-8")
    refused = jamsos(url, "workers", "import", str(bad))
    assert refused.exit_code == 2
    assert "1 of 1 row is malformed" in refused.stderr
    good = tmp_path / "good.csv"
    good.write_text(f"{HEADER}\n{NIK},Siti,{BIRTH},P,01,Aren Jaya,ojol,1,Disnaker\n",
                    encoding="utf-8")
    said.append(ok(url, "workers", "import", str(good)))
    said.append(ok(url, "workers", "import", str(good)))  # 1 was already registered
    said.append(ok(url, "workers", "prioritize"))
    said.append(ok(url, "program", "capacity"))
    said.append(ok(url, "program", "show"))
    said.append(ok(url, "enroll", "--top", "1", "--start", "2026-12"))
    said.append(ok(url, "premiums", "due", "--today", "2026-12-20"))
    said.append(ok(url, "premiums", "pay", "--month", "2026-12", "--sp2d", "SP2D-12"))
    said.append(ok(url, "claims", "file", "--nik", NIK, "--scheme", "JKK", "--date",
                   "2026-12-03", "--reference", "JKK-1"))
    said.append(ok(url, "report", "claims"))
    said.append(ok(url, "audit", "replay"))
    text = "\n".join(r.stdout + r.stderr for r in said) + refused.stderr
    assert not ONE_PLURAL.findall(text), ONE_PLURAL.findall(text)
    for words in ("Registered 1 worker from", "1 was already registered",
                  "Ranked 1 eligible worker under", "1 rank recorded", "1 worker fits",
                  "(1 month)", "Enrolled 1 worker from", "due for 1 month up to",
                  "for 1 participant in 2026-12", "1 claim: JKK 1", "1 program"):
        assert words in text, words


def test_the_demo_counts_with_dots() -> None:
    assert file_summary("registrasi-2026.csv", {"rows": 14_026, "bad_nik": 412,
                                                "duplicates": 1}) == (
        "Registration file: registrasi-2026.csv, 14.026 rows (412 with a bad NIK, "
        "1 repeated NIK)"
    )


def test_claims_are_recorded_in_wib_to_the_second_as_in_the_audit_log(
    sqlite_url: str, tmp_path: Path
) -> None:
    url = sqlite_url
    ok(url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000",
       "--quota", "1")
    good = tmp_path / "good.csv"
    good.write_text(f"{HEADER}\n{NIK},Siti,{BIRTH},P,01,Aren Jaya,ojol,1,Disnaker\n",
                    encoding="utf-8")
    ok(url, "workers", "import", str(good))
    ok(url, "workers", "prioritize")
    ok(url, "enroll", "--top", "1", "--start", "2026-01")
    ok(url, "claims", "file", "--nik", NIK, "--scheme", "JKK", "--date", "2026-02-03",
       "--reference", "JKK-1")
    table = ok(url, "report", "claims").stdout
    assert "Recorded (WIB)" in table and "+00:00" not in table
    (row,) = [line for line in table.splitlines() if line.startswith("│ JKK-1")]
    (recorded,) = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row)
    trail = ok(url, "audit", "log").stdout
    (filed,) = [line for line in trail.splitlines() if "ClaimFiled" in line]
    assert recorded in filed
    # Scripts keep the stored ISO 8601 text.
    csv_text = ok(url, "report", "claims", "--format", "csv").stdout
    assert "+00:00" in csv_text


def test_an_amendments_change_has_dots_between_thousands(sqlite_url: str) -> None:
    ok(sqlite_url, "program", "open", "--year", "2026", "--allocation", "2000000",
       "--quota", "10")
    caption = ok(sqlite_url, "program", "capacity", "--allocation", "2000000000", "--quota",
                 "20000").stdout
    assert "9.920 fit (+9.911)" in caption


def test_a_tampered_position_has_dots_between_thousands() -> None:
    found = Discrepancy(14_026, "altered", "the stored event is not what was written")
    report = VerifyReport(14_025, 14_025, Digest(14_025, "0" * 32), found, None)
    message = _discrepancy(report).message
    assert "at position 14.026: altered" in message
    assert "(14.025 events before it are intact, up to position 14.025)" in message
