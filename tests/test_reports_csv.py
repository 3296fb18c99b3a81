"""Every CSV report carries its summary figures and the position it was computed from.

Scripts read the rows they always read: the columns of before keep their names and their
places, and the report's own figures (the allocation, available, SiLPA, totals) and its
position come as the last columns, the same on every row.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from cli_helpers import events, head_digest, ok
from small_ledger import twenty_workers


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("csv")
    url = f"sqlite:///{folder / 'jamsos.db'}"
    niks = twenty_workers(url, folder)
    ok(url, "claims", "file", "--nik", niks[0], "--scheme", "JKK", "--date", "2026-02-03",
       "--reference", "JKK-0001", "--benefit", "5000000")
    return url


def read(url: str, *args: str) -> tuple[list[str], list[dict[str, str]]]:
    text = ok(url, *args, "--format", "csv").stdout
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def as_json(url: str, *args: str) -> Any:
    return json.loads(ok(url, *args, "--format", "json").stdout)


# The columns each report had, in their order: they stay first.
BEFORE = {
    ("report", "budget"): "month,active,paid_participants,planned,committed,paid,overpaid,"
    "committed_jkk,committed_jkm,paid_jkk,paid_jkm,status,sp2d,forecast,cumulative_paid,"
    "cumulative_forecast,planned_jkk,planned_jkm,overpaid_jkk,overpaid_jkm",
    ("report", "quota"): "program,quota,enrolled,available,ended,registered,eligible,waiting",
    ("report", "quota", "--by", "kecamatan"): "kecamatan,enrolled,ended,registered,eligible,"
    "waiting",
    ("report", "claims"): "reference,scheme,incident_date,month,kecamatan,occupation,decile,"
    "recorded_at,actor,benefit",
    ("premiums", "due", "--today", "2026-06-20"): "month,participants,amount,due,months_unpaid,"
    "deactivation,status",
    ("program", "capacity"): "start,months,cost_per_worker,workers,commits,limited_by",
}


@pytest.mark.parametrize("command", list(BEFORE), ids=" ".join)
def test_the_columns_of_before_come_first_and_every_row_says_its_position(
    small: str, command: tuple[str, ...]
) -> None:
    header, rows = read(small, *command)
    old = BEFORE[command].split(",")
    assert header[: len(old)] == old
    assert header[-2:] == ["position", "digest"]
    assert rows and {r["position"] for r in rows} == {str(events(small))}
    assert {r["digest"] for r in rows} == {head_digest(small)}
    # The same summary on every row.
    extra = header[len(old):]
    assert len({tuple(r[k] for k in extra) for r in rows}) == 1


def test_the_budget_csv_carries_the_programs_figures(small: str) -> None:
    b = as_json(small, "report", "budget")
    _, rows = read(small, "report", "budget")
    assert len(rows) == 12
    first = rows[0]
    assert {k: int(first[k]) for k in ("allocation", "total_committed", "total_paid",
                                       "total_overpaid", "available", "silpa", "enrolled",
                                       "position")} == {
        "allocation": b["allocation"], "total_committed": b["committed"],
        "total_paid": b["paid"], "total_overpaid": b["overpaid"], "available": b["available"],
        "silpa": b["silpa"], "enrolled": b["enrolled"], "position": b["position"],
    }
    assert int(first["allocation"]) == 2_000_000_000 and int(first["enrolled"]) == 17
    # The months' own figures are what they were.
    assert (first["month"], first["paid"], first["committed"]) == ("2026-01", "285600", "0")


def test_the_claims_and_quota_csv_carry_their_totals(small: str) -> None:
    _, claims = read(small, "report", "claims")
    assert [(c["total_claims"], c["total_jkk"], c["total_jkm"], c["total_benefits"])
            for c in claims] == [("1", "1", "0", "5000000")]
    q = as_json(small, "report", "quota")
    _, groups = read(small, "report", "quota", "--by", "decile")
    assert {(g["quota"], g["total_enrolled"], g["available"]) for g in groups} == {
        (str(q["quota"]), str(q["enrolled"]), str(q["available"]))
    }
    _, (summary,) = read(small, "report", "quota")
    assert summary["priority_violations"] == str(q["priority"]["violations"])
    _, bills = read(small, "premiums", "due", "--today", "2026-06-20")
    assert {b["total_amount"] for b in bills} == {str(sum(int(b["amount"]) for b in bills))}


def test_the_json_keys_stay_as_they_were(small: str) -> None:
    b = as_json(small, "report", "budget")
    assert "total_committed" not in b and {"allocation", "committed", "paid",
                                            "available"} <= set(b)

