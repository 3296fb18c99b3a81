"""The audit trail: who did what, when and why, event by event, oldest first.

Read from the log in pages; personal data (NIK, name, birth date) masked unless unmasked for a
reason (UU 27/2022).
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.audit_notes import WORKER, AuditNote
from jamsos_ledger.domain.errors import NotFound
from jamsos_ledger.domain.model import Program, Reference, Worker, worker_id
from jamsos_ledger.domain.months import JAKARTA, Month
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.principals import PrincipalRegistry
from jamsos_ledger.domain.texts import initials

# Fields every event carries for the library's bookkeeping: never "what changed".
_BOOKKEEPING = ("originator_id", "originator_version", "originator_topic", "timestamp", "actor")
# The field that says why or under which document, in the order looked for.
_REFERENCE_FIELDS = ("decree", "sp2d", "reference", "reason", "value")
# Worker labels kept while streaming the trail; past this the memo starts again.
_LABELS = 10_000


@dataclass(frozen=True)
class TrailEntry:
    """One event of the trail.

    Attributes:
        time: when it was recorded, in Asia/Jakarta time.
        position: its position in the log.
        actor: who acted, as the event records it.
        event: the event, e.g. `Worker.Enrolled`.
        aggregate: what it happened to: `Program 2026`, `Worker 327501********01`...
        changes: the event's own fields (bookkeeping left out), as plain values.
        reference: the decree, SP2D, claim reference or reason, where the event has one.
        sealed_by: the principal whose key sealed the event's transaction (the one the
            service acted for, if any); None when no seal covers it (`audit verify` says
            whether the seal holds).
    """

    time: datetime
    position: int
    actor: str
    event: str
    aggregate: str
    changes: dict[str, Any] = field(default_factory=dict)
    reference: str | None = None
    sealed_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "position": self.position,
            "actor": self.actor,
            "event": self.event,
            "aggregate": self.aggregate,
            "changes": self.changes,
            "reference": self.reference,
            "sealed_by": self.sealed_by,
        }


def event_classes(aggregate: type[Aggregate]) -> list[type[Aggregate.Event]]:
    """The event classes an aggregate class declares."""
    return [
        v for v in vars(aggregate).values()
        if isinstance(v, type) and issubclass(v, Aggregate.Event)
    ]


class _Labels:
    """Names for the aggregates the trail meets: program codes and NIKs, looked up on demand."""

    def __init__(self, ledger: Ledger, unmask: bool) -> None:
        self.ledger = ledger
        self.unmask = unmask
        self.programs: dict[UUID, str] = {}
        self.workers: dict[UUID, str] = {}

    def nik(self, nik: str) -> str:
        return nik if self.unmask else mask_nik(nik)

    def remember_worker(self, wid: UUID, nik: str) -> None:
        if len(self.workers) >= _LABELS:
            self.workers.clear()  # bounded memory: labels are looked up again when needed
        self.workers[wid] = self.nik(nik)

    def program(self, pid: UUID) -> str:
        if pid not in self.programs:
            first = self._first(pid)
            self.programs[pid] = getattr(first, "code", str(pid))
        return self.programs[pid]

    def worker(self, wid: UUID) -> str:
        if wid not in self.workers:
            first = self._first(wid)
            if first is None:
                return str(wid)
            self.remember_worker(wid, first.nik)
        return self.workers[wid]

    def aggregate(self, event: Any) -> str:
        oid = event.originator_id
        if isinstance(event, Program.Event):
            return f"Program {self.program(oid)}"
        if isinstance(event, Worker.Event):
            return f"Worker {self.worker(oid)}"
        if isinstance(event, Reference.Event):
            kind = getattr(event, "kind", None) or getattr(self._first(oid), "kind", "")
            return f"Reference {kind}".strip()
        if isinstance(event, PrincipalRegistry.Event):
            return "Principals"
        if isinstance(event, AuditNote.Event):
            return "Auditor's note"
        return str(oid)

    def _first(self, oid: UUID) -> Any:
        stored = self.ledger.recorder.select_events(oid, limit=1)
        return self.ledger.mapper.to_domain_event(stored[0]) if stored else None


def audit_trail(
    ledger: Ledger, nik: str | None = None, *, unmask: bool = False
) -> Iterator[TrailEntry]:
    """The chronological trail of every event (with a NIK: that worker's, and the program
    events that name the worker); personal data masked unless `unmask`."""
    labels = _Labels(ledger, unmask)
    sealers = _Sealers(ledger.recorder)
    wid: UUID | None = None
    topics: list[str] = []
    # The program's events that name a worker (`worker_id`) belong to that worker's trail.
    naming = {get_topic(Program.CoverageReleased), get_topic(Program.EnrolmentAnnulled)}
    if nik is not None:
        nik = nik.strip()
        wid = worker_id(nik)
        if not ledger.recorder.select_events(wid, limit=1):
            raise NotFound(f"no worker with NIK {mask_nik(nik)} is registered")
        topics = [get_topic(c) for c in event_classes(Worker)] + sorted(naming)
    for n in ledger.read_log(topics=topics):
        if wid is not None and n.topic not in naming and n.originator_id != wid:
            continue
        event: Any = ledger.mapper.to_domain_event(n)
        if wid is not None and n.topic in naming and event.worker_id != wid:
            continue
        entry = _entry(n.id, event, labels)
        yield dataclasses.replace(entry, sealed_by=sealers.at(n.id))


class _Sealers:
    """Who sealed each position: the seals' principals, read once (one a transaction)."""

    def __init__(self, recorder: Any) -> None:
        select = getattr(recorder, "select_seals", None)
        seals = [] if select is None else list(_all_seals(select))
        self.ends = [s.position for s in seals]
        # A root seal past position 0 adopted a history written before sealing: its events
        # were not sealed by their writer.
        self.names = [
            f"adopted by {s.principal}" if s.kind == "root" else s.on_behalf_of or s.principal
            for s in seals
        ]

    def at(self, position: int) -> str | None:
        i = bisect.bisect_left(self.ends, position)
        return self.names[i] if i < len(self.ends) else None


def _all_seals(select: Any) -> Iterator[Any]:
    after = -1
    while True:
        page = select(after, 2**62, 1_000)
        yield from page
        if len(page) < 1_000:
            return
        after = page[-1].position


def _entry(position: int, event: Any, labels: _Labels) -> TrailEntry:
    values = {k: v for k, v in vars(event).items() if k not in _BOOKKEEPING}
    if isinstance(event, Worker.Registered):
        labels.remember_worker(event.originator_id, event.nik)
    if isinstance(event, Program.Opened):
        labels.programs[event.originator_id] = event.code
    reference = None
    for name in _REFERENCE_FIELDS:
        if name in values:
            found = values.pop(name)
            reference = None if found is None else str(found)
            break
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name == "program_id":
            changes["program"] = None if value is None else labels.program(value)
        elif name == "worker_id":
            changes["worker"] = labels.worker(value)
        elif name in ("left_out", "agreed_workers"):  # workers an invoice left out or agreed
            changes[name] = None if value is None else [labels.worker(w) for w in value]
        elif name == "about" and isinstance(event, AuditNote.Written) \
                and event.about_kind == WORKER:
            changes["about"] = labels.worker(UUID(value))
        else:
            changes[name] = _shown(value)
    if not labels.unmask:
        _mask_personal(event, changes)
    return TrailEntry(
        time=event.timestamp.astimezone(JAKARTA),
        position=position,
        actor=event.actor,
        event=type(event).__qualname__,
        aggregate=labels.aggregate(event),
        changes=changes,
        reference=reference,
    )


def _mask_personal(event: Any, changes: dict[str, Any]) -> None:
    """UU 27/2022: the NIK masked, a name reduced to initials, a birth date to its year."""
    if "nik" in changes:
        changes["nik"] = mask_nik(str(changes["nik"]))
    if isinstance(event, Worker.Registered):
        changes["name"] = initials(str(changes["name"]))
        changes["birth_date"] = str(changes["birth_date"])[:4]
    if isinstance(event, Worker.Corrected) and event.field == "name":
        changes["previous"] = initials(str(changes["previous"]))
        changes["value"] = initials(str(changes["value"]))
    terms = changes.get("terms")
    if isinstance(terms, dict) and terms.get("niks"):  # a proposal to enrol workers by NIK
        changes["terms"] = {**terms, "niks": [mask_nik(str(n)) for n in terms["niks"]]}
    if isinstance(terms, dict) and terms.get("nik"):  # a proposal to annul one's enrolment
        changes["terms"] = {**terms, "nik": mask_nik(str(terms["nik"]))}


def _shown(value: Any) -> Any:
    """A value of an event as plain JSON: months, dates and ids as text."""
    if isinstance(value, Month | UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
