"""Reversals, never deletions: a payment reversed by its SP2D, an enrolment annulled before its
first paid month, on SQLite and PostgreSQL through the command line.

The small program of the CLI story: Rp 2.000.000 for a quota of 10 at Rp 16.800 a month
(JKK 10.000 + JKM 6.800). Nine enrolled for the year commit Rp 1.814.400 (Rp 185.600 left);
January's bill is 9 x Rp 16.800 = Rp 151.200; one worker from February commits
11 x Rp 16.800 = Rp 184.800.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli_story import nik, registrations

from cli_helpers import as_json, contents, events, jamsos, ok

# Ranked 10th (decile 5, registered last): not among the nine of --top 9.
TENTH = nik(12, "L")
# Ranked first (decile 1): enrolled by --top 9.
FIRST = nik(2, "L")


@pytest.fixture
def january_paid(store_url: str, tmp_path: Path) -> str:
    ok(store_url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000",
       "--quota", "10")
    ok(store_url, "workers", "import", str(registrations(tmp_path)))
    ok(store_url, "workers", "prioritize")
    ok(store_url, "enroll", "--top", "9", "--start", "2026-01", "--decree", "KEP-1")
    ok(store_url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D-01")
    return store_url


def _books(url: str) -> tuple[int, int, int, int]:
    b = as_json(url, "report", "budget")
    return b["committed"], b["paid"], b["available"], b["enrolled"]


def _agrees(url: str) -> None:
    """The live views, a replay from the events alone, and a rebuild say the same."""
    before = {r: ok(url, "report", r, "--format", "json").stdout for r in ("budget", "quota")}
    ok(url, "audit", "replay")
    ok(url, "projections", "rebuild")
    after = {r: ok(url, "report", r, "--format", "json").stdout for r in ("budget", "quota")}
    assert after == before


def test_a_reversed_payment_makes_its_month_unpaid_and_payable(january_paid: str) -> None:
    url = january_paid
    assert _books(url) == (1_814_400 - 151_200, 151_200, 185_600, 9)
    result = ok(url, "premiums", "reverse", "--sp2d", "sp2d-01 ", "--reason", "paid twice")
    assert "Reversed the payment of Rp 151.200 for 9 participants in 2026-01" in result.stdout
    assert _books(url) == (1_814_400, 0, 185_600, 9)
    january = as_json(url, "report", "budget")["months"][0]
    assert (january["paid_participants"], january["sp2d"], january["status"]) == (
        0, [], "unpaid")
    due = as_json(url, "premiums", "due", "--today", "2026-01-20")
    assert [(r["month"], r["amount"]) for r in due] == [("2026-01", 151_200)]
    # The SP2D stays used; the month is paid again under a new one.
    again = jamsos(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D-01")
    assert again.exit_code == 1 and "SP2D-01" in again.stderr
    ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D-01B")
    assert _books(url) == (1_814_400 - 151_200, 151_200, 185_600, 9)
    trail = ok(url, "audit", "log").stdout
    assert "PaymentReversed" in trail and "PremiumPaid" in trail
    _agrees(url)


def test_reversing_twice_or_an_unknown_sp2d_is_refused_with_nothing_written(
    january_paid: str,
) -> None:
    url = january_paid
    ok(url, "premiums", "reverse", "--sp2d", "SP2D-01", "--reason", "paid twice")
    before = contents(url)
    twice = jamsos(url, "premiums", "reverse", "--sp2d", "SP2D-01", "--reason", "again")
    assert twice.exit_code == 1
    assert "SP2D-01 in 2026 is already reversed; nothing was reversed" in twice.stderr
    unknown = jamsos(url, "premiums", "reverse", "--sp2d", "SP2D-99", "--reason", "typo")
    assert unknown.exit_code == 1
    assert "no payment of 2026 was made under SP2D SP2D-99; it has no payments" in (
        unknown.stderr.replace("\n", " "))
    blank = jamsos(url, "premiums", "reverse", "--sp2d", "SP2D-01", "--reason", " ")
    assert blank.exit_code == 2 and "needs a reason" in blank.stderr
    assert "Traceback" not in twice.output + unknown.output + blank.output
    assert contents(url) == before


def test_an_unknown_sp2d_is_refused_naming_the_payments_that_stand(january_paid: str) -> None:
    unknown = jamsos(january_paid, "premiums", "reverse", "--sp2d", "SP2D-02", "--reason", "x")
    assert unknown.exit_code == 1
    assert "its payments: SP2D SP2D-01" in unknown.stderr.replace("\n", " ")


def test_an_enrolment_is_annulled_before_its_first_paid_month(january_paid: str) -> None:
    url = january_paid
    ok(url, "enroll", "--nik", TENTH, "--start", "2026-02")
    assert _books(url) == (1_814_400 - 151_200 + 184_800, 151_200, 800, 10)
    result = ok(url, "annul", "--nik", TENTH, "--reason", "KEP-2 revoked")
    assert "Rp 184.800 released" in result.stdout
    assert "places left 1" in result.stdout
    assert _books(url) == (1_814_400 - 151_200, 151_200, 185_600, 9)
    quota = as_json(url, "report", "quota")
    assert (quota["enrolled"], quota["available"]) == (9, 1)
    # The place is free again: the worker can be enrolled anew.
    ok(url, "enroll", "--nik", TENTH, "--start", "2026-03")
    assert _books(url)[3] == 10
    # The worker's trail holds the annulment on both sides, with its reason.
    trail = ok(url, "audit", "log", "--nik", TENTH, "--format", "jsonl").stdout
    events = [json.loads(line)["event"] for line in trail.splitlines()]
    assert events.count("Program.EnrolmentAnnulled") == 1
    assert events.count("Worker.EnrolmentAnnulled") == 1
    assert "KEP-2 revoked" in trail
    _agrees(url)


def test_an_enrolment_with_a_paid_month_is_not_annulled(january_paid: str) -> None:
    url = january_paid
    before = events(url)
    result = jamsos(url, "annul", "--nik", FIRST, "--reason", "wrong person")
    assert result.exit_code == 1
    message = result.stderr.replace("\n", " ")
    for figure in ("2026-01, covered from 2026-01, is paid (9 of 9 participants, SP2D SP2D-01)",
                   "before its first paid month", "jamsos end", "nothing was annulled"):
        assert figure in message, figure
    assert events(url) == before
    # Once the payment is reversed, nothing of the enrolment is paid: it can be annulled.
    ok(url, "premiums", "reverse", "--sp2d", "SP2D-01", "--reason", "paid in error")
    ok(url, "annul", "--nik", FIRST, "--reason", "wrong person")
    assert _books(url) == (8 * 201_600, 0, 2_000_000 - 8 * 201_600, 8)
    never = jamsos(url, "annul", "--nik", TENTH, "--reason", "not enrolled")
    assert never.exit_code == 1 and "is not enrolled in 2026" in never.stderr
    _agrees(url)
