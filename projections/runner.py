"""Keeping projections up to date from the event log: pull, apply a batch, record how far.

`eventsourcing`'s ProjectionRunner needs subscriptions, which SQLite lacks, and writes a
transaction per event; a pull loop over pages of the log works on every store and writes each
batch of rows together with the position it reached, in one transaction, so every event is
applied exactly once and a crash resumes where the last batch ended (ENGINEERING.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification

from jamsos_ledger.projections.database import ViewCursor, ViewDatabase

POSITIONS = "jamsos_projection_position"
# Events applied in one transaction (ENGINEERING.md: 15-28x faster than one per event).
BATCH = 5_000


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

    def create(self, cursor: ViewCursor, db: ViewDatabase) -> None:
        """Create the tables if they do not exist."""

    def wants(self, topic: str) -> bool:
        """Whether events of this topic change the projection."""

    def apply(
        self, cursor: ViewCursor, db: ViewDatabase, events: Sequence[tuple[int, Any]]
    ) -> None:
        """Apply (position, domain event) pairs, in order, within the caller's transaction."""


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
    skipped, and the positions still advance past them.
    """

    def __init__(
        self,
        db: ViewDatabase,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        projections: Sequence[Projection],
        *,
        until: datetime | None = None,
    ) -> None:
        self.db = db
        self.until = until
        # With `until`, the last position applied: the event the figures were computed from.
        self.last_applied = 0
        self.recorder = recorder
        self.mapper = mapper
        self.projections = {p.name: p for p in projections}
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

        `progress`, if given, is told how many events each page read (a progress bar).
        """
        read = 0
        while True:
            positions = self.positions()
            start = min(positions.values())
            if stop is not None and start >= stop:
                return read
            page = self.recorder.select_notifications(
                start=start, limit=BATCH, stop=stop, inclusive_of_start=False
            )
            if not page:
                return read
            self._apply_page(page, positions)
            read += len(page)
            if progress is not None:
                progress(len(page))
            if len(page) < BATCH:
                return read

    def _apply_page(self, page: Sequence[Notification], positions: dict[str, int]) -> None:
        decoded: dict[int, Any] = {}
        last = page[-1].id
        with self.db.transaction() as cursor:
            # Another process may have applied this page since the positions were read:
            # take the positions' lock, then read them again, so no event is applied twice.
            positions = self._locked_positions(cursor)
            for name, projection in self.projections.items():
                events = []
                for n in page:
                    if n.id <= positions[name] or not projection.wants(n.topic):
                        continue
                    if n.id not in decoded:
                        decoded[n.id] = self.mapper.to_domain_event(n)
                    if self.until is not None and decoded[n.id].timestamp > self.until:
                        continue
                    events.append((n.id, decoded[n.id]))
                if events:
                    projection.apply(cursor, self.db, events)
                    self.last_applied = max(self.last_applied, events[-1][0])
                if positions[name] < last:
                    cursor.execute(
                        f"UPDATE {self.db.table(POSITIONS)} SET position = ? WHERE name = ?",
                        (last, name),
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


def _drop(projection: Projection, cursor: ViewCursor, db: ViewDatabase) -> None:
    """Drop every table a projection writes, before it is built again from the first event."""
    for table in projection.tables:
        cursor.execute(f"DROP TABLE IF EXISTS {db.table(table)}")
