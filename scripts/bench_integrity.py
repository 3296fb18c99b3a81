"""What the event chain costs: an import of 20,000 registrations with and without it.

Run: .venv/bin/python scripts/bench_integrity.py [N] [POSTGRES_URL]
Each store and recorder is timed three times on a fresh database (medians printed); without
the chain means the library's own recorders, as before issue 3.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from unittest import mock

import psycopg
from psycopg import sql

from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.model import Registration
from jamsos_ledger.stores.integrity import verify
from jamsos_ledger.stores.urls import StoreURL

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
POSTGRES = sys.argv[2] if len(sys.argv) > 2 else "postgresql://postgres@127.0.0.1:5432/test"


def people(n: int) -> list[Registration]:
    found = []
    day0 = date(1970, 1, 1)
    for i in range(n):
        born = day0 + timedelta(days=i // 50)
        sex = "P" if i % 2 else "L"
        dd = born.day + (40 if sex == "P" else 0)
        kec = i % 12 + 1
        nik = f"3275{kec:02d}{dd:02d}{born.month:02d}{born.year % 100:02d}{i % 50 + 1:04d}"
        found.append(Registration(nik, f"Warga {i}", born, sex, f"{kec:02d}", "-", "ojol",
                                  i % 10 + 1, "Disnaker"))
    return found


def one_run(url: str, chained: bool, rows: list[Registration]) -> tuple[float, float]:
    patch = (
        mock.patch.object(StoreURL, "environment", StoreURL._environment)
        if not chained
        else mock.patch.object(StoreURL, "environment", StoreURL.environment)
    )
    with patch:
        ledger = Ledger(url, actor="bench")
        try:
            ledger.open_program(year=2026, allocation=2_000_000_000, quota=10_000, four_eyes=False)
            started = time.perf_counter()
            ledger.register(rows)
            took = time.perf_counter() - started
            verified = 0.0
            if chained:
                started = time.perf_counter()
                assert verify(ledger.recorder).events_checked == N + 1
                verified = time.perf_counter() - started
            return took, verified
        finally:
            ledger.close()


def fresh_sqlite() -> str:
    folder = tempfile.mkdtemp(prefix="jamsos-bench-")
    FOLDERS.append(folder)
    return f"sqlite:///{folder}/ledger.db"


def fresh_postgres() -> str:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    SCHEMAS.append(schema)
    return f"{POSTGRES}?schema={schema}"


SCHEMAS: list[str] = []
FOLDERS: list[str] = []


def main() -> None:
    rows = people(N)
    try:
        for name, fresh in (("SQLite", fresh_sqlite), ("PostgreSQL", fresh_postgres)):
            times: dict[bool, list[float]] = {False: [], True: []}
            checks: list[float] = []
            for _ in range(3):
                for chained in (False, True):
                    took, verified = one_run(fresh(), chained, rows)
                    times[chained].append(took)
                    if chained:
                        checks.append(verified)
            plain, chained_t = statistics.median(times[False]), statistics.median(times[True])
            print(f"{name}: import of {N} registrations: without chain {plain:.2f} s, "
                  f"with chain {chained_t:.2f} s, ratio {chained_t / plain:.3f}; "
                  f"verify {statistics.median(checks):.2f} s "
                  f"({(N + 1) / statistics.median(checks):,.0f} events/s)")
    finally:
        for folder in FOLDERS:
            shutil.rmtree(folder, ignore_errors=True)
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            for schema in SCHEMAS:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )


if __name__ == "__main__":
    main()
