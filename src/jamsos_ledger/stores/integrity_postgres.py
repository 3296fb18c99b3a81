"""The event chain on PostgreSQL: the library's recorder writing each event's link.

Apart from `integrity` (the chain rule, the SQLite and in-memory recorders, verification) so that
psycopg, a tenth of a second to import, is imported only by a command on a PostgreSQL store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresProcessRecorder,
)
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from jamsos_ledger.stores.integrity import (
    _LOWEST,
    CHAIN_TABLE,
    GENESIS,
    PAGE,
    SEAL_COLUMNS,
    EventRow,
    _broken,
    _hash_value,
    _unsealed,
    chain_rows,
    chain_table_of,
    link,
)
from jamsos_ledger.stores.seals import (
    COLUMNS,
    ROOT,
    WRITE,
    Seal,
    SealMaker,
    seal_from_row,
    seal_table_of,
)

# Events from which an insert goes by COPY (an import's batches), not by INSERT ... RETURNING.
COPY_FROM = 1_000


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, writing each event's chain row in the same transaction.

    The library inserts events in a pipeline, in one transaction that first takes
    `LOCK TABLE ... IN EXCLUSIVE MODE` on the events table, so writers are serialised and the
    chain head read after the insert cannot move before the commit. The chain rows are written
    in `_fetch_ids_after_insert_events`, the hook the library calls with the same cursor once the
    insert has succeeded (an IntegrityError of the insert is raised before it, as the library
    expects); any error in it aborts the whole transaction.
    """

    # The ledger's events table on PostgreSQL: the library names it after the application
    # (`Ledger.name`, "jamsos"); its chain keeps the name it always had.
    ledger_events_table = "jamsos_events"
    sealer: SealMaker | None = None  # who seals its transactions (as the SQLite recorder's)
    # The first position an import's batches wrote in its transaction, until it is sealed.
    within_first: int | None = None
    # Called in each write's transaction before its seal (as the SQLite recorder's).
    within_write: Callable[[Any, int], None] | None = None

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ):
        super().__init__(datastore, events_table_name=events_table_name)
        if datastore.enable_db_functions:
            # That path inserts through a database function and would skip the chain.
            msg = "the event chain needs POSTGRES_ENABLE_DB_FUNCTIONS off"
            raise ProgrammingError(msg)
        self.chain_table_name = chain_table_of(self.events_table_name, self.ledger_events_table)
        schema, events, chain = (
            Identifier(datastore.schema),
            Identifier(self.events_table_name),
            Identifier(self.chain_table_name),
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{chain} "
                "(position bigint PRIMARY KEY, hash bytea NOT NULL)"
            ).format(schema=schema, chain=chain)
        )
        self.seal_table_name = seal_table_of(self.chain_table_name, CHAIN_TABLE)
        seals = Identifier(self.seal_table_name)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{seals} ("
                + SEAL_COLUMNS.format(blob="bytea")
                + ")"
            ).format(schema=schema, seals=seals)
        )
        columns = SQL(", ").join(Identifier(c) for c in COLUMNS)
        self._select_seal_head = SQL(
            "SELECT {columns} FROM {schema}.{seals} ORDER BY position DESC LIMIT 1"
        ).format(columns=columns, schema=schema, seals=seals)
        self._insert_seal = SQL(
            "INSERT INTO {schema}.{seals} ({columns}) VALUES ({values})"
        ).format(
            columns=columns, schema=schema, seals=seals,
            values=SQL(", ").join(SQL("%s") for _ in COLUMNS),
        )
        self._select_seals_between = SQL(
            "SELECT {columns} FROM {schema}.{seals} WHERE position > %s AND position <= %s "
            "ORDER BY position LIMIT %s"
        ).format(columns=columns, schema=schema, seals=seals)
        self._seal_table_exists = SQL("SELECT to_regclass(%s) IS NOT NULL AS present")
        self._select_chain_head = SQL(
            "SELECT position, hash FROM {schema}.{chain} ORDER BY position DESC LIMIT 1"
        ).format(schema=schema, chain=chain)
        self._select_chained_before = SQL(
            "SELECT max(position) AS position FROM {schema}.{chain} WHERE position < %s"
        ).format(schema=schema, chain=chain)
        self._insert_chain = SQL(
            "INSERT INTO {schema}.{chain} (position, hash) "
            "SELECT * FROM unnest(%s::bigint[], %s::bytea[])"
        ).format(schema=schema, chain=chain)
        self._select_events_between = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{events} WHERE notification_id > %s AND notification_id <= %s "
            "ORDER BY notification_id LIMIT %s"
        ).format(schema=schema, events=events)
        self._select_chain_between = SQL(
            "SELECT position, hash FROM {schema}.{chain} WHERE position > %s AND position <= %s "
            "ORDER BY position LIMIT %s"
        ).format(schema=schema, chain=chain)
        self._select_bound = SQL(
            "SELECT greatest((SELECT max(notification_id) FROM {schema}.{events}), "
            "(SELECT max(position) FROM {schema}.{chain}), 0) AS bound"
        ).format(schema=schema, events=events, chain=chain)
        self._copy_statement = SQL(
            "COPY {schema}.{events} (originator_id, originator_version, topic, state) "
            "FROM STDIN (FORMAT BINARY)"
        ).format(schema=schema, events=events)
        self._copy_chain = SQL(
            "COPY {schema}.{chain} (position, hash) FROM STDIN (FORMAT BINARY)"
        ).format(schema=schema, chain=chain)
        self._select_written = SQL(
            "SELECT count(*) AS rows, min(notification_id) AS first, "
            "max(notification_id) AS last FROM {schema}.{events} WHERE notification_id > %s"
        ).format(schema=schema, events=events)
        self._select_ends = SQL(
            "SELECT originator_id, originator_version FROM {schema}.{events} "
            "WHERE notification_id IN (%s, %s) ORDER BY notification_id"
        ).format(schema=schema, events=events)
        self._insert_columns = SQL(
            "INSERT INTO {schema}.{events} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::{id_type}[], %s::bigint[], %s::text[], %s::bytea[]) "
            "RETURNING notification_id"
        ).format(
            schema=schema, events=events, id_type=Identifier(datastore.originator_id_type)
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if len(stored_events) >= COPY_FROM and not any(kwargs.values()):  # no tracking
            return self._copy_events(stored_events)
        # The library's insert_events, but for one thing: it catches any error after the insert
        # and raises it only once the transaction is over, so an error while fetching the ids
        # (here: while writing the chain) would still COMMIT the events. Only the insert's own
        # errors (an IntegrityError, which already aborted the transaction) are kept for later
        # here, as the library does, to keep psycopg's pipeline quiet; the rest roll back.
        error: Exception | None = None
        ids: Sequence[int] | None = None
        with self.datastore.get_connection() as conn:
            with conn.pipeline() as pipeline, conn.transaction():
                with conn.cursor() as curs:
                    self._insert_events(curs, stored_events, **kwargs)
                if len(stored_events) > 0:
                    with conn.cursor() as curs:
                        try:
                            self._insert_stored_events(curs, stored_events, **kwargs)
                            pipeline.sync()
                        except Exception as e:
                            error = e
                        else:
                            ids = self._fetch_ids_after_insert_events(
                                curs, stored_events, **kwargs
                            )
                            pipeline.sync()  # a failed chain insert raises here, inside
            if error:
                raise error
        return ids

    def _copy_events(self, stored_events: Sequence[StoredEvent]) -> Sequence[int]:
        """A big batch (an import) inserted with COPY, PostgreSQL's bulk path, and chained.

        Under the library's table lock no other writer can take positions, and COPY takes one
        from the sequence for each row in the order written, so the batch's positions are the
        rows after the last one before it, in order. That is checked without reading the batch
        back (which cost a fifth of an import): exactly as many new rows as written, at
        consecutive positions, the first and the last being the batch's first and last
        events. A duplicate aggregate version fails the COPY, and nothing is written.
        """
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self.lock_for_insert(curs)
            return self.copy_within(curs, stored_events)

    def lock_for_insert(self, curs: Cursor[DictRow]) -> None:
        """Take the library's table lock (writers serialised, commit order = position order)
        and notify its listeners, as every insert of the library does, for the transaction."""
        self._lock_table(curs)
        self._notify_channel(curs)

    def copy_within(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], *, seal: bool = True
    ) -> list[int]:
        """Insert a batch by COPY, and chain it, in the transaction of `curs`, which holds the
        table lock (`lock_for_insert`); their positions. See `_copy_events`. Sealed unless
        `seal` is False (an import's batches: `seal_within` seals its transaction once)."""
        text_ids = self.datastore.originator_id_type == "text"
        before = self._last_position(curs)
        with curs.copy(self._copy_statement) as copy:
            copy.set_types(["text" if text_ids else "uuid", "int8", "text", "bytea"])
            for s in stored_events:
                oid = s.originator_id
                if text_ids and isinstance(oid, UUID):
                    oid = oid.hex
                copy.write_row((oid, s.originator_version, s.topic, s.state))
        n = len(stored_events)
        first: int | None = before + 1
        if self._last_position(curs) != before + n:
            # The sequence skipped ids (a batch undone, an insert refused): count the new rows.
            # Otherwise the n new rows, each past `before` (the sequence only grows) and none
            # past the last, hold exactly the positions between (the ends are checked below).
            curs.execute(self._select_written, (before,))
            span = curs.fetchone()
            first = None
            if span and span["rows"] == n and span["last"] == span["first"] + n - 1:
                first = span["first"]
        ids: list[int] = []
        ends_as_written = False
        if first is not None:
            ids = list(range(first, first + n))
            curs.execute(self._select_ends, (first, first + n - 1))
            found = [(r["originator_id"], r["originator_version"]) for r in curs.fetchall()]
            ends = (stored_events[0], stored_events[-1]) if n > 1 else (stored_events[0],)
            expected = [(self._stored_id(s), s.originator_version) for s in ends]
            ends_as_written = found == expected
        if not ends_as_written:
            raise ProgrammingError(
                f"a COPY of {n} events was not stored at consecutive positions in the order "
                "written"
            )
        self._chain_written(curs, ids, stored_events, copy=True, seal=seal)
        return ids

    def _last_position(self, curs: Cursor[DictRow]) -> int:
        curs.execute(self.max_notification_id_statement)
        row = curs.fetchone()
        return int((row["max"] if row else None) or 0)

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        """The library's insert (table lock, notify, one INSERT ... RETURNING), with the
        events sent as four arrays of plain types rather than one array of the library's
        composite type, which psycopg dumps value by value in Python: 10,000 registrations
        cost seconds that way."""
        self._lock_table(curs)
        self._notify_channel(curs)
        text_ids = self.datastore.originator_id_type == "text"
        curs.execute(
            self._insert_columns,
            (
                [
                    s.originator_id.hex if text_ids and isinstance(s.originator_id, UUID)
                    else s.originator_id
                    for s in stored_events
                ],
                [s.originator_version for s in stored_events],
                [s.topic for s in stored_events],
                [s.state for s in stored_events],
            ),
        )

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if not ids:
            return ids
        self._chain_written(curs, ids, stored_events)
        return ids

    def _chain_written(
        self,
        curs: Cursor[DictRow],
        ids: Sequence[int],
        stored_events: Sequence[StoredEvent],
        copy: bool = False,
        seal: bool = True,
    ) -> None:
        """Write the chain rows of events just inserted at `ids`, in the same transaction
        (by COPY when `copy`: never in the pipeline mode of the library's insert), and the
        transaction's seal unless `seal` is False."""
        curs.execute(self._select_chain_head, prepare=True)
        head = curs.fetchone()
        if head is None:
            previous = self._genesis(curs, before=ids[0])
        elif head["position"] >= ids[0]:
            raise _broken(head["position"], ids[0])
        else:
            previous = bytes(head["hash"])
        hashed = [self._stored_id(s) for s in stored_events]
        links = chain_rows(previous, ids, stored_events, hashed)
        self._write_links(curs, links, copy)
        if seal:
            self._seal(curs, *links[-1], first=ids[0])
        elif self.within_first is None:
            self.within_first = ids[0]

    # -- seals ---------------------------------------------------------------------------

    def _seal(
        self, curs: Cursor[DictRow], position: int, head: bytes, kind: str = WRITE,
        body: bytes = b"", first: int | None = None,
    ) -> None:
        """Write the seal of the chain head at `position` in the transaction of `curs`, whose
        events begin at `first`: refused when events before them are sealed by nobody (as the
        SQLite recorder's `_seal`)."""
        if kind == WRITE and self.within_write is not None:
            self.within_write(curs, position)
        if self.sealer is None:
            return
        curs.execute(self._select_seal_head, prepare=True)
        last = curs.fetchone()
        previous = None if last is None else seal_from_row(last[c] for c in COLUMNS)
        if first is not None and previous is not None:
            curs.execute(self._select_chained_before, (first,), prepare=True)
            row = curs.fetchone()
            before = None if row is None else row["position"]
            if before is not None and int(before) > previous.position:
                raise _unsealed(previous.position, int(before))
        made = self.sealer.seal(position, head, previous, kind, body)
        curs.execute(self._insert_seal, made.row(), prepare=True)

    def seal_within(self, curs: Cursor[DictRow]) -> None:
        """Seal the chain head in the transaction of `curs` unless a seal covers it already
        (an import's one seal, after its last batch)."""
        curs.execute(self._select_chain_head)
        head = curs.fetchone()
        curs.execute(self._select_seal_head)
        last = curs.fetchone()
        first, self.within_first = self.within_first, None
        if head is not None and (last is None or int(last["position"]) < int(head["position"])):
            self._seal(curs, int(head["position"]), bytes(head["hash"]), first=first)

    def append_root(self, body: bytes) -> None:
        """Write the root seal of the history so far in a transaction of its own, under the
        table lock; nothing when the store holds a seal already."""
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._lock_table(curs)
            curs.execute(self._select_seal_head)
            if curs.fetchone() is not None:
                return
            curs.execute(self._select_chain_head)
            head = curs.fetchone()
            position, chain_hash = (
                (0, GENESIS) if head is None else (int(head["position"]), bytes(head["hash"]))
            )
            self._seal(curs, position, chain_hash, ROOT, body)

    def select_seals(self, after: int, upto: int, limit: int) -> list[Seal]:
        """Seals with `after < position <= upto`, in position order (none without a table: a
        ledger written before seals existed, opened read-only)."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._seal_table_exists, (f'"{self.datastore.schema}"."{self.seal_table_name}"',)
            )
            row = curs.fetchone()
            if not row or not row["present"]:
                return []
            curs.execute(self._select_seals_between, (after, upto, limit))
            return [seal_from_row(r[c] for c in COLUMNS) for r in curs.fetchall()]

    def _stored_id(self, s: StoredEvent) -> object:
        # A uuid column gives back a UUID; a text column gives back text, and psycopg writes a
        # UUID into the text field of the library's composite type as its 32 hex digits.
        oid: object = s.originator_id
        if self.datastore.originator_id_type == "text":
            oid = oid.hex if isinstance(oid, UUID) else str(oid)
        elif isinstance(oid, str):
            oid = UUID(oid)
        return oid

    def _write_links(
        self, curs: Cursor[DictRow], links: Sequence[tuple[int, bytes]], copy: bool = False
    ) -> None:
        if copy:
            with curs.copy(self._copy_chain) as rows:
                rows.set_types(["int8", "bytea"])
                for link_row in links:
                    rows.write_row(link_row)
        elif links:
            curs.execute(
                self._insert_chain, ([p for p, _ in links], [h for _, h in links]), prepare=True
            )

    def _genesis(self, curs: Cursor[DictRow], *, before: int) -> bytes:
        """Chain events stored before the chain existed (a ledger of an earlier version)."""
        previous, after = GENESIS, _LOWEST
        while True:
            curs.execute(self._select_events_between, (after, before - 1, PAGE))
            rows = [_pg_event_row(r) for r in curs.fetchall()]
            links = []
            for row in rows:
                previous = link(previous, row.encoded())
                links.append((row.position, previous))
            self._write_links(curs, links)
            if len(rows) < PAGE:
                return previous
            after = rows[-1].position

    def chain_bound(self) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_bound)
            row = curs.fetchone()
            return int(row["bound"]) if row else 0

    def select_event_rows(self, after: int, upto: int, limit: int) -> list[EventRow]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_events_between, (after, upto, limit))
            return [_pg_event_row(r) for r in curs.fetchall()]

    def select_chain_rows(self, after: int, upto: int, limit: int) -> list[tuple[int, bytes]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_chain_between, (after, upto, limit))
            return [(r["position"], _hash_value(r["hash"])) for r in curs.fetchall()]


class ChainedPostgresAggregateRecorder(ChainedPostgresApplicationRecorder):
    """The chained recorder as an aggregate recorder (the factory's `aggregate_recorder`, for
    snapshots or events without a notification log): the library's numbers no event, and the
    chain follows positions, so it keeps its events as the application recorder does, and
    returns no positions, as an aggregate recorder does."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        super().insert_events(stored_events, **kwargs)
        return None


class ChainedPostgresProcessRecorder(PostgresProcessRecorder, ChainedPostgresApplicationRecorder):
    """The library's PostgreSQL process recorder, its events chained: the tracking row, the
    events and their chain rows in one transaction."""


def _pg_event_row(r: DictRow) -> EventRow:
    state = r["state"]
    return EventRow(
        r["notification_id"],
        r["originator_id"],
        r["originator_version"],
        r["topic"],
        bytes(state) if isinstance(state, memoryview) else state,
    )
