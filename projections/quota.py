"""Quota usage and the register of workers: who is registered, ranked, enrolled, ended.

No personal data is copied here (no NIK, name or birth date): only what oversight groups by
(kecamatan, occupation, decile) and what ranking needs, keyed by the worker's aggregate id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic

from jamsos_ledger.domainmodel import Program, Worker
from jamsos_ledger.projections.database import ViewCursor, ViewDatabase

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
        Worker.Corrected,
    )
}
# Registration fields this projection holds; a correction of any other (the name) is not here.
_CORRECTED_COLUMNS = ("kecamatan", "kelurahan", "occupation", "decile", "source")


class QuotaProjection:
    """Tables `quota_programs`, `quota_workers` and `quota_enrolments`."""

    name = "quota"
    version = 1
    tables = (PROGRAMS, WORKERS, ENROLMENTS)

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
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS quota_workers_rank ON {db.table(WORKERS)} "
            "(ruleset, rank)"
        )

    def wants(self, topic: str) -> bool:
        return topic in _TOPICS

    def apply(
        self, cursor: ViewCursor, db: ViewDatabase, events: Sequence[tuple[int, Any]]
    ) -> None:
        statements: list[tuple[str, tuple[Any, ...]]] = []
        for position, e in events:
            if isinstance(e, Worker.Registered):
                statements.append((
                    f"INSERT INTO {db.table(WORKERS)} (worker_id, kecamatan, kelurahan, "
                    "occupation, decile, source, registered_position) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (str(e.originator_id), e.kecamatan, e.kelurahan, e.occupation, e.decile,
                     e.source, position),
                ))
            elif isinstance(e, Worker.Prioritized):
                statements.append((
                    f"UPDATE {db.table(WORKERS)} SET ruleset = ?, rank = ?, tier = ?, "
                    "decile = ? WHERE worker_id = ?",
                    (e.ruleset, e.rank, e.tier, e.decile, str(e.originator_id)),
                ))
            elif isinstance(e, Worker.Enrolled):
                statements.append((
                    f"INSERT INTO {db.table(ENROLMENTS)} (program_id, worker_id, start_month, "
                    "end_month, decree) VALUES (?, ?, ?, ?, ?)",
                    (str(e.program_id), str(e.originator_id), str(e.start), str(e.end),
                     e.decree),
                ))
            elif isinstance(e, Worker.CoverageEnded):
                statements.append((
                    f"UPDATE {db.table(ENROLMENTS)} SET ended_month = ?, end_reason = ? "
                    "WHERE program_id = ? AND worker_id = ?",
                    (str(e.month), e.reason, str(e.program_id), str(e.originator_id)),
                ))
            elif isinstance(e, Worker.Corrected) and e.field in _CORRECTED_COLUMNS:
                unrank = ", ruleset = NULL, rank = NULL, tier = NULL" if e.field == "decile" else ""
                statements.append((
                    f"UPDATE {db.table(WORKERS)} SET {e.field} = ?{unrank} WHERE worker_id = ?",
                    (e.value, str(e.originator_id)),
                ))
            elif isinstance(e, Program.Opened):
                statements.append((
                    f"INSERT INTO {db.table(PROGRAMS)} (program_id, code, quota) VALUES (?, ?, ?)",
                    (str(e.originator_id), e.code, e.quota),
                ))
            elif isinstance(e, Program.QuotaAmended):
                statements.append((
                    f"UPDATE {db.table(PROGRAMS)} SET quota = ? WHERE program_id = ?",
                    (e.quota, str(e.originator_id)),
                ))
        run_grouped(cursor, statements)


class ClaimsProjection:
    """Table `claims`: every claim recorded, with the covering program and the kecamatan."""

    name = "claims"
    version = 1
    tables = (CLAIMS,)

    def create(self, cursor: ViewCursor, db: ViewDatabase) -> None:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {db.table(CLAIMS)} ("
            "reference TEXT PRIMARY KEY, program_id TEXT NOT NULL, worker_id TEXT NOT NULL, "
            "scheme TEXT NOT NULL, incident_date TEXT NOT NULL, month TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL, actor TEXT NOT NULL, position BIGINT NOT NULL)"
        )

    def wants(self, topic: str) -> bool:
        return topic == get_topic(Worker.ClaimFiled)

    def apply(
        self, cursor: ViewCursor, db: ViewDatabase, events: Sequence[tuple[int, Any]]
    ) -> None:
        cursor.executemany(
            f"INSERT INTO {db.table(CLAIMS)} (reference, program_id, worker_id, scheme, "
            "incident_date, month, recorded_at, actor, position) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (e.reference, str(e.program_id), str(e.originator_id), e.scheme,
                 e.incident_date.isoformat(), e.incident_date.strftime("%Y-%m"),
                 e.timestamp.isoformat(), e.actor, position)
                for position, e in events
            ],
        )


def run_grouped(cursor: ViewCursor, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
    """Run statements in order, sending runs of the same statement as one executemany."""
    i = 0
    while i < len(statements):
        sql = statements[i][0]
        j = i
        while j < len(statements) and statements[j][0] == sql:
            j += 1
        cursor.executemany(sql, [params for _, params in statements[i:j]])
        i = j
