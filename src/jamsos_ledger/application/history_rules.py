"""The program's rules re-applied to the whole history, event by event in log order.

A replay that compares projections with the programs' books proves that both were derived
from the events, not that the events were allowed: a forged payment, appended with a valid
chain link or sealed with a stolen key, agrees with itself in every derivation. Here every
event that moves money or places is applied, in log order, to the domain's own aggregates, and
before and after each one the domain's own rules are asked whether the command that recorded it
could have recorded it: the budget identity (`Program.available`), the places left
(`Program.places_left`), a month's bill (`Program.bill`), what an enrolment commits
(`Program.commitment_for`), whether a coverage would pay a month twice (`coverage_problem`), a
reference's identity (`reference_key`). Nothing here computes a figure of the program itself.

Only the events that can break those rules are read (the programs' events, and the workers'
enrolments, ends and corrections), selected by topic in the store: a city's registrations and
ranks, most of its log, are skipped by the database. The registrations of the workers enrolled
are read back in batches, to ask `eligibility_problem` whether each was eligible (decile, age)
when enrolled. The state kept is the programs (a few numbers a month), the coverages of the
workers ever enrolled and the decile corrections: bounded by the quotas, not by the log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.errors import RuleViolation
from jamsos_ledger.domain.model import (
    Coverage,
    Program,
    Worker,
    coverage_problem,
    eligibility_problem,
    reference_key,
)
from jamsos_ledger.domain.money import count, counted, rupiah
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.stores.bulk_reads import first_events_of

# The rules re-checked at every position, by the name a breach gives.
RULES = {
    "budget": "committed + paid <= allocation (pagu): what the program promised and paid never "
    "exceeds the money it was given",
    "quota": "enrolled <= quota: the program never holds more workers than its places",
    "paid-twice": "no month paid twice: a payment covers only participants not yet paid for",
    "bill": "each payment equals its month's bill: the participants not yet paid for (or those "
    "the month's reconciled invoice agreed, fewer), at the program's rates",
    "reversal": "a payment reversed is one of the month's payments that stand, for what it paid",
    "commitment": "each enrolment commits what its months cost at the program's rates, "
    "through the program's end",
    "covered-twice": "no worker covered twice in one month, in one program or two",
    "eligibility": "each worker enrolled was eligible then: a DTSEN decile the program's rule "
    "set takes, aged 18 to 65 when coverage starts",
    "counted": "every worker covered is counted in the program's places and premiums, and "
    "every place counted is held by a covered worker",
    "coverage-end": "a coverage ended or released is one the program holds, once, from its "
    "start month",
    "reference": "an SP2D or a decree is used once in the ledger",
    "period": "every month paid, committed or ended lies in the program's period",
    "history": "every event applies to its aggregate: its program is open, its version next",
}

# Breaches kept for the report (all of them are counted); the first one is what matters.
KEPT_BREACHES = 100
# Enrolments whose workers' registrations are read back at once to ask the eligibility rule:
# a few queries a batch, and a batch's registrations in memory, never a city's.
ELIGIBILITY_BATCH = 5_000

# The registration (Worker.Registered) of each of a batch of worker ids.
Registrations = Callable[[Sequence[UUID]], dict[UUID, Any]]

_PROGRAM_TOPICS = [
    get_topic(cls)
    for cls in (
        Program.Opened,
        Program.AllocationAmended,
        Program.QuotaAmended,
        Program.PremiumsCommitted,
        Program.CoverageReleased,
        Program.PremiumPaid,
        Program.InvoiceReconciled,
        Program.InvoicePaid,
        Program.PaymentReversed,
        Program.EnrolmentAnnulled,
    )
]
_WORKER_TOPICS = [
    get_topic(Worker.Enrolled), get_topic(Worker.CoverageEnded), get_topic(Worker.Corrected),
    get_topic(Worker.EnrolmentAnnulled),
]
TOPICS = [*_PROGRAM_TOPICS, *_WORKER_TOPICS]


@dataclass(frozen=True)
class Breach:
    """A rule of the program the history breaks.

    Attributes:
        position: the event's position in the log.
        rule: which rule (a key of RULES).
        program: the program's code (its id when it was never opened).
        event: the event, e.g. `Program.PremiumPaid`.
        figures: what the event says against what the rule allows, in words and figures.
    """

    position: int
    rule: str
    program: str
    event: str
    figures: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "rule": self.rule,
            "program": self.program,
            "event": self.event,
            "figures": self.figures,
        }


@dataclass
class HistoryCheck:
    """What re-applying the rules found.

    Attributes:
        position: the last position of the log checked.
        events: events applied (those of the topics that can break a rule).
        breaches: the first KEPT_BREACHES breaches, in log order.
        total: every breach found.
    """

    position: int = 0
    events: int = 0
    breaches: list[Breach] = field(default_factory=list)
    total: int = 0

    @property
    def ok(self) -> bool:
        return self.total == 0


class HistoryRules:
    """Applies events in log order to the programs and the coverages, checking each rule."""

    def __init__(self, registrations: Registrations | None = None) -> None:
        # Where the eligibility rule reads enrolled workers' registrations (None: not asked).
        self.registrations = registrations
        # Enrolments waiting for that rule: (position, worker, its Enrolled's version, program,
        # start).
        self.waiting: list[tuple[int, UUID, int, UUID, Month]] = []
        # Every decile correction: (version, decile) by worker, in order (a handful a city).
        self.deciles: dict[UUID, list[tuple[int, int]]] = {}
        self.programs: dict[UUID, Program] = {}
        # Every enrolled worker's coverages, as the domain's Worker keeps them.
        self.coverages: dict[UUID, dict[UUID, Coverage]] = {}
        # Workers covered and not ended, per program: what the program must count as enrolled.
        self.covered: dict[UUID, int] = {}
        # Every SP2D and decree used, as people read them.
        self.references: set[tuple[str, str]] = set()
        # A payment of what an invoice agreed, awaiting its `InvoicePaid` (the next event).
        self.paying_as_agreed: tuple[int, Program, Any, str, set[UUID]] | None = None
        self.result = HistoryCheck()

    # -- the log --------------------------------------------------------------------------

    def apply(self, position: int, event: Any) -> None:
        """Check one event against the rules, then apply it."""
        self.result.position = position
        self.result.events += 1
        if isinstance(event, Program.Event):
            self._program_event(position, event)
        elif isinstance(event, Worker.Enrolled):
            self._enrolled(position, event)
        elif isinstance(event, Worker.CoverageEnded):
            self._coverage_ended(position, event)
        elif isinstance(event, Worker.EnrolmentAnnulled):
            self._annulled(position, event)
        elif isinstance(event, Worker.Corrected) and event.field == "decile":
            self.deciles.setdefault(event.originator_id, []).append(
                (event.originator_version, int(event.value))
            )

    def finish(self, *, whole: bool = True) -> HistoryCheck:
        """The last checks: the enrolments still waiting for the eligibility rule, and at the
        end of the whole log (`whole`: every transaction whole) each program counting exactly
        the workers it covers."""
        self._check_eligibility()
        if self.paying_as_agreed is not None and whole:
            self._as_agreed(None)
        self.result.breaches.sort(key=lambda b: b.position)
        if not whole:
            return self.result
        for pid, program in self.programs.items():
            covered = self.covered.get(pid, 0)
            if covered != program.enrolled:
                self._breach(
                    self.result.position, "counted", program, "(end of the log)",
                    f"{counted(covered, 'worker')} covered, but the program counts "
                    f"{count(program.enrolled)} enrolled",
                )
        return self.result

    # -- the program's events --------------------------------------------------------------

    def _program_event(self, position: int, event: Any) -> None:
        pid = event.originator_id
        if self.paying_as_agreed is not None:
            self._as_agreed(event)
        program = self.programs.get(pid)
        if program is None and not isinstance(event, Program.Opened):
            self._breach(position, "history", pid, event, "the program was never opened")
            return
        try:
            problems = self._before(program, event) if program is not None else []
        except RuleViolation as e:  # a month outside the period: the domain's `slot`
            self._breach(position, "period", program or pid, event, str(e))
            return
        for rule, figures in problems:
            self._breach(position, rule, program or pid, event, figures)
        try:
            applied = event.mutate(program)
        except Exception as e:  # any event the aggregate refuses is a breach
            self._breach(position, "history", program or pid, event,
                         f"it does not apply to the program: {type(e).__name__}: {e}")
            return
        assert isinstance(applied, Program)
        self.programs[pid] = program = applied
        self._after(position, program, event)

    def _before(self, program: Program, event: Any) -> list[tuple[str, str]]:
        """What is wrong with the event given the program as it stood before it."""
        if isinstance(event, Program.PremiumPaid):
            return self._payment(program, event)
        if isinstance(event, Program.PremiumsCommitted):
            return self._commitment(program, event)
        if isinstance(event, Program.CoverageReleased):
            return self._release(program, event)
        if isinstance(event, Program.PaymentReversed):
            return self._reversal(program, event)
        return []

    def _payment(self, program: Program, event: Any) -> list[tuple[str, str]]:
        month: Month = event.month
        unpaid, bill = program.bill(month)
        paid = program.premium.times(event.participants)
        books = program.month_books(month)
        said = (
            f"{month}: paid {rupiah(event.jkk + event.jkm)} for "
            f"{counted(event.participants, 'participant')} under SP2D {event.sp2d}"
        )
        stood = (
            f"{count(books.active)} covered, {count(books.paid_participants)} already paid, "
            f"so the bill was {rupiah(bill.total)} ({counted(unpaid, 'participant')} x "
            f"{rupiah(program.premium.total)})"
        )
        problems = self._reference("sp2d", event.sp2d)
        if unpaid <= 0 or event.participants > unpaid:
            problems.append(("paid-twice", f"{said}; {stood}"))
        elif (event.jkk, event.jkm) != (paid.jkk, paid.jkm) or (
            event.participants != unpaid and not self._agreed_by_invoice(program, event, unpaid)
        ):
            problems.append(("bill", f"{said} (JKK {rupiah(event.jkk)}, JKM "
                                     f"{rupiah(event.jkm)}); {stood} (JKK {rupiah(bill.jkk)}, "
                                     f"JKM {rupiah(bill.jkm)})"))
        return problems

    def _agreed_by_invoice(self, program: Program, event: Any, unpaid: int) -> bool:
        """A payment of fewer than the bill's participants stands when it pays what the month's
        reconciled invoice agreed (`Program.pay` with an invoice), as the `InvoicePaid` event
        that must come next in the same program says; that event is awaited."""
        reconciled = program.reconciled.get(event.month)
        if reconciled is None:
            return False
        participants, left_out = program.agreed_payment(event.month)
        if event.participants != participants:
            return False
        self.paying_as_agreed = (self.result.position, program, event, reconciled[0], left_out)
        return True

    def _as_agreed(self, following: Any) -> None:
        """The event after a payment made as an invoice agreed: its `InvoicePaid`, naming the
        month, the SP2D and the invoice reconciled; anything else breaks the bill rule."""
        assert self.paying_as_agreed is not None
        position, program, payment, invoice, left_out = self.paying_as_agreed
        self.paying_as_agreed = None
        if (
            isinstance(following, Program.InvoicePaid)
            and following.originator_id == program.id
            and (following.month, following.sp2d, following.invoice)
            == (payment.month, payment.sp2d, invoice)
        ):
            if set(following.left_out or ()) != left_out:
                self._breach(position, "bill", program, payment, (
                    f"{payment.month}: paid under SP2D {payment.sp2d} as the invoice agreed, "
                    f"leaving {counted(len(following.left_out or ()), 'covered worker')} "
                    f"unpaid; the invoice left {counted(len(left_out), 'covered worker')} "
                    "out"
                ))
            return
        self._breach(position, "bill", program, payment, (
            f"{payment.month}: paid {counted(payment.participants, 'participant')} under SP2D "
            f"{payment.sp2d}, fewer than the bill, as an invoice would have agreed, but no "
            "payment of the reconciled invoice follows it"
        ))

    def _reversal(self, program: Program, event: Any) -> list[tuple[str, str]]:
        month: Month = event.month
        program.slot(month)
        standing = {reference_key(ref) for ref in program.live_payments(month)}
        paid = program.premium.times(event.participants)
        if reference_key(event.sp2d) not in standing:
            stand = ", ".join(sorted(standing)) or "none"
            return [("reversal", f"{month}: reversed SP2D {event.sp2d}, which is not one of the "
                                 f"month's payments that stand ({stand})")]
        if event.participants > program.month_books(month).paid_participants or (
            event.jkk, event.jkm) != (paid.jkk, paid.jkm):
            return [("reversal", f"{month}: reversed SP2D {event.sp2d} for "
                                 f"{counted(event.participants, 'participant')} "
                                 f"({rupiah(event.jkk + event.jkm)}), more than was paid or not "
                                 "at the program's rates")]
        return []

    def _commitment(self, program: Program, event: Any) -> list[tuple[str, str]]:
        start: Month = event.start
        problems = [] if event.decree is None else self._reference("decree", event.decree)
        if event.workers < 1 or event.end != program.end:
            problems.append(("commitment", (
                f"{counted(event.workers, 'worker')} from {start} to {event.end}; the "
                f"program's period ends {program.end}"
            )))
            return problems
        cost = program.commitment_for(event.workers, start)
        if (event.jkk, event.jkm) != (cost.jkk, cost.jkm):
            problems.append(("commitment", (
                f"{counted(event.workers, 'worker')} from {start} to {event.end} committed "
                f"{rupiah(event.jkk + event.jkm)} (JKK {rupiah(event.jkk)}, JKM "
                f"{rupiah(event.jkm)}); at the program's rates they cost "
                f"{rupiah(cost.total)} (JKK {rupiah(cost.jkk)}, JKM {rupiah(cost.jkm)})"
            )))
        return problems

    def _release(self, program: Program, event: Any) -> list[tuple[str, str]]:
        program.slot(event.last_month)
        coverage = self.coverages.get(event.worker_id, {}).get(program.id)
        if coverage is None or coverage.ended is not None or event.last_month < coverage.start:
            held = (
                "does not hold that worker" if coverage is None
                else f"ended that worker's coverage in {coverage.ended}"
                if coverage.ended is not None
                else f"covers that worker from {coverage.start}"
            )
            return [("coverage-end", f"released a worker's coverage after "
                                     f"{event.last_month}; the program {held}")]
        return []

    def _after(self, position: int, program: Program, event: Any) -> None:
        """The program's invariants, by the domain's own figures, once the event applied."""
        if program.available < 0:
            self._breach(position, "budget", program, event, (
                f"committed {rupiah(program.committed.total)} + paid "
                f"{rupiah(program.paid_total.total)} exceeds the allocation "
                f"{rupiah(program.allocation)} by {rupiah(-program.available)}"
            ))
        if program.places_left < 0:
            self._breach(position, "quota", program, event, (
                f"{counted(program.enrolled, 'worker')} enrolled, the quota is "
                f"{count(program.quota)}: {count(-program.places_left)} over"
            ))

    # -- the workers' events ---------------------------------------------------------------

    def _enrolled(self, position: int, event: Any) -> None:
        pid: UUID = event.program_id
        program = self.programs.get(pid)
        if program is None:
            self._breach(position, "history", pid, event, "enrolled in a program never opened")
            return
        coverages = self.coverages.setdefault(event.originator_id, {})
        problem = coverage_problem(
            coverages, program.id, program.code, event.start, event.end, "the worker"
        )
        if problem:
            self._breach(position, "covered-twice", program, event, problem)
        elif self.registrations is not None:
            self.waiting.append(
                (position, event.originator_id, event.originator_version, pid, event.start)
            )
            if len(self.waiting) >= ELIGIBILITY_BATCH:
                self._check_eligibility()
        # Applied as the Worker aggregate applies it, breach or not: the worker is covered.
        coverages[pid] = Coverage(event.start, event.end, decree=event.decree)
        self.covered[pid] = covered = self.covered.get(pid, 0) + 1
        if covered > program.enrolled:
            self._breach(position, "counted", program, event, (
                f"{counted(covered, 'worker')} covered, but the program counts "
                f"{count(program.enrolled)} enrolled (quota {count(program.quota)})"
            ))

    def _annulled(self, position: int, event: Any) -> None:
        pid: UUID = event.program_id
        coverage = self.coverages.get(event.originator_id, {}).get(pid)
        if coverage is None or coverage.ended is not None:
            held = "was never enrolled" if coverage is None else f"ended in {coverage.ended}"
            self._breach(position, "coverage-end", self.programs.get(pid) or pid, event,
                         f"annulled the enrolment of a worker who {held}")
            return
        del self.coverages[event.originator_id][pid]
        self.covered[pid] = self.covered.get(pid, 0) - 1

    def _coverage_ended(self, position: int, event: Any) -> None:
        pid: UUID = event.program_id
        coverage = self.coverages.get(event.originator_id, {}).get(pid)
        if coverage is None or coverage.ended is not None:
            held = "was never enrolled" if coverage is None else f"ended in {coverage.ended}"
            self._breach(position, "coverage-end", self.programs.get(pid) or pid, event,
                         f"ended the coverage of a worker who {held}")
            return
        self.coverages[event.originator_id][pid] = Coverage(
            coverage.start, coverage.end, ended=event.month, decree=coverage.decree
        )
        self.covered[pid] = self.covered.get(pid, 0) - 1

    def _check_eligibility(self) -> None:
        """Each waiting enrolment's worker, with the decile it had just before (its
        registration's, or the last correction before the enrolment) and its birth date, asked
        the domain's `eligibility_problem` under the program's rule set."""
        if not self.waiting or self.registrations is None:
            return
        waiting, self.waiting = self.waiting, []
        registered = self.registrations(list(dict.fromkeys(w for _, w, _, _, _ in waiting)))
        for position, wid, version, pid, start in waiting:
            program = self.programs[pid]
            registration = registered.get(wid)
            if not isinstance(registration, Worker.Registered):
                self._breach(position, "history", program, "Worker.Enrolled",
                             "the worker was never registered")
                continue
            decile = registration.decile
            for corrected, value in self.deciles.get(wid, ()):
                if corrected < version:
                    decile = value
            problem = eligibility_problem(
                mask_nik(registration.nik), decile, registration.birth_date, program.ruleset,
                start,
            )
            if problem:
                self._breach(position, "eligibility", program, "Worker.Enrolled", problem)

    # -- helpers ---------------------------------------------------------------------------

    def _reference(self, kind: str, value: str) -> list[tuple[str, str]]:
        key = (kind, reference_key(value))
        if key in self.references:
            name = "SP2D" if kind == "sp2d" else "decree"
            return [("reference", f"{name} {value!r} was used before")]
        self.references.add(key)
        return []

    def _breach(
        self, position: int, rule: str, program: Program | UUID, event: Any, figures: str
    ) -> None:
        self.result.total += 1
        kept = self.result.breaches
        if len(kept) >= KEPT_BREACHES and position >= max(b.position for b in kept):
            return
        code = program.code if isinstance(program, Program) else str(program)
        name = event if isinstance(event, str) else type(event).__qualname__
        kept.append(Breach(position, rule, code, name, figures))
        if len(kept) > KEPT_BREACHES:  # an eligibility breach, found after later ones
            kept.sort(key=lambda b: b.position)
            del kept[KEPT_BREACHES:]


def check_history(
    ledger: Ledger, *, stop: int | None = None, until: datetime | None = None
) -> HistoryCheck:
    """Every rule re-applied to the log up to position `stop` (the head when None), to the
    events recorded up to `until` when given, in log order."""
    def registrations(ids: Sequence[UUID]) -> dict[UUID, Any]:
        to_domain = ledger.mapper.to_domain_event
        return {oid: to_domain(s) for oid, s in first_events_of(ledger.recorder, ids).items()}

    rules = HistoryRules(registrations)
    if stop is None:
        stop = int(ledger.recorder.max_notification_id() or 0)
    to_event = ledger.mapper.to_domain_event
    last = 0
    for notification in ledger.read_log(topics=TOPICS, stop=stop):
        event: Any = to_event(notification)
        if until is not None and event.timestamp > until:
            continue
        rules.apply(notification.id, event)
        last = notification.id
    rules.result.position = stop if until is None else last
    # Cut at a moment, a transaction may be cut in two: its program counts what its workers
    # do not yet; the counts are compared at the end of the whole log only.
    return rules.finish(whole=until is None)


__all__ = ["KEPT_BREACHES", "RULES", "TOPICS", "Breach", "HistoryCheck", "HistoryRules",
           "check_history"]
