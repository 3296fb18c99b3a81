"""Workers counted by kecamatan, occupation and decile, kept up as the events come.

`report quota` shows, per kecamatan, occupation or decile, how many workers are registered,
eligible, enrolled, ended and waiting. Counting them from the worker rows reads every worker
of the city for each report (hundreds of milliseconds at 200,000 workers); these counts are
a few hundred rows, changed by each batch of events in the same transaction as the quota
projection's rows (they are part of it, so they are rebuilt, replayed and compared with it).

A worker is counted under its current kecamatan, occupation and decile (a correction moves it
and its enrolments); the decile a Prioritized event carries is always the current one (the
domain records it from the worker), so a ranking moves nobody.

A group has a row while someone is counted in it, and no longer: the row of a group a
correction empties is deleted in the same transaction. The rows then depend on the counts
alone, not on how the events were cut into batches: the live tables, kept up a few events
at a time, hold the very rows a replay builds from the whole log at once (where a worker
moved out of a group within one batch nets to nothing and no row is written), and
`audit replay` compares the tables whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from jamsos_ledger.domain.model import Worker
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
        elif isinstance(e, Worker.EnrolmentAnnulled):
            wid = id_text(e.originator_id)
            self.enrolled[(id_text(e.program_id), self.groups[wid])] -= 1
            self.states[(id_text(e.program_id), wid)] = "annulled"
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
        return [(pid, state) for (pid, _), state in states.items() if state != "annulled"]

    def write(self) -> None:
        _write_registered(self.cursor, self.db, self.registered)
        keys = set(self.enrolled) | set(self.ended)
        _add_counts(
            self.cursor, self.db.table(ENROLLED), ("program_id", *GROUPED), ("enrolled", "ended"),
            [(pid, *group, self.enrolled[(pid, group)], self.ended[(pid, group)])
             for pid, group in keys],
        )


def _write_registered(cursor: ViewCursor, db: ViewDatabase, changes: Counter[Group]) -> None:
    _add_counts(
        cursor, db.table(REGISTERED), GROUPED, ("workers",),
        [(*group, n) for group, n in changes.items()],
    )


def _add_counts(
    cursor: ViewCursor,
    table: str,
    keys: tuple[str, ...],
    counts: tuple[str, ...],
    changes: Sequence[tuple[Any, ...]],
) -> None:
    """Add changes (each the key's values, then a change of each count) to a table of counts
    by group; a group whose counts all fall to zero loses its row (see the module's note)."""
    width = len(keys)
    rows = [row for row in changes if any(row[width:])]
    if not rows:
        return
    columns = ", ".join((*keys, *counts))
    cursor.executemany(
        f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(keys + counts))}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
        + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counts),
        rows,
    )
    # Only a decrease can empty a group: a correction moving someone out of it.
    emptied = [row[:width] for row in rows if any(change < 0 for change in row[width:])]
    cursor.executemany(
        f"DELETE FROM {table} WHERE "
        + " AND ".join([*(f"{k} = ?" for k in keys), *(f"{c} = 0" for c in counts)]),
        emptied,
    )


def _touched(events: Sequence[tuple[int, Any]]) -> list[str]:
    """Workers whose group a batch needs and does not register itself."""
    needed = {id_text(e.originator_id) for _, e in events if isinstance(e, _LOOKED_UP)}
    if not needed:
        return []  # a batch of registrations and rankings, as most of a city's log
    registered = {id_text(e.originator_id) for _, e in events if isinstance(e, Worker.Registered)}
    return sorted(needed - registered)


# Events that need the group of a worker registered before the batch.
_LOOKED_UP = (Worker.Enrolled, Worker.CoverageEnded, Worker.EnrolmentAnnulled, Worker.Corrected)


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
