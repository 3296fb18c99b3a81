"""The workers' and the program's commands through `jamsos serve` (web/api_workers.py), on
SQLite and PostgreSQL: a real process called over HTTP with tokens issued from the CLI.

Each endpoint answers what its CLI command says (the same keys as `--format json`, the same
rows named in a refusal), refuses a role the command refuses (403) and bad input (422) with
nothing written, and applies a write sent again with its Idempotency-Key once. Every test
stands on its own on the module's ledger (tests may run in any order, or on other workers):
each picks workers and programs of its own, and names the program, as the ledger holds more
than one once a test opened another.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from openpyxl import Workbook
from psycopg import sql

from cli_helpers import as_json, events, jamsos, key_for, ok
from jamsos_ledger.domain.principals import public_key_text
from registration_file import COLUMNS, generate_registrations
from served import Served, issue_token, served

pytestmark = pytest.mark.slow
PROBLEM = "application/problem+json"
PROGRAM = "2026"
PREMIUM = 16_800  # JKK Rp 10.000 + JKM Rp 6.800 a month, the program's default rates


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[Served, list[str]]]:
    """Twenty workers registered and ranked, the eligible ones enrolled from January, January
    paid; the program opened with one key (one principal acts alone), and the service."""
    folder = tmp_path_factory.mktemp("served-workers")
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
        ok(url, "workers", "import", str(path))
        ok(url, "workers", "prioritize")
        ok(url, "--program", PROGRAM, "enroll", "--top", "17", "--start", "2026-01",
           "--decree", "KEP/1/2026")
        ok(url, "--program", PROGRAM, "premiums", "pay", "--month", "2026-01", "--sp2d",
           "SP2D/01/2026")
        with path.open(encoding="utf-8") as f:
            niks = [row["nik"] for row in csv.DictReader(f)]
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


def _token_with(url: str, name: str, *roles: str) -> str:
    """A token of a principal holding only these roles (enrolled once)."""
    known = [p["name"] for p in as_json(url, "principals", "list")]
    if name not in known:
        args = [a for r in roles for a in ("--role", r)]
        ok(url, "principals", "enrol", name, "--office", "Test", *args, "--public-key",
           public_key_text(key_for(name).public_key))
    return issue_token(url, name)


def _without_position(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "position"}


def _enrolled(url: str, niks: list[str]) -> list[str]:
    """The workers covered now, in the file's order."""
    return [n for n in niks
            if any(c["ended"] is None for c in as_json(url, "workers", "show", n)["coverages"])]


def _viewings(url: str, nik: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = as_json(url, "audit", "viewings", "--nik", nik)
    return found


def workbook(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


# -- workers ---------------------------------------------------------------------------


def test_a_worker_is_shown_masked_as_workers_show(service: tuple[Served, list[str]]) -> None:
    s, niks = service
    nik = niks[0]
    viewed = len(_viewings(s.url, nik))
    with s.client() as c:
        answer = c.get(f"/api/v1/workers/{nik}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert _without_position(body) == as_json(s.url, "workers", "show", nik)
    assert body["nik"] != nik and nik not in answer.text and "birth_date" not in body
    assert body["position"] == int(answer.headers["x-jamsos-position"]) == events(s.url)
    assert len(_viewings(s.url, nik)) == viewed  # masked: nothing recorded


def test_a_worker_in_clear_needs_the_role_and_a_reason_and_is_recorded(
    service: tuple[Served, list[str]]
) -> None:
    s, niks = service
    nik = niks[1]
    finance = _token_with(s.url, "bpkad.kas", "finance")
    before = events(s.url)
    with s.client() as c:
        no_reason = _problem(c.get(f"/api/v1/workers/{nik}?unmask=true"), 422)
        assert "reason" in no_reason["detail"]
        _problem(c.get(f"/api/v1/workers/{nik}?unmask=true&reason=%20%20"), 422)
    with s.client(finance) as c:
        refused = _problem(c.get(f"/api/v1/workers/{nik}",
                                 params={"unmask": "true", "reason": "checking a payment"}),
                           403)
        assert nik not in refused["detail"]
    assert events(s.url) == before and _viewings(s.url, nik) == []
    with s.client() as c:
        _problem(c.get("/api/v1/workers/3275011203850009",
                       params={"unmask": "true", "reason": "a complaint"}), 404)
        assert events(s.url) == before
        shown = c.get(f"/api/v1/workers/{nik}",
                      params={"unmask": "true", "reason": "complaint letter 12/2026"})
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["nik"] == nik and body["birth_date"]
    cli = as_json(s.url, "workers", "show", nik, "--unmask", "--reason", "the same check")
    assert _without_position(body) == cli
    viewings = _viewings(s.url, nik)
    assert [(v["viewer"], v["what"], v["reason"]) for v in viewings] == [
        ("disnaker", "workers show (service)", "complaint letter 12/2026"),
        ("operator", "workers show", "the same check")]
    assert body["position"] == before + 1  # the viewing, recorded before the answer
    log = s.log.read_text(encoding="utf-8", errors="replace")
    assert "/api/v1/workers/{nik}" in log and nik not in log and "complaint" not in log


def test_a_correction_is_applied_once_and_refused_to_other_roles(
    service: tuple[Served, list[str]]
) -> None:
    s, niks = service
    nik = niks[2]
    finance = _token_with(s.url, "bpkad.kas", "finance")
    before = events(s.url)
    body = {"field": "occupation", "value": "Penjahit", "reason": "letter 4/2026"}
    with s.client(finance) as c:
        refused = _problem(c.post(f"/api/v1/workers/{nik}/corrections", json=body), 403)
        assert "operator" in refused["detail"]
    with s.client() as c:
        invalid = _problem(c.post(f"/api/v1/workers/{nik}/corrections",
                                  json={**body, "field": "nik"}), 422)
        assert invalid["errors"][0]["where"] == "body.field"
        _problem(c.post(f"/api/v1/workers/{nik}/corrections",
                        json={**body, "field": "decile", "value": "11"}), 422)
        _problem(c.post("/api/v1/workers/3275011203850009/corrections", json=body), 404)
        _problem(c.post("/api/v1/workers/12345/corrections", json=body), 422)
        _problem(c.post(f"/api/v1/workers/{nik}/corrections", content=b'{"field": ',
                        headers={"content-type": "application/json"}), 400)
        assert events(s.url) == before
        key = {"Idempotency-Key": f"correct-{uuid.uuid4()}"}
        done = c.post(f"/api/v1/workers/{nik}/corrections", json=body, headers=key)
        assert done.status_code == 200, done.text
        again = c.post(f"/api/v1/workers/{nik}/corrections", json=body, headers=key)
    assert again.status_code == 200 and again.json() == done.json()
    assert again.headers["idempotent-replayed"] == "true"
    answer = done.json()
    assert (answer["field"], answer["value"], answer["rank_void"]) == ("occupation", "Penjahit",
                                                                        False)
    assert answer["nik"] == as_json(s.url, "workers", "show", nik)["nik"] != nik
    assert as_json(s.url, "workers", "show", nik)["occupation"] == "Penjahit"
    assert events(s.url) == before + 1 == answer["position"]


def test_prioritizing_ranks_again_what_a_decile_correction_voided(
    service: tuple[Served, list[str]]
) -> None:
    s, niks = service
    nik = niks[3]
    finance = _token_with(s.url, "bpkad.kas", "finance")
    shown = as_json(s.url, "workers", "show", nik)
    other = 1 if shown["decile"] != 1 else 2
    ok(s.url, "workers", "correct", nik, "--field", "decile", "--value", str(other),
       "--reason", "DTSEN letter")
    assert as_json(s.url, "workers", "show", nik)["rank"] is None
    before = events(s.url)
    with s.client(finance) as c:
        _problem(c.post("/api/v1/prioritizations", json={}), 403)
    with s.client() as c:
        _problem(c.post("/api/v1/prioritizations", json={"ruleset": "no-such-rules"}), 422)
        assert events(s.url) == before
        key = {"Idempotency-Key": f"rank-{uuid.uuid4()}"}
        done = c.post("/api/v1/prioritizations", json={}, headers=key)
        assert done.status_code == 200, done.text
        replayed = c.post("/api/v1/prioritizations", json={}, headers=key)
        assert replayed.json() == done.json() and replayed.headers["idempotent-replayed"]
        after = events(s.url)
        again = c.post("/api/v1/prioritizations", json={"ruleset": "dtsen-desil-v1"})
    answer = done.json()
    assert answer["ruleset"] == "dtsen-desil-v1" and answer["changed"] >= 1
    assert answer["ranked"] == answer["changed"] + answer["unchanged"]
    assert as_json(s.url, "workers", "show", nik)["rank"] is not None
    assert again.status_code == 200 and again.json()["changed"] == 0
    assert events(s.url) == after > before


def test_deaths_end_coverage_as_the_cli_reads_the_file(
    service: tuple[Served, list[str]], tmp_path: Path
) -> None:
    s, niks = service
    covered = _enrolled(s.url, niks)
    dead = covered[-1]
    finance = _token_with(s.url, "bpkad.kas", "finance")
    good = ("NIK;Tanggal Meninggal;Nama\r\n"
            f"{dead};2026-03-14;Almarhum\r\n"
            "3275011203850009;2026-02-01;Tidak dikenal\r\n").encode("cp1252")
    bad = good + b"3275011203850008;14-03-2026;Salah\r\n"
    before_figures = as_json(s.url, "--program", PROGRAM, "program", "show")
    before = events(s.url)
    with s.client(finance) as c:
        _problem(c.post("/api/v1/deaths", files={"file": ("meninggal.csv", good)},
                        data={"program": PROGRAM}), 403)
    with s.client() as c:
        refused = _problem(c.post("/api/v1/deaths", files={"file": ("meninggal.csv", bad)},
                                  data={"program": PROGRAM}), 422)
        # The rows named as `workers deaths` names them, the file by the name it was sent as.
        (tmp_path / "meninggal.csv").write_bytes(bad)
        cli = jamsos(s.url, "--program", PROGRAM, "workers", "deaths",
                     str(tmp_path / "meninggal.csv"))
        assert cli.exit_code == 2
        said = [line.strip().replace(str(tmp_path / "meninggal.csv"), "meninggal.csv")
                for line in cli.output.splitlines() if "line 4" in line]
        assert said == ["meninggal.csv: line 4, date_of_death: not a date YYYY-MM-DD: "
                        "'14-03-2026'"]
        assert [line.strip() for line in refused["detail"].splitlines()
                if "line 4" in line] == said
        assert "jamsos-upload" not in refused["detail"]
        _problem(c.post("/api/v1/deaths", files={"file": ("meninggal.pdf", good)},
                        data={"program": PROGRAM}), 415)
        assert events(s.url) == before
        key = {"Idempotency-Key": f"deaths-{uuid.uuid4()}"}
        done = c.post("/api/v1/deaths", files={"file": ("meninggal.csv", good)},
                      data={"program": PROGRAM}, headers=key)
        assert done.status_code == 200, done.text
        after = events(s.url)
        replayed = c.post("/api/v1/deaths", files={"file": ("meninggal.csv", good)},
                          data={"program": PROGRAM}, headers=key)
        assert replayed.json() == done.json() and replayed.headers["idempotent-replayed"]
        assert events(s.url) == after
        # The same file again, without the key, ends nobody twice: the CLI's rule.
        twice = c.post("/api/v1/deaths", files={"file": ("meninggal.csv", good)},
                       data={"program": PROGRAM})
    answer = done.json()
    masked = as_json(s.url, "workers", "show", dead)["nik"]
    assert [(e["line"], e["month"], e["nik"]) for e in answer["ended"]] == [
        (2, "2026-03", masked)]
    assert answer["released"] == 9 * PREMIUM and answer["overpaid"] == 0
    assert [(r["line"], r["why"]) for r in answer["reported"]] == [
        (3, "not registered in the ledger")]
    figures = as_json(s.url, "--program", PROGRAM, "program", "show")
    assert before_figures["committed"] - figures["committed"] == answer["released"]
    assert as_json(s.url, "workers", "show", dead)["coverages"][0]["ended"] == "2026-03"
    assert twice.status_code == 200 and twice.json()["ended"] == []
    assert dead not in done.text


def test_deciles_from_a_workbook_with_their_release(
    service: tuple[Served, list[str]], tmp_path: Path
) -> None:
    s, niks = service
    nik = niks[4]
    decile = as_json(s.url, "workers", "show", nik)["decile"]
    new = 3 if decile != 3 else 4
    good = workbook(tmp_path / "desil.xlsx", [["NIK", "Desil", "Nama"], [nik, new, "X"]])
    bad = workbook(tmp_path / "salah.xlsx", [["NIK", "Desil", "Nama"], [nik, new, "X"],
                                              ["3275011203850009", 11, "Y"]])
    finance = _token_with(s.url, "bpkad.kas", "finance")
    before = events(s.url)

    def send(c: Any, path: Path, release: str = "2026-Q2", **headers: str) -> Any:
        return c.post("/api/v1/deciles", files={"file": (path.name, path.read_bytes())},
                      data={"release": release}, headers=headers)

    with s.client(finance) as c:
        _problem(send(c, good), 403)
    with s.client() as c:
        release = _problem(send(c, good, "Q2-2026"), 422)
        assert "2026-Q2" in release["detail"]
        row = _problem(send(c, bad), 422)
        assert "salah.xlsx: line 3, decile: DTSEN decile must be a whole number 1-10" in row[
            "detail"], row["detail"]
        assert events(s.url) == before
        key = f"deciles-{uuid.uuid4()}"
        done = send(c, good, **{"Idempotency-Key": key})
        assert done.status_code == 200, done.text
        replayed = send(c, good, **{"Idempotency-Key": key})
        assert replayed.json() == done.json() and replayed.headers["idempotent-replayed"]
    answer = done.json()
    assert (answer["release"], answer["unchanged"]) == ("2026-Q2", 0)
    assert [(ch["line"], ch["previous"], ch["decile"]) for ch in answer["changed"]] == [
        (2, decile, new)]
    shown = as_json(s.url, "workers", "show", nik)
    assert (shown["decile"], shown["decile_release"]) == (new, "2026-Q2")
    assert events(s.url) == answer["position"] > before


def test_registrations_upload_a_workbook_with_the_import_messages(
    service: tuple[Served, list[str]], tmp_path: Path
) -> None:
    s, niks = service
    source = tmp_path / "new.csv"
    generate_registrations(source, 3, seed=int(uuid.uuid4().int % 10**6), bad_rate=0,
                           duplicate_rate=0)
    with source.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["nik"] not in niks]
    header = list(COLUMNS)
    bad = dict(rows[0], birth_date="1991-02-03")  # disagrees with the NIK's date part
    path = workbook(tmp_path / "daftar.xlsx",
                    [header, [rows[1][k] for k in header], [bad[k] for k in header]])
    before = events(s.url)
    with s.client() as c:
        refused = _problem(c.post("/api/v1/registrations/file",
                                  files={"file": ("daftar.xlsx", path.read_bytes())}), 422)
        assert events(s.url) == before
        cli = jamsos(s.url, "workers", "import", str(path))
        assert cli.exit_code == 2
        said = [line.strip().replace(str(path), path.name) for line in cli.output.splitlines()
                if "line 3" in line]
        assert said and [line.strip() for line in refused["detail"].splitlines()
                         if "line 3" in line] == said
        good = workbook(tmp_path / "daftar-benar.xlsx", [header, [rows[1][k] for k in header]])
        key = {"Idempotency-Key": f"xlsx-{uuid.uuid4()}"}
        done = c.post("/api/v1/registrations/file",
                      files={"file": ("daftar-benar.xlsx", good.read_bytes())}, headers=key)
        assert done.status_code == 200, done.text
        again = c.post("/api/v1/registrations/file",
                       files={"file": ("daftar-benar.xlsx", good.read_bytes())}, headers=key)
        assert again.json() == done.json() and again.headers["idempotent-replayed"]
        # A semicolon CSV in Windows-1252, as Excel saves it on an Indonesian Windows.
        semicolons = (";".join(header) + "\r\n" + ";".join(rows[2][k] for k in header)
                      + "\r\n").encode("cp1252")
        office = c.post("/api/v1/registrations/file",
                        files={"file": ("kantor.csv", semicolons)})
        assert office.status_code == 200, office.text
    assert (done.json()["registered"], office.json()["registered"]) == (1, 1)
    assert as_json(s.url, "workers", "show", rows[1]["nik"])["source"] == rows[1]["source"]


# -- the program -------------------------------------------------------------------------


def test_program_and_capacity_are_the_clis(service: tuple[Served, list[str]]) -> None:
    s, _ = service
    with s.client() as c:
        shown = c.get("/api/v1/program", params={"program": PROGRAM})
        capacity = c.get("/api/v1/capacity", params={"program": PROGRAM})
        what_if = c.get("/api/v1/capacity", params={"program": PROGRAM, "start": "2026-06",
                                                    "allocation": 3_000_000_000,
                                                    "quota": 20_000})
        _problem(c.get("/api/v1/capacity", params={"program": PROGRAM, "start": "2026-13"}),
                 422)
        _problem(c.get("/api/v1/program", params={"program": "1999"}), 404)
        outside = c.get("/api/v1/capacity", params={"program": PROGRAM, "start": "2030-01"})
        cli = jamsos(s.url, "--program", PROGRAM, "program", "capacity", "--start", "2030-01")
        # Refused as the CLI refuses it: a rule's refusal (exit 1) is 409, bad input (2) 422.
        assert (cli.exit_code, outside.status_code) in ((1, 409), (2, 422)), outside.text
        assert _problem(outside, outside.status_code)["detail"] in cli.output.replace("\n", " ")
    for answer in (shown, capacity, what_if):
        assert answer.status_code == 200, answer.text
    assert shown.json() == as_json(s.url, "--program", PROGRAM, "program", "show")
    assert capacity.json() == as_json(s.url, "--program", PROGRAM, "program", "capacity")
    assert what_if.json() == as_json(s.url, "--program", PROGRAM, "program", "capacity",
                                     "--start", "2026-06", "--allocation", "3000000000",
                                     "--quota", "20000")
    assert what_if.json()["what_if"]["allocation"] == 3_000_000_000


def test_a_program_is_opened_by_an_administrator_once(service: tuple[Served, list[str]]
                                                      ) -> None:
    s, _ = service
    code = f"P-{uuid.uuid4().hex[:8]}"
    body = {"year": 2027, "allocation": 500_000_000, "quota": 1_000, "code": code,
            "name": "SIGAP 2027"}
    operator = _token_with(s.url, "disnaker.operator", "operator")
    before = events(s.url)
    with s.client(operator) as c:
        refused = _problem(c.post("/api/v1/programs", json=body), 403)
        assert "administrator" in refused["detail"]
    with s.client() as c:
        _problem(c.post("/api/v1/programs", json={**body, "allocation": 0}), 422)
        _problem(c.post("/api/v1/programs", json={**body, "start": "2027-13"}), 422)
        taken = _problem(c.post("/api/v1/programs", json={**body, "code": PROGRAM}), 409)
        assert "already open" in taken["detail"]
        assert events(s.url) == before
        key = {"Idempotency-Key": f"open-{uuid.uuid4()}"}
        opened = c.post("/api/v1/programs", json=body, headers=key)
        assert opened.status_code == 201, opened.text
        again = c.post("/api/v1/programs", json=body, headers=key)
    assert again.status_code == 201 and again.json() == opened.json()
    answer = opened.json()
    assert answer["four_eyes"] is True  # unless the caller says otherwise
    assert answer["fits"] == as_json(s.url, "--program", code, "program", "capacity")["workers"]
    shown = as_json(s.url, "--program", code, "program", "show")
    assert {k: answer[k] for k in shown if k not in ("position", "digest")} == {
        k: v for k, v in shown.items() if k not in ("position", "digest")}
    assert events(s.url) == before + 1 == answer["position"]


def test_a_program_of_one_key_keeps_its_reason_and_verify_lists_it(
    service: tuple[Served, list[str]]
) -> None:
    """Over HTTP as with `program open --one-key --reason`: the reason only with four eyes
    off (422, nothing written), kept in the terms, and the program in `audit verify`'s list of
    programs opened with one key."""
    s, _ = service
    code = f"K-{uuid.uuid4().hex[:8]}"
    body = {"year": 2027, "allocation": 500_000_000, "quota": 1_000, "code": code,
            "four_eyes": False, "one_key_reason": "one officer at the Kecamatan"}
    before = events(s.url)
    with s.client() as c:
        refused = _problem(c.post("/api/v1/programs", json={**body, "four_eyes": True}), 422)
        assert "one key" in refused["detail"]
        assert events(s.url) == before
        opened = c.post("/api/v1/programs", json=body)
        assert opened.status_code == 201, opened.text
        assert opened.json()["four_eyes"] is False
        assert opened.json()["one_key_reason"] == "one officer at the Kecamatan"
        verified = c.get("/api/v1/audit/verify")
    assert verified.status_code == 200, verified.text
    listed = [p for p in verified.json()["one_key_programs"] if p["program"] == code]
    assert [(p["reason"], p["decrees"], p["paid"]) for p in listed] == [
        ("one officer at the Kecamatan", 0, 0)]


def test_an_amendment_under_one_key_is_made_and_never_below_what_is_used(
    service: tuple[Served, list[str]]
) -> None:
    s, _ = service
    code = f"A-{uuid.uuid4().hex[:8]}"
    ok(s.url, "program", "open", "--year", "2027", "--allocation", "100000000", "--quota",
       "100", "--code", code, "--one-key")
    finance = _token_with(s.url, "bpkad.kas", "finance")
    enrolled = as_json(s.url, "--program", PROGRAM, "program", "show")["enrolled"]
    before = events(s.url)
    with s.client(finance) as c:
        _problem(c.post("/api/v1/program/amendments",
                        json={"program": code, "quota": 200, "reason": "APBD-P"}), 403)
    with s.client() as c:
        _problem(c.post("/api/v1/program/amendments", json={"program": code, "reason": "x"}),
                 422)
        used = _problem(c.post("/api/v1/program/amendments",
                               json={"program": PROGRAM, "quota": 1, "reason": "APBD-P"}), 409)
        assert f"lowest possible quota is {enrolled}" in used["detail"]
        assert used["figures"]["quota"] == 10_000
        assert events(s.url) == before
        key = {"Idempotency-Key": f"amend-{uuid.uuid4()}"}
        body = {"program": code, "allocation": 150_000_000, "reason": "APBD-P 2027"}
        done = c.post("/api/v1/program/amendments", json=body, headers=key)
        assert done.status_code == 200, done.text
        again = c.post("/api/v1/program/amendments", json=body, headers=key)
        assert again.json() == done.json() and again.headers["idempotent-replayed"]
        same = c.post("/api/v1/program/amendments", json=body)
    answer = done.json()
    assert (answer["changed"], answer["allocation"], answer["quota"]) == (True, 150_000_000,
                                                                          100)
    assert as_json(s.url, "--program", code, "program", "show")["allocation"] == 150_000_000
    assert same.status_code == 200 and same.json()["changed"] is False
    assert events(s.url) == before + 1


def test_an_amendment_under_four_eyes_is_a_proposal_another_approves(
    service: tuple[Served, list[str]]
) -> None:
    s, _ = service
    code = f"F-{uuid.uuid4().hex[:8]}"
    with s.client() as c:
        opened = c.post("/api/v1/programs", json={"year": 2027, "allocation": 100_000_000,
                                                  "quota": 100, "code": code})
        assert opened.status_code == 201, opened.text
        proposed = c.post("/api/v1/program/amendments",
                          json={"program": code, "quota": 250, "reason": "APBD-P 2027"})
    assert proposed.status_code == 200, proposed.text
    body = proposed.json()
    assert (body["kind"], body["status"], body["proposer"]) == ("amendment", "pending",
                                                                "disnaker")
    assert body["figures"] == {"allocation": 0, "quota": 150}
    assert as_json(s.url, "--program", code, "program", "show")["quota"] == 100
    with s.client(issue_token(s.url, "kepala.disnaker")) as other:
        approved = other.post(f"/api/v1/proposals/{body['proposal']}/approve")
    assert approved.status_code == 200, approved.text
    assert as_json(s.url, "--program", code, "program", "show")["quota"] == 250


def test_an_uploads_name_is_never_a_path(service: tuple[Served, list[str]], tmp_path: Path
                                         ) -> None:
    """The rows' messages name the file as sent, but a name is only a name: one that is a
    path, a folder's or holds control characters is refused or replaced, never written to."""
    s, _ = service
    body = b"NIK;Tanggal Meninggal\r\n3275011203850009;14-03-2026\r\n"
    before = events(s.url)
    with s.client() as c:
        for name in ("..", "../../meninggal.csv", "a\x01b.csv", "/etc/meninggal.csv",
                     "m" * 300 + ".csv"):
            for path, data in (("/api/v1/deaths", {"program": PROGRAM}),
                               ("/api/v1/registrations/file", {})):
                answer = c.post(path, files={"file": (name, body)}, data=data)
                assert answer.status_code in (415, 422), (name, path, answer.text)
                assert "Traceback" not in answer.text and "jamsos-upload" not in answer.text
    assert events(s.url) == before
