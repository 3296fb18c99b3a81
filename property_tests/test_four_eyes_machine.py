"""Four eyes under random principals (issue 18): a Hypothesis state machine.

Principals with random roles propose enrolments, payments, amendments, payments' reversals and
enrolments' annulments, approve, reject, withdraw, approve twice (the loser of a race), and try
the direct commands, on a program with
four eyes on, a tight allocation and a small quota. After every step: nothing was committed,
paid or amended except by an approved proposal whose approver is not its proposer and holds
the approving role; the program's books are exactly what the approved proposals did; a
refused step wrote nothing; committed + paid <= allocation and enrolled <= quota. In memory,
where a step costs least (the stores themselves are covered by `tests/test_four_eyes.py`).
"""

from __future__ import annotations

from typing import Any

from hypothesis import event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from role_helpers import enrol, memory_key
from test_application import EVERYONE, FITRI

from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.domain.errors import LedgerError
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.proposals import APPROVED, Proposal
from jamsos_ledger.domain.roles import (
    ADMINISTRATOR,
    APPROVER,
    APPROVING_ROLE,
    AUDITOR,
    COMMAND_ROLES,
    FINANCE,
    OPERATOR,
    ROLES,
    Actor,
)

PREMIUM = 16_800
PEOPLE = [*EVERYONE, FITRI]
MONTHS = [Month(2026, m) for m in range(1, 13)]
# Offices as they are usually staffed, and now and then any mix of roles.
OFFICES = st.sampled_from([
    frozenset({OPERATOR}), frozenset({APPROVER}), frozenset({FINANCE}),
    frozenset({ADMINISTRATOR}), frozenset({AUDITOR}), frozenset({OPERATOR, APPROVER}),
    frozenset({FINANCE, APPROVER}),
])
PRINCIPALS = st.lists(
    OFFICES | st.frozensets(st.sampled_from(ROLES), min_size=1, max_size=3),
    min_size=3, max_size=5,
)


class FourEyesMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger("memory://", actor="setup")
        self.proposals: list[str] = []
        self.sp2d = 0
        # The SP2Ds of the payments approved (reversed or not): what a reversal may name.
        self.sp2ds: list[str] = []
        # What the approvals did, as they said it: the books must be exactly this.
        self.enrolled = self.promised = self.paid = 0
        self.applied: list[str] = []

    @initialize(roles=PRINCIPALS, allocation=st.integers(2, 6), quota=st.integers(1, 5))
    def open(self, roles: list[frozenset[str]], allocation: int, quota: int) -> None:
        self.principals = [Actor(f"p{i}", r) for i, r in enumerate(roles)]
        self.keys = {p.name: memory_key(p.name) for p in self.principals}
        note(f"principals {[(p.name, sorted(p.roles)) for p in self.principals]}")
        # Allocation: room for a few full years of a worker, and a little over.
        self.ledger.open_program(year=2026, allocation=allocation * 12 * PREMIUM + 7 * PREMIUM,
                                 quota=quota, code="fe", four_eyes=True)
        self.ledger.register(PEOPLE)
        self.ledger.prioritize()
        self.staff = [Actor("setup-ops", frozenset({OPERATOR})),
                      Actor("setup-head", frozenset({APPROVER})),
                      Actor("setup-ppk", frozenset({FINANCE})),
                      Actor("setup-bud", frozenset({FINANCE}))]
        self.keys.update({p.name: memory_key(p.name) for p in self.staff})
        for p in [*self.principals, *self.staff]:
            enrol(self.ledger, p.name, p.roles, self.keys[p.name])
        self.opened = self.head()
        self.allocation = allocation * 12 * PREMIUM + 7 * PREMIUM
        self.quota = quota
        # One worker enrolled from January through four eyes, so that months can be paid.
        self.become(self.staff[0])
        first = self.ledger.propose_enrolment("fe", start=MONTHS[0], niks=[PEOPLE[0].nik])
        self.become(self.staff[1])
        self.approved(self.ledger.approve_proposal(first.short))
        # ... one more from June where the quota allows (months never paid here: an enrolment
        # that can be annulled) ...
        if quota > 1:
            self.become(self.staff[0])
            june = self.ledger.propose_enrolment("fe", start=MONTHS[5], niks=[PEOPLE[1].nik])
            self.become(self.staff[1])
            self.approved(self.ledger.approve_proposal(june.short))
        # ... and January paid through four eyes, so that a payment can be reversed.
        self.become(self.staff[2])
        paid = self.ledger.propose_payment(month=MONTHS[0], sp2d="SP2D/0", code="fe")
        self.become(self.staff[3])
        self.approved(self.ledger.approve_proposal(paid.short))

    def teardown(self) -> None:
        self.ledger.close()

    # -- helpers --------------------------------------------------------------------------

    def head(self) -> int:
        return int(self.ledger.recorder.max_notification_id() or 0)

    def become(self, principal: Actor) -> None:
        """Act from now on with the principal's key (one ledger in memory, as a script writing
        as several principals)."""
        self.ledger.signing.use(KeySource(key=self.keys[principal.name]))

    def act(self, who: int, step: str, run: Any) -> Any:
        """Run a command as the who-th principal; a refusal must have written nothing."""
        principal = self.principals[who % len(self.principals)]
        self.become(principal)
        before = self.head()
        try:
            result = run()
        except LedgerError as e:
            note(f"{principal.name} {step}: refused: {e}")
            assert self.head() == before, f"{step} refused but wrote"
            return None
        note(f"{principal.name} {step}: done")
        return result

    def remember(self, proposal: Proposal | None) -> None:
        if proposal is not None:
            self.proposals.append(proposal.short)

    def approved(self, done: tuple[Proposal, Any] | None) -> bool:
        """Book what an approval did; whether it did anything."""
        if done is None:
            return False
        proposal, result = done
        self.applied.append(proposal.short)
        event(f"applied: {proposal.kind}")  # `--hypothesis-show-statistics` shows the mix
        if proposal.kind == "enrolment":
            self.enrolled += result.workers
            self.promised += result.committed
        elif proposal.kind == "payment":
            self.paid += result[1]
            self.sp2ds.append(proposal.terms["sp2d"])
        elif proposal.kind == "reversal":
            # Unpaid again, and committed again: what was promised is unchanged.
            self.paid -= result[1].total
        elif proposal.kind == "annulment":
            self.enrolled -= 1
            self.promised -= result.total
        else:
            self.allocation, self.quota = result.allocation, result.quota
        return True

    # -- proposing ------------------------------------------------------------------------

    @rule(who=st.integers(0, 4), people=st.lists(st.sampled_from(PEOPLE), min_size=1,
                                                  max_size=3, unique=True),
          start=st.sampled_from(MONTHS[:6]))
    def propose_enrolment(self, who: int, people: list[Any], start: Month) -> None:
        self.remember(self.act(who, "proposes enrolment", lambda: self.ledger.propose_enrolment(
            "fe", start=start, niks=[p.nik for p in people])))

    @rule(who=st.integers(0, 4), month=st.sampled_from(MONTHS[:3]))
    def propose_payment(self, who: int, month: Month) -> None:
        self.sp2d += 1
        self.remember(self.act(who, "proposes payment", lambda: self.ledger.propose_payment(
            month=month, sp2d=f"SP2D/{self.sp2d}", code="fe")))

    @rule(who=st.integers(0, 4), allocation=st.none() | st.integers(1, 8).map(
        lambda n: n * 12 * PREMIUM), quota=st.none() | st.integers(1, 6))
    def propose_amendment(self, who: int, allocation: int | None, quota: int | None) -> None:
        self.remember(self.act(who, "proposes amendment", lambda: self.ledger.propose_amendment(
            "fe", allocation=allocation, quota=quota, reason="APBD-P")))

    @rule(who=st.integers(0, 4), which=st.integers(0, 3))
    def propose_reversal(self, who: int, which: int) -> None:
        """A payment's reversal, mostly of a payment made (now and then one never made, or
        one already reversed: refused when proposed, or later when approved)."""
        sp2d = (self.sp2ds[-1 - which % len(self.sp2ds)] if self.sp2ds and which < 3
                else f"SP2D/never-{which}")
        self.remember(self.act(who, f"proposes reversing {sp2d}",
                               lambda: self.ledger.propose_reversal(
                                   sp2d=sp2d, reason="paid in error", code="fe")))

    @rule(who=st.integers(0, 4), person=st.sampled_from(PEOPLE), which=st.integers(0, 3))
    def propose_annulment(self, who: int, person: Any, which: int) -> None:
        """An enrolment's annulment, mostly of a worker enrolled (the latest coverages first,
        the least likely paid), now and then of anyone (refused when not enrolled, or once a
        month of it is paid)."""
        pid = self.ledger.program("fe").id
        coverages = [(self.ledger.worker(p.nik).coverages.get(pid), p) for p in PEOPLE]
        covered = [p for c, p in sorted(
            ((c, p) for c, p in coverages if c is not None),
            key=lambda cp: cp[0].start, reverse=True)]
        if covered and which:
            person = covered[(which - 1) % len(covered)]
        self.remember(self.act(who, "proposes annulment", lambda: self.ledger.propose_annulment(
            person.nik, reason="wrong worker", code="fe")))

    @rule(reversal=st.booleans(), which=st.integers(0, 3))
    def staff_proposes_an_undoing(self, reversal: bool, which: int) -> None:
        """The office's finance officer proposes reversing a payment, or its operator annulling
        the latest enrolment (random principals seldom hold the roles), for the principals to
        approve and race on."""
        principal = self.staff[2 if reversal else 0]
        self.become(principal)
        before = self.head()
        try:
            if reversal:
                sp2d = self.sp2ds[-1 - which % len(self.sp2ds)]
                proposal = self.ledger.propose_reversal(sp2d=sp2d, reason="x", code="fe")
            else:
                pid = self.ledger.program("fe").id
                covered = sorted(
                    ((c.start, p.nik) for p in PEOPLE
                     if (c := self.ledger.worker(p.nik).coverages.get(pid)) is not None),
                    reverse=True)
                if not covered:
                    return
                nik = covered[which % len(covered)][1]
                proposal = self.ledger.propose_annulment(nik, reason="x", code="fe")
        except LedgerError as e:
            note(f"{principal.name} proposes an undoing: refused: {e}")
            assert self.head() == before, "proposal refused but wrote"
            return
        note(f"{principal.name} proposes {proposal.kind} {proposal.short}")
        self.remember(proposal)

    # -- deciding -------------------------------------------------------------------------

    @precondition(lambda self: bool(self.proposals))
    @rule(who=st.integers(0, 4), which=st.integers(0, 3))
    def approve(self, who: int, which: int) -> None:
        ref = self.proposals[-1 - which % len(self.proposals)]  # mostly the recent ones
        self.approved(self.act(who, f"approves {ref}", lambda: self.ledger.approve_proposal(ref)))

    @precondition(lambda self: bool(self.proposals))
    @rule(which=st.integers(0, 3))
    def staff_approves(self, which: int) -> None:
        """The office's own head, or a finance officer other than the proposer, approves a
        proposal (the random principals alone seldom hold two finance roles)."""
        ref = self.proposals[-1 - which % len(self.proposals)]
        proposal = self.ledger.proposal(ref)
        principal = (self.staff[1] if proposal.approving_role == APPROVER
                     else self.staff[2 if proposal.proposer == self.staff[3].name else 3])
        self.become(principal)
        before = self.head()
        try:
            done = self.ledger.approve_proposal(ref)
        except LedgerError as e:
            note(f"{principal.name} approves {ref}: refused: {e}")
            assert self.head() == before, "approval refused but wrote"
            return
        note(f"{principal.name} approves {ref}: done")
        self.approved(done)

    @precondition(lambda self: bool(self.proposals))
    @rule(first=st.integers(0, 4), second=st.integers(0, 4), which=st.integers(0, 3))
    def race(self, first: int, second: int, which: int) -> None:
        """Two approvers on one proposal: applied at most once."""
        ref = self.proposals[-1 - which % len(self.proposals)]  # mostly the recent ones
        one = self.approved(
            self.act(first, f"approves {ref}", lambda: self.ledger.approve_proposal(ref)))
        two = self.approved(
            self.act(second, f"approves {ref}", lambda: self.ledger.approve_proposal(ref)))
        assert not (one and two), "a proposal applied twice"

    @precondition(lambda self: bool(self.proposals))
    @rule(who=st.integers(0, 4), which=st.integers(0, 3))
    def reject(self, who: int, which: int) -> None:
        ref = self.proposals[-1 - which % len(self.proposals)]  # mostly the recent ones
        self.act(who, f"rejects {ref}", lambda: self.ledger.reject_proposal(ref, reason="no"))

    @precondition(lambda self: bool(self.proposals))
    @rule(who=st.integers(0, 4), which=st.integers(0, 3))
    def withdraw(self, who: int, which: int) -> None:
        ref = self.proposals[-1 - which % len(self.proposals)]  # mostly the recent ones
        self.act(who, f"withdraws {ref}",
                 lambda: self.ledger.withdraw_proposal(ref, reason="mistake"))

    @rule(who=st.integers(0, 4), person=st.sampled_from(PEOPLE), which=st.integers(0, 4))
    def direct_command(self, who: int, person: Any, which: int) -> None:
        """One key never moves money or places: every direct command is refused."""
        self.sp2d += 1
        paid = self.sp2ds[-1] if self.sp2ds else "SP2D/1"
        step, run = [
            ("enrols", lambda: self.ledger.enrol("fe", start=MONTHS[0], niks=[person.nik])),
            ("pays", lambda: self.ledger.pay_premiums(month=MONTHS[0], sp2d=f"S/{self.sp2d}",
                                                      code="fe")),
            ("amends", lambda: self.ledger.amend_program("fe", quota=9, reason="x")),
            ("reverses", lambda: self.ledger.reverse_payment(sp2d=paid, reason="x",
                                                             code="fe")),
            ("annuls", lambda: self.ledger.annul_enrolment(person.nik, reason="x", code="fe")),
        ][which]
        assert self.act(who, step, run) is None, f"{step} directly under four eyes"

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def only_two_distinct_principals_move_money_and_places(self) -> None:
        if not hasattr(self, "opened"):
            return
        ledger = self.ledger
        program = ledger.program("fe")
        approved = ledger.proposals("fe", APPROVED)
        by_name = {p.name: p for p in [*self.principals, *self.staff]}
        for p in approved:
            approver = by_name[p.decided_by or ""]
            assert p.decided_by != p.proposer
            assert APPROVING_ROLE[p.kind] in approver.roles
            proposing = COMMAND_ROLES[f"propose_{p.kind}"]
            assert proposing & by_name[p.proposer].roles
        assert sorted(p.short for p in approved) == sorted(self.applied)
        # The books are exactly what the approvals did, and nothing else moved them.
        assert program.enrolled == self.enrolled
        assert program.paid_total.total == self.paid
        assert program.committed.total + program.paid_total.total == self.promised
        assert (program.allocation, program.quota) == (self.allocation, self.quota)
        assert program.committed.total + program.paid_total.total <= program.allocation
        assert program.enrolled <= program.quota


def test_four_eyes_under_random_principals() -> None:
    profile = settings()
    run_state_machine_as_test(
        FourEyesMachine,
        settings=settings(profile, max_examples=max(10, profile.max_examples // 3),
                          stateful_step_count=min(profile.stateful_step_count, 25)),
    )
