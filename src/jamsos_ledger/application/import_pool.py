"""A registration file read for import, in parts by several processes at once.

Reading, checking and encoding the rows of a city's file is most of an import's work, and all
of it is per row: forked processes each take a part of the file (whole lines), read it with the
same reader as a single process (`registrations.read_registration_lines`, every check of the
domain asked of every row), and hand back only plain bytes: each worker's id and the encoded
state of its `Registered` event (`application.prepare_registrations`). Objects such as
`Registration` cost more to send between processes than to build.

The parts come back in file order while later ones are still being read, and the import writes
them as they come, in its one transaction (`bulk_writes`): a few parts ahead are read at a time,
so memory does not grow with the file. The parts only ever take the way of a clean file;
whenever a part finds anything wrong (a bad row, a line that is not UTF-8, a NIK twice), or a
NIK of one part is in another (the store's unique index finds it, see `FileInParts.blobs`), or
a file's rows cannot be split safely (a quote: quoted fields may hold line breaks), the
import's transaction is undone and the whole file is read again the careful way, from the
start in one process, which names every problem with its line as it always did: nothing of a
bad file is ever committed.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import multiprocessing
import os
import pickle
import signal
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice, pairwise
from multiprocessing.pool import TERMINATE
from pathlib import Path
from typing import Any

from jamsos_ledger.application.service import PreparedRegistration, prepare_registrations
from jamsos_ledger.files.registrations import (
    RegistrationFile,
    RegistrationFileError,
    plain_header,
    read_registration_lines,
    read_registrations,
)

# Files smaller than this are read in one process: starting others costs more than it saves
# (about 20,000 rows).
PARALLEL_FROM = 2_000_000
# Processes at most; the machines the ledger runs on have two cores.
MAX_PROCESSES = 4
# Parts a process at least, and bytes a part at most: results come back as parts are done, so
# the writing follows the reading closely, and each process holds only a small part's objects
# at a time (the benchmark counts the memory of every process of an import).
PARTS_PER_PROCESS = 16
PART_BYTES = 1_000_000
# Parts given out ahead of the one being written, a process: enough to keep every process busy
# while the import writes, few enough that memory stays flat however long the file.
AHEAD_PER_PROCESS = 2
# Bytes read at a time when a file is looked over before its parts are given out.
_SCAN = 8_000_000
# Seconds given to each of the pool's processes, killed, to be reaped.
_STOP_WITHIN = 3.0
_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent ends


class ReadAgain(Exception):
    """A part found something wrong, or the file cannot be read in parts: it must be read the
    careful way, from the start in one process, which names every problem with its line."""


@dataclass
class PreparedFile:
    """A registration file read for import, all of it at once.

    Attributes:
        file: the file as read: its name, its columns and its bad rows (its good rows too
            when it was read in one process).
        parts: the good rows, ready to store, in file order, a pickled list of
            `PreparedRegistration`s a part: compact while the rest of the file is read.
        count: how many good rows.
    """

    file: RegistrationFile
    parts: list[bytes] = field(default_factory=list)
    count: int = 0

    @property
    def rows(self) -> int:
        """Rows of the file, good and bad."""
        return self.count + len(self.file.rejected)

    def prepared(self) -> Iterator[list[PreparedRegistration]]:
        """The good rows, a part at a time."""
        for part in self.parts:
            rows: list[PreparedRegistration] = pickle.loads(part)
            yield rows


def prepare_file(
    path: str | Path,
    *,
    actor: str,
    timestamp: datetime,
    processes: int | None = None,
    parallel_from: int = PARALLEL_FROM,
) -> PreparedFile:
    """Read, check and encode a whole registration file for import, in parts when it is big.

    Raises RegistrationFileError when the file cannot be read as registrations at all; bad
    rows are in the result's `file.rejected`, named as `read_registrations` names them.
    """
    with file_in_parts(
        path, actor=actor, timestamp=timestamp, processes=processes, parallel_from=parallel_from
    ) as parts:
        if parts is not None:
            with contextlib.suppress(ReadAgain):
                blobs = list(parts.blobs())
                ids = {oid for blob in blobs for oid, _ in pickle.loads(blob)}
                if len(ids) == parts.count:  # else a NIK in two parts: named the careful way
                    return PreparedFile(parts.file, blobs, parts.count)
    file = read_registrations(path)
    rows = prepare_registrations(file.accepted, actor=actor, timestamp=timestamp)
    return PreparedFile(file, [pickle.dumps(rows, pickle.HIGHEST_PROTOCOL)], len(rows))


@dataclass(frozen=True)
class _Job:
    """What every process reading a part is given (inherited by fork, never sent)."""

    path: Path
    name: str
    size: int
    mtime_ns: int
    header: bytes
    actor: str
    timestamp: datetime


_job: _Job | None = None  # set in the processes reading parts only


class FileInParts:
    """A big registration file being read in parts by a pool of processes.

    Attributes:
        file: its name and, once a part is back, its columns (no rows: they are streamed).
        lines: its lines after the header: about how many rows it holds, for a progress bar.
        count: good rows handed out so far.
    """

    def __init__(self, job: _Job, spans: list[tuple[int, int]], lines: int, processes: int):
        self.file = RegistrationFile(name=job.name, columns=())
        self.lines = lines
        self.count = 0
        self._spans = spans
        self._ahead = processes * AHEAD_PER_PROCESS
        context = multiprocessing.get_context("fork")
        # Ctrl-C held back while the processes are forked (and delivered just after): one
        # arriving mid-fork would interrupt the interpreter's fork hooks, in the import or in
        # a new process before it ignores SIGINT, with a traceback.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self._pool = context.Pool(
                min(processes, len(spans)), initializer=_hold, initargs=(job, os.getpid())
            )
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    def blobs(self) -> Iterator[bytes]:
        """Each part's good rows, pickled, in file order, as the parts are done. Raises
        ReadAgain when a part finds anything wrong.

        A NIK in two parts is not looked for here (that would hold every id of the file):
        whoever stores the rows must refuse a worker met twice, as
        `Ledger.register_prepared(once=True)` does, and read the file again the careful way,
        which names both lines.
        """
        spans = iter(self._spans)
        waiting = deque(self._pool.apply_async(_read_part, (span,))
                        for span in islice(spans, self._ahead))
        while waiting:
            result = waiting.popleft().get()
            span = next(spans, None)  # one more part given out for the one taken back
            if span is not None:
                waiting.append(self._pool.apply_async(_read_part, (span,)))
            if result is None:
                raise ReadAgain
            columns, count, blob = result
            self.file.columns = columns
            self.count += count
            yield blob

    def rows(self) -> Iterator[PreparedRegistration]:
        """The good rows in file order, as `blobs` gives them."""
        for blob in self.blobs():
            rows: list[PreparedRegistration] = pickle.loads(blob)
            yield from rows

    def close(self) -> None:
        """Stop the pool's processes, done or not."""
        self._pool.terminate()
        self._pool.join()

    def abandon(self) -> None:
        """Stop the pool's processes at once, the import being interrupted or failed.

        The pool's own `terminate` first takes the lock of its task queue, which a process
        stopped mid-read keeps for ever: an import interrupted while its processes worked
        waited on it for ever (a futex wait, its processes defunct). Here nothing waits on
        the pool: its processes are killed and reaped within a bounded time, its threads
        (daemons, each waiting on a queue) are left to end with the import, and its own
        clean-up at exit, which would take that lock, is cancelled.
        """
        pool: Any = self._pool
        handler = getattr(pool, "_worker_handler", None)
        if handler is not None:
            handler._state = TERMINATE  # dead processes are not replaced any more
        pool._state = TERMINATE
        finalizer = getattr(pool, "_terminate", None)
        if finalizer is not None:
            finalizer.cancel()
        processes = list(getattr(pool, "_pool", []))
        for process in processes:
            with contextlib.suppress(OSError, ValueError):
                process.kill()
        for process in processes:
            with contextlib.suppress(OSError, ValueError, AssertionError):
                process.join(_STOP_WITHIN)


@contextmanager
def file_in_parts(
    path: str | Path,
    *,
    actor: str,
    timestamp: datetime,
    processes: int | None = None,
    parallel_from: int = PARALLEL_FROM,
) -> Iterator[FileInParts | None]:
    """The file being read in parts, or None when it is to be read in one process: too small,
    one process only, not splittable at line ends, or not readable (the careful way says
    why). The processes are stopped when the block ends."""
    path = Path(path)
    if processes is None:
        processes = min(os.cpu_count() or 1, MAX_PROCESSES)
    parts = None
    if processes > 1 and "fork" in multiprocessing.get_all_start_methods():
        parts = _started(path, actor, timestamp, processes, parallel_from)
    try:
        yield parts
    except BaseException:
        if parts is not None:
            parts.abandon()  # never waits on the pool: an interrupt ends the import at once
            parts = None
        raise
    finally:
        if parts is not None:
            parts.close()


def _started(
    path: Path, actor: str, timestamp: datetime, processes: int, parallel_from: int
) -> FileInParts | None:
    """The pool started on the file's parts, cut at line ends; None when the file is too small
    or cannot be split safely. The file is looked over a chunk at a time, never held whole: a
    nation's file is a gigabyte."""
    try:
        stat = path.stat()
        if stat.st_size < parallel_from:
            return None
        with path.open("rb") as f:
            header = f.readline()
            if not header.endswith(b"\n") or b'"' in header or not plain_header(header):
                return None  # another form than plain CSV: read by `office_files`, whole
            size, lines, last = len(header), 0, header[-1:]
            while chunk := f.read(_SCAN):
                if b'"' in chunk:
                    return None
                size += len(chunk)
                lines += chunk.count(b"\n")
                last = chunk[-1:]
            if size != stat.st_size:
                return None  # changed while looked over: the careful way reads it as it is
            header_end = len(header)
            parts = max(processes * PARTS_PER_PROCESS, (size - header_end) // PART_BYTES + 1)
            bounds = [header_end]
            for i in range(1, parts):
                start = header_end + (size - header_end) * i // parts
                f.seek(start)
                cut = start + len(f.readline())  # just past the first line end from there
                if cut > bounds[-1]:
                    bounds.append(cut)
    except OSError:
        return None  # the careful way says why it cannot be read
    if bounds[-1] < size:
        bounds.append(size)
    spans = list(pairwise(bounds))
    if not spans:
        return None
    lines += last != b"\n"  # a last row without its line break
    job = _Job(path, str(path), stat.st_size, stat.st_mtime_ns, header, actor, timestamp)
    return FileInParts(job, spans, lines, processes)


def _hold(job: _Job, parent: int) -> None:
    global _job
    _job = job
    # Ctrl-C reaches the whole process group: the import answers it (and stops this pool);
    # a process reading parts that took it too would die mid-task with a traceback, and
    # could leave the pool's queues locked for the import to wait on for ever.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked while forked
    # A process reading parts ends with the import, even one killed: orphaned, it would read
    # on for nobody and complain on stderr that nobody listens. (Linux; elsewhere the pool's
    # processes end when they find the import gone.)
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    # The kill on the import's death comes after its end of the result pipe is closed: a
    # process sending a part in between finds the pipe broken. The reader is gone, so it ends
    # there, quietly, as Unix programs do (SIGPIPE's default), not with a traceback on the
    # terminal the import shared with it.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if os.getppid() != parent:  # the import ended before the line above
        os._exit(1)


def _read_part(span: tuple[int, int]) -> tuple[tuple[str, ...], int, bytes] | None:
    """A part of the file read, checked and encoded: (columns, how many rows, the pickled
    prepared rows); None when anything in it is wrong (or the file changed)."""
    job = _job
    assert job is not None
    start, end = span
    with job.path.open("rb") as f:
        stat = os.fstat(f.fileno())
        if (stat.st_size, stat.st_mtime_ns) != (job.size, job.mtime_ns):
            return None
        f.seek(start)
        data = f.read(end - start)
    try:
        part = read_registration_lines(io.BytesIO(job.header + data), name=job.name)
    except RegistrationFileError:
        return None
    if part.rejected:
        return None
    rows = prepare_registrations(part.accepted, actor=job.actor, timestamp=job.timestamp)
    return part.columns, len(rows), pickle.dumps(rows, pickle.HIGHEST_PROTOCOL)


__all__ = ["PARALLEL_FROM", "FileInParts", "PreparedFile", "ReadAgain", "file_in_parts",
           "prepare_file"]
