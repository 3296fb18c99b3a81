"""The threat model's attacks on the front door (docs/threat-model.md): a real `jamsos serve`
process on SQLite and PostgreSQL, called over HTTP by a hostile or unauthenticated client.

The ledger: a program opened with four eyes on, an enrolment proposed by the clerk and
approved by the head of office, January's payment proposed by a finance officer and pending.
Tokens are issued with `jamsos tokens issue` as an administrator issues them.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from eventsourcing.utils import get_topic
from psycopg import sql
from role_helpers import acting
from test_seal_attacks import Intruder

from cli_helpers import as_json, contents, enrolled, events, jamsos, ok
from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.roles import APPROVER, AUDITOR, FINANCE, OPERATOR
from jamsos_ledger.domain.service_tokens import ServiceToken
from jamsos_ledger.stores.integrity import EventRow
from jamsos_ledger.web import tokens
from jamsos_ledger.web.side_tables import TOKENS, execute
from registration_file import generate_registrations
from served import Served, issue_token, served

pytestmark = pytest.mark.slow
PROBLEM = "application/problem+json"


def _office(url: str, folder: Path) -> str:
    """The ledger above; the pending payment proposal's id."""
    path = folder / "registrasi.csv"
    generate_registrations(path, 8, bad_rate=0, duplicate_rate=0)
    ok(url, "program", "open", "--year", "2026", "--allocation", "2000000000", "--quota",
       "10000", "--four-eyes")
    ok(url, "workers", "import", str(path))
    ok(url, "workers", "prioritize")
    for name, roles in (("clerk", {OPERATOR}), ("kadis", {APPROVER}), ("ppk", {FINANCE}),
                        ("inspektorat", {AUDITOR})):
        acting(url, name, roles).close()
    decree = _proposed(jamsos(url, "enroll", "--top", "5", "--start", "2026-01", "--decree",
                              "KEP/1", actor="clerk").stdout)
    ok(url, "proposals", "approve", decree, actor="kadis")
    return _proposed(jamsos(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/01",
                            actor="ppk").stdout)


def _proposed(output: str) -> str:
    found = re.search(r"Proposed [a-z ]+ ([0-9a-f]{8}) ", output)
    assert found, output
    return found.group(1)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[Served, str]]:
    folder = tmp_path_factory.mktemp("threats")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{folder}/ledger.db"
    else:
        server: str = request.getfixturevalue("postgres_server")
        schema = f"test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        url = f"{server}?schema={schema}"
    try:
        payment = _office(url, folder)
        with served(url, folder) as s:
            yield s, payment
    finally:
        if schema is not None:
            with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert "Traceback" not in response.text
    return body


def _tokens_sql(url: str, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """A statement on the service's tokens table, as someone with the database would run it."""
    ledger = Ledger(url)
    try:
        return execute(ledger, TOKENS, statement, params)
    finally:
        ledger.close()


def test_a_clerks_token_may_not_decide_or_make_a_payment(service: tuple[Served, str]) -> None:
    """Acting alone on money over HTTP: 403 for a role that may not, 409 for the proposer's
    own approval; nothing written."""
    s, payment = service
    clerk, ppk = issue_token(s.url, "clerk"), issue_token(s.url, "ppk")
    auditor = issue_token(s.url, "inspektorat")
    before = events(s.url)
    with s.client(clerk) as c:
        refused = _problem(c.post(f"/api/v1/proposals/{payment}/approve"), 403)
        assert "clerk holds operator" in refused["detail"], refused
        _problem(c.post(f"/api/v1/proposals/{payment}/reject", json={"reason": "no"}), 403)
        _problem(c.post("/api/v1/payments", json={"month": "2026-02", "sp2d": "SP2D/02"}), 403)
    with s.client(ppk) as c:
        same = _problem(c.post(f"/api/v1/proposals/{payment}/approve"), 409)
        assert "cannot also approve" in same["detail"], same
    with s.client(auditor) as c:
        _problem(c.post("/api/v1/enrolments", json={"start": "2026-02", "top": 1}), 403)
        assert c.get("/api/v1/reports/budget").status_code == 200  # reading is allowed
    assert events(s.url) == before
    assert as_json(s.url, "proposals", "show", payment, "--format", "json")["status"] \
        == "pending"


def test_the_store_keeps_a_tokens_hash_never_the_token(service: tuple[Served, str]) -> None:
    """Whoever reads the database (or a backup) finds no token to present: only its SHA-256."""
    s, _ = service
    token = issue_token(s.url, "clerk")
    stored = contents(s.url)
    text = stored.decode("latin-1") if isinstance(stored, bytes) else repr(stored)
    assert token not in text and token[4:] not in text
    assert hashlib.sha256(token.encode()).hexdigest() in text


def test_an_expired_token_is_refused_and_its_expiry_cannot_be_moved_in_the_store(
    service: tuple[Served, str]
) -> None:
    """A token past its expiry is 401, and says no more than an unknown one does; moving its
    expiry in the service's table (as someone with the database would) does not revive it:
    the expiry counted is the one its sealed issuance records. The token is issued for three
    seconds through the application (the CLI's shortest is a minute)."""
    s, _ = service
    enrolled(s.url, "kadis")
    ledger = Ledger(s.url, create=False)
    try:
        token, info = tokens.issue(ledger, "kadis", timedelta(seconds=3))
    finally:
        ledger.close()
    with s.client(token) as c:
        assert c.get("/api/v1/whoami").json()["principal"] == "kadis"
        time.sleep(max(0.0, (info.expires_at - datetime.now(UTC)).total_seconds()) + 0.2)
        expired = _problem(c.get("/api/v1/whoami"), 401)
        unknown = _problem(c.get("/api/v1/whoami", headers={"Authorization": "Bearer jst_x"}),
                           401)
        assert expired["detail"] == unknown["detail"]
        later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        _tokens_sql(s.url, "UPDATE {t} SET expires_at = ? WHERE digest = ?",
                    (later, hashlib.sha256(token.encode()).hexdigest()))
        assert _problem(c.get("/api/v1/whoami"), 401)["detail"] == unknown["detail"]
    states = {t["id"]: t["state"] for t in as_json(s.url, "tokens", "list")}
    assert states[info.token_id] == "expired"


def test_no_page_of_another_site_may_call_the_service(service: tuple[Served, str]) -> None:
    """No CORS: a browser on another origin gets no Access-Control-Allow-Origin, so a page
    elsewhere cannot read the answers or send a write with a token it found."""
    s, _ = service
    evil = "https://evil.example"
    with s.client() as c:
        preflight = c.request("OPTIONS", "/api/v1/payments", headers={
            "Origin": evil, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert preflight.status_code >= 400
        read = c.get("/api/v1/reports/budget", headers={"Origin": evil})
        assert read.status_code == 200
    for answer in (preflight, read):
        assert not any(h.lower().startswith("access-control-") for h in answer.headers)


def test_a_token_written_into_the_store_is_refused(service: tuple[Served, str]) -> None:
    """Someone who can write the database but holds no administrator's key adds a token's
    hash of their own to the service's table: as a token of before tokens were sealed (no
    position), pointing at another token's sealed issuance, or at a position holding no
    issuance. Each is refused (401), logged, and listed as `not sealed`; writing nothing."""
    s, _ = service
    genuine = issue_token(s.url, "kadis")
    (position,) = _tokens_sql(s.url, "SELECT position FROM {t} WHERE digest = ?",
                              (hashlib.sha256(genuine.encode()).hexdigest(),))[0]
    now = datetime.now(UTC)
    forged = {f"forged{i:02d}": "jst_" + uuid.uuid4().hex for i in range(3)}
    for (token_id, token), at in zip(forged.items(), (None, position, 1), strict=True):
        _tokens_sql(s.url, "INSERT INTO {t} (digest, token_id, principal, issued_at, "
                    "expires_at, revoked_at, issued_by, position) "
                    "VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
                    (hashlib.sha256(token.encode()).hexdigest(), token_id, "kadis",
                     now.isoformat(), (now + timedelta(hours=1)).isoformat(), "operator", at))
    before = events(s.url)
    with s.client(forged["forged00"]) as c:
        old = _problem(c.get("/api/v1/whoami"), 401)
        assert "issued before tokens were sealed" in old["detail"], old
        assert "jamsos tokens issue" in old["detail"]
    for token_id in ("forged01", "forged02"):
        with s.client(forged[token_id]) as c:
            refused = _problem(c.get("/api/v1/whoami"), 401)
            assert refused["detail"] == "the token is not valid (unknown, expired or revoked)"
            _problem(c.post("/api/v1/enrolments", json={"start": "2026-02", "top": 1}), 401)
    with s.client(genuine) as c:
        assert c.get("/api/v1/whoami").json()["principal"] == "kadis"
    assert events(s.url) == before
    listed = {t["id"]: t for t in as_json(s.url, "tokens", "list")}
    assert {listed[t]["state"] for t in forged} == {"not sealed"}
    assert listed[genuine_id(genuine)]["state"] == "active"
    logged = s.log.read_text()
    assert "refused token forged00: issued before tokens were sealed" in logged
    assert "refused token forged01: its issuance is not sealed" in logged
    assert not any(t in logged for t in (*forged.values(), genuine))


def test_a_revocation_cleared_in_the_store_is_still_a_revocation(
    service: tuple[Served, str]
) -> None:
    """A token revoked by an administrator stays revoked when someone with the database
    clears the revocation in the service's table, or rewrites its principal there: the
    revocation is a sealed event, and the principal is the one its issuance records."""
    s, _ = service
    token = issue_token(s.url, "clerk")
    hashed = hashlib.sha256(token.encode()).hexdigest()
    with s.client(token) as c:
        assert c.get("/api/v1/whoami").json()["principal"] == "clerk"
        _tokens_sql(s.url, "UPDATE {t} SET principal = ? WHERE digest = ?", ("kadis", hashed))
        assert c.get("/api/v1/whoami").json()["principal"] == "clerk"
        ok(s.url, "tokens", "revoke", genuine_id(token))
        _problem(c.get("/api/v1/whoami"), 401)
        _tokens_sql(s.url, "UPDATE {t} SET revoked_at = NULL WHERE digest = ?", (hashed,))
        _problem(c.get("/api/v1/whoami"), 401)
    assert {t["id"]: t["state"] for t in as_json(s.url, "tokens", "list")}[
        genuine_id(token)] == "revoked"


def genuine_id(token: str) -> str:
    """A token's short id, as `tokens list` shows it."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def test_a_token_forged_in_the_log_itself_is_refused(store_url: str, tmp_path: Path) -> None:
    """Two forged issuances in the ledger's own log, each indexed in the service's table: one
    appended with plain SQL and its correct chain link (no key, so no seal), one sealed by an
    operator's genuine key with a jamsos of their own that skips the role table. The service
    refuses both (401) and says why in its log; `audit verify` reports the forgery."""
    ok(store_url, "program", "open", "--year", "2026", "--allocation", "1000000000",
       "--quota", "100", "--one-key")
    postgres = store_url.startswith("postgresql")
    intruder = Intruder(store_url, postgres)
    appended, sealed = ("jst_" + uuid.uuid4().hex for _ in range(2))
    with served(store_url, tmp_path) as s:
        clerk = acting(store_url, "clerk", {OPERATOR})
        try:
            made = ServiceToken.issue(
                principal="disnaker", digest=hashlib.sha256(appended.encode()).hexdigest(),
                issued_at=datetime.now(UTC), lifetime=timedelta(hours=1), actor="operator")
            stored = clerk.mapper.to_stored_event(made.collect_events()[0])
            own = ServiceToken.issue(
                principal="disnaker", digest=hashlib.sha256(sealed.encode()).hexdigest(),
                issued_at=datetime.now(UTC), lifetime=timedelta(hours=1), actor="clerk")
            by_clerk = int(clerk.save(own)[-1].notification.id)
        finally:
            clerk.close()
        n = intruder.head() + 1
        oid = stored.originator_id if postgres else stored.originator_id.hex
        intruder.append([EventRow(n, oid, 1, stored.topic, stored.state, uuid_text=not postgres)])
        for token, at in ((appended, n), (sealed, by_clerk)):
            hashed = hashlib.sha256(token.encode()).hexdigest()
            _tokens_sql(store_url, "INSERT INTO {t} (digest, token_id, principal, issued_at, "
                        "expires_at, revoked_at, issued_by, position) "
                        "VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
                        (hashed, hashed[:12], "disnaker", datetime.now(UTC).isoformat(),
                         (datetime.now(UTC) + timedelta(hours=1)).isoformat(), "operator", at))
            with s.client(token) as c:
                _problem(c.get("/api/v1/whoami"), 401)
        logged = s.log.read_text()
        assert f"no seal covers position {n}" in logged, logged
        assert "issued by clerk, who was no administrator then" in logged, logged
    verified = jamsos(store_url, "audit", "verify")
    assert verified.exit_code == 4, verified.output


def test_a_token_issued_before_tokens_were_sealed_is_refused_saying_what_to_do(
    store_url: str, tmp_path: Path
) -> None:
    """A store whose tokens table an earlier version made (no position of a sealed issuance)
    keeps its rows, gains the column, and its tokens are refused with what to do: issue a
    new one. `tokens list` shows them `not sealed`, and `tokens revoke` still tidies them."""
    ok(store_url, "program", "open", "--year", "2026", "--allocation", "1000000000",
       "--quota", "100", "--one-key")
    enrolled(store_url, "kadis")
    old = "jst_" + uuid.uuid4().hex
    hashed = hashlib.sha256(old.encode()).hexdigest()
    now = datetime.now(UTC)
    _tokens_sql(store_url, "CREATE TABLE {t} (digest TEXT PRIMARY KEY, token_id TEXT NOT NULL "
                "UNIQUE, principal TEXT NOT NULL, issued_at TEXT NOT NULL, expires_at TEXT NOT "
                "NULL, revoked_at TEXT, issued_by TEXT NOT NULL)", ())
    _tokens_sql(store_url, "INSERT INTO {t} (digest, token_id, principal, issued_at, "
                "expires_at, revoked_at, issued_by) VALUES (?, ?, ?, ?, ?, NULL, ?)",
                (hashed, hashed[:12], "kadis", now.isoformat(),
                 (now + timedelta(days=1)).isoformat(), "operator"))
    with served(store_url, tmp_path) as s:
        with s.client(old) as c:
            refused = _problem(c.get("/api/v1/whoami"), 401)
        assert refused["detail"] == tokens.UNSEALED_BEFORE
        with s.client() as c:  # a token issued now, into the same table
            assert c.get("/api/v1/whoami").status_code == 200
        listed = {t["id"]: t["state"] for t in as_json(store_url, "tokens", "list")}
        assert listed[hashed[:12]] == "not sealed"
        assert "active" in listed.values()
        assert f"Revoked token {hashed[:12]} of kadis" in ok(
            store_url, "tokens", "revoke", hashed[:12]).output
        assert "refused token " + hashed[:12] in s.log.read_text()


def test_a_revocation_removed_from_the_log_is_caught_by_verify(
    store_url: str, tmp_path: Path
) -> None:
    """The one way left to revive a revoked token without a key: delete its sealed revocation
    from the log, every chain hash recomputed, and clear the index too (either alone keeps it
    refused). The service then honours it again, and `audit verify` reports the history as
    not proven: detected, not prevented, like any event removed (threat model, §3)."""
    ok(store_url, "program", "open", "--year", "2026", "--allocation", "1000000000",
       "--quota", "100", "--one-key")
    intruder = Intruder(store_url, store_url.startswith("postgresql"))
    with served(store_url, tmp_path) as s:
        token = issue_token(store_url, "kadis")
        ok(store_url, "tokens", "revoke", genuine_id(token))
        issue_token(store_url, "clerk")  # a later transaction: the revocation is not the tail
        ((position,),) = intruder.run("SELECT {pos} FROM {events} WHERE topic = ?",
                                      get_topic(ServiceToken.Revoked))
        intruder.run("DELETE FROM {events} WHERE {pos} = ?", position)
        intruder.recompute_chain()
        with s.client(token) as c:
            _problem(c.get("/api/v1/whoami"), 401)  # the index still says revoked
            _tokens_sql(store_url, "UPDATE {t} SET revoked_at = NULL WHERE token_id = ?",
                        (genuine_id(token),))
            assert c.get("/api/v1/whoami").json()["principal"] == "kadis"
    verified = jamsos(store_url, "audit", "verify")
    assert verified.exit_code == 4, verified.output
    assert "not proven from position" in verified.stderr


def test_a_caller_without_the_role_learns_that_first_on_a_ledger_of_two_programs(
    store_url: str, tmp_path: Path
) -> None:
    """The role is checked before the program is resolved: an auditor writing without naming
    one of two programs is refused for the role (403), not told to choose a program (422);
    for every write that takes a program. Nothing is written."""
    for code in ("a", "b"):
        ok(store_url, "program", "open", "--year", "2026", "--allocation", "1000000000",
           "--quota", "100", "--code", code)
    acting(store_url, "inspektorat", {AUDITOR}).close()
    with served(store_url, tmp_path) as s:
        auditor = issue_token(s.url, "inspektorat")
        before = events(s.url)
        with s.client(auditor) as c:
            for path, body in (
                ("/api/v1/program/amendments", {"quota": 90, "reason": "APBD-P"}),
                ("/api/v1/enrolments", {"start": "2026-02", "top": 1, "decree": "KEP/9"}),
                ("/api/v1/endings", {"nik": "3275014203850001", "month": "2026-02",
                                     "reason": "moved"}),
                ("/api/v1/payments", {"month": "2026-02", "sp2d": "SP2D/02"}),
                ("/api/v1/reversals", {"sp2d": "SP2D/01", "reason": "bounced"}),
                ("/api/v1/annulments", {"nik": "3275014203850001", "reason": "in error"}),
            ):
                refused = _problem(c.post(path, json=body), 403)
                assert "inspektorat holds auditor" in refused["detail"], (path, refused)
        assert events(s.url) == before


def test_a_revoked_service_key_refuses_a_read_without_speaking_of_writing(
    store_url: str, tmp_path: Path
) -> None:
    """The service's own key revoked: a role-checked read (`/audit/viewings`) is refused and
    says nothing was read (no write was asked for); a write still says nothing was written."""
    ok(store_url, "program", "open", "--year", "2026", "--allocation", "1000000000",
       "--quota", "100", "--one-key")
    acting(store_url, "inspektorat", {AUDITOR}).close()
    with served(store_url, tmp_path) as s:
        auditor = issue_token(s.url, "inspektorat")
        with s.client(auditor) as c:
            assert c.get("/api/v1/audit/viewings").status_code == 200
            ok(s.url, "principals", "revoke", "jamsos-service", "--reason", "key leaked")
            before = events(s.url)
            response = c.get("/api/v1/audit/viewings")
            assert response.status_code == 403, response.text
            read = response.json()["detail"]
            assert "who was revoked: nothing was read" in read, read
            assert "written" not in read, read
            response = c.post("/api/v1/audit/notes", json={"text": "a finding"})
            assert response.status_code == 403, response.text
            assert "who was revoked: nothing was written" in response.json()["detail"]
        assert events(s.url) == before
