"""Four eyes in the application service: propose a decree, a payment, an amendment, a
payment's reversal or an enrolment's annulment, and approve, reject or withdraw it.

A proposal is checked when it is made by running its command without writing anything (the
same service command, so the same rules and the same refusals), which also gives the figures
it would commit or pay then. It reserves nothing. Its approval runs the command again, against
the ledger as it is then, and saves the approval with the command's events in one transaction:
two approvers racing on one proposal conflict on its version, and the loser, tried again,
finds it approved. The role table (`roles`) is checked once per command, like every other.

The approver approves what was proposed, not what the command would do by the time they look:
a decree of the top N names the workers ranked first when it was proposed (a re-rank in
between does not change whom it enrols), and a payment or an annulment whose amount is no
longer the one proposed is refused at approval with both figures, and stays pending.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.utils import get_topic

from jamsos_ledger.application.service import LedgerService, command
from jamsos_ledger.domain.errors import InvalidInput, NotFound, RuleViolation
from jamsos_ledger.domain.money import count, counted, rupiah
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.proposals import KIND_NAMES, PENDING, Proposal
from jamsos_ledger.domain.roles import held, require_role

T = TypeVar("T")
_PROPOSED_TOPIC = get_topic(Proposal.Proposed)


class ProposingService(LedgerService):
    """The ledger's service with its proposals: what four eyes need of it."""

    # -- proposing -----------------------------------------------------------------------

    @command("propose_enrolment")
    def propose_enrolment(
        self,
        code: str | None = None,
        *,
        start: Month,
        niks: Sequence[str] = (),
        top: int | None = None,
        decree: str | None = None,
        note: str = "",
    ) -> Proposal:
        """Propose an enrolment decree: checked now as `enrol` would, written only when
        another principal holding the role approver approves it."""
        program = self.program(code)
        result = self._checked_only(
            lambda: self.enrol(program.code, start=start, niks=niks, top=top, decree=decree)
        )
        if top is not None:
            # The decree names the workers ranked first now: the approver approves them, not
            # whoever ranks first on the day of approval (the ranking moves with DTSEN).
            niks = [w.nik for w in self._top_candidates(program, top, start)]
        terms = {"start": str(start), "niks": list(niks), "top": top, "decree": decree}
        figures = {"workers": result.workers, "committed": result.committed}
        return self._propose("enrolment", program.code, terms, figures, note)

    @command("propose_payment")
    def propose_payment(
        self,
        *,
        month: Month,
        sp2d: str,
        amount: int | None = None,
        code: str | None = None,
        note: str = "",
        invoice: str | None = None,
    ) -> Proposal:
        """Propose a month's payment under its SP2D (with `invoice`, of what that reconciled
        invoice agreed): checked now as `pay_premiums` would, paid only when another principal
        holding the role finance approves it."""
        program = self.program(code)
        participants, paid = self._checked_only(
            lambda: self.pay_premiums(
                month=month, sp2d=sp2d, amount=amount, code=program.code, invoice=invoice
            )
        )
        # The amount and participants shown are pinned: the approver pays exactly these.
        terms = {"month": str(month), "sp2d": sp2d, "amount": paid,
                 "participants": participants, "invoice": invoice}
        figures = {"participants": participants, "paid": paid}
        return self._propose("payment", program.code, terms, figures, note)

    @command("propose_amendment")
    def propose_amendment(
        self,
        code: str | None = None,
        *,
        allocation: int | None = None,
        quota: int | None = None,
        reason: str,
        note: str = "",
    ) -> Proposal:
        """Propose an amendment of the allocation or the quota: checked now as
        `amend_program` would, made only when another principal holding the role approver
        approves it."""
        program = self.program(code)
        before = (program.allocation, program.quota)
        amended = self._checked_only(
            lambda: self.amend_program(
                program.code, allocation=allocation, quota=quota, reason=reason
            )
        )
        terms = {"allocation": allocation, "quota": quota, "reason": reason}
        figures = {
            "allocation": amended.allocation - before[0],
            "quota": amended.quota - before[1],
        }
        return self._propose("amendment", program.code, terms, figures, note)

    @command("propose_reversal")
    def propose_reversal(
        self, *, sp2d: str, reason: str, code: str | None = None, note: str = ""
    ) -> Proposal:
        """Propose reversing a payment recorded in error: checked now as `reverse_payment`
        would (an SP2D never paid under, or already reversed, is refused), reversed only when
        another principal holding the role finance approves it."""
        program = self.program(code)
        month, amount = self._checked_only(
            lambda: self.reverse_payment(sp2d=sp2d, reason=reason, code=program.code)
        )
        # The month is for people reading the proposal; the SP2D names the payment.
        terms = {"sp2d": sp2d.strip(), "reason": reason.strip(), "month": str(month)}
        figures = {"participants": amount.total // program.premium.total,
                   "reversed": amount.total}
        return self._propose("reversal", program.code, terms, figures, note)

    @command("propose_annulment")
    def propose_annulment(
        self, nik: str, *, reason: str, code: str | None = None, note: str = ""
    ) -> Proposal:
        """Propose annulling an enrolment recorded in error: checked now as `annul_enrolment`
        would (once a month of it is paid, refused), annulled only when another principal
        holding the role approver approves it."""
        program = self.program(code)
        nik = nik.strip()
        released = self._checked_only(
            lambda: self.annul_enrolment(nik, reason=reason, code=program.code)
        )
        terms = {"nik": nik, "reason": reason.strip()}
        figures = {"workers": 1, "released": released.total}
        return self._propose("annulment", program.code, terms, figures, note)

    def _checked_only(self, run: Callable[[], T]) -> T:
        """Run a command to check it and learn its figures, writing nothing."""
        self.dry_run = True
        try:
            return run()
        finally:
            self.dry_run = False

    def _propose(
        self, kind: str, code: str, terms: dict[str, Any], figures: dict[str, int], note: str
    ) -> Proposal:
        proposal = Proposal.propose(
            kind=kind, program=code, terms=terms, figures=figures, proposer=self.actor,
            note=note,
        )
        self.save(proposal)
        return proposal

    # -- deciding ------------------------------------------------------------------------

    @command("approve_proposal")
    def approve_proposal(self, ref: str) -> tuple[Proposal, Any]:
        """Approve a proposal and carry it out, every rule checked against the ledger as it is
        now; the approval and the command's events are one transaction. Returns the proposal
        and what its command returned."""

        def attempt() -> tuple[Proposal, Any]:
            proposal = self.proposal(ref)
            principal = self.acting_principal()
            require_role(principal, proposal.approving_role, f"approving {proposal.describe()}")
            self._as_proposed(proposal)
            proposal.approve(approver=self.actor, roles=held(principal))
            self.riding = proposal
            try:
                return proposal, self._carry_out(proposal)
            finally:
                self.riding = None

        return self._retrying(attempt)

    def _as_proposed(self, proposal: Proposal) -> None:
        """Refuse, before anything is decided, a proposal that would no longer do what it said:
        the approver approves what was proposed.

        A payment's amount and participants, and an annulment's release, are checked by
        running the command without writing anything; a decree proposed before decrees named
        their workers (terms with --top and no NIKs) is refused outright, since it would
        enrol whoever ranks first now. Each refusal leaves the proposal pending (reject it and
        propose again). A reversal's amount cannot move (its SP2D's payment is recorded), nor
        a decree's that names its workers (their months from its start to the program's end).
        """
        terms, figures = proposal.terms, proposal.figures
        again = f"reject it (`jamsos proposals reject {proposal.short}`) and propose again"
        if proposal.kind == "enrolment" and terms["top"] is not None and not terms["niks"]:
            raise RuleViolation(
                f"{proposal.describe()} was proposed as the top {count(terms['top'])} before "
                "decrees named their workers: approving it would enrol whoever ranks first "
                f"now, not necessarily those ranked first when it was proposed; {again} (the "
                "new proposal names them); nothing was written"
            )
        if proposal.kind == "payment":
            month = Month.parse(terms["month"])
            # Terms stored before payments pinned their amount: the figures they showed.
            amount = terms["amount"] if terms["amount"] is not None else figures["paid"]
            participants = terms.get("participants", figures["participants"])
            now = self._checked_only(lambda: self.pay_premiums(
                month=month, sp2d=terms["sp2d"], code=proposal.program,
                invoice=terms.get("invoice"),
            ))
            if now != (participants, amount):
                raise RuleViolation(
                    f"the bill for {month} is now {rupiah(now[1])} for "
                    f"{counted(now[0], 'participant')}; the proposal was for {rupiah(amount)} "
                    f"for {count(participants)}: {again}; nothing was paid"
                )
        if proposal.kind == "annulment":
            released = self._checked_only(lambda: self.annul_enrolment(
                terms["nik"], reason=terms["reason"], code=proposal.program
            )).total
            if released != figures["released"]:
                raise RuleViolation(
                    f"annulling the enrolment of {mask_nik(terms['nik'])} would now release "
                    f"{rupiah(released)}; the proposal was for {rupiah(figures['released'])}: "
                    f"{again}; nothing was annulled"
                )

    def _carry_out(self, proposal: Proposal) -> Any:
        """Run the proposal's command with its terms: a decree enrols the workers it names
        (`_as_proposed` has refused one that names none), a payment pays the amount it
        pinned (the domain refuses another bill, should it change meanwhile)."""
        terms = proposal.terms
        if proposal.kind == "enrolment":
            return self.enrol(
                proposal.program, start=Month.parse(terms["start"]), niks=tuple(terms["niks"]),
                decree=terms["decree"],
            )
        if proposal.kind == "payment":
            amount = terms["amount"] if terms["amount"] is not None else proposal.figures["paid"]
            return self.pay_premiums(
                month=Month.parse(terms["month"]), sp2d=terms["sp2d"], amount=amount,
                code=proposal.program, invoice=terms.get("invoice"),
            )
        if proposal.kind == "reversal":
            return self.reverse_payment(
                sp2d=terms["sp2d"], reason=terms["reason"], code=proposal.program
            )
        if proposal.kind == "annulment":
            return self.annul_enrolment(
                terms["nik"], reason=terms["reason"], code=proposal.program
            )
        return self.amend_program(
            proposal.program, allocation=terms["allocation"], quota=terms["quota"],
            reason=terms["reason"],
        )

    @command("reject_proposal")
    def reject_proposal(self, ref: str, *, reason: str) -> Proposal:
        """Reject a proposal for good, with the reason: the approving role of its kind."""

        def attempt() -> Proposal:
            proposal = self.proposal(ref)
            require_role(self.acting_principal(), proposal.approving_role,
                         f"rejecting {proposal.describe()}")
            proposal.reject(by=self.actor, reason=reason)
            self.save(proposal)
            return proposal

        return self._retrying(attempt)

    @command("withdraw_proposal")
    def withdraw_proposal(self, ref: str, *, reason: str) -> Proposal:
        """Withdraw one's own proposal, with the reason."""

        def attempt() -> Proposal:
            proposal = self.proposal(ref)
            proposal.withdraw(by=self.actor, reason=reason)
            self.save(proposal)
            return proposal

        return self._retrying(attempt)

    # -- reading -------------------------------------------------------------------------

    @command("read")
    def proposals(self, code: str | None = None, status: str | None = None) -> list[Proposal]:
        """Every proposal (of one program, in one status), oldest first.

        Proposals are few (a decree, twelve payments, a few amendments a year): they are found
        by their topic in the log, read in pages.
        """
        ids = [UUID(str(n.originator_id)) for n in self.read_log(topics=[_PROPOSED_TOPIC])]
        found = self.aggregates(ids)
        chosen = [found[i] for i in ids if i in found]
        return [
            p for p in chosen
            if isinstance(p, Proposal)
            and (code is None or p.program == code)
            and (status is None or p.status == status)
        ]

    def pending(self, code: str) -> list[Proposal]:
        """The proposals of a program waiting for a decision."""
        return self.proposals(code, PENDING)

    @command("read")
    def proposal(self, ref: str) -> Proposal:
        """The proposal of that id, or of the id beginning with `ref` (eight digits are shown)."""
        text = ref.strip().lower().replace("-", "")
        if len(text) < 4 or any(c not in "0123456789abcdef" for c in text):
            raise InvalidInput(
                f"a proposal is named by its id, at least 4 hexadecimal digits, not {ref!r}"
            )
        if len(text) == 32:
            found = self.aggregates([UUID(text)]).get(UUID(text))
            if isinstance(found, Proposal):
                return found
            raise NotFound(f"no proposal {ref} in this ledger")
        matches = [p for p in self.proposals() if p.id.hex.startswith(text)]
        if not matches:
            raise NotFound(f"no proposal {ref} in this ledger: `proposals list` shows them")
        if len(matches) > 1:
            raise InvalidInput(
                f"{len(matches)} proposals begin with {ref}: give more of the id "
                f"({', '.join(p.id.hex[:12] for p in matches[:5])})"
            )
        return matches[0]


def kind_name(proposal: Proposal) -> str:
    """The kind of a proposal as people say it."""
    return KIND_NAMES[proposal.kind]


__all__ = ["ProposingService", "kind_name"]
