"""One seal a transaction, never one an event: an import written in several batches (and by
COPY on PostgreSQL) is one seal, a command saving many aggregates is one seal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cli_helpers import admin_key
from jamsos_ledger.application import KeySource, Ledger, service
from jamsos_ledger.application.seal_check import check_seals, seal_inputs
from jamsos_ledger.domain.model import Registration
from jamsos_ledger.domain.months import Month


def people(n: int) -> list[Registration]:
    found = []
    for i in range(n):
        born = date(1970, 1, 1) + timedelta(days=i // 9000)
        nik = f"3275{i % 12 + 1:02d}{born.day:02d}{born:%m%y}{i % 9000 + 1:04d}"
        found.append(Registration(nik, f"Warga {i}", born, "L", f"{i % 12 + 1:02d}", "-",
                                  "ojol", i % 3 + 1, "Disnaker"))
    return found


def test_an_import_in_batches_is_one_seal(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "BULK_BATCH", 500)  # three batches, each by COPY on PostgreSQL
    ledger = Ledger(store_url, key=KeySource(key=admin_key()))
    try:
        root = ledger.signing.establish_root("ana", "Diskominfo")
        ledger.open_program(year=2026, allocation=2_000_000_000, quota=10_000, code="p",
                            four_eyes=False)
        def sealed() -> int:
            return len(ledger.recorder.select_seals(-1, 2**62, 100))  # type: ignore[attr-defined]

        before = sealed()
        assert ledger.register(people(1_200)).registered == 1_200
        assert sealed() == before + 1  # three batches, one transaction, one seal
        ledger.prioritize()
        assert sealed() == before + 4  # ranks are committed a batch at a time: three
        ledger.enrol("p", start=Month(2026, 1), top=300, decree="KEP-1")
        assert sealed() == before + 5  # 300 workers and the program, one transaction
        head = int(ledger.recorder.max_notification_id() or 0)
        seals, hashes, changes = seal_inputs(ledger.recorder, ledger.mapper, head)
        assert check_seals(seals, hashes, changes, head, root.fingerprint).finding is None
    finally:
        ledger.close()
