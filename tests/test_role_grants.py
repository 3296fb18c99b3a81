"""Roles granted and withdrawn by an administrator, and auditors' notes, on both stores.

A role counts from the write after it is granted, and stops counting from the write after it is
withdrawn: for the service (exit 7, nothing written) and for `audit verify`, which reports an
event written with a withdrawn role (by a jamsos of someone's own making that checks no role,
sealed with the principal's real key) like a broken seal. The root administrator holds every
role but those withdrawn from it. Auditors write their own notes and nothing else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from role_helpers import acting
from test_application import BUDI, EVERYONE, JAN
from test_concurrency import RACER, Outcome

from cli_helpers import contents, jamsos, key_for
from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.domain.errors import RoleRefused
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.principals import (
    ADMINISTRATOR,
    APPROVER,
    AUDITOR,
    FINANCE,
    OPERATOR,
    ROLES,
    Directory,
    Principal,
)


def history(url: str) -> None:
    """A program with four eyes off, Budi enrolled, and an operator `ops` and a finance
    officer `keu` enrolled with those roles only, by the root administrator: the session's
    administrator key, named `root` here, which the command line uses for the actor
    `operator` (`cli_helpers.ADMIN`)."""
    root = Ledger(url, actor="root")
    try:
        root.open_program(year=2026, allocation=2_000_000_000, quota=10_000, code="p",
                          four_eyes=False)
        root.register(EVERYONE)
        root.enrol("p", start=JAN, niks=[BUDI.nik], decree="KEP/1")
    finally:
        root.close()
    acting(url, "ops", {OPERATOR}).close()
    acting(url, "keu", {FINANCE}).close()


def run(url: str, actor: str, *args: str) -> tuple[int, str]:
    result = jamsos(url, *args, actor=actor)
    assert "Traceback" not in result.output
    return result.exit_code, " ".join(result.output.split())


def test_granted_the_role_a_principal_acts_and_withdrawn_it_is_refused(store_url: str) -> None:
    history(store_url)
    pay = ("premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/01")
    # ops cannot pay...
    code, said = run(store_url, "ops", *pay)
    assert code == 7 and "needs the role finance" in said, said
    # ...until the administrator grants it finance
    code, said = run(store_url, "operator", "principals", "grant", "ops", "--role", "finance")
    assert code == 0 and "Granted finance to ops: it holds finance, operator" in said, said
    code, said = run(store_url, "ops", *pay)
    assert code == 0, said
    # withdrawn, it is refused again, and nothing is written
    code, said = run(store_url, "operator", "principals", "withdraw", "ops", "--role",
                     "finance", "--reason", "separation of duties")
    assert code == 0 and "Withdrew finance from ops" in said, said
    before = contents(store_url)
    pay2 = ("premiums", "pay", "--month", "2026-02", "--sp2d", "SP2D/02")
    code, said = run(store_url, "ops", *pay2)
    assert code == 7 and "needs the role finance; ops holds operator" in said, said
    assert contents(store_url) == before
    # the grant and the withdrawal are in the trail, with who made them and why
    log = jamsos(store_url, "audit", "log", "--format", "jsonl")
    entries = [json.loads(line) for line in log.stdout.splitlines()]
    changes = [(e["event"], e["actor"], e["changes"].get("roles"), e["reference"])
               for e in entries if e["aggregate"] == "Principals"]
    assert ("PrincipalRegistry.RoleGranted", "root", ["finance"], None) in changes
    assert ("PrincipalRegistry.RoleWithdrawn", "root", ["finance"],
            "separation of duties") in changes
    code, said = run(store_url, "operator", "audit", "verify")
    assert code == 0, said


def test_only_an_administrator_grants_and_withdraws(store_url: str) -> None:
    history(store_url)
    before = contents(store_url)
    code, said = run(store_url, "ops", "principals", "grant", "ops", "--role", "finance")
    assert code == 7 and "needs the role administrator" in said, said
    code, said = run(store_url, "keu", "principals", "withdraw", "ops", "--role", "operator",
                     "--reason", "x")
    assert code == 7 and "needs the role administrator" in said, said
    assert contents(store_url) == before


@pytest.mark.parametrize(
    ("args", "exit_code", "words"),
    [
        (("grant", "ops", "--role", "operator"), 1, "ops holds operator already"),
        (("grant", "ops", "--role", "mayor"), 2, "unknown role 'mayor'"),
        (("grant", "nobody", "--role", "finance"), 1, "no principal named 'nobody'"),
        (("withdraw", "ops", "--role", "finance", "--reason", "x"), 1,
         "ops does not hold finance (it holds operator)"),
        (("withdraw", "ops", "--role", "operator", "--reason", "x"), 1,
         "ops would hold no role"),
        (("withdraw", "ops", "--role", "operator", "--reason", " "), 2, "needs a reason"),
        (("withdraw", "root", "--role", "administrator", "--reason", "x"), 1,
         "root is the last administrator"),
        (("grant", "root", "--role", "finance"), 1,
         "holds finance already"),
    ],
)
def test_refused_grants_and_withdrawals_write_nothing(
    sqlite_url: str, args: tuple[str, ...], exit_code: int, words: str
) -> None:
    history(sqlite_url)
    before = contents(sqlite_url)
    code, said = run(sqlite_url, "operator", "principals", *args)
    assert code == exit_code and words in said, said
    assert "nothing was written" in said or "no principal named" in said, said
    assert contents(sqlite_url) == before


def test_the_last_administrator_keeps_the_role_until_another_holds_it(store_url: str) -> None:
    history(store_url)
    withdraw = ("principals", "withdraw", "root", "--role", "administrator", "--reason",
                "the root key goes to the safe")
    code, said = run(store_url, "operator", *withdraw)
    assert code == 1 and "last administrator" in said, said
    acting(store_url, "kominfo", {ADMINISTRATOR}).close()
    code, said = run(store_url, "operator", *withdraw)
    assert code == 0, said
    # the root is an administrator no more; the other one is, and may give it back
    code, said = run(store_url, "operator", "principals", "enrol", "x", "--office", "X",
                     "--role", "operator", "--public-key", "ed25519:" + "A" * 43 + "=")
    assert code == 7 and "needs the role administrator" in said, said
    code, said = run(store_url, "kominfo", "principals", "withdraw", "kominfo", "--role",
                     "administrator", "--reason", "x")
    assert code == 1 and "kominfo is the last administrator" in said, said
    code, said = run(store_url, "kominfo", "principals", "grant", "root", "--role",
                     "administrator")
    assert code == 0, said
    code, said = run(store_url, "operator", "audit", "verify")
    assert code == 0, said


def test_the_roots_roles_can_be_withdrawn_and_granted_back(store_url: str) -> None:
    history(store_url)
    code, said = run(store_url, "operator", "principals", "withdraw", "root", "--role",
                     "finance", "--role", "approver", "--reason", "BPKAD and the head of "
                     "office hold their own keys")
    assert code == 0 and "it holds administrator, auditor, operator, service" in said, said
    listed = json.loads(jamsos(store_url, "principals", "list", "--format", "json").stdout)
    root = next(p for p in listed if p["root"])
    assert root["withdrawn"] == [APPROVER, FINANCE]
    assert FINANCE not in root["roles"] and ADMINISTRATOR in root["roles"]
    table = jamsos(store_url, "principals", "list").output
    assert "approver finance withdrawn" in " ".join(table.split())
    before = contents(store_url)
    code, said = run(store_url, "operator", "premiums", "pay", "--month", "2026-01", "--sp2d",
                     "SP2D/01")
    assert code == 7 and "needs the role finance" in said, said
    assert contents(store_url) == before
    code, said = run(store_url, "operator", "principals", "grant", "root", "--role",
                     "finance")
    assert code == 0, said
    code, said = run(store_url, "operator", "premiums", "pay", "--month", "2026-01", "--sp2d",
                     "SP2D/01")
    assert code == 0, said
    code, said = run(store_url, "operator", "audit", "verify")
    assert code == 0, said


def _forge_payment(url: str, name: str) -> int:
    """Pay with `name`'s real key through a jamsos that checks no role; the payment's
    position."""
    ledger = Ledger(url, key=KeySource(key=key_for(name)))
    try:
        ledger.signing.ready()
        real = ledger.signing.principal
        assert real is not None
        ledger.signing.principal = Principal(real.name, real.office, frozenset(ROLES),
                                             real.public_key)
        ledger.signing.still_allowed = lambda *_: None  # type: ignore[method-assign]
        ledger.pay_premiums(month=JAN, sp2d="SP2D/01", code="p")
        return int(ledger.recorder.max_notification_id() or 0) - 1
    finally:
        ledger.close()


def test_verify_reports_an_event_written_after_the_role_was_withdrawn(store_url: str) -> None:
    history(store_url)
    # keu holds finance only: grant it operator first, so that finance can be withdrawn
    code, said = run(store_url, "operator", "principals", "grant", "keu", "--role", "operator")
    assert code == 0, said
    code, said = run(store_url, "operator", "principals", "withdraw", "keu", "--role",
                     "finance", "--reason", "moved to Disnaker")
    assert code == 0, said
    paid_at = _forge_payment(store_url, "keu")
    code, said = run(store_url, "operator", "audit", "verify")
    assert code == 4, said
    assert "PremiumPaid written by 'keu', who held operator then; it needs the role finance" \
        in said, said
    assert f"position {paid_at}" in said, said


def test_verify_honours_a_role_granted_before_the_event(store_url: str) -> None:
    """The same payment by ops, once granted finance, verifies: the grant counts from the
    write after it."""
    history(store_url)
    code, said = run(store_url, "operator", "principals", "grant", "ops", "--role", "finance")
    assert code == 0, said
    _forge_payment(store_url, "ops")
    code, said = run(store_url, "operator", "audit", "verify")
    assert code == 0, said


def test_verify_reports_a_forged_withdrawal_of_the_last_administrator(sqlite_url: str) -> None:
    """A registry event the rules refuse, sealed by the administrator's own key through a
    jamsos that checks nothing, is reported: the ledger would have no administrator."""
    history(sqlite_url)
    root = Ledger(sqlite_url)
    try:
        registry = root.principals._registry("root")
        registry.role_withdrawn(name="root", roles=[ADMINISTRATOR], reason="forged",
                                actor="root")
        root.signing.ready()
        root.save(registry)
        at = int(root.recorder.max_notification_id() or 0)
    finally:
        root.close()
    code, said = run(sqlite_url, "operator", "audit", "verify")
    assert code == 4 and "last administrator" in said, said
    assert f"position {at}" in said or f"from position {at}" in said, said


def test_auditors_write_notes_and_nothing_else(store_url: str) -> None:
    history(store_url)
    acting(store_url, "inspektorat", {AUDITOR}).close()
    head = Ledger(store_url)
    position = int(head.recorder.max_notification_id() or 0)
    head.close()
    code, said = run(store_url, "inspektorat", "audit", "note",
                     "Decree KEP/1 enrols one worker; ask Disnaker for the ranking list")
    assert code == 0 and "Noted by inspektorat" in said, said
    code, said = run(store_url, "inspektorat", "audit", "note", "Check this one's decile",
                     "--about", BUDI.nik)
    assert code == 0 and BUDI.nik not in said and "about worker 3275" in said, said
    code, said = run(store_url, "inspektorat", "audit", "note", "Paid late?", "--about",
                     f"#{position}")
    assert code == 0 and f"about #{position}" in said, said
    # an operator writes no note, and an auditor pays nothing
    before = contents(store_url)
    code, said = run(store_url, "ops", "audit", "note", "I was here")
    assert code == 7 and "needs the role auditor" in said, said
    code, said = run(store_url, "inspektorat", "premiums", "pay", "--month", "2026-01",
                     "--sp2d", "SP2D/01")
    assert code == 7, said
    assert contents(store_url) == before
    notes = json.loads(jamsos(store_url, "audit", "notes", "--format", "json",
                              actor="inspektorat").stdout)
    rows = notes["rows"] if isinstance(notes, dict) else notes
    assert [n["author"] for n in rows] == ["inspektorat"] * 3
    assert rows[2]["about"] == f"#{position}"
    about = json.loads(jamsos(store_url, "audit", "notes", "--about", BUDI.nik, "--format",
                              "json", actor="inspektorat").stdout)
    about_rows = about["rows"] if isinstance(about, dict) else about
    assert [n["text"] for n in about_rows] == ["Check this one's decile"]
    # in the trail, masked; and the history verifies and replays
    log = jamsos(store_url, "audit", "log", "--format", "jsonl")
    noted = [json.loads(line) for line in log.stdout.splitlines()
             if "AuditNote" in line]
    assert len(noted) == 3 and all(e["actor"] == "inspektorat" for e in noted)
    assert BUDI.nik not in log.stdout
    code, said = run(store_url, "operator", "audit", "verify")
    assert code == 0, said
    code, said = run(store_url, "operator", "audit", "replay")
    assert code == 0, said


@pytest.mark.parametrize(
    ("text", "about", "exit_code", "words"),
    [
        ("", None, 2, "a note needs a text"),
        ("x" * 2_001, None, 2, "at most 2000"),
        ("ok", "#0", 2, "not a position"),
        ("ok", "#999999", 1, "the log has no position 999999"),
        ("ok", "3275010101900099", 1, "no worker with NIK"),
        ("ok", "12345", 1, "a position of the log is written #12345"),
    ],
)
def test_a_bad_note_writes_nothing(
    sqlite_url: str, text: str, about: str | None, exit_code: int, words: str
) -> None:
    history(sqlite_url)
    acting(sqlite_url, "inspektorat", {AUDITOR}).close()
    before = contents(sqlite_url)
    code, said = run(sqlite_url, "inspektorat", "audit", "note", text,
                     *(("--about", about) if about else ()))
    assert code == exit_code and words in said, said
    assert contents(sqlite_url) == before


def test_a_forged_note_by_an_operator_is_reported(sqlite_url: str) -> None:
    history(sqlite_url)
    ops = Ledger(sqlite_url, key=KeySource(key=key_for("ops")))
    try:
        ops.signing.ready()
        real = ops.signing.principal
        assert real is not None
        ops.signing.principal = Principal(real.name, real.office, frozenset(ROLES),
                                          real.public_key)
        ops.signing.still_allowed = lambda *_: None  # type: ignore[method-assign]
        ops.write_note("all fine")
    finally:
        ops.close()
    code, said = run(sqlite_url, "operator", "audit", "verify")
    assert code == 4, said
    assert "AuditNote.Written written by 'ops', who held operator then; it needs the role " \
        "auditor" in said, said


def test_the_directory_applies_grants_and_withdrawals() -> None:
    root = Principal("ana", "Diskominfo", frozenset({ADMINISTRATOR}), bytes(32))
    d = Directory(root)
    d.apply({"kind": "withdrawn", "name": "ana", "roles": [FINANCE, APPROVER],
             "reason": "x"})
    assert d.active("ana").held == frozenset(ROLES) - {FINANCE, APPROVER}
    d.apply({"kind": "granted", "name": "ana", "roles": [FINANCE]})
    assert d.active("ana").held == frozenset(ROLES) - {APPROVER}
    assert d.active("ana").is_administrator


def test_a_grant_forged_by_a_principal_of_its_own_accord_is_reported(sqlite_url: str) -> None:
    """An operator's jamsos that checks no role grants the operator finance, sealed with the
    operator's real key: only an administrator changes roles, and verify says so."""
    history(sqlite_url)
    ops = Ledger(sqlite_url, key=KeySource(key=key_for("ops")))
    try:
        ops.signing.ready()
        real = ops.signing.principal
        assert real is not None
        ops.signing.principal = Principal(real.name, real.office, frozenset(ROLES),
                                          real.public_key)
        ops.signing.still_allowed = lambda *_: None  # type: ignore[method-assign]
        ops.principals.grant("ops", [FINANCE])
        at = int(ops.recorder.max_notification_id() or 0)
    finally:
        ops.close()
    code, said = run(sqlite_url, "operator", "audit", "verify")
    assert code == 4, said
    assert "principals were changed in a transaction by 'ops', who was no administrator" \
        in said, said
    assert str(at) in said, said


def test_an_export_with_roles_granted_and_withdrawn_checks_offline(
    sqlite_url: str, tmp_path: Path
) -> None:
    history(sqlite_url)
    for args in (("grant", "ops", "--role", "approver"),
                 ("withdraw", "root", "--role", "finance", "--reason", "BPKAD has keu"),
                 ("withdraw", "ops", "--role", "approver", "--reason", "acting no more")):
        code, said = run(sqlite_url, "operator", "principals", *args)
        assert code == 0, said
    root = Ledger(sqlite_url)
    try:
        seal = root.signing.root_seal()
        assert seal is not None
        fingerprint = seal.fingerprint
    finally:
        root.close()
    exported = tmp_path / "export.json"
    code, said = run(sqlite_url, "operator", "audit", "export", str(exported),
                     "--reason", "BPK audit")
    assert code == 0, said
    principals = {p["name"]: p for p in json.loads(exported.read_text())["principals"]}
    assert FINANCE not in principals["root"]["roles"]
    assert principals["ops"]["roles"] == [OPERATOR]
    code, said = run(sqlite_url, "operator", "audit", "check", str(exported), "--root",
                     fingerprint)
    assert code == 0, said


def _race(url: str, tmp_path: Path, commands: list[list[str]]) -> list[Outcome]:
    """Every command in its own process, released at once (as tests/test_concurrency.py's
    racers); what each said."""
    gun = tmp_path / "go"
    env = {**os.environ, "JAMSOS_STORE": url}
    processes = [
        subprocess.Popen([sys.executable, "-c", RACER, str(gun), *args], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for args in commands
    ]
    time.sleep(1.0)
    gun.touch()
    outcomes = []
    for args, process in zip(commands, processes, strict=True):
        out, err = process.communicate(timeout=120)
        outcomes.append(Outcome(args, process.returncode, out, err))
    return outcomes


@pytest.mark.slow
def test_two_administrators_withdrawing_each_other_leave_one(
    store_url: str, tmp_path: Path
) -> None:
    """Each of two administrators, in its own process at the same moment, withdraws the other's
    administrator role: the registry is one aggregate, so the second write conflicts, is tried
    again against the first, and is refused; the ledger keeps exactly one administrator."""
    history(store_url)
    acting(store_url, "kominfo", {ADMINISTRATOR, AUDITOR}).close()
    root_key, kominfo_key = str(key_for("operator").path), str(key_for("kominfo").path)
    outcomes = _race(store_url, tmp_path, [
        ["--key", root_key, "principals", "withdraw", "kominfo", "--role", "administrator",
         "--reason", "one administrator is enough"],
        ["--key", kominfo_key, "principals", "withdraw", "root", "--role", "administrator",
         "--reason", "one administrator is enough"],
    ])
    assert sorted(o.code for o in outcomes)[0] == 0 and \
        sum(o.code == 0 for o in outcomes) == 1, outcomes
    # The loser is refused: by the rule when it read the winner's withdrawal only when
    # tried again (exit 1), or for the role it lost when it began, or wrote, after (exit 7).
    refused = next(o for o in outcomes if o.code != 0)
    assert (refused.code == 1 and "is the last administrator" in refused.err) or (
        refused.code == 7 and "administrator" in refused.err), refused
    assert "Traceback" not in refused.err and refused.out == "", refused
    ledger = Ledger(store_url)
    try:
        admins = [p.name for p in ledger.signing.directory() if p.is_administrator]
    finally:
        ledger.close()
    assert len(admins) == 1, admins
    code, said = run(store_url, "operator", "audit", "verify")
    assert code == 0, said


def test_a_role_withdrawn_while_a_ledger_is_open_refuses_its_next_write(store_url: str) -> None:
    """A ledger object kept open (a script, a long command) checked keu's roles when it first
    wrote; finance withdrawn meanwhile, its next write is refused before its transaction,
    nothing written, and the history still verifies."""
    history(store_url)
    keu = Ledger(store_url, key=KeySource(key=key_for("keu")))
    try:
        keu.pay_premiums(month=JAN, sp2d="SP2D/01", code="p")
        for args in (("grant", "keu", "--role", "operator"),
                     ("withdraw", "keu", "--role", "finance", "--reason", "moved")):
            code, said = run(store_url, "operator", "principals", *args)
            assert code == 0, said
        before = contents(store_url)
        with pytest.raises(RoleRefused, match="needs the role finance; keu holds operator"):
            keu.pay_premiums(month=Month(2026, 2), sp2d="SP2D/02", code="p")
    finally:
        keu.close()
    assert contents(store_url) == before
    code, said = run(store_url, "operator", "audit", "verify")
    assert code == 0, said
