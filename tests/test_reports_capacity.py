"""`program capacity`: how many more workers fit from each start month, what runs out first, and
what an amendment of the allocation or the quota would change (nothing is recorded).

Nine of the small program (Rp 2.000.000, quota 10) are enrolled for the whole year:
Rp 1.814.400 committed, Rp 185.600 available, one place left. A worker costs Rp 16.800 a month:
from January (Rp 201.600) nobody fits; from February (11 months, Rp 184.800) one does, and the
one place left is then what limits.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cli_helpers import as_json, events, jamsos

BIRTH = date(1984, 5, 17)


def nik(serial: int) -> str:
    sex = "P" if serial % 2 else "L"
    day = BIRTH.day + (40 if sex == "P" else 0)
    return f"327501{day:02d}{BIRTH.month:02d}{BIRTH.year % 100:02d}{serial:04d}"


@pytest.fixture
def nine(store_url: str, tmp_path: Path) -> str:
    lines = ["nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"]
    for i in range(1, 10):
        sex = "P" if i % 2 else "L"
        lines.append(f"{nik(i)},Pekerja {i},{BIRTH},{sex},01,K,ojol,{i % 5 + 1},Disnaker")
    path = tmp_path / "r.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for args in (("program", "open", "--one-key", "--year", "2026", "--allocation", "2000000",
                  "--quota", "10"), ("workers", "import", str(path)), ("workers", "prioritize"),
                 ("enroll", "--top", "9", "--start", "2026-01")):
        assert jamsos(store_url, *args).exit_code == 0
    return store_url


def test_capacity_by_start_month_and_what_limits_it(nine: str) -> None:
    c = as_json(nine, "program", "capacity")
    assert (c["workers"], c["limited_by"], c["available"], c["places_left"]) == (
        0, "money", 185_600, 1
    )
    assert c["position"] == events(nine)
    by_start = {r["start"]: r for r in c["by_start"]}
    assert (by_start["2026-01"]["cost_per_worker"], by_start["2026-01"]["workers"]) == (201_600, 0)
    assert (by_start["2026-02"]["workers"], by_start["2026-02"]["commits"],
            by_start["2026-02"]["limited_by"]) == (1, 184_800, "places")
    assert "what_if" not in c


def test_what_an_amendment_would_change(nine: str) -> None:
    before = events(nine)
    # APBD-P to Rp 2.016.000: Rp 201.600 available, the tenth fits for the whole year.
    c = as_json(nine, "program", "capacity", "--allocation", "2016000")
    assert c["workers"] == 0
    assert c["what_if"] == {"allocation": 2_016_000, "quota": 10, "available": 201_600,
                            "places_left": 1, "workers": 1, "more": 1}
    assert c["by_start"][0]["limited_by_amended"] == "places"
    # Rp 2.500.000 and a quota of 15: Rp 685.600 available, 3 x 201.600 = 604.800 fits, not 4.
    c = as_json(nine, "program", "capacity", "--allocation", "2500000", "--quota", "15")
    assert (c["what_if"]["workers"], c["what_if"]["more"]) == (3, 3)
    assert c["by_start"][0]["limited_by_amended"] == "money"
    # From July (6 months, Rp 100.800 a worker): 6 of 685.600 // 100.800 = 6, the 6 places.
    july = next(r for r in c["by_start"] if r["start"] == "2026-07")
    assert (july["workers"], july["workers_amended"], july["limited_by_amended"]) == (
        1, 6, "places"
    )
    table = jamsos(nine, "program", "capacity", "--quota", "15", "--allocation", "2500000")
    assert "Fit if amended" in table.stdout and "3 fit (+3)" in table.stdout
    # An amendment the program would refuse is refused here too; nothing is ever written.
    refused = jamsos(nine, "program", "capacity", "--allocation", "1000000")
    assert refused.exit_code == 1 and "Rp 1.814.400" in refused.stderr
    assert events(nine) == before
    assert as_json(nine, "program", "show")["allocation"] == 2_000_000
