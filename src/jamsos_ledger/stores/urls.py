"""Where the ledger lives: store URLs and the `eventsourcing` environment they make.

One URL names a store (the README says which): `sqlite:///path` (the default, `./jamsos.db`),
`postgresql://user@host:port/dbname[?schema=NAME]`, or `memory://`. Everything else about
storage (recorders, tables) is the `eventsourcing` library's, configured from here; on
PostgreSQL the ledger's own factory (`stores.postgres`) connects as a command needs it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from jamsos_ledger.domain.errors import InvalidInput, StoreUnavailable
from jamsos_ledger.stores.cipher import cipher_environment
from jamsos_ledger.stores.marks import check_sqlite_file

DEFAULT_STORE = "sqlite:///jamsos.db"

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
        check_sqlite_file(path, store.create, store.sqlite_uri(read_only=True))
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
