"""What the command-line tests share: `jamsos` run in-process, its JSON, the store's length,
and the keys that seal what the tests write.

Importable from every test module (pytest's `pythonpath` names this folder); the repository
root is not on the path, so `import cli` still cannot work by accident.

Keys: the session's administrator key (JAMSOS_KEY, made once by conftest.py) seals what the
default actor writes, and makes it the administrator of every ledger it creates. Another actor
gets a key of its own, made once a session, and is enrolled (every role) by the administrator
the first time it writes to a ledger: the events it writes record its name, as they would in
use.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.cli import main
from jamsos_ledger.domain.principals import ROLES, public_key_text
from jamsos_ledger.stores.keys import SigningKey, load_key, new_key_file

ADMIN = "operator"  # the default actor: its key is the session's administrator key
_KEYS: dict[str, SigningKey] = {}
_FOLDER: list[Path] = []


def admin_key() -> SigningKey:
    """The session's administrator key (JAMSOS_KEY)."""
    if ADMIN not in _KEYS:
        _KEYS[ADMIN] = load_key(Path(os.environ["JAMSOS_KEY"]))
    return _KEYS[ADMIN]


def key_for(actor: str) -> SigningKey:
    """The key of an actor: the administrator's for the default one, else one of its own,
    made the first time it is asked for in the session."""
    if actor == ADMIN:
        return admin_key()
    if actor not in _KEYS:
        if not _FOLDER:
            _FOLDER.append(Path(tempfile.mkdtemp(prefix="jamsos-test-actors-")))
        _KEYS[actor] = new_key_file(_FOLDER[0] / f"{len(_KEYS)}.key")
    return _KEYS[actor]


def enrolled(url: str, actor: str) -> SigningKey:
    """The actor's key, enrolled first (every role, by the administrator) in the ledger at
    `url` when the ledger exists, has its administrator, and knows neither the key nor the
    name (a principal whose key was rotated or revoked stays as it is)."""
    key = key_for(actor)
    if actor == ADMIN:
        return key
    try:
        ledger = Ledger(url, create=False, key=KeySource(key=admin_key()))
    except Exception:
        return key  # no ledger yet: the command creates it, with this actor as administrator
    try:
        directory = ledger.signing.directory()
        known = directory.holding(key.public_key) or directory.get(actor)
        if directory.root is not None and known is None:
            ledger.principals.enrol(actor, "Test", list(ROLES), public_key_text(key.public_key))
    finally:
        ledger.close()
    return key


def jamsos(url: str, *args: str, actor: str = ADMIN) -> Result:
    """`jamsos --store URL --actor ACTOR --key KEY ARGS...`, the key the actor's (`enrolled`);
    a traceback fails the test as it is."""
    key = enrolled(url, actor)
    return CliRunner().invoke(
        main, ["--store", url, "--actor", actor, "--key", str(key.path), *args],
        catch_exceptions=False,
    )


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


def with_key(url: str, key: str, *args: str, env: dict[str, str] | None = None) -> Result:
    """`jamsos --store URL --key KEY ARGS...` with a key file of the test's own (made with
    `key new`, or missing on purpose), and extra environment."""
    return CliRunner(env=env).invoke(main, ["--store", url, "--key", key, *args],
                                     catch_exceptions=False)
