"""No option destroys the ledger or its input, and the exit code tells what was written (issue 15).

Output paths (`--chart`, `--rejects`) are refused before the store is touched when they name the
ledger, an input, a folder that is not there, or an existing file without `--overwrite`; a
standard output that fails (a full disk, a closed pipe) or a file that cannot be completed
after the ledger committed says "recorded: ...; but ..." with exit 5. The faults are real: the
commands run as processes writing to /dev/full, to a pipe nobody reads, under a file-size limit.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli_helpers import contents, jamsos, ok
from jamsos_ledger.cli import main

HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"
WORKERS = (
    "3275014203850001,Siti Rahmawati,1985-03-02,P,01,Margahayu,pedagang,2,Disnaker\n"
    "3275051708900042,Budi Santoso,1990-08-17,L,05,Bojong Rawalumbu,ojol,1,Dinsos\n"
    "3275092512880007,Agus Salim,1988-12-25,L,09,Jatiluhur,buruh harian,3,Grab\n"
)
BAD_ROW = "12345,Nama Salah,1990-01-01,L,01,Margahayu,ojol,2,Dinsos\n"


@pytest.fixture
def ledger(store_url: str, tmp_path: Path) -> str:
    """A program with three registered workers, two of them enrolled from January."""
    registrations = tmp_path / "registrasi.csv"
    registrations.write_text(HEADER + "\n" + WORKERS, encoding="utf-8")
    ok(store_url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000000",
       "--quota", "10")
    ok(store_url, "workers", "import", str(registrations))
    ok(store_url, "workers", "prioritize")
    ok(store_url, "enroll", "--top", "2", "--start", "2026-01", "--decree", "KEP/1/2026")
    ok(store_url, "report", "budget")  # projections caught up: a later read writes nothing
    return store_url


def run(url: str, *args: str, cwd: Path, **popen: object) -> subprocess.CompletedProcess[str]:
    """`jamsos` as its own process (its standard streams are real files)."""
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", "from jamsos_ledger.cli import main; main(prog_name='jamsos')",
         "--store", url, "--actor", "operator", *args],
        cwd=cwd, text=True, stderr=subprocess.PIPE, timeout=120, **popen)


def invoke(url: str, *args: str, env: dict[str, str | None] | None = None) -> Result:
    """`jamsos` in-process, catching what it raises: the test then asserts it raised nothing."""
    result = CliRunner(env=env).invoke(main, ["--store", url, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))
    assert "Traceback" not in result.output
    return result


def leftovers(folder: Path) -> list[Path]:
    """Temporary files an interrupted output would have left."""
    return sorted(folder.rglob(".jamsos-*"))


# -- 1. no option destroys the ledger or its input ---------------------------------------------


@pytest.mark.parametrize("overwrite", [False, True])
@pytest.mark.parametrize("name", ["ledger.db", "ledger.db-wal", "ledger.db-shm",
                                  "ledger.db-journal", "sub/../ledger.db", "link.db", "hard.db"])
@pytest.mark.parametrize("command", [["report", "budget", "--chart"],
                                     ["report", "quota", "--by", "decile", "--chart"],
                                     ["workers", "import", "registrasi.csv", "--rejects"]])
def test_no_output_can_be_the_ledger(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    command: list[str], name: str, overwrite: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "registrasi.csv").write_text(HEADER + "\n" + WORKERS + BAD_ROW, "utf-8")
    ok(sqlite_url, "program", "open", "--year", "2026", "--allocation", "2000000000",
       "--quota", "10")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.db").symlink_to(tmp_path / "ledger.db")
    os.link(tmp_path / "ledger.db", tmp_path / "hard.db")
    before = contents(sqlite_url)
    result = jamsos(sqlite_url, *command, name, *(["--overwrite"] if overwrite else []))
    assert result.exit_code == 2, result.output
    assert f"{name} is one of the ledger's files" in result.stderr
    assert "nothing was written" in result.stderr
    assert contents(sqlite_url) == before
    assert not (tmp_path / "ledger.db-journal").exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("overwrite", [False, True])
def test_the_rejects_are_never_written_over_the_registration_file(
    ledger: str, tmp_path: Path, overwrite: bool
) -> None:
    path = tmp_path / "baru.csv"
    text = (HEADER + "\n" + BAD_ROW
            + "3275071201950003,Rudi Hartono,1995-01-12,L,07,Cikiwul,ojol,2,Disnaker\n")
    path.write_text(text, encoding="utf-8")
    before = contents(ledger)
    # The same file by another name, too.
    for named in (path, tmp_path / "." / "baru.csv"):
        result = jamsos(ledger, "workers", "import", str(path), "--rejects", str(named),
                        *(["--overwrite"] if overwrite else []))
        assert result.exit_code == 2, result.output
        assert "is an input of this command" in result.stderr
        assert path.read_text(encoding="utf-8") == text
        assert contents(ledger) == before


def test_an_existing_file_is_replaced_only_with_consent_and_whole(
    ledger: str, tmp_path: Path
) -> None:
    chart = tmp_path / "burndown.png"
    chart.write_bytes(b"last month's chart")
    chart.chmod(0o640)
    before = contents(ledger)
    refused = jamsos(ledger, "report", "budget", "--chart", str(chart))
    assert refused.exit_code == 2, refused.output
    assert "exists already: name a new file, or give --overwrite" in refused.stderr
    assert chart.read_bytes() == b"last month's chart"
    assert contents(ledger) == before
    replaced = ok(ledger, "report", "budget", "--chart", str(chart), "--overwrite")
    assert f"Chart written to {chart}" in replaced.stdout
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert chart.stat().st_mode & 0o777 == 0o640  # the replaced file's permissions kept
    assert leftovers(tmp_path) == []


def test_a_rejects_file_in_a_missing_folder_registers_nobody(ledger: str, tmp_path: Path) -> None:
    path = tmp_path / "baru.csv"
    path.write_text(HEADER + "\n" + BAD_ROW
                    + "3275071201950003,Rudi Hartono,1995-01-12,L,07,Cikiwul,ojol,2,Disnaker\n",
                    encoding="utf-8")
    before = contents(ledger)
    result = jamsos(ledger, "workers", "import", str(path), "--rejects",
                    str(tmp_path / "absent" / "ditolak.csv"))
    assert result.exit_code == 2, result.output
    assert "the folder" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.output
    assert contents(ledger) == before  # checked before the good row was registered


# -- 2. the exit code and the message tell what was written -----------------------------------


def test_a_payment_whose_output_fails_says_it_was_recorded(ledger: str, tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        paid = run(ledger, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/01",
                   cwd=tmp_path, stdout=full)
    assert paid.returncode == 5, paid.stderr
    assert paid.stderr.startswith(
        "Error: recorded: Paid Rp 33.600 for 2 participants in 2026-01 under SP2D SP2D/01; "
        "but the standard output could not be written (No space left on device)")
    assert "Traceback" not in paid.stderr and "nothing was" not in paid.stderr
    budget = json.loads(ok(ledger, "report", "budget", "--format", "json").stdout)
    assert budget["paid"] == 33_600  # exactly what the message says was recorded


def test_a_viewing_whose_output_fails_says_once_that_it_was_recorded(
    ledger: str, tmp_path: Path
) -> None:
    """The viewing of personal data is recorded before anything is shown: when the output then
    fails, the message says so once ("recorded: X viewed ..."), not "recorded: recorded: ..."."""
    with open("/dev/full", "w") as full:
        shown = run(ledger, "workers", "show", "3275014203850001", "--unmask", "--reason",
                    "checking a claim", cwd=tmp_path, stdout=full)
    assert shown.returncode == 5, shown.stderr
    assert "Recorded: " in shown.stderr and "viewed the personal data of" in shown.stderr
    assert "Error: recorded: " in shown.stderr
    assert "recorded: recorded" not in shown.stderr.lower(), shown.stderr


@pytest.mark.parametrize("stdout", ["full", "closed pipe", "closed"])
@pytest.mark.parametrize("command", [["report", "budget"], ["audit", "log"], ["--help"]])
def test_a_reading_command_whose_output_fails_says_nothing_was_recorded(
    ledger: str, tmp_path: Path, command: list[str], stdout: str
) -> None:
    before = contents(ledger)
    if stdout == "full":
        with open("/dev/full", "w") as full:
            result = run(ledger, *command, cwd=tmp_path, stdout=full)
        reason = "No space left on device"
    elif stdout == "closed pipe":
        reader, writer = os.pipe()
        os.close(reader)  # nobody will read: the first write gets EPIPE
        try:
            result = run(ledger, *command, cwd=tmp_path, stdout=writer,
                         preexec_fn=lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN))
        finally:
            os.close(writer)
        reason = "Broken pipe"
    else:
        result = run(ledger, *command, cwd=tmp_path, preexec_fn=lambda: os.close(1))
        reason = "it is closed"
    assert result.returncode == 5, result.stderr
    assert result.stderr == (f"Error: the standard output could not be written ({reason}); "
                             "nothing was recorded in the ledger\n")
    assert contents(ledger) == before


def test_a_rejects_file_that_cannot_be_completed_says_what_was_registered(
    ledger: str, tmp_path: Path
) -> None:
    path = tmp_path / "besar.csv"
    rejects = tmp_path / "ditolak.csv"
    path.write_text(
        HEADER + "\n" + "3275071201950003,Rudi Hartono,1995-01-12,L,07,Cikiwul,ojol,2,Disnaker\n"
        + "".join(f"12345,{'X' * 300},1990-01-01,L,01,a,b,2,c\n" for _ in range(6000)),
        encoding="utf-8")

    def small_files() -> None:  # a disk that fills up: no file of this process past 1 MB
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    result = run(ledger, "workers", "import", str(path), "--rejects", str(rejects),
                 cwd=tmp_path, stdout=subprocess.PIPE, preexec_fn=small_files)
    assert result.returncode == 5, result.stderr
    assert result.stderr.startswith(
        f"Error: recorded: Registered 1 worker from {path}; but the file of --rejects, "
        f"{rejects}, could not be written (File too large); nothing of it was left behind")
    assert "Traceback" not in result.stderr
    assert not rejects.exists() and leftovers(tmp_path) == []
    shown = ok(ledger, "workers", "show", "3275071201950003", "--format", "json").stdout
    assert json.loads(shown)["name"] == "R. H."  # registered, as the message says


# -- 8. every remaining traceback is a message with its exit code -----------------------------


@pytest.mark.parametrize("variable,value", [
    ("JAMSOS_SQLITE_LOCK_TIMEOUT", "30s"), ("JAMSOS_CONNECT_TIMEOUT", "abc"),
    ("JAMSOS_LOCK_TIMEOUT", "-1"), ("JAMSOS_SQLITE_LOCK_TIMEOUT", "99999999999999999999"),
    ("JAMSOS_CIPHER_KEY", "abc"),
])
def test_a_malformed_setting_is_named(ledger: str, variable: str, value: str) -> None:
    settings = {"JAMSOS_SQLITE_LOCK_TIMEOUT": None, "JAMSOS_CONNECT_TIMEOUT": None,
                "JAMSOS_LOCK_TIMEOUT": None, variable: value}
    applies = variable == "JAMSOS_CIPHER_KEY" or ("SQLITE" in variable) == (
        ledger.startswith("sqlite"))
    before = contents(ledger)
    result = invoke(ledger, "premiums", "pay", "--month", "2026-02", "--sp2d", "SP2D/02",
                    env=settings)
    if applies:
        assert result.exit_code == 2, result.output
        assert f"{variable}" in result.stderr
        assert "expected" in result.stderr or "is not a key" in result.stderr
        assert contents(ledger) == before
    else:  # another store's setting: not read
        assert result.exit_code == 0, result.output


def _damage_table(path: Path, table: str) -> None:
    """Overwrite the first page of a table's b-tree with zeros, as a bad disk would."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                            (table,)).fetchone()[0]
    with path.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\x01" * page_size)


@pytest.mark.parametrize("where", ["header", "events"])
@pytest.mark.parametrize("command", [["report", "budget"], ["audit", "verify"],
                                     ["premiums", "pay", "--month", "2026-02", "--sp2d", "S/2"],
                                     ["workers", "show", "3275014203850001"]])
def test_a_damaged_ledger_file_is_said_to_be_damaged(
    sqlite_url: str, tmp_path: Path, command: list[str], where: str
) -> None:
    (tmp_path / "registrasi.csv").write_text(HEADER + "\n" + WORKERS, "utf-8")
    ok(sqlite_url, "program", "open", "--year", "2026", "--allocation", "2000000000",
       "--quota", "10")
    ok(sqlite_url, "workers", "import", str(tmp_path / "registrasi.csv"))
    path = tmp_path / "ledger.db"
    if where == "header":
        contents(sqlite_url)
        data = bytearray(path.read_bytes())
        data[0] ^= 0xFF  # a bit flipped in the first byte: not an SQLite file any more
        path.write_bytes(bytes(data))
    else:
        _damage_table(path, "stored_events")  # found only once the events are read
    before = path.read_bytes()
    result = invoke(sqlite_url, *command)
    assert result.exit_code == 3, result.output
    assert "is damaged" in result.stderr and "nothing was written" in result.stderr
    assert "stopped answering" not in result.stderr
    assert path.read_bytes() == before

