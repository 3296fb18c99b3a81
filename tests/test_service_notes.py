"""Auditors' notes and the principals over HTTP (`POST`/`GET /api/v1/audit/notes`, `GET
/api/v1/principals`): a real `jamsos serve` process on SQLite and PostgreSQL, each answer set
against the CLI's `--format json` of the same command, each refusal (a role, a bad input)
writing nothing.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from cli_helpers import as_json, events, key_for, ok
from jamsos_ledger.domain.audit_notes import MAX_NOTE
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.principals import public_key_text
from registration_file import generate_registrations
from served import Served, served

pytestmark = pytest.mark.slow
PROBLEM = "application/problem+json"
NOTES = "/api/v1/audit/notes"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Served, list[str]]]:
    """A served ledger with one program and three registered workers (their NIKs)."""
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/ledger.db"
    else:
        server: str = request.getfixturevalue("postgres_server")
        schema = f"test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        url = f"{server}?schema={schema}"
    try:
        path = tmp_path / "registrasi.csv"
        generate_registrations(path, 3, bad_rate=0, duplicate_rate=0)
        ok(url, "program", "open", "--year", "2026", "--allocation", "2000000000", "--quota",
           "100", "--one-key")
        ok(url, "workers", "import", str(path))
        with path.open(encoding="utf-8") as f:
            niks = [row["nik"] for row in csv.DictReader(f)]
        with served(url, tmp_path) as s:
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


def _token_with(url: str, name: str, role: str) -> str:
    """A token of a principal holding only `role`, enrolled by the administrator."""
    ok(url, "principals", "enrol", name, "--office", "Test", "--role", role,
       "--public-key", public_key_text(key_for(name).public_key))
    return ok(url, "tokens", "issue", "--principal", name, "--expires", "1d"
              ).stdout.strip().splitlines()[-1]


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f"k-{uuid.uuid4()}"}


def test_an_auditor_writes_a_note_once_and_it_is_listed_as_the_cli_lists_it(
    ledger: tuple[Served, list[str]],
) -> None:
    s, niks = ledger
    nik = niks[0]
    auditor = _token_with(s.url, "inspektorat", "auditor")
    before = events(s.url)
    with s.client(auditor) as c:
        key = _key()
        body = {"text": "  Decile of this   worker to be checked\nwith DTSEN.  ", "about": nik}
        done = c.post(NOTES, json=body, headers=key)
        assert done.status_code == 200, done.text
        note = done.json()
        assert note["position"] == before + 1
        assert note["author"] == "inspektorat"
        assert note["about"] == f"worker {mask_nik(nik)}" and nik not in done.text
        assert note["text"] == "Decile of this worker to be checked with DTSEN."
        again = c.post(NOTES, json=body, headers=key)
        assert again.status_code == 200 and again.json() == note
        assert again.headers["idempotent-replayed"] == "true"
        assert events(s.url) == before + 1
        whole = c.post(NOTES, json={"text": "Budget burn of January reviewed."})
        assert whole.status_code == 200, whole.text
        assert whole.json()["about"] == "" and whole.json()["position"] == before + 2
        on_note = c.post(NOTES, json={"text": "Follow-up.", "about": f"#{before + 1}"},
                         headers=_key())
        assert on_note.json()["about"] == f"#{before + 1}", on_note.text

        listed = c.get(NOTES)
        assert listed.status_code == 200, listed.text
        assert listed.json() == {"notes": as_json(s.url, "audit", "notes"),
                                 "position": before + 3}
        assert listed.json()["notes"][0] == note
        assert int(listed.headers["x-jamsos-position"]) == before + 3
        about = c.get(NOTES, params={"about": nik})
        assert about.json()["notes"] == as_json(s.url, "audit", "notes", "--about", nik)
        assert [n["position"] for n in about.json()["notes"]] == [before + 1]
        assert nik not in listed.text + about.text
        assert c.get(NOTES, params={"about": f"#{before + 1}"}).json()["notes"] == [
            on_note.json()]
        _problem(c.get(NOTES, params={"about": "3275010000000000"}), 404)
    # The administrator reads the notes too; the NIK never reaches the service's log.
    with s.client() as c:
        assert c.get(NOTES).json()["notes"] == listed.json()["notes"]
    logged = s.log.read_text(encoding="utf-8", errors="replace")
    assert NOTES in logged and nik not in logged
    # Sealed for the auditor as the CLI's note would be: the history verifies.
    assert as_json(s.url, "audit", "verify")["intact"]


def test_a_note_refused_writes_nothing(ledger: tuple[Served, list[str]]) -> None:
    s, niks = ledger
    operator = _token_with(s.url, "operator-only", "operator")
    auditor = _token_with(s.url, "bpk", "auditor")
    before = events(s.url)
    with s.client(operator) as c:
        refused = _problem(c.post(NOTES, json={"text": "Not mine to write."},
                                  headers=_key()), 403)
        assert "auditor" in refused["detail"]
        assert "auditor" in _problem(c.get(NOTES), 403)["detail"]
    with s.client(auditor) as c:
        empty = _problem(c.post(NOTES, json={"text": " \n "}), 422)
        assert "text" in empty["detail"]
        _problem(c.post(NOTES, json={"text": ""}), 422)
        long = _problem(c.post(NOTES, json={"text": "x" * (MAX_NOTE + 1)}), 422)
        assert str(MAX_NOTE) in long["detail"]
        _problem(c.post(NOTES, json={"text": "x" * (10 * MAX_NOTE + 1)}), 422)
        _problem(c.post(NOTES, json={"text": "ok", "extra": 1}), 422)
        _problem(c.post(NOTES, json={"about": niks[0]}), 422)
        _problem(c.post(NOTES, content=b"{", headers={"content-type": "application/json"}),
                 400)
        unknown = _problem(c.post(NOTES, json={"text": "ok", "about": "3275010000000000"}), 404)
        assert mask_nik("3275010000000000") in unknown["detail"]
        assert "#" in _problem(c.post(NOTES, json={"text": "ok", "about": "#x"}), 422)["detail"]
        _problem(c.post(NOTES, json={"text": "ok", "about": "#999999"}), 404)
        nothing = c.post(NOTES, json={"text": "ok", "about": "no-such-proposal"})
        assert nothing.status_code in (404, 422), nothing.text
        assert "proposal" in _problem(nothing, nothing.status_code)["detail"]
    assert events(s.url) == before
    assert as_json(s.url, "audit", "notes") == []


def test_the_principals_are_listed_as_the_cli_lists_them(
    ledger: tuple[Served, list[str]],
) -> None:
    s, _ = ledger
    operator = _token_with(s.url, "operator-only", "operator")
    ok(s.url, "principals", "revoke", "operator-only", "--reason", "left the office")
    auditor = _token_with(s.url, "inspektorat", "auditor")
    with s.client(auditor) as c:
        listed = c.get("/api/v1/principals")
        assert listed.status_code == 200, listed.text
        assert listed.json() == {"principals": as_json(s.url, "principals", "list"),
                                 "position": events(s.url)}
        names = {p["name"]: p for p in listed.json()["principals"]}
        assert names["operator-only"]["revoked"] and names["inspektorat"]["roles"] == ["auditor"]
        assert sum(p["root"] for p in names.values()) == 1
    with s.client(operator) as c:
        _problem(c.get("/api/v1/principals"), 401)
