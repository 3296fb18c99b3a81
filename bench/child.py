"""One task of the benchmark in a process of its own: `python bench/child.py TASK PARAMS RESULT`.

PARAMS is a JSON object; the task's figures (`seconds` of timed work, `events`, and anything
else it reports) are written as JSON to the file RESULT. The parent (`measure.py`) starts this
with stdout on /dev/null (the `jamsos` commands' own output) and stderr to a log file.

Exit status: 0 done; 3 the task ran but failed (its reason is in RESULT under `error`); anything
else a crash, whose traceback is in the log.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anchors
import raw_fold
import workload
from outcome import TaskFailed

TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    **workload.TASKS,
    **anchors.TASKS,
    **raw_fold.TASKS,
}
TASK_FAILED = 3  # measure.TASK_FAILED, not imported: the child needs nothing of the parent


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in TASKS:
        print(f"usage: child.py {{{','.join(TASKS)}}} PARAMS_JSON RESULT_PATH", file=sys.stderr)
        return 2
    task, params, result = argv
    try:
        outcome = TASKS[task](json.loads(params))
        status = 0
    except TaskFailed as e:
        print(f"{task}: {e}", file=sys.stderr)
        outcome = {"error": str(e), "seconds": 0.0, "events": 0}
        status = TASK_FAILED
    Path(result).write_text(json.dumps(outcome))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
