"""The ledger as it stood at a moment, from the events recorded up to it.

Nothing here keeps figures of its own. The report queries as of a moment are the same
projections fed with only the events recorded (timestamped) up to it, in a private database
the composition root builds; a worker or a program as of a moment is its aggregate rebuilt from
its own events up to it. The log is read in pages: memory stays bounded whatever its length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from jamsos_ledger.application import PAGE, Ledger

# Private views (a replay's, the ledger as of a moment) are built by the composition root,
# in a temporary file past LARGE_LOG events (tests lower it here).
from jamsos_ledger.application.composition import LARGE_LOG, rebuilt_views
from jamsos_ledger.application.moments import as_of_title
from jamsos_ledger.domain.errors import NotFound
from jamsos_ledger.domain.model import Program, Worker, worker_id
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.projections.views import Views


def private_views(ledger: Ledger, until: datetime | None = None) -> Views:
    """Every projection rebuilt from the log into a private database, with only the events
    recorded up to `until` (all of them without it). The caller closes it."""
    return rebuilt(ledger, until)[0]


def rebuilt(
    ledger: Ledger, until: datetime | None, progress: Callable[[int], None] | None = None
) -> tuple[Views, int]:
    """Private views caught up (the composition root builds them), and how many events of
    the log were read to build them; in a temporary file past LARGE_LOG events."""
    return rebuilt_views(ledger, until, progress, large_log=LARGE_LOG)


def views_as_of(ledger: Ledger, when: datetime) -> Views:
    """The report queries answered as the ledger stood at `when`, from the events recorded up
    to then (never from today's projections). The caller closes it."""
    return private_views(ledger, until=when)


@contextmanager
def report_views(
    ledger: Ledger, when: datetime | None, program: Program | None = None
) -> Iterator[Views]:
    """The live views, or with `when` the views as of then, closed afterwards; refuses a
    program that was not opened yet at that moment."""
    if when is None:
        yield ledger.views
        return
    views = views_as_of(ledger, when)
    try:
        if program is not None and not any(
            r["program_id"] == str(program.id) for r in views.programs()
        ):
            raise NotFound(f"program {program.code} was not open yet {as_of_title(when).strip()}")
        yield views
    finally:
        views.close()


def worker_as_of(ledger: Ledger, nik: str, when: datetime) -> Worker:
    """The worker as recorded up to `when`, rebuilt from its own events."""
    worker = aggregate_as_of(ledger, worker_id(nik), when)
    if worker is None:
        raise NotFound(
            f"no worker with NIK {mask_nik(nik)} was registered {as_of_title(when).strip()}"
        )
    assert isinstance(worker, Worker)
    return worker


def program_as_of(ledger: Ledger, program_id: UUID, when: datetime | None) -> Program | None:
    """The program as recorded up to `when` (now without it), or None if not open yet."""
    program = aggregate_as_of(ledger, program_id, when)
    assert program is None or isinstance(program, Program)
    return program


def aggregate_as_of(ledger: Ledger, originator_id: UUID, when: datetime | None) -> Any:
    """An aggregate from its own events recorded up to `when`, read in pages; None if none.

    An aggregate's history is a sequence: its state at a moment is the prefix of its events
    recorded by then, so the first later event ends the reading.
    """
    aggregate: Any = None
    after: int | None = None
    while True:
        page = ledger.recorder.select_events(originator_id, gt=after, limit=PAGE)
        for stored in page:
            event: Any = ledger.mapper.to_domain_event(stored)
            if when is not None and event.timestamp > when:
                return aggregate
            aggregate = event.mutate(aggregate)
        if len(page) < PAGE:
            return aggregate
        after = page[-1].originator_version


def log_head(ledger: Ledger) -> int:
    """The last position of the log (0 when empty): a replay compares it before and after."""
    return int(ledger.recorder.max_notification_id() or 0)


def programs_opened(ledger: Ledger, when: datetime | None) -> Iterator[tuple[UUID, str]]:
    """(id, code) of every program opened up to `when`, in the order they were opened."""
    for n in ledger.read_log(topics=[get_topic(Program.Opened)]):
        event: Any = ledger.mapper.to_domain_event(n)
        if when is None or event.timestamp <= when:
            yield event.originator_id, event.code
