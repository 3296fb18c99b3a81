"""Whether priority was respected: who was enrolled, with which decile, while who waited.

For each enrolment the position in the log where it was recorded and the worker's decile at
that moment; for each worker the current decile and the position since which it holds (the
registration, or the correction that set it). From these, `reporting.priority_check` finds a
worker of a lower tier enrolled while an eligible worker of a higher tier, registered with that
decile before the enrolment, is still waiting. Like the quota tables, no personal data here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic

from jamsos_ledger.domain.model import Worker
from jamsos_ledger.projections.database import (
    Grouped,
    Insert,
    Update,
    ViewCursor,
    ViewDatabase,
    Write,
    grouped,
    id_text,
    write_grouped,
)

WORKERS = "priority_workers"
ENROLMENTS = "priority_enrolments"

_TOPICS = {
    get_topic(cls)
    for cls in (Worker.Registered, Worker.Corrected, Worker.Enrolled, Worker.EnrolmentAnnulled)
}


class PriorityProjection:
    """Tables `priority_workers` and `priority_enrolments`."""

    name = "priority"
    version = 2  # 2: index by decile and registration, for the priority check
    tables = (WORKERS, ENROLMENTS)
    # The priority check looks for the first worker of a decile still waiting.
    indexes = (("priority_workers_decile", WORKERS, "decile, since"),)

    def create(self, cursor: ViewCursor, db: ViewDatabase) -> None:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {db.table(WORKERS)} ("
            "worker_id TEXT PRIMARY KEY, decile INTEGER NOT NULL, since BIGINT NOT NULL)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {db.table(ENROLMENTS)} ("
            "program_id TEXT NOT NULL, worker_id TEXT NOT NULL, position BIGINT NOT NULL, "
            "decile INTEGER NOT NULL, PRIMARY KEY (program_id, worker_id))"
        )

    def wants(self, topic: str) -> bool:
        return topic in _TOPICS

    def prepare(
        self, db: ViewDatabase, events: Sequence[tuple[int, Any]]
    ) -> Grouped:
        workers, enrolments = db.table(WORKERS), db.table(ENROLMENTS)
        register = Insert(workers, ("worker_id", "decile", "since"))
        correct = Update(workers, ("decile", "since"), ("worker_id",))
        # The decile the worker had when enrolled: statements run in log order.
        enrol = (
            f"INSERT INTO {enrolments} (program_id, worker_id, position, decile) "
            f"SELECT ?, ?, ?, decile FROM {workers} WHERE worker_id = ?"
        )
        annul = f"DELETE FROM {enrolments} WHERE program_id = ? AND worker_id = ?"
        statements: list[tuple[Write, tuple[Any, ...]]] = []
        add = statements.append
        for position, e in events:
            wid = id_text(e.originator_id)
            if isinstance(e, Worker.Registered):
                add((register, (wid, e.decile, position)))
            elif isinstance(e, Worker.Corrected) and e.field == "decile":
                add((correct, (e.value, position, wid)))
            elif isinstance(e, Worker.Enrolled):
                add((enrol, (id_text(e.program_id), wid, position, wid)))
            elif isinstance(e, Worker.EnrolmentAnnulled):
                add((annul, (id_text(e.program_id), wid)))
        return grouped(statements)

    def apply(self, cursor: ViewCursor, db: ViewDatabase, batch: Grouped) -> None:
        write_grouped(cursor, batch)
