"""`jamsos claims`: JKK and JKM claims, recorded for evaluation; BPJS pays the benefits."""

from __future__ import annotations

from datetime import date

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import DATE, NIK
from jamsos_ledger.cli.output import echo_recorded
from jamsos_ledger.domain.model import SCHEMES, program_id
from jamsos_ledger.domain.money import rupiah
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.texts import normal_spaces


@click.group()
def claims() -> None:
    """File claims of covered workers, record their benefit (paid by BPJS, not the budget)."""


@claims.command("file")
@click.option("--nik", required=True, type=NIK, help="The worker's NIK.")
@click.option("--scheme", type=click.Choice(SCHEMES), required=True,
              help="JKK (work accident) or JKM (death).")
@click.option("--date", "incident_date", type=DATE, required=True,
              help="Day of the accident or death.")
@click.option("--reference", required=True, metavar="REF", help="BPJS's claim reference.")
@click.option(
    "--benefit",
    type=click.IntRange(min=0),
    metavar="RUPIAH",
    help="Benefit BPJS paid, when known (recorded for evaluation; never touches the budget).",
)
@pass_ledger
def file_command(
    obj: LedgerContext,
    nik: str,
    scheme: str,
    incident_date: date,
    reference: str,
    benefit: int | None,
) -> None:
    """Record a claim of a worker who was covered on that date."""
    ledger = obj.ledger
    pid = ledger.file_claim(
        nik.strip(), scheme=scheme, incident_date=incident_date, reference=reference,
        benefit=benefit,
    )
    codes = {program_id(c): c for c in ledger.program_codes()}
    paid = "" if benefit is None else f", benefit {rupiah(benefit)} paid by BPJS"
    echo_recorded(
        f"Recorded {scheme} claim {normal_spaces(reference)} of {mask_nik(nik.strip())} on "
        f"{incident_date.isoformat()}, covered by program {codes.get(pid, pid)}{paid}; benefits "
        "are paid by BPJS, the budget is unchanged"
    )


@claims.command("benefit")
@click.option("--nik", required=True, type=NIK, help="The worker's NIK.")
@click.option("--reference", required=True, metavar="REF", help="The claim's BPJS reference.")
@click.option("--amount", type=click.IntRange(min=0), required=True, metavar="RUPIAH",
              help="The claim's whole benefit paid by BPJS so far (replaces an earlier one).")
@pass_ledger
def benefit_command(obj: LedgerContext, nik: str, reference: str, amount: int) -> None:
    """Record the benefit BPJS paid on a claim filed earlier; the budget is unchanged."""
    obj.ledger.record_benefit(nik.strip(), reference=reference, amount=amount)
    echo_recorded(
        f"Recorded a benefit of {rupiah(amount)} on claim {normal_spaces(reference)} of "
        f"{mask_nik(nik.strip())}; paid by BPJS, the budget is unchanged"
    )
