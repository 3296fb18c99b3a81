"""Where a benchmark run keeps its ledgers and its anchors' databases, and how to reach them.

Every ledger and every anchor gets a place of its own: a fresh SQLite file in the run's scratch
folder, or a fresh PostgreSQL schema named after the harness's process id. An anchor so never
reads or writes the ledger it is compared with (except the anchors that read the ledger's rows
on purpose), and `Places.remove()` leaves the server as it found it.

The parent describes a place as a plain dict (`Place.as_dict`), which children rebuild: a child
is a new interpreter and receives its parameters as JSON.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

KINDS = ("sqlite", "postgresql")
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Place:
    """One database a ledger or an anchor writes.

    Attributes:
        kind: `sqlite` or `postgresql`.
        path: the SQLite file (sqlite only).
        server: the PostgreSQL server URL, without a schema (postgresql only).
        schema: the PostgreSQL schema (postgresql only).
    """

    kind: str
    path: str = ""
    server: str = ""
    schema: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Place:
        return cls(**data)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @property
    def url(self) -> str:
        """The `jamsos` store URL of a ledger kept here (persistence.StoreURL's forms)."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.path}"  # an absolute path: sqlite:////abs/path.db
        return f"{self.server}?schema={self.schema}"

    def library_environment(self) -> dict[str, str]:
        """The settings of a plain `eventsourcing` Application storing here: the library's own
        environment variables, as a user of the library would set them."""
        if self.kind == "sqlite":
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": self.path}
        parts = urlsplit(self.server)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/"),
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": parts.username or "postgres",
            "POSTGRES_PASSWORD": parts.password or os.environ.get("PGPASSWORD", ""),
            "POSTGRES_SCHEMA": self.schema,
        }

    def connect_sqlite(self) -> sqlite3.Connection:
        """A raw sqlite3 connection in autocommit mode (transactions begun explicitly), in WAL
        mode as the library's own connections are, so raw anchors run on the same settings."""
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def connect_postgres(self) -> Any:
        """A raw psycopg connection (not autocommit: one transaction until commit)."""
        import psycopg

        return psycopg.connect(self.server)


class Places:
    """Hands out fresh places for one store kind, and removes them all at the end."""

    def __init__(self, kind: str, folder: Path, server: str, prefix: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"store must be one of {', '.join(KINDS)}, not {kind!r}")
        self.kind = kind
        self.folder = folder
        self.server = server
        self.prefix = prefix
        self.schemas: list[str] = []
        self.files: list[Path] = []

    def fresh(self, label: str) -> Place:
        """A new, empty place named `label` (a file, or a schema created now)."""
        if self.kind == "sqlite":
            path = self.folder / f"{label}.db"
            for leftover in _sqlite_files(path):
                leftover.unlink(missing_ok=True)
            self.files.append(path)
            return Place(kind="sqlite", path=str(path.resolve()))
        from psycopg import sql

        schema = f"{self.prefix}_{label}".lower()
        with _postgres(self.server) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        self.schemas.append(schema)
        return Place(kind="postgresql", server=self.server, schema=schema)

    def remove(self) -> None:
        """Drop every schema and delete every file handed out."""
        if self.schemas:
            from psycopg import sql

            with _postgres(self.server) as conn:
                for schema in self.schemas:
                    conn.execute(
                        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                    )
            self.schemas.clear()
        for path in self.files:
            for file in _sqlite_files(path):
                file.unlink(missing_ok=True)
        self.files.clear()


def postgres_reachable(server: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        with _postgres(server, timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as e:  # any failure means: not usable for the benchmark
        return f"{type(e).__name__}: {e}"
    return None


def _postgres(server: str, timeout: int = 10) -> Any:
    import psycopg

    return psycopg.connect(server, autocommit=True, connect_timeout=timeout)


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
