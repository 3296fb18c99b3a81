"""The store a user names is the store that is opened (issue 15, item 7; issue 14, item 7).

Only `program open` creates a ledger: every other command on a store holding none exits 3
naming it, and creates nothing (a mistyped path is not an empty ledger "History intact"). A
store URL's parameters are parsed, never part of a file's name; unknown ones are refused
(exit 2). An auditor's read-only copy opens for every read and audit command, and is not
written by any.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg import sql

from cli_helpers import events, jamsos, ok
from jamsos_ledger.application import Ledger
from jamsos_ledger.cli import main

JAMSOS = str(Path(sys.executable).parent / "jamsos")
HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"
OPEN = ("program", "open", "--one-key", "--year", "2026", "--allocation", "1000000000", "--quota",
        "100")
# Every command that only reads or audits, as an auditor runs them.
READERS = [
    ("report", "budget"),
    ("report", "quota"),
    ("report", "claims"),
    ("program", "show"),
    ("program", "capacity", "--start", "2026-03"),
    ("premiums", "due", "--today", "2026-03-05"),
    ("audit", "verify"),
    ("audit", "replay"),
    ("audit", "log"),
    ("projections", "status"),
    ("workers", "show", "3275010908910001"),
]


def nik(serial: int) -> str:
    return f"327501090891{serial:04d}"


def row(serial: int, decile: int = 2) -> str:
    return f"{nik(serial)},Pekerja {serial},1991-08-09,L,Jatiasih,Jatiluhur,ojol,{decile},Dinsos"


def registrations(path: Path, serials: range, decile: int = 2) -> Path:
    path.write_text("\n".join([HEADER, *(row(s, decile) for s in serials)]) + "\n")
    return path


def clean(result: Result, code: int, *words: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output, (word, result.output)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def schema_of(url: str) -> str:
    return url.split("schema=")[1]


def tables_in(url: str, schema: str) -> set[str] | None:
    """The schema's tables, None when the schema does not exist."""
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        if found.fetchone() is None:
            return None
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
        ).fetchall()
        return {r[0] for r in rows}


@pytest.fixture
def missing_schema(postgres_url: str) -> Iterator[str]:
    """A URL naming a schema that does not exist (dropped afterwards if a test made it)."""
    schema = schema_of(postgres_url) + "_missing"
    yield postgres_url.split("?")[0] + f"?schema={schema}"
    with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def test_a_missing_sqlite_ledger_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    typo = tmp_path / "typo.db"
    for args in [*READERS, ("workers", "prioritize"), ("enroll", "--top", "1", "--start",
                                                        "2026-02")]:
        result = jamsos(f"sqlite:///{typo}", *args)
        clean(result, 3, f"no ledger at {typo}", "does not exist", "program open")
    assert list(tmp_path.iterdir()) == []


def test_an_empty_sqlite_file_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    clean(jamsos(f"sqlite:///{empty}", "audit", "verify"), 3, f"no ledger at {empty}", "empty")
    assert empty.stat().st_size == 0 and list(tmp_path.iterdir()) == [empty]


@pytest.mark.postgres
def test_a_missing_or_empty_postgres_schema_is_refused_and_nothing_is_created(
    postgres_url: str, missing_schema: str
) -> None:
    for args in READERS:
        clean(jamsos(missing_schema, *args), 3, "no ledger at", "does not exist", "program open")
        clean(jamsos(postgres_url, *args), 3, "no ledger at", "is empty", "program open")
    assert tables_in(missing_schema, schema_of(missing_schema)) is None
    assert tables_in(postgres_url, schema_of(postgres_url)) == set()


@pytest.mark.postgres
def test_program_open_creates_a_missing_schema_and_says_where(missing_schema: str) -> None:
    secret = missing_schema.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    result = ok(secret, *OPEN)
    assert "Created the ledger at postgresql://postgres:***@" in result.stdout
    assert "s3cret" not in result.output
    clean(jamsos(missing_schema, "report", "budget"), 0)


def test_program_open_says_where_it_created_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "kota" / "jamsos.db"
    path.parent.mkdir()
    first = ok(f"sqlite:///{path}", *OPEN)
    assert f"Created the ledger at {path}\n" in first.stdout
    second = ok(f"sqlite:///{path}", *OPEN, "--code", "2026-B")
    assert "Created" not in second.stdout


def test_a_read_only_command_in_an_empty_folder_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JAMSOS_STORE", raising=False)
    result = CliRunner().invoke(main, ["report", "budget"])
    clean(result, 3, "no ledger at jamsos.db")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("query", ["?mode=ro", "?immutable=1"])
def test_url_parameters_are_not_part_of_the_file_name(tmp_path: Path, query: str) -> None:
    path = tmp_path / "x.db"
    clean(jamsos(f"sqlite:///{path}{query}", "audit", "verify"), 3, f"no ledger at {path}:")
    clean(jamsos(f"sqlite:///{path}{query}", *OPEN), 3, f"no ledger at {path}:")
    assert list(tmp_path.iterdir()) == []


def test_a_percent_encoded_name_is_the_file_it_names(tmp_path: Path) -> None:
    ok(f"sqlite:///{tmp_path}/a%3Fb.db", *OPEN)
    assert [p.name for p in tmp_path.iterdir()] == ["a?b.db"]


def test_unknown_url_parameters_are_refused(tmp_path: Path, store_url: str) -> None:
    sqlite = f"sqlite:///{tmp_path}/x.db"
    for url in [f"{sqlite}?mode=rw&cache=shared", f"{sqlite}?mode=readonly",
                f"{sqlite}?mode=ro&mode=ro", f"{sqlite}?immutable=yes",
                f"{store_url}&sslmode=disable" if "?" in store_url else f"{store_url}?x=1"]:
        clean(jamsos(url, *OPEN), 2, "store URL")
    assert not list(tmp_path.glob("x.db*"))


@pytest.fixture(scope="module")
def ledger_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger with a program, ranked and enrolled workers, and workers imported after the
    last report: its projections are behind its log, as an auditor's copy often is."""
    folder = tmp_path_factory.mktemp("ledger")
    url = f"sqlite:///{folder / 'jamsos.db'}"
    ok(url, *OPEN)
    ok(url, "workers", "import", str(registrations(folder / "a.csv", range(1, 21))))
    ok(url, "workers", "prioritize")
    ok(url, "enroll", "--top", "5", "--start", "2026-02", "--decree", "SK/1")
    ok(url, "workers", "import", str(registrations(folder / "b.csv", range(21, 31))))
    return folder / "jamsos.db"


def copy_of(ledger: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    copy = folder / "salinan.db"
    shutil.copyfile(ledger, copy)
    return copy


@pytest.mark.parametrize("query", ["?mode=ro", "?immutable=1"])
def test_a_read_only_copy_opens_for_every_read_and_audit_command(
    ledger_file: Path, tmp_path: Path, query: str
) -> None:
    copy = copy_of(ledger_file, tmp_path / "audit")
    before = digest(copy)
    url = f"sqlite:///{copy}{query}"
    for args in READERS:
        clean(jamsos(url, *args), 0)
    # A command that writes is refused, saying why; nothing is written.
    for args in [("program", "amend", "--quota", "50", "--reason", "APBD-P"),
                 ("workers", "prioritize")]:
        clean(jamsos(url, *args), 3, "read-only", "nothing was written")
    assert digest(copy) == before
    assert sorted(p.name for p in copy.parent.iterdir()) in (
        ["salinan.db"], ["salinan.db", "salinan.db-shm", "salinan.db-wal"])


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to run the command as another user (nobody)")
def test_a_copy_the_user_cannot_write_opens_for_reading(ledger_file: Path) -> None:
    """As an auditor gets it: a file they cannot write (chmod 444) in a folder they cannot
    write (555), no URL parameter; run as the user nobody, since root writes anything."""
    folder = Path(tempfile.mkdtemp(prefix="jamsos-auditor-"))
    try:
        folder.chmod(0o755)
        copy = copy_of(ledger_file, folder / "audit")
        before = digest(copy)
        copy.chmod(0o444)
        copy.parent.chmod(0o555)
        for args in [("audit", "verify"), ("audit", "replay"), ("report", "budget"),
                     ("report", "quota"), ("program", "amend", "--quota", "50", "--reason", "x")]:
            run = subprocess.run(
                ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", JAMSOS,
                 "--store", f"sqlite:///{copy}", *args],
                capture_output=True, text=True, timeout=120, cwd=folder,
                env={**os.environ, "HOME": str(folder)}, check=False,
            )
            writes = args[0] == "program"
            assert run.returncode == (3 if writes else 0), (args, run.stdout, run.stderr)
            assert "Traceback" not in run.stderr
            if writes:
                assert "read-only" in run.stderr
        assert digest(copy) == before
        assert [p.name for p in copy.parent.iterdir()] == ["salinan.db"]
    finally:
        for path in folder.rglob("*"):
            path.chmod(0o755)
        shutil.rmtree(folder)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to run the command as another user (nobody)")
def test_a_ledger_behind_a_folder_the_user_may_not_enter_is_refused_cleanly(
    ledger_file: Path,
) -> None:
    """A folder on the way this user may not enter (700, another owner): exit 3 saying so,
    never a traceback, for a reading and a writing command alike."""
    folder = Path(tempfile.mkdtemp(prefix="jamsos-closed-"))
    try:
        folder.chmod(0o755)
        copy = copy_of(ledger_file, folder / "closed")
        copy.parent.chmod(0o700)
        for args in [("report", "budget"), ("audit", "verify"), ("workers", "prioritize")]:
            run = subprocess.run(
                ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", JAMSOS,
                 "--store", f"sqlite:///{copy}", *args],
                capture_output=True, text=True, timeout=120, cwd=folder,
                env={**os.environ, "HOME": str(folder)}, check=False,
            )
            assert run.returncode == 3, (args, run.stdout, run.stderr)
            assert "Traceback" not in run.stderr
            assert "may not open it" in run.stderr
    finally:
        for path in folder.rglob("*"):
            path.chmod(0o755)
        shutil.rmtree(folder)


def test_the_api_still_creates_a_ledger_where_asked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'api.db'}"
    with pytest.raises(Exception, match="no ledger at"):
        Ledger(url, create=False)
    assert not (tmp_path / "api.db").exists()
    Ledger(url).close()
    assert events(url) == 0
