"""A replay: every report re-derived from the events alone and compared, for auditors.

The live projection tables are compared with projections rebuilt from the log (every report,
and every table whole), and the rebuilt budget and quota with each program's own books, which
are derived from the program's events by the domain and not by any projection; and, since both
derivations follow whatever the events say, it re-applies the program's rules to every event in
log order (`history_rules`). The log is read in pages throughout: memory stays bounded whatever
its length.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from hashlib import sha256
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from jamsos_ledger.application import Ledger
from jamsos_ledger.application.as_of import (
    log_head,
    program_as_of,
    programs_opened,
    rebuilt,
)
from jamsos_ledger.application.history_rules import RULES, HistoryCheck, check_history
from jamsos_ledger.domain.errors import RuleViolation
from jamsos_ledger.domain.model import Program
from jamsos_ledger.domain.months import months_between
from jamsos_ledger.projections.budget import month_columns
from jamsos_ledger.projections.database import ViewDatabase
from jamsos_ledger.projections.reporting import quota_groups
from jamsos_ledger.projections.views import GROUPINGS, Views
from jamsos_ledger.stores.integrity import Digest

T = TypeVar("T")

# How often a replay starts its comparison again when commands wrote to the ledger meanwhile.
REPLAY_ATTEMPTS = 3
# Rows read at once when a projection table is compared whole.
PAGE_ROWS = 1_000

CHECKS = {
    "projections": "the live projection tables against the same projections replayed from "
    "the events alone",
    "books": "the replayed budget and quota against each program's own books, rebuilt from "
    "the program's events by the domain",
    "rules": "every event re-applied in log order through the program's rules, checked at "
    "every position (history_rules.RULES)",
}


@dataclass(frozen=True)
class Difference:
    """One figure on which two derivations disagree.

    Attributes:
        check: `projections` (expected: replayed from the events; found: the live tables) or
            `books` (expected: the program's own books; found: the replayed projections).
        report: the report query, e.g. `budget`, `quota by kecamatan`.
        key: which row: a program code, `CODE YYYY-MM`, a claim reference...
        field: the column; `(row)` when a whole row is missing or extra.
        expected, found: the two values.
    """

    check: str
    report: str
    key: str
    field: str
    expected: Any
    found: Any


@dataclass(frozen=True)
class Compared:
    """How much of one report a check compared.

    Attributes:
        check: `projections` or `books`.
        report: the report query.
        rows: rows (or programs) compared.
        figures: single values compared.
    """

    check: str
    report: str
    rows: int
    figures: int


@dataclass(frozen=True)
class ReplayReport:
    """What a replay compared and every difference it found.

    Attributes:
        when: the moment replayed, or None for the whole log compared with the projections.
        position: the last log position read.
        events: events read from the log.
        programs: programs open at that moment.
        compared: per check and report, how many rows and figures were compared.
        differences: every disagreement; none when the ledger is sound.
        history: the program's rules re-applied to every event in log order (`rules`).
    """

    when: datetime | None
    position: int
    events: int
    programs: int
    compared: list[Compared]
    differences: list[Difference]
    history: HistoryCheck = field(default_factory=HistoryCheck)

    @property
    def ok(self) -> bool:
        return not self.differences and self.history.ok

    @property
    def figures(self) -> int:
        return sum(c.figures for c in self.compared)


class _Comparison:
    """Compares rows field by field for one check, counting what it compared."""

    def __init__(self, check: str) -> None:
        self.check = check
        self.counts: dict[str, list[int]] = {}
        self.differences: list[Difference] = []

    def row(
        self,
        report: str,
        key: str,
        expected: Mapping[str, Any] | None,
        found: Mapping[str, Any] | None,
        fields: Sequence[str] = (),
    ) -> None:
        counts = self.counts.setdefault(report, [0, 0])
        counts[0] += 1
        if expected is None or found is None:
            if expected is not None or found is not None:
                self.differences.append(Difference(
                    self.check, report, key, "(row)",
                    "present" if expected is not None else "absent",
                    "present" if found is not None else "missing",
                ))
            return
        for name in fields or sorted(set(expected) | set(found)):
            counts[1] += 1
            want, got = _plain(expected.get(name)), _plain(found.get(name))
            if want != got:
                self.differences.append(Difference(self.check, report, key, name, want, got))

    def table(
        self,
        report: str,
        key: Callable[[Mapping[str, Any]], str],
        expected: Sequence[Mapping[str, Any]],
        found: Sequence[Mapping[str, Any]],
    ) -> None:
        want = {key(r): r for r in expected}
        got = {key(r): r for r in found}
        self.counts.setdefault(report, [0, 0])
        for k in [*want, *(k for k in got if k not in want)]:
            self.row(report, k, want.get(k), got.get(k))

    def compared(self) -> list[Compared]:
        return [Compared(self.check, r, n, figures) for r, (n, figures) in self.counts.items()]


def replay(
    ledger: Ledger, when: datetime | None = None, progress: Callable[[int], None] | None = None
) -> ReplayReport:
    """Re-derive every figure of every report from the events alone and compare, and
    re-apply the program's rules to every event in log order (`history_rules`).

    Without `when`: every report query of projections rebuilt from the whole log against the
    live projections, and the rebuilt budget and quota against each program's own books. With
    `when`: the projections as of then against the programs' books as of then. `progress`, if
    given, is told how many events each page of the rebuild read.
    """
    history = check_history(ledger, until=when)
    try:
        views, events = rebuilt(ledger, when, progress)
    except Exception as e:
        if history.ok:
            raise
        # A history that breaks the rules may hold what no projection can (a worker enrolled
        # twice in one program): the breaches are the finding, the rebuild's failure a symptom.
        failed = Difference("projections", "(every report)", "-", "(rebuild)", "rebuilt",
                            f"failed: {type(e).__name__}: {e}")
        return ReplayReport(when=when, position=history.position, events=history.events,
                            programs=0, compared=[], differences=[failed], history=history)
    try:
        for _ in range(REPLAY_ATTEMPTS):
            head = log_head(ledger)
            events += views.catch_up()
            projections = _Comparison("projections")
            if when is None:
                _compare_views(projections, expected=views, found=ledger.views)
            books = _Comparison("books")
            programs = 0
            for pid, _code in programs_opened(ledger, when):
                program = program_as_of(ledger, pid, when)
                assert program is not None
                _check_books(books, program, views)
                programs += 1
            if when is not None or log_head(ledger) == head:
                return ReplayReport(
                    when=when,
                    position=head,
                    events=events,
                    programs=programs,
                    compared=projections.compared() + books.compared(),
                    differences=projections.differences + books.differences,
                    history=history,
                )
    finally:
        views.close()
    raise RuleViolation(
        f"commands wrote to the ledger while it was replayed, {REPLAY_ATTEMPTS} times: run "
        "`audit replay` again when no command is writing, or replay --as-of a past moment"
    )


def _compare_views(cmp: _Comparison, *, expected: Views, found: Views) -> None:
    """Every report query of the live projections against the replayed ones."""
    want = expected.programs()
    got = found.programs()
    cmp.table("programs", lambda r: str(r["code"]), want, got)
    codes = {r["program_id"]: str(r["code"]) for r in [*got, *want]}
    for pid_text, code in codes.items():
        pid = UUID(pid_text)
        cmp.row("budget", code, _maybe(expected.budget, pid), _maybe(found.budget, pid))
        cmp.table("budget_months", _key(code, "{month}"),
                  expected.budget_months(pid), found.budget_months(pid))
        cmp.table("payments", _key(code, "SP2D {sp2d}"),
                  expected.payments(pid), found.payments(pid))
        cmp.row("quota", code, _maybe(expected.quota, pid), _maybe(found.quota, pid))
        for by in GROUPINGS:
            cmp.table(f"quota by {by}", _key(code, f"{by}={{{by}}}"),
                      _groups(expected, pid, by), _groups(found, pid, by))
    cmp.table("claims", lambda r: str(r["reference"]), expected.claims(), found.claims())
    # Beyond the reports: every table of every projection, whole, so that no read model
    # (nor a column no report shows yet) escapes the comparison.
    tables = [t for p in expected.runner.projections.values() for t in p.tables]
    matched = _matched_in_sqlite(expected.db, found.db, tables)
    for table in tables:
        if table in matched:
            same = {"rows": matched[table], "digest": MATCHED}
            cmp.row(f"table {table}", "rows and contents", same, same)
        else:
            cmp.row(
                f"table {table}",
                "rows and contents",
                _table_fingerprint(expected, table),
                _table_fingerprint(found, table),
            )


# The digest of a table found equal to its replay row by row: no digest needs computing.
MATCHED = "(matched row by row)"


def _matched_in_sqlite(
    replayed: ViewDatabase, live: ViewDatabase, tables: Sequence[str]
) -> dict[str, int]:
    """Tables holding the same rows in both databases, with their row counts, found by SQLite
    itself when both are SQLite: {} otherwise (each is then compared by its digests).

    Both tables are built in log order, so each row has the same rowid in both: a join on the
    rowid, every column compared with `IS`, pairs the rows in one pass, where reading and
    hashing every row in Python costs ten times more. A table whose rows do not all pair (a
    difference, or rows written in another order) is left to the digests, which say which.
    """
    live_file, replayed_file = live.sqlite_file, replayed.sqlite_file
    if live_file is None or replayed_file is None:
        return {}
    matched = {}
    connection = sqlite3.connect(_read_only(live_file), uri=True)
    try:
        connection.execute("ATTACH DATABASE ? AS replayed", (_read_only(replayed_file),))
        connection.execute("BEGIN")  # one moment of the live tables for all of them
        for table in tables:
            try:
                rows = _paired_rows(connection, table)
            except sqlite3.Error:
                continue  # not of the same shape: the digests say what differs
            if rows is not None:
                matched[table] = rows
    finally:
        connection.close()
    return matched


def _paired_rows(connection: sqlite3.Connection, table: str) -> int | None:
    """How many rows the live table and its replay hold, when they pair one for one by rowid
    with equal columns; None when they do not."""
    name = _quoted(table)
    columns = [row[1] for row in connection.execute(f"PRAGMA replayed.table_info({name})")]
    live_columns = [row[1] for row in connection.execute(f"PRAGMA main.table_info({name})")]
    if not columns or columns != live_columns:
        return None
    (count,) = connection.execute(f"SELECT count(*) FROM replayed.{name}").fetchone()
    (live_count,) = connection.execute(f"SELECT count(*) FROM main.{name}").fetchone()
    if count != live_count:
        return None
    equal = " AND ".join(f"a.{_quoted(c)} IS b.{_quoted(c)}" for c in columns)
    (paired,) = connection.execute(
        f"SELECT count(*) FROM main.{name} a JOIN replayed.{name} b ON b.rowid = a.rowid "
        f"WHERE {equal}"
    ).fetchone()
    return int(count) if paired == count else None


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _read_only(name: str) -> str:
    """A URI opening an SQLite database read-only: a file's, or a shared in-memory one's as
    it is (it is opened by this process already)."""
    if name.startswith("file:"):
        return name
    return f"{Path(name).resolve().as_uri()}?mode=ro"


def _table_fingerprint(views: Views, table: str) -> dict[str, Any]:
    """A table's row count and an order-free digest of its rows, read in pages.

    The digest sums a hash of each row, so two tables agree exactly when they hold the same
    rows, whatever their order, and memory stays bounded however long the table.
    """
    rows, digest = 0, 0
    # SQLite gives back only int, float, str, bytes and None: its rows are hashed as they
    # come; PostgreSQL's values are made alike first (a boolean as 0/1, a numeric as int).
    plain = _plain_row if views.db.postgres else None
    from_bytes = int.from_bytes
    for page in views.db.scan(f"SELECT * FROM {views.db.table(table)}", PAGE_ROWS):
        for row in page:
            text = repr(plain(row) if plain else row)
            digest += from_bytes(sha256(text.encode()).digest()[:8], "big")
        rows += len(page)
    return {"rows": rows, "digest": f"{digest % 2**64:016x}"}


def _plain_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(int(v) if isinstance(v, bool) else _plain(v) for v in row)


def _check_books(cmp: _Comparison, program: Program, views: Views) -> None:
    """A program's books, rebuilt from its own events, against the replayed projections."""
    code, premium = program.code, program.premium
    planned = premium.times(sum(program.active))
    budget = {
        "allocation": program.allocation,
        "quota": program.quota,
        "enrolled": program.enrolled,
        "planned_jkk": planned.jkk,
        "planned_jkm": planned.jkm,
        "committed_jkk": program.committed.jkk,
        "committed_jkm": program.committed.jkm,
        "paid_jkk": program.paid_total.jkk,
        "paid_jkm": program.paid_total.jkm,
        "overpaid_jkk": program.overpaid.jkk,
        "overpaid_jkm": program.overpaid.jkm,
        "available": program.available,
    }
    cmp.row("budget", code, budget, _maybe(views.budget, program.id), list(budget))
    found_months = {str(r["month"]): r for r in views.budget_months(program.id)}
    for month in months_between(program.start, program.end):
        books = program.month_books(month)
        expected = {
            "active": books.active,
            "paid_participants": books.paid_participants,
            **month_columns(books),
        }
        cmp.row("budget_months", f"{code} {month}", expected,
                found_months.pop(str(month), None), list(expected))
    for month_text, extra in found_months.items():
        cmp.row("budget_months", f"{code} {month_text}", None, extra)
    cmp.table(
        "payments",
        _key(code, "SP2D {sp2d}"),
        [{"sp2d": sp2d, "month": str(month)} for month in program.payment_months()
         for sp2d in program.live_payments(month)],
        [{"sp2d": r["sp2d"], "month": r["month"]} for r in views.payments(program.id)],
    )
    quota = {"quota": program.quota, "enrolled": program.enrolled,
             "available": program.places_left}
    cmp.row("quota", code, quota, _maybe(views.quota, program.id), list(quota))
    for by in GROUPINGS:
        # Places held per group come from the workers' events; the program counts its own.
        held = sum(r["enrolled"] for r in quota_groups(views, program.id, by))
        cmp.row(f"quota by {by}", f"{code} (all groups)", {"enrolled": program.enrolled},
                {"enrolled": held}, ["enrolled"])


def _groups(views: Views, program_id: UUID, by: str) -> list[dict[str, Any]]:
    """`report quota --by`'s rows, as the report shows them; none when the program's row is
    missing (that difference is the budget's and the quota's to tell)."""
    return _maybe(lambda pid: quota_groups(views, pid, by), program_id) or []


def _key(code: str, pattern: str) -> Callable[[Mapping[str, Any]], str]:
    """How a row of a program's report is named in a difference: `CODE` and the pattern
    filled from the row, e.g. `2026 2026-03`, `2026 SP2D SP2D/01`."""
    return lambda row: f"{code} {pattern.format_map(row)}"


def _maybe(query: Callable[[UUID], T], program_id: UUID) -> T | None:
    """A one-row report query, or None when its row is missing."""
    try:
        return query(program_id)
    except LookupError:
        return None


def _plain(value: Any) -> Any:
    """Values as compared: PostgreSQL sums come as Decimal, SQLite's as int."""
    if isinstance(value, Decimal):
        return int(value)
    return value


def replay_json(report: ReplayReport, digest: Digest | None) -> dict[str, Any]:
    """A replay as scripts read it: `jamsos audit replay --format json` and the service's
    `/api/v1/audit/replay` give this one object (`digest`: the chain's at its position)."""
    return {
        "ok": report.ok,
        "as_of": None if report.when is None else report.when.isoformat(),
        "position": report.position,
        "digest": None if digest is None else str(digest),
        "events": report.events,
        "programs": report.programs,
        "figures": report.figures,
        "checks": CHECKS,
        "compared": [vars(c) for c in report.compared],
        "differences": [vars(d) for d in report.differences],
        "rules": RULES,
        "rule_events": report.history.events,
        "breaches_total": report.history.total,
        "breaches": [b.as_dict() for b in report.history.breaches],
    }
