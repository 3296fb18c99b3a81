"""Tamper evidence: every stored event chained to the one before it by a SHA-256 hash.

The chain rule: the hash of the event at position `n` is SHA-256 over a fixed label, the hash of
the event before it in the global order (32 zero bytes for the first), and a canonical,
length-prefixed encoding of the event's position, originator id, originator version, topic and
state. Length prefixes and type tags keep fields from being shifted into each other; the
position ties each event to its place, the previous hash to all of history before it.

The hashes live in a table of their own, `jamsos_event_chain (position, hash)` for the ledger's
events (another events table has its own: `chain_table_of`), beside the events, and are written
by the recorder in the same transaction as the events (subclasses of the library's SQLite,
PostgreSQL (`integrity_postgres`) and in-memory recorders, whose factories `StoreURL.environment()`
names: every recorder that writes events is chained), so there is never an event without its
link or a link without its event, whatever crashes. Chain rows follow the notification ids, gaps
included (a PostgreSQL sequence skips the ids of rolled-back inserts): each links to the
previous existing row.

`verify()` walks events and chain together, in pages, and names the first position where a
stored event was altered, removed, inserted or reordered. A digest (`1234:9f86d0...`, a position
and the start of its hash) kept outside the system proves that the history up to that position
was not rewritten or truncated, even by someone who recomputed every hash.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    DatabaseError,
    ProcessRecorder,
    StoredEvent,
)
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory, POPOProcessRecorder
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteFactory,
    SQLiteProcessRecorder,
)

from jamsos_ledger.domain.errors import InvalidInput, StoreUnavailable
from jamsos_ledger.stores.seals import (
    COLUMNS,
    ROOT,
    WRITE,
    Seal,
    SealMaker,
    seal_from_row,
    seal_table_of,
)

# The chain of the ledger's own events table (SQLite's `stored_events`, PostgreSQL's
# `jamsos_events`), named as it always was so that every ledger written before still opens.
CHAIN_TABLE = "jamsos_event_chain"
_MAX_NAME = 63  # PostgreSQL's longest identifier, which the library also allows events tables
GENESIS = bytes(32)  # the "previous hash" of the first event
_LABEL = b"jamsos-event-chain/1\x00"
DIGEST_HEX = 32  # hex characters of a hash kept in a digest: 128 bits
PAGE = 1_000  # rows read at once by verify: fewer a query, and the queries cost more than rows
_LOWEST = -(2**63)  # below any position, even one an attacker wrote
# From this many events in one insert (an import's batch), an SQLite connection keeps a page
# cache of BULK_CACHE_KIB: the index of the events' ids takes keys in random order, and the
# 2 MB default wrote and read its pages back again and again.
BULK_ROWS = 1_000
BULK_CACHE_KIB = 32 * 1024

# The seals table's columns (`seals.COLUMNS`), for SQLite and PostgreSQL alike.
SEAL_COLUMNS = (
    "position BIGINT PRIMARY KEY, kind TEXT NOT NULL, principal TEXT NOT NULL, "
    "fingerprint TEXT NOT NULL, on_behalf_of TEXT, note TEXT, body {blob} NOT NULL, "
    "previous {blob} NOT NULL, signature {blob} NOT NULL"
)

# Kinds of discrepancy, in the words `audit verify` uses.
ALTERED = "altered"
REMOVED = "removed"
INSERTED = "inserted"
REORDERED = "reordered"
TRUNCATED = "truncated"
REWRITTEN = "rewritten"


# --- The chain rule ---------------------------------------------------------------------------


def _field(tag: bytes, payload: bytes) -> bytes:
    return tag + len(payload).to_bytes(8, "big") + payload


def _int_field(value: object) -> bytes:
    if isinstance(value, int) and not isinstance(value, bool):
        return _field(b"i", str(value).encode())
    return _field(b"!", repr(value).encode())  # never written by a recorder: never matches


def _id_field(value: object, uuid_text: bool = False) -> bytes:
    """An originator id: a UUID as its 16 bytes, a text id as UTF-8.

    With `uuid_text` (SQLite stores UUIDs as 32 hex digits) only the exact text the recorder
    writes counts as that UUID, so even a change of letter case is an alteration.
    """
    if isinstance(value, UUID):
        return _field(b"u", value.bytes)
    if isinstance(value, str):
        if not uuid_text:
            return _field(b"s", value.encode())
        try:
            parsed = UUID(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.hex == value:
            return _field(b"u", parsed.bytes)
    return _field(b"!", repr(value).encode())


def _text_field(value: object) -> bytes:
    if isinstance(value, str):
        return _field(b"s", value.encode())
    return _field(b"!", repr(value).encode())


def _bytes_field(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return _field(b"b", bytes(value))
    return _field(b"!", repr(value).encode())


@dataclass(frozen=True)
class EventRow:
    """A stored event as read back for verification, values as the database holds them.

    Attributes:
        position: the notification id.
        originator_id, originator_version, topic, state: the columns, not yet trusted.
        uuid_text: the originator id column holds UUIDs as hex text (SQLite).
    """

    position: int
    originator_id: object
    originator_version: object
    topic: object
    state: object
    uuid_text: bool = False

    def encoded(self) -> bytes:
        """The canonical encoding of this row's content at its position."""
        return encode_event(
            self.position,
            self.originator_id,
            self.originator_version,
            self.topic,
            self.state,
            self.uuid_text,
        )


def encode_event(
    position: object,
    originator_id: object,
    originator_version: object,
    topic: object,
    state: object,
    uuid_text: bool = False,
) -> bytes:
    """The canonical encoding of an event's content at its position (see EventRow)."""
    return _joined(
        position,
        _id_field(originator_id, uuid_text),
        _int_field(originator_version),
        _text_field(topic),
        state,
    )


def _joined(
    position: object, id_field: bytes, version_field: bytes, topic_field: bytes, state: object
) -> bytes:
    """The fields of `encode_event` in their order, the id, version and topic encoded already
    (an import's events share their version and topic: encoded once, see `chain_rows`)."""
    return b"".join(
        (_int_field(position), id_field, version_field, topic_field, _bytes_field(state))
    )


def link(previous: bytes, encoded_event: bytes) -> bytes:
    """The chain hash of an event, given the hash before it and its canonical encoding."""
    return hashlib.sha256(_LABEL + previous + encoded_event).digest()


def chain_rows(
    previous: bytes,
    positions: Sequence[int],
    events: Sequence[StoredEvent],
    originator_ids: Sequence[object],
) -> list[tuple[int, bytes]]:
    """The chain rows of new events, linked from the hash of the last existing row.

    `originator_ids` are the events' originator ids in the form that encodes as the store
    will give them back (an id the store keeps as text is hashed as that text), so that
    writing and verifying agree. Each link is `link(previous, encode_event(...))`, with the
    fields every event of an import shares (version, topic) encoded once: no EventRow is
    built, an import writes hundreds of thousands of rows.
    """
    rows = []
    versions: dict[int, bytes] = {}
    topics: dict[str, bytes] = {}
    for position, event, oid in zip(positions, events, originator_ids, strict=True):
        version, topic = event.originator_version, event.topic
        exact = type(version) is int  # True == 1, but a bool is not a version
        version_field = versions.get(version) if exact else None
        if version_field is None:
            version_field = _int_field(version)
            if exact:
                versions[version] = version_field
        topic_field = topics.get(topic) if type(topic) is str else None
        if topic_field is None:
            topic_field = _text_field(topic)
            if type(topic) is str:
                topics[topic] = topic_field
        previous = link(
            previous, _joined(position, _id_field(oid), version_field, topic_field, event.state)
        )
        rows.append((position, previous))
    return rows


def chain_table_of(events_table: str, ledger_events_table: str) -> str:
    """The chain table of an events table: the ledger's own keeps `CHAIN_TABLE`, any other gets
    `<events table>_chain`, so that two recorders with different events tables in one database
    never write into one chain (where the second's first write would look like events removed).

    A name longer than an identifier may be, or that would be the ledger's, is shortened and
    made unique with a hash of the events table's name.
    """
    if events_table == ledger_events_table:
        return CHAIN_TABLE
    name = f"{events_table}_chain"
    if len(name) <= _MAX_NAME and name != CHAIN_TABLE:
        return name
    tag = hashlib.sha256(events_table.encode()).hexdigest()[:8]
    return f"{events_table[: _MAX_NAME - len(tag) - len('__chain')]}_{tag}_chain"


class ChainBroken(StoreUnavailable):
    """A write found the chain ahead of the events: the store was tampered with."""


def _unsealed(sealed: int, before: int) -> ChainBroken:
    return ChainBroken(
        f"the log holds events at positions {sealed + 1} to {before} that no principal sealed: "
        "they were written behind the ledger's back, without a key. A write now would seal "
        "over them, so nothing was written; run `jamsos audit verify` and have an auditor "
        "look at them"
    )


def _broken(last: int, first_new: int) -> ChainBroken:
    return ChainBroken(
        f"the event chain already reaches position {last}, but new events were numbered from "
        f"{first_new}: stored events were removed behind the ledger's back. Nothing was "
        "written; run `jamsos audit verify`"
    )


# --- What verify needs from a store -----------------------------------------------------------


@runtime_checkable
class ChainedRecorder(Protocol):
    """An application recorder that writes the chain; what `verify` reads from it."""

    def chain_bound(self) -> int:
        """The highest position of any event or chain row now stored (0 when none)."""

    def select_event_rows(self, after: int, upto: int, limit: int) -> list[EventRow]:
        """Stored events with `after < position <= upto`, in position order."""

    def select_chain_rows(self, after: int, upto: int, limit: int) -> list[tuple[int, bytes]]:
        """Chain rows with `after < position <= upto`, in position order."""


# --- SQLite -----------------------------------------------------------------------------------


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder, writing each event's chain row in the same transaction,
    and the transaction's seal (`seals`) when it has a `sealer`."""

    ledger_events_table = "stored_events"  # the library's SQLite factory's only events table
    # Who seals this recorder's transactions: the ledger sets it when it opens (a `Sealer`, or
    # a `Refusal` that refuses every write); None seals nothing (the library's own tests).
    sealer: SealMaker | None = None
    # The first position an import's batches wrote in its transaction, until it is sealed.
    within_first: int | None = None
    # Called with the cursor and the chain head's position in each write's transaction, just
    # before its seal: what its caller must commit with the events or not at all (the
    # service's Idempotency-Key marks its write applied there). An error undoes the write.
    within_write: Callable[[Any, int], None] | None = None

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name)
        chain = self.chain_table_name
        self._select_chain_head = (
            f"SELECT position, hash FROM {chain} ORDER BY position DESC LIMIT 1"
        )
        self._insert_chain = f"INSERT INTO {chain} (position, hash) VALUES (?, ?)"
        self._select_chained_before = f"SELECT max(position) FROM {chain} WHERE position < ?"
        seals = self.seal_table_name
        self._select_seal_head = (
            f"SELECT {', '.join(COLUMNS)} FROM {seals} ORDER BY position DESC LIMIT 1"
        )
        self._insert_seal = (
            f"INSERT INTO {seals} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        )

    @property
    def chain_table_name(self) -> str:
        """This events table's chain (a property: the library builds the create statements
        before the constructor here goes on)."""
        return chain_table_of(self.events_table_name, self.ledger_events_table)

    @property
    def seal_table_name(self) -> str:
        """This events table's seals."""
        return seal_table_of(self.chain_table_name, CHAIN_TABLE)

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {self.chain_table_name} "
            "(position INTEGER PRIMARY KEY, hash BLOB NOT NULL)"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {self.seal_table_name} "
            f"({SEAL_COLUMNS.format(blob='BLOB')})"
        )
        return statements

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        return self._insert_chained(c, stored_events, seal=True)

    def _insert_chained(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], *, seal: bool
    ) -> list[int]:
        # The events go first: after its first insert this connection holds SQLite's write
        # lock, so the chain head read next cannot move before the commit.
        if not stored_events:
            return []
        if len(stored_events) >= BULK_ROWS:
            c.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")  # this connection's, from now
        # Each id as the library writes it: a UUID as its 32 hex digits, a text id as it is.
        written = [
            s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id
            for s in stored_events
        ]
        ids = self._insert_rows(c, stored_events, written)
        c.execute(self._select_chain_head)
        head = c.fetchone()
        if head is None:
            previous = self._genesis(c, before=ids[0])
        elif head[0] >= ids[0]:
            raise _broken(head[0], ids[0])
        else:
            previous = bytes(head[1])
        # Hex digits read back from a uuid-typed column are that UUID; from a text column,
        # text. A text id is as it is.
        hashed = (
            [s.originator_id for s in stored_events] if self._uuid_text else written
        )
        links = chain_rows(previous, ids, stored_events, hashed)
        c.executemany(self._insert_chain, links)
        if seal:
            self._seal(c, *links[-1], first=ids[0])
        return ids

    def insert_within(self, c: Any, stored_events: Sequence[StoredEvent]) -> Sequence[int]:
        """Insert and chain a batch in the transaction of `c` (an import's, `bulk_writes`);
        their positions. The transaction is sealed once, at its end (`seal_within`)."""
        ids = self._insert_chained(c, stored_events, seal=False)
        if ids and self.within_first is None:
            self.within_first = ids[0]
        return ids

    # -- seals ---------------------------------------------------------------------------

    def _seal(
        self, c: Any, position: int, head: bytes, kind: str = WRITE, body: bytes = b"",
        first: int | None = None,
    ) -> None:
        """Write the seal of the chain head at `position` in the transaction of `c`, whose
        events begin at `first`: refused when events before them are sealed by nobody (a
        seal signs the chain head, so it would vouch for them)."""
        if kind == WRITE and self.within_write is not None:
            self.within_write(c, position)
        if self.sealer is None:
            return
        c.execute(self._select_seal_head)
        last = c.fetchone()
        previous = None if last is None else seal_from_row(last)
        if first is not None and previous is not None:
            c.execute(self._select_chained_before, (first,))
            before = c.fetchone()[0]
            if before is not None and int(before) > previous.position:
                raise _unsealed(previous.position, int(before))
        made = self.sealer.seal(position, head, previous, kind, body)
        c.execute(self._insert_seal, made.row())

    def seal_within(self, c: Any) -> None:
        """Seal the chain head in the transaction of `c` unless a seal covers it already
        (an import's one seal, after its last batch)."""
        c.execute(self._select_chain_head)
        head = c.fetchone()
        c.execute(self._select_seal_head)
        last = c.fetchone()
        first, self.within_first = self.within_first, None
        if head is not None and (last is None or int(last[0]) < int(head[0])):
            self._seal(c, int(head[0]), bytes(head[1]), first=first)

    def append_root(self, body: bytes) -> None:
        """Write the root seal (`seals`) of the history so far, in a transaction of its own;
        nothing when the store holds a seal already (another process made it first)."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(self._select_seal_head)
            if c.fetchone() is not None:
                return
            c.execute(self._select_chain_head)
            head = c.fetchone()
            position, chain_hash = (0, GENESIS) if head is None else (head[0], bytes(head[1]))
            self._seal(c, position, chain_hash, ROOT, body)

    def select_seals(self, after: int, upto: int, limit: int) -> list[Seal]:
        """Seals with `after < position <= upto`, in position order (none when the ledger was
        written before seals existed and is opened read-only: no table)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                (self.seal_table_name,),
            )
            if c.fetchone() is None:
                return []
            c.execute(
                f"SELECT {', '.join(COLUMNS)} FROM {self.seal_table_name} "
                "WHERE position > ? AND position <= ? ORDER BY position LIMIT ?",
                (after, upto, limit),
            )
            return [seal_from_row(r) for r in c.fetchall()]

    def _insert_rows(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], written: Sequence[object]
    ) -> list[int]:
        """Insert the events as the library does, in one `executemany` instead of a statement
        a row, and return their positions.

        The first row is inserted alone for its rowid, which also takes SQLite's one write
        lock; the table has no AUTOINCREMENT, so each further row gets the highest rowid plus
        one: the positions follow on. They are checked against the table after the insert.
        """
        rows = [
            (oid, s.originator_version, s.topic, s.state)
            for oid, s in zip(written, stored_events, strict=True)
        ]
        c.execute(self.insert_events_statement, rows[0])
        first = c.lastrowid
        assert first is not None
        if len(rows) > 1:
            c.executemany(self.insert_events_statement, rows[1:])
        last = first + len(rows) - 1
        c.execute(f"SELECT max(rowid) FROM {self.events_table_name}")
        if c.fetchone()[0] != last:
            raise DatabaseError(f"events were not stored at positions {first} to {last}")
        return list(range(first, last + 1))

    @property
    def _uuid_text(self) -> bool:
        return bool(self.datastore.originator_id_type == "uuid")

    def _genesis(self, c: SQLiteCursor, *, before: int) -> bytes:
        """Chain events stored before the chain existed (a ledger of an earlier version)."""
        previous, after = GENESIS, _LOWEST
        while True:
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state "
                f"FROM {self.events_table_name} WHERE rowid > ? AND rowid < ? "
                "ORDER BY rowid LIMIT ?",
                (after, before, PAGE),
            )
            rows = c.fetchall()
            links = []
            for r in rows:
                previous = link(previous, self._event_row(r).encoded())
                links.append((r[0], previous))
            c.executemany(self._insert_chain, links)
            if len(rows) < PAGE:
                return previous
            after = rows[-1][0]

    def _event_row(self, r: Sequence[Any]) -> EventRow:
        return EventRow(r[0], r[1], r[2], r[3], r[4], uuid_text=self._uuid_text)

    def chain_bound(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT max(coalesce((SELECT max(rowid) FROM {self.events_table_name}), 0), "
                f"coalesce((SELECT max(position) FROM {self.chain_table_name}), 0))"
            )
            return int(c.fetchone()[0])

    def select_event_rows(self, after: int, upto: int, limit: int) -> list[EventRow]:
        # Every column is read as its type and raw bytes: an attacker may have stored text
        # that is not UTF-8, which sqlite3 could not even return, and it must be reported as
        # an alteration, not end the walk.
        columns = ", ".join(
            f"typeof({c}), CAST({c} AS BLOB)"
            for c in ("originator_id", "originator_version", "topic", "state")
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid, {columns} FROM {self.events_table_name} "
                "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
                (after, upto, limit),
            )
            return [
                self._event_row([r[0], *(_sqlite_value(r[i], r[i + 1]) for i in (1, 3, 5, 7))])
                for r in c.fetchall()
            ]

    def select_chain_rows(self, after: int, upto: int, limit: int) -> list[tuple[int, bytes]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT position, hash FROM {self.chain_table_name} "
                "WHERE position > ? AND position <= ? "
                "ORDER BY position LIMIT ?",
                (after, upto, limit),
            )
            return [(r[0], _hash_value(r[1])) for r in c.fetchall()]


class ChainedSQLiteAggregateRecorder(ChainedSQLiteApplicationRecorder):
    """The chained recorder as an aggregate recorder (the factory's `aggregate_recorder`, for
    snapshots or events without a notification log): the library's numbers no event, and the
    chain follows positions, so it keeps its events as the application recorder does, and
    returns no positions, as an aggregate recorder does."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        super().insert_events(stored_events, **kwargs)
        return None


class ChainedSQLiteProcessRecorder(SQLiteProcessRecorder, ChainedSQLiteApplicationRecorder):
    """The library's SQLite process recorder, its events chained: the tracking row, the events
    and their chain rows in one transaction."""


def _sqlite_value(kind: str, raw: bytes | None) -> object:
    """A column's value from its SQLite type and raw bytes, as sqlite3 would give it where it
    can; text that is not UTF-8 stays bytes (and so never matches its link)."""
    if kind == "null" or raw is None:
        return None
    data = bytes(raw)
    if kind == "integer":
        return int(data)
    if kind == "real":
        return float(data)
    if kind == "text":
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data
    return data


def _hash_value(value: object) -> bytes:
    # A hash column an attacker filled with text still compares, and never matches.
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return repr(value).encode()


# --- In memory --------------------------------------------------------------------------------


class ChainedPOPOApplicationRecorder(POPOApplicationRecorder):
    """The library's in-memory recorder, keeping the chain and the seals beside its list of
    events."""

    sealer: SealMaker | None = None  # as the SQLite recorder's

    def __init__(self) -> None:
        super().__init__()
        self._chain: list[tuple[int, bytes]] = []
        self._seals: list[Seal] = []

    def _update_table(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Called under the recorder's lock, after the uniqueness checks. The positions the
        # library will give the events follow its list; the chain and the seal are made first,
        # so a refused seal leaves the events unstored.
        first = len(self._stored_events) + 1
        ids = list(range(first, first + len(stored_events)))
        links: list[tuple[int, bytes]] = []
        made = None
        if ids:
            previous = self._chain[-1][1] if self._chain else GENESIS
            links = chain_rows(
                previous, ids, stored_events, [s.originator_id for s in stored_events]
            )
            made = self._made_seal(*links[-1])
        stored = super()._update_table(stored_events, **kwargs)
        assert stored is None or list(stored) == ids
        self._chain.extend(links)
        if made is not None:
            self._seals.append(made)
        return stored

    def _made_seal(
        self, position: int, head: bytes, kind: str = WRITE, body: bytes = b""
    ) -> Seal | None:
        if self.sealer is None:
            return None
        previous = self._seals[-1] if self._seals else None
        return self.sealer.seal(position, head, previous, kind, body)

    def append_root(self, body: bytes) -> None:
        with self._database_lock:
            if self._seals:
                return
            position, head = self._chain[-1] if self._chain else (0, GENESIS)
            made = self._made_seal(position, head, ROOT, body)
            if made is not None:
                self._seals.append(made)

    def select_seals(self, after: int, upto: int, limit: int) -> list[Seal]:
        with self._database_lock:
            return [s for s in self._seals if after < s.position <= upto][:limit]

    def chain_bound(self) -> int:
        with self._database_lock:
            return max(len(self._stored_events), self._chain[-1][0] if self._chain else 0)

    def select_event_rows(self, after: int, upto: int, limit: int) -> list[EventRow]:
        with self._database_lock:
            first = max(after, 0)
            events = self._stored_events[first : min(upto, first + limit)]
            return [
                EventRow(first + i + 1, s.originator_id, s.originator_version, s.topic, s.state)
                for i, s in enumerate(events)
            ]

    def select_chain_rows(self, after: int, upto: int, limit: int) -> list[tuple[int, bytes]]:
        with self._database_lock:
            rows = [(p, h) for p, h in self._chain if after < p <= upto]
            return rows[:limit]


class ChainedPOPOAggregateRecorder(ChainedPOPOApplicationRecorder):
    """The chained in-memory recorder as an aggregate recorder: no positions returned."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        super().insert_events(stored_events, **kwargs)
        return None


class ChainedPOPOProcessRecorder(POPOProcessRecorder, ChainedPOPOApplicationRecorder):
    """The library's in-memory process recorder, its events chained."""


class ChainedPOPOFactory(POPOFactory):
    """The in-memory store with chained recorders (the library's POPO factory takes no
    recorder topic from the environment, so `memory://` names this factory instead)."""

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        return ChainedPOPOAggregateRecorder()

    def application_recorder(self) -> ApplicationRecorder:
        return ChainedPOPOApplicationRecorder()

    def process_recorder(self) -> ProcessRecorder:
        return ChainedPOPOProcessRecorder()


class ChainedSQLiteFactory(SQLiteFactory):
    """The library's SQLite factory, whose every recorder that writes events is chained: an
    unchained one (the library's default process recorder) would write events no chain
    covers. Tracking recorders are the library's (they write no events)."""

    aggregate_recorder_class = ChainedSQLiteAggregateRecorder
    application_recorder_class = ChainedSQLiteApplicationRecorder
    process_recorder_class = ChainedSQLiteProcessRecorder


def environment_recorder(kind: str) -> dict[str, str]:
    """The environment settings that make the library build chained recorders for a store:
    the ledger's factory of that store."""
    from eventsourcing.utils import get_topic

    if kind == "memory":
        return {"PERSISTENCE_MODULE": get_topic(ChainedPOPOFactory)}
    if kind == "sqlite":
        return {"PERSISTENCE_MODULE": get_topic(ChainedSQLiteFactory)}
    # Its own module: psycopg (a tenth of a second to import) only for a PostgreSQL store.
    return {"PERSISTENCE_MODULE": "jamsos_ledger.stores.postgres:LedgerPostgresFactory"}


# --- Verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    """A short digest of the history up to a position, kept by an auditor outside the system.

    Attributes:
        position: the position of the last event it covers (0: the empty history).
        hash_hex: the first 32 hex digits of that event's chain hash.
    """

    position: int
    hash_hex: str

    _PATTERN = re.compile(r"^(\d{1,19}):([0-9a-f]{32})$")

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Read a digest as `audit digest` prints it; InvalidInput when it is not one."""
        m = cls._PATTERN.match(text.strip().lower())
        if m is None:
            raise InvalidInput(
                f"{text!r} is not a digest: `jamsos audit digest` prints one as "
                "POSITION:32-HEX-DIGITS, e.g. 1234:9f86d081884c7d659a2feaa0c55ad015"
            )
        return cls(int(m.group(1)), m.group(2))

    @classmethod
    def of(cls, position: int, chain_hash: bytes) -> Digest:
        """The digest of the history ending at `position` with that chain hash."""
        return cls(position, chain_hash.hex()[:DIGEST_HEX])

    def __str__(self) -> str:
        return f"{self.position}:{self.hash_hex}"


@dataclass(frozen=True)
class Discrepancy:
    """The first place where the stored history differs from what was written.

    Attributes:
        position: the position (notification id) concerned.
        kind: `altered`, `removed`, `inserted`, `reordered`, `truncated` or `rewritten`.
        detail: what was found, in words.
    """

    position: int
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"position {self.position}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class VerifyReport:
    """What `verify` found.

    Attributes:
        events_checked: events whose link was checked and held, up to the first discrepancy.
        head_position: the position of the last event checked (0 when none).
        head_digest: the digest of the history up to `head_position`.
        discrepancy: the first discrepancy, or None when the history is intact.
        digest_checked: the digest the history was also checked against, if any.
    """

    events_checked: int
    head_position: int
    head_digest: Digest
    discrepancy: Discrepancy | None
    digest_checked: Digest | None = None

    @property
    def intact(self) -> bool:
        """True when no discrepancy was found."""
        return self.discrepancy is None


_Item = tuple[int, EventRow | None, bytes | None]


def _paged(fetch: Callable[[int], Sequence[Any]], position: Callable[[Any], int]) -> Iterator[Any]:
    after = _LOWEST
    while True:
        rows = fetch(after)
        yield from rows
        if len(rows) < PAGE:
            return
        after = position(rows[-1])


def _merged(recorder: ChainedRecorder, bound: int) -> Iterator[_Item]:
    """Events and chain rows side by side in position order, either missing where absent."""
    events = _paged(lambda a: recorder.select_event_rows(a, bound, PAGE), lambda r: r.position)
    chain = _paged(lambda a: recorder.select_chain_rows(a, bound, PAGE), lambda r: r[0])
    event = next(events, None)
    row = next(chain, None)
    while event is not None or row is not None:
        if row is None or (event is not None and event.position < row[0]):
            assert event is not None
            yield event.position, event, None
            event = next(events, None)
        elif event is None or row[0] < event.position:
            yield row[0], None, row[1]
            row = next(chain, None)
        else:
            yield row[0], event, row[1]
            event, row = next(events, None), next(chain, None)


def _home_of(recorder: ChainedRecorder, event: EventRow, bound: int) -> int | None:
    """The position whose chain row this event's content fits, if any (a moved event)."""
    previous = GENESIS
    for position, stored in _paged(
        lambda a: recorder.select_chain_rows(a, bound, PAGE), lambda r: r[0]
    ):
        moved = EventRow(position, event.originator_id, event.originator_version, event.topic,
                         event.state, event.uuid_text)
        if link(previous, moved.encoded()) == stored:
            return position
        previous = stored
    return None


def verify(
    recorder: ApplicationRecorder,
    digest: Digest | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """Walk the whole event log and its chain; report the first discrepancy, or none.

    Events written while it runs (after the highest position seen at the start) are left for
    the next run. With a digest, the chain must also still hold the digest's hash at its
    position: that catches a history rewritten with every hash recomputed, or cut short.
    `progress`, if given, is told how many positions each stretch of the walk checked, and
    how many there are.
    """
    if not isinstance(recorder, ChainedRecorder):
        raise StoreUnavailable("this store keeps no event chain")
    bound = recorder.chain_bound()
    walk = _Walk()
    found: Discrepancy | None = None
    items = _merged(recorder, bound)
    item = next(items, None)
    while item is not None and found is None:
        following = next(items, None)
        found = walk.step(item, following, lambda event: _home_of(recorder, event, bound))
        if found is None and digest is not None and walk.position == digest.position:
            found = walk.check_digest(digest)
        item = following
        if progress is not None and walk.checked and walk.checked % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY, bound)
    if found is None and digest is not None and not walk.saw_digest:
        found = walk.missing_digest(digest)
    head = walk.position or 0
    return VerifyReport(walk.checked, head, Digest.of(head, walk.previous), found, digest)


# Positions checked between two reports of progress.
PROGRESS_EVERY = 10_000


def digest_at(recorder: ApplicationRecorder, position: int) -> Digest | None:
    """The digest of the history up to `position` as the chain stores it, for a report to
    state the history it was computed from: `verify` with this digest proves that history is
    intact, and at the head it is the digest `verify` gives. Read, not verified here; None
    when the store keeps no chain or holds no link at that position."""
    if position == 0:
        return Digest.of(0, GENESIS)
    if not isinstance(recorder, ChainedRecorder):
        return None
    rows = recorder.select_chain_rows(position - 1, position, 1)
    return Digest.of(position, rows[0][1]) if rows and rows[0][0] == position else None


class _Walk:
    """The state of a verification: the last link that held, and the one before it."""

    def __init__(self) -> None:
        self.previous = GENESIS
        self.before_previous = GENESIS
        self.position: int | None = None
        self.checked = 0
        self.saw_digest = False

    def step(
        self,
        item: _Item,
        following: _Item | None,
        home_of: Callable[[EventRow], int | None],
    ) -> Discrepancy | None:
        """Check one position; the next one is looked at to tell a lost link from a forgery."""
        position, event, stored = item
        if event is None:
            return Discrepancy(position, REMOVED, "the event was deleted; its chain row remains")
        if stored is None:
            return self._unchained(position, event, following)
        encoded = event.encoded()
        if link(self.previous, encoded) != stored:
            if self.position is not None and link(self.before_previous, encoded) == stored:
                return Discrepancy(
                    self.position,
                    INSERTED,
                    "an event was added here with a forged chain row; the next link skips it",
                )
            home = home_of(event)
            if home is not None and home != position:
                return Discrepancy(
                    position, REORDERED, f"this position holds the event written at {home}"
                )
            return Discrepancy(
                position, ALTERED, "the stored event (or its chain row) is not what was written"
            )
        self.before_previous, self.previous, self.position = self.previous, stored, position
        self.checked += 1
        return None

    def _unchained(
        self, position: int, event: EventRow, following: _Item | None
    ) -> Discrepancy:
        # Its chain row was deleted if the next link runs through it; otherwise the event was
        # added behind the ledger's back.
        expected = link(self.previous, event.encoded())
        if following is not None:
            _, next_event, next_stored = following
            if (
                next_event is not None
                and next_stored is not None
                and link(expected, next_event.encoded()) == next_stored
            ):
                return Discrepancy(
                    position, REMOVED, "its chain row was deleted (the event itself is intact)"
                )
        detail = "an event with no chain row was added"
        if self.position is None:
            detail += (
                " (when no event has one, the store was written by a jamsos without tamper "
                "evidence, or the chain was emptied; a new chain starts with the next write)"
            )
        return Discrepancy(position, INSERTED, detail)

    def check_digest(self, digest: Digest) -> Discrepancy | None:
        """At the digest's position: is the hash still the one the digest was taken of?"""
        self.saw_digest = True
        if self.previous.hex()[:DIGEST_HEX] == digest.hash_hex:
            return None
        return Discrepancy(
            digest.position,
            REWRITTEN,
            f"the history up to here is not the one digest {digest} was taken of",
        )

    def missing_digest(self, digest: Digest) -> Discrepancy | None:
        """After the walk, when the digest's position was never reached."""
        head = self.position or 0
        if digest.position == 0:
            return None
        if digest.position > head:
            return Discrepancy(
                head + 1,
                TRUNCATED,
                f"the history ends at position {head}, but digest {digest} shows it reached "
                f"position {digest.position}",
            )
        return Discrepancy(
            digest.position,
            REWRITTEN,
            f"position {digest.position} of digest {digest} is no longer in the history",
        )
