"""What the command-line tests share: `jamsos` run in-process, its JSON, the store's length.

Importable from every test module (pytest's `pythonpath` names this folder); the repository
root is not on the path, so `import cli` still cannot work by accident.
"""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner, Result

from jamsos_ledger.application import Ledger
from jamsos_ledger.cli import main


def jamsos(url: str, *args: str, actor: str = "operator") -> Result:
    """`jamsos --store URL --actor ACTOR ARGS...`; a traceback fails the test as it is."""
    return CliRunner().invoke(main, ["--store", url, "--actor", actor, *args],
                              catch_exceptions=False)


def ok(url: str, *args: str, actor: str = "operator") -> Result:
    """The command, which must exit 0."""
    result = jamsos(url, *args, actor=actor)
    assert result.exit_code == 0, result.output
    return result


def as_json(url: str, *args: str) -> Any:
    """The command's `--format json` output, parsed."""
    return json.loads(ok(url, *args, "--format", "json").stdout)


def head_digest(url: str) -> str:
    """The chain digest of the whole log, as `audit verify` gives it."""
    return str(as_json(url, "audit", "verify")["head_digest"])


def events(url: str) -> int:
    """How many events the store holds: unchanged after every refusal."""
    ledger = Ledger(url)
    try:
        return int(ledger.recorder.max_notification_id() or 0)
    finally:
        ledger.close()


def contents(url: str) -> Any:
    """The store as stored, to compare before and after: the SQLite file's bytes (its
    write-ahead log checkpointed first), or every row of every table of the PostgreSQL schema."""
    import sqlite3
    from pathlib import Path

    import psycopg
    from psycopg import sql

    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return Path(path).read_bytes()
    schema = url.split("schema=")[1].split("&")[0]
    with psycopg.connect(url.split("?")[0]) as conn:
        tables = sorted(r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,)))
        return {t: sorted(map(repr, conn.execute(sql.SQL("SELECT * FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(t))).fetchall())) for t in tables}
