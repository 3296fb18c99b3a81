"""Personal data seen in clear, for a reason, and the record of it (UU 27/2022).

A NIK, a name or a birth date is shown in full only to a principal whose work needs it (the
role table's `unmask`) and only with a reason; each such viewing is recorded before anything is
shown, as a `Viewing`: who saw whose data, when, with which command, and why. A data-protection
officer can then answer "who looked at this person" from the ledger itself.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.texts import normal_spaces, text_problem
from jamsos_ledger.domain.topics import pin_stored_topics

# A viewing of the whole trail names no one in particular: it saw everyone.
EVERYONE = "everyone"


class Viewing(Aggregate):
    """One viewing of personal data in clear.

    Attributes:
        what: the command that showed it (`audit log`, `workers show`).
        subjects: the ids of the workers whose data were shown (empty when `scope` is
            everyone in the ledger).
        scope: `EVERYONE` or `named`.
        reason: why, as the viewer gave it.
    """

    @classmethod
    def record(cls, *, what: str, subjects: list[UUID], reason: str, actor: str) -> Viewing:
        reason = normal_spaces(reason)
        if not reason:
            raise InvalidInput(
                "personal data in clear need a reason (--reason), recorded with who saw them "
                "(UU 27/2022); nothing was shown"
            )
        problem = text_problem(reason)
        if problem:
            raise InvalidInput(f"the reason {problem}; nothing was shown")
        return cls(
            what=what,
            subjects=[s.hex for s in subjects],
            scope="named" if subjects else EVERYONE,
            reason=reason,
            actor=actor,
        )

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    class Viewed(Aggregate.Created):
        what: str
        subjects: list[str]
        scope: str
        reason: str
        actor: str

    @event(Viewed)
    def __init__(
        self, *, what: str, subjects: list[str], scope: str, reason: str, actor: str
    ) -> None:
        self.what = what
        self.subjects = subjects
        self.scope = scope
        self.reason = reason
        self.viewer = actor

    def saw(self, worker: UUID) -> bool:
        """Whether this viewing showed the worker's data."""
        return self.scope == EVERYONE or worker.hex in self.subjects


# Stored names are never renamed (`topics`): these events keep the module path the class had
# when the first ledgers holding them were written.
STORED_TOPIC_MODULE = "jamsos_ledger.viewings"
pin_stored_topics(STORED_TOPIC_MODULE, Viewing)
