"""The reports, computed from the projections into their typed values (`report_values`).

Each function takes the `Views` it reads (the live ones, or an auditor's replay as of a
moment), so a report computed as of a date uses exactly the same arithmetic. Money comes from
the budget projection, which gets it from the domain's `MonthBooks`; eligibility and tiers come
from the program's rule set (`rules.ruleset(name)`), never written here. Each report states
where in the log it was computed (`where_computed`: the position and the chain digest there).
`quota_groups` stays a list of plain rows as well: the auditor's replay compares them field by
field with the same rows of other views.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from jamsos_ledger.domain.model import SCHEMES, available_money
from jamsos_ledger.domain.rules import PriorityRuleset, ruleset
from jamsos_ledger.projections.group_counts import group_rows
from jamsos_ledger.projections.priority import ENROLMENTS as PRIORITY_ENROLMENTS
from jamsos_ledger.projections.priority import WORKERS as PRIORITY_WORKERS
from jamsos_ledger.projections.report_values import (
    BudgetForecast,
    BudgetMonth,
    BudgetReport,
    ClaimRow,
    ClaimsReport,
    ClaimTally,
    MaskNiks,
    PriorityExample,
    PriorityShown,
    QuotaByReport,
    QuotaGroup,
    QuotaReport,
)
from jamsos_ledger.projections.views import Views
from jamsos_ledger.stores.integrity import Digest, digest_at

# Later than any position in the log: no bound yet.
_NEVER = 2**62
_KINDS = ("planned", "committed", "paid", "overpaid")


def _int(value: Any) -> int:
    """Counts and sums as int (PostgreSQL returns sums as Decimal; an empty SUM is NULL)."""
    return 0 if value is None else int(value)


def position(views: Views) -> int:
    """The last event position the views were computed from.

    Live views have read the log up to their positions; views as of a moment (`until`) skip
    the events recorded later, so theirs is the last event they applied.
    """
    if views.runner.until is not None:
        return views.runner.last_applied
    return min((s.position for s in views.status()), default=0)


def where_computed(views: Views) -> tuple[int, Digest | None]:
    """The position the views were computed from and the log's chain digest there: what a
    report states, so that it can be checked against an export of the log."""
    at = position(views)
    return at, digest_at(views.runner.recorder, at)


# -- budget ------------------------------------------------------------------------------


def month_status(active: int, paid: int, committed: int, overpaid: int) -> str:
    """A month's state of payment, in a word, from its books: a month paid under an invoice
    that left a covered worker out is part paid even when as many were paid as are covered
    (a worker paid for has died since)."""
    if active == 0 and paid == 0:
        return "no participants"
    if paid == 0:
        return "unpaid"
    if committed > 0:
        return "part paid"
    return "overpaid" if overpaid > 0 else "paid"


def budget_report(views: Views, program_id: UUID) -> BudgetReport:
    """Allocation, committed, paid, available and the forecast to the end of the period.

    With nothing changing, every month from the first unpaid one to the end is billed for its
    covered participants not yet paid for (its commitment), so what is left unspent at the end
    of the period (SiLPA) is allocation - paid - committed: the available money.
    """
    b = views.budget(program_id)
    sp2ds: dict[str, list[str]] = defaultdict(list)
    for payment in views.payments(program_id):
        sp2ds[payment["month"]].append(payment["sp2d"])
    months = []
    cumulative_paid = cumulative_forecast = 0
    for m in views.budget_months(program_id):
        split = {f"{k}_{s}": _int(m[f"{k}_{s}"]) for k in _KINDS for s in ("jkk", "jkm")}
        kinds = {k: split[f"{k}_jkk"] + split[f"{k}_jkm"] for k in _KINDS}
        active, paid_participants = _int(m["active"]), _int(m["paid_participants"])
        cumulative_paid += kinds["paid"]
        cumulative_forecast += kinds["paid"] + kinds["committed"]
        months.append(BudgetMonth(
            month=str(m["month"]),
            active=active,
            paid_participants=paid_participants,
            **kinds,
            **split,
            status=month_status(active, paid_participants, kinds["committed"],
                                kinds["overpaid"]),
            sp2d=tuple(sp2ds.get(m["month"], [])),
            forecast=kinds["committed"],
            cumulative_paid=cumulative_paid,
            cumulative_forecast=cumulative_forecast,
        ))
    committed = _int(b["committed"])
    paid = _int(b["paid"])
    allocation = _int(b["allocation"])
    silpa = available_money(allocation, committed, paid)  # left unspent if nothing changes
    first_unpaid = next((m.month for m in months if m.committed > 0), None)
    last_paid = next((m.month for m in reversed(months) if m.paid_participants > 0), None)
    at, digest = where_computed(views)
    return BudgetReport(
        program=str(b["code"]),
        allocation=allocation,
        committed=committed,
        paid=paid,
        available=_int(b["available"]),
        overpaid=_int(b["overpaid"]),
        planned=_int(b["planned_jkk"]) + _int(b["planned_jkm"]),
        **{f"{k}_{s}": _int(b[f"{k}_{s}"]) for k in _KINDS for s in ("jkk", "jkm")},
        enrolled=_int(b["enrolled"]),
        start=str(b["start_month"]),
        end=str(b["end_month"]),
        ruleset=str(b["ruleset"]),
        forecast=BudgetForecast(
            first_unpaid_month=first_unpaid,
            last_paid_month=last_paid,
            to_pay=committed,
            spent_at_end=paid + committed,
            silpa=silpa,
        ),
        silpa=silpa,
        payments=len([p for ps in sp2ds.values() for p in ps]),
        months=tuple(months),
        position=at,
        digest=digest,
    )


# -- quota -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriorityBreach:
    """A worker of a lower tier enrolled while a higher-tier eligible worker still waits.

    Attributes:
        worker_id: the enrolled worker.
        decile: the worker's decile when enrolled.
        tier: its tier under the program's rule set.
        position: where the enrolment stands in the log.
        waiting: eligible workers of a higher tier registered (with that decile) before the
            enrolment and never enrolled in the program.
        first_waiting: the earliest registered of them.
        first_waiting_decile: that worker's decile.
    """

    worker_id: UUID
    decile: int
    tier: int
    position: int
    waiting: int
    first_waiting: UUID
    first_waiting_decile: int


@dataclass(frozen=True)
class PriorityCheck:
    """Whether the program's enrolments respected its rule set's priority.

    Attributes:
        ruleset: the rule set's name.
        description: the rule in words.
        violations: enrolments that jumped the queue; 0 means priority was respected.
        examples: the first few of them.
    """

    ruleset: str
    description: str
    violations: int
    examples: list[PriorityBreach] = field(default_factory=list)

    @property
    def respected(self) -> bool:
        return self.violations == 0


def _program_ruleset(views: Views, program_id: UUID) -> PriorityRuleset:
    return ruleset(str(views.budget(program_id)["ruleset"]))


def priority_check(views: Views, program_id: UUID, examples: int = 5) -> PriorityCheck:
    """For each enrolled worker of tier 2 or below, is a better-tier eligible worker waiting?

    Waiting means registered with an eligible decile of a higher tier before the enrolment was
    recorded, and never enrolled in this program. Tiers are the program's rule set's.
    """
    rules = _program_ruleset(views, program_id)
    pid = str(program_id)
    # For each tier t, the earliest moment a worker of a better tier was waiting: for each
    # decile of the better tiers, the first worker still waiting, read in the order of the
    # index on (decile, since), past the enrolled ones, never the whole city. Only an earlier
    # one than those found so far matters, so each read stops at the earliest found; and the
    # deciles of a tier are read in the reverse of the order the rule set enrols them, so
    # that the decile whose first workers are all enrolled (a long walk) comes last, bounded.
    first_waiting = (
        f"SELECT w.since FROM {views.db.table(PRIORITY_WORKERS)} w "
        "WHERE w.decile = ? AND w.since < ? AND NOT EXISTS (SELECT 1 FROM "
        f"{views.db.table(PRIORITY_ENROLMENTS)} e WHERE e.program_id = ? "
        "AND e.worker_id = w.worker_id) ORDER BY w.since LIMIT 1"
    )
    better_since: dict[int, int] = {}
    earliest = _NEVER
    for tier in range(2, len(rules.tiers) + 1):
        next_better = rules.tiers[tier - 2]
        for decile in sorted(next_better, key=lambda d: rules.sort_key(d, 0), reverse=True):
            first = views.query(first_waiting, (decile, earliest, pid))
            if first:
                earliest = _int(first[0]["since"])
        if earliest < _NEVER:
            better_since[tier] = earliest
    # Counted and the first few listed by the database, tier by tier: a program enrols ten
    # thousand workers, and walking them all in Python was most of a quota report's time.
    table = views.db.table(PRIORITY_ENROLMENTS)
    total = 0
    breaches = []
    for tier, since in better_since.items():
        deciles = rules.tiers[tier - 1]
        where = (
            f"program_id = ? AND decile IN ({', '.join('?' * len(deciles))}) AND position > ?"
        )
        # The first few, each with the count of all: one read of the tier's enrolments.
        first_few = views.query(
            f"SELECT worker_id, decile, position, COUNT(*) OVER () AS n FROM {table} "
            f"WHERE {where} ORDER BY position LIMIT ?",
            (pid, *deciles, since, max(examples, 1)),
        )
        total += _int(first_few[0]["n"]) if first_few else 0
        breaches += [
            (UUID(e["worker_id"]), int(e["decile"]), tier, _int(e["position"]))
            for e in first_few[:examples]
        ]
    breaches.sort(key=lambda b: b[3])
    shown = []
    for worker, decile, tier, at in breaches[:examples]:
        better = [d for t in rules.tiers[: tier - 1] for d in t]
        marks = ", ".join("?" * len(better))
        waiting = (
            f"FROM {views.db.table(PRIORITY_WORKERS)} w "
            f"WHERE w.decile IN ({marks}) AND w.since < ? AND NOT EXISTS (SELECT 1 FROM "
            f"{views.db.table(PRIORITY_ENROLMENTS)} e WHERE e.program_id = ? "
            "AND e.worker_id = w.worker_id)"
        )
        how_many = views.query(f"SELECT COUNT(*) AS n {waiting}", (*better, at, pid))
        first = views.query(
            f"SELECT w.worker_id, w.decile {waiting} ORDER BY w.since LIMIT 1",
            (*better, at, pid),
        )
        shown.append(PriorityBreach(
            worker_id=worker, decile=decile, tier=tier, position=at,
            waiting=_int(how_many[0]["n"]), first_waiting=UUID(first[0]["worker_id"]),
            first_waiting_decile=int(first[0]["decile"]),
        ))
    return PriorityCheck(rules.name, rules.description, total, shown)


def _group_rows(views: Views, program_id: UUID, by: str) -> list[dict[str, Any]]:
    """Registered, enrolled, ended and never-enrolled workers per group and decile."""
    return group_rows(views, str(program_id), by)


def quota_groups(views: Views, program_id: UUID, by: str) -> list[dict[str, Any]]:
    """Per kecamatan, occupation or decile: enrolled against registered and eligible.

    `eligible` counts registered workers whose decile the program's rule set admits; `waiting`
    those of them never enrolled in the program.
    """
    rules = _program_ruleset(views, program_id)
    groups: dict[Any, dict[str, Any]] = {}
    for r in _group_rows(views, program_id, by):
        key = int(r["grp"]) if by == "decile" else r["grp"]
        fresh: dict[str, Any] = {by: key, "enrolled": 0, "ended": 0, "registered": 0,
                                 "eligible": 0, "waiting": 0}
        g = groups.setdefault(key, fresh)
        eligible = rules.is_eligible(int(r["decile"]))
        g["enrolled"] += _int(r["enrolled"])
        g["ended"] += _int(r["ended"])
        g["registered"] += _int(r["registered"])
        g["eligible"] += _int(r["registered"]) if eligible else 0
        g["waiting"] += _int(r["never"]) if eligible else 0
        if by == "decile":
            g["tier"] = rules.tier_of(key)
    return [groups[k] for k in sorted(groups)]


def quota_report(views: Views, program_id: UUID, mask: MaskNiks) -> QuotaReport:
    """Quota, places held and available, eligible and waiting workers, and the priority check
    (its examples' workers named by `mask`)."""
    q = views.quota(program_id)
    by_decile = quota_groups(views, program_id, "decile")
    check = priority_check(views, program_id)
    at, digest = where_computed(views)
    return QuotaReport(
        program=str(q["code"]),
        quota=_int(q["quota"]),
        enrolled=_int(q["enrolled"]),
        available=_int(q["available"]),
        ended=_int(q["ended"]),
        registered=_int(q["registered"]),
        eligible=sum(g["eligible"] for g in by_decile),
        waiting=sum(g["waiting"] for g in by_decile),
        priority=priority_shown(check, mask),
        position=at,
        digest=digest,
    )


def priority_shown(check: PriorityCheck, mask: MaskNiks) -> PriorityShown:
    """The priority check as reported: its workers named by their masked NIKs."""
    ids = [e.worker_id for e in check.examples] + [e.first_waiting for e in check.examples]
    masked = mask(ids) if ids else {}
    return PriorityShown(
        ruleset=check.ruleset,
        respected=check.respected,
        violations=check.violations,
        examples=tuple(
            PriorityExample(
                enrolled=masked.get(e.worker_id, str(e.worker_id)),
                decile=e.decile,
                tier=e.tier,
                position=e.position,
                waiting=e.waiting,
                first_waiting=masked.get(e.first_waiting, str(e.first_waiting)),
                first_waiting_decile=e.first_waiting_decile,
            )
            for e in check.examples
        ),
        description=check.description,
    )


def quota_by_report(views: Views, program_id: UUID, by: str, mask: MaskNiks) -> QuotaByReport:
    """`quota_groups` per kecamatan, occupation or decile, with the program's quota report."""
    groups = tuple(
        QuotaGroup(
            group=g[by], enrolled=g["enrolled"], ended=g["ended"], registered=g["registered"],
            eligible=g["eligible"], waiting=g["waiting"], tier=g.get("tier"),
        )
        for g in quota_groups(views, program_id, by)
    )
    return QuotaByReport(by=by, groups=groups, summary=quota_report(views, program_id, mask))


def enrolment_by_kecamatan_and_decile(views: Views, program_id: UUID) -> dict[str, dict[int, int]]:
    """Workers holding a place, per kecamatan and decile (every kecamatan with a registration)."""
    table: dict[str, dict[int, int]] = {}
    for r in _group_rows(views, program_id, "kecamatan"):
        row = table.setdefault(str(r["grp"]), {})
        row[int(r["decile"])] = row.get(int(r["decile"]), 0) + _int(r["enrolled"])
    return {k: table[k] for k in sorted(table)}


# -- claims ------------------------------------------------------------------------------


def _tally(rows: list[ClaimRow], by: str) -> tuple[ClaimTally, ...]:
    """Claims counted per month or kecamatan (`-` for a worker with none known)."""
    groups: dict[str, list[ClaimRow]] = defaultdict(list)
    for r in rows:
        name = getattr(r, by)
        groups["-" if name is None else str(name)].append(r)
    return tuple(
        ClaimTally(
            by=by,
            name=name,
            by_scheme={s: sum(1 for r in groups[name] if r.scheme == s) for s in SCHEMES},
            total=len(groups[name]),
            benefits=sum(_int(r.benefit) for r in groups[name]),
        )
        for name in sorted(groups)
    )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def claims_report(views: Views, program_id: UUID, code: str) -> ClaimsReport:
    """Claims of the program `code`, counted by scheme, month and kecamatan, with benefits
    recorded.

    Benefits are paid by BPJS: recorded for the program's evaluation, never in the budget.
    """
    rows = [
        ClaimRow(
            reference=str(r["reference"]),
            scheme=str(r["scheme"]),
            incident_date=str(r["incident_date"]),
            month=str(r["month"]),
            recorded_at=str(r["recorded_at"]),
            actor=str(r["actor"]),
            benefit=_optional_int(r["benefit"]),
            kecamatan=r["kecamatan"],
            occupation=r["occupation"],
            decile=_optional_int(r["decile"]),
        )
        for r in views.claims(program_id)
    ]
    at, digest = where_computed(views)
    return ClaimsReport(
        program=code,
        total=len(rows),
        by_scheme={s: sum(1 for r in rows if r.scheme == s) for s in SCHEMES},
        benefits_by_scheme={
            s: sum(_int(r.benefit) for r in rows if r.scheme == s) for s in SCHEMES
        },
        benefits_total=sum(_int(r.benefit) for r in rows),
        with_benefit=sum(1 for r in rows if r.benefit is not None),
        by_month=_tally(rows, "month"),
        by_kecamatan=_tally(rows, "kecamatan"),
        claims=tuple(rows),
        position=at,
        digest=digest,
    )
