"""Forgeries by someone who can write the store and read the source, but holds no enrolled
private key, and `jamsos audit verify --root` catching each one (exit 4, naming the first
position no valid seal covers). Every test runs on SQLite and on PostgreSQL.

The history: Ana, the administrator, opens the program and enrols Budi (Disnaker, operator and
approver) and Keu (BPKAD, finance); Budi registers and enrols two workers; Keu pays January;
Ana revokes Keu. Then the intruder changes rows with plain SQL, or runs a jamsos of his own
making that seals with whatever key he has.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from cli_helpers import jamsos, key_for
from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.domain.model import Registration
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.principals import (
    ADMINISTRATOR,
    APPROVER,
    FINANCE,
    OPERATOR,
    ROLES,
    Principal,
    public_key_text,
)
from jamsos_ledger.stores.integrity import CHAIN_TABLE, GENESIS, EventRow, link
from jamsos_ledger.stores.keys import SigningKey, new_key_file
from jamsos_ledger.stores.seals import COLUMNS, SEAL_TABLE, Sealer, seal_from_row


def person(nik: str, name: str, decile: int) -> Registration:
    return Registration(nik, name, date(1985, 8, 17), "L", "05", "-", "ojol", decile, "Disnaker")


WORKERS = [person("3275051708850001", "Budi Santoso", 3),
           person("3275051708850002", "Adi Nugroho", 1),
           person("3275051708850003", "Eko Prasetyo", 2)]


@dataclass
class Intruder:
    """The ledger's database as an intruder sees it: tables and SQL."""

    url: str
    postgres: bool

    @property
    def events(self) -> str:
        return "jamsos_events" if self.postgres else "stored_events"

    @property
    def pos(self) -> str:
        return "notification_id" if self.postgres else "rowid"

    def run(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        text = statement.format(events=self.events, chain=CHAIN_TABLE, pos=self.pos,
                                seals=SEAL_TABLE)
        if self.postgres:
            parts = urlsplit(self.url)
            schema = dict(parse_qsl(parts.query))["schema"]
            conn: Any = psycopg.connect(urlunsplit(parts._replace(query="")))
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            text = text.replace("?", "%s")
        else:
            conn = sqlite3.connect(self.url[len("sqlite:///"):])
        try:
            cursor = conn.execute(text, params)
            rows = cursor.fetchall() if cursor.description else []
            conn.commit()
            return [tuple(r) for r in rows]
        finally:
            conn.close()

    def head(self) -> int:
        return int(self.run("SELECT max({pos}) FROM {events}")[0][0])

    def event(self, position: int) -> EventRow:
        ((p, oid, version, topic, state),) = self.run(
            "SELECT {pos}, originator_id, originator_version, topic, state FROM {events} "
            "WHERE {pos} = ?", position)
        return EventRow(p, oid, version, topic, bytes(state), uuid_text=not self.postgres)

    def seal_positions(self) -> list[int]:
        return [int(p) for (p,) in self.run("SELECT position FROM {seals} ORDER BY position")]

    def append(self, rows: list[EventRow]) -> None:
        """Events added at the end, each with the chain row the public rule gives."""
        (last,) = self.run("SELECT hash FROM {chain} ORDER BY position DESC LIMIT 1")[0]
        previous = bytes(last)
        for row in rows:
            self.run("INSERT INTO {events} ({pos}, originator_id, originator_version, topic, "
                     "state) VALUES (?, ?, ?, ?, ?)", row.position, row.originator_id,
                     row.originator_version, row.topic, row.state)
            previous = link(previous, row.encoded())
            self.run("INSERT INTO {chain} (position, hash) VALUES (?, ?)", row.position, previous)

    def recompute_chain(self) -> None:
        """Every link recomputed by the public rule, to cover his tracks."""
        rows = self.run("SELECT {pos} FROM {events} ORDER BY {pos}")
        self.run("DELETE FROM {chain}")
        previous = GENESIS
        for (position,) in rows:
            previous = link(previous, self.event(position).encoded())
            self.run("INSERT INTO {chain} (position, hash) VALUES (?, ?)", position, previous)


@dataclass
class History:
    url: str
    root: str  # the fingerprint the auditor kept
    intruder: Intruder
    keu: SigningKey


def _ledger(url: str, key: SigningKey) -> Ledger:
    return Ledger(url, key=KeySource(key=key))


@pytest.fixture
def history(store_url: str) -> Iterator[History]:
    admin, budi, keu = key_for("operator"), key_for("budi"), key_for("keu")
    ana = _ledger(store_url, admin)
    root = ana.signing.establish_root("ana", "Diskominfo")
    ana.open_program(year=2026, allocation=2_000_000_000, quota=10_000, code="bekasi",
                     four_eyes=False)
    # Budi registers the workers and signs their decree: an operator and the approver.
    ana.principals.enrol("budi", "Disnaker", [OPERATOR, APPROVER],
                         public_key_text(budi.public_key))
    ana.principals.enrol("keu", "BPKAD", [FINANCE], public_key_text(keu.public_key))
    ana.close()
    ledger = _ledger(store_url, budi)
    ledger.register(WORKERS)
    ledger.enrol("bekasi", start=Month(2026, 1), niks=[w.nik for w in WORKERS[:2]],
                 decree="KEP-1")
    ledger.close()
    ledger = _ledger(store_url, keu)
    ledger.pay_premiums(month=Month(2026, 1), sp2d="SP2D-001", code="bekasi")
    ledger.close()
    ana = _ledger(store_url, admin)
    ana.principals.revoke("keu", "moved to another office")
    ana.close()
    yield History(store_url, root.fingerprint,
                  Intruder(store_url, store_url.startswith("postgresql")), keu)


def verify(h: History, *args: str) -> Any:
    return jamsos(h.url, "audit", "verify", "--root", h.root, *args)


def assert_unproven_from(h: History, position: int, words: str) -> None:
    result = verify(h)
    assert result.exit_code == 4, result.output
    assert f"position {position}:" in result.stderr, result.stderr
    assert words in result.stderr, result.stderr


def test_the_genuine_history_verifies_against_its_root(history: History) -> None:
    result = verify(history)
    assert result.exit_code == 0, result.output
    assert "intact and sealed" in result.stdout
    assert "ana" in result.stdout and "budi" in result.stdout and "keu" in result.stdout
    trail = jamsos(history.url, "audit", "log", "--format", "jsonl")
    entries = [json.loads(line) for line in trail.stdout.splitlines()]
    paid = [e for e in entries if e["event"] == "Program.PremiumPaid"]
    assert [(e["actor"], e["sealed_by"]) for e in paid] == [("keu", "keu")]
    other = new_key_file(_tmp_key_path())
    wrong = jamsos(history.url, "audit", "verify", "--root", other.fingerprint)
    assert wrong.exit_code == 4 and "not the root pinned" in wrong.stderr


def _tmp_key_path() -> Any:
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp()) / "k"


def test_a_an_event_appended_with_its_chain_link(history: History) -> None:
    i = history.intruder
    n = i.head()
    paid = i.event(n - 1)  # a genuine event's content, as a template
    forged = EventRow(n + 1, paid.originator_id if i.postgres else uuid4().hex, 99,
                      paid.topic, paid.state, uuid_text=not i.postgres)
    i.append([forged])
    assert_unproven_from(history, n + 1, "sealed by no principal")
    trail = jamsos(history.url, "audit", "log", "--format", "jsonl")
    last = [json.loads(line) for line in trail.stdout.splitlines()][-1]
    assert last["position"] == n + 1 and last["sealed_by"] is None


def test_b_an_event_altered_with_the_chain_recomputed(history: History) -> None:
    i = history.intruder
    state = bytearray(i.event(3).state)
    state[len(state) // 2] ^= 0x01
    i.run("UPDATE {events} SET state = ? WHERE {pos} = 3", bytes(state))
    i.recompute_chain()
    result = verify(history)
    assert result.exit_code == 4, result.output
    assert "does not hold" in result.stderr
    # The first seal covering position 3 is the one that fails: it starts at 3 or before.
    start = int(result.stderr.split("not proven from position ")[1].split(":")[0])
    assert 1 <= start <= 3


def test_b_an_event_removed_with_the_chain_recomputed(history: History) -> None:
    i = history.intruder
    n = i.head()
    i.run("DELETE FROM {events} WHERE {pos} = ?", n - 1)
    i.recompute_chain()
    result = verify(history)
    assert result.exit_code == 4, result.output
    assert "not proven from position" in result.stderr


def test_b_an_event_inserted_and_two_reordered_with_the_chain_recomputed(
    history: History,
) -> None:
    i = history.intruder
    a, b = i.event(2), i.event(3)
    placeholder = uuid4() if i.postgres else uuid4().hex
    i.run("UPDATE {events} SET originator_id = ? WHERE {pos} = 2", placeholder)
    for target, source in ((3, a), (2, b)):
        i.run("UPDATE {events} SET originator_id = ?, originator_version = ?, topic = ?, "
              "state = ? WHERE {pos} = ?", source.originator_id, source.originator_version,
              source.topic, source.state, target)
    i.recompute_chain()
    result = verify(history)
    assert result.exit_code == 4 and "does not hold" in result.stderr, result.output


def test_c_a_sealed_transaction_copied_to_a_later_position(history: History) -> None:
    i = history.intruder
    seals = i.seal_positions()
    # Keu's payment: the transaction between two seals, copied after the end with its seal.
    pay_end = seals[-2]
    pay_start = seals[-3] + 1
    n = i.head()
    rows = []
    for k, position in enumerate(range(pay_start, pay_end + 1)):
        e = i.event(position)
        rows.append(EventRow(n + 1 + k, e.originator_id, e.originator_version + 1000, e.topic,
                             e.state, uuid_text=not i.postgres))
    i.append(rows)
    (seal_row,) = i.run(f"SELECT {', '.join(COLUMNS)} FROM {{seals}} WHERE position = ?",
                        pay_end)
    copied = seal_from_row(seal_row)
    values = list(copied.row())
    values[0] = rows[-1].position
    i.run(f"INSERT INTO {{seals}} ({', '.join(COLUMNS)}) VALUES "
          f"({', '.join('?' * len(COLUMNS))})", *values)
    assert_unproven_from(history, n + 1, "does not follow the seal before it")


def test_d_the_tail_cut_off_is_caught_by_the_digest_the_auditor_kept(history: History) -> None:
    i = history.intruder
    kept = jamsos(history.url, "audit", "digest")
    assert kept.exit_code == 0, kept.output
    seals = i.seal_positions()
    cut = seals[-3]  # the payment and the revocation go
    i.run("DELETE FROM {events} WHERE {pos} > ?", cut)
    i.run("DELETE FROM {chain} WHERE position > ?", cut)
    i.run("DELETE FROM {seals} WHERE position > ?", cut)
    # Alone, the shorter history is a genuine one: the digest kept outside shows it was longer.
    assert verify(history).exit_code == 0
    result = verify(history, "--digest", kept.stdout.strip())
    assert result.exit_code == 4, result.output
    assert "truncated" in result.stderr, result.stderr


def test_d_the_tail_cut_off_but_its_seals_left(history: History) -> None:
    i = history.intruder
    seals = i.seal_positions()
    cut = seals[-3]
    i.run("DELETE FROM {events} WHERE {pos} > ?", cut)
    i.run("DELETE FROM {chain} WHERE position > ?", cut)
    assert_unproven_from(history, cut + 1, "no longer holds")


def _forger(h: History, key: SigningKey, name: str, *, admin: bool) -> Ledger:
    """A jamsos of the intruder's making: it seals with `key` as `name`, asking nobody."""
    ledger = _ledger(h.url, key)
    sealer = Sealer(key, name)
    ledger.signing.sealer = sealer
    # His jamsos checks no role either: it holds them all (the administrator's when `admin`).
    roles = frozenset(ROLES) if admin else frozenset(ROLES) - {ADMINISTRATOR}
    ledger.signing.principal = Principal(name, "-", roles, key.public_key)
    ledger.recorder.sealer = sealer  # type: ignore[attr-defined]
    # Nor does it read the principals again before writing (`Signing.still_allowed`).
    ledger.signing.still_allowed = lambda *_: None  # type: ignore[method-assign]
    return ledger


def test_e_a_principal_of_his_own_enrolled(history: History) -> None:
    mallory = new_key_file(_tmp_key_path())
    n = history.intruder.head()
    for name in ("mallory", "ana"):  # under his own name, and under the administrator's
        ledger = _forger(history, mallory, name, admin=True)
        try:
            ledger.principals.enrol(f"{name}-2", "Disnaker", [ADMINISTRATOR],
                                    public_key_text(mallory.public_key))
        finally:
            ledger.close()
        expected = "who was no principal" if name == "mallory" else "a key it did not hold"
        assert_unproven_from(history, n + 1, expected)
        i = history.intruder  # undone, for the second try
        i.run("DELETE FROM {events} WHERE {pos} > ?", n)
        i.run("DELETE FROM {chain} WHERE position > ?", n)
        i.run("DELETE FROM {seals} WHERE position > ?", n)
        assert verify(history).exit_code == 0


def test_f_a_seal_made_with_a_revoked_key_after_its_revocation(history: History) -> None:
    n = history.intruder.head()
    ledger = _forger(history, history.keu, "keu", admin=False)
    try:
        ledger.pay_premiums(month=Month(2026, 2), sp2d="SP2D-002", code="bekasi")
    finally:
        ledger.close()
    assert_unproven_from(history, n + 1, "revoked before this was written")


def test_a_write_with_a_revoked_key_is_refused_and_writes_nothing(history: History) -> None:
    n = history.intruder.head()
    result = jamsos(history.url, "premiums", "pay", "--month", "2026-02", "--sp2d", "S-2",
                    actor="keu")
    assert result.exit_code == 6, result.output
    assert "revoked" in result.stderr
    assert history.intruder.head() == n


def test_after_a_rotation_the_old_key_is_refused_and_the_history_still_verifies(
    history: History,
) -> None:
    budi_new = new_key_file(_tmp_key_path())
    rotated = jamsos(history.url, "principals", "rotate", "budi", "--public-key",
                     public_key_text(budi_new.public_key))
    assert rotated.exit_code == 0, rotated.output
    n = history.intruder.head()
    old = jamsos(history.url, "program", "amend", "--quota", "9000", "--reason", "x",
                 actor="budi")
    assert old.exit_code == 6 and "no principal's" in old.stderr
    assert history.intruder.head() == n
    ledger = _ledger(history.url, budi_new)
    try:
        ledger.amend_program("bekasi", quota=9_000, reason="with the new key")
    finally:
        ledger.close()
    result = verify(history)
    assert result.exit_code == 0, result.output
    # Budi's old key, used after the rotation by a jamsos that asks nobody: caught.
    ledger = _forger(history, key_for("budi"), "budi", admin=False)
    try:
        ledger.amend_program("bekasi", quota=8_000, reason="with the old key")
    finally:
        ledger.close()
    assert_unproven_from(history, history.intruder.head(), "a key it did not hold")


def test_a_key_once_held_is_never_enrolled_or_rotated_to_again(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a rotation "the old one signs nothing more": no principal gets it again, nor the
    key of a revoked one (exit 1, nothing written). An administrator's own jamsos that skips
    the check is caught by `audit verify` (exit 4)."""
    budi_old = public_key_text(key_for("budi").public_key)
    budi_new = new_key_file(_tmp_key_path())
    assert jamsos(history.url, "principals", "rotate", "budi", "--public-key",
                  public_key_text(budi_new.public_key)).exit_code == 0
    n = history.intruder.head()
    keu = public_key_text(history.keu.public_key)
    for args, words in (
        (("enrol", "dodi", "--office", "Disnaker", "--role", "operator", "--public-key",
          budi_old), "that key was budi's until it was rotated away"),
        (("enrol", "dodi", "--office", "BPKAD", "--role", "finance", "--public-key", keu),
         "that key is keu's already (revoked)"),
        (("rotate", "budi", "--public-key", budi_old),
         "that key was budi's until it was rotated away"),
    ):
        refused = jamsos(history.url, "principals", *args)
        assert refused.exit_code == 1, refused.output
        said = " ".join(refused.stderr.split())
        assert words in said and "nothing was written" in said, said
        assert history.intruder.head() == n
    # The root's key, in a jamsos that does not check: the enrolment is sealed, verify names it.
    monkeypatch.setattr("jamsos_ledger.domain.principals.Directory.key_problem",
                        lambda *_: None)
    ledger = _forger(history, key_for("operator"), "ana", admin=True)
    try:
        ledger.principals.enrol("dodi", "Disnaker", [OPERATOR], budi_old)
    finally:
        ledger.close()
    monkeypatch.undo()
    assert_unproven_from(history, n + 1, "that key was budi's until it was rotated away")


@pytest.mark.parametrize("write", ["one command", "an import"])
def test_a_an_appended_event_is_never_sealed_over_by_the_next_honest_write(
    history: History, tmp_path: Any, write: str
) -> None:
    """A seal signs the chain head: an honest write after a forged, unsealed tail would vouch
    for it, and `audit verify` would then find the history sealed. The write is refused, says
    where the unsealed events are, writes nothing; verify still names the forgery."""
    i = history.intruder
    n = i.head()
    paid = i.event(n - 1)
    i.append([EventRow(n + 1, paid.originator_id if i.postgres else uuid4().hex, 99,
                       paid.topic, paid.state, uuid_text=not i.postgres)])
    if i.postgres:  # he covers his tracks: the next position is past his row
        i.run("SELECT setval(pg_get_serial_sequence('{events}', '{pos}'), ?)", n + 1)
    if write == "one command":
        result = jamsos(history.url, "workers", "correct", WORKERS[0].nik, "--field", "decile",
                        "--value", "2", "--reason", "DTSEN 2026-Q2", actor="budi")
    else:
        rows = tmp_path / "more.csv"
        rows.write_text(
            "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source\n"
            "3275014101900077,Warga Baru,1990-01-01,P,01,Margahayu,ojol,2,Disnaker\n",
            encoding="utf-8",
        )
        result = jamsos(history.url, "workers", "import", str(rows), actor="budi")
    assert result.exit_code != 0, result.output
    assert f"positions {n + 1} to {n + 1} that no principal sealed" in result.stderr
    assert i.head() == n + 1  # nothing written
    assert_unproven_from(history, n + 1, "sealed by no principal")
