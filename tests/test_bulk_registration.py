"""The bulk import path: registration events stored as `save()` stores them, in big batches.

An import builds each worker's `Registered` event in the domain and inserts whole batches (by
`executemany` on SQLite, by COPY on PostgreSQL); these tests hold it to what `save()` gives:
the same rows, the same chain, the same refusals.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from eventsourcing.persistence import IntegrityError

from jamsos_ledger.application import BULK_BATCH, Ledger
from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.model import Registration, Worker, worker_id
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


def test_a_registration_event_is_the_one_register_records() -> None:
    r = people(1)[0]
    by_aggregate = Worker.register(r, actor="op").collect_events()[0]
    direct = Worker.registered(r, actor="op", timestamp=by_aggregate.timestamp)
    assert direct == by_aggregate
    assert list(direct.__dict__) == list(by_aggregate.__dict__)  # the encoding's order
    ledger = Ledger("memory://")
    assert ledger.mapper.to_stored_event(direct) == ledger.mapper.to_stored_event(by_aggregate)
    assert direct.mutate(None).nik == r.nik


def test_registration_checks_are_the_domains() -> None:
    bad = Registration("3275010101900000", "", date(1990, 1, 1), "L", "Atlantis", "-", "x", 11,
                       "Dinsos")
    with pytest.raises(InvalidInput, match="serial 0000") as raised:
        Worker.registered(bad, actor="op", timestamp=Worker.Registered.create_timestamp())
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
        timestamp = Worker.Registered.create_timestamp()
        batch = [Worker.registered(r, actor="x", timestamp=timestamp)
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
