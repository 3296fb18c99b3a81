"""A principal with the `service` role seals on behalf of the principal who authenticated to
it; the events record that principal, and verification holds it to the service role. Nobody
else may act for another."""

from __future__ import annotations

import dataclasses

import pytest

from cli_helpers import admin_key, key_for
from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.application.seal_check import check_seals, seal_inputs
from jamsos_ledger.domain.errors import NotAuthorised
from jamsos_ledger.domain.principals import APPROVER, OPERATOR, SERVICE, public_key_text


def _setup(url: str) -> str:
    admin = Ledger(url, key=KeySource(key=admin_key()))
    try:
        root = admin.signing.establish_root("ana", "Diskominfo")
        admin.open_program(year=2026, allocation=2_000_000, quota=10, code="p", four_eyes=False)
        # Budi amends the program through the service: an approver's command.
        for name, roles in (("api", [SERVICE]), ("budi", [OPERATOR, APPROVER])):
            admin.principals.enrol(name, "Diskominfo", roles,
                                   public_key_text(key_for(name).public_key))
    finally:
        admin.close()
    return root.fingerprint


def test_the_service_seals_for_a_principal_and_nobody_else_may(sqlite_url: str) -> None:
    root = _setup(sqlite_url)
    service = Ledger(sqlite_url, key=KeySource(key=key_for("api"), on_behalf_of="budi"))
    try:
        assert service.actor == "budi"
        service.amend_program("p", quota=9, reason="via the service")
        head = int(service.recorder.max_notification_id() or 0)
        seals, hashes, changes = seal_inputs(service.recorder, service.mapper, head)
        assert seals[-1].principal == "api" and seals[-1].on_behalf_of == "budi"
        assert check_seals(seals, hashes, changes, head, root).finding is None
        # The same seal claiming the service acted for nobody, or for another, fails.
        for forged in ("ana", None):
            changed = [*seals[:-1], dataclasses.replace(seals[-1], on_behalf_of=forged)]
            assert check_seals(changed, hashes, changes, head, root).finding is not None
    finally:
        service.close()
    operator = Ledger(sqlite_url, key=KeySource(key=key_for("budi"), on_behalf_of="ana"))
    try:
        with pytest.raises(NotAuthorised, match="only a principal with the 'service' role"):
            operator.amend_program("p", quota=8, reason="as someone else")
    finally:
        operator.close()
