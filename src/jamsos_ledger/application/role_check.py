"""The role table over the history: each event written by a principal who held, at that point,
a role that allowed the command that writes it (`roles.COMMAND_ROLES`).

`audit verify` runs it once the seals held: every event of money and places (a program's
opening, amendments, commitments, releases and payments), every proposal and its decision,
every viewing of personal data, every auditor's note, every service token issued or revoked,
and every worker event a command writes one at a time (corrections, coverage begun and ended,
claims, benefits). The bulk events (registrations and ranks, written by imports and rankings)
are left out, so the check stays a small part of a verification. An event written without the
role is reported like a broken seal: the first position, who wrote it and which role it needed.
The roles are those held at that position: the principals' registry applied up to the
transaction before (a role withdrawn earlier counts as not held, one granted earlier as held).

Four eyes are checked over the history too, since a principal's own jamsos (their real key
and role, but not this code) could skip them: on a program opened with four eyes on, every
decree, payment, amendment, reversal or annulment must be written in the transaction of a
proposal's approval, and no proposal approved by the principal who proposed it. What four
eyes cannot refuse is also listed, as a notice rather than a finding: an approval by a
principal whom the proposer (an administrator) enrolled, gave a new key or granted a role,
such as a puppet the root administrator made to approve its own proposals; and the reverse,
an approval by the administrator who enrolled, re-keyed or granted a role to the proposer (a
puppet that proposes what its maker approves). Chains (an administrator who made another who
made the puppet) are not followed: only the direct link is listed.

A program opened with one key (four eyes off, `program open --one-key`: a small office's
recorded choice) lets one principal move its money and places alone, the root included. That
is allowed by its terms, so it is no finding; but it is listed for the auditors, program by
program: who opened it and why, and what was written alone there (outside the transaction of
an approval by another principal): decrees and the rupiah they committed, payments and the
rupiah paid, amendments, reversals and annulments, and the principals who wrote them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from jamsos_ledger.domain.audit_notes import AuditNote
from jamsos_ledger.domain.model import Program, Worker
from jamsos_ledger.domain.principals import ADMINISTRATOR, Directory, Principal
from jamsos_ledger.domain.proposals import Proposal
from jamsos_ledger.domain.roles import APPROVING_ROLE, held, roles_needed
from jamsos_ledger.domain.service_tokens import ServiceToken
from jamsos_ledger.domain.viewings import Viewing
from jamsos_ledger.stores.integrity import PAGE
from jamsos_ledger.stores.seals import ROOT, Seal

# Event -> the command (of the role table) that writes it.
COMMAND_OF_EVENT: dict[str, str] = {
    get_topic(Program.Opened): "open_program",
    get_topic(Program.AllocationAmended): "amend_program",
    get_topic(Program.QuotaAmended): "amend_program",
    get_topic(Program.PremiumsCommitted): "enrol",
    get_topic(Program.CoverageReleased): "end_coverage",
    get_topic(Program.PremiumPaid): "pay_premiums",
    get_topic(Program.InvoicePaid): "pay_premiums",
    get_topic(Program.InvoiceReconciled): "reconcile_invoice",
    get_topic(Program.PaymentReversed): "reverse_payment",
    get_topic(Program.EnrolmentAnnulled): "annul_enrolment",
    get_topic(Worker.EnrolmentAnnulled): "annul_enrolment",
    get_topic(Worker.KpjRecorded): "reconcile_invoice",
    get_topic(Worker.Corrected): "correct_worker",
    get_topic(Worker.Enrolled): "enrol",
    get_topic(Worker.CoverageEnded): "end_coverage",
    get_topic(Worker.ClaimFiled): "file_claim",
    get_topic(Worker.BenefitRecorded): "record_benefit",
    get_topic(Proposal.Withdrawn): "withdraw_proposal",
    get_topic(Viewing.Viewed): "unmask",
    get_topic(AuditNote.Written): "audit_note",
    get_topic(ServiceToken.Issued): "issue_token",
    get_topic(ServiceToken.Revoked): "revoke_token",
}
_PROPOSED = get_topic(Proposal.Proposed)
_APPROVED = get_topic(Proposal.Approved)
_DECIDED = (_APPROVED, get_topic(Proposal.Rejected))
_OPENED = get_topic(Program.Opened)
# What a program under four eyes takes only from an approval (the proposals' kinds).
FOUR_EYED = frozenset(get_topic(c) for c in (
    Program.PremiumsCommitted, Program.PremiumPaid, Program.InvoicePaid,
    Program.AllocationAmended, Program.QuotaAmended, Program.PaymentReversed,
    Program.EnrolmentAnnulled,
))
TOPICS = (*COMMAND_OF_EVENT, _PROPOSED, *_DECIDED)
_COMMITTED = get_topic(Program.PremiumsCommitted)
_PAID = get_topic(Program.PremiumPaid)
_REVERSED = get_topic(Program.PaymentReversed)
_ANNULLED = get_topic(Program.EnrolmentAnnulled)
_AMENDED = (get_topic(Program.AllocationAmended), get_topic(Program.QuotaAmended))


def _one_key_program(position: int, event: Any, name: str) -> dict[str, Any]:
    """A program opened with one key, as `audit verify` lists it: its opening, then what was
    written alone on it (`_FourEyes.tally`)."""
    return {"program": event.code, "opened_at": position, "opened_by": name,
            "reason": getattr(event, "one_key_reason", "") or "",
            "decrees": 0, "workers_enrolled": 0, "committed": 0,
            "payments": 0, "paid": 0, "reversals": 0, "reversed": 0,
            "annulments": 0, "released": 0, "amendments": 0, "principals": []}


class _FourEyes:
    """Four eyes over the history, one transaction (one seal) at a time."""

    def __init__(self, notices: list[str] | None,
                 one_key: list[dict[str, Any]] | None = None) -> None:
        self.programs: set[UUID] = set()  # opened with four eyes on
        # Opened with one key: what `audit verify` lists of each, in `one_key` when asked.
        self.one_key: dict[UUID, dict[str, Any]] = {}
        self.one_key_listed = one_key
        self.moves: list[tuple[UUID, str, Any, str]] = []  # this transaction's, on those
        self.proposers: dict[UUID, str] = {}
        self.kinds: dict[UUID, str] = {}
        # principal -> administrator -> (position, what they did): enrolled, rotated, granted
        self.made_by: dict[str, dict[str, tuple[int, str]]] = {}
        self.notices = notices
        self.transaction = -1
        self.approved = False  # the current transaction approves a proposal
        self.alone: tuple[int, str] | None = None  # its first decision taken without one

    def next_transaction(self, index: int) -> tuple[int, str] | None:
        """Start transaction `index`; what the one before did alone, if anything."""
        if index == self.transaction:
            return None
        found = self.finished()
        self.tally()
        self.transaction, self.approved, self.alone = index, False, None
        return found

    def tally(self) -> None:
        """Count the moves of the transaction that ends on programs of one key, unless it
        approved a proposal (then a second principal decided them)."""
        moves, self.moves = self.moves, []
        if self.approved:
            return
        for oid, topic, event, name in moves:
            listed = self.one_key[oid]
            amount = int(getattr(event, "jkk", 0)) + int(getattr(event, "jkm", 0))
            if topic == _COMMITTED:
                listed["decrees"] += 1
                listed["workers_enrolled"] += int(event.workers)
                listed["committed"] += amount
            elif topic == _PAID:
                listed["payments"] += 1
                listed["paid"] += amount
            elif topic == _REVERSED:
                listed["reversals"] += 1
                listed["reversed"] += amount
            elif topic == _ANNULLED:
                listed["annulments"] += 1
                listed["released"] += amount
            elif topic in _AMENDED:
                listed["amendments"] += 1
            else:
                continue  # an invoice paid: its money is the payment's, counted there
            if name not in listed["principals"]:
                listed["principals"] = sorted([*listed["principals"], name])

    def listed(self) -> None:
        """Hand the programs of one key to whoever asked, in the order they were opened."""
        self.tally()
        if self.one_key_listed is not None:
            self.one_key_listed.extend(self.one_key.values())

    def finished(self) -> tuple[int, str] | None:
        return self.alone if self.alone is not None and not self.approved else None

    def registry_change(self, position: int, change: dict[str, Any], by: str) -> None:
        """An administrator's enrolment, rotation or grant, sealed by `by`."""
        what = {"enrolled": "enrolled", "rotated": "gave a new key to",
                "granted": "granted a role to"}.get(change["kind"])
        if what is not None and by != change["name"]:
            self.made_by.setdefault(change["name"], {}).setdefault(by, (position, what))

    def event(self, n: Any, event: Any, name: str, adopted: bool) -> tuple[int, str] | None:
        """Take an event in; a proposal approved by its own proposer is reported at once.
        `adopted`: written before seals and adopted by the root as it stood, in what the
        seals see as one transaction: its decisions are not held to one approval each."""
        oid = event.originator_id
        if n.topic in FOUR_EYED and oid in self.one_key:
            self.moves.append((oid, n.topic, event, name))
        if n.topic == _OPENED and getattr(event, "four_eyes", False):
            self.programs.add(oid)
        elif n.topic == _OPENED:
            self.one_key[oid] = _one_key_program(n.id, event, name)
        elif n.topic == _PROPOSED:
            self.proposers[oid] = name
            self.kinds[oid] = event.kind
        elif n.topic == _APPROVED:
            proposer = self.proposers.get(oid)
            if proposer == name:
                return (n.id, f"Proposal.Approved written by {name!r}, who proposed it: four "
                              "eyes need a second principal")
            self.approved = True
            kind = self.kinds.get(oid, "")
            made = self.made_by.get(name, {}).get(proposer or "")
            if made is not None and self.notices is not None:
                self.notices.append(
                    f"position {n.id}: {name} approved the {kind} proposal "
                    f"of {proposer}, who {made[1]} {name} at position {made[0]}")
            # The reverse: the approver made the proposer (a puppet that proposes for the
            # administrator who then approves it): one person decided it just the same.
            made = self.made_by.get(proposer or "", {}).get(name)
            if made is not None and self.notices is not None:
                whom = ("whom" if made[1] == "enrolled" else "to whom")
                self.notices.append(
                    f"position {n.id}: {name} approved the {kind} proposal of {proposer}, "
                    f"{whom} {name} {made[1].removesuffix(' to')} at position {made[0]}")
        elif (n.topic in FOUR_EYED and oid in self.programs and self.alone is None
              and not adopted):
            self.alone = (n.id, f"{type(event).__qualname__} written by {name!r} on a program "
                                "under four eyes, without the approval of a proposal in its "
                                "transaction: four eyes need a second principal")
        return None


def _events(recorder: Any, upto: int) -> Iterator[Any]:
    start = 0
    while True:
        page = recorder.select_notifications(
            start=start, limit=PAGE, stop=upto, topics=TOPICS, inclusive_of_start=False
        )
        yield from page
        if len(page) < PAGE:
            return
        start = page[-1].id


def check_roles(
    recorder: Any,
    mapper: Any,
    seals: Sequence[Seal],
    changes: Sequence[tuple[int, dict[str, Any]]],
    upto: int,
    notices: list[str] | None = None,
    one_key: list[dict[str, Any]] | None = None,
) -> tuple[int, str] | None:
    """The first event up to `upto` (the last position the seals cover) written by a principal
    without a role that allows it (its position and what is wrong), or None. The seals and
    principal changes are those the seal check read and found valid. Approvals by a principal
    the proposer enrolled or granted a role are appended to `notices`; the programs opened
    with one key, with what was moved alone on each, to `one_key` (when the history holds)."""
    ordered = sorted(seals, key=lambda s: s.position)
    if not ordered or ordered[0].kind != ROOT:
        return None  # the seal check reports it
    fields = ordered[0].root_principal()
    if fields is None:
        return None
    directory = Directory(Principal(fields["name"], fields["office"],
                                    frozenset({ADMINISTRATOR}), fields["public_key"]))
    pending = iter(changes)
    upcoming = next(pending, None)
    kinds: dict[UUID, str] = {}
    four_eyes = _FourEyes(notices, one_key)
    i = 0  # the seal covering the current event: the first at or after its position
    for n in _events(recorder, upto):
        while ordered[i].position < n.id:
            # The principal changes of the transactions before this one are in force.
            while upcoming is not None and upcoming[0] <= ordered[i].position:
                directory.apply(upcoming[1])
                four_eyes.registry_change(*upcoming, ordered[i].on_behalf_of
                                          or ordered[i].principal)
                upcoming = next(pending, None)
            i += 1
        if (alone := four_eyes.next_transaction(i)) is not None:
            return alone
        seal = ordered[i]
        name = seal.on_behalf_of or seal.principal
        principal = directory.get(name)
        if principal is None:
            continue  # the seal check reports who was no principal
        event = mapper.to_domain_event(n)
        if (same := four_eyes.event(n, event, name, seal.kind == ROOT)) is not None:
            return same
        if n.topic == _PROPOSED:
            kinds[event.originator_id] = event.kind
            command = f"propose_{event.kind}"
            needed = roles_needed(command)
        elif n.topic in _DECIDED:
            kind = kinds.get(event.originator_id)
            if kind is None:
                continue
            needed = frozenset({APPROVING_ROLE[kind]})
        else:
            needed = roles_needed(COMMAND_OF_EVENT[n.topic])
        if not needed & held(principal):
            holds = ", ".join(sorted(held(principal))) or "no role"
            return (
                n.id,
                f"{type(event).__qualname__} written by {name!r}, who held {holds} then; it "
                f"needs the role {' or '.join(sorted(needed))}",
            )
    found = four_eyes.finished()
    if found is None:
        four_eyes.listed()
    return found


__all__ = ["COMMAND_OF_EVENT", "check_roles"]
