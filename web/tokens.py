"""Bearer tokens: issued by an administrator from the CLI, kept only as hashes, expiring and
revocable.

A token is 32 random bytes (256 bits, `secrets`), shown once when issued; the store keeps
its SHA-256 digest, never the token. A 256-bit random secret needs no slow password hash: the
digest cannot be reversed, and guessing one is hopeless. The token's short id (the first
characters of the digest) names it in `tokens list` and `tokens revoke`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.errors import InvalidInput, NotFound, RuleViolation
from jamsos_ledger.web.principals import Principal, principal_named
from jamsos_ledger.web.side_tables import TOKENS, ensure, execute

PREFIX = "jst_"  # says what a leaked string is (a jamsos service token), for secret scanners
ID_LENGTH = 12
LONGEST = timedelta(days=366)
_DURATION = re.compile(r"^\s*(\d{1,4})\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never the token itself."""

    token_id: str
    principal: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    issued_by: str

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if now >= self.expires_at else "active"


def duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m`: how long a token lives, at most a year."""
    found = _DURATION.match(text)
    if not found:
        raise InvalidInput(f"--expires {text!r}: a number and a unit, e.g. 30d, 12h or 90m")
    amount = timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    if amount <= timedelta(0) or amount > LONGEST:
        raise InvalidInput(f"--expires {text!r}: more than nothing and at most 366 days")
    return amount


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def now_utc() -> datetime:
    return datetime.now(UTC)


def issue(ledger: Ledger, principal: str, lifetime: timedelta) -> tuple[str, TokenInfo]:
    """A new token for the principal: the token (shown once) and what the store keeps.
    Only an administrator (proven by their key) issues one."""
    issued_by = ledger.signing.require_administrator().name
    who = principal_named(ledger, principal)
    ensure(ledger, TOKENS)
    token = PREFIX + secrets.token_urlsafe(32)
    hashed = digest(token)
    issued = now_utc()
    info = TokenInfo(hashed[:ID_LENGTH], who.name, issued, issued + lifetime, None, issued_by)
    execute(
        ledger, TOKENS,
        "INSERT INTO {t} (digest, token_id, principal, issued_at, expires_at, revoked_at, "
        "issued_by) VALUES (?, ?, ?, ?, ?, NULL, ?)",
        (hashed, info.token_id, info.principal, issued.isoformat(), info.expires_at.isoformat(),
         issued_by),
    )
    return token, info


def listed(ledger: Ledger) -> list[TokenInfo]:
    ensure(ledger, TOKENS)
    rows = execute(
        ledger, TOKENS,
        "SELECT token_id, principal, issued_at, expires_at, revoked_at, issued_by FROM {t} "
        "ORDER BY issued_at", (),
    )
    return [_info(r) for r in rows]


def revoke(ledger: Ledger, token_id: str) -> TokenInfo:
    """Revoke a token by its id: refused from now on (revoking twice changes nothing). Only
    an administrator revokes one."""
    ledger.signing.require_administrator()
    ensure(ledger, TOKENS)
    execute(
        ledger, TOKENS, "UPDATE {t} SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
        (now_utc().isoformat(), token_id.strip()),
    )
    found = [t for t in listed(ledger) if t.token_id == token_id.strip()]
    if not found:
        raise NotFound(f"no token with id {token_id!r} (see `jamsos tokens list`)")
    return found[0]


class Unauthenticated(Exception):
    """No token, or one that is unknown, expired or revoked: which, never said to the caller."""


def authenticate(ledger: Ledger, token: str) -> Principal:
    """The principal a presented token speaks for, if it is known, unexpired, not revoked."""
    rows = execute(
        ledger, TOKENS,
        "SELECT token_id, principal, issued_at, expires_at, revoked_at, issued_by FROM {t} "
        "WHERE digest = ?", (digest(token),),
    )
    if not rows:
        raise Unauthenticated("unknown token")
    info = _info(rows[0])
    if info.state(now_utc()) != "active":
        raise Unauthenticated(f"token {info.state(now_utc())}")
    try:
        return principal_named(ledger, info.principal)
    except RuleViolation:  # the principal was revoked (or never enrolled) since
        raise Unauthenticated("principal not active") from None


def _info(row: tuple[object, ...]) -> TokenInfo:
    token_id, principal, issued, expires, revoked, by = row
    return TokenInfo(
        str(token_id), str(principal), datetime.fromisoformat(str(issued)),
        datetime.fromisoformat(str(expires)),
        None if revoked is None else datetime.fromisoformat(str(revoked)), str(by),
    )
