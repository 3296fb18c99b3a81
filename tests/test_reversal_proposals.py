"""Reversals and annulments under four eyes, on SQLite and PostgreSQL through the command line.

On a program opened with --four-eyes, `premiums reverse` and `annul` propose: nothing changes in
the budget until a different principal approves (`proposals approve`), the proposer's own
approval is refused, and an approval that no longer fits the ledger as it is then is refused
with the figures, nothing written, the proposal still pending. With --one-key the approving
role acts directly, as before. Each actor has a key of its own (`cli_helpers`).

The small program of the CLI story: Rp 2.000.000 for a quota of 10 at Rp 16.800 a month. Nine
enrolled for the year commit Rp 1.814.400; January's bill is 9 x Rp 16.800 = Rp 151.200; a
worker's year commits 12 x Rp 16.800 = Rp 201.600.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_application import BUDI, JAN, RINA
from test_cli_story import nik, registrations
from test_four_eyes import APPROVE, BUD, HEAD, OPS, PPK, as_, head_of
from test_four_eyes import opened as opened_in_service

from cli_helpers import as_json, contents, jamsos, key_for, ok
from jamsos_ledger.application.service import FourEyes
from jamsos_ledger.domain.errors import RoleRefused
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.roles import APPROVER, FINANCE, OPERATOR, Actor

# Ranked first (decile 1): enrolled by --top 9.
FIRST = nik(2, "L")


def proposal_id(output: str) -> str:
    found = re.search(r"Proposed [a-z ]+ ([0-9a-f]{8}) ", output)
    assert found, output
    return found.group(1)


def opened(url: str, tmp_path: Path, eyes: str) -> None:
    ok(url, "program", "open", "--year", "2026", "--allocation", "2000000", "--quota", "10",
       eyes)
    ok(url, "workers", "import", str(registrations(tmp_path)), actor="ops")
    ok(url, "workers", "prioritize", actor="ops")


def approved(url: str, output: str, actor: str) -> str:
    """Approve what `output` proposed, as `actor`: what the approval said."""
    return ok(url, "proposals", "approve", proposal_id(output), actor=actor).stdout


def january_paid_under_four_eyes(url: str, tmp_path: Path) -> None:
    opened(url, tmp_path, "--four-eyes")
    approved(url, ok(url, "enroll", "--top", "9", "--start", "2026-01", "--decree", "KEP-1",
                     actor="ops").stdout, "kadis")
    approved(url, ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D-01",
                     actor="ppk").stdout, "bud")


def books(url: str) -> tuple[int, int, int, int]:
    b = as_json(url, "report", "budget")
    return b["committed"], b["paid"], b["available"], b["enrolled"]


def refused_with_nothing_written(url: str, args: list[str], actor: str, exit_code: int,
                                 said: str) -> None:
    before = contents(url)
    result = jamsos(url, *args, actor=actor)
    assert result.exit_code == exit_code, result.output
    assert said in result.output, result.output
    assert "Traceback" not in result.output
    assert contents(url) == before


def test_a_reversal_is_proposed_then_approved_by_another_finance_officer(
    store_url: str, tmp_path: Path
) -> None:
    url = store_url
    january_paid_under_four_eyes(url, tmp_path)
    paid = (1_814_400 - 151_200, 151_200, 185_600, 9)
    assert books(url) == paid
    proposed = ok(url, "premiums", "reverse", "--sp2d", "SP2D-01", "--reason", "paid twice",
                  actor="ppk").stdout
    assert "Proposed payment reversal" in proposed
    assert "would unpay Rp 151.200 for 9 participants" in proposed
    assert "nothing is reversed until another principal holding the role finance" in proposed
    reversal = proposal_id(proposed)
    # Proposed, nothing changes: the budget is as it was, the proposal listed under it.
    assert books(url) == paid
    budget = ok(url, "report", "budget", actor="auditor").stdout
    assert f"{reversal} payment reversal: reverse SP2D SP2D-01 of 2026-01 (paid twice)" in budget
    assert "would unpay Rp 151.200 for 9 participants, committed again" in budget
    listed = as_json(url, "proposals", "list")
    last = listed[-1]
    assert (last["kind"], last["would_commit"], last["would_pay"], last["status"]) == (
        "reversal", 151_200, -151_200, "pending")
    shown = ok(url, "proposals", "show", reversal, actor="auditor").stdout
    assert "payment reversal" in shown and "reverse SP2D SP2D-01 of 2026-01" in shown
    assert "Approving role" in shown and "finance" in shown

    # The proposer cannot approve it; nothing is written.
    refused_with_nothing_written(url, ["proposals", "approve", reversal], "ppk", 1,
                                 "ppk proposed payment reversal")
    # A second proposal of the same reversal is checked now, and again at its approval.
    twice = proposal_id(ok(url, "premiums", "reverse", "--sp2d", "sp2d-01", "--reason",
                           "paid twice (second letter)", actor="ppk").stdout)

    done = ok(url, "proposals", "approve", reversal, actor="bud").stdout
    assert ("Approved payment reversal" in done
            and "reversed the payment of Rp 151.200 in 2026-01 under SP2D SP2D-01" in done)
    assert books(url) == (1_814_400, 0, 185_600, 9)
    january = as_json(url, "report", "budget")["months"][0]
    assert (january["paid_participants"], january["status"]) == (0, "unpaid")

    # The rules at approval: already reversed, refused with the SP2D; the proposal pending.
    refused_with_nothing_written(url, ["proposals", "approve", twice], "bud", 1,
                                 "SP2D SP2D-01 in 2026 is already reversed")
    assert as_json(url, "proposals", "show", twice)["status"] == "pending"
    verify = as_json(url, "audit", "verify")
    assert verify["intact"] is True, verify
    ok(url, "audit", "replay")


def test_an_annulment_is_proposed_then_approved_by_the_head_of_office(
    store_url: str, tmp_path: Path
) -> None:
    url = store_url
    january_paid_under_four_eyes(url, tmp_path)
    # January is paid: the annulment is refused when proposed, with the figures.
    refused_with_nothing_written(
        url, ["annul", "--nik", FIRST, "--reason", "KEP-1 named the wrong worker"], "ops", 1,
        "2026-01, covered from 2026-01, is paid (9 of 9 participants, SP2D SP2D-01)")
    approved(url, ok(url, "premiums", "reverse", "--sp2d", "SP2D-01", "--reason", "paid twice",
                     actor="ppk").stdout, "bud")
    unpaid = (1_814_400, 0, 185_600, 9)
    assert books(url) == unpaid

    proposed = ok(url, "annul", "--nik", FIRST, "--reason", "KEP-1 named the wrong worker",
                  actor="ops").stdout
    assert "Proposed enrolment annulment" in proposed
    assert "would release Rp 201.600 committed and 1 place" in proposed
    assert FIRST not in proposed  # the NIK masked
    annulment = proposal_id(proposed)
    assert books(url) == unpaid
    budget = ok(url, "report", "budget", actor="auditor").stdout
    assert f"{annulment} enrolment annulment: annul the enrolment of" in budget
    assert "would release Rp 201.600 committed and 1 place" in budget
    listed = as_json(url, "proposals", "list", "--status", "pending")
    assert [(p["kind"], p["would_commit"], p["would_pay"]) for p in listed] == [
        ("annulment", -201_600, 0)]
    refused_with_nothing_written(url, ["proposals", "approve", annulment], "ops", 1,
                                 "ops proposed enrolment annulment")

    # January paid again meanwhile: the annulment no longer fits, refused at approval.
    approved(url, ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D-02",
                     actor="ppk").stdout, "bud")
    refused_with_nothing_written(
        url, ["proposals", "approve", annulment], "kadis", 1,
        "2026-01, covered from 2026-01, is paid (9 of 9 participants, SP2D SP2D-02)")
    assert as_json(url, "proposals", "show", annulment)["status"] == "pending"

    # Reversed again, the annulment fits and the head of office approves it.
    approved(url, ok(url, "premiums", "reverse", "--sp2d", "SP2D-02", "--reason", "early",
                     actor="ppk").stdout, "bud")
    done = ok(url, "proposals", "approve", annulment, actor="kadis").stdout
    assert "Approved enrolment annulment" in done and "Rp 201.600 released" in done
    assert books(url) == (1_814_400 - 201_600, 0, 185_600 + 201_600, 8)
    # The audit log names both principals, the NIK masked in the proposal's terms.
    log = [json.loads(line) for line in ok(url, "audit", "log", "--format", "jsonl",
                                          actor="auditor").stdout.splitlines()]
    proposed = next(e for e in log if e["event"] == "Proposal.Proposed"
                    and e["changes"]["kind"] == "annulment")
    assert proposed["actor"] == "ops" and proposed["changes"]["terms"]["nik"] == mask_nik(FIRST)
    annulled = [e["actor"] for e in log if e["event"].endswith("EnrolmentAnnulled")]
    assert annulled == ["kadis", "kadis"]
    assert FIRST not in ok(url, "audit", "log", actor="auditor").stdout
    verify = as_json(url, "audit", "verify")
    assert verify["intact"] is True, verify
    ok(url, "audit", "replay")


def test_with_one_key_the_approving_role_reverses_and_annuls_directly(
    store_url: str, tmp_path: Path
) -> None:
    url = store_url
    opened(url, tmp_path, "--one-key")
    ok(url, "enroll", "--top", "9", "--start", "2026-01", "--decree", "KEP-1", actor="kadis")
    ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D-01", actor="bud")
    reversed_ = ok(url, "premiums", "reverse", "--sp2d", "SP2D-01", "--reason", "paid twice",
                   actor="bud").stdout
    assert "Reversed the payment of Rp 151.200" in reversed_
    annulled = ok(url, "annul", "--nik", FIRST, "--reason", "wrong worker", actor="kadis").stdout
    assert "Rp 201.600 released" in annulled
    assert books(url) == (1_814_400 - 201_600, 0, 185_600 + 201_600, 8)
    assert as_json(url, "proposals", "list") == []


def test_the_service_refuses_one_key_and_the_wrong_role(store_url: str) -> None:
    """What any entry point gets of the service: a direct reversal or annulment refused under
    four eyes, a reversal approved by finance only, an annulment by approver only."""
    url = store_url
    opened_in_service(url)
    decree = as_(url, OPS).propose_enrolment("fe", start=JAN, niks=[BUDI.nik, RINA.nik])
    as_(url, HEAD).approve_proposal(decree.short)
    as_(url, BUD).approve_proposal(as_(url, PPK).propose_payment(
        month=JAN, sp2d="SP2D/01", code="fe").short)
    bud = as_(url, BUD)
    before = head_of(bud)
    with pytest.raises(FourEyes, match="four eyes on: a payment's reversal"):
        bud.reverse_payment(sp2d="SP2D/01", reason="paid twice", code="fe")
    head = as_(url, HEAD)
    with pytest.raises(FourEyes, match="four eyes on: an enrolment's annulment"):
        head.annul_enrolment(BUDI.nik, reason="wrong worker", code="fe")
    with pytest.raises(RoleRefused, match="propose reversal needs the role finance"):
        head.propose_reversal(sp2d="SP2D/01", reason="paid twice", code="fe")
    assert head_of(bud) == before
    reversal = as_(url, PPK).propose_reversal(sp2d="SP2D/01", reason="paid twice", code="fe")
    assert reversal.figures == {"participants": 2, "reversed": 2 * 16_800}
    assert reversal.terms == {"sp2d": "SP2D/01", "reason": "paid twice", "month": "2026-01"}
    before = head_of(bud)
    with pytest.raises(RoleRefused, match="needs the role finance; head holds approver"):
        head.approve_proposal(reversal.short)
    assert head_of(bud) == before
    _, (month, amount) = bud.approve_proposal(reversal.short)
    assert (str(month), amount.total) == ("2026-01", 2 * 16_800)
    assert bud.program("fe").paid_total.total == 0
    annulment = as_(url, Actor("ops2", frozenset({OPERATOR}))).propose_annulment(
        RINA.nik, reason="wrong worker", code="fe")
    assert annulment.figures == {"workers": 1, "released": 12 * 16_800}
    before = head_of(bud)
    with pytest.raises(RoleRefused, match="needs the role approver; bud holds finance"):
        bud.approve_proposal(annulment.short)
    assert head_of(bud) == before
    _, released = as_(url, Actor("head2", frozenset({APPROVER, FINANCE}))).approve_proposal(
        annulment.short)
    assert released.total == 12 * 16_800
    program = bud.program("fe")
    assert program.enrolled == 1 and program.committed.total == 12 * 16_800
    bud.close()
    head.close()
    # The history, each principal holding only its office's roles, verifies and replays: the
    # role table over the history knows who proposes and approves reversals and annulments.
    verified = jamsos(url, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    replayed = jamsos(url, "audit", "replay")
    assert replayed.exit_code == 0, replayed.output


@pytest.mark.postgres
@pytest.mark.slow
def test_racing_finance_officers_reverse_a_payment_once(postgres_url: str, tmp_path: Path
                                                        ) -> None:
    """Five finance officers, in five processes, approve one reversal at the same moment: it is
    applied once (the month unpaid once, one PaymentReversed); every loser is refused."""
    url = postgres_url
    opened_in_service(url)
    as_(url, HEAD).approve_proposal(as_(url, OPS).propose_enrolment(
        "fe", start=JAN, niks=[BUDI.nik, RINA.nik]).short)
    as_(url, BUD).approve_proposal(as_(url, PPK).propose_payment(
        month=JAN, sp2d="SP2D/01", code="fe").short)
    reversal = as_(url, PPK).propose_reversal(sp2d="SP2D/01", reason="paid twice", code="fe")
    officers = [f"bud-{i}" for i in range(5)]
    for name in officers:
        as_(url, Actor(name, frozenset({FINANCE}))).close()
    gun = tmp_path / "gun"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", APPROVE, url, reversal.short, str(key_for(name).path),
             str(gun)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name in officers
    ]
    time.sleep(3)  # every racer has opened the ledger and waits
    gun.touch()
    outputs = [r.communicate(timeout=120) for r in racers]
    assert all(r.returncode == 0 for r in racers), outputs
    said = [out.strip() for out, _ in outputs]
    assert sum(s == "applied" for s in said) == 1, said
    assert all(s == "applied" or s.startswith("refused ") for s in said), said
    ledger = as_(url, BUD)
    program = ledger.program("fe")
    assert program.paid_total.total == 0 and program.committed.total == 2 * 12 * 16_800
    assert ledger.proposal(reversal.short).status == "approved"
    reversals = [n for n in ledger.read_log() if n.topic.endswith("PaymentReversed")]
    assert len(reversals) == 1
    ledger.close()
