"""What every command shares: where the ledger lives, who acts, which program; built once."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import click

from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.domain.model import Program
from jamsos_ledger.stores.keys import key_path


@dataclass
class LedgerContext:
    """The global options, and the ledger opened from them on first use.

    Attributes:
        store: the store URL (`--store`).
        actor: the self-declared name (`--actor`), a note beside each seal; None for none.
        program_code: the program chosen with `--program`, or None for the only one.
        key: the key file (`--key`); None for JAMSOS_KEY's or the default.
    """

    store: str
    actor: str | None
    program_code: str | None
    key: str | None = None
    _ledger: Ledger | None = field(default=None, repr=False)

    def key_source(self) -> KeySource:
        """Where this command's key comes from; its passphrase asked on a terminal."""
        return KeySource(path=self.key, passphrase=_ask_passphrase)

    @property
    def ledger(self) -> Ledger:
        """The ledger, opened now if not yet: `--help` and usage errors never touch the store.
        A store holding no ledger is refused (exit 3), never created: a mistyped path is not
        an empty ledger."""
        if self._ledger is None:
            self._ledger = Ledger(
                self.store, actor=self.actor, create=False, key=self.key_source()
            )
        return self._ledger

    def creating(self) -> Ledger:
        """The ledger, created when the store holds none yet (`program open` only). The key
        is read first: creating a ledger fixes its administrator, whose key it must be."""
        if self._ledger is None:
            source = self.key_source()
            source.load()
            self._ledger = Ledger(self.store, actor=self.actor, create=True, key=source)
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


def _ask_passphrase() -> str | None:
    """The key's passphrase, asked on a terminal (never echoed); None elsewhere."""
    if not sys.stdin.isatty():
        return None
    answer: str = click.prompt(
        f"Passphrase of the key {key_path()}", hide_input=True, err=True, default="",
        show_default=False,
    )
    return answer or None
