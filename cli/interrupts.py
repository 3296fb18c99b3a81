"""Ctrl-C: a command ends at once, cleanly, saying truthfully what it wrote.

The first SIGINT while a command runs raises KeyboardInterrupt where the command is: the
transaction it is in is rolled back as for any error, the processes it started are stopped
(`import_pool`), and the command exits 130 with one line saying what was kept. Further
SIGINTs (a user pressing Ctrl-C again, a signal to the whole process group) are ignored while
it cleans up, so the clean-up itself is never cut short into a traceback or a hang.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import click

from jamsos_ledger.starting import interrupted_while_starting

# The shell's convention: 128 + SIGINT.
EXIT_INTERRUPTED = 130


class Interrupted(click.ClickException):
    """The command was interrupted (Ctrl-C); the message says what was kept."""

    exit_code = EXIT_INTERRUPTED


_state = {"armed": False, "seen": False}


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    if _state["armed"] and not _state["seen"]:
        _state["seen"] = True
        raise KeyboardInterrupt
    _state["seen"] = True  # while cleaning up, or after the command ended: ignored


def _quiet_after_an_interrupt(unraisable: sys.UnraisableHookArgs) -> None:
    """What the interrupt abandoned (a transaction's generator, a connection) is finalised
    later, when its store is already closed: the error that finalising raises is the interrupt's
    echo, not news, and the one line already said is the truth. Before any interrupt, Python's
    own report."""
    if _state["seen"]:
        return
    sys.__unraisablehook__(unraisable)


@contextmanager
def handled() -> Iterator[None]:
    """SIGINT taken over for the block (main thread only: elsewhere Python cannot), the
    previous handler given back after it (a test runner calling commands in-process keeps
    its own Ctrl-C)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _state["armed"], _state["seen"] = True, False
    previous = signal.signal(signal.SIGINT, _on_sigint)
    if previous is interrupted_while_starting:
        sys.unraisablehook = _quiet_after_an_interrupt
    if previous is interrupted_while_starting:
        # This process is the `jamsos` command and the command has run: a late Ctrl-C
        # changes nothing now. Ignored at the system level, not by a Python handler: the
        # interpreter puts Python handlers back to the default as it shuts down, and a
        # SIGINT then would kill the process (exit -2) after its work was done and said.
        previous = signal.SIG_IGN
    try:
        yield
    finally:
        _state["armed"] = False
        signal.signal(signal.SIGINT, previous)


def disarm() -> None:
    """The command is done (or is cleaning up): later SIGINTs are ignored."""
    _state["armed"] = False


@contextmanager
def reported(said: Callable[[], str]) -> Iterator[None]:
    """Turn an interrupt of the block into `Interrupted`, with what `said()` says was kept."""
    try:
        yield
    except KeyboardInterrupt:
        disarm()
        raise Interrupted(f"interrupted; {said()}") from None


def what_was_kept(written: bool, kept: str) -> str:
    """The truth about an interrupted command's writes, in words."""
    if kept:
        return kept
    if written:
        return (
            "the ledger holds events it did not hold when the command began (what the "
            "command recorded, all of it, or another command's): check with `audit log`"
        )
    return "nothing was written"


__all__ = ["EXIT_INTERRUPTED", "Interrupted", "disarm", "handled", "reported", "what_was_kept"]
