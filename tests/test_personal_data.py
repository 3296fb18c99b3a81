"""Personal data: encrypted at rest with a key, never shown without it; NIKs masked everywhere
(issue 5, "Personal data").

With JAMSOS_CIPHER_KEY set, the library encrypts every stored event's state (AES-GCM), so NIK,
name and birth date are never in clear in the store; the projections hold no personal data.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from eventsourcing.cipher import AESCipher
from psycopg import sql

from jamsos_ledger.cli import main

HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"
# Siti (a woman: day 2 + 40) and three others, as Disnaker would send them.
WORKERS = [
    ("3275014203850001", "Siti Rahmawati", "1985-03-02", "P", "01", "2"),
    ("3275051708900042", "Budi Santoso", "1990-08-17", "L", "05", "1"),
    ("3275092512880007", "Agus Salim", "1988-12-25", "L", "09", "3"),
    ("3275115506920013", "Dewi Lestari", "1992-06-15", "P", "11", "4"),
]


def key() -> str:
    return AESCipher.create_key(num_bytes=32)


def registrations(tmp_path: Path) -> Path:
    path = tmp_path / "registrasi.csv"
    rows = [f"{n},{name},{born},{sex},{kec},Kelurahan,ojol,{dec},Disnaker"
            for n, name, born, sex, kec, dec in WORKERS]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def jamsos(url: str, cipher_key: str | None, *args: str) -> Result:
    env = {"JAMSOS_CIPHER_KEY": cipher_key or ""}
    return CliRunner(env=env).invoke(main, ["--store", url, *args])


def ok(url: str, cipher_key: str | None, *args: str) -> Result:
    result = jamsos(url, cipher_key, *args)
    assert result.exit_code == 0, (args, result.output)
    assert all(n not in result.output for n, *_ in WORKERS), result.output  # NIKs masked
    return result


def refused(result: Result, *words: str) -> None:
    assert result.exit_code == 3, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for word in words:
        assert word in result.stderr, result.stderr
    assert "Traceback" not in result.output


def story(url: str, cipher_key: str | None, tmp_path: Path) -> dict[str, object]:
    """The seed's story in small: open, import, rank, enrol, pay, end, claim, report."""
    ok(url, cipher_key, "program", "open", "--one-key", "--year", "2026", "--allocation",
       "2000000000", "--quota", "3")
    ok(url, cipher_key, "workers", "import", str(registrations(tmp_path)))
    ok(url, cipher_key, "workers", "prioritize")
    ok(url, cipher_key, "enroll", "--top", "3", "--start", "2026-01", "--decree", "KEP/1/2026")
    ok(url, cipher_key, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/01")
    ok(url, cipher_key, "end", "--nik", WORKERS[1][0], "--month", "2026-01", "--reason", "died")
    ok(url, cipher_key, "claims", "file", "--nik", WORKERS[1][0], "--scheme", "JKM", "--date",
       "2026-01-20", "--reference", "JKM-1")
    shown = ok(url, cipher_key, "workers", "show", WORKERS[0][0], "--format", "json")
    worker = json.loads(shown.stdout)
    assert worker["nik"] == "327501********01" and worker["name"] == "S. R."
    shown = jamsos(url, cipher_key, "workers", "show", WORKERS[0][0], "--format", "json",
                   "--unmask", "--reason", "verifying a complaint")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["name"] == "Siti Rahmawati"
    ok(url, cipher_key, "projections", "rebuild")
    budget = json.loads(ok(url, cipher_key, "report", "budget", "--format", "json").stdout)
    quota = json.loads(ok(url, cipher_key, "report", "quota", "--format", "json").stdout)
    claims = ok(url, cipher_key, "report", "claims", "--format", "json").stdout
    ok(url, cipher_key, "report", "quota", "--by", "kecamatan")
    assert quota["enrolled"] == 2 and "JKM-1" in claims
    return {"budget": budget, "quota": quota}


def stored(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the store, as stored."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///"):]) as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            return {t: conn.execute(f'SELECT * FROM "{t}"').fetchall() for t in tables}
    schema = url.split("schema=")[1]
    with psycopg.connect(url.split("?")[0]) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,))]
        return {t: conn.execute(sql.SQL("SELECT * FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(t))).fetchall() for t in tables}


def in_clear(rows: dict[str, list[tuple[object, ...]]], text: str) -> list[str]:
    """The tables where `text` appears in clear (as text, or as bytes inside a blob)."""
    found = []
    for table, values in rows.items():
        for row in values:
            for value in row:
                raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value)
                needle = text.encode() if isinstance(raw, bytes) else text
                if needle in raw:  # type: ignore[operator]
                    found.append(table)
    return found


def test_with_a_key_the_ledger_works_and_stores_no_personal_data_in_clear(
    store_url: str, tmp_path: Path
) -> None:
    secret = key()
    figures = story(store_url, secret, tmp_path)
    rows = stored(store_url)
    for nik, name, born, *_ in WORKERS:
        for text in (nik, name, born, name.split()[0]):
            assert in_clear(rows, text) == [], (text, in_clear(rows, text))
    # Without the key (or with another) the ledger refuses to open at all, rather than show
    # ciphertext or half a ledger.
    refused(jamsos(store_url, None, "workers", "show", WORKERS[0][0]),
            "personal data is encrypted", "set JAMSOS_CIPHER_KEY")
    refused(jamsos(store_url, None, "report", "budget"), "set JAMSOS_CIPHER_KEY")
    refused(jamsos(store_url, key(), "report", "budget"), "not the key")
    malformed = jamsos(store_url, "not-a-key", "report", "budget")  # a malformed setting
    assert malformed.exit_code == 2, malformed.output
    assert "JAMSOS_CIPHER_KEY is not a key" in malformed.stderr
    assert "AESCipher.create_key" in malformed.stderr
    again = json.loads(ok(store_url, secret, "report", "budget", "--format", "json").stdout)
    assert again == figures["budget"]


def test_without_a_key_nothing_is_encrypted_and_a_key_is_then_refused(
    sqlite_url: str, tmp_path: Path
) -> None:
    story(sqlite_url, None, tmp_path)
    assert "stored_events" in in_clear(stored(sqlite_url), "Siti Rahmawati")
    refused(jamsos(sqlite_url, key(), "report", "budget"), "written without encryption",
            "unset JAMSOS_CIPHER_KEY")


@pytest.mark.parametrize("bad", ["", "   "])
def test_an_empty_key_means_no_key(sqlite_url: str, bad: str) -> None:
    ok(sqlite_url, bad, "program", "open", "--year", "2026", "--allocation", "2000000",
       "--quota", "3")
    ok(sqlite_url, None, "program", "show")


def test_nik_never_appears_whole_in_messages(sqlite_url: str, tmp_path: Path) -> None:
    ok(sqlite_url, None, "program", "open", "--one-key", "--year", "2026", "--allocation",
       "2000000000", "--quota", "3")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\n3275014203850001,Siti,1985-03-03,P,01,K,ojol,2,Dinsos\n"
                   "327501420385000X,Budi,1985-03-02,L,01,K,ojol,2,Dinsos\n"
                   "32750142038500011,Agus,1985-03-02,L,01,K,ojol,2,Dinsos\n")
    refusal = jamsos(sqlite_url, None, "workers", "import", str(bad))
    assert refusal.exit_code == 2
    assert "line 2, nik" in refusal.stderr and "line 3, nik" in refusal.stderr
    rejects = tmp_path / "rejects.csv"
    partial = jamsos(sqlite_url, None, "workers", "import", str(bad), "--rejects", str(rejects))
    assert partial.exit_code == 0
    for text in ("3275014203850001", "327501420385000X", "32750142038500011"):
        assert text not in refusal.output and text not in partial.output
    for args in (["workers", "show", "3275014203850001"],
                 ["enroll", "--nik", "3275014203850001", "--start", "2026-01"],
                 ["end", "--nik", "3275014203850001", "--month", "2026-02", "--reason", "moved"],
                 ["claims", "file", "--nik", "3275014203850001", "--scheme", "JKK", "--date",
                  "2026-01-05", "--reference", "R-1"]):
        result = jamsos(sqlite_url, None, *args)
        assert result.exit_code == 1, result.output
        assert "3275014203850001" not in result.output and "327501********01" in result.output
