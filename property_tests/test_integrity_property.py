"""Any single alteration of a stored row is found, at its position, whatever the history.

Hypothesis writes a random small history with the ledger's own commands (a program opened,
workers registered in one or more imports, some enrolled, a month paid) into a SQLite file,
then changes one thing with plain SQL: one byte of a state, a topic, a version, an originator
id, a chain hash; deletes an event or a chain row; appends a forged event; swaps two events;
or cuts off the last events (found with a digest taken before). `verify` must name the
position and the kind every time.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import date
from uuid import uuid4

from hypothesis import given, note
from hypothesis import strategies as st

from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.model import Registration
from jamsos_ledger.domain.months import Month
from jamsos_ledger.stores.integrity import CHAIN_TABLE, Digest, verify


def _person(i: int) -> Registration:
    sex = "P" if i % 2 else "L"
    born = date(1966 + i, i % 12 + 1, (i * 7) % 28 + 1)
    day = born.day + (40 if sex == "P" else 0)
    nik = f"3275{i % 12 + 1:02d}{day:02d}{born.month:02d}{born.year % 100:02d}{i + 1:04d}"
    return Registration(nik, f"Warga {i}", born, sex, f"{i % 12 + 1:02d}", "-", "ojol",
                        i % 5 + 1, "Disnaker")


PEOPLE = [_person(i) for i in range(12)]


@dataclass(frozen=True)
class History:
    """What the ledger was asked to do.

    Attributes:
        imports: how many workers each import registered, in order.
        enrolled: how many of them were enrolled from January.
        paid: whether January was paid.
    """

    imports: tuple[int, ...]
    enrolled: int
    paid: bool


@st.composite
def histories(draw: st.DrawFn) -> History:
    imports = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    enrolled = draw(st.integers(0, min(3, sum(imports))))
    return History(imports, enrolled, enrolled > 0 and draw(st.booleans()))


ALTERATIONS = [
    "state byte", "topic", "version", "originator id", "chain hash",
    "delete event", "delete chain row", "append forged event", "swap", "truncate",
]


def write(ledger: Ledger, history: History) -> None:
    ledger.open_program(year=2026, allocation=2_000_000_000, quota=10_000, code="bekasi",
                        four_eyes=False)
    registered = 0
    for size in history.imports:
        ledger.register(PEOPLE[registered : registered + size])
        registered += size
    if history.enrolled:
        niks = [p.nik for p in PEOPLE[: history.enrolled]]
        ledger.enrol("bekasi", start=Month(2026, 1), niks=niks, decree="KEP-1")
    if history.paid:
        ledger.pay_premiums(month=Month(2026, 1), sp2d="SP2D-001", code="bekasi")


@given(
    history=histories(),
    alteration=st.sampled_from(ALTERATIONS),
    where=st.integers(0, 10**6),
    other=st.integers(0, 10**6),
    mask=st.integers(1, 255),
)
def test_any_single_alteration_is_found_where_it_was_made(
    history: History, alteration: str, where: int, other: int, mask: int
) -> None:
    folder = tempfile.mkdtemp(prefix="jamsos-integrity-")
    path = f"{folder}/ledger.db"
    ledger = Ledger(f"sqlite:///{path}", actor="auditor")
    try:
        write(ledger, history)
        before = verify(ledger.recorder)
        assert before.intact, before
        n = before.head_position
        k = 1 + where % n
        note(f"{n} events; {alteration} at {k}")
        expected, digest = _alter(path, alteration, n, k, other, mask, before.head_digest)
        report = verify(ledger.recorder, digest)
        assert report.discrepancy is not None, report
        assert (report.discrepancy.position, report.discrepancy.kind) == expected, report
    finally:
        ledger.close()
        shutil.rmtree(folder, ignore_errors=True)


def _alter(
    path: str, alteration: str, n: int, k: int, other: int, mask: int, head: Digest
) -> tuple[tuple[int, str], Digest | None]:
    """Make one alteration with SQL; what verify must report, and the digest to give it."""
    conn = sqlite3.connect(path)
    try:
        row = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events "
            "WHERE rowid = ?", (k,)
        ).fetchone()
        expected: tuple[int, str] = (k, "altered")
        digest = None
        if alteration == "state byte":
            state = bytearray(row[3])
            state[other % len(state)] ^= mask
            conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (bytes(state), k))
        elif alteration == "topic":
            conn.execute("UPDATE stored_events SET topic = topic || ? WHERE rowid = ?",
                         (chr(0x20 + mask % 90), k))
        elif alteration == "version":
            conn.execute("UPDATE stored_events SET originator_version = ? WHERE rowid = ?",
                         (row[1] + 1000 + mask, k))
        elif alteration == "originator id":
            conn.execute("UPDATE stored_events SET originator_id = ? WHERE rowid = ?",
                         (uuid4().hex, k))
        elif alteration == "chain hash":
            conn.execute(f"UPDATE {CHAIN_TABLE} SET hash = ? WHERE position = ?",
                         (bytes([mask]) * 32, k))
        elif alteration == "delete event":
            conn.execute("DELETE FROM stored_events WHERE rowid = ?", (k,))
            expected = (k, "removed")
        elif alteration == "delete chain row":
            conn.execute(f"DELETE FROM {CHAIN_TABLE} WHERE position = ?", (k,))
            # Only a following link can show the event itself is genuine.
            expected = (k, "removed" if k < n else "inserted")
        elif alteration == "append forged event":
            conn.execute("INSERT INTO stored_events (rowid, originator_id, originator_version, "
                         "topic, state) VALUES (?, ?, 1, ?, ?)",
                         (n + 1, uuid4().hex, row[2], row[3]))
            expected = (n + 1, "inserted")
        elif alteration == "swap":
            j = k + 1 + other % (n - k) if k < n else None
            if j is None:  # nothing after the last event to swap with: swap it with the first
                j, k = k, 1
                row = conn.execute("SELECT originator_id, originator_version, topic, state "
                                   "FROM stored_events WHERE rowid = 1").fetchone()
            if j == k:
                # A one-event history: nothing to swap; alter it instead.
                conn.execute("UPDATE stored_events SET topic = topic || 'x' WHERE rowid = ?",
                             (k,))
            else:
                other_row = conn.execute(
                    "SELECT originator_id, originator_version, topic, state FROM stored_events "
                    "WHERE rowid = ?", (j,)).fetchone()
                conn.execute("UPDATE stored_events SET originator_id = 'x' WHERE rowid = ?", (k,))
                for target, source in ((j, row), (k, other_row)):
                    conn.execute("UPDATE stored_events SET originator_id = ?, "
                                 "originator_version = ?, topic = ?, state = ? WHERE rowid = ?",
                                 (*source, target))
                expected = (k, "reordered")
        elif alteration == "truncate":
            conn.execute("DELETE FROM stored_events WHERE rowid >= ?", (k,))
            conn.execute(f"DELETE FROM {CHAIN_TABLE} WHERE position >= ?", (k,))
            expected, digest = (k, "truncated"), head
        conn.commit()
        return expected, digest
    finally:
        conn.close()
