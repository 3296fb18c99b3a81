"""PostgreSQL's LISTEN/NOTIFY: a ledger on PostgreSQL tells the service at once when any
process appends, so the follower catches the views up without waiting for its next poll.

A statement trigger on the ledger's events table (created once, by the service, with
`CREATE OR REPLACE`) sends a notification on a channel named after the store's schema; the
follower listens on its own connection. The notification carries nothing: it only wakes the
follower, which reads the log as it always does (polling stays, as a safety net).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from jamsos_ledger.application import Ledger


def channel(ledger: Ledger) -> str:
    """The channel of this store's schema (notifications are per database, not schema)."""
    schema = ledger.recorder.datastore.schema  # type: ignore[attr-defined]
    return "jamsos_" + hashlib.sha256(str(schema).encode()).hexdigest()[:24]


def install(ledger: Ledger) -> str:
    """Make the events table notify on every insert; the channel's name."""
    from psycopg import sql

    datastore: Any = ledger.recorder.datastore  # type: ignore[attr-defined]
    events: str = ledger.recorder.events_table_name  # type: ignore[attr-defined]
    name = channel(ledger)
    function = sql.Identifier(datastore.schema, "jamsos_service_notify")
    with datastore.transaction(commit=True) as cursor:
        cursor.execute(sql.SQL(
            "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN PERFORM pg_notify({}, ''); RETURN NULL; END $$"
        ).format(function, sql.Literal(name)))
        cursor.execute(sql.SQL(
            "CREATE OR REPLACE TRIGGER jamsos_service_notify AFTER INSERT ON {} "
            "FOR EACH STATEMENT EXECUTE FUNCTION {}()"
        ).format(sql.Identifier(datastore.schema, events), function))
    return name


def notifications(ledger: Ledger, name: str, timeout: float) -> Iterator[int]:
    """Yield once a wake-up: after each notification, or every `timeout` seconds without one
    (so the caller can look at whether it should stop). Never returns on its own."""
    import psycopg

    store = ledger.store
    with psycopg.connect(host=store.host, port=store.port, user=store.user,
                         password=store.password or None, dbname=store.dbname,
                         autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'LISTEN "{name}"')
        while True:
            heard = sum(1 for _ in conn.notifies(timeout=timeout, stop_after=1))
            yield heard
