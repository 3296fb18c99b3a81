"""The `raw-fold` anchor: the projections' rows made by the bare driver, the floor of a rebuild.

What `audit replay` and `projections rebuild` must do at the least, done the plainest way: the
bare driver (sqlite3, psycopg) reads every row of our log, msgpack decodes the events the
projections want, a plain fold in memory turns them into the final rows of every projection
table (budget, quota and its counts by group, claims, priority, benefits, and the positions),
and the bare driver writes those rows into a scratch database in one transaction (SQLite
`executemany`, PostgreSQL `COPY`). No pages, no second process, no comparison, no index
beyond the tables' primary keys: so the anchor is as fast as such a fold gets, and a target
against it only ever errs against the ledger.

The scratch tables are made, untimed, by our projections' own `create` (the same columns and
keys); the timed work starts with the first read and ends with the commit. The rows are the
same as the ledger's: after the timed work the anchor counts the rows of every table in the
scratch database and in the ledger's own projections, and fails (exit 3) when they differ, so
that it can never be fast by doing less. Each repetition writes into a fresh place; the fastest
counts (`anchors.py` says why).
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from anchors import all_rows, events_table
from outcome import TaskFailed, figures
from stores import Place

from jamsos_ledger.stores.transcoding import MsgpackTranscoder

# The SQLite page cache our projections write with (projections/runner.py): the same settings.
SQLITE_CACHE_KIB = 32 * 1024

Rows = dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]  # table -> (columns, rows)


def raw_fold(params: dict[str, Any]) -> dict[str, Any]:
    """Fold the whole log into the projections' rows in each of `places`; the fastest counts."""
    ledger = Place.from_dict(params["ledger"])
    table = events_table(ledger)
    runs = []
    for scratch in params["places"]:
        place = Place.from_dict(scratch)
        _create_tables(ledger, place)
        runs.append(_fold_and_write(ledger, table, place))
    seconds, read, written = min(runs, key=lambda run: run[0])
    expected = _row_counts(ledger)
    for place_dict in params["places"]:
        found = _row_counts(Place.from_dict(place_dict))
        if found != expected:
            differ = sorted(t for t in expected.keys() | found.keys()
                            if expected.get(t) != found.get(t))
            raise TaskFailed(
                "raw-fold wrote other rows than the ledger's projections hold: "
                + ", ".join(f"{t} {found.get(t)} against {expected.get(t)}" for t in differ)
            )
    return figures(seconds, read, rows=written, tables=len(expected),
                   repeats=[run[0] for run in runs])


# --- the fold -------------------------------------------------------------------------------


@dataclass
class _Program:
    row: dict[str, Any]
    active: dict[str, int] = field(default_factory=dict)
    paid: dict[str, int] = field(default_factory=dict)


@dataclass
class _Fold:
    """Every projection's rows as the events leave them, in plain dicts."""

    topics: dict[str, str]
    programs: dict[str, _Program] = field(default_factory=dict)
    # worker id -> [kecamatan, kelurahan, occupation, decile, source, registered_position,
    #                ruleset, rank, tier, decile_since]
    workers: dict[str, list[Any]] = field(default_factory=dict)
    # (program id, worker id) -> [start, end, ended_month, end_reason, decree, position, decile]
    enrolments: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    payments: list[tuple[Any, ...]] = field(default_factory=list)
    claims: list[tuple[Any, ...]] = field(default_factory=list)
    benefits: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    last: int = 0

    def add(self, position: int, oid: str, topic: str, e: dict[str, Any]) -> None:
        t = self.topics
        if topic == t["Worker.Registered"]:
            self.workers[oid] = [e["kecamatan"], e["kelurahan"], e["occupation"], e["decile"],
                                 e["source"], position, None, None, None, position]
        elif topic == t["Worker.Prioritized"]:
            w = self.workers[oid]
            w[3], w[6], w[7], w[8] = e["decile"], e["ruleset"], e["rank"], e["tier"]
        elif topic == t["Worker.Enrolled"]:
            self.enrolments[(str(e["program_id"]), oid)] = [
                str(e["start"]), str(e["end"]), None, None, e["decree"], position,
                self.workers[oid][3],
            ]
        elif topic == t["Worker.CoverageEnded"]:
            enrolment = self.enrolments[(str(e["program_id"]), oid)]
            enrolment[2], enrolment[3] = str(e["month"]), e["reason"]
        elif topic == t["Worker.Corrected"]:
            self._correct(position, oid, e)
        elif topic == t["Worker.ClaimFiled"]:
            incident = e["incident_date"]
            self.claims.append((e["reference"], str(e["program_id"]), oid, e["scheme"],
                                incident.isoformat(), incident.strftime("%Y-%m"),
                                e["timestamp"].isoformat(), e["actor"], position))
        elif topic == t["Worker.BenefitRecorded"]:
            self.benefits[e["reference"]] = (e["reference"], e["amount"], position)
        else:
            self._program(position, oid, topic, e)
        self.last = position

    def _correct(self, position: int, oid: str, e: dict[str, Any]) -> None:
        columns = {"kecamatan": 0, "kelurahan": 1, "occupation": 2, "decile": 3, "source": 4}
        if e["field"] not in columns:
            return  # the name: in no projection
        w = self.workers[oid]
        w[columns[e["field"]]] = e["value"]
        if e["field"] == "decile":
            w[6] = w[7] = w[8] = None
            w[9] = position

    def _program(self, position: int, oid: str, topic: str, e: dict[str, Any]) -> None:
        from jamsos_ledger.domain.months import Month, months_between

        t = self.topics
        if topic == t["Program.Opened"]:
            months = [str(m) for m in months_between(e["start"], e["end"])]
            self.programs[oid] = _Program(
                row={"program_id": oid, "code": e["code"], "name": e["name"], "year": e["year"],
                     "start_month": str(e["start"]), "end_month": str(e["end"]),
                     "allocation": e["allocation"], "quota": e["quota"],
                     "jkk_monthly": e["jkk_monthly"], "jkm_monthly": e["jkm_monthly"],
                     "ruleset": e["ruleset"], "enrolled": 0, "opened_position": position},
                active=dict.fromkeys(months, 0), paid=dict.fromkeys(months, 0),
            )
            return
        program = self.programs[oid]
        if topic == t["Program.AllocationAmended"]:
            program.row["allocation"] = e["allocation"]
        elif topic == t["Program.QuotaAmended"]:
            program.row["quota"] = e["quota"]
        elif topic == t["Program.PremiumsCommitted"]:
            program.row["enrolled"] += e["workers"]
            for month in months_between(e["start"], e["end"]):
                program.active[str(month)] += e["workers"]
        elif topic == t["Program.CoverageReleased"]:
            program.row["enrolled"] -= 1
            end = Month.parse(program.row["end_month"])
            for month in months_between(e["last_month"] + 1, end):
                program.active[str(month)] -= 1
        elif topic == t["Program.PremiumPaid"]:
            program.paid[str(e["month"])] += e["participants"]
            self.payments.append((position, oid, str(e["month"]), e["sp2d"], e["participants"],
                                  e["jkk"], e["jkm"], e["timestamp"].isoformat(), e["actor"]))

    def rows(self, versions: dict[str, int]) -> Rows:
        """Every table's final rows."""
        from jamsos_ledger.domain.model import MonthBooks
        from jamsos_ledger.domain.rules import Premium
        from jamsos_ledger.projections.budget import month_columns

        money = ("planned_jkk", "planned_jkm", "committed_jkk", "committed_jkm",
                 "paid_jkk", "paid_jkm", "overpaid_jkk", "overpaid_jkm")
        budget_programs, months = [], []
        for pid, p in self.programs.items():
            premium = Premium(p.row["jkk_monthly"], p.row["jkm_monthly"])
            totals = dict.fromkeys(money, 0)
            for month, active in p.active.items():
                figures_ = month_columns(MonthBooks.of(active, p.paid[month], premium))
                for key, value in figures_.items():
                    totals[key] += value
                months.append((pid, month, active, p.paid[month], *figures_.values()))
            budget_programs.append((*p.row.values(), *totals.values()))
        program_columns = (*next(iter(self.programs.values())).row, *money) if self.programs else ()
        registered: Counter[tuple[Any, ...]] = Counter()
        for w in self.workers.values():
            registered[(w[0], w[2], w[3])] += 1
        enrolled: Counter[tuple[Any, ...]] = Counter()
        ended: Counter[tuple[Any, ...]] = Counter()
        for (pid, wid), en in self.enrolments.items():
            w = self.workers[wid]
            (ended if en[2] else enrolled)[(pid, w[0], w[2], w[3])] += 1
        return {
            "budget_programs": (program_columns, budget_programs),
            "budget_months": (("program_id", "month", "active", "paid_participants", *money),
                              months),
            "budget_payments": (("position", "program_id", "month", "sp2d", "participants",
                                 "jkk", "jkm", "recorded_at", "actor"), self.payments),
            "quota_programs": (("program_id", "code", "quota"),
                               [(pid, p.row["code"], p.row["quota"])
                                for pid, p in self.programs.items()]),
            "quota_workers": (("worker_id", "kecamatan", "kelurahan", "occupation", "decile",
                               "source", "registered_position", "ruleset", "rank", "tier"),
                              [(wid, *w[:9]) for wid, w in self.workers.items()]),
            "quota_enrolments": (("program_id", "worker_id", "start_month", "end_month",
                                  "ended_month", "end_reason", "decree"),
                                 [(*k, *en[:5]) for k, en in self.enrolments.items()]),
            "quota_registered": (("kecamatan", "occupation", "decile", "workers"),
                                 [(*g, n) for g, n in registered.items()]),
            "quota_enrolled": (("program_id", "kecamatan", "occupation", "decile", "enrolled",
                                "ended"),
                               [(*g, enrolled[g], ended[g]) for g in enrolled.keys() | ended]),
            "claims": (("reference", "program_id", "worker_id", "scheme", "incident_date",
                        "month", "recorded_at", "actor", "position"), self.claims),
            "priority_workers": (("worker_id", "decile", "since"),
                                 [(wid, w[3], w[9]) for wid, w in self.workers.items()]),
            "priority_enrolments": (("program_id", "worker_id", "position", "decile"),
                                    [(*k, en[5], en[6]) for k, en in self.enrolments.items()]),
            "claim_benefits": (("reference", "amount", "position"), list(self.benefits.values())),
            "jamsos_projection_position": (("name", "position", "version"),
                                           [(n, self.last, v) for n, v in versions.items()]),
        }


def _topics() -> dict[str, str]:
    from eventsourcing.utils import get_topic

    from jamsos_ledger.domain.model import Program, Worker

    names = {
        Worker: ("Registered", "Prioritized", "Enrolled", "CoverageEnded", "Corrected",
                 "ClaimFiled", "BenefitRecorded"),
        Program: ("Opened", "AllocationAmended", "QuotaAmended", "PremiumsCommitted",
                  "CoverageReleased", "PremiumPaid"),
    }
    return {f"{cls.__name__}.{name}": get_topic(getattr(cls, name))
            for cls, events in names.items() for name in events}


# --- timed: read, decode, fold, write -------------------------------------------------------


def _fold_and_write(ledger: Place, table: str, place: Place) -> tuple[float, int, int]:
    """One timed repetition: (seconds, events read, rows written)."""
    from jamsos_ledger.projections.views import all_projections

    topics = _topics()
    wanted = set(topics.values())
    versions = {p.name: p.version for p in all_projections()}
    decode = MsgpackTranscoder().decode
    fold = _Fold(topics)
    started = time.perf_counter()
    read = 0
    for position, originator_id, topic, state in all_rows(ledger, table):
        read += 1
        if topic in wanted:
            fold.add(position, str(originator_id), topic, decode(state))
    rows = fold.rows(versions)
    _write(place, rows)
    seconds = time.perf_counter() - started
    return seconds, read, sum(len(r) for _, r in rows.values())


def _write(place: Place, rows: Rows) -> None:
    """Every table's rows in one transaction: its existing rows (the positions) replaced."""
    if place.kind == "sqlite":
        conn = place.connect_sqlite()
        try:
            conn.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            conn.execute("BEGIN")
            for name, (columns, values) in rows.items():
                conn.execute(f"DELETE FROM {name}")
                conn.executemany(
                    f"INSERT INTO {name} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' * len(columns))})",
                    values,
                )
            conn.execute("COMMIT")
        finally:
            conn.close()
        return
    from psycopg import sql

    with place.connect_postgres() as conn:
        for name, (columns, values) in rows.items():
            target = sql.Identifier(place.schema, name)
            conn.execute(sql.SQL("DELETE FROM {}").format(target))
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                target, sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with conn.cursor() as cursor, cursor.copy(statement) as copy:
                for row in values:
                    copy.write_row(row)
        conn.commit()


# --- untimed: the tables, and the rows to compare -------------------------------------------


def _create_tables(ledger: Place, place: Place) -> None:
    """The projections' tables in the fresh place, made by the projections themselves."""
    from anchors import view_database

    from jamsos_ledger.application import Ledger
    from jamsos_ledger.projections.runner import Runner
    from jamsos_ledger.projections.views import all_projections

    source = Ledger(ledger.url, actor="bench")
    db = view_database(place)
    try:
        Runner(db, source.recorder, source.mapper, all_projections())
    finally:
        db.close()
        source.close()


def _tables() -> Iterable[str]:
    from jamsos_ledger.projections.runner import POSITIONS
    from jamsos_ledger.projections.views import all_projections

    yield POSITIONS
    for projection in all_projections():
        yield from projection.tables


def _row_counts(place: Place) -> dict[str, int]:
    """Rows of every projection table kept at this place."""
    if place.kind == "sqlite":
        conn = sqlite3.connect(place.path)
        try:
            return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in _tables()}
        finally:
            conn.close()
    from psycopg import sql

    with place.connect_postgres() as conn:
        return {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
                    sql.Identifier(place.schema, t))).fetchone()[0]
                for t in _tables()}


TASKS = {"raw-fold": raw_fold}
