"""Budget burn: allocation, committed, paid and available per program, and month by month.

Month figures come from the participant counts through the domain's own `MonthBooks`, so the
rule that turns counts into rupiah is written once, in the domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from jamsos_ledger.domain.model import MonthBooks, Program
from jamsos_ledger.domain.months import Month, months_between
from jamsos_ledger.domain.rules import Premium
from jamsos_ledger.projections.database import ViewCursor, ViewDatabase

PROGRAMS = "budget_programs"
MONTHS = "budget_months"
PAYMENTS = "budget_payments"
# The covered workers a payment under an invoice left unpaid, by month (`Program.left_out`).
LEFT_OUT = "budget_left_out"

_TOPICS = {
    get_topic(cls)
    for cls in (
        Program.Opened,
        Program.AllocationAmended,
        Program.QuotaAmended,
        Program.PremiumsCommitted,
        Program.CoverageReleased,
        Program.PremiumPaid,
        Program.InvoicePaid,
        Program.PaymentReversed,
        Program.EnrolmentAnnulled,
    )
}

_MONEY = (
    "planned_jkk", "planned_jkm", "committed_jkk", "committed_jkm",
    "paid_jkk", "paid_jkm", "overpaid_jkk", "overpaid_jkm",
)


@dataclass
class _ProgramState:
    """A program's rows, held while a batch of events is applied."""

    row: dict[str, Any]
    active: dict[str, int] = field(default_factory=dict)
    paid: dict[str, int] = field(default_factory=dict)
    left_out: dict[str, set[str]] = field(default_factory=dict)
    new: bool = False

    def no_longer_covered(self, worker_id: UUID, first: Month, last: Month) -> None:
        for month in months_between(first, last):
            self.left_out.get(str(month), set()).discard(str(worker_id))


class BudgetProjection:
    """Tables `budget_programs`, `budget_months` and `budget_payments`."""

    name = "budget"
    # 2: the workers a payment under an invoice left unpaid (`budget_left_out`).
    version = 2
    tables = (PROGRAMS, MONTHS, PAYMENTS, LEFT_OUT)
    indexes = ()

    def create(self, cursor: ViewCursor, db: ViewDatabase) -> None:
        money = ", ".join(f"{m} BIGINT NOT NULL" for m in _MONEY)
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {db.table(PROGRAMS)} ("
            "program_id TEXT PRIMARY KEY, code TEXT NOT NULL, name TEXT NOT NULL, "
            "year INTEGER NOT NULL, start_month TEXT NOT NULL, end_month TEXT NOT NULL, "
            "allocation BIGINT NOT NULL, quota BIGINT NOT NULL, "
            "jkk_monthly BIGINT NOT NULL, jkm_monthly BIGINT NOT NULL, ruleset TEXT NOT NULL, "
            f"enrolled BIGINT NOT NULL, {money}, opened_position BIGINT NOT NULL)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {db.table(MONTHS)} ("
            "program_id TEXT NOT NULL, month TEXT NOT NULL, active BIGINT NOT NULL, "
            f"paid_participants BIGINT NOT NULL, {money}, PRIMARY KEY (program_id, month))"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {db.table(PAYMENTS)} ("
            "position BIGINT PRIMARY KEY, program_id TEXT NOT NULL, month TEXT NOT NULL, "
            "sp2d TEXT NOT NULL, participants BIGINT NOT NULL, jkk BIGINT NOT NULL, "
            "jkm BIGINT NOT NULL, recorded_at TEXT NOT NULL, actor TEXT NOT NULL)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {db.table(LEFT_OUT)} ("
            "program_id TEXT NOT NULL, month TEXT NOT NULL, worker_id TEXT NOT NULL, "
            "PRIMARY KEY (program_id, month, worker_id))"
        )

    def wants(self, topic: str) -> bool:
        return topic in _TOPICS

    def prepare(
        self, db: ViewDatabase, events: Sequence[tuple[int, Any]]
    ) -> Sequence[tuple[int, Any]]:
        return events  # a few events a month: worked out with the programs' rows, when written

    def apply(
        self, cursor: ViewCursor, db: ViewDatabase, batch: Sequence[tuple[int, Any]]
    ) -> None:
        events = batch
        states: dict[UUID, _ProgramState] = {}
        # The payments that stand: a reversed one leaves the table (its events stay in the log).
        payments: dict[tuple[str, str], tuple[Any, ...]] = {}
        reversed_: list[tuple[str, str]] = []
        for position, e in events:
            pid = e.originator_id
            if isinstance(e, Program.Opened):
                state = _ProgramState(row=_opened_row(e, position), new=True)
                for month in months_between(e.start, e.end):
                    state.active[str(month)] = 0
                    state.paid[str(month)] = 0
                states[pid] = state
                continue
            state = states.get(pid) or self._load(cursor, db, pid)
            states[pid] = state
            row = state.row
            if isinstance(e, Program.AllocationAmended):
                row["allocation"] = e.allocation
            elif isinstance(e, Program.QuotaAmended):
                row["quota"] = e.quota
            elif isinstance(e, Program.PremiumsCommitted):
                row["enrolled"] += e.workers
                for month in months_between(e.start, e.end):
                    state.active[str(month)] += e.workers
            elif isinstance(e, Program.CoverageReleased):
                row["enrolled"] -= 1
                end = Month.parse(row["end_month"])
                for month in months_between(e.last_month + 1, end):
                    state.active[str(month)] -= 1
                state.no_longer_covered(e.worker_id, e.last_month + 1, end)
            elif isinstance(e, Program.InvoicePaid):
                state.left_out[str(e.month)] = {str(w) for w in e.left_out or ()}
            elif isinstance(e, Program.PremiumPaid):
                state.paid[str(e.month)] += e.participants
                state.left_out.pop(str(e.month), None)
                payments[(str(pid), e.sp2d)] = (
                    position, str(pid), str(e.month), e.sp2d, e.participants, e.jkk, e.jkm,
                    e.timestamp.isoformat(), e.actor
                )
            elif isinstance(e, Program.PaymentReversed):
                state.paid[str(e.month)] -= e.participants
                if payments.pop((str(pid), e.sp2d), None) is None:
                    reversed_.append((str(pid), e.sp2d))
            elif isinstance(e, Program.EnrolmentAnnulled):
                row["enrolled"] -= 1
                for month in months_between(e.start, e.last_month):
                    state.active[str(month)] -= 1
                state.no_longer_covered(e.worker_id, e.start, e.last_month)
        for pid, state in states.items():
            self._write(cursor, db, pid, state)
        cursor.executemany(
            f"DELETE FROM {db.table(PAYMENTS)} WHERE program_id = ? AND sp2d = ?", reversed_
        )
        cursor.executemany(
            f"INSERT INTO {db.table(PAYMENTS)} (position, program_id, month, sp2d, "
            "participants, jkk, jkm, recorded_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            list(payments.values()),
        )

    def _load(self, cursor: ViewCursor, db: ViewDatabase, pid: UUID) -> _ProgramState:
        cursor.execute(f"SELECT * FROM {db.table(PROGRAMS)} WHERE program_id = ?", (str(pid),))
        columns = cursor.columns()
        found = cursor.fetchone()
        assert found is not None, f"budget projection has no program {pid}"
        state = _ProgramState(row=dict(zip(columns, found, strict=True)))
        cursor.execute(
            f"SELECT month, active, paid_participants FROM {db.table(MONTHS)} "
            "WHERE program_id = ?",
            (str(pid),),
        )
        for month, active, paid in cursor.fetchall():
            state.active[month] = int(active)
            state.paid[month] = int(paid)
        cursor.execute(
            f"SELECT month, worker_id FROM {db.table(LEFT_OUT)} WHERE program_id = ?",
            (str(pid),),
        )
        for month, worker in cursor.fetchall():
            state.left_out.setdefault(month, set()).add(worker)
        return state

    def _write(self, cursor: ViewCursor, db: ViewDatabase, pid: UUID, state: _ProgramState) -> None:
        row = state.row
        premium = Premium(int(row["jkk_monthly"]), int(row["jkm_monthly"]))
        totals = dict.fromkeys(_MONEY, 0)
        month_rows = []
        for month, active in state.active.items():
            books = MonthBooks.of(
                active, state.paid[month], premium, len(state.left_out.get(month, ()))
            )
            money = month_columns(books)
            for key, value in money.items():
                totals[key] += value
            month_rows.append((str(pid), month, active, state.paid[month], *money.values()))
        row.update(totals)
        if state.new:
            names = list(row)
            cursor.execute(
                f"INSERT INTO {db.table(PROGRAMS)} ({', '.join(names)}) "
                f"VALUES ({', '.join('?' * len(names))})",
                [row[n] for n in names],
            )
        else:
            names = [n for n in row if n != "program_id"]
            cursor.execute(
                f"UPDATE {db.table(PROGRAMS)} SET {', '.join(f'{n} = ?' for n in names)} "
                "WHERE program_id = ?",
                [*(row[n] for n in names), str(pid)],
            )
        cursor.execute(f"DELETE FROM {db.table(MONTHS)} WHERE program_id = ?", (str(pid),))
        cursor.executemany(
            f"INSERT INTO {db.table(MONTHS)} (program_id, month, active, paid_participants, "
            f"{', '.join(_MONEY)}) VALUES ({', '.join('?' * (4 + len(_MONEY)))})",
            month_rows,
        )
        cursor.execute(f"DELETE FROM {db.table(LEFT_OUT)} WHERE program_id = ?", (str(pid),))
        cursor.executemany(
            f"INSERT INTO {db.table(LEFT_OUT)} (program_id, month, worker_id) VALUES (?, ?, ?)",
            [(str(pid), month, worker) for month, workers in sorted(state.left_out.items())
             for worker in sorted(workers)],
        )


def _opened_row(e: Any, position: int) -> dict[str, Any]:
    return {
        "program_id": str(e.originator_id),
        "code": e.code,
        "name": e.name,
        "year": e.year,
        "start_month": str(e.start),
        "end_month": str(e.end),
        "allocation": e.allocation,
        "quota": e.quota,
        "jkk_monthly": e.jkk_monthly,
        "jkm_monthly": e.jkm_monthly,
        "ruleset": e.ruleset,
        "enrolled": 0,
        **dict.fromkeys(_MONEY, 0),
        "opened_position": position,
    }


def month_columns(books: MonthBooks) -> dict[str, int]:
    """A month's money as the budget tables' columns, JKK and JKM apart."""
    return {
        "planned_jkk": books.planned.jkk,
        "planned_jkm": books.planned.jkm,
        "committed_jkk": books.committed.jkk,
        "committed_jkm": books.committed.jkm,
        "paid_jkk": books.paid.jkk,
        "paid_jkm": books.paid.jkm,
        "overpaid_jkk": books.overpaid.jkk,
        "overpaid_jkm": books.overpaid.jkm,
    }
