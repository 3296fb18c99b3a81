"""Stored event topics: the names the first ledgers wrote, kept wherever the classes live now.

Every stored event names its class by a topic, `module:Aggregate.Event`, and the first event of
an aggregate names the aggregate's class too. Stored names are never renamed: they keep the
module path a class had when the first ledgers holding it were written, so ledgers old and new
are one format (the library's explicit topics, `TOPIC`, each registered so that the stored name
resolves to its class). tests/test_stored_topics.py holds every aggregate to its stored name.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.utils import register_topic


def pin_stored_topics(module: str, *aggregates: type[Aggregate]) -> None:
    """Give each aggregate and each of its event classes the topic its events are stored under:
    `module:` followed by the class's qualified name."""
    for aggregate in aggregates:
        events = [c for c in vars(aggregate).values()
                  if isinstance(c, type) and issubclass(c, CanMutateAggregate)]
        for cls in (aggregate, *events):
            topic = f"{module}:{cls.__qualname__}"
            cls.TOPIC = topic  # type: ignore[attr-defined]
            register_topic(topic, cls)
