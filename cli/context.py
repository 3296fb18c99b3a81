"""What every command shares: where the ledger lives, who acts, which program; built once."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.model import Program


@dataclass
class LedgerContext:
    """The global options, and the ledger opened from them on first use.

    Attributes:
        store: the store URL (`--store`).
        actor: who acts (`--actor`); None for the operating-system user.
        program_code: the program chosen with `--program`, or None for the only one.
    """

    store: str
    actor: str | None
    program_code: str | None
    _ledger: Ledger | None = field(default=None, repr=False)

    @property
    def ledger(self) -> Ledger:
        """The ledger, opened now if not yet: `--help` and usage errors never touch the store.
        A store holding no ledger is refused (exit 3), never created: a mistyped path is not
        an empty ledger."""
        if self._ledger is None:
            self._ledger = Ledger(self.store, actor=self.actor, create=False)
        return self._ledger

    def creating(self) -> Ledger:
        """The ledger, created when the store holds none yet (`program open` only)."""
        if self._ledger is None:
            self._ledger = Ledger(self.store, actor=self.actor, create=True)
        return self._ledger

    def written(self) -> bool:
        """Whether the ledger's log changed since the command opened it (by this command,
        or by another meanwhile): never said "nothing was written" when something was."""
        return self._ledger is not None and self._ledger.changed_since_opened()

    def kept(self) -> str:
        """What a command committing in batches has kept so far, in words; empty when it
        commits all at once (or has finished)."""
        return "" if self._ledger is None else self._ledger.kept

    def program(self) -> Program:
        """The program chosen with `--program`, or the only one in the ledger."""
        return self.ledger.program(self.program_code)

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


pass_ledger = click.make_pass_decorator(LedgerContext)
