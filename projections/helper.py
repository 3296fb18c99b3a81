"""A second process catching up alongside the first: both cores for a long catch-up.

Reading and decoding events, and turning them into rows, is most of a rebuild's work and runs
in Python, one core per process; the database takes its writes one at a time anyway. So, far
behind the log, the runner starts a helper process that opens the same runner (from a picklable
recipe), and the two take the log ahead in ranges of positions, each claiming the next free
range when ready: a range is read and decoded at once, then applied in its turn, when every
projection has reached its start, in one transaction with the positions, as every catch-up
applies a page. Exactly-once, order and resumability are the runner's own; the helper only
adds a second reader. Either process finding the other gone stops claiming, and the catch-up
that follows in the first process applies whatever is left: a helper that fails costs time,
never an event.

The helper is a new interpreter running `main()` below, told its job on stdin: never the
caller's main module run again in another process, as `multiprocessing` would.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # not on Windows: catch-ups there run in one process
    fcntl = None  # type: ignore[assignment]

from jamsos_ledger.projections import runner as runner_module
from jamsos_ledger.projections.runner import Runner, without_cycle_collection

# Events behind from which a helper pays for its start (a new interpreter and its imports,
# about a second of the other core).
HELPER_FROM = 60_000
# How long a process waits before looking again whether its range's turn has come.
POLL = 0.005
# How long the first process waits for a helper told to stop before ending it.
STOPPING = 30.0
_ABORTED = 2**62  # a claim counter past any range: nothing more is claimed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HelperRecipe:
    """How another process opens the same runner.

    Attributes:
        opener: a module-level function (so that it pickles) returning a context manager
            that yields the runner and closes what it opened.
        args: its arguments, plain picklable values (a store URL, a file path, a moment).
    """

    opener: Callable[..., AbstractContextManager[Runner]]
    args: tuple[Any, ...]

    def alongside(
        self, runner: Runner, stop: int | None, progress: Callable[[int], None] | None
    ) -> int:
        """The runner's `Helper`: this recipe's process catches up beside the runner."""
        return alongside(runner, stop, progress, self)


@dataclass(frozen=True)
class _Job:
    """A catch-up shared by two processes.

    Attributes:
        start, end, size: the ranges (lo, hi] of `size` positions from `start` up to `end`.
        claims: the file holding the number of the next range to claim.
        parent: the first process's id: a helper outliving it stops.
    """

    start: int
    end: int
    size: int
    claims: str
    parent: int


class _Claims:
    """The counter of claimed ranges, in a file both processes lock in turn."""

    def __init__(self, job: _Job) -> None:
        self.job = job
        self.fd = os.open(job.claims, os.O_RDWR)

    def close(self) -> None:
        os.close(self.fd)

    def _update(self, change: Callable[[int], int]) -> int:
        """The counter, replaced by `change(counter)` under the lock."""
        assert fcntl is not None
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            value = int.from_bytes(os.pread(self.fd, 8, 0).ljust(8, b"\0"), "big")
            os.pwrite(self.fd, change(value).to_bytes(8, "big"), 0)
            return value
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def ranges(self) -> Iterator[tuple[int, int]]:
        """Ranges (lo, hi] claimed one after another, until the job's end or an abort."""
        job = self.job
        while True:
            index = self._update(lambda n: n + 1)
            lo = job.start + min(index, _ABORTED) * job.size
            if lo >= job.end:
                return
            yield lo, min(lo + job.size, job.end)

    def abort(self) -> None:
        self._update(lambda n: _ABORTED)

    @property
    def aborted(self) -> bool:
        return self._update(lambda n: n) >= _ABORTED


def alongside(
    runner: Runner,
    stop: int | None,
    progress: Callable[[int], None] | None,
    recipe: HelperRecipe | None,
) -> int:
    """Catch up with a helper process when far enough behind; returns the events read by
    both. Returns 0 at once, doing nothing, when it is not worth a second process."""
    start = min(runner.positions().values())
    end = runner.head() if stop is None else min(stop, runner.head())
    if recipe is None or fcntl is None or end - start < HELPER_FROM:
        return 0
    with _claims_file() as path:
        job = _Job(start, end, runner_module.BATCH, str(path), os.getpid())
        claims = _Claims(job)
        try:
            return _share(runner, recipe, job, claims, progress)
        finally:
            claims.close()


@contextmanager
def _claims_file() -> Iterator[Path]:
    fd, name = tempfile.mkstemp(prefix="jamsos-claims-")
    os.close(fd)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _share(
    runner: Runner,
    recipe: HelperRecipe,
    job: _Job,
    claims: _Claims,
    progress: Callable[[int], None] | None,
) -> int:
    """Apply ranges here while the helper applies others; the events the two went through."""
    process = subprocess.Popen(
        [sys.executable, "-c", f"import sys; from {__name__} import main; sys.exit(main())"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,  # Ctrl-C is the first process's to answer: it stops this one
    )
    assert process.stdin is not None
    with process.stdin:
        process.stdin.write(pickle.dumps((recipe, job)))
    process.stdin = None  # sent: nothing more for `communicate` to send
    read, finished = 0, False
    try:
        reached = job.start
        for lo, hi in claims.ranges():
            got = runner.apply_range(lo, hi, lambda: _wait(lambda: process.poll() is None))
            if got is None:
                break  # the helper is gone, with a range of its own: the caller finishes
            read += got
            if progress is not None:
                progress(hi - reached)
                reached = hi
        finished = True
    finally:
        if not finished:
            claims.abort()  # the helper stops rather than wait for a range of ours
        helped = _result(process)
    runner.last_applied = max(runner.last_applied, helped.get("last_applied", 0))
    # What both applied, counted where it is recorded (a helper that failed tells nothing).
    return max(read + helped.get("read", 0), min(runner.positions().values()) - job.start)


def _result(process: subprocess.Popen[bytes]) -> dict[str, int]:
    """What the helper did, once it has ended ({} when it failed)."""
    try:
        out, _ = process.communicate(timeout=STOPPING)
    except subprocess.TimeoutExpired:
        process.kill()  # its transaction, if any, is rolled back with its connection
        out, _ = process.communicate()
    if process.returncode:
        log.warning("the helper process stopped (exit %s): caught up in one process",
                    process.returncode)
        return {}
    try:
        return dict(json.loads(out.splitlines()[-1])) if out.strip() else {}
    except ValueError:  # something else wrote to its stdout: its figures are lost, not its work
        log.warning("the helper process said %r, not what it did", out[-200:])
        return {}


def _help(recipe: HelperRecipe, job: _Job) -> dict[str, int]:
    """The helper's work: claim ranges and apply them in turn until none is left."""
    claims = _Claims(job)

    def keep_waiting() -> bool:
        return _wait(lambda: os.getppid() == job.parent and not claims.aborted)

    read = 0
    try:
        with recipe.opener(*recipe.args) as runner, without_cycle_collection():
            for lo, hi in claims.ranges():
                got = runner.apply_range(lo, hi, keep_waiting)
                if got is None:
                    break
                read += got
            return {"read": read, "last_applied": runner.last_applied}
    finally:
        claims.close()


def _wait(alive: Callable[[], bool]) -> bool:
    """Wait a moment for another process's range; whether that process is still there."""
    time.sleep(POLL)
    return alive()


def main() -> int:
    """The helper process: its job from stdin, what it did as JSON on stdout."""
    recipe, job = pickle.loads(sys.stdin.buffer.read())
    try:
        done = _help(recipe, job)
    except KeyboardInterrupt:
        return 1  # interrupted with the first process, which says so
    try:
        sys.stdout.write("\n" + json.dumps(done) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # The first process is gone (killed): nobody to tell, and what was applied is in the
        # positions. Standard output is pointed at nothing, so the interpreter's own flush at
        # exit does not fail on the closed pipe again (the `signal` module documents this).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0
