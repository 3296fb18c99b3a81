"""The composition root: a ledger of a store, its application service and its views together.

The one place where the write side (`service.LedgerService`) and the read side
(`jamsos_ledger.projections.Views`) meet: neither builds the other. The CLI, scripts and
tests open a ledger here, through `Ledger`; a later front door does the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from jamsos_ledger.application.service import LedgerService
from jamsos_ledger.persistence import StoreURL
from jamsos_ledger.projections.helper import HelperRecipe
from jamsos_ledger.projections.runner import Runner
from jamsos_ledger.projections.views import Views


class Ledger(LedgerService):
    """The ledger of one store, opened with its views: `Ledger(url, actor=...)`."""

    # The library names every subclass after the class unless told (tables, settings): the
    # service's name, or a ledger's tables on PostgreSQL would be looked for under another.
    name = LedgerService.name
    views: Views

    def __init__(self, store: str | StoreURL = "memory://", actor: str | None = None) -> None:
        super().__init__(store, actor, views=views_of)


def views_of(service: LedgerService) -> Views:
    """The live views of an opened service's store. A store other processes can open (SQLite,
    PostgreSQL) can have a helper process catch up alongside; the helper opens the ledger
    here too."""
    shared = service.store.kind in ("sqlite", "postgresql")
    helper = HelperRecipe(open_ledger_runner, (service.store,)) if shared else None
    return Views.beside(service.recorder, service.mapper, helper)


@contextmanager
def open_ledger_runner(store: StoreURL) -> Iterator[Runner]:
    """The runner of the views beside a store's events, in another process (a helper)."""
    ledger = Ledger(store, actor="jamsos-helper")
    try:
        yield ledger.views.runner
    finally:
        ledger.close()
