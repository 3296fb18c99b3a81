"""The seed's own arithmetic through the command line, on SQLite and on PostgreSQL, and the
installed `jamsos` executable run as users run it.

Rp 2.000.000.000 / Rp 201.600 a year = 9.920,6: 9.920 workers fit for all of 2026
(Rp 1.999.872.000, Rp 128.000 left); 10.000 would cost Rp 2.016.000.000, Rp 16.000.000 over;
10.000 fit from February (11 months: Rp 1.848.000.000).
"""

from __future__ import annotations

import csv
import random
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from cli_helpers import as_json, events, jamsos, ok

OCCUPATIONS = ("ojol", "pedagang kaki lima", "buruh harian", "pekerja rumah tangga")


def seed_registrations(path: Path, workers: int = 10_100) -> Path:
    """Valid registrations of Kota Bekasi workers, deciles 1-5, NIKs built as Dukcapil does."""
    rnd = random.Random(2026)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["nik", "name", "birth_date", "sex", "kecamatan", "kelurahan",
                         "occupation", "decile", "source"])
        for i in range(workers):
            birth = date(1962 + rnd.randrange(43), rnd.randrange(1, 13), rnd.randrange(1, 29))
            sex = rnd.choice("LP")
            kecamatan = i % 12 + 1
            day = birth.day + (40 if sex == "P" else 0)
            # The serial makes each NIK unique within its kecamatan and birth date.
            nik = (f"3275{kecamatan:02d}{day:02d}{birth.month:02d}{birth.year % 100:02d}"
                   f"{i // 12 + 1:04d}")
            writer.writerow([nik, f"Pekerja {i + 1}", birth.isoformat(), sex, f"{kecamatan:02d}",
                             "Kelurahan", OCCUPATIONS[i % 4], rnd.randrange(1, 6), "Disnaker"])
    return path


@pytest.mark.slow
def test_the_seed_arithmetic(store_url: str, tmp_path: Path) -> None:
    url = store_url
    ok(url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000000",
       "--quota", "10000")
    imported = ok(url, "workers", "import", str(seed_registrations(tmp_path / "seed.csv")))
    assert imported.stdout == f"Registered 10.100 workers from {tmp_path / 'seed.csv'}\n"
    ok(url, "workers", "prioritize")

    before = events(url)
    refused = jamsos(url, "enroll", "--top", "10000", "--start", "2026-01", "--decree", "KEP-1")
    assert refused.exit_code == 1
    for figure in ("Rp 2.016.000.000", "Rp 16.000.000", "9.920"):
        assert figure in refused.stderr
    assert events(url) == before

    assert as_json(url, "program", "capacity")["workers"] == 9_920
    assert as_json(url, "program", "capacity", "--start", "2026-02")["workers"] == 10_000

    enrolled = ok(url, "enroll", "--top", "9920", "--start", "2026-01", "--decree", "KEP-1")
    assert enrolled.stdout.splitlines()[0] == (
        "Enrolled 9.920 workers from 2026-01 to 2026-12 under decree KEP-1: "
        "Rp 1.999.872.000 committed"
    )
    budget = as_json(url, "report", "budget")
    assert (budget["allocation"], budget["committed"], budget["paid"], budget["available"]) == (
        2_000_000_000, 1_999_872_000, 0, 128_000
    )
    quota = as_json(url, "report", "quota")
    assert (quota["quota"], quota["enrolled"], quota["available"]) == (10_000, 9_920, 80)
    assert sum(r["enrolled"] for r in as_json(url, "report", "quota", "--by", "kecamatan")) == 9_920
    assert jamsos(url, "enroll", "--top", "1", "--start", "2026-01").exit_code == 1

    # January's bill: 9.920 x Rp 16.800.
    paid = ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/2026/01")
    assert "Paid Rp 166.656.000 for 9.920 participants in 2026-01" in paid.stdout

    # The next year's program, from February: ten thousand fit. With two programs in the
    # ledger, commands must say which.
    ok(url, "program", "open", "--one-key", "--year", "2027", "--allocation", "2000000000",
       "--quota", "10000", "--code", "2027")
    ambiguous = jamsos(url, "program", "show")
    assert ambiguous.exit_code == 2 and "--program" in ambiguous.stderr
    fits = ok(url, "--program", "2027", "enroll", "--top", "10000", "--start", "2027-02",
              "--decree", "KEP-2027")
    assert "Enrolled 10.000 workers from 2027-02 to 2027-12 under decree KEP-2027: " \
           "Rp 1.848.000.000 committed" in fits.stdout
    assert as_json(url, "--program", "2027", "report", "budget")["available"] == 152_000_000
    assert as_json(url, "--program", "2026", "report", "budget")["paid"] == 166_656_000


# -- the installed executable ------------------------------------------------------------


def executable() -> str:
    beside = Path(sys.executable).parent / "jamsos"
    found = str(beside) if beside.exists() else shutil.which("jamsos")
    assert found, "the jamsos executable is not installed"
    return found


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([executable(), *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, check=False)


def test_the_executable_exits_with_the_codes_of_cli_md(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/ledger.db"
    assert run("--help", cwd=tmp_path).returncode == 0
    assert not (tmp_path / "jamsos.db").exists()  # --help touches no store

    opened = run("--store", store, "program", "open", "--one-key", "--year", "2026", "--allocation",
                 "2000000", "--quota", "10", cwd=tmp_path)
    assert opened.returncode == 0, opened.stderr
    assert "9 workers fit for the whole period" in opened.stdout

    again = run("--store", store, "program", "open", "--one-key", "--year", "2026", "--allocation",
                "1", "--quota", "1", cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr.startswith("Error: program '2026' is already open in this ledger;")

    bad_month = run("--store", store, "program", "capacity", "--start", "2026-1",
                    cwd=tmp_path)
    assert bad_month.returncode == 2 and "not a month (YYYY-MM)" in bad_month.stderr

    negative = run("--store", store, "premiums", "pay", "--month", "2026-01", "--sp2d", "X",
                   "--amount", "-5", cwd=tmp_path)
    assert negative.returncode == 2

    unreachable = run("--store", f"sqlite:///{tmp_path}/no/such/folder/ledger.db",
                      "program", "show", cwd=tmp_path)
    assert unreachable.returncode == 3 and unreachable.stderr.startswith("Error: ")

    for result in (again, bad_month, negative, unreachable):
        assert "Traceback" not in result.stderr


def test_the_executable_reads_the_store_and_actor_from_the_environment(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "JAMSOS_STORE": f"sqlite:///{tmp_path}/env.db",
           "JAMSOS_ACTOR": "bpkad"}
    opened = subprocess.run(
        [executable(), "program", "open", "--year", "2026", "--allocation", "2000000",
         "--quota", "10"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
        check=False,
    )
    assert opened.returncode == 0, opened.stderr
    assert (tmp_path / "env.db").exists() and not (tmp_path / "jamsos.db").exists()
