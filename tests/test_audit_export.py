"""`audit export` writes one file that `audit check --root` verifies without the store; any
change to the file, or another root, is found (exit 4). Exported from SQLite and PostgreSQL.

The file holds every worker's personal data as stored (in clear unless the store is
encrypted): only an auditor makes it, with a reason, and the export is recorded as a viewing
before the file is written; without a key, the role or a reason nothing is written at all."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from role_helpers import acting

from cli_helpers import contents, jamsos, ok, with_key
from jamsos_ledger.domain.principals import AUDITOR, OPERATOR


def _exported(url: str, tmp_path: Path) -> tuple[Path, str]:
    opened = ok(url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000",
                "--quota", "10")
    root = opened.stdout.split("key fingerprint ")[1].split()[0]
    ok(url, "program", "amend", "--quota", "9", "--reason", "APBD-P")
    ok(url, "program", "amend", "--allocation", "2100000", "--reason", "APBD-P", actor="keu")
    proof = tmp_path / "proof.json"
    said = ok(url, "audit", "export", str(proof), "--reason", "BPK audit 2026")
    assert f"--root {root}" in said.stdout
    return proof, root


def _check(proof: Path, root: str) -> Result:
    # No store: the check is given none (a store that does not exist is never opened).
    return jamsos(f"sqlite:///{proof.parent}/no-such-ledger.db", "audit", "check", str(proof),
                  "--root", root)


def test_an_export_checks_offline_and_every_change_is_found(
    store_url: str, tmp_path: Path
) -> None:
    proof, root = _exported(store_url, tmp_path)
    good = _check(proof, root)
    assert good.exit_code == 0, good.output
    assert "proven" in good.stdout and "allocation" not in good.stderr
    assert not (tmp_path / "no-such-ledger.db").exists()
    data = json.loads(proof.read_text())

    def tampered(change: Callable[[dict[str, Any]], None]) -> int:
        copy = json.loads(json.dumps(data))
        change(copy)
        path = tmp_path / "tampered.json"
        path.write_text(json.dumps(copy))
        result = _check(path, root)
        assert result.exit_code in (2, 4), result.output
        return int(result.exit_code)

    def flip_state(d: dict[str, Any]) -> None:
        state = bytearray(base64.b64decode(d["events"][-1][4]))
        state[len(state) // 2] ^= 1
        d["events"][-1][4] = base64.b64encode(bytes(state)).decode()

    def more_money(d: dict[str, Any]) -> None:
        d["figures"][0]["available"] += 1

    def drop_last(d: dict[str, Any]) -> None:
        d["events"].pop()

    def drop_seal(d: dict[str, Any]) -> None:
        d["seals"].pop(1)

    for change in (flip_state, more_money, drop_last, drop_seal):
        assert tampered(change) == 4, change.__name__
    other = "0" * 64
    assert _check(proof, other).exit_code == 4
    notes = tmp_path / "notes.json"
    notes.write_text("{}")
    assert _check(notes, root).exit_code == 2


def test_an_encrypted_ledger_checks_with_its_cipher_key(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eventsourcing.cipher import AESCipher

    monkeypatch.setenv("JAMSOS_CIPHER_KEY", AESCipher.create_key(num_bytes=32))
    proof, root = _exported(sqlite_url, tmp_path)
    assert _check(proof, root).exit_code == 0
    monkeypatch.delenv("JAMSOS_CIPHER_KEY")
    without = _check(proof, root)
    assert without.exit_code == 4 and "JAMSOS_CIPHER_KEY" in without.stderr


def test_an_export_holds_personal_data_so_only_an_auditor_makes_it_for_a_reason(
    store_url: str, tmp_path: Path
) -> None:
    ok(store_url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000",
       "--quota", "10")
    rows = tmp_path / "one.csv"
    rows.write_text("nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source\n"
                    "3275014203850001,Siti Aminah,1985-03-02,P,01,Margahayu,ojol,1,Disnaker\n")
    ok(store_url, "workers", "import", str(rows))
    acting(store_url, "ops", {OPERATOR}).close()
    acting(store_url, "bpk", {AUDITOR}).close()
    proof = tmp_path / "proof.json"
    before = contents(store_url)
    stranger = str(tmp_path / "missing.key")
    for result, code, said in (
        (jamsos(store_url, "audit", "export", str(proof), "--reason", "x", actor="ops"), 7,
         "needs the role auditor; ops holds operator"),
        (with_key(store_url, stranger, "audit", "export", str(proof), "--reason", "x"), 6,
         "no key at"),
        (jamsos(store_url, "audit", "export", str(proof), actor="bpk"), 2, "--reason"),
        (jamsos(store_url, "audit", "export", str(proof), "--reason", "  ", actor="bpk"), 2,
         "--reason"),
    ):
        assert result.exit_code == code, result.output
        assert said in result.stderr and "Traceback" not in result.output
        assert not proof.exists() and list(tmp_path.glob("*proof*")) == []
        assert contents(store_url) == before
    made = jamsos(store_url, "audit", "export", str(proof), "--reason", "LHP BPK 2026",
                  actor="bpk")
    assert made.exit_code == 0, made.output
    assert "bpk exported the whole trail" in made.stderr and "proof.json" in made.stderr
    # Who made it, when, why and which file: recorded, and the file's own last event.
    viewings = json.loads(ok(store_url, "audit", "viewings", "--format", "json").stdout)
    assert [(v["viewer"], v["what"], v["whose"], v["reason"]) for v in viewings] == [
        ("bpk", "audit export to proof.json", "everyone", "LHP BPK 2026")]
    data = json.loads(proof.read_text())
    assert data["events"][-1][3] == "jamsos_ledger.viewings:Viewing.Viewed"
    assert data["events"][-1][0] == data["position"]
    # Not encrypted: the name is in the file, as the help says.
    assert any(b"Siti Aminah" in base64.b64decode(e[4]) for e in data["events"])
    root = ok(store_url, "audit", "verify", "--format", "json")
    fingerprint = json.loads(root.stdout)["root_fingerprint"]
    assert _check(proof, fingerprint).exit_code == 0
    assert json.loads(ok(store_url, "audit", "verify", "--format", "json").stdout)["intact"]


def test_a_read_only_copy_exports_nothing(sqlite_url: str, tmp_path: Path) -> None:
    """An auditor's read-only copy cannot record the export: so no file is made (exit 3)."""
    _exported(sqlite_url, tmp_path)
    path = sqlite_url[len("sqlite:///"):]
    before = contents(sqlite_url)
    other = tmp_path / "copy.json"
    result = jamsos(f"sqlite:///{path}?mode=ro", "audit", "export", str(other), "--reason",
                    "LHP BPK")
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert not other.exists() and list(tmp_path.glob("*copy*")) == []
    assert contents(sqlite_url) == before


def test_an_export_is_readable_by_its_owner_only_like_a_key_file(
    store_url: str, tmp_path: Path
) -> None:
    """Every NIK and name in one file: written 0600 whatever the umask, and a file it
    replaces (--overwrite) of mode 0644 is 0600 afterwards; the help says so."""
    umask = os.umask(0o022)
    try:
        proof, _ = _exported(store_url, tmp_path)
        assert stat.S_IMODE(proof.stat().st_mode) == 0o600
        proof.chmod(0o644)
        ok(store_url, "audit", "export", str(proof), "--reason", "again", "--overwrite")
        assert stat.S_IMODE(proof.stat().st_mode) == 0o600
    finally:
        os.umask(umask)
    shown = " ".join(ok(store_url, "audit", "export", "--help").stdout.split())
    assert "mode 0600" in shown, shown
