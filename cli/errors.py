"""The ledger's errors as click exceptions, with CLI.md's exit codes.

Each layer turns the inner one's errors into its own: the ledger's error tree (and a store
that stops answering mid-command) becomes a click exception that prints `Error: ...` on stderr
and exits with its code, never a traceback.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from eventsourcing.persistence import InterfaceError, OperationalError, PersistenceError

from jamsos_ledger.errors import InvalidInput, LedgerError, RuleViolation, StoreUnavailable

# CLI.md, "Exit codes".
EXIT_REFUSED = 1
EXIT_MALFORMED = 2
EXIT_STORE = 3
EXIT_DISCREPANCY = 4  # an audit that found a discrepancy


class Refused(click.ClickException):
    """A rule of the program refused the command; nothing was written."""

    exit_code = EXIT_REFUSED


class Malformed(click.ClickException):
    """The command line or an input file is malformed; nothing was written."""

    exit_code = EXIT_MALFORMED


class StoreFailed(click.ClickException):
    """The store cannot be reached or is not a jamsos ledger."""

    exit_code = EXIT_STORE


def to_click(error: LedgerError) -> click.ClickException:
    """The click exception (and so the exit code) for one of the ledger's errors."""
    message = str(error)
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
def translated_errors() -> Iterator[None]:
    """Run a command, turning the ledger's errors and a failing store into click exceptions."""
    try:
        yield
    except LedgerError as e:
        raise to_click(e) from e
    except _store_errors(lost=True) as e:
        if _busy(e):
            raise StoreFailed(_BUSY) from e
        raise StoreFailed(
            f"the store stopped answering ({_first_line(e)}); what this command did before is "
            "kept whole or not at all: check with `report budget` and try again"
        ) from e
    except _store_errors(lost=False) as e:
        # Not expected (conflicts are retried by the ledger), but never a traceback.
        raise StoreFailed(
            f"the store refused a write ({_first_line(e)}); nothing of the unfinished "
            "transaction was written: check with `report budget` and try again"
        ) from e


# Another command holds the lock longer than the store's lock timeout: SQLite's one writer
# (`database is locked`), PostgreSQL's lock timeout, or a deadlock PostgreSQL broke.
_BUSY_SIGNS = ("database is locked", "database table is locked", "lock timeout",
               "deadlock detected", "could not obtain lock")
_BUSY = (
    "the store is busy: other jamsos commands held the ledger's write lock longer than the lock "
    "timeout (JAMSOS_SQLITE_LOCK_TIMEOUT or JAMSOS_LOCK_TIMEOUT, 30 s by default); nothing of "
    "the unfinished transaction was written; try again, or raise the timeout"
)


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _busy(e: BaseException) -> bool:
    seen: BaseException | None = e
    for _ in range(10):  # the chain of causes, bounded in case it loops
        if seen is None:
            break
        if any(sign in str(seen).lower() for sign in _BUSY_SIGNS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
