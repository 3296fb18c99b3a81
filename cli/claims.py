"""`jamsos claims`: JKK and JKM claims, recorded for evaluation; BPJS pays the benefits."""

from __future__ import annotations

from datetime import date

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import DATE
from jamsos_ledger.domainmodel import SCHEMES, program_id
from jamsos_ledger.nik import mask_nik


@click.group()
def claims() -> None:
    """Claims of covered workers (benefits are paid by BPJS, never from the budget)."""


@claims.command("file")
@click.option("--nik", required=True, help="The worker's NIK.")
@click.option("--scheme", type=click.Choice(SCHEMES), required=True,
              help="JKK (work accident) or JKM (death).")
@click.option("--date", "incident_date", type=DATE, required=True,
              help="Day of the accident or death.")
@click.option("--reference", required=True, metavar="REF", help="BPJS's claim reference.")
@pass_ledger
def file_command(
    obj: LedgerContext, nik: str, scheme: str, incident_date: date, reference: str
) -> None:
    """Record a claim of a worker who was covered on that date."""
    ledger = obj.ledger
    pid = ledger.file_claim(
        nik.strip(), scheme=scheme, incident_date=incident_date, reference=reference
    )
    codes = {program_id(c): c for c in ledger.program_codes()}
    click.echo(
        f"Recorded {scheme} claim {reference} of {mask_nik(nik.strip())} on "
        f"{incident_date.isoformat()}, covered by program {codes.get(pid, pid)}; benefits are "
        "paid by BPJS, the budget is unchanged"
    )
