"""The ledger's application service: one verb a command, each one atomic.

Commands load the aggregates they touch, let the domain decide, and save every new event of
the command in one transaction, so a refusal writes nothing and a crash leaves all or none.
When another process changed the program in between (the store refuses the stale version),
the command is tried again against the new state a bounded number of times.

The service asks the read side a few questions (`LedgerQueries`) and never builds it: the
composition root (`jamsos_ledger.application.composition`) hands it the views of its store.
"""

from __future__ import annotations

import getpass
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce, wraps
from itertools import chain, islice
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    Notification,
    PersistenceError,
    RecordConflictError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import Environment, EnvType, get_topic

from jamsos_ledger.application.signing import KeySource, PrincipalAdmin, Signing
from jamsos_ledger.domain.errors import (
    InvalidInput,
    LedgerError,
    NotFound,
    RuleViolation,
    StoreUnavailable,
)
from jamsos_ledger.domain.model import (
    REGISTRATION_FIELDS,
    Program,
    Reference,
    Registration,
    Worker,
    duplicate_reference,
    legacy_reference_ids,
    normal_reference,
    program_id,
    reference_id,
    worker_id,
    worker_id_bytes,
    workers_to_enrol_problem,
)
from jamsos_ledger.domain.money import count, counted
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.principals import Principal, PrincipalRegistry
from jamsos_ledger.domain.reconciliation import InvoiceLine, Reconciliation, reconcile
from jamsos_ledger.domain.roles import READING, open_to_all, require
from jamsos_ledger.domain.rules import (
    DECILES,
    DEFAULT_JKK_MONTHLY,
    DEFAULT_JKM_MONTHLY,
    DEFAULT_RULESET,
    Premium,
    ruleset,
)
from jamsos_ledger.stores.bulk_reads import select_events_of
from jamsos_ledger.stores.bulk_writes import BulkWriter, bulk_writer
from jamsos_ledger.stores.cipher import cipher_key, cipher_marks
from jamsos_ledger.stores.marks import ledger_marks, mark_as_ledger
from jamsos_ledger.stores.transcoding import MsgpackTranscoder
from jamsos_ledger.stores.urls import StoreURL

T = TypeVar("T")
P = ParamSpec("P")
S = TypeVar("S", bound="LedgerService")
# Encodes registrations prepared outside an application exactly as the ledger's mapper
# (`construct_transcoder`) would.
_TRANSCODER = MsgpackTranscoder()
A = TypeVar("A", bound=Aggregate)

# How often a command is tried again when a concurrent command changed what it read.
CONFLICT_ATTEMPTS = 10
# Between attempts a command sleeps a random while, growing with each attempt and never more
# than this many seconds: racers that collided once spread out instead of colliding again.
CONFLICT_BACKOFF = 0.05
CONFLICT_BACKOFF_MAX = 1.0
# What processes opening one ledger together may meet while the library sets up its tables.
_OPENING_COLLISIONS = (
    "database is locked",
    "tuple concurrently updated",
    "deadlock detected",
    "duplicate key value violates unique constraint",
)
# Workers written at once by the bulk commands: large enough that round trips (and for
# `prioritize`, which commits each batch, commits waiting for the disk) are few, small enough
# to keep each write short, since PostgreSQL serialises writers on the events table
# (chunks of 10-20k measured best). An import writes its batches in one transaction, each in
# a savepoint (`bulk_writes`).
BULK_BATCH = 10_000
# Pages of the event log read at once; the library's default of 10 is far too small.
PAGE = 1_000


def default_actor() -> str:
    """Who acts when nobody says: the operating-system user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def command(
    name: str,
) -> Callable[[Callable[Concatenate[S, P], T]], Callable[Concatenate[S, P], T]]:
    """Mark a service method as the command `name` of the role table (`roles`): the acting
    principal's roles are checked once, before the command reads anything or any rule of the
    program is applied. A command run inside another (an approval carrying out a proposal) is
    not checked again: the outer command was."""

    def decorate(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
        @wraps(method)
        def checked(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
            if self.checked_command is not None:
                return method(self, *args, **kwargs)
            self.check_role(name)
            self.checked_command = name
            try:
                return method(self, *args, **kwargs)
            finally:
                self.checked_command = None

        return checked

    return decorate


class FourEyes(RuleViolation):
    """A program with four eyes on takes decrees, payments, amendments, reversals and
    annulments only by proposal."""


class RepeatedWorker(Exception):
    """A worker came twice in rows that were to name each worker once."""


@dataclass(frozen=True)
class RegisterResult:
    """What an import did.

    Attributes:
        registered: workers newly registered.
        already: rows whose NIK was already registered (nobody is registered twice).
        differing: of those, the ones whose row differs from what the ledger holds: the
            masked NIK and the fields that differ (`Registration.differences`).
    """

    registered: int
    already: int
    differing: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class EnrolResult:
    """What an enrolment did.

    Attributes:
        workers: how many were enrolled.
        start, end: the coverage months.
        committed: rupiah committed by this enrolment.
        nik_masked: the enrolled workers' masked NIKs, in rank or given order.
    """

    workers: int
    start: Month
    end: Month
    committed: int
    nik_masked: list[str]


class RankingRow(Protocol):
    """What ranking needs of one worker, as the read side holds it."""

    @property
    def worker_id(self) -> UUID: ...
    @property
    def decile(self) -> int: ...
    @property
    def registered_position(self) -> int: ...
    @property
    def ruleset(self) -> str | None: ...
    @property
    def rank(self) -> int | None: ...


class LedgerQueries(Protocol):
    """What the service asks of the read side; the composition root injects its views."""

    def programs_applied(self) -> tuple[list[str], int]:
        """The program codes opened up to the position applied, and that position."""

    def ranking_inputs(self, deciles: Iterable[int] | None = None) -> Iterator[RankingRow]:
        """What ranking needs of every worker of those deciles."""

    def catch_up(self) -> int:
        """Bring the read side up to the end of the log."""

    def candidates(
        self, program_id: UUID, ruleset: str, limit: int, start: str, end: str
    ) -> list[UUID]:
        """The best-ranked workers waiting for the program, free for those months."""

    def covered_in(self, program_id: UUID, month: str) -> list[UUID]:
        """The workers the program covers in the month (YYYY-MM)."""

    def close(self) -> None:
        """Release what the read side holds."""


class LedgerService(Application):
    """The ledger of one store: programs, workers, and what happens to them.

    `views` builds the read side of the opened store (the composition root's choice); it is
    called once the store is open and checked, inside the retried opening.
    """

    name = "jamsos"  # fixed: the library derives table names and settings from it
    views: LedgerQueries

    def __init__(
        self,
        store: str | StoreURL = "memory://",
        actor: str | None = None,
        *,
        views: Callable[[LedgerService], LedgerQueries],
        create: bool = True,
        key: KeySource | None = None,
    ) -> None:
        """Open the ledger of a store; with `create` False (every command but `program open`)
        a store holding no ledger is refused (StoreUnavailable) and nothing is created.

        Every write is sealed with the key `key` names (`signing`): `actor` is the name of the
        principal holding it; the `actor` given here is only a note beside each seal.

        A store that is read-only (its URL says so, or its file cannot be written) is opened
        without writing anything: `views` is then asked for views that write nothing either.

        Every command is checked against the role table (`roles`) with the roles of the
        principal whose key seals it (`acting_principal`).
        """
        self._views_of = views
        parsed = store if isinstance(store, StoreURL) else StoreURL.parse(store)
        self.store = parsed.opened(create=create)
        self.created = False  # set when this opening made the ledger
        # What this ledger object has committed: whether anything (`written`), and, for a
        # command that commits in batches, what of its work is kept should it stop half-way
        # (`kept`, words for its messages): an interrupt or a store stopped mid-command is
        # then reported truthfully.
        self.written = False
        self.kept = ""
        self.head_when_opened = 0
        self.note = actor
        self.signing = Signing(self, key, default_actor())
        self.principals = PrincipalAdmin(self)
        cipher = cipher_key()  # refuses a malformed JAMSOS_CIPHER_KEY before touching the store
        # The command whose roles were checked, while it runs (`command`).
        self.checked_command: str | None = None
        # While a proposal is approved: the proposal, whose decision is saved in the same
        # transaction as the command it carries out (`save`).
        self.riding: Aggregate | None = None
        # While a proposal is proposed: its command is run to check it and to work out its
        # figures, and nothing it would write is written (`save`).
        self.dry_run = False
        for tried in range(CONFLICT_ATTEMPTS):
            try:
                self._open(cipher)
                return
            except PersistenceError as e:
                # The library (re)creates its tables and, on PostgreSQL, its insert function
                # at every start, and so do the projections: processes starting together can
                # collide there. Try again.
                transient = _is_transient(e)
                if transient and tried + 1 < CONFLICT_ATTEMPTS:
                    _back_off(tried)
                    continue
                busy = " (other commands are opening or writing it): try again" if transient else ""
                raise StoreUnavailable(
                    f"cannot open the ledger at {self.store.text}: {e}{busy}"
                ) from e

    def _open(self, key: str | None) -> None:
        """Open the store, check the ledger's marks, set up the projections; all or nothing."""
        super().__init__(env=self.store.environment())
        try:
            # Refuse, before any event is read, a ledger the key (or its absence) cannot read.
            self.head_when_opened = int(self.recorder.max_notification_id() or 0)
            has_events = bool(self.head_when_opened)
            present = ledger_marks(self.recorder)
            marks = cipher_marks(present, key, has_events)
            if self.store.read_only:
                self.views = self._views_of(self)  # the composition root builds none to write
                return
            self.created = "format" not in present and self.store.kind != "memory"
            mark_as_ledger(self.recorder, marks)
            self.signing.install()
            self.views = self._views_of(self)
        except BaseException:
            super().close()
            raise

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the store's own settings: the library would otherwise also read the process
        environment, where a stray `JAMSOS_APPLICATION_RECORDER_TOPIC` or `CIPHER_KEY` could
        silently switch off the hash chain or encryption."""
        return Environment(name, dict(env or {}))

    def construct_transcoder(self) -> Transcoder:
        return MsgpackTranscoder()

    def changed_since_opened(self) -> bool:
        """Whether the log holds events it did not hold when this ledger was opened (by this
        command or another): what an interrupted command can say for sure. A commit may have
        completed just before an interrupt, before the command could note it; a store that
        does not answer now counts as changed (it may have been)."""
        if self.written:
            return True
        try:
            return int(self.recorder.max_notification_id() or 0) > self.head_when_opened
        except Exception:
            return True

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Save as the library does; while a proposal is approved, its decision with the
        command's events (one transaction, so racing approvers conflict on the proposal), and
        while one is proposed, nothing (its command was only checked)."""
        if self.dry_run:
            for obj in objs:
                if isinstance(obj, Aggregate):
                    obj.collect_events()
            return []
        if self.riding is not None:
            objs = (*objs, self.riding)
        return super().save(*objs, **kwargs)

    def acting_principal(self, reading: bool = False) -> Principal:
        """The principal this command acts as, with its roles now: the holder of the key that
        seals it, or the principal a `service` principal acts for (NotAuthorised when the key
        is missing, no principal's, or revoked; worded for a read when `reading`)."""
        self.signing.ready(reading=reading)
        principal = self.signing.principal
        assert principal is not None
        on_behalf_of = self.signing.source.on_behalf_of
        if on_behalf_of is not None:
            return self.signing.directory().active(on_behalf_of)
        return principal

    def check_role(self, name: str) -> None:
        """Refuse (RoleRefused) the acting principal a command of the role table it holds no
        role for. Each `@command` method asks it first; a front door that reads an input file
        for a command asks it before reading the file, so that a principal without the role
        learns that (exit 7, HTTP 403), not what is wrong with a file it may not give.

        Reading needs no key: the store's own access guards it. A store opened read-only
        refuses every write itself (and says so) before a key is asked for."""
        if not open_to_all(name) and not self.store.read_only:
            require(self.acting_principal(reading=name in READING), name)

    @property
    def actor(self) -> str:
        """Who writes: the principal whose key seals this command's writes (NotAuthorised
        when the key is missing, no principal's, or revoked)."""
        return self.signing.actor

    def _record(self, processing_event: Any) -> Any:
        self.signing.ready()  # before the transaction: a refusal writes nothing
        # The roles again, as the registry stands now: one withdrawn since the command began
        # refuses its write rather than leave an event `audit verify` would report.
        self.signing.still_allowed(
            self.checked_command,
            any(isinstance(e, PrincipalRegistry.Event) for e in processing_event.events),
        )
        recordings = super()._record(processing_event)
        self.written = True
        return recordings

    def close(self) -> None:
        views = getattr(self, "views", None)
        if views is not None:
            views.close()
        super().close()

    # -- reading -------------------------------------------------------------------------

    def program(self, code: str | None = None) -> Program:
        """The program of that id; without one, the only program in the ledger."""
        if code is None:
            codes = self.program_codes()
            if not codes:
                raise NotFound("the ledger has no program yet: open one with `program open`")
            if len(codes) > 1:
                raise InvalidInput(
                    f"the ledger holds {len(codes)} programs ({', '.join(codes)}): "
                    "choose one with --program"
                )
            code = codes[0]
        try:
            program: Program = self.repository.get(program_id(code))
        except AggregateNotFoundError:
            known = ", ".join(self.program_codes()) or "none"
            raise NotFound(f"no program {code!r} in this ledger (programs: {known})") from None
        assert isinstance(program, Program)
        return program

    def program_codes(self) -> list[str]:
        """Every program's id, in the order they were opened.

        The budget projection holds those opened up to the position it has applied; only the
        log after it is searched for more. Searching the whole log for its few Program.Opened
        events read a city's hundreds of thousands of events (the log has no index on topics)
        for every command that names no program.
        """
        codes, applied = self.views.programs_applied()
        # Bounded by the head, read first: PostgreSQL plans `notification_id > applied` alone,
        # on a table not analyzed yet, as a scan of the whole log, even when nothing is after it.
        head = int(self.recorder.max_notification_id() or 0)
        if applied >= head:
            return codes
        for n in self.read_log(start=applied, topics=[get_topic(Program.Opened)], stop=head):
            # Through the mapper: the state may be encrypted (JAMSOS_CIPHER_KEY).
            opened = self.mapper.to_domain_event(n)
            assert isinstance(opened, Program.Opened)
            codes.append(opened.code)
        return codes

    def worker(self, nik: str) -> Worker:
        """The worker registered with this NIK."""
        try:
            worker: Worker = self.repository.get(worker_id(nik))
        except AggregateNotFoundError:
            raise NotFound(f"no worker with NIK {mask_nik(nik)} is registered") from None
        assert isinstance(worker, Worker)
        return worker

    def aggregates(self, ids: Sequence[UUID]) -> dict[UUID, Any]:
        """Many aggregates at once, read in a few queries; missing ones are left out."""
        stored = select_events_of(self.recorder, ids)
        found = {}
        for oid, events in stored.items():
            domain_events: list[Any] = [self.mapper.to_domain_event(s) for s in events]
            found[oid] = reduce(lambda agg, e: e.mutate(agg), domain_events, None)
        return found

    def read_log(
        self, start: int = 0, topics: Sequence[str] = (), stop: int | None = None
    ) -> Iterator[Notification]:
        """The event log after position `start`, in pages."""
        position = start
        while True:
            page = self.recorder.select_notifications(
                start=position, limit=PAGE, stop=stop, topics=topics, inclusive_of_start=False
            )
            yield from page
            if len(page) < PAGE:
                return
            position = page[-1].id

    # -- programs ------------------------------------------------------------------------

    @command("open_program")
    def open_program(
        self,
        *,
        year: int,
        allocation: int,
        quota: int,
        start: Month | None = None,
        end: Month | None = None,
        jkk_monthly: int = DEFAULT_JKK_MONTHLY,
        jkm_monthly: int = DEFAULT_JKM_MONTHLY,
        name: str | None = None,
        code: str | None = None,
        ruleset_name: str = DEFAULT_RULESET,
        four_eyes: bool = True,
        one_key_reason: str = "",
    ) -> Program:
        """Open a program for a fiscal year (by default January to December). By default
        (`four_eyes`) its decrees, payments, amendments, reversals and annulments need a second
        principal; `four_eyes=False` lets the approving role act alone, a small office's
        recorded choice (why, `one_key_reason`, kept in the terms when given)."""
        code = code or str(year)
        taken = (
            f"program {code!r} is already open in this ledger; give another program of the "
            "same year its own id (--code)"
        )
        if program_id(code) in self.repository:
            raise RuleViolation(taken)
        program = Program.open(
            code=code,
            name=name or f"Program {year}",
            year=year,
            start=start or Month(year, 1),
            end=end or Month(year, 12),
            allocation=allocation,
            quota=quota,
            jkk_monthly=jkk_monthly,
            jkm_monthly=jkm_monthly,
            ruleset_name=ruleset_name,
            actor=self.actor,
            four_eyes=four_eyes,
            one_key_reason=one_key_reason,
        )
        self._save_or_refuse([program], taken)
        return program

    @command("amend_program")
    def amend_program(
        self,
        code: str | None = None,
        *,
        allocation: int | None = None,
        quota: int | None = None,
        reason: str,
    ) -> Program:
        """Change the allocation or the quota by amendment, with its reason."""

        def attempt() -> Program:
            program = self.program(code)
            self._four_eyes(program, "an amendment", "`program amend` proposes it")
            program.amend(allocation=allocation, quota=quota, reason=reason, actor=self.actor)
            self.save(program)
            return program

        return self._retrying(attempt)

    # -- workers -------------------------------------------------------------------------

    @command("register")
    def register(
        self,
        registrations: Iterable[Registration],
        progress: Callable[[int], None] | None = None,
    ) -> RegisterResult:
        """Register every worker not registered yet, in one transaction; repeat rows are
        counted. The events of one call share its moment (see `register_prepared`)."""
        timestamp = Worker.Registered.create_timestamp()
        actor = self.actor
        rows = (
            row
            for r in registrations
            for row in prepare_registrations([r], actor=actor, timestamp=timestamp)
        )
        return self.register_prepared(rows, progress)

    @command("register")
    def register_prepared(
        self,
        rows: Iterable[PreparedRegistration],
        progress: Callable[[int], None] | None = None,
        *,
        once: bool = False,
    ) -> RegisterResult:
        """Register workers from rows `prepare_registrations` made (e.g. in other processes);
        repeat rows and workers registered before are counted, never registered twice.

        All of it is one transaction (`bulk_writes`), written in batches as the rows come: an
        import stopped at any moment, or whose rows stop with an error, leaves nothing, and
        running it again registers every worker it holds. The transaction begins with the
        first batch, so rows still being read cost the store nothing.

        With `once` the rows name each worker once (a file read in parts, checked part by
        part: a NIK in two parts is seen by the store's unique index only, without holding
        every id read so far): a worker met twice raises RepeatedWorker, and nothing is kept.
        """
        registered = already = 0
        batches = _batched(rows, BULK_BATCH)
        first = next(batches, None)
        if first is None:
            return RegisterResult(registered=0, already=0)
        known: dict[bytes, bytes] = {}  # rows of workers registered before: compared after
        self.signing.ready()
        with bulk_writer(self.recorder) as writer:
            for batch in chain([first], batches):
                new = self._register_batch(batch, writer, once, known)
                registered += new
                already += len(batch) - new
                if progress:
                    progress(len(batch))
        self.written = self.written or registered > 0
        return RegisterResult(
            registered=registered, already=already, differing=self._differing(known)
        )

    def _differing(
        self, known: dict[bytes, bytes]
    ) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The rows of workers registered before that differ from what the ledger holds
        (masked NIK, fields), read once the import is committed, a batch at a time."""
        found = []
        for batch in _batched(known.items(), BULK_BATCH):
            workers = self.aggregates([UUID(bytes=oid) for oid, _ in batch])
            for oid, state in batch:
                worker = workers.get(UUID(bytes=oid))
                if worker is None:
                    continue
                fields = _TRANSCODER.decode(state)
                row = Registration(**{f: fields[f] for f in REGISTRATION_FIELDS})
                differences = row.differences(worker)
                if differences:
                    found.append((worker.masked_nik, tuple(differences)))
        return tuple(found)

    def _register_batch(
        self,
        batch: Sequence[PreparedRegistration],
        writer: BulkWriter,
        once: bool,
        known: dict[bytes, bytes],
    ) -> int:
        """Record a batch's registrations of new workers in the import's transaction; how many.

        The domain built each worker's registration event state (every check applied); it is
        stored as `save()` would store it, without building the aggregates or the events, and
        straight through the recorder (the event store would build a notification of every
        row, which nobody reads). Workers already registered are found only when the store
        refuses the batch, so a first import reads nothing back.
        """
        events: dict[bytes, bytes] = {}
        for oid, state in batch:
            events.setdefault(oid, state)  # a worker twice in the batch: the first row counts
        if once and len(events) < len(batch):
            raise RepeatedWorker
        plain = dict(events) if compressor_or_cipher(self) else events
        # As the mapper does after encoding: compress, then encrypt (JAMSOS_CIPHER_KEY).
        compressor, cipher = self.mapper.compressor, self.mapper.cipher
        if compressor or cipher:
            for oid, state in events.items():
                if compressor:
                    state = compressor.compress(state)
                if cipher:
                    state = cipher.encrypt(state)
                events[oid] = state
        topic, version = _REGISTERED_TOPIC, Worker.INITIAL_VERSION
        stored: dict[UUID, StoredEvent] = {}
        for oid, state in events.items():
            uid = UUID(bytes=oid)
            stored[uid] = StoredEvent(
                originator_id=uid, originator_version=version, topic=topic, state=state
            )
        while stored:
            try:
                writer.insert(list(stored.values()))
                return len(stored)
            except (IntegrityError, RecordConflictError):
                # The batch alone was undone. Its workers registered before (or earlier in
                # this import) are left out, and the rest written again. The import holds the
                # store's write lock: nobody else can have registered any of them meanwhile.
                existing = writer.existing(list(stored))
                if not existing:
                    raise
                if once and writer.existing(list(existing), here=True):
                    raise RepeatedWorker from None
                for uid in existing:
                    del stored[uid]
                    known.setdefault(uid.bytes, plain[uid.bytes])
        return 0

    @command("prioritize")
    def prioritize(
        self,
        ruleset_name: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[int, int]:
        """Rank every eligible worker under a rule set; record only ranks that changed.

        Returns (ranked, changed). Only the eligible workers are read, each kept as one flat
        tuple (the rule set's sort key, then what recording its rank needs), and the changed
        ranks are recorded a batch at a time as the ranking is walked: a million workers take
        a few hundred megabytes, not a gigabyte. `progress`, if given, is told how many workers
        each stretch of the walk ranked, and how many there are in all.
        """
        name = ruleset_name or DEFAULT_RULESET
        rules = ruleset(name)
        ranking = self._ranking(name)
        changed: list[tuple[UUID, int, int, int]] = []
        recorded = told = 0
        for rank, (*key, decile, wid, current) in enumerate(ranking, start=1):
            if current != rank:
                tier = rules.tier_of(decile)
                assert tier is not None
                changed.append((wid, rank, tier, key[-1]))  # the key ends with the tie-break
            if len(changed) == BULK_BATCH:
                recorded += self._record_ranks(name, changed)
                changed = []
                self.kept = _ranks_kept(recorded, name)
            if progress is not None and rank - told == BULK_BATCH:
                progress(rank - told, len(ranking))
                told = rank
        if changed:
            recorded += self._record_ranks(name, changed)
        self.kept = ""  # all of it: nothing is partial any more
        if progress is not None:
            progress(len(ranking) - told, len(ranking))
        return len(ranking), recorded

    def _ranking(self, name: str) -> list[tuple[Any, ...]]:
        """Every eligible worker under the rule set, in rank order: (*sort key, decile,
        worker id, current rank under it or None). The one place ranks are derived."""
        rules = ruleset(name)
        eligible = [d for d in DECILES if rules.is_eligible(d)]
        ranking = [
            (*rules.sort_key(r.decile, r.registered_position), r.decile, r.worker_id,
             r.rank if r.ruleset == name else None)
            for r in self.views.ranking_inputs(eligible)
        ]
        ranking.sort()  # the sort key orders every worker: registration positions are unique
        return ranking

    def _refuse_a_stale_ranking(self, name: str) -> None:
        """Refuse to enrol by rank on a ranking older than the registrations and corrections
        it should include: the best-ranked would not be the best (Perpres 2/2021's priority
        for the poorest deciles of DTSEN, which the rule sets order)."""
        # A correction of the decile takes the worker's rank away (`Worker.correct`): a worker
        # who left the eligible deciles holds none, one who stays waits unranked.
        unranked = changed = 0
        for rank, (*_key, _decile, _wid, current) in enumerate(self._ranking(name), start=1):
            if current is None:
                unranked += 1
            elif current != rank:
                changed += 1
        if not (unranked or changed):
            return
        why = []
        if unranked:
            why.append(f"{counted(unranked, 'eligible worker')} registered or corrected since "
                       f"{'has' if unranked == 1 else 'have'} no rank")
        if changed:
            why.append(f"{counted(changed, 'rank')} would change")
        raise RuleViolation(
            f"the ranking under {name} is older than the registrations and corrections it "
            f"should include: {'; '.join(why)}. Run `workers prioritize` first, then enrol; "
            "nobody was enrolled"
        )

    def _record_ranks(self, name: str, ranks: Sequence[tuple[UUID, int, int, int]]) -> int:
        """Each worker's new rank recorded by the worker, with the registration's position
        that broke its ties, all of them in one save."""
        workers = self.aggregates([wid for wid, *_ in ranks])
        for wid, rank, tier, position in ranks:
            workers[wid].prioritize(ruleset_name=name, rank=rank, tier=tier, actor=self.actor,
                                    position=position)
        self._save_many(workers.values())
        return len(ranks)

    # -- enrolment -----------------------------------------------------------------------

    @command("enrol")
    def enrol(
        self,
        code: str | None = None,
        *,
        start: Month,
        niks: Sequence[str] = (),
        top: int | None = None,
        decree: str | None = None,
    ) -> EnrolResult:
        """Enrol the workers named by NIK, or the `top` best-ranked waiting ones: all or none."""
        if bool(niks) == (top is not None):
            raise InvalidInput("enrol either --top N or one or more --nik, not both or neither")
        too_many = None if top is None else workers_to_enrol_problem(top)
        if too_many:
            raise InvalidInput(too_many)
        if decree is not None:
            decree = normal_reference("decree", decree)

        def attempt() -> EnrolResult:
            program = self.program(code)
            self._four_eyes(program, "an enrolment decree", "`enroll` proposes it")
            # A decree already used first: an enrolment run again is told so, not that the
            # workers it enrolled are no longer waiting.
            references = self._new_references(
                "decree", [decree] if decree else [], program.id, program
            )
            if niks:
                workers = self._workers_by_nik(niks)
            else:
                assert top is not None
                workers = self._top_candidates(program, top, start)
            before = program.committed.total
            program.enrol(workers, start=start, decree=decree, actor=self.actor)
            self._save_many([program, *workers, *references])
            return EnrolResult(
                workers=len(workers),
                start=start,
                end=program.end,
                committed=program.committed.total - before,
                nik_masked=[w.masked_nik for w in workers],
            )

        return self._retrying(attempt)

    def _workers_by_nik(self, niks: Sequence[str]) -> list[Worker]:
        ids = [worker_id(n) for n in niks]
        found = self.aggregates(ids)
        missing = [mask_nik(n) for n, i in zip(niks, ids, strict=True) if i not in found]
        if missing:
            raise NotFound(
                f"{counted(len(missing), 'NIK')} not registered: {', '.join(missing[:20])}"
                "; nobody was enrolled"
            )
        return [found[i] for i in ids]

    def _top_candidates(self, program: Program, top: int, start: Month) -> list[Worker]:
        """The `top` best-ranked workers the domain would enrol from `start`.

        The views know decile, rank and coverage, not age (they hold no personal data): a
        ranked worker outside the BPU ages in the first covered month is passed over, and the
        next one taken, by asking the views for a few more.
        """
        self.views.catch_up()
        self._refuse_a_stale_ranking(program.ruleset)
        chosen: list[Worker] = []
        asked = top
        while True:
            ids = self.views.candidates(
                program.id, program.ruleset, asked, str(start), str(program.end)
            )
            found = self.aggregates(ids)
            workers = [found[i] for i in ids]
            chosen = [w for w in workers if w.enrolment_problem(program, start) is None]
            if len(chosen) >= top or len(ids) < asked:
                break
            asked += top - len(chosen) + 100
        if len(chosen) < top:
            passed = len(workers) - len(chosen)
            over = f" ({count(passed)} more passed over for their age)" if passed else ""
            raise RuleViolation(
                f"only {counted(len(chosen), 'eligible, ranked worker')} "
                f"{'is' if len(chosen) == 1 else 'are'} waiting for {program.code} "
                f"under {program.ruleset}{over}, not {count(top)}: run `workers prioritize` "
                "after importing registrations, or enrol fewer; nobody was enrolled"
            )
        return chosen[:top]

    @command("end_coverage")
    def end_coverage(
        self, nik: str, *, month: Month, reason: str, code: str | None = None
    ) -> Program:
        """End a worker's coverage at the end of a month (died, moved, formal, ineligible)."""

        def attempt() -> Program:
            program = self.program(code)
            worker = self.worker(nik)
            program.end_coverage(worker, month=month, reason=reason, actor=self.actor)
            self.save(program, worker)
            return program

        return self._retrying(attempt)

    # -- money ---------------------------------------------------------------------------

    @command("pay_premiums")
    def pay_premiums(
        self, *, month: Month, sp2d: str, amount: int | None = None, code: str | None = None,
        invoice: str | None = None,
    ) -> tuple[int, int]:
        """Pay a month's bill for every participant not yet paid for it, under one SP2D.

        Returns (participants, rupiah paid).
        """

        sp2d = normal_reference("sp2d", sp2d) if sp2d.strip() else sp2d

        def attempt() -> tuple[int, int]:
            program = self.program(code)
            self._four_eyes(program, "a month's payment", "`premiums pay` proposes it")
            references = self._new_references("sp2d", [sp2d], program.id, program)
            bill = program.pay(
                month=month, sp2d=sp2d, amount=amount, actor=self.actor, invoice=invoice
            )
            self.save(program, *references)
            return bill.total // program.premium.total, bill.total

        return self._retrying(attempt)

    @command("reverse_payment")
    def reverse_payment(
        self, *, sp2d: str, reason: str, code: str | None = None
    ) -> tuple[Month, Premium]:
        """Reverse a payment recorded in error (its month becomes payable again): one command,
        one event on the program. Returns the month and the amount reversed. With four eyes
        on, refused unless it is the approval of a proposal (`propose_reversal`)."""

        def attempt() -> tuple[Month, Premium]:
            program = self.program(code)
            self._four_eyes(program, "a payment's reversal", "`premiums reverse` proposes it")
            reversed_ = program.reverse_payment(sp2d=sp2d, reason=reason, actor=self.actor)
            self.save(program)
            return reversed_

        return self._retrying(attempt)

    @command("annul_enrolment")
    def annul_enrolment(self, nik: str, *, reason: str, code: str | None = None) -> Premium:
        """Annul a worker's enrolment before its first paid month: its place and commitment
        are released (an event on the program and one on the worker, in one transaction).
        Returns the commitment released. With four eyes on, refused unless it is the approval
        of a proposal (`propose_annulment`)."""

        def attempt() -> Premium:
            program = self.program(code)
            self._four_eyes(program, "an enrolment's annulment", "`annul` proposes it")
            worker = self.worker(nik)
            released = program.annul_enrolment(worker, reason=reason, actor=self.actor)
            self.save(program, worker)
            return released

        return self._retrying(attempt)

    @command("reconcile_invoice")
    def reconcile_invoice(
        self, *, month: Month, lines: Sequence[InvoiceLine], invoice: str,
        code: str | None = None,
    ) -> Reconciliation:
        """Set BPJS's invoice of a month (its lines, and its SHA-256 `invoice`) against the
        program's participants of that month; record the reconciliation on the program and
        the KPJ numbers it gives on the workers, in one transaction."""

        def attempt() -> Reconciliation:
            program = self.program(code)
            program.slot(month)
            covered_ids = self.views.covered_in(program.id, str(month))
            named = {worker_id(line.nik) for line in lines}
            workers = self.aggregates(sorted(named | set(covered_ids), key=str))
            registered = {
                w.nik: w.participant(program, month) for wid, w in workers.items() if wid in named
            }
            covered = [workers[wid].participant(program, month) for wid in covered_ids]
            result = reconcile(month, lines, program.premium, registered, covered)
            program.record_reconciliation(result, invoice=invoice, actor=self.actor)
            changed = []
            for wid, kpj in result.kpj.items():
                worker = workers[wid]
                worker.record_kpj(kpj, actor=self.actor)
                changed.append(worker)
            self._save_many([program, *changed])
            return result

        return self._retrying(attempt)

    def as_command(self, name: str, run: Callable[[], T]) -> T:
        """Run `run` as the command `name` of the role table, checked as a method marked
        `@command(name)` is: for the service's commands written as functions of their own
        (`outside_registers`)."""

        @command(name)
        def checked(service: LedgerService) -> T:
            return run()

        return checked(self)

    @command("capacity")
    def capacity(self, start: Month | None = None, code: str | None = None) -> int:
        """How many more workers the money and the places can cover from `start`."""
        program = self.program(code)
        return program.capacity(start or program.start)

    @command("correct_worker")
    def correct_worker(self, nik: str, *, field: str, value: str, reason: str) -> Worker:
        """Correct a registration field of a worker; the old value stays in the history."""

        def attempt() -> Worker:
            worker = self.worker(nik)
            worker.correct(field=field, value=value, reason=reason, actor=self.actor)
            self.save(worker)
            return worker

        return self._retrying(attempt)

    # -- claims --------------------------------------------------------------------------

    @command("file_claim")
    def file_claim(
        self,
        nik: str,
        *,
        scheme: str,
        incident_date: date,
        reference: str,
        benefit: int | None = None,
    ) -> UUID:
        """Record a JKK or JKM claim of a covered worker; returns the covering program's id."""

        reference = normal_reference("claim", reference) if reference.strip() else reference

        def attempt() -> UUID:
            worker = self.worker(nik)
            if self._reference_taken("claim", reference) or worker.claim(reference):
                raise duplicate_reference("claim", reference)
            pid = worker.file_claim(
                scheme=scheme,
                incident_date=incident_date,
                reference=reference,
                actor=self.actor,
                benefit=benefit,
            )
            (used,) = self._new_references("claim", [reference], pid)
            self.save(worker, used)
            return pid

        return self._retrying(attempt)

    @command("record_benefit")
    def record_benefit(self, nik: str, *, reference: str, amount: int) -> Worker:
        """Record the benefit BPJS paid on a worker's claim; the budget is never touched."""

        def attempt() -> Worker:
            worker = self.worker(nik)
            worker.record_benefit(reference=reference, amount=amount, actor=self.actor)
            self.save(worker)
            return worker

        return self._retrying(attempt)

    # -- plumbing ------------------------------------------------------------------------

    def _new_references(
        self, kind: str, values: Sequence[str], pid: UUID | None, program: Program | None = None
    ) -> list[Reference]:
        """The references a command uses, refused when any was used before in any spelling
        (`values` are normalised: `normal_reference`)."""
        references = []
        for value in values:
            if self._reference_taken(kind, value) or (
                program is not None and program.reference_used(kind, value)
            ):
                raise duplicate_reference(kind, value)
            references.append(Reference(kind=kind, value=value, program_id=pid, actor=self.actor))
        return references

    def _reference_taken(self, kind: str, value: str) -> bool:
        """Whether the ledger holds the reference: by its id, or by an id it would have had
        when recorded before references were normalised."""
        ids = {reference_id(kind, value), *legacy_reference_ids(kind, value)}
        return any(i in self.repository for i in ids)

    def retrying(self, attempt: Callable[[], T]) -> T:
        """`_retrying`, for the service's helpers (`signing`)."""
        return self._retrying(attempt)

    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Run a command again when a concurrent one changed what it read (optimistic locking).

        Each attempt reads afresh and the domain decides again, so a command retried after a
        conflict is judged on the new state (the last places may have gone meanwhile). A
        command carried out by an approval runs once: the approval is tried again whole, its
        proposal read afresh (another approver may have decided it meanwhile).
        """
        if self.riding is not None or self.dry_run:
            return attempt()
        for tried in range(CONFLICT_ATTEMPTS):
            try:
                return attempt()
            except (IntegrityError, RecordConflictError):
                _back_off(tried)
            except PersistenceError as e:
                # SQLite may refuse a write at once ("database is locked") rather than wait,
                # e.g. while another process checkpoints; nothing was written: try again.
                if not _is_transient(e) or tried + 1 == CONFLICT_ATTEMPTS:
                    raise
                _back_off(tried)
        raise RuleViolation(
            f"the ledger was changed by other commands {CONFLICT_ATTEMPTS} times while this one "
            "ran; nothing was written; try again"
        )

    def _save_many(self, aggregates: Iterable[Aggregate]) -> None:
        """Store the new events of many aggregates in one transaction, as `save()` does.

        `save()` checks each object it is given against the library's protocols, which costs
        more than writing its events when ten thousand workers are saved at once.
        """
        if self.riding is not None:
            aggregates = chain(aggregates, [self.riding])
        events = [e for aggregate in aggregates for e in aggregate.collect_events()]
        if events and not self.dry_run:
            self.events.put(events)

    def _four_eyes(self, program: Program, what: str, how: str) -> None:
        """Refuse a decree, payment, amendment, reversal or annulment of a program with four
        eyes on, unless it is the approval of a proposal (or its check while proposed): one key
        never moves money."""
        if program.four_eyes and self.riding is None and not self.dry_run:
            raise FourEyes(
                f"program {program.code} has four eyes on: {what} takes effect only when "
                f"proposed ({how}) and approved by a second principal; nothing was written"
            )

    def _save_or_refuse(self, aggregates: Sequence[Aggregate], message: str) -> None:
        try:
            self.save(*aggregates)
        except (IntegrityError, RecordConflictError):
            raise RuleViolation(message) from None


def compressor_or_cipher(ledger: LedgerService) -> bool:
    """Whether stored states are compressed or encrypted after encoding."""
    return bool(ledger.mapper.compressor or ledger.mapper.cipher)


# A registration ready to store: the worker's id (16 bytes) and its `Registered` event's state
# as the ledger's mapper encodes it (msgpack, before any compression or encryption).
PreparedRegistration = tuple[bytes, bytes]
_REGISTERED_TOPIC = get_topic(Worker.Registered)
_REGISTERED_CLASS_VERSION: int = getattr(Worker.Registered, "class_version", 1)


def prepare_registrations(
    registrations: Iterable[Registration], *, actor: str, timestamp: datetime
) -> list[PreparedRegistration]:
    """Each registration's worker id and encoded `Registered` state, the domain's checks
    applied to every one (InvalidInput otherwise): what `save()` would store, byte for byte.

    Plain data of bytes only, so that processes reading parts of a file at once can hand
    their rows back cheaply (`import_pool`).
    """
    encode = _TRANSCODER.encode
    state_of = Worker.registered_state
    prepared = []
    for r in registrations:
        state = state_of(r, actor=actor, timestamp=timestamp)
        if _REGISTERED_CLASS_VERSION > 1:  # as the library's mapper does
            state["class_version"] = _REGISTERED_CLASS_VERSION
        prepared.append((worker_id_bytes(r.nik), encode(state)))
    return prepared


def _ranks_kept(recorded: int, ruleset_name: str) -> str:
    """What a ranking stopped half-way has kept: each batch of ranks is committed on its own,
    so a ranking of a million workers never holds the store's write lock for minutes."""
    return (
        f"{count(recorded)} changed ranks under {ruleset_name} were recorded and are kept "
        f"(ranks are committed {count(BULK_BATCH)} at a time), the rest not yet: run "
        "`workers prioritize` again to finish the ranking (ranks already right are not "
        "recorded again)"
    )


def _is_transient(error: Exception) -> bool:
    """Whether a store error is a collision with another process that a retry can pass."""
    return any(sign in str(error) for sign in _OPENING_COLLISIONS)


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of `size` items (the last one shorter) in order, as they come."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _back_off(tried: int) -> None:
    """Sleep a random, growing, bounded while after the `tried`-th conflict (0 the first)."""
    ceiling = min(CONFLICT_BACKOFF_MAX, CONFLICT_BACKOFF * 2**tried)
    time.sleep(random.uniform(0, ceiling))


__all__ = [
    "EnrolResult",
    "FourEyes",
    "LedgerError",
    "LedgerQueries",
    "LedgerService",
    "PreparedRegistration",
    "RankingRow",
    "RegisterResult",
    "default_actor",
    "prepare_registrations",
]
