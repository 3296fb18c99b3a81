"""A ledger written before every write was sealed is never trusted silently: its writes are
refused (exit 6, saying how to adopt it), `audit verify` says it is unsealed (exit 4), and only
an explicit `principals adopt` by the holder of a key seals it, as of its last position,
recorded as an adoption. On SQLite and PostgreSQL.

A ledger of before is made as it was: a sealed one whose seals table is dropped (the tables of
the events and their chain are what an earlier jamsos wrote).
"""

from __future__ import annotations

import sqlite3
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from cli_helpers import contents, events, jamsos, ok
from jamsos_ledger.stores.seals import SEAL_TABLE


def _drop_seals(url: str) -> None:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///"):]) as conn:
            conn.execute(f"DROP TABLE {SEAL_TABLE}")
        return
    parts = urlsplit(url)
    schema = dict(parse_qsl(parts.query))["schema"]
    with psycopg.connect(urlunsplit(parts._replace(query=""))) as conn:
        conn.execute(sql.SQL("DROP TABLE {}.{}").format(sql.Identifier(schema),
                                                        sql.Identifier(SEAL_TABLE)))


def _legacy(url: str) -> int:
    ok(url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000", "--quota",
       "10")
    ok(url, "program", "amend", "--quota", "9", "--reason", "APBD-P")
    _drop_seals(url)
    return events(url)


def test_a_ledger_of_before_is_refused_then_adopted_explicitly(store_url: str) -> None:
    n = _legacy(store_url)
    refused = jamsos(store_url, "program", "amend", "--quota", "8", "--reason", "x")
    assert refused.exit_code == 6, refused.output
    assert "written before every write was sealed" in refused.stderr
    assert "principals adopt" in refused.stderr
    assert events(store_url) == n
    # Opening it set up the (empty) seals table; from then on a refusal changes nothing.
    before = contents(store_url)
    assert jamsos(store_url, "program", "amend", "--quota", "7", "--reason", "y").exit_code == 6
    unsealed = jamsos(store_url, "audit", "verify")
    assert unsealed.exit_code == 4 and "holds no seal at all" in unsealed.stderr
    assert contents(store_url) == before  # neither wrote anything

    adopted = ok(store_url, "principals", "adopt", "--admin-name", "ana",
                 "--admin-office", "Diskominfo")
    assert f"Adopted positions 1 to {n}" in adopted.stdout
    fingerprint = adopted.stdout.split("Key fingerprint ")[1].split(":")[0]
    verified = ok(store_url, "audit", "verify", "--root", fingerprint)
    assert f"positions 1 to {n} were written before sealing" in verified.stdout
    assert "ana" in verified.stdout

    ok(store_url, "program", "amend", "--quota", "8", "--reason", "after adoption")
    ok(store_url, "audit", "verify", "--root", fingerprint)
    again = jamsos(store_url, "principals", "adopt")
    assert again.exit_code == 1 and "sealed already" in again.stderr


def test_seals_removed_and_the_ledger_adopted_by_an_intruder_fail_the_pinned_root(
    store_url: str,
) -> None:
    opened = ok(store_url, "program", "open", "--year", "2026", "--allocation",
                "2000000", "--quota", "10")
    root = opened.stdout.split("key fingerprint ")[1].split()[0]
    _drop_seals(store_url)
    ok(store_url, "principals", "adopt", actor="mallory")  # a key of his own
    result = jamsos(store_url, "audit", "verify", "--root", root)
    assert result.exit_code == 4 and "not the root pinned" in result.stderr
