"""The event log read in pages with the database driver, for rebuilds and replays at city scale.

`recorder.select_notifications` builds a frozen `Notification` and a `UUID` per row, and
`mapper.to_domain_event` resolves the topic and finds the id convertor for every event: together
more than the database read itself, as profiled. A rebuild of a city's year reads hundreds
of thousands of events, so here the rows come straight from the driver, rows of topics nobody
wants are counted but never decrypted or decoded, and each event is built exactly as the
library's `Mapper.to_domain_event` builds it (the mapper's own cipher, compressor and
transcoder, the same id conversion, `cls.__new__` and `__dict__`), with what depends only on
the topic worked out once per topic. An event class with a `class_version` (schema evolution)
and any mapper other than the library's own go through `mapper.to_domain_event`, so upcasting
is never skipped; the in-memory store is read through `select_notifications`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import UUID, SafeUUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic

from jamsos_ledger.stores.recorder_kinds import is_recorder_of

# A row of the log: position, originator id (as the database gives it), version, topic, state.
Row = tuple[int, Any, int, str, bytes]


@dataclass
class LogPage:
    """One page of the log.

    Attributes:
        read: rows read, wanted or not (what a progress bar counts).
        last: the position of the last row read (0 when none): how far the page reaches.
        events: (position, topic, event) of the rows of wanted topics, in log order.
    """

    read: int = 0
    last: int = 0
    events: list[tuple[int, str, Any]] = field(default_factory=list)


class LogReader:
    """Reads pages of one recorder's log and turns the wanted rows into domain events."""

    def __init__(self, recorder: ApplicationRecorder, mapper: Mapper[Any]) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self._rows, self._originator_id = _row_source(recorder)
        # A mapper of another kind may do more than the library's: leave it every event.
        self._own_mapper = type(mapper).to_domain_event is Mapper.to_domain_event
        self._classes: dict[tuple[str, type], tuple[type, Callable[[Any], Any]] | None] = {}

    def page(
        self,
        after: int,
        limit: int,
        *,
        stop: int | None = None,
        wanted: Callable[[int, str], bool] | None = None,
    ) -> LogPage:
        """Up to `limit` rows with `after < position <= stop`; those `wanted(position, topic)`
        (all without it) decoded."""
        rows = self._rows(self.recorder, after, stop, limit)
        page = LogPage(read=len(rows), last=rows[-1][0] if rows else 0)
        append = page.events.append
        for row in rows:
            position, topic = row[0], row[3]
            if wanted is None or wanted(position, topic):
                append((position, topic, self.event(row)))
        return page

    def event(self, row: Row) -> Any:
        """The domain event of a row, as `mapper.to_domain_event` makes it."""
        _, stored_id, version, topic, state = row
        originator_id = self._originator_id(stored_id)
        found = self._class_of(topic, originator_id)
        if found is None:
            return self.mapper.to_domain_event(StoredEvent(originator_id, version, topic, state))
        cls, convert = found
        mapper = self.mapper
        try:
            if mapper.cipher:
                state = mapper.cipher.decrypt(state)
            if mapper.compressor:
                state = mapper.compressor.decompress(state)
            event_state: dict[str, Any] = mapper.transcoder.decode(state)
        except Exception as e:
            msg = (
                f"Failed to deserialise state of stored event with topic '{topic}', "
                f"originator_id '{originator_id}' and originator_version {version}: {e}"
            )
            raise MapperDeserialisationError(msg) from e
        event_state["originator_id"] = convert(originator_id)
        event_state["originator_version"] = version
        # The mapper drops a recorded class version; a class without one has nothing to upcast.
        event_state.pop("class_version", None)
        domain_event: Any = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", event_state)
        return domain_event

    def _class_of(
        self, topic: str, originator_id: Any
    ) -> tuple[type, Callable[[Any], Any]] | None:
        """The event class and id convertor for a topic, or None: the mapper builds these."""
        key = (topic, type(originator_id))
        try:
            return self._classes[key]
        except KeyError:
            pass
        cls = resolve_topic(topic)
        found: tuple[type, Callable[[Any], Any]] | None = None
        if self._own_mapper and not hasattr(cls, "class_version"):
            found = (cls, find_id_convertor(cls, cast(Hashable, type(originator_id))))
        self._classes[key] = found
        return found


# --- Rows, store by store ----------------------------------------------------------------------

RowSource = Callable[[ApplicationRecorder, int, "int | None", int], Sequence[Row]]


def _row_source(recorder: ApplicationRecorder) -> tuple[RowSource, Callable[[Any], Any]]:
    """How to read a store's rows, and how its recorder turns a stored originator id into the
    one `select_notifications` gives (done only for the rows that are decoded)."""
    if is_recorder_of(recorder, "eventsourcing.sqlite"):
        uuids = recorder.datastore.originator_id_type == "uuid"  # type: ignore[attr-defined]
        return _sqlite_rows, _uuid if uuids else _same
    if is_recorder_of(recorder, "eventsourcing.postgres"):
        # `uuid` ids are read as their text (the driver's UUID loader costs a `UUID(hex)` a row).
        uuids = recorder.datastore.originator_id_type == "uuid"  # type: ignore[attr-defined]
        return _postgres_rows, _uuid if uuids else _same
    return _notification_rows, _same


def _sqlite_rows(
    recorder: ApplicationRecorder, after: int, stop: int | None, limit: int
) -> Sequence[Row]:
    datastore: Any = recorder.datastore  # type: ignore[attr-defined]
    table = recorder.events_table_name  # type: ignore[attr-defined]
    upto = "AND rowid <= ? " if stop is not None else ""
    params = (after, stop, limit) if stop is not None else (after, limit)
    with datastore.transaction(commit=False) as c:
        cursor = c.sqlite_cursor
        cursor.row_factory = None  # plain tuples: the connection's sqlite3.Row costs per row
        cursor.execute(
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} "
            f"WHERE rowid > ? {upto}ORDER BY rowid LIMIT ?",
            params,
        )
        return cast(Sequence[Row], cursor.fetchall())


def _postgres_rows(
    recorder: ApplicationRecorder, after: int, stop: int | None, limit: int
) -> Sequence[Row]:
    from psycopg.rows import tuple_row
    from psycopg.sql import SQL, Identifier

    datastore: Any = recorder.datastore  # type: ignore[attr-defined]
    upto = SQL("AND notification_id <= %s ") if stop is not None else SQL("")
    statement = SQL(
        "SELECT notification_id, originator_id::text, originator_version, topic, state "
        "FROM {}.{} WHERE notification_id > %s {}ORDER BY notification_id LIMIT %s"
    ).format(
        Identifier(datastore.schema),
        Identifier(recorder.events_table_name),  # type: ignore[attr-defined]
        upto,
    )
    params = (after, stop, limit) if stop is not None else (after, limit)
    with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
        cursor.execute(statement, params, prepare=True)
        rows = cursor.fetchall()
    return [
        (p, oid, v, topic, bytes(state) if isinstance(state, memoryview) else state)
        for p, oid, v, topic, state in rows
    ]


def _notification_rows(
    recorder: ApplicationRecorder, after: int, stop: int | None, limit: int
) -> Sequence[Row]:
    """Any other store (the in-memory one) through the library's own reading."""
    page = recorder.select_notifications(
        start=after, limit=limit, stop=stop, inclusive_of_start=False
    )
    return [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in page]


def _same(originator_id: Any) -> Any:
    return originator_id


def _uuid(text: str) -> UUID:
    """`UUID(text)` for the ids the recorders store as text, at a fraction of its cost.

    SQLite keeps 32 hex digits, and PostgreSQL's `uuid` is read as its canonical text.
    `UUID.__init__` checks and strips forms the recorders never write before it parses the same
    `int(hex, 16)`; any other text takes it.
    """
    if type(text) is not str:
        return UUID(text)
    if len(text) == 36:
        text = text.lower()
        digits = text.replace("-", "")
    else:
        digits = text
    if len(digits) != 32 or "-" in digits:
        return UUID(text)  # not a form the recorders write: checked (and refused) as UUID does
    value = object.__new__(ReadId)
    object.__setattr__(value, "int", int(digits, 16))
    object.__setattr__(value, "is_safe", _UNKNOWN)
    object.__setattr__(value, "_text", text)
    return value


class ReadId(UUID):
    """A UUID read from the log that keeps the text it was read from.

    Every projection writes an id as `str(id)`, one to three times an event, and `UUID.__str__`
    formats it anew each time; this one formats it once. Equal to, and hashed as, the `UUID` of
    its text; copied and pickled as a plain `UUID`.
    """

    __slots__ = ("_text",)
    _text: str

    def __str__(self) -> str:
        text: str = self._text
        if len(text) != 36:
            text = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}".lower()
            object.__setattr__(self, "_text", text)
        return text

    def __reduce__(self) -> tuple[type[UUID], tuple[str]]:
        return UUID, (str(self),)


_UNKNOWN = SafeUUID.unknown  # an enum member looked up once, not once a row
