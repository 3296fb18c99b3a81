"""The reports as typed values, and the one function that makes a report JSON-ready.

Each report (budget, quota, quota by group, claims, premiums due, a program's figures and its
capacity) is computed once into one of these frozen values, whoever shows it: the command line
renders it as a table, CSV or JSON, and a service can return `report_json(value)` as it is.
The fields are the report's JSON keys, in their order (kept from release to release); where a
report's JSON is shaped otherwise (a list of rows, a key named after a grouping) the value
says so in its `json_shape`. Fields marked `NOT_IN_JSON` are for people (a rule in words),
never in JSON.

Every report states where in the log it was computed: `position`, the last event it read,
and `digest`, the hash-chain digest of the log up to that position (`POSITION:HASH`, as
`audit digest` prints it), so a printed report can be checked against an export of the log
(`audit verify --digest`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from jamsos_ledger.stores.integrity import Digest

# Field metadata of what a value holds for people only: its JSON leaves it out.
NOT_IN_JSON: Mapping[str, bool] = {"json": False}

# Masked NIKs of workers, by aggregate id: the projections hold no personal data, so whoever
# builds a report naming workers (the priority check's examples) says how to mask them.
MaskNiks = Callable[[Sequence[UUID]], Mapping[UUID, str]]


def report_json(value: Any) -> Any:
    """A report value (or any part of it) as plain JSON-ready data: objects as dicts whose
    keys are in the report's order, tuples as lists, integers as integers, digests and ids
    as text. What `--format json` prints, and what a service returns."""
    if isinstance(value, Digest | UUID):
        return str(value)
    if isinstance(value, Decimal):
        return int(value)
    shape = getattr(value, "json_shape", None)
    if callable(shape):
        return report_json(shape())
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: report_json(getattr(value, f.name)) for f in fields(value)
                if f.metadata.get("json", True)}
    if isinstance(value, Mapping):
        return {str(k): report_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [report_json(v) for v in value]
    return value


# -- budget ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetMonth:
    """One month of the budget, rupiah; each kind of money also split JKK/JKM.

    Attributes:
        month: YYYY-MM.
        active, paid_participants: participants covered, and paid for.
        planned: what its covered participants cost; committed: still to pay for them;
            paid: paid under SP2D; overpaid: paid for coverage that ended since.
        status: the month's state of payment in a word.
        sp2d: the disbursement orders that paid it.
        forecast: what is still to pay for it (its commitment).
        cumulative_paid, cumulative_forecast: paid, and paid plus committed, up to it.
    """

    month: str
    active: int
    paid_participants: int
    planned: int
    committed: int
    paid: int
    overpaid: int
    planned_jkk: int
    planned_jkm: int
    committed_jkk: int
    committed_jkm: int
    paid_jkk: int
    paid_jkm: int
    overpaid_jkk: int
    overpaid_jkm: int
    status: str
    sp2d: tuple[str, ...]
    forecast: int
    cumulative_paid: int
    cumulative_forecast: int


@dataclass(frozen=True)
class BudgetForecast:
    """What happens to the money by the end of the period if nothing changes.

    Attributes:
        first_unpaid_month: the first month with something still to pay, if any.
        last_paid_month: the last month with participants paid for, if any.
        to_pay: still to pay (the commitments); spent_at_end: paid plus that.
        silpa: left unspent at the end of the period.
    """

    first_unpaid_month: str | None
    last_paid_month: str | None
    to_pay: int
    spent_at_end: int
    silpa: int


@dataclass(frozen=True)
class BudgetReport:
    """`report budget`: the program's money, month by month, and its forecast.

    Attributes:
        program: the program's code.
        allocation, committed, paid, available, overpaid, planned: the program's figures,
            rupiah, each also split JKK/JKM (but available).
        enrolled: participants holding a place.
        start, end: the period's months; ruleset: the priority rule set.
        silpa: money left unspent at the end if nothing changes; payments: SP2D recorded.
        months: the months of the period.
        position, digest: where in the log it was computed (see the module).
    """

    program: str
    allocation: int
    committed: int
    paid: int
    available: int
    overpaid: int
    planned: int
    planned_jkk: int
    planned_jkm: int
    committed_jkk: int
    committed_jkm: int
    paid_jkk: int
    paid_jkm: int
    overpaid_jkk: int
    overpaid_jkm: int
    enrolled: int
    start: str
    end: str
    ruleset: str
    forecast: BudgetForecast
    silpa: int
    payments: int
    months: tuple[BudgetMonth, ...]
    position: int
    digest: Digest | None


# -- quota -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriorityExample:
    """An enrolment that passed over a waiting worker of a higher tier, workers named by
    their masked NIK.

    Attributes:
        enrolled: the worker enrolled; decile, tier: theirs when enrolled.
        position: where the enrolment stands in the log.
        waiting: eligible workers of a higher tier waiting then; first_waiting: the earliest
            registered of them, and first_waiting_decile their decile.
    """

    enrolled: str
    decile: int
    tier: int
    position: int
    waiting: int
    first_waiting: str
    first_waiting_decile: int


@dataclass(frozen=True)
class PriorityShown:
    """Whether enrolments respected the program's rule set's priority, as reported.

    Attributes:
        ruleset: the rule set's name; respected: no enrolment passed anyone over.
        violations: enrolments that did; examples: the first few of them.
        description: the rule in words (for people).
    """

    ruleset: str
    respected: bool
    violations: int
    examples: tuple[PriorityExample, ...]
    description: str = field(default="", metadata=NOT_IN_JSON)


@dataclass(frozen=True)
class QuotaReport:
    """`report quota`: places held and available, eligible workers, and priority.

    Attributes:
        program: the program's code; quota: the places it has.
        enrolled: holding a place; available: places left; ended: coverages ended.
        registered: workers registered; eligible: those the rule set admits; waiting: of
            them, never enrolled in the program.
        priority: the priority check.
        position, digest: where in the log it was computed (see the module).
    """

    program: str
    quota: int
    enrolled: int
    available: int
    ended: int
    registered: int
    eligible: int
    waiting: int
    priority: PriorityShown
    position: int
    digest: Digest | None


@dataclass(frozen=True)
class QuotaGroup:
    """One kecamatan, occupation or decile of `report quota --by`.

    Attributes:
        group: its name (a decile's number).
        enrolled, ended, registered, eligible, waiting: as in `QuotaReport`, in the group.
        tier: a decile's tier under the rule set (None for other groupings).
    """

    group: str | int
    enrolled: int
    ended: int
    registered: int
    eligible: int
    waiting: int
    tier: int | None = None


@dataclass(frozen=True)
class QuotaByReport:
    """`report quota --by`: the quota report, and the same counts per group.

    Its JSON is a list, one object a group keyed by the grouping's name (`kecamatan`, ...),
    each with the position and digest.

    Attributes:
        by: `kecamatan`, `occupation` or `decile`.
        groups: the groups, in order.
        summary: the program's quota report, computed in the same read.
    """

    by: str
    groups: tuple[QuotaGroup, ...]
    summary: QuotaReport

    @property
    def position(self) -> int:
        return self.summary.position

    @property
    def digest(self) -> Digest | None:
        return self.summary.digest

    def json_shape(self) -> list[dict[str, Any]]:
        return [
            {
                self.by: g.group,
                "enrolled": g.enrolled,
                "ended": g.ended,
                "registered": g.registered,
                "eligible": g.eligible,
                "waiting": g.waiting,
                **({"tier": g.tier} if self.by == "decile" else {}),
                "position": self.position,
                "digest": self.digest,
            }
            for g in self.groups
        ]


# -- claims ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimRow:
    """One claim, with where its worker lives and works.

    Attributes:
        reference: BPJS's claim reference; scheme: JKK or JKM.
        incident_date: YYYY-MM-DD; month: YYYY-MM of it.
        recorded_at: when recorded (ISO 8601, UTC); actor: who recorded it.
        benefit: the benefit BPJS paid, rupiah, when recorded.
        kecamatan, occupation, decile: the worker's.
    """

    reference: str
    scheme: str
    incident_date: str
    month: str
    recorded_at: str
    actor: str
    benefit: int | None
    kecamatan: str | None
    occupation: str | None
    decile: int | None


@dataclass(frozen=True)
class ClaimTally:
    """Claims of one month or kecamatan.

    Attributes:
        by: `month` or `kecamatan` (its JSON key); name: which one.
        by_scheme: claims of each scheme; total: all of them.
        benefits: benefits recorded, rupiah.
    """

    by: str
    name: str
    by_scheme: Mapping[str, int]
    total: int
    benefits: int

    def json_shape(self) -> dict[str, Any]:
        return {self.by: self.name, **self.by_scheme, "total": self.total,
                "benefits": self.benefits}


@dataclass(frozen=True)
class ClaimsReport:
    """`report claims`: every claim of the program, counted by scheme, month and kecamatan.

    Attributes:
        program: the program's code; total: its claims.
        by_scheme, benefits_by_scheme: claims and benefits of each scheme.
        benefits_total: benefits recorded, rupiah; with_benefit: claims with one.
        by_month, by_kecamatan: the tallies.
        claims: the claims, in the order recorded.
        position, digest: where in the log it was computed (see the module).
    """

    program: str
    total: int
    by_scheme: Mapping[str, int]
    benefits_by_scheme: Mapping[str, int]
    benefits_total: int
    with_benefit: int
    by_month: tuple[ClaimTally, ...]
    by_kecamatan: tuple[ClaimTally, ...]
    claims: tuple[ClaimRow, ...]
    position: int
    digest: Digest | None


# -- premiums due ------------------------------------------------------------------------


@dataclass(frozen=True)
class BillDue:
    """One month's unpaid bill, on the day asked about.

    Attributes:
        month: the billed month; participants: covered and not yet paid for.
        amount: the bill, rupiah, JKK plus JKM.
        due: its due date (YYYY-MM-DD); overdue: past it.
        months_unpaid: months since the billed month; at_risk: long enough to warn.
        deactivation: when BPJS would make its participants inactive if still unpaid.
        status: its state in words.
    """

    month: str
    participants: int
    amount: int
    jkk: int
    jkm: int
    due: str
    overdue: bool
    months_unpaid: int
    at_risk: bool
    deactivation: str
    status: str


@dataclass(frozen=True)
class PremiumsDueReport:
    """`premiums due`: the unpaid bills of the months up to the day asked about.

    Its JSON is a list, one object a bill, each with the position and digest.

    Attributes:
        program: the program's code; today: the day asked about (YYYY-MM-DD); month: its.
        bills: the bills, oldest first; total_amount: all of them, rupiah.
        years_without_holidays: years whose due dates are moved past weekends only (the
            ledger has none of their public holidays).
        position, digest: where in the log it was computed (see the module).
    """

    program: str
    today: str
    month: str
    bills: tuple[BillDue, ...]
    total_amount: int
    years_without_holidays: tuple[int, ...]
    position: int
    digest: Digest | None

    def json_shape(self) -> list[dict[str, Any]]:
        return [{**report_json(b), "position": self.position, "digest": self.digest}
                for b in self.bills]


# -- a program's terms and figures, its capacity ------------------------------------------


@dataclass(frozen=True)
class ProgramFigures:
    """`program show`: a program's terms and its figures now.

    Attributes:
        program: its code; name, year: its name and fiscal year.
        start, end, months: its period.
        ruleset: the priority rule set.
        jkk_monthly, jkm_monthly, premium_monthly: a worker's premium a month, rupiah.
        allocation, committed, paid, overpaid, available: its money, rupiah.
        quota, enrolled, places_left: its places.
        position, digest: where in the log it was read (see the module).
    """

    program: str
    name: str
    year: int
    start: str
    end: str
    months: int
    ruleset: str
    jkk_monthly: int
    jkm_monthly: int
    premium_monthly: int
    allocation: int
    committed: int
    paid: int
    overpaid: int
    available: int
    quota: int
    enrolled: int
    places_left: int
    position: int
    digest: Digest | None


@dataclass(frozen=True)
class CapacityRow:
    """How many more workers fit from one start month, and, for a what-if, if amended.

    Attributes:
        start: the first month of their coverage; months: to the end of the period.
        cost_per_worker: one worker's premiums for those months; workers: how many fit.
        commits: what covering them would commit; limited_by: `money` or `places`.
        workers_amended, more, commits_amended, limited_by_amended: the same under the
            amended terms, and the change (None without a what-if).
    """

    start: str
    months: int
    cost_per_worker: int
    workers: int
    commits: int
    limited_by: str
    workers_amended: int | None = None
    more: int | None = None
    commits_amended: int | None = None
    limited_by_amended: str | None = None

    def json_shape(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None or f.default is not None}


@dataclass(frozen=True)
class CapacityWhatIf:
    """The program's terms and figures if amended, and the workers that would fit from the
    first start month (`more`: the change)."""

    allocation: int
    quota: int
    available: int
    places_left: int
    workers: int
    more: int


@dataclass(frozen=True)
class CapacityReport:
    """`program capacity`: how many more workers the money and the places allow.

    Attributes:
        program: the program's code.
        start, months, workers, commits, limited_by: the first start month's row.
        available: money available; places_left: places under the quota.
        by_start: every start month from the first to the end of the period.
        position, digest: where in the log it was computed (see the module).
        what_if: an amendment's figures, when one is asked about (absent from JSON if not).
    """

    program: str
    start: str
    months: int
    workers: int
    commits: int
    limited_by: str
    available: int
    places_left: int
    by_start: tuple[CapacityRow, ...]
    position: int
    digest: Digest | None
    what_if: CapacityWhatIf | None = None

    def json_shape(self) -> dict[str, Any]:
        shape = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.what_if is None:
            del shape["what_if"]
        return shape
