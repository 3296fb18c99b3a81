"""The ledger's marks in its database: a file or schema that holds no ledger is never written
into, and one written by a newer version is never misread.

A table of its own (`META_TABLE`) beside the events holds the ledger's format version and, for
an encrypted ledger, the cipher's marks (`stores.cipher`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from eventsourcing.persistence import ApplicationRecorder

from jamsos_ledger.domain.errors import StoreUnavailable
from jamsos_ledger.stores.recorder_kinds import is_postgres

# The ledger's own mark in a database, so that a file or schema that is not a ledger is
# never written into, and one written by a newer version is never misread.
META_TABLE = "jamsos_ledger_meta"
FORMAT_VERSION = 1
# Tables, views and foreign tables of a PostgreSQL schema, from the catalog:
# `information_schema.tables` answers the same in milliseconds, checking privileges on every
# table of the database.
SCHEMA_TABLES = (
    "SELECT c.relname FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'f')"
)


def check_sqlite_file(path: Path, create: bool, uri: str) -> None:
    """Refuse a path that is not a ledger this version reads, or (unless `create`) that holds
    no ledger at all: a mistyped path is said to be one, never made an empty ledger."""
    if path.is_dir():
        raise StoreUnavailable(f"{path} is a directory, not a ledger file")
    if not path.exists():
        if not create:
            raise StoreUnavailable(
                f"no ledger at {path}: the file does not exist. Check the path (--store, "
                "JAMSOS_STORE), or open a program there with `program open` to create one"
            )
        if not path.parent.exists():
            raise StoreUnavailable(f"cannot create {path}: folder {path.parent} does not exist")
        return
    if path.stat().st_size == 0:
        if not create:
            raise StoreUnavailable(_empty(str(path)))
        return
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            version = _meta_version_sqlite(conn, tables)
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise StoreUnavailable(f"{path} is not a jamsos ledger (not an SQLite file: {e})") from e
    check_meta(str(path), tables, version)
    if version is None and not create:
        raise StoreUnavailable(_empty(str(path)))


def _empty(where: str) -> str:
    return (
        f"no ledger at {where}: it is empty. Check the path (--store, JAMSOS_STORE), or open a "
        "program there with `program open` to create one"
    )


def _meta_version_sqlite(conn: sqlite3.Connection, tables: set[str]) -> int | None:
    if META_TABLE not in tables:
        return None
    row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key='format'").fetchone()
    return int(row[0]) if row else None


def check_meta(where: str, tables: set[str], version: int | None) -> None:
    if version is None and tables:
        raise StoreUnavailable(
            f"{where} is not a jamsos ledger (it holds other tables: "
            f"{', '.join(sorted(tables)[:5])}); name another file or database"
        )
    if version is not None and version > FORMAT_VERSION:
        raise StoreUnavailable(
            f"{where} was written by a newer jamsos (ledger format {version}, this one reads "
            f"up to {FORMAT_VERSION}); upgrade jamsos-ledger to read it"
        )


def ledger_marks(recorder: ApplicationRecorder) -> dict[str, str]:
    """The marks in the ledger's meta table (none for an in-memory store or a new ledger)."""
    datastore = getattr(recorder, "datastore", None)
    if datastore is None:
        return {}
    inspection = getattr(datastore, "inspection", None)
    if inspection is not None:  # a `stores.postgres.Inspection`
        return dict(inspection.marks)  # read when the store was opened, a moment ago
    with datastore.transaction(commit=False) as cursor:
        if is_postgres(recorder):
            from psycopg import sql  # only for PostgreSQL: psycopg takes a tenth of a second

            cursor.execute(SCHEMA_TABLES + " AND c.relname = %s", (datastore.schema, META_TABLE))
            if cursor.fetchone() is None:
                return {}
            cursor.execute(
                sql.SQL("SELECT key, value FROM {}.{}").format(
                    sql.Identifier(datastore.schema), sql.Identifier(META_TABLE)
                )
            )
            return {row["key"]: row["value"] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (META_TABLE,)
        )
        if cursor.fetchone() is None:
            return {}
        cursor.execute(f"SELECT key, value FROM {META_TABLE}")
        return {row[0]: row[1] for row in cursor.fetchall()}


def mark_as_ledger(recorder: ApplicationRecorder, extra: dict[str, str] | None = None) -> None:
    """Write the ledger's marks beside its events (once; nothing is written when they are there).

    Reading first matters on SQLite: a transaction that reads and then writes is refused at
    once with `database is locked` when another process wrote in between, so processes that
    open the same ledger together must not all write.
    """
    datastore = getattr(recorder, "datastore", None)
    if datastore is None:
        return
    wanted = {"format": str(FORMAT_VERSION), **(extra or {})}
    present = ledger_marks(recorder)
    missing = {k: v for k, v in wanted.items() if k not in present}
    if not missing:
        return
    if getattr(datastore, "inspection", None) is not None:
        datastore.inspection = None  # marks written now: read them from the table from now on
    with datastore.transaction(commit=True) as cursor:
        if is_postgres(recorder):
            from psycopg import sql

            table = sql.SQL("{}.{}").format(
                sql.Identifier(datastore.schema), sql.Identifier(META_TABLE)
            )
            cursor.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (key text PRIMARY KEY, value text NOT NULL)"
                ).format(table)
            )
            for key, value in missing.items():
                cursor.execute(
                    sql.SQL(
                        "INSERT INTO {} VALUES (%s, %s) ON CONFLICT (key) DO NOTHING"
                    ).format(table),
                    (key, value),
                )
        else:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {META_TABLE} "
                "(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            for key, value in missing.items():
                cursor.execute(f"INSERT OR IGNORE INTO {META_TABLE} VALUES (?, ?)", (key, value))
