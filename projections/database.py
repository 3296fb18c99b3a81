"""The tables projections write: plain SQL beside the events, readable with any SQL tool.

SQLite and PostgreSQL differ in placeholders and in how names are qualified by schema; this
module hides exactly that and nothing more, so the projections' SQL is written once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.sqlite import SQLiteDatastore


class ViewCursor:
    """A cursor that takes `?` placeholders on every database and returns plain tuples."""

    def __init__(self, cursor: Any, postgres: bool) -> None:
        self._cursor = cursor
        self._postgres = postgres

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self._postgres else statement

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(self._sql(statement), tuple(params))

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cursor.executemany(self._sql(statement), [tuple(r) for r in rows])

    def columns(self) -> list[str]:
        """Names of the last query's columns."""
        # The library wraps sqlite3's cursor; psycopg's is used as it is.
        cursor = getattr(self._cursor, "sqlite_cursor", self._cursor)
        return [d[0] for d in cursor.description]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._cursor.fetchall()]

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        cursor = getattr(self._cursor, "sqlite_cursor", self._cursor)
        return [tuple(r) for r in cursor.fetchmany(size)]

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)


class ViewDatabase:
    """Where a ledger's projections live: the store's own database, or a private one in memory."""

    def __init__(
        self, datastore: Any, *, postgres: bool, schema: str = "", owned: bool = False
    ) -> None:
        self.datastore = datastore
        self.postgres = postgres
        self.schema = schema
        self.owned = owned  # a private database this object opened, and so must close

    @classmethod
    def beside(cls, recorder: ApplicationRecorder) -> ViewDatabase:
        """The database of the recorder's events; for an in-memory store, an SQLite in memory."""
        from jamsos_ledger.persistence import is_recorder_of

        datastore = getattr(recorder, "datastore", None)
        if is_recorder_of(recorder, "eventsourcing.postgres") and datastore is not None:
            return cls(datastore, postgres=True, schema=datastore.schema)
        if is_recorder_of(recorder, "eventsourcing.sqlite") and datastore is not None:
            return cls(datastore, postgres=False)
        memory = SQLiteDatastore(f"file:jamsos-views-{uuid4().hex}?mode=memory&cache=shared")
        return cls(memory, postgres=False, owned=True)

    def close(self) -> None:
        """Close the private database; the store's own is closed with the store."""
        if self.owned:
            self.datastore.close()

    def has_table(self, cursor: ViewCursor, name: str) -> bool:
        """Whether the table exists (in the store's schema on PostgreSQL)."""
        if self.postgres:
            cursor.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = ? "
                "AND table_name = ?",
                (self.schema, name),
            )
        else:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return cursor.fetchone() is not None

    def table(self, name: str) -> str:
        """A table's name as SQL, qualified by the store's schema on PostgreSQL."""
        if self.postgres:
            return f'"{self.schema}"."{name}"'
        return name

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[ViewCursor]:
        """One transaction: everything in it is written, or nothing."""
        if self.postgres:
            from psycopg.rows import tuple_row

            with (
                self.datastore.get_connection() as conn,
                conn.transaction(force_rollback=not commit),
                conn.cursor(row_factory=tuple_row) as cursor,
            ):
                yield ViewCursor(cursor, postgres=True)
        else:
            with self.datastore.transaction(commit=commit) as cursor:
                yield ViewCursor(cursor, postgres=False)
