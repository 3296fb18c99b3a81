"""Who may do what: the one table of the roles each command needs.

Five offices touch the program, and public-finance practice separates them: Disnaker and Dinsos
register and rank workers (operator), the head of Disnaker signs the decree that enrols them
(approver), BPKAD pays BPJS under an SP2D (finance), the Inspektorat and BPK audit (auditor),
and an administrator keeps the principals and opens programs. The application service checks
the acting principal against this table once per command, before any rule of the program;
`audit verify` checks the same table over the history, with the roles each principal held at
each point (granted and withdrawn by an administrator's events, `principals`). A command is
named here as the service names it; entry points (the CLI, a front door) never keep a table of
their own; the README's table of roles is held to this one by tests/test_docs.py.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from jamsos_ledger.domain.errors import RoleRefused
from jamsos_ledger.domain.principals import (
    ADMINISTRATOR,
    APPROVER,
    AUDITOR,
    FINANCE,
    OPERATOR,
    ROLES,
    SERVICE,
    Principal,
)

# What each role is for, in the words a refusal and `--help` use.
ROLE_OFFICES = {
    ADMINISTRATOR: "principals, roles and opening programs",
    OPERATOR: "Disnaker and Dinsos: registrations, ranking, coverage ended, claims",
    APPROVER: "the head of office: enrolment decrees and amendments of allocation and quota",
    FINANCE: "BPKAD: monthly payments with their SP2D",
    AUDITOR: "Inspektorat and BPK: reads everything, runs every audit, writes only its notes",
    SERVICE: "a program of the city's own (the front door), reading for it",
}

_EVERYONE = frozenset(ROLES)
_READERS = _EVERYONE  # reports and figures hold no personal data: every principal reads them

# Command (as the service names it) -> the roles any one of which allows it.
COMMAND_ROLES: dict[str, frozenset[str]] = {
    # administrator
    "open_program": frozenset({ADMINISTRATOR}),
    "enrol_principal": frozenset({ADMINISTRATOR}),
    "grant_role": frozenset({ADMINISTRATOR}),
    "withdraw_role": frozenset({ADMINISTRATOR}),
    "rotate_key": frozenset({ADMINISTRATOR}),
    "revoke_key": frozenset({ADMINISTRATOR}),
    # The HTTP service's bearer tokens: each speaks for a principal as its key would.
    "issue_token": frozenset({ADMINISTRATOR}),
    "revoke_token": frozenset({ADMINISTRATOR}),
    # operator (Disnaker, Dinsos)
    "register": frozenset({OPERATOR}),
    "correct_worker": frozenset({OPERATOR}),
    "prioritize": frozenset({OPERATOR}),
    "end_coverage": frozenset({OPERATOR}),
    "file_claim": frozenset({OPERATOR}),
    "record_benefit": frozenset({OPERATOR}),
    # the civil registry's deaths and DTSEN's deciles, as files (`workers deaths`, `deciles`)
    "record_deaths": frozenset({OPERATOR}),
    "update_deciles": frozenset({OPERATOR}),
    # Proposals: anyone who prepares the work proposes it (Fineract's maker); a decree is
    # prepared by the operators who ranked the workers, an amendment by the administrator or
    # BPKAD, a payment by BPKAD.
    "propose_enrolment": frozenset({OPERATOR, ADMINISTRATOR}),
    "propose_amendment": frozenset({ADMINISTRATOR, FINANCE, OPERATOR}),
    "propose_payment": frozenset({FINANCE}),
    # Undoing by proposal: BPKAD proposes reversing its payment, the operators who prepared a
    # decree (or the head of office) propose annulling an enrolment of it.
    "propose_reversal": frozenset({FINANCE}),
    "propose_annulment": frozenset({OPERATOR, APPROVER}),
    # The direct commands are the approving role's own: with four eyes on they run only as the
    # approval of a proposal; with four eyes off (a small office) the approving role runs them.
    "enrol": frozenset({APPROVER}),
    "amend_program": frozenset({APPROVER}),
    "pay_premiums": frozenset({FINANCE}),
    # BPKAD sets BPJS's invoice against the books before paying it, and reverses its own
    # payment recorded in error; the head of office annuls a decree's enrolment made in error
    # (with four eyes on, both only as the approval of a proposal, like the other three).
    "reconcile_invoice": frozenset({FINANCE}),
    "reverse_payment": frozenset({FINANCE}),
    "annul_enrolment": frozenset({APPROVER}),
    # Withdrawing one's own proposal needs no role beyond having proposed it (checked by the
    # proposal); approving and rejecting need the approving role of the proposal's kind.
    "withdraw_proposal": _EVERYONE - {SERVICE},
    "approve_proposal": frozenset({APPROVER, FINANCE}),  # and the kind's own: APPROVING_ROLE
    "reject_proposal": frozenset({APPROVER, FINANCE}),
    # reading
    "read": _READERS,
    "capacity": _READERS,
    "audit": frozenset({AUDITOR, ADMINISTRATOR}),
    # Personal data in clear (UU 27/2022): only those whose work needs it, for a reason.
    "unmask": frozenset({AUDITOR, OPERATOR}),
    "who_viewed": frozenset({AUDITOR, ADMINISTRATOR}),
    # The offline proof (`audit export`) is the whole trail as stored: every NIK, name and
    # birth date in it, in clear unless the store is encrypted. An audit command that shows
    # personal data (UU 27/2022), so only a role that both audits and may unmask: the auditor.
    "export_trail": frozenset({AUDITOR}),
    # An auditor writes nothing but their own notes (findings, questions, follow-ups), sealed
    # like every event and read with the other audit commands.
    "audit_note": frozenset({AUDITOR}),
}

# The commands of the table that only read (a viewing in clear, `unmask`, and `export_trail`
# are recorded, so they write): a refusal of one says nothing of writing.
READING = frozenset({"read", "capacity", "audit", "who_viewed"})

# The role that approves (or rejects) each kind of proposal, never the proposer alone: the head
# of office signs the decree and the amendment; BPKAD pays an SP2D that another of its officers
# proposed (PP 12/2019 and Permendagri 77/2020 keep who commits and who pays apart).
APPROVING_ROLE = {
    "enrolment": APPROVER,
    "amendment": APPROVER,
    "payment": FINANCE,
    # A reversal puts a paid month back among the commitments: BPKAD's, like the payment, so
    # approved by a finance officer other than the one who prepared it (PP 12/2019 and
    # Permendagri 77/2020: who prepares a disbursement, or its correction, is not who issues it).
    "reversal": FINANCE,
    # An annulment undoes a decree and releases its commitment: the head of office, who signs
    # decrees, approves it (PP 12/2019: who commits the budget is who may release it).
    "annulment": APPROVER,
}
PROPOSAL_KINDS = tuple(APPROVING_ROLE)
COMMAND_OF_KIND = {"enrolment": "enrol", "amendment": "amend_program", "payment": "pay_premiums",
                   "reversal": "reverse_payment", "annulment": "annul_enrolment"}


class Acting(Protocol):
    """The principal a command acts as: a name and the roles it holds at this point
    (`principals.Principal` is one; `Actor` another, for a principal known by name and roles
    only)."""

    @property
    def name(self) -> str: ...
    @property
    def roles(self) -> Collection[str]: ...


@dataclass(frozen=True)
class Actor:
    """A principal's name and roles, as a command acts: what the role table needs of it."""

    name: str
    roles: frozenset[str]

    def __post_init__(self) -> None:
        unknown = sorted(set(self.roles) - set(ROLES))
        if unknown:
            raise ValueError(f"unknown roles {', '.join(unknown)} (roles: {', '.join(ROLES)})")


def roles_needed(command: str) -> frozenset[str]:
    """The roles any one of which allows a command; a command missing from the table is a
    programming error, never silently allowed."""
    try:
        return COMMAND_ROLES[command]
    except KeyError:
        raise KeyError(f"the role table has no command {command!r}") from None


def held(principal: Acting) -> frozenset[str]:
    """The roles a principal holds now: none once revoked (`principals.Principal.held`).

    The root administrator, fixed when the ledger was created, holds every role not withdrawn
    from it: an office of one person can run its program from the first day. Separation comes
    from enrolling the other offices' principals with their own roles (and withdrawing those
    roles from the root, `principals withdraw`), and from four eyes on a program's money and
    places, which no single principal, the root included, can pass alone.
    """
    if isinstance(principal, Principal):
        return principal.held
    if getattr(principal, "revoked", False):
        return frozenset()
    return frozenset(principal.roles)


def open_to_all(command: str) -> bool:
    """Whether every role may run the command (reading): then no key is needed to run it, as
    whoever can read the store can read the figures."""
    return roles_needed(command) == frozenset(ROLES)


def may(principal: Acting, command: str) -> bool:
    """Whether the principal holds a role that allows the command."""
    return bool(roles_needed(command) & held(principal))


def require(principal: Acting, command: str, what: str | None = None) -> None:
    """Refuse (RoleRefused) a command outside the principal's roles, saying which role it
    needs; `what` names it for people (the command line's words), else the service's name."""
    if may(principal, command):
        return
    needed = sorted(roles_needed(command))
    holds = ", ".join(sorted(held(principal))) or "no role"
    raise RoleRefused(
        f"{what or command.replace('_', ' ')} needs the role {' or '.join(needed)}; "
        f"{principal.name} holds {holds}; nothing was written"
    )


def require_role(principal: Acting, role: str, what: str) -> None:
    """Refuse (RoleRefused) an act that needs one role (approving a kind of proposal)."""
    if role in held(principal):
        return
    holds = ", ".join(sorted(held(principal))) or "no role"
    raise RoleRefused(
        f"{what} needs the role {role}; {principal.name} holds {holds}; nothing was written"
    )
