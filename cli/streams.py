"""The standard streams of a command, guarded so that their failures are told truthfully.

A command's output goes to a pipe that may close (`jamsos audit log | head`), a full disk
(`> /dev/full`) or a closed descriptor (`>&-`). Such a failure must never be a traceback, nor be
taken for any other OSError: the guard on standard output raises StdoutFailed, which the CLI
turns into exit 5 with what the command had recorded. Standard error is where that message
goes: when it fails too nothing more can be said, so its failures are dropped and the exit code
alone tells.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from jamsos_ledger.cli.errors import StdoutFailed


class _Guarded:
    """A text stream whose write and flush either work or raise StdoutFailed (`stdout`), or
    never fail (`stderr`); everything else is the stream's own."""

    def __init__(self, stream: TextIO | None, *, quiet: bool) -> None:
        self._stream = stream
        self._quiet = quiet
        self.failed = False

    def write(self, text: str) -> int:
        if isinstance(text, str) and not text:
            return 0  # click probes streams so: nothing to write, nothing to fail
        return self._do("write", text)

    def flush(self) -> None:
        self._do("flush")

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def isatty(self) -> bool:
        try:
            return self._stream is not None and self._stream.isatty()
        except (OSError, ValueError):
            return False

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)

    def _do(self, method: str, *args: Any) -> Any:
        try:
            if self._stream is None:
                raise OSError(errno.EBADF, "it is closed")
            return getattr(self._stream, method)(*args)
        except (OSError, ValueError) as e:  # ValueError: a stream closed under us
            if self._quiet:
                return len(args[0]) if args else None
            self.failed = True
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise StdoutFailed(reason) from None


def _silence(stream: TextIO | None) -> None:
    """Point the failed stream's descriptor at /dev/null: what is left in its buffer is then
    dropped quietly when the process exits, instead of failing again after the message."""
    try:
        descriptor = stream.fileno() if stream is not None else -1
    except (OSError, ValueError, AttributeError):
        return  # not a real file (a test's capture): nothing is flushed at exit
    if descriptor < 0:
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, descriptor)
        os.close(null)
    except OSError:
        pass


@contextmanager
def guarded_streams() -> Iterator[None]:
    """Standard output raising StdoutFailed, standard error never failing, for a run."""
    stdout, stderr = sys.stdout, sys.stderr
    guard = _Guarded(stdout, quiet=False)
    sys.stdout = guard
    sys.stderr = _Guarded(stderr, quiet=True)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = stdout, stderr
        if guard.failed:
            _silence(stdout)
        _silence_stderr_if_broken(stderr)


def _silence_stderr_if_broken(stderr: TextIO | None) -> None:
    """A standard error that failed fails again when the process exits: silence it too."""
    try:
        if stderr is not None:
            stderr.flush()
    except (OSError, ValueError):
        _silence(stderr)
