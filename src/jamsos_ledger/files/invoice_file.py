"""BPJS Ketenagakerjaan's invoice file (`premiums reconcile --invoice`): CSV read into lines.

The one place an invoice file is read: `read_invoice(path, month)` gives an `Invoice` or raises
`InvoiceFileError` naming every bad line, so that the reader of all office files (CSV dialects,
Windows-1252, Excel workbooks, Indonesian headers) can take its place behind the same call.
Until then an invoice is read as a registration file is: CSV, comma-separated, UTF-8 with or
without a byte-order mark, lines ending in LF or CR LF, a header row first.

A bad invoice is refused whole: nothing of it is compared or recorded.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.money import amount_problem, count
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.nik import nik_problems
from jamsos_ledger.domain.reconciliation import INVOICE_STATUSES, InvoiceLine, kpj_problem
from jamsos_ledger.domain.texts import text_problem

COLUMNS = ("nik", "kpj", "name", "month", "jkk", "jkm", "status")
_BOM = b"\xef\xbb\xbf"
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_DIGITS = re.compile(r"^\d{1,19}$")


class InvoiceFileError(InvalidInput):
    """The invoice cannot be used: every bad line is named in the message."""


@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice file read whole.

    Attributes:
        name: the file as given.
        digest: SHA-256 of its bytes: the invoice's identity in the ledger (a payment names
            the invoice reconciled by giving the same file).
        lines: its lines, in order.
    """

    name: str
    digest: str
    lines: list[InvoiceLine]


def invoice_digest(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as an invoice is known by in the ledger."""
    try:
        return sha256(Path(path).read_bytes()).hexdigest()
    except OSError as e:
        raise InvoiceFileError(f"{path}: cannot be read: {e.strerror or e}") from e


def read_invoice(path: str | Path, month: Month) -> Invoice:
    """Read BPJS's invoice of `month`: every line checked, every problem collected."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise InvoiceFileError(f"{name}: cannot be read: {e.strerror or e}") from e
    digest = sha256(data).hexdigest()
    body = data[len(_BOM):] if data.startswith(_BOM) else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        line = body[: e.start].count(b"\n") + 1
        raise InvoiceFileError(
            f"{name} line {line}: not UTF-8 text (byte 0x{body[e.start:e.start + 1].hex()}); "
            "save the invoice as CSV UTF-8; nothing was recorded"
        ) from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or not any(v.strip() for v in rows[0]):
        raise InvoiceFileError(
            f"{name} is empty or its first line is blank: expected the header row "
            f"{','.join(COLUMNS)}; nothing was recorded"
        )
    header = [c.strip().lower() for c in rows[0]]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        said = [f"missing column(s) {', '.join(missing)}"] if missing else []
        said += [f"unknown column(s) {', '.join(map(repr, unknown))}"] if unknown else []
        said += ["a column is repeated"] if len(set(header)) != len(header) else []
        raise InvoiceFileError(
            f"{name} line 1 (header): {'; '.join(said)}; expected {','.join(COLUMNS)}; "
            "nothing was recorded"
        )
    lines: list[InvoiceLine] = []
    problems: list[str] = []
    for number, values in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(f"line {number}: {len(values)} fields, the header has {len(header)}")
            continue
        row = {c: v.strip() for c, v in zip(header, values, strict=True)}
        typed, found = _line(number, row, month)
        problems += found
        if typed is not None:
            lines.append(typed)
    if problems:
        raise InvoiceFileError(
            f"{name}: {count(len(problems))} problem{'s' if len(problems) != 1 else ''}, the "
            f"invoice is refused whole and nothing was recorded: {'; '.join(problems)}"
        )
    if not lines:
        raise InvoiceFileError(f"{name} has a header but no lines; nothing was recorded")
    return Invoice(name=name, digest=digest, lines=lines)


def _line(number: int, row: dict[str, str], month: Month) -> tuple[InvoiceLine | None, list[str]]:
    """The line typed, or None, and its problems (each naming the line and the column)."""
    problems = [f"line {number}, nik: {why}" for why in nik_problems(row["nik"], None, None)]
    kpj = kpj_problem(row["kpj"])
    if kpj:
        problems.append(f"line {number}, kpj: {kpj}")
    name = text_problem(row["name"])
    if name or not row["name"]:
        problems.append(f"line {number}, name: {name or 'missing'}")
    billed: Month | None = None
    if not _MONTH.match(row["month"]):
        problems.append(f"line {number}, month: expected YYYY-MM, not {row['month'][:20]!r}")
    else:
        try:
            billed = Month.parse(row["month"])
        except ValueError:
            problems.append(f"line {number}, month: {row['month']!r} is not a month")
        if billed is not None and billed != month:
            problems.append(f"line {number}, month: bills {billed}, the invoice is for {month}")
    amounts: dict[str, int] = {}
    for scheme in ("jkk", "jkm"):
        value = row[scheme]
        if not _DIGITS.match(value):
            problems.append(
                f"line {number}, {scheme}: expected whole rupiah (digits only), not "
                f"{value[:20]!r}"
            )
            continue
        too_much = amount_problem(scheme.upper(), int(value))
        if too_much:
            problems.append(f"line {number}, {scheme}: {too_much}")
        amounts[scheme] = int(value)
    status = row["status"].lower()
    if status not in INVOICE_STATUSES:
        problems.append(
            f"line {number}, status: expected {' or '.join(INVOICE_STATUSES)}, not "
            f"{row['status'][:20]!r}"
        )
    if problems or billed is None:
        return None, problems
    return InvoiceLine(
        line=number, nik=row["nik"], kpj=row["kpj"], name=row["name"], month=billed,
        jkk=amounts["jkk"], jkm=amounts["jkm"], status=status,
    ), []
