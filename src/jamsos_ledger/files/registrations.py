"""Registration files (`workers import`): CSV rows read into `Registration`s.

What a file may hold, for the people who prepare it: docs/input-files.md (its columns must be
`COLUMNS`, in that order; tests/test_docs.py holds them together).

Only the file's form is checked here: encoding, delimiter, columns, types and dates. Whether a
NIK, a decile or a kecamatan is acceptable is the domain's rule (`Registration.problems()`),
asked of every row, so an operator gets every problem of every row at once. Line numbers are
the file's own, the header being line 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any, cast

from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.model import REGISTRATION_FIELDS, Registration
from jamsos_ledger.domain.money import count, counted
from jamsos_ledger.domain.texts import text_problem
from jamsos_ledger.files.office_files import (
    FileColumn,
    FileKind,
    OfficeFileError,
    is_workbook,
    nik_cell_problem,
    read_table,
)
from jamsos_ledger.files.office_files import Problem as FormProblem

# A file's columns are the registration's fields, in their order (the domain's
# `RegistrationFields`).
COLUMNS = REGISTRATION_FIELDS
# The registration file's columns as offices head them (any of the two names, any case).
REGISTRATIONS = FileKind("registrations", (
    FileColumn("nik", "NIK", "16 digits; its date part agrees with the birth date and sex",
               "3275014506850001"),
    FileColumn("name", "Nama", "full name, not empty", "Siti Rahmawati"),
    FileColumn("birth_date", "Tanggal Lahir", "YYYY-MM-DD (or a date cell)", "1985-06-05"),
    FileColumn("sex", "Jenis Kelamin", "L (laki-laki) or P (perempuan)", "P"),
    FileColumn("kecamatan", "Kecamatan", "a kecamatan of Kota Bekasi, name or code 01-12",
               "Bekasi Timur"),
    FileColumn("kelurahan", "Kelurahan", "text", "Aren Jaya"),
    FileColumn("occupation", "Pekerjaan", "text", "Pedagang kaki lima"),
    FileColumn("decile", "Desil", "DTSEN decile, 1 (poorest) to 10", "2"),
    FileColumn("source", "Sumber", "who supplied the row, not empty", "Disnaker"),
))
assert tuple(c.name for c in REGISTRATIONS.columns) == COLUMNS
# The field named when a problem is about the whole row rather than one of its columns.
ROW = "row"

_BOM = b"\xef\xbb\xbf"
_CHUNK = 8_000_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Control characters (NUL and the like) in the header: a sign of a binary file. In the rows,
# the domain's check of text (`texts.text_problem`) says what a field may hold.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_OTHER_DELIMITERS = {";": "';' (semicolon)", "\t": "a tab", "|": "'|' (pipe)"}


class RegistrationFileError(InvalidInput):
    """The file as a whole cannot be read as registrations: no row is usable."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one row.

    Attributes:
        line: the row's line in the file, the header being line 1.
        field: the column at fault, or `row` for the row as a whole.
        reason: what is wrong, in words an operator can act on.
    """

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row refused, with its values as written and every problem found in it.

    Attributes:
        line: the row's line in the file.
        values: the row's fields as read, in the file's column order.
        problems: every problem of the row (at least one).
    """

    line: int
    values: tuple[str, ...]
    problems: tuple[Problem, ...]

    @property
    def reasons(self) -> str:
        return "; ".join(f"{p.field}: {p.reason}" for p in self.problems)


@dataclass
class RegistrationFile:
    """What a registration file holds: the good rows, typed, and the bad ones with reasons.

    Attributes:
        name: the file's name, for messages.
        columns: the header's columns, as written.
        accepted: the good rows, in file order, each NIK once.
        rejected: the bad rows, in file order.
    """

    name: str
    columns: tuple[str, ...]
    accepted: list[Registration] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.accepted) + len(self.rejected)

    @property
    def problems(self) -> list[Problem]:
        return [p for r in self.rejected for p in r.problems]

    def refusal(self) -> str:
        """The message refusing the whole file: every bad row with line, field and reason."""
        lines = [
            f"{self.name}: {count(len(self.rejected))} of {counted(self.rows, 'row')} "
            f"{'is' if len(self.rejected) == 1 else 'are'} malformed; "
            "nothing was imported:"
        ]
        lines += [f"  {self.name}: {p}" for p in self.problems]
        lines.append(
            "Correct these rows, or import the good rows and set the bad ones aside with "
            "--rejects FILE."
        )
        return "\n".join(lines)


def read_registrations(path: str | Path) -> RegistrationFile:
    """Read a registration file whole: every row checked, every problem collected.

    A plain file (comma-separated UTF-8 CSV headed with the ledger's column names), nearly
    every big one, is read as it streams; any other form an office saves (a workbook,
    semicolons, Windows-1252, Indonesian headers) is read by `office_files` and handed to the
    same checks, line for line.

    Raises RegistrationFileError when the file cannot be read as registrations at all (not
    text, empty, another delimiter, missing or unknown columns).
    """
    path = Path(path)
    try:
        if not is_plain(path):
            return _read_office_file(path)
        with path.open("rb") as f:
            return read_registration_lines(f, name=str(path))
    except OSError as e:
        raise RegistrationFileError(f"{path}: cannot be read: {e.strerror or e}") from e
    except OfficeFileError as e:
        raise RegistrationFileError(str(e)) from None


def is_plain(path: Path) -> bool:
    """Whether the file is the plain form the streaming reader takes: CSV in UTF-8 (a
    byte-order mark allowed), its header the ledger's column names separated by commas.
    Checked a chunk at a time: a nation's file is a gigabyte."""
    if is_workbook(path):
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as f:
        header = f.readline()
        if not plain_header(header):
            return False  # another separator, other names (or a bad header: said there)
        try:
            while chunk := f.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def plain_header(header: bytes) -> bool:
    """Whether a header line is the plain form's: UTF-8, the ledger's column names, commas."""
    if header.startswith(_BOM):
        header = header[len(_BOM):]
    try:
        text = header.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.strip().lower() in COLUMNS for c in text.strip("\r\n").split(","))


def _read_office_file(path: Path) -> RegistrationFile:
    """A file in another form an office saves, read by `office_files` and written again as
    plain CSV, each row on its own line, so that the same checks name the same lines."""
    table = read_table(path, REGISTRATIONS)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    at = 2
    for line, values in table.rows:
        out.write("\n" * (line - at))  # blank lines keep every row on its own line number
        before = out.tell()
        writer.writerow(values)
        out.seek(before)
        at = line + out.read().count("\n")
    binary = io.BytesIO(out.getvalue().encode("utf-8"))
    return read_registration_lines(binary, name=str(path), form_problems=table.problems)


def read_registration_lines(
    binary: IO[bytes],
    *,
    name: str,
    form_problems: dict[int, list[FormProblem]] | None = None,
) -> RegistrationFile:
    """Read registrations from an open binary file (see `read_registrations`).

    `form_problems`: what was wrong with the form of lines when the file was read from
    another form (a NIK that a spreadsheet made a number): those lines are refused with them,
    and the field they name is not checked further.
    """
    lines = _decoded_lines(binary, name)
    undecodable: dict[int, str] = {}
    header_line = next(lines, None)
    if header_line is None:
        raise RegistrationFileError(
            f"{name} is empty: expected a header row {','.join(COLUMNS)} and one worker a row"
        )
    if not header_line[1].strip():
        raise RegistrationFileError(
            f"{name} line 1 is blank: expected the header row {','.join(COLUMNS)} first"
        )
    columns = _header(header_line[1], name)
    result = RegistrationFile(name=name, columns=columns)

    def text_lines() -> Iterator[str]:
        for number, text, problem in lines:
            if problem:
                undecodable[number] = problem
            yield text

    reader = csv.reader(text_lines(), strict=False)
    first_niks: dict[str, int] = {}
    nik_at = columns.index("nik")
    last_line = 1
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
            raise RegistrationFileError(
                f"{name} line {line}: cannot be read as CSV ({cause})"
            ) from e
        last_line = 1 + reader.line_num
        if not values or all(not v.strip() for v in values):
            continue  # blank lines carry nothing
        encoding = (
            [undecodable[n] for n in range(line, last_line + 1) if n in undecodable]
            if undecodable
            else []
        )
        registration, problems = _parse_row(line, columns, values, encoding)
        if form_problems and line in form_problems:
            form = [Problem(p.line, p.field, p.reason) for p in form_problems[line]]
            fields = {p.field for p in form}
            problems = form + [p for p in problems if p.field not in fields]
        nik = values[nik_at].strip() if len(values) > nik_at else ""
        if nik:
            earlier = first_niks.setdefault(nik, line)
            if earlier != line:
                problems.append(
                    Problem(line, "nik", f"the same NIK is already on line {earlier} of this file")
                )
        if problems:
            result.rejected.append(Rejection(line, tuple(values), tuple(problems)))
        else:
            assert registration is not None
            result.accepted.append(registration)
    if result.rows == 0:
        raise RegistrationFileError(f"{name} has a header but no rows")
    return result


def _decoded_lines(binary: IO[bytes], name: str) -> Iterator[tuple[int, str, str | None]]:
    """(line number, text, encoding problem or None) for each physical line.

    Lines are decoded one by one, so a file can be read as it streams and a stray byte is
    reported on its own line; a header that is not UTF-8 means the whole file is not.
    """
    for number, raw in enumerate(binary, start=1):
        if number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]  # a UTF-8 byte-order mark, as spreadsheet programs write
        try:
            yield number, raw.decode("utf-8"), None
        except UnicodeDecodeError as e:
            byte = raw[e.start : e.start + 1].hex().upper()
            if number == 1:
                guess = (
                    " (it looks like UTF-16)"
                    if raw.startswith((b"\xff\xfe", b"\xfe\xff"))
                    else ""
                )
                raise RegistrationFileError(
                    f"{name} is not UTF-8 text{guess}: byte 0x{byte} on line 1; save it as "
                    "CSV UTF-8"
                ) from None
            problem = (
                f"line is not UTF-8 text (byte 0x{byte} at column {e.start + 1}); "
                "save the file as CSV UTF-8"
            )
            yield number, raw.decode("utf-8", errors="replace"), problem


def _header(text: str, name: str) -> tuple[str, ...]:
    stripped = text.strip("\r\n")
    control = _CONTROL.search(stripped)
    if control:
        raise RegistrationFileError(
            f"{name} line 1 holds control character 0x{ord(control.group()):02X}: it is not a "
            "CSV text file; expected the header row " + ",".join(COLUMNS)
        )
    if "," not in stripped:
        for delimiter, described in _OTHER_DELIMITERS.items():
            if delimiter in stripped:
                raise RegistrationFileError(
                    f"{name} line 1: the columns are separated by {described}; "
                    "',' (comma) is expected"
                )
    if "\r" in stripped:  # one line: the file breaks its lines with CR alone
        raise RegistrationFileError(
            f"{name}: its lines end with a carriage return (CR) alone, as old Mac spreadsheet "
            "programs save them; save the file as CSV UTF-8, whose lines end with LF or CR LF"
        )
    try:
        columns = tuple(c.strip() for c in next(csv.reader([stripped]), []))
    except csv.Error as e:
        raise RegistrationFileError(f"{name} line 1 (header): cannot be read as CSV ({e})") from e
    normalised = tuple(c.lower() for c in columns)
    missing = [c for c in COLUMNS if c not in normalised]
    unknown = [c for c in columns if c.lower() not in COLUMNS]
    repeated = sorted({c for c in normalised if normalised.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(repr(c) for c in unknown)}")
    if repeated:
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    if problems:
        raise RegistrationFileError(
            f"{name} line 1 (header): {'; '.join(problems)}; expected {','.join(COLUMNS)}"
        )
    return normalised


def _parse_row(
    line: int, columns: Sequence[str], values: Sequence[str], encoding: Sequence[str]
) -> tuple[Registration | None, list[Problem]]:
    """The row typed as a Registration (None if it cannot be) and every problem of the row."""
    if not encoding and len(values) == len(columns):
        registration = _plain_row(columns, values)
        if registration is not None:
            found = [Problem(line, f, why) for f, why in registration.problems()]
            return registration, _nik_made_number(line, registration.nik, found)
    problems = [Problem(line, ROW, reason) for reason in encoding]
    if len(values) != len(columns):
        if any("\n" in v for v in values):
            problems.append(
                Problem(line, ROW, "a quoted field runs over several lines: is a quote (\") "
                        "left open? the rows after it were read into it")
            )
        if len(values) == 1:
            for delimiter, described in _OTHER_DELIMITERS.items():
                if delimiter in values[0]:
                    problems.append(
                        Problem(line, ROW, f"the fields are separated by {described}; "
                                "',' (comma) is expected")
                    )
                    return None, problems
        if len(values) > len(columns):
            problems.append(
                Problem(line, ROW, f"{len(values)} fields, the header has {len(columns)}: "
                        "a stray comma? quote fields that contain commas")
            )
            return None, problems
        for column in columns[len(values):]:
            problems.append(
                Problem(line, column, f"missing: the row has {len(values)} fields, the header "
                        f"{len(columns)}")
            )
        return None, problems
    row = {c: v.strip() for c, v in zip(columns, values, strict=True)}
    parse_failed: set[str] = set()
    for column, value in row.items():
        problem = text_problem(value)
        if problem:
            problems.append(Problem(line, column, f"{column} {problem}"))  # as the domain says
            parse_failed.add(column)

    birth_date: date | None = None
    if not _DATE.match(row["birth_date"]):
        problems.append(
            Problem(line, "birth_date", f"not a date YYYY-MM-DD: {row['birth_date']!r}")
        )
        parse_failed.add("birth_date")
    else:
        try:
            birth_date = date.fromisoformat(row["birth_date"])
        except ValueError:
            problems.append(
                Problem(line, "birth_date", f"no such date: {row['birth_date']!r}")
            )
            parse_failed.add("birth_date")

    decile = 0
    try:
        decile = int(row["decile"])
    except ValueError:
        problems.append(
            Problem(line, "decile", f"DTSEN decile must be a whole number 1-10, not "
                    f"{row['decile']!r}")
        )
        parse_failed.add("decile")

    # Without a readable birth date the domain checks the NIK on its own: the NIK check
    # compares the date part only when there is a date.
    registration = _registration(row, cast(date, birth_date), decile)
    problems += [
        Problem(line, f, reason) for f, reason in registration.problems() if f not in parse_failed
    ]
    return (registration if not parse_failed else None), _nik_made_number(
        line, row["nik"], problems)


def _nik_made_number(line: int, nik: str, problems: list[Problem]) -> list[Problem]:
    """A row's problems, a NIK that Excel turned into a number said as such (the check every
    reader of NIKs shares, `office_files.nik_cell_problem`) in place of the NIK rules' words
    about its digits. Asked only of a row with problems: a good row costs nothing more."""
    if not problems:
        return problems
    made_number = nik_cell_problem(nik)
    if made_number is None:
        return problems
    return [Problem(line, "nik", made_number), *(p for p in problems if p.field != "nik")]


def _plain_row(columns: Sequence[str], values: Sequence[str]) -> Registration | None:
    """The row typed, when nothing about its form is wrong; else None, and `_parse_row` takes
    the careful way that names every problem. Most rows of a real file are plain: an import
    of a city's workers reads hundreds of thousands of them."""
    # Printable text holds no character the domain refuses; other text (a tab, a C1 control
    # character, a zero-width space...) is read the careful way, which names the column.
    if not "".join(values).isprintable():
        return None
    row = dict(zip(columns, map(str.strip, values), strict=True))
    birth_date = row["birth_date"]
    if not _DATE.match(birth_date):
        return None
    try:
        born = date.fromisoformat(birth_date)
        decile = int(row["decile"])
    except ValueError:
        return None
    return _registration(row, born, decile)


def _registration(row: dict[str, str], birth_date: date, decile: int) -> Registration:
    """A row's registration, given its typed birth date and decile (its other columns are
    text, as read; the sex in capitals)."""
    fields: dict[str, Any] = {column: row[column] for column in COLUMNS}
    fields.update(birth_date=birth_date, sex=row["sex"].upper(), decile=decile)
    return Registration(**fields)


def write_rejects(path: str | Path, registrations: RegistrationFile) -> int:
    """Write the refused rows to a CSV file: their columns as read, then `line` and `reasons`.

    Returns how many rows were written (a header alone when none was refused).
    """
    width = len(registrations.columns)
    with Path(path).open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*registrations.columns, "line", "reasons"])
        for rejection in registrations.rejected:
            values = list(rejection.values[:width]) + [""] * (width - len(rejection.values))
            writer.writerow([*values, rejection.line, rejection.reasons])
    return len(registrations.rejected)


__all__ = [
    "COLUMNS",
    "REGISTRATIONS",
    "Problem",
    "RegistrationFile",
    "RegistrationFileError",
    "Rejection",
    "is_plain",
    "plain_header",
    "read_registration_lines",
    "read_registrations",
    "write_rejects",
]
