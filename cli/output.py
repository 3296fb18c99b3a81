"""Rendering for people (box-drawn tables, rupiah with dots) and scripts (CSV, JSON, integers)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import click
from rich.console import Console

from jamsos_ledger.cli.errors import recorded_so_far
from jamsos_ledger.cli.tables import table_lines
from jamsos_ledger.money import count, rupiah


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


def console(*, stderr: bool = False) -> Console:
    """A console on the stream click writes to (so tests capture it), wide enough for tables."""
    stream = sys.stderr if stderr else sys.stdout  # CliRunner swaps these, so tests see it
    terminal = stream.isatty()
    width = shutil.get_terminal_size((120, 24)).columns if terminal else 160
    return Console(file=stream, width=width, force_terminal=terminal, no_color=not terminal,
                   highlight=False)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(plain(data), indent=2, ensure_ascii=False))


def echo_csv(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.key for c in columns])
    for row in rows:
        writer.writerow(["" if row.get(c.key) is None else plain(row.get(c.key)) for c in columns])
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
    )
    click.echo("\n".join(lines))


def echo_fields(fields: Sequence[tuple[str, str]], *, title: str | None = None) -> None:
    """A two-column table of names and values."""
    bold = sys.stdout.isatty()
    rows = [[click.style(name, bold=True) if bold else name, value] for name, value in fields]
    lines = table_lines(None, rows, right=[False, False], title=title)
    click.echo("\n".join(lines))


def render(
    fmt: str,
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    *,
    data: Any = None,
    title: str | None = None,
    caption: str | None = None,
) -> None:
    """Rows as a table, CSV or JSON (`data` when JSON should be more than the rows)."""
    if fmt == "json":
        echo_json(rows if data is None else data)
    elif fmt == "csv":
        echo_csv(columns, rows)
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
