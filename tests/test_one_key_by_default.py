"""A single key can no longer move money: four eyes is the default of `program open`.

On SQLite and PostgreSQL, through the command line as a person types it: a program opened
without --four-eyes or --one-key has four eyes, so even the ledger's root administrator (who
holds every role) only proposes an enrolment decree, a month's payment or an amendment, and
cannot approve what it proposed (exit 1, nothing written). --one-key is the explicit choice of
a small office, recorded and shown. A program opened before four eyes existed (its Opened
event has no four_eyes field) still reads as one key, as it was run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cli_helpers import as_json, contents, jamsos, key_for, ok, with_key
from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.model import Program
from jamsos_ledger.domain.months import Month
from registration_file import generate_registrations

ROOT = "operator"  # the session's key: the root administrator of every ledger it creates
SECOND = "kadis"  # another principal, with a key of its own


def proposal_id(output: str) -> str:
    found = re.search(r"Proposed [a-z ]+ ([0-9a-f]{8}) ", output)
    assert found, output
    return found.group(1)


def figures(url: str) -> dict[str, Any]:
    """What `report budget` says of the money, month by month: everything but where in the
    log it was computed and the list of pending proposals (which a proposal adds to)."""
    budget = as_json(url, "report", "budget")
    return {k: v for k, v in budget.items()
            if k not in ("position", "digest", "pending", "proposals")}


def terms(url: str) -> dict[str, Any]:
    shown = as_json(url, "program", "show")
    return {k: shown[k] for k in ("allocation", "quota", "committed", "paid", "enrolled")}


def same_key_cannot_approve(url: str, pid: str) -> None:
    """The proposer's own key approving: refused by the rule (exit 1), the store unchanged."""
    before = contents(url)
    same = jamsos(url, "proposals", "approve", pid, actor=ROOT)
    assert same.exit_code == 1, same.output
    assert f"{ROOT} proposed" in same.stderr and "cannot also approve" in same.stderr
    assert "Traceback" not in same.output
    # `--actor` is only a note beside the seal: the same key under another name is the same
    # principal, refused alike.
    renamed = with_key(url, str(key_for(ROOT).path), "--actor", "someone-else", "proposals",
                       "approve", pid)
    assert renamed.exit_code == 1 and "cannot also approve" in renamed.stderr, renamed.output
    assert contents(url) == before


def test_the_root_key_alone_only_proposes_and_cannot_approve(
    store_url: str, tmp_path: Path
) -> None:
    url = store_url
    path = tmp_path / "registrasi.csv"
    generate_registrations(path, 12, bad_rate=0, duplicate_rate=0)
    opened = ok(url, "program", "open", "--year", "2026", "--allocation", "2000000000",
                "--quota", "10000").stdout
    assert "; four eyes on" in opened
    shown = ok(url, "program", "show").stdout
    assert re.search(r"Four eyes\s*│\s*on: decrees, payments, amendments, reversals and annulments",
                     shown), shown
    ok(url, "workers", "import", str(path))
    ok(url, "workers", "prioritize")
    untouched = figures(url)
    assert untouched["committed"] == 0 and untouched["enrolled"] == 0

    # An enrolment decree by the root key alone: proposed, nothing committed.
    enrol = ok(url, "enroll", "--top", "5", "--start", "2026-01", "--decree", "KEP/1/2026")
    assert "Proposed enrolment decree" in enrol.stdout
    assert "Enrolled" not in enrol.stdout
    decree = proposal_id(enrol.stdout)
    assert figures(url) == untouched
    same_key_cannot_approve(url, decree)
    assert figures(url) == untouched

    # A second principal approves it: now five workers are enrolled, and their year committed.
    ok(url, "proposals", "approve", decree, actor=SECOND)
    enrolled = figures(url)
    assert enrolled["enrolled"] == 5 and enrolled["committed"] == 5 * 12 * 16_800

    # A month's payment by the root key alone: proposed, nothing paid.
    pay = ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/01/BPKAD/2026")
    assert "Proposed monthly payment" in pay.stdout and "Paid Rp" not in pay.stdout
    payment = proposal_id(pay.stdout)
    assert figures(url) == enrolled and figures(url)["paid"] == 0
    same_key_cannot_approve(url, payment)
    assert figures(url) == enrolled

    # An amendment of allocation and quota by the root key alone: proposed, terms unchanged.
    before = terms(url)
    amend = ok(url, "program", "amend", "--allocation", "2100000000", "--quota", "11000",
               "--reason", "APBD-P 2026")
    assert "Proposed amendment" in amend.stdout and "Amended" not in amend.stdout
    amendment = proposal_id(amend.stdout)
    assert terms(url) == before and figures(url) == enrolled
    same_key_cannot_approve(url, amendment)
    assert terms(url) == before == {"allocation": 2_000_000_000, "quota": 10_000,
                                    "committed": 5 * 12 * 16_800, "paid": 0, "enrolled": 5}

    # All three are pending; the one approved was approved by the second key.
    listed = as_json(url, "proposals", "list")
    status = {p["id"][:8]: (p["status"], p.get("decided_by")) for p in listed}
    assert status[decree] == ("approved", SECOND)
    assert status[payment][0] == status[amendment][0] == "pending"


def test_one_key_is_an_explicit_choice_recorded_and_shown(
    store_url: str, tmp_path: Path
) -> None:
    url = store_url
    path = tmp_path / "registrasi.csv"
    generate_registrations(path, 12, bad_rate=0, duplicate_rate=0)
    opened = ok(url, "program", "open", "--one-key", "--year", "2026", "--allocation",
                "2000000000", "--quota", "10000").stdout
    assert "one key (four eyes off)" in opened
    shown = ok(url, "program", "show").stdout
    assert re.search(r"Four eyes\s*│\s*off \(--one-key\)", shown), shown
    ok(url, "workers", "import", str(path))
    ok(url, "workers", "prioritize")
    enrol = ok(url, "enroll", "--top", "5", "--start", "2026-01", "--decree", "KEP/1/2026")
    assert "Enrolled 5 workers" in enrol.stdout
    ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/01/BPKAD/2026")
    assert figures(url)["paid"] == 5 * 16_800
    ledger = Ledger(url)
    try:
        assert ledger.program().four_eyes is False
        opened_event = next(e for e in ledger.events.get(ledger.program().id)
                            if isinstance(e, Program.Opened))
        assert opened_event.four_eyes is False  # recorded, not merely defaulted
    finally:
        ledger.close()


def test_the_service_and_the_domain_open_with_four_eyes_by_default() -> None:
    ledger = Ledger("memory://")
    try:
        assert ledger.open_program(year=2026, allocation=2_000_000, quota=10).four_eyes is True
        assert ledger.open_program(year=2026, allocation=2_000_000, quota=10, code="small",
                                   four_eyes=False).four_eyes is False
    finally:
        ledger.close()
    program = Program.open(
        code="p", name="p", year=2026, start=Month(2026, 1), end=Month(2026, 12),
        allocation=2_000_000, quota=10, jkk_monthly=10_000, jkm_monthly=6_800,
        ruleset_name="dtsen-desil-v1", actor="admin",
    )
    assert program.four_eyes is True


def test_a_program_opened_before_four_eyes_existed_reads_as_one_key() -> None:
    """Its stored Opened event has no four_eyes field: the event's default (False) holds, as
    the program was run then; only the commands' default changed."""
    ledger = Ledger("memory://")
    try:
        program = Program.open(
            code="old", name="old", year=2025, start=Month(2025, 1), end=Month(2025, 12),
            allocation=2_000_000, quota=10, jkk_monthly=10_000, jkm_monthly=6_800,
            ruleset_name="dtsen-desil-v1", actor="admin", four_eyes=True,
        )
        (opened,) = program.collect_events()
        stored = ledger.mapper.to_stored_event(opened)
        state = ledger.mapper.transcoder.decode(stored.state)
        assert state.pop("four_eyes") is True
        old = type(stored)(
            originator_id=stored.originator_id, originator_version=stored.originator_version,
            topic=stored.topic, state=ledger.mapper.transcoder.encode(state),
        )
        read = ledger.mapper.to_domain_event(old)
        assert read.mutate(None).four_eyes is False
    finally:
        ledger.close()
