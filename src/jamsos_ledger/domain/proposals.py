"""Four eyes on money and places: a decree, a payment, an amendment, a payment's reversal or an
enrolment's annulment proposed, then decided.

A `Proposal` holds what a command would do (its kind and its terms, the arguments of the
service command that carries it out) and who proposed it. It reserves nothing: the budget and
the quota stay the program's. It takes effect only when a different principal holding the
approving role of its kind approves it, and the approval is recorded in the same transaction
as the command's own events, so two approvers racing on one proposal conflict on its version
and it is applied once. It can be rejected (by the approving role) or withdrawn (by whoever
proposed it), each with a reason. Maker-checker, as the disbursement systems users compare
the ledger with call it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from jamsos_ledger.domain.errors import InvalidInput, RoleRefused, RuleViolation
from jamsos_ledger.domain.roles import APPROVING_ROLE, PROPOSAL_KINDS
from jamsos_ledger.domain.texts import normal_spaces, text_problem
from jamsos_ledger.domain.topics import pin_stored_topics

PENDING, APPROVED, REJECTED, WITHDRAWN = "pending", "approved", "rejected", "withdrawn"
KIND_NAMES = {"enrolment": "enrolment decree", "payment": "monthly payment",
              "amendment": "amendment", "reversal": "payment reversal",
              "annulment": "enrolment annulment"}


class ProposalDecided(RuleViolation):
    """The proposal was already approved, rejected or withdrawn."""


class SameEyes(RuleViolation):
    """The principal who proposed cannot also approve."""


def short_id(proposal_id: UUID) -> str:
    """The proposal's id as people write it: its first eight hexadecimal digits."""
    return proposal_id.hex[:8]


def _reason(reason: str, what: str) -> str:
    reason = normal_spaces(reason)
    if not reason:
        raise InvalidInput(f"{what} needs a reason")
    problem = text_problem(reason)
    if problem:
        raise InvalidInput(f"the reason {problem}")
    return reason


class Proposal(Aggregate):
    """A command awaiting a second principal: its kind, its program, its terms, its fate.

    `figures` are what the command would have done when proposed (rupiah committed or paid,
    workers placed), shown while it is pending; at approval every rule is checked again
    against the ledger as it is then.
    """

    @classmethod
    def propose(
        cls,
        *,
        kind: str,
        program: str,
        terms: dict[str, Any],
        figures: dict[str, int],
        proposer: str,
        note: str = "",
    ) -> Proposal:
        if kind not in PROPOSAL_KINDS:
            raise InvalidInput(f"no kind of proposal {kind!r} (kinds: {', '.join(PROPOSAL_KINDS)})")
        note = normal_spaces(note)
        problem = text_problem(note)
        if problem:
            raise InvalidInput(f"the note {problem}")
        return cls(
            kind=kind, program=program, terms=terms, figures=figures, actor=proposer, note=note,
        )

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    # Every event names its actor as every other event of the ledger does (the trail reads it).
    class Proposed(Aggregate.Created):
        kind: str
        program: str
        terms: dict[str, Any]
        figures: dict[str, int]
        actor: str
        note: str

    @event(Proposed)
    def __init__(
        self,
        *,
        kind: str,
        program: str,
        terms: dict[str, Any],
        figures: dict[str, int],
        actor: str,
        note: str,
    ) -> None:
        self.kind = kind
        self.program = program
        self.terms = terms
        self.figures = figures
        self.proposer = actor
        self.note = note
        self.status = PENDING
        self.decided_by: str | None = None
        self.reason = ""

    @property
    def short(self) -> str:
        return short_id(self.id)

    @property
    def approving_role(self) -> str:
        return APPROVING_ROLE[self.kind]

    def describe(self) -> str:
        """One line: what it is, for which program, who proposed it."""
        return (f"{KIND_NAMES[self.kind]} {self.short} for {self.program}, proposed by "
                f"{self.proposer}")

    def _pending(self, verb: str) -> None:
        if self.status != PENDING:
            raise ProposalDecided(
                f"cannot {verb} {self.describe()}: it was already {self.status} by "
                f"{self.decided_by}; nothing was written"
            )

    def approve(self, *, approver: str, roles: Collection[str] | None) -> None:
        """Approve: a different principal holding the approving role (`roles` None: the
        roles were not checked, as on a ledger without principals, but the eyes still are)."""
        self._pending("approve")
        if approver == self.proposer:
            raise SameEyes(
                f"{approver} proposed {KIND_NAMES[self.kind]} {self.short} and cannot also "
                f"approve it: another principal holding the role {self.approving_role} "
                "must; nothing was written"
            )
        if roles is not None and self.approving_role not in roles:
            # The application service checks the role first, with the role table's words;
            # this keeps the rule where the proposal is, should a caller forget.
            raise RoleRefused(
                f"approving {self.describe()} needs the role {self.approving_role}; nothing "
                "was written"
            )
        self._approved(actor=approver)

    class Approved(Aggregate.Event):
        actor: str

    @event(Approved)
    def _approved(self, actor: str) -> None:
        self.status = APPROVED
        self.decided_by = actor

    def reject(self, *, by: str, reason: str) -> None:
        """Refuse it for good, with the reason (the approving role's)."""
        self._pending("reject")
        self._rejected(actor=by, reason=_reason(reason, "a rejection"))

    class Rejected(Aggregate.Event):
        actor: str
        reason: str

    @event(Rejected)
    def _rejected(self, actor: str, reason: str) -> None:
        self.status = REJECTED
        self.decided_by = actor
        self.reason = reason

    def withdraw(self, *, by: str, reason: str) -> None:
        """Take it back, with the reason: only whoever proposed it."""
        self._pending("withdraw")
        if by != self.proposer:
            raise SameEyes(
                f"only {self.proposer}, who proposed {KIND_NAMES[self.kind]} {self.short}, can "
                "withdraw it (the approving role rejects it); nothing was written"
            )
        self._withdrawn(actor=by, reason=_reason(reason, "a withdrawal"))

    class Withdrawn(Aggregate.Event):
        actor: str
        reason: str

    @event(Withdrawn)
    def _withdrawn(self, actor: str, reason: str) -> None:
        self.status = WITHDRAWN
        self.decided_by = actor
        self.reason = reason


# Stored names are never renamed (`topics`): these events keep the module path the class had
# when the first ledgers holding them were written.
STORED_TOPIC_MODULE = "jamsos_ledger.proposals"
pin_stored_topics(STORED_TOPIC_MODULE, Proposal)
