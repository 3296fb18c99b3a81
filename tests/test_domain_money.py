"""Money: integer rupiah written the Indonesian way, and the BPU premium split in JKK and JKM."""

from __future__ import annotations

import pytest

from jamsos_ledger.domain.money import count, rupiah
from jamsos_ledger.domain.rules import (
    DEFAULT_JKK_MONTHLY,
    DEFAULT_JKM_MONTHLY,
    DEFAULT_RULESET,
    DTSEN_DECILE_V1,
    MINIMUM_JKK_MONTHLY,
    Premium,
    premium_problems,
    ruleset,
)


@pytest.mark.parametrize(
    ("amount", "written"),
    [
        (2_000_000_000, "Rp 2.000.000.000"),  # Kota Bekasi's allocation
        (2_016_000_000, "Rp 2.016.000.000"),  # 10.000 workers x 12 months x Rp 16.800
        (1_999_872_000, "Rp 1.999.872.000"),  # 9.920 workers for the full year
        (16_000_000, "Rp 16.000.000"),
        (201_600, "Rp 201.600"),
        (16_800, "Rp 16.800"),
        (128_000, "Rp 128.000"),
        (999, "Rp 999"),
        (0, "Rp 0"),
        (-5_000, "-Rp 5.000"),
        (-16_000_000, "-Rp 16.000.000"),
    ],
)
def test_rupiah(amount: int, written: str) -> None:
    assert rupiah(amount) == written


def test_count() -> None:
    assert count(9_920) == "9.920"
    assert count(10_000) == "10.000"
    assert count(11_666) == "11.666"
    assert count(80) == "80"


def test_default_premium_is_rp_16_800_a_month() -> None:
    # JKK 1% of the minimum declared income Rp 1.000.000 = Rp 10.000; JKM Rp 6.800 flat.
    assert MINIMUM_JKK_MONTHLY == 10_000
    assert (DEFAULT_JKK_MONTHLY, DEFAULT_JKM_MONTHLY) == (10_000, 6_800)
    monthly = Premium(DEFAULT_JKK_MONTHLY, DEFAULT_JKM_MONTHLY)
    assert monthly.total == 16_800
    # A year: 12 x 16.800 = 201.600 (the news: "about Rp 201 thousand").
    assert monthly.times(12) == Premium(120_000, 81_600)
    assert monthly.times(12).total == 201_600


def test_the_seed_arithmetic() -> None:
    monthly = Premium(10_000, 6_800)
    # 9.920 full-year workers: 9.920 x 201.600 = 1.999.872.000, Rp 128.000 left.
    assert monthly.times(9_920 * 12).total == 1_999_872_000
    assert 2_000_000_000 - monthly.times(9_920 * 12).total == 128_000
    # 10.000 full-year workers: 2.016.000.000, Rp 16.000.000 over.
    assert monthly.times(10_000 * 12).total == 2_016_000_000
    # 10.000 from February (11 months): 10.000 x 11 x 16.800 = 1.848.000.000.
    assert monthly.times(10_000 * 11).total == 1_848_000_000
    # SIGAP's bridge: 11.666 x 16.800 x 2 = 391.977.600; a 2026 year: 2.351.865.600.
    assert monthly.times(11_666 * 2).total == 391_977_600
    assert monthly.times(11_666 * 12).total == 2_351_865_600


def test_premium_problems() -> None:
    assert premium_problems(10_000, 6_800) == []
    # A declared income of Rp 1.500.000 makes JKK Rp 15.000: allowed.
    assert premium_problems(15_000, 6_800) == []
    # Written for Indonesian readers: "Rp 10,000" would read as ten rupiah.
    assert premium_problems(9_999, 6_800) == [
        "JKK premium Rp 9.999 a month is below the minimum Rp 10.000 "
        "(1% of declared income of at least Rp 1.000.000)"
    ]
    assert premium_problems(10_000, 0) == ["JKM premium must be positive, not Rp 0"]


def test_priority_ruleset() -> None:
    rules = ruleset(DEFAULT_RULESET)
    assert rules is DTSEN_DECILE_V1
    assert [rules.tier_of(d) for d in range(1, 11)] == [1, 1, 1, 2, 2, None, None, None, None, None]
    assert rules.is_eligible(5) and not rules.is_eligible(6)
    # Tier, then decile, then registration position.
    assert rules.sort_key(3, 7) < rules.sort_key(4, 1)
    assert rules.sort_key(1, 9) < rules.sort_key(2, 1)
    assert rules.sort_key(2, 1) < rules.sort_key(2, 9)
    with pytest.raises(ValueError, match="decile 6 is not eligible"):
        rules.sort_key(6, 1)
    with pytest.raises(KeyError, match="unknown rule set 'dtsen-v0'; known: dtsen-desil-v1"):
        ruleset("dtsen-v0")
