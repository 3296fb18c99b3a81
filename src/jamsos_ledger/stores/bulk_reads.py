"""Bulk reads: the events of many aggregates, or which of them exist, in a few queries.

Loading ten thousand workers one query each costs ten thousand round trips; these cost a
handful. The in-memory store is read through the library, one aggregate at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent

from jamsos_ledger.stores.recorder_kinds import is_postgres, is_sqlite

# SQLite has a limit on bound parameters per statement; stay well below it.
_SQLITE_CHUNK = 500


def select_events_of(
    recorder: ApplicationRecorder, originator_ids: Sequence[UUID]
) -> dict[UUID, list[StoredEvent]]:
    """The stored events of many aggregates in a few queries, each aggregate's in order.

    Loading ten thousand workers one query each costs ten thousand round trips; this costs a
    handful: whatever comes in bulk is read in bulk.
    """
    found: dict[UUID, list[StoredEvent]] = defaultdict(list)
    if not is_sqlite(recorder) and not is_postgres(recorder):
        for oid in originator_ids:
            events = list(recorder.select_events(oid))
            if events:
                found[oid] = events
        return found
    columns = ("originator_id", "originator_version", "topic", "state")
    for oid, version, topic, state in _rows_of(recorder, originator_ids, columns):
        found[oid].append(StoredEvent(oid, version, topic, state))
    return found


def first_events_of(
    recorder: ApplicationRecorder, originator_ids: Sequence[UUID]
) -> dict[UUID, StoredEvent]:
    """The first stored event (the one that created it) of each of many aggregates, in a few
    queries; aggregates without one are left out."""
    if not is_sqlite(recorder) and not is_postgres(recorder):
        firsts = {oid: list(recorder.select_events(oid, lte=1)) for oid in originator_ids}
        return {oid: events[0] for oid, events in firsts.items() if events}
    columns = ("originator_id", "originator_version", "topic", "state")
    return {
        oid: StoredEvent(oid, version, topic, state)
        for oid, version, topic, state in _rows_of(recorder, originator_ids, columns, first=True)
    }


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
    if not is_sqlite(recorder) and not is_postgres(recorder):
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
        position = "rowid" if is_sqlite(recorder) else "notification_id"
        only_first += f" AND {position} >= {int(since)}"

    @contextmanager
    def reading() -> Iterator[Any]:
        if cursor is not None:
            yield cursor
        else:
            with recorder.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
                yield c

    if is_sqlite(recorder):
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
