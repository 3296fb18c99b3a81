"""The service's own tables, in the store's database beside the ledger's events.

Two small tables the ledger itself never reads: an index of the bearer tokens (`tokens`:
each token's digest and the position of its sealed issuance in the log, with copies of what
that issuance says, for `tokens list`) and the first answers to writes sent with an
Idempotency-Key (`idempotency`). The tokens' index proves nothing: a token counts only when
the issuance at its position is sealed by an administrator and names its digest
(`tokens.authenticate`), so a row written into it directly is refused. An answer kept for
retries is not a fact of the program, so not an event either. The SQL is written once, with `?`
placeholders and `{name}` for a table; on PostgreSQL the placeholders become `%s` and the
tables are qualified by the store's schema.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from jamsos_ledger.application import Ledger

TOKENS = "jamsos_service_tokens"
IDEMPOTENCY = "jamsos_service_idempotency"

_SCHEMA = {
    TOKENS: (
        "CREATE TABLE IF NOT EXISTS {t} (digest TEXT PRIMARY KEY, token_id TEXT NOT NULL UNIQUE, "
        "principal TEXT NOT NULL, issued_at TEXT NOT NULL, expires_at TEXT NOT NULL, "
        "revoked_at TEXT, issued_by TEXT NOT NULL)"
    ),
    IDEMPOTENCY: (
        "CREATE TABLE IF NOT EXISTS {t} (principal TEXT NOT NULL, key TEXT NOT NULL, "
        "request TEXT NOT NULL, status INTEGER, body TEXT, created_at TEXT NOT NULL, "
        "attempt TEXT, owner TEXT, applied INTEGER, PRIMARY KEY (principal, key))"
    ),
}
# Columns added since a table was first made: added to a store that lacks them (nothing else
# changes; the rows there keep NULL in them).
_ADDED = {
    # the position of the token's sealed issuance; NULL for a token issued before tokens
    # were sealed, which is refused
    TOKENS: (("position", "INTEGER"),),
    IDEMPOTENCY: (("attempt", "TEXT"), ("owner", "TEXT"), ("applied", "INTEGER")),
}


class Conflict(Exception):
    """A row with that key is there already (another request inserted it first)."""


def _is_postgres(ledger: Ledger) -> bool:
    return ledger.store.kind == "postgresql"


def _table(ledger: Ledger, name: str) -> str:
    if _is_postgres(ledger):
        schema = ledger.recorder.datastore.schema  # type: ignore[attr-defined]
        return f'"{schema}"."{name}"' if schema else f'"{name}"'
    return name


def statement_for(ledger: Ledger, table: str, statement: str) -> str:
    """`statement` as the store's driver takes it: `{t}` the table, `?` its placeholders."""
    text = statement.replace("{t}", _table(ledger, table))
    return re.sub(r"\?", "%s", text) if _is_postgres(ledger) else text


def ensure(ledger: Ledger, table: str) -> None:
    """Create the table when the store has none yet (nothing is written when it has)."""
    if ledger.store.kind == "memory":
        raise_memory()
    execute(ledger, table, _SCHEMA[table], ())
    for column, kind in _ADDED.get(table, ()):
        if _is_postgres(ledger):
            execute(ledger, table, f"ALTER TABLE {{t}} ADD COLUMN IF NOT EXISTS {column} {kind}",
                    ())
        elif column not in {str(r[1]) for r in execute(ledger, table,
                                                        "SELECT * FROM pragma_table_info(?)",
                                                        (table,))}:
            execute(ledger, table, f"ALTER TABLE {{t}} ADD COLUMN {column} {kind}", ())


def raise_memory() -> None:
    from jamsos_ledger.domain.errors import InvalidInput

    raise InvalidInput(
        "the service needs a store other processes can share (sqlite:///FILE or "
        "postgresql://...): a memory:// ledger keeps no tokens"
    )


def execute(
    ledger: Ledger, table: str, statement: str, params: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """Run one statement in a transaction of its own, committed; the rows it returned."""
    datastore: Any = ledger.recorder.datastore  # type: ignore[attr-defined]
    try:
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(statement_for(ledger, table, statement), tuple(params))
            said = statement.lstrip().upper()
            if not (said.startswith("SELECT") or " RETURNING " in said):
                return []
            return [tuple(r.values()) if isinstance(r, dict) else tuple(r)
                    for r in cursor.fetchall()]
    except Exception as e:
        if _unique_violation(e):
            raise Conflict(str(e)) from e
        raise


def _unique_violation(e: BaseException) -> bool:
    seen: BaseException | None = e
    for _ in range(6):
        if seen is None:
            return False
        text = str(seen).lower()
        if "unique constraint" in text or "duplicate key" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False
