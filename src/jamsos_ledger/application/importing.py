"""Importing a registration file: the strategy and its fallback, for every front door.

A big, clean file is read in parts by several processes while the store writes what they
hand back (`import_pool.file_in_parts`); whenever a part finds anything wrong, or a NIK of one
part is in another, that transaction is undone and the file is read again the careful way,
whole in one process, which names every problem with its line. A file with any bad row is
refused whole unless its good rows are to be kept (the bad ones written elsewhere by the
caller). The store is opened only for a file worth importing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from datetime import datetime
from itertools import chain, islice
from pathlib import Path

from jamsos_ledger.application.import_pool import (
    FileInParts,
    ReadAgain,
    file_in_parts,
    prepare_file,
)
from jamsos_ledger.application.service import LedgerService, RegisterResult, RepeatedWorker
from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.model import Worker
from jamsos_ledger.files.registrations import RegistrationFile

# A progress display for that many rows: a context manager yielding what to tell of each
# batch written (a front door's bar, or nothing).
Progress = Callable[[int], AbstractContextManager[Callable[[int], None]]]


def import_registrations(
    file: Path,
    open_ledger: Callable[[], LedgerService],
    *,
    actor: str,
    keep_good_rows: bool,
    progress: Progress,
) -> tuple[RegisterResult, RegistrationFile]:
    """Register the workers of a registration file in one transaction: all of it or nothing.

    Returns what was registered and the file as read (its rejected rows, when
    `keep_good_rows`). Raises InvalidInput listing every bad row, nothing written, when the
    file has any and its good rows are not to be kept.
    """
    timestamp = Worker.Registered.create_timestamp()
    with file_in_parts(file, actor=actor, timestamp=timestamp) as parts:
        if parts is not None:
            with suppress(ReadAgain, RepeatedWorker):  # rolled back: read the careful way
                return _in_parts(open_ledger, parts, progress)
    return _whole(file, open_ledger, actor, timestamp, keep_good_rows, progress)


def _in_parts(
    open_ledger: Callable[[], LedgerService], parts: FileInParts, progress: Progress
) -> tuple[RegisterResult, RegistrationFile]:
    """A big file registered while other processes read it. Raises ReadAgain or
    RepeatedWorker (nothing committed) when any part finds anything wrong, or a NIK of one
    part is in another."""
    rows = parts.rows()
    first = list(islice(rows, 1))  # the first part found good before the store is opened
    ledger = open_ledger()
    with progress(parts.lines) as advance:
        result = ledger.register_prepared(chain(first, rows), progress=advance, once=True)
    return result, parts.file


def _whole(
    file: Path,
    open_ledger: Callable[[], LedgerService],
    actor: str,
    timestamp: datetime,
    keep_good_rows: bool,
    progress: Progress,
) -> tuple[RegisterResult, RegistrationFile]:
    """The file read whole in one process, every problem named with its line."""
    prepared = prepare_file(file, actor=actor, timestamp=timestamp, processes=1)
    registrations = prepared.file
    if registrations.rejected and not keep_good_rows:
        raise InvalidInput(registrations.refusal())
    ledger = open_ledger()  # the store is opened only for a file worth importing
    with progress(prepared.count) as advance:
        rows = chain.from_iterable(prepared.prepared())
        return ledger.register_prepared(rows, progress=advance), registrations
