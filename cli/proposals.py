"""`jamsos proposals`: decrees, payments, amendments, reversals and annulments waiting for a
second principal.

With four eyes on (the default of `program open`; `--one-key` turns it off), `enroll`,
`premiums pay`, `program amend`, `premiums reverse` and `annul` propose instead of acting;
these commands list proposals and decide them. The service checks the roles and the rules;
what a proposal is shown as (its row, its words) is `application.proposal_view`'s, shared
with the HTTP service.
"""

from __future__ import annotations

import click

from jamsos_ledger.application.proposal_view import (
    approved_words,
    named_workers,
    proposal_row,
    proposal_shown,
    proposed_words,
    what_it_does,
    would_do,
)
from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import format_option
from jamsos_ledger.cli.output import Column, echo_fields, echo_json, echo_recorded, render
from jamsos_ledger.cli.viewings import unmask_options, viewed
from jamsos_ledger.domain.money import count, counted, rupiah
from jamsos_ledger.domain.proposals import KIND_NAMES, PENDING, Proposal

SHOWN_WORKERS = 20
STATUSES = ("pending", "approved", "rejected", "withdrawn")
COLUMNS = [
    Column("id", "Id"),
    Column("kind", "Kind"),
    Column("program", "Program"),
    Column("what", "What"),
    Column("would_commit", "Would commit", "money"),
    Column("would_pay", "Would pay", "money"),
    Column("proposer", "Proposed by"),
    Column("status", "Status"),
    Column("decided_by", "Decided by"),
]


def said_proposed(p: Proposal) -> None:
    """What `enroll`, `premiums pay`, `program amend`, `premiums reverse` and `annul` say when
    they propose."""
    echo_recorded(proposed_words(p))


@click.group()
def proposals() -> None:
    """Decrees, payments, amendments, reversals and annulments proposed under four eyes: list,
    show, approve, reject or withdraw them."""


@proposals.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only proposals in this status.")
@format_option()
@pass_ledger
def list_command(obj: LedgerContext, status: str | None, fmt: str) -> None:
    """Every proposal of the program, oldest first: what it would do, who proposed and decided
    it."""
    code = obj.program().code
    rows = [proposal_row(p) for p in obj.ledger.proposals(code, status)]
    render(fmt, COLUMNS, rows, title=f"Proposals of {code}")


@proposals.command("show")
@click.argument("proposal_id", metavar="ID")
@format_option("table", "json")
@unmask_options
@pass_ledger
def show_command(
    obj: LedgerContext, proposal_id: str, fmt: str, unmask: bool, reason: str | None
) -> None:
    """One proposal: its terms, the workers it enrols or annuls (NIKs masked), its figures
    when proposed, who proposed and decided it.

    With --unmask and --reason the NIKs are shown in full, to an auditor or operator, and the
    viewing is recorded first (`jamsos audit viewings`)."""
    p = obj.ledger.proposal(proposal_id)
    if unmask and named_workers(p):  # a payment or an amendment names nobody
        viewed(obj, f"proposals show {p.short}", reason, named_workers(p))
    shown = proposal_shown(p, unmask=unmask)
    if fmt == "json":
        echo_json(shown)
        return
    workers = shown["workers"]
    # A decree of thousands: the first ones here, all of them with --format json.
    listed = ", ".join(workers[:SHOWN_WORKERS]) + (
        f" and {count(len(workers) - SHOWN_WORKERS)} more (--format json lists them all)"
        if len(workers) > SHOWN_WORKERS else "")
    echo_fields(
        [
            ("Proposal", f"{KIND_NAMES[p.kind]} {p.short} for {p.program}"),
            ("What", what_it_does(p)),
            *([("Workers", f"{counted(len(workers), 'worker')}: {listed}")] if workers else []),
            ("Figures when proposed", ", ".join(f"{k} {v:,}".replace(",", ".")
                                                for k, v in p.figures.items())),
            ("Proposed by", p.proposer + (f" ({p.note})" if p.note else "")),
            ("Approving role", p.approving_role),
            ("Status", p.status + (f" by {p.decided_by}" if p.decided_by else "")
             + (f": {p.reason}" if p.reason else "")),
        ],
        title=f"Proposal {p.short}",
    )


@proposals.command("approve")
@click.argument("proposal_id", metavar="ID")
@pass_ledger
def approve_command(obj: LedgerContext, proposal_id: str) -> None:
    """Approve a proposal and carry it out now, every rule checked against the ledger as it is
    now (a proposal that no longer fits is refused with the figures, and stays pending). Needs
    a principal other than its proposer, holding the approving role of its kind."""
    p, result = obj.ledger.approve_proposal(proposal_id)
    echo_recorded(approved_words(p, result))
    program = obj.ledger.program(p.program)
    click.echo(f"Available {rupiah(program.available)}, places left "
               f"{count(program.places_left)}")


@proposals.command("reject")
@click.argument("proposal_id", metavar="ID")
@click.option("--reason", required=True, help="Why it is rejected (recorded).")
@pass_ledger
def reject_command(obj: LedgerContext, proposal_id: str, reason: str) -> None:
    """Reject a proposal for good, with the reason (the approving role of its kind)."""
    p = obj.ledger.reject_proposal(proposal_id, reason=reason)
    echo_recorded(f"Rejected {KIND_NAMES[p.kind]} {p.short} of {p.proposer}: {p.reason}")


@proposals.command("withdraw")
@click.argument("proposal_id", metavar="ID")
@click.option("--reason", required=True, help="Why it is withdrawn (recorded).")
@pass_ledger
def withdraw_command(obj: LedgerContext, proposal_id: str, reason: str) -> None:
    """Withdraw one's own proposal, with the reason."""
    p = obj.ledger.withdraw_proposal(proposal_id, reason=reason)
    echo_recorded(f"Withdrew {KIND_NAMES[p.kind]} {p.short}: {p.reason}")


def echo_pending(obj: LedgerContext, code: str) -> None:
    """The pending proposals of a program, under a budget table: what they would commit or
    pay, not counted in the figures above."""
    pending = obj.ledger.proposals(code, PENDING)
    if not pending:
        return
    click.echo("")
    click.echo(f"Pending proposals ({len(pending)}), not in the figures above until approved:")
    for p in pending:
        click.echo(f"  {p.short} {KIND_NAMES[p.kind]}: {what_it_does(p)}; {would_do(p)}; "
                   f"proposed by {p.proposer}")
