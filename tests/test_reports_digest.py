"""Every report states its position and the log's chain digest there, so that a printed report
can be checked against the log (or an export of it) with `audit verify --digest`.

At the head of the log the digest is the one `audit verify` gives; a report as of a moment
states the last event it was computed from and the digest there, which `audit verify --digest`
accepts (and a forged one it refuses).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cli_helpers import as_json, events, head_digest, jamsos, ok
from jamsos_ledger.application import Ledger
from jamsos_ledger.cli.charts import budget_figure
from jamsos_ledger.domain.money import count
from jamsos_ledger.projections.reporting import budget_report
from small_ledger import twenty_workers

# Every command that prints a report, and whether it has a CSV form.
REPORTS: list[tuple[str, ...]] = [
    ("report", "budget"),
    ("report", "quota"),
    ("report", "quota", "--by", "kecamatan"),
    ("report", "claims"),
    ("premiums", "due", "--today", "2026-04-20"),
    ("program", "capacity"),
    ("program", "capacity", "--allocation", "3000000000"),
    ("program", "show"),
]
NO_CSV = {("program", "show")}


def where(report: Any) -> set[tuple[int, str]]:
    """The positions and digests a report's JSON states: once, or on every row of a list."""
    rows = report if isinstance(report, list) else [report]
    return {(row["position"], row["digest"]) for row in rows}


def digest_line(position: int, digest: str) -> str:
    return (f"Chain digest at event {count(position)}: {digest} "
            "(`jamsos audit verify --digest` checks the log against it).")


def test_every_report_states_the_digest_audit_verify_gives(
    store_url: str, tmp_path: Path
) -> None:
    niks = twenty_workers(store_url, tmp_path)
    ok(store_url, "claims", "file", "--nik", niks[0], "--scheme", "JKK", "--date",
       "2026-01-20", "--reference", "JKK-1", "--benefit", "1000000")
    head, digest = events(store_url), head_digest(store_url)
    assert digest.startswith(f"{head}:")
    for command in REPORTS:
        report = as_json(store_url, *command)
        assert where(report) == {(head, digest)}, command
        if command not in NO_CSV:
            rows = list(csv.DictReader(io.StringIO(ok(store_url, *command, "--format",
                                                      "csv").stdout)))
            assert rows and {(r["position"], r["digest"]) for r in rows} == {(str(head),
                                                                               digest)}
        assert digest_line(head, digest) in ok(store_url, *command).stdout.splitlines()
    replayed = as_json(store_url, "audit", "replay")
    assert (replayed["position"], replayed["digest"]) == (head, digest)
    assert digest_line(head, digest) in ok(store_url, "audit", "replay").stdout.splitlines()
    # The stated digest proves the history it was computed from.
    assert jamsos(store_url, "audit", "verify", "--digest", digest).exit_code == 0
    # A later event changes the digest at the head, but the report's still verifies.
    ok(store_url, "premiums", "pay", "--month", "2026-02", "--sp2d", "SP2D/02/2026")
    assert where(as_json(store_url, "report", "budget")) == {(events(store_url),
                                                              head_digest(store_url))}
    assert head_digest(store_url) != digest
    assert jamsos(store_url, "audit", "verify", "--digest", digest).exit_code == 0


def test_a_report_as_of_a_moment_states_the_digest_of_then(
    store_url: str, tmp_path: Path
) -> None:
    niks = twenty_workers(store_url, tmp_path)
    head_then = events(store_url)
    moment = datetime.now(UTC).isoformat()
    before = as_json(store_url, "report", "budget", "--as-of", moment)
    ok(store_url, "premiums", "pay", "--month", "2026-02", "--sp2d", "SP2D/02/2026")
    ok(store_url, "claims", "file", "--nik", niks[0], "--scheme", "JKM", "--date",
       "2026-02-20", "--reference", "JKM-1")
    # The last event the figures of then were computed from (the log's last event then may
    # be one no report reads, such as the SP2D number's reservation).
    position, digest = before["position"], before["digest"]
    assert 0 < position <= head_then < events(store_url)
    assert digest.startswith(f"{position}:") and digest != head_digest(store_url)
    for command in [("report", "budget"), ("report", "quota"), ("report", "claims"),
                    ("report", "quota", "--by", "decile")]:
        report = as_json(store_url, *command, "--as-of", moment)
        assert where(report) == {(position, digest)}, command
        table = ok(store_url, *command, "--as-of", moment).stdout
        assert digest_line(position, digest) in table.splitlines()
    # `audit verify` walks the chain from the events: the digest is the log's at that position.
    verified = jamsos(store_url, "audit", "verify", "--digest", digest, "--format", "json")
    assert verified.exit_code == 0 and json.loads(verified.stdout)["digest_checked"] == digest
    forged = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    assert jamsos(store_url, "audit", "verify", "--digest", forged).exit_code == 4


def test_the_budget_chart_states_the_digest_at_its_foot(sqlite_url: str, tmp_path: Path) -> None:
    twenty_workers(sqlite_url, tmp_path)
    ledger = Ledger(sqlite_url)
    try:
        report = budget_report(ledger.views, ledger.program().id)
    finally:
        ledger.close()
    foot = [t.get_text() for t in budget_figure(report).texts]
    assert foot == [f"Computed from the ledger up to event {count(events(sqlite_url))}; chain "
                    f"digest {head_digest(sqlite_url)}"]
