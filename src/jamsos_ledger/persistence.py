"""Where the ledger lives: store URLs, the `eventsourcing` environment they make, bulk reads.

One URL names a store (CLI.md): `sqlite:///path` (the default, `./jamsos.db`),
`postgresql://user@host:port/dbname[?schema=NAME]`, or `memory://`. Everything else about
storage (recorders, pools, tables) is the `eventsourcing` library's, configured from here.
"""

from __future__ import annotations

import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent

from jamsos_ledger.errors import InvalidInput, StoreUnavailable

DEFAULT_STORE = "sqlite:///jamsos.db"

# The ledger's own mark in a database, so that a file or schema that is not a ledger is
# never written into, and one written by a newer version is never misread.
META_TABLE = "jamsos_ledger_meta"
FORMAT_VERSION = 1

# SQLite has a limit on bound parameters per statement; stay well below it.
_SQLITE_CHUNK = 500


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL.

    Attributes:
        kind: `sqlite`, `postgresql` or `memory`.
        path: the SQLite file (sqlite only).
        host, port, user, password, dbname, schema: PostgreSQL connection parts.
        text: the URL as given, password removed, for messages.
    """

    kind: str
    text: str
    path: str = ""
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""
    schema: str = ""

    @classmethod
    def parse(cls, url: str) -> StoreURL:
        """Read a store URL; InvalidInput says what a good one looks like."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "memory":
            return cls(kind="memory", text="memory://")
        if scheme == "sqlite":
            if not url.lower().startswith("sqlite:///") or len(url) <= len("sqlite:///"):
                raise InvalidInput(
                    f"SQLite store URL {url!r} needs a file: sqlite:///relative/path.db or "
                    "sqlite:////absolute/path.db"
                )
            return cls(kind="sqlite", text=url, path=url[len("sqlite:///") :])
        if scheme in ("postgresql", "postgres"):
            dbname = unquote(parts.path.lstrip("/"))
            if not parts.hostname or not dbname:
                raise InvalidInput(
                    f"PostgreSQL store URL {redact(url)!r} needs a host and a database: "
                    "postgresql://user@host:5432/dbname"
                )
            query = parse_qs(parts.query)
            try:
                port = parts.port or 5432
            except ValueError:
                raise InvalidInput(f"store URL {redact(url)!r} has a bad port") from None
            return cls(
                kind="postgresql",
                text=redact(url),
                host=parts.hostname,
                port=port,
                user=unquote(parts.username or "") or os.environ.get("PGUSER", "postgres"),
                password=unquote(parts.password or "") or os.environ.get("PGPASSWORD", ""),
                dbname=dbname,
                schema=query.get("schema", [""])[0],
            )
        raise InvalidInput(
            f"unknown store URL {url!r}: use sqlite:///path.db, "
            "postgresql://user@host:port/dbname or memory://"
        )

    def environment(self) -> dict[str, str]:
        """The `eventsourcing` settings for this store."""
        if self.kind == "memory":
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        if self.kind == "sqlite":
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": self.path,
                "SQLITE_LOCK_TIMEOUT": os.environ.get("JAMSOS_SQLITE_LOCK_TIMEOUT", "30"),
            }
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_SCHEMA": self.schema,
            "POSTGRES_CONNECT_TIMEOUT": os.environ.get("JAMSOS_CONNECT_TIMEOUT", "5"),
            "POSTGRES_LOCK_TIMEOUT": os.environ.get("JAMSOS_LOCK_TIMEOUT", "30"),
        }

    def check_reachable(self) -> None:
        """Refuse early, with what to do, when the store cannot be used."""
        if self.kind == "sqlite":
            _check_sqlite_file(Path(self.path))
        elif self.kind == "postgresql":
            _check_postgres(self)


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def _check_sqlite_file(path: Path) -> None:
    if path.is_dir():
        raise StoreUnavailable(f"{path} is a directory, not a ledger file")
    if not path.exists():
        if not path.parent.exists():
            raise StoreUnavailable(f"cannot create {path}: folder {path.parent} does not exist")
        return
    if path.stat().st_size == 0:
        return
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            version = _meta_version_sqlite(conn, tables)
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise StoreUnavailable(f"{path} is not a jamsos ledger (not an SQLite file: {e})") from e
    _check_meta(str(path), tables, version)


def _meta_version_sqlite(conn: sqlite3.Connection, tables: set[str]) -> int | None:
    if META_TABLE not in tables:
        return None
    row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key='format'").fetchone()
    return int(row[0]) if row else None


def _check_meta(where: str, tables: set[str], version: int | None) -> None:
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


def _check_postgres(url: StoreURL) -> None:
    import psycopg

    try:
        with psycopg.connect(
            host=url.host,
            port=url.port,
            user=url.user,
            password=url.password or None,
            dbname=url.dbname,
            connect_timeout=int(os.environ.get("JAMSOS_CONNECT_TIMEOUT", "5")),
        ) as conn:
            schema = url.schema or "public"
            rows = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            ).fetchall()
            tables = {r[0] for r in rows}
            version = None
            if META_TABLE in tables:
                from psycopg import sql

                row = conn.execute(
                    sql.SQL("SELECT value FROM {}.{} WHERE key='format'").format(
                        sql.Identifier(schema), sql.Identifier(META_TABLE)
                    )
                ).fetchone()
                version = int(row[0]) if row else None
    except psycopg.Error as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StoreUnavailable(
            f"cannot reach PostgreSQL at {url.text}: {first_line}. Is the server running, "
            "and are the host, port, user, password (PGPASSWORD) and database right?"
        ) from e
    _check_meta(f"{url.text} (schema {url.schema or 'public'})", tables, version)


def mark_as_ledger(recorder: ApplicationRecorder) -> None:
    """Write the ledger's mark beside its events (once; harmless when already there)."""
    datastore = getattr(recorder, "datastore", None)
    if datastore is None:
        return
    with datastore.transaction(commit=True) as cursor:
        if _is_postgres(recorder):
            from psycopg import sql

            table = sql.SQL("{}.{}").format(
                sql.Identifier(datastore.schema), sql.Identifier(META_TABLE)
            )
            cursor.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (key text PRIMARY KEY, value text NOT NULL)"
                ).format(table)
            )
            cursor.execute(
                sql.SQL(
                    "INSERT INTO {} VALUES ('format', %s) ON CONFLICT (key) DO NOTHING"
                ).format(table),
                (str(FORMAT_VERSION),),
            )
        else:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {META_TABLE} "
                "(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            cursor.execute(
                f"INSERT OR IGNORE INTO {META_TABLE} VALUES ('format', ?)", (str(FORMAT_VERSION),)
            )


def _is_postgres(recorder: ApplicationRecorder) -> bool:
    return type(recorder).__module__.startswith("eventsourcing.postgres")


def _is_sqlite(recorder: ApplicationRecorder) -> bool:
    return type(recorder).__module__.startswith("eventsourcing.sqlite")


def select_events_of(
    recorder: ApplicationRecorder, originator_ids: Sequence[UUID]
) -> dict[UUID, list[StoredEvent]]:
    """The stored events of many aggregates in a few queries, each aggregate's in order.

    Loading ten thousand workers one query each costs ten thousand round trips; this costs a
    handful (ENGINEERING.md: batch everything that comes in bulk).
    """
    found: dict[UUID, list[StoredEvent]] = defaultdict(list)
    if not originator_ids:
        return found
    if _is_sqlite(recorder):
        table = recorder.events_table_name  # type: ignore[attr-defined]
        for chunk in _chunks(originator_ids, _SQLITE_CHUNK):
            marks = ",".join("?" * len(chunk))
            with recorder.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
                c.execute(
                    f"SELECT originator_id, originator_version, topic, state FROM {table} "
                    f"WHERE originator_id IN ({marks}) ORDER BY originator_id, originator_version",
                    [i.hex for i in chunk],
                )
                for row in c.fetchall():
                    oid = UUID(row[0])
                    found[oid].append(StoredEvent(oid, row[1], row[2], row[3]))
    elif _is_postgres(recorder):
        from psycopg import sql

        statement = sql.SQL(
            "SELECT originator_id, originator_version, topic, state FROM {}.{} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(
            sql.Identifier(recorder.datastore.schema),  # type: ignore[attr-defined]
            sql.Identifier(recorder.events_table_name),  # type: ignore[attr-defined]
        )
        for chunk in _chunks(originator_ids, 10_000):
            with recorder.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
                c.execute(statement, (list(chunk),))
                for row in c.fetchall():
                    oid = row["originator_id"]
                    found[oid].append(
                        StoredEvent(oid, row["originator_version"], row["topic"],
                                    bytes(row["state"]))
                    )
    else:
        for oid in originator_ids:
            events = list(recorder.select_events(oid))
            if events:
                found[oid] = events
    return found


def _chunks(items: Sequence[UUID], size: int) -> Iterable[Sequence[UUID]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
