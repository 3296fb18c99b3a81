"""Personal data in clear, seen for a reason and recorded (UU 27/2022), in the service.

`record_viewing` is asked before a command shows a NIK, a name or a birth date in full: it
checks the role (`unmask`: auditor or operator) and the reason, and records the viewing in its
own transaction, so nothing is shown that is not in the trail (and a ledger that cannot be
written, such as an auditor's read-only copy, shows nothing in clear). `record_export` does the
same for `audit export`, whose file holds every worker's data as stored. `viewings` answers who
looked at a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.utils import get_topic

from jamsos_ledger.application.proposing import ProposingService
from jamsos_ledger.application.service import command
from jamsos_ledger.domain.errors import InvalidInput, NotFound
from jamsos_ledger.domain.model import worker_id
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.texts import normal_spaces, text_problem
from jamsos_ledger.domain.viewings import Viewing

_VIEWED_TOPIC = get_topic(Viewing.Viewed)


class PersonalDataService(ProposingService):
    """The ledger's service with the record of who saw personal data in clear."""

    @command("unmask")
    def record_viewing(self, *, what: str, reason: str, niks: Sequence[str] = ()) -> Viewing:
        """Record that the acting principal is about to see these workers' personal data in
        clear (every worker's, without NIKs), and why; refused without the role or a reason."""
        subjects = [worker_id(n) for n in niks]
        if subjects:
            found = self.aggregates(subjects)
            missing = [mask_nik(n) for n, w in zip(niks, subjects, strict=True)
                       if w not in found]
            if missing:
                raise NotFound(f"no worker with NIK {', '.join(missing)} is registered")
        viewing = Viewing.record(what=what, subjects=subjects, reason=reason, actor=self.actor)
        self.save(viewing)
        return viewing

    @command("export_trail")
    def record_export(self, *, reason: str, file_name: str) -> Viewing:
        """Record, before the file is written, that the acting principal is exporting the
        whole trail (`audit export`): every worker's personal data as stored, in clear unless
        the store is encrypted. The file's name is kept with the viewing, so a copy found
        later can be traced to who made it, when and why."""
        name = normal_spaces(file_name)
        problem = text_problem(name)
        if not name or problem:
            raise InvalidInput(f"the export's file name {problem or 'is empty'}; nothing was "
                               "written")
        viewing = Viewing.record(what=f"audit export to {name}", subjects=[], reason=reason,
                                 actor=self.actor)
        self.save(viewing)
        return viewing

    @command("who_viewed")
    def viewings(self, nik: str | None = None) -> list[Viewing]:
        """Every viewing of personal data in clear, oldest first; with a NIK, those that
        showed that worker's (by name, or the whole trail)."""
        wid: UUID | None = None if nik is None else worker_id(nik)
        ids = [UUID(str(n.originator_id)) for n in self.read_log(topics=[_VIEWED_TOPIC])]
        found = self.aggregates(ids)
        seen = [found[i] for i in ids if isinstance(found.get(i), Viewing)]
        return [v for v in seen if wid is None or v.saw(wid)]


__all__ = ["PersonalDataService"]
