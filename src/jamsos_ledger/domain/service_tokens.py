"""The HTTP service's bearer tokens as sealed facts: issued and revoked by an administrator.

A token lets whoever presents it act, through the service, as the principal it names: the
service then seals their writes with its own key on that principal's behalf. So a token is as
strong as a key, and is kept like the principals are: its issuance (which principal, the
SHA-256 digest of the token, until when, by whom) and its revocation are events an
administrator seals. Someone who can write the database but holds no administrator's key can
neither issue one nor lift a revocation nor move an expiry: the service honours a token only
when the seal of its issuance holds (`application.service_tokens`), and `audit verify` reports
a forged, removed or altered one like any other event.

The token itself is never stored: only its digest, which cannot be turned back into it. One
aggregate per token, its id derived from the digest, so that the service finds a token's
revocation without reading every token's.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from jamsos_ledger.domain.errors import InvalidInput, RuleViolation
from jamsos_ledger.domain.texts import normal_spaces, text_problem
from jamsos_ledger.domain.topics import pin_stored_topics

# A token lives at most a year: a credential that never expires outlives the staff and the
# machines it was given to (the city renews access yearly with the budget year).
LONGEST = timedelta(days=366)
ID_LENGTH = 12  # a token's short id: the first hex digits of its digest
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_NAMESPACE = UUID("0b7f3a2e-6c1d-4e58-9f2a-7d3c5b1e8a40")


def token_aggregate_id(digest: str) -> UUID:
    """The id of the token whose SHA-256 digest (hex) this is."""
    return uuid5(_NAMESPACE, digest)


class ServiceToken(Aggregate):
    """One bearer token of the service.

    Attributes:
        token_id: its short id (the digest's first `ID_LENGTH` hex digits), as listed.
        principal: the principal it speaks for.
        digest: the SHA-256 of the token, hex.
        expires_at: when it stops counting (UTC, ISO 8601).
        issued_by: the administrator who issued it.
        revoked: whether an administrator revoked it (and `revoked_by`, `reason`).
    """

    @staticmethod
    def create_id(*, digest: str, **_: object) -> UUID:
        return token_aggregate_id(digest)

    @classmethod
    def issue(
        cls, *, principal: str, digest: str, issued_at: datetime, lifetime: timedelta,
        actor: str,
    ) -> ServiceToken:
        """A new token's issuance, or InvalidInput naming what is wrong with it."""
        if not _DIGEST.match(digest):
            raise InvalidInput("a token is kept as the 64 hex digits of its SHA-256")
        if lifetime <= timedelta(0) or lifetime > LONGEST:
            raise InvalidInput(
                "a token lives more than nothing and at most 366 days; nothing was written"
            )
        if issued_at.tzinfo is None:
            raise InvalidInput("a token's issue time is in UTC")
        return cls(token_id=digest[:ID_LENGTH], principal=principal, digest=digest,
                   expires_at=(issued_at + lifetime).isoformat(), actor=actor)

    class Issued(Aggregate.Created):
        token_id: str
        principal: str
        digest: str
        expires_at: str
        actor: str

    @event(Issued)
    def __init__(
        self, *, token_id: str, principal: str, digest: str, expires_at: str, actor: str
    ) -> None:
        self.token_id = token_id
        self.principal = principal
        self.digest = digest
        self.expires_at = expires_at
        self.issued_by = actor
        self.revoked = False
        self.revoked_by = ""
        self.reason = ""

    def revoke(self, *, reason: str, actor: str) -> None:
        """Revoke it from now on; RuleViolation when it is revoked already (nothing written:
        revoking twice changes nothing), InvalidInput for a reason that cannot be kept."""
        reason = normal_spaces(reason)
        problem = text_problem(reason) if reason else None
        if problem:
            raise InvalidInput(f"the reason {problem}; nothing was written")
        if self.revoked:
            raise RuleViolation(f"token {self.token_id} is revoked already")
        self._revoked(token_id=self.token_id, reason=reason, actor=actor)

    class Revoked(Aggregate.Event):
        token_id: str
        reason: str
        actor: str

    @event(Revoked)
    def _revoked(self, *, token_id: str, reason: str, actor: str) -> None:
        self.revoked = True
        self.revoked_by = actor
        self.reason = reason


# Stored names are never renamed (`topics`).
STORED_TOPIC_MODULE = "jamsos_ledger.domain.service_tokens"
pin_stored_topics(STORED_TOPIC_MODULE, ServiceToken)

__all__ = ["ID_LENGTH", "LONGEST", "ServiceToken", "token_aggregate_id"]
