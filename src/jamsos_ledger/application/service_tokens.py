"""The service's tokens as the ledger proves them: an issuance counts only under a valid seal.

Issuing and revoking a token are commands of the role table (`issue_token`, `revoke_token`,
an administrator's), written as `ServiceToken` events sealed like every other write. The
HTTP service keeps a small index beside them (the token's digest and the position of its
issuance); whoever can write the database can change that index, so the service trusts
nothing of it but where to look: `sealed_token` reads the issuance at that position and
checks, as `audit verify` would for that one transaction, that a genuine seal of a principal
who was an administrator then covers exactly that event, and takes the principal and the
expiry from the event itself. A revocation is read from the token's own events: any counts
(a forged one only refuses a token, which fails safe); removing a sealed one breaks the chain
`audit verify` checks.

The cost is one transaction's worth of reading (the seal after the event, the chain link
before it, the event rows it seals), the principals' registry, and one signature check.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from jamsos_ledger.application.seal_check import REGISTRY_TOPICS
from jamsos_ledger.domain.errors import LedgerError
from jamsos_ledger.domain.principals import (
    ADMINISTRATOR,
    SERVICE,
    Directory,
    Principal,
    change_of,
)
from jamsos_ledger.domain.service_tokens import ServiceToken, token_aggregate_id
from jamsos_ledger.stores.integrity import GENESIS, PAGE, link
from jamsos_ledger.stores.keys import signature_holds
from jamsos_ledger.stores.seals import ROOT, WRITE

_REVOKED_TOPIC = get_topic(ServiceToken.Revoked)
_FURTHEST = 2**62  # an upper bound of positions


class NotSealed(LedgerError):
    """No valid seal of an administrator covers the event: it proves nothing."""


@dataclass(frozen=True)
class SealedToken:
    """A token as its sealed events say.

    Attributes:
        position: where its issuance lies in the log.
        revoked_at: when it was revoked, or None.
    """

    token_id: str
    principal: str
    digest: str
    issued_at: datetime
    expires_at: datetime
    issued_by: str
    position: int
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if now >= self.expires_at else "active"


def sealed_token(service: Any, digest: str, position: int) -> SealedToken:
    """The token of that digest whose issuance lies at `position`, proven by its seal to be an
    administrator's; NotSealed (saying why) otherwise."""
    issued, by = sealed_event(service, position)
    if not isinstance(issued, ServiceToken.Issued) or issued.digest != digest \
            or issued.originator_id != token_aggregate_id(digest):
        raise NotSealed(f"the event at position {position} is not this token's issuance")
    if not by.is_administrator:
        raise NotSealed(f"the token was issued by {by.name}, who was no administrator then")
    return SealedToken(
        token_id=issued.token_id, principal=issued.principal, digest=issued.digest,
        issued_at=issued.timestamp, expires_at=datetime.fromisoformat(issued.expires_at),
        issued_by=by.name, position=position, revoked_at=revoked_at(service, digest),
    )


def revoked_at(service: Any, digest: str) -> datetime | None:
    """When the token was first revoked, or None."""
    for stored in service.recorder.select_events(token_aggregate_id(digest)):
        if stored.topic == _REVOKED_TOPIC:
            revoked = service.mapper.to_domain_event(stored)
            return revoked.timestamp
    return None


def sealed_event(service: Any, position: int) -> tuple[Any, Principal]:
    """The event at `position` and the principal it was written by (the one the seal's
    signer acted for), proven as `audit verify` proves a transaction: the first seal at or
    after it signs the chain head that the chain link before it and the rows up to the seal
    make, with the key its signer held then. NotSealed otherwise."""
    recorder = service.recorder
    found = recorder.select_seals(position - 1, _FURTHEST, 1)
    if not found or found[0].kind != WRITE:
        raise NotSealed(f"no seal covers position {position}")
    seal = found[0]
    rows = recorder.select_event_rows(position - 1, seal.position, seal.position - position + 1)
    if not rows or rows[0].position != position:
        raise NotSealed(f"the log holds no event at position {position}")
    head = _chain_before(recorder, position)
    for row in rows:
        head = link(head, row.encoded())
    directory = directory_before(service, position)
    signer = directory.get(seal.principal)
    if signer is None or signer.revoked or signer.fingerprint != seal.fingerprint:
        raise NotSealed(f"position {position} is sealed by {seal.principal!r}, who held no "
                        "such key then")
    if not signature_holds(signer.public_key, seal.signature, seal.message(head)):
        raise NotSealed(f"the seal over position {position} does not hold: the events or the "
                        "seal were changed")
    acting = signer
    if seal.on_behalf_of is not None:
        target = directory.get(seal.on_behalf_of)
        if not signer.holds(SERVICE) or target is None or target.revoked:
            raise NotSealed(f"position {position} was sealed on behalf of "
                            f"{seal.on_behalf_of!r} without the right to")
        acting = target
    return service.mapper.to_domain_event(_stored(rows[0])), acting


def directory_before(service: Any, position: int) -> Directory:
    """The principals as they stood before `position`: the root's seal and the registry's
    events written before it, in log order."""
    root = service.signing.root_seal()
    fields = root.root_principal() if root is not None and root.kind == ROOT else None
    if fields is None:
        return Directory()
    directory = Directory(Principal(fields["name"], fields["office"],
                                    frozenset({ADMINISTRATOR}), fields["public_key"]))
    for n in _registry_notifications(service.recorder, position - 1):
        change = change_of(service.mapper.to_domain_event(n))
        if change is not None:
            directory.apply(change)
    return directory


def _registry_notifications(recorder: Any, upto: int) -> Iterator[Any]:
    start = 0
    while True:
        page = recorder.select_notifications(start=start, limit=PAGE, stop=upto,
                                             topics=REGISTRY_TOPICS, inclusive_of_start=False)
        yield from page
        if len(page) < PAGE:
            return
        start = page[-1].id


def _chain_before(recorder: Any, position: int) -> bytes:
    """The chain hash of the last event before `position` (the genesis when there is none):
    looked for backwards over widening spans, since positions may have gaps (a rolled-back
    transaction on PostgreSQL keeps its numbers). A wrong one only makes the seal fail."""
    span = 8
    while True:
        after = max(0, position - 1 - span)
        rows = recorder.select_chain_rows(after, position - 1, span + 1)
        if rows:
            return bytes(rows[-1][1])
        if after == 0:
            return GENESIS
        span *= 8


def _stored(row: Any) -> StoredEvent:
    """A verified event row as the mapper decodes it (NotSealed for values no recorder
    writes)."""
    oid, version, topic, state = row.originator_id, row.originator_version, row.topic, row.state
    try:
        originator = oid if isinstance(oid, UUID) else UUID(str(oid))
    except ValueError:
        raise NotSealed(f"the event at position {row.position} has no readable id") from None
    if not isinstance(version, int) or not isinstance(topic, str) \
            or not isinstance(state, bytes | bytearray | memoryview):
        raise NotSealed(f"the event at position {row.position} is not readable")
    return StoredEvent(originator_id=originator, originator_version=version, topic=topic,
                       state=bytes(state))


__all__ = ["NotSealed", "SealedToken", "directory_before", "revoked_at", "sealed_event",
           "sealed_token"]
