"""Quota usage and the register of workers: who is registered, ranked, enrolled, ended.

No personal data is copied here (no NIK, name or birth date): only what oversight groups by
(kecamatan, occupation, decile) and what ranking needs, keyed by the worker's aggregate id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic

from jamsos_ledger.domain.model import Program, Worker
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
from jamsos_ledger.projections.group_counts import (
    ENROLLED,
    REGISTERED,
    Counts,
    create_count_tables,
)

WORKERS = "quota_workers"
ENROLMENTS = "quota_enrolments"
PROGRAMS = "quota_programs"
CLAIMS = "claims"

_TOPICS = {
    get_topic(cls)
    for cls in (
        Program.Opened,
        Program.QuotaAmended,
        Worker.Registered,
        Worker.Prioritized,
        Worker.Enrolled,
        Worker.CoverageEnded,
        Worker.EnrolmentAnnulled,
        Worker.Corrected,
    )
}
# Registration fields this projection holds; a correction of any other (the name) is not here.
_CORRECTED_COLUMNS = ("kecamatan", "kelurahan", "occupation", "decile", "source")


class QuotaProjection:
    """Tables `quota_programs`, `quota_workers` and `quota_enrolments`, and the workers
    counted by group (`group_counts`)."""

    name = "quota"
    version = 3  # 2: the counts by group; 3: no row of a group emptied by a correction
    tables = (PROGRAMS, WORKERS, ENROLMENTS, REGISTERED, ENROLLED)
    # Ranking reads the workers by rank (`Views.candidates`).
    indexes = (("quota_workers_rank", WORKERS, "ruleset, rank"),)

    def create(self, cursor: ViewCursor, db: ViewDatabase) -> None:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {db.table(PROGRAMS)} ("
            "program_id TEXT PRIMARY KEY, code TEXT NOT NULL, quota BIGINT NOT NULL)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {db.table(WORKERS)} ("
            "worker_id TEXT PRIMARY KEY, kecamatan TEXT NOT NULL, kelurahan TEXT NOT NULL, "
            "occupation TEXT NOT NULL, decile INTEGER NOT NULL, source TEXT NOT NULL, "
            "registered_position BIGINT NOT NULL, ruleset TEXT, rank BIGINT, tier INTEGER)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {db.table(ENROLMENTS)} ("
            "program_id TEXT NOT NULL, worker_id TEXT NOT NULL, start_month TEXT NOT NULL, "
            "end_month TEXT NOT NULL, ended_month TEXT, end_reason TEXT, decree TEXT, "
            "PRIMARY KEY (program_id, worker_id))"
        )
        create_count_tables(cursor, db)

    def wants(self, topic: str) -> bool:
        return topic in _TOPICS

    def prepare(
        self, db: ViewDatabase, events: Sequence[tuple[int, Any]]
    ) -> tuple[Counts, Grouped]:
        """The counts' changes and the rows' writes."""
        sql = _QuotaStatements(db)  # named once a batch, not once an event
        statements: list[tuple[Write, tuple[Any, ...]]] = []
        add = statements.append
        for position, e in events:
            # The two events of every worker first: they are nearly all of a city's log.
            if isinstance(e, Worker.Registered):
                add((sql.register, (id_text(e.originator_id), e.kecamatan, e.kelurahan,
                                    e.occupation, e.decile, e.source, position)))
            elif isinstance(e, Worker.Prioritized):
                add((sql.prioritize, (e.ruleset, e.rank, e.tier, e.decile,
                                      id_text(e.originator_id))))
            elif isinstance(e, Worker.Enrolled):
                add((sql.enrol, (id_text(e.program_id), id_text(e.originator_id), str(e.start),
                                 str(e.end), e.decree)))
            elif isinstance(e, Worker.CoverageEnded):
                add((sql.end, (str(e.month), e.reason, id_text(e.program_id),
                               id_text(e.originator_id))))
            elif isinstance(e, Worker.EnrolmentAnnulled):
                add((sql.annul, (id_text(e.program_id), id_text(e.originator_id))))
            elif isinstance(e, Worker.Corrected) and e.field in _CORRECTED_COLUMNS:
                unrank = ", ruleset = NULL, rank = NULL, tier = NULL" if e.field == "decile" else ""
                add((f"UPDATE {sql.workers} SET {e.field} = ?{unrank} WHERE worker_id = ?",
                     (e.value, id_text(e.originator_id))))
            elif isinstance(e, Program.Opened):
                add((sql.open, (id_text(e.originator_id), e.code, e.quota)))
            elif isinstance(e, Program.QuotaAmended):
                add((sql.amend, (e.quota, id_text(e.originator_id))))
        return Counts.of(events), grouped(statements)

    def apply(self, cursor: ViewCursor, db: ViewDatabase, batch: tuple[Counts, Grouped]) -> None:
        counts, writes = batch
        # The counts first: they read the workers and enrolments as they were before the batch.
        counts.write(cursor, db, db.table(WORKERS), db.table(ENROLMENTS))
        write_grouped(cursor, writes)


class _QuotaStatements:
    """The writes of the quota projection, for one database's table names."""

    def __init__(self, db: ViewDatabase) -> None:
        self.workers = workers = db.table(WORKERS)
        enrolments, programs = db.table(ENROLMENTS), db.table(PROGRAMS)
        self.register = Insert(workers, (
            "worker_id", "kecamatan", "kelurahan", "occupation", "decile", "source",
            "registered_position",
        ))
        self.prioritize = Update(workers, ("ruleset", "rank", "tier", "decile"), ("worker_id",))
        self.enrol = Insert(
            enrolments, ("program_id", "worker_id", "start_month", "end_month", "decree")
        )
        self.end = Update(
            enrolments, ("ended_month", "end_reason"), ("program_id", "worker_id")
        )
        self.annul = f"DELETE FROM {enrolments} WHERE program_id = ? AND worker_id = ?"
        self.open = Insert(programs, ("program_id", "code", "quota"))
        self.amend = Update(programs, ("quota",), ("program_id",))


class ClaimsProjection:
    """Table `claims`: every claim recorded, with the covering program and the kecamatan."""

    name = "claims"
    version = 1
    tables = (CLAIMS,)
    indexes = ()

    def create(self, cursor: ViewCursor, db: ViewDatabase) -> None:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {db.table(CLAIMS)} ("
            "reference TEXT PRIMARY KEY, program_id TEXT NOT NULL, worker_id TEXT NOT NULL, "
            "scheme TEXT NOT NULL, incident_date TEXT NOT NULL, month TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL, actor TEXT NOT NULL, position BIGINT NOT NULL)"
        )

    def wants(self, topic: str) -> bool:
        return topic == get_topic(Worker.ClaimFiled)

    def prepare(
        self, db: ViewDatabase, events: Sequence[tuple[int, Any]]
    ) -> list[tuple[Any, ...]]:
        return [
            (e.reference, id_text(e.program_id), id_text(e.originator_id), e.scheme,
             e.incident_date.isoformat(), e.incident_date.strftime("%Y-%m"),
             e.timestamp.isoformat(), e.actor, position)
            for position, e in events
        ]

    def apply(self, cursor: ViewCursor, db: ViewDatabase, batch: list[tuple[Any, ...]]) -> None:
        cursor.write(
            Insert(db.table(CLAIMS), (
                "reference", "program_id", "worker_id", "scheme", "incident_date", "month",
                "recorded_at", "actor", "position",
            )),
            batch,
        )
