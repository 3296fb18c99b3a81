"""Bad deaths and deciles files never change the store and always say what is wrong.

The corpus: tests/corpus/deaths/ and tests/corpus/deciles/, a file a case, each listed in its
folder's `manifest.csv` with the exit code and the message fragments (line and field) expected.
Adding a case is adding a file and a line. Every case runs against the ledger of
`test_bad_input` (a year under way: workers enrolled, a month paid, a claim), on an SQLite
file compared byte for byte and on PostgreSQL compared row for row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from test_bad_input import CORPUS, Store, jamsos, manifest, refused_cleanly

KINDS = {"deaths": ["workers", "deaths"], "deciles": ["workers", "deciles", "--release", "2026-Q2"]}
CASES = [(kind, row) for kind in KINDS for row in manifest(f"{kind}/manifest.csv")]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Store]:
    tmp = tmp_path_factory.mktemp("registers-corpus")
    if request.param == "sqlite":
        yield Store(f"sqlite:///{tmp}/ledger.db", tmp)
        return
    server: str = request.getfixturevalue("postgres_server")
    # The temporary folder's name is unique in one process only: pytest-xdist's workers each
    # number their own folders, so the schema takes a random part too.
    schema = f"test_registers_corpus_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield Store(f"{server}?schema={schema}", tmp)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_file_of_the_corpus_is_in_its_manifest(kind: str) -> None:
    listed = {row["file"] for row in manifest(f"{kind}/manifest.csv")}
    assert listed == {p.name for p in (CORPUS / kind).iterdir()} - {"manifest.csv"}


@pytest.mark.parametrize(("kind", "case"), CASES,
                         ids=[f"{kind}-{row['file']}" for kind, row in CASES])
def test_a_bad_registers_file_is_refused_whole(ledger: Store, kind: str,
                                               case: dict[str, str]) -> None:
    path = CORPUS / kind / case["file"]
    before = ledger.contents()
    result = jamsos(ledger.url, *KINDS[kind], str(path))
    refused_cleanly(result, int(case["exit"]), case["expect"].split("|"))
    assert str(path) in result.stderr  # the message names the file
    assert ledger.contents() == before


def test_the_corpus_files_are_what_their_names_say() -> None:
    """The files whose point is their bytes: a test that cannot drift into plain UTF-8."""
    deaths = CORPUS / "deaths"
    assert (deaths / "utf16.csv").read_bytes().startswith(b"\xff\xfe")
    assert b"\r\n" in (deaths / "nik-scientific-semicolon.csv").read_bytes()
    assert b"\xe9" in (CORPUS / "deciles" / "many-bad-rows.csv").read_bytes()  # cp1252 é
    assert (CORPUS / "deciles" / "nik-scientific.csv").read_bytes().startswith(b"\xef\xbb\xbf")
