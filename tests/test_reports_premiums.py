"""`premiums due`: due dates on the 15th rolled past weekends and Indonesian public holidays (the
data the ledger ships), and the warning before BPJS makes unpaid participants inactive.

Nine of the small program are enrolled from January and only January is paid (SP2D-01). Each
month's bill is 9 x Rp 16.800 = Rp 151.200.
"""

from __future__ import annotations

import json
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import events, ok
from jamsos_ledger.domain.billing import (
    HOLIDAYS_FILE,
    deactivation_date,
    due_date,
    holiday_years,
    holidays,
    is_working_day,
    read_holidays,
)
from jamsos_ledger.domain.months import Month

BIRTH = date(1984, 5, 17)


def nik(serial: int) -> str:
    sex = "P" if serial % 2 else "L"
    day = BIRTH.day + (40 if sex == "P" else 0)
    return f"327501{day:02d}{BIRTH.month:02d}{BIRTH.year % 100:02d}{serial:04d}"


def due(url: str, today: str) -> tuple[list[dict[str, Any]], str]:
    result = ok(url, "premiums", "due", "--today", today, "--format", "json")
    return json.loads(result.stdout), result.stderr


def test_the_holidays_ship_inside_the_package() -> None:
    text = files("jamsos_ledger").joinpath("data", HOLIDAYS_FILE).read_text(encoding="utf-8")
    shipped = read_holidays(text)
    assert shipped == holidays()
    assert {2025, 2026, 2027} <= holiday_years()
    for year in (2025, 2026, 2027):
        for fixed in ((1, 1), (5, 1), (6, 1), (8, 17), (12, 25)):
            assert date(year, *fixed) in shipped, (year, fixed)
    # Idul Fitri 1447 H falls around 20-21 March 2026: offices are closed 18-24 March.
    assert all(not is_working_day(date(2026, 3, d)) for d in range(18, 25))
    assert {h.kind for h in shipped.values()} == {"libur", "cuti"}
    # Every 2025 and 2026 date is read from a decree; 2027's moving ones are marked estimates.
    assert not any(h.estimate for h in shipped.values() if h.day.year < 2027)
    assert any(h.estimate for h in shipped.values() if h.day.year == 2027)


@pytest.mark.parametrize(("month", "expected"), [
    (Month(2025, 12), date(2026, 1, 15)),  # a Thursday
    # 15 Feb 2026 is a Sunday, the 16th cuti bersama for Imlek, the 17th Imlek: Wednesday 18th.
    (Month(2026, 1), date(2026, 2, 18)),
    (Month(2026, 2), date(2026, 3, 16)),  # Sunday 15 March: Monday
    (Month(2026, 3), date(2026, 4, 15)),  # a Wednesday
    # Friday 15 May 2026 is cuti bersama after Ascension Day: Monday 18th.
    (Month(2026, 4), date(2026, 5, 18)),
    # Saturday 15 August, Sunday, Monday 17th Independence Day: Tuesday 18th.
    (Month(2026, 7), date(2026, 8, 18)),
    (Month(2026, 10), date(2026, 11, 16)),  # Sunday 15 November: Monday
    (Month(2026, 12), date(2027, 1, 15)),  # a Friday
])
def test_due_dates_roll_past_weekends_and_holidays(month: Month, expected: date) -> None:
    assert due_date(month) == expected


def test_deactivation_is_three_months_after_the_billed_month() -> None:
    assert deactivation_date(Month(2026, 2)) == date(2026, 5, 1)
    assert deactivation_date(Month(2026, 11)) == date(2027, 2, 1)


@pytest.fixture
def january_paid(store_url: str, tmp_path: Path) -> str:
    lines = ["nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"]
    for i in range(1, 10):
        sex = "P" if i % 2 else "L"
        lines.append(f"{nik(i)},Pekerja {i},{BIRTH},{sex},01,K,ojol,{i % 5 + 1},Disnaker")
    path = tmp_path / "r.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ok(store_url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000",
       "--quota", "10")
    ok(store_url, "workers", "import", str(path))
    ok(store_url, "workers", "prioritize")
    ok(store_url, "enroll", "--top", "9", "--start", "2026-01")
    ok(store_url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D-01")
    return store_url


def test_bills_due_and_the_warning_before_deactivation(january_paid: str) -> None:
    rows, warnings = due(january_paid, "2026-04-20")
    assert [(r["month"], r["participants"], r["amount"], r["due"], r["months_unpaid"],
             r["deactivation"], r["status"]) for r in rows] == [
        ("2026-02", 9, 151_200, "2026-03-16", 2, "2026-05-01", "at risk"),
        ("2026-03", 9, 151_200, "2026-04-15", 1, "2026-06-01", "overdue"),
        ("2026-04", 9, 151_200, "2026-05-18", 0, "2026-07-01", "due"),
    ]
    assert [(r["jkk"], r["jkm"]) for r in rows] == [(90_000, 61_200)] * 3
    assert all(r["position"] == rows[0]["position"] > 0 for r in rows)
    # February: two months unpaid, warned with the date BPJS would deactivate its nine.
    assert warnings == ("Warning: 2026-02 is unpaid for 9 participants (Rp 151.200): BPJS "
                        "makes them inactive on 2026-05-01 unless it is paid by then\n")
    assert "2026-03 is unpaid" not in warnings

    table = ok(january_paid, "premiums", "due", "--today", "2026-04-20").stdout
    for text in ("2026-05-18", "at risk", "Rp 453.600 due for 3 months up to 2026-04",
                 "Computed from the ledger up to event"):
        assert text in table, text

    # On 2 May February's nine are past three months: inactive at BPJS.
    rows, warnings = due(january_paid, "2026-05-02")
    assert rows[0]["status"] == "inactive at BPJS"
    assert warnings == (
        "Warning: 2 months are unpaid two months or more (Rp 302.400 in all): BPJS has made "
        "the participants of 2026-02 inactive (three months unpaid), and makes those of 2026-03 "
        "inactive on 2026-06-01 unless it is paid by then\n"
    )
    # Paying February and March leaves April and May, neither at risk.
    ok(january_paid, "premiums", "pay", "--month", "2026-02", "--sp2d", "SP2D-02")
    ok(january_paid, "premiums", "pay", "--month", "2026-03", "--sp2d", "SP2D-03")
    rows, warnings = due(january_paid, "2026-05-02")
    assert [r["month"] for r in rows] == ["2026-04", "2026-05"] and warnings == ""


def test_a_year_without_holiday_data_is_said_so(sqlite_url: str, tmp_path: Path) -> None:
    ok(sqlite_url, "program", "open", "--one-key", "--year", "2031", "--allocation", "2000000",
       "--quota", "10")
    lines = ["nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source",
             f"{nik(1)},Pekerja 1,{BIRTH},P,01,K,ojol,1,Disnaker"]
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ok(sqlite_url, "workers", "import", str(tmp_path / "r.csv"))
    ok(sqlite_url, "workers", "prioritize")
    ok(sqlite_url, "enroll", "--top", "1", "--start", "2031-01")
    rows, warnings = due(sqlite_url, "2031-01-20")
    assert rows[0]["due"] == "2031-02-17"  # Saturday 15th: the Monday after
    assert "no public holidays for 2031" in warnings


def test_every_month_at_risk_is_said_in_one_sentence(january_paid: str) -> None:
    """December with February to December unpaid: one warning line, the months as ranges."""
    ok(january_paid, "premiums", "pay", "--month", "2026-03", "--sp2d", "SP2D-03")
    _, warnings = due(january_paid, "2026-12-20")
    assert warnings == (
        "Warning: 8 months are unpaid two months or more (Rp 1.209.600 in all): BPJS has made "
        "the participants of 2026-02 and 2026-04 to 2026-09 inactive (three months unpaid), "
        "and makes those of 2026-10 inactive on 2027-01-01 unless it is paid by then\n"
    )


def test_paying_a_month_before_earlier_ones_is_said(january_paid: str) -> None:
    """Recorded (bills are paid as BPJS's are reconciled), with a warning naming the months
    left unpaid before it; paying them in order says nothing."""
    before = events(january_paid)
    result = ok(january_paid, "premiums", "pay", "--month", "2026-05", "--sp2d", "SP2D-05")
    assert events(january_paid) > before
    assert result.stdout == "Paid Rp 151.200 for 9 participants in 2026-05 under SP2D SP2D-05\n"
    assert result.stderr == (
        "Warning: 2026-05 is paid while 2026-02 to 2026-04 are still unpaid: BPJS "
        "makes a month's participants inactive once it is three months unpaid "
        "(`jamsos premiums due` lists the bills)\n"
    )
    paid = ok(january_paid, "premiums", "pay", "--month", "2026-02", "--sp2d", "SP2D-02")
    assert paid.stderr == ""
    later = ok(january_paid, "premiums", "pay", "--month", "2026-12", "--sp2d", "SP2D-12")
    assert "2026-03, 2026-04 and 2026-06 to 2026-11 are still unpaid" in later.stderr
