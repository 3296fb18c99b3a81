"""Principals with the roles a test gives them, each with a key of its own (issue 18's tests).

The session's administrator key (JAMSOS_KEY, conftest.py) creates every ledger and so is its
root; the principals a test names are enrolled by it with exactly the roles given, and act
through a ledger opened with their own key, as a person of that office would.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli_helpers import admin_key, key_for
from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.domain.principals import public_key_text
from jamsos_ledger.stores.keys import SigningKey


def enrol(ledger: Ledger, name: str, roles: Iterable[str], key: SigningKey) -> None:
    """Enrol the holder of `key` as `name` with `roles`, by the ledger's own key (the root),
    unless the key is enrolled already."""
    if ledger.signing.directory().holding(key.public_key) is None:
        ledger.principals.enrol(name, "Test", sorted(roles), public_key_text(key.public_key))


def acting(url: str, name: str, roles: Iterable[str]) -> Ledger:
    """A ledger opened by the principal `name`, enrolled with `roles` when not yet."""
    key = key_for(name)
    admin = Ledger(url, create=False, key=KeySource(key=admin_key()))
    try:
        enrol(admin, name, roles, key)
    finally:
        admin.close()
    return Ledger(url, create=False, key=KeySource(key=key))


def memory_key(name: str) -> SigningKey:
    """A key held in memory only (a state machine's principals): never written to a file."""
    return SigningKey(Ed25519PrivateKey.generate(), Path(f"<{name}>"))
