"""What auditors ask of the ledger: the figures as they stood at a moment, a replay of every
report from the events alone, and the trail of who did what, when and why.

Nothing here keeps figures of its own. The ledger as of a moment is the same projections fed
with only the events recorded (timestamped) up to it, in a private database; a worker or a
program as of a moment is its aggregate rebuilt from its own events up to it. The replay
compares the live projection tables with projections rebuilt from the log, and the rebuilt
budget and quota with each program's own books, which are derived from the program's events by
the domain and not by any projection. The log is read in pages throughout: memory stays bounded
whatever its length.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from hashlib import sha256
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from jamsos_ledger.application import PAGE, Ledger

# Private views (a replay's, the ledger as of a moment) are built by the composition root,
# in a temporary file past LARGE_LOG events (tests lower it here).
from jamsos_ledger.application.composition import LARGE_LOG, rebuilt_views
from jamsos_ledger.domain.errors import InvalidInput, NotFound, RuleViolation
from jamsos_ledger.domain.model import Program, Reference, Worker, worker_id
from jamsos_ledger.domain.months import JAKARTA, Month, months_between  # WHEN in the city's time
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.projections.budget import month_columns
from jamsos_ledger.projections.database import ViewDatabase
from jamsos_ledger.projections.reporting import quota_groups
from jamsos_ledger.projections.views import GROUPINGS, Views

T = TypeVar("T")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_END_OF_DAY = time(23, 59, 59, 999_999)
# How often a replay starts its comparison again when commands wrote to the ledger meanwhile.
REPLAY_ATTEMPTS = 3
# Rows read at once when a projection table is compared whole.
PAGE_ROWS = 1_000


# --- WHEN ---------------------------------------------------------------------------------


def parse_when(text: str) -> datetime:
    """A moment from `YYYY-MM-DD` (the end of that day in Asia/Jakarta) or an ISO timestamp
    with its UTC offset (`2026-03-31T17:00:00+07:00`, `...Z`)."""
    value = text.strip()
    if _DATE.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{text!r} is not a date of the calendar (YYYY-MM-DD)") from None
        return datetime.combine(day, _END_OF_DAY, tzinfo=JAKARTA)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{text!r} is neither a date (YYYY-MM-DD, the end of that day in Asia/Jakarta) nor "
            "an ISO 8601 timestamp with its offset (2026-03-31T17:00:00+07:00)"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            f"{text!r} has no UTC offset: write the moment with one, e.g. {value}+07:00 "
            "(Asia/Jakarta) or a date YYYY-MM-DD"
        )
    try:
        # Events are stamped in UTC and shown in Asia/Jakarta: a moment must be a moment of
        # the calendar in both (0001-01-01T00:00+14:00 is in no year of UTC).
        moment.astimezone(UTC), moment.astimezone(JAKARTA)
    except (OverflowError, ValueError):
        raise InvalidInput(
            f"{text!r} is outside the calendar (years 1 to 9999 in UTC and in Asia/Jakarta)"
        ) from None
    return moment


def format_when(when: datetime) -> str:
    """A moment as auditors read it: a date stays a date (the end of the day), else ISO 8601."""
    local = when.astimezone(JAKARTA)
    if local.timetz().replace(tzinfo=None) == _END_OF_DAY:
        return f"{local.date().isoformat()} (end of day, Asia/Jakarta)"
    return when.isoformat()


def as_of_title(when: datetime | None) -> str:
    """The words a table title gets for a moment: `` as of ...``, or nothing for now."""
    return "" if when is None else f" as of {format_when(when)}"


# --- The ledger as of a moment --------------------------------------------------------------


def private_views(ledger: Ledger, until: datetime | None = None) -> Views:
    """Every projection rebuilt from the log into a private database, with only the events
    recorded up to `until` (all of them without it). The caller closes it."""
    return _rebuilt(ledger, until)[0]


def _rebuilt(
    ledger: Ledger, until: datetime | None, progress: Callable[[int], None] | None = None
) -> tuple[Views, int]:
    """Private views caught up (the composition root builds them), and how many events of
    the log were read to build them; in a temporary file past LARGE_LOG events."""
    return rebuilt_views(ledger, until, progress, large_log=LARGE_LOG)


def views_as_of(ledger: Ledger, when: datetime) -> Views:
    """The report queries answered as the ledger stood at `when`, from the events recorded up
    to then (never from today's projections). The caller closes it."""
    return private_views(ledger, until=when)


@contextmanager
def report_views(
    ledger: Ledger, when: datetime | None, program: Program | None = None
) -> Iterator[Views]:
    """The live views, or with `when` the views as of then, closed afterwards; refuses a
    program that was not opened yet at that moment."""
    if when is None:
        yield ledger.views
        return
    views = views_as_of(ledger, when)
    try:
        if program is not None and not any(
            r["program_id"] == str(program.id) for r in views.programs()
        ):
            raise NotFound(f"program {program.code} was not open yet {as_of_title(when).strip()}")
        yield views
    finally:
        views.close()


def worker_as_of(ledger: Ledger, nik: str, when: datetime) -> Worker:
    """The worker as recorded up to `when`, rebuilt from its own events."""
    worker = aggregate_as_of(ledger, worker_id(nik), when)
    if worker is None:
        raise NotFound(
            f"no worker with NIK {mask_nik(nik)} was registered {as_of_title(when).strip()}"
        )
    assert isinstance(worker, Worker)
    return worker


def program_as_of(ledger: Ledger, program_id: UUID, when: datetime | None) -> Program | None:
    """The program as recorded up to `when` (now without it), or None if not open yet."""
    program = aggregate_as_of(ledger, program_id, when)
    assert program is None or isinstance(program, Program)
    return program


def aggregate_as_of(ledger: Ledger, originator_id: UUID, when: datetime | None) -> Any:
    """An aggregate from its own events recorded up to `when`, read in pages; None if none.

    An aggregate's history is a sequence: its state at a moment is the prefix of its events
    recorded by then, so the first later event ends the reading.
    """
    aggregate: Any = None
    after: int | None = None
    while True:
        page = ledger.recorder.select_events(originator_id, gt=after, limit=PAGE)
        for stored in page:
            event: Any = ledger.mapper.to_domain_event(stored)
            if when is not None and event.timestamp > when:
                return aggregate
            aggregate = event.mutate(aggregate)
        if len(page) < PAGE:
            return aggregate
        after = page[-1].originator_version


def _head(ledger: Ledger) -> int:
    return int(ledger.recorder.max_notification_id() or 0)


def _programs_opened(ledger: Ledger, when: datetime | None) -> Iterator[tuple[UUID, str]]:
    """(id, code) of every program opened up to `when`, in the order they were opened."""
    for n in ledger.read_log(topics=[get_topic(Program.Opened)]):
        event: Any = ledger.mapper.to_domain_event(n)
        if when is None or event.timestamp <= when:
            yield event.originator_id, event.code


# --- Replay -------------------------------------------------------------------------------

CHECKS = {
    "projections": "the live projection tables against the same projections replayed from "
    "the events alone",
    "books": "the replayed budget and quota against each program's own books, rebuilt from "
    "the program's events by the domain",
}


@dataclass(frozen=True)
class Difference:
    """One figure on which two derivations disagree.

    Attributes:
        check: `projections` (expected: replayed from the events; found: the live tables) or
            `books` (expected: the program's own books; found: the replayed projections).
        report: the report query, e.g. `budget`, `quota by kecamatan`.
        key: which row: a program code, `CODE YYYY-MM`, a claim reference...
        field: the column; `(row)` when a whole row is missing or extra.
        expected, found: the two values.
    """

    check: str
    report: str
    key: str
    field: str
    expected: Any
    found: Any


@dataclass(frozen=True)
class Compared:
    """How much of one report a check compared.

    Attributes:
        check: `projections` or `books`.
        report: the report query.
        rows: rows (or programs) compared.
        figures: single values compared.
    """

    check: str
    report: str
    rows: int
    figures: int


@dataclass(frozen=True)
class ReplayReport:
    """What a replay compared and every difference it found.

    Attributes:
        when: the moment replayed, or None for the whole log compared with the projections.
        position: the last log position read.
        events: events read from the log.
        programs: programs open at that moment.
        compared: per check and report, how many rows and figures were compared.
        differences: every disagreement; none when the ledger is sound.
    """

    when: datetime | None
    position: int
    events: int
    programs: int
    compared: list[Compared]
    differences: list[Difference]

    @property
    def ok(self) -> bool:
        return not self.differences

    @property
    def figures(self) -> int:
        return sum(c.figures for c in self.compared)


class _Comparison:
    """Compares rows field by field for one check, counting what it compared."""

    def __init__(self, check: str) -> None:
        self.check = check
        self.counts: dict[str, list[int]] = {}
        self.differences: list[Difference] = []

    def row(
        self,
        report: str,
        key: str,
        expected: Mapping[str, Any] | None,
        found: Mapping[str, Any] | None,
        fields: Sequence[str] = (),
    ) -> None:
        counts = self.counts.setdefault(report, [0, 0])
        counts[0] += 1
        if expected is None or found is None:
            if expected is not None or found is not None:
                self.differences.append(Difference(
                    self.check, report, key, "(row)",
                    "present" if expected is not None else "absent",
                    "present" if found is not None else "missing",
                ))
            return
        for name in fields or sorted(set(expected) | set(found)):
            counts[1] += 1
            want, got = _plain(expected.get(name)), _plain(found.get(name))
            if want != got:
                self.differences.append(Difference(self.check, report, key, name, want, got))

    def table(
        self,
        report: str,
        key: Callable[[Mapping[str, Any]], str],
        expected: Sequence[Mapping[str, Any]],
        found: Sequence[Mapping[str, Any]],
    ) -> None:
        want = {key(r): r for r in expected}
        got = {key(r): r for r in found}
        self.counts.setdefault(report, [0, 0])
        for k in [*want, *(k for k in got if k not in want)]:
            self.row(report, k, want.get(k), got.get(k))

    def compared(self) -> list[Compared]:
        return [Compared(self.check, r, n, figures) for r, (n, figures) in self.counts.items()]


def replay(
    ledger: Ledger, when: datetime | None = None, progress: Callable[[int], None] | None = None
) -> ReplayReport:
    """Re-derive every figure of every report from the events alone and compare.

    Without `when`: every report query of projections rebuilt from the whole log against the
    live projections, and the rebuilt budget and quota against each program's own books. With
    `when`: the projections as of then against the programs' books as of then. `progress`, if
    given, is told how many events each page of the rebuild read.
    """
    views, events = _rebuilt(ledger, when, progress)
    try:
        for _ in range(REPLAY_ATTEMPTS):
            head = _head(ledger)
            events += views.catch_up()
            projections = _Comparison("projections")
            if when is None:
                _compare_views(projections, expected=views, found=ledger.views)
            books = _Comparison("books")
            programs = 0
            for pid, _code in _programs_opened(ledger, when):
                program = program_as_of(ledger, pid, when)
                assert program is not None
                _check_books(books, program, views)
                programs += 1
            if when is not None or _head(ledger) == head:
                return ReplayReport(
                    when=when,
                    position=head,
                    events=events,
                    programs=programs,
                    compared=projections.compared() + books.compared(),
                    differences=projections.differences + books.differences,
                )
    finally:
        views.close()
    raise RuleViolation(
        f"commands wrote to the ledger while it was replayed, {REPLAY_ATTEMPTS} times: run "
        "`audit replay` again when no command is writing, or replay --as-of a past moment"
    )


def _compare_views(cmp: _Comparison, *, expected: Views, found: Views) -> None:
    """Every report query of the live projections against the replayed ones."""
    want = expected.programs()
    got = found.programs()
    cmp.table("programs", lambda r: str(r["code"]), want, got)
    codes = {r["program_id"]: str(r["code"]) for r in [*got, *want]}
    for pid_text, code in codes.items():
        pid = UUID(pid_text)
        cmp.row("budget", code, _maybe(expected.budget, pid), _maybe(found.budget, pid))
        cmp.table("budget_months", _key(code, "{month}"),
                  expected.budget_months(pid), found.budget_months(pid))
        cmp.table("payments", _key(code, "SP2D {sp2d}"),
                  expected.payments(pid), found.payments(pid))
        cmp.row("quota", code, _maybe(expected.quota, pid), _maybe(found.quota, pid))
        for by in GROUPINGS:
            cmp.table(f"quota by {by}", _key(code, f"{by}={{{by}}}"),
                      _groups(expected, pid, by), _groups(found, pid, by))
    cmp.table("claims", lambda r: str(r["reference"]), expected.claims(), found.claims())
    # Beyond the reports: every table of every projection, whole, so that no read model
    # (nor a column no report shows yet) escapes the comparison.
    tables = [t for p in expected.runner.projections.values() for t in p.tables]
    matched = _matched_in_sqlite(expected.db, found.db, tables)
    for table in tables:
        if table in matched:
            same = {"rows": matched[table], "digest": MATCHED}
            cmp.row(f"table {table}", "rows and contents", same, same)
        else:
            cmp.row(
                f"table {table}",
                "rows and contents",
                _table_fingerprint(expected, table),
                _table_fingerprint(found, table),
            )


# The digest of a table found equal to its replay row by row: no digest needs computing.
MATCHED = "(matched row by row)"


def _matched_in_sqlite(
    replayed: ViewDatabase, live: ViewDatabase, tables: Sequence[str]
) -> dict[str, int]:
    """Tables holding the same rows in both databases, with their row counts, found by SQLite
    itself when both are SQLite: {} otherwise (each is then compared by its digests).

    Both tables are built in log order, so each row has the same rowid in both: a join on the
    rowid, every column compared with `IS`, pairs the rows in one pass, where reading and
    hashing every row in Python costs ten times more. A table whose rows do not all pair (a
    difference, or rows written in another order) is left to the digests, which say which.
    """
    live_file, replayed_file = live.sqlite_file, replayed.sqlite_file
    if live_file is None or replayed_file is None:
        return {}
    matched = {}
    connection = sqlite3.connect(_read_only(live_file), uri=True)
    try:
        connection.execute("ATTACH DATABASE ? AS replayed", (_read_only(replayed_file),))
        connection.execute("BEGIN")  # one moment of the live tables for all of them
        for table in tables:
            try:
                rows = _paired_rows(connection, table)
            except sqlite3.Error:
                continue  # not of the same shape: the digests say what differs
            if rows is not None:
                matched[table] = rows
    finally:
        connection.close()
    return matched


def _paired_rows(connection: sqlite3.Connection, table: str) -> int | None:
    """How many rows the live table and its replay hold, when they pair one for one by rowid
    with equal columns; None when they do not."""
    name = _quoted(table)
    columns = [row[1] for row in connection.execute(f"PRAGMA replayed.table_info({name})")]
    live_columns = [row[1] for row in connection.execute(f"PRAGMA main.table_info({name})")]
    if not columns or columns != live_columns:
        return None
    (count,) = connection.execute(f"SELECT count(*) FROM replayed.{name}").fetchone()
    (live_count,) = connection.execute(f"SELECT count(*) FROM main.{name}").fetchone()
    if count != live_count:
        return None
    equal = " AND ".join(f"a.{_quoted(c)} IS b.{_quoted(c)}" for c in columns)
    (paired,) = connection.execute(
        f"SELECT count(*) FROM main.{name} a JOIN replayed.{name} b ON b.rowid = a.rowid "
        f"WHERE {equal}"
    ).fetchone()
    return int(count) if paired == count else None


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _read_only(name: str) -> str:
    """A URI opening an SQLite database read-only: a file's, or a shared in-memory one's as
    it is (it is opened by this process already)."""
    if name.startswith("file:"):
        return name
    return f"{Path(name).resolve().as_uri()}?mode=ro"


def _table_fingerprint(views: Views, table: str) -> dict[str, Any]:
    """A table's row count and an order-free digest of its rows, read in pages.

    The digest sums a hash of each row, so two tables agree exactly when they hold the same
    rows, whatever their order, and memory stays bounded however long the table.
    """
    rows, digest = 0, 0
    # SQLite gives back only int, float, str, bytes and None: its rows are hashed as they
    # come; PostgreSQL's values are made alike first (a boolean as 0/1, a numeric as int).
    plain = _plain_row if views.db.postgres else None
    from_bytes = int.from_bytes
    for page in views.db.scan(f"SELECT * FROM {views.db.table(table)}", PAGE_ROWS):
        for row in page:
            text = repr(plain(row) if plain else row)
            digest += from_bytes(sha256(text.encode()).digest()[:8], "big")
        rows += len(page)
    return {"rows": rows, "digest": f"{digest % 2**64:016x}"}


def _plain_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(int(v) if isinstance(v, bool) else _plain(v) for v in row)


def _check_books(cmp: _Comparison, program: Program, views: Views) -> None:
    """A program's books, rebuilt from its own events, against the replayed projections."""
    code, premium = program.code, program.premium
    planned = premium.times(sum(program.active))
    budget = {
        "allocation": program.allocation,
        "quota": program.quota,
        "enrolled": program.enrolled,
        "planned_jkk": planned.jkk,
        "planned_jkm": planned.jkm,
        "committed_jkk": program.committed.jkk,
        "committed_jkm": program.committed.jkm,
        "paid_jkk": program.paid_total.jkk,
        "paid_jkm": program.paid_total.jkm,
        "overpaid_jkk": program.overpaid.jkk,
        "overpaid_jkm": program.overpaid.jkm,
        "available": program.available,
    }
    cmp.row("budget", code, budget, _maybe(views.budget, program.id), list(budget))
    found_months = {str(r["month"]): r for r in views.budget_months(program.id)}
    for month in months_between(program.start, program.end):
        books = program.month_books(month)
        expected = {
            "active": books.active,
            "paid_participants": books.paid_participants,
            **month_columns(books),
        }
        cmp.row("budget_months", f"{code} {month}", expected,
                found_months.pop(str(month), None), list(expected))
    for month_text, extra in found_months.items():
        cmp.row("budget_months", f"{code} {month_text}", None, extra)
    cmp.table(
        "payments",
        _key(code, "SP2D {sp2d}"),
        [{"sp2d": sp2d, "month": str(month)} for month, sp2d in program.payments],
        [{"sp2d": r["sp2d"], "month": r["month"]} for r in views.payments(program.id)],
    )
    quota = {"quota": program.quota, "enrolled": program.enrolled,
             "available": program.places_left}
    cmp.row("quota", code, quota, _maybe(views.quota, program.id), list(quota))
    for by in GROUPINGS:
        # Places held per group come from the workers' events; the program counts its own.
        held = sum(r["enrolled"] for r in quota_groups(views, program.id, by))
        cmp.row(f"quota by {by}", f"{code} (all groups)", {"enrolled": program.enrolled},
                {"enrolled": held}, ["enrolled"])


def _groups(views: Views, program_id: UUID, by: str) -> list[dict[str, Any]]:
    """`report quota --by`'s rows, as the report shows them; none when the program's row is
    missing (that difference is the budget's and the quota's to tell)."""
    return _maybe(lambda pid: quota_groups(views, pid, by), program_id) or []


def _key(code: str, pattern: str) -> Callable[[Mapping[str, Any]], str]:
    """How a row of a program's report is named in a difference: `CODE` and the pattern
    filled from the row, e.g. `2026 2026-03`, `2026 SP2D SP2D/01`."""
    return lambda row: f"{code} {pattern.format_map(row)}"


def _maybe(query: Callable[[UUID], T], program_id: UUID) -> T | None:
    """A one-row report query, or None when its row is missing."""
    try:
        return query(program_id)
    except LookupError:
        return None


def _plain(value: Any) -> Any:
    """Values as compared: PostgreSQL sums come as Decimal, SQLite's as int."""
    if isinstance(value, Decimal):
        return int(value)
    return value


# --- The trail ----------------------------------------------------------------------------

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
        actor: who acted.
        event: the event, e.g. `Worker.Enrolled`.
        aggregate: what it happened to: `Program 2026`, `Worker 327501********01`...
        changes: the event's own fields (bookkeeping left out), as plain values.
        reference: the decree, SP2D, claim reference or reason, where the event has one.
    """

    time: datetime
    position: int
    actor: str
    event: str
    aggregate: str
    changes: dict[str, Any] = field(default_factory=dict)
    reference: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "position": self.position,
            "actor": self.actor,
            "event": self.event,
            "aggregate": self.aggregate,
            "changes": self.changes,
            "reference": self.reference,
        }


def event_classes(aggregate: type[Aggregate]) -> list[type[Aggregate.Event]]:
    """The event classes an aggregate class declares."""
    return [
        v for v in vars(aggregate).values()
        if isinstance(v, type) and issubclass(v, Aggregate.Event)
    ]


def initials(name: str) -> str:
    """A name reduced to its initials: `Siti Aminah` -> `S. A.`"""
    return " ".join(f"{part[0]}." for part in name.split() if part)


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
    wid: UUID | None = None
    topics: list[str] = []
    released = get_topic(Program.CoverageReleased)
    if nik is not None:
        nik = nik.strip()
        wid = worker_id(nik)
        if not ledger.recorder.select_events(wid, limit=1):
            raise NotFound(f"no worker with NIK {mask_nik(nik)} is registered")
        topics = [get_topic(c) for c in event_classes(Worker)] + [released]
    for n in ledger.read_log(topics=topics):
        if wid is not None and n.topic != released and n.originator_id != wid:
            continue
        event: Any = ledger.mapper.to_domain_event(n)
        if wid is not None and n.topic == released and event.worker_id != wid:
            continue
        yield _entry(n.id, event, labels)


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


def _shown(value: Any) -> Any:
    """A value of an event as plain JSON: months, dates and ids as text."""
    if isinstance(value, Month | UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


__all__ = [
    "JAKARTA",
    "Compared",
    "Difference",
    "ReplayReport",
    "TrailEntry",
    "as_of_title",
    "audit_trail",
    "format_when",
    "parse_when",
    "private_views",
    "replay",
    "report_views",
    "views_as_of",
    "worker_as_of",
]
