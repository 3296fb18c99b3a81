"""The ledger's PostgreSQL factory: one connection made when a command first needs it, the
store checked on it before anything is written, and the library's start-up work skipped where
the ledger does not need it.

The library's own factory opens a pool of five connections in background threads, fetches its
composite type's definition, and runs its DDL (whose commit waits for the disk) at every
start: together more than a report's own queries (`make bench`). Selected by the store's
settings (`StoreURL.environment`, `PERSISTENCE_MODULE`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import psycopg
from eventsourcing.persistence import AggregateRecorder, ApplicationRecorder, ProcessRecorder
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
    PostgresProcessRecorder,
)
from eventsourcing.utils import Environment, EnvType, resolve_topic
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row

from jamsos_ledger.domain.errors import StoreUnavailable
from jamsos_ledger.stores.integrity_postgres import (
    ChainedPostgresAggregateRecorder,
    ChainedPostgresApplicationRecorder,
    ChainedPostgresProcessRecorder,
)
from jamsos_ledger.stores.marks import META_TABLE, SCHEMA_TABLES, check_meta
from jamsos_ledger.stores.urls import MUST_EXIST_SETTING, STORE_TEXT_SETTING


@dataclass(frozen=True)
class Inspection:
    """What a PostgreSQL schema held when the ledger's first connection looked.

    Attributes:
        tables: the schema's tables (and views).
        marks: the ledger's marks (its meta table's rows); empty when it has none.
    """

    tables: frozenset[str]
    marks: dict[str, str]


def _inspect_postgres(conn: psycopg.Connection[Any], schema: str) -> Inspection:
    """The schema's tables and the ledger's marks, read on one connection."""
    with conn.cursor(row_factory=tuple_row) as cursor:
        cursor.execute(SCHEMA_TABLES, (schema,))
        tables = frozenset(r[0] for r in cursor.fetchall())
        marks: dict[str, str] = {}
        if META_TABLE in tables:
            cursor.execute(
                sql.SQL("SELECT key, value FROM {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(META_TABLE)
                )
            )
            marks = {r[0]: r[1] for r in cursor.fetchall()}
    return Inspection(tables, marks)


def _schema_exists(conn: psycopg.Connection[Any], schema: str) -> bool:
    with conn.cursor(row_factory=tuple_row) as cursor:
        cursor.execute("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s", (schema,))
        return cursor.fetchone() is not None


def _unreachable(where: str, e: psycopg.Error) -> StoreUnavailable:
    first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return StoreUnavailable(
        f"cannot reach PostgreSQL at {where}: {first_line}. Is the server running, "
        "and are the host, port, user, password (PGPASSWORD) and database right?"
    )


class LazyConnections:
    """Connections to PostgreSQL made when first needed, each lent to one user at a time and
    kept until closed: what the library's datastore uses in place of its pool.

    A command needs one connection (two when it reads while a transaction is open); the
    library's pool opened five at every start, in background threads, before the first query.
    """

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]]) -> None:
        self._connect = connect
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._closed = False

    def open(self, wait: bool = False, timeout: float = 30.0) -> None:
        """Nothing to open: the library calls this before every use of a connection."""

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """An idle connection, or a new one; given back when the block ends."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            self._give_back(conn)

    def _give_back(self, conn: psycopg.Connection[Any]) -> None:
        if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
            try:
                conn.rollback()  # as the pool does: never lend a connection mid-transaction
            except psycopg.Error:
                conn.close()
        with self._lock:
            if not conn.closed and not self._closed:
                self._idle.append(conn)
                return
        conn.close()

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __enter__(self) -> LazyConnections:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.close()


class LedgerDatastore(PostgresDatastore):
    """The library's PostgreSQL datastore on `LazyConnections`, which knows what the schema
    held when it was opened (`inspection`), and registers the library's composite type only
    once a recorder that inserts with it is made (`uses_composite_types`).

    Attributes:
        inspection: the schema's tables and the ledger's marks, read on the first connection.
        uses_composite_types: whether a recorder of this datastore inserts events as values of
            the library's composite type (one not chained, named by a recorder topic).
    """

    inspection: Inspection | None = None
    uses_composite_types: bool = False

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)  # its pool is made closed, and never opened
        library_pool = self.pool
        configure = self.after_connect_func()
        assert isinstance(library_pool.kwargs, dict)
        kwargs = dict(library_pool.kwargs)
        timeout = max(round(library_pool.timeout), 1)
        get_password = library_pool.get_password_func

        def connect() -> psycopg.Connection[Any]:
            if get_password is not None:
                kwargs["password"] = get_password()
            conn: psycopg.Connection[Any] = psycopg.Connection.connect(
                **kwargs, connect_timeout=timeout
            )
            configure(conn)
            return conn

        self.pool = LazyConnections(connect)  # type: ignore[assignment]

    def register_type_adapters(self) -> None:
        """The library fetches its composite type's definition from the database, on every
        start: only needed by a recorder that sends events as values of that type."""
        if self.uses_composite_types:
            super().register_type_adapters()

    def inspect(self, where: str, *, must_exist: bool = False) -> Inspection:
        """Connect, and read what the schema holds; StoreUnavailable, saying what to do, when
        the server cannot be reached, or the schema is not a ledger this version can read, or
        (with `must_exist`, every command but `program open`) holds no ledger. A missing
        schema is created only when the ledger may be (as a missing SQLite file is)."""
        try:
            with self.pool.connection() as conn:
                inspection = _inspect_postgres(conn, self.schema)
                if not inspection.tables:  # one with other tables is refused below
                    exists = _schema_exists(conn, self.schema)
                    if must_exist:
                        state = "is empty" if exists else "does not exist"
                        raise StoreUnavailable(
                            f"no ledger at {where}: schema {self.schema} {state}. Check the "
                            "store URL (--store, JAMSOS_STORE), or open a program there with "
                            "`program open` to create one"
                        )
                    if not exists:
                        with conn.transaction():
                            conn.execute(
                                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                                    sql.Identifier(self.schema)
                                )
                            )
        except psycopg.Error as e:
            raise _unreachable(where, e) from e
        version = inspection.marks.get("format")
        check_meta(
            f"{where} (schema {self.schema})",
            set(inspection.tables),
            None if version is None else int(version),
        )
        self.inspection = inspection
        return inspection


class LedgerPostgresFactory(PostgresFactory):
    """The library's PostgreSQL factory, for the ledger: it connects once, checks that the
    schema is a ledger (or empty) before anything is written, creates an events recorder's
    tables only when they are missing, and chains every recorder that writes events
    (tracking recorders are the library's: they write none).

    The library creates its tables, type and insert function at every start: DDL whose commit
    waits for the disk, and locks the catalog against other processes opening the same ledger.
    """

    aggregate_recorder_class = ChainedPostgresAggregateRecorder
    application_recorder_class = ChainedPostgresApplicationRecorder
    process_recorder_class = ChainedPostgresProcessRecorder

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)  # reads and checks the settings, into a datastore not yet open
        library = self.datastore
        settings = library.pool.kwargs
        assert isinstance(settings, dict)
        self.datastore = LedgerDatastore(
            dbname=settings["dbname"],
            host=settings["host"],
            port=settings["port"],
            user=settings["user"],
            password=settings["password"],
            connect_timeout=library.pool.timeout,
            idle_in_transaction_session_timeout=library.idle_in_transaction_session_timeout,
            lock_timeout=library.lock_timeout,
            schema=library.schema,
            get_password_func=library.pool.get_password_func,
            single_row_tracking=library.single_row_tracking,
            originator_id_type="text" if library.originator_id_type == "text" else "uuid",
            enable_db_functions=library.enable_db_functions,
        )
        library.close()
        where = self.env.get(STORE_TEXT_SETTING) or f"database {settings['dbname']}"
        try:
            self.datastore.inspect(where, must_exist=bool(self.env.get(MUST_EXIST_SETTING)))
        except BaseException:
            self.datastore.close()
            raise

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        recorder = self._made(
            type(self).aggregate_recorder_class,
            events_table_name=f"{self.env.name.lower() or 'stored'}_{purpose}",
        )
        if self.env_create_table() and not self._has_tables_of(recorder):
            recorder.create_table()
        return recorder

    def application_recorder(self) -> ApplicationRecorder:
        topic = self.env.get(self.APPLICATION_RECORDER_TOPIC)
        recorder = self._made(
            resolve_topic(topic) if topic else type(self).application_recorder_class,
            events_table_name=f"{self.env.name.lower() or 'stored'}_events",
        )
        if self.env_create_table() and not self._has_tables_of(recorder):
            recorder.create_table()
        return recorder

    def process_recorder(self) -> ProcessRecorder:
        topic = self.env.get(self.PROCESS_RECORDER_TOPIC)
        recorder = self._made(
            resolve_topic(topic) if topic else type(self).process_recorder_class,
            events_table_name=f"{self.env.name.lower() or 'stored'}_events",
            tracking_table_name=f"{self.env.name.lower() or 'notification'}_tracking",
        )
        assert isinstance(recorder, PostgresProcessRecorder)
        if self.env_create_table():
            recorder.create_table()  # its tracking table may need the library's migration
        return recorder

    def _made(self, recorder_class: type[Any], **tables: str) -> Any:
        """A recorder of that class on the ledger's datastore; the library's composite type
        registered first when the class inserts with it (one a topic named, not chained)."""
        assert issubclass(recorder_class, PostgresApplicationRecorder)
        chained = issubclass(recorder_class, ChainedPostgresApplicationRecorder)
        if not chained and isinstance(self.datastore, LedgerDatastore):
            self.datastore.uses_composite_types = True
        return recorder_class(datastore=self.datastore, **tables)

    def _has_tables_of(self, recorder: PostgresApplicationRecorder) -> bool:
        """Whether the tables the recorder writes were there when the store was opened (it
        creates its type, then its tables and their index in one transaction)."""
        inspection = getattr(self.datastore, "inspection", None)
        if inspection is None:
            return False
        wanted = {
            recorder.events_table_name,
            getattr(recorder, "chain_table_name", ""),
            getattr(recorder, "seal_table_name", ""),
        } - {""}
        return wanted <= inspection.tables
