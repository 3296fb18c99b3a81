"""An import read in parts by several processes stores exactly what one process stores, and
refuses a bad file the same way, naming the same rows."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest

from jamsos_ledger.application import Ledger, prepare_registrations
from jamsos_ledger.application.import_pool import prepare_file
from jamsos_ledger.domain.model import Worker
from jamsos_ledger.files.registrations import COLUMNS, read_registrations
from jamsos_ledger.stores.integrity import verify

MOMENT = Worker.Registered.create_timestamp()


def write_file(path: Path, n: int) -> list[list[str]]:
    """`n` valid rows with distinct NIKs, a kecamatan by code or by name."""
    rows = []
    for i in range(n):
        born = date(1970, 1, 1) + timedelta(days=i // 9000)
        sex = "P" if i % 2 else "L"
        day = born.day + (40 if sex == "P" else 0)
        nik = f"3275{i % 12 + 1:02d}{day:02d}{born:%m%y}{i % 9000 + 1:04d}"
        kecamatan = f"{i % 12 + 1:02d}" if i % 3 else "Bekasi Timur"
        rows.append([nik, f"Warga {i}", born.isoformat(), sex, kecamatan, "Margahayu",
                     "Pengemudi ojol", str(i % 10 + 1), "Disnaker"])
    save(path, rows)
    return rows


def save(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def in_parts(path: Path) -> list[tuple[bytes, bytes]]:
    prepared = prepare_file(path, actor="op", timestamp=MOMENT, processes=2, parallel_from=0)
    assert len(prepared.parts) > 1, "the file was not read in parts"
    return [row for part in prepared.prepared() for row in part]


def test_parts_give_the_rows_one_process_gives(tmp_path: Path) -> None:
    path = tmp_path / "workers.csv"
    write_file(path, 3_000)
    alone = read_registrations(path)
    expected = prepare_registrations(alone.accepted, actor="op", timestamp=MOMENT)
    assert in_parts(path) == expected
    # ... which are the rows save() stores for the aggregates the domain registers.
    ledger = Ledger("memory://")
    worker = Worker.register(alone.accepted[-1], actor="op")
    event = worker.collect_events()[0]
    stored = ledger.mapper.to_stored_event(event)
    (oid, state), = prepare_registrations(
        [alone.accepted[-1]], actor="op", timestamp=event.timestamp
    )
    assert (oid, state) == (stored.originator_id.bytes, stored.state)


def test_an_import_in_parts_stores_the_chain_and_counts_repeats(
    store_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "workers.csv"
    write_file(path, 2_500)
    ledger = Ledger(store_url, actor="op")
    try:
        first = ledger.register_prepared(in_parts(path))
        assert (first.registered, first.already) == (2_500, 0)
        again = ledger.register_prepared(in_parts(path))
        assert (again.registered, again.already) == (0, 2_500)
        report = verify(ledger.recorder)
        assert report.intact and report.events_checked == 2_500
    finally:
        ledger.close()


@pytest.mark.parametrize("where", [10, 1_500, 2_999])
def test_a_bad_row_in_any_part_refuses_the_file_naming_its_line(
    tmp_path: Path, where: int
) -> None:
    path = tmp_path / "workers.csv"
    rows = write_file(path, 3_000)
    rows[where][7] = "11"  # decile 11
    save(path, rows)
    prepared = prepare_file(path, actor="op", timestamp=MOMENT, processes=2, parallel_from=0)
    assert prepared.parts == [] or prepared.count == 2_999
    assert [str(p) for p in prepared.file.problems] == [
        f"line {where + 2}, decile: DTSEN decile must be 1-10, not 11"
    ]
    assert prepared.file.refusal() == read_registrations(path).refusal()


def test_a_nik_repeated_in_another_part_is_refused_naming_the_first_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "workers.csv"
    rows = write_file(path, 3_000)
    rows[2_900] = rows[5]
    save(path, rows)
    prepared = prepare_file(path, actor="op", timestamp=MOMENT, processes=2, parallel_from=0)
    assert [str(p) for p in prepared.file.problems] == [
        "line 2902, nik: the same NIK is already on line 7 of this file"
    ]


def test_a_file_with_quotes_is_read_from_the_start(tmp_path: Path) -> None:
    # A quoted field may hold a line break: parts cut at line ends could split a row. (No
    # name holds one: the row is refused, on its own line, as the one-process reader does.)
    path = tmp_path / "workers.csv"
    rows = write_file(path, 3_000)
    rows[1_000][1] = "Warga\nwith a line break"
    save(path, rows)
    prepared = prepare_file(path, actor="op", timestamp=MOMENT, processes=2, parallel_from=0)
    assert len(prepared.parts) == 1 and prepared.count == 2_999
    assert [str(p) for p in prepared.file.problems] == [
        "line 1002, name: name holds control character 0x0A"
    ]
    alone = read_registrations(path)
    expected = prepare_registrations(alone.accepted, actor="op", timestamp=MOMENT)
    assert next(prepared.prepared()) == expected


def test_a_file_without_a_last_line_break_gives_every_row_in_parts(tmp_path: Path) -> None:
    path = tmp_path / "workers.csv"
    write_file(path, 3_000)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    alone = read_registrations(path)
    assert len(alone.accepted) == 3_000
    expected = prepare_registrations(alone.accepted, actor="op", timestamp=MOMENT)
    assert in_parts(path) == expected
