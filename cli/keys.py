"""`jamsos key`: make a principal's private key, and show its public half for enrolment."""

from __future__ import annotations

import os
import sys

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.domain.principals import public_key_text
from jamsos_ledger.stores.keys import PASSPHRASE_ENV, key_path, load_key, new_key_file


@click.group("key")
def key() -> None:
    """Your private key (--key, JAMSOS_KEY, default ~/.config/jamsos/key): new makes one, show
    prints its public key and fingerprint."""


@key.command("new")
@click.option(
    "--passphrase/--no-passphrase",
    default=False,
    help="Protect the key with a passphrase: JAMSOS_KEY_PASSPHRASE's, else asked twice.",
)
@pass_ledger
def new_command(obj: LedgerContext, passphrase: bool) -> None:
    """Create a new key in the file --key names, readable by you only (mode 0600); never
    overwrites one. Give its public key (printed) to an administrator to be enrolled."""
    secret = None
    if passphrase:
        secret = os.environ.get(PASSPHRASE_ENV)
        if not secret and not sys.stdin.isatty():
            raise click.UsageError(
                f"--passphrase: no passphrase given: set {PASSPHRASE_ENV}, or run the command "
                "on a terminal to be asked for it; no key was written"
            )
        if not secret:
            secret = click.prompt(
                "Passphrase", hide_input=True, confirmation_prompt=True, err=True
            )
    made = new_key_file(key_path(obj.key), secret)
    click.echo(f"Created the key {made.path} (readable by you only; never share it)")
    _echo_public(made.public_key, made.fingerprint)


@key.command("show")
@pass_ledger
def show_command(obj: LedgerContext) -> None:
    """Print the public key and fingerprint of your key, for `principals enrol` or `rotate`."""
    loaded = load_key(key_path(obj.key))
    click.echo(f"Key {loaded.path}")
    _echo_public(loaded.public_key, loaded.fingerprint)


def _echo_public(public_key: bytes, fingerprint: str) -> None:
    # Plain lines, never wrapped: they are copied into `principals enrol` and kept by auditors.
    click.echo(f"Public key:  {public_key_text(public_key)}")
    click.echo(f"Fingerprint: {fingerprint}")
