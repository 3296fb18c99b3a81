"""What every command shares: where the ledger lives, who acts, which program; built once."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from jamsos_ledger.application import Ledger
from jamsos_ledger.domainmodel import Program


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
        """The ledger, opened now if not yet: `--help` and usage errors never touch the store."""
        if self._ledger is None:
            self._ledger = Ledger(self.store, actor=self.actor)
        return self._ledger

    def program(self) -> Program:
        """The program chosen with `--program`, or the only one in the ledger."""
        return self.ledger.program(self.program_code)

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


pass_ledger = click.make_pass_decorator(LedgerContext)
