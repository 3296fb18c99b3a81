"""A registration file read for import, in parts by several processes at once.

Reading, checking and encoding the rows of a city's file is most of an import's work, and all
of it is per row: forked processes each take a part of the file (whole lines), read it with the
same reader as a single process (`registration.read_registration_lines`, every check of the
domain asked of every row), and hand back only plain bytes: each worker's id and the encoded
state of its `Registered` event (`application.prepare_registrations`). Objects such as
`Registration` cost more to send between processes than to build.

Nothing is written before every part is back: the import still refuses a bad file whole. The
parts only ever take the way of a clean file; whenever a part finds anything wrong (a bad row,
a line that is not UTF-8, a NIK twice, even across parts), or a file's rows cannot be split
safely (a quote: quoted fields may hold line breaks), the whole file is read again the careful
way, from the start in one process, which names every problem with its line as it always did.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import multiprocessing
import os
import pickle
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from jamsos_ledger.application import PreparedRegistration, prepare_registrations
from jamsos_ledger.registration import (
    RegistrationFile,
    RegistrationFileError,
    read_registration_lines,
    read_registrations,
)

# Files smaller than this are read in one process: starting others costs more than it saves
# (about 20,000 rows).
PARALLEL_FROM = 2_000_000
# Processes at most; the machines the ledger runs on have two cores.
MAX_PROCESSES = 4
# Parts a process: each process holds only a small part's objects at a time (the benchmark
# counts the memory of every process of an import), and results come back as parts are done.
PARTS_PER_PROCESS = 16
_ID = 16  # bytes of a worker id
_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent ends


@dataclass
class PreparedFile:
    """A registration file read for import.

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
    """Read, check and encode a registration file for import, in parts when it is big.

    Raises RegistrationFileError when the file cannot be read as registrations at all; bad
    rows are in the result's `file.rejected`, named as `read_registrations` names them.
    """
    path = Path(path)
    if processes is None:
        processes = min(os.cpu_count() or 1, MAX_PROCESSES)
    if processes > 1 and "fork" in multiprocessing.get_all_start_methods():
        in_parts = _in_parts(path, actor, timestamp, processes, parallel_from)
        if in_parts is not None:
            return in_parts
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


def _in_parts(
    path: Path, actor: str, timestamp: datetime, processes: int, parallel_from: int
) -> PreparedFile | None:
    """The file read in parts by `processes` processes; None when it must be read the
    careful way (too small, not splittable, or anything wrong in any part)."""
    try:
        stat = path.stat()
        if stat.st_size < parallel_from:
            return None
        data = path.read_bytes()
    except OSError:
        return None  # the careful way says why it cannot be read
    if len(data) != stat.st_size or b'"' in data:
        return None
    header_end = data.find(b"\n") + 1
    if header_end == 0:
        return None
    bounds = [header_end]
    parts = processes * PARTS_PER_PROCESS
    for i in range(1, parts):
        cut = data.find(b"\n", header_end + (len(data) - header_end) * i // parts) + 1
        if cut > bounds[-1]:
            bounds.append(cut)
    if bounds[-1] < len(data):
        bounds.append(len(data))
    spans = list(pairwise(bounds))
    if not spans:
        return None
    job = _Job(path, str(path), stat.st_size, stat.st_mtime_ns, data[:header_end], actor,
               timestamp)
    del data  # each process reads its own parts: the file is not held in every one of them
    context = multiprocessing.get_context("fork")
    results: list[tuple[tuple[str, ...], bytes, bytes]] = []
    with context.Pool(min(processes, len(spans)), initializer=_hold,
                      initargs=(job, os.getpid())) as pool:
        for result in pool.imap(_read_part, spans):
            if result is None:
                return None  # the pool's processes are stopped on leaving
            results.append(result)
    # Once the other processes are gone: a NIK twice in the file, even in two parts?
    seen = {ids[i : i + _ID] for _, ids, _ in results for i in range(0, len(ids), _ID)}
    count = sum(len(ids) // _ID for _, ids, _ in results)
    if len(seen) != count:
        return None
    del seen
    columns = results[0][0]
    blobs = [blob for _, _, blob in results]
    return PreparedFile(RegistrationFile(name=job.name, columns=columns), blobs, count)


def _hold(job: _Job, parent: int) -> None:
    global _job
    _job = job
    # A process reading parts ends with the import, even one killed: orphaned, it would read
    # on for nobody and complain on stderr that nobody listens. (Linux; elsewhere the pool's
    # processes end when they find the import gone.)
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the import ended before the line above
        os._exit(1)


def _read_part(span: tuple[int, int]) -> tuple[tuple[str, ...], bytes, bytes] | None:
    """A part of the file read, checked and encoded: (columns, the worker ids joined, the
    pickled prepared rows); None when anything in it is wrong (or the file changed)."""
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
    ids = b"".join(oid for oid, _ in rows)
    return part.columns, ids, pickle.dumps(rows, pickle.HIGHEST_PROTOCOL)


__all__ = ["PARALLEL_FROM", "PreparedFile", "prepare_file"]
