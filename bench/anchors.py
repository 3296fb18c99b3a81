"""The anchors: what the ledger's phases are compared with, measured in the same run and store.

Machines are shared and noisy, so absolute speeds say little; the issue's targets are ratios
against these anchors, each measured on the same kind of store a few moments from the phase it
anchors, in a fresh place of its own (`stores.Places`):

- `library-save`: the same import through the `eventsourcing` library's own batched `save()`
  (1,000 aggregates a call): the same reader and checks, the domain's `Worker` aggregates, a
  fresh ledger on the same store;
- `raw-insert`: the raw driver inserting our stored registration rows into a table shaped like
  the library's, in one transaction (the floor of any import);
- `raw-replay`: the raw driver reading every row of our log, msgpack decoding, and the totals
  the audit replay checks, in one process (shown as information: it neither writes nor
  compares anything);
- `raw-fold` (`raw_fold.py`): the raw driver reading and decoding the log, folding it into the
  projections' own rows and writing them into a scratch database in one transaction: what the
  replay and the rebuild are held to;
- `per-event-rebuild`: our projections rebuilt the way the library's ProjectionRunner does,
  one transaction per event (rows and tracking position together), on a sample of the log.

Each is a child task: preparation (reading our rows, creating tables) is not timed; only the
work the phase is compared on is (for `library-save`, like our import: reading the file too).

Noise on a shared machine must only ever count against us: the raw anchors and the per-event
rebuild (short, or bound by commit latency, which other processes' disk writes disturb most)
run `repeats` times (the parent's choice) on fresh tables and the fastest repetition is the
anchor, while each of our phases runs once. `library-save` (tens of seconds of mostly Python
work) runs once.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from outcome import TaskFailed, figures
from stores import Place

from jamsos_ledger.stores.transcoding import MsgpackTranscoder

# The library's batch: 1,000 aggregates a `save()` call (the anchor).
SAVE_BATCH = 1_000
# Rows read at once by raw reads: large pages, as a raw reader would use, in bounded memory.
RAW_PAGE = 10_000
# The page the per-event rebuild reads the log in: the library's default of 10 rows a query
# would make the anchor slower than the way it is meant to be used, and the target easier.
NOTIFICATION_PAGE = 1_000
# Columns of the library's stored events table (eventsourcing/sqlite.py, postgres.py).
_SQLITE_EVENTS_TABLE = (
    "CREATE TABLE {table} (originator_id TEXT, originator_version INTEGER, topic TEXT, "
    "state BLOB, PRIMARY KEY (originator_id, originator_version))"
)
_POSTGRES_EVENTS_TABLE = (
    "CREATE TABLE {schema}.{table} (originator_id uuid NOT NULL, "
    "originator_version bigint NOT NULL, topic text, state bytea, "
    "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
)
_POSTGRES_NOTIFICATION_INDEX = (
    "CREATE UNIQUE INDEX {index} ON {schema}.{table} (notification_id ASC)"
)


# --- library-save ---------------------------------------------------------------------------


def library_save(params: dict[str, Any]) -> dict[str, Any]:
    """The same import through the library's `save()`, 1,000 aggregates a call.

    The file read and checked by the same reader, each worker registered by the domain
    (`Worker.register`: every rule, and the aggregate the library saves), and the library's
    `Application.save()` storing them into a fresh ledger on the same store, with the same
    recorder, hash chain and transcoder: what an import written the library's usual way costs.
    The anchor and our import differ only in how they store: the same CSV read and the same
    checks, then `save()` against events inserted directly.
    """
    from jamsos_ledger.application import Ledger
    from jamsos_ledger.domain.model import Worker
    from jamsos_ledger.files.registrations import read_registrations

    place = Place.from_dict(params["place"])
    ledger = Ledger(place.url, actor="bench.operator")
    try:
        ledger.open_program(year=2026, allocation=2_000_000_000, quota=10_000, four_eyes=False)
        before = int(ledger.recorder.max_notification_id() or 0)
        started = time.perf_counter()
        accepted = read_registrations(Path(params["csv"])).accepted
        for i in range(0, len(accepted), SAVE_BATCH):
            ledger.save(*[
                Worker.register(r, actor=ledger.actor) for r in accepted[i : i + SAVE_BATCH]
            ])
        seconds = time.perf_counter() - started
        stored = int(ledger.recorder.max_notification_id() or 0) - before
    finally:
        ledger.close()
    if stored != len(accepted):
        raise TaskFailed(f"library-save stored {stored} events for {len(accepted)} aggregates")
    return figures(seconds, stored, batch=SAVE_BATCH)


# --- reading our ledger's rows --------------------------------------------------------------


def events_table(place: Place) -> str:
    """The name of our ledger's events table, as its recorder names it."""
    from jamsos_ledger.application import Ledger

    ledger = Ledger(place.url, actor="bench")
    try:
        return str(ledger.recorder.events_table_name)  # type: ignore[attr-defined]
    finally:
        ledger.close()


def _registration_rows(place: Place, table: str) -> list[tuple[Any, ...]]:
    """Our ledger's stored registration rows, exactly as stored (originator_id, version,
    topic, state)."""
    from eventsourcing.utils import get_topic

    from jamsos_ledger.domain.model import Worker

    topic = get_topic(Worker.Registered)
    if place.kind == "sqlite":
        conn = place.connect_sqlite()
        try:
            return conn.execute(
                f"SELECT originator_id, originator_version, topic, state FROM {table} "
                "WHERE topic = ? ORDER BY rowid",
                (topic,),
            ).fetchall()
        finally:
            conn.close()
    from psycopg import sql

    with place.connect_postgres() as conn:
        return list(
            conn.execute(
                sql.SQL(
                    "SELECT originator_id, originator_version, topic, state FROM {}.{} "
                    "WHERE topic = %s ORDER BY notification_id"
                ).format(sql.Identifier(place.schema), sql.Identifier(table)),
                (topic,),
            ).fetchall()
        )


# --- raw-insert -----------------------------------------------------------------------------


def raw_insert(params: dict[str, Any]) -> dict[str, Any]:
    """Insert as many rows as our import stored, with the raw driver, in one transaction.

    SQLite: `executemany`. PostgreSQL: binary `COPY FROM STDIN` (the fastest raw way) and
    `executemany`; the anchor is the faster of the two. Each repetition fills a fresh table.
    """
    ledger = Place.from_dict(params["ledger"])
    target = Place.from_dict(params["place"])
    rows = _registration_rows(ledger, events_table(ledger))
    if len(rows) != params["expected"]:
        raise TaskFailed(f"found {len(rows)} stored registrations, not {params['expected']}")
    if target.kind == "sqlite":
        runs = [_sqlite_insert(target, rows, f"raw_events_{i}") for i in range(params["repeats"])]
        return figures(min(runs), len(rows), method="executemany", repeats=runs)
    copies = [_postgres_copy(target, rows, f"raw_copy_{i}") for i in range(params["repeats"])]
    # executemany is several times slower than COPY: once is enough to record how much.
    many = _postgres_executemany(target, rows, "raw_executemany")
    best, method = min((min(copies), "copy"), (many, "executemany"))
    return figures(best, len(rows), method=method, repeats=copies, executemany_seconds=many)


def _sqlite_insert(place: Place, rows: list[tuple[Any, ...]], table: str) -> float:
    conn = place.connect_sqlite()
    try:
        conn.execute(_SQLITE_EVENTS_TABLE.format(table=table))
        started = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)",
            rows,
        )
        conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


def _postgres_table(conn: Any, place: Place, table: str) -> None:
    from psycopg import sql

    names = {"schema": sql.Identifier(place.schema), "table": sql.Identifier(table)}
    conn.execute(sql.SQL(_POSTGRES_EVENTS_TABLE).format(**names))
    conn.execute(
        sql.SQL(_POSTGRES_NOTIFICATION_INDEX).format(
            index=sql.Identifier(f"{table}_notification_id_idx"), **names
        )
    )
    conn.commit()


def _postgres_copy(place: Place, rows: list[tuple[Any, ...]], table: str) -> float:
    from psycopg import sql

    with place.connect_postgres() as conn:
        _postgres_table(conn, place, table)
        statement = sql.SQL(
            "COPY {}.{} (originator_id, originator_version, topic, state) "
            "FROM STDIN (FORMAT BINARY)"
        ).format(sql.Identifier(place.schema), sql.Identifier(table))
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types(["uuid", "int8", "text", "bytea"])
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - started


def _postgres_executemany(place: Place, rows: list[tuple[Any, ...]], table: str) -> float:
    from psycopg import sql

    with place.connect_postgres() as conn:
        _postgres_table(conn, place, table)
        statement = sql.SQL(
            "INSERT INTO {}.{} (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)"
        ).format(sql.Identifier(place.schema), sql.Identifier(table))
        started = time.perf_counter()
        with conn.cursor() as cursor:
            cursor.executemany(statement, rows)
        conn.commit()
        return time.perf_counter() - started


# --- raw-replay -----------------------------------------------------------------------------


def raw_replay(params: dict[str, Any]) -> dict[str, Any]:
    """Read every row of our log with the raw driver, decode it, and total what the audit
    replay checks: events per topic, workers registered, enrolled per program, rupiah
    committed, paid and overpaid per program, claims."""
    from eventsourcing.utils import get_topic

    from jamsos_ledger.domain.model import Program, Worker

    place = Place.from_dict(params["ledger"])
    table = events_table(place)
    topics = {name: get_topic(getattr(cls, name.split(".")[1])) for name, cls in (
        ("Worker.Registered", Worker), ("Worker.Enrolled", Worker),
        ("Worker.CoverageEnded", Worker), ("Worker.ClaimFiled", Worker),
        ("Program.PremiumsCommitted", Program), ("Program.CoverageReleased", Program),
        ("Program.PremiumPaid", Program),
    )}
    runs = [_replay_totals(place, table, topics) for _ in range(params["repeats"])]
    seconds, read, totals = min(runs, key=lambda run: run[0])
    if any(run[1:] != (read, totals) for run in runs):
        raise TaskFailed("raw-replay read different totals from one repetition to the next")
    return figures(seconds, read, repeats=[run[0] for run in runs], **totals)


def _replay_totals(
    place: Place, table: str, topics: dict[str, str]
) -> tuple[float, int, dict[str, int]]:
    """One timed pass: (seconds, events read, totals)."""
    decode = MsgpackTranscoder().decode
    started = time.perf_counter()
    per_topic: Counter[str] = Counter()
    enrolled: Counter[Any] = Counter()
    money: dict[str, Counter[Any]] = defaultdict(Counter)
    read = 0
    for _position, originator_id, topic, state in all_rows(place, table):
        read += 1
        per_topic[topic] += 1
        data = decode(state)
        if topic == topics["Worker.Enrolled"]:
            enrolled[data["program_id"]] += 1
        elif topic == topics["Worker.CoverageEnded"]:
            enrolled[data["program_id"]] -= 1
        elif topic == topics["Program.PremiumsCommitted"]:
            money["committed"][originator_id] += data["jkk"] + data["jkm"]
        elif topic == topics["Program.CoverageReleased"]:
            money["committed"][originator_id] -= data["jkk"] + data["jkm"]
            money["overpaid"][originator_id] += data["overpaid_jkk"] + data["overpaid_jkm"]
        elif topic == topics["Program.PremiumPaid"]:
            money["committed"][originator_id] -= data["jkk"] + data["jkm"]
            money["paid"][originator_id] += data["jkk"] + data["jkm"]
    seconds = time.perf_counter() - started
    return seconds, read, {
        "registered": per_topic[topics["Worker.Registered"]],
        "claims": per_topic[topics["Worker.ClaimFiled"]],
        "enrolled": sum(enrolled.values()),
        "committed": sum(money["committed"].values()),
        "paid": sum(money["paid"].values()),
        "overpaid": sum(money["overpaid"].values()),
        "topics": len(per_topic),
    }


def all_rows(place: Place, table: str) -> Any:
    """(position, originator_id, topic, state) of every event in log order, a page at a time."""
    if place.kind == "sqlite":
        conn = place.connect_sqlite()
        try:
            cursor = conn.execute(
                f"SELECT rowid, originator_id, topic, state FROM {table} ORDER BY rowid"
            )
            while page := cursor.fetchmany(RAW_PAGE):
                yield from page
        finally:
            conn.close()
        return
    from psycopg import sql

    statement = sql.SQL(
        "SELECT notification_id, originator_id, topic, state FROM {}.{} "
        "WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
    ).format(sql.Identifier(place.schema), sql.Identifier(table))
    with place.connect_postgres() as conn:
        after = 0
        while page := conn.execute(statement, (after, RAW_PAGE)).fetchall():
            yield from page
            after = page[-1][0]


# --- per-event-rebuild ----------------------------------------------------------------------


def per_event_rebuild(params: dict[str, Any]) -> dict[str, Any]:
    """Apply a sample of the log to our projections in a fresh database, one transaction per
    event: the event's rows and the tracking position, committed together (ProjectionRunner).

    `ranges` are (after position, how many events): the registrations at the start of the log
    and a stretch after the import (ranks, enrolments), so inserts and updates both count.
    Updates there may find fewer rows than a full rebuild would (workers registered outside
    the sample): that only makes the anchor faster, the target stricter for us. Each of
    `places` gets one repetition; the fastest counts.
    """
    from jamsos_ledger.application import Ledger

    ledger = Ledger(Place.from_dict(params["ledger"]).url, actor="bench")
    try:
        runs = [_apply_one_by_one(ledger, Place.from_dict(place), params["ranges"])
                for place in params["places"]]
    finally:
        ledger.close()
    seconds, applied = min(runs)
    return figures(seconds, applied, ranges=params["ranges"], repeats=[r[0] for r in runs])


def _apply_one_by_one(ledger: Any, place: Place, ranges: list[list[int]]) -> tuple[float, int]:
    """One timed repetition into a fresh view database: (seconds, events applied)."""
    from jamsos_ledger.projections.runner import POSITIONS, Runner
    from jamsos_ledger.projections.views import all_projections

    db = view_database(place)
    try:
        projections = all_projections()
        Runner(db, ledger.recorder, ledger.mapper, projections)  # creates the tables
        with db.transaction() as cursor:
            # A runner applying one event at a time keeps its tables' indexes as it goes.
            for projection in projections:
                for index, table, columns in getattr(projection, "indexes", ()):
                    cursor.execute(
                        f"CREATE INDEX IF NOT EXISTS {index} ON {db.table(table)} ({columns})"
                    )
        positions = f"UPDATE {db.table(POSITIONS)} SET position = ?"
        recorder, mapper = ledger.recorder, ledger.mapper
        applied = 0
        started = time.perf_counter()
        for after, count in ranges:
            while count > 0:
                page = recorder.select_notifications(
                    start=after, limit=min(NOTIFICATION_PAGE, count), inclusive_of_start=False
                )
                if not page:
                    break
                for n in page:
                    domain_event = mapper.to_domain_event(n)
                    with db.transaction() as cursor:
                        for projection in projections:
                            if projection.wants(n.topic):
                                batch = projection.prepare(db, [(n.id, domain_event)])
                                projection.apply(cursor, db, batch)
                        cursor.execute(positions, (n.id,))
                applied += len(page)
                count -= len(page)
                after = page[-1].id
        return time.perf_counter() - started, applied
    finally:
        db.close()


def view_database(place: Place) -> Any:
    """A fresh database for the anchor's projection tables, never the ledger's own."""
    from jamsos_ledger.projections.database import ViewDatabase

    if place.kind == "sqlite":
        from eventsourcing.sqlite import SQLiteDatastore

        return ViewDatabase(SQLiteDatastore(place.path), postgres=False, owned=True)
    from eventsourcing.postgres import PostgresDatastore

    env = place.library_environment()
    datastore = PostgresDatastore(
        dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"], schema=place.schema,
    )
    return ViewDatabase(datastore, postgres=True, schema=place.schema, owned=True)


TASKS = {
    "library-save": library_save,
    "raw-insert": raw_insert,
    "raw-replay": raw_replay,
    "per-event-rebuild": per_event_rebuild,
}

