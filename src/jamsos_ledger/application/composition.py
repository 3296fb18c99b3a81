"""The composition root: a ledger of a store, its application service and its views together.

The one place where the write side (`service.LedgerService`) and the read side
(`jamsos_ledger.projections.Views`) meet: neither builds the other. The CLI, scripts and
tests open a ledger here, through `Ledger`; a later front door does the same. Which views a
ledger gets is decided here too: the live ones beside the store's events, or, for a store
that must not be written, views built from the log in a private database (`private_views`,
which an audit's replay and the ledger as of a moment use as well).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from uuid import uuid4

from eventsourcing.persistence import PersistenceError
from eventsourcing.sqlite import SQLiteDatastore

from jamsos_ledger.application.grants_and_notes import GrantsAndNotesService
from jamsos_ledger.application.service import LedgerService
from jamsos_ledger.application.signing import KeySource
from jamsos_ledger.projections.database import ScratchDatastore, ViewDatabase
from jamsos_ledger.projections.helper import HELPER_FROM, HelperRecipe
from jamsos_ledger.projections.runner import Runner
from jamsos_ledger.projections.views import Views, all_projections
from jamsos_ledger.stores.urls import StoreURL

# Past this many events private views are kept in a temporary file rather than in memory:
# then a helper process, which opens the file too, can rebuild alongside (projections.helper).
LARGE_LOG = HELPER_FROM


class Ledger(GrantsAndNotesService):
    """The ledger of one store, opened with its views: `Ledger(url, actor=...)`, or
    `Ledger(url, principal=...)` for a principal whose roles every command checks."""

    # The library names every subclass after the class unless told (tables, settings): the
    # service's name, or a ledger's tables on PostgreSQL would be looked for under another.
    name = LedgerService.name
    views: Views

    def __init__(
        self,
        store: str | StoreURL = "memory://",
        actor: str | None = None,
        *,
        create: bool = True,
        key: KeySource | None = None,
    ) -> None:
        super().__init__(store, actor, views=views_of, create=create, key=key)


def views_of(service: LedgerService) -> Views:
    """The views of an opened service's store: the live ones, or for a store that must not be
    written, the live ones only when they need no writing (`_read_only_views`)."""
    if service.store.read_only:
        return _read_only_views(service)
    return _live_views(service)


def _live_views(service: LedgerService) -> Views:
    """The live views beside a store's events. A store other processes can open (SQLite,
    PostgreSQL) can have a helper process catch up alongside; the helper opens the ledger
    here too."""
    shared = service.store.kind in ("sqlite", "postgresql")
    helper = HelperRecipe(open_ledger_runner, (service.store,)) if shared else None
    return Views.beside(service.recorder, service.mapper, helper)


def _read_only_views(service: LedgerService) -> Views:
    """The projections of a ledger that must not be written: its own tables when they are set
    up and up to date with the log, else every projection built from the log in a private
    database (as an audit's replay builds them)."""
    try:
        views = _live_views(service)  # writes nothing when its tables are set up
    except (PersistenceError, sqlite3.Error):
        return private_views(service)  # they would have to be written: not here
    if any(s.behind for s in views.status()):
        views.close()
        return private_views(service)
    return views


@contextmanager
def open_ledger_runner(store: StoreURL) -> Iterator[Runner]:
    """The runner of the views beside a store's events, in another process (a helper)."""
    ledger = Ledger(store, actor="jamsos-helper")
    try:
        yield ledger.views.runner
    finally:
        ledger.close()


# --- Private views: every projection rebuilt from the log, never in the store -------------


class TemporaryViewDatabase(ViewDatabase):
    """A private SQLite file in a directory of its own, removed when closed."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="jamsos-audit-"))
        super().__init__(ScratchDatastore(str(self.path)), postgres=False, owned=True)

    @property
    def path(self) -> Path:
        return self.directory / "views.db"

    def close(self) -> None:
        try:
            super().close()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def _private_database(service: LedgerService, large_log: int) -> ViewDatabase:
    """A database of the views' own, never the store's: in memory, or a file for long logs."""
    if int(service.recorder.max_notification_id() or 0) > large_log:
        return TemporaryViewDatabase()
    memory = SQLiteDatastore(f"file:jamsos-audit-{uuid4().hex}?mode=memory&cache=shared")
    return ViewDatabase(memory, postgres=False, owned=True)


def private_views(service: LedgerService, until: datetime | None = None) -> Views:
    """Every projection rebuilt from the log into a private database, with only the events
    recorded up to `until` (all of them without it). The caller closes it."""
    return rebuilt_views(service, until)[0]


def rebuilt_views(
    service: LedgerService,
    until: datetime | None,
    progress: Callable[[int], None] | None = None,
    *,
    large_log: int = LARGE_LOG,
) -> tuple[Views, int]:
    """Private views caught up, and how many events of the log were read to build them
    (`progress` told how many each page read); in a temporary file past `large_log` events."""
    db = _private_database(service, large_log)
    try:
        helper = None
        if isinstance(db, TemporaryViewDatabase) and service.store.kind != "memory":
            helper = HelperRecipe(_open_private_runner, (service.store, str(db.path), until))
        runner = Runner(
            db, service.recorder, service.mapper, all_projections(), until=until, helper=helper
        )
        views = Views(runner)
        read = runner.catch_up(progress=progress)
    except BaseException:
        db.close()
        raise
    return views, read


@contextmanager
def _open_private_runner(store: StoreURL, path: str, until: datetime | None) -> Iterator[Runner]:
    """In a helper process: the runner of private views' database, reading the store."""
    ledger = Ledger(store, actor="jamsos-helper")
    db = ViewDatabase(ScratchDatastore(path), postgres=False, owned=True)
    try:
        yield Runner(db, ledger.recorder, ledger.mapper, all_projections(), until=until)
    finally:
        db.close()
        ledger.close()
