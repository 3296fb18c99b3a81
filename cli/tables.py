"""Box-drawn text tables, written directly: a report's figures in a few milliseconds.

The reports used `rich` tables, whose measuring and wrapping of every cell took over a hundred
milliseconds for a month-by-month budget and most of a second for a few hundred claims: more
than computing the figures (issue 4 wants a report in under 50 ms). These tables look the
same: a heavy header, light rules, a ruled section for totals, the title above and the caption
below, left-aligned; cells are never wrapped (a terminal narrower than the table wraps lines).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import click
from rich.cells import cell_len


@dataclass(frozen=True)
class Box:
    """The characters of one kind of rule: left, fill, junction, right."""

    left: str
    fill: str
    junction: str
    right: str

    def rule(self, widths: Sequence[int]) -> str:
        return self.left + self.junction.join(self.fill * (w + 2) for w in widths) + self.right


HEAVY_TOP = Box("┏", "━", "┳", "┓")
HEAVY_UNDER_HEADER = Box("┡", "━", "╇", "┩")
LIGHT_TOP = Box("┌", "─", "┬", "┐")
LIGHT_SECTION = Box("├", "─", "┼", "┤")
LIGHT_BOTTOM = Box("└", "─", "┴", "┘")


def _line(cells: Sequence[str], widths: Sequence[int], right: Sequence[bool], bar: str) -> str:
    padded = (
        " " * (w - cell_len(c)) + c if r else c + " " * (w - cell_len(c))
        for c, w, r in zip(cells, widths, right, strict=True)
    )
    return f"{bar} " + f" {bar} ".join(padded) + f" {bar}"


def table_lines(
    headers: Sequence[str] | None,
    rows: Sequence[Sequence[str]],
    *,
    right: Sequence[bool],
    totals: Sequence[str] | None = None,
    title: str | None = None,
    caption: str | None = None,
    bold: bool = False,
) -> list[str]:
    """The lines of a table: `headers` None for a table of names and values, `right` for
    each column whether it is aligned right (figures), `totals` a last row set apart."""
    every = [*([headers] if headers else []), *rows, *([totals] if totals else [])]
    columns = len(right)
    widths = [max((cell_len(r[i]) for r in every), default=0) for i in range(columns)]
    if headers:
        top, bar_head = HEAVY_TOP, "┃"
    else:
        top, bar_head = LIGHT_TOP, "│"
    lines = [top.rule(widths)]
    if headers:
        head = _line(headers, widths, [False] * columns, bar_head)
        lines += [click.style(head, bold=True) if bold else head, HEAVY_UNDER_HEADER.rule(widths)]
    lines += [_line(r, widths, right, "│") for r in rows]
    if totals is not None:
        last = _line(totals, widths, right, "│")
        lines += [LIGHT_SECTION.rule(widths), click.style(last, bold=True) if bold else last]
    lines.append(LIGHT_BOTTOM.rule(widths))
    width = cell_len(lines[0])
    if title:
        lines.insert(0, title + " " * max(0, width - cell_len(title)))
    if caption:
        lines.append(caption + " " * max(0, width - cell_len(caption)))
    return lines
