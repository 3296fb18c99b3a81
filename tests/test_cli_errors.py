"""Exit codes (README): 1 refused by a rule, 2 malformed, 3 no store; never a traceback.

And the global options: where the ledger lives, who acts, which program; `--help` everywhere
without touching a store.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli_helpers import enrolled
from jamsos_ledger.application import Ledger
from jamsos_ledger.cli import main

COMMANDS = [
    ("program", "open"), ("program", "amend"), ("program", "show"), ("program", "capacity"),
    ("workers", "import"), ("workers", "prioritize"), ("workers", "show"),
    ("enroll",), ("end",),
    ("premiums", "pay"), ("premiums", "due"),
    ("claims", "file"),
    ("report", "budget"), ("report", "quota"), ("report", "claims"),
    ("projections", "rebuild"), ("projections", "status"),
]


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)


def jamsos(url: str, *args: str) -> Result:
    return invoke("--store", url, *args)


def opened(url: str, *extra: str) -> str:
    result = jamsos(url, "program", "open", "--one-key", "--year", "2026", "--allocation",
                    "2000000", "--quota", "10", *extra)
    assert result.exit_code == 0, result.output
    return url


def events(url: str) -> int:
    ledger = Ledger(url)
    try:
        return int(ledger.recorder.max_notification_id() or 0)
    finally:
        ledger.close()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_that_touches_no_store(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    store = tmp_path / "absent" / "ledger.db"
    result = invoke("--store", f"sqlite:///{store}", *command, "--help")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: main {' '.join(command)} ")
    assert not store.parent.exists()


def test_the_options_of_cli_md_are_spelled_as_promised() -> None:
    spelled = {
        ("program", "open"): ["--year", "--allocation", "--quota", "--start", "--end",
                              "--jkk-monthly", "--jkm-monthly", "--name", "--four-eyes",
                              "--one-key", "Four eyes (the default)"],
        ("program", "amend"): ["--allocation", "--quota", "--reason"],
        ("program", "capacity"): ["--start", "--format"],
        ("workers", "import"): ["--rejects"],
        ("workers", "prioritize"): ["--ruleset"],
        ("enroll",): ["--top", "--nik", "--start", "--decree"],
        ("end",): ["--nik", "--month", "--reason"],
        ("premiums", "pay"): ["--month", "--sp2d", "--amount"],
        ("premiums", "due"): ["--today"],
        ("claims", "file"): ["--nik", "--scheme", "--date", "--reference", "--benefit"],
        ("report", "budget"): ["--format", "--chart"],
        ("report", "quota"): ["--format", "--by", "--chart"],
        ("report", "claims"): ["--format"],
    }
    for command, options in spelled.items():
        text = invoke(*command, "--help").stdout
        for option in options:
            assert option in text, (command, option)
    root = invoke("--help").stdout
    for option in ("--store", "--actor", "--program", "JAMSOS_STORE", "JAMSOS_ACTOR",
                   "JAMSOS_PROGRAM"):
        assert option in root


@pytest.mark.parametrize(
    "args",
    [
        ["program", "open", "--year", "2026", "--allocation", "-1", "--quota", "10"],
        ["program", "open", "--year", "2026", "--allocation", "2000000", "--quota", "0"],
        ["program", "open", "--year", "2026", "--allocation", "2e9", "--quota", "10"],
        ["program", "capacity", "--start", "2026-13"],
        ["program", "capacity", "--start", "Jan 2026"],
        ["program", "capacity", "--format", "xml"],
        ["enroll", "--top", "3", "--start", "202601"],
        ["enroll", "--top", "0", "--start", "2026-01"],
        ["enroll", "--start", "2026-01"],
        ["enroll", "--top", "3", "--nik", "3275011203850001", "--start", "2026-01"],
        ["end", "--nik", "3275011203850001", "--month", "2026-03", "--reason", "retired"],
        ["premiums", "pay", "--month", "2026-01", "--sp2d", "S-1", "--amount", "-16800"],
        ["premiums", "due", "--today", "2026-02-30"],
        ["claims", "file", "--nik", "3275011203850001", "--scheme", "JKN", "--date",
         "2026-01-05", "--reference", "R"],
        ["claims", "file", "--nik", "3275011203850001", "--scheme", "JKK", "--date",
         "5/1/2026", "--reference", "R"],
        ["report", "budget", "--format", "yaml"],
        ["report", "quota", "--by", "province"],
        ["program", "amend", "--reason", "nothing to change"],
        ["workers", "prioritize", "--ruleset", "by-age"],
        ["no-such-command"],
    ],
    ids=lambda args: " ".join(args),
)
def test_malformed_command_lines_exit_2_and_write_nothing(
    sqlite_url: str, args: list[str]
) -> None:
    opened(sqlite_url)
    before = events(sqlite_url)
    result = jamsos(sqlite_url, *args)
    assert result.exit_code == 2, result.output
    assert "Error" in result.stderr and "Traceback" not in result.output
    assert events(sqlite_url) == before


def test_store_urls_that_are_not_urls_exit_2(tmp_path: Path) -> None:
    for url in ("ftp://ledger", "sqlite://", "postgresql:///nodb"):
        result = invoke("--store", url, "program", "show")
        assert result.exit_code == 2, (url, result.output)


def test_stores_that_cannot_be_used_exit_3(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE pegawai (nip TEXT)")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all, not even close" * 100)
    for url, words in [
        (f"sqlite:///{tmp_path}/missing/ledger.db", "does not exist"),
        (f"sqlite:///{tmp_path}", "is a directory"),
        (f"sqlite:///{other}", "not a jamsos ledger"),
        (f"sqlite:///{garbage}", "not a jamsos ledger"),
        ("postgresql://postgres@127.0.0.1:1/test", "cannot reach PostgreSQL"),
    ]:
        result = invoke("--store", url, "report", "budget")
        assert result.exit_code == 3, (url, result.output)
        assert result.stderr.startswith("Error: ") and words in result.stderr, result.stderr
        assert "Traceback" not in result.output


def test_refusals_exit_1_and_write_nothing(sqlite_url: str) -> None:
    nowhere = jamsos(sqlite_url, "report", "budget")
    assert nowhere.exit_code == 3 and "no ledger at" in nowhere.stderr
    Ledger(sqlite_url).close()  # a ledger, made by the API, with no program yet
    nobody = jamsos(sqlite_url, "report", "budget")
    assert nobody.exit_code == 1 and "no program yet" in nobody.stderr
    opened(sqlite_url)
    before = events(sqlite_url)
    for args, words in [
        (["program", "open", "--year", "2026", "--allocation", "1", "--quota", "1"],
         "already open"),
        (["workers", "show", "3275011203850001"], "no worker with NIK 327501********01"),
        (["enroll", "--top", "1", "--start", "2026-01"], "only 0 eligible"),
        (["enroll", "--nik", "3275011203850001", "--start", "2026-01"], "not registered"),
        (["end", "--nik", "3275011203850001", "--month", "2026-03", "--reason", "died"],
         "no worker"),
        (["premiums", "pay", "--month", "2026-01", "--sp2d", "S-1"], "nothing to pay"),
        (["premiums", "pay", "--month", "2027-01", "--sp2d", "S-1"], "outside program"),
        (["program", "capacity", "--start", "2025-12"], "outside program"),
        (["claims", "file", "--nik", "3275011203850001", "--scheme", "JKK", "--date",
          "2026-01-05", "--reference", "R"], "no worker"),
        (["--program", "2099", "report", "quota"], "no program '2099'"),
    ]:
        result = jamsos(sqlite_url, *args)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.startswith("Error: ") and words in result.stderr, result.stderr
        assert "3275011203850001" not in result.output  # NIKs are masked in messages
    assert events(sqlite_url) == before


def test_terms_the_domain_refuses_exit_2(sqlite_url: str) -> None:
    low = jamsos(sqlite_url, "program", "open", "--year", "2026", "--allocation", "2000000",
                 "--quota", "10", "--jkk-monthly", "5000")
    assert low.exit_code == 2 and "below the minimum" in low.stderr
    backwards = jamsos(sqlite_url, "program", "open", "--year", "2026", "--allocation",
                       "2000000", "--quota", "10", "--start", "2026-06", "--end", "2026-03")
    assert backwards.exit_code == 2 and "before it starts" in backwards.stderr
    assert events(sqlite_url) == 0


def test_the_program_is_chosen_by_option_or_environment(sqlite_url: str) -> None:
    opened(sqlite_url, "--code", "bridge-2025", "--name", "SIGAP bridge")
    opened(sqlite_url)
    ambiguous = jamsos(sqlite_url, "report", "budget")
    assert ambiguous.exit_code == 2
    assert "2 programs (bridge-2025, 2026)" in ambiguous.stderr
    by_option = jamsos(sqlite_url, "--program", "bridge-2025", "program", "show",
                       "--format", "json")
    assert json.loads(by_option.stdout)["name"] == "SIGAP bridge"
    by_env = invoke("--store", sqlite_url, "program", "show", "--format", "json",
                    env={"JAMSOS_PROGRAM": "2026"})
    assert json.loads(by_env.stdout)["program"] == "2026"


def test_the_actor_is_the_principal_whose_key_seals_and_actor_only_a_note(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Whatever --actor or JAMSOS_ACTOR declare, the events record the principal whose key
    (--key, JAMSOS_KEY) sealed them; the declared name is kept as a note on the seal."""
    opened(sqlite_url)
    nik = "3275014203850001"
    path = tmp_path / "one.csv"
    path.write_text("nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source\n"
                    f"{nik},Siti,1985-03-02,P,01,Margahayu,ojol,1,Disnaker\n")
    assert jamsos(sqlite_url, "workers", "import", str(path)).exit_code == 0
    assert jamsos(sqlite_url, "workers", "prioritize").exit_code == 0
    assert jamsos(sqlite_url, "enroll", "--nik", nik, "--start", "2026-01").exit_code == 0
    bpkad = enrolled(sqlite_url, "bpkad")
    by_option = invoke("--store", sqlite_url, "--actor", "bpkad-1", "--key", str(bpkad.path),
                       "premiums", "pay", "--month", "2026-01", "--sp2d", "S-1")
    assert by_option.exit_code == 0, by_option.output
    by_env = invoke("--store", sqlite_url, "premiums", "pay", "--month", "2026-02", "--sp2d",
                    "S-2", env={"JAMSOS_ACTOR": "someone-else", "JAMSOS_KEY": str(bpkad.path)})
    assert by_env.exit_code == 0, by_env.output
    ledger = Ledger(sqlite_url)
    try:
        payments = ledger.views.payments(ledger.program().id)
        seals = ledger.recorder.select_seals(0, 10**9, 100)  # type: ignore[attr-defined]
        notes = [s.note for s in seals]
    finally:
        ledger.close()
    assert [(p["sp2d"], p["actor"]) for p in payments] == [("S-1", "bpkad"), ("S-2", "bpkad")]
    assert notes[-2:] == ["bpkad-1", "someone-else"]


def test_the_store_comes_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/from-env.db"
    result = invoke("program", "open", "--year", "2026", "--allocation", "2000000", "--quota",
                    "10", env={"JAMSOS_STORE": url})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "from-env.db").exists()


def test_premiums_due_says_when_nothing_is_due(sqlite_url: str) -> None:
    opened(sqlite_url)
    result = jamsos(sqlite_url, "premiums", "due", "--today", "2026-06-01")
    assert result.exit_code == 0, result.output
    assert "Nothing due" in result.stdout and result.stderr == ""
    assert json.loads(jamsos(sqlite_url, "premiums", "due", "--today", "2026-06-01",
                             "--format", "json").stdout) == []
