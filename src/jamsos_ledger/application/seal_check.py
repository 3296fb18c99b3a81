"""Checking the seals: every position of the history covered by a valid seal of a principal
who held that key at that point, back to the root an auditor pinned.

`check_seals` is pure (seals, the chain hashes they sign, the principals' changes by position):
`audit verify` feeds it from the store (`seal_inputs`), `audit check` from an export file.

What holds when it finds nothing: each transaction up to the last seal was signed by the
principal named on its seal, with the key that principal held just before it (the root's own,
for the first); principals were enrolled, rotated and revoked only in transactions an
administrator signed, and by the rules a change must follow (a role granted that was not held,
one withdrawn that was, never the last administrator's); no seal was moved (each signs its
position and the seal before it). What it cannot see alone: the newest transactions cut off
with their seals. An auditor who kept a digest (`audit digest`) of a later position sees that
with `--digest`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.utils import get_topic

from jamsos_ledger.application.role_check import check_roles
from jamsos_ledger.domain.errors import LedgerError
from jamsos_ledger.domain.principals import (
    ADMINISTRATOR,
    SERVICE,
    Directory,
    Principal,
    PrincipalRegistry,
    change_of,
    fingerprint,
    parse_public_key,
)
from jamsos_ledger.stores.integrity import GENESIS, PAGE, Digest, VerifyReport, verify
from jamsos_ledger.stores.keys import signature_holds
from jamsos_ledger.stores.seals import ROOT, WRITE, Seal

UNSEALED = "unsealed"  # the kind of discrepancy `audit verify` reports
REGISTRY_TOPICS = tuple(
    get_topic(cls)
    for cls in (
        PrincipalRegistry.Enrolled, PrincipalRegistry.KeyRotated, PrincipalRegistry.Revoked,
        PrincipalRegistry.RoleGranted, PrincipalRegistry.RoleWithdrawn,
    )
)


@dataclass(frozen=True)
class SealFinding:
    """The first position no valid seal covers, and why."""

    position: int
    detail: str


@dataclass
class SealReport:
    """What the seals prove.

    Attributes:
        seals_checked: seals that held, up to the first problem.
        covered: the last position covered by a seal that held (0 when none).
        root: the root administrator, when the root seal held.
        adopted_upto: the position up to which the root adopted a history written before
            seals (0 for a ledger sealed from its creation).
        finding: the first problem, or None.
        signers: how many transactions each principal sealed.
        own_approvers: approvals four eyes allowed by a principal the proposer enrolled, gave
            a key or granted a role, or by the administrator who did so to the proposer
            (`role_check`; each notice says which way): not a finding, something to look at.
        one_key_programs: the programs opened with one key (four eyes off), each with what
            one principal moved alone on it (`role_check`): allowed by their terms, listed
            for the auditors.
    """

    seals_checked: int = 0
    covered: int = 0
    root: Principal | None = None
    adopted_upto: int = 0
    finding: SealFinding | None = None
    signers: dict[str, int] = field(default_factory=dict)
    own_approvers: list[str] = field(default_factory=list)
    one_key_programs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def root_fingerprint(self) -> str | None:
        return None if self.root is None else self.root.fingerprint


def check_seals(
    seals: Iterable[Seal],
    chain_hashes: dict[int, bytes],
    changes: Sequence[tuple[int, dict[str, Any]]],
    head: int,
    pinned_root: str | None = None,
    chain_intact: bool = True,
) -> SealReport:
    """Check every seal in position order, and that they cover every position up to `head`
    (the last position whose chain link held).

    When the chain broke after `head` (`chain_intact` False, the chain's own discrepancy is
    reported), seals past it and the unsealed end of the part that held are not findings:
    they follow from the break.

    `chain_hashes` holds the chain hash at each seal's position (a position missing from it
    is one the intact chain does not reach); `changes` the registry's events as
    `principals.change_of` gives them, with their positions, in order.
    """
    report = SealReport()
    directory: Directory | None = None
    last: Seal | None = None
    pending = iter(changes)
    upcoming = next(pending, None)
    for seal in seals:
        start = (0 if last is None else last.position) + 1
        if seal.position > head and not chain_intact:
            break
        if seal.position > head:
            # A seal of a position the intact chain does not reach: its events were cut off
            # or broke the chain (reported by the chain), or the seal was made up.
            if report.finding is None and seal.position > 0:
                report.finding = SealFinding(
                    min(start, head + 1),
                    f"a seal of position {seal.position} by {seal.principal!r} signs events "
                    f"the history no longer holds after position {head}",
                )
            break
        chain_hash = GENESIS if seal.position == 0 else chain_hashes.get(seal.position)
        problem: str | None
        if chain_hash is None:
            problem = f"the seal of position {seal.position} signs no event of the chain"
        elif last is None:
            problem, directory = _root_problem(seal, chain_hash, pinned_root, report)
        else:
            assert directory is not None
            inside: list[dict[str, Any]] = []
            while upcoming is not None and upcoming[0] <= seal.position:
                if upcoming[0] > last.position:
                    inside.append(upcoming[1])
                upcoming = next(pending, None)
            problem = _write_problem(seal, last, chain_hash, directory, inside)
        if problem is not None:
            report.finding = SealFinding(start, problem)
            return report
        report.seals_checked += 1
        report.covered = seal.position
        report.signers[seal.principal] = report.signers.get(seal.principal, 0) + 1
        last = seal
        if seal.kind == ROOT:
            # Changes before the root: a registry written before it adopted the history
            # cannot be (the registry is younger than seals); skip them.
            while upcoming is not None and upcoming[0] <= seal.position:
                upcoming = next(pending, None)
    if last is None:
        report.finding = SealFinding(
            1 if head else 0,
            "the ledger holds no seal at all: it was written before every write was sealed "
            "(an administrator adopts it with `jamsos principals adopt`), or its seals were "
            "removed",
        )
    elif report.finding is None and head > report.covered and chain_intact:
        report.finding = SealFinding(
            report.covered + 1,
            f"positions {report.covered + 1} to {head} are sealed by no principal: events "
            "added behind the ledger's back",
        )
    return report


def _root_problem(
    seal: Seal, chain_hash: bytes, pinned_root: str | None, report: SealReport
) -> tuple[str | None, Directory | None]:
    """Check the first seal: the root administrator's, signed with the key it carries."""
    if seal.kind != ROOT:
        return "the first seal is not the root administrator's (the ledger's creation)", None
    fields = seal.root_principal()
    if fields is None:
        return "the root seal does not name its administrator and key", None
    key = fields["public_key"]
    if seal.principal != fields["name"] or seal.fingerprint != fingerprint(key):
        return "the root seal names another principal or key than it carries", None
    if seal.previous:
        return "the root seal follows another seal", None
    if not signature_holds(key, seal.signature, seal.message(chain_hash)):
        return "the root seal's signature does not hold", None
    if pinned_root is not None and fingerprint(key) != pinned_root:
        return (
            f"the root administrator's key is {fingerprint(key)}, not the root pinned "
            f"({pinned_root}): this is another ledger, or one rewritten from its creation",
            None,
        )
    root = Principal(fields["name"], fields["office"], frozenset({ADMINISTRATOR}), key)
    report.root = root
    report.adopted_upto = seal.position
    return None, Directory(root)


def _write_problem(
    seal: Seal,
    last: Seal,
    chain_hash: bytes,
    directory: Directory,
    inside: list[dict[str, Any]],
) -> str | None:
    """Check a transaction's seal against the principals as they stood before it; then apply
    the principal changes it holds (only an administrator's)."""
    who = repr(seal.principal)
    if seal.kind != WRITE:
        return f"a second root seal, by {who}"
    if seal.previous != last.signature:
        return f"the seal by {who} does not follow the seal before it (moved or replaced)"
    signer = directory.get(seal.principal)
    if signer is None:
        return f"sealed by {who}, who was no principal of the ledger then"
    if signer.revoked:
        return f"sealed by {who}, revoked before this was written"
    if signer.fingerprint != seal.fingerprint:
        return f"sealed by {who} with a key it did not hold then"
    if not signature_holds(signer.public_key, seal.signature, seal.message(chain_hash)):
        return f"the signature by {who} does not hold: the events or the seal were changed"
    acting = signer
    if seal.on_behalf_of is not None:
        if not signer.holds(SERVICE):
            return f"{who} sealed on behalf of {seal.on_behalf_of!r} without the service role"
        target = directory.get(seal.on_behalf_of)
        if target is None or target.revoked:
            return f"{who} sealed on behalf of {seal.on_behalf_of!r}, no active principal then"
        acting = target
    for change in inside:
        if not acting.is_administrator:
            return (
                f"principals were changed in a transaction by {acting.name!r}, who was no "
                "administrator then"
            )
        problem = _change_problem(directory, change)
        if problem is not None:
            return problem
        directory.apply(change)
    return None


def _change_problem(directory: Directory, change: dict[str, Any]) -> str | None:
    name = change.get("name", "")
    try:
        if change["kind"] == "enrolled":
            raw = parse_public_key(change["public_key"])
            problems = directory.enrolment_problems(
                name, change["office"], change["roles"], raw
            )
            return "; ".join(problems) or None
        if change["kind"] == "granted":
            directory.check_grant(name, change["roles"])
            return None
        if change["kind"] == "withdrawn":
            directory.check_withdrawal(name, change["roles"], change["reason"])
            return None
        directory.active(name)
        if change["kind"] == "rotated":
            problem = directory.rotation_problem(name, parse_public_key(change["public_key"]))
            if problem is not None:
                return f"a change of principal {name!r} that could not be made: {problem}"
    except (LedgerError, KeyError, TypeError) as e:
        return f"a change of principal {name!r} that could not be made: {e}"
    return None


# --- From a store -----------------------------------------------------------------------------


def _paged_seals(recorder: Any, upto: int) -> Iterator[Seal]:
    after = -1
    while True:
        page: list[Seal] = recorder.select_seals(after, upto, PAGE)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].position


def seal_inputs(
    recorder: Any, mapper: Any, bound: int
) -> tuple[list[Seal], dict[int, bytes], list[tuple[int, dict[str, Any]]]]:
    """The seals, the chain hashes at their positions and the registry's changes of a store,
    up to `bound` (seals beyond it are kept: they show a cut tail)."""
    seals = list(_paged_seals(recorder, 2**62))
    wanted = {s.position for s in seals}
    hashes: dict[int, bytes] = {}
    after = 0
    while True:
        rows = recorder.select_chain_rows(after, bound, PAGE)
        hashes.update((p, h) for p, h in rows if p in wanted)
        if len(rows) < PAGE:
            break
        after = rows[-1][0]
    changes: list[tuple[int, dict[str, Any]]] = []
    start = 0
    while True:
        page = recorder.select_notifications(
            start=start, limit=PAGE, stop=bound, topics=REGISTRY_TOPICS,
            inclusive_of_start=False,
        )
        for n in page:
            try:
                change = change_of(mapper.to_domain_event(n))
            except Exception:  # an altered state: the chain reports it
                change = None
            if change is not None:
                changes.append((n.id, change))
        if len(page) < PAGE:
            break
        start = page[-1].id
    return seals, hashes, changes


def verify_sealed(
    recorder: Any,
    mapper: Any,
    digest: Digest | None = None,
    pinned_root: str | None = None,
    progress: Any = None,
) -> tuple[VerifyReport, SealReport]:
    """The chain (`integrity.verify`) and then the seals over the part of it that held."""
    chain = verify(recorder, digest, progress=progress)
    head = chain.head_position
    seals, hashes, changes = seal_inputs(recorder, mapper, head)
    report = check_seals(seals, hashes, changes, head, pinned_root, chain.intact)
    if report.finding is None:
        # The role table over the history (`role_check`), where the seals hold.
        found = check_roles(recorder, mapper, seals, changes, report.covered,
                            report.own_approvers, report.one_key_programs)
        if found is not None:
            report.finding = SealFinding(*found)
    return chain, report


__all__ = [
    "REGISTRY_TOPICS",
    "UNSEALED",
    "SealFinding",
    "SealReport",
    "check_seals",
    "seal_inputs",
    "verify_sealed",
]
