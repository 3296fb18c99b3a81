"""`jamsos workers correct`: a registration field corrected by a new event, never edited."""

from __future__ import annotations

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import NIK
from jamsos_ledger.cli.output import echo_recorded
from jamsos_ledger.domain.model import CORRECTABLE


@click.command("correct")
@click.argument("nik", type=NIK)
@click.option("--field", type=click.Choice(CORRECTABLE), required=True, help="What to correct.")
@click.option("--value", required=True, help="The right value.")
@click.option(
    "--reason",
    required=True,
    help="Why: the letter, the DTSEN release, the operator's finding (recorded).",
)
@pass_ledger
def correct_command(obj: LedgerContext, nik: str, field: str, value: str, reason: str) -> None:
    """Correct a worker's registration (e.g. a DTSEN decile from the quarterly update).

    The registration is never edited: a correction event records the old value, the new one,
    the event it corrects, who and why. A changed decile drops the worker's rank until the
    next `workers prioritize`.
    """
    worker = obj.ledger.correct_worker(nik.strip(), field=field, value=value, reason=reason)
    echo_recorded(
        f"Corrected {field} of {worker.masked_nik} to {getattr(worker, field)!r} ({reason})"
    )
    if field == "decile":
        click.echo("Its rank is void until the next `jamsos workers prioritize`")
