"""Every report pinned: its JSON's keys, their order and values on a small ledger; its CSV; its
tables.

Scripts read these keys release after release, so a change to how reports are computed or
rendered must leave them as they are: this test runs every report on a small, fixed ledger on
both stores and compares the JSON with `pinned_reports.json`, key order included (and the
CSV row by row, the tables line by line). Only the moments claims were recorded (the clock's)
are left out of the comparison, and the keys and lines added since the pin was taken (`ADDED`,
`ADDED_LINES`, and the position of the reports that did not state one, `SAID_NO_POSITION`:
checked by their own tests) are set aside.

To take the pin again after a deliberate, documented change of a report's JSON:
`JAMSOS_PIN_REPORTS=1 .venv/bin/pytest tests/test_reports_json_pinned.py -k sqlite`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from cli_helpers import ok
from jamsos_ledger.application import Ledger
from jamsos_ledger.projections.premiums_due import premiums_due_report
from jamsos_ledger.projections.program_reports import capacity_report, program_figures
from jamsos_ledger.projections.report_values import report_json
from jamsos_ledger.projections.reporting import (
    budget_report,
    claims_report,
    quota_by_report,
    quota_report,
)

PINNED = Path(__file__).with_name("pinned_reports.json")
# Keys added to the reports' JSON after the pin was taken; each has its own tests.
# `audit replay` re-checks the program's rules over the history since: its rules, what they
# looked at and what broke them.
# `report budget` gives the proposals pending (JSON `pending`, CSV their totals as the last
# columns): tests/test_reports_budget.py.
ADDED = {"digest", "rules", "rule_events", "breaches_total", "breaches", "pending",
         "pending_proposals", "pending_commit", "pending_pay"}
# Lines added to the reports' tables after the pin was taken: under every report, and under
# the reports that said no position before.
# ... and `program show` says whether four eyes are on.
ADDED_LINES = ("Chain digest at event", "Rules: every rule held at each of the", "Four eyes")
ADDED_POSITION = ("Computed from the ledger up to event",)
SAID_NO_POSITION = {("program", "show")}
CLOCK = "<recorded at>"
WIB = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
BIRTH = date(1984, 5, 17)
# Twelve workers: serial i has decile DECILES[i - 1], kecamatan KECAMATAN[i % 4].
DECILES = [3, 1, 2, 5, 4, 1, 7, 2, 3, 7, 4, 5]
KECAMATAN = ["Bekasi Timur", "Bekasi Barat", "Rawalumbu", "Bekasi Selatan"]
OCCUPATIONS = ["ojol", "pedagang kaki lima", "buruh harian"]

# Every command that prints a report, with the options that change what it holds.
REPORTS: list[tuple[str, ...]] = [
    ("report", "budget"),
    ("report", "budget", "--as-of", "2099-12-31"),
    ("report", "quota"),
    ("report", "quota", "--as-of", "2099-12-31"),
    ("report", "quota", "--by", "kecamatan"),
    ("report", "quota", "--by", "occupation"),
    ("report", "quota", "--by", "decile"),
    ("report", "claims"),
    ("report", "claims", "--as-of", "2099-12-31"),
    ("premiums", "due", "--today", "2026-04-20"),
    ("program", "capacity"),
    ("program", "capacity", "--start", "2026-06", "--allocation", "3000000", "--quota", "12"),
    ("program", "show"),
    ("audit", "replay"),
]
# Commands with no CSV form.
NO_CSV = {"show", "replay"}


def nik(serial: int) -> str:
    sex = "P" if serial % 2 else "L"
    day = BIRTH.day + (40 if sex == "P" else 0)
    return f"327501{day:02d}{BIRTH.month:02d}{BIRTH.year % 100:02d}{serial:04d}"


def small_ledger(url: str, folder: Path) -> None:
    """A program of Rp 2.000.000 for 10 workers; 12 registered; a decree enrols serial 4
    (decile 5) ahead of the six of tier 1 (a priority breach), then the best three; January
    and February paid; one coverage ended; two claims, one with its benefit."""
    lines = ["nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"]
    for i, decile in enumerate(DECILES, start=1):
        lines.append(f"{nik(i)},Pekerja {i},{BIRTH},{'P' if i % 2 else 'L'},{KECAMATAN[i % 4]},"
                     f"Margahayu,{OCCUPATIONS[i % 3]},{decile},Dinsos")
    registrations = folder / "r.csv"
    registrations.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ok(url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000", "--quota",
       "10")
    ok(url, "workers", "import", str(registrations))
    ok(url, "workers", "prioritize")
    ok(url, "enroll", "--nik", nik(4), "--start", "2026-01", "--decree", "KEP-1")
    ok(url, "enroll", "--top", "3", "--start", "2026-01", "--decree", "KEP-2")
    ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D-01")
    ok(url, "premiums", "pay", "--month", "2026-02", "--sp2d", "SP2D-02")
    ok(url, "end", "--nik", nik(4), "--month", "2026-03", "--reason", "moved")
    ok(url, "claims", "file", "--nik", nik(2), "--scheme", "JKK", "--date", "2026-02-03",
       "--reference", "JKK-0001", "--benefit", "5000000")
    ok(url, "claims", "file", "--nik", nik(6), "--scheme", "JKM", "--date", "2026-03-09",
       "--reference", "JKM-0001")


def without_clock(value: Any, added: set[str] = ADDED) -> Any:
    """The JSON with the moments claims were recorded replaced, and the keys `added` since
    the pin left out: what the pin holds."""
    if isinstance(value, dict):
        return {k: CLOCK if k == "recorded_at" else without_clock(v, added)
                for k, v in value.items() if k not in added}
    if isinstance(value, list):
        return [without_clock(v, added) for v in value]
    return value


def key_order(value: Any) -> Any:
    """The keys of every object, in their order: `==` on dicts ignores it, scripts may not."""
    if isinstance(value, dict):
        return [[k, key_order(v)] for k, v in value.items()]
    if isinstance(value, list):
        return [key_order(v) for v in value]
    return None


def csv_without_clock(text: str) -> list[list[str]]:
    """A CSV report's rows, the moments claims were recorded replaced and the columns in
    `ADDED` left out."""
    header, *rows = csv.reader(io.StringIO(text))
    kept = [i for i, key in enumerate(header) if key not in ADDED]
    clock = header.index("recorded_at") if "recorded_at" in header else None
    return [[header[i] for i in kept]] + [
        [CLOCK if i == clock else row[i] for i in kept] for row in rows
    ]


def table_without_clock(text: str, added: tuple[str, ...] = ADDED_LINES) -> list[str]:
    """A report's tables, line by line, moments in WIB replaced and the lines beginning with
    `added` (or whose first cell begins so) left out."""
    return [WIB.sub(CLOCK, line) for line in text.splitlines()
            if not line.startswith(added) and not line.removeprefix("│ ").startswith(added)]


def all_reports(url: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for command in REPORTS:
        said_no_position = command in SAID_NO_POSITION
        found[" ".join(command)] = without_clock(
            json.loads(ok(url, *command, "--format", "json").stdout),
            ADDED | ({"position"} if said_no_position else set()),
        )
        if command[-1] not in NO_CSV:
            found[" ".join(command) + " (CSV)"] = csv_without_clock(
                ok(url, *command, "--format", "csv").stdout
            )
        added = ADDED_LINES + (ADDED_POSITION if said_no_position else ())
        found[" ".join(command) + " (table)"] = table_without_clock(ok(url, *command).stdout,
                                                                    added)
    return found


def test_every_reports_json_is_as_pinned(store_url: str, tmp_path: Path) -> None:
    small_ledger(store_url, tmp_path)
    found = all_reports(store_url)
    if os.environ.get("JAMSOS_PIN_REPORTS"):
        PINNED.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))
    assert list(found) == list(pinned)
    for command, report in found.items():
        assert report == pinned[command], command
        assert key_order(report) == key_order(pinned[command]), command


def test_report_json_of_a_value_is_what_the_command_prints(store_url: str, tmp_path: Path) -> None:
    """A service calling `report_json` on the report values returns the JSON the command line
    prints: the same function makes both."""
    small_ledger(store_url, tmp_path)
    ledger = Ledger(store_url)
    try:
        p = ledger.program()

        def mask(ids: Sequence[UUID]) -> dict[UUID, str]:
            return {wid: w.masked_nik for wid, w in ledger.aggregates(list(ids)).items()}

        with ledger.views.reading() as views:
            values = {
                ("report", "budget"): budget_report(views, p.id),
                ("report", "quota"): quota_report(views, p.id, mask),
                ("report", "quota", "--by", "occupation"): quota_by_report(
                    views, p.id, "occupation", mask),
                ("report", "claims"): claims_report(views, p.id, p.code),
            }
        values[("premiums", "due", "--today", "2026-04-20")] = premiums_due_report(
            ledger.views, p.id, p.code, date(2026, 4, 20))
        values[("program", "capacity", "--quota", "12")] = capacity_report(
            p, p.start, ledger.recorder, quota=12)
        values[("program", "show")] = program_figures(p, ledger.recorder)
    finally:
        ledger.close()
    for command, value in values.items():
        printed = json.loads(ok(store_url, *command, "--format", "json").stdout)
        if command == ("report", "budget"):
            # The proposals pending are not of the report's values: both front doors add them
            # (`proposal_view.pending_rows`); this ledger has none.
            assert printed.pop("pending") == []
        assert json.loads(json.dumps(report_json(value))) == printed, command
