"""Auditors' notes: what an auditor writes into the ledger, and nothing else.

An auditor (Inspektorat, BPK) reads everything and runs every audit command, but writes no
event of the program: only notes of their own (a finding, a question put to an office, a
follow-up), each one sealed event like any other, so that what the auditor saw and said at a
point of the history stays beside it, and cannot later be changed or denied. A note may name
what it is about: a worker (kept as the worker's id, never the NIK in clear: UU 27/2022), a
proposal, or a position of the log.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.texts import normal_spaces, text_problem
from jamsos_ledger.domain.topics import pin_stored_topics

# A note is a paragraph, not a report: longer findings are kept in the audit's own papers and
# the note names them.
MAX_NOTE = 2_000

# What a note may be about, and how `about` holds it: a worker's id (hex), a proposal's id
# (hex), a log position (decimal).
WORKER = "worker"
PROPOSAL = "proposal"
POSITION = "position"
ABOUT_KINDS = (WORKER, PROPOSAL, POSITION)


class AuditNote(Aggregate):
    """One auditor's note.

    Attributes:
        text: the note, one paragraph (spaces and line breaks run together).
        about_kind: `worker`, `proposal`, `position`, or "" when it is about the ledger as
            a whole.
        about: the worker's or proposal's id (hex) or the position, or "".
        author: the auditor who wrote it (the principal whose key sealed it).
    """

    @classmethod
    def write(cls, *, text: str, about_kind: str = "", about: str = "", actor: str) -> AuditNote:
        """A new note, or InvalidInput naming what is wrong with its text."""
        text = normal_spaces(text)
        if not text:
            raise InvalidInput("a note needs a text; nothing was written")
        problem = text_problem(text, limit=MAX_NOTE)
        if problem:
            raise InvalidInput(f"the note {problem}; nothing was written")
        if about_kind not in ("", *ABOUT_KINDS) or bool(about_kind) != bool(about):
            raise InvalidInput(f"a note is about a {', a '.join(ABOUT_KINDS)}, or nothing")
        return cls(text=text, about_kind=about_kind, about=about, actor=actor)

    @staticmethod
    def create_id() -> UUID:
        return uuid4()

    class Written(Aggregate.Created):
        text: str
        about_kind: str
        about: str
        actor: str

    @event(Written)
    def __init__(self, *, text: str, about_kind: str, about: str, actor: str) -> None:
        self.text = text
        self.about_kind = about_kind
        self.about = about
        self.author = actor


# Stored names are never renamed (`topics`): the module path these events were first written
# under.
STORED_TOPIC_MODULE = "jamsos_ledger.domain.audit_notes"
pin_stored_topics(STORED_TOPIC_MODULE, AuditNote)
