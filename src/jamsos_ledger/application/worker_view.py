"""A registered worker as `workers show` and `GET /api/v1/workers/{nik}` give it: one shape for
both front doors, so a script reading either sees the same keys and the same masking.

Personal data (UU 27/2022): the NIK is masked and the name given as initials, the birth date
left out, unless the caller says `clear`, which it may only after the viewing was recorded
(`personal_data.record_viewing`, checking the role and the reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jamsos_ledger.domain.model import Worker, program_id
from jamsos_ledger.domain.money import count
from jamsos_ledger.domain.nik import mask_nik
from jamsos_ledger.domain.texts import initials


def worker_json(worker: Worker, program_codes: Sequence[str], *, clear: bool) -> dict[str, Any]:
    """The worker's registration, rank, coverages and claims; programs named by their ids
    (`program_codes`, the ledger's), the personal data in clear only when `clear`."""
    codes = {program_id(c): c for c in program_codes}
    coverages = [
        {
            "program": codes.get(pid, str(pid)),
            "start": str(c.start),
            "end": str(c.end),
            "ended": None if c.ended is None else str(c.ended),
            "decree": c.decree,
        }
        for pid, c in worker.coverages.items()
    ]
    claims = [
        {
            "reference": c["reference"],
            "scheme": c["scheme"],
            "date": c["date"].isoformat(),
            "program": codes.get(c["program_id"], str(c["program_id"])),
        }
        for c in worker.claims
    ]
    data: dict[str, Any] = {
        "nik": worker.nik if clear else mask_nik(worker.nik),
        "name": worker.name if clear else initials(worker.name),
        "sex": worker.sex,
        "kecamatan": worker.kecamatan,
        "kelurahan": worker.kelurahan,
        "occupation": worker.occupation,
        "decile": worker.decile,
        "source": worker.source,
        "decile_release": worker.decile_release,
        "kpj": getattr(worker, "kpj", None),
        "ruleset": worker.ruleset,
        "rank": worker.rank,
        "tier": worker.tier,
        "rank_release": worker.rank_release,
        "tie_break_position": worker.rank_position,
        "rank_explained": rank_explained(worker) if worker.rank is not None else None,
        "coverages": coverages,
        "claims": claims,
    }
    if clear:
        data["birth_date"] = worker.birth_date.isoformat()
    return data


def release_said(release: str | None) -> str:
    return f"DTSEN {release}" if release else "as registered"


def rank_explained(worker: Worker) -> str:
    """A rank in words: the rule set, the tier, the decile and its release, the tie-break:
    "rank 1.204: tier 1 (decile 2, DTSEN 2026-Q2) under dtsen-desil-v1; ties broken by order
    of registration, position 88.412"."""
    assert worker.rank is not None
    ties = "ties broken by order of registration"
    if worker.rank_position is not None:  # not recorded with ranks of older ledgers
        ties += f", position {count(worker.rank_position)}"
    return (
        f"rank {count(worker.rank)}: tier {worker.tier} (decile {worker.decile}, "
        f"{release_said(worker.rank_release)}) under {worker.ruleset}; {ties}"
    )


__all__ = ["rank_explained", "release_said", "worker_json"]
