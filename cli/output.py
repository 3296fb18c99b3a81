"""Rendering for people (box-drawn tables, rupiah with dots) and scripts (CSV, JSON, integers)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jamsos_ledger.cli.errors import recorded_so_far
from jamsos_ledger.cli.tables import table_lines
from jamsos_ledger.domain.money import count, rupiah
from jamsos_ledger.domain.months import JAKARTA


@dataclass(frozen=True)
class Column:
    """One column of a report.

    Attributes:
        key: the key in each row, in CSV headers and in JSON.
        title: the heading in tables.
        kind: `text`, `count` (9.920) or `money` (Rp 1.999.872.000) in tables.
    """

    key: str
    title: str
    kind: str = "text"


def plain(value: Any) -> Any:
    """A value as scripts get it: integers stay integers (PostgreSQL sums come as Decimal)."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def human(value: Any, kind: str) -> str:
    """A value as people read it in a table."""
    if value is None:
        return "-"
    if kind == "money":
        return rupiah(int(value))
    if kind == "count":
        return count(int(value))
    return str(value)


def wib(moment: datetime | str) -> str:
    """A moment as people read it, in every table: the city's time (WIB), to the second.
    Scripts get the stored ISO 8601 text (UTC, microseconds) in CSV and JSON."""
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return when.astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M:%S")


def console(*, stderr: bool = False) -> Console:
    """A console on the stream click writes to (so tests capture it), wide enough for tables."""
    stream = sys.stderr if stderr else sys.stdout  # CliRunner swaps these, so tests see it
    terminal = stream.isatty()
    width = shutil.get_terminal_size((120, 24)).columns if terminal else 160
    return Console(file=stream, width=width, force_terminal=terminal, no_color=not terminal,
                   highlight=False)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(plain(data), indent=2, ensure_ascii=False))


def echo_csv(
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    summary: Mapping[str, Any] | None = None,
) -> None:
    """Rows as CSV, one a line under a header of the columns' keys.

    `summary`, the report's own figures and its position, comes as the last columns, the same
    value on every row: the rows and the columns before them stay as they were, so a script
    reading a column by its name or its place reads what it always read.
    """
    extra = dict(summary or {})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.key for c in columns] + list(extra))
    tail = ["" if v is None else plain(v) for v in extra.values()]
    for row in rows:
        writer.writerow(
            ["" if row.get(c.key) is None else plain(row.get(c.key)) for c in columns] + tail
        )
    click.echo(buffer.getvalue(), nl=False)


def echo_table(
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    *,
    totals: Mapping[str, Any] | None = None,
    title: str | None = None,
    caption: str | None = None,
) -> None:
    """Rows as a table for people; `totals`, if given, a last row set apart (its missing
    keys left blank)."""
    last = None
    if totals is not None:
        last = [human(totals.get(c.key), c.kind) if c.key in totals else "" for c in columns]
    lines = table_lines(
        [c.title for c in columns],
        [[human(row.get(c.key), c.kind) for c in columns] for row in rows],
        right=[c.kind != "text" for c in columns],
        totals=last,
        title=title,
        caption=caption,
        bold=sys.stdout.isatty(),
        width=terminal_width(),
    )
    click.echo("\n".join(lines))


def echo_fields(fields: Sequence[tuple[str, str]], *, title: str | None = None) -> None:
    """A two-column table of names and values, the names in bold on a terminal."""
    lines = table_lines(None, [[name, value] for name, value in fields], right=[False, False],
                        title=title, bold=sys.stdout.isatty(), width=terminal_width())
    click.echo("\n".join(lines))


def terminal_width() -> int | None:
    """The columns of the terminal standard output is, to fit tables to; None when it is a
    pipe or a file (their lines are never wrapped). `COLUMNS` overrides the window's size."""
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size((80, 24)).columns


def render(
    fmt: str,
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    *,
    data: Any = None,
    summary: Mapping[str, Any] | None = None,
    title: str | None = None,
    caption: str | None = None,
) -> None:
    """Rows as a table, CSV or JSON (`data` when JSON should be more than the rows;
    `summary` the figures and position CSV adds as its last columns)."""
    if fmt == "json":
        echo_json(rows if data is None else data)
    elif fmt == "csv":
        echo_csv(columns, rows, summary)
    else:
        echo_table(columns, rows, title=title, caption=caption)


def echo_recorded(message: str) -> None:
    """Say what the command just committed to the ledger.

    Called right after the commit, before anything else is printed: should the standard output
    (or a file written afterwards) fail, the error message repeats it as "recorded: ...; but
    ...", so a user never reads "nothing was written" of work that is in the ledger.
    """
    recorded_so_far().append(message)
    click.echo(message)


def warn(message: str) -> None:
    """A warning on stderr: it never mixes into output that scripts parse."""
    click.echo(f"Warning: {message}", err=True)


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


class Advance(Protocol):
    """Told how far a long piece of work went since it was last told, and, once known, how
    much work there is in all."""

    def __call__(self, done: int, total: int | None = None) -> None: ...


@contextmanager
def progress_bar(total: int | None, description: str) -> Iterator[Advance]:
    """A progress bar on stderr when it is a terminal; otherwise nothing is drawn, so what
    scripts and logs read stays as it was. `total` None until the work says it."""
    err = console(stderr=True)
    if not err.is_terminal:
        yield lambda _done, _total=None: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)

        def advance(done: int, total: int | None = None) -> None:
            if total is not None:
                bar.update(task, total=total)
            bar.advance(task, done)

        yield advance
