"""A principal's private key: an Ed25519 key in a file only its owner can read.

The file is PKCS#8 PEM, encrypted with a passphrase when one is given (then JAMSOS_KEY_PASSPHRASE
holds it, or the command line asks on a terminal). It is named by `--key` or JAMSOS_KEY, and
lives by default in the user's configuration folder (`$XDG_CONFIG_HOME/jamsos/key`, else
`~/.config/jamsos/key`). It is written to a temporary name with mode 0600 and renamed, so it is
never readable by others, even for a moment, and never half-written. The private key never
enters the ledger: only its public half (`principals.public_key_text`) is enrolled.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from jamsos_ledger.domain.errors import NotAuthorised
from jamsos_ledger.domain.principals import fingerprint

KEY_ENV = "JAMSOS_KEY"
PASSPHRASE_ENV = "JAMSOS_KEY_PASSPHRASE"


class KeyUnusable(NotAuthorised):
    """The key file is missing, unreadable, not a key, or its passphrase is wrong."""


def default_key_path() -> Path:
    """Where a key lives when neither --key nor JAMSOS_KEY names one."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "jamsos" / "key"


def key_path(given: str | os.PathLike[str] | None = None) -> Path:
    """The key file: the one given, else JAMSOS_KEY's, else the default."""
    if given:
        return Path(given).expanduser()
    env = os.environ.get(KEY_ENV)
    return Path(env).expanduser() if env else default_key_path()


@dataclass(frozen=True)
class SigningKey:
    """A loaded private key, and where it came from (for messages)."""

    private: Ed25519PrivateKey
    path: Path

    @property
    def public_key(self) -> bytes:
        """The raw 32 bytes of the public half."""
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def signature_holds(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether `signature` is the holder of `public_key`'s signature of `message`."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def new_key_file(
    path: Path, passphrase: str | None = None, *, overwrite: bool = False
) -> SigningKey:
    """Create a new key and write it to `path` (0600, temp and rename, its folder 0700 when
    created); refused when the file exists, unless `overwrite`."""
    if path.exists() and not overwrite:
        raise KeyUnusable(
            f"{path} exists already: a key is never overwritten by accident (choose another "
            "--key, or remove the old file once its principal's key was rotated)"
        )
    private = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as e:
        raise KeyUnusable(f"cannot write the key file {path}: {e.strerror or e}") from e
    return SigningKey(private, path)


def load_key(
    path: Path, passphrase: Callable[[], str | None] | None = None
) -> SigningKey:
    """The key in `path`. An encrypted one needs its passphrase: JAMSOS_KEY_PASSPHRASE, else
    what `passphrase` (a prompt on a terminal) answers."""
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise KeyUnusable(
            f"no key at {path}: create one with `jamsos key new`, then have an administrator "
            "enrol its public key (`jamsos principals enrol`)"
        ) from None
    except OSError as e:
        raise KeyUnusable(f"cannot read the key file {path}: {e.strerror or e}") from e
    secret = os.environ.get(PASSPHRASE_ENV)
    encrypted = b"ENCRYPTED" in pem.split(b"\n", 1)[0]
    if encrypted and secret is None and passphrase is not None:
        secret = passphrase()
    if encrypted and not secret:
        raise KeyUnusable(
            f"the key {path} is protected by a passphrase: set {PASSPHRASE_ENV}, or run the "
            "command on a terminal to be asked for it"
        )
    try:
        private = serialization.load_pem_private_key(
            pem, password=secret.encode() if encrypted and secret else None
        )
    except (ValueError, TypeError) as e:
        wrong = "passphrase" if encrypted else "file"
        raise KeyUnusable(
            f"cannot read the key {path}: wrong {wrong} ({str(e).splitlines()[0][:80]})"
        ) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyUnusable(f"{path} holds a key of another kind: jamsos keys are Ed25519")
    return SigningKey(private, path)


__all__ = [
    "KEY_ENV",
    "PASSPHRASE_ENV",
    "KeyUnusable",
    "SigningKey",
    "default_key_path",
    "key_path",
    "load_key",
    "new_key_file",
    "signature_holds",
]
