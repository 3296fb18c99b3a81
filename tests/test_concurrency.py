"""Racing commands never break an invariant (issue 5, "Concurrency").

Real `jamsos` processes, started together behind a barrier, race for the last places of a
program on one ledger (PostgreSQL, and an SQLite file): exactly the places (or the money)
available are given, each success is reported once, every other command is refused with
exit 1 and its reason, never a traceback; then the program's books and the projections agree
and committed + paid <= allocation, enrolled <= quota.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from jamsos_ledger.application import Ledger
from jamsos_ledger.cli import main
from jamsos_ledger.domain.model import Program, Worker
from jamsos_ledger.domain.months import Month

pytestmark = pytest.mark.slow

HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"
PREMIUM = 16_800
# The racers' processes import the command line, then wait for the starting gun (a file), so
# they start within milliseconds of each other; then they run `jamsos` exactly as installed.
JAMSOS = str(Path(sys.executable).parent / "jamsos")
RACER = """
import os, sys, time
from jamsos_ledger.cli import main
gun = sys.argv[1]
while not os.path.exists(gun):
    time.sleep(0.001)
main(args=sys.argv[2:], prog_name="jamsos")
"""


def nik(serial: int) -> str:
    return f"3275090908{91:02d}{serial:04d}"


def registrations(path: Path, serials: range) -> Path:
    rows = [f"{nik(s)},Pekerja {s},1991-08-09,L,Jatiasih,Jatiluhur,ojol,2,Disnaker"
            for s in serials]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def jamsos(url: str, *args: str) -> None:
    result = CliRunner().invoke(main, ["--store", url, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output


@dataclass
class Outcome:
    args: list[str]
    code: int
    out: str
    err: str


def race(url: str, tmp_path: Path, commands: list[list[str]]) -> list[Outcome]:
    """Start every command in its own process, release them at once, collect what each said."""
    gun = tmp_path / "go"
    env = {**os.environ, "JAMSOS_STORE": url, "JAMSOS_ACTOR": "racer"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(gun), *args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for args in commands
    ]
    time.sleep(1.0)  # every racer has imported the command line and waits
    gun.touch()
    outcomes = []
    for args, p in zip(commands, processes, strict=True):
        out, err = p.communicate(timeout=120)
        outcomes.append(Outcome(args, p.returncode, out, err))
    for o in outcomes:
        assert "Traceback" not in o.err + o.out, o
        assert o.code in (0, 1), o
        if o.code == 1:
            assert o.err.startswith("Error: ") and o.out == "", o
    return outcomes


def books(url: str) -> tuple[Program, dict[str, int], dict[str, int], list[str]]:
    """The program, its budget and quota views (caught up), and the topics of every event."""
    ledger = Ledger(url)
    try:
        program = ledger.program()
        budget = ledger.views.budget(program.id)
        quota = ledger.views.quota(program.id)
        topics = [n.topic for n in ledger.read_log()]
        return program, budget, quota, topics
    finally:
        ledger.close()


def prepared(url: str, tmp_path: Path, *, allocation: int, quota: int, workers: int) -> None:
    """A program with two workers covered from January and `workers` more registered."""
    jamsos(url, "program", "open", "--one-key", "--year", "2026", "--allocation", str(allocation),
           "--quota", str(quota))
    jamsos(url, "workers", "import", str(registrations(tmp_path / "reg.csv",
                                                       range(1, workers + 3))))
    jamsos(url, "enroll", "--nik", nik(1), "--nik", nik(2), "--start", "2026-01",
           "--decree", "KEP/1")


@pytest.mark.parametrize("limit", ["quota", "money"])
def test_racers_for_the_last_places_get_exactly_what_is_left(
    store_url: str, tmp_path: Path, limit: str
) -> None:
    # Three places are left, by the quota or by the money: enrolling from February costs
    # 11 months a worker; the two covered workers hold 12 months each.
    enrollers = 10
    if limit == "quota":
        allocation, quota = 2_000_000_000, 5
    else:
        allocation, quota = (2 * 12 + 3 * 11) * PREMIUM, 1_000
    prepared(store_url, tmp_path, allocation=allocation, quota=quota, workers=enrollers)
    commands = [["enroll", "--nik", nik(3 + i), "--start", "2026-02"] for i in range(enrollers)]
    commands += [
        ["premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/01/A"],
        ["premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D/01/B"],
        # Ending the second worker after June frees a place, but only 6 months of money:
        # less than the 11 a new worker needs.
        ["end", "--nik", nik(2), "--month", "2026-06", "--reason", "moved"],
        ["report", "budget", "--format", "json"],
        ["report", "quota", "--format", "json"],
    ]
    outcomes = race(store_url, tmp_path, commands)

    enrolled = [o for o in outcomes if o.args[0] == "enroll" and o.code == 0]
    refused = [o for o in outcomes if o.args[0] == "enroll" and o.code == 1]
    assert len(enrolled) + len(refused) == enrollers
    for o in enrolled:  # each success reported once, on one line
        assert o.out.count("Enrolled 1 worker from 2026-02 to 2026-12") == 1, o
    for o in refused:
        assert ("place" in o.err or "is missing" in o.err
                or "changed by other commands" in o.err), o
    if limit == "money":
        assert len(enrolled) == 3
    else:  # the ended worker's place may be taken by a racer that came after the end
        assert len(enrolled) in (3, 4)
    pays = [o for o in outcomes if o.args[0] == "premiums"]
    assert sorted(o.code for o in pays) == [0, 1]
    assert "nothing to pay for 2026-01" in next(o.err for o in pays if o.code == 1)
    (end,) = [o for o in outcomes if o.args[0] == "end"]
    assert end.code == 0, end
    assert all(o.code == 0 for o in outcomes if o.args[0] == "report")

    program, budget, quota_view, topics = books(store_url)
    assert program.enrolled == 2 + len(enrolled) - 1 <= program.quota
    assert program.committed.total + program.paid_total.total <= program.allocation
    assert topics.count(_topic(Worker.Enrolled)) == 2 + len(enrolled)
    assert topics.count(_topic(Program.PremiumsCommitted)) == 1 + len(enrolled)
    assert topics.count(_topic(Program.PremiumPaid)) == 1
    assert budget["committed"] + budget["paid"] <= budget["allocation"]
    assert (budget["committed"], budget["paid"], budget["allocation"]) == (
        program.committed.total, program.paid_total.total, program.allocation)
    assert (quota_view["enrolled"], quota_view["quota"]) == (program.enrolled, program.quota)
    assert quota_view["enrolled"] <= quota_view["quota"]
    print(f"\n{limit} race on {store_url.split(':')[0]}: {len(enrolled)} enrolled, "
          f"{len(refused)} refused; {program.enrolled} of {program.quota} places, "
          f"available Rp {program.available}")


def test_the_same_sp2d_raced_pays_once(store_url: str, tmp_path: Path) -> None:
    prepared(store_url, tmp_path, allocation=2_000_000_000, quota=100, workers=0)
    commands = [["premiums", "pay", "--month", f"2026-{m:02d}", "--sp2d", "SP2D/SAME"]
                for m in range(1, 9)]
    outcomes = race(store_url, tmp_path, commands)
    assert sorted(o.code for o in outcomes) == [0] + [1] * 7
    for o in outcomes:
        if o.code == 1:
            assert "SP2D number 'SP2D/SAME' was already used" in o.err, o
    program, budget, _, topics = books(store_url)
    assert topics.count(_topic(Program.PremiumPaid)) == 1
    assert program.paid_total.total == budget["paid"] == 2 * PREMIUM


def test_threads_of_one_program_share_the_last_places(store_url: str, tmp_path: Path) -> None:
    prepared(store_url, tmp_path, allocation=2_000_000_000, quota=5, workers=12)
    results: dict[int, str] = {}
    barrier = threading.Barrier(12)

    def enrol(i: int) -> None:
        ledger = Ledger(store_url, actor=f"thread-{i}")
        try:
            barrier.wait()
            try:
                ledger.enrol(niks=[nik(3 + i)], start=Month(2026, 2))
                results[i] = "enrolled"
            except Exception as e:  # the ledger's refusals
                results[i] = f"{type(e).__name__}: {e}"
        finally:
            ledger.close()

    threads = [threading.Thread(target=enrol, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert list(results.values()).count("enrolled") == 3, results
    assert all(r == "enrolled" or r.startswith(("OverQuota", "RuleViolation"))
               for r in results.values()), results
    program, _, quota_view, _ = books(store_url)
    assert program.enrolled == quota_view["enrolled"] == 5


def test_a_writer_that_waits_too_long_on_sqlite_is_refused_clearly(tmp_path: Path) -> None:
    import sqlite3

    url = f"sqlite:///{tmp_path}/ledger.db"
    jamsos(url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000",
           "--quota", "10")
    holder = sqlite3.connect(tmp_path / "ledger.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the one write lock
    try:
        result = subprocess.run(
            [JAMSOS, "--store", url, "program", "amend",
             "--quota", "20", "--reason", "APBD-P"],
            env={**os.environ, "JAMSOS_SQLITE_LOCK_TIMEOUT": "1"},
            capture_output=True, text=True, timeout=60,
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 3, result
    assert "Traceback" not in result.stderr
    assert "the store is busy" in result.stderr and "JAMSOS_SQLITE_LOCK_TIMEOUT" in result.stderr
    program, *_ = books(url)
    assert program.quota == 10


def _topic(cls: type) -> str:
    from eventsourcing.utils import get_topic

    return get_topic(cls)
