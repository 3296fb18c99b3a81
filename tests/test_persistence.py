"""Where the ledger lives: store URLs, stores that are not ledgers, and the msgpack format."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.errors import InvalidInput, StoreUnavailable
from jamsos_ledger.domain.model import program_id
from jamsos_ledger.domain.months import Month
from jamsos_ledger.stores.bulk_reads import select_events_of
from jamsos_ledger.stores.marks import META_TABLE
from jamsos_ledger.stores.transcoding import MsgpackTranscoder
from jamsos_ledger.stores.urls import StoreURL, redact

# -- store URLs ----------------------------------------------------------------------------


def test_sqlite_urls() -> None:
    assert StoreURL.parse("sqlite:///jamsos.db").path == "jamsos.db"
    assert StoreURL.parse("sqlite:////var/lib/jamsos/ledger.db").path == "/var/lib/jamsos/ledger.db"
    assert StoreURL.parse("sqlite:///ledger.db").environment()["SQLITE_DBNAME"] == "ledger.db"


def test_postgres_url_parts_and_redaction() -> None:
    url = StoreURL.parse("postgresql://bpkad:rahasia@db.bekasikota.go.id:5433/jamsos?schema=apbd")
    assert (url.kind, url.host, url.port, url.user, url.password, url.dbname, url.schema) == (
        "postgresql", "db.bekasikota.go.id", 5433, "bpkad", "rahasia", "jamsos", "apbd"
    )
    assert "rahasia" not in url.text
    assert url.text == "postgresql://bpkad:***@db.bekasikota.go.id:5433/jamsos?schema=apbd"
    assert url.environment()["POSTGRES_SCHEMA"] == "apbd"
    assert redact("postgresql://bpkad@localhost/jamsos") == "postgresql://bpkad@localhost/jamsos"
    assert StoreURL.parse("postgres://u@h/db").port == 5432


def test_memory_url() -> None:
    assert StoreURL.parse("memory://").kind == "memory"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sqlite://", "needs a file"),
        ("sqlite:///", "needs a file"),
        ("postgresql://localhost", "needs a host and a database"),
        ("postgresql:///jamsos", "needs a host and a database"),
        ("postgresql://u@h:port/db", "bad port"),
        ("mysql://u@h/db", "unknown store URL"),
        ("jamsos.db", "unknown store URL"),
    ],
)
def test_bad_urls_are_invalid_input(url: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        StoreURL.parse(url)


def test_bad_url_messages_do_not_show_the_password() -> None:
    with pytest.raises(InvalidInput) as refused:
        StoreURL.parse("postgresql://bpkad:rahasia@localhost")
    assert "rahasia" not in str(refused.value)


# -- stores that are not ledgers -----------------------------------------------------------


def test_an_sqlite_file_with_other_tables_is_not_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "kepegawaian.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE pegawai (nip TEXT PRIMARY KEY, nama TEXT)")
    conn.close()
    with pytest.raises(StoreUnavailable, match=r"is not a jamsos ledger.*pegawai"):
        Ledger(f"sqlite:///{path}")
    # Nothing was written into it.
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master")]
    conn.close()
    assert tables == ["pegawai", "sqlite_autoindex_pegawai_1"]


@pytest.mark.parametrize("size", [10, 4096, 100_000])
def test_a_file_of_random_bytes_is_not_a_ledger(tmp_path: Path, size: int) -> None:
    path = tmp_path / "ledger.db"
    # Deterministic bytes that are not SQLite's header.
    path.write_bytes(bytes((i * 7 + 3) % 256 for i in range(size)))
    with pytest.raises(StoreUnavailable, match="not an SQLite file"):
        Ledger(f"sqlite:///{path}")
    assert path.stat().st_size == size


def test_a_folder_or_a_missing_folder_is_not_a_ledger(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="is a directory"):
        Ledger(f"sqlite:///{tmp_path}")
    with pytest.raises(StoreUnavailable, match="does not exist"):
        Ledger(f"sqlite:///{tmp_path}/no-such-folder/ledger.db")


def test_an_empty_file_becomes_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    path.touch()
    Ledger(f"sqlite:///{path}").open_program(year=2026, allocation=2_000_000_000, quota=10_000)
    assert Ledger(f"sqlite:///{path}").program().quota == 10_000


def test_a_ledger_from_a_newer_version_is_refused(sqlite_url: str) -> None:
    Ledger(sqlite_url).open_program(year=2026, allocation=2_000_000_000, quota=10_000)
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute(f"UPDATE {META_TABLE} SET value = '2' WHERE key = 'format'")
    conn.close()
    with pytest.raises(StoreUnavailable, match="ledger format 2, this one reads up to 1"):
        Ledger(sqlite_url)


def test_an_unreachable_postgres_is_unavailable() -> None:
    with pytest.raises(StoreUnavailable) as refused:
        Ledger("postgresql://postgres:rahasia@127.0.0.1:5999/test")
    message = str(refused.value)
    assert message.startswith("cannot reach PostgreSQL at postgresql://postgres:***@127.0.0.1:5999")
    assert "rahasia" not in message


def test_a_postgres_schema_with_other_tables_is_not_a_ledger(postgres_url: str) -> None:
    (schema,) = parse_qs(urlsplit(postgres_url).query)["schema"]
    with psycopg.connect(postgres_url.split("?", 1)[0], autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE TABLE {}.pegawai (nip text PRIMARY KEY)").format(sql.Identifier(schema))
        )
    with pytest.raises(StoreUnavailable, match=f"schema {schema}.*pegawai"):
        Ledger(postgres_url)


def test_a_new_store_is_marked_as_a_ledger(store_url: str) -> None:
    ledger = Ledger(store_url)
    with ledger.views.db.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT key, value FROM {ledger.views.db.table(META_TABLE)}")
        assert cursor.fetchall() == [("format", "1")]
    # Opening it again (the mark is there, and the library's tables) is fine.
    Ledger(store_url).open_program(year=2026, allocation=2_000_000_000, quota=10_000)
    assert Ledger(store_url).program_codes() == ["2026"]


def test_select_events_of_reads_many_aggregates_at_once(store_url: str) -> None:
    ledger = Ledger(store_url)
    ledger.open_program(year=2026, allocation=2_000_000_000, quota=10_000, four_eyes=False)
    ledger.amend_program(quota=11_666, reason="SIGAP")
    missing = UUID(int=0)
    found = select_events_of(ledger.recorder, [program_id("2026"), missing])
    assert list(found) == [program_id("2026")]
    assert [e.originator_version for e in found[program_id("2026")]] == [1, 2]
    assert select_events_of(ledger.recorder, []) == {}


# -- msgpack -------------------------------------------------------------------------------


def test_every_field_type_round_trips() -> None:
    transcoder = MsgpackTranscoder()
    jakarta = timezone(timedelta(hours=7))
    state = {
        "allocation": 2_000_000_000,
        "start": Month(2026, 1),
        "birth_date": date(1990, 1, 1),
        "timestamp": datetime(2026, 3, 31, 17, 0, tzinfo=jakarta),
        "utc": datetime(2026, 3, 31, 10, 0, tzinfo=UTC),
        "originator_id": program_id("2026"),
        "payments": [(Month(2026, 1), "SP2D-1")],
        "decree": None,
        "nested": {"tiers": ((1, 2, 3), (4, 5))},
    }
    back = transcoder.decode(transcoder.encode(state))
    assert back == state
    assert back["timestamp"].utcoffset() == timedelta(hours=7)  # the offset is kept
    assert isinstance(back["payments"][0], tuple)
    assert isinstance(back["start"], Month)


def test_unknown_types_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot encode set"):
        MsgpackTranscoder().encode({"x": {1, 2}})
