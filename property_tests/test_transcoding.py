"""Every event of every aggregate survives the trip to stored bytes and back, exactly.

The event types are found by looking inside the aggregates, so an event added later is covered
without touching this file; a field of a type this file cannot generate fails loudly instead of
being skipped. Values come from each field's annotation: ids, dates, datetimes with any UTC
offset, months, rupiah up to Rp 10^15, any text, and None where a field is optional.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate
from hypothesis import given
from hypothesis import strategies as st

from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.model import Program, Reference, Worker
from jamsos_ledger.domain.months import Month
from jamsos_ledger.stores.transcoding import MsgpackTranscoder

AGGREGATES = (Program, Worker, Reference)


def event_classes() -> list[type[Aggregate.Event]]:
    """The event classes nested in the ledger's aggregates."""
    found = []
    for aggregate in AGGREGATES:
        for value in vars(aggregate).values():
            if isinstance(value, type) and issubclass(value, Aggregate.Event):
                found.append(value)
    return found


EVENTS = event_classes()
KNOWN = {
    Program.Opened, Program.AllocationAmended, Program.QuotaAmended, Program.PremiumsCommitted,
    Program.CoverageReleased, Program.PremiumPaid, Program.PaymentReversed,
    Program.EnrolmentAnnulled, Program.InvoiceReconciled, Program.InvoicePaid,
    Worker.Registered, Worker.Prioritized, Worker.Enrolled, Worker.CoverageEnded,
    Worker.EnrolmentAnnulled, Worker.KpjRecorded, Worker.ClaimFiled,
    Reference.Used,
}


def test_the_events_are_found_by_introspection() -> None:
    assert EVENTS, "no event classes found in the aggregates"
    assert set(EVENTS) >= KNOWN, f"not found: {sorted(c.__qualname__ for c in KNOWN - set(EVENTS))}"


# --- Values of each annotated type ------------------------------------------------------------

offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
rupiah = (
    st.integers(0, 100)
    | st.integers(-(10**15), 10**15)
    | st.sampled_from([10**15, 2_000_000_000, 201_600, 16_800, -16_800])
)
texts = st.text() | st.sampled_from(
    ["Siti Nurhaliza", "Dédé Suryadi", "Ñoman Ayu", "王小明", "Kep. Wali Kota 400/Kep.12-Disnaker"]
)

STRATEGIES: dict[Any, st.SearchStrategy[Any]] = {
    UUID: st.uuids(),
    date: st.dates(),
    datetime: st.datetimes(timezones=offsets),
    Month: st.builds(Month, st.integers(1900, 9999), st.integers(1, 12)),
    int: rupiah,
    str: texts,
    bool: st.booleans(),
}


def strategy_for(annotation: Any, where: str) -> st.SearchStrategy[Any]:
    """Values of an annotated type; an unknown type fails, so a new field type is never skipped."""
    if isinstance(annotation, typing.TypeVar):  # the aggregate id: UUID in this ledger
        return st.uuids()
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = typing.get_args(annotation)
        return st.one_of(
            *(st.none() if m is type(None) else strategy_for(m, where) for m in members)
        )
    if typing.get_origin(annotation) is list:  # e.g. the workers an invoice left out
        (member,) = typing.get_args(annotation)
        return st.lists(strategy_for(member, where), max_size=5)
    if annotation in STRATEGIES:
        return STRATEGIES[annotation]
    raise TypeError(f"{where} has a field of type {annotation!r}: teach this test to make one")


def fields_of(cls: type) -> Iterator[tuple[str, Any]]:
    hints = typing.get_type_hints(cls)  # each class's annotations in its own module
    for f in dataclasses.fields(cls):
        yield f.name, hints[f.name]


def event_strategy(cls: type[Aggregate.Event]) -> st.SearchStrategy[Aggregate.Event]:
    return st.builds(
        cls, **{name: strategy_for(t, f"{cls.__qualname__}.{name}") for name, t in fields_of(cls)}
    )


def test_every_field_type_can_be_generated() -> None:
    for cls in EVENTS:
        for name, annotation in fields_of(cls):
            strategy_for(annotation, f"{cls.__qualname__}.{name}")


def assert_same(decoded: dict[str, Any], original: dict[str, Any], where: str) -> None:
    """Equal, of the same types (a date stays a date, a tuple a tuple), offsets kept."""
    assert decoded == original, where
    for key, value in original.items():
        back = decoded[key]
        assert type(back) is type(value), f"{where}.{key}: {type(back)} is not {type(value)}"
        if isinstance(value, datetime):
            assert back.utcoffset() == value.utcoffset(), f"{where}.{key}: offset changed"
            assert back.isoformat() == value.isoformat(), f"{where}.{key}"


@pytest.fixture(scope="module")
def ledger() -> Iterator[Ledger]:
    app = Ledger("memory://", actor="hypothesis")
    yield app
    views = app.views.db.datastore
    app.close()
    views.close()


ids = [c.__qualname__ for c in EVENTS]


@pytest.mark.parametrize("cls", EVENTS, ids=ids)
@given(data=st.data())
def test_msgpack_round_trips_every_event(cls: type[Aggregate.Event], data: st.DataObject) -> None:
    event = data.draw(event_strategy(cls), label=cls.__qualname__)
    state = dict(vars(event))
    transcoder = MsgpackTranscoder()
    encoded = transcoder.encode(state)
    assert isinstance(encoded, bytes)
    assert_same(transcoder.decode(encoded), state, cls.__qualname__)


@pytest.mark.parametrize("cls", EVENTS, ids=ids)
@given(data=st.data())
def test_the_ledgers_mapper_round_trips_every_event(
    ledger: Ledger, cls: type[Aggregate.Event], data: st.DataObject
) -> None:
    event = data.draw(event_strategy(cls), label=cls.__qualname__)
    stored = ledger.mapper.to_stored_event(event)
    back = ledger.mapper.to_domain_event(stored)
    assert type(back) is cls
    assert back == event
    assert_same(dict(vars(back)), dict(vars(event)), cls.__qualname__)
