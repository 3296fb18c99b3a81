"""Seals: every transaction that appends events is signed by the principal who wrote it.

A seal is one row of the seals table (`jamsos_seals` beside the ledger's events), written by
the recorder in the same database transaction as the events and their chain rows: the author's
Ed25519 signature over the chain head the transaction leaves (its position and chain hash), the
signature of the seal before it, and who signed (principal, key fingerprint, the principal the
service acted for, a self-declared note). One seal a transaction, never one an event: an import
of 200,000 workers is one signature.

The first seal of a ledger is its root: the administrator fixed when the ledger was created
signs, with the key whose public half the seal itself carries, the (empty) history; or, for a
ledger written before seals existed, the history as of a position (an adoption, recorded as
such). Its key's fingerprint is what an auditor pins (`seal_check` walks the rest).

Someone who can write the store but holds no enrolled private key cannot make a seal: events
they add are covered by none, an event they change breaks the chain hash a seal signed, a seal
they copy elsewhere signs another position and another seal before it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from jamsos_ledger.domain.errors import LedgerError, NotAuthorised
from jamsos_ledger.domain.principals import parse_public_key, public_key_text
from jamsos_ledger.stores.keys import SigningKey

_LABEL = b"jamsos-seal/1\x00"
SEAL_TABLE = "jamsos_seals"  # the seals of the ledger's own events table

# Kinds of seal.
ROOT = "root"  # the first: the administrator fixed at creation, its public key in `body`
WRITE = "write"  # a transaction's events


def seal_table_of(chain_table: str, ledger_chain_table: str) -> str:
    """The seals table beside a chain table (`integrity.chain_table_of`): the ledger's is
    `SEAL_TABLE`, any other `<events table>_seals` (as long as its chain table's name)."""
    if chain_table == ledger_chain_table:
        return SEAL_TABLE
    return chain_table[: -len("_chain")] + "_seals"


# The canonical encoding of what is signed: tagged, length-prefixed fields (as the chain's).
def _field(tag: bytes, payload: bytes) -> bytes:
    return tag + len(payload).to_bytes(8, "big") + payload


def _int_field(value: int) -> bytes:
    return _field(b"i", str(value).encode())


def _text_field(value: str) -> bytes:
    return _field(b"s", value.encode())


def _bytes_field(value: bytes) -> bytes:
    return _field(b"b", value)


@dataclass(frozen=True)
class Seal:
    """A seal as stored.

    Attributes:
        position: the last position of the transaction it seals (its chain head).
        kind: `root` or `write`.
        principal: who signed.
        fingerprint: the fingerprint of the key that signed.
        on_behalf_of: the principal the signer (the HTTP service) acted for, or None.
        note: a self-declared name (`--actor`), proving nothing, or None.
        body: for a root seal, the root principal (name, office, public key) as JSON.
        previous: the signature of the seal before it (empty for the root).
        signature: the signer's signature of `message(head)`.
    """

    position: int
    kind: str
    principal: str
    fingerprint: str
    on_behalf_of: str | None
    note: str | None
    body: bytes
    previous: bytes
    signature: bytes

    def message(self, head: bytes) -> bytes:
        """What is signed, given the chain hash at `position` (32 zero bytes when none)."""
        return b"".join(
            (
                _LABEL,
                _int_field(self.position),
                _bytes_field(head),
                _bytes_field(self.previous),
                _text_field(self.kind),
                _text_field(self.principal),
                _text_field(self.fingerprint),
                _text_field(self.on_behalf_of or ""),
                _text_field(self.note or ""),
                _bytes_field(self.body),
            )
        )

    def row(self) -> tuple[Any, ...]:
        """The values of the seals table's columns, in `COLUMNS` order."""
        return (
            self.position, self.kind, self.principal, self.fingerprint, self.on_behalf_of,
            self.note, self.body, self.previous, self.signature,
        )

    def root_principal(self) -> dict[str, Any] | None:
        """A root seal's principal (name, office, public_key as bytes); None when unreadable."""
        try:
            found = json.loads(self.body)
            return {
                "name": str(found["name"]),
                "office": str(found["office"]),
                "public_key": parse_public_key(str(found["public_key"])),
            }
        except (ValueError, KeyError, TypeError, LedgerError):
            return None


COLUMNS = (
    "position", "kind", "principal", "fingerprint", "on_behalf_of", "note", "body", "previous",
    "signature",
)


def seal_from_row(row: Any) -> Seal:
    """A seal from a row of the seals table (whatever an attacker stored: compared, never
    trusted)."""
    values = list(row)
    return Seal(
        position=int(values[0]),
        kind=str(values[1]),
        principal=str(values[2]),
        fingerprint=str(values[3]),
        on_behalf_of=None if values[4] is None else str(values[4]),
        note=None if values[5] is None else str(values[5]),
        body=_raw(values[6]),
        previous=_raw(values[7]),
        signature=_raw(values[8]),
    )


def _raw(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return repr(value).encode()


def root_body(name: str, office: str, public_key: bytes) -> bytes:
    """A root seal's body: the root administrator, as canonical JSON."""
    return json.dumps(
        {"name": name, "office": office, "public_key": public_key_text(public_key)},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


class SealMaker(Protocol):
    """What a recorder asks for the seal of a transaction it is about to commit."""

    def seal(
        self, position: int, head: bytes, previous: Seal | None, kind: str = WRITE,
        body: bytes = b"",
    ) -> Seal:
        """The seal of the chain head at `position` (raise to refuse: nothing is written)."""


@dataclass
class Sealer:
    """Signs a command's transactions with a principal's key.

    Attributes:
        key: the principal's private key.
        principal: its name.
        on_behalf_of: who the service acts for (only a `service` principal may say).
        note: the self-declared `--actor`, kept beside the seal.
    """

    key: SigningKey
    principal: str
    on_behalf_of: str | None = None
    note: str | None = None
    sealed: int = field(default=0, compare=False)  # seals made: tests and the bench count

    def seal(
        self, position: int, head: bytes, previous: Seal | None, kind: str = WRITE,
        body: bytes = b"",
    ) -> Seal:
        unsigned = Seal(
            position=position,
            kind=kind,
            principal=self.principal,
            fingerprint=self.key.fingerprint,
            on_behalf_of=self.on_behalf_of,
            note=self.note,
            body=body,
            previous=b"" if previous is None else previous.signature,
            signature=b"",
        )
        self.sealed += 1
        return Seal(**{**unsigned.__dict__, "signature": self.key.sign(unsigned.message(head))})


@dataclass(frozen=True)
class Refusal:
    """The seal maker of a command that may not write: every write is refused with `reason`,
    inside the transaction, so nothing of it is kept."""

    reason: str

    def seal(
        self, position: int, head: bytes, previous: Seal | None, kind: str = WRITE,
        body: bytes = b"",
    ) -> Seal:
        raise NotAuthorised(self.reason)


__all__ = [
    "COLUMNS",
    "ROOT",
    "SEAL_TABLE",
    "WRITE",
    "NotAuthorised",
    "Refusal",
    "Seal",
    "SealMaker",
    "Sealer",
    "root_body",
    "seal_from_row",
    "seal_table_of",
]
