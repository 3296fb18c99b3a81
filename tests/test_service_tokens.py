"""The service's tokens as sealed events (`ServiceToken`), without a server: who may issue and
revoke them, what a token's issuance must be to count (`service_tokens.sealed_token`), and
`audit verify` over them. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from role_helpers import acting
from test_seal_attacks import Intruder

from cli_helpers import admin_key, jamsos
from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.application.service_tokens import NotSealed, sealed_token
from jamsos_ledger.domain.errors import InvalidInput, RoleRefused
from jamsos_ledger.domain.roles import OPERATOR
from jamsos_ledger.domain.service_tokens import ServiceToken
from jamsos_ledger.web import tokens


def _digest() -> str:
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()


def _admin(url: str) -> Ledger:
    ledger = Ledger(url, key=KeySource(key=admin_key()))
    ledger.open_program(year=2026, allocation=1_000_000_000, quota=100, four_eyes=False)
    return ledger


def _head(ledger: Ledger) -> int:
    return int(ledger.recorder.max_notification_id() or 0)


def test_an_administrator_issues_and_revokes_and_the_seal_proves_it(store_url: str) -> None:
    ledger = _admin(store_url)
    try:
        me = ledger.actor
        digest = _digest()
        token, position = ledger.issue_token(me, digest, timedelta(hours=2))
        assert position == _head(ledger)
        proven = sealed_token(ledger, digest, position)
        assert (proven.principal, proven.issued_by, proven.revoked_at) == (me, me, None)
        assert proven.expires_at == datetime.fromisoformat(token.expires_at)
        assert proven.state(datetime.now(UTC)) == "active"
        ledger.revoke_token(digest)
        head = _head(ledger)
        ledger.revoke_token(digest)  # revoking twice changes nothing
        assert _head(ledger) == head
        assert sealed_token(ledger, digest, position).state(datetime.now(UTC)) == "revoked"
        with pytest.raises(NotSealed, match="not this token's issuance"):
            sealed_token(ledger, _digest(), position)
    finally:
        ledger.close()
    assert jamsos(store_url, "audit", "verify").exit_code == 0


def test_only_an_administrator_issues_or_revokes_a_token(store_url: str) -> None:
    admin = _admin(store_url)
    digest = _digest()
    try:
        admin.issue_token(admin.actor, digest, timedelta(hours=1))
    finally:
        admin.close()
    clerk = acting(store_url, "clerk", {OPERATOR})
    head = _head(clerk)
    try:
        with pytest.raises(RoleRefused, match="needs the role administrator"):
            clerk.issue_token("clerk", _digest(), timedelta(hours=1))
        with pytest.raises(RoleRefused, match="needs the role administrator"):
            clerk.revoke_token(digest)
        assert _head(clerk) == head  # nothing written
    finally:
        clerk.close()


def test_a_tokens_lifetime_is_more_than_nothing_and_at_most_a_year() -> None:
    for lifetime in (timedelta(0), timedelta(seconds=-1), timedelta(days=367)):
        with pytest.raises(InvalidInput, match="at most 366 days"):
            ServiceToken.issue(principal="p", digest=_digest(), issued_at=datetime.now(UTC),
                               lifetime=lifetime, actor="a")
    with pytest.raises(InvalidInput, match="64 hex digits"):
        ServiceToken.issue(principal="p", digest="not a digest", issued_at=datetime.now(UTC),
                           lifetime=timedelta(days=1), actor="a")


def test_an_issuance_altered_in_the_store_proves_nothing(store_url: str) -> None:
    """Its expiry or principal changed in the stored event, every chain hash recomputed: the
    seal over it no longer holds, so the token counts for nothing."""
    ledger = _admin(store_url)
    digest = _digest()
    try:
        _, position = ledger.issue_token(ledger.actor, digest, timedelta(hours=1))
        ledger.issue_token(ledger.actor, _digest(), timedelta(hours=1))  # sealed after it
        intruder = Intruder(store_url, store_url.startswith("postgresql"))
        state = bytearray(intruder.event(position).state)
        state[len(state) // 2] ^= 0x01
        intruder.run("UPDATE {events} SET state = ? WHERE {pos} = ?", bytes(state), position)
        intruder.recompute_chain()
        with pytest.raises(NotSealed, match="does not hold"):
            sealed_token(ledger, digest, position)
    finally:
        ledger.close()


def test_an_issuance_sealed_by_a_principal_of_its_own_accord_is_reported(
    store_url: str,
) -> None:
    """An operator's own jamsos, skipping the role table, seals a token's issuance with the
    operator's genuine key: it proves nothing to the service, and `audit verify` reports it
    as written without the role administrator."""
    _admin(store_url).close()
    clerk = acting(store_url, "clerk", {OPERATOR})
    digest = _digest()
    try:
        made = ServiceToken.issue(principal="clerk", digest=digest,
                                  issued_at=datetime.now(UTC), lifetime=timedelta(hours=1),
                                  actor="clerk")
        position = int(clerk.save(made)[-1].notification.id)
        with pytest.raises(NotSealed, match="clerk, who was no administrator then"):
            sealed_token(clerk, digest, position)
    finally:
        clerk.close()
    verified = jamsos(store_url, "audit", "verify")
    assert verified.exit_code == 4, verified.output
    assert "ServiceToken.Issued written by 'clerk'" in verified.stderr, verified.stderr
    assert "needs the role administrator" in verified.stderr


def test_a_token_of_a_revoked_principal_is_listed_so_and_refused(store_url: str) -> None:
    """The service refuses a live token once its principal is revoked: `tokens list` says
    `principal revoked`, never active."""
    _admin(store_url).close()
    acting(store_url, "kadis", {OPERATOR}).close()
    admin = Ledger(store_url, key=KeySource(key=admin_key()))
    try:
        token, info = tokens.issue(admin, "kadis", timedelta(days=1))
        assert tokens.authenticate(admin, token).name == "kadis"
    finally:
        admin.close()

    def state() -> str:
        listed = jamsos(store_url, "tokens", "list", "--format", "json")
        assert listed.exit_code == 0, listed.output
        return {t["id"]: t["state"] for t in json.loads(listed.stdout)}[info.token_id]

    assert state() == "active"
    revoked = jamsos(store_url, "principals", "revoke", "kadis", "--reason", "left the office")
    assert revoked.exit_code == 0, revoked.output
    assert state() == "principal revoked"
    admin = Ledger(store_url, key=KeySource(key=admin_key()))
    try:
        with pytest.raises(tokens.Unauthenticated, match="principal not active"):
            tokens.authenticate(admin, token)
    finally:
        admin.close()
