"""Running one task of the benchmark in a child process, and measuring it (the parent's side).

Each phase and each anchor runs in a fresh interpreter (`child.py`), for three reasons:
- its peak memory is its own, not the high-water mark of everything run before it;
- nothing cached by an earlier phase (aggregates, connections, imported modules) helps a later
  one: every phase starts the way a `jamsos` command starts;
- a phase that crashes or leaks cannot take the harness down with it.

The child times only its work, with `time.perf_counter()` after its imports, and writes its
figures as JSON to a file (its stdout is the CLI's output, sent to /dev/null; its stderr goes to
a log file the harness shows when the child fails). The parent adds what only it can see: the
child's peak resident memory, from `os.wait4()`'s rusage and from sampling the resident memory
of the child's whole process tree (a phase that uses a helper process for its second core is
measured with it), and the child's wall time including start-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from calibration import contention

CHILD = Path(__file__).resolve().with_name("child.py")
# How often the process tree's resident memory is sampled while a child runs: often enough to
# see a helper process's peak, rare enough to cost the machine nothing measurable.
SAMPLE_SECONDS = 0.05
# Exit status of a child whose task ran but failed (a command exited with an unexpected code):
# it wrote its reason in its result file. Any other non-zero status is a crash (see its log).
TASK_FAILED = 3


class HarnessError(Exception):
    """The benchmark could not measure what it set out to (exit status 2)."""


@dataclass
class Measured:
    """One task as measured.

    Attributes:
        task: the child task that ran (`commands`, `library-save`...).
        label: what the harness calls it in tables (`import`, `bills`...).
        seconds: the timed work only, measured by the child.
        events: events written (a writing phase) or read (replay, rebuild, anchors).
        peak_mb: peak resident memory of the child (and its helpers), in MiB.
        wall_seconds: the child's whole life, start-up and imports included.
        load: the machine's 1-minute load average when the child started (others' work on a
            shared machine shows here: a load above the cores makes every figure suspect).
        contention: just before the child started, the CPU time of a fixed piece of work in
            two processes at once over one alone (`calibration.contention`): near 1 both
            cores were free; near 2 a phase using both (import, replay, rebuild) was slowed
            by the host, and its ratio to a one-process anchor with it.
        extra: task-specific figures (per-invocation times of reports, anchor variants...).
    """

    task: str
    label: str
    seconds: float
    events: int
    peak_mb: float
    wall_seconds: float
    load: float = 0.0
    contention: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Events per second of the timed work (0 when nothing was timed)."""
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "events_per_second": round(self.rate, 1)}


class Runner:
    """Starts children in one scratch folder, with one environment, logging their stderr."""

    def __init__(self, folder: Path, env: dict[str, str], verbose: bool = True) -> None:
        self.folder = folder
        self.env = env
        self.verbose = verbose
        self.logs = folder / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self._count = 0

    def run(
        self, task: str, label: str, params: dict[str, Any], env: dict[str, str] | None = None
    ) -> Measured:
        """Run `task` with `params` in a child; its figures, or HarnessError saying why not."""
        self._count += 1
        stem = f"{self._count:03d}-{_safe(label)}"
        result_path = self.logs / f"{stem}.json"
        log_path = self.logs / f"{stem}.log"
        command = [sys.executable, str(CHILD), task, json.dumps(params), str(result_path)]
        if self.verbose:
            print(f"  .. {label}", end="", flush=True)
        contended = contention()
        load = os.getloadavg()[0]
        started = time.perf_counter()
        with log_path.open("wb") as log:
            # Popen starts the child; only `_wait` reaps it (Popen's own wait is never called),
            # since the rusage holding its peak memory goes to the one wait4 that reaps it.
            child = subprocess.Popen(
                command,
                cwd=self.folder,
                env={**self.env, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            status, maxrss_kb, tree_kb = _wait(child.pid)
            child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        code = child.returncode
        outcome: dict[str, Any] = {}
        if result_path.exists():
            outcome = json.loads(result_path.read_text())
        if code != 0:
            if self.verbose:
                print(" FAILED", flush=True)
            reason = outcome.get("error") or f"exit status {code}"
            raise HarnessError(
                f"{label} ({task}) failed: {reason}\n--- {log_path} (last lines) ---\n"
                + _tail(log_path)
            )
        measured = Measured(
            task=task,
            label=label,
            seconds=float(outcome.pop("seconds")),
            events=int(outcome.pop("events")),
            peak_mb=round(max(maxrss_kb, tree_kb) / 1024, 1),
            wall_seconds=round(wall, 3),
            load=round(load, 2),
            contention=contended,
            extra=outcome,
        )
        if self.verbose:
            print(
                f" {measured.seconds:.2f} s, {measured.events:,} events, "
                f"{measured.peak_mb:.0f} MB",
                flush=True,
            )
        return measured


def _wait(pid: int) -> tuple[int, int, int]:
    """Wait for the child; (wait status, its ru_maxrss in KiB, its tree's sampled peak in KiB).

    `ru_maxrss` from wait4 is the largest single process among the child and the descendants
    it waited for; the sampled tree peak adds up processes alive at the same moment.
    """
    tree_peak = 0
    while True:
        reaped, status, usage = os.wait4(pid, os.WNOHANG)
        if reaped == pid:
            return status, int(usage.ru_maxrss), tree_peak
        tree_peak = max(tree_peak, _tree_rss_kb(pid))
        time.sleep(SAMPLE_SECONDS)


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants now, from /proc (Linux)."""
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as f:
                    stack.extend(int(child) for child in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # it ended meanwhile
    return total


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in label)
