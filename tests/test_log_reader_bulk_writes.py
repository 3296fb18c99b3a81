"""Rows written in bulk land as if written one statement after another, on every store.

A page of the log becomes runs of inserts and updates; PostgreSQL takes them by COPY and by
one UPDATE from a temporary table, SQLite by `executemany`. An update given twice for a key
leaves the later values, as statements run in order would.
"""

from __future__ import annotations

import pytest

from jamsos_ledger.application import Ledger
from jamsos_ledger.projections import database
from jamsos_ledger.projections.database import Insert, Update, grouped, write_grouped


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk update", "few rows"])
def test_inserts_and_updates_in_runs_as_in_order(
    store_url: str, bulk: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if bulk:
        monkeypatch.setattr(database, "BULK_UPDATE", 2)
    ledger = Ledger(store_url, actor="operator")
    db = ledger.views.db
    table = db.table("bulk_write_test")
    insert = Insert(table, ("id", "name", "rank"))
    update = Update(table, ("name", "rank"), ("id",))
    try:
        with db.transaction() as cursor:
            cursor.execute(
                f"CREATE TABLE {table} (id TEXT PRIMARY KEY, name TEXT, rank BIGINT)"
            )
            write_grouped(cursor, grouped([
                (insert, ("a", "Siti", None)),
                (insert, ("b", "Budi", None)),
                (insert, ("c", "Dewi", None)),
                (update, ("Siti Aminah", 1, "a")),
                (update, ("Budi", 2, "b")),
                (update, ("Siti A.", 3, "a")),  # a later update of the same row wins
                (insert, ("d", "Rina", 4)),
                (update, ("Rina", None, "d")),
            ]))
        with db.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT id, name, rank FROM {table} ORDER BY id")
            assert cursor.fetchall() == [
                ("a", "Siti A.", 3), ("b", "Budi", 2), ("c", "Dewi", None), ("d", "Rina", None),
            ]
    finally:
        with db.transaction() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        ledger.close()
