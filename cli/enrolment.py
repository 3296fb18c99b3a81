"""`jamsos enroll` and `jamsos end`: coverage begins by decree and ends by a recorded fact."""

from __future__ import annotations

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import MONTH, NIK, workers_range
from jamsos_ledger.cli.output import echo_recorded
from jamsos_ledger.cli.proposals import said_proposed
from jamsos_ledger.domain.model import END_REASONS
from jamsos_ledger.domain.money import count, counted, rupiah
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.texts import normal_spaces


@click.command("enroll")
@click.option("--top", type=workers_range(), help="Enrol the N best-ranked eligible workers.")
@click.option("--nik", "niks", multiple=True, type=NIK, help="Enrol this worker (repeatable).")
@click.option("--start", type=MONTH, required=True, help="First covered month.")
@click.option("--decree", metavar="REF", help="The mayoral decree listing the recipients.")
@pass_ledger
def enroll_command(
    obj: LedgerContext, top: int | None, niks: tuple[str, ...], start: Month, decree: str | None
) -> None:
    """Enrol workers from a start month to the end of the program: all of them or none.

    Either --top N (the best-ranked eligible workers not yet enrolled) or --nik, repeated.
    The money and the places must carry the whole batch, or nothing is written. A program
    with four eyes on (the default; `program open --one-key` turns it off) takes it as a
    proposal, checked now, enrolling nobody until another principal approves it
    (`jamsos proposals approve`). A proposal of --top N names the workers ranked first now
    (`proposals show`, NIKs masked): its approval enrols those, not whoever ranks first then.
    """
    if bool(niks) == (top is not None):
        raise click.UsageError("give either --top N or one or more --nik, not both or neither")
    if obj.program().four_eyes:
        said_proposed(obj.ledger.propose_enrolment(
            obj.program_code, start=start, niks=[n.strip() for n in niks], top=top,
            decree=decree,
        ))
        return
    result = obj.ledger.enrol(
        obj.program_code, start=start, niks=[n.strip() for n in niks], top=top, decree=decree
    )
    under = f" under decree {normal_spaces(decree)}" if decree else ""
    echo_recorded(
        f"Enrolled {counted(result.workers, 'worker')} from {result.start} to {result.end}{under}: "
        f"{rupiah(result.committed)} committed"
    )
    p = obj.ledger.program(obj.program_code)
    click.echo(f"Available {rupiah(p.available)}, places left {count(p.places_left)}")


@click.command("end")
@click.option("--nik", required=True, type=NIK, help="The worker's NIK.")
@click.option("--month", type=MONTH, required=True, help="The last covered month.")
@click.option("--reason", type=click.Choice(END_REASONS), required=True, help="Why coverage ends.")
@pass_ledger
def end_command(obj: LedgerContext, nik: str, month: Month, reason: str) -> None:
    """End a worker's coverage at the end of a month; unpaid later months are released."""
    before = obj.program()
    after = obj.ledger.end_coverage(nik.strip(), month=month, reason=reason, code=before.code)
    released = before.committed.total - after.committed.total
    overpaid = after.overpaid.total - before.overpaid.total
    echo_recorded(
        f"Ended coverage of {mask_nik(nik.strip())} in {after.code} at the end of {month} "
        f"({reason}): {rupiah(released)} released"
    )
    if overpaid:
        click.echo(
            f"{rupiah(overpaid)} was already paid for later months: an overpayment to offset or "
            "recover"
        )
