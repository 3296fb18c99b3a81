"""Workers counted by kecamatan, occupation and decile, kept up as the events come.

`report quota` shows, per kecamatan, occupation or decile, how many workers are registered,
eligible, enrolled, ended and waiting. Counting them from the worker rows reads every worker
of the city for each report (hundreds of milliseconds at 200,000 workers); these counts are
a few hundred rows, changed by each batch of events in the same transaction as the quota
projection's rows (they are part of it, so they are rebuilt, replayed and compared with it).

A worker is counted under its current kecamatan, occupation and decile (a correction moves it
and its enrolments); the decile a Prioritized event carries is always the current one (the
domain records it from the worker), so a ranking moves nobody.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from jamsos_ledger.domainmodel import Worker
from jamsos_ledger.projections.database import ViewCursor, ViewDatabase, id_text

REGISTERED = "quota_registered"
ENROLLED = "quota_enrolled"
GROUPED = ("kecamatan", "occupation", "decile")

Group = tuple[str, str, int]  # kecamatan, occupation, decile
_LOOKUP = 500  # worker ids a query


def create_count_tables(cursor: ViewCursor, db: ViewDatabase) -> None:
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {db.table(REGISTERED)} ("
        "kecamatan TEXT NOT NULL, occupation TEXT NOT NULL, decile INTEGER NOT NULL, "
        "workers BIGINT NOT NULL, PRIMARY KEY (kecamatan, occupation, decile))"
    )
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {db.table(ENROLLED)} ("
        "program_id TEXT NOT NULL, kecamatan TEXT NOT NULL, occupation TEXT NOT NULL, "
        "decile INTEGER NOT NULL, enrolled BIGINT NOT NULL, ended BIGINT NOT NULL, "
        "PRIMARY KEY (program_id, kecamatan, occupation, decile))"
    )


class Counts:
    """How a batch of events changes the counts, as far as it is known without the database.

    A batch of registrations and rankings (nearly all of a city's log) is tallied here, before
    a write lock is taken; a batch that enrols, ends or moves workers needs their groups as
    stored, and is counted when written.
    """

    def __init__(self, registered: Counter[Group] | None, events: Sequence[tuple[int, Any]]):
        self.registered = registered  # None: counted when written
        self.events = events

    @classmethod
    def of(cls, events: Sequence[tuple[int, Any]]) -> Counts:
        registered: Counter[Group] = Counter()
        for _, e in events:
            if isinstance(e, Worker.Registered):
                registered[(e.kecamatan, e.occupation, e.decile)] += 1
            elif isinstance(e, _LOOKED_UP):
                return cls(None, events)
        return cls(registered, events)

    def write(self, cursor: ViewCursor, db: ViewDatabase, workers: str, enrolments: str) -> None:
        if self.registered is None:
            batch = _Batch(cursor, db, workers, enrolments, self.events)
            for _, e in self.events:
                batch.apply(e)
            batch.write()
        else:
            _write_registered(cursor, db, self.registered)


class _Batch:
    """The counts' changes of one batch, with what it knows of the workers it touches."""

    def __init__(
        self, cursor: ViewCursor, db: ViewDatabase, workers: str, enrolments: str,
        events: Sequence[tuple[int, Any]],
    ) -> None:
        self.cursor, self.db, self.enrolments = cursor, db, enrolments
        self.registered: Counter[Group] = Counter()
        self.enrolled: Counter[tuple[str, Group]] = Counter()
        self.ended: Counter[tuple[str, Group]] = Counter()
        # The group of each worker the batch touches, and its enrolments changed here.
        self.groups: dict[str, Group] = self._stored_groups(workers, _touched(events))
        self.states: dict[tuple[str, str], str] = {}

    def _stored_groups(self, workers: str, ids: list[str]) -> dict[str, Group]:
        found: dict[str, Group] = {}
        for i in range(0, len(ids), _LOOKUP):
            chunk = ids[i : i + _LOOKUP]
            self.cursor.execute(
                f"SELECT worker_id, kecamatan, occupation, decile FROM {workers} "
                f"WHERE worker_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            for wid, kecamatan, occupation, decile in self.cursor.fetchall():
                found[wid] = (kecamatan, occupation, int(decile))
        return found

    def apply(self, e: Any) -> None:
        if isinstance(e, Worker.Registered):
            group = (e.kecamatan, e.occupation, e.decile)
            self.groups[id_text(e.originator_id)] = group
            self.registered[group] += 1
        elif isinstance(e, Worker.Prioritized):
            return  # the most common event after a registration, and it moves nobody
        elif isinstance(e, Worker.Enrolled):
            wid = id_text(e.originator_id)
            self.enrolled[(id_text(e.program_id), self.groups[wid])] += 1
            self.states[(id_text(e.program_id), wid)] = "enrolled"
        elif isinstance(e, Worker.CoverageEnded):
            wid = id_text(e.originator_id)
            key = (id_text(e.program_id), self.groups[wid])
            self.enrolled[key] -= 1
            self.ended[key] += 1
            self.states[(id_text(e.program_id), wid)] = "ended"
        elif isinstance(e, Worker.Corrected) and e.field in GROUPED:
            self._move(id_text(e.originator_id), e.field, e.value)

    def _move(self, wid: str, field: str, value: Any) -> None:
        """A correction of a grouping field: the worker and its enrolments change group."""
        old = self.groups[wid]
        kecamatan, occupation, decile = old
        if field == "kecamatan":
            kecamatan = str(value)
        elif field == "occupation":
            occupation = str(value)
        else:
            decile = int(value)
        new = (kecamatan, occupation, decile)
        self.groups[wid] = new
        self.registered[old] -= 1
        self.registered[new] += 1
        for program_id, state in self._enrolments_of(wid):
            counter = self.enrolled if state == "enrolled" else self.ended
            counter[(program_id, old)] -= 1
            counter[(program_id, new)] += 1

    def _enrolments_of(self, wid: str) -> Iterable[tuple[str, str]]:
        self.cursor.execute(
            f"SELECT program_id, ended_month FROM {self.enrolments} WHERE worker_id = ?", (wid,)
        )
        states = {
            (pid, wid): "ended" if ended else "enrolled" for pid, ended in self.cursor.fetchall()
        }
        states.update({k: v for k, v in self.states.items() if k[1] == wid})
        return [(pid, state) for (pid, _), state in states.items()]

    def write(self) -> None:
        _write_registered(self.cursor, self.db, self.registered)
        enrolled = self.db.table(ENROLLED)
        keys = set(self.enrolled) | set(self.ended)
        rows = [
            (pid, *group, self.enrolled[(pid, group)], self.ended[(pid, group)])
            for pid, group in keys
            if self.enrolled[(pid, group)] or self.ended[(pid, group)]
        ]
        if rows:
            self.cursor.executemany(
                f"INSERT INTO {enrolled} (program_id, kecamatan, occupation, decile, enrolled, "
                "ended) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (program_id, kecamatan, occupation, decile) DO UPDATE SET "
                f"enrolled = {enrolled}.enrolled + excluded.enrolled, "
                f"ended = {enrolled}.ended + excluded.ended",
                rows,
            )


def _write_registered(cursor: ViewCursor, db: ViewDatabase, changes: Counter[Group]) -> None:
    registered = db.table(REGISTERED)
    counts = [(*group, n) for group, n in changes.items() if n]
    if counts:
        cursor.executemany(
            f"INSERT INTO {registered} (kecamatan, occupation, decile, workers) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (kecamatan, occupation, decile) "
            f"DO UPDATE SET workers = {registered}.workers + excluded.workers",
            counts,
        )


def _touched(events: Sequence[tuple[int, Any]]) -> list[str]:
    """Workers whose group a batch needs and does not register itself."""
    needed = {id_text(e.originator_id) for _, e in events if isinstance(e, _LOOKED_UP)}
    if not needed:
        return []  # a batch of registrations and rankings, as most of a city's log
    registered = {id_text(e.originator_id) for _, e in events if isinstance(e, Worker.Registered)}
    return sorted(needed - registered)


# Events that need the group of a worker registered before the batch.
_LOOKED_UP = (Worker.Enrolled, Worker.CoverageEnded, Worker.Corrected)


def group_rows(views: Any, program_id: str, by: str) -> list[dict[str, Any]]:
    """Registered, enrolled, ended and never-enrolled workers per (group, decile), from the
    counts: what reading every worker row would give."""
    if by not in GROUPED:
        raise ValueError(f"group by one of {', '.join(GROUPED)}, not {by!r}")
    rows: dict[tuple[Any, int], dict[str, Any]] = {}
    for r in views.query(
        f"SELECT {by} AS grp, decile, SUM(workers) AS registered "
        f"FROM {views.db.table(REGISTERED)} GROUP BY {by}, decile"
    ):
        rows[(r["grp"], int(r["decile"]))] = {
            "grp": r["grp"], "decile": int(r["decile"]), "registered": int(r["registered"]),
            "enrolled": 0, "ended": 0,
        }
    for r in views.query(
        f"SELECT {by} AS grp, decile, SUM(enrolled) AS enrolled, SUM(ended) AS ended "
        f"FROM {views.db.table(ENROLLED)} WHERE program_id = ? GROUP BY {by}, decile",
        (program_id,),
    ):
        row = rows[(r["grp"], int(r["decile"]))]
        row["enrolled"], row["ended"] = int(r["enrolled"]), int(r["ended"])
    for row in rows.values():
        row["never"] = row["registered"] - row["enrolled"] - row["ended"]
    return [row for row in rows.values() if row["registered"]]
