"""What sealing costs: import, enrolment and payment with every write sealed against the same
without seals, in the same run, on the same store kind and the same registration file.

Each side runs on a fresh ledger in this process, through the service (the import through
`importing.import_registrations`, as `workers import` does): sealed as in use (a key, the
principal found, one Ed25519 signature a transaction), and unsealed (the same, the recorder's
sealer taken away after the principal was found, so only the seal rows and signatures are
left out). The sides alternate, twice each, and the faster of each is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from targets import Check

from jamsos_ledger.application import KeySource, Ledger
from jamsos_ledger.application.importing import import_registrations
from jamsos_ledger.domain.months import Month
from jamsos_ledger.stores.keys import SigningKey, new_key_file

STEPS = ("import", "enrolment", "payment")
LIMIT = 1.05  # sealing costs at most 5% of the import (issue #17)


@dataclass
class SealingResult:
    kind: str
    workers: int
    sealed: dict[str, float]
    unsealed: dict[str, float]

    def ratio(self, step: str) -> float:
        return self.sealed[step] / self.unsealed[step] if self.unsealed[step] else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"store": self.kind, "workers": self.workers, "sealed_s": self.sealed,
                "unsealed_s": self.unsealed,
                "ratio": {s: round(self.ratio(s), 4) for s in STEPS}}

    def checks(self) -> list[Check]:
        run = f"{self.kind} {self.workers:,} workers"
        return [Check(run, f"sealed {step} vs unsealed", round(self.ratio(step), 4), LIMIT,
                      at_least=False, unit="x", counted=step == "import",
                      note="sealing costs at most 5% of the import")
                for step in STEPS]


def _year(
    url: str, key: SigningKey, registrations: Path, workers: int, sealed: bool
) -> dict[str, float]:
    ledger = Ledger(url, actor="bench", key=KeySource(key=key))
    try:
        ledger.signing.establish_root("bench-admin", "Diskominfo")
        ledger.signing.ready()
        if not sealed:
            ledger.recorder.sealer = None  # type: ignore[attr-defined]
        ledger.open_program(year=2026, allocation=2_000_000_000, quota=10_000, code="bench",
                            four_eyes=False)
        times: dict[str, float] = {}
        started = time.perf_counter()
        import_registrations(registrations, lambda: ledger, actor=ledger.actor,
                             keep_good_rows=True, progress=lambda total: _NoProgress())
        times["import"] = time.perf_counter() - started
        ledger.prioritize()
        top = max(1, min(int(ledger.capacity(Month(2026, 1))), workers // 10))
        started = time.perf_counter()
        ledger.enrol("bench", start=Month(2026, 1), top=top, decree="KEP-BENCH")
        times["enrolment"] = time.perf_counter() - started
        started = time.perf_counter()
        ledger.pay_premiums(month=Month(2026, 1), sp2d="SP2D-BENCH", code="bench")
        times["payment"] = time.perf_counter() - started
        return times
    finally:
        ledger.close()


class _NoProgress:
    def __enter__(self) -> Callable[..., None]:
        return lambda *a, **k: None

    def __exit__(self, *exc: object) -> None:
        return None


def measure_sealing(
    kind: str, new_url: Callable[[str], str], registrations: Path, workers: int, folder: Path
) -> SealingResult:
    """Both sides twice, alternating, each on a fresh ledger (`new_url(label)`)."""
    key = new_key_file(folder / "sealing-bench.key", overwrite=True)
    best: dict[bool, dict[str, float]] = {}
    for attempt in range(2):
        for sealed in (True, False) if attempt == 0 else (False, True):
            times = _year(new_url(f"{'sealed' if sealed else 'plain'}{attempt}"), key,
                          registrations, workers, sealed)
            kept = best.setdefault(sealed, times)
            for step in STEPS:
                kept[step] = min(kept[step], times[step])
    return SealingResult(kind, workers, best[True], best[False])


def print_sealing(result: SealingResult) -> None:
    print(f"\n== sealing: {result.kind}, {result.workers:,} workers (best of two each)")
    print(f"{'step':<12}{'sealed s':>12}{'unsealed s':>12}{'ratio':>10}")
    for step in STEPS:
        print(f"{step:<12}{result.sealed[step]:>12.3f}{result.unsealed[step]:>12.3f}"
              f"{result.ratio(step):>10.3f}")
