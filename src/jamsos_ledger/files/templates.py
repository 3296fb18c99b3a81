"""Empty templates of the input files, for the offices to fill (`jamsos workers template`):
registrations, deaths, deciles and BPJS's invoice.

A template heads its columns with their Indonesian names, which every reader takes. The CSV
template is UTF-8 with a byte-order mark, so that Excel opens it with its letters right; the
workbook's NIK (and KPJ) column is formatted as text, so that a NIK typed or pasted keeps its
16 digits (as a number Excel would keep 15).
"""

from __future__ import annotations

import csv
from pathlib import Path

from jamsos_ledger.files.office_files import NIK, FileKind

TEXT = "@"  # Excel's number format "Text"
# Columns of digits that are identifiers, not numbers: a NIK (16 digits, more than Excel keeps
# of a number) and a BPJS KPJ (11 digits, whose leading zeros a number would drop).
_TEXT_COLUMNS = frozenset({NIK, "kpj"})


def write_template(path: Path, kind: FileKind, form: str) -> None:
    """Write the template of that kind of file to `path`, as `csv` or `xlsx`."""
    headers = [c.indonesian for c in kind.columns]
    if form == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f, lineterminator="\r\n").writerow(headers)
        return
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = kind.name
    for number, column in enumerate(kind.columns, start=1):
        cell = sheet.cell(row=1, column=number, value=column.indonesian)
        cell.font = Font(bold=True)
        cell.comment = Comment(
            f"{column.meaning}{'' if column.required else ' (optional)'}; e.g. {column.example}",
            "jamsos",
        )
        letter = get_column_letter(number)
        sheet.column_dimensions[letter].width = max(14, len(column.indonesian) + 4)
        if column.name in _TEXT_COLUMNS:
            sheet.column_dimensions[letter].number_format = TEXT
    sheet.freeze_panes = "A2"
    workbook.save(path)


__all__ = ["write_template"]
