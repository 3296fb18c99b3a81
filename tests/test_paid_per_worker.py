"""A month paid under a reconciled invoice is paid for the workers it agreed, not for whoever
is counted: on SQLite and PostgreSQL, through the command line.

Three workers covered from January (Rp 16.800 each a month); BPJS's invoices of January and
February bill two of them, the third being "covered, not billed" (not yet active at BPJS), and
both are paid as agreed. When one of the billed two dies in January, February was paid for her:
ten months (March to December) are released and Rp 16.800 is an overpayment, to recover, while
the unbilled worker's February stays committed (BPJS bills him later, the city pays then). When
the unbilled one dies instead, his February was never paid: eleven months are released and
nothing is overpaid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_cli_story import nik, registrations

from cli_helpers import as_json, jamsos, ok

PREMIUM = 16_800
BILLED = [nik(1, "P"), nik(2, "L")]  # on both invoices
UNBILLED = nik(4, "L")  # covered, not billed
HEADER = "nik,kpj,name,month,jkk,jkm,status"


def invoice(folder: Path, month: int) -> Path:
    lines = [HEADER] + [
        f"{n},{26040000000 + i:011d},Pekerja {i},2026-{month:02d},10000,6800,aktif"
        for i, n in enumerate(BILLED, start=1)
    ]
    path = folder / f"tagihan-{month}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def february_paid_as_agreed(store_url: str, tmp_path: Path) -> str:
    ok(store_url, "program", "open", "--one-key", "--year", "2026", "--allocation", "1000000",
       "--quota", "3")
    ok(store_url, "workers", "import", str(registrations(tmp_path)))
    ok(store_url, "workers", "prioritize")
    ok(store_url, "enroll", "--nik", BILLED[0], "--nik", BILLED[1], "--nik", UNBILLED,
       "--start", "2026-01", "--decree", "K1")
    for month in (1, 2):
        path = invoice(tmp_path, month)
        ok(store_url, "premiums", "reconcile", "--month", f"2026-{month:02d}", "--invoice",
           str(path))
        paid = ok(store_url, "premiums", "pay", "--month", f"2026-{month:02d}", "--sp2d",
                  f"S{month}", "--invoice", str(path))
        assert f"Paid Rp 33.600 for 2 participants in 2026-{month:02d}" in paid.stdout
    return store_url


def death(url: str, folder: Path, who: str) -> str:
    path = folder / "meninggal.csv"
    path.write_text(f"NIK,Tanggal Meninggal\n{who},2026-01-15\n", encoding="utf-8")
    return ok(url, "workers", "deaths", str(path)).stdout


def books(url: str) -> dict[str, Any]:
    budget = as_json(url, "report", "budget")
    february = budget["months"][1]
    return {
        "committed": budget["committed"], "paid": budget["paid"],
        "overpaid": budget["overpaid"],
        "february": (february["active"], february["paid_participants"],
                     february["committed"], february["overpaid"]),
        "status": february["status"],
    }


def test_a_billed_worker_who_dies_was_paid_for_the_month_after(
    february_paid_as_agreed: str, tmp_path: Path
) -> None:
    url = february_paid_as_agreed
    before = books(url)
    assert before["paid"] == 4 * PREMIUM and before["committed"] == (3 * 12 - 4) * PREMIUM
    out = death(url, tmp_path, BILLED[0])
    assert (f"Rp {10 * PREMIUM:,}".replace(",", ".") + " released, Rp 16.800 overpaid") in out, out
    after = books(url)
    # Her February was paid (an overpayment); his stays committed until BPJS bills him.
    assert after["overpaid"] == PREMIUM
    assert after["committed"] == before["committed"] - 10 * PREMIUM
    assert after["paid"] == before["paid"]
    assert after["february"] == (2, 2, PREMIUM, PREMIUM)
    assert after["status"] == "part paid"  # his February is still to pay
    # The recovery is listed with the next reconciliation of February's invoice.
    data = as_json(url, "premiums", "reconcile", "--month", "2026-02", "--invoice",
                   str(invoice(tmp_path, 2)))
    assert [r["recover"] for r in data["recover"]] == [PREMIUM]
    # BPJS bills the unbilled worker's February later: it is still due, for one participant.
    due = as_json(url, "premiums", "due", "--today", "2026-03-01")
    february = next(b for b in due if b["month"] == "2026-02")
    assert (february["participants"], february["amount"]) == (1, PREMIUM)
    ok(url, "audit", "replay")
    ok(url, "audit", "verify")
    # The trail names whom each payment left out, masked.
    trail = [json.loads(line) for line in
             ok(url, "audit", "log", "--format", "jsonl").stdout.splitlines()]
    paid = [e["changes"]["left_out"] for e in trail if e["event"] == "Program.InvoicePaid"]
    assert paid == [[UNBILLED[:6] + "********" + UNBILLED[14:]]] * 2
    assert UNBILLED not in json.dumps(trail)


def test_the_unbilled_worker_who_dies_was_never_paid_for(
    february_paid_as_agreed: str, tmp_path: Path
) -> None:
    url = february_paid_as_agreed
    before = books(url)
    out = death(url, tmp_path, UNBILLED)
    assert "Rp 184.800 released" in out and "overpaid" not in out.splitlines()[0], out
    after = books(url)
    assert after["overpaid"] == 0
    assert after["committed"] == before["committed"] - 11 * PREMIUM
    assert after["february"] == (2, 2, 0, 0)
    data = as_json(url, "premiums", "reconcile", "--month", "2026-02", "--invoice",
                   str(invoice(tmp_path, 2)))
    assert data["recover"] == []
    due = as_json(url, "premiums", "due", "--today", "2026-03-01")
    # January, covered and never billed, is still his: due; February no longer is.
    assert [(b["month"], b["participants"]) for b in due if b["month"] < "2026-03"] == [
        ("2026-01", 1)]
    ok(url, "audit", "replay")
    ok(url, "audit", "verify")


def test_an_enrolment_is_annulled_only_before_its_own_first_paid_month(
    february_paid_as_agreed: str,
) -> None:
    url = february_paid_as_agreed
    # January and February were paid for her: her enrolment is not annulled.
    refused = jamsos(url, "annul", "--nik", BILLED[0], "--reason", "KEP-2 koreksi")
    assert refused.exit_code == 1, refused.output
    assert "is paid" in refused.stderr.replace("\n", " ")
    # None of his months was paid: annulled, the twelve months released.
    before = books(url)
    annulled = ok(url, "annul", "--nik", UNBILLED, "--reason", "KEP-2 koreksi")
    assert "Rp 201.600" in annulled.stdout, annulled.stdout
    after = books(url)
    assert after["committed"] == before["committed"] - 12 * PREMIUM
    assert after["overpaid"] == 0 and after["february"] == (2, 2, 0, 0)
    ok(url, "audit", "replay")


def test_a_refused_annulment_names_only_the_payments_that_paid_for_that_worker(
    february_paid_as_agreed: str, tmp_path: Path
) -> None:
    """January was paid under S1 for the two billed workers; BPJS then bills the third, and
    S1b pays his January. His annulment is refused naming S1b only: S1 left him out."""
    url = february_paid_as_agreed
    path = tmp_path / "tagihan-1b.csv"
    path.write_text(
        "\n".join([HEADER] + [
            f"{n},{26040000000 + i:011d},Pekerja {i},2026-01,10000,6800,aktif"
            for i, n in enumerate([*BILLED, UNBILLED], start=1)]) + "\n", encoding="utf-8")
    ok(url, "premiums", "reconcile", "--month", "2026-01", "--invoice", str(path))
    paid = ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "S1b", "--invoice",
              str(path))
    assert "for 1 participant" in paid.stdout, paid.stdout
    refused = jamsos(url, "annul", "--nik", UNBILLED, "--reason", "KEP-2 koreksi")
    assert refused.exit_code == 1, refused.output
    said = " ".join(refused.stderr.split())
    assert "2026-01, covered from 2026-01, is paid" in said, said
    assert "SP2D S1b)" in said and "S1," not in said, said


# -- a payment under an invoice pays only the agreed workers still covered when it is paid ----

FOUR = [nik(1, "P"), nik(2, "L"), nik(3, "P"), nik(4, "L")]  # A, B, C, D


def billing(folder: Path, month: str, niks: list[str], name: str) -> Path:
    """An invoice of `month` billing `niks` at the program's rates."""
    lines = [HEADER] + [
        f"{n},{26050000000 + i:011d},Pekerja {i},{month},10000,6800,aktif"
        for i, n in enumerate(niks, start=1)
    ]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def four_enrolled(store_url: str, tmp_path: Path) -> str:
    ok(store_url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000",
       "--quota", "10")
    ok(store_url, "workers", "import", str(registrations(tmp_path)))
    ok(store_url, "workers", "prioritize")
    ok(store_url, "enroll", *[a for n in FOUR for a in ("--nik", n)], "--start", "2026-01",
       "--decree", "K1")
    return store_url


def agreeing(url: str, books: dict[str, Any], due: list[dict[str, Any]], month: str,
             committed_months: int) -> None:
    """The budget, the premiums due and the replayed history agree: one participant paid for
    `month`, nothing overpaid, `committed_months` worker-months committed."""
    assert (books["paid"], books["overpaid"]) == (PREMIUM, 0), books
    assert books["committed"] == committed_months * PREMIUM, books
    row = next(m for m in books["months"] if m["month"] == month)
    assert (row["paid_participants"], row["overpaid"]) == (1, 0), row
    assert row["committed"] == (row["active"] - 1) * PREMIUM, row
    owed = next(b for b in due if b["month"] == month)
    assert (owed["participants"], owed["amount"]) == (row["active"] - 1,
                                                      (row["active"] - 1) * PREMIUM), owed
    ok(url, "audit", "replay")
    ok(url, "audit", "verify")


def test_an_agreed_worker_annulled_after_the_reconciliation_is_not_paid_for(
    four_enrolled: str, tmp_path: Path
) -> None:
    url = four_enrolled
    path = billing(tmp_path, "2026-01", FOUR[:2], "inv1.csv")  # C and D left out
    ok(url, "premiums", "reconcile", "--month", "2026-01", "--invoice", str(path))
    ok(url, "annul", "--nik", FOUR[1], "--reason", "KEP-2 named him in error")
    paid = ok(url, "premiums", "pay", "--month", "2026-01", "--sp2d", "S1", "--invoice",
              str(path)).stdout
    assert "Paid Rp 16.800 for 1 participant" in paid, paid
    # January: A paid, C and D still owed; February to December: A, C and D.
    agreeing(url, as_json(url, "report", "budget"),
             as_json(url, "premiums", "due", "--today", "2026-02-01"), "2026-01", 2 + 3 * 11)


def test_an_agreed_worker_dead_before_the_month_is_not_paid_for(
    four_enrolled: str, tmp_path: Path
) -> None:
    url = four_enrolled
    path = billing(tmp_path, "2026-02", [FOUR[0], FOUR[3]], "inv2.csv")  # B and C left out
    ok(url, "premiums", "reconcile", "--month", "2026-02", "--invoice", str(path))
    deaths = tmp_path / "meninggal.csv"
    deaths.write_text(f"NIK,Tanggal Meninggal\n{FOUR[3]},2026-01-20\n", encoding="utf-8")
    ok(url, "workers", "deaths", str(deaths))
    paid = ok(url, "premiums", "pay", "--month", "2026-02", "--sp2d", "S2", "--invoice",
              str(path)).stdout
    assert "Paid Rp 16.800 for 1 participant" in paid, paid
    # January: all four owed; February: B and C; March to December: A, B and C.
    agreeing(url, as_json(url, "report", "budget"),
             as_json(url, "premiums", "due", "--today", "2026-03-01"), "2026-02",
             4 + 2 + 3 * 10)


def test_an_annulment_between_proposal_and_approval_refuses_the_payment(
    store_url: str, tmp_path: Path
) -> None:
    from test_outside_registers import NIKS
    from test_proposals_as_proposed import opened, proposed, refused, short_of

    url = store_url
    opened(url, tmp_path)
    decree = proposed(url, "enroll", "--nik", NIKS["BUDI"], "--nik", NIKS["SITI"], "--nik",
                      NIKS["AGUS"], "--start", "2026-05", "--decree", "KEP/1", actor="ops")
    ok(url, "proposals", "approve", decree, actor="kadis")
    path = billing(tmp_path, "2026-05", [NIKS["BUDI"], NIKS["SITI"]], "inv5.csv")
    ok(url, "premiums", "reconcile", "--month", "2026-05", "--invoice", str(path), actor="ppk")
    pay = short_of(ok(url, "premiums", "pay", "--month", "2026-05", "--sp2d", "SP2D/05",
                      "--invoice", str(path), actor="ppk").stdout)
    annul = proposed(url, "annul", "--nik", NIKS["SITI"], "--reason", "KEP/2 named her in "
                     "error", actor="ops")
    ok(url, "proposals", "approve", annul, actor="kadis")
    said = refused(url, pay, "bud")
    assert ("the bill for 2026-05 is now Rp 16.800 for 1 participant; the proposal was for "
            "Rp 33.600 for 2") in said, said
    ok(url, "proposals", "reject", pay, "--reason", "the bill moved", actor="bud")
    again = proposed(url, "premiums", "pay", "--month", "2026-05", "--sp2d", "SP2D/05b",
                     "--invoice", str(path), actor="ppk")
    assert "paid Rp 16.800 for 1 participant" in ok(url, "proposals", "approve", again,
                                                    actor="bud").stdout
    assert as_json(url, "report", "budget")["overpaid"] == 0
    ok(url, "audit", "replay")
