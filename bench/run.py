"""The Bekasi-year benchmark (issue #4): `make bench`, or `python bench/run.py [options]`.

Runs a year of Kota Bekasi's program through the real `jamsos` commands on SQLite and on
PostgreSQL (200,000 registrations imported from CSV, prioritized, 10,000 enrolled from a decree,
twelve monthly bills paid, a few hundred claims; then a full `audit verify`, `audit replay`,
`projections rebuild` and every report), and measures each phase in a child process of its own
against anchors measured in the same run on the same store (`anchors.py`). It prints a table per
store and writes every figure as JSON (`--out`), which a later run can be compared with
(`--compare`). A second, quarter-size year shows whether peak memory grows with the history.

With PostgreSQL among the stores, the service phase follows (`service_phase.py`, also run
alone by `make bench-service`): 32 clients racing enrolments and payments through
`jamsos serve`, with one key and with four eyes, beside the same enrolments through the CLI;
its invariants count as targets, its throughput and latencies are printed and kept in the
same JSON (`service`).

Exit status: 0 every target met; 1 a target missed (the JSON is written all the same); 2 the
harness could not measure (a command failed, the ledger failed its audit, a store is down).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import report
from bekasi_year import BekasiYear, YearPlan, YearResult, growth_checks
from calibration import describe, machine_speed
from measure import HarnessError, Measured, Runner
from sealing import SealingResult, measure_sealing, print_sealing
from stores import DEFAULT_POSTGRES, KINDS, Places, postgres_reachable, remove_folder
from targets import Check

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DEFAULT_OUT = BENCH / "results" / "latest.json"
MILLION = 1_000_000
# Settings a child must not inherit: they would point the ledger or the library's anchor
# application elsewhere, or switch on encryption or compression the benchmark does not ask for.
_INHERITED_SETTINGS = ("JAMSOS_", "PERSISTENCE_", "SQLITE_", "POSTGRES_", "CIPHER_", "COMPRESSOR_",
                       "BENCHSAVE_", "CREATE_TABLE", "IS_SNAPSHOTTING")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="The Bekasi-year benchmark of jamsos-ledger (issue #4).",
    )
    parser.add_argument("--workers", type=int, default=200_000,
                        help="registrations imported (default 200000)")
    parser.add_argument("--stores", default=",".join(KINDS),
                        help="comma-separated: sqlite,postgresql (default both)")
    parser.add_argument("--million", action="store_true",
                        help="also run the year with 1,000,000 workers on PostgreSQL "
                        "(takes many minutes) and extrapolate to 10,000,000")
    parser.add_argument("--million-workers", type=int, default=MILLION, metavar="N",
                        help="workers of the --million run (default 1000000; smaller to try it)")
    parser.add_argument("--postgres", default=os.environ.get("JAMSOS_BENCH_POSTGRES",
                                                             DEFAULT_POSTGRES),
                        help="PostgreSQL server URL (env JAMSOS_BENCH_POSTGRES; default "
                        f"{DEFAULT_POSTGRES}); each ledger and anchor gets a fresh schema")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="where the JSON results go (default bench/results/latest.json)")
    parser.add_argument("--compare", type=Path, metavar="PATH",
                        help="a previous run's JSON: print each rate next to it, as a ratio")
    parser.add_argument("--keep", action="store_true",
                        help="keep the ledgers, anchors' databases, schemas and logs")
    parser.add_argument("--quick", action="store_true",
                        help="small anchor samples and few report runs (for tests)")
    parser.add_argument("--no-growth", action="store_true",
                        help="skip the quarter-size year that checks memory growth")
    parser.add_argument("--service-workers", type=int, default=400, metavar="N",
                        help="workers registered for the service phase (default 400; those of "
                        "deciles 1-5 are enrolled)")
    parser.add_argument("--no-service", action="store_true",
                        help="skip the service phase (run with PostgreSQL among the stores)")
    parser.add_argument("--scratch", type=Path,
                        help="folder for the run's files (default: the system's temp folder)")
    args = parser.parse_args(argv)
    args.store_kinds = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = [s for s in args.store_kinds if s not in KINDS]
    if unknown or not args.store_kinds:
        parser.error(f"--stores takes {', '.join(KINDS)}, not {args.stores!r}")
    if args.workers < 8:
        parser.error("--workers must be at least 8 (a year needs workers to enrol and claim)")
    return args


def child_environment() -> dict[str, str]:
    """The parent's environment without settings that would change what a child measures."""
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(_INHERITED_SETTINGS) and "RECORDER_TOPIC" not in k
    }
    # Reports render tables as they do for a script: a fixed width, no colours, no charts.
    env.update({"COLUMNS": "110", "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"})
    return env


class Benchmark:
    """One invocation of the harness: every year it runs, and what they measured."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        if args.scratch is not None:
            args.scratch.mkdir(parents=True, exist_ok=True)  # a folder named for this run
        self.folder = Path(tempfile.mkdtemp(prefix="jamsos-bench-", dir=args.scratch))
        # Every write of the bench is sealed, as in use: one administrator key for its ledgers.
        from jamsos_ledger.stores.keys import new_key_file

        environment = child_environment()
        environment["JAMSOS_KEY"] = str(new_key_file(self.folder / "bench-admin.key").path)
        self.runner = Runner(self.folder, environment)
        self.environment = environment
        self.service: dict[str, Any] | None = None
        self.sealing: list[SealingResult] = []
        self.places: list[Places] = []
        self.generated: dict[int, Measured] = {}
        self.results: list[YearResult] = []
        self.growth: list[Check] = []
        self.extrapolation: dict[str, Any] | None = None
        self.speed: dict[str, Any] | None = None

    def run(self) -> None:
        args = self.args
        kinds = list(args.store_kinds)
        if "postgresql" in kinds or args.million:
            problem = postgres_reachable(args.postgres)
            if problem:
                raise HarnessError(f"PostgreSQL at {args.postgres} does not answer: {problem}")
        print(f"jamsos-ledger benchmark: the Bekasi year, {args.workers:,} workers on "
              f"{', '.join(kinds)}; scratch {self.folder}", flush=True)
        self.speed = machine_speed()
        print(f"machine: {describe(self.speed)}", flush=True)
        for kind in kinds:
            self.results.append(self.year(kind, args.workers, "main", anchors=True))
            self.sealing.append(self.sealing_cost(kind, args.workers))
        if not args.no_growth:
            kind = "sqlite" if "sqlite" in kinds else kinds[0]
            quarter = self.year(kind, max(8, args.workers // 4), "quarter", anchors=False)
            self.results.append(quarter)
            main = next(r for r in self.results if r.store == kind and r.role == "main")
            self.growth = growth_checks(main, quarter)
        if args.million:
            million = self.year("postgresql", args.million_workers, "million", anchors=True)
            self.results.append(million)
            self.extrapolation = report.extrapolation(million)
        if "postgresql" in kinds and not args.no_service:
            self.service = self.service_phase()

    def service_phase(self) -> dict[str, Any]:
        """The service phase on PostgreSQL (`service_phase.py`), printed as it ends."""
        import service_phase

        print(f"\n== service phase: {self.args.service_workers:,} workers, PostgreSQL",
              flush=True)
        folder = self.folder / "service"
        folder.mkdir(exist_ok=True)
        try:
            results = service_phase.run_phases(self.args.postgres, folder,
                                               self.args.service_workers, 32,
                                               self.environment)
        except SystemExit as e:  # a command of the phase failed: said in `e`
            raise HarnessError(f"service phase: {e}") from None
        service_phase.print_results(results)
        return results
    def year(self, kind: str, workers: int, role: str, *, anchors: bool) -> YearResult:
        registrations = self.registrations(workers)
        folder = self.folder / f"{kind}-{workers}"
        folder.mkdir(exist_ok=True)
        places = Places(kind, folder, self.args.postgres, prefix=f"bench_{os.getpid()}_{workers}")
        self.places.append(places)
        plan = YearPlan.of(workers, self.args.quick)
        year = BekasiYear(self.runner, places, registrations, plan, role,
                          anchors=anchors, reports=anchors, quick=self.args.quick)
        try:
            return year.run()
        finally:
            if not self.args.keep:
                places.remove()

    def sealing_cost(self, kind: str, workers: int) -> SealingResult:
        """Import, enrolment and payment sealed against the same unsealed (`sealing`)."""
        folder = self.folder / f"{kind}-{workers}-sealing"
        folder.mkdir(exist_ok=True)
        places = Places(kind, folder, self.args.postgres,
                        prefix=f"bench_{os.getpid()}_{workers}_seal")
        self.places.append(places)
        try:
            result = measure_sealing(kind, lambda label: places.fresh(label).url,
                                     self.registrations(workers), workers, folder)
        finally:
            if not self.args.keep:
                places.remove()
        print_sealing(result)
        return result

    def registrations(self, workers: int) -> Path:
        """The registration file of that size, written once and shared by every store."""
        path = self.folder / f"registrations-{workers}.csv"
        if workers not in self.generated:
            print(f"\n== registration file: {workers:,} workers", flush=True)
            self.generated[workers] = self.runner.run(
                "generate", "generate", {"path": str(path), "workers": workers}
            )
        return path

    def checks(self) -> list[Check]:
        return ([c for r in self.results for c in r.checks()] + self.growth
                + [c for s in self.sealing for c in s.checks()] + self.service_checks())

    def service_checks(self) -> list[Check]:
        """Each invariant of the service phase, a target: held or not."""
        if self.service is None:
            return []
        return [Check(f"service phase {phase}", name, float(held), 1.0, True, "held")
                for phase in ("service", "service_four_eyes", "cli")
                if phase in self.service
                for name, held in self.service[phase]["invariants"].items()]

    def print(self) -> None:
        print("\n" + "=" * 100)
        for result in self.results:
            checks = result.checks()
            shown = self.generated.get(result.plan.workers) if result.role != "quarter" else None
            report.print_run(result, checks, shown)
        report.print_growth(self.growth)
        for sealing in self.sealing:
            print_sealing(sealing)
        if self.extrapolation:
            report.print_extrapolation(self.extrapolation)
        if self.service is not None:
            import service_phase

            service_phase.print_results(self.service)
        report.print_summary(self.checks())

    def data(self, started: datetime, error: str | None) -> dict[str, Any]:
        checks = self.checks()
        args = self.args
        return {
            "format": report.FORMAT,
            "started": started.isoformat(),
            "finished": datetime.now(UTC).isoformat(),
            "machine": {**report.machine(), "speed": self.speed},
            "git": report.git_state(ROOT),
            "parameters": {
                "workers": args.workers, "stores": args.store_kinds,
                "million": args.million_workers if args.million else None,
                "quick": args.quick, "growth": not args.no_growth,
                "service_workers": None if self.service is None else args.service_workers,
                "postgres": args.postgres if "postgresql" in args.store_kinds or args.million
                else None,
            },
            "generated": {str(n): m.as_dict() for n, m in self.generated.items()},
            "runs": [r.as_dict() for r in self.results],
            "sealing": [s.as_dict() for s in self.sealing],
            "checks": [c.as_dict() for c in checks],
            "extrapolation": self.extrapolation,
            "service": self.service,
            "all_met": all(c.met for c in checks if c.counted),
            "error": error,
        }

    def clean_up(self) -> None:
        if self.args.keep:
            print(f"\nkept: {self.folder}" + "".join(
                f"\nkept schemas: {', '.join(p.schemas)}" for p in self.places if p.schemas))
            return
        for places in self.places:
            places.remove()
        remove_folder(self.folder)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    bench = Benchmark(args)
    error: str | None = None
    try:
        bench.run()
    except HarnessError as e:
        error = str(e)
    except KeyboardInterrupt:
        error = "interrupted"
    finally:
        try:
            bench.clean_up()
        except Exception as e:  # a failed clean-up must not hide the run's own outcome
            print(f"bench: clean-up failed: {e}", file=sys.stderr)
    bench.print()
    data = bench.data(started, error)
    report.write_json(args.out, data)
    if args.compare:
        report.print_comparison(data, args.compare)
    print(f"\nresults: {args.out} ({time.perf_counter() - clock:,.0f} s in all)")
    if error:
        print(f"\nbench: HARNESS ERROR, nothing above is complete:\n{error}", file=sys.stderr)
        return 2
    return 0 if data["all_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
