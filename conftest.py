"""Fixtures and hooks shared by tests/ and property_tests/: stores to test against, and
Hypothesis profiles.

It lives at the repository root so both folders see it; neither folder is a package, and pytest
runs in importlib mode, so nothing here puts the repository root on sys.path.

PostgreSQL tests get a schema of their own on the server named by JAMSOS_TEST_POSTGRES. When
that server does not answer they are skipped, loudly, or fail when JAMSOS_REQUIRE_POSTGRES is set
(as scripts/test does under CI): CI must never pass without having run them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from psycopg import sql

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"

settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile(
    "ci",
    max_examples=300,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_configure(config: pytest.Config) -> None:
    """One administrator key for the whole session, made once (a key a test would cost a
    millisecond, a passphrase far more): JAMSOS_KEY names it to every ledger the tests open,
    in this process and in the processes they start, so every write is sealed as in use.
    The ledgers a test creates make its holder their administrator."""
    from jamsos_ledger.stores.keys import new_key_file

    folder = Path(tempfile.mkdtemp(prefix="jamsos-test-keys-"))
    config.stash[_KEY_FOLDER] = folder
    new_key_file(folder / "admin.key")
    os.environ["JAMSOS_KEY"] = str(folder / "admin.key")
    os.environ.pop("JAMSOS_KEY_PASSPHRASE", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_KEY_FOLDER, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


_KEY_FOLDER = pytest.StashKey[Path]()


def _postgres_required() -> bool:
    return os.environ.get("JAMSOS_REQUIRE_POSTGRES", "") not in ("", "0")


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The base URL of the test server, checked once per session; skips or fails if it is down."""
    url = os.environ.get("JAMSOS_TEST_POSTGRES", DEFAULT_POSTGRES)
    problem = _unreachable(url)
    if problem is None:
        return url
    message = f"POSTGRESQL NOT REACHABLE at {url}: {problem}"
    if _postgres_required():
        pytest.fail(
            f"{message} (JAMSOS_REQUIRE_POSTGRES is set: PostgreSQL tests must run)", pytrace=False
        )
    pytest.skip(message)


_reachability: dict[str, str | None] = {}


def _unreachable(url: str) -> str | None:
    """Why the server at `url` cannot be used, or None; asked once per URL and session."""
    if url not in _reachability:
        try:
            with psycopg.connect(url, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _reachability[url] = None
        except psycopg.Error as e:
            _reachability[url] = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
    return _reachability[url]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file of this test's own."""
    return f"sqlite:///{tmp_path}/ledger.db"


@pytest.fixture
def postgres_url(postgres_server: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A schema of this test's own on the test server, as `<server URL>?schema=<name>`.

    The schema is created empty and dropped with everything in it afterwards.
    """
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield _with_query(postgres_server, schema=schema)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """Each store in turn: a test taking `store_url` runs once on SQLite, once on PostgreSQL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


# --- Loud about PostgreSQL tests that did not run --------------------------------------------


_postgres_tests: set[str] = set()
_postgres_outcomes: dict[str, set[str]] = {
    "passed": set(),
    "skipped": set(),
    "failed": set(),
    "setup failed": set(),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that asks for `postgres_url` (or `postgres_server`) is a postgres test."""
    for item in items:
        if item.get_closest_marker("postgres") is not None:
            _postgres_tests.add(item.nodeid)
        elif "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
            _postgres_tests.add(item.nodeid)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Under pytest-xdist the workers collect, and this runs in the process that did not: the
    # report's keywords carry the `postgres` mark there.
    if report.nodeid not in _postgres_tests and "postgres" not in report.keywords:
        return
    if report.skipped:
        _postgres_outcomes["skipped"].add(report.nodeid)
    elif report.failed:
        _postgres_outcomes["failed"].add(report.nodeid)
        if report.when == "setup":
            _postgres_outcomes["setup failed"].add(report.nodeid)
    elif report.when == "call" and report.passed:
        _postgres_outcomes["passed"].add(report.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = _postgres_outcomes["skipped"]
    passed = _postgres_outcomes["passed"] - skipped - _postgres_outcomes["failed"]
    server = os.environ.get("JAMSOS_TEST_POSTGRES", DEFAULT_POSTGRES)
    problem = _reachability.get(server)
    not_run = []
    if skipped:
        not_run.append(f"{len(skipped)} skipped")
    if problem and _postgres_outcomes["setup failed"]:
        not_run.append(f"{len(_postgres_outcomes['setup failed'])} failed to reach the server")
    if not_run:
        terminalreporter.write_sep(
            "!", f"POSTGRESQL TESTS DID NOT RUN: {', '.join(not_run)}", red=True, bold=True
        )
        terminalreporter.write_line(
            f"server {server}: {problem or 'skipped by the tests themselves'}", red=True
        )
        terminalreporter.write_line(
            "Start PostgreSQL (see README) or set JAMSOS_TEST_POSTGRES; CI fails on this.", red=True
        )
    elif passed:
        terminalreporter.write_sep("-", f"postgresql tests passed: {len(passed)} on {server}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _postgres_required() and _postgres_outcomes["skipped"] and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_report_header() -> list[str]:
    required = "must run" if _postgres_required() else "skipped if unreachable"
    return [
        f"hypothesis profile: {settings.get_current_profile_name()}",
        f"postgresql: {os.environ.get('JAMSOS_TEST_POSTGRES', DEFAULT_POSTGRES)} ({required})",
    ]
