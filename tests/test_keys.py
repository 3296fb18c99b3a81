"""Key files: owner-only, never overwritten, optionally passphrase-protected; a command without
a usable key, or with a key no principal holds, is refused (exit 6) and writes nothing."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from cli_helpers import ADMIN, contents, ok, with_key

OPEN = ("program", "open", "--year", "2026", "--allocation", "2000000", "--quota", "10")


def test_a_key_is_written_for_its_owner_only_and_never_overwritten(
    sqlite_url: str, tmp_path: Path
) -> None:
    key = tmp_path / "keys" / "ana.key"
    made = with_key(sqlite_url, str(key), "key", "new")
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert [p.name for p in key.parent.iterdir()] == ["ana.key"]  # no temporary left
    public = made.stdout.split("Public key:")[1].split()[0]
    shown = with_key(sqlite_url, str(key), "key", "show")
    assert public in shown.stdout
    again = with_key(sqlite_url, str(key), "key", "new")
    assert again.exit_code == 6 and "exists already" in again.stderr
    assert public in with_key(sqlite_url, str(key), "key", "show").stdout


def test_a_passphrase_protected_key(sqlite_url: str, tmp_path: Path) -> None:
    key = str(tmp_path / "ana.key")
    secret = {"JAMSOS_KEY_PASSPHRASE": "kopi-tubruk"}
    assert with_key(sqlite_url, key, "key", "new", "--passphrase", env=secret).exit_code == 0
    assert b"ENCRYPTED" in Path(key).read_bytes()
    without = with_key(sqlite_url, key, *OPEN, env={"JAMSOS_KEY_PASSPHRASE": ""})
    assert without.exit_code == 6 and "protected by a passphrase" in without.stderr
    wrong = with_key(sqlite_url, key, *OPEN, env={"JAMSOS_KEY_PASSPHRASE": "teh-manis"})
    assert wrong.exit_code == 6 and "wrong passphrase" in wrong.stderr
    assert not Path(sqlite_url[len("sqlite:///"):]).exists()  # no ledger was created
    opened = with_key(sqlite_url, key, *OPEN, env=secret)
    assert opened.exit_code == 0, opened.output


def test_writes_without_a_principals_key_are_refused_and_write_nothing(
    store_url: str, tmp_path: Path
) -> None:
    ok(store_url, *OPEN)
    before = contents(store_url)
    stranger = str(tmp_path / "stranger.key")
    assert with_key(store_url, stranger, "key", "new").exit_code == 0
    for key, said in ((str(tmp_path / "missing.key"), "no key at"),
                      (stranger, "is no principal's in this ledger")):
        refused = with_key(store_url, key, "program", "amend", "--quota", "9", "--reason", "x")
        assert refused.exit_code == 6, refused.output
        assert said in refused.stderr
        # Reading needs no key.
        assert with_key(store_url, key, "program", "show").exit_code == 0
    assert contents(store_url) == before


def test_an_import_records_the_principal_whose_key_seals_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    ok(sqlite_url, *OPEN)  # the administrator, named after the default actor
    rows = tmp_path / "one.csv"
    rows.write_text("nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source\n"
                    "3275014203850001,Siti,1985-03-02,P,01,Margahayu,ojol,1,Disnaker\n")
    # No --actor: the registrations record the key's principal, not the OS user.
    imported = with_key(sqlite_url, os.environ["JAMSOS_KEY"], "workers", "import", str(rows))
    assert imported.exit_code == 0, imported.output
    trail = with_key(sqlite_url, os.environ["JAMSOS_KEY"], "audit", "log", "--format", "jsonl")
    registered = [json.loads(line) for line in trail.stdout.splitlines()
                  if '"Worker.Registered"' in line]
    assert [(e["actor"], e["sealed_by"]) for e in registered] == [(ADMIN, ADMIN)]


def test_a_passphrase_asked_for_where_nobody_can_type_it(sqlite_url: str, tmp_path: Path) -> None:
    """`key new --passphrase` with no terminal and no JAMSOS_KEY_PASSPHRASE: a usage error that
    says how to give one (exit 2), never a prompt nobody answers, and no key file."""
    key = tmp_path / "ana.key"
    made = with_key(sqlite_url, str(key), "key", "new", "--passphrase",
                    env={"JAMSOS_KEY_PASSPHRASE": ""})
    assert made.exit_code == 2, made.output
    assert "JAMSOS_KEY_PASSPHRASE" in made.stderr and "no key was written" in made.stderr
    assert not key.exists()
