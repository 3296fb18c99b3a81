"""An import written in one transaction, sealed once: the whole file or nothing of it.

A city's registration file is one decision: the file is registered or it is not. Its rows are
written in batches as they are read (a big file is read by other processes meanwhile, see
`import_pool`), all in one transaction, so a file found bad half-way, or an import killed at
any moment, leaves nothing in the log, and running it again registers every worker it holds.

Each batch goes in a savepoint of its own: a batch refused because some of its workers are
registered already is undone alone, and written again without them, while the rest of the
import stands. Every batch takes its positions and its chain rows as any insert does; the
transaction holds the store's one write lock from its first batch to its commit (PostgreSQL:
the library's `LOCK TABLE ... IN EXCLUSIVE MODE`), so other writers wait for the import, up to
their lock timeout (JAMSOS_LOCK_TIMEOUT, JAMSOS_SQLITE_LOCK_TIMEOUT). The rows must keep
coming meanwhile: PostgreSQL ends a transaction left idle longer than the library's
POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT (5 s), and the import fails with nothing kept; a
file's parts come back every fraction of a second.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, IntegrityError, StoredEvent

from jamsos_ledger.stores.bulk_reads import existing_originators
from jamsos_ledger.stores.integrity import ChainedSQLiteApplicationRecorder

if TYPE_CHECKING:
    import psycopg

    from jamsos_ledger.stores.integrity_postgres import ChainedPostgresApplicationRecorder

_SAVEPOINT = "jamsos_batch"


class BulkWriter(Protocol):
    """Writes the batches of one import in its transaction."""

    def insert(self, stored_events: Sequence[StoredEvent]) -> None:
        """Store a batch of first events, chained; IntegrityError (the batch undone, the
        transaction going on) when an aggregate of it exists already."""

    def existing(self, originator_ids: Sequence[UUID], *, here: bool = False) -> set[UUID]:
        """Which of these aggregates exist, as this transaction sees them (its own batches
        included); with `here`, only those this transaction registered."""


@contextmanager
def bulk_writer(recorder: ApplicationRecorder) -> Iterator[BulkWriter]:
    """One transaction for the batches written in the block, committed when it ends and
    rolled back when it raises."""
    if _chained_postgres(recorder):
        datastore = recorder.datastore
        try:
            with datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
                recorder.lock_for_insert(curs)
                yield _PostgresBatches(recorder, conn, curs)
                recorder.seal_within(curs)  # one seal for the whole import
        finally:
            recorder.within_first = None  # a transaction undone leaves no position to seal from
    elif isinstance(recorder, ChainedSQLiteApplicationRecorder):
        try:
            with recorder.datastore.transaction(commit=True) as cursor:
                yield _SQLiteBatches(recorder, cursor)
                recorder.seal_within(cursor)
        finally:
            recorder.within_first = None
    else:
        # The in-memory store (tests, demos in one process): the batches are kept aside and
        # stored at the end, in one insert.
        batches = _InMemory(recorder)
        yield batches
        batches.store()


class _InTransaction:
    """The batches of an import in one database transaction, that of `cursor`."""

    def __init__(self, recorder: ApplicationRecorder, cursor: Any) -> None:
        self.recorder, self.cursor = recorder, cursor
        self.first: int | None = None  # the first position this transaction wrote

    def insert(self, stored_events: Sequence[StoredEvent]) -> None:
        ids = self._inserted(stored_events)
        if self.first is None and ids:
            self.first = ids[0]

    def existing(self, originator_ids: Sequence[UUID], *, here: bool = False) -> set[UUID]:
        if here and self.first is None:
            return set()  # nothing written yet
        since = self.first if here else None
        return existing_originators(
            self.recorder, originator_ids, cursor=self.cursor, since=since
        )

    def _inserted(self, stored_events: Sequence[StoredEvent]) -> Sequence[int]:
        """The batch stored in a savepoint, its positions; IntegrityError, the savepoint
        undone, when an aggregate of it exists."""
        raise NotImplementedError


class _PostgresBatches(_InTransaction):
    recorder: ChainedPostgresApplicationRecorder

    def __init__(
        self,
        recorder: ChainedPostgresApplicationRecorder,
        conn: psycopg.Connection[Any],
        cursor: psycopg.Cursor[Any],
    ) -> None:
        super().__init__(recorder, cursor)
        self.conn = conn

    def _inserted(self, stored_events: Sequence[StoredEvent]) -> Sequence[int]:
        import psycopg

        try:
            with self.conn.transaction():  # a savepoint inside the import's transaction
                return self.recorder.copy_within(self.cursor, stored_events, seal=False)
        except psycopg.IntegrityError as e:
            raise IntegrityError(str(e)) from e


class _SQLiteBatches(_InTransaction):
    recorder: ChainedSQLiteApplicationRecorder

    def _inserted(self, stored_events: Sequence[StoredEvent]) -> Sequence[int]:
        self.cursor.execute(f"SAVEPOINT {_SAVEPOINT}")
        try:
            ids = self.recorder.insert_within(self.cursor, stored_events)
        except sqlite3.IntegrityError as e:
            self.cursor.execute(f"ROLLBACK TO {_SAVEPOINT}")
            self.cursor.execute(f"RELEASE {_SAVEPOINT}")
            raise IntegrityError(str(e)) from e
        self.cursor.execute(f"RELEASE {_SAVEPOINT}")
        return ids


class _InMemory:
    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder
        self.pending: list[StoredEvent] = []
        self.written: set[UUID] = set()

    def insert(self, stored_events: Sequence[StoredEvent]) -> None:
        ids = [_uuid(s.originator_id) for s in stored_events]
        if self.existing(ids):
            raise IntegrityError("an aggregate of the batch exists already")
        self.pending.extend(stored_events)
        self.written.update(ids)

    def existing(self, originator_ids: Sequence[UUID], *, here: bool = False) -> set[UUID]:
        found = self.written.intersection(originator_ids)
        if here:
            return found
        return found | existing_originators(self.recorder, originator_ids)

    def store(self) -> None:
        if self.pending:
            self.recorder.insert_events(self.pending)


def _chained_postgres(
    recorder: ApplicationRecorder,
) -> TypeGuard[ChainedPostgresApplicationRecorder]:
    """Whether the recorder is the ledger's PostgreSQL one: never when its module, and so
    psycopg, was not imported (a command on SQLite does without them)."""
    module = sys.modules.get("jamsos_ledger.stores.integrity_postgres")
    return module is not None and isinstance(recorder, module.ChainedPostgresApplicationRecorder)


def _uuid(originator_id: UUID | str) -> UUID:
    return originator_id if isinstance(originator_id, UUID) else UUID(originator_id)


__all__ = ["BulkWriter", "bulk_writer"]
