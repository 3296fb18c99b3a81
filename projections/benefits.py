"""Benefits BPJS paid on claims, recorded for the program's evaluation (never the budget).

A projection of its own rather than a column added to `claims`: a store made before benefits
were recorded gets this table, and catches it up from the first event, by itself (the runner
sets up projections it has no position for), where a new column in an existing table would
need a migration. `Views.claims` joins it, so every claim row carries its `benefit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic

from jamsos_ledger.domain.model import Worker
from jamsos_ledger.projections.database import ViewCursor, ViewDatabase

BENEFITS = "claim_benefits"


class BenefitsProjection:
    """Table `claim_benefits`: the latest benefit recorded on each claim, by reference."""

    name = "benefits"
    version = 1
    tables = (BENEFITS,)
    indexes = ()

    def create(self, cursor: ViewCursor, db: ViewDatabase) -> None:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {db.table(BENEFITS)} ("
            "reference TEXT PRIMARY KEY, amount BIGINT NOT NULL, position BIGINT NOT NULL)"
        )

    def wants(self, topic: str) -> bool:
        return topic == get_topic(Worker.BenefitRecorded)

    def prepare(
        self, db: ViewDatabase, events: Sequence[tuple[int, Any]]
    ) -> list[tuple[Any, ...]]:
        return [(e.reference, e.amount, position) for position, e in events]

    def apply(self, cursor: ViewCursor, db: ViewDatabase, batch: list[tuple[Any, ...]]) -> None:
        # A later record replaces an earlier one: the amount is the claim's whole benefit
        # (executemany runs the rows in order, so the last of a batch wins too).
        cursor.executemany(
            f"INSERT INTO {db.table(BENEFITS)} (reference, amount, position) "
            "VALUES (?, ?, ?) ON CONFLICT (reference) DO UPDATE SET "
            "amount = excluded.amount, position = excluded.position",
            batch,
        )
