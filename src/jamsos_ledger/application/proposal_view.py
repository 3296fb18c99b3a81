"""A proposal as both front doors show it: `jamsos proposals list|show --format json` and
`GET /api/v1/proposals[/ID]` give the same keys with the same values, and the words the CLI
prints of a proposal (what it does, what it would commit or pay) are built here once.

Only what is recorded in the proposal is read (its terms and its figures when proposed); the
NIKs of its terms are masked, so a view may go to any role.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jamsos_ledger.domain.money import count, counted, rupiah
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.proposals import KIND_NAMES, Proposal

# What stays as it was while a proposal waits, by kind (the rest commit or pay nothing).
UNTIL_APPROVED = {"reversal": "nothing is reversed",
                  "annulment": "nothing is annulled or released"}


def what_it_does(p: Proposal) -> str:
    """The proposal's terms in a few words (NIKs masked)."""
    t = p.terms
    if p.kind == "enrolment":
        named = ", ".join(mask_nik(n) for n in t["niks"][:3])
        more = f" and {len(t['niks']) - 3} more" if len(t["niks"]) > 3 else ""
        who = f"{named}{more}"
        if t["top"]:
            # A decree of the top N names whom it enrols: those ranked first when proposed
            # (one proposed before decrees named them names nobody, and is refused).
            ranked = f": {who}" if t["niks"] else ", not named (propose it again)"
            who = f"top {count(t['top'])} as ranked when proposed{ranked}"
        decree = f" under decree {t['decree']}" if t["decree"] else ""
        return f"{who} from {t['start']}{decree}"
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


def proposed_words(p: Proposal) -> str:
    """What `enroll`, `premiums pay`, `program amend`, `premiums reverse` and `annul` say when
    they propose instead of acting: what, the figures, and who may approve it."""
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
    return (
        f"Proposed {KIND_NAMES[p.kind]} {p.short} for {p.program}: {what_it_does(p)} "
        f"({figures}); {UNTIL_APPROVED.get(p.kind, 'nothing is committed or paid')} until "
        f"another principal holding the role {p.approving_role} approves it: "
        f"`jamsos proposals approve {p.short}`"
    )


def approved_words(p: Proposal, result: Any) -> str:
    """What approving a proposal did, from what carrying its command out returned
    (`approve_proposal`'s second value, which differs by kind)."""
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
    return f"Approved {KIND_NAMES[p.kind]} {p.short} of {p.proposer}: {done}"


def proposal_row(p: Proposal) -> dict[str, Any]:
    """A proposal as `proposals list` lists it: its short id, what it would do and change,
    its fate (`decided_by` None while it is pending)."""
    return {
        "id": p.short,
        "kind": p.kind,
        "program": p.program,
        "what": what_it_does(p),
        "would_commit": would_commit(p),
        "would_pay": would_pay(p),
        "proposer": p.proposer,
        "status": p.status,
        "decided_by": p.decided_by,
    }


def named_workers(p: Proposal) -> list[str]:
    """The NIKs of the workers a proposal enrols or annuls, in clear: only for a viewing
    recorded first (`--unmask --reason`); `proposal_shown` masks them otherwise."""
    if p.kind == "enrolment":
        return [str(n) for n in p.terms["niks"]]
    if p.kind == "annulment":
        return [str(p.terms["nik"])]
    return []


def proposal_shown(p: Proposal, *, unmask: bool = False) -> dict[str, Any]:
    """A proposal as `proposals show` shows it: the row with its whole id, its figures when
    proposed, the workers it enrols or annuls (NIKs masked unless `unmask`, for a viewing
    already recorded), the role that may approve it, the proposer's note and the decision's
    reason."""
    workers = named_workers(p)
    return {**proposal_row(p), "id": str(p.id), "figures": dict(p.figures),
            "workers": workers if unmask else [mask_nik(n) for n in workers],
            "approving_role": p.approving_role, "note": p.note, "reason": p.reason}


def pending_rows(pending: Sequence[Proposal]) -> list[dict[str, Any]]:
    """The pending proposals as `report budget --format json` lists them under `pending` (and
    the API's budget): each as `proposals list` shows it, with what it would commit and pay
    once approved (not counted in the report's figures until then)."""
    return [proposal_row(p) for p in pending]


def pending_totals(pending: Sequence[Proposal]) -> dict[str, int]:
    """What the pending proposals would change once all approved, as the last columns of
    `report budget --format csv` (the proposals themselves: `proposals list --status
    pending`)."""
    return {
        "pending_proposals": len(pending),
        "pending_commit": sum(would_commit(p) for p in pending),
        "pending_pay": sum(would_pay(p) for p in pending),
    }
