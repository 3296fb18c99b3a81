"""What a child task reports, and how it says it failed (shared by the child's modules)."""

from __future__ import annotations

from typing import Any


class TaskFailed(Exception):
    """The task ran but did not do what the benchmark needs (e.g. a command exited non-zero)."""


def figures(seconds: float, events: int, **extra: Any) -> dict[str, Any]:
    """A task's result: seconds of timed work, events written or read, and other figures."""
    return {"seconds": seconds, "events": events, **extra}
