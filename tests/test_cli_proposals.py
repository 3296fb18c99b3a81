"""Four eyes on the command line (issue 18): `enroll`, `premiums pay` and `program amend` of a
program opened with --four-eyes propose; `jamsos proposals` lists and decides. The actors
each have a key of their own (`cli_helpers`); the proposer never approves."""

from __future__ import annotations

import re
from pathlib import Path

from cli_helpers import as_json, enrolled, events, jamsos, ok
from registration_file import generate_registrations


def opened(url: str, folder: Path) -> None:
    path = folder / "registrasi.csv"
    generate_registrations(path, 12, bad_rate=0, duplicate_rate=0)
    ok(url, "program", "open", "--year", "2026", "--allocation", "2000000000", "--quota",
       "10000", "--four-eyes")  # the session's key: the ledger's root administrator
    ok(url, "workers", "import", str(path), actor="ops")
    ok(url, "workers", "prioritize", actor="ops")


def proposal_id(output: str) -> str:
    found = re.search(r"Proposed [a-z ]+ ([0-9a-f]{8}) ", output)
    assert found, output
    return found.group(1)


def test_a_year_under_four_eyes(sqlite_url: str, tmp_path: Path) -> None:
    url = sqlite_url
    opened(url, tmp_path)
    proposed = ok(url, "enroll", "--top", "5", "--start", "2026-01", "--decree", "KEP/1",
                  actor="ops").stdout
    assert "would commit Rp 1.008.000" in proposed
    assert "nothing is committed or paid until another principal holding the role approver" \
        in proposed
    decree = proposal_id(proposed)
    budget = ok(url, "report", "budget", actor="auditor").stdout
    assert "Pending proposals (1)" in budget and f"{decree} enrolment decree" in budget
    assert "would commit Rp 1.008.000" in budget

    before = events(url)
    same = jamsos(url, "proposals", "approve", decree, actor="ops")
    assert same.exit_code == 1 and "ops proposed enrolment decree" in same.output
    assert events(url) == before

    approved = ok(url, "proposals", "approve", decree, actor="kadis").stdout
    assert "Approved enrolment decree" in approved and "enrolled 5 workers" in approved
    again = jamsos(url, "proposals", "approve", decree, actor="other-head")
    assert again.exit_code == 1 and "already approved by kadis" in again.output

    pay = proposal_id(ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/01",
                         actor="ppk").stdout)
    assert as_json(url, "program", "show")["paid"] == 0  # proposed: nothing paid yet
    ok(url, "proposals", "approve", pay, actor="bud")
    assert as_json(url, "program", "show")["paid"] == 5 * 16_800
    amend = proposal_id(ok(url, "program", "amend", "--quota", "9000", "--reason", "APBD-P",
                           actor="admin").stdout)
    ok(url, "proposals", "reject", amend, "--reason", "not this year", actor="kadis")
    listed = ok(url, "proposals", "list", "--format", "csv", actor="auditor").stdout
    lines = listed.strip().splitlines()
    assert len(lines) == 4
    assert ",approved,kadis" in lines[1] and ",approved,bud" in lines[2]
    assert ",rejected,kadis" in lines[3]
    shown = ok(url, "proposals", "show", amend, actor="auditor").stdout
    assert "rejected by kadis: not this year" in shown


def test_direct_command_refused_by_the_service(sqlite_url: str, tmp_path: Path) -> None:
    """Proposal ids that are not there, and withdrawal by someone else: exit codes and words."""
    opened(sqlite_url, tmp_path)
    pid = proposal_id(ok(sqlite_url, "program", "amend", "--allocation", "2100000000",
                         "--reason", "APBD-P", actor="admin").stdout)
    for actor in ("ops", "kadis"):
        enrolled(sqlite_url, actor)  # their principals enrolled before the count
    before = events(sqlite_url)
    other = jamsos(sqlite_url, "proposals", "withdraw", pid, "--reason", "x", actor="ops")
    assert other.exit_code == 1 and "only admin, who proposed" in other.output
    missing = jamsos(sqlite_url, "proposals", "approve", "ffffffff", actor="kadis")
    assert missing.exit_code == 1 and "no proposal ffffffff" in missing.output
    bad = jamsos(sqlite_url, "proposals", "approve", "zz", actor="kadis")
    assert bad.exit_code == 2
    assert events(sqlite_url) == before
    ok(sqlite_url, "proposals", "withdraw", pid, "--reason", "typo", actor="admin")
