"""What the CLI used to decide, asked of the service layer directly: the import strategy and
its refusal, the inputs of `premiums due`, and who a rule set leaves out."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

from jamsos_ledger.application import Ledger, LedgerService
from jamsos_ledger.application.importing import import_registrations
from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.model import available_money, months_overlap, places_left
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.rules import DTSEN_DECILE_V1, PriorityRuleset
from jamsos_ledger.projections.premiums_due import premiums_due
from jamsos_ledger.projections.views import OVERLAPPING

HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"


def row(serial: int, decile: int = 2) -> str:
    return (f"327509090891{serial:04d},Pekerja {serial},1991-08-09,L,Jatiasih,Jatiluhur,ojol,"
            f"{decile},Dinsos")


@contextmanager
def counted(total: int) -> Iterator[Callable[[int], None]]:
    yield lambda _n: None


def test_the_composed_ledger_keeps_the_services_name() -> None:
    """The library derives table names from it: `jamsos_events` on PostgreSQL, as ever."""
    assert Ledger.name == LedgerService.name == "jamsos"


def test_a_rule_set_says_who_it_leaves_out() -> None:
    assert DTSEN_DECILE_V1.not_eligible() == "deciles 6-10 are not eligible"
    other = PriorityRuleset("x", ((1, 2), (4,), (10,)), "")
    assert other.not_eligible() == "deciles 3, 5-9 are not eligible"
    assert PriorityRuleset("y", (tuple(range(1, 10)),), "").not_eligible() == (
        "decile 10 is not eligible"
    )
    assert PriorityRuleset("z", (tuple(range(1, 11)),), "").not_eligible() == (
        "every decile is eligible"
    )


def test_an_import_refuses_a_bad_file_before_the_store_is_opened(tmp_path: Path) -> None:
    path = tmp_path / "extract.csv"
    path.write_text("\n".join([HEADER, row(1), row(2, decile=11)]) + "\n", encoding="utf-8")
    opened: list[Ledger] = []

    def open_ledger() -> Ledger:
        opened.append(Ledger(f"sqlite:///{tmp_path / 'jamsos.db'}", actor="t"))
        return opened[-1]

    with pytest.raises(InvalidInput, match="line 3"):
        import_registrations(path, open_ledger, actor="t", keep_good_rows=False,
                             progress=counted)
    assert opened == []
    result, read = import_registrations(path, open_ledger, actor="t", keep_good_rows=True,
                                        progress=counted)
    try:
        assert (result.registered, result.already, len(read.rejected)) == (1, 0, 1)
    finally:
        for ledger in opened:
            ledger.close()


def test_premiums_due_are_put_together_from_the_budget_months(tmp_path: Path) -> None:
    path = tmp_path / "extract.csv"
    path.write_text("\n".join([HEADER, row(1), row(2)]) + "\n", encoding="utf-8")
    ledger = Ledger(f"sqlite:///{tmp_path / 'jamsos.db'}", actor="t")
    try:
        program = ledger.open_program(year=2026, allocation=10_000_000, quota=10, four_eyes=False)
        import_registrations(path, lambda: ledger, actor="t", keep_good_rows=False,
                             progress=counted)
        ledger.prioritize()
        ledger.enrol(start=Month(2026, 1), top=2)
        ledger.pay_premiums(month=Month(2026, 1), sp2d="SP2D-1")
        bills, at = premiums_due(ledger.views, program.id, date(2026, 3, 1))
        assert [(str(b.month), b.participants) for b in bills] == [("2026-02", 2), ("2026-03", 2)]
        assert all(b.amount == 2 * program.premium.total for b in bills)
        assert at == int(ledger.recorder.max_notification_id() or 0)
    finally:
        ledger.close()


def test_the_views_overlap_sql_is_the_domains_rule() -> None:
    """Every arrangement of an enrolment (ended or not) and the months asked about: the SQL the
    views ask with agrees with `model.months_overlap` on a coverage's last month."""
    months = [Month(2025, 11), Month(2025, 12), Month(2026, 1), Month(2026, 2), Month(2026, 3)]
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE e (start_month TEXT, end_month TEXT, ended_month TEXT)")
    ranges = [(a, b) for a in months for b in months if a <= b]
    checked = 0
    for e_start, e_end in ranges:
        for ended in [None, *(m for m in months if e_start <= m <= e_end)]:
            db.execute("DELETE FROM e")
            db.execute("INSERT INTO e VALUES (?, ?, ?)",
                       (str(e_start), str(e_end), None if ended is None else str(ended)))
            last = ended if ended is not None else e_end
            for start, end in ranges:
                (found,) = db.execute(f"SELECT COUNT(*) FROM e WHERE {OVERLAPPING}",
                                      (str(start), str(end))).fetchone()
                assert bool(found) == months_overlap(start, end, e_start, last)
                checked += 1
    assert checked > 500


def test_the_budget_and_quota_figures_use_the_domains_identities(sqlite_url: str) -> None:
    ledger = Ledger(sqlite_url, actor="t")
    try:
        program = ledger.open_program(year=2026, allocation=10_000_000, quota=10)
        budget = ledger.views.budget(program.id)
        assert budget["available"] == program.available == available_money(10_000_000, 0, 0)
        assert ledger.views.quota(program.id)["available"] == program.places_left == 10
        assert places_left(10, 3) == 7 and available_money(100, 30, 20) == 50
    finally:
        ledger.close()
