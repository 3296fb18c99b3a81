"""Four eyes through the service: a program opened with --four-eyes takes an enrolment or a
payment sent to the API as a proposal, as the CLI does; the proposer may not approve it
(409, the rule's refusal, as on the CLI), another principal does, and only then is anything
committed. The dashboard lists the pending proposal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli_helpers import as_json, events, ok
from registration_file import generate_registrations
from served import issue_token, served

pytestmark = pytest.mark.slow


def test_an_enrolment_is_proposed_and_approved_by_another(sqlite_url: str,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    generate_registrations(path, 20, bad_rate=0, duplicate_rate=0)
    ok(sqlite_url, "program", "open", "--year", "2026", "--allocation", "2000000000", "--quota",
       "10000", "--four-eyes")
    ok(sqlite_url, "workers", "import", str(path))
    ok(sqlite_url, "workers", "prioritize")
    with served(sqlite_url, tmp_path) as s, s.client() as c:
        proposed = c.post("/api/v1/enrolments", json={"start": "2026-01", "top": 5})
        assert proposed.status_code == 200, proposed.text
        body = proposed.json()
        assert (body["kind"], body["status"], body["proposer"]) == ("enrolment", "pending",
                                                                    "disnaker")
        assert body["figures"]["workers"] == 5
        assert as_json(sqlite_url, "report", "quota")["enrolled"] == 0
        listed = c.get("/api/v1/proposals?status=pending").json()["proposals"]
        assert [p["proposal"] for p in listed] == [body["proposal"]]
        # The decree names the five ranked first now, masked (the approver approves them).
        shown = c.get(f"/api/v1/proposals/{body['proposal']}").json()
        assert len(shown["workers"]) == 5
        assert all(re.fullmatch(r"\d{6}\*{8}\d{2}", n) for n in shown["workers"])
        page = c.get("/", cookies={"jamsos_session": s.token})
        assert f'data-proposal="{body["proposal"]}"' in page.text
        before = events(sqlite_url)
        own = c.post(f"/api/v1/proposals/{body['proposal']}/approve")
        # Refused by the four-eyes rule, as the CLI refuses it (exit 1): 409.
        assert own.status_code == 409 and "cannot also approve it" in own.json()["detail"]
        assert events(sqlite_url) == before
        with s.client(issue_token(sqlite_url, "kepala.disnaker")) as other:
            approved = other.post(f"/api/v1/proposals/{body['proposal']}/approve")
        assert approved.status_code == 200, approved.text
        assert (approved.json()["status"], approved.json()["decided_by"]) == (
            "approved", "kepala.disnaker")
    assert as_json(sqlite_url, "report", "quota")["enrolled"] == 5
