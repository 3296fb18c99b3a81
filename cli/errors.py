"""The ledger's errors as click exceptions, with CLI.md's exit codes.

Each layer turns the inner one's errors into its own: the ledger's error tree (and a store
that stops answering mid-command) becomes a click exception that prints `Error: ...` on stderr
and exits with its code, never a traceback.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import click
import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError

from jamsos_ledger.errors import InvalidInput, LedgerError, RuleViolation, StoreUnavailable

# CLI.md, "Exit codes".
EXIT_REFUSED = 1
EXIT_MALFORMED = 2
EXIT_STORE = 3


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


@contextmanager
def translated_errors() -> Iterator[None]:
    """Run a command, turning the ledger's errors and a failing store into click exceptions."""
    try:
        yield
    except LedgerError as e:
        raise to_click(e) from e
    except (OperationalError, InterfaceError, psycopg.OperationalError,
            psycopg.InterfaceError, sqlite3.OperationalError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StoreFailed(
            f"the store stopped answering ({first}); what this command did before is kept "
            "whole or not at all: check with `report budget` and try again"
        ) from e
