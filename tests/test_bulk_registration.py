"""The bulk import path: registration events stored as `save()` stores them, in big batches.

An import builds each worker's `Registered` event in the domain and inserts whole batches (by
`executemany` on SQLite, by COPY on PostgreSQL); these tests hold it to what `save()` gives:
the same rows, the same chain, the same refusals.
"""

from __future__ import annotations

import dataclasses
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta

import pytest
from eventsourcing.persistence import IntegrityError

from jamsos_ledger.application import BULK_BATCH, Ledger, prepare_registrations
from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.model import REGISTRATION_FIELDS, Registration, Worker, worker_id
from jamsos_ledger.domain.regions import kecamatan_name
from jamsos_ledger.files.registrations import COLUMNS
from jamsos_ledger.stores.bulk_reads import select_events_of
from jamsos_ledger.stores.integrity import verify
from jamsos_ledger.stores.integrity_postgres import COPY_FROM


def people(n: int, first: int = 0) -> list[Registration]:
    """`n` valid registrations with distinct NIKs (serials), from the `first`-th on."""
    found = []
    for i in range(first, first + n):
        born = date(1970, 1, 1) + timedelta(days=i // 9000)
        sex = "P" if i % 2 else "L"
        day = born.day + (40 if sex == "P" else 0)
        nik = f"3275{i % 12 + 1:02d}{day:02d}{born:%m%y}{i % 9000 + 1:04d}"
        found.append(Registration(nik, f"Warga {i}", born, sex, f"{i % 12 + 1:02d}", "-",
                                  "Pengemudi ojol", i % 10 + 1, "Disnaker"))
    return found


def test_an_import_stores_what_save_stores_for_the_event_register_records() -> None:
    r = people(1)[0]
    by_aggregate = Worker.register(r, actor="op").collect_events()[0]
    ledger = Ledger("memory://")
    stored = ledger.mapper.to_stored_event(by_aggregate)
    ((oid, state),) = prepare_registrations([r], actor="op", timestamp=by_aggregate.timestamp)
    assert (oid, state) == (stored.originator_id.bytes, stored.state)
    # The import's state is the event's, in the event's order (the order of the encoding).
    bookkeeping = ("originator_id", "originator_version")
    event_state = {k: v for k, v in vars(by_aggregate).items() if k not in bookkeeping}
    bulk_state = Worker.registered_state(r, actor="op", timestamp=by_aggregate.timestamp)
    assert list(bulk_state.items()) == list(event_state.items())
    # ... and the worker rebuilt from it holds the registration.
    worker = ledger.mapper.to_domain_event(stored).mutate(None)
    assert worker.registration == dataclasses.replace(r, kecamatan=kecamatan_name(r.kecamatan))
    assert worker.rank is None and worker.version == 1


def test_the_nine_fields_are_written_once() -> None:
    assert REGISTRATION_FIELDS == COLUMNS == (
        "nik", "name", "birth_date", "sex", "kecamatan", "kelurahan", "occupation", "decile",
        "source",
    )
    assert [f.name for f in fields(Registration)] == list(REGISTRATION_FIELDS)
    event_fields = [f.name for f in fields(Worker.Registered)]
    assert event_fields == [
        "originator_id", "originator_version", "timestamp", "originator_topic",
        *REGISTRATION_FIELDS, "actor",
    ]


def test_a_registration_is_as_small_as_its_slots() -> None:
    # An import holds every registration of a file: none of them gets a `__dict__` too.
    assert not hasattr(people(1)[0], "__dict__")


def test_a_registration_is_stored_byte_for_byte_as_before() -> None:
    """The bytes the import stored for this registration before its fields were written once
    (computed by the code of main at 73933d3): ledgers old and new are one format."""
    r = Registration("3275011705840001", " Siti  Aminah ", date(1984, 5, 17), "L", "01",
                     " Margahayu ", "ojol", 3, "Disnaker")
    moment = datetime(2026, 1, 5, 3, 0, 0, 123456, tzinfo=UTC)
    ((oid, state),) = prepare_registrations([r], actor="operator", timestamp=moment)
    assert oid.hex() == "02a0b68e268054368a98e18f2872e888"
    assert state.hex() == BEFORE
    event = Worker.register(r, actor="operator").collect_events()[0]
    event = dataclasses.replace(event, timestamp=moment)
    assert Ledger("memory://").mapper.to_stored_event(event).state.hex() == BEFORE


BEFORE = (
    "8ca974696d657374616d70c72003323032362d30312d30355430333a30303a30302e3132333435362b30303a"
    "3030b06f726967696e61746f725f746f706963d9206a616d736f735f6c65646765722e646f6d61696e6d6f64"
    "656c3a576f726b6572a36e696bb033323735303131373035383430303031a46e616d65ac536974692020416d"
    "696e6168aa62697274685f64617465c70a02313938342d30352d3137a3736578a14ca96b6563616d6174616e"
    "ac42656b6173692054696d7572a96b656c75726168616ea94d6172676168617975aa6f636375706174696f6e"
    "a46f6a6f6ca6646563696c6503a6736f75726365a84469736e616b6572a56163746f72a86f70657261746f72"
)


def test_registration_checks_are_the_domains_on_either_path() -> None:
    bad = Registration("3275010101900000", "", date(1990, 1, 1), "L", "Atlantis", "-", "x", 11,
                       "Dinsos")
    moment = Worker.Registered.create_timestamp()
    for register in (lambda: Worker.register(bad, actor="op"),
                     lambda: prepare_registrations([bad], actor="op", timestamp=moment)):
        with pytest.raises(InvalidInput, match="serial 0000") as raised:
            register()
        for field in ("name", "kecamatan", "decile"):
            assert f"{field}:" in str(raised.value)


def test_big_batches_are_stored_whole_chained_and_readable(store_url: str) -> None:
    rows = people(BULK_BATCH + COPY_FROM + 7)  # two batches, both over COPY_FROM
    ledger = Ledger(store_url, actor="importer")
    try:
        first = ledger.register(rows)
        assert (first.registered, first.already) == (len(rows), 0)
        report = verify(ledger.recorder)
        assert report.intact and report.events_checked == len(rows)
        stored = select_events_of(ledger.recorder, [worker_id(rows[-1].nik)])
        (event,) = stored[worker_id(rows[-1].nik)]
        assert ledger.mapper.to_domain_event(event).name == rows[-1].name
        assert ledger.worker(rows[0].nik).version == 1

        # Run again with new workers among the old: the old are counted, never re-registered.
        again = ledger.register(people(COPY_FROM, first=len(rows) - 5))
        assert (again.registered, again.already) == (COPY_FROM - 5, 5)
        report = verify(ledger.recorder)
        assert report.intact and report.events_checked == len(rows) + COPY_FROM - 5
    finally:
        ledger.close()


def test_a_batch_refused_by_the_store_writes_nothing(store_url: str) -> None:
    ledger = Ledger(store_url, actor="importer")
    try:
        ledger.register(people(3))
        head = ledger.recorder.max_notification_id()
        batch = [Worker.register(r, actor="x").collect_events()[0]
                 for r in people(COPY_FROM + 1)]  # its first three are registered already
        with pytest.raises(IntegrityError):
            ledger.events.put(batch)
        assert ledger.recorder.max_notification_id() == head
        assert verify(ledger.recorder).intact
    finally:
        ledger.close()


def test_save_of_a_thousand_aggregates_takes_the_librarys_path_and_is_chained(
    store_url: str,
) -> None:
    # save() passes `tracking`, so it goes the library's way (on PostgreSQL in pipeline mode,
    # where COPY is refused): its chain rows must be written there too.
    ledger = Ledger(store_url, actor="importer")
    try:
        ledger.save(*[Worker.register(r, actor="x") for r in people(COPY_FROM + 1)])
        report = verify(ledger.recorder)
        assert report.intact and report.events_checked == COPY_FROM + 1
    finally:
        ledger.close()
