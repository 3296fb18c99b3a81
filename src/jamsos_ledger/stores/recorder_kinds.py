"""Which of the library's stores a recorder writes to: SQLite, PostgreSQL, or another (the
in-memory one), for the work done in SQL of that store rather than through the library.
"""

from __future__ import annotations


def is_postgres(recorder: object) -> bool:
    """Whether the recorder is one of the library's PostgreSQL recorders (or a subclass)."""
    return is_recorder_of(recorder, "eventsourcing.postgres")


def is_sqlite(recorder: object) -> bool:
    """Whether the recorder is one of the library's SQLite recorders (or a subclass)."""
    return is_recorder_of(recorder, "eventsourcing.sqlite")


def is_recorder_of(recorder: object, module: str) -> bool:
    """Whether the recorder is (a subclass of) one of that library module's recorders."""
    return any(c.__module__.startswith(module) for c in type(recorder).__mro__)
