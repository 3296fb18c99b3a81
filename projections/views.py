"""The ledger's read side: projections kept up to date, and the queries reports and commands ask.

Every query first brings the projections up to the end of the log, so what it answers is
never behind what the ledger has recorded: in the query's own transaction, one statement asks
whether any projection is behind the log's head, and only then are they caught up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper

from jamsos_ledger.domain.model import available_money, places_left
from jamsos_ledger.projections.benefits import BENEFITS, BenefitsProjection
from jamsos_ledger.projections.budget import (
    LEFT_OUT,
    MONTHS,
    PAYMENTS,
    PROGRAMS,
    BudgetProjection,
)
from jamsos_ledger.projections.database import ViewCursor, ViewDatabase
from jamsos_ledger.projections.group_counts import GROUPED, REGISTERED
from jamsos_ledger.projections.priority import PriorityProjection
from jamsos_ledger.projections.quota import (
    CLAIMS,
    ENROLMENTS,
    WORKERS,
    ClaimsProjection,
    QuotaProjection,
)
from jamsos_ledger.projections.quota import PROGRAMS as QUOTA_PROGRAMS
from jamsos_ledger.projections.runner import (
    POSITIONS,
    Helper,
    Projection,
    ProjectionStatus,
    Runner,
)

# The groupings `report quota --by` offers: those the quota projection counts workers by.
GROUPINGS = GROUPED
# Workers read at once when every worker's ranking input is read.
RANKING_PAGE = 10_000
# The domain's rule `model.months_overlap(start, end, e.start, e.last)`, as SQL, of the
# months asked about (two parameters: first, last) and an enrolment `e`: months are stored as
# YYYY-MM text, ordered as months, and a coverage's last month is the one it was ended in, else
# its end (`Coverage.last`). tests/test_service_layer.py checks it agrees with the domain's.
OVERLAPPING = "(? <= COALESCE(e.ended_month, e.end_month) AND e.start_month <= ?)"


def all_projections() -> list[Projection]:
    """Every projection of the ledger, fresh: the live views and an auditor's replay use these."""
    return [
        BudgetProjection(),
        QuotaProjection(),
        ClaimsProjection(),
        PriorityProjection(),
        BenefitsProjection(),
    ]


@dataclass(frozen=True, slots=True)
class RankingInput:
    """What ranking needs of one worker.

    Attributes:
        worker_id: the worker's aggregate id.
        decile: current DTSEN decile.
        registered_position: where the registration stands in the log (the tie-break).
        ruleset, rank: the current rank, if any.
    """

    worker_id: UUID
    decile: int
    registered_position: int
    ruleset: str | None
    rank: int | None


def _fetched(cursor: ViewCursor, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    """The rows of a query, each a dict by column name."""
    cursor.execute(sql, params)
    columns = cursor.columns()
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


class Views:
    """The projections of one ledger and the questions they answer."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.db = runner.db
        # The positions and the log's head in one statement, where the projections' tables
        # live beside the events (never for a private database: an auditor's replay, memory).
        recorder: Any = runner.recorder
        beside = getattr(recorder, "datastore", None) is self.db.datastore
        events = getattr(recorder, "events_table_name", None) if beside else None
        position = "notification_id" if self.db.postgres else "rowid"  # as the recorders ask
        self._where_read = (
            None if events is None else
            f"SELECT name, position, (SELECT MAX({position}) FROM {self.db.table(events)}) "
            f"FROM {self.db.table(POSITIONS)}"
        )
        self._reading: ViewCursor | None = None  # the transaction of `reading()`, while open

    @classmethod
    def beside(
        cls, recorder: ApplicationRecorder, mapper: Mapper[Any], helper: Helper | None = None
    ) -> Views:
        """The live views, in tables beside the store's events (`helper`: how another process
        can catch up alongside, for a store other processes can open)."""
        db = ViewDatabase.beside(recorder)
        runner = Runner(db, recorder, mapper, all_projections(), helper=helper)
        return cls(runner)

    def close(self) -> None:
        self.db.close()

    @property
    def names(self) -> list[str]:
        return list(self.runner.projections)

    def catch_up(self) -> int:
        return self.runner.catch_up()

    def rebuild(self, *names: str, progress: Callable[[int], None] | None = None) -> int:
        return self.runner.rebuild(names, progress)

    def status(self) -> list[ProjectionStatus]:
        if self._where_read is None:
            return self.runner.status()
        if self._reading is not None:
            return self._status(self._reading)
        with self.db.transaction(commit=False) as cursor:
            return self._status(cursor)

    @contextmanager
    def reading(self) -> Iterator[Views]:
        """Every query in the block read in one transaction, after one look at whether the
        projections have caught up (and a catch-up first if not): a report's dozen queries
        cost a dozen statements, not a dozen transactions each asking the positions again."""
        if self._reading is not None:
            yield self
            return
        if self._where_read is None:
            self.catch_up()
        for checked in (False, True):
            with self.db.transaction(commit=False) as cursor:
                if checked or self._where_read is None or not self._behind(cursor):
                    self._reading = cursor
                    try:
                        yield self
                    finally:
                        self._reading = None
                    return
            self.catch_up()

    def _behind(self, cursor: ViewCursor) -> bool:
        return any(s.behind for s in self._status(cursor))

    def _status(self, cursor: ViewCursor) -> list[ProjectionStatus]:
        """How far each projection has read, and the log's head, in one statement."""
        assert self._where_read is not None
        cursor.execute(self._where_read)
        rows = cursor.fetchall()
        found = {name: int(position) for name, position, _ in rows}
        head = int(rows[0][2] or 0) if rows else int(self.runner.head())
        return [ProjectionStatus(name, found.get(name, 0), head) for name in self.names]

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Rows of a read-only query on the projections' tables, once they have caught up."""
        return self._rows(sql, params)

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        if self._reading is not None:
            return _fetched(self._reading, sql, params)
        if self._where_read is not None:
            with self.db.transaction(commit=False) as cursor:
                # Asked in the query's own transaction, in one statement: mostly, nothing is
                # behind, and catching up (a transaction that locks the positions) is not needed.
                if not self._behind(cursor):
                    return _fetched(cursor, sql, params)
        self.catch_up()
        with self.db.transaction(commit=False) as cursor:
            return _fetched(cursor, sql, params)

    # -- ranking and enrolment -----------------------------------------------------------

    def ranking_inputs(self, deciles: Iterable[int] | None = None) -> Iterator[RankingInput]:
        """What ranking needs of every worker (of those deciles only, when given), read a
        page at a time: a nation's workers never sit in memory as rows and objects at once."""
        where = ""
        if deciles is not None:
            where = f"WHERE decile IN ({', '.join(str(int(d)) for d in deciles) or 'NULL'})"
        self.catch_up()
        for page in self.db.scan(
            f"SELECT worker_id, decile, registered_position, ruleset, rank "
            f"FROM {self.db.table(WORKERS)} {where}",
            RANKING_PAGE,
        ):
            for worker_id, decile, position, ruleset, rank in page:
                yield RankingInput(UUID(worker_id), int(decile), int(position), ruleset,
                                   None if rank is None else int(rank))

    def candidates(
        self, program_id: UUID, ruleset: str, limit: int, start: str, end: str
    ) -> list[UUID]:
        """The best-ranked workers under the rule set who were never enrolled in the program
        and hold no coverage elsewhere overlapping the months `start` to `end` (YYYY-MM)."""
        rows = self._rows(
            f"SELECT w.worker_id FROM {self.db.table(WORKERS)} w "
            f"WHERE w.ruleset = ? AND w.rank IS NOT NULL AND NOT EXISTS ("
            f"SELECT 1 FROM {self.db.table(ENROLMENTS)} e WHERE e.worker_id = w.worker_id "
            f"AND (e.program_id = ? OR {OVERLAPPING})) "
            "ORDER BY w.rank LIMIT ?",
            (ruleset, str(program_id), start, end, limit),
        )
        return [UUID(r["worker_id"]) for r in rows]

    def covered_in(self, program_id: UUID, month: str) -> list[UUID]:
        """The workers the program covers in `month` (YYYY-MM): enrolled from it or before,
        and not ended before it."""
        rows = self._rows(
            f"SELECT worker_id FROM {self.db.table(ENROLMENTS)} WHERE program_id = ? "
            "AND start_month <= ? AND COALESCE(ended_month, end_month) >= ? ORDER BY worker_id",
            (str(program_id), month, month),
        )
        return [UUID(r["worker_id"]) for r in rows]

    # -- budget --------------------------------------------------------------------------

    def programs(self) -> list[dict[str, Any]]:
        return self._rows(f"SELECT * FROM {self.db.table(PROGRAMS)} ORDER BY opened_position")

    def programs_applied(self) -> tuple[list[str], int]:
        """The program codes the budget projection holds, in the order opened, and the log
        position it has applied: as it stands, without catching up (a write command asks)."""
        # One statement, so one snapshot: the codes and the position the same catch-up left
        # (read apart, another process's catch-up in between could hide a program).
        with self.db.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT p.position, b.code FROM {self.db.table(POSITIONS)} p "
                f"LEFT JOIN {self.db.table(PROGRAMS)} b ON 1 = 1 "
                "WHERE p.name = ? ORDER BY b.opened_position",
                (BudgetProjection.name,),
            )
            rows = cursor.fetchall()
        if not rows:
            return [], 0
        return [str(code) for _, code in rows if code is not None], int(rows[0][0])

    def budget(self, program_id: UUID) -> dict[str, Any]:
        rows = self._rows(
            f"SELECT * FROM {self.db.table(PROGRAMS)} WHERE program_id = ?", (str(program_id),)
        )
        if not rows:
            raise LookupError(f"no program {program_id} in the budget projection")
        row = rows[0]
        row["committed"] = row["committed_jkk"] + row["committed_jkm"]
        row["paid"] = row["paid_jkk"] + row["paid_jkm"]
        row["overpaid"] = row["overpaid_jkk"] + row["overpaid_jkm"]
        row["available"] = available_money(row["allocation"], row["committed"], row["paid"])
        return row

    def budget_months(self, program_id: UUID) -> list[dict[str, Any]]:
        return self._rows(
            f"SELECT * FROM {self.db.table(MONTHS)} WHERE program_id = ? ORDER BY month",
            (str(program_id),),
        )

    def budget_left_out(self, program_id: UUID) -> dict[str, int]:
        """By month, how many covered workers a payment under an invoice left unpaid."""
        rows = self._rows(
            f"SELECT month, COUNT(*) AS n FROM {self.db.table(LEFT_OUT)} "
            "WHERE program_id = ? GROUP BY month",
            (str(program_id),),
        )
        return {str(r["month"]): int(r["n"]) for r in rows}

    def payments(self, program_id: UUID) -> list[dict[str, Any]]:
        return self._rows(
            f"SELECT * FROM {self.db.table(PAYMENTS)} WHERE program_id = ? ORDER BY position",
            (str(program_id),),
        )

    # -- quota ---------------------------------------------------------------------------

    def quota(self, program_id: UUID) -> dict[str, Any]:
        # The program's enrolments read once for both counts.
        rows = self._rows(
            "SELECT p.code, p.quota, COALESCE(e.enrolled, 0) AS enrolled, "
            "COALESCE(e.ended, 0) AS ended, "
            f"(SELECT COALESCE(SUM(workers), 0) FROM {self.db.table(REGISTERED)}) "
            "AS registered "
            f"FROM {self.db.table(QUOTA_PROGRAMS)} p LEFT JOIN ("
            "SELECT program_id, SUM(CASE WHEN ended_month IS NULL THEN 1 ELSE 0 END) AS enrolled, "
            "SUM(CASE WHEN ended_month IS NOT NULL THEN 1 ELSE 0 END) AS ended "
            f"FROM {self.db.table(ENROLMENTS)} WHERE program_id = ? GROUP BY program_id) e "
            "ON e.program_id = p.program_id WHERE p.program_id = ?",
            (str(program_id), str(program_id)),
        )
        if not rows:
            raise LookupError(f"no program {program_id} in the quota projection")
        row = rows[0]
        row["available"] = places_left(row["quota"], row["enrolled"])
        return row

    # -- claims --------------------------------------------------------------------------

    def claims(self, program_id: UUID | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE c.program_id = ?", (str(program_id),)) if program_id else ("", ())
        return self._rows(
            f"SELECT c.reference, c.scheme, c.incident_date, c.month, c.recorded_at, c.actor, "
            f"b.amount AS benefit, w.kecamatan, w.occupation, w.decile "
            f"FROM {self.db.table(CLAIMS)} c "
            f"LEFT JOIN {self.db.table(WORKERS)} w ON w.worker_id = c.worker_id "
            f"LEFT JOIN {self.db.table(BENEFITS)} b ON b.reference = c.reference "
            f"{where} ORDER BY c.position",
            params,
        )
