"""No value the ledger accepts can break it later (issue 15, "No value the ledger accepts").

Events are never edited: an amount no store column can hold, or whose sums overflow one, would
break every later report, replay and rebuild for ever. Every amount, count and date a command
takes has a bound checked by the domain before anything is written. On SQLite and PostgreSQL:

- the extremes just inside every bound (allocation, quota, rates, payment, benefits, program
  years, claim dates, the ages of a registration, `--today`, `--as-of`) are recorded, and then
  every report, `audit replay`, `audit verify` and `projections rebuild` still works and says
  what was recorded;
- values just outside, and far outside (2**63, 2**64...), drawn by Hypothesis for every option
  of every command, are refused with the documented exit code, no traceback, and the store
  unchanged, byte for byte.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_helpers import contents
from jamsos_ledger.cli import main
from jamsos_ledger.domain.model import today
from jamsos_ledger.domain.money import MAX_BENEFIT, MAX_RUPIAH, MAX_WORKERS
from jamsos_ledger.domain.rules import MAXIMUM_AGE, MINIMUM_AGE, PROGRAM_YEARS

HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"
SITI = "3275014203850001"  # born 1985: 28 in 2014, 41 in 2026
BUDI = "3275051708900042"
AGUS = "3275092512880007"
WORKERS = (
    f"{SITI},Siti Rahmawati,1985-03-02,P,01,Margahayu,pedagang,2,Disnaker\n"
    f"{BUDI},Budi Santoso,1990-08-17,L,05,Bojong Rawalumbu,ojol,1,Dinsos\n"
    f"{AGUS},Agus Salim,1988-12-25,L,09,Jatiluhur,buruh harian,3,Grab\n"
)
FIRST_YEAR, LAST_YEAR = PROGRAM_YEARS.start, PROGRAM_YEARS.stop - 1
HUGE = [2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 10**30]
settings_ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow], deadline=None)


def jamsos(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--store", url, *args])


def ok(url: str, *args: str) -> str:
    result = jamsos(url, *args)
    assert result.exit_code == 0, (args, result.output)
    assert "Traceback" not in result.output
    return result.stdout


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier (28 February for a 29th in a year that has none)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def registration(serial: int, born: date) -> str:
    """A row of a man born that day, his NIK's date part agreeing."""
    nik = f"327501{born.day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"
    return f"{nik},Pekerja {serial},{born.isoformat()},L,01,Margahayu,ojol,2,Disnaker\n"


def a_year_of_extremes(url: str, tmp_path: Path) -> None:
    """Record the extremes just inside every bound."""
    born_18 = years_before(today(), MINIMUM_AGE)  # 18 today
    born_65 = years_before(today(), MAXIMUM_AGE + 1) + timedelta(days=1)  # 66 tomorrow
    registrations = tmp_path / "registrasi.csv"
    registrations.write_text(
        HEADER + "\n" + WORKERS + registration(7001, born_18) + registration(7002, born_65),
        encoding="utf-8",
    )
    # The first year, its one month costing the largest allocation: the largest rates.
    ok(url, "program", "open", "--one-key", "--year", str(FIRST_YEAR), "--code", "FIRST",
       "--start", f"{FIRST_YEAR}-01", "--end", f"{FIRST_YEAR}-01",
       "--allocation", str(MAX_RUPIAH), "--quota", str(MAX_WORKERS),
       "--jkk-monthly", str(MAX_RUPIAH // 2), "--jkm-monthly", str(MAX_RUPIAH // 2))
    # The last year, the smallest allocation and quota.
    ok(url, "program", "open", "--one-key", "--year", str(LAST_YEAR), "--code", "LAST",
       "--allocation", "1", "--quota", "1", "--jkk-monthly", "10000", "--jkm-monthly", "1")
    ok(url, "program", "open", "--one-key", "--year", "2026", "--code", "Y2026",
       "--allocation", "2000000000", "--quota", "10")
    assert "Registered 5 workers" in ok(url, "workers", "import", str(registrations))
    ok(url, "workers", "prioritize")
    ok(url, "--program", "FIRST", "enroll", "--nik", SITI, "--start", f"{FIRST_YEAR}-01",
       "--decree", "KEP/2014")
    ok(url, "--program", "FIRST", "premiums", "pay", "--month", f"{FIRST_YEAR}-01",
       "--sp2d", "SP2D/2014", "--amount", str(MAX_RUPIAH))
    ok(url, "--program", "Y2026", "enroll", "--nik", BUDI, "--nik", AGUS, "--start", "2026-01",
       "--decree", "KEP/2026")
    ok(url, "--program", "Y2026", "program", "amend", "--allocation", str(MAX_RUPIAH),
       "--quota", str(MAX_WORKERS), "--reason", "APBD-P")
    ok(url, "--program", "Y2026", "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/01")
    # Benefits at their bound on every claim, on the first and the last day of the period.
    ok(url, "claims", "file", "--nik", BUDI, "--scheme", "JKK", "--date", "2026-01-01",
       "--reference", "JKK-1", "--benefit", str(MAX_BENEFIT))
    ok(url, "claims", "file", "--nik", AGUS, "--scheme", "JKM", "--date", "2026-12-31",
       "--reference", "JKM-1", "--benefit", "0")
    ok(url, "claims", "benefit", "--nik", AGUS, "--reference", "JKM-1",
       "--amount", str(MAX_BENEFIT))
    ok(url, "claims", "file", "--nik", BUDI, "--scheme", "JKK", "--date", "2026-12-31",
       "--reference", "JKK-2", "--benefit", str(MAX_BENEFIT))


@pytest.fixture
def ledger(store_url: str, tmp_path: Path) -> str:
    a_year_of_extremes(store_url, tmp_path)
    ok(store_url, "--program", "Y2026", "report", "budget")  # projections caught up
    return store_url


def test_the_extremes_inside_every_bound_are_recorded_and_every_later_command_works(
    ledger: str,
) -> None:
    url = ledger
    first = json.loads(ok(url, "--program", "FIRST", "report", "budget", "--format", "json"))
    assert (first["allocation"], first["paid"], first["available"]) == (MAX_RUPIAH,
                                                                         MAX_RUPIAH, 0)
    year = json.loads(ok(url, "--program", "Y2026", "report", "budget", "--format", "json"))
    assert year["allocation"] == MAX_RUPIAH
    quota = json.loads(ok(url, "--program", "Y2026", "report", "quota", "--format", "json"))
    assert (quota["quota"], quota["enrolled"]) == (MAX_WORKERS, 2)
    claims = ok(url, "--program", "Y2026", "report", "claims", "--format", "json")
    assert str(3 * MAX_BENEFIT) in claims
    for code in ("FIRST", "LAST", "Y2026"):
        ok(url, "--program", code, "report", "budget")
        ok(url, "--program", code, "report", "quota", "--by", "decile")
        ok(url, "--program", code, "report", "claims")
        ok(url, "--program", code, "program", "capacity")
        ok(url, "--program", code, "premiums", "due", "--today", "9999-12-31")
        ok(url, "--program", code, "premiums", "due", "--today", "1900-01-01")
        for when in ("9999-12-30", "9999-12-31T23:59:59+07:00"):
            ok(url, "--program", code, "report", "budget", "--as-of", when)
        early = jamsos(url, "--program", code, "report", "budget", "--as-of", "1900-01-01")
        assert early.exit_code == 1 and "was not open yet" in early.stderr, early.output
        # Before the ledger's calendar (1900-9999): a mistyped year, refused as bad input.
        mistyped = jamsos(url, "--program", code, "report", "budget", "--as-of",
                          "0001-01-01T00:00:00+00:00")
        assert mistyped.exit_code == 2 and "calendar" in mistyped.stderr, mistyped.output
    ok(url, "workers", "show", BUDI)
    ok(url, "audit", "log")
    ok(url, "audit", "verify")
    ok(url, "audit", "replay")
    ok(url, "audit", "replay", "--as-of", "9999-12-30")
    ok(url, "projections", "rebuild")
    assert json.loads(
        ok(url, "--program", "Y2026", "report", "budget", "--format", "json")
    ) == {**year, "position": year["position"]}


def beyond(bound: int) -> st.SearchStrategy[int]:
    """Just outside an upper bound, or far outside it."""
    return st.integers(bound + 1, bound + 3) | st.sampled_from([h for h in HUGE if h > bound])


def below(least: int) -> st.SearchStrategy[int]:
    return st.integers(least - 3, least - 1) | st.sampled_from([-h for h in HUGE])


# Each: a command line with one value outside its bound, and the exit code it gets.
OUTSIDE: st.SearchStrategy[tuple[list[str], int]] = st.one_of(
    (beyond(MAX_BENEFIT) | below(0)).map(lambda v: ([
        "claims", "file", "--nik", BUDI, "--scheme", "JKK", "--date", "2026-02-01",
        "--reference", "JKK-9", "--benefit", str(v)], 2)),
    (beyond(MAX_BENEFIT) | below(0)).map(lambda v: ([
        "claims", "benefit", "--nik", BUDI, "--reference", "JKK-1", "--amount", str(v)], 2)),
    (beyond(MAX_RUPIAH) | below(1)).map(lambda v: ([
        "--program", "Y2026", "premiums", "pay", "--month", "2026-02", "--sp2d", "SP2D/02",
        "--amount", str(v)], 2)),
    (beyond(MAX_RUPIAH) | below(1)).map(lambda v: ([
        "--program", "Y2026", "program", "amend", "--allocation", str(v), "--reason", "x"], 2)),
    (beyond(MAX_WORKERS) | below(1)).map(lambda v: ([
        "--program", "Y2026", "program", "amend", "--quota", str(v), "--reason", "x"], 2)),
    (beyond(MAX_WORKERS) | below(1)).map(lambda v: ([
        "--program", "Y2026", "enroll", "--top", str(v), "--start", "2026-02"], 2)),
    st.sampled_from(["allocation", "jkk-monthly", "jkm-monthly"]).flatmap(
        lambda option: (beyond(MAX_RUPIAH) | below(1)).map(lambda v: ([
            "program", "open", "--year", "2030", "--code", "P2030", "--quota", "10",
            *(["--allocation", "1000000"] if option != "allocation" else []),
            f"--{option}", str(v)], 2))),
    (beyond(MAX_WORKERS) | below(1)).map(lambda v: ([
        "program", "open", "--year", "2030", "--code", "P2030", "--allocation", "1000000",
        "--quota", str(v)], 2)),
    (st.integers(1900, FIRST_YEAR - 1) | st.integers(LAST_YEAR + 1, 9999)
     | st.sampled_from(HUGE)).map(lambda y: ([
         "program", "open", "--year", str(y), "--code", "PY", "--allocation", "1000000",
         "--quota", "10"], 2)),
    st.sampled_from(["0001-01-01", "1899-12-31", "0999-06-15"]).map(lambda d: ([
        "claims", "file", "--nik", BUDI, "--scheme", "JKK", "--date", d,
        "--reference", "JKK-9"], 2)),
    st.sampled_from(["0001-01-01", "1899-12-31"]).map(lambda d: ([
        "--program", "Y2026", "premiums", "due", "--today", d], 2)),
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
                     "0001-01-01T06:59:59+07:00"]).map(lambda w: ([
                         "--program", "Y2026", "report", "budget", "--as-of", w], 2)),
    st.integers(1, 3).map(lambda days: ([  # 17 years old, or older than the limit
        "workers", "import"], -days)),
)


@settings_
@given(case=OUTSIDE)
def test_a_value_outside_its_bound_is_refused_and_nothing_is_written(
    ledger: str, tmp_path: Path, case: tuple[list[str], int]
) -> None:
    args, code = case
    if code < 0:  # a registration one day to three short of 18 (the upper limit waits for
        days = -code  # the coverage: test_values_in_domain.py)
        young = years_before(today(), MINIMUM_AGE) + timedelta(days=days)
        path = tmp_path / f"ages-{days}.csv"
        path.write_text(HEADER + "\n" + registration(8000 + days, young), encoding="utf-8")
        args, code = [*args, str(path)], 2
    before = contents(ledger)
    result = jamsos(ledger, *args)
    assert result.exit_code == code, (args, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args, result.exception)
    assert "Traceback" not in result.output
    assert contents(ledger) == before
