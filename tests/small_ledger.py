"""A small ledger as a newcomer makes one: 20 generated workers, 17 of them enrolled.

Shared by the tests of what a person sees (terminal tables, charts, messages): the program is
the seed's, Rp 2.000.000.000 for a quota of 10.000, so 17 workers are a sliver of it, the case
whose charts and tables looked wrong.
"""

from __future__ import annotations

import csv
from pathlib import Path

from cli_helpers import ok
from registration_file import generate_registrations

ENROLLED = 17


def twenty_workers(url: str, folder: Path) -> list[str]:
    """Open the program, register 20 workers, enrol the 17 eligible from January and pay
    January under SP2D/01; the NIKs of the registration file, in its order."""
    path = folder / "registrasi.csv"
    generate_registrations(path, 20, bad_rate=0, duplicate_rate=0)
    ok(url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000000",
       "--quota", "10000")
    ok(url, "workers", "import", str(path))
    ok(url, "workers", "prioritize")
    ok(url, "enroll", "--top", str(ENROLLED), "--start", "2026-01", "--decree", "KEP/1/2026")
    ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/01/2026")
    with path.open(encoding="utf-8") as f:
        return [row["nik"] for row in csv.DictReader(f)]
