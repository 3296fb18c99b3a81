"""An offline proof: the whole history in one file, checked on another machine without the
store.

`export_proof` writes, as one JSON document: every stored event as stored (its state in
base64), every seal, the principals as they stand, and each program's figures with the
position and digest they were computed at. `check_proof` takes nothing from the file on
trust: it recomputes the chain from the events, checks every seal against the root
fingerprint the auditor kept (`seal_check`), reads the principals' changes from the events
themselves, and re-derives each program's figures from its events through the domain,
comparing them with the figures the file states.

The events' states are decoded with the ledger's codec (msgpack); a ledger whose personal
data is encrypted (JAMSOS_CIPHER_KEY) needs the same key to check its figures. Without that
encryption the file holds every worker's NIK, name and birth date in clear (msgpack read by
anyone): it is made only by an auditor, for a reason, and recorded as a viewing of everyone's
personal data (`personal_data.record_export`) before it is written.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import reduce
from typing import Any, TextIO
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from jamsos_ledger.application.seal_check import SealReport, check_seals
from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.domain.model import Program
from jamsos_ledger.domain.principals import change_of, normal_fingerprint
from jamsos_ledger.stores.integrity import GENESIS, PAGE, Digest, EventRow, link
from jamsos_ledger.stores.seals import COLUMNS, Seal

FORMAT = "jamsos-audit-export/1"
_PROGRAM_TOPIC_PREFIX = "jamsos_ledger.domainmodel:Program"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text, validate=True)


def program_figures(p: Program) -> dict[str, Any]:
    """A program's figures as the export states them (and the check re-derives them)."""
    return {
        "program": p.code,
        "allocation": p.allocation,
        "quota": p.quota,
        "committed": p.committed.total,
        "paid": p.paid_total.total,
        "overpaid": p.overpaid.total,
        "available": p.available,
        "enrolled": p.enrolled,
        "places_left": p.places_left,
    }


def _events(recorder: Any) -> Iterator[EventRow]:
    after = 0
    while True:
        rows: list[EventRow] = recorder.select_event_rows(after, 2**62, PAGE)
        yield from rows
        if len(rows) < PAGE:
            return
        after = rows[-1].position


def _seals(recorder: Any) -> Iterator[Seal]:
    after = -1
    while True:
        page: list[Seal] = recorder.select_seals(after, 2**62, PAGE)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].position


def export_proof(
    out: TextIO,
    recorder: Any,
    principals: list[dict[str, Any]],
    figures: list[dict[str, Any]],
    position: int,
    digest: Digest,
) -> int:
    """Write the proof to `out`, the events streamed a line each; how many events."""
    head = {"format": FORMAT, "position": position, "digest": str(digest),
            "figures": figures, "principals": principals}
    for i, (name, value) in enumerate(head.items()):
        out.write(("{" if i == 0 else " ") + f"{json.dumps(name)}: "
                  f"{json.dumps(value, sort_keys=True)},\n")
    out.write(' "seals": [')
    # Only the seals of what the file holds: a transaction committed after the verified head
    # (another command's, or the record of this very export made meanwhile) is not in it, and
    # its seal would sign events the file does not carry.
    for i, s in enumerate(x for x in _seals(recorder) if x.position <= position):
        values = [_b64(v) if isinstance(v, bytes) else v for v in s.row()]
        out.write(("," if i else "") + "\n  " + json.dumps(dict(zip(COLUMNS, values, strict=True))))
    out.write('],\n "events": [')
    n = 0
    for row in _events(recorder):
        if row.position > position:
            break
        oid = row.originator_id
        out.write(("," if n else "") + "\n  " + json.dumps([
            row.position,
            str(oid) if isinstance(oid, UUID) else oid,
            row.originator_version,
            row.topic,
            _b64(bytes(row.state)) if isinstance(row.state, bytes) else row.state,
            row.uuid_text,
        ]))
        n += 1
    out.write("]}\n")
    return n


@dataclass
class ProofCheck:
    """What checking an export found.

    Attributes:
        events: events in the file.
        seals: the seals' report (`seal_check`).
        chain_problem: the first position whose event is not what the chain holds, or None.
        figures_differ: the programs whose stated figures the events do not give.
        position, digest: what the file says its figures were computed at.
        digest_matches: the digest recomputed from the events is the one the file states.
    """

    events: int = 0
    seals: SealReport = field(default_factory=SealReport)
    figures: list[dict[str, Any]] = field(default_factory=list)
    figures_differ: list[str] = field(default_factory=list)
    position: int = 0
    digest: str = ""
    digest_matches: bool = False

    @property
    def holds(self) -> bool:
        return (self.seals.finding is None and not self.figures_differ
                and self.digest_matches)


def check_proof(text: str, root: str, decode: Callable[[StoredEvent], Any]) -> ProofCheck:
    """Check an export's text against the root fingerprint the auditor kept; `decode` turns a
    stored event into its domain event (the ledger's codec). InvalidInput when the file is
    not an export at all."""
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        rows = [EventRow(int(p), UUID(o) if not t else o, v, tp, _unb64(st), bool(t))
                for p, o, v, tp, st, t in data["events"]]
        seals = [Seal(**{**s, **{k: _unb64(s[k]) for k in ("body", "previous", "signature")}})
                 for s in data["seals"]]
        stated = list(data["figures"])
        position, digest = int(data["position"]), str(data["digest"])
    except (ValueError, KeyError, TypeError) as e:
        raise InvalidInput(f"not a jamsos audit export ({str(e)[:100]})") from None
    root = normal_fingerprint(root)
    found = ProofCheck(events=len(rows), figures=stated, position=position, digest=digest)
    hashes: dict[int, bytes] = {}
    previous = GENESIS
    changes: list[tuple[int, dict[str, Any]]] = []
    programs: dict[Any, list[Any]] = {}
    for row in rows:
        previous = link(previous, row.encoded())
        hashes[row.position] = previous
        stored = StoredEvent(originator_id=row.originator_id,  # type: ignore[arg-type]
                             originator_version=row.originator_version,  # type: ignore[arg-type]
                             topic=row.topic, state=row.state)  # type: ignore[arg-type]
        topic = str(row.topic)
        if topic.startswith("jamsos_ledger.principals:"):
            change = change_of(decode(stored))
            if change is not None:
                changes.append((row.position, change))
        elif topic.startswith(_PROGRAM_TOPIC_PREFIX):
            programs.setdefault(row.originator_id, []).append(decode(stored))
    head = rows[-1].position if rows else 0
    found.seals = check_seals(seals, hashes, changes, head, root)
    found.digest_matches = str(Digest.of(head, previous)) == digest and head == position
    derived = {}
    for events in programs.values():
        program = reduce(lambda agg, e: e.mutate(agg), events, None)
        if isinstance(program, Program):
            derived[program.code] = program_figures(program)
    for figures in stated:
        if derived.get(figures.get("program")) != figures:
            found.figures_differ.append(str(figures.get("program")))
    return found


def mapper_decoder(mapper: Mapper) -> Callable[[StoredEvent], Any]:
    """The ledger's own decoding of stored events (its codec, and cipher if any)."""
    return mapper.to_domain_event


__all__ = ["FORMAT", "ProofCheck", "check_proof", "export_proof", "program_figures"]
