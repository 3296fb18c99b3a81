"""`jamsos audit note` and `jamsos audit notes`: what auditors write into the ledger, their own
notes and nothing else, and the list of them. The service checks the role (auditor to write;
auditor or administrator to read) and the text; this module only asks and shows."""

from __future__ import annotations

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import format_option
from jamsos_ledger.cli.output import Column, echo_recorded, render, wib

ABOUT_HELP = (
    "What the note is about: a worker's NIK (16 digits; kept as the worker, never shown in "
    "clear), a proposal's id as `proposals list` shows it, or a position of the log as #N "
    "(`audit log` numbers them)."
)

COLUMNS = [
    Column("time", "Time (WIB)"),
    Column("position", "#", "count"),
    Column("author", "Auditor"),
    Column("about", "About"),
    Column("text", "Note"),
]


@click.command("note")
@click.argument("text")
@click.option("--about", metavar="NIK|PROPOSAL|#POSITION", help=ABOUT_HELP)
@pass_ledger
def note_command(obj: LedgerContext, text: str, about: str | None) -> None:
    """Write an auditor's note into the ledger: a finding, a question, a follow-up, sealed
    with your key like every event and shown in `audit log` and `audit notes` (auditors
    only: the one thing an auditor writes)."""
    ledger = obj.ledger
    note = ledger.write_note(text, about)
    subject = ledger.note_subject(note)
    echo_recorded(f"Noted by {note.author}" + (f" about {subject}" if subject else "")
                  + f": {note.text}")


@click.command("notes")
@click.option("--about", metavar="NIK|PROPOSAL|#POSITION",
              help="Only the notes about this worker, proposal or position.")
@format_option()
@pass_ledger
def notes_command(obj: LedgerContext, about: str | None, fmt: str) -> None:
    """Auditors' notes, oldest first: who wrote each, when, about what (auditors and
    administrators)."""
    ledger = obj.ledger
    found = ledger.audit_notes(about)
    rows = [
        {
            "time": wib(n.created_on) if fmt == "table" else n.created_on.isoformat(),
            "position": position,
            "author": n.author,
            "about": ledger.note_subject(n),
            "text": n.text,
        }
        for position, n in found
    ]
    render(fmt, COLUMNS, rows, title="Auditors' notes")

