"""A store that cannot be used exits 3 and says what to do (issue 5, "Unreachable or wrong store").

A URL that is not a store URL at all is a malformed command line: exit 2, like any other bad
option value (README, "Robustness and personal data").
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg import sql

from jamsos_ledger.cli import main
from jamsos_ledger.stores.marks import FORMAT_VERSION, META_TABLE

JAMSOS = str(Path(sys.executable).parent / "jamsos")


def jamsos(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--store", url, *args])


def assert_exit(result: Result, code: int, *words: str) -> None:
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.stderr.startswith("Error: "), result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)
    assert "Traceback" not in result.output


def opened(url: str) -> str:
    result = jamsos(url, "program", "open", "--year", "2026", "--allocation", "2000000",
                    "--quota", "10")
    assert result.exit_code == 0, result.output
    return url


def test_a_postgresql_that_is_down_exits_3_from_a_real_process() -> None:
    result = subprocess.run(
        [JAMSOS, "--store", "postgresql://postgres@127.0.0.1:5999/test", "report", "budget"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "JAMSOS_CONNECT_TIMEOUT": "2"},
    )
    assert result.returncode == 3, result
    assert result.stderr.startswith("Error: cannot reach PostgreSQL at "), result.stderr
    assert "Is the server running" in result.stderr and "Traceback" not in result.stderr


def test_a_password_never_appears_in_a_message() -> None:
    result = jamsos("postgresql://postgres:rahasia@127.0.0.1:5999/test", "report", "budget")
    assert_exit(result, 3, "cannot reach PostgreSQL", ":***@")
    assert "rahasia" not in result.output


@pytest.mark.parametrize(
    "url", ["ftp://ledger", "mysql://root@localhost/jamsos", "sqlite://", "postgresql:///nodb",
            "postgresql://host:notaport/db", "ledger.db"],
)
def test_a_url_that_is_no_store_url_is_a_malformed_command_line(url: str) -> None:
    result = jamsos(url, "report", "budget")
    assert_exit(result, 2)
    assert any(w in result.stderr for w in ("sqlite:///", "postgresql://", "port")), result.stderr


def test_an_sqlite_file_that_is_not_a_ledger_exits_3(tmp_path: Path) -> None:
    other = tmp_path / "kepegawaian.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE pegawai (nip TEXT)")
    before = other.read_bytes()
    assert_exit(jamsos(f"sqlite:///{other}", "report", "budget"), 3, "not a jamsos ledger",
                "pegawai", "name another file")
    assert other.read_bytes() == before  # never written into
    text = tmp_path / "notes.db"
    text.write_text("catatan rapat DPRD\n" * 200)
    assert_exit(jamsos(f"sqlite:///{text}", "program", "show"), 3, "not a jamsos ledger")
    assert_exit(jamsos(f"sqlite:///{tmp_path}", "program", "show"), 3, "is a directory")
    assert_exit(jamsos(f"sqlite:///{tmp_path}/no/such/folder/ledger.db", "program", "show"), 3,
                "does not exist")


def test_a_ledger_of_a_newer_version_exits_3(tmp_path: Path) -> None:
    url = opened(f"sqlite:///{tmp_path}/ledger.db")
    with sqlite3.connect(tmp_path / "ledger.db") as conn:
        conn.execute(f"UPDATE {META_TABLE} SET value = ? WHERE key = 'format'",
                     (str(FORMAT_VERSION + 1),))
    assert_exit(jamsos(url, "report", "budget"), 3, "newer jamsos", "upgrade jamsos-ledger")


def test_a_postgresql_ledger_of_a_newer_version_exits_3(postgres_url: str) -> None:
    opened(postgres_url)
    schema = postgres_url.split("schema=")[1]
    with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as conn:
        conn.execute(sql.SQL("UPDATE {}.{} SET value = '99' WHERE key = 'format'").format(
            sql.Identifier(schema), sql.Identifier(META_TABLE)))
    assert_exit(jamsos(postgres_url, "program", "show"), 3, "newer jamsos",
                "upgrade jamsos-ledger")


def test_a_postgresql_schema_that_is_not_a_ledger_exits_3(postgres_url: str) -> None:
    schema = postgres_url.split("schema=")[1]
    with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE TABLE {}.penduduk (nik text)").format(
            sql.Identifier(schema)))
    assert_exit(jamsos(postgres_url, "report", "budget"), 3, "not a jamsos ledger", "penduduk",
                "name another file or database")


def test_a_database_that_does_not_exist_exits_3(postgres_server: str) -> None:
    url = postgres_server.rsplit("/", 1)[0] + "/no_such_database_jamsos"
    assert_exit(jamsos(url, "report", "budget"), 3, "cannot reach PostgreSQL",
                "no_such_database_jamsos")
