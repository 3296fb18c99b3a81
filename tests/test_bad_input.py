"""Bad input never changes the store and always says what is wrong (issue 5, "Bad input").

The corpus lives in tests/corpus/: registration files as real files, listed with the exit code
and the message fragments (line and field) expected in `manifest.csv`, and command lines in
`commands.csv`. Adding a case is adding a file and a line. Every case runs on an SQLite file
(compared byte for byte, after a checkpoint of its write-ahead log) and on PostgreSQL (every
row of every table of the ledger's schema compared).
"""

from __future__ import annotations

import csv
import shlex
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg import sql

from jamsos_ledger.cli import main

CORPUS = Path(__file__).parent / "corpus"
HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"
NIKS = {
    "W1": "3275014203850001",  # Siti, decile 2: enrolled from January, paid, a claim
    "W2": "3275051708900042",  # Budi, decile 1: enrolled from January, paid
    "W3": "3275092512880007",  # Agus, decile 3: registered, ranked, waiting
    "W4": "3275115506920013",  # Dewi, decile 8: registered, not eligible
    "UNKNOWN": "3275011203850001",  # well formed, never registered
}
WORKERS = (
    f"{NIKS['W1']},Siti Rahmawati,1985-03-02,P,01,Margahayu,pedagang,2,Disnaker\n"
    f"{NIKS['W2']},Budi Santoso,1990-08-17,L,05,Bojong Rawalumbu,ojol,1,Dinsos\n"
    f"{NIKS['W3']},Agus Salim,1988-12-25,L,09,Jatiluhur,buruh harian,3,Grab\n"
    f"{NIKS['W4']},Dewi Lestari,1992-06-15,P,11,Mustikajaya,ojol,8,Dinsos\n"
)


def manifest(name: str) -> list[dict[str, str]]:
    with (CORPUS / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def jamsos(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--store", url, *args])


def ok(url: str, *args: str) -> None:
    result = jamsos(url, *args)
    assert result.exit_code == 0, (args, result.output)


class Store:
    """A ledger in the middle of its year, and what it holds, to compare."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.url = url
        self.tmp = tmp  # {TMP} in commands.csv: holds registrasi.csv, the file imported
        registrations = tmp / "registrasi.csv"
        registrations.write_text(HEADER + "\n" + WORKERS, encoding="utf-8")
        ok(url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000000",
           "--quota", "10")
        ok(url, "workers", "import", str(registrations))
        ok(url, "workers", "prioritize")
        ok(url, "enroll", "--nik", NIKS["W1"], "--nik", NIKS["W2"], "--start", "2026-01",
           "--decree", "KEP/1/2026")
        ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/01")
        ok(url, "claims", "file", "--nik", NIKS["W1"], "--scheme", "JKK", "--date",
           "2026-01-10", "--reference", "JKK-1")
        ok(url, "report", "budget")  # the projections caught up: reading writes nothing more

    def contents(self) -> Any:
        """The store as stored: the SQLite file's bytes, or every row of the schema."""
        if self.url.startswith("sqlite:///"):
            path = self.url[len("sqlite:///"):]
            with sqlite3.connect(path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return Path(path).read_bytes()
        schema = self.url.split("schema=")[1]
        with psycopg.connect(self.url.split("?")[0]) as conn:
            tables = sorted(r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,)))
            return {t: sorted(map(repr, conn.execute(sql.SQL("SELECT * FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(t))).fetchall())) for t in tables}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Store]:
    tmp = tmp_path_factory.mktemp("bad-input")
    if request.param == "sqlite":
        yield Store(f"sqlite:///{tmp}/ledger.db", tmp)
        return
    server: str = request.getfixturevalue("postgres_server")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield Store(f"{server}?schema={schema}", tmp)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def refused_cleanly(result: Result, code: int, fragments: list[str]) -> None:
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    text = result.stderr if code else result.stdout
    for fragment in fragments:
        assert fragment in text, (fragment, text)


FILES = manifest("manifest.csv")
COMMANDS = manifest("commands.csv")


def test_every_corpus_file_is_in_the_manifest() -> None:
    listed = {row["file"] for row in FILES}
    assert listed == {p.name for p in CORPUS.glob("*.csv")} - {"manifest.csv", "commands.csv"}


@pytest.mark.parametrize("case", FILES, ids=[row["file"] for row in FILES])
def test_a_bad_registration_file_is_refused_whole(store: Store, case: dict[str, str]) -> None:
    path = CORPUS / case["file"]
    before = store.contents()
    result = jamsos(store.url, "workers", "import", str(path))
    code = int(case["exit"])
    refused_cleanly(result, code, case["expect"].split("|"))
    if code:
        assert str(path) in result.stderr  # the message names the file
    # Byte for byte; the accepted files hold workers the ledger already has: nothing new.
    assert store.contents() == before


@pytest.mark.parametrize("case", COMMANDS, ids=[row["args"] for row in COMMANDS])
def test_a_bad_command_is_refused_and_writes_nothing(store: Store, case: dict[str, str]) -> None:
    args = shlex.split(case["args"].format(**NIKS, TMP=store.tmp))
    files = {p: p.read_bytes() for p in store.tmp.rglob("*") if p.is_file()}
    before = store.contents()
    result = jamsos(store.url, *args)
    refused_cleanly(result, int(case["exit"]),
                    case["expect"].format(TMP=store.tmp).split("|"))
    for nik in NIKS.values():
        assert nik not in result.output  # NIKs are masked in every message
    assert store.contents() == before
    # Nor was any file written beside it: an output path refused is refused before anything.
    assert {p: p.read_bytes() for p in store.tmp.rglob("*") if p.is_file()
            and p.parent == store.tmp and not p.name.startswith("ledger.db")} == {
        p: b for p, b in files.items() if p.parent == store.tmp
        and not p.name.startswith("ledger.db")}


def test_rejects_imports_the_good_rows_and_writes_the_bad_with_reasons(
    sqlite_url: str, tmp_path: Path
) -> None:
    ok(sqlite_url, "program", "open", "--year", "2026", "--allocation", "2000000000",
       "--quota", "10")
    rejects = tmp_path / "ditolak.csv"
    result = jamsos(sqlite_url, "workers", "import", str(CORPUS / "many-bad-rows.csv"),
                    "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Registered 1 worker from")
    assert "Rejected 4 of 5 rows" in result.stdout
    with rejects.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["line"] for r in rows] == ["3", "4", "5", "6"]
    assert "NIK must have 16 digits" in rows[0]["reasons"]
    assert "source: source is empty" in rows[2]["reasons"]


def test_the_same_file_twice_registers_nobody_twice(sqlite_url: str, tmp_path: Path) -> None:
    ok(sqlite_url, "program", "open", "--year", "2026", "--allocation", "2000000000",
       "--quota", "10")
    first = tmp_path / "first.csv"
    first.write_text(HEADER + "\n" + WORKERS, encoding="utf-8")
    ok(sqlite_url, "workers", "import", str(first))
    again = jamsos(sqlite_url, "workers", "import", str(first))
    assert again.exit_code == 0
    assert again.stdout == f"Registered 0 workers from {first}; 4 were already registered\n"
    # Against the ledger: a later file with two known and one new worker registers the new one.
    later = tmp_path / "later.csv"
    later.write_text(HEADER + "\n" + WORKERS.splitlines()[0] + "\n"
                     + "3275071201950003,Rudi Hartono,1995-01-12,L,07,Cikiwul,ojol,2,Disnaker\n"
                     + WORKERS.splitlines()[3] + "\n", encoding="utf-8")
    third = jamsos(sqlite_url, "workers", "import", str(later))
    assert third.stdout == f"Registered 1 worker from {later}; 2 were already registered\n"
