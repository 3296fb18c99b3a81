"""`jamsos audit`: what auditors use to re-derive the figures and prove the history intact."""

from __future__ import annotations

import click

from jamsos_ledger.cli.audit_export import check_command, export_command
from jamsos_ledger.cli.audit_integrity import digest_command, verify_command
from jamsos_ledger.cli.audit_notes import note_command, notes_command
from jamsos_ledger.cli.audit_trail import log_command, replay_command
from jamsos_ledger.cli.viewings import viewings_command


@click.group()
def audit() -> None:
    """Replay, log (the trail), viewings (who saw personal data), verify and digest (tamper
    evidence), export and check (an offline proof), note and notes (auditors' own notes): for
    Inspektorat and BPK."""


# Tamper evidence (`verify`, `digest`) and the replay and trail live in modules of their own.
audit.add_command(verify_command)
audit.add_command(digest_command)
audit.add_command(replay_command)
audit.add_command(log_command)
audit.add_command(viewings_command)
audit.add_command(export_command)
audit.add_command(check_command)
audit.add_command(note_command)
audit.add_command(notes_command)
