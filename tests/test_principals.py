"""The principal model: fingerprints, public keys as written out, and the directory of who
may write at a position."""

from __future__ import annotations

import pytest

from jamsos_ledger.domain.errors import InvalidInput, NotFound, RuleViolation
from jamsos_ledger.domain.principals import (
    ADMINISTRATOR,
    OPERATOR,
    Directory,
    Principal,
    fingerprint,
    normal_fingerprint,
    parse_public_key,
    public_key_text,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


def test_a_public_key_round_trips_through_its_text() -> None:
    assert parse_public_key(public_key_text(KEY_A)) == KEY_A
    with pytest.raises(InvalidInput, match="not an Ed25519 public key"):
        parse_public_key("ed25519:AAAA")


def test_a_fingerprint_is_accepted_in_any_case_and_grouping() -> None:
    fp = fingerprint(KEY_A)
    grouped = ":".join(fp[i:i + 4] for i in range(0, 64, 4)).upper()
    assert normal_fingerprint(grouped) == fp
    with pytest.raises(InvalidInput, match="not a key fingerprint"):
        normal_fingerprint(fp[:-1])


def test_the_directory_follows_enrolment_rotation_and_revocation() -> None:
    root = Principal("ana", "Diskominfo", frozenset({ADMINISTRATOR}), KEY_A)
    d = Directory(root)
    assert d.root is not None and d.root.is_administrator
    assert d.enrolment_problems("ana", "Disnaker", [OPERATOR], KEY_B) == [
        "a principal named 'ana' is enrolled already"
    ]
    assert "that key is ana's already" in d.enrolment_problems("budi", "X", [OPERATOR], KEY_A)[0]
    assert "unknown role 'king'" in d.enrolment_problems("budi", "X", ["king"], KEY_B)[0]
    d.apply({"kind": "enrolled", "name": "budi", "office": "Disnaker", "roles": [OPERATOR],
             "public_key": public_key_text(KEY_B)})
    assert d.holding(KEY_B) == d.active("budi")
    assert not d.active("budi").is_administrator
    d.apply({"kind": "rotated", "name": "budi", "public_key": public_key_text(bytes(32))})
    assert d.holding(KEY_B) is None
    # A key rotated away is never anyone's again, nor the rotating principal's.
    assert "was budi's until it was rotated away" in d.enrolment_problems(
        "cici", "X", [OPERATOR], KEY_B)[0]
    assert "was budi's until" in (d.rotation_problem("budi", KEY_B) or "")
    d.apply({"kind": "revoked", "name": "budi", "reason": "left"})
    with pytest.raises(RuleViolation, match="revoked"):
        d.active("budi")
    assert not d.by_name["budi"].holds(OPERATOR)
    with pytest.raises(NotFound, match="no principal named 'cici'"):
        d.active("cici")
