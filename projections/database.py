"""The tables projections write: plain SQL beside the events, readable with any SQL tool.

SQLite and PostgreSQL differ in placeholders, in how names are qualified by schema, and in how
rows go in fastest in bulk (sqlite3's `executemany`; PostgreSQL's COPY, where a statement per
row costs a round of the server's work each); this module hides exactly that and nothing more,
so the projections' SQL is written once.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.sqlite import SQLiteDatastore

from jamsos_ledger.stores.log_reader import ReadId


@dataclass(frozen=True)
class Insert:
    """Rows added to a table, each the values of `columns`.

    Attributes:
        table: the table as SQL (`ViewDatabase.table`).
        columns: the columns given.
    """

    table: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Update:
    """Rows of a table given new values, each the values of `columns` then those of `keys`.

    Plain assignments, applied in order: the last row given for a key is what stays.

    Attributes:
        table: the table as SQL (`ViewDatabase.table`).
        columns: the columns set.
        keys: the columns that find the row (its primary key).
    """

    table: str
    columns: tuple[str, ...]
    keys: tuple[str, ...]


# What a projection writes: an SQL statement with `?` placeholders, an insert or an update.
Write = str | Insert | Update
# Rows from which an update on PostgreSQL goes through a temporary table.
BULK_UPDATE = 1_000


class ViewCursor:
    """A cursor that takes `?` placeholders on every database and returns plain tuples."""

    def __init__(self, cursor: Any, postgres: bool) -> None:
        self._cursor = cursor
        self._postgres = postgres
        # The library's SQLite cursor wraps sqlite3's, whose rows it makes sqlite3.Row: a cost
        # per row that plain tuples do not have (psycopg's cursor is given tuple rows).
        self._raw = getattr(cursor, "sqlite_cursor", cursor)
        if not postgres:
            self._raw.row_factory = None

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self._postgres else statement

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(self._sql(statement), tuple(params))

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cursor.executemany(self._sql(statement), rows)

    def write(self, what: Write, rows: Sequence[Sequence[Any]]) -> None:
        """Rows of one statement, in order: on PostgreSQL an insert goes by COPY and a large
        update by one UPDATE from a temporary table; anything else by `executemany`."""
        if not rows:
            return
        if isinstance(what, str):
            self.executemany(what, rows)
        elif not self._postgres:
            self._cursor.executemany(_sqlite_statement(what), rows)
        elif isinstance(what, Insert):
            self._copy(what.table, what.columns, rows)
        elif len(rows) < BULK_UPDATE:
            # A temporary table costs the catalog a table's creation: not for a few rows.
            self.executemany(_sqlite_statement(what), rows)
        else:
            self._update_from(what, rows)

    def _copy(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        with self._cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _update_from(self, update: Update, rows: Sequence[Sequence[Any]]) -> None:
        names = (*update.columns, *update.keys)
        width = len(update.columns)
        latest = {tuple(row[width:]): row for row in rows}  # the last of a key, as in order
        self._cursor.execute(
            f"CREATE TEMPORARY TABLE jamsos_update AS SELECT {', '.join(names)} "
            f"FROM {update.table} WITH NO DATA"
        )
        self._copy("jamsos_update", names, list(latest.values()))
        assignments = ", ".join(f"{c} = u.{c}" for c in update.columns)
        matches = " AND ".join(f"t.{k} = u.{k}" for k in update.keys)
        self._cursor.execute(
            f"UPDATE {update.table} t SET {assignments} FROM jamsos_update u WHERE {matches}"
        )
        self._cursor.execute("DROP TABLE jamsos_update")

    def columns(self) -> list[str]:
        """Names of the last query's columns."""
        return [d[0] for d in self._raw.description]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._raw.fetchall())

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        return list(self._raw.fetchmany(size))

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._raw.fetchone()
        return None if row is None else tuple(row)


def id_text(value: UUID) -> str:
    """An id as the tables keep it, `str(value)`.

    Every projection that an event changes writes its ids, and formatting a UUID costs about
    half a microsecond: an id read from the log keeps its text (`ReadId`); any other (an id
    inside an event, such as a program's) is remembered for about a page of events.
    """
    if type(value) is ReadId:
        return str(value)
    return _formatted(value)


@lru_cache(maxsize=1 << 15)
def _formatted(value: UUID) -> str:
    return str(value)


@lru_cache(maxsize=64)
def _sqlite_statement(what: Insert | Update) -> str:
    """The statement with `?` placeholders (`ViewCursor.executemany` adapts it to psycopg)."""
    if isinstance(what, Insert):
        marks = ", ".join("?" * len(what.columns))
        return f"INSERT INTO {what.table} ({', '.join(what.columns)}) VALUES ({marks})"
    assignments = ", ".join(f"{c} = ?" for c in what.columns)
    matches = " AND ".join(f"{k} = ?" for k in what.keys)
    return f"UPDATE {what.table} SET {assignments} WHERE {matches}"


# Statements in order, each with the rows it writes.
Grouped = list[tuple[Write, list[Sequence[Any]]]]


def grouped(statements: Sequence[tuple[Write, Sequence[Any]]]) -> Grouped:
    """Statements in order, each run of the same statement made one write of many rows (worked
    out before a write lock is taken, see `Projection.prepare`)."""
    writes: Grouped = []
    last: Write | None = None
    for what, params in statements:
        if what != last:
            writes.append((what, []))
            last = what
        writes[-1][1].append(params)
    return writes


def write_grouped(cursor: ViewCursor, writes: Grouped) -> None:
    for what, rows in writes:
        cursor.write(what, rows)


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
        from jamsos_ledger.stores.recorder_kinds import is_recorder_of

        datastore = getattr(recorder, "datastore", None)
        if is_recorder_of(recorder, "eventsourcing.postgres") and datastore is not None:
            return cls(datastore, postgres=True, schema=datastore.schema)
        if is_recorder_of(recorder, "eventsourcing.sqlite") and datastore is not None:
            return cls(datastore, postgres=False)
        memory = SQLiteDatastore(f"file:jamsos-views-{uuid4().hex}?mode=memory&cache=shared")
        return cls(memory, postgres=False, owned=True)

    @property
    def sqlite_file(self) -> str | None:
        """The SQLite file (or shared in-memory URI) another connection can open; None on
        PostgreSQL."""
        if self.postgres:
            return None
        if isinstance(self.datastore, ScratchDatastore):
            return self.datastore.path
        return str(self.datastore.pool.db_name)

    def close(self) -> None:
        """Close the private database; the store's own is closed with the store."""
        if self.owned:
            self.datastore.close()

    def has_table(self, cursor: ViewCursor, name: str) -> bool:
        """Whether the table exists (in the store's schema on PostgreSQL)."""
        if self.postgres:
            # The catalog, not information_schema.tables, which checks privileges on every
            # table of the database first (milliseconds, at every start).
            cursor.execute(
                "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ? "
                "AND c.relkind IN ('r', 'p')",
                (self.schema, name),
            )
        else:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return cursor.fetchone() is not None

    def scan(self, statement: str, page: int) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of a query, a page at a time, never all held at once, in one read-only
        transaction: on PostgreSQL through a server-side cursor (an ordinary cursor receives
        the whole result when the query is sent: a million workers' rows at once)."""
        if self.postgres:
            from psycopg.rows import tuple_row

            with (
                self.datastore.get_connection() as conn,
                conn.transaction(force_rollback=True),
                conn.cursor(name="jamsos_scan", row_factory=tuple_row) as cursor,
            ):
                cursor.execute(statement.replace("?", "%s"))
                while rows := cursor.fetchmany(page):
                    yield rows
        else:
            with self.transaction(commit=False) as cursor:
                cursor.execute(statement)
                while rows := cursor.fetchmany(page):
                    yield rows

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


class ScratchDatastore:
    """A private SQLite file that is thrown away after use, for a `ViewDatabase`.

    An audit's replay builds every projection afresh in one. Nothing in it has to survive a
    crash (it is built again), so it is never synced to disk (`synchronous = OFF`): the store's
    own views keep the library's durability. WAL lets a helper process read the positions while
    the other writes; write transactions take the write lock when they begin.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()  # one connection: one transaction at a time
        self._connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=60
        )
        self._connection.execute("PRAGMA journal_mode = WAL")
        self._connection.execute("PRAGMA synchronous = OFF")

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[sqlite3.Cursor]:
        """One transaction; committed if `commit` and nothing was raised, else rolled back."""
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute("BEGIN IMMEDIATE" if commit else "BEGIN")
            try:
                yield cursor
            except BaseException:
                self._connection.rollback()
                raise
            else:
                if commit:
                    self._connection.commit()
                else:
                    self._connection.rollback()
            finally:
                cursor.close()

    def close(self) -> None:
        self._connection.close()
