"""The ledger's errors as click exceptions, with the exit codes the README promises.

Each layer turns the inner one's errors into its own: the ledger's error tree (and a store
that stops answering mid-command) becomes a click exception that prints `Error: ...` on stderr
and exits with its code, never a traceback.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from eventsourcing.persistence import (
    InterfaceError,
    MapperDeserialisationError,
    OperationalError,
    PersistenceError,
)

from jamsos_ledger.domain.errors import (
    InvalidInput,
    LedgerError,
    NotAuthorised,
    RoleRefused,
    RuleViolation,
    StoreUnavailable,
)
from jamsos_ledger.stores.urls import redact

# The README's "Exit codes": a promise to scripts, never renumbered (4, an audit's discrepancy,
# is the audit commands').
EXIT_REFUSED = 1
EXIT_MALFORMED = 2
EXIT_STORE = 3
EXIT_DISCREPANCY = 4  # an audit that found a discrepancy
# What the command did was recorded (the message says what, or that nothing was), but its
# output could not be written: the standard output failed (a closed pipe, a full disk) or a
# file it writes (a chart, a rejects file) could not be completed.
EXIT_OUTPUT = 5
# Who runs the command is not proven: no usable key (missing, unreadable, wrong passphrase), a
# key no principal of the ledger holds or a revoked one's, or a principal not allowed to do it.
EXIT_NOT_AUTHORISED = 6
# The principal is proven (its key) but holds no role that allows the command: the message
# says which role it needs; nothing was written.
EXIT_ROLE = 7


class Refused(click.ClickException):
    """A rule of the program refused the command; nothing was written."""

    exit_code = EXIT_REFUSED


class NotAuthorisedFailed(click.ClickException):
    """The command's author is not proven, or may not do it; nothing was written."""

    exit_code = EXIT_NOT_AUTHORISED


class NotAllowed(click.ClickException):
    """The acting principal holds no role that allows the command; nothing was written."""

    exit_code = EXIT_ROLE


class Malformed(click.ClickException):
    """The command line or an input file is malformed; nothing was written."""

    exit_code = EXIT_MALFORMED


class StoreFailed(click.ClickException):
    """The store cannot be reached or is not a jamsos ledger."""

    exit_code = EXIT_STORE


class OutputFailed(click.ClickException):
    """The command's output could not be written; the message says what was recorded."""

    exit_code = EXIT_OUTPUT


class OutputFileFailed(Exception):
    """A file the command writes (`--chart`, `--rejects`) could not be completed; nothing of it
    was left behind. Told apart from every other OSError so the message can say which file."""

    def __init__(self, option: str, path: object, reason: str) -> None:
        super().__init__(f"{option} {path}: {reason}")
        self.option, self.path, self.reason = option, path, reason

    def what(self) -> str:
        return (f"the file of {self.option}, {self.path}, could not be written ({self.reason}); "
                "nothing of it was left behind")


class StdoutFailed(Exception):
    """Writing the standard output failed (a closed pipe, a full disk, a closed descriptor).

    Raised instead of the OSError by the guard on `sys.stdout` (`streams`), so that an OSError
    of anything else (an input file, the store's settings) is never taken for it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def what(self) -> str:
        return f"the standard output could not be written ({self.reason})"


RECORDED = "jamsos.recorded"  # in click's context meta: what the command recorded so far


def recorded_so_far() -> list[str]:
    """What the running command said it recorded (`output.echo_recorded`), in order."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return []
    found: list[str] = ctx.meta.setdefault(RECORDED, [])
    return found


def output_failed(failure: OutputFileFailed | StdoutFailed) -> OutputFailed:
    """The message for an output that failed: what was recorded before it, or that nothing
    was; never "nothing was written" when something was."""
    recorded = recorded_so_far()
    if recorded:
        return OutputFailed(
            f"recorded: {'; '.join(recorded)}; but {failure.what()}. What was recorded stays "
            "recorded: see it with `audit log` or the reports before running the command again"
        )
    return OutputFailed(f"{failure.what()}; nothing was recorded in the ledger")


def to_click(error: LedgerError) -> click.ClickException:
    """The click exception (and so the exit code) for one of the ledger's errors."""
    message = str(error)
    if isinstance(error, RoleRefused):
        return NotAllowed(message)
    if isinstance(error, NotAuthorised):
        return NotAuthorisedFailed(message)
    if isinstance(error, StoreUnavailable):
        return StoreFailed(message)
    if isinstance(error, InvalidInput):
        return Malformed(message)
    if isinstance(error, RuleViolation):
        return Refused(message)
    return Refused(message)


def _store_errors(*, lost: bool) -> tuple[type[Exception], ...]:
    """The errors of a store that stopped answering (`lost`), or of a store at all.

    psycopg's among them once psycopg is imported: a command on SQLite never imports it (a
    tenth of a second), and so never raises them.
    """
    found: tuple[type[Exception], ...] = (
        (OperationalError, InterfaceError, sqlite3.OperationalError)
        if lost
        else (PersistenceError, sqlite3.Error)
    )
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        found += (psycopg.OperationalError, psycopg.InterfaceError) if lost else (psycopg.Error,)
    return found


@contextmanager
def translated_errors(kept: Callable[[], str] = str) -> Iterator[None]:
    """Run a command, turning the ledger's errors and a failing store into click exceptions.

    `kept` says what the command has committed so far when it commits in batches (empty
    otherwise): a store that stops answering half-way is then reported with what was kept.
    """
    try:
        yield
    except (OutputFileFailed, StdoutFailed) as e:
        raise output_failed(e) from e
    except LedgerError as e:
        if isinstance(e, StoreUnavailable):  # e.g. "cannot open the ledger": say why
            _refuse_if_damaged(e)
        raise to_click(e) from e
    except _store_errors(lost=True) as e:
        _refuse_if_damaged(e)
        if kept():  # a command committing in batches: what it kept, whatever stopped it
            reason = "the store is busy" if _busy(e) else "the store stopped answering"
            raise StoreFailed(f"{reason} ({_first_line(e)}): {kept()}") from e
        if _busy(e):
            raise StoreFailed(_BUSY) from e
        if _caused_by(e, _READ_ONLY_SIGNS):
            raise StoreFailed(_READ_ONLY) from e
        raise StoreFailed(
            f"the store stopped answering ({_first_line(e)}); what this command did before is "
            "kept whole or not at all: check with `report budget` and try again"
        ) from e
    except _store_errors(lost=False) as e:
        _refuse_if_damaged(e)
        # Not expected (conflicts are retried by the ledger), but never a traceback.
        if kept():
            raise StoreFailed(f"the store refused a write ({_first_line(e)}): {kept()}") from e
        raise StoreFailed(
            f"the store refused a write ({_first_line(e)}); nothing of the unfinished "
            "transaction was written: check with `report budget` and try again"
        ) from e
    except (UnicodeDecodeError, MapperDeserialisationError) as e:  # bytes altered in the store
        _refuse_if_damaged(e)
        raise


# Another command holds the lock longer than the store's lock timeout: SQLite's one writer
# (`database is locked`), PostgreSQL's lock timeout, or a deadlock PostgreSQL broke.
_BUSY_SIGNS = ("database is locked", "database table is locked", "lock timeout",
               "deadlock detected", "could not obtain lock")
_BUSY = (
    "the store is busy: other jamsos commands held the ledger's write lock longer than the lock "
    "timeout (JAMSOS_SQLITE_LOCK_TIMEOUT or JAMSOS_LOCK_TIMEOUT, 30 s by default); nothing of "
    "the unfinished transaction was written; try again, or raise the timeout"
)


# What SQLite says of a file whose bytes were altered (a bad disk, a bit flipped in a copy).
_DAMAGE_SIGNS = ("file is not a database", "database disk image is malformed",
                 "malformed database schema", "could not decode to utf-8")
# Where a store's text is decoded: a UnicodeDecodeError raised there is a damaged file, not
# bad input (input files are read, and their encoding checked, elsewhere).
_STORE_MODULES = ("eventsourcing.", "jamsos_ledger.stores.urls", "jamsos_ledger.stores.marks",
                  "jamsos_ledger.stores.cipher", "jamsos_ledger.stores.bulk_reads",
                  "jamsos_ledger.stores.recorder_kinds", "jamsos_ledger.projections",
                  "jamsos_ledger.stores.log_reader", "jamsos_ledger.stores.integrity",
                  "jamsos_ledger.stores.bulk_writes", "jamsos_ledger.application.service",
                  "jamsos_ledger.application.composition")


def _refuse_if_damaged(e: BaseException) -> None:
    """StoreFailed saying the ledger's file is damaged, when the error shows it is."""
    damage = _damage(e)
    if damage is not None and "file is not a database" in str(damage):  # or not SQLite at all
        raise StoreFailed(
            f"the ledger {_store_file()} is damaged, or is not a jamsos ledger at all "
            f"({_first_line(damage)}): nothing was written; if it is the ledger, restore it "
            "from a backup, and check the copy with `audit verify`"
        ) from e
    if damage is not None:
        raise StoreFailed(
            f"the ledger {_store_file()} is damaged ({_first_line(damage)[:200]}): nothing was "
            "written; restore it from a backup, and check the copy with `audit verify`"
        ) from e


def _damage(e: BaseException) -> BaseException | None:
    """The error in the chain of causes that shows the store's file is damaged, if any."""
    seen: BaseException | None = e
    for _ in range(10):  # bounded in case the chain loops
        if seen is None:
            break
        if isinstance(seen, sqlite3.DatabaseError) and any(
            sign in str(seen).lower() for sign in _DAMAGE_SIGNS
        ):
            return seen
        if isinstance(seen, UnicodeDecodeError) and _raised_in_store(seen):
            return seen
        if isinstance(seen, MapperDeserialisationError):  # a stored event's bytes altered
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _raised_in_store(e: BaseException) -> bool:
    """Whether the innermost frame of the error's traceback reads the store."""
    tb = e.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    module = str(tb.tb_frame.f_globals.get("__name__", ""))
    return module.startswith(_STORE_MODULES)


def _store_file() -> str:
    """The ledger as the user named it (`--store`: `file PATH` for SQLite), for messages."""
    ctx = click.get_current_context(silent=True)
    store = str(getattr(ctx.find_root().obj, "store", "") if ctx is not None else "")
    if store.lower().startswith("sqlite:///"):
        return f"file {store[len('sqlite:///'):]}"
    return redact(store)
# A write on a ledger opened read-only (`?mode=ro`, `?immutable=1`, a file this user cannot
# write): refused by SQLite before anything changed.
_READ_ONLY_SIGNS = ("attempt to write a readonly database",)
_READ_ONLY = (
    "the ledger is opened read-only (the store URL's mode=ro or immutable=1, or a file this "
    "user cannot write), and this command writes: nothing was written; run it on a ledger "
    "you can write"
)


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _busy(e: BaseException) -> bool:
    return _caused_by(e, _BUSY_SIGNS)


def _caused_by(e: BaseException, signs: tuple[str, ...]) -> bool:
    """Whether the error, or one of its causes, says one of these things."""
    seen: BaseException | None = e
    for _ in range(10):  # the chain of causes, bounded in case it loops
        if seen is None:
            break
        if any(sign in str(seen).lower() for sign in signs):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
