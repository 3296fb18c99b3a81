"""`report budget` and its burn-down chart, on the seed scaled down a thousand times.

Rp 2.000.000 for a quota of 10 at Rp 16.800 a month (JKK 10.000 + JKM 6.800). Nine workers
are enrolled from January: Rp 1.814.400 committed. January to April are paid under four SP2D
(4 x 9 x 16.800 = Rp 604.800). Then a death in March is recorded: April was paid for nine but
covers eight, an overpayment of Rp 16.800, and May to December (8 months x 8 workers) remain:
64 x 16.800 = Rp 1.075.200 committed. Available, and left unspent at year end if nothing
changes (SiLPA): 2.000.000 - 604.800 - 1.075.200 = Rp 320.000.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PIL import Image

from cli_helpers import as_json, events, ok
from jamsos_ledger.application import Ledger
from jamsos_ledger.cli.charts import (
    LABEL_ALLOCATION,
    LABEL_COMMITTED_MONTH,
    LABEL_FORECAST,
    LABEL_PAID,
    LABEL_PAID_MONTH,
    budget_figure,
    burndown_series,
)
from jamsos_ledger.projections.reporting import budget_report

BIRTH = date(1984, 5, 17)
DECILES = [3, 1, 2, 5, 4, 1, 7, 2, 3, 7, 4, 5]


def nik(serial: int) -> str:
    sex = "P" if serial % 2 else "L"
    day = BIRTH.day + (40 if sex == "P" else 0)
    return f"327501{day:02d}{BIRTH.month:02d}{BIRTH.year % 100:02d}{serial:04d}"


def registrations(tmp_path: Path) -> Path:
    lines = ["nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"]
    for i, decile in enumerate(DECILES, start=1):
        sex = "P" if i % 2 else "L"
        lines.append(f"{nik(i)},Pekerja {i},{BIRTH},{sex},01,Aren Jaya,ojol,{decile},Disnaker")
    path = tmp_path / "registrations.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def half_year(store_url: str, tmp_path: Path) -> str:
    """Nine enrolled from January, January to April paid, then a March death recorded."""
    ok(store_url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000",
       "--quota", "10")
    ok(store_url, "workers", "import", str(registrations(tmp_path)))
    ok(store_url, "workers", "prioritize")
    ok(store_url, "enroll", "--top", "9", "--start", "2026-01", "--decree", "KEP-1")
    for month in range(1, 5):
        ok(store_url, "premiums", "pay", "--month", f"2026-{month:02d}", "--sp2d",
           f"SP2D-{month:02d}")
    # Serial 2 (decile 1) is ranked first and so enrolled.
    ok(store_url, "end", "--nik", nik(2), "--month", "2026-03", "--reason", "died")
    return store_url


def test_budget_totals_forecast_and_silpa(half_year: str) -> None:
    b = as_json(half_year, "report", "budget")
    # The keys kept from release to release, and available = allocation - committed - paid.
    assert (b["allocation"], b["committed"], b["paid"], b["available"]) == (
        2_000_000, 1_075_200, 604_800, 320_000
    )
    # The split: 36 participant-months paid, 64 committed.
    assert (b["paid_jkk"], b["paid_jkm"]) == (36 * 10_000, 36 * 6_800)
    assert (b["committed_jkk"], b["committed_jkm"]) == (64 * 10_000, 64 * 6_800)
    assert b["overpaid"] == 16_800
    # Planned: 3 months x 9 + 9 months x 8 = 99 participant-months.
    assert b["planned"] == 99 * 16_800
    assert b["forecast"] == {
        "first_unpaid_month": "2026-05",
        "last_paid_month": "2026-04",
        "to_pay": 1_075_200,
        "spent_at_end": 1_680_000,
        "silpa": 320_000,
    }
    assert b["silpa"] == b["available"] == 320_000
    assert b["payments"] == 4
    assert b["position"] == events(half_year)


def test_budget_months_planned_paid_with_sp2d_and_forecast(half_year: str) -> None:
    months = {m["month"]: m for m in as_json(half_year, "report", "budget")["months"]}
    assert len(months) == 12
    march, april, may = months["2026-03"], months["2026-04"], months["2026-05"]
    assert (march["active"], march["paid_participants"], march["status"]) == (9, 9, "paid")
    assert march["sp2d"] == ["SP2D-03"]
    # April: paid for nine, eight covered: Rp 16.800 overpaid, nothing to forecast.
    assert (april["active"], april["paid_participants"], april["status"]) == (8, 9, "overpaid")
    assert (april["paid"], april["overpaid"], april["forecast"]) == (151_200, 16_800, 0)
    assert april["cumulative_paid"] == 604_800
    # May onwards: unpaid, billed for eight if nothing changes.
    assert (may["status"], may["sp2d"], may["forecast"], may["planned"]) == (
        "unpaid", [], 134_400, 134_400
    )
    assert months["2026-12"]["cumulative_forecast"] == 604_800 + 1_075_200


def test_budget_table_and_csv(half_year: str) -> None:
    table = ok(half_year, "report", "budget").stdout
    for text in ("Rp 2.000.000", "Rp 1.075.200", "Rp 604.800", "SP2D-04", "Rp 134.400",
                 "SiLPA", "Rp 320.000 left unspent at year end if nothing changes", "Total",
                 "overpaid", f"up to event {events(half_year)}"):
        assert text in table, text
    rows = list(csv.DictReader(io.StringIO(ok(half_year, "report", "budget", "--format",
                                               "csv").stdout)))
    assert rows[0]["month"] == "2026-01" and rows[0]["sp2d"] == "SP2D-01"
    # Plain integers for scripts, never `Rp` or dots.
    assert (rows[4]["forecast"], rows[4]["status"], rows[4]["paid"]) == ("134400", "unpaid", "0")


def test_the_burndown_series_and_chart(half_year: str, tmp_path: Path) -> None:
    ledger = Ledger(half_year)
    try:
        report = budget_report(ledger.views, ledger.program().id)
    finally:
        ledger.close()
    s = burndown_series(report)
    assert s["allocation"] == 2_000_000
    assert s["paid_cumulative"] == [151_200, 302_400, 453_600, 604_800]
    # The forecast starts at the last paid month and adds 8 x 16.800 a month to December.
    assert s["forecast_months"][0] == "2026-04" and s["forecast_months"][-1] == "2026-12"
    assert s["forecast_cumulative"] == [604_800 + 134_400 * k for k in range(9)]
    assert s["forecast_cumulative"][-1] == 1_680_000
    assert s["committed_monthly"] == [0] * 4 + [134_400] * 8
    assert s["silpa"] == 320_000

    fig = budget_figure(report)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {LABEL_ALLOCATION, LABEL_PAID, LABEL_FORECAST}
    assert list(lines[LABEL_PAID].get_ydata()) == s["paid_cumulative"]
    assert list(lines[LABEL_FORECAST].get_ydata()) == s["forecast_cumulative"]
    assert list(lines[LABEL_ALLOCATION].get_ydata()) == [2_000_000, 2_000_000]
    bars = {c.get_label(): [p.get_height() for p in c.patches] for c in ax.containers}
    assert bars[LABEL_PAID_MONTH] == [151_200] * 4 + [0] * 8
    assert bars[LABEL_COMMITTED_MONTH] == s["committed_monthly"]
    assert ax.get_title(loc="left").startswith("Budget burn-down, program 2026")
    assert ax.get_xlabel() and ax.get_ylabel()

    # Through the command line: a real PNG, large enough for a printed page.
    chart = tmp_path / "burndown.png"
    shown = ok(half_year, "report", "budget", "--chart", str(chart)).stdout
    assert f"Chart written to {chart}" in shown
    with Image.open(chart) as image:
        assert image.format == "PNG"
        assert image.size[0] >= 1200 and image.size[1] >= 700
    # JSON stays pure JSON with a chart drawn beside it.
    # (the chart replaced, with consent: an existing file is never replaced without it)
    json.loads(ok(half_year, "report", "budget", "--chart", str(chart), "--overwrite",
                  "--format", "json").stdout)


def test_a_program_with_nothing_paid_forecasts_from_its_first_month(sqlite_url: str) -> None:
    ok(sqlite_url, "program", "open", "--year", "2026", "--allocation", "2000000",
       "--quota", "10")
    b = as_json(sqlite_url, "report", "budget")
    assert b["forecast"]["first_unpaid_month"] is None and b["silpa"] == 2_000_000
    s = burndown_series(b)
    assert s["paid_cumulative"] == [] and s["forecast_cumulative"] == [0] * 12


def test_a_report_as_of_a_moment_states_the_position_it_stood_at(
    sqlite_url: str, tmp_path: Path
) -> None:
    url = sqlite_url
    ok(url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000", "--quota",
       "10")
    ok(url, "workers", "import", str(registrations(tmp_path)))
    ok(url, "workers", "prioritize")
    ok(url, "enroll", "--top", "9", "--start", "2026-01")
    then, moment = events(url), datetime.now(UTC).isoformat()
    ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D-01")
    assert events(url) > then
    before = as_json(url, "report", "budget", "--as-of", moment)
    # Nothing paid then: 9 x 201.600 committed; the figures stand at the enrolment's events.
    assert (before["paid"], before["committed"], before["position"]) == (0, 1_814_400, then)
    assert as_json(url, "report", "budget")["position"] == events(url)


def test_the_json_and_csv_give_the_pending_proposals_the_table_shows(
    store_url: str, tmp_path: Path
) -> None:
    """Under four eyes, a decree and a payment proposed and waiting: the table lists them, the
    JSON under `pending` (as `proposals list`), the CSV their totals as its last columns; the
    figures themselves count neither until approved."""
    from registration_file import generate_registrations

    path = tmp_path / "registrasi.csv"
    generate_registrations(path, 6, bad_rate=0, duplicate_rate=0)
    url = store_url
    ok(url, "program", "open", "--year", "2026", "--allocation", "2000000000", "--quota",
       "100", "--four-eyes")
    ok(url, "workers", "import", str(path), actor="ops")
    ok(url, "workers", "prioritize", actor="ops")
    empty = json.loads(ok(url, "report", "budget", "--format", "json").stdout)
    assert empty["pending"] == []
    proposed = ok(url, "enroll", "--top", "5", "--start", "2026-01", "--decree", "KEP/1",
                  actor="ops").stdout
    decree = re.search(r"Proposed [a-z ]+ ([0-9a-f]{8}) ", proposed)
    assert decree, proposed
    data = json.loads(ok(url, "report", "budget", "--format", "json").stdout)
    assert data["committed"] == 0  # not in the figures until approved
    # The decree names the workers ranked when it was proposed, masked.
    what = data["pending"][0]["what"]
    assert re.fullmatch(r"top 5 as ranked when proposed: (\d{6}\*{8}\d{2}, ){2}\d{6}\*{8}\d{2} "
                        r"and 2 more from 2026-01 under decree KEP/1", what), what
    assert data["pending"] == [{
        "id": decree.group(1), "kind": "enrolment", "program": "2026",
        "what": what, "would_commit": 5 * 12 * 16_800,
        "would_pay": 0, "proposer": "ops", "status": "pending", "decided_by": None,
    }]
    # The same view as `proposals list` (and the API's budget, as every report).
    assert data["pending"] == json.loads(ok(url, "proposals", "list", "--format", "json").stdout)
    rows = list(csv.DictReader(io.StringIO(ok(url, "report", "budget", "--format",
                                              "csv").stdout)))
    assert len(rows) == 12
    assert list(rows[0])[-5:] == ["pending_proposals", "pending_commit", "pending_pay",
                                  "position", "digest"]
    assert {(r["pending_proposals"], r["pending_commit"], r["pending_pay"]) for r in rows} == {
        ("1", str(5 * 12 * 16_800), "0")}
    table = ok(url, "report", "budget").stdout
    assert "Pending proposals (1)" in table and "would commit Rp 1.008.000" in table
    # As of a moment, the report is of then: no proposals pending now are given.
    past = json.loads(ok(url, "report", "budget", "--format", "json", "--as-of",
                         "2099-12-31").stdout)
    assert "pending" not in past
