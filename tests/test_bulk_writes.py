"""An import is one transaction: the whole file or nothing, on SQLite and on PostgreSQL.

Its batches are written as the rows come, each in a savepoint, so a file found bad after some
batches were written leaves nothing, and a batch holding workers registered before is written
again without them while the rest of the import stands.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from eventsourcing.utils import get_topic
from test_crashes import positions_taken
from test_import_pool import MOMENT, save, write_file

from jamsos_ledger.application import BULK_BATCH, Ledger, RepeatedWorker, prepare_registrations
from jamsos_ledger.application.import_pool import PARALLEL_FROM
from jamsos_ledger.cli import main
from jamsos_ledger.cli.errors import EXIT_MALFORMED
from jamsos_ledger.domain.model import Worker
from jamsos_ledger.files.registrations import read_registrations
from jamsos_ledger.stores.integrity import verify

ROWS = 25_000  # three batches of the import, the last one short


def prepared(path: Path) -> list[tuple[bytes, bytes]]:
    return prepare_registrations(read_registrations(path).accepted, actor="op", timestamp=MOMENT)


def registered(ledger: Ledger) -> int:
    return sum(1 for _ in ledger.read_log(topics=[get_topic(Worker.Registered)]))


@contextmanager
def opened(url: str) -> Iterator[Ledger]:
    ledger = Ledger(url, actor="op")
    try:
        yield ledger
    finally:
        ledger.close()


def assert_chained(ledger: Ledger, events: int) -> None:
    """The log holds that many events, every one chained (`audit verify`)."""
    report = verify(ledger.recorder)
    assert report.intact and report.events_checked == events


def import_file(url: str, path: Path) -> tuple[int, str]:
    with opened(url):
        pass  # the ledger made, if not yet (the command line makes one in `program open` only)
    result = CliRunner().invoke(main, ["--store", url, "workers", "import", str(path)])
    return result.exit_code, result.output


def assert_refused_with_nothing_kept(url: str, path: Path, problem: str) -> None:
    """`workers import` refuses the file naming the problem, after writing (PostgreSQL shows
    it) and undoing some batches: nothing is left of it."""
    assert path.stat().st_size >= PARALLEL_FROM, "the file must be read in parts"
    code, output = import_file(url, path)
    assert code == EXIT_MALFORMED, output
    assert problem in output
    if url.startswith("postgresql"):  # two batches were written, and rolled back
        assert positions_taken(url) >= 2 * BULK_BATCH
    with opened(url) as ledger:
        assert_chained(ledger, 0)


class Broken(Exception):
    pass


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest) -> str:
    """Each store in turn, the in-memory one of tests and demos too."""
    if request.param == "memory":
        return "memory://"
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


def test_rows_that_stop_with_an_error_after_some_batches_leave_nothing(
    ledger_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "workers.csv"
    write_file(path, ROWS)
    rows = prepared(path)

    def failing() -> Iterator[tuple[bytes, bytes]]:
        yield from rows[: 2 * BULK_BATCH + 10]  # two batches written, a third begun
        raise Broken

    with opened(ledger_url) as ledger:
        with pytest.raises(Broken):
            ledger.register_prepared(failing())
        assert_chained(ledger, 0)
        # Nothing was left half-way: the same rows go in whole afterwards, chained.
        result = ledger.register_prepared(rows)
        assert (result.registered, result.already) == (ROWS, 0)
        assert_chained(ledger, ROWS)


def test_a_batch_with_workers_registered_before_is_written_again_without_them(
    ledger_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "workers.csv"
    write_file(path, ROWS)
    rows = prepared(path)
    with opened(ledger_url) as ledger:
        # Every seventh worker, and the last batch whole, registered before.
        before = [*rows[: 2 * BULK_BATCH : 7], *rows[2 * BULK_BATCH :]]
        assert ledger.register_prepared(before).registered == len(before)
        # ... and a worker twice in the same import, in two batches.
        result = ledger.register_prepared([*rows, rows[3]])
        assert (result.registered, result.already) == (ROWS - len(before), len(before) + 1)
        assert registered(ledger) == ROWS
        assert_chained(ledger, ROWS)


@pytest.mark.parametrize("repeat", [BULK_BATCH - 5, ROWS - 2], ids=["same-batch", "later-batch"])
def test_rows_to_name_each_worker_once_refuse_a_repeat_and_leave_nothing(
    ledger_url: str, tmp_path: Path, repeat: int
) -> None:
    path = tmp_path / "workers.csv"
    write_file(path, ROWS)
    rows = prepared(path)
    with opened(ledger_url) as ledger:
        # Workers registered before are counted, as without `once`...
        assert ledger.register_prepared(rows[:100]).registered == 100
        result = ledger.register_prepared(rows[:200], once=True)
        assert (result.registered, result.already) == (100, 100)
        # ... but a worker twice in the rows themselves is refused, and nothing is kept.
        again = [*rows[200:], *rows[:200]]
        again[repeat] = again[10]
        with pytest.raises(RepeatedWorker):
            ledger.register_prepared(again, once=True)
        assert_chained(ledger, 200)


def test_a_big_file_bad_in_its_last_part_is_refused_with_nothing_written(
    store_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "workers.csv"
    lines = write_file(path, ROWS)
    lines[-3][7] = "0"  # decile 0, near the end: earlier parts are written before it is read
    save(path, lines)
    assert_refused_with_nothing_kept(
        store_url, path, f"line {ROWS - 1}, decile: DTSEN decile must be 1-10, not 0"
    )
    # Put right, the same file goes in whole.
    lines[-3][7] = "1"
    save(path, lines)
    code, output = import_file(store_url, path)
    assert code == 0, output
    assert output.startswith("Registered 25.000 workers"), output


def test_a_big_file_with_a_nik_in_two_parts_is_refused_naming_both_lines(
    store_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "workers.csv"
    lines = write_file(path, ROWS)
    lines[ROWS - 2] = lines[5]  # two batches past the first, in the last part
    save(path, lines)
    assert_refused_with_nothing_kept(
        store_url, path, f"line {ROWS}, nik: the same NIK is already on line 7 of this file"
    )


@pytest.mark.parametrize("bad", [0, 1])
def test_a_big_file_with_rejects_imports_its_good_rows(
    store_url: str, tmp_path: Path, bad: int
) -> None:
    path, rejects = tmp_path / "workers.csv", tmp_path / "rejects.csv"
    lines = write_file(path, ROWS)
    if bad:
        lines[-3][7] = "0"  # read in parts, then again the careful way, which sets it aside
        save(path, lines)
    with opened(store_url):
        pass  # the ledger made (the command line makes one in `program open` only)
    result = CliRunner().invoke(main, ["--store", store_url, "workers", "import", str(path),
                                       "--rejects", str(rejects)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Registered {ROWS - bad:,} workers".replace(",", "."))
    assert f"Rejected {bad} of 25.000 rows" in result.output
    written = rejects.read_text(encoding="utf-8").splitlines()
    assert len(written) == 1 + bad and written[0].endswith(",line,reasons")
    with opened(store_url) as ledger:
        assert_chained(ledger, ROWS - bad)
