"""Bearer tokens: issued by an administrator from the CLI, kept only as hashes, expiring and
revocable, and sealed.

A token is 32 random bytes (256 bits, `secrets`), shown once when issued; the ledger keeps
its SHA-256 digest, never the token. A 256-bit random secret needs no slow password hash: the
digest cannot be reversed, and guessing one is hopeless. The token's short id (the first
characters of the digest) names it in `tokens list` and `tokens revoke`.

Issuing and revoking are sealed events of the ledger (`ServiceToken`, an administrator's
commands `issue_token` and `revoke_token`), so a token is proven like a principal's key: the
service's table of tokens is only an index (digest -> position of the issuance), and a token
counts only when the issuance at that position is covered by an administrator's valid seal
and names its digest (`service_tokens.sealed_token`). Whoever can write the database but
holds no administrator's key cannot add a token, lift a revocation or move an expiry.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from jamsos_ledger.application import Ledger
from jamsos_ledger.application.service_tokens import NotSealed, sealed_token
from jamsos_ledger.domain.errors import InvalidInput, NotFound, RuleViolation
from jamsos_ledger.domain.service_tokens import ID_LENGTH, LONGEST
from jamsos_ledger.web.principals import Principal, principal_named
from jamsos_ledger.web.side_tables import TOKENS, ensure, execute

PREFIX = "jst_"  # says what a leaked string is (a jamsos service token), for secret scanners
_DURATION = re.compile(r"^\s*(\d{1,4})\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
NOT_SEALED = "not sealed"  # the state `tokens list` shows for a token the service refuses
PRINCIPAL_REVOKED = "principal revoked"  # a live token whose principal is revoked: refused
# What a token issued by an earlier version (before tokens were sealed) is told, and the log.
UNSEALED_BEFORE = ("the token was issued before tokens were sealed: an administrator issues "
                   "a new one (`jamsos tokens issue`)")
log = logging.getLogger("jamsos.tokens")

__all__ = ["ID_LENGTH", "LONGEST", "PREFIX", "TokenInfo", "Unauthenticated", "authenticate",
           "digest", "duration", "issue", "listed", "revoke"]


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never the token itself. Its principal, times and issuer are those
    its sealed issuance records; `problem` says why it has none (then it is refused)."""

    token_id: str
    principal: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    issued_by: str
    problem: str | None = None
    # Its principal was revoked (or is no principal): the service refuses the token (401)
    # though the token itself is neither revoked nor expired, so it is never shown active.
    principal_revoked: bool = False

    def state(self, now: datetime) -> str:
        if self.problem is not None:
            return NOT_SEALED
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return PRINCIPAL_REVOKED if self.principal_revoked else "active"


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


_COLUMNS = "digest, token_id, principal, issued_at, expires_at, revoked_at, issued_by, position"


def issue(ledger: Ledger, principal: str, lifetime: timedelta) -> tuple[str, TokenInfo]:
    """A new token for the principal: the token (shown once) and what the ledger keeps. Only
    an administrator issues one; its issuance is a sealed event, then indexed."""
    ensure(ledger, TOKENS)  # a store that cannot hold the index refuses before any write
    token = PREFIX + secrets.token_urlsafe(32)
    hashed = digest(token)
    sealed, position = ledger.issue_token(principal, hashed, lifetime)
    info = TokenInfo(sealed.token_id, sealed.principal, sealed.created_on,
                     datetime.fromisoformat(sealed.expires_at), None, sealed.issued_by)
    execute(
        ledger, TOKENS,
        f"INSERT INTO {{t}} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
        (hashed, info.token_id, info.principal, info.issued_at.isoformat(),
         info.expires_at.isoformat(), info.issued_by, position),
    )
    return token, info


def listed(ledger: Ledger) -> list[TokenInfo]:
    """Every token of the index, as its sealed events say (`not sealed` for one without), and
    whether its principal is still active (`authenticate` refuses it otherwise)."""
    ensure(ledger, TOKENS)
    rows = execute(ledger, TOKENS, f"SELECT {_COLUMNS} FROM {{t}} ORDER BY issued_at", ())
    directory = ledger.signing.directory()
    found = [_checked(ledger, r)[0] for r in rows]
    active = {p.name for p in directory if not p.revoked}
    return [replace(t, principal_revoked=t.principal not in active) for t in found]


def revoke(ledger: Ledger, token_id: str) -> TokenInfo:
    """Revoke a token by its id: refused from now on (revoking twice changes nothing). Only
    an administrator revokes one; the revocation is a sealed event."""
    ensure(ledger, TOKENS)
    wanted = token_id.strip()
    rows = execute(ledger, TOKENS, f"SELECT {_COLUMNS} FROM {{t}} WHERE token_id = ?",
                   (wanted,))
    if not rows:
        ledger.as_command("revoke_token", lambda: None)  # only an administrator learns so
        raise NotFound(f"no token with id {token_id!r} (see `jamsos tokens list`)")
    with contextlib.suppress(NotFound):  # no sealed issuance: refused already; the index
        ledger.revoke_token(str(rows[0][0]))  # says revoked too
    execute(ledger, TOKENS,
            "UPDATE {t} SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
            (now_utc().isoformat(), wanted))
    return _checked(ledger, rows[0])[0]


class Unauthenticated(Exception):
    """No token, or one that is unknown, expired, revoked or unsealed: which, never said to
    the caller, but for `detail`: what a token issued before tokens were sealed is told."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.detail = detail


def authenticate(ledger: Ledger, token: str) -> Principal:
    """The principal a presented token speaks for, if its issuance is sealed by an
    administrator, it is unexpired, not revoked by a sealed act, and its principal active."""
    rows = execute(ledger, TOKENS, f"SELECT {_COLUMNS} FROM {{t}} WHERE digest = ?",
                   (digest(token),))
    if not rows:
        raise Unauthenticated("unknown token")
    info, position = _checked(ledger, rows[0])
    if info.problem is not None:
        log.warning("refused token %s: %s", info.token_id, info.problem)
        raise Unauthenticated(info.problem, UNSEALED_BEFORE if position is None else None)
    if info.state(now_utc()) != "active":
        raise Unauthenticated(f"token {info.state(now_utc())}")
    try:
        return principal_named(ledger, info.principal)
    except RuleViolation:  # the principal was revoked (or never enrolled) since
        raise Unauthenticated("principal not active") from None


def _checked(ledger: Ledger, row: tuple[object, ...]) -> tuple[TokenInfo, int | None]:
    """A row of the index as the sealed events at its position say, and that position.

    The index can refuse a token, never allow one: a revocation or an earlier expiry it holds
    counts too (someone who removes a sealed revocation from the log, which `audit verify`
    reports, must also clear it here), while its principal, issuer and later expiry count
    for nothing. Its own values are shown only for a token with no sealed issuance."""
    hashed, token_id, principal, issued, expires, revoked, by, position = row
    at = None if position is None else int(str(position))
    noted_expiry = _when(expires) or now_utc()  # unreadable: expired
    noted_revoked = None if revoked is None else _when(revoked) or now_utc()
    if at is None:
        problem = "issued before tokens were sealed: issue a new one"
    else:
        try:
            sealed = sealed_token(ledger, str(hashed), at)
        except NotSealed as e:
            problem = f"its issuance is not sealed by an administrator ({e})"
        else:
            return TokenInfo(sealed.token_id, sealed.principal, sealed.issued_at,
                             min(sealed.expires_at, noted_expiry),
                             sealed.revoked_at or noted_revoked, sealed.issued_by), at
    return TokenInfo(str(token_id), str(principal), _when(issued) or noted_expiry,
                     noted_expiry, noted_revoked, str(by), problem), at


def _when(value: object) -> datetime | None:
    """A time the index holds, or None when it holds none readable (it is anyone's to
    write)."""
    try:
        found = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)
