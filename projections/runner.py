"""Keeping projections up to date from the event log: pull, apply a batch, record how far.

`eventsourcing`'s ProjectionRunner needs subscriptions, which SQLite lacks, and writes a
transaction per event; a pull loop over pages of the log works on every store and writes each
batch of rows together with the position it reached, in one transaction, so every event is
applied exactly once and a crash resumes where the last batch ended.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from eventsourcing.persistence import ApplicationRecorder, Mapper

from jamsos_ledger.projections.database import ViewCursor, ViewDatabase
from jamsos_ledger.stores.log_reader import LogPage, LogReader

POSITIONS = "jamsos_projection_position"
# Events read in one page and applied in one transaction (15-28x faster than one per
# event, as `make bench`'s per-event-rebuild anchor shows); a page of a city's registrations
# takes tens of megabytes while it is applied.
BATCH = 20_000
# SQLite's page cache for a connection applying pages (KiB): a page of a city's registrations
# touches tens of megabytes of table and index pages, which the default 2 MB cache writes out
# and reads back again and again (half a rebuild's system time).
SQLITE_CACHE_KIB = 32 * 1024
# Above any position: the floor of a topic no projection wants.
_NEVER = 2**63


class Helper(Protocol):
    """How a long catch-up is shared with another process (`helper.HelperRecipe`): the runner
    asks, and never knows how; the helper module builds on this one, not the reverse."""

    def alongside(
        self, runner: Runner, stop: int | None, progress: Callable[[int], None] | None
    ) -> int:
        """Events applied with a second process's help; 0, doing nothing, when not worth it."""


class Projection(Protocol):
    """A read model: its tables, and how events change them.

    `version` names the shape of its tables and what they mean: raise it with any change to
    either, and every ledger rebuilds the projection from its events when next opened.
    """

    name: str
    version: int

    @property
    def tables(self) -> tuple[str, ...]:
        """Every table it writes: dropped on rebuild, compared whole by `audit replay`."""

    @property
    def indexes(self) -> tuple[tuple[str, str, str], ...]:
        """Secondary indexes as (name, table, columns), made when a catch-up ends.

        Not made with the tables: a rebuild then loads them without updating an index row by
        row (sorting once at the end is cheaper), and an interrupted rebuild gets them when its
        catch-up is finished by the next one.
        """

    def create(self, cursor: ViewCursor, db: ViewDatabase) -> None:
        """Create the tables if they do not exist."""

    def wants(self, topic: str) -> bool:
        """Whether events of this topic change the projection."""

    def prepare(self, db: ViewDatabase, events: Sequence[tuple[int, Any]]) -> Any:
        """What `apply` needs to write (position, domain event) pairs, worked out without the
        database: the rows, mostly.

        Called before the write lock is taken, so that two processes catching up together
        (`helper.alongside`) turn events into rows at the same time, and the lock is held only
        while the database writes them.
        """

    def apply(self, cursor: ViewCursor, db: ViewDatabase, batch: Any) -> None:
        """Write a prepared batch, in order, within the caller's transaction."""


@dataclass(frozen=True)
class ProjectionStatus:
    """How far a projection has read.

    Attributes:
        name: the projection.
        position: the last event position applied.
        head: the last event position in the log.
    """

    name: str
    position: int
    head: int

    @property
    def behind(self) -> int:
        return max(0, self.head - self.position)


class Runner:
    """Brings a set of projections up to date, reading the log once for all of them.

    With `until`, only events recorded (timestamped) up to that moment are applied: the
    projections show the ledger as it stood then (an auditor's `--as-of`). Later events are
    skipped, and the positions still advance past them. With `helper`, how another process
    opens the same runner, a long catch-up uses a second process (`helper.alongside`).
    """

    def __init__(
        self,
        db: ViewDatabase,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        projections: Sequence[Projection],
        *,
        until: datetime | None = None,
        helper: Helper | None = None,
    ) -> None:
        self.db = db
        self.until = until
        self.helper = helper
        # With `until`, the last position applied: the event the figures were computed from.
        self.last_applied = 0
        self.recorder = recorder
        self.mapper = mapper
        self.reader = LogReader(recorder, mapper)
        self.projections = {p.name: p for p in projections}
        self._wanted_by: dict[str, list[str]] = {}
        if self._set_up():
            return  # written nothing: processes opening a ledger together must not all write
        with db.transaction() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {db.table(POSITIONS)} "
                "(name TEXT PRIMARY KEY, position BIGINT NOT NULL, version INTEGER NOT NULL)"
            )
            self._locked_positions(cursor)  # the lock first, then look again under it
            cursor.execute(f"SELECT name, version FROM {db.table(POSITIONS)}")
            versions = dict(cursor.fetchall())
            for p in projections:
                if p.name not in versions:
                    p.create(cursor, db)
                    cursor.execute(
                        f"INSERT INTO {db.table(POSITIONS)} (name, position, version) "
                        "VALUES (?, 0, ?)",
                        (p.name, p.version),
                    )
                elif versions[p.name] != p.version:
                    # Tables of another shape: rebuilt from the first event by the catch-up.
                    _drop(p, cursor, db)
                    p.create(cursor, db)
                    cursor.execute(
                        f"UPDATE {db.table(POSITIONS)} SET position = 0, version = ? "
                        "WHERE name = ?",
                        (p.version, p.name),
                    )

    def _set_up(self) -> bool:
        """Whether every projection has its tables, of its version, and its position (a read)."""
        with self.db.transaction(commit=False) as cursor:
            if not self.db.has_table(cursor, POSITIONS):
                return False
            cursor.execute(f"SELECT name, version FROM {self.db.table(POSITIONS)}")
            found = dict(cursor.fetchall())
            return all(found.get(p.name) == p.version for p in self.projections.values())

    def positions(self) -> dict[str, int]:
        with self.db.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT name, position FROM {self.db.table(POSITIONS)}")
            found = dict(cursor.fetchall())
        return {name: int(found.get(name, 0)) for name in self.projections}

    def head(self) -> int:
        return int(self.recorder.max_notification_id() or 0)

    def status(self) -> list[ProjectionStatus]:
        head = self.head()
        return [ProjectionStatus(n, pos, head) for n, pos in self.positions().items()]

    def catch_up(
        self, stop: int | None = None, progress: Callable[[int], None] | None = None
    ) -> int:
        """Apply every event not yet applied (up to `stop`); returns how many were read.

        `progress`, if given, is told how many events each page took it forward (a progress
        bar). Far behind, a runner with a `helper` recipe has a second process apply pages
        alongside it.
        """
        with without_cycle_collection():
            read = self.helper.alongside(self, stop, progress) if self.helper is not None else 0
            more, indexed = self._catch_up_here(stop, progress)
        if (read or more) and not indexed:
            with self.db.transaction() as cursor:
                self._locked_positions(cursor)  # first, as every writer here: never a deadlock
                self._index(cursor)
        return read + more

    def _catch_up_here(
        self, stop: int | None, progress: Callable[[int], None] | None
    ) -> tuple[int, bool]:
        """Catch up in this process; how many events were read, and whether the last page
        applied was the log's last (which also made the indexes)."""
        read, indexed = 0, False
        while True:
            positions = self.positions()
            start = min(positions.values())
            if stop is not None and start >= stop:
                return read, indexed
            page = self.reader.page(start, BATCH, stop=stop, wanted=self._wanted(positions))
            if not page.read:
                return read, indexed
            last = page.read < BATCH
            if not self._apply_page(page, positions, end=page.last, index=last):
                continue  # another process moved a projection back (a rebuild): read again
            read += page.read
            indexed = last
            if progress is not None:
                progress(page.read)
            if last:
                return read, indexed

    def apply_range(self, lo: int, hi: int, keep_waiting: Callable[[], bool]) -> int | None:
        """Apply the events at positions `lo < p <= hi`, read and decoded at once, in their
        turn: once every projection has reached `lo` (other processes apply the ranges
        before). Returns the events read, or None when `keep_waiting` gave up waiting."""
        while True:
            positions = self.positions()
            page = self.reader.page(lo, hi - lo, stop=hi, wanted=self._wanted(positions))
            # Worked out while waiting for its turn, for projections that will then stand at
            # `lo`, as they do when every range before is applied.
            prepared = self._prepare(page, {n: max(p, lo) for n, p in positions.items()}, hi)
            while True:
                now = self.positions()
                if any(now[name] < positions[name] for name in now):
                    break  # rebuilt meanwhile: read the range again
                if min(now.values()) >= lo:
                    if self._apply_page(page, positions, end=hi, index=False, prepared=prepared):
                        return page.read
                    break
                if not keep_waiting():
                    return None

    def _wanted(self, positions: Mapping[str, int]) -> Callable[[int, str], bool]:
        """Whether an event is worth decoding: a projection behind it wants its topic."""
        floors: dict[str, int] = {}

        def wanted(position: int, topic: str) -> bool:
            floor = floors.get(topic)
            if floor is None:
                behind = [positions[name] for name in self._wanting(topic)]
                floor = floors[topic] = min(behind) if behind else _NEVER
            return position > floor

        return wanted

    def _wanting(self, topic: str) -> list[str]:
        """The projections that want events of a topic (asked once per topic)."""
        names = self._wanted_by.get(topic)
        if names is None:
            names = [n for n, p in self.projections.items() if p.wants(topic)]
            self._wanted_by[topic] = names
        return names

    def _apply_page(
        self,
        page: LogPage,
        positions: Mapping[str, int],
        *,
        end: int,
        index: bool,
        prepared: _Prepared | None = None,
    ) -> bool:
        """Apply a page to every projection behind `end` and move them to `end`, in one
        transaction (with the indexes too if `index`); False, writing nothing, when a
        position moved back since `positions` were read (the page skipped their events).

        The rows are worked out before the lock is taken (or given, `prepared`), for the
        positions the projections are expected to stand at; worked out again under the lock
        when another process moved one meanwhile.
        """
        if prepared is None:
            prepared = self._prepare(page, positions, end)
        with self.db.transaction() as cursor:
            # Another process may have applied this page since the positions were read:
            # take the positions' lock, then read them again, so no event is applied twice.
            locked = self._locked_positions(cursor)
            if any(locked[name] < positions[name] for name in locked):
                return False
            if locked != prepared.basis:
                prepared = self._prepare(page, locked, end)
            if not self.db.postgres:
                cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")  # this connection's
            for name, projection in self.projections.items():
                if locked[name] >= end:
                    continue
                if name in prepared.batches:
                    last, batch = prepared.batches[name]
                    projection.apply(cursor, self.db, batch)
                    self.last_applied = max(self.last_applied, last)
                cursor.execute(
                    f"UPDATE {self.db.table(POSITIONS)} SET position = ? WHERE name = ?",
                    (end, name),
                )
            if index:
                self._index(cursor)
        return True

    def _prepare(self, page: LogPage, basis: Mapping[str, int], end: int) -> _Prepared:
        """Each projection's batch of a page (its events after its position in `basis`), with
        the position of its last event; none for a projection with nothing to apply."""
        events = page.events
        if self.until is not None:
            until = self.until
            events = [item for item in events if item[2].timestamp <= until]
        mine: dict[str, list[tuple[int, Any]]] = {name: [] for name in self.projections}
        for position, topic, event in events:
            for name in self._wanting(topic):
                if position > basis[name]:
                    mine[name].append((position, event))
        batches = {
            name: (found[-1][0], self.projections[name].prepare(self.db, found))
            for name, found in mine.items()
            if found and basis[name] < end
        }
        return _Prepared(dict(basis), batches)

    def _index(self, cursor: ViewCursor) -> None:
        """Make every projection's indexes that are missing (after a rebuild's bulk load)."""
        for projection in self.projections.values():
            for index, table, columns in projection.indexes:
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {index} ON {self.db.table(table)} ({columns})"
                )

    def _locked_positions(self, cursor: ViewCursor) -> dict[str, int]:
        """The positions, read after taking their lock for the rest of the transaction.

        The lock is a write, and the transaction's first statement: PostgreSQL locks the rows
        until commit; SQLite takes its one write lock, waiting for it (a read first would make
        a later write fail at once with `database is locked` when another process wrote).
        """
        cursor.execute(f"UPDATE {self.db.table(POSITIONS)} SET position = position")
        cursor.execute(f"SELECT name, position FROM {self.db.table(POSITIONS)}")
        found = dict(cursor.fetchall())
        return {name: int(found.get(name, 0)) for name in self.projections}

    def rebuild(
        self, names: Sequence[str] = (), progress: Callable[[int], None] | None = None
    ) -> int:
        """Drop and rebuild projections from the first event; returns events read."""
        chosen = list(names) or list(self.projections)
        unknown = [n for n in chosen if n not in self.projections]
        if unknown:
            raise KeyError(
                f"unknown projection {', '.join(unknown)}; known: {', '.join(self.projections)}"
            )
        with self.db.transaction() as cursor:
            self._locked_positions(cursor)  # first, as catch-up does: never a deadlock
            for name in chosen:
                projection = self.projections[name]
                _drop(projection, cursor, self.db)
                projection.create(cursor, self.db)
                cursor.execute(
                    f"UPDATE {self.db.table(POSITIONS)} SET position = 0 WHERE name = ?", (name,)
                )
        return self.catch_up(progress=progress)


@dataclass(frozen=True)
class _Prepared:
    """A page's batches, worked out for the projections standing at `basis`.

    Attributes:
        basis: the position of each projection the batches were worked out from.
        batches: by projection, the position of its last event and what `prepare` returned.
    """

    basis: dict[str, int]
    batches: dict[str, tuple[int, Any]]


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector paused while pages of events are read and applied.

    A page is tens of thousands of new dicts and tuples, none in a reference cycle, and every
    few thousand allocations the collector walks them all again: a fifth of a rebuild's time.
    What a page holds is freed by reference counting when the next replaces it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _drop(projection: Projection, cursor: ViewCursor, db: ViewDatabase) -> None:
    """Drop every table a projection writes, before it is built again from the first event."""
    for table in projection.tables:
        cursor.execute(f"DROP TABLE IF EXISTS {db.table(table)}")
