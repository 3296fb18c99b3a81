"""The outside registers' files: Dukcapil's deaths and DTSEN's deciles, read and checked.

Each is read by `office_files` (CSV with commas or semicolons, UTF-8 or Windows-1252, or a
workbook's first sheet), and each is refused whole, nothing recorded, when any of its lines
is wrong: every bad line is named with its column and why. Whether a NIK is known to the
ledger, or a death falls in a coverage, is not the file's form: the commands report those.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.money import count, counted
from jamsos_ledger.domain.months import date_problem, today_in_jakarta
from jamsos_ledger.domain.nik import nik_problems
from jamsos_ledger.domain.rules import DECILES
from jamsos_ledger.files.office_files import FileColumn, FileKind, Problem, Table, read_table

T = TypeVar("T")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

NIK_COLUMN = FileColumn("nik", "NIK", "the worker's NIK, 16 digits (a Text cell in a workbook)",
                        "3275014506850001")
NAME_COLUMN = FileColumn("name", "Nama", "the name, for the people reading the file; the ledger "
                         "goes by the NIK", "Siti Rahmawati", required=False)

DEATHS = FileKind("deaths", (
    NIK_COLUMN,
    FileColumn("date_of_death", "Tanggal Meninggal", "YYYY-MM-DD (or a date cell), not in the "
               "future", "2026-03-14"),
    NAME_COLUMN,
))
DECILES_FILE = FileKind("deciles", (
    NIK_COLUMN,
    FileColumn("decile", "Desil", "the DTSEN decile of the release, 1 (poorest) to 10", "2"),
    NAME_COLUMN,
))


@dataclass(frozen=True, slots=True)
class Death:
    """A line of Dukcapil's extract: who died, when."""

    line: int
    nik: str
    died: date


@dataclass(frozen=True, slots=True)
class DecileLine:
    """A line of a DTSEN release: a worker's decile."""

    line: int
    nik: str
    decile: int


def read_deaths(path: str | Path, *, today: date | None = None) -> list[Death]:
    """The deaths of the file, in its order. InvalidInput naming every bad line, when any."""
    on = today or today_in_jakarta()

    def parse(line: int, row: dict[str, str], problems: list[Problem]) -> Death | None:
        text = row["date_of_death"]
        died = _date(text)
        if died is None:
            problems.append(Problem(line, "date_of_death", f"not a date YYYY-MM-DD: {text!r}"))
            return None
        outside = date_problem(died)
        if outside:
            problems.append(Problem(line, "date_of_death", outside))
            return None
        if died > on:
            problems.append(Problem(line, "date_of_death",
                                    f"{died.isoformat()} has not come yet (today is {on})"))
            return None
        return Death(line, row["nik"], died)

    return read_rows(path, DEATHS, parse, what="death")


def read_deciles(path: str | Path) -> list[DecileLine]:
    """The deciles of the file, in its order. InvalidInput naming every bad line, when any."""

    def parse(line: int, row: dict[str, str], problems: list[Problem]) -> DecileLine | None:
        text = row["decile"]
        if not (text.isascii() and text.isdigit() and int(text) in DECILES):
            problems.append(Problem(line, "decile",
                                    f"DTSEN decile must be a whole number 1-10, not {text!r}"))
            return None
        return DecileLine(line, row["nik"], int(text))

    return read_rows(path, DECILES_FILE, parse, what="decile")


def read_rows(
    path: str | Path,
    kind: FileKind,
    parse: Callable[[int, dict[str, str], list[Problem]], T | None],
    *,
    what: str,
) -> list[T]:
    """Every row of a file of that kind (one with a `nik` column) typed by `parse`, or
    InvalidInput naming every bad line of the file: its form (`office_files`), its NIK's
    form, a NIK twice, and whatever `parse` adds to the problems it is given (returning None
    for a row it cannot type). `what` names one row's content in the refusal ("death").

    The reader of any file of NIKs with values (a BPJS invoice as well) is this with its
    own kind and `parse`."""
    table = read_table(path, kind)
    problems = [p for line in sorted(table.problems) for p in table.problems[line]]
    first: dict[str, int] = {}
    found: list[T] = []
    for line, row in table.records():
        row_problems: list[Problem] = []
        nik = row["nik"]
        row_problems += [Problem(line, "nik", why) for why in nik_problems(nik, None, None)]
        earlier = first.setdefault(nik, line)
        if earlier != line:
            row_problems.append(Problem(line, "nik",
                                        f"the same NIK is already on line {earlier} of this file"))
        value = parse(line, row, row_problems)
        if row_problems:
            problems += row_problems
        elif value is not None:
            found.append(value)
    if problems:
        raise InvalidInput(_refusal(table, problems, what))
    return found


def _refusal(table: Table, problems: Iterable[Problem], what: str) -> str:
    problems = sorted(problems, key=lambda p: p.line)
    bad = len({p.line for p in problems})
    rows = len(table.rows)
    lines = [
        f"{table.name}: {count(bad)} of {counted(rows, 'row')} "
        f"{'is' if bad == 1 else 'are'} malformed; nothing was recorded:"
    ]
    lines += [f"  {table.name}: {p}" for p in problems]
    lines.append(f"Correct these rows and give the file again: no {what} of it was recorded.")
    return "\n".join(lines)


def _date(text: str) -> date | None:
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


__all__ = ["DEATHS", "DECILES_FILE", "Death", "DecileLine", "read_deaths", "read_deciles",
           "read_rows"]
