"""Roles: every command against every role, on SQLite and PostgreSQL (issue 18, "Roles").

The table below is the README's "Who may do what", written out by hand: a principal holding
one role runs every command of the service; a command its role allows succeeds, any other is
refused with RoleRefused naming the role it needs, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from role_helpers import acting
from test_application import AHMAD, BUDI, DEWI, EVERYONE, FEB, FITRI, JAN, MAR, RINA, SITI

from cli_helpers import key_for
from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.domain.errors import NotAuthorised, RoleRefused
from jamsos_ledger.domain.principals import Principal, public_key_text
from jamsos_ledger.domain.proposals import SameEyes
from jamsos_ledger.domain.roles import (
    ADMINISTRATOR,
    APPROVER,
    AUDITOR,
    COMMAND_ROLES,
    FINANCE,
    OPERATOR,
    ROLES,
    SERVICE,
    Actor,
    held,
)

ALL = set(ROLES)
# command -> the roles that may run it (the README's table).
ALLOWED: dict[str, set[str]] = {
    "open_program": {ADMINISTRATOR},
    "register": {OPERATOR},
    "correct_worker": {OPERATOR},
    "prioritize": {OPERATOR},
    "capacity": ALL,
    "enrol": {APPROVER},
    "end_coverage": {OPERATOR},
    "pay_premiums": {FINANCE},
    "amend_program": {APPROVER},
    "file_claim": {OPERATOR},
    "record_benefit": {OPERATOR},
    "propose_enrolment": {OPERATOR, ADMINISTRATOR},
    "propose_payment": {FINANCE},
    "propose_amendment": {ADMINISTRATOR, FINANCE, OPERATOR},
    "approve_proposal": {APPROVER},  # the proposal is an enrolment: the approver's
    "reject_proposal": {APPROVER},  # an amendment: the approver's
    "withdraw_proposal": ALL - {SERVICE},  # one's own
    "proposals": ALL,
    "record_viewing": {AUDITOR, OPERATOR},
    "viewings": {AUDITOR, ADMINISTRATOR},
    "record_export": {AUDITOR},  # the whole trail in one file: personal data as stored
    "enrol_principal": {ADMINISTRATOR},
    "rotate_key": {ADMINISTRATOR},
    "grant_role": {ADMINISTRATOR},
    "withdraw_role": {ADMINISTRATOR},
    "revoke_key": {ADMINISTRATOR},
    "audit_note": {AUDITOR},
    "audit_notes": {AUDITOR, ADMINISTRATOR},
}
ME = "pat"


def setup(url: str) -> dict[str, str]:
    """Two programs (p: four eyes off, fe: on), six workers ranked, Budi and Siti enrolled in
    p; three proposals on fe (an enrolment, two amendments), all by the ledger's root."""
    ledger = Ledger(url, actor="setup")
    try:
        ledger.open_program(year=2026, allocation=2_000_000_000, quota=10_000, code="p",
                            four_eyes=False)
        ledger.open_program(year=2026, allocation=2_000_000_000, quota=10_000, code="fe",
                            four_eyes=True)
        ledger.register(EVERYONE)
        ledger.prioritize()
        ledger.enrol("p", start=JAN, niks=[BUDI.nik, SITI.nik], decree="KEP/1")
        enrolment = ledger.propose_enrolment("fe", start=JAN, niks=[AHMAD.nik])
        amendment = ledger.propose_amendment("fe", quota=9_500, reason="APBD-P")
        other = ledger.propose_amendment("fe", quota=9_400, reason="APBD-P 2")
    finally:
        ledger.close()
    return {"enrolment": enrolment.short, "amendment": amendment.short, "other": other.short}


def commands(ids: dict[str, str]) -> list[tuple[str, Callable[[Ledger], Any]]]:
    """Every command of the service, in an order where each can succeed after the others."""
    return [
        ("open_program", lambda g: g.open_program(year=2026, allocation=10**9, quota=10,
                                                  code="q")),
        ("register", lambda g: g.register([FITRI])),
        ("correct_worker", lambda g: g.correct_worker(BUDI.nik, field="occupation",
                                                      value="ojek", reason="survey")),
        ("prioritize", lambda g: g.prioritize()),
        ("capacity", lambda g: g.capacity(code="p")),
        ("enrol", lambda g: g.enrol("p", start=JAN, niks=[RINA.nik], decree="KEP/2")),
        ("end_coverage", lambda g: g.end_coverage(SITI.nik, month=MAR, reason="moved",
                                                  code="p")),
        ("pay_premiums", lambda g: g.pay_premiums(month=JAN, sp2d="SP2D/01", code="p")),
        ("amend_program", lambda g: g.amend_program("p", quota=9_000, reason="APBD-P")),
        ("file_claim", lambda g: g.file_claim(BUDI.nik, scheme="JKK",
                                              incident_date=date(2026, 1, 10),
                                              reference="JKK-1")),
        ("record_benefit", lambda g: g.record_benefit(BUDI.nik, reference="JKK-1",
                                                      amount=1_000_000)),
        ("propose_enrolment", lambda g: g.propose_enrolment("fe", start=JAN,
                                                            niks=[DEWI.nik])),
        ("propose_payment", lambda g: g.propose_payment(month=FEB, sp2d="SP2D/09",
                                                        code="p")),
        ("propose_amendment", lambda g: g.propose_amendment("fe", quota=9_900,
                                                            reason="APBD-P")),
        ("approve_proposal", lambda g: g.approve_proposal(ids["enrolment"])),
        ("reject_proposal", lambda g: g.reject_proposal(ids["amendment"], reason="no")),
        # Another's proposal: a role that may withdraw is then refused by the proposal itself.
        ("withdraw_proposal", lambda g: g.withdraw_proposal(ids["other"],
                                                            reason="mistake")),
        ("proposals", lambda g: g.proposals()),
        ("record_viewing", lambda g: g.record_viewing(what="workers show", reason="complaint",
                                                      niks=[BUDI.nik])),
        ("viewings", lambda g: g.viewings(BUDI.nik)),
        ("record_export", lambda g: g.record_export(reason="LHP BPK", file_name="proof.json")),
        # Principals and their roles: a principal enrolled, its key rotated, a role granted
        # and withdrawn, and revoked.
        ("enrol_principal", lambda g: g.enrol_principal(
            "clerk", "Dinsos", [OPERATOR], public_key_text(key_for("clerk").public_key))),
        ("rotate_key", lambda g: g.rotate_key(
            "clerk", public_key_text(key_for("clerk-2").public_key))),
        ("grant_role", lambda g: g.grant_roles("clerk", [APPROVER])),
        ("withdraw_role", lambda g: g.withdraw_roles("clerk", [APPROVER], reason="moved")),
        ("revoke_key", lambda g: g.revoke_principal("clerk", "left the office")),
        ("audit_note", lambda g: g.write_note("KEP/1 checked against the ranking",
                                              about=BUDI.nik)),
        ("audit_notes", lambda g: g.audit_notes()),
    ]


def head(ledger: Ledger) -> int:
    return int(ledger.recorder.max_notification_id() or 0)


def test_the_table_covers_every_command_the_test_runs() -> None:
    for name, allowed in ALLOWED.items():
        table = {"proposals": "read", "record_viewing": "unmask",
                 "viewings": "who_viewed", "audit_notes": "audit",
                 "record_export": "export_trail"}.get(name, name)
        assert COMMAND_ROLES[table] >= ({APPROVER} if name.endswith("_proposal")
                                        and name != "withdraw_proposal" else allowed)


@pytest.mark.parametrize("role", ROLES)
def test_every_command_against_a_role(store_url: str, role: str) -> None:
    ids = setup(store_url)
    ledger = acting(store_url, ME, {role})
    try:
        ran = []
        for name, run in commands(ids):
            before = head(ledger)
            if role in ALLOWED[name] and name == "withdraw_proposal":
                with pytest.raises(SameEyes, match=r"only .*, who proposed"):
                    run(ledger)  # allowed to the role, refused by the proposal: not pat's
                ran.append(name)
            elif role in ALLOWED[name]:
                run(ledger)  # allowed: it succeeds
                ran.append(name)
            else:
                with pytest.raises(RoleRefused) as refused:
                    run(ledger)
                assert "needs the role" in str(refused.value), name
                assert f"{ME} holds {role}" in str(refused.value), name
                assert head(ledger) == before, f"{name} refused to {role} wrote something"
        assert ran == [n for n, _ in commands(ids) if role in ALLOWED[n]]
    finally:
        ledger.close()


def test_unknown_roles_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        Actor("x", frozenset({"mayor"}))


def test_several_roles_allow_what_each_allows(sqlite_url: str) -> None:
    setup(sqlite_url)
    ledger = acting(sqlite_url, "kecil", {OPERATOR, AUDITOR})
    try:
        ledger.correct_worker(BUDI.nik, field="occupation", value="ojek", reason="survey")
        with pytest.raises(RoleRefused, match="enrol needs the role approver; kecil holds "
                                              "auditor, operator"):
            ledger.enrol("p", start=JAN, niks=[RINA.nik])
    finally:
        ledger.close()


def test_a_revoked_principal_holds_no_role(sqlite_url: str) -> None:
    setup(sqlite_url)
    acting(sqlite_url, "bpkad", {FINANCE}).close()
    admin = Ledger(sqlite_url)
    admin.principals.revoke("bpkad", "left BPKAD")
    admin.close()
    assert held(Principal("x", "BPKAD", frozenset({FINANCE}), bytes(32), revoked=True)) \
        == frozenset()
    ledger = Ledger(sqlite_url, key=KeySource(key=key_for("bpkad")))
    try:
        with pytest.raises(NotAuthorised, match="revoked"):
            ledger.pay_premiums(month=JAN, sp2d="SP2D/01", code="p")
    finally:
        ledger.close()


def test_the_root_administrator_holds_every_role(sqlite_url: str) -> None:
    """An office of one person runs its program with the ledger's first key; four eyes still
    need a second principal (tests/test_four_eyes.py)."""
    setup(sqlite_url)
    root = Ledger(sqlite_url)
    try:
        assert root.acting_principal().root
        assert held(root.acting_principal()) == frozenset(ROLES)
        root.pay_premiums(month=JAN, sp2d="SP2D/01", code="p")
    finally:
        root.close()
