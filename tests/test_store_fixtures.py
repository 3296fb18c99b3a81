"""The store fixtures of conftest.py give each test a store of its own."""

from __future__ import annotations

import sqlite3
from urllib.parse import parse_qs, urlsplit

import psycopg
from psycopg import sql


def test_postgres_url_is_an_empty_schema_of_the_tests_own(postgres_url: str) -> None:
    (schema,) = parse_qs(urlsplit(postgres_url).query)["schema"]
    server = postgres_url.split("?", 1)[0]
    with psycopg.connect(server) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        assert conn.execute("SELECT current_schema()").fetchone() == (schema,)
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE workers (nik text PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO workers VALUES (%s, %s)", ("3275014101900001", "Siti Aminah"))
        assert conn.execute("SELECT name FROM workers").fetchall() == [("Siti Aminah",)]
        placed = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'workers'"
        ).fetchall()
        assert placed == [(schema,)]


def test_sqlite_url_is_a_fresh_file(sqlite_url: str) -> None:
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
        conn.execute("CREATE TABLE workers (nik TEXT PRIMARY KEY, name TEXT NOT NULL)")
        conn.execute("INSERT INTO workers VALUES (?, ?)", ("3275014101900001", "Siti Aminah"))
        assert conn.execute("SELECT name FROM workers").fetchall() == [("Siti Aminah",)]
    conn.close()


def test_store_url_runs_a_test_once_per_store(store_url: str) -> None:
    assert urlsplit(store_url).scheme in ("sqlite", "postgresql")
