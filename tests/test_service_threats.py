"""The threat model's attacks on the front door (docs/threat-model.md): a real `jamsos serve`
process on SQLite and PostgreSQL, called over HTTP by a hostile or unauthenticated client.

The ledger: a program opened with four eyes on, an enrolment proposed by the clerk and
approved by the head of office, January's payment proposed by a finance officer and pending.
Tokens are issued with `jamsos tokens issue` as an administrator issues them.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql
from role_helpers import acting

from cli_helpers import as_json, contents, events, jamsos, ok
from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.roles import APPROVER, AUDITOR, FINANCE, OPERATOR
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


def test_an_expired_token_is_refused(service: tuple[Served, str]) -> None:
    """A token past its expiry is 401, and says no more than an unknown one does. Time is
    moved on by setting the token's expiry into the past, as the clock would."""
    s, _ = service
    token = issue_token(s.url, "kadis", expires="1h")
    with s.client(token) as c:
        assert c.get("/api/v1/whoami").json()["principal"] == "kadis"
        past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        _tokens_sql(s.url, "UPDATE {t} SET expires_at = ? WHERE digest = ?",
                    (past, hashlib.sha256(token.encode()).hexdigest()))
        expired = _problem(c.get("/api/v1/whoami"), 401)
        unknown = _problem(c.get("/api/v1/whoami", headers={"Authorization": "Bearer jst_x"}),
                           401)
        assert expired["detail"] == unknown["detail"]
    states = {t["id"]: t["state"] for t in as_json(s.url, "tokens", "list")}
    assert "expired" in states.values()


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


def test_a_token_written_into_the_store_is_honoured_a_known_limit(
    service: tuple[Served, str]
) -> None:
    """Someone who can write the database can add a token's hash of their own: the service
    honours it, and the writes it makes are sealed by the service's key on behalf of the
    principal named. The tokens are a table of the front door, not sealed events; the
    threat model says so, and what remains (the service's log, `tokens list`)."""
    s, _ = service
    forged = "jst_" + uuid.uuid4().hex
    now = datetime.now(UTC)
    _tokens_sql(s.url, "INSERT INTO {t} (digest, token_id, principal, issued_at, expires_at, "
                "revoked_at, issued_by) VALUES (?, ?, ?, ?, ?, NULL, ?)",
                (hashlib.sha256(forged.encode()).hexdigest(), "forged00", "kadis",
                 now.isoformat(), (now + timedelta(hours=1)).isoformat(), "operator"))
    with s.client(forged) as c:
        assert c.get("/api/v1/whoami").json()["principal"] == "kadis"
    listed = {t["id"]: t for t in as_json(s.url, "tokens", "list")}
    assert listed["forged00"]["principal"] == "kadis"  # there for an administrator to see
    ok(s.url, "tokens", "revoke", "forged00")
    with s.client(forged) as c:
        _problem(c.get("/api/v1/whoami"), 401)
