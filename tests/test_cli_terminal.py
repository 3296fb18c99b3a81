"""Tables as a person sees them: the real `jamsos` command in a real pseudo-terminal.

A table in a terminal is measured by what the screen shows (bold codes take no room) and fitted
to the window: every line of a table has the same width, and no line is wider than the window
(or than `COLUMNS`, which overrides it). Through a pipe the lines are never wrapped.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from rich.cells import cell_len

from cli_helpers import ok
from jamsos_ledger.application import Ledger
from small_ledger import twenty_workers

JAMSOS = shutil.which("jamsos", path=str(Path(sys.executable).parent)) or "jamsos"
STYLE = re.compile(r"\x1b\[[0-9;]*m")
BOX = tuple("┏┃┡│├└┌")


def in_terminal(args: list[str], columns: int, env: dict[str, str] | None = None) -> str:
    """What `jamsos ARGS` shows in a terminal window `columns` wide (styles kept)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    environment.update(env or {})
    process = subprocess.Popen([JAMSOS, *args], stdin=slave, stdout=slave, stderr=slave,
                               env=environment, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the terminal closes once the command has exited
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert process.wait(timeout=60) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode().replace("\r\n", "\n")


def tables(text: str) -> list[list[str]]:
    """The tables of an output, each the list of its lines (styles removed)."""
    found: list[list[str]] = []
    inside = False
    for line in STYLE.sub("", text).splitlines():
        if line.startswith(BOX):
            if not inside:
                found.append([])
            found[-1].append(line)
            inside = True
        else:
            inside = False
    return found


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str]]:
    folder = tmp_path_factory.mktemp("terminal")
    url = f"sqlite:///{folder / 'jamsos.db'}"
    niks = twenty_workers(url, folder)
    ok(url, "claims", "file", "--nik", niks[0], "--scheme", "JKK", "--date", "2026-02-03",
       "--reference", "JKK-0001")
    return url, niks


COMMANDS = [
    ["report", "budget"],
    ["program", "show"],
    ["workers", "show", "NIK"],
    ["report", "claims"],
    ["report", "quota", "--by", "occupation"],
    ["premiums", "due", "--today", "2026-06-20"],
    ["program", "capacity"],
    ["audit", "log"],
]


@pytest.mark.parametrize("columns", [80, 60, 32])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_table_fits_the_window_with_lines_of_one_width(
    ledger: tuple[str, list[str]], command: list[str], columns: int
) -> None:
    url, niks = ledger
    args = [niks[0] if a == "NIK" else a for a in command]
    text = in_terminal(["--store", url, *args], columns)
    assert "\x1b[1m" in text  # a terminal: the names, headers and totals are bold
    found = tables(text)
    assert found, text
    for table in found:
        assert len({cell_len(line) for line in table}) == 1, "\n".join(table)
        assert cell_len(table[0]) <= columns, "\n".join(table)


def test_columns_overrides_the_window(ledger: tuple[str, list[str]]) -> None:
    url, _ = ledger
    text = in_terminal(["--store", url, "report", "budget"], 200, {"COLUMNS": "80"})
    widths = {cell_len(line) for table in tables(text) for line in table}
    assert max(widths) <= 80


def test_the_names_in_bold_take_no_room(ledger: tuple[str, list[str]]) -> None:
    """A wide window: nothing is wrapped, and the borders are as wide as the rows."""
    url, _ = ledger
    text = in_terminal(["--store", url, "program", "show"], 200)
    (table,) = tables(text)
    assert len({cell_len(line) for line in table}) == 1, "\n".join(table)
    assert len(table) == 15  # thirteen names and values, each on its one line


def test_a_pipe_gets_whole_lines(ledger: tuple[str, list[str]]) -> None:
    """Scripts and files: no styles, nothing wrapped, however narrow the terminal."""
    url, _ = ledger
    result = subprocess.run([JAMSOS, "--store", url, "report", "budget"], capture_output=True,
                            text=True, env={**os.environ, "COLUMNS": "40"}, check=True)
    assert "\x1b[" not in result.stdout
    months = [line for line in result.stdout.splitlines() if line.startswith("│ 2026-")]
    assert len(months) == 12
    assert all(cell_len(line) > 40 for line in months)


LONG_COMMANDS = {
    ("workers", "prioritize"): "Ranking workers under",
    ("audit", "verify"): "Verifying the event chain",
    ("audit", "digest"): "Verifying the event chain",
    ("audit", "replay"): "Replaying the event log",
}


@pytest.mark.parametrize("command", list(LONG_COMMANDS), ids=" ".join)
def test_long_commands_show_progress_on_a_terminal_and_nothing_in_a_pipe(
    ledger: tuple[str, list[str]], command: tuple[str, ...]
) -> None:
    """A minute at a million workers: a bar on stderr while it runs (erased when done)."""
    url, _ = ledger
    assert LONG_COMMANDS[command] in in_terminal(["--store", url, *command], 100)
    piped = subprocess.run([JAMSOS, "--store", url, *command], capture_output=True, text=True,
                           check=True)
    assert piped.stderr == ""
    assert LONG_COMMANDS[command] not in piped.stdout and "\x1b[" not in piped.stdout


def test_prioritize_tells_its_progress(tmp_path: Path) -> None:
    """The ledger says how far the ranking went and of how many, up to the whole."""
    url = f"sqlite:///{tmp_path / 'jamsos.db'}"
    twenty_workers(url, tmp_path)
    told: list[tuple[int, int]] = []
    ledger = Ledger(url)
    try:
        ranked, _ = ledger.prioritize(progress=lambda done, total: told.append((done, total)))
    finally:
        ledger.close()
    assert ranked == 17 and sum(d for d, _ in told) == 17 and {t for _, t in told} == {17}
