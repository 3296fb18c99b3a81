"""Where the ledger lives: store URLs, the `eventsourcing` environment they make, bulk reads.

One URL names a store (the README says which): `sqlite:///path` (the default, `./jamsos.db`),
`postgresql://user@host:port/dbname[?schema=NAME]`, or `memory://`. Everything else about
storage (recorders, tables) is the `eventsourcing` library's, configured from here; on
PostgreSQL the ledger's own factory (`stores.postgres`) connects as a command needs it.
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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent

from jamsos_ledger.domain.errors import InvalidInput, StoreUnavailable

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
# The setting telling the PostgreSQL factory that the command needs a ledger there already
# (every command but `program open`): a missing or empty schema is refused, not created.
MUST_EXIST_SETTING = "LEDGER_MUST_EXIST"
# The parameters a store URL may carry; any other is refused (exit 2), never ignored.
SQLITE_OPTIONS = {
    "mode": "mode=ro (read only)",
    "immutable": "immutable=1 (read only, a file nothing changes while it is read)",
}
POSTGRES_OPTIONS = {"schema": "schema=NAME"}


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL.

    Attributes:
        kind: `sqlite`, `postgresql` or `memory`.
        path: the SQLite file (sqlite only).
        host, port, user, password, dbname, schema: PostgreSQL connection parts.
        text: for messages: the SQLite file's path, or the URL without its password.
        read_only: opened for reading only (`?mode=ro`, `?immutable=1`, or a file this user
            cannot write): nothing is ever written, not even the projections' catch-up.
        immutable: the file cannot change while it is open (`?immutable=1`: an auditor's
            copy on read-only media), so SQLite takes no locks and needs no `-shm` file.
        create: whether opening may create the ledger (`program open`); otherwise a store
            that holds no ledger is refused, and nothing is created.
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
    read_only: bool = False
    immutable: bool = False
    create: bool = True

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
            # The query is the URL's, never part of the file's name: `x.db?mode=ro` is the
            # file x.db opened read-only (a `?` or `%` in a name is written %3F, %25).
            path, _, query = url[len("sqlite:///") :].partition("?")
            options = _query(url, query, SQLITE_OPTIONS)
            path = unquote(path)
            if not path:
                raise InvalidInput(f"SQLite store URL {url!r} needs a file before its `?`")
            immutable = _flag(url, options, "immutable", {"1": True, "0": False})
            read_only = immutable or _flag(
                url, options, "mode", {"ro": True, "rw": False, "rwc": False}
            )
            return cls(kind="sqlite", text=path, path=path, read_only=read_only,
                       immutable=immutable)
        if scheme in ("postgresql", "postgres"):
            dbname = unquote(parts.path.lstrip("/"))
            if not parts.hostname or not dbname:
                raise InvalidInput(
                    f"PostgreSQL store URL {redact(url)!r} needs a host and a database: "
                    "postgresql://user@host:5432/dbname"
                )
            settings = _query(redact(url), parts.query, POSTGRES_OPTIONS)
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
                schema=settings.get("schema", ""),
            )
        raise InvalidInput(
            f"unknown store URL {url!r}: use sqlite:///path.db, "
            "postgresql://user@host:port/dbname or memory://"
        )

    def environment(self) -> dict[str, str]:
        """The `eventsourcing` settings for this store (the ledger's factory of it, whose
        recorders chain every event), with the cipher's when JAMSOS_CIPHER_KEY is set."""
        from jamsos_ledger.stores.integrity import environment_recorder

        ledger: dict[str, str] = {}
        if self.kind == "postgresql":
            ledger = {
                STORE_TEXT_SETTING: self.text,
                MUST_EXIST_SETTING: "" if self.create else "1",
            }
        if self.read_only:
            ledger["CREATE_TABLE"] = "false"  # the library's: its tables are there, unwritten
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
            name = self.path
            if self.read_only:  # a URI the library's `sqlite3.connect(uri=True)` honours
                name = self.sqlite_uri(read_only=True)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": name,
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

    def where(self) -> str:
        """Where the ledger is, for a person: the SQLite file's absolute path, or the URL
        without its password."""
        if self.kind == "sqlite":
            return str(Path(self.path).resolve())
        return self.text

    def opened(self, *, create: bool) -> StoreURL:
        """This store as a command opens it: refused early, with what to do, when it cannot be
        used, or holds no ledger and the command may not create one (`create`); read-only when
        the URL says so or this user cannot write the SQLite file.

        A PostgreSQL store is checked on the ledger's first connection, before anything is
        written (`stores.postgres`): a connection of its own for the check cost a command as
        much as the rest of opening the ledger.
        """
        store = replace(self, create=create and not self.read_only)
        if self.kind != "sqlite":
            return store
        path = Path(self.path)
        try:
            path.stat()
        except PermissionError as e:  # a folder on the way this user may not enter
            raise StoreUnavailable(
                f"cannot read the ledger {path}: this user may not open it or a folder on its "
                f"way ({e.strerror}); nothing was written"
            ) from None
        except OSError:
            pass  # missing: _check_sqlite_file says so
        if path.exists() and not path.is_dir():
            if not store.read_only and not _writable(path):
                store = replace(store, read_only=True, create=False)
            # Read-only SQLite in WAL mode needs a `-shm` file beside the ledger, made when
            # missing: in a folder this user cannot write, only an immutable open reads it.
            shm = path.with_name(path.name + "-shm")
            if (store.read_only and not store.immutable
                    and not os.access(path.parent, os.W_OK) and not shm.exists()):
                store = replace(store, immutable=True)
        _check_sqlite_file(path, store.create, store.sqlite_uri(read_only=True))
        return store

    def sqlite_uri(self, *, read_only: bool) -> str:
        """The SQLite file as a URI, read-only (and immutable, when it is opened so)."""
        uri = Path(self.path).resolve().as_uri()
        if self.immutable:
            return uri + "?immutable=1"
        return uri + "?mode=ro" if read_only else uri


def _query(url: str, query: str, allowed: dict[str, str]) -> dict[str, str]:
    """A store URL's parameters; InvalidInput for one it does not know, or one given twice."""
    found: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in allowed:
            raise InvalidInput(
                f"store URL {url!r} has a parameter {key!r} it does not know: it may have "
                f"{' or '.join(allowed.values())}"
            )
        if key in found:
            raise InvalidInput(f"store URL {url!r} gives {key!r} twice")
        found[key] = value
    return found


def _flag(url: str, options: dict[str, str], name: str, values: dict[str, bool]) -> bool:
    """The meaning of one parameter's value (False when absent); InvalidInput otherwise."""
    if name not in options:
        return False
    value = options[name]
    if value not in values:
        raise InvalidInput(
            f"store URL {url!r}: {name}={value} is not one of "
            f"{', '.join(f'{name}={v}' for v in values)}"
        )
    return values[value]


def _writable(path: Path) -> bool:
    """Whether this user can write the SQLite file and what SQLite writes beside it (in WAL
    mode its `-wal` and `-shm` files, made in the file's folder when missing)."""
    if not os.access(path, os.W_OK):
        return False
    if os.access(path.parent, os.W_OK):
        return True
    beside = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    return all(b.exists() and os.access(b, os.W_OK) for b in beside)


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


def _check_sqlite_file(path: Path, create: bool, uri: str) -> None:
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
    if inspection is not None:  # a `stores.postgres.Inspection`
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
