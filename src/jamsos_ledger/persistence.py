"""Where the ledger lives: store URLs, the `eventsourcing` environment they make, bulk reads.

One URL names a store (the README says which): `sqlite:///path` (the default, `./jamsos.db`),
`postgresql://user@host:port/dbname[?schema=NAME]`, or `memory://`. Everything else about
storage (recorders, tables) is the `eventsourcing` library's, configured from here; on
PostgreSQL the ledger's own factory (`postgres_store`) connects as a command needs it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent

from jamsos_ledger.errors import InvalidInput, StoreUnavailable

DEFAULT_STORE = "sqlite:///jamsos.db"

# The ledger's own mark in a database, so that a file or schema that is not a ledger is
# never written into, and one written by a newer version is never misread.
META_TABLE = "jamsos_ledger_meta"
FORMAT_VERSION = 1

# Personal data at rest (UU 27/2022): with a key in this variable, every stored event's state
# is encrypted with AES-GCM by the library (base64 of 16, 24 or 32 random bytes).
CIPHER_KEY_VARIABLE = "JAMSOS_CIPHER_KEY"
CIPHER_TOPIC = "eventsourcing.cipher:AESCipher"
MAKE_A_KEY = (
    "make one with: python -c \"from eventsourcing.cipher import AESCipher; "
    "print(AESCipher.create_key(num_bytes=32))\""
)
# The meta table's marks of an encrypted ledger, and the constant whose HMAC under the key
# tells the right key from a wrong one without storing the key.
ENCRYPTED_MARK = "encrypted"
KEY_CHECK_MARK = "key_check"
_KEY_CHECK_MESSAGE = b"jamsos-ledger key check v1"

# SQLite has a limit on bound parameters per statement; stay well below it.
_SQLITE_CHUNK = 500
# Tables, views and foreign tables of a PostgreSQL schema, from the catalog:
# `information_schema.tables` answers the same in milliseconds, checking privileges on every
# table of the database.
SCHEMA_TABLES = (
    "SELECT c.relname FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'f')"
)
# The setting that hands the store's URL, password removed, to the PostgreSQL factory for its
# messages (the library reads it, as every setting, also under the application's name).
STORE_TEXT_SETTING = "LEDGER_STORE_URL"


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
        """The `eventsourcing` settings for this store (the ledger's factory of it, whose
        recorders chain every event), with the cipher's when JAMSOS_CIPHER_KEY is set."""
        from jamsos_ledger.integrity import environment_recorder

        ledger: dict[str, str] = {}
        if self.kind == "postgresql":
            ledger = {STORE_TEXT_SETTING: self.text}
        return {
            **self._environment(),
            **ledger,
            **environment_recorder(self.kind),
            **cipher_environment(),
        }

    def _environment(self) -> dict[str, str]:
        if self.kind == "memory":
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        if self.kind == "sqlite":
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": self.path,
                "SQLITE_LOCK_TIMEOUT": seconds_setting("JAMSOS_SQLITE_LOCK_TIMEOUT", 30),
            }
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_SCHEMA": self.schema,
            "POSTGRES_CONNECT_TIMEOUT": seconds_setting("JAMSOS_CONNECT_TIMEOUT", 5),
            "POSTGRES_LOCK_TIMEOUT": seconds_setting("JAMSOS_LOCK_TIMEOUT", 30),
        }

    def check_reachable(self) -> None:
        """Refuse early, with what to do, when the store cannot be used.

        A PostgreSQL store is checked on the ledger's first connection, before anything is
        written (`postgres_store`): a connection of its own for the check cost a command as
        much as the rest of opening the ledger.
        """
        if self.kind == "sqlite":
            _check_sqlite_file(Path(self.path))


# The longest wait a setting may ask for: a day. Longer is a typo (or minutes meant as hours),
# and the libraries underneath take larger numbers badly.
MAX_SECONDS = 86_400


def seconds_setting(name: str, default: int) -> str:
    """A number of seconds from the environment variable `name` (a whole number, 0 to a day),
    as the library takes it; InvalidInput naming the variable when it is anything else."""
    text = os.environ.get(name, "").strip()
    if not text:
        return str(default)
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_SECONDS:
        raise InvalidInput(
            f"the environment variable {name}={text[:40]!r} is not a number of seconds: "
            f"expected a whole number from 0 to {MAX_SECONDS:,} (default {default}), e.g. "
            f"{name}={default}"
        )
    return str(int(text))


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
    check_meta(str(path), tables, version)


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


def cipher_key() -> str | None:
    """The key of JAMSOS_CIPHER_KEY, or None; InvalidInput when it is not a usable key."""
    key = os.environ.get(CIPHER_KEY_VARIABLE, "").strip()
    if not key:
        return None
    try:
        size = len(base64.b64decode(key, validate=True))
    except (binascii.Error, ValueError):
        size = -1
    if size not in (16, 24, 32):  # a malformed setting, like a malformed command line
        raise InvalidInput(
            f"{CIPHER_KEY_VARIABLE} is not a key (base64 of 16, 24 or 32 bytes); {MAKE_A_KEY}"
        )
    return key


def cipher_environment() -> dict[str, str]:
    """The library's cipher settings: with a key it encrypts every event's state; without one,
    none, whatever else the environment holds.

    The library also reads each setting under the application's name (`JAMSOS_CIPHER_KEY` is
    its name for `CIPHER_KEY`, and wins over it), so both spellings are set, to what
    `cipher_key()` accepted.
    """
    key = cipher_key() or ""
    topic = CIPHER_TOPIC if key else ""
    return {"CIPHER_KEY": key, "JAMSOS_CIPHER_KEY": key,
            "CIPHER_TOPIC": topic, "JAMSOS_CIPHER_TOPIC": topic}


def key_check(key: str) -> str:
    """A value that tells whether a key is the ledger's, and nothing about the key."""
    secret = base64.b64decode(key)
    return hmac.new(secret, _KEY_CHECK_MESSAGE, hashlib.sha256).hexdigest()


def cipher_marks(marks: dict[str, str], key: str | None, has_events: bool) -> dict[str, str]:
    """Refuse a key that cannot read the ledger; the marks to add for a newly encrypted one.

    An encrypted ledger needs its key; a ledger with events written in clear refuses a key,
    since a history half in clear and half encrypted could not be read by either.
    """
    if marks.get(ENCRYPTED_MARK) == "1":
        if key is None:
            raise StoreUnavailable(
                "this ledger's personal data is encrypted: set JAMSOS_CIPHER_KEY to the key "
                "it was written with"
            )
        if not hmac.compare_digest(marks.get(KEY_CHECK_MARK, ""), key_check(key)):
            raise StoreUnavailable(
                "JAMSOS_CIPHER_KEY is not the key this ledger's personal data is encrypted "
                "with: set it to the key the ledger was written with"
            )
        return {}
    if key is None:
        return {}
    if has_events:
        raise StoreUnavailable(
            "this ledger was written without encryption, so it cannot be encrypted now: unset "
            "JAMSOS_CIPHER_KEY to use it, or start a new ledger with the key"
        )
    return {ENCRYPTED_MARK: "1", KEY_CHECK_MARK: key_check(key)}


def ledger_marks(recorder: ApplicationRecorder) -> dict[str, str]:
    """The marks in the ledger's meta table (none for an in-memory store or a new ledger)."""
    datastore = getattr(recorder, "datastore", None)
    if datastore is None:
        return {}
    inspection = getattr(datastore, "inspection", None)
    if inspection is not None:  # a `postgres_store.Inspection`
        return dict(inspection.marks)  # read when the store was opened, a moment ago
    with datastore.transaction(commit=False) as cursor:
        if _is_postgres(recorder):
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


def _is_postgres(recorder: ApplicationRecorder) -> bool:
    return is_recorder_of(recorder, "eventsourcing.postgres")


def _is_sqlite(recorder: ApplicationRecorder) -> bool:
    return is_recorder_of(recorder, "eventsourcing.sqlite")


def is_recorder_of(recorder: object, module: str) -> bool:
    """Whether the recorder is (a subclass of) one of that library module's recorders."""
    return any(c.__module__.startswith(module) for c in type(recorder).__mro__)


def select_events_of(
    recorder: ApplicationRecorder, originator_ids: Sequence[UUID]
) -> dict[UUID, list[StoredEvent]]:
    """The stored events of many aggregates in a few queries, each aggregate's in order.

    Loading ten thousand workers one query each costs ten thousand round trips; this costs a
    handful: whatever comes in bulk is read in bulk.
    """
    found: dict[UUID, list[StoredEvent]] = defaultdict(list)
    if not _is_sqlite(recorder) and not _is_postgres(recorder):
        for oid in originator_ids:
            events = list(recorder.select_events(oid))
            if events:
                found[oid] = events
        return found
    columns = ("originator_id", "originator_version", "topic", "state")
    for oid, version, topic, state in _rows_of(recorder, originator_ids, columns):
        found[oid].append(StoredEvent(oid, version, topic, state))
    return found


def existing_originators(
    recorder: ApplicationRecorder,
    originator_ids: Sequence[UUID],
    *,
    cursor: Any = None,
    since: int | None = None,
) -> set[UUID]:
    """Which of these aggregates exist (have a first event), in a few queries; with `cursor`,
    as the transaction of that cursor (of this recorder's store) sees them; with `since`, only
    those whose first event is at that position or after (SQLite or PostgreSQL)."""
    if not _is_sqlite(recorder) and not _is_postgres(recorder):
        return {oid for oid in originator_ids if list(recorder.select_events(oid, lte=1))}
    rows = _rows_of(
        recorder, originator_ids, ("originator_id",), first=True, cursor=cursor, since=since
    )
    return {row[0] for row in rows}


def _rows_of(
    recorder: ApplicationRecorder,
    originator_ids: Sequence[UUID],
    columns: Sequence[str],
    *,
    first: bool = False,
    cursor: Any = None,
    since: int | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Rows of the events of these aggregates (only their first with `first`, only those at
    position `since` or after with it), in order, with the originator id as a UUID and the
    state as bytes; read with `cursor`, or each chunk in a read transaction of its own."""
    selected = ", ".join(columns)
    only_first = " AND originator_version = 1" if first else ""
    if since is not None:  # the position: SQLite's rowid, PostgreSQL's notification id
        position = "rowid" if _is_sqlite(recorder) else "notification_id"
        only_first += f" AND {position} >= {int(since)}"

    @contextmanager
    def reading() -> Iterator[Any]:
        if cursor is not None:
            yield cursor
        else:
            with recorder.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
                yield c

    if _is_sqlite(recorder):
        table = recorder.events_table_name  # type: ignore[attr-defined]
        for chunk in _chunks(originator_ids, _SQLITE_CHUNK):
            marks = ",".join("?" * len(chunk))
            with reading() as c:
                c.execute(
                    f"SELECT {selected} FROM {table} WHERE originator_id IN ({marks})"
                    f"{only_first} ORDER BY originator_id, originator_version",
                    [i.hex for i in chunk],
                )
                rows = c.fetchall()
            for row in rows:
                yield (UUID(row[0]), *row[1:])
        return
    from psycopg import sql

    statement = sql.SQL(
        f"SELECT {selected} FROM {{}}.{{}} WHERE originator_id = ANY(%s){only_first} "
        "ORDER BY originator_id, originator_version"
    ).format(
        sql.Identifier(recorder.datastore.schema),  # type: ignore[attr-defined]
        sql.Identifier(recorder.events_table_name),  # type: ignore[attr-defined]
    )
    for chunk in _chunks(originator_ids, 10_000):
        with reading() as c:
            c.execute(statement, (list(chunk),))
            rows = c.fetchall()
        for row in rows:
            yield tuple(bytes(v) if isinstance(v, memoryview) else v for v in row.values())


def _chunks(items: Sequence[UUID], size: int) -> Iterable[Sequence[UUID]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
