"""The files three outside parties send the city each month, for the demo: BPJS's invoice,
Dukcapil's deaths and a DTSEN release, written in the forms their offices produce.

- `write_invoice`: BPJS Ketenagakerjaan's invoice of a month, as Excel's "CSV UTF-8" saves it
  on Windows (a byte-order mark, lines ending in CR LF), with one difference of each kind the
  reconciliation finds (`invoice_lines`): a participant whose coverage ended, one covered and
  not billed, one billed at another amount, one billed twice, a NIK the ledger does not know.
- `write_deaths`: Dukcapil's extract of deaths as an Excel workbook (`.xlsx`), the NIKs typed
  as text and the dates as date cells.
- `write_deciles`: a DTSEN release as Excel set to Indonesian saves CSV: separated by
  semicolons, in Windows-1252, lines ending in CR LF.

The columns are those of docs/input-files.md and the README's "The monthly bill and its
corrections". Not part of the installed package: run from the repository (`make demo`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from openpyxl import Workbook

INVOICE_COLUMNS = ["nik", "kpj", "name", "month", "jkk", "jkm", "status"]


@dataclass(frozen=True)
class Person:
    """A worker as the outside registers know one: by NIK, with a name for people."""

    nik: str
    name: str


@dataclass(frozen=True)
class InvoiceDefects:
    """The participants an invoice gets wrong, one of each kind (see `invoice_lines`)."""

    ended: Person  # billed, not covered: coverage ended (died) before the month
    not_billed: Person  # covered, not billed: BPJS has not activated the participant yet
    other_amount: Person  # billed at another JKK than the program's rate
    twice: Person  # billed on two lines
    unknown: Person  # a NIK the ledger does not know


def invoice_lines(
    month: str, covered: list[Person], defects: InvoiceDefects, jkk: int, jkm: int
) -> list[list[str]]:
    """The invoice's rows (without its header): every covered participant billed once at the
    program's rates (`jkk`, `jkm`), but for the defects; BPJS lists them by participant
    number (KPJ, 11 digits: one a participant, given here in the order of the NIKs)."""
    billed = [p for p in covered if p.nik != defects.not_billed.nik]
    billed += [defects.twice, defects.ended, defects.unknown]
    kpj = {nik: f"26{i:09d}" for i, nik in enumerate(sorted({p.nik for p in billed}), 1)}
    rows = []
    for p in billed:
        billed_jkk = jkk + 2_000 if p.nik == defects.other_amount.nik else jkk
        rows.append([p.nik, kpj[p.nik], p.name, month, str(billed_jkk), str(jkm), "AKTIF"])
    return sorted(rows, key=lambda r: r[1])


def write_invoice(path: Path, rows: list[list[str]]) -> None:
    """Write the invoice as Excel's "CSV UTF-8": a byte-order mark, CR LF line ends."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(INVOICE_COLUMNS)
    writer.writerows(rows)
    path.write_bytes(b"\xef\xbb\xbf" + text.getvalue().encode("utf-8"))


def write_deaths(path: Path, deaths: list[tuple[Person, date]]) -> None:
    """Write Dukcapil's deaths as a workbook: the NIK a text cell (kept whole), the date a
    date cell, the Indonesian headers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Kematian"
    sheet.append(["NIK", "Nama", "Tanggal Meninggal"])
    for person, died in deaths:
        sheet.append([person.nik, person.name, died])
    for row in sheet.iter_rows(min_row=2):
        row[0].number_format = "@"
        row[2].number_format = "yyyy-mm-dd"
    book.save(path)


def write_deciles(path: Path, deciles: list[tuple[Person, int]]) -> None:
    """Write a DTSEN release as Excel set to Indonesian saves CSV: semicolons, Windows-1252,
    CR LF line ends, the Indonesian headers."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(["NIK", "Nama", "Desil"])
    writer.writerows([p.nik, p.name, str(decile)] for p, decile in deciles)
    path.write_bytes(text.getvalue().encode("cp1252"))
