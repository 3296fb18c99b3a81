"""Personal data at rest (UU 27/2022): the key that encrypts every stored event's state, and
the marks that tell an encrypted ledger, and its key from a wrong one, without storing the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from jamsos_ledger.domain.errors import InvalidInput, StoreUnavailable

# Personal data at rest (UU 27/2022): with a key in this variable, every stored event's state
# is encrypted with AES-GCM by the library (base64 of 16, 24 or 32 random bytes).
CIPHER_KEY_VARIABLE = "JAMSOS_CIPHER_KEY"
CIPHER_TOPIC = "eventsourcing.cipher:AESCipher"
MAKE_A_KEY = (
    "make one with: python -c \"from eventsourcing.cipher import AESCipher; "
    "print(AESCipher.create_key(num_bytes=32))\""
)
# The meta table's marks of an encrypted ledger, and the constant whose HMAC under the key
# tells the right key from a wrong one without storing the key.
ENCRYPTED_MARK = "encrypted"
KEY_CHECK_MARK = "key_check"
_KEY_CHECK_MESSAGE = b"jamsos-ledger key check v1"


def cipher_key() -> str | None:
    """The key of JAMSOS_CIPHER_KEY, or None; InvalidInput when it is not a usable key."""
    key = os.environ.get(CIPHER_KEY_VARIABLE, "").strip()
    if not key:
        return None
    try:
        size = len(base64.b64decode(key, validate=True))
    except (binascii.Error, ValueError):
        size = -1
    if size not in (16, 24, 32):  # a malformed setting, like a malformed command line
        raise InvalidInput(
            f"{CIPHER_KEY_VARIABLE} is not a key (base64 of 16, 24 or 32 bytes); {MAKE_A_KEY}"
        )
    return key


def cipher_environment() -> dict[str, str]:
    """The library's cipher settings: with a key it encrypts every event's state; without one,
    none, whatever else the environment holds.

    The library also reads each setting under the application's name (`JAMSOS_CIPHER_KEY` is
    its name for `CIPHER_KEY`, and wins over it), so both spellings are set, to what
    `cipher_key()` accepted.
    """
    key = cipher_key() or ""
    topic = CIPHER_TOPIC if key else ""
    return {"CIPHER_KEY": key, "JAMSOS_CIPHER_KEY": key,
            "CIPHER_TOPIC": topic, "JAMSOS_CIPHER_TOPIC": topic}


def key_check(key: str) -> str:
    """A value that tells whether a key is the ledger's, and nothing about the key."""
    secret = base64.b64decode(key)
    return hmac.new(secret, _KEY_CHECK_MESSAGE, hashlib.sha256).hexdigest()


def cipher_marks(marks: dict[str, str], key: str | None, has_events: bool) -> dict[str, str]:
    """Refuse a key that cannot read the ledger; the marks to add for a newly encrypted one.

    An encrypted ledger needs its key; a ledger with events written in clear refuses a key,
    since a history half in clear and half encrypted could not be read by either.
    """
    if marks.get(ENCRYPTED_MARK) == "1":
        if key is None:
            raise StoreUnavailable(
                "this ledger's personal data is encrypted: set JAMSOS_CIPHER_KEY to the key "
                "it was written with"
            )
        if not hmac.compare_digest(marks.get(KEY_CHECK_MARK, ""), key_check(key)):
            raise StoreUnavailable(
                "JAMSOS_CIPHER_KEY is not the key this ledger's personal data is encrypted "
                "with: set it to the key the ledger was written with"
            )
        return {}
    if key is None:
        return {}
    if has_events:
        raise StoreUnavailable(
            "this ledger was written without encryption, so it cannot be encrypted now: unset "
            "JAMSOS_CIPHER_KEY to use it, or start a new ledger with the key"
        )
    return {ENCRYPTED_MARK: "1", KEY_CHECK_MARK: key_check(key)}
