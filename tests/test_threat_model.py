"""The threat model's attacks by people who hold a key (docs/threat-model.md), run as they
would run them: the real `jamsos` command (in-process, CliRunner) with their own key file, on
a real SQLite file and the real PostgreSQL server.

The office: the root administrator `ana.kominfo` (the session's key, which created the
ledger), a clerk `clerk` (operator), the head of office `kadis` (approver), two finance
officers `ppk` and `bud`, and an auditor `inspektorat`, each enrolled by the root with those
roles only, on a program opened with four eyes on. Every refusal is checked to write nothing:
the store's contents, byte for byte (SQLite) or row for row (PostgreSQL), are as before.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner, Result
from role_helpers import acting
from test_application import AHMAD, BUDI, EVERYONE, SITI

from cli_helpers import admin_key, contents, key_for
from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.cli import main
from jamsos_ledger.domain.errors import NotAuthorised
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.principals import public_key_text
from jamsos_ledger.domain.roles import APPROVER, AUDITOR, FINANCE, OPERATOR, SERVICE

ROOT = "ana.kominfo"
OFFICE = {"clerk": {OPERATOR}, "kadis": {APPROVER}, "ppk": {FINANCE}, "bud": {FINANCE},
          "inspektorat": {AUDITOR}}


def office(url: str) -> None:
    """The ledger created by the root's key with a program under four eyes, the workers
    registered and ranked, and the office's principals enrolled by the root."""
    root = Ledger(url, actor=ROOT)
    try:
        root.open_program(year=2026, allocation=2_000_000_000, quota=10_000, code="fe",
                          four_eyes=True)
        root.register(EVERYONE)
        root.prioritize()
    finally:
        root.close()
    for name, roles in OFFICE.items():
        acting(url, name, roles).close()


def run(url: str, who: str, *args: str, declared: str | None = None) -> Result:
    """`jamsos --store URL [--actor DECLARED] --key WHO'S-KEY ARGS...`: `who` is the holder of
    the key (ROOT for the session's administrator key); a traceback fails the test."""
    key = admin_key() if who == ROOT else key_for(who)
    result = CliRunner().invoke(
        main, ["--store", url, *(["--actor", declared] if declared else []),
               "--key", str(key.path), *args],
        catch_exceptions=False,
    )
    assert "Traceback" not in result.output
    return result


def said(result: Result) -> str:
    return " ".join(result.output.split())


def proposal_id(result: Result) -> str:
    assert result.exit_code == 0, result.output
    found = re.search(r"Proposed [a-z ]+ ([0-9a-f]{8}) ", result.output)
    assert found, result.output
    return found.group(1)


def trail(url: str) -> list[dict[str, Any]]:
    """`audit log --format jsonl`, read with no key (reading needs none)."""
    result = CliRunner().invoke(main, ["--store", url, "audit", "log", "--format", "jsonl"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def seal_notes(url: str) -> list[str | None]:
    ledger = Ledger(url)
    try:
        seals = ledger.recorder.select_seals(0, 10**9, 10**6)  # type: ignore[attr-defined]
        return [s.note for s in seals]
    finally:
        ledger.close()


def enrolled_and_paid_month(url: str) -> str:
    """Budi and Siti enrolled under four eyes (proposed by the clerk, approved by the head of
    office); then January's payment proposed by the finance officer `ppk`: its id."""
    decree = proposal_id(run(url, "clerk", "enroll", "--nik", BUDI.nik, "--nik", SITI.nik,
                             "--start", "2026-01", "--decree", "KEP/1"))
    assert run(url, "kadis", "proposals", "approve", decree).exit_code == 0
    return proposal_id(run(url, "ppk", "premiums", "pay", "--month", "2026-01", "--sp2d",
                           "SP2D/01"))


def test_a_clerk_grants_themselves_a_role_and_nothing_is_written(store_url: str) -> None:
    """Role escalation by a clerk holding an operator's key: every change of principals and
    roles needs an administrator's (exit 7), whatever name the clerk declares."""
    office(store_url)
    puppet = public_key_text(key_for("clerk-puppet").public_key)
    before = contents(store_url)
    attempts = [
        ("principals", "grant", "clerk", "--role", "approver"),
        ("principals", "grant", "clerk", "--role", "administrator"),
        ("principals", "enrol", "clerk-puppet", "--office", "Disnaker", "--role", "finance",
         "--public-key", puppet),
        ("principals", "rotate", "kadis", "--public-key", puppet),
        ("principals", "withdraw", "kadis", "--role", "approver", "--reason", "x"),
        ("principals", "revoke", "kadis", "--reason", "x"),
    ]
    for args in attempts:
        for declared in (None, ROOT):
            refused = run(store_url, "clerk", *args, declared=declared)
            assert refused.exit_code == 7, (args, refused.output)
            assert "needs the role administrator" in said(refused), said(refused)
            assert "clerk holds operator" in said(refused), said(refused)
    assert contents(store_url) == before
    listed = json.loads(run(store_url, "clerk", "principals", "list", "--format",
                            "json").stdout)
    rows = listed["rows"] if isinstance(listed, dict) else listed
    clerk = next(p for p in rows if p["name"] == "clerk")
    assert "operator" in str(clerk["roles"]) and "approver" not in str(clerk["roles"])
    assert not any(p["name"] == "clerk-puppet" for p in rows)


def test_a_clerk_declaring_the_head_of_office_is_recorded_as_the_clerk(store_url: str) -> None:
    """Writing under another name: `--actor` is a note beside the seal, never who wrote; the
    events, the trail and the role checked are the key's principal's."""
    office(store_url)
    done = run(store_url, "clerk", "workers", "correct", BUDI.nik, "--field", "occupation",
               "--value", "ojek", "--reason", "survey", declared="kadis")
    assert done.exit_code == 0, done.output
    last = trail(store_url)[-1]
    assert last["event"] == "Worker.Corrected"
    assert last["actor"] == "clerk" and last["sealed_by"] == "clerk"
    assert seal_notes(store_url)[-1] == "kadis"  # the declared name: a note, proving nothing
    # Declaring the head of office's name gives none of the head's roles.
    decree = proposal_id(run(store_url, "clerk", "enroll", "--nik", AHMAD.nik, "--start",
                             "2026-01", declared="kadis"))
    before = contents(store_url)
    refused = run(store_url, "clerk", "proposals", "approve", decree, declared="kadis")
    assert refused.exit_code == 7 and "clerk holds operator" in said(refused), said(refused)
    assert contents(store_url) == before
    proposed = [e for e in trail(store_url) if e["event"] == "Proposal.Proposed"]
    assert [(e["actor"], e["sealed_by"]) for e in proposed] == [("clerk", "clerk")]


def test_the_root_key_alone_cannot_approve_its_own_proposal(store_url: str) -> None:
    """An insider holding the root administrator's key, which holds every role: under four
    eyes it proposes an enrolment and a payment, and cannot approve either, under its own
    name or another's (exit 1, nothing written)."""
    office(store_url)
    january = enrolled_and_paid_month(store_url)
    assert run(store_url, "bud", "proposals", "approve", january).exit_code == 0
    decree = proposal_id(run(store_url, ROOT, "enroll", "--nik", AHMAD.nik, "--start",
                             "2026-02", "--decree", "KEP/2"))
    payment = proposal_id(run(store_url, ROOT, "premiums", "pay", "--month", "2026-02",
                              "--sp2d", "SP2D/02"))
    before = contents(store_url)
    for pid in (decree, payment):
        for declared in (None, "kadis", "bud"):
            refused = run(store_url, ROOT, "proposals", "approve", pid, declared=declared)
            assert refused.exit_code == 1, refused.output
            assert f"{ROOT} proposed" in said(refused) and "cannot also approve" in said(refused)
    assert contents(store_url) == before
    # Direct commands are refused too: four eyes are the program's terms, not a role.
    direct = run(store_url, ROOT, "program", "amend", "--quota", "9000", "--reason", "x")
    assert direct.exit_code == 0 and "Proposed" in direct.output


def test_the_root_key_enrols_a_puppet_who_approves_and_the_log_shows_it(
    store_url: str
) -> None:
    """What the root's key CAN do alone: enrol a principal of its own making (a second key it
    holds) and have it approve the root's proposal. Nothing refuses it; the sealed enrolment,
    the proposal and the approval are in `principals list` and `audit log` for the auditors."""
    office(store_url)
    enrolled_and_paid_month(store_url)
    payment = proposal_id(run(store_url, ROOT, "premiums", "pay", "--month", "2026-02",
                              "--sp2d", "SP2D/02"))
    puppet = public_key_text(key_for("puppet").public_key)
    made = run(store_url, ROOT, "principals", "enrol", "puppet", "--office", "BPKAD", "--role",
               "finance", "--public-key", puppet)
    assert made.exit_code == 0, made.output
    approved = run(store_url, "puppet", "proposals", "approve", payment)
    assert approved.exit_code == 0, approved.output  # the attack succeeds: say so plainly
    log = trail(store_url)
    enrolment = next(e for e in log if e["event"] == "PrincipalRegistry.Enrolled"
                     and "puppet" in json.dumps(e["changes"]))
    proposed = [e for e in log if e["event"] == "Proposal.Proposed"][-1]
    decided = [e for e in log if e["event"] == "Proposal.Approved"][-1]
    assert enrolment["sealed_by"] == ROOT and proposed["sealed_by"] == ROOT
    assert decided["sealed_by"] == "puppet"
    assert proposed["position"] < enrolment["position"] < decided["position"]
    listed = run(store_url, "inspektorat", "principals", "list").stdout
    assert "puppet" in listed and "BPKAD" in listed
    # `audit verify` passes (every seal and role is genuine) but names the approval.
    verified = run(store_url, "inspektorat", "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "Four eyes to check" in verified.output
    notices = json.loads(run(store_url, "inspektorat", "audit", "verify", "--format",
                             "json").stdout)["approved_by_proposers_principals"]
    assert notices == [
        f"position {decided['position']}: puppet approved the payment proposal of {ROOT}, "
        f"who enrolled puppet at position {enrolment['position']}"]


def test_the_root_key_enrols_a_puppet_who_proposes_and_approves_it_and_verify_shows_it(
        store_url: str) -> None:
    """The reverse puppet: the root enrols `pfin` (finance) with a key it holds, pfin proposes
    a payment and the root approves it: one person moved the money. Nothing refuses it, but
    `audit verify` names the approval, saying the approver made the proposer; the same for
    an office principal the root enrolled (and granted finance) who proposes a reversal."""
    office(store_url)
    enrolled_and_paid_month(store_url)
    puppet = public_key_text(key_for("pfin").public_key)
    made = run(store_url, ROOT, "principals", "enrol", "pfin", "--office", "BPKAD", "--role",
               "finance", "--public-key", puppet)
    assert made.exit_code == 0, made.output
    payment = proposal_id(run(store_url, "pfin", "premiums", "pay", "--month", "2026-02",
                              "--sp2d", "SP2D/02"))
    approved = run(store_url, ROOT, "proposals", "approve", payment)
    assert approved.exit_code == 0, approved.output  # the attack succeeds: say so plainly
    granted = run(store_url, ROOT, "principals", "grant", "clerk", "--role", "finance")
    assert granted.exit_code == 0, granted.output
    reversal = proposal_id(run(store_url, "clerk", "premiums", "reverse", "--sp2d",
                               "SP2D/02", "--reason", "SP2D bounced"))
    assert run(store_url, ROOT, "proposals", "approve", reversal).exit_code == 0
    log = trail(store_url)
    enrolment = next(e for e in log if e["event"] == "PrincipalRegistry.Enrolled"
                     and "pfin" in json.dumps(e["changes"]))
    clerk = next(e for e in log if e["event"] == "PrincipalRegistry.Enrolled"
                 and "clerk" in json.dumps(e["changes"]))
    decided = [e for e in log if e["event"] == "Proposal.Approved"]
    verified = run(store_url, "inspektorat", "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "Four eyes to check" in verified.output
    assert "whom ana.kominfo enrolled" in said(verified), said(verified)
    notices = json.loads(run(store_url, "inspektorat", "audit", "verify", "--format",
                             "json").stdout)["approved_by_proposers_principals"]
    assert notices == [
        f"position {decided[-2]['position']}: {ROOT} approved the payment proposal of pfin, "
        f"whom {ROOT} enrolled at position {enrolment['position']}",
        f"position {decided[-1]['position']}: {ROOT} approved the reversal proposal of "
        f"clerk, whom {ROOT} enrolled at position {clerk['position']}"]


def test_an_operator_cannot_approve_or_reject_a_payment(store_url: str) -> None:
    """Acting alone on money: the clerk (operator) and the head of office (approver) may not
    decide a payment (exit 7); the finance officer who proposed it may not approve it (exit 1);
    only a second finance officer does."""
    office(store_url)
    payment = enrolled_and_paid_month(store_url)
    before = contents(store_url)
    for who, code, words in (("clerk", 7, "clerk holds operator"),
                             ("kadis", 7, "needs the role finance"),
                             ("ppk", 1, "cannot also approve")):
        refused = run(store_url, who, "proposals", "approve", payment)
        assert refused.exit_code == code, (who, refused.output)
        assert words in said(refused), said(refused)
    for who in ("clerk", "kadis"):
        refused = run(store_url, who, "proposals", "reject", payment, "--reason", "no")
        assert refused.exit_code == 7, (who, refused.output)
    direct = run(store_url, "clerk", "premiums", "pay", "--month", "2026-01", "--sp2d", "X/1")
    assert direct.exit_code == 7, direct.output
    assert contents(store_url) == before
    assert run(store_url, "bud", "proposals", "approve", payment).exit_code == 0
    # Proposers and approvers whom the root enrolled, none by the other: nothing to look at.
    verified = json.loads(run(store_url, "inspektorat", "audit", "verify", "--format",
                              "json").stdout)
    assert verified["intact"] and verified["approved_by_proposers_principals"] == []


def test_an_auditors_key_writes_nothing_but_a_note(store_url: str) -> None:
    """An auditor's key tries every kind of write: each exits 7 and writes nothing; a note is
    the one thing it writes."""
    office(store_url)
    payment = enrolled_and_paid_month(store_url)
    other = public_key_text(key_for("auditor-friend").public_key)
    writes = [
        ("program", "open", "--year", "2027", "--allocation", "1000000", "--quota", "10",
         "--code", "x", "--one-key"),
        ("program", "amend", "--quota", "9000", "--reason", "x"),
        ("workers", "correct", BUDI.nik, "--field", "occupation", "--value", "ojek",
         "--reason", "x"),
        ("workers", "prioritize"),
        ("enroll", "--nik", AHMAD.nik, "--start", "2026-02"),
        ("end", "--nik", BUDI.nik, "--month", "2026-03", "--reason", "moved"),
        ("annul", "--nik", BUDI.nik, "--reason", "x"),
        ("premiums", "reverse", "--sp2d", "SP2D/01", "--reason", "x"),
        ("claims", "file", "--nik", BUDI.nik, "--scheme", "JKK", "--date", "2026-01-10",
         "--reference", "JKK-1"),
        ("premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/09"),
        ("proposals", "approve", payment),
        ("proposals", "reject", payment, "--reason", "x"),
        ("principals", "grant", "inspektorat", "--role", "finance"),
        ("principals", "enrol", "auditor-friend", "--office", "BPK", "--role", "finance",
         "--public-key", other),
    ]
    before = contents(store_url)
    for args in writes:
        refused = run(store_url, "inspektorat", *args)
        assert refused.exit_code == 7, (args, refused.output)
        assert "inspektorat holds auditor" in said(refused), said(refused)
    assert contents(store_url) == before
    noted = run(store_url, "inspektorat", "audit", "note", "Payment proposed, not yet decided",
                "--about", payment)
    assert noted.exit_code == 0, noted.output
    assert trail(store_url)[-1]["event"] == "AuditNote.Written"


def test_a_stolen_service_key_acts_for_anyone_until_revoked(store_url: str) -> None:
    """The `service` role's key seals on behalf of whoever authenticated to the service, so a
    thief holding it, with a jamsos of their own making (the application, with no front door),
    acts as any active principal: they propose a payment as one finance officer and approve it
    as the other, and `audit verify` finds nothing wrong. Only the seals say both went through
    the service's key. Revoking that key stops it (nothing written)."""
    office(store_url)
    january = enrolled_and_paid_month(store_url)
    assert run(store_url, "bud", "proposals", "approve", january).exit_code == 0
    acting(store_url, "api", {SERVICE}).close()
    stolen = key_for("api")
    as_ppk = Ledger(store_url, key=KeySource(key=stolen, on_behalf_of="ppk"))
    try:
        proposal = as_ppk.propose_payment(month=Month(2026, 2), sp2d="SP2D/02", code="fe")
    finally:
        as_ppk.close()
    as_bud = Ledger(store_url, key=KeySource(key=stolen, on_behalf_of="bud"))
    try:
        as_bud.approve_proposal(proposal.short)
    finally:
        as_bud.close()
    shown = json.loads(run(store_url, "inspektorat", "program", "show", "--format",
                           "json").stdout)
    assert shown["paid"] == 2 * 2 * 16_800  # January and the thief's February
    verified = run(store_url, "inspektorat", "audit", "verify")
    assert verified.exit_code == 0, verified.output  # every seal is genuine: a stolen key's are
    seals = Ledger(store_url)
    try:
        last = seals.recorder.select_seals(0, 10**9, 10**6)[-2:]  # type: ignore[attr-defined]
    finally:
        seals.close()
    assert [(s.principal, s.on_behalf_of) for s in last] == [("api", "ppk"), ("api", "bud")]
    assert run(store_url, ROOT, "principals", "revoke", "api", "--reason", "key stolen"
               ).exit_code == 0
    before = contents(store_url)
    again = Ledger(store_url, key=KeySource(key=stolen, on_behalf_of="ppk"))
    try:
        with pytest.raises(NotAuthorised, match="revoked"):
            again.propose_payment(month=Month(2026, 3), sp2d="SP2D/03", code="fe")
    finally:
        again.close()
    assert contents(store_url) == before


def _own_jamsos(url: str, name: str) -> Ledger:
    """A jamsos of the principal's own making: the application with the principal's real key,
    but without the refusal of four eyes (`FourEyes`) or of the proposer's own approval, as a
    clerk who edits the source or calls the library would run it."""
    ledger = Ledger(url, key=KeySource(key=key_for(name)))
    ledger._four_eyes = lambda *_: None  # type: ignore[method-assign]
    return ledger


def test_four_eyes_skipped_by_a_jamsos_of_ones_own_is_reported_by_verify(
    store_url: str
) -> None:
    """A finance officer pays a month directly on a program under four eyes with a jamsos that
    skips the proposal: every seal is genuine and the officer holds the finance role, but the
    program's terms needed a second principal. `audit verify` names the position (exit 4)."""
    office(store_url)
    january = enrolled_and_paid_month(store_url)
    assert run(store_url, "bud", "proposals", "approve", january).exit_code == 0
    assert run(store_url, "inspektorat", "audit", "verify").exit_code == 0
    alone = _own_jamsos(store_url, "ppk")
    try:
        alone.pay_premiums(month=Month(2026, 2), sp2d="SP2D/02", code="fe")
        head = int(alone.recorder.max_notification_id() or 0)
    finally:
        alone.close()
    verified = run(store_url, "inspektorat", "audit", "verify")
    assert verified.exit_code == 4, verified.output
    assert f"position {head}" in said(verified), said(verified)
    assert "four eyes" in said(verified) and "'ppk'" in said(verified), said(verified)


def test_a_proposal_approved_by_its_proposer_is_reported_by_verify(store_url: str) -> None:
    """The proposer's own approval, written by a jamsos that skips the domain's refusal
    (`SameEyes`), sealed with the proposer's real key and its role: `audit verify` exits 4."""
    office(store_url)
    january = enrolled_and_paid_month(store_url)
    alone = Ledger(store_url, key=KeySource(key=key_for("ppk")))
    genuine = alone.proposal

    def someone_elses(ref: str) -> Any:
        proposal = genuine(ref)
        proposal.proposer = "someone else"  # what the domain compares, changed in memory
        return proposal

    try:
        alone.proposal = someone_elses  # type: ignore[method-assign]
        alone.approve_proposal(january)
        head = int(alone.recorder.max_notification_id() or 0)
    finally:
        alone.close()
    verified = run(store_url, "inspektorat", "audit", "verify")
    assert verified.exit_code == 4, verified.output
    said_ = said(verified)
    assert "'ppk'" in said_ and "proposed" in said_, said_
    assert any(f"position {p}" in said_ for p in range(head - 5, head + 1)), said_


def test_a_one_key_program_the_root_opens_and_runs_alone_is_listed_by_verify(
    store_url: str,
) -> None:
    """What the root's key CAN do alone: open a second program with four eyes off (`--one-key`,
    a small office's choice its terms allow) and enrol and pay on it by itself. Nothing refuses
    it; `audit verify` passes (exit 0) but lists the program, who opened it and why, and what
    one principal moved alone there (decrees, rupiah committed and paid, by whom). A program
    under four eyes is never listed, nor what a second principal approved."""
    office(store_url)
    enrolled_and_paid_month(store_url)

    def verified() -> dict[str, Any]:
        result = run(store_url, "inspektorat", "audit", "verify", "--format", "json")
        assert result.exit_code == 0, result.output
        answer: dict[str, Any] = json.loads(result.stdout)
        assert answer["intact"]
        return answer

    assert verified()["one_key_programs"] == []
    before = contents(store_url)
    refused = run(store_url, ROOT, "program", "open", "--year", "2026", "--allocation",
                  "500000000", "--quota", "100", "--code", "side", "--reason", "satu petugas")
    assert refused.exit_code == 2 and "--one-key" in refused.output, refused.output
    assert contents(store_url) == before
    opened = run(store_url, ROOT, "program", "open", "--one-key", "--year", "2026",
                 "--allocation", "500000000", "--quota", "100", "--code", "side", "--reason",
                 "Kecamatan office of one officer (SK 12/2026)")
    assert opened.exit_code == 0, opened.output
    shown = run(store_url, "inspektorat", "--program", "side", "program", "show")
    assert "why: Kecamatan office of one officer (SK 12/2026)" in said(shown), shown.output
    alone = run(store_url, ROOT, "--program", "side", "enroll", "--nik", AHMAD.nik,
                "--start", "2026-01", "--decree", "KEP/S1")
    assert alone.exit_code == 0, alone.output
    paid = run(store_url, ROOT, "--program", "side", "premiums", "pay", "--month", "2026-01",
               "--sp2d", "SP2D/S1")
    assert paid.exit_code == 0, paid.output
    # A second one-key program, without a reason, on which nothing moved.
    quiet = run(store_url, ROOT, "program", "open", "--one-key", "--year", "2026",
                "--allocation", "100000000", "--quota", "10", "--code", "quiet")
    assert quiet.exit_code == 0, quiet.output
    figures = json.loads(run(store_url, "inspektorat", "--program", "side", "program", "show",
                             "--format", "json").stdout)
    assert figures["paid"] > 0
    # February's payment proposed by one finance officer and approved by another: two
    # principals decided it, so it is not listed as moved alone.
    proposer = acting(store_url, "ppk", {FINANCE})
    try:
        february = proposer.propose_payment(month=Month(2026, 2), sp2d="SP2D/S2", code="side")
    finally:
        proposer.close()
    assert run(store_url, "bud", "proposals", "approve", february.short).exit_code == 0
    after = json.loads(run(store_url, "inspektorat", "--program", "side", "program", "show",
                           "--format", "json").stdout)
    assert after["paid"] == 2 * figures["paid"]
    listed = verified()["one_key_programs"]
    opened_at = [e["position"] for e in trail(store_url) if e["event"] == "Program.Opened"]
    assert listed == [
        {"program": "side", "opened_at": opened_at[1], "opened_by": ROOT,
         "reason": "Kecamatan office of one officer (SK 12/2026)",
         "decrees": 1, "workers_enrolled": 1,
         "committed": figures["committed"] + figures["paid"],
         "payments": 1, "paid": figures["paid"], "reversals": 0, "reversed": 0,
         "annulments": 0, "released": 0, "amendments": 0, "principals": [ROOT]},
        {"program": "quiet", "opened_at": opened_at[2], "opened_by": ROOT, "reason": "",
         "decrees": 0, "workers_enrolled": 0, "committed": 0, "payments": 0, "paid": 0,
         "reversals": 0, "reversed": 0, "annulments": 0, "released": 0, "amendments": 0,
         "principals": []},
    ]
    table = said(run(store_url, "inspektorat", "audit", "verify"))
    assert "One key: side" in table and f"alone, by {ROOT}: 1 decree enrolling 1 worker" \
        in table, table
    assert "One key: quiet" in table and "(no reason given); nothing moved alone" in table
