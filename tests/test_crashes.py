"""Killed commands leave all of their work or nothing, and running them again finishes it
(issue 5, "Crashes").

Real `jamsos` processes are killed with SIGKILL at random moments of an import of 30,000
workers (written in batches, in one transaction, while other processes still read the file),
a big enrolment, a month's bill and a projection rebuild, on an SQLite file and on PostgreSQL.
After every kill the ledger opens, the file is registered whole or not at all, the projections
caught up equal the projections rebuilt, and the same command run again completes without
registering, enrolling or paying anything twice.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest
from eventsourcing.utils import get_topic

from jamsos_ledger.application import BULK_BATCH, Ledger
from jamsos_ledger.domain.model import Program, Worker
from jamsos_ledger.projections.reporting import quota_groups

pytestmark = pytest.mark.slow

JAMSOS = str(Path(sys.executable).parent / "jamsos")
HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"
ROWS = 30_000
ENROL = 8_000


def big_file(path: Path, rows: int = ROWS) -> list[str]:
    """A clean registration file of distinct workers; returns their NIKs in file order."""
    niks, lines = [], [HEADER]
    for i in range(rows):
        born = date(1962, 1, 1) + timedelta(days=i % 16_000)  # 18 to 65 in 2026
        female = i % 2 == 1
        day = born.day + (40 if female else 0)
        kecamatan = 1 + i % 12
        serial = 1 + i // 16_000
        nik = f"3275{kecamatan:02d}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"
        niks.append(nik)
        lines.append(f"{nik},Pekerja {i},{born.isoformat()},{'P' if female else 'L'},"
                     f"{kecamatan:02d},Kelurahan {i % 50},ojol,{1 + i % 10},Disnaker")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return niks


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([JAMSOS, "--store", url, *args], capture_output=True, text=True,
                          timeout=300)


def killed(url: str, args: list[str], when: Callable[[], bool] | float) -> str:
    """Run a command and SIGKILL it: after `when` seconds, or once `when()` says so.

    Returns what happened: 'killed' or 'finished' (the command was quicker than the kill).
    """
    process = subprocess.Popen([JAMSOS, "--store", url, *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    if isinstance(when, float):
        time.sleep(when)
    else:
        while process.poll() is None and not when() and time.monotonic() < deadline:
            time.sleep(0.02)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    _, err = process.communicate(timeout=60)
    assert "Traceback" not in err, err
    # The command may have ended on its own between the last look and the kill.
    finished = process.returncode != -signal.SIGKILL
    if finished:
        assert process.returncode == 0, err
    return "finished" if finished else "killed"


def positions_taken(url: str) -> int:
    """Positions PostgreSQL's sequence has given out, committed or not: it moves on as an
    import writes its batches, before they are committed."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    schema = parse_qs(parts.query)["schema"][0]
    server = urlunsplit(parts._replace(query=""))
    with psycopg.connect(server, autocommit=True) as conn:
        row = conn.execute(
            sql.SQL("SELECT last_value, is_called FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier("jamsos_events_notification_id_seq")
            )
        ).fetchone()
    assert row is not None
    return int(row[0]) if row[1] else 0


def registered_ids(url: str) -> set[Any]:
    ledger = Ledger(url)
    try:
        return {n.originator_id for n in ledger.read_log(topics=[get_topic(Worker.Registered)])}
    finally:
        ledger.close()


def count_events(url: str, cls: type) -> int:
    ledger = Ledger(url)
    try:
        return sum(1 for _ in ledger.read_log(topics=[get_topic(cls)]))
    finally:
        ledger.close()


def views_agree(url: str) -> Program:
    """The projections caught up equal the projections rebuilt, and the program's books."""
    ledger = Ledger(url)
    try:
        program = ledger.program()

        def snapshot() -> tuple[Any, ...]:
            return (ledger.views.budget(program.id), ledger.views.quota(program.id),
                    quota_groups(ledger.views, program.id, "kecamatan"),
                    len(list(ledger.views.ranking_inputs())))

        caught_up = snapshot()
        ledger.views.rebuild()
        assert snapshot() == caught_up
        budget = caught_up[0]
        assert (budget["committed"], budget["paid"]) == (program.committed.total,
                                                         program.paid_total.total)
        assert caught_up[1]["enrolled"] == program.enrolled
        return program
    finally:
        ledger.close()


def test_killed_commands_leave_whole_batches_and_finish_when_run_again(
    store_url: str, tmp_path: Path
) -> None:
    rng = random.Random(os.environ.get("JAMSOS_CRASH_SEED", "5"))
    log: list[str] = []
    path = tmp_path / "registrasi.csv"
    niks = big_file(path)
    opened = run(store_url, "program", "open", "--one-key", "--year", "2026", "--allocation",
                 "2000000000", "--quota", "10000")
    assert opened.returncode == 0, opened.stderr

    # The import: killed after a random while, or as soon as its transaction has written (and
    # is still writing) a random number of batches.
    for trial in range(3):
        if trial == 1 and store_url.startswith("postgresql"):
            batches = rng.randint(1, ROWS // BULK_BATCH - 1)
            target = positions_taken(store_url) + BULK_BATCH * batches

            def writing(target: int = target) -> bool:
                return positions_taken(store_url) >= target

            what = killed(store_url, ["workers", "import", str(path)], writing)
        else:
            what = killed(store_url, ["workers", "import", str(path)], rng.uniform(0.2, 0.8))
        ids = registered_ids(store_url)
        assert len(ids) in (0, ROWS), f"{len(ids)} of {ROWS} workers registered"
        log.append(f"import {what}: {len(ids)} registered")
        views_agree(store_url)
    before = len(registered_ids(store_url))
    again = run(store_url, "workers", "import", str(path))
    assert again.returncode == 0, again.stderr
    expected = f"Registered {ROWS - before:,} workers".replace(",", ".")
    assert again.stdout.startswith(expected), again.stdout
    if before:
        assert f"{before:,} were already registered".replace(",", ".") in again.stdout
    assert len(registered_ids(store_url)) == ROWS == len(set(niks))
    assert count_events(store_url, Worker.Registered) == ROWS  # nobody registered twice

    # A big enrolment is one transaction: all 8,000 or none.
    assert run(store_url, "workers", "prioritize").returncode == 0
    enrol = ["enroll", "--top", str(ENROL), "--start", "2026-01", "--decree", "KEP/100/2026"]
    what = killed(store_url, enrol, rng.uniform(0.3, 1.2))
    program = views_agree(store_url)
    assert program.enrolled in (0, ENROL)
    assert count_events(store_url, Worker.Enrolled) == program.enrolled
    log.append(f"enroll --top {ENROL} {what}: {program.enrolled} enrolled")
    again = run(store_url, *enrol)
    if program.enrolled:
        assert again.returncode == 1 and "already used" in again.stderr, again.stderr
    else:
        assert again.returncode == 0, again.stderr
    assert views_agree(store_url).enrolled == ENROL
    assert count_events(store_url, Worker.Enrolled) == ENROL

    # A month's bill is one transaction: paid once, or not at all.
    pay = ["premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/0001/BPKAD/2026"]
    what = killed(store_url, pay, rng.uniform(0.1, 0.6))
    paid = count_events(store_url, Program.PremiumPaid)
    assert paid in (0, 1)
    log.append(f"premiums pay {what}: {paid} payment recorded")
    again = run(store_url, *pay)
    assert again.returncode == (1 if paid else 0), again.stderr
    assert count_events(store_url, Program.PremiumPaid) == 1
    assert views_agree(store_url).paid_total.total == ENROL * 16_800

    # A rebuild killed half-way is finished by the next catch-up (views_agree does both).
    what = killed(store_url, ["projections", "rebuild"], rng.uniform(0.5, 1.5))
    status = run(store_url, "projections", "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    views_agree(store_url)
    log.append(f"projections rebuild {what}: caught up and equal to a rebuild")
    print(f"\n{store_url.split(':')[0]}: " + "; ".join(log))
