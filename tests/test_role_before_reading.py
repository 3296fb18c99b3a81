"""The role is checked before an input file is read (README, "Roles"): a principal who may not
run a command that reads a file learns that (exit 7, HTTP 403), never what is wrong with the
file, and nothing is written.

Each command and each upload that reads a file is given a bad file by a principal without its
role, then, to show the file is bad indeed, by one holding the role (exit 2, HTTP 422). On a
real SQLite file and on PostgreSQL; the uploads against a real `jamsos serve` process, which
also refuses what the CLI refuses of the inputs that are not files (a DTSEN release not yet
come, a date outside the ledger's calendar).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from role_helpers import acting

from cli_helpers import contents, events, jamsos, ok
from jamsos_ledger.domain.roles import AUDITOR, FINANCE, OPERATOR
from registration_file import generate_registrations
from served import Served, issue_token, served

PROBLEM = "application/problem+json"
# One line of nothing any reader takes: every reader refuses it (exit 2, HTTP 422).
BAD = b"this is not a file of the ledger\n"
# The principals: each holds one role.
PRINCIPALS = {"clerk": OPERATOR, "ppk": FINANCE, "inspektorat": AUDITOR}

# (command line, the file's place among its arguments as {FILE}, who may not, who may, the
# role the refusal names)
COMMANDS = [
    (["workers", "import", "{FILE}"], "inspektorat", "clerk", OPERATOR),
    (["workers", "deaths", "{FILE}"], "ppk", "clerk", OPERATOR),
    (["workers", "deciles", "{FILE}", "--release", "2026-Q2"], "inspektorat", "clerk",
     OPERATOR),
    (["premiums", "reconcile", "--month", "2026-04", "--invoice", "{FILE}"], "clerk", "ppk",
     FINANCE),
    # The invoice is only hashed: a file its reconciliation never agreed is refused by a rule.
    (["premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/9", "--invoice", "{FILE}"],
     "inspektorat", None, FINANCE),
]
# (path, form fields, who may not, who may)
UPLOADS = [
    ("/api/v1/registrations/file", {}, "inspektorat", "clerk"),
    ("/api/v1/deaths", {}, "ppk", "clerk"),
    ("/api/v1/deciles", {"release": "2026-Q2"}, "inspektorat", "clerk"),
    ("/api/v1/invoices", {"month": "2026-04"}, "clerk", "ppk"),
]


def _office(url: str, folder: Path) -> None:
    """A program with four eyes, workers registered and ranked, a principal a role."""
    path = folder / "registrasi.csv"
    generate_registrations(path, 4, bad_rate=0, duplicate_rate=0)
    ok(url, "program", "open", "--year", "2026", "--allocation", "2000000000", "--quota", "10")
    ok(url, "workers", "import", str(path))
    ok(url, "workers", "prioritize")
    for name, role in PRINCIPALS.items():
        acting(url, name, {role}).close()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def office(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("role-before-reading")
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
        _office(url, folder)
        yield url, folder
    finally:
        if schema is not None:
            with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))


@pytest.mark.parametrize(("args", "refused", "allowed", "role"), COMMANDS,
                         ids=[" ".join(c[0][:2]) for c in COMMANDS])
def test_a_command_checks_the_role_before_reading_its_file(
    office: tuple[str, Path], args: list[str], refused: str, allowed: str | None, role: str
) -> None:
    url, folder = office
    bad = folder / "bad.csv"
    bad.write_bytes(BAD)
    line = [str(bad) if a == "{FILE}" else a for a in args]
    before = contents(url)
    result = jamsos(url, *line, actor=refused)
    assert result.exit_code == 7, result.output
    assert f"needs the role {role}" in result.stderr, result.stderr
    assert str(bad) not in result.stderr  # the file was never read: nothing said of it
    assert contents(url) == before
    if allowed is not None:  # the file is bad: one holding the role is told so
        shown = jamsos(url, *line, actor=allowed)
        assert shown.exit_code == 2 and str(bad) in shown.stderr, shown.output
        assert contents(url) == before


@pytest.fixture(scope="module")
def service(office: tuple[str, Path]) -> Iterator[Served]:
    url, folder = office
    with served(url, folder) as s:
        yield s


def _post(s: Served, token: str, path: str, form: dict[str, str]) -> Any:
    with s.client(token) as c:
        return c.post(path, data=form, files={"file": ("bad.csv", BAD, "text/csv")})


@pytest.mark.slow
@pytest.mark.parametrize(("path", "form", "refused", "allowed"), UPLOADS,
                         ids=[u[0] for u in UPLOADS])
def test_an_upload_checks_the_role_before_reading_its_file(
    service: Served, path: str, form: dict[str, str], refused: str, allowed: str
) -> None:
    # Tokens are issued first: an issuance is a sealed event of its own.
    refused_token = issue_token(service.url, refused)
    allowed_token = issue_token(service.url, allowed)
    before = events(service.url)
    answer = _post(service, refused_token, path, form)
    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert "bad.csv" not in answer.json()["detail"]  # the file was never read
    shown = _post(service, allowed_token, path, form)
    assert shown.status_code == 422 and "bad.csv" in shown.json()["detail"], shown.text
    assert events(service.url) == before


@pytest.mark.slow
def test_an_upload_of_a_release_not_yet_come_is_refused(service: Served) -> None:
    """As `workers deciles --release 2099-Q1`: 422 naming the release, nothing written."""
    token = issue_token(service.url, "clerk")
    before = events(service.url)
    answer = _post(service, token, "/api/v1/deciles", {"release": "2099-Q1"})
    assert answer.status_code == 422, answer.text
    assert "2099-Q1 is of a quarter that has not come yet" in answer.json()["detail"]
    assert events(service.url) == before


@pytest.mark.slow
def test_a_date_outside_the_calendar_is_refused_as_the_cli_refuses_it(service: Served) -> None:
    """`/premiums/due?today=` takes the dates `premiums due --today` takes: the ledger's
    calendar, 1900 to 9999 (the service once had a range of its own, 2000 to 2200)."""
    with service.client() as c:
        refused = c.get("/api/v1/premiums/due", params={"today": "1899-12-31"})
        assert refused.status_code == 422, refused.text
        assert "outside the ledger's calendar (years 1900-9999)" in refused.json()["detail"]
        for day in ("1900-01-01", "9999-12-31"):
            answer = c.get("/api/v1/premiums/due", params={"today": day})
            assert answer.status_code == 200, answer.text
            assert answer.json() == json.loads(ok(service.url, "premiums", "due", "--today",
                                                  day, "--format", "json").stdout)
