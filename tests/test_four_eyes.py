"""Four eyes on money and places (issue 18): proposed by one principal, approved by another.

On SQLite and PostgreSQL: a program with four eyes on takes no direct decree, payment or
amendment; a proposal reserves nothing and is checked again when approved; its proposer
cannot approve it; a decided proposal is decided for good; racing approvers in several
processes on PostgreSQL apply it once.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from role_helpers import acting
from test_application import AHMAD, BUDI, DEWI, EVERYONE, JAN, RINA, SITI

from cli_helpers import key_for
from jamsos_ledger.application import Ledger
from jamsos_ledger.application.service import FourEyes
from jamsos_ledger.application.trail import audit_trail
from jamsos_ledger.domain.errors import OverQuota, RoleRefused
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.proposals import (
    APPROVED,
    PENDING,
    REJECTED,
    WITHDRAWN,
    ProposalDecided,
    SameEyes,
)
from jamsos_ledger.domain.roles import ADMINISTRATOR, APPROVER, FINANCE, OPERATOR, Actor

ADMIN = Actor("admin", frozenset({ADMINISTRATOR}))
OPS = Actor("ops", frozenset({OPERATOR}))
HEAD = Actor("head", frozenset({APPROVER}))
PPK = Actor("ppk", frozenset({FINANCE}))
BUD = Actor("bud", frozenset({FINANCE}))


def as_(url: str, who: Actor) -> Ledger:
    return acting(url, who.name, who.roles)


def head_of(ledger: Ledger) -> int:
    return int(ledger.recorder.max_notification_id() or 0)


def opened(url: str, quota: int = 10_000) -> None:
    root = Ledger(url)  # the session's key: the ledger's root administrator
    root.open_program(year=2026, allocation=2_000_000_000, quota=quota, code="fe",
                      four_eyes=True)
    root.close()
    ops = as_(url, OPS)
    ops.register(EVERYONE)
    ops.prioritize()
    ops.close()


def test_direct_commands_are_refused_with_four_eyes_on(store_url: str) -> None:
    opened(store_url)
    head = as_(store_url, HEAD)
    before = head_of(head)
    with pytest.raises(FourEyes, match="four eyes on: an enrolment decree"):
        head.enrol("fe", start=JAN, niks=[BUDI.nik])
    with pytest.raises(FourEyes, match="an amendment"):
        head.amend_program("fe", quota=5, reason="x")
    assert head_of(head) == before
    assert head.program("fe").four_eyes is True
    head.close()


def test_proposed_by_one_approved_by_another(store_url: str) -> None:
    opened(store_url)
    ops = as_(store_url, OPS)
    proposal = ops.propose_enrolment("fe", start=JAN, niks=[BUDI.nik, SITI.nik], decree="KEP/1")
    assert proposal.figures == {"workers": 2, "committed": 2 * 12 * 16_800}
    # It reserves nothing.
    assert ops.program("fe").committed.total == 0 and ops.program("fe").enrolled == 0
    with pytest.raises(RoleRefused, match="needs the role approver or finance; ops holds operator"):
        ops.approve_proposal(proposal.short)
    ops.close()
    head = as_(store_url, HEAD)
    approved, result = head.approve_proposal(proposal.short)
    assert approved.status == APPROVED and approved.decided_by == "head"
    assert result.workers == 2
    program = head.program("fe")
    assert program.enrolled == 2 and program.committed.total == 2 * 12 * 16_800
    with pytest.raises(ProposalDecided, match="already approved by head"):
        head.approve_proposal(proposal.short)
    assert head.proposal(proposal.short).proposer == "ops"
    # Both principals are in the trail: the proposal by ops, its approval and the
    # enrolment it made by head.
    trail = [(e.event, e.actor) for e in audit_trail(head)]
    assert ("Proposal.Proposed", "ops") in trail and ("Proposal.Approved", "head") in trail
    assert ("Program.PremiumsCommitted", "head") in trail
    proposed = next(e for e in audit_trail(head) if e.event == "Proposal.Proposed")
    assert proposed.changes["terms"]["niks"] == [mask_nik(BUDI.nik), mask_nik(SITI.nik)]
    head.close()


def test_the_proposer_cannot_approve_even_holding_the_role(store_url: str) -> None:
    opened(store_url)
    both = as_(store_url, Actor("solo", frozenset({OPERATOR, APPROVER})))
    proposal = both.propose_enrolment("fe", start=JAN, niks=[BUDI.nik])
    before = head_of(both)
    with pytest.raises(SameEyes, match=r"solo proposed enrolment decree .* cannot also approve"):
        both.approve_proposal(proposal.short)
    assert head_of(both) == before
    assert both.program("fe").enrolled == 0
    both.close()


def test_approval_checks_the_rules_again(store_url: str) -> None:
    opened(store_url, quota=3)
    ops = as_(store_url, OPS)
    first = ops.propose_enrolment("fe", start=JAN, niks=[BUDI.nik, SITI.nik])
    second = ops.propose_enrolment("fe", start=JAN, niks=[AHMAD.nik, DEWI.nik])
    ops.close()  # each fits alone (3 places), not both
    head = as_(store_url, HEAD)
    head.approve_proposal(first.short)
    before = head_of(head)
    with pytest.raises(OverQuota, match="quota"):
        head.approve_proposal(second.short)
    assert head_of(head) == before
    assert head.proposal(second.short).status == PENDING
    head.reject_proposal(second.short, reason="quota used by the first decree")
    assert head.proposal(second.short).status == REJECTED
    with pytest.raises(ProposalDecided):
        head.approve_proposal(second.short)
    assert head.program("fe").enrolled == 2
    head.close()


def test_payments_are_approved_by_a_second_finance_officer(store_url: str) -> None:
    opened(store_url)
    ops = as_(store_url, OPS)
    decree = ops.propose_enrolment("fe", start=JAN, niks=[BUDI.nik, RINA.nik])
    ops.close()
    as_(store_url, HEAD).approve_proposal(decree.short)
    ppk = as_(store_url, PPK)
    with pytest.raises(FourEyes):
        ppk.pay_premiums(month=JAN, sp2d="SP2D/01", code="fe")
    payment = ppk.propose_payment(month=JAN, sp2d="SP2D/01", code="fe")
    assert payment.figures == {"participants": 2, "paid": 2 * 16_800}
    assert [p.short for p in ppk.pending("fe")] == [payment.short]
    ppk.close()
    with pytest.raises(RoleRefused, match="needs the role finance; head holds approver"):
        as_(store_url, HEAD).approve_proposal(payment.short)
    bud = as_(store_url, BUD)
    bud.approve_proposal(payment.short)
    assert bud.program("fe").paid_total.total == 2 * 16_800
    assert bud.pending("fe") == []
    bud.close()


def test_withdrawn_by_its_proposer_only(store_url: str) -> None:
    opened(store_url)
    admin = as_(store_url, ADMIN)
    proposal = admin.propose_amendment("fe", allocation=2_100_000_000, reason="APBD-P")
    assert proposal.figures == {"allocation": 100_000_000, "quota": 0}
    admin.close()
    ops = as_(store_url, OPS)
    with pytest.raises(SameEyes, match="only admin, who proposed"):
        ops.withdraw_proposal(proposal.short, reason="not mine")
    ops.close()
    admin = as_(store_url, ADMIN)
    assert admin.withdraw_proposal(proposal.short, reason="typo").status == WITHDRAWN
    assert admin.program("fe").allocation == 2_000_000_000
    admin.close()


APPROVE = """
import os, sys, time
from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.domain.errors import RuleViolation
url, ref, key, gun = sys.argv[1:5]
ledger = Ledger(url, key=KeySource(path=key))
while not os.path.exists(gun):
    time.sleep(0.001)
try:
    ledger.approve_proposal(ref)
    print("applied")
except RuleViolation as e:
    print("refused", e)
ledger.close()
"""


@pytest.mark.postgres
@pytest.mark.slow
def test_racing_approvers_apply_a_proposal_once(postgres_url: str, tmp_path: Path) -> None:
    opened(postgres_url)
    ops = as_(postgres_url, OPS)
    proposal = ops.propose_enrolment("fe", start=JAN, niks=[BUDI.nik, SITI.nik], decree="KEP/1")
    ops.close()
    heads = [f"head-{i}" for i in range(5)]
    for name in heads:
        as_(postgres_url, Actor(name, frozenset({APPROVER}))).close()
    gun = tmp_path / "gun"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", APPROVE, postgres_url, proposal.short,
             str(key_for(name).path), str(gun)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name in heads
    ]


    time.sleep(3)  # every racer has opened the ledger and waits
    gun.touch()
    outputs = [r.communicate(timeout=120) for r in racers]
    assert all(r.returncode == 0 for r in racers), outputs
    said = [out.strip() for out, _ in outputs]
    assert sum(s == "applied" for s in said) == 1, said
    # Every loser is refused: by the proposal (already approved) or, when it read the proposal
    # before the winner committed, by the rules re-checked at approval against the ledger as it
    # is then (the workers already enrolled, the decree already used).
    assert all(s == "applied" or s.startswith("refused ") for s in said), said
    ledger = as_(postgres_url, HEAD)
    program = ledger.program("fe")
    assert program.enrolled == 2 and program.committed.total == 2 * 12 * 16_800
    assert ledger.proposal(proposal.short).status == APPROVED
    ledger.close()
