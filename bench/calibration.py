"""How fast the machine was during a run, so that runs on different machines can be compared.

The targets are ratios against anchors measured in the same run, and those hold on a shared
machine. A comparison with an earlier run (`--compare`) sets absolute rates side by side, and
those follow the machine: the same code ran 1.3 to 3 times slower on one of these
2-core machines than on another, a day apart. A fixed piece of pure-Python work, timed on one
core and then on both cores at once, says how much of a difference is the machine's. The
second figure matters because the import and the replay use both cores: where the two cores
share one physical core, each runs slower when both are busy.

Run as a script, it does the work once (or that many turns of it) and prints the CPU seconds
it took: the harness starts two such processes at once.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

# Loop turns of the fixed work: about half a second of one core on these machines.
TURNS = 2_000_000
REPEATS = 3


def work(turns: int = TURNS) -> float:
    """CPU seconds of a fixed mix of what the ledger does most in Python: integer arithmetic,
    dict and tuple building, and string formatting."""
    started = time.process_time()
    seen: dict[int, tuple[int, str]] = {}
    total = 0
    for i in range(turns):
        total += i * 7 % 13
        if i % 4 == 0:
            seen[i & 0xFFFF] = (total, f"{i:08d}")
    assert total > 0 and seen
    return time.process_time() - started


def machine_speed() -> dict[str, Any]:
    """The fixed work's CPU seconds on one core (the best of a few) and, with two processes
    doing it at once, in the slower of them."""
    one_core = min(work() for _ in range(REPEATS))
    both = min(max(_at_once(2, TURNS)) for _ in range(REPEATS))
    return {
        "work": f"{TURNS:,} turns of integer, dict, tuple and string work",
        "one_core_s": round(one_core, 4),
        "both_cores_s": round(both, 4),
    }


def contention() -> float:
    """Right now, how much more CPU time the fixed work (an eighth of it) takes in the slower
    of two processes doing it at once than in one process alone: about 1 when both cores are
    free, up to 2 when they share one physical core or the host is busy. It changes from one
    minute to the next on these machines, so the harness asks before every child."""
    turns = TURNS // 8
    alone = _at_once(1, turns)[0]
    return round(max(_at_once(2, turns)) / alone, 2)


def _at_once(processes: int, turns: int) -> list[float]:
    """CPU seconds of the fixed work in each of that many processes started together."""
    started = [
        subprocess.Popen([sys.executable, __file__, str(turns)], stdout=subprocess.PIPE,
                         text=True)
        for _ in range(processes)
    ]
    return [float(p.communicate()[0]) for p in started]


def describe(speed: dict[str, Any]) -> str:
    one, both = speed["one_core_s"], speed["both_cores_s"]
    return (f"fixed work {one:.3f} CPU-s on one core, {both:.3f} CPU-s with both cores busy "
            f"({both / one:.2f}x)")


if __name__ == "__main__":
    print(work(int(sys.argv[1]) if len(sys.argv) > 1 else TURNS))
