"""One Bekasi year on one store, as the parent runs it: the phases in order, each anchor next
to the phase it anchors (so both meet the same load on a shared machine), then the reports.

The year: open the 2026 program (Rp 2.000.000.000, 10,000 places); import the registration
file; prioritize; amend the allocation to Rp 2.016.000.000 (APBD-P) so that 10,000 full-year
places fit; enrol the top 10,000 under a decree; pay twelve monthly bills; file a few hundred
claims (a tenth of them deaths, whose coverage is ended); then `audit verify`, `audit replay`
and `projections rebuild` over the whole history, and every report. Small runs (fewer than
40,000 workers, e.g. the harness's own test) enrol a quarter of the workers instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from measure import HarnessError, Measured, Runner
from stores import Place, Places
from targets import (
    GROWTH_RATIO,
    INFO_RATIOS,
    MEMORY_PHASES,
    PEAK_MB,
    RATIO_TARGETS,
    REPORT_MEDIAN_MS,
    REPORT_TARGET_WORKERS,
    Check,
    ratio,
)

YEAR = 2026
ALLOCATION = 2_000_000_000
QUOTA = 10_000
# The APBD-P amendment: 10,000 workers x 12 months x Rp 16.800 (JKK Rp 10.000 + JKM Rp 6.800).
AMENDED_ALLOCATION = 2_016_000_000
DECREE = "KEP-WALI/100/2026"
CLAIMS = 300
# Repetitions of the short or commit-bound anchors; the fastest counts (anchors.py says why).
ANCHOR_REPEATS = 3
# Every report the CLI offers, as operators and auditors run them after the year.
REPORTS: dict[str, list[str]] = {
    "report budget": ["report", "budget"],
    "report quota": ["report", "quota"],
    "report quota --by kecamatan": ["report", "quota", "--by", "kecamatan"],
    "report quota --by occupation": ["report", "quota", "--by", "occupation"],
    "report quota --by decile": ["report", "quota", "--by", "decile"],
    "report claims": ["report", "claims"],
    "premiums due": ["premiums", "due", "--today", "2026-11-05"],
    "program show": ["program", "show"],
    "program capacity": ["program", "capacity"],
    "projections status": ["projections", "status"],
}


@dataclass(frozen=True)
class YearPlan:
    """The sizes of one Bekasi year.

    Attributes:
        workers: registrations imported.
        enrolled: workers enrolled from January (10,000; a quarter of the workers when fewer).
        claims: claims filed, `deaths` of them JKM claims whose coverage is then ended.
        report_repeat: invocations of each report.
        rebuild_sample: events in each of the two stretches of the per-event rebuild anchor
            (each of its repetitions applies both).
    """

    workers: int
    enrolled: int
    claims: int
    deaths: int
    report_repeat: int
    rebuild_sample: int

    @classmethod
    def of(cls, workers: int, quick: bool) -> YearPlan:
        enrolled = min(QUOTA, workers // 4)
        claims = min(CLAIMS, enrolled // 4)
        return cls(
            workers=workers,
            enrolled=enrolled,
            claims=claims,
            deaths=claims // 10,
            report_repeat=3 if quick else 15,
            rebuild_sample=500 if quick else 5_000,
        )


@dataclass
class YearResult:
    """What one year measured.

    Attributes:
        store: `sqlite` or `postgresql`.
        role: `main` (the --workers run), `quarter` (the memory-growth run) or `million`.
        plan: the year's sizes.
        phases, anchors, reports: measurements by name, in the order they ran.
        baseline: a child that only imports the CLI and opens the ledger (memory floor).
    """

    store: str
    role: str
    plan: YearPlan
    phases: dict[str, Measured] = field(default_factory=dict)
    anchors: dict[str, Measured] = field(default_factory=dict)
    reports: dict[str, Measured] = field(default_factory=dict)
    baseline: Measured | None = None

    @property
    def name(self) -> str:
        return f"{self.store} {self.plan.workers:,} workers"

    def checks(self) -> list[Check]:
        """Every target of the issue this run can be checked against."""
        found: list[Check] = []
        for phase, anchor, limit, note in RATIO_TARGETS:
            if phase in self.phases and anchor in self.anchors:
                value = ratio(self.phases[phase].rate, self.anchors[anchor].rate)
                found.append(Check(self.name, f"{phase} vs {anchor}", round(value, 3), limit,
                                   True, "x", note=note))
        for phase, anchor in INFO_RATIOS:
            if phase in self.phases and anchor in self.anchors:
                value = ratio(self.phases[phase].rate, self.anchors[anchor].rate)
                found.append(Check(self.name, f"{phase} vs {anchor}", round(value, 3), 0.0,
                                   True, "x", counted=False, note="information only"))
        report_counted = self.plan.workers <= REPORT_TARGET_WORKERS
        for name, measured in self.reports.items():
            found.append(Check(self.name, f"{name} median", measured.extra["median_ms"],
                               REPORT_MEDIAN_MS, False, "ms", counted=report_counted,
                               note="" if report_counted else "stated at 200k workers"))
        if self.role != "quarter":
            for phase in MEMORY_PHASES:
                if phase in self.phases:
                    found.append(Check(self.name, f"{phase} peak memory",
                                       self.phases[phase].peak_mb, PEAK_MB, False, "MB"))
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "role": self.role,
            "plan": self.plan.__dict__,
            "phases": {k: v.as_dict() for k, v in self.phases.items()},
            "anchors": {k: v.as_dict() for k, v in self.anchors.items()},
            "reports": {k: v.as_dict() for k, v in self.reports.items()},
            "baseline": self.baseline.as_dict() if self.baseline else None,
        }


def growth_checks(main: YearResult, quarter: YearResult) -> list[Check]:
    """Peak memory at N workers over peak at N/4, for the phases whose memory must not grow."""
    found = []
    for phase in MEMORY_PHASES:
        if phase in main.phases and phase in quarter.phases:
            value = main.phases[phase].peak_mb / quarter.phases[phase].peak_mb
            found.append(Check(
                f"{main.store} {main.plan.workers:,} / {quarter.plan.workers:,} workers",
                f"{phase} peak growth", round(value, 2), GROWTH_RATIO, False, "x",
                note=f"{main.phases[phase].peak_mb:.0f} MB at {main.plan.workers:,}, "
                f"{quarter.phases[phase].peak_mb:.0f} MB at {quarter.plan.workers:,}",
            ))
    return found


class BekasiYear:
    """Runs one year on a store, phase by phase, each in a child process."""

    def __init__(
        self,
        runner: Runner,
        places: Places,
        registrations: Path,
        plan: YearPlan,
        role: str,
        *,
        anchors: bool,
        reports: bool,
        quick: bool = False,
    ) -> None:
        self.runner = runner
        self.places = places
        self.registrations = registrations
        self.plan = plan
        self.anchors = anchors
        self.reports = reports
        self.quick = quick
        self.result = YearResult(store=places.kind, role=role, plan=plan)
        self.ledger: Place | None = None

    def run(self) -> YearResult:
        plan = self.plan
        self.ledger = ledger = self.places.fresh("ledger")
        print(f"\n== {self.result.name} ({self.result.role}) at {_where(ledger)}", flush=True)
        self._phase("open", [["program", "open", "--one-key", "--year", str(YEAR), "--allocation",
                              str(ALLOCATION), "--quota", str(QUOTA)]])
        imported = self._phase("import", [["workers", "import", str(self.registrations)]])
        if imported.events < plan.workers:
            raise HarnessError(
                f"the import wrote {imported.events} events for {plan.workers} workers: "
                "not every worker of the file was registered"
            )
        registrations_end = int(imported.extra["head"])
        if self.anchors:
            self._anchor("library-save", {"csv": str(self.registrations),
                                          "place": self.places.fresh("save").as_dict()})
            self._anchor("raw-insert", {"ledger": ledger.as_dict(), "expected": plan.workers,
                                        "place": self.places.fresh("raw").as_dict(),
                                        "repeats": ANCHOR_REPEATS})
        self._phase("prioritize", [["workers", "prioritize"]])
        self._phase("amend", [["program", "amend", "--allocation", str(AMENDED_ALLOCATION),
                               "--reason", f"APBD-P {YEAR}"]])
        self._phase("enroll", [["enroll", "--top", str(plan.enrolled), "--start",
                                f"{YEAR}-01", "--decree", DECREE]])
        self._phase("bills", [
            ["premiums", "pay", "--month", f"{YEAR}-{m:02d}", "--sp2d",
             f"SP2D/{m:02d}/BPKAD/{YEAR}"] for m in range(1, 13)
        ])
        self.result.phases["claims"] = self.runner.run(
            "claims", "claims",
            {"csv": str(self.registrations), "claims": plan.claims, "deaths": plan.deaths},
            env=self._env(),
        )
        # The year must leave a sound ledger: either audit exiting non-zero stops the run.
        self._audit("verify")
        self._audit("replay")
        if self.anchors:
            self._anchor("raw-replay", {"ledger": ledger.as_dict(), "repeats": ANCHOR_REPEATS})
            folds = [self.places.fresh(f"fold{i}").as_dict() for i in range(ANCHOR_REPEATS)]
            self._anchor("raw-fold", {"ledger": ledger.as_dict(), "places": folds})
        self._phase("rebuild", [["projections", "rebuild"]], count="read")
        if self.anchors:
            sample = plan.rebuild_sample
            ranges = [[0, min(sample, registrations_end)], [registrations_end, sample]]
            views = [self.places.fresh(f"views{i}").as_dict() for i in range(ANCHOR_REPEATS)]
            self._anchor("per-event-rebuild", {"ledger": ledger.as_dict(), "ranges": ranges,
                                               "places": views})
        if self.reports:
            self._reports()
        self.result.baseline = self.runner.run("idle", "baseline (imports + open)", {},
                                               env=self._env())
        return self.result

    def _reports(self) -> None:
        """Each report in a child of its own (its first, cold invocation is its own); a quick
        run puts them all in one child, to spare the start-ups."""
        groups = [REPORTS] if self.quick else [{name: args} for name, args in REPORTS.items()]
        for group in groups:
            label = "reports" if len(group) > 1 else next(iter(group))
            measured = self.runner.run(
                "reports", label, {"reports": group, "repeat": self.plan.report_repeat},
                env=self._env(),
            )
            for name, figures in measured.extra["reports"].items():
                self.result.reports[name] = Measured(
                    task="reports", label=name, seconds=sum(figures["times_ms"]) / 1000,
                    events=0, peak_mb=measured.peak_mb, wall_seconds=measured.wall_seconds,
                    load=measured.load, extra=figures,
                )

    def _env(self) -> dict[str, str]:
        assert self.ledger is not None
        return {"JAMSOS_STORE": self.ledger.url}

    def _phase(self, name: str, lines: list[list[str]], count: str = "written") -> Measured:
        measured = self.runner.run(
            "commands", name, {"commands": lines, "count": count}, env=self._env()
        )
        self.result.phases[name] = measured
        return measured

    def _audit(self, command: str) -> Measured:
        try:
            return self._phase(command, [["audit", command]], count="read")
        except HarnessError as e:
            raise HarnessError(
                f"THE LEDGER FAILED `jamsos audit {command}` after the Bekasi year on "
                f"{self.result.name}: no figure of this run can be trusted.\n{e}"
            ) from e

    def _anchor(self, name: str, params: dict[str, Any]) -> Measured:
        measured = self.runner.run(name, f"anchor {name}", params)
        self.result.anchors[name] = measured
        return measured


def _where(place: Place) -> str:
    return place.path if place.kind == "sqlite" else f"schema {place.schema}"
