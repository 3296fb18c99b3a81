"""`audit verify` checks the role table over the history (issue 18), on both stores.

A payment sealed, validly, with the key of an operator (a stolen key run through a jamsos of
someone's own making, or a past bug) is reported like a broken seal: exit 4, its position, who
wrote it and the role it needed. A history written within the roles verifies.
"""

from __future__ import annotations

from role_helpers import acting
from test_application import BUDI, EVERYONE, JAN

from cli_helpers import jamsos, key_for
from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.domain.principals import FINANCE, OPERATOR, ROLES, Principal


def history(url: str) -> None:
    root = Ledger(url)
    root.open_program(year=2026, allocation=2_000_000_000, quota=10_000, code="p", four_eyes=False)
    root.register(EVERYONE)
    root.enrol("p", start=JAN, niks=[BUDI.nik], decree="KEP/1")
    root.close()
    acting(url, "ops", {OPERATOR}).close()
    acting(url, "keu", {FINANCE}).close()


def test_a_history_within_the_roles_verifies(store_url: str) -> None:
    history(store_url)
    keu = acting(store_url, "keu", {FINANCE})
    keu.pay_premiums(month=JAN, sp2d="SP2D/01", code="p")
    keu.close()
    result = jamsos(store_url, "audit", "verify")
    assert result.exit_code == 0, result.output


def test_a_payment_sealed_by_an_operator_is_reported(store_url: str) -> None:
    history(store_url)
    ops = Ledger(store_url, key=KeySource(key=key_for("ops")))
    try:
        ops.signing.ready()
        # Someone's own jamsos, or a bug: it checks no role, and seals with ops's real key.
        real = ops.signing.principal
        assert real is not None and real.roles == frozenset({OPERATOR})
        ops.signing.principal = Principal(real.name, real.office, frozenset(ROLES),
                                          real.public_key)
        ops.signing.still_allowed = lambda *_: None  # type: ignore[method-assign]
        ops.pay_premiums(month=JAN, sp2d="SP2D/01", code="p")
        paid_at = int(ops.recorder.max_notification_id() or 0) - 1
    finally:
        ops.close()
    result = jamsos(store_url, "audit", "verify")
    assert result.exit_code == 4, result.output
    said = " ".join(result.output.split())
    assert "PremiumPaid written by 'ops', who held operator then; it needs the role finance" \
        in said, said
    assert f"position {paid_at}" in said, said
