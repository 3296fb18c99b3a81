"""Each events table has a chain of its own; the ledger's keeps the name it always had.

Two chained recorders with different events tables in one database (the ledger's events and,
say, snapshots, or two applications in one schema) once wrote into one chain table, where the
second one's first write looked like stored events removed behind the ledger's back. A ledger
written before that change (its chain in `jamsos_event_chain`) must still open, verify and
replay: it is built here by the code as it was then (commit a47efd8), run from git.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import psycopg
import pytest
from eventsourcing.persistence import InfrastructureFactory, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import Environment, get_topic
from psycopg import sql

from cli_helpers import events, jamsos, ok
from jamsos_ledger.stores.integrity import CHAIN_TABLE, ChainedRecorder, chain_table_of, verify
from jamsos_ledger.stores.urls import StoreURL

HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"
REPOSITORY = Path(__file__).resolve().parents[1]
BEFORE = "a47efd8"  # the last commit whose chained recorders all shared one chain table


def _event() -> StoredEvent:
    return StoredEvent(uuid.uuid4(), 1, "topic", b"state")


@pytest.fixture
def factory(store_url: str) -> Iterator[Any]:
    """The ledger's factory of the store, under the ledger's application name."""
    made = InfrastructureFactory.construct(
        Environment("jamsos", StoreURL.parse(store_url).environment())
    )
    yield made
    made.close()


def test_two_events_tables_in_one_database_each_keep_their_own_chain(factory: Any) -> None:
    ledger = factory.application_recorder()
    snapshots = factory.aggregate_recorder("snapshots")
    assert ledger.chain_table_name == CHAIN_TABLE
    assert snapshots.chain_table_name not in (CHAIN_TABLE, ledger.events_table_name)
    # Before: the second recorder's first write was refused ("stored events were removed").
    for _ in range(3):
        ledger.insert_events([_event(), _event()])
        snapshots.insert_events([_event()])
    for recorder, written in ((ledger, 6), (snapshots, 3)):
        report = verify(recorder)
        assert report.intact, report
        assert report.events_checked == written


def test_an_application_of_another_name_in_the_ledger_s_database_has_its_own_chain(
    store_url: str, factory: Any
) -> None:
    other = InfrastructureFactory.construct(  # both opened while the store is empty
        Environment("payroll", StoreURL.parse(store_url).environment())
    )
    ledger = factory.application_recorder()
    try:
        # On SQLite the library names every application's events table `stored_events`: one
        # table, one chain, shared rightly. On PostgreSQL each name has its own table.
        recorder = other.application_recorder()
        ledger.insert_events([_event()])
        recorder.insert_events([_event(), _event()])
        ledger.insert_events([_event()])
        for each in (ledger, recorder):
            report = verify(each)
            assert report.intact, report
        if recorder.events_table_name != ledger.events_table_name:
            assert recorder.chain_table_name != ledger.chain_table_name
            assert verify(ledger).events_checked == 2
    finally:
        other.close()


def test_a_chain_table_s_name_is_its_events_table_s_and_fits_an_identifier() -> None:
    assert chain_table_of("stored_events", "stored_events") == CHAIN_TABLE
    assert chain_table_of("stored_snapshots", "stored_events") == "stored_snapshots_chain"
    # Never the ledger's chain for another table, even one named to look like it.
    assert chain_table_of("jamsos_event", "stored_events") != CHAIN_TABLE
    longest = ["s" * 50 + "stored_events", "s" * 50 + "stored_eventz"]
    names = {chain_table_of(t, "stored_events") for t in longest}
    assert len(names) == 2 and all(len(n) <= 63 for n in names)


def test_the_postgres_factory_still_serves_a_recorder_a_topic_names(postgres_url: str) -> None:
    # An unchained recorder inserts with the library's composite type: the factory registers it
    # for such a recorder (and only then), rather than failing with "Composite type not found".
    env = StoreURL.parse(postgres_url).environment()
    env["APPLICATION_RECORDER_TOPIC"] = get_topic(PostgresApplicationRecorder)
    made = InfrastructureFactory.construct(Environment("jamsos", env))
    try:
        recorder = made.application_recorder()
        assert type(recorder) is PostgresApplicationRecorder
        assert recorder.insert_events([_event()]) == [1]
    finally:
        made.close()


# --- A ledger written before each events table had its own chain --------------------------------


def _old_jamsos(tmp_path: Path) -> Path:
    """The package as it was at BEFORE, laid out as installed (three folders make it)."""
    archive = tmp_path / "old.tar"
    try:
        subprocess.run(
            ["git", "-C", str(REPOSITORY), "archive", "-o", str(archive), BEFORE,
             "src", "projections", "cli"],
            check=True, capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"the code as of {BEFORE} is not in this checkout's git history: {e}")
    tree = tmp_path / "old"
    tree.mkdir()
    subprocess.run(["tar", "-xf", str(archive), "-C", str(tree)], check=True)
    package = tree / "src" / "jamsos_ledger"
    shutil.move(str(tree / "projections"), str(package / "projections"))
    shutil.move(str(tree / "cli"), str(package / "cli"))
    return tree / "src"


def _run_old(source: Path, url: str, *args: str) -> str:
    program = (
        f"import sys; sys.path.insert(0, {str(source)!r}); import jamsos_ledger; "
        f"assert jamsos_ledger.__file__.startswith({str(source)!r}), jamsos_ledger.__file__; "
        "from jamsos_ledger.cli import main; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, "--store", url, "--actor", "operator", *args],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _tables_and_chain_rows(url: str) -> tuple[set[str], int]:
    """The store's table names, and the rows of the ledger's chain table, read with SQL."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///") :])
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            (rows,) = conn.execute(f"SELECT count(*) FROM {CHAIN_TABLE}").fetchone()
        finally:
            conn.close()
        return tables, rows
    parts = urlsplit(url)
    schema = dict(parse_qsl(parts.query))["schema"]
    with psycopg.connect(urlunsplit(parts._replace(query=""))) as pg:
        tables = {
            r[0]
            for r in pg.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
            )
        }
        row = pg.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(CHAIN_TABLE)
            )
        ).fetchone()
    assert row is not None
    return tables, int(row[0])


@pytest.mark.slow
def test_a_ledger_written_before_opens_verifies_and_replays(
    store_url: str, tmp_path: Path
) -> None:
    source = _old_jamsos(tmp_path)
    registrations = tmp_path / "registrations.csv"
    registrations.write_text(
        "\n".join(
            [HEADER]
            + [
                f"32750117058400{i:02d},Pekerja {i},1984-05-17,L,0{i % 3 + 1},Margahayu,ojol,"
                f"{i % 9 + 1},Disnaker"
                for i in range(1, 9)
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    _run_old(source, store_url, "program", "open", "--year", "2026", "--allocation",
             "2000000", "--quota", "5")
    _run_old(source, store_url, "workers", "import", str(registrations))
    _run_old(source, store_url, "workers", "prioritize")
    written = events(store_url)
    tables, chained = _tables_and_chain_rows(store_url)
    assert CHAIN_TABLE in tables and chained == written

    # Its chain holds, but nobody sealed it: never trusted silently (exit 4), never written
    # to (exit 6) until an administrator adopts it as it stands.
    unsealed = jamsos(store_url, "audit", "verify", "--format", "json")
    assert unsealed.exit_code == 4, unsealed.output
    assert json.loads(unsealed.stdout)["discrepancy"] is None  # the chain itself is intact
    ok(store_url, "audit", "replay")
    refused = jamsos(store_url, "enroll", "--top", "3", "--start", "2026-01", "--decree",
                     "KEP/1/2026")
    assert refused.exit_code == 6 and "principals adopt" in refused.stderr
    assert events(store_url) == written
    ok(store_url, "principals", "adopt")
    # It is still written to, into the same chain, and still verifies. Its program was opened
    # before four eyes existed (no four_eyes in its terms): it reads as one key, as it was run.
    enrolled = ok(store_url, "enroll", "--top", "3", "--start", "2026-01", "--decree",
                  "KEP/1/2026")
    assert "Enrolled 3 workers" in enrolled.stdout, enrolled.stdout
    now = events(store_url)
    assert now > written
    tables_after, chained_after = _tables_and_chain_rows(store_url)
    assert chained_after == now
    assert {t for t in tables_after if "chain" in t} == {CHAIN_TABLE}
    verified = jamsos(store_url, "audit", "verify", "--format", "json")
    assert verified.exit_code == 0, verified.output
    ok(store_url, "audit", "replay")


def test_the_ledger_s_events_are_chained_in_the_table_earlier_versions_wrote(
    store_url: str,
) -> None:
    from jamsos_ledger.application import Ledger

    ledger = Ledger(store_url)
    try:
        recorder = ledger.recorder
        assert isinstance(recorder, ChainedRecorder)
        assert getattr(recorder, "chain_table_name", None) == CHAIN_TABLE
    finally:
        ledger.close()
