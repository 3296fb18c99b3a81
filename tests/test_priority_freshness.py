"""Priority cannot be skipped, and a command committing in batches says what it kept (issue
15, items 5 and 10).

`enroll --top` refuses a ranking older than the registrations and corrections it should
include (exit 1, nothing written), so the best-ranked are the best. `workers prioritize`
commits its ranks a batch at a time: stopped half-way, it says how many were kept and that a
re-run finishes it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cli_helpers import events, jamsos, ok
from jamsos_ledger import application
from jamsos_ledger.application import Ledger

HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"
OPEN = ("program", "open", "--one-key", "--year", "2026", "--allocation", "1000000000", "--quota",
        "100")
TOP = ("enroll", "--top", "6", "--start", "2026-02", "--decree", "SK/2")


def nik(serial: int) -> str:
    return f"327501090891{serial:04d}"


def registrations(path: Path, serials: range, decile: int) -> Path:
    rows = [f"{nik(s)},Pekerja {s},1991-08-09,L,Jatiasih,Jatiluhur,ojol,{decile},Dinsos"
            for s in serials]
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def ranked(url: str, tmp_path: Path) -> None:
    """A program and twenty decile-3 workers, ranked."""
    ok(url, *OPEN)
    ok(url, "workers", "import", str(registrations(tmp_path / "a.csv", range(1, 21), 3)))
    ok(url, "workers", "prioritize")


def test_enrolling_by_rank_refuses_a_ranking_older_than_new_registrations(
    store_url: str, tmp_path: Path
) -> None:
    ranked(store_url, tmp_path)
    ok(store_url, "workers", "import", str(registrations(tmp_path / "b.csv", range(21, 31), 1)))
    before = events(store_url)
    refused = jamsos(store_url, *TOP)
    assert refused.exit_code == 1, refused.output
    assert "10 eligible workers registered or corrected since have no rank" in refused.stderr
    assert "20 ranks would change" in refused.stderr
    assert "Run `workers prioritize` first" in refused.stderr
    assert "nobody was enrolled" in refused.stderr and "Traceback" not in refused.output
    assert events(store_url) == before
    ok(store_url, "workers", "prioritize")
    ok(store_url, *TOP)
    quota = ok(store_url, "report", "quota").stdout
    assert "Priority respected" in quota and "NOT RESPECTED" not in quota


def test_enrolling_by_rank_refuses_a_ranking_older_than_a_correction(
    store_url: str, tmp_path: Path
) -> None:
    ranked(store_url, tmp_path)
    ok(store_url, "workers", "correct", nik(20), "--field", "decile", "--value", "1",
       "--reason", "DTSEN 2026-Q2")
    before = events(store_url)
    refused = jamsos(store_url, *TOP)
    assert refused.exit_code == 1, refused.output
    assert "1 eligible worker registered or corrected since has no rank" in refused.stderr
    assert events(store_url) == before
    ok(store_url, "workers", "prioritize")
    enrolled = ok(store_url, *TOP)
    assert "Enrolled 6 workers" in enrolled.stdout


def test_a_correction_that_changes_no_rank_leaves_the_ranking_fresh(
    store_url: str, tmp_path: Path
) -> None:
    ranked(store_url, tmp_path)
    ok(store_url, "workers", "correct", nik(3), "--field", "occupation", "--value", "kurir",
       "--reason", "verifikasi lapangan")
    assert "Enrolled 6 workers" in ok(store_url, *TOP).stdout


class _Stopper:
    """Stops the store under the ledger after its first batch of ranks is committed: on
    PostgreSQL its connections are ended by the server; on SQLite another process takes the
    write lock and keeps it past the lock timeout."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.holder: sqlite3.Connection | None = None

    def stop(self, ledger: Ledger) -> None:
        if self.url.startswith("postgresql"):
            pool: Any = ledger.recorder.datastore.pool  # type: ignore[attr-defined]
            pids = [conn.info.backend_pid for conn in pool._idle]
            with psycopg.connect(self.url.split("?")[0], autocommit=True) as admin:
                for pid in pids:
                    admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        else:
            path = self.url[len("sqlite:///"):]
            self.holder = sqlite3.connect(path, isolation_level=None)
            self.holder.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.holder is not None:
            self.holder.execute("ROLLBACK")
            self.holder.close()


def test_prioritize_stopped_half_way_says_what_it_kept(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(store_url, *OPEN)
    ok(store_url, "workers", "import", str(registrations(tmp_path / "a.csv", range(1, 13), 2)))
    monkeypatch.setattr(application.service, "BULK_BATCH", 5)
    monkeypatch.setenv("JAMSOS_SQLITE_LOCK_TIMEOUT", "1")
    stopper = _Stopper(store_url)
    record = Ledger._record_ranks
    calls = []

    def stopped_after_the_first(self: Ledger, name: str, ranks: Any) -> int:
        calls.append(len(ranks))
        if len(calls) == 2:
            stopper.stop(self)
        return record(self, name, ranks)

    monkeypatch.setattr(Ledger, "_record_ranks", stopped_after_the_first)
    before = events(store_url)
    try:
        result = jamsos(store_url, "workers", "prioritize")
    finally:
        stopper.release()
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output and "whole or not at all" not in result.output
    assert "5 changed ranks under dtsen-desil-v1 were recorded and are kept" in result.stderr
    assert "run `workers prioritize` again to finish" in result.stderr
    assert events(store_url) == before + 5  # exactly what the message says was kept
    monkeypatch.setattr(Ledger, "_record_ranks", record)
    again = ok(store_url, "workers", "prioritize")
    assert "7 ranks recorded, 5 unchanged" in again.stdout
