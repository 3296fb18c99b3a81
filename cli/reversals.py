"""`jamsos premiums reverse` and `jamsos annul`: undo by a new event, never by a deletion.

A payment recorded in error is reversed by its SP2D (its month is unpaid again and can be paid
under a new SP2D); an enrolment recorded in error is annulled before its first paid month (its
place and its commitment are released). Each is one command of the service layer. On a
program with four eyes on, each is proposed instead (`jamsos proposals approve` by a second
principal carries it out), as `enroll` and `premiums pay` are.
"""

from __future__ import annotations

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import NIK
from jamsos_ledger.cli.output import echo_recorded
from jamsos_ledger.cli.proposals import said_proposed
from jamsos_ledger.domain.money import count, counted, rupiah
from jamsos_ledger.domain.nik import mask_nik


@click.command("reverse")
@click.option("--sp2d", required=True, metavar="REF", help="The SP2D of the payment to reverse.")
@click.option("--reason", required=True, metavar="TEXT",
              help="Why it is reversed (the letter or audit finding).")
@pass_ledger
def reverse_command(obj: LedgerContext, sp2d: str, reason: str) -> None:
    """Reverse a payment recorded in error: its month becomes unpaid and payable again.

    The payment stays in the history with its reversal beside it; the SP2D cannot be used
    again. An unknown SP2D, or one already reversed, is refused (exit 1). With four eyes on,
    the reversal is proposed: another finance officer approves it (`jamsos proposals
    approve`), and nothing changes until then.
    """
    if obj.program().four_eyes:
        said_proposed(obj.ledger.propose_reversal(sp2d=sp2d, reason=reason,
                                                  code=obj.program_code))
        return
    month, amount = obj.ledger.reverse_payment(sp2d=sp2d, reason=reason, code=obj.program_code)
    participants = amount.total // obj.program().premium.total
    echo_recorded(
        f"Reversed the payment of {rupiah(amount.total)} for "
        f"{counted(participants, 'participant')} in {month} under SP2D {sp2d.strip()}: "
        f"{month} is unpaid again"
    )
    p = obj.program()
    click.echo(f"Committed {rupiah(p.committed.total)}, paid {rupiah(p.paid_total.total)}, "
               f"available {rupiah(p.available)}")


@click.command("annul")
@click.option("--nik", required=True, type=NIK, help="The worker's NIK.")
@click.option("--reason", required=True, metavar="TEXT",
              help="Why the enrolment is annulled (the decree or letter).")
@pass_ledger
def annul_command(obj: LedgerContext, nik: str, reason: str) -> None:
    """Annul an enrolment recorded in error, before its first paid month.

    The worker's place and the commitment of its months are released, and the worker may be
    enrolled again. Once a month of its coverage is paid, the enrolment is not annulled
    (exit 1): end the coverage with `jamsos end`, or reverse the payment first. With four
    eyes on, the annulment is proposed: another principal holding the role approver approves
    it (`jamsos proposals approve`), and nothing changes until then.
    """
    if obj.program().four_eyes:
        said_proposed(obj.ledger.propose_annulment(nik.strip(), reason=reason,
                                                   code=obj.program_code))
        return
    released = obj.ledger.annul_enrolment(nik.strip(), reason=reason, code=obj.program_code)
    p = obj.program()
    echo_recorded(
        f"Annulled the enrolment of {mask_nik(nik.strip())} in {p.code}: "
        f"{rupiah(released.total)} released"
    )
    click.echo(f"Available {rupiah(p.available)}, places left {count(p.places_left)}")
