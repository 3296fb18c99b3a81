"""Input files as the city's offices produce them: one reader for every file kind.

Disnaker, Dinsos, Dukcapil and the DTSEN desk hand over what their spreadsheet program saves:
CSV separated by commas or, when Excel is set to Indonesian, by semicolons; in UTF-8 (with or
without the byte-order mark of "CSV UTF-8") or in Windows-1252, which Excel's plain "CSV" writes
on an Indonesian Windows; lines ended by CR LF or LF. Or the workbook itself (`.xlsx`), whose
first sheet is read. Headers are matched whatever their case, spacing or underscores, by the
ledger's name of the column or its Indonesian name (`nik`/`NIK`, `name`/`Nama`,
`birth_date`/`Tanggal Lahir`...).

Only the file's form is read here: every value comes back as text with its line (a sheet's
row number is its line), and what is wrong with the form of a line (a field too many, a NIK
that Excel turned into a number) is named with its line. What each value must be is the
reader of each kind's business (`registration`, `registers_files`), and whether it is
acceptable the domain's.

Excel and NIKs: a 16-digit NIK typed into a cell that is not formatted as text becomes a
number; Excel keeps 15 significant digits, so the last digit is lost (3275014506850001 is
stored as 3275014506850000 and saved in CSV as `3.27501E+15`). Such a NIK is refused with its
line and why, never "repaired": the digits are gone.

openpyxl reads the workbooks (and writes the templates): one established, pure-Python library
for both, with no compiled part to build on the city's machines; a workbook read in its
read-only mode streams its rows.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from jamsos_ledger.domain.errors import InvalidInput

# The field named when a problem is about the whole row rather than one of its columns.
ROW = "row"
NIK = "nik"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_ZIP = b"PK\x03\x04"  # an .xlsx workbook is a zip archive
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A valid UTF-8 sequence of two or three bytes: a file holding one is UTF-8, not Windows-1252
# (whose letters with accents are single bytes that never form one in real names).
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")
# A NIK as Excel writes a number: 3.27501E+15, 3,27501E+15 (Indonesian decimal comma),
# 3275014506850000.0.
_NIK_AS_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?[eE][+]?\d+$|^\d{12,17}[.,]0*$")
_REFUSED_DELIMITERS = {"\t": "a tab", "|": "'|' (pipe)"}


class OfficeFileError(InvalidInput):
    """The file as a whole cannot be read: none of its rows is usable."""


@dataclass(frozen=True, slots=True)
class FileColumn:
    """A column of an input file.

    Attributes:
        name: the ledger's name of it (`nik`, `birth_date`), as messages name it.
        indonesian: its Indonesian name (`NIK`, `Tanggal Lahir`), as offices head it.
        meaning: what it holds and in which form, for templates and help.
        example: a value, for the documentation.
        required: whether a file must have it; an optional column may be left out.

    The column named `nik` holds a NIK: one that Excel made a number is refused.
    """

    name: str
    indonesian: str
    meaning: str
    example: str
    required: bool = True


@dataclass(frozen=True, slots=True)
class FileKind:
    """A kind of input file: what it is called and its columns, in the template's order."""

    name: str
    columns: tuple[FileColumn, ...]

    def column(self, header: str) -> FileColumn | None:
        """The column a header names, whatever its case, spacing or underscores."""
        wanted = _normal_header(header)
        for c in self.columns:
            if wanted in (_normal_header(c.name), _normal_header(c.indonesian)):
                return c
        return None

    @property
    def header(self) -> str:
        """The columns as the template heads them: `NIK,Tanggal Meninggal`."""
        return ",".join(c.indonesian for c in self.columns)


def _normal_header(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").lower().split())


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one row: its line (the header being line 1), the column at
    fault (or `row`), and what is wrong in words an operator can act on."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.reason}"


@dataclass
class Table:
    """An input file read: its columns (the ledger's names, in the file's order) and its rows.

    Attributes:
        name: the file's name, for messages.
        form: how it was read, for messages (`CSV, ';', Windows-1252`, `workbook`).
        columns: the ledger's name of each of the file's columns, in its order.
        rows: (line, values as text in the file's column order) of every non-blank row.
        problems: what is wrong with the form of rows, by line: those rows are refused.
    """

    name: str
    form: str
    columns: tuple[str, ...]
    rows: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    problems: dict[int, list[Problem]] = field(default_factory=dict)

    def records(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Each row as (line, {column: value}), its values stripped; rows with a problem of
        form are left out (their problems say why)."""
        for line, values in self.rows:
            if line not in self.problems:
                yield line, {c: v.strip() for c, v in zip(self.columns, values, strict=True)}


def is_workbook(path: Path) -> bool:
    """Whether the file is an Excel workbook (a zip archive), whatever its name."""
    try:
        with path.open("rb") as f:
            return f.read(4) == _ZIP
    except OSError:
        return False


def read_table(path: str | Path, kind: FileKind) -> Table:
    """Read an input file of that kind whole: a CSV file or a workbook's first sheet.

    Raises OfficeFileError (naming the file, and the line where there is one) when the file
    cannot be read as that kind at all: not text, not a workbook, no header, columns missing,
    unknown or repeated.
    """
    path = Path(path)
    name = str(path)
    try:
        if is_workbook(path):
            return _read_workbook(path, name, kind)
        data = path.read_bytes()
    except OSError as e:
        raise OfficeFileError(f"{name}: cannot be read: {e.strerror or e}") from e
    return read_csv_bytes(data, name, kind)


# -- CSV -------------------------------------------------------------------------------------


def decoded(data: bytes, name: str) -> tuple[str, str]:
    """The file's text and its encoding's name: UTF-8 (a byte-order mark dropped) or, when
    it is not UTF-8, Windows-1252 as Excel saves "CSV" on an Indonesian Windows."""
    if data.startswith(_UTF16_BOMS):
        raise OfficeFileError(
            f"{name} is not UTF-8 text (it looks like UTF-16): save "
            "it as CSV UTF-8 (Excel's \"Unicode text\" is UTF-16)"
        )
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    control = _CONTROL_BYTE.search(data.split(b"\n", 1)[0])
    if control:
        raise OfficeFileError(
            f"{name} line 1 holds control character 0x{control.group()[0]:02X}: it is not a "
            "CSV text file"
        )
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        if _UTF8_SEQUENCE.search(data) is not None:
            raise OfficeFileError(_mixed_encodings(data, name)) from None
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise OfficeFileError(
            f"{name} line {line}: byte 0x{data[e.start]:02X} is neither UTF-8 nor Windows-1252 "
            "text; save the file as CSV UTF-8"
        ) from None


def _mixed_encodings(data: bytes, name: str) -> str:
    """What a file partly UTF-8 and partly not is refused with: which lines are which (a
    line may hold both, when text was pasted into it from elsewhere)."""
    utf8: list[int] = []
    other: list[int] = []
    first_byte: int | None = None  # the first byte that is not UTF-8, for the message
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as e:
            other.append(number)
            first_byte = line[e.start] if first_byte is None else first_byte
        if _UTF8_SEQUENCE.search(line):
            utf8.append(number)
    parts = []
    only_utf8 = [n for n in utf8 if n not in other]
    only_other = [n for n in other if n not in utf8]
    both = [n for n in other if n in utf8]
    if only_utf8:
        parts.append(f"{_lines(only_utf8)} {'is' if len(only_utf8) == 1 else 'are'} UTF-8 text")
    if only_other:
        parts.append(f"{_lines(only_other)} {'is' if len(only_other) == 1 else 'are'} not")
    if both:
        parts.append(f"{_lines(both)} {'holds' if len(both) == 1 else 'hold'} both UTF-8 text "
                     "and text that is not")
    return (
        f"{name} mixes encodings: {', '.join(parts)} (byte 0x{first_byte or 0:02X} on line "
        f"{other[0]}); save the whole file again as CSV UTF-8"
    )


def _lines(numbers: Sequence[int], shown: int = 5) -> str:
    """`line 3`, `lines 2, 4 and 7`, `lines 2, 3, 4, 5, 6 and 12 more`."""
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    listed = ", ".join(map(str, numbers[:shown]))
    if len(numbers) > shown:
        return f"lines {listed} and {len(numbers) - shown} more"
    head, last = listed.rsplit(", ", 1)
    return f"lines {head} and {last}"


def delimiter_of(header: str, name: str, kind: FileKind) -> str:
    """',' or ';': the one that splits the header into the kind's columns."""
    stripped = header.strip("\r\n")
    if "\r" in stripped:  # one line: the file breaks its lines with CR alone
        raise OfficeFileError(
            f"{name}: its lines end with a carriage return (CR) alone, as old Mac spreadsheet "
            "programs save them; save the file as CSV UTF-8, whose lines end with LF or CR LF"
        )
    control = _CONTROL.search(stripped)
    if control:
        raise OfficeFileError(
            f"{name} line 1 holds control character 0x{ord(control.group()):02X}: it is not a "
            f"CSV text file; expected the header row {kind.header}"
        )
    candidates = [d for d in (",", ";") if d in stripped]
    if not candidates:
        for delimiter, described in _REFUSED_DELIMITERS.items():
            if delimiter in stripped:
                raise OfficeFileError(
                    f"{name} line 1: the columns are separated by {described}; ',' (comma) "
                    "or ';' (semicolon) is expected"
                )
        return ","  # one column: the header's check says which are missing
    if len(candidates) == 1:
        return candidates[0]

    def known(delimiter: str) -> int:
        cells = next(csv.reader([stripped], delimiter=delimiter), [])
        return sum(kind.column(c) is not None for c in cells)

    return max(candidates, key=known)


def read_csv_bytes(data: bytes, name: str, kind: FileKind) -> Table:
    """Read a CSV file's bytes as that kind (see `read_table`)."""
    if not data or data == _UTF8_BOM:
        raise OfficeFileError(f"{name} is empty: expected a header row {kind.header} first")
    text, encoding = decoded(data, name)
    first = text.split("\n", 1)[0]
    if not first.strip():
        raise OfficeFileError(f"{name} line 1 is blank: expected the header row {kind.header}")
    delimiter = delimiter_of(first, name, kind)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    described = "comma" if delimiter == "," else "semicolon"
    table: Table | None = None
    last_line = 0
    while True:
        line = last_line + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            cause = (
                "a carriage return (CR) alone breaks the line inside a field; remove it or "
                "quote the field"
                if "new-line character" in str(e)
                else f"{e}; is a quote left open?"
            )
            raise OfficeFileError(f"{name} line {line}: cannot be read as CSV ({cause})") from e
        last_line = reader.line_num
        if table is None:
            table = Table(name, f"CSV, {described}-separated, {encoding}",
                          _columns(values, name, kind))
            continue
        _add_row(table, line, values, delimiter)
    assert table is not None
    if not table.rows:
        raise OfficeFileError(f"{name} has a header but no rows")
    return table


def _add_row(table: Table, line: int, values: Sequence[str], delimiter: str) -> None:
    if not values or all(not v.strip() for v in values):
        return  # blank lines carry nothing
    width = len(table.columns)
    problems: list[Problem] = []
    if len(values) != width:
        if any("\n" in v for v in values):
            problems.append(Problem(line, ROW, "a quoted field runs over several lines: is a "
                                    "quote (\") left open? the rows after it were read into it"))
        elif len(values) > width:
            problems.append(Problem(line, ROW, f"{len(values)} fields, the header has {width}: "
                                    f"a stray '{delimiter}'? quote fields that contain it"))
        else:
            problems += [Problem(line, c, f"missing: the row has {len(values)} fields, the "
                                 f"header {width}") for c in table.columns[len(values):]]
        values = (list(values) + [""] * width)[:width]
    table.rows.append((line, tuple(values)))
    problems += _nik_problems(table, line, values)
    if problems:
        table.problems[line] = problems


def _columns(cells: Sequence[Any], name: str, kind: FileKind) -> tuple[str, ...]:
    """The ledger's names of the header's columns; refuses a header missing a required column,
    or naming one unknown or twice."""
    headers = ["" if c is None else str(c).strip() for c in cells]
    while headers and not headers[-1]:
        headers.pop()  # a workbook's empty cells to the right of the header
    found = [kind.column(h) for h in headers]
    names = [c.name for c in found if c is not None]
    missing = [c.indonesian for c in kind.columns if c.required and c.name not in names]
    unknown = [h for h, c in zip(headers, found, strict=True) if c is None]
    repeated = sorted({n for n in names if names.count(n) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(repr(c) for c in unknown)}")
    if repeated:
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    if problems:
        raise OfficeFileError(
            f"{name} line 1 (header): {'; '.join(problems)}; expected {kind.header} (in any "
            "order, any case; the English names work too)"
        )
    return tuple(names)


def _nik_problems(table: Table, line: int, values: Sequence[str]) -> list[Problem]:
    if NIK not in table.columns:
        return []
    problem = nik_cell_problem(values[table.columns.index(NIK)])
    return [Problem(line, NIK, problem)] if problem else []


def nik_cell_problem(value: str) -> str | None:
    """Why a NIK cell as a file holds it is refused before the NIK's own rules are asked:
    Excel turned it into a number (`3.27501E+15`, `3275014506850000.0`), or None. The one
    check of every reader of NIKs (registrations, deaths, deciles, invoices), so that each
    says it in the same words, with the line and the column."""
    value = value.strip()
    return nik_as_number(value) if _NIK_AS_NUMBER.match(value) else None


def nik_as_number(shown: str) -> str:
    """Why a NIK that Excel turned into a number is refused."""
    return (
        f"the NIK was turned into a number by the spreadsheet ({shown}): a number keeps 15 "
        "digits, so the NIK's last digits are lost and cannot be recovered; format the column "
        "as Text and type or paste the NIKs again"
    )


# -- workbooks -------------------------------------------------------------------------------


def _read_workbook(path: Path, name: str, kind: FileKind) -> Table:
    """The first sheet of a workbook, each cell as text; a sheet's row number is its line."""
    from openpyxl import load_workbook  # only a workbook needs it: CSV commands start faster
    from openpyxl.utils.exceptions import InvalidFileException

    with path.open("rb") as f:  # opened here: openpyxl would judge the file by its suffix
        try:
            workbook = load_workbook(f, read_only=True, data_only=True)
            return _read_sheet(workbook, name, kind)
        except OfficeFileError:
            raise
        # A damaged workbook fails in openpyxl, zipfile or the XML parser with errors of
        # many kinds, on opening or on reading a row: each means the same to the office.
        except (zipfile.BadZipFile, InvalidFileException, Exception) as e:
            raise OfficeFileError(
                f"{name} is not an Excel workbook (.xlsx) that can be read ({e}); save it again "
                "from the spreadsheet program as .xlsx or CSV"
            ) from None


def _read_sheet(workbook: Any, name: str, kind: FileKind) -> Table:
    try:
        if not workbook.worksheets:
            raise OfficeFileError(f"{name}: the workbook has no sheet")
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None or all(c is None or not str(c).strip() for c in header):
            raise OfficeFileError(
                f"{name} (sheet {sheet.title!r}) row 1 is empty: expected the header row "
                f"{kind.header}"
            )
        table = Table(name, f"workbook, sheet {sheet.title!r}", _columns(header, name, kind))
        width = len(table.columns)
        for line, cells in enumerate(rows, start=2):
            cells = tuple(cells)
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            problems: list[Problem] = []
            extra = [c for c in cells[width:] if c is not None and str(c).strip()]
            if extra:
                problems.append(Problem(line, ROW, f"{width + len(extra)} cells filled, the "
                                        f"header has {width}"))
            values = []
            for column, cell in zip(table.columns, (*cells, *[None] * width), strict=False):
                text, problem = _cell_text(cell, column == NIK)
                values.append(text)
                if problem:
                    problems.append(Problem(line, column, problem))
            table.rows.append((line, tuple(values)))
            if problems:
                table.problems[line] = problems
    finally:
        workbook.close()
    if not table.rows:
        raise OfficeFileError(f"{name} has a header but no rows")
    return table


def _cell_text(cell: Any, nik: bool) -> tuple[str, str | None]:
    """A cell's value as the text a CSV file would hold, and what is wrong with it, if
    anything: a NIK stored as a number, a date with a time."""
    if cell is None:
        return "", None
    if isinstance(cell, bool):
        return str(cell).upper(), None
    if isinstance(cell, int | float):
        if nik:
            shown = f"{cell:.5E}".replace("E+0", "E+") if abs(cell) >= 1e11 else str(cell)
            return str(cell), nik_as_number(shown)
        if isinstance(cell, float) and cell.is_integer():
            return str(int(cell)), None
        return str(cell), None
    if isinstance(cell, datetime):
        if cell.time() != time(0):
            return cell.isoformat(sep=" "), "a date and a time; only the date is expected"
        return cell.date().isoformat(), None
    if isinstance(cell, date):
        return cell.isoformat(), None
    # A line break typed in a cell (Alt+Enter) would break a CSV row: it is kept as a line
    # separator, which the checks of text refuse by its name.
    return str(cell).replace("\r\n", "\u2028").replace("\n", "\u2028"), None


__all__ = [
    "NIK",
    "ROW",
    "FileColumn",
    "FileKind",
    "OfficeFileError",
    "Problem",
    "Table",
    "decoded",
    "delimiter_of",
    "is_workbook",
    "nik_as_number",
    "nik_cell_problem",
    "read_csv_bytes",
    "read_table",
]
