"""The rules of the program that are not about one aggregate's state: premiums and priority.

Each rule names the regulation it comes from. Money is integer rupiah throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jamsos_ledger.domain.money import rupiah
from jamsos_ledger.domain.months import date_problem

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

# The years a program may run in: BPJS Ketenagakerjaan took over from PT Jamsostek on
# 1 January 2014 (UU 24/2011 art. 62), so no city paid it before; a year after 2099 is a typo.
# The bound also keeps every date the books work out from a period (a bill due the month after,
# participants inactive three months later) inside the calendar.
PROGRAM_YEARS = range(2014, 2100)

# The ages of a BPU participant. At least 18: UU 13/2003 on manpower calls anyone younger a
# child (art. 1(26)) and forbids employing children (art. 68), and the program insures adults
# at work, with their own e-KTP. At most 65 when coverage starts: BPJS Ketenagakerjaan takes BPU
# participants up to 65 (Permenaker 5/2021 on BPU membership, as BPJS's membership guide Perdir
# 22/PERDIR.02/072022 applies it; the limit was raised from 56 in 2017).
# A registration is checked against the day it is recorded only for what can never become
# right later (born after that day, or a child then); the range is checked at the first covered
# month, a fact of the program, so that a registration file valid today stays valid next year.
MINIMUM_AGE = 18
MAXIMUM_AGE = 65


def age_on(birth_date: date, day: date) -> int:
    """Whole years of life on `day` (negative before birth)."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (1 if before_birthday else 0)


def age_problem(birth_date: date, day: date, when: str, *, upper: bool = True) -> str | None:
    """Why someone born on `birth_date` cannot be a BPU participant on `day`, or None.

    `when` says what the day is (e.g. "when registered on 2026-12-02"), for the message;
    `upper=False` leaves out the upper limit (a registration: see above). A birth date
    outside the ledger's calendar (`months.CALENDAR_YEARS`) is refused as such.
    """
    outside = date_problem(birth_date)
    if outside:
        return f"birth date {outside}"
    if birth_date > day:
        return f"birth date {birth_date.isoformat()} has not come yet {when}"
    age = age_on(birth_date, day)
    if age < MINIMUM_AGE or (upper and age > MAXIMUM_AGE):
        return (
            f"aged {age} {when}: BPU participants are {MINIMUM_AGE} to {MAXIMUM_AGE} years old "
            "(UU 13/2003; BPJS Ketenagakerjaan's BPU age limit)"
        )
    return None


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
