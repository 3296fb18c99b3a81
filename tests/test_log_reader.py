"""The log read in pages with the driver gives the very events the library's mapper gives.

A small year with every kind of event in it (a program opened and amended, workers registered,
ranked, corrected, enrolled, paid for, ended, a claim and its benefit) is read back on each
store, in clear and encrypted, both ways: `LogReader` and `mapper.to_domain_event` over
`select_notifications` must agree event for event, field for field, type for type.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, ClassVar
from uuid import UUID

import pytest
from eventsourcing.cipher import AESCipher
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from jamsos_ledger.application import Ledger
from jamsos_ledger.application.trail import event_classes
from jamsos_ledger.domain.model import Program, Reference, Registration, Worker
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.reconciliation import InvoiceLine
from jamsos_ledger.stores.log_reader import LogReader, ReadId, _uuid
from jamsos_ledger.stores.transcoding import MsgpackTranscoder

JAN, FEB = Month(2026, 1), Month(2026, 2)
NIKS = [f"3275014101900{i:03d}" for i in range(1, 7)]


def registration(i: int, nik: str) -> Registration:
    return Registration(nik, f"Pekerja {i}", date(1990, 1, 1), "P", "01", "Margahayu",
                        "ojol", 1 + i % 5, "Disnaker")


def every_kind_of_event(ledger: Ledger) -> None:
    ledger.open_program(year=2026, allocation=2_000_000, quota=10, four_eyes=False)
    ledger.register(registration(i, n) for i, n in enumerate(NIKS))
    ledger.correct_worker(NIKS[5], field="decile", value="2", reason="DTSEN 2026-Q1")
    ledger.prioritize()
    ledger.enrol(start=JAN, niks=NIKS[:4], decree="KEP-1")
    ledger.pay_premiums(month=JAN, sp2d="SP2D-1")
    ledger.end_coverage(NIKS[1], month=JAN, reason="moved")
    ledger.amend_program(allocation=2_100_000, quota=12, reason="APBD-P")
    ledger.file_claim(NIKS[0], scheme="JKK", incident_date=date(2026, 2, 3), reference="JKK-1")
    ledger.record_benefit(NIKS[0], reference="JKK-1", amount=5_000_000)
    ledger.pay_premiums(month=FEB, sp2d="SP2D-2")
    # The monthly cycle's corrections: a payment reversed, an enrolment annulled, BPJS's
    # invoice reconciled (its KPJ numbers kept) and paid as agreed.
    ledger.reverse_payment(sp2d="SP2D-2", reason="paid in error")
    ledger.enrol(start=Month(2026, 6), niks=[NIKS[4]], decree="KEP-2")
    ledger.annul_enrolment(NIKS[4], reason="KEP-2 revoked")
    lines = [
        InvoiceLine(line=i + 2, nik=nik, kpj=f"2604000000{i}", name="P", month=FEB, jkk=10_000,
                    jkm=6_800, status="aktif")
        for i, nik in enumerate([NIKS[0], NIKS[2]])
    ]
    ledger.reconcile_invoice(month=FEB, lines=lines, invoice="ab" * 32)
    ledger.pay_premiums(month=FEB, sp2d="SP2D-3", invoice="ab" * 32)


@pytest.fixture(params=["clear", "encrypted"])
def ledger(request: pytest.FixtureRequest, store_url: str, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[Ledger]:
    if request.param == "encrypted":
        monkeypatch.setenv("JAMSOS_CIPHER_KEY", AESCipher.create_key(num_bytes=32))
    ledger = Ledger(store_url, actor="operator")
    every_kind_of_event(ledger)
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "memory"])
def store_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


def by_the_library(ledger: Ledger) -> list[tuple[int, str, Any]]:
    return [(n.id, n.topic, ledger.mapper.to_domain_event(n)) for n in ledger.read_log()]


def test_every_event_is_the_mappers_own(ledger: Ledger) -> None:
    expected = by_the_library(ledger)
    page = LogReader(ledger.recorder, ledger.mapper).page(0, 1_000)
    assert page.read == len(expected) and page.last == expected[-1][0]
    assert [(p, t) for p, t, _ in page.events] == [(p, t) for p, t, _ in expected]
    for (_, _, found), (_, _, wanted) in zip(page.events, expected, strict=True):
        assert type(found) is type(wanted)
        assert vars(found) == vars(wanted)
        # Of the same types, but the id: a UUID that keeps the text it was read from.
        types = {k: type(v) for k, v in vars(found).items()}
        assert types.pop("originator_id") in (UUID, ReadId)
        assert types == {k: type(v) for k, v in vars(wanted).items() if k != "originator_id"}
        assert str(found.originator_id) == str(wanted.originator_id)
        assert hash(found.originator_id) == hash(wanted.originator_id)
    # Every kind of event the aggregates record was read (Reference.Used included).
    kinds = {type(e) for _, _, e in page.events}
    recorded = {*event_classes(Program), *event_classes(Worker), *event_classes(Reference)}
    assert kinds == {c for c in recorded if c.__name__ not in ("Event", "Created")}


def test_pages_cover_the_log_in_order_and_skip_what_nobody_wants(ledger: Ledger) -> None:
    expected = by_the_library(ledger)
    reader = LogReader(ledger.recorder, ledger.mapper)
    registered = get_topic(Worker.Registered)
    seen: list[int] = []
    after = 0
    while page := reader.page(after, 4, wanted=lambda _, topic: topic == registered):
        if not page.read:
            break
        assert page.read <= 4
        seen.extend(p for p, _, _ in page.events)
        after = page.last
    assert seen == [p for p, t, _ in expected if t == registered]
    # `stop` ends a page: positions after it are not read.
    middle = expected[len(expected) // 2][0]
    page = reader.page(0, 1_000, stop=middle)
    assert page.last == middle and [p for p, _, _ in page.events] == [
        p for p, _, _ in expected if p <= middle
    ]


def test_a_state_that_cannot_be_read_is_named_as_the_mapper_names_it(ledger: Ledger) -> None:
    reader = LogReader(ledger.recorder, ledger.mapper)
    first = reader._rows(ledger.recorder, 0, None, 1)[0]
    notification = ledger.read_log()
    n = next(notification)
    broken = b"\xc1 neither msgpack nor ciphertext"
    with pytest.raises(ValueError) as ours:
        reader.event((*first[:4], broken))
    with pytest.raises(ValueError) as theirs:
        ledger.mapper.to_domain_event(
            StoredEvent(n.originator_id, n.originator_version, n.topic, broken)
        )
    assert str(ours.value) == str(theirs.value)
    assert type(ours.value) is type(theirs.value)


# --- Schema evolution: an event class with a class_version goes through the mapper -----------


class Gadget(Aggregate):
    """An aggregate whose event was recorded without `colour`, and is upcast to have one."""

    class Made(Aggregate.Created):
        class_version = 2
        colour: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["colour"] = "red"

    @event(Made)
    def __init__(self, colour: str) -> None:
        self.colour = colour


def test_an_event_class_with_a_class_version_is_upcast_by_the_mapper() -> None:
    mapper: Mapper[UUID] = Mapper(MsgpackTranscoder())
    made = Gadget(colour="blue").collect_events()[0]
    stored = mapper.to_stored_event(made)
    # As version 1 wrote it: no colour, no class_version.
    old = MsgpackTranscoder().decode(stored.state)
    del old["colour"], old["class_version"]
    row = (1, stored.originator_id, 1, stored.topic, MsgpackTranscoder().encode(old))
    reader = LogReader(Ledger("memory://").recorder, mapper)
    upcast = reader.event(row)
    assert upcast.colour == "red"
    assert vars(upcast) == vars(mapper.to_domain_event(StoredEvent(*row[1:])))


class _OtherMapper(Mapper[UUID]):
    """A mapper that does more than the library's: the reader must leave it every event."""

    seen: ClassVar[list[str]] = []

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        self.seen.append(stored_event.topic)
        return super().to_domain_event(stored_event)


def test_a_mapper_of_another_kind_builds_every_event_itself() -> None:
    ledger = Ledger("memory://", actor="operator")
    every_kind_of_event(ledger)
    mapper = _OtherMapper(ledger.mapper.transcoder, ledger.mapper.compressor, ledger.mapper.cipher)
    page = LogReader(ledger.recorder, mapper).page(0, 1_000)
    assert len(_OtherMapper.seen) == page.read == len(page.events)


def test_sqlite_ids_are_read_as_uuid_would_read_them() -> None:
    for text in ("f5a4e0a1027058c7805a436fd00b7eec", "F5A4E0A1027058C7805A436FD00B7EEC",
                 "f5a4e0a1-0270-58c7-805a-436fd00b7eec"):
        assert _uuid(text) == UUID(text) and type(_uuid(text)) is ReadId
        assert str(_uuid(text)) == str(UUID(text)) and hash(_uuid(text)) == hash(UUID(text))
    for bad in ("-" + "f" * 31, "g" * 32, "f" * 31):
        with pytest.raises(ValueError):
            UUID(bad)
        with pytest.raises(ValueError):
            _uuid(bad)
