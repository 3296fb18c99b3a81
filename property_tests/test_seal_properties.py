"""Random histories written by random principals, and random forgeries of their seals.

Every genuine history verifies against its root; every forgery (a signature, a signer, a
position or a link changed, a seal dropped, moved or made with a key nobody enrolled, the
signed chain head changed) leaves a position no valid seal covers. In memory: the stores' own
tests forge real rows (tests/test_seal_attacks.py); this explores many histories.
"""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.application.seal_check import SealReport, check_seals, seal_inputs
from jamsos_ledger.domain.errors import LedgerError
from jamsos_ledger.domain.model import Registration
from jamsos_ledger.domain.principals import ADMINISTRATOR, FINANCE, OPERATOR, public_key_text
from jamsos_ledger.stores.keys import SigningKey
from jamsos_ledger.stores.seals import Seal, Sealer

KEYS = [SigningKey(Ed25519PrivateKey.generate(), Path(f"key-{i}")) for i in range(6)]
MALLORY = KEYS[-1]  # never enrolled
NAMES = ["ana", "budi", "citra", "dedi", "eka"]

OPS = st.lists(
    st.tuples(
        st.sampled_from(["register", "amend", "enrol", "rotate", "revoke"]),
        st.integers(0, len(NAMES) - 1),  # who acts
        st.integers(0, len(NAMES) - 1),  # whom it concerns
    ),
    min_size=1,
    max_size=12,
)


def _act_as(ledger: Ledger, key: SigningKey) -> None:
    ledger.signing.source = KeySource(key=key)
    ledger.signing.sealer = None
    ledger.signing.principal = None
    ledger.signing.install()


def _history(ops: list[tuple[str, int, int]], url: str = "memory://") -> tuple[Ledger, str]:
    ledger = Ledger(url, key=KeySource(key=KEYS[0]))
    root = ledger.signing.establish_root("ana", "Diskominfo")
    ledger.open_program(year=2026, allocation=2_000_000_000, quota=10_000, code="p",
                        four_eyes=False)
    keys = {name: KEYS[i] for i, name in enumerate(NAMES)}
    spare = [KEYS[4]]
    nik = 3275051708850001
    for op, who, whom in ops:
        _act_as(ledger, keys[NAMES[who]])
        target = NAMES[whom]
        try:
            if op == "register":
                nik += 1
                ledger.register([Registration(str(nik), "Budi", date(1985, 8, 17), "L", "05",
                                              "-", "ojol", 3, "Disnaker")])
            elif op == "amend":
                ledger.amend_program("p", quota=9_000 + nik % 1000, reason="r")
                nik += 1
            elif op == "enrol":
                roles = [ADMINISTRATOR] if whom % 2 else [OPERATOR, FINANCE]
                ledger.principals.enrol(target, "Dinas", roles,
                                        public_key_text(keys[target].public_key))
            elif op == "rotate" and spare:
                new = spare.pop()
                ledger.principals.rotate(target, public_key_text(new.public_key))
                keys[target] = new
            elif op == "revoke":
                ledger.principals.revoke(target, "left")
        except LedgerError:
            pass  # refused: not an administrator, not enrolled, revoked...
    return ledger, root.fingerprint


def _check(ledger: Ledger, seals: list[Seal], hashes: dict[int, bytes], root: str) -> SealReport:
    head = int(ledger.recorder.max_notification_id() or 0)
    _, _, changes = seal_inputs(ledger.recorder, ledger.mapper, head)
    return check_seals(seals, hashes, changes, head, root)


FORGERIES = st.sampled_from(
    ["signature", "signer", "drop", "position", "previous", "resign", "head", "note", "swap"]
)


@settings(max_examples=25, deadline=None)
@given(OPS, FORGERIES, st.data())
def test_a_genuine_history_verifies_and_every_forgery_is_found(
    ops: list[tuple[str, int, int]], forgery: str, data: st.DataObject
) -> None:
    ledger, root = _history(ops)
    try:
        head = int(ledger.recorder.max_notification_id() or 0)
        seals, hashes, _ = seal_inputs(ledger.recorder, ledger.mapper, head)
        genuine = _check(ledger, seals, hashes, root)
        assert genuine.finding is None, genuine.finding
        assert genuine.covered == head
        forged_seals, forged_hashes = _forged(seals, hashes, forgery, data)
        report = _check(ledger, forged_seals, forged_hashes, root)
        assert report.finding is not None, (forgery, forged_seals)
    finally:
        ledger.close()


def _forged(
    seals: list[Seal], hashes: dict[int, bytes], forgery: str, data: st.DataObject
) -> tuple[list[Seal], dict[int, bytes]]:
    seals, hashes = list(seals), dict(hashes)
    # Never the root alone for forgeries of a write seal: at least one write follows it.
    k = data.draw(st.integers(1, len(seals) - 1), label="seal")
    s = seals[k]
    if forgery == "signature":
        flipped = bytes([s.signature[0] ^ 1]) + s.signature[1:]
        seals[k] = dataclasses.replace(s, signature=flipped)
    elif forgery == "signer":
        others = sorted({x.principal for x in seals} - {s.principal}) or ["mallory"]
        seals[k] = dataclasses.replace(s, principal=data.draw(st.sampled_from(others)))
    elif forgery == "drop":
        del seals[k]
    elif forgery == "position":
        moved = s.position + 1
        hashes[moved] = hashes.get(moved, b"\x01" * 32)
        seals[k] = dataclasses.replace(s, position=moved)
        seals = [x for i, x in enumerate(seals) if i == k or x.position != moved]
        seals.sort(key=lambda x: x.position)
    elif forgery == "previous":
        seals[k] = dataclasses.replace(s, previous=seals[k].signature)
    elif forgery == "resign":
        name = data.draw(st.sampled_from([*NAMES, "mallory"]))
        previous = seals[k - 1]
        seals[k] = Sealer(MALLORY, name).seal(s.position, hashes[s.position], previous)
    elif forgery == "head":
        hashes[s.position] = bytes(32 - 1) + b"\x01"
    elif forgery == "note":
        seals[k] = dataclasses.replace(s, note=(s.note or "") + "x")
    elif forgery == "swap" and len(seals) > 2:
        j = 1 if k != 1 else 2
        a, b = seals[k], seals[j]
        seals[k] = dataclasses.replace(b, position=a.position)
        seals[j] = dataclasses.replace(a, position=b.position)
    else:
        del seals[k]
    return seals, hashes


STORE_FORGERIES = st.sampled_from(
    ["append", "alter and rechain", "delete seal", "seal field", "copy seal", "delete tail"]
)


@settings(max_examples=10, deadline=None)
@given(OPS, STORE_FORGERIES, st.integers(0, 10**6))
def test_forged_rows_of_a_sqlite_store_are_found(
    ops: list[tuple[str, int, int]], forgery: str, where: int
) -> None:
    """The same random histories on a real SQLite file, forged with SQL by someone holding no
    enrolled key: `verify_sealed` against the root finds every forgery."""
    import tempfile

    folder = tempfile.mkdtemp(prefix="jamsos-seal-prop-")
    try:
        _forge_and_verify(ops, forgery, where, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _forge_and_verify(
    ops: list[tuple[str, int, int]], forgery: str, where: int, folder: str
) -> None:
    import sqlite3

    from jamsos_ledger.application.seal_check import verify_sealed
    from jamsos_ledger.stores.integrity import GENESIS, EventRow, link

    url = f"sqlite:///{folder}/ledger.db"
    ledger, root = _history(ops, url)
    ledger.close()
    conn = sqlite3.connect(f"{folder}/ledger.db")
    try:
        head = conn.execute("SELECT max(rowid) FROM stored_events").fetchone()[0]
        k = 1 + where % head
        seals = [p for (p,) in conn.execute("SELECT position FROM jamsos_seals ORDER BY 1")]
        if forgery == "append":
            oid, version, topic, state = conn.execute(
                "SELECT originator_id, originator_version, topic, state FROM stored_events "
                "WHERE rowid = ?", (k,)).fetchone()
            (last,) = conn.execute("SELECT hash FROM jamsos_event_chain WHERE position = ?",
                                   (head,)).fetchone()
            row = EventRow(head + 1, oid, version + 10_000, topic, state, uuid_text=True)
            conn.execute("INSERT INTO stored_events (rowid, originator_id, originator_version, "
                         "topic, state) VALUES (?, ?, ?, ?, ?)",
                         (head + 1, oid, version + 10_000, topic, state))
            conn.execute("INSERT INTO jamsos_event_chain VALUES (?, ?)",
                         (head + 1, link(bytes(last), row.encoded())))
        elif forgery == "alter and rechain":
            (state,) = conn.execute("SELECT state FROM stored_events WHERE rowid = ?",
                                    (k,)).fetchone()
            changed = bytearray(state)
            changed[where % len(changed)] ^= 1 + where % 255
            conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                         (bytes(changed), k))
            conn.execute("DELETE FROM jamsos_event_chain")
            previous = GENESIS
            for r in conn.execute("SELECT rowid, originator_id, originator_version, topic, "
                                  "state FROM stored_events ORDER BY rowid").fetchall():
                previous = link(previous, EventRow(*r, uuid_text=True).encoded())
                conn.execute("INSERT INTO jamsos_event_chain VALUES (?, ?)", (r[0], previous))
        elif forgery == "delete seal":
            conn.execute("DELETE FROM jamsos_seals WHERE position = ?",
                         (seals[1 + where % (len(seals) - 1)],))
        elif forgery == "seal field":
            column = ("principal", "fingerprint", "note", "signature")[where % 4]
            value: object = b"\x00" * 64 if column == "signature" else "mallory"
            conn.execute(f"UPDATE jamsos_seals SET {column} = ? WHERE position = ?",
                         (value, seals[1 + where % (len(seals) - 1)]))
        elif forgery == "copy seal":
            source = seals[1 + where % (len(seals) - 1)]
            if source == seals[-1]:  # copied over the last: the head is then covered twice
                conn.execute("DELETE FROM jamsos_seals WHERE position = ?", (source,))
                source = seals[-2] if len(seals) > 2 else source
            conn.execute("INSERT OR REPLACE INTO jamsos_seals SELECT ?, kind, principal, "
                         "fingerprint, on_behalf_of, note, body, previous, signature FROM "
                         "jamsos_seals WHERE position = ?", (head, source))
        elif forgery == "delete tail":
            cut = seals[-2]
            if cut == 0:
                return  # nothing but the root and one write: a cut history is a genuine one
            conn.execute("DELETE FROM stored_events WHERE rowid > ?", (cut,))
            conn.execute("DELETE FROM jamsos_event_chain WHERE position > ?", (cut,))
        conn.commit()
    finally:
        conn.close()
    reopened = Ledger(url, key=KeySource(key=KEYS[0]))
    try:
        chain, report = verify_sealed(reopened.recorder, reopened.mapper, None, root)
        assert chain.discrepancy is not None or report.finding is not None, (forgery, report)
    finally:
        reopened.close()
