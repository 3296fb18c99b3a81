"""What the CLI used to decide, asked of the service layer directly: the import strategy and
its refusal, the inputs of `premiums due`, and who a rule set leaves out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

from jamsos_ledger.application import Ledger
from jamsos_ledger.errors import InvalidInput
from jamsos_ledger.importing import import_registrations
from jamsos_ledger.months import Month
from jamsos_ledger.projections.premiums_due import premiums_due
from jamsos_ledger.rules import DTSEN_DECILE_V1, PriorityRuleset

HEADER = "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source"


def row(serial: int, decile: int = 2) -> str:
    return (f"327509090891{serial:04d},Pekerja {serial},1991-08-09,L,Jatiasih,Jatiluhur,ojol,"
            f"{decile},Dinsos")


@contextmanager
def counted(total: int) -> Iterator[Callable[[int], None]]:
    yield lambda _n: None


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
        program = ledger.open_program(year=2026, allocation=10_000_000, quota=10)
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
