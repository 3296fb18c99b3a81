"""`jamsos workers import`: a file with bad rows is refused whole, or its good rows imported
with --rejects; importing the same file twice registers nobody twice."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from cli_helpers import events, jamsos
from jamsos_ledger.application import Ledger

HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"
BIRTH = date(1991, 8, 9)


def nik(serial: int) -> str:
    return f"327509{BIRTH.day:02d}{BIRTH.month:02d}{BIRTH.year % 100:02d}{serial:04d}"


def good(serial: int, decile: int = 2) -> str:
    return (f"{nik(serial)},Pekerja {serial},{BIRTH.isoformat()},L,Jatiasih,Jatiluhur,ojol,"
            f"{decile},Dinsos")


def write(tmp_path: Path, *rows: str, name: str = "extract.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def new_ledger(url: str) -> str:
    """An empty ledger at the URL (made by the API: only `program open` makes one from the
    command line)."""
    Ledger(url).close()
    return url


def registered(url: str) -> int:
    ledger = Ledger(url)
    try:
        return len(list(ledger.views.ranking_inputs()))
    finally:
        ledger.close()


def test_a_clean_file_is_imported(sqlite_url: str, tmp_path: Path) -> None:
    path = write(tmp_path, good(1), good(2), good(3, decile=8))
    result = jamsos(new_ledger(sqlite_url), "workers", "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Registered 3 workers from {path}\n"
    assert registered(sqlite_url) == 3


def test_importing_the_same_file_twice_registers_nobody_twice(
    store_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path, good(1), good(2), good(3))
    assert jamsos(new_ledger(store_url), "workers", "import", str(path)).exit_code == 0
    before = events(store_url)
    again = jamsos(store_url, "workers", "import", str(path))
    assert again.exit_code == 0, again.output
    assert "Registered 0 workers" in again.stdout
    assert "3 were already registered" in again.stdout
    assert events(store_url) == before
    more = write(tmp_path, good(3), good(4), name="more.csv")
    partly = jamsos(store_url, "workers", "import", str(more))
    assert "Registered 1 worker from" in partly.stdout and "1 was already" in partly.stdout
    assert registered(store_url) == 4


def test_a_file_with_bad_rows_is_refused_whole_listing_every_one(
    store_url: str, tmp_path: Path
) -> None:
    jamsos(new_ledger(store_url), "workers", "import",
           str(write(tmp_path, good(9), name="first.csv")))
    before = events(store_url)
    path = write(
        tmp_path,
        good(1),
        good(2).replace(",2,Dinsos", ",11,Dinsos"),
        good(3).replace("Jatiasih", "Cibubur"),
        good(4),
        good(1),
        good(5).replace(BIRTH.isoformat(), "09/08/1991"),
    )
    result = jamsos(store_url, "workers", "import", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    message = result.stderr
    assert message.startswith(f"Error: {path}: 4 of 6 rows are malformed; nothing was imported")
    for expected in (
        f"{path}: line 3, decile: DTSEN decile must be 1-10, not 11",
        f"{path}: line 4, kecamatan: 'Cibubur' is not a kecamatan of the city",
        f"{path}: line 6, nik: the same NIK is already on line 2 of this file",
        f"{path}: line 7, birth_date: not a date YYYY-MM-DD: '09/08/1991'",
    ):
        assert expected in message
    assert "Traceback" not in result.output
    assert events(store_url) == before  # nothing was written


def test_rejects_imports_the_good_rows_and_sets_the_bad_ones_aside(
    sqlite_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path, good(1), good(2).replace(",L,", ",X,"), good(3), good(3))
    rejects = tmp_path / "rejects.csv"
    result = jamsos(new_ledger(sqlite_url), "workers", "import", str(path), "--rejects",
                    str(rejects))
    assert result.exit_code == 0, result.output
    assert "Registered 2 workers" in result.stdout
    assert f"Rejected 2 of 4 rows: written with their reasons to {rejects}" in result.stdout
    with rejects.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["line"], r["sex"]) for r in rows] == [("3", "X"), ("5", "L")]
    assert "sex: sex must be L or P" in rows[0]["reasons"]
    assert "already on line 4" in rows[1]["reasons"]
    assert registered(sqlite_url) == 2


def test_a_file_that_cannot_be_read_is_refused_even_with_rejects(
    sqlite_url: str, tmp_path: Path
) -> None:
    new_ledger(sqlite_url)  # the role is checked, in the ledger, before the file is read
    path = tmp_path / "dinsos.csv"
    path.write_text(HEADER.replace(",", "\t") + "\n" + good(1).replace(",", "\t") + "\n")
    result = jamsos(sqlite_url, "workers", "import", str(path), "--rejects",
                    str(tmp_path / "r.csv"))
    assert result.exit_code == 2
    assert "separated by a tab; ',' (comma) or ';' (semicolon) is expected" in result.stderr
    assert str(path) in result.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes("nik,nama,tanggal_lahir\nÄ\n".encode("utf-16"))
    refused = jamsos(sqlite_url, "workers", "import", str(latin))
    assert refused.exit_code == 2 and "not UTF-8" in refused.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "is empty" in jamsos(sqlite_url, "workers", "import", str(empty)).stderr


def test_a_missing_file_is_a_usage_error(sqlite_url: str, tmp_path: Path) -> None:
    result = jamsos(sqlite_url, "workers", "import", str(tmp_path / "nowhere.csv"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
