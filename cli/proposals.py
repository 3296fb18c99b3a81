"""`jamsos proposals`: decrees, payments, amendments, reversals and annulments waiting for a
second principal.

With four eyes on (the default of `program open`; `--one-key` turns it off), `enroll`,
`premiums pay`, `program amend`, `premiums reverse` and `annul` propose instead of acting;
these commands list proposals and decide them. The service checks the roles and the rules;
this module only says what happened.
"""

from __future__ import annotations

from typing import Any

import click

from jamsos_ledger.cli.context import LedgerContext, pass_ledger
from jamsos_ledger.cli.options import format_option
from jamsos_ledger.cli.output import Column, echo_fields, echo_json, echo_recorded, render
from jamsos_ledger.domain.money import count, counted, rupiah
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.proposals import KIND_NAMES, PENDING, Proposal

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


def what_it_does(p: Proposal) -> str:
    """The proposal's terms in a few words (NIKs masked)."""
    t = p.terms
    if p.kind == "enrolment":
        niks = ", ".join(mask_nik(n) for n in t["niks"][:3])
        who = f"top {count(t['top'])}" if t["top"] else niks
        more = f" and {len(t['niks']) - 3} more" if not t["top"] and len(t["niks"]) > 3 else ""
        decree = f" under decree {t['decree']}" if t["decree"] else ""
        return f"{who}{more} from {t['start']}{decree}"
    if p.kind == "payment":
        return f"{t['month']} under SP2D {t['sp2d']}"
    if p.kind == "reversal":
        return f"reverse SP2D {t['sp2d']} of {t['month']} ({t['reason']})"
    if p.kind == "annulment":
        return f"annul the enrolment of {mask_nik(t['nik'])} ({t['reason']})"
    changes = []
    if t["allocation"] is not None:
        changes.append(f"allocation {rupiah(t['allocation'])}")
    if t["quota"] is not None:
        changes.append(f"quota {count(t['quota'])}")
    return f"{' and '.join(changes)} ({t['reason']})"


def would_commit(p: Proposal) -> int:
    """The change in rupiah committed once approved: a reversal commits again what it unpays,
    an annulment releases (a negative change) what its months committed."""
    f = p.figures
    if p.kind == "reversal":
        return f["reversed"]
    if p.kind == "annulment":
        return -f["released"]
    return f.get("committed", 0)


def would_pay(p: Proposal) -> int:
    """The change in rupiah paid once approved (a reversal's is negative)."""
    return -p.figures["reversed"] if p.kind == "reversal" else p.figures.get("paid", 0)


def would_do(p: Proposal) -> str:
    """What it would commit, pay or release once approved, in words."""
    f = p.figures
    return {
        "enrolment": lambda: f"would commit {rupiah(f['committed'])}",
        "payment": lambda: f"would pay {rupiah(f['paid'])}",
        "amendment": lambda: f"allocation {'+' if f['allocation'] >= 0 else ''}"
                             f"{rupiah(f['allocation'])}",
        "reversal": lambda: f"would unpay {rupiah(f['reversed'])} for "
                            f"{counted(f['participants'], 'participant')}, committed again "
                            "until paid under a new SP2D",
        "annulment": lambda: f"would release {rupiah(f['released'])} committed and "
                             f"{counted(f['workers'], 'place')}",
    }[p.kind]()


def row(p: Proposal) -> dict[str, Any]:
    return {
        "id": p.short,
        "kind": p.kind,
        "program": p.program,
        "what": what_it_does(p),
        "would_commit": would_commit(p),
        "would_pay": would_pay(p),
        "proposer": p.proposer,
        "status": p.status,
        "decided_by": p.decided_by or "",
    }


UNTIL_APPROVED = {"reversal": "nothing is reversed",
                  "annulment": "nothing is annulled or released"}


def said_proposed(p: Proposal) -> None:
    """What `enroll`, `premiums pay`, `program amend`, `premiums reverse` and `annul` say when
    they propose."""
    figures = {
        "enrolment": lambda f: f"{counted(f['workers'], 'worker')}, would commit "
                               f"{rupiah(f['committed'])}",
        "payment": lambda f: f"{counted(f['participants'], 'participant')}, would pay "
                             f"{rupiah(f['paid'])}",
        "amendment": lambda f: "changes " + ", ".join(
            f"{k} by {rupiah(v) if k == 'allocation' else count(v)}" for k, v in f.items() if v
        ),
        "reversal": lambda f: would_do(p),
        "annulment": lambda f: would_do(p),
    }[p.kind](p.figures)
    echo_recorded(
        f"Proposed {KIND_NAMES[p.kind]} {p.short} for {p.program}: {what_it_does(p)} "
        f"({figures}); {UNTIL_APPROVED.get(p.kind, 'nothing is committed or paid')} until "
        f"another principal holding the role {p.approving_role} approves it: "
        f"`jamsos proposals approve {p.short}`"
    )


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
    rows = [row(p) for p in obj.ledger.proposals(code, status)]
    render(fmt, COLUMNS, rows, title=f"Proposals of {code}")


@proposals.command("show")
@click.argument("proposal_id", metavar="ID")
@format_option("table", "json")
@pass_ledger
def show_command(obj: LedgerContext, proposal_id: str, fmt: str) -> None:
    """One proposal: its terms, its figures when proposed, who proposed and decided it."""
    p = obj.ledger.proposal(proposal_id)
    data = {**row(p), "id": str(p.id), "figures": p.figures, "note": p.note,
            "reason": p.reason}
    if fmt == "json":
        echo_json(data)
        return
    echo_fields(
        [
            ("Proposal", f"{KIND_NAMES[p.kind]} {p.short} for {p.program}"),
            ("What", what_it_does(p)),
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
    if p.kind == "enrolment":
        done = (f"enrolled {counted(result.workers, 'worker')} from {result.start} to "
                f"{result.end}: {rupiah(result.committed)} committed")
    elif p.kind == "payment":
        participants, paid = result
        done = f"paid {rupiah(paid)} for {counted(participants, 'participant')}"
    elif p.kind == "reversal":
        month, amount = result
        done = (f"reversed the payment of {rupiah(amount.total)} in {month} under SP2D "
                f"{p.terms['sp2d']}: {month} is unpaid again")
    elif p.kind == "annulment":
        done = (f"annulled the enrolment of {mask_nik(p.terms['nik'])}: "
                f"{rupiah(result.total)} released")
    else:
        done = f"allocation {rupiah(result.allocation)}, quota {count(result.quota)}"
    echo_recorded(f"Approved {KIND_NAMES[p.kind]} {p.short} of {p.proposer}: {done}")
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
