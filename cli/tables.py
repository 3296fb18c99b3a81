"""Box-drawn text tables, written directly: a report's figures in a few milliseconds.

The reports used `rich` tables, whose measuring and wrapping of every cell took over a hundred
milliseconds for a month-by-month budget and most of a second for a few hundred claims: more
than computing the figures (issue 4 wants a report in under 50 ms). These tables look the
same: a heavy header, light rules, a ruled section for totals, the title above and the caption
below, left-aligned.

Widths are measured on the text people see: styles (bold) are added after measuring and
padding, since their escape codes take no room on a screen. Given the width of a terminal, a
table wider than it is fitted to it: the widest columns are narrowed first, their cells wrapped
at spaces (a word longer than its column is split), so every line of the table has the same
width and fits. Without a width (a pipe, a file) cells are never wrapped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import click
from rich.cells import cell_len

T = TypeVar("T")


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


def _split_word(word: str, width: int) -> list[str]:
    """A word too long for its column, cut into pieces of at most `width` cells."""
    pieces, current = [], ""
    for char in word:
        if current and cell_len(current + char) > width:
            pieces.append(current)
            current = ""
        current += char
    return [*pieces, current]


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` cells, broken at spaces where it can be."""
    if cell_len(text) <= width:
        return [text]
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        pieces = _split_word(word, width) if cell_len(word) > width else [word]
        for piece in pieces:
            candidate = f"{current} {piece}" if current else piece
            if cell_len(candidate) <= width:
                current = candidate
            else:
                lines.append(current)
                current = piece
    lines.append(current)
    return lines


def _longest_word(text: str) -> int:
    return max((cell_len(w) for w in text.split(" ")), default=0)


def _room(widths: Sequence[int]) -> int:
    """The width of a table whose columns hold `widths` cells: a bar and a space each side."""
    return sum(widths) + 3 * len(widths) + 1


def fit_widths(natural: Sequence[int], floor: Sequence[int], available: int) -> list[int]:
    """Column widths summing to at most `available` cells (when they can).

    The widest column is narrowed a cell at a time, first never below its floor (its longest
    word, a whole figure), then down to one cell.
    """
    widths = list(natural)
    for least in ([min(n, f) for n, f in zip(natural, floor, strict=True)], [1] * len(widths)):
        excess = sum(widths) - available
        while excess > 0:
            narrowable = [i for i, w in enumerate(widths) if w > least[i]]
            if not narrowable:
                break
            widest = max(narrowable, key=lambda i: widths[i])
            widths[widest] -= 1
            excess -= 1
        if excess <= 0:
            break
    return widths


def fold(floor: Sequence[int], width: int) -> list[list[int]] | None:
    """The columns in parts that each fit `width` at their floors, the first column (what a
    row is: a month, a reference) repeated in every part; None when even two do not fit."""
    parts: list[list[int]] = []
    current = [0]
    for i in range(1, len(floor)):
        if _room([floor[c] for c in [*current, i]]) <= width:
            current.append(i)
            continue
        if len(current) == 1:
            return None
        parts.append(current)
        current = [0, i]
        if _room([floor[0], floor[i]]) > width:
            return None
    return [*parts, current]


def _row_lines(
    cells: Sequence[str],
    widths: Sequence[int],
    right: Sequence[bool],
    bold: Sequence[bool],
    bar: str,
    fit: bool,
) -> list[str]:
    """The physical lines of one row: its cells wrapped to their columns when fitting."""
    wrapped = [wrap(c, w) if fit else [c] for c, w in zip(cells, widths, strict=True)]
    height = max((len(w) for w in wrapped), default=1)
    lines = []
    for i in range(height):
        padded = []
        for parts, w, r, b in zip(wrapped, widths, right, bold, strict=True):
            text = parts[i] if i < len(parts) else ""
            gap = " " * (w - cell_len(text))
            cell = gap + text if r else text + gap
            padded.append(click.style(cell, bold=True) if b else cell)
        lines.append(f"{bar} " + f" {bar} ".join(padded) + f" {bar}")
    return lines


def table_lines(
    headers: Sequence[str] | None,
    rows: Sequence[Sequence[str]],
    *,
    right: Sequence[bool],
    totals: Sequence[str] | None = None,
    title: str | None = None,
    caption: str | None = None,
    bold: bool = False,
    width: int | None = None,
) -> list[str]:
    """The lines of a table: `headers` None for a table of names and values (the names in
    bold when `bold`), `right` for each column whether it is aligned right (figures), `totals`
    a last row set apart (bold when `bold`); `width` the terminal's columns to fit, or None.

    A table too wide for `width` has its widest columns narrowed and their cells wrapped; when
    even its words and figures kept whole do not fit, it is folded: shown in parts of a few
    columns each, one after the other, each part beginning with the first column.
    """
    every = [*([headers] if headers else []), *rows, *([totals] if totals else [])]
    columns = list(range(len(right)))
    natural = [max((cell_len(r[i]) for r in every), default=0) for i in columns]
    if width is None or _room(natural) <= width:
        return _drawn(headers, rows, right, totals, title, caption, bold, natural, None)
    body = [*rows, *([totals] if totals else [])]  # a heading may wrap, a figure never
    floor = [
        max(
            _longest_word(headers[i]) if headers else 0,
            max((cell_len(r[i]) if right[i] else _longest_word(r[i]) for r in body), default=0),
        )
        for i in columns
    ]
    if _room(floor) > width:
        # Folded, a part holds the first column and at least one other: a word or figure
        # wider than half the window is cut.
        half = max(1, (width - _room([0, 0])) // 2)
        floor = [min(f, half) for f in floor]
    parts = [columns] if _room(floor) <= width else fold(floor, width)
    if parts is None:  # a window too narrow for any two columns: cut what must be cut
        widths = fit_widths(natural, floor, width - _room([]) - 3 * len(columns))
        return _drawn(headers, rows, right, totals, title, caption, bold, widths, width)
    lines: list[str] = []
    for n, part in enumerate(parts):
        widths = fit_widths([natural[i] for i in part], [floor[i] for i in part],
                            width - _room([]) - 3 * len(part))
        lines += [""] if n else []
        lines += _drawn(
            _pick(headers, part) if headers else None, [_pick(r, part) for r in rows],
            _pick(right, part), _pick(totals, part) if totals is not None else None,
            title if n == 0 else None, caption if n == len(parts) - 1 else None, bold, widths,
            width,
        )
    return lines


def _pick(cells: Sequence[T], part: Sequence[int]) -> list[T]:
    return [cells[i] for i in part]


def _drawn(
    headers: Sequence[str] | None,
    rows: Sequence[Sequence[str]],
    right: Sequence[bool],
    totals: Sequence[str] | None,
    title: str | None,
    caption: str | None,
    bold: bool,
    widths: Sequence[int],
    width: int | None,
) -> list[str]:
    """A table drawn with these column widths, its cells wrapped to them when `width` is
    given (the terminal's, which titles and captions are wrapped to as well)."""
    columns = len(widths)
    fit = width is not None
    if headers:
        top, bar_head = HEAVY_TOP, "┃"
    else:
        top, bar_head = LIGHT_TOP, "│"
    names_bold = [bold and not headers and i == 0 for i in range(columns)]
    lines = [top.rule(widths)]
    if headers:
        lines += _row_lines(headers, widths, right, [bold] * columns, bar_head, fit)
        lines.append(HEAVY_UNDER_HEADER.rule(widths))
    for r in rows:
        lines += _row_lines(r, widths, right, names_bold, "│", fit)
    if totals is not None:
        lines.append(LIGHT_SECTION.rule(widths))
        lines += _row_lines(totals, widths, right, [bold] * columns, "│", fit)
    lines.append(LIGHT_BOTTOM.rule(widths))
    table_width = cell_len(lines[0])
    prose = None if width is None else max(table_width, width)
    return [*_prose_lines(title, table_width, prose), *lines,
            *_prose_lines(caption, table_width, prose)]


def _prose_lines(text: str | None, table_width: int, width: int | None) -> list[str]:
    """A title or caption: padded to the table's width, wrapped to the terminal's if given."""
    if not text:
        return []
    parts = [text] if width is None else wrap(text, width)
    return [p + " " * max(0, table_width - cell_len(p)) for p in parts]
