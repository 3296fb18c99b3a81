"""Every stored event names its class by a topic; the names stay what the first ledgers wrote.

The classes of the domain may move between modules; the topics stored in every event (and the
aggregate's class named in its first event) may not, or every ledger written before the move
would neither decode nor be found by the reads that ask the log for events of given topics.
"""

from __future__ import annotations

from pathlib import Path

from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.utils import get_topic, resolve_topic

from cli_helpers import ok
from jamsos_ledger.application import Ledger
from jamsos_ledger.domain.audit_notes import AuditNote
from jamsos_ledger.domain.model import Program, Reference, Worker
from jamsos_ledger.domain.principals import PrincipalRegistry
from jamsos_ledger.domain.proposals import Proposal
from jamsos_ledger.domain.service_tokens import ServiceToken
from jamsos_ledger.domain.viewings import Viewing

# Each aggregate of the domain, with the module its topics were first stored under.
AGGREGATES: dict[type[Aggregate], str] = {
    Program: "jamsos_ledger.domainmodel",
    Worker: "jamsos_ledger.domainmodel",
    Reference: "jamsos_ledger.domainmodel",
    PrincipalRegistry: "jamsos_ledger.principals",
    Proposal: "jamsos_ledger.proposals",
    Viewing: "jamsos_ledger.viewings",
    AuditNote: "jamsos_ledger.domain.audit_notes",
    ServiceToken: "jamsos_ledger.domain.service_tokens",
}


def _classes(*modules: str) -> list[type]:
    """The aggregates (of the given stored modules, or all) and their event classes."""
    return [
        c
        for aggregate, module in AGGREGATES.items()
        if not modules or module in modules
        for c in (aggregate, *vars(aggregate).values())
        if isinstance(c, type) and (c is aggregate or issubclass(c, CanMutateAggregate))
    ]


def _stored(cls: type) -> str:
    for aggregate, module in AGGREGATES.items():
        if cls is aggregate or cls in vars(aggregate).values():
            return f"{module}:{cls.__qualname__}"
    raise AssertionError(cls)


def test_every_class_of_the_domain_keeps_the_topic_the_first_ledgers_stored() -> None:
    classes = _classes()
    assert Worker.Registered in classes and Program.PremiumPaid in classes
    assert Proposal.Proposed in classes and Viewing.Viewed in classes
    assert PrincipalRegistry in classes
    for cls in classes:
        topic = get_topic(cls)
        assert topic == _stored(cls), cls
        assert resolve_topic(topic) is cls


def test_the_topics_of_the_first_principals_proposals_and_viewings_still_resolve() -> None:
    # Written by ledgers before the domain moved into domain/ (one example of each module).
    for topic, cls in (
        ("jamsos_ledger.principals:PrincipalRegistry", PrincipalRegistry),
        ("jamsos_ledger.proposals:Proposal.Proposed", Proposal.Proposed),
        ("jamsos_ledger.viewings:Viewing.Viewed", Viewing.Viewed),
    ):
        assert resolve_topic(topic) is cls
        assert get_topic(cls) == topic


def test_a_ledger_written_now_stores_only_those_topics(store_url: str, tmp_path: Path) -> None:
    registrations = tmp_path / "registrations.csv"
    registrations.write_text(
        "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source\n"
        "3275011705840001,Pekerja Satu,1984-05-17,L,01,Margahayu,ojol,1,Disnaker\n",
        encoding="utf-8",
    )
    ok(store_url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000",
       "--quota", "5")
    ok(store_url, "workers", "import", str(registrations))
    ok(store_url, "workers", "prioritize")
    ok(store_url, "enroll", "--top", "1", "--start", "2026-01", "--decree", "KEP/1/2026")
    ledger = Ledger(store_url)
    try:
        stored = {n.topic for n in ledger.read_log()}
    finally:
        ledger.close()
    expected = {_stored(c) for c in _classes()}
    assert {"jamsos_ledger.domainmodel:Worker.Registered",
            "jamsos_ledger.domainmodel:Worker.Enrolled",
            "jamsos_ledger.domainmodel:Reference.Used"} <= stored <= expected
