"""Tampering with the stored rows of a real ledger, and `audit verify` naming where.

A small Kota Bekasi again: a program opened, six workers registered, Budi and Siti enrolled
from January, January paid. Then someone with access to the database (a SQLite file, a
PostgreSQL table) changes rows behind the ledger's back, with plain SQL, and the auditor runs
`jamsos audit verify`. Every test runs once on SQLite and once on PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit
from uuid import UUID, uuid4

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg import sql

from jamsos_ledger.application import Ledger
from jamsos_ledger.cli import main
from jamsos_ledger.domain.model import Registration
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.rules import DEFAULT_RULESET
from jamsos_ledger.stores.integrity import (
    CHAIN_TABLE,
    GENESIS,
    Digest,
    EventRow,
    VerifyReport,
    link,
    verify,
)


def person(nik: str, name: str, born: date, sex: str, kecamatan: str, decile: int) -> Registration:
    return Registration(nik, name, born, sex, kecamatan, "-", "ojol", decile, "Disnaker")


BUDI = person("3275051708850001", "Budi Santoso", date(1985, 8, 17), "L", "05", 3)
SITI = person("3275014101900002", "Siti Aminah", date(1990, 1, 1), "P", "01", 1)
AHMAD = person("3275070503780003", "Ahmad Fauzi", date(1978, 3, 5), "L", "07", 5)
DEWI = person("3275087112990004", "Dewi Lestari", date(1999, 12, 31), "P", "08", 1)
EKO = person("3275032006820005", "Eko Prasetyo", date(1982, 6, 20), "L", "03", 6)
RINA = person("3275095505950006", "Rina Wati", date(1995, 5, 15), "P", "09", 2)


@dataclass
class Store:
    """The ledger's database as an intruder sees it: tables and SQL, no jamsos."""

    url: str
    events: str
    postgres: bool

    def _connect(self) -> Any:
        if self.postgres:
            parts = urlsplit(self.url)
            schema = dict(parse_qsl(parts.query))["schema"]
            conn = psycopg.connect(urlunsplit(parts._replace(query="")))
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            return conn
        return sqlite3.connect(self.url[len("sqlite:///") :])

    @property
    def position(self) -> str:
        return "notification_id" if self.postgres else "rowid"

    def run(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        """One statement in a transaction of its own; `{events}`, `{chain}`, `{pos}` and `?`."""
        text = statement.format(events=self.events, chain=CHAIN_TABLE, pos=self.position)
        if self.postgres:
            text = text.replace("?", "%s")
        conn = self._connect()
        try:
            cursor = conn.execute(text, params)
            rows = cursor.fetchall() if cursor.description else []
            conn.commit()
            return [tuple(r) for r in rows]
        finally:
            conn.close()

    def event(self, position: int) -> EventRow:
        ((pos, oid, version, topic, state),) = self.run(
            "SELECT {pos}, originator_id, originator_version, topic, state FROM {events} "
            "WHERE {pos} = ?",
            position,
        )
        return EventRow(pos, oid, version, topic, bytes(state), uuid_text=not self.postgres)

    def originator(self, value: Any) -> Any:
        """An originator id as this store's column holds it."""
        return value if self.postgres else value.hex

    def recompute_chain(self) -> None:
        """What an intruder who knows the (public) chain rule does to cover his tracks."""
        rows = self.run("SELECT {pos} FROM {events} ORDER BY {pos}")
        self.run("DELETE FROM {chain}")
        previous = GENESIS
        for (position,) in rows:
            previous = link(previous, self.event(position).encoded())
            self.run("INSERT INTO {chain} (position, hash) VALUES (?, ?)", position, previous)


@pytest.fixture
def bekasi(store_url: str) -> Iterator[tuple[Ledger, Store]]:
    """The small history, and its database."""
    ledger = Ledger(store_url, actor="operator-disnaker")
    ledger.open_program(year=2026, allocation=2_000_000_000, quota=10_000, code="bekasi-2026",
                        four_eyes=False)
    ledger.register([BUDI, SITI, AHMAD, DEWI, EKO, RINA])
    ledger.enrol("bekasi-2026", start=Month(2026, 1), niks=[BUDI.nik, SITI.nik], decree="KEP-1")
    ledger.pay_premiums(month=Month(2026, 1), sp2d="SP2D-001", code="bekasi-2026")
    store = Store(store_url, ledger.recorder.events_table_name,  # type: ignore[attr-defined]
                  postgres=store_url.startswith("postgresql"))
    yield ledger, store
    ledger.close()


def cli(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--store", url, "audit", *args], catch_exceptions=False)


def found(report: VerifyReport) -> tuple[int, str] | None:
    d = report.discrepancy
    return None if d is None else (d.position, d.kind)


def assert_caught(ledger: Ledger, store: Store, position: int, kind: str) -> None:
    """verify names the position and the kind; the CLI exits 4 saying the same."""
    assert found(verify(ledger.recorder)) == (position, kind)
    result = cli(store.url, "verify")
    assert result.exit_code == 4, result.output
    assert f"tampered with at position {position}: {kind}:" in result.stderr, result.stderr


def head(store: Store) -> int:
    ((n,),) = store.run("SELECT max({pos}) FROM {events}")
    return int(n)


def test_an_untouched_history_verifies(bekasi: tuple[Ledger, Store]) -> None:
    ledger, store = bekasi
    n = head(store)
    report = verify(ledger.recorder)
    assert report.intact and report.events_checked == n and report.head_position == n
    result = cli(store.url, "verify")
    assert result.exit_code == 0, result.output
    assert "intact" in result.output and str(report.head_digest) in result.output
    digest = cli(store.url, "digest")
    assert digest.exit_code == 0 and digest.output.strip() == str(report.head_digest)
    assert cli(store.url, "verify", "--digest", str(report.head_digest)).exit_code == 0


def test_one_byte_of_a_state_changed(bekasi: tuple[Ledger, Store]) -> None:
    ledger, store = bekasi
    state = bytearray(store.event(3).state)
    state[len(state) // 2] ^= 0x01
    store.run("UPDATE {events} SET state = ? WHERE {pos} = 3", bytes(state))
    assert_caught(ledger, store, 3, "altered")


def test_a_state_turned_into_text_that_is_not_utf8(sqlite_url: str) -> None:
    """SQLite lets a column hold any type: bytes stored as TEXT that no codec can read must be
    reported as an alteration, not end the walk with a decoding error."""
    ledger = Ledger(sqlite_url, actor="operator-disnaker")
    try:
        ledger.register([BUDI, SITI, AHMAD])
        store = Store(sqlite_url, "stored_events", postgres=False)
        store.run("UPDATE {events} SET state = CAST(x'ff00fe' || state AS TEXT) WHERE rowid = 2")
        assert_caught(ledger, store, 2, "altered")
    finally:
        ledger.close()


def test_a_topic_changed(bekasi: tuple[Ledger, Store]) -> None:
    ledger, store = bekasi
    store.run("UPDATE {events} SET topic = ? WHERE {pos} = 2", "jamsos_ledger.domainmodel:X")
    assert_caught(ledger, store, 2, "altered")


def test_an_originator_version_changed(bekasi: tuple[Ledger, Store]) -> None:
    ledger, store = bekasi
    n = head(store)
    store.run("UPDATE {events} SET originator_version = originator_version + 100 WHERE {pos} = ?",
              n)
    assert_caught(ledger, store, n, "altered")


def test_an_event_deleted(bekasi: tuple[Ledger, Store]) -> None:
    ledger, store = bekasi
    store.run("DELETE FROM {events} WHERE {pos} = 4")
    assert_caught(ledger, store, 4, "removed")


def test_a_chain_row_deleted(bekasi: tuple[Ledger, Store]) -> None:
    ledger, store = bekasi
    store.run("DELETE FROM {chain} WHERE position = 5")
    assert_caught(ledger, store, 5, "removed")


def test_the_last_chain_row_deleted(bekasi: tuple[Ledger, Store]) -> None:
    # Nothing links through the last event: it looks added, which it may have been.
    ledger, store = bekasi
    n = head(store)
    store.run("DELETE FROM {chain} WHERE position = ?", n)
    assert_caught(ledger, store, n, "inserted")


def test_a_forged_event_added(bekasi: tuple[Ledger, Store]) -> None:
    ledger, store = bekasi
    n = head(store)
    original = store.event(2)
    store.run(
        "INSERT INTO {events} ({pos}, originator_id, originator_version, topic, state) "
        "VALUES (?, ?, ?, ?, ?)",
        n + 1, store.originator(uuid4()), 1, original.topic, original.state,
    )
    assert_caught(ledger, store, n + 1, "inserted")


def test_a_forged_event_in_a_gap_with_a_forged_chain_row(postgres_url: str) -> None:
    # PostgreSQL's sequence leaves a gap where a write was rolled back (here a second program
    # with the same id, refused). The intruder fills the gap with an event and its chain row,
    # computed by the public rule from the row before; the next event's link skips his row.
    ledger = Ledger(postgres_url, actor="operator-disnaker")
    try:
        ledger.open_program(year=2026, allocation=2_000_000_000, quota=10_000, code="bekasi-2026")
        ledger.register([BUDI])
        with pytest.raises(Exception, match="already open"):
            ledger._save_or_refuse(  # a save the store refuses: the sequence moves on
                [_program_again(ledger)], "program 'bekasi-2026' is already open"
            )
        ledger.register([SITI])
        store = Store(postgres_url, ledger.recorder.events_table_name,  # type: ignore[attr-defined]
                      postgres=True)
        positions = [p for (p,) in store.run("SELECT {pos} FROM {events} ORDER BY {pos}")]
        assert positions[-1] == positions[-2] + 2  # the gap
        gap = positions[-1] - 1
        (before,) = store.run("SELECT hash FROM {chain} WHERE position = ?", positions[-2])[0]
        forged = EventRow(gap, uuid4(), 1, "jamsos_ledger.domainmodel:Worker.Registered",
                          b"\x80")
        store.run(
            "INSERT INTO {events} ({pos}, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?, ?)",
            gap, forged.originator_id, 1, forged.topic, forged.state,
        )
        store.run("INSERT INTO {chain} (position, hash) VALUES (?, ?)",
                  gap, link(bytes(before), forged.encoded()))
        assert_caught(ledger, store, gap, "inserted")
    finally:
        ledger.close()


def _program_again(ledger: Ledger) -> Any:
    from jamsos_ledger.domain.model import Program

    return Program.open(
        code="bekasi-2026", name="again", year=2026, start=Month(2026, 1), end=Month(2026, 12),
        allocation=1, quota=1, jkk_monthly=10_000, jkm_monthly=6_800,
        ruleset_name=DEFAULT_RULESET, actor="intruder",
    )


def test_a_forged_event_appended_with_its_chain_row_is_not_caught(
    bekasi: tuple[Ledger, Store],
) -> None:
    # The limit of a public hash chain: an event appended at the end, with the chain row the
    # public rule gives, is what a legitimate write looks like. Digests prove the history up
    # to them, not that nothing was written after.
    ledger, store = bekasi
    n = head(store)
    digest = verify(ledger.recorder).head_digest
    forged = EventRow(n + 1, store.originator(uuid4()), 1, "x", b"y", uuid_text=not store.postgres)
    store.run(
        "INSERT INTO {events} ({pos}, originator_id, originator_version, topic, state) "
        "VALUES (?, ?, ?, ?, ?)",
        n + 1, forged.originator_id, 1, "x", b"y",
    )
    (last,) = store.run("SELECT hash FROM {chain} WHERE position = ?", n)[0]
    store.run("INSERT INTO {chain} (position, hash) VALUES (?, ?)",
              n + 1, link(bytes(last), forged.encoded()))
    assert verify(ledger.recorder, Digest.parse(str(digest))).intact


def test_two_events_swapped(bekasi: tuple[Ledger, Store]) -> None:
    ledger, store = bekasi
    a, b = store.event(2), store.event(5)
    placeholder = store.originator(UUID(int=0))
    store.run("UPDATE {events} SET originator_id = ? WHERE {pos} = 2", placeholder)
    for target, source in ((5, a), (2, b)):
        store.run(
            "UPDATE {events} SET originator_id = ?, originator_version = ?, topic = ?, "
            "state = ? WHERE {pos} = ?",
            source.originator_id, source.originator_version, source.topic, source.state, target,
        )
    assert_caught(ledger, store, 2, "reordered")
    assert "written at 5" in cli(store.url, "verify").stderr


def test_a_chain_hash_changed(bekasi: tuple[Ledger, Store]) -> None:
    ledger, store = bekasi
    store.run("UPDATE {chain} SET hash = ? WHERE position = 3", bytes(32))
    assert_caught(ledger, store, 3, "altered")


def test_the_last_events_cut_off_are_caught_by_a_digest(bekasi: tuple[Ledger, Store]) -> None:
    ledger, store = bekasi
    n = head(store)
    digest = cli(store.url, "digest").output.strip()
    store.run("DELETE FROM {events} WHERE {pos} > ?", n - 2)
    store.run("DELETE FROM {chain} WHERE position > ?", n - 2)
    # Without the digest the shorter chain is consistent: nothing in it shows it was longer.
    # The seals of the events cut off, left behind, do (an intruder who also deletes them is
    # caught by the digest only: tests/test_seal_attacks.py).
    assert verify(ledger.recorder).intact
    sealed = cli(store.url, "verify")
    assert sealed.exit_code == 4 and "no longer holds" in sealed.stderr, sealed.output
    report = verify(ledger.recorder, Digest.parse(digest))
    assert found(report) == (n - 1, "truncated")
    result = cli(store.url, "verify", "--digest", digest)
    assert result.exit_code == 4
    assert f"position {n - 1}: truncated:" in result.stderr


def test_a_history_rewritten_with_every_hash_recomputed_is_caught_by_seals_and_a_digest(
    bekasi: tuple[Ledger, Store],
) -> None:
    ledger, store = bekasi
    digest = Digest.parse(cli(store.url, "digest").output.strip())
    state = bytearray(store.event(2).state)
    state[-1] ^= 0x01
    store.run("UPDATE {events} SET state = ? WHERE {pos} = 2", bytes(state))
    store.recompute_chain()
    assert verify(ledger.recorder).intact  # the chain alone is fooled
    sealed = cli(store.url, "verify")  # the seals are not: they signed the old chain
    assert sealed.exit_code == 4 and "does not hold" in sealed.stderr, sealed.output
    assert found(verify(ledger.recorder, digest)) == (digest.position, "rewritten")
    result = cli(store.url, "verify", "--digest", str(digest))
    assert result.exit_code == 4 and "not proven from position" in result.stderr
    # A digest refuses to certify a history that does not verify.
    store.run("DELETE FROM {chain} WHERE position = 1")
    refused = cli(store.url, "digest")
    assert refused.exit_code == 4 and refused.stdout == ""


def test_verify_as_json(bekasi: tuple[Ledger, Store]) -> None:
    import json

    _, store = bekasi
    store.run("DELETE FROM {events} WHERE {pos} = 3")
    result = cli(store.url, "verify", "--format", "json")
    assert result.exit_code == 4
    data = json.loads(result.stdout)
    assert data["intact"] is False and data["events_checked"] == 2
    assert data["discrepancy"]["position"] == 3 and data["discrepancy"]["kind"] == "removed"


def test_a_malformed_digest_is_refused(bekasi: tuple[Ledger, Store]) -> None:
    _, store = bekasi
    result = cli(store.url, "verify", "--digest", "12:xyz")
    assert result.exit_code == 2 and "is not a digest" in result.stderr
