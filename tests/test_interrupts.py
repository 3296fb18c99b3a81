"""Ctrl-C always ends a command cleanly (issue 15, item 6).

SIGINT is sent to the process group of a real `jamsos` command, as a terminal's Ctrl-C is,
at moments spread over its whole run, many times in a row: every run must end within a few
seconds (bounded waits: a hang fails), exit 130 with one line saying what was kept (or 0 when
the command had finished), print no traceback, leave no process of its group behind, and
leave the store holding all of an import or nothing of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_helpers import ok
from jamsos_ledger.application import Ledger
from jamsos_ledger.application.import_pool import PARALLEL_FROM
from registration_file import generate_registrations

JAMSOS = str(Path(sys.executable).parent / "jamsos")
ROWS = 50_000
# Seconds a command is given to end once interrupted, and to run at all.
ANSWER_WITHIN = 10.0
RUN_WITHIN = 300.0
OPEN = ("program", "open", "--one-key", "--year", "2026", "--allocation", "100000000000",
        "--quota", "60000")

pytestmark = [pytest.mark.slow, pytest.mark.serial]


def interrupted(url: str, delay: float, *args: str) -> tuple[int, str, str]:
    """Run `jamsos` in a process group of its own, SIGINT the group after `delay` seconds;
    (exit code, stdout, stderr). Fails on a hang or a process of the group left behind."""
    process = subprocess.Popen(
        [JAMSOS, "--store", url, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )
    _wait_until_loading(process)
    try:
        out, err = process.communicate(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)
        try:
            out, err = process.communicate(timeout=ANSWER_WITHIN)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            pytest.fail(f"`jamsos {' '.join(args)}` hung after SIGINT at {delay} s")
    left = _group(process.pid)
    if left:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail(f"processes left after SIGINT at {delay} s: {left}")
    return process.returncode, out, err


def _wait_until_loading(process: subprocess.Popen[str]) -> None:
    """Wait until the interpreter runs `jamsos`'s own modules (msgpack's C extension, which
    the ledger imports, is mapped), so that `delay` counts from there, however long a loaded
    machine takes to start Python: a Ctrl-C before it lands in CPython's own start-up, which no
    program can answer."""
    maps = Path(f"/proc/{process.pid}/maps")
    deadline = time.monotonic() + RUN_WITHIN
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if "msgpack" in maps.read_text():
                return
        except OSError:
            return
        time.sleep(0.01)


def events(url: str) -> int:
    """Events in the log, counted (PostgreSQL's positions also count rolled-back inserts)."""
    ledger = Ledger(url)
    try:
        return sum(1 for _ in ledger.read_log())
    finally:
        ledger.close()


def _group(pgid: int) -> list[str]:
    """The processes still in the group (reaped ones excepted), after a moment to end."""
    deadline = time.monotonic() + 3
    while True:
        found = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True,
                               check=False).stdout.split()
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def assert_clean(code: int, out: str, err: str, delay: float) -> None:
    assert "Traceback" not in out + err and "KeyboardInterrupt" not in out + err, (delay, err)
    assert code in (0, 130), (delay, code, out, err)
    if code == 130:
        assert err.startswith("Error: interrupted; "), (delay, err)
        assert err.count("\n") == 1, (delay, err)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "registrasi.csv"
    generate_registrations(path, ROWS, bad_rate=0, duplicate_rate=0)
    assert path.stat().st_size >= PARALLEL_FROM, "the file must be read by the forked pool"
    return path


def test_an_import_interrupted_at_any_moment_keeps_all_or_nothing(
    store_url: str, big_file: Path
) -> None:
    ok(store_url, *OPEN)
    base = events(store_url)
    interrupts = 0
    # From start-up to the commit: start-up takes a second or more on a busy machine, the
    # pool reads for a few more, the import writes meanwhile. (Before 0.6 s the interpreter
    # may still be starting, before any of jamsos is loaded: Python's own, not the ledger's.)
    # On an idle machine the whole import takes little more than a second: the first second
    # is tried finely, so that at least three interrupts land before the import's commit.
    fine = tuple(round(0.6 + 0.05 * i, 2) for i in range(13))  # 0.6 .. 1.2
    for delay in (*fine, 1.4, 1.6, 1.8, 2.1, 2.5, 3.2, 4.0, 5.0, 6.0, 7.5, 9.0, 11.0, 14.0):
        code, out, err = interrupted(store_url, delay, "workers", "import", str(big_file))
        assert_clean(code, out, err, delay)
        held = events(store_url) - base
        assert held in (0, ROWS), (delay, held, err)  # all of the import or nothing of it
        if code == 130:  # what it says is what the store holds
            interrupts += 1
            said = "nothing was written" if held == 0 else "holds events it did not hold"
            assert said in err, (delay, held, err)
        if held == ROWS:
            break  # finished before the interrupt: later runs would register nobody
    assert interrupts >= 3


def test_long_commands_answer_ctrl_c(store_url: str, big_file: Path) -> None:
    ok(store_url, *OPEN)
    ok(store_url, "workers", "import", str(big_file))
    for args in [("workers", "prioritize"), ("projections", "rebuild"), ("audit", "replay"),
                 ("audit", "verify")]:
        start = time.monotonic()
        for delay in (0.5, 1.5, 3.0):
            code, out, err = interrupted(store_url, delay, *args)
            assert_clean(code, out, err, delay)
            if code == 130 and args[0] == "workers":
                assert ("nothing was written" in err or "were recorded and are kept" in err), err
        assert time.monotonic() - start < RUN_WITHIN
    # Whatever was kept, the ledger is whole and a re-run finishes the work.
    ok(store_url, "workers", "prioritize")
    ok(store_url, "audit", "verify")
    ok(store_url, "audit", "replay")


def test_a_ctrl_c_after_the_command_ended_changes_nothing(tmp_path: Path) -> None:
    """The window the timed runs above hit only by chance: the command has run and printed
    its answer, the interpreter is shutting down (where Python puts its own handlers back to
    the default). A SIGINT then must not kill the process: its exit code stays the command's."""
    # The SIGINT is sent from an object's finaliser, which the interpreter runs as it clears
    # the modules: after it has put Python's signal handlers back to the default.
    script = (
        "import os, signal, sys, time\n"
        "sys.argv[0] = 'jamsos'\n"
        "from jamsos_ledger.cli import main\n"
        "class Late:\n"
        "    def __del__(self):\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "        time.sleep(0.2)\n"
        "late = Late()\n"
        "main(['--help'])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=RUN_WITHIN, cwd=tmp_path, check=False)
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "Usage:" in done.stdout


@pytest.mark.parametrize("interrupted_first", [True, False])
def test_what_an_interrupt_abandoned_is_finalised_quietly(
    tmp_path: Path, interrupted_first: bool
) -> None:
    """A transaction the interrupt cut short is finalised later, when its store is already
    closed ("Pool is closed", printed by Python as "Exception ignored in ..."): after a Ctrl-C
    that echo is not printed under the one line that says what was kept. Without a Ctrl-C such
    an error is still Python's to report: nothing real is hidden."""
    script = (
        "import os, signal, sys, time\n"
        "sys.argv[0] = 'jamsos'\n"
        "import jamsos_ledger\n"
        "from jamsos_ledger.cli import interrupts\n"
        "class Abandoned:\n"
        "    def __del__(self):\n"
        "        raise RuntimeError('Pool is closed')\n"
        "with interrupts.handled():\n"
        f"    if {interrupted_first}:\n"
        "        try:\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "            time.sleep(5)\n"
        "        except KeyboardInterrupt:\n"
        "            pass\n"
        "    left = Abandoned()\n"
        "    del left\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=RUN_WITHIN, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    if interrupted_first:
        assert done.stderr == ""
    else:
        assert "Pool is closed" in done.stderr
