"""BPJS Ketenagakerjaan's invoice file (`premiums reconcile --invoice`): read into lines.

The one place an invoice file is read: `read_invoice(path, month)` gives an `Invoice` or raises
`InvoiceFileError` naming every bad line. Its form is read by the reader of every office file
(`office_files`): CSV with commas or semicolons, UTF-8 (with or without a byte-order mark) or
Windows-1252, lines ending in LF or CR LF, or a workbook's first sheet; headers by the ledger's
names or their Indonesian ones, in any case. So a NIK that Excel turned into a number is
refused here in the same words, with its line and column, as in every other file.

A bad invoice is refused whole: nothing of it is compared or recorded.
"""

from __future__ import annotations

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
from jamsos_ledger.files.office_files import (
    FileColumn,
    FileKind,
    OfficeFileError,
    Problem,
    is_workbook,
    read_csv_bytes,
    read_table,
)

# The invoice's columns, as BPJS heads them (the ledger's names) or in Indonesian.
INVOICE = FileKind("invoice", (
    FileColumn("nik", "NIK", "the participant's NIK, 16 digits (a Text cell in a workbook)",
               "3275014506850001"),
    FileColumn("kpj", "KPJ", "the BPJS participant number, 11 digits", "26040000001"),
    FileColumn("name", "Nama", "the participant's name", "Siti Aminah"),
    FileColumn("month", "Bulan", "the month billed, YYYY-MM", "2026-02"),
    FileColumn("jkk", "JKK", "the JKK premium billed, whole rupiah", "10000"),
    FileColumn("jkm", "JKM", "the JKM premium billed, whole rupiah", "6800"),
    FileColumn("status", "Status", "aktif (billed) or nonaktif (listed, not billed)", "AKTIF"),
))
COLUMNS = tuple(c.name for c in INVOICE.columns)
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
    try:
        # A workbook is read from its file (openpyxl streams it), a CSV from the bytes the
        # digest was taken of.
        table = (read_table(path, INVOICE) if is_workbook(Path(path))
                 else read_csv_bytes(data, name, INVOICE))
    except OfficeFileError as e:
        raise InvoiceFileError(f"{e}; nothing was recorded") from None
    problems = [p for line in sorted(table.problems) for p in table.problems[line]]
    lines: list[InvoiceLine] = []
    for number, row in table.records():
        typed, found = _line(number, row, month)
        problems += found
        if typed is not None:
            lines.append(typed)
    if problems:
        problems.sort(key=lambda p: p.line)
        raise InvoiceFileError(
            f"{name}: {count(len(problems))} problem{'s' if len(problems) != 1 else ''}, the "
            f"invoice is refused whole and nothing was recorded: "
            f"{'; '.join(map(str, problems))}"
        )
    return Invoice(name=name, digest=digest, lines=lines)


def _line(
    number: int, row: dict[str, str], month: Month
) -> tuple[InvoiceLine | None, list[Problem]]:
    """The line typed, or None, and its problems (each naming the line and the column)."""
    problems = [Problem(number, "nik", why) for why in nik_problems(row["nik"], None, None)]
    kpj = kpj_problem(row["kpj"])
    if kpj:
        problems.append(Problem(number, "kpj", kpj))
    name = text_problem(row["name"])
    if name or not row["name"]:
        problems.append(Problem(number, "name", name or "missing"))
    billed: Month | None = None
    if not _MONTH.match(row["month"]):
        problems.append(Problem(number, "month",
                                f"expected YYYY-MM, not {row['month'][:20]!r}"))
    else:
        try:
            billed = Month.parse(row["month"])
        except ValueError as e:  # no such month, or outside the calendar: the domain says
            problems.append(Problem(number, "month", f"{row['month']!r} is not a month: {e}"))
        if billed is not None and billed != month:
            problems.append(Problem(number, "month",
                                    f"bills {billed}, the invoice is for {month}"))
    amounts: dict[str, int] = {}
    for scheme in ("jkk", "jkm"):
        value = row[scheme]
        if not _DIGITS.match(value):
            problems.append(Problem(
                number, scheme, f"expected whole rupiah (digits only), not {value[:20]!r}"
            ))
            continue
        too_much = amount_problem(scheme.upper(), int(value))
        if too_much:
            problems.append(Problem(number, scheme, too_much))
        amounts[scheme] = int(value)
    status = row["status"].lower()
    if status not in INVOICE_STATUSES:
        problems.append(Problem(
            number, "status",
            f"expected {' or '.join(INVOICE_STATUSES)}, not {row['status'][:20]!r}",
        ))
    if problems or billed is None:
        return None, problems
    return InvoiceLine(
        line=number, nik=row["nik"], kpj=row["kpj"], name=row["name"], month=billed,
        jkk=amounts["jkk"], jkm=amounts["jkm"], status=status,
    ), []
