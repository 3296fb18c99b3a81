"""The money and audit commands over HTTP (`web/api_money.py`, and `as_of` on the reports):
a real `jamsos serve` process on SQLite and PostgreSQL, each answer set against the CLI's
`--format json` of the same command, each refusal (a role, a bad input) writing nothing.

Each test has its own ledger and server (the suite runs on two cores, its tests stolen
between them: no test relies on another's writes). The program is opened with `--one-key`
(one principal acts: the CLI's own figures are compared), a second one with `--four-eyes`
for the proposals.
"""

from __future__ import annotations

import csv
import html
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pytest
from psycopg import sql

from cli_helpers import as_json, events, key_for, ok
from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.money import rupiah
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.principals import public_key_text
from registration_file import generate_registrations
from served import Served, issue_token, served

pytestmark = pytest.mark.slow
PROBLEM = "application/problem+json"


@dataclass
class Money:
    """The served ledger: January paid for 15 workers, two more enrolled from March."""

    s: Served
    january: list[str]  # enrolled from January, January paid
    march: list[str]  # enrolled from March, nothing of theirs paid
    moment: str  # a moment after January's payment, before anything the tests add
    folder: Path


def _covered(url: str, niks: list[str]) -> dict[str, Month]:
    ledger = Ledger(url)
    try:
        pid = ledger.program("2026").id
        found = {}
        for n in niks:
            coverage = ledger.worker(n).coverages.get(pid)
            if coverage is not None:
                found[n] = coverage.start
        return found
    finally:
        ledger.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def money(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Money]:
    folder = tmp_path
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
        path = folder / "registrasi.csv"
        generate_registrations(path, 20, bad_rate=0, duplicate_rate=0)
        ok(url, "program", "open", "--year", "2026", "--allocation", "2000000000", "--quota",
           "10000", "--one-key")
        ok(url, "program", "open", "--year", "2027", "--allocation", "2000000000", "--quota",
           "10000", "--four-eyes")
        ok(url, "workers", "import", str(path))
        ok(url, "workers", "prioritize")
        ok(url, "--program", "2026", "enroll", "--top", "15", "--start", "2026-01", "--decree",
           "KEP/1/2026")
        ok(url, "--program", "2026", "premiums", "pay", "--month", "2026-01", "--sp2d",
           "SP2D/01/2026")
        moment = datetime.now(UTC).isoformat()
        ok(url, "--program", "2026", "enroll", "--top", "2", "--start", "2026-03", "--decree",
           "KEP/2/2026")
        with path.open(encoding="utf-8") as f:
            niks = [row["nik"] for row in csv.DictReader(f)]
        starts = _covered(url, niks)
        january = [n for n, m in starts.items() if m == Month.parse("2026-01")]
        march = [n for n, m in starts.items() if m == Month.parse("2026-03")]
        assert (len(january), len(march)) == (15, 2), starts
        with served(url, folder) as s:
            yield Money(s, january, march, moment, folder)
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
    """A token of a principal holding only `role` (enrolled the first time)."""
    key = key_for(name)
    known = as_json(url, "principals", "list")
    if not any(p.get("name") == name for p in known):
        ok(url, "principals", "enrol", name, "--office", "Test", "--role", role,
           "--public-key", public_key_text(key.public_key))
    return ok(url, "tokens", "issue", "--principal", name, "--expires", "1d"
              ).stdout.strip().splitlines()[-1]


def _figures(report: dict[str, Any]) -> dict[str, Any]:
    """A report's figures, without where in the log it was computed (nor, of the budget, the
    proposals pending, which are not in its figures)."""
    return {k: v for k, v in report.items() if k not in ("position", "digest", "pending")}


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f"k-{uuid.uuid4()}"}


# -- as of a moment ----------------------------------------------------------------------


def test_reports_as_of_a_moment_are_the_clis(money: Money) -> None:
    s = money.s
    ok(s.url, "--program", "2026", "premiums", "pay", "--month", "2026-02", "--sp2d",
       "SP2D/02/2026")
    with s.client() as c:
        for path, args in [
            ("/api/v1/reports/budget", ["report", "budget"]),
            ("/api/v1/reports/quota", ["report", "quota"]),
            ("/api/v1/reports/quota?by=decile", ["report", "quota", "--by", "decile"]),
            ("/api/v1/reports/claims", ["report", "claims"]),
        ]:
            joined = "&" if "?" in path else "?"
            answer = c.get(f"{path}{joined}program=2026&as_of={quote(money.moment)}")
            assert answer.status_code == 200, answer.text
            cli = as_json(s.url, "--program", "2026", *args, "--as-of", money.moment)
            assert answer.json() == cli, path
            at = cli["position"] if isinstance(cli, dict) else cli[0]["position"]
            assert int(answer.headers["x-jamsos-position"]) == at < events(s.url)
        then = c.get("/api/v1/reports/budget",
                     params={"program": "2026", "as_of": money.moment}).json()
        now = c.get("/api/v1/reports/budget?program=2026").json()
        # February's payment and March's enrolments came after the moment.
        assert then["paid"] == 15 * 16_800 and now["paid"] == 2 * 15 * 16_800
        assert then["enrolled"] == 15 and now["enrolled"] == 17
        # A date is the end of that day (Asia/Jakarta); before the program it was not open.
        _problem(c.get("/api/v1/reports/budget?program=2026&as_of=2020-01-01"), 404)
        bad = _problem(c.get("/api/v1/reports/quota?as_of=yesterday"), 422)
        assert "yesterday" in bad["detail"]
        _problem(c.get("/api/v1/reports/claims?as_of=2026-03-31T17:00:00"), 422)


# -- claims: the benefit BPJS paid -------------------------------------------------------


def test_a_benefit_is_recorded_once_by_the_operator(money: Money) -> None:
    s, nik = money.s, money.january[0]
    ok(s.url, "claims", "file", "--nik", nik, "--scheme", "JKK", "--date", "2026-01-20",
       "--reference", "KLM/01/2026")
    finance = _token_with(s.url, "bendahara", "finance")
    before = events(s.url)
    with s.client(finance) as c:
        refused = _problem(c.post("/api/v1/claims/KLM/01/2026/benefit",
                                  json={"nik": nik, "amount": 5_000_000}), 403)
        assert "operator" in refused["detail"]
    with s.client() as c:
        _problem(c.post("/api/v1/claims/KLM/01/2026/benefit",
                        json={"nik": nik, "amount": -1}), 422)
        _problem(c.post("/api/v1/claims/KLM/01/2026/benefit",
                        json={"nik": nik, "amount": 1, "extra": 1}), 422)
        _problem(c.post("/api/v1/claims/KLM/01/2026/benefit", content=b"{",
                        headers={"content-type": "application/json"}), 400)
        unknown = _problem(c.post("/api/v1/claims/KLM/99/2026/benefit",
                                  json={"nik": nik, "amount": 1}), 404)
        assert "KLM/99/2026" in unknown["detail"]
        assert events(s.url) == before
        key = _key()
        done = c.post("/api/v1/claims/KLM/01/2026/benefit",
                      json={"nik": nik, "amount": 5_000_000}, headers=key)
        assert done.status_code == 200, done.text
        body = done.json()
        assert body == {"nik": mask_nik(nik), "reference": "KLM/01/2026",
                        "amount": 5_000_000, "position": before + 1}
        again = c.post("/api/v1/claims/KLM/01/2026/benefit",
                       json={"nik": nik, "amount": 5_000_000}, headers=key)
        assert again.json() == body and again.headers["idempotent-replayed"] == "true"
    assert events(s.url) == before + 1
    claim = next(c for c in as_json(s.url, "--program", "2026", "report", "claims")["claims"]
                 if c["reference"] == "KLM/01/2026")
    assert claim["benefit"] == 5_000_000


# -- reversals -----------------------------------------------------------------------------


def test_a_payment_is_reversed_by_finance_once(money: Money) -> None:
    s = money.s
    ok(s.url, "--program", "2026", "premiums", "pay", "--month", "2026-02", "--sp2d",
       "SP2D/02/2026")
    operator = _token_with(s.url, "operator-only", "operator")
    before = events(s.url)
    body = {"program": "2026", "sp2d": "SP2D/02/2026", "reason": "LHP Inspektorat 7/2026"}
    with s.client(operator) as c:
        refused = _problem(c.post("/api/v1/reversals", json=body), 403)
        assert "finance" in refused["detail"]
    with s.client() as c:
        unknown = _problem(c.post("/api/v1/reversals", json={**body, "sp2d": "SP2D/NONE"}), 404)
        assert "SP2D/NONE" in unknown["detail"]
        _problem(c.post("/api/v1/reversals", json={**body, "reason": ""}), 422)
        _problem(c.post("/api/v1/reversals", json={"sp2d": "SP2D/02/2026"}), 422)
        assert events(s.url) == before
        key = _key()
        done = c.post("/api/v1/reversals", json=body, headers=key)
        assert done.status_code == 200, done.text
        again = c.post("/api/v1/reversals", json=body, headers=key)
        assert again.json() == done.json()
        twice = _problem(c.post("/api/v1/reversals", json=body), 409)  # without the key
        assert "SP2D/02/2026" in twice["detail"]
    answer = done.json()
    budget = as_json(s.url, "--program", "2026", "report", "budget")
    assert answer == {"month": "2026-02", "reversed": 15 * 16_800, "participants": 15,
                      "committed": budget["committed"], "paid": budget["paid"],
                      "available": budget["available"], "position": events(s.url)}
    february = next(m for m in budget["months"] if m["month"] == "2026-02")
    assert february["paid"] == 0 and budget["paid"] == 15 * 16_800


# -- annulments ----------------------------------------------------------------------------


def test_an_enrolment_is_annulled_by_the_approver_once(money: Money) -> None:
    s = money.s
    nik, paid_for = money.march[0], money.january[1]
    operator = _token_with(s.url, "operator-only", "operator")
    before = events(s.url)
    body = {"program": "2026", "nik": nik, "reason": "KEP/2/2026 revised"}
    with s.client(operator) as c:
        _problem(c.post("/api/v1/annulments", json=body), 403)
    with s.client() as c:
        paid = _problem(c.post("/api/v1/annulments", json={**body, "nik": paid_for}), 409)
        assert "paid" in paid["detail"]
        _problem(c.post("/api/v1/annulments", json={**body, "nik": "3275010000000000"}), 404)
        _problem(c.post("/api/v1/annulments", json={"program": "2026", "nik": nik}), 422)
        assert events(s.url) == before
        quota_before = as_json(s.url, "--program", "2026", "report", "quota")
        key = _key()
        done = c.post("/api/v1/annulments", json=body, headers=key)
        assert done.status_code == 200, done.text
        again = c.post("/api/v1/annulments", json=body, headers=key)
        assert again.json() == done.json() and again.headers["idempotent-replayed"] == "true"
    budget = as_json(s.url, "--program", "2026", "report", "budget")
    quota = as_json(s.url, "--program", "2026", "report", "quota")
    # Ten months (March to December) of one participant's premium released.
    assert done.json() == {"released": 10 * 16_800, "available": budget["available"],
                           "places_left": quota["available"], "position": events(s.url)}
    assert quota["enrolled"] == quota_before["enrolled"] - 1


# -- proposals: shown and withdrawn ------------------------------------------------------


def test_a_proposal_is_shown_and_withdrawn_by_its_proposer_only(money: Money) -> None:
    s = money.s
    with s.client() as c:
        proposed = c.post("/api/v1/enrolments",
                          json={"program": "2027", "start": "2027-01", "top": 3})
        assert proposed.status_code == 200, proposed.text
        pid = proposed.json()["proposal"]
        shown = c.get(f"/api/v1/proposals/{pid}")
        assert shown.status_code == 200, shown.text
        cli = as_json(s.url, "proposals", "show", pid)
        got = shown.json()
        assert {k: got[k] for k in ("id", "kind", "program", "status", "proposer", "figures",
                                    "note", "reason")} == {
            k: cli[k] for k in ("id", "kind", "program", "status", "proposer", "figures", "note",
                                "reason")}
        assert got["proposal"] == cli["id"][:8] == pid and got["position"] == events(s.url)
        _problem(c.get("/api/v1/proposals/zz"), 422)
        _problem(c.get("/api/v1/proposals/0000000f"), 404)
    other_token = issue_token(s.url, "kepala.disnaker")
    service_only = _token_with(s.url, "portal", "service")
    before = events(s.url)
    with s.client(other_token) as other:
        # The four-eyes rule: only the proposer withdraws (409, as the CLI's exit 1).
        refused = _problem(other.post(f"/api/v1/proposals/{pid}/withdraw",
                                      json={"reason": "not mine"}), 409)
        assert "only disnaker" in refused["detail"]
    with s.client(service_only) as c:
        refused = _problem(c.post(f"/api/v1/proposals/{pid}/withdraw",
                                  json={"reason": "a program of the city"}), 403)
    with s.client() as c:
        _problem(c.post(f"/api/v1/proposals/{pid}/withdraw", json={"reason": ""}), 422)
        _problem(c.post(f"/api/v1/proposals/{pid}/withdraw", json={}), 422)
        assert events(s.url) == before
        key = _key()
        done = c.post(f"/api/v1/proposals/{pid}/withdraw",
                      json={"reason": "the decree is redrafted"}, headers=key)
        assert done.status_code == 200, done.text
        assert (done.json()["status"], done.json()["decided_by"]) == ("withdrawn", "disnaker")
        again = c.post(f"/api/v1/proposals/{pid}/withdraw",
                       json={"reason": "the decree is redrafted"}, headers=key)
        assert again.json() == done.json()
    assert events(s.url) == before + 1
    assert as_json(s.url, "proposals", "show", pid)["reason"] == "the decree is redrafted"


# -- BPJS's invoice, and what to recover ---------------------------------------------------


def _invoice(folder: Path, name: str, niks: list[str], month: str, *, bad: bool = False
             ) -> Path:
    lines = ["nik,kpj,name,month,jkk,jkm,status"]
    lines += [f"{n},{26040000000 + i:011d},Pekerja {i},{month},10000,6800,AKTIF"
              for i, n in enumerate(niks, start=1)]
    if bad:
        lines.append(f"{niks[0][:10]},x,Pekerja,{month},ten,6800,AKTIF")
    path = folder / name
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_an_invoice_is_reconciled_as_the_cli_reconciles_it(money: Money) -> None:
    s = money.s
    # A worker ended in January after February was paid: February's premium is to recover.
    ok(s.url, "--program", "2026", "premiums", "pay", "--month", "2026-02", "--sp2d",
       "SP2D/02/2026")
    ok(s.url, "--program", "2026", "end", "--nik", money.january[2], "--month", "2026-01",
       "--reason", "died")
    billed = [*money.january[3:12], money.january[2]]
    invoice = _invoice(money.folder, "tagihan-2026-03.csv", billed, "2026-03")
    bad = _invoice(money.folder, "bad.csv", billed, "2026-03", bad=True)
    operator = _token_with(s.url, "operator-only", "operator")
    before = events(s.url)
    form = {"month": "2026-03", "program": "2026"}
    with s.client(operator) as c:
        _problem(c.post("/api/v1/invoices", data=form,
                        files={"file": (invoice.name, invoice.read_bytes(), "text/csv")}), 403)
    with s.client() as c:
        refused = _problem(c.post("/api/v1/invoices", data=form,
                                  files={"file": ("bad.csv", bad.read_bytes(), "text/csv")}), 422)
        said = refused["detail"]
        assert said.startswith("bad.csv: 3 problems") and "/tmp" not in said
        _problem(c.post("/api/v1/invoices", data={**form, "month": "2026-13"},
                        files={"file": (invoice.name, invoice.read_bytes(), "text/csv")}), 422)
        _problem(c.post("/api/v1/invoices", data=form), 422)
        assert events(s.url) == before
        key = _key()
        done = c.post("/api/v1/invoices", data=form, headers=key,
                      files={"file": (invoice.name, invoice.read_bytes(), "text/csv")})
        assert done.status_code == 200, done.text
        again = c.post("/api/v1/invoices", data=form, headers=key,
                       files={"file": (invoice.name, invoice.read_bytes(), "text/csv")})
        assert again.json() == done.json()
        assert events(s.url) == done.json()["position"]
        recoveries = c.get("/api/v1/premiums/recoveries?program=2026")
        assert recoveries.status_code == 200, recoveries.text
    api = done.json()
    cli = as_json(s.url, "--program", "2026", "premiums", "reconcile", "--month", "2026-03",
                  "--invoice", str(invoice))
    assert {k: v for k, v in api.items() if k not in ("position", "digest")} == {
        k: v for k, v in cli.items() if k not in ("position", "digest")}
    assert api["position"] < cli["position"] and api["digest"]
    assert api["agreed"] == 9 and api["counts"]
    assert recoveries.json()["recover"] == api["recover"] and api["recover"]
    assert recoveries.json()["total"] == 16_800 and money.january[2] not in json.dumps(api)


# -- audit ---------------------------------------------------------------------------------


def test_the_audit_answers_are_the_clis(money: Money) -> None:
    s = money.s
    nik = money.january[0]
    ok(s.url, "audit", "log", "--nik", nik, "--unmask", "--reason", "LHP 3/2026", actor="auditor")
    with s.client() as c:
        log = c.get("/api/v1/audit/log?limit=1000")
        assert log.status_code == 200, log.text
        trail = [json.loads(line) for line in
                 ok(s.url, "audit", "log", "--format", "jsonl").stdout.splitlines()]
        assert log.json()["entries"] == trail[:1000]
        page = c.get("/api/v1/audit/log", params={"after": trail[2]["position"], "limit": 2})
        assert page.json()["entries"] == trail[3:5]
        assert page.json()["next_after"] == trail[4]["position"]
        mine = c.get("/api/v1/audit/log", params={"nik": nik}).json()["entries"]
        cli_mine = [json.loads(line) for line in ok(
            s.url, "audit", "log", "--nik", nik, "--format", "jsonl").stdout.splitlines()]
        assert mine == cli_mine and nik not in log.text
        _problem(c.get("/api/v1/audit/log", params={"nik": "3275010000000000"}), 404)
        _problem(c.get("/api/v1/audit/log?limit=0"), 422)

        viewings = c.get("/api/v1/audit/viewings", params={"nik": nik})
        assert viewings.status_code == 200, viewings.text
        assert viewings.json()["viewings"] == as_json(s.url, "audit", "viewings", "--nik", nik)
        assert viewings.json()["viewings"][0]["reason"] == "LHP 3/2026"

        digest = c.get("/api/v1/audit/digest")
        assert digest.status_code == 200, digest.text
        assert digest.json()["digest"] == ok(s.url, "audit", "digest").stdout.strip()
        assert digest.json()["position"] == events(s.url)

        replayed = c.get("/api/v1/audit/replay")
        assert replayed.status_code == 200, replayed.text
        assert replayed.json() == as_json(s.url, "audit", "replay") and replayed.json()["ok"]
        then = c.get("/api/v1/audit/replay", params={"as_of": money.moment})
        assert then.json() == as_json(s.url, "audit", "replay", "--as-of", money.moment)
        assert then.json()["as_of"] and replayed.json()["as_of"] is None
        _problem(c.get("/api/v1/audit/replay?as_of=soon"), 422)
    operator = _token_with(s.url, "operator-only", "operator")
    before = events(s.url)
    with s.client(operator) as c:
        refused = _problem(c.get("/api/v1/audit/viewings"), 403)
        assert "auditor" in refused["detail"]
    assert events(s.url) == before
    # A NIK asked in a query is never written to the service's log.
    logged = s.log.read_text(encoding="utf-8", errors="replace")
    assert "/api/v1/audit/log" in logged and nik not in logged and nik[-6:] not in logged


# -- under four eyes -------------------------------------------------------------------------


def test_under_four_eyes_a_reversal_and_an_annulment_are_proposed(money: Money) -> None:
    s = money.s
    head = issue_token(s.url, "kepala.disnaker")
    with s.client() as c, s.client(head) as other:
        enrolment = c.post("/api/v1/enrolments",
                           json={"program": "2027", "start": "2027-01", "top": 2}).json()
        assert other.post(f"/api/v1/proposals/{enrolment['proposal']}/approve"
                          ).status_code == 200
        payment = c.post("/api/v1/payments",
                         json={"program": "2027", "month": "2027-01", "sp2d": "SP2D/01/2027"})
        assert other.post(f"/api/v1/proposals/{payment.json()['proposal']}/approve"
                          ).status_code == 200
        budget = _figures(as_json(s.url, "--program", "2027", "report", "budget"))
        reversal = c.post("/api/v1/reversals", json={"program": "2027", "sp2d": "SP2D/01/2027",
                                                     "reason": "paid twice"})
        assert reversal.status_code == 200, reversal.text
        assert (reversal.json()["kind"], reversal.json()["status"]) == ("reversal", "pending")
        pending = as_json(s.url, "--program", "2027", "report", "budget")
        assert _figures(pending) == budget
        assert [(p["kind"], p["would_pay"]) for p in pending["pending"]] == [
            ("reversal", -budget["paid"])]
        approved = other.post(f"/api/v1/proposals/{reversal.json()['proposal']}/approve")
        assert approved.status_code == 200, approved.text
        assert as_json(s.url, "--program", "2027", "report", "budget")["paid"] == 0
        enrolled = as_json(s.url, "--program", "2027", "report", "quota")["enrolled"]
        covered = money.january + money.march
        annulments = [c.post("/api/v1/annulments", json={"program": "2027", "nik": n,
                                                        "reason": "decree revised"})
                      for n in covered]
        proposed = [a.json() for a in annulments if a.status_code == 200]
        assert proposed and all(p["kind"] == "annulment" for p in proposed)
        assert as_json(s.url, "--program", "2027", "report", "quota")["enrolled"] == enrolled


def test_an_invoice_workbook_is_reconciled_as_the_cli_reconciles_it(money: Money) -> None:
    from openpyxl import Workbook

    from jamsos_ledger.files.invoice_file import read_invoice

    s = money.s
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["NIK", "KPJ", "Nama", "Bulan", "JKK", "JKM", "Status"])
    for i, n in enumerate(money.january[:5], start=1):
        sheet.append([n, f"{26040000000 + i:011d}", f"Pekerja {i}", "2026-03", 10_000, 6_800,
                      "AKTIF"])
    path = money.folder / "tagihan-2026-03.xlsx"
    book.save(path)
    try:
        read_invoice(path, Month.parse("2026-03"))
    except InvalidInput as e:
        pytest.skip(f"this ledger reads invoices as CSV only: {e}")
    with s.client() as c:
        done = c.post("/api/v1/invoices", data={"month": "2026-03", "program": "2026"},
                      files={"file": (path.name, path.read_bytes(),
                                      "application/vnd.openxmlformats-officedocument."
                                      "spreadsheetml.sheet")})
    assert done.status_code == 200, done.text
    cli = as_json(s.url, "--program", "2026", "premiums", "reconcile", "--month", "2026-03",
                  "--invoice", str(path))
    assert _figures(done.json()) == _figures(cli) and done.json()["lines"] == 5


def test_proposals_are_listed_and_shown_as_the_cli_gives_them(money: Money) -> None:
    """`GET /proposals` and `/proposals/ID` hold every key of `proposals list|show --format
    json`, with the same values (what it does in words, what it would commit and pay), for
    every kind and fate; an enrolment's NIKs said only masked."""
    s = money.s
    niks = money.january[:4]
    with s.client() as c, s.client(issue_token(s.url, "kepala.disnaker")) as other:
        enrolment = c.post("/api/v1/enrolments", json={"program": "2027", "start": "2027-01",
                                                        "niks": niks, "decree": "KEP/9/2027"})
        assert enrolment.status_code == 200, enrolment.text
        assert other.post(f"/api/v1/proposals/{enrolment.json()['proposal']}/approve"
                          ).status_code == 200
        made = [c.post("/api/v1/payments", json={"program": "2027", "month": "2027-01",
                                                 "sp2d": "SP2D/01/2027"}),
                c.post("/api/v1/annulments", json={"program": "2027", "nik": niks[0],
                                                   "reason": "decree revised"}),
                c.post("/api/v1/program/amendments", json={"program": "2027", "quota": 12_000,
                                                           "reason": "APBD-P 2027"})]
        assert all(m.status_code == 200 for m in made), [m.text for m in made]
        amendment = made[-1].json()["proposal"]
        assert c.post(f"/api/v1/proposals/{amendment}/withdraw",
                      json={"reason": "sent too early"}).status_code == 200
        ids = [enrolment.json()["proposal"], *(m.json()["proposal"] for m in made)]
        shown = {i: c.get(f"/api/v1/proposals/{i}") for i in ids}
        listed = c.get("/api/v1/proposals", params={"program": "2027"})
        page = httpx.get(f"{s.base}/", cookies={"jamsos_session": s.token}, timeout=30).text
    assert listed.status_code == 200, listed.text
    cli_list = as_json(s.url, "--program", "2027", "proposals", "list")
    assert [p["kind"] for p in cli_list] == ["enrolment", "payment", "annulment", "amendment"]
    assert [{k: p[k] for k in row} for p, row in zip(listed.json()["proposals"], cli_list,
                                                     strict=True)] == cli_list
    for i, answer in shown.items():
        assert answer.status_code == 200, answer.text
        cli = as_json(s.url, "proposals", "show", i)
        assert {"what", "would_commit", "would_pay", "approving_role"} <= set(cli)
        assert {k: answer.json()[k] for k in cli} == cli, i
        assert not any(n in answer.text for n in niks)
    enrolled, paid, annulled, withdrawn = (shown[i].json() for i in ids)
    assert enrolled["what"] == (f"{', '.join(mask_nik(n) for n in niks[:3])} and 1 more from "
                                "2027-01 under decree KEP/9/2027")
    assert (enrolled["status"], enrolled["decided_by"]) == ("approved", "kepala.disnaker")
    assert (paid["would_pay"], paid["would_commit"]) == (4 * 16_800, 0)
    assert annulled["would_commit"] < 0 and annulled["decided_by"] is None
    # The dashboard's pending proposals say the same: an annulment releases, it commits less.
    for pending in (paid, annulled):
        row = page[page.index(f'data-proposal="{pending["proposal"]}"'):]
        row = row[:row.index("</tr>")]
        assert f'data-key="would-commit">{rupiah(pending["would_commit"])}<' in row, row
        assert f'data-key="would-pay">{rupiah(pending["would_pay"])}<' in row, row
        assert html.escape(pending["what"]) in row
    assert (withdrawn["status"], withdrawn["reason"]) == ("withdrawn", "sent too early")
