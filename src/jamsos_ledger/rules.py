"""The rules of the program that are not about one aggregate's state: premiums and priority.

Each rule names the regulation it comes from. Money is integer rupiah throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

from jamsos_ledger.money import rupiah

# Non-wage-earner (BPU) premiums, per participant per month (PP 44/2015 as amended by
# PP 82/2019; Permenaker 5/2021): JKK is 1% of declared monthly income, declared income at
# least Rp 1,000,000; JKM is Rp 6,800 flat.
JKK_RATE_PERCENT = 1
MINIMUM_DECLARED_INCOME = 1_000_000
MINIMUM_JKK_MONTHLY = MINIMUM_DECLARED_INCOME * JKK_RATE_PERCENT // 100
DEFAULT_JKK_MONTHLY = MINIMUM_JKK_MONTHLY
DEFAULT_JKM_MONTHLY = 6_800

# DTSEN ranks households in deciles 1 (poorest) to 10 (Inpres 4/2025).
DECILES = range(1, 11)


@dataclass(frozen=True, slots=True)
class Premium:
    """Premium for some participant-months, its two schemes kept apart because reports split them.

    Attributes:
        jkk: work-accident insurance (Jaminan Kecelakaan Kerja), rupiah.
        jkm: death insurance (Jaminan Kematian), rupiah.
    """

    jkk: int
    jkm: int

    @property
    def total(self) -> int:
        return self.jkk + self.jkm

    def times(self, participant_months: int) -> Premium:
        """The premium of that many participant-months at this monthly rate."""
        return Premium(self.jkk * participant_months, self.jkm * participant_months)


def premium_problems(jkk_monthly: int, jkm_monthly: int) -> list[str]:
    """What is wrong with a program's monthly rates, by the regulation above."""
    problems = []
    if jkk_monthly < MINIMUM_JKK_MONTHLY:
        problems.append(
            f"JKK premium {rupiah(jkk_monthly)} a month is below the minimum "
            f"{rupiah(MINIMUM_JKK_MONTHLY)} (1% of declared income of at least "
            f"{rupiah(MINIMUM_DECLARED_INCOME)})"
        )
    if jkm_monthly <= 0:
        problems.append(f"JKM premium must be positive, not {rupiah(jkm_monthly)}")
    return problems


@dataclass(frozen=True, slots=True)
class PriorityRuleset:
    """A named, versioned rule for who comes first.

    Attributes:
        name: recorded with every rank so that an auditor knows which rule produced it.
        tiers: deciles in order of priority; deciles in no tier are not eligible.
        description: the rule in words, for reports and the audit trail.
    """

    name: str
    tiers: tuple[tuple[int, ...], ...]
    description: str

    def tier_of(self, decile: int) -> int | None:
        """1 for the first tier, 2 for the second...; None when the decile is not eligible."""
        for number, deciles in enumerate(self.tiers, start=1):
            if decile in deciles:
                return number
        return None

    def is_eligible(self, decile: int) -> bool:
        return self.tier_of(decile) is not None

    def not_eligible(self) -> str:
        """Who this rule set leaves out, in words: "deciles 6-10 are not eligible"."""
        left_out = [d for d in DECILES if not self.is_eligible(d)]
        if not left_out:
            return "every decile is eligible"
        runs: list[list[int]] = []
        for d in left_out:
            if runs and runs[-1][-1] == d - 1:
                runs[-1].append(d)
            else:
                runs.append([d])
        spans = [str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs]
        word = "decile" if len(left_out) == 1 else "deciles"
        verb = "is" if len(left_out) == 1 else "are"
        return f"{word} {', '.join(spans)} {verb} not eligible"

    def sort_key(self, decile: int, registered_position: int) -> tuple[int, int, int]:
        """Order of eligible workers: tier, then decile, then who was registered first.

        The registration's position in the ledger's log is unique, so ties cannot remain and
        any auditor can re-derive every rank from the events alone.
        """
        tier = self.tier_of(decile)
        if tier is None:
            raise ValueError(f"decile {decile} is not eligible under {self.name}")
        return (tier, decile, registered_position)


# Kota Bekasi's SIGAP program: deciles 1-3 first, then 4-5 while places remain; 6 and above
# are not eligible by default.
DTSEN_DECILE_V1 = PriorityRuleset(
    name="dtsen-desil-v1",
    tiers=((1, 2, 3), (4, 5)),
    description=(
        "DTSEN deciles 1-3 first, then 4-5; 6-10 not eligible; within a tier the lower "
        "decile first, then the earlier registration"
    ),
)

RULESETS: dict[str, PriorityRuleset] = {DTSEN_DECILE_V1.name: DTSEN_DECILE_V1}
DEFAULT_RULESET = DTSEN_DECILE_V1.name


def ruleset(name: str) -> PriorityRuleset:
    """The rule set of that name; KeyError lists the known ones."""
    try:
        return RULESETS[name]
    except KeyError:
        raise KeyError(
            f"unknown rule set {name!r}; known: {', '.join(sorted(RULESETS))}"
        ) from None
