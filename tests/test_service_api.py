"""`jamsos serve` as another office's system uses it: a real process on SQLite and
PostgreSQL, called over HTTP with a token issued from the CLI.

One server a store for the module (starting one takes a second) on the small ledger
(`small_ledger.twenty_workers`). Every test stands on its own on that ledger: CI splits a
module's tests across pytest-xdist workers (each builds its own fixture) and runs them in any
order, so each makes the requests and writes what it checks, on months, workers and
principals no other test of the file touches.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from cli_helpers import as_json, events, jamsos, key_for, ok
from jamsos_ledger.cli import main
from jamsos_ledger.domain.principals import public_key_text
from served import Served, issue_token, served
from small_ledger import twenty_workers

pytestmark = pytest.mark.slow
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[Served, list[str]]]:
    folder = tmp_path_factory.mktemp("served")
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
        niks = twenty_workers(url, folder)
        with served(url, folder) as s:
            yield s, niks
    finally:
        if schema is not None:
            with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"] and "Traceback" not in response.text
    return body


def _covered(url: str, niks: list[str]) -> list[str]:
    """The workers covered now, in the registration file's order."""
    return [n for n in niks
            if any(c["ended"] is None for c in as_json(url, "workers", "show", n)["coverages"])]


def test_every_request_but_health_is_authenticated(service: tuple[Served, list[str]]) -> None:
    s, _ = service
    with s.client() as c:
        assert c.get("/health").json() == {"status": "ok"}
        assert c.get("/api/v1/whoami").json()["principal"] == "disnaker"
        anonymous = c.get("/api/v1/reports/budget", headers={"Authorization": ""})
        _problem(anonymous, 401)
        assert "Bearer" in anonymous.headers["www-authenticate"]
        _problem(c.get("/api/v1/reports/budget", headers={"Authorization": "Bearer jst_x"}),
                 401)


def test_a_revoked_token_is_refused_from_the_next_request(
    service: tuple[Served, list[str]]
) -> None:
    s, _ = service

    def active() -> set[str]:
        return {t["id"] for t in as_json(s.url, "tokens", "list")
                if t["principal"] == "bpkad" and t["state"] == "active"}

    before = active()
    token = issue_token(s.url, "bpkad")
    (issued,) = active() - before  # this test's token, whatever else was issued to bpkad
    with s.client(token) as c:
        assert c.get("/api/v1/whoami").json()["principal"] == "bpkad"
        ok(s.url, "tokens", "revoke", issued)
        _problem(c.get("/api/v1/whoami"), 401)


def test_tokens_are_bound_to_enrolled_principals(service: tuple[Served, list[str]]) -> None:
    s, _ = service
    refused = jamsos(s.url, "tokens", "issue", "--principal", "nobody-enrolled")
    assert refused.exit_code == 1 and "no principal named 'nobody-enrolled'" in refused.output
    key = key_for("clerk")
    ok(s.url, "principals", "enrol", "clerk", "--office", "Disnaker", "--role", "operator",
       "--public-key", public_key_text(key.public_key))
    not_admin = CliRunner().invoke(main, ["--store", s.url, "--key", str(key.path), "tokens",
                                          "issue", "--principal", "disnaker"])
    assert not_admin.exit_code == 7 and "needs the role administrator" in not_admin.output
    token = issue_token(s.url, "dinsos")
    with s.client(token) as c:
        assert c.get("/api/v1/whoami").status_code == 200
        ok(s.url, "principals", "revoke", "dinsos", "--reason", "left the office")
        _problem(c.get("/api/v1/whoami"), 401)


def test_a_service_key_without_the_service_role_may_not_write(
    service: tuple[Served, list[str]], tmp_path: Path
) -> None:
    s, _ = service
    key = key_for("plain-operator")
    ok(s.url, "principals", "enrol", "plain-operator", "--office", "Disnaker", "--role",
       "operator", "--public-key", public_key_text(key.public_key))
    with served(s.url, tmp_path, key=key.path) as other, other.client() as c:
        before = events(s.url)  # the token's issuance, a sealed event, is in already
        assert c.get("/api/v1/reports/budget").status_code == 200
        refused = _problem(c.post("/api/v1/payments", json={"month": "2026-07",
                                                            "sp2d": "SP2D/07"}), 403)
        assert "service" in refused["detail"]
    assert events(s.url) == before


def test_reports_are_the_cli_json(service: tuple[Served, list[str]]) -> None:
    s, _ = service
    with s.client() as c:
        for path, args in [
            ("/api/v1/reports/budget", ["report", "budget"]),
            ("/api/v1/reports/quota", ["report", "quota"]),
            ("/api/v1/reports/quota?by=kecamatan", ["report", "quota", "--by", "kecamatan"]),
            ("/api/v1/reports/quota?by=decile", ["report", "quota", "--by", "decile"]),
            ("/api/v1/reports/claims", ["report", "claims"]),
            ("/api/v1/premiums/due?today=2026-05-20", ["premiums", "due", "--today",
                                                       "2026-05-20"]),
        ]:
            answer = c.get(path)
            assert answer.status_code == 200, answer.text
            assert answer.json() == as_json(s.url, *args), path
            assert int(answer.headers["x-jamsos-position"]) == events(s.url)


def test_a_payment_retried_and_raced_with_one_key_is_paid_once(
    service: tuple[Served, list[str]]
) -> None:
    s, _ = service
    body = {"month": "2026-02", "sp2d": "SP2D/02/2026"}
    headers = {"Idempotency-Key": f"pay-{uuid.uuid4()}"}
    before = events(s.url)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(
            lambda _: s.client().post("/api/v1/payments", json=body, headers=headers),
            range(8)))
    done = [a for a in answers if a.status_code == 200]
    assert done, [a.text for a in answers]
    # A racer arriving while the first is applied is told so (409), never applied.
    assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
    first = done[0].json()
    assert first["participants"] == 17 and first["paid"] == 17 * 16_800
    with s.client() as c:
        again = c.post("/api/v1/payments", json=body, headers=headers)
    assert again.status_code == 200 and again.json() == first
    assert again.headers["idempotent-replayed"] == "true"
    assert all(a.json() == first for a in done)
    budget = as_json(s.url, "report", "budget")
    february = next(m for m in budget["months"] if m["month"] == "2026-02")
    assert february["paid"] == 17 * 16_800 and february["sp2d"] == ["SP2D/02/2026"]
    assert events(s.url) == first["position"] > before


def test_a_key_reused_for_another_request_is_refused(service: tuple[Served, list[str]]
                                                     ) -> None:
    s, _ = service
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    with s.client() as c:
        first = c.post("/api/v1/payments", json={"month": "2026-03", "sp2d": "SP2D/03"},
                       headers=key)
        assert first.status_code == 200, first.text
        before = events(s.url)
        _problem(c.post("/api/v1/payments", json={"month": "2026-04", "sp2d": "SP2D/04"},
                        headers=key), 422)
    assert events(s.url) == before


def test_a_refusal_by_a_rule_is_409_with_the_figures_and_writes_nothing(
    service: tuple[Served, list[str]]
) -> None:
    s, _ = service
    # September paid here, from the CLI: the month is this test's own.
    ok(s.url, "premiums", "pay", "--month", "2026-09", "--sp2d", "SP2D/09/2026")
    before = events(s.url)
    with s.client() as c:
        refused = _problem(c.post("/api/v1/payments", json={"month": "2026-09",
                                                            "sp2d": "SP2D/09/2026"}), 409)
        assert "SP2D/09/2026" in refused["detail"]
        assert refused["figures"]["available"] == as_json(s.url, "report", "budget")["available"]
        too_many = _problem(c.post("/api/v1/enrolments", json={"start": "2026-05",
                                                               "top": 10_000}), 409)
        assert "nobody was enrolled" in too_many["detail"]
        unknown = _problem(c.get("/api/v1/reports/budget?program=1999"), 404)
        assert "1999" in unknown["detail"]
    assert events(s.url) == before


def test_malformed_and_invalid_bodies_write_nothing(service: tuple[Served, list[str]]) -> None:
    s, _ = service
    before = events(s.url)
    with s.client() as c:
        _problem(c.post("/api/v1/payments", content=b'{"month": ',
                        headers={"content-type": "application/json"}), 400)
        invalid = _problem(c.post("/api/v1/payments", json={"month": "2026-13x", "sp2d": ""}),
                           422)
        assert {e["where"] for e in invalid["errors"]} == {"body.month", "body.sp2d"}
        _problem(c.post("/api/v1/enrolments", json={"start": "2026-05"}), 422)
        _problem(c.post("/api/v1/payments", content=b"x" * (21 * 1024 * 1024),
                        headers={"content-type": "application/json"}), 413)
    assert events(s.url) == before


def test_registrations_have_the_import_rules_and_messages(
    service: tuple[Served, list[str]], tmp_path: Path
) -> None:
    s, _ = service
    row = {"nik": "3275014101900001", "name": "Siti Aminah", "birth_date": "1990-01-01",
           "sex": "P", "kecamatan": "Bekasi Timur", "kelurahan": "Aren Jaya",
           "occupation": "pedagang", "decile": 2, "source": "Disnaker"}
    bad = {**row, "nik": "3275014101900002", "birth_date": "1991-02-03"}
    before = events(s.url)
    with s.client() as c:
        refused = _problem(c.post("/api/v1/registrations", json={"rows": [row, bad]}), 422)
        assert events(s.url) == before
        # The CLI says the same of the same rows in a file.
        path = tmp_path / "two.csv"
        path.write_text("nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source\n"
                        + "\n".join(",".join(str(r[k]) for k in row) for r in (row, bad)) + "\n",
                        encoding="utf-8")
        cli = jamsos(s.url, "workers", "import", str(path))
        assert cli.exit_code == 2
        rows_said = [line.strip() for line in refused["detail"].splitlines()
                     if "line 3" in line]
        assert rows_said == [f"registrations.csv: {line.strip().split(': ', 1)[1]}"
                             for line in cli.output.splitlines() if "line 3" in line]
        done = c.post("/api/v1/registrations", json={"rows": [row]},
                      headers={"Idempotency-Key": "reg-1"})
        assert done.status_code == 200, done.text
        assert (done.json()["registered"], done.json()["already"]) == (1, 0)
        upload = c.post("/api/v1/registrations/file",
                        files={"file": ("r.csv", path.read_bytes()[: path.read_bytes().index(
                            b"\n3275014101900002")] + b"\n", "text/csv")})
        assert upload.status_code == 200, upload.text
        assert (upload.json()["registered"], upload.json()["already"]) == (0, 1)
    worker = as_json(s.url, "workers", "show", row["nik"])
    assert worker["source"] == "Disnaker"


def test_writes_are_by_the_tokens_principal(service: tuple[Served, list[str]]) -> None:
    s, niks = service
    with s.client() as c:
        filed = c.post("/api/v1/claims", json={"nik": _covered(s.url, niks)[0], "scheme": "JKK",
                                               "date": "2026-02-10", "reference": "KLM/9"})
    assert filed.status_code == 200, filed.text
    claims = as_json(s.url, "report", "claims")
    assert [c["actor"] for c in claims["claims"] if c["reference"] == "KLM/9"] == ["disnaker"]


def test_a_read_waits_for_a_position_another_process_appends(
    service: tuple[Served, list[str]]
) -> None:
    s, _ = service
    head = events(s.url)
    with s.client() as c:
        _problem(c.get(f"/api/v1/reports/budget?min_position={head + 10_000}"), 412)
        ok(s.url, "premiums", "pay", "--month", "2026-06", "--sp2d", "SP2D/06/CLI")
        after = c.get(f"/api/v1/reports/budget?min_position={head + 1}")
        assert after.status_code == 200 and after.json()["position"] >= head + 1
        june = next(m for m in after.json()["months"] if m["month"] == "2026-06")
        assert june["sp2d"] == ["SP2D/06/CLI"]
        feed = c.get(f"/api/v1/events?after={head - 1}&limit=5").json()
        assert feed["events"][0]["position"] == head
        assert feed["events"][-1]["type"] and "nik" not in json.dumps(feed)


def test_audit_verify_is_the_clis(service: tuple[Served, list[str]]) -> None:
    s, _ = service
    with s.client() as c:
        answer = c.get("/api/v1/audit/verify")
    assert answer.status_code == 200, answer.text
    assert answer.json() == as_json(s.url, "audit", "verify")
    assert answer.json()["intact"] is True


def test_the_log_holds_no_personal_data(service: tuple[Served, list[str]]) -> None:
    s, niks = service
    nik = _covered(s.url, niks)[0]
    with s.client() as c:
        # Requests whose path or body carries a NIK, and one the log must show.
        assert c.get("/api/v1/reports/budget").status_code == 200
        assert c.get(f"/api/v1/workers/{nik}").status_code == 200
        shown = c.get(f"/api/v1/workers/{nik}",
                      params={"unmask": "true", "reason": "checking the log"})
        assert shown.status_code == 200 and shown.json()["nik"] == nik
        unknown = f"{nik[:-4]}9999"
        _problem(c.get(f"/api/v1/workers/{unknown}"), 404)
        _problem(c.post("/api/v1/claims", json={"nik": nik, "scheme": "JKK",
                                                "date": "2025-12-31", "reference": "LOG/1"}),
                 409)
    text = s.log.read_text(encoding="utf-8", errors="replace")
    assert "/api/v1/reports/budget" in text and "/api/v1/workers/" in text
    assert not any(n in text or n[-6:] in text for n in [*niks, unknown])
    assert "Traceback" not in text and s.token not in text
