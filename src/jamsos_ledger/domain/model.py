"""The program, its workers and the references that may be used once: aggregates and events.

Every rule of the program that guards money or places lives here, once. Public methods check
and refuse; the private `@event` methods only record, so replaying history never re-runs a
check (the `eventsourcing` library's own advice). Every event's topic is stored with it: the
events' names are never renamed, and their topics keep the module path the first ledgers
wrote (`STORED_TOPIC_MODULE`) wherever the classes live.

The `Program` is the consistency boundary of the budget and the quota: every command that
commits, releases or pays money, or takes or frees a place, records an event on it, so two
concurrent commands conflict on its version and one of them is retried against the new state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from hashlib import sha1
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic

from jamsos_ledger.domain.errors import (
    DuplicateReference,
    InvalidInput,
    NotFound,
    OverBudget,
    OverQuota,
    RuleViolation,
)
from jamsos_ledger.domain.money import (
    MAX_BENEFIT,
    MAX_RUPIAH,
    MAX_WORKERS,
    amount_problem,
    count,
    counted,
    rupiah,
    workers_problem,
)
from jamsos_ledger.domain.months import Month
from jamsos_ledger.domain.nik import mask_nik, nik_problems
from jamsos_ledger.domain.reconciliation import Participant, Reconciliation, kpj_problem
from jamsos_ledger.domain.regions import kecamatan_name
from jamsos_ledger.domain.rules import (
    DECILES,
    PROGRAM_YEARS,
    Premium,
    age_problem,
    premium_problems,
    ruleset,
)
from jamsos_ledger.domain.texts import normal_spaces, text_problem
from jamsos_ledger.domain.topics import pin_stored_topics

# Fixed forever: aggregate ids are derived from it, so a NIK, a program code or a reference
# maps to the same aggregate in every process, and the store's unique key refuses a second one.
LEDGER_NAMESPACE = UUID("6f1c9b0e-3a57-4d2b-9a47-2d0c8f3b5e61")

END_REASONS = ("died", "moved", "formal", "ineligible")
SCHEMES = ("JKK", "JKM")
SEXES = ("L", "P")
# Registration fields a correction may change. NIK, birth date and sex are the person's
# identity (the NIK encodes the other two): a wrong one is a different person, registered anew.
CORRECTABLE = ("name", "kecamatan", "kelurahan", "occupation", "decile", "source")
# The registration fields held as free text; `name` and `source` may not be empty.
TEXT_FIELDS = ("name", "kelurahan", "occupation", "source")
_REQUIRED_TEXT = ("name", "source")
# A registration's day is the day in Kota Bekasi (WIB) when it is recorded.
JAKARTA = ZoneInfo("Asia/Jakarta")


def today() -> date:
    """The day in Asia/Jakarta: the day a registration recorded now is made on."""
    return datetime.now(JAKARTA).date()


def text_field_problems(field: str, value: str) -> list[str]:
    """What is wrong with a free-text registration field, read or corrected (the same check)."""
    problem = text_problem(value)
    if problem:
        return [f"{field} {problem}"]
    if field in _REQUIRED_TEXT and not value.strip():
        return [f"{field} is empty"]
    return []


def program_id(code: str) -> UUID:
    return uuid5(LEDGER_NAMESPACE, f"program:{code}")


def worker_id(nik: str) -> UUID:
    return UUID(bytes=worker_id_bytes(nik))


def worker_id_bytes(nik: str) -> bytes:
    """The 16 bytes of `worker_id(nik)`, for an import that sends ids between processes."""
    # uuid5 by hand: the standard one imports hashlib at every call, and an import derives
    # hundreds of thousands of ids.
    digest = bytearray(sha1(_WORKER_NAME + nik.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return bytes(digest)


_WORKER_NAME = LEDGER_NAMESPACE.bytes + b"worker:"


# What a reference is called in messages.
REFERENCE_NAMES = {"decree": "decree", "sp2d": "SP2D number", "claim": "claim reference"}


def normal_reference(kind: str, value: str) -> str:
    """A decree, SP2D or claim reference as recorded: no spaces around it, one space between
    words; InvalidInput when it is blank or holds what no reference holds.

    People read `SP2D/01/2026`, ` SP2D/01/2026 ` and `SP2D/01/2026` typed with two spaces as
    the same reference, so they are one; its case is kept as written, and ignored for
    uniqueness (`reference_key`).
    """
    name = REFERENCE_NAMES.get(kind, kind)
    stripped = value.strip()
    problem = text_problem(stripped)
    if problem:
        raise InvalidInput(f"the {name} {problem}")
    normal = normal_spaces(stripped)
    if not normal:
        raise InvalidInput(f"the {name} is blank: give the {name} as written on the document")
    return normal


def reference_key(value: str) -> str:
    """What makes two references the same: spaces normalised and case folded (`sp2d/01` is
    `SP2D/01`). Applied to references recorded before they were normalised too."""
    return normal_spaces(value).casefold()


def reference_id(kind: str, value: str) -> UUID:
    """The id of the `Reference` aggregate of a reference, from its key: two spellings of one
    reference share it, so the store's unique key refuses the second even in a race.

    A reference already lower case with single spaces has the id it had before references were
    normalised; others recorded before have the ids of `legacy_reference_ids`.
    """
    return uuid5(LEDGER_NAMESPACE, f"reference:{kind}:{reference_key(value)}")


def legacy_reference_ids(kind: str, value: str) -> set[UUID]:
    """The ids a reference would have had when ids were made from the text as typed: a ledger
    written then holds them, and the reference typed the same way must still be found."""
    return {
        uuid5(LEDGER_NAMESPACE, f"reference:{kind}:{spelling}")
        for spelling in (value, value.strip(), normal_spaces(value))
    }


class _Checked:
    """Where a registration keeps the problems once found: an import asks twice, reading the
    file and registering, and a frozen registration cannot change in between. A slot, not a
    field: it is no part of the registration's value (equality, `asdict`, `replace`)."""

    __slots__ = ("_found",)


@dataclass(frozen=True)
class RegistrationFields:
    """What Disnaker or Dinsos supplies about one worker, already typed: the nine fields of a
    registration, written here once. A registration (`Registration`) is them, checked; the
    event that registers a worker (`Worker.Registered`) records them, and the worker holds
    them; a registration file has a column each, in this order.

    Attributes:
        nik: the 16-digit identity number.
        name: full name.
        birth_date: consistent with the NIK's date part.
        sex: `L` or `P`, consistent with the NIK (women's day + 40).
        kecamatan: official name of the kecamatan of domicile.
        kelurahan: kelurahan of domicile, as written.
        occupation: e.g. ojol driver, street vendor, day labourer.
        decile: DTSEN decile 1-10, 1 the poorest.
        source: who supplied the row.
    """

    # No `__dict__` of its own: a `Registration` stays as small as it was (an import holds
    # every one of a file), and an event keeps its fields in the one its library bases give.
    __slots__ = ()

    nik: str
    name: str
    birth_date: date
    sex: str
    kecamatan: str
    kelurahan: str
    occupation: str
    decile: int
    source: str


# The registration's fields, in their order: a registration file's columns, an event's.
REGISTRATION_FIELDS = tuple(f.name for f in dataclasses.fields(RegistrationFields))


@dataclass(frozen=True, slots=True)
class Registration(_Checked, RegistrationFields):
    """A worker's registration as supplied (`RegistrationFields`), and what makes it acceptable
    or not: every rule the domain asks of it."""

    def problems(self, on: date | None = None) -> list[tuple[str, str]]:
        """Every (field, reason) that makes this registration unacceptable if registered on
        the day `on` (by default today, in Asia/Jakarta: the day an import records it)."""
        day = on or today()
        found: tuple[date, tuple[tuple[str, str], ...]] | None = getattr(self, "_found", None)
        if found is None or found[0] != day:
            found = (day, tuple(self._problems(day)))
            object.__setattr__(self, "_found", found)
        return list(found[1])

    def _problems(self, day: date) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = [
            ("nik", p) for p in nik_problems(self.nik, self.birth_date, self.sex)
        ]
        if isinstance(self.birth_date, date):  # a reader may leave an unreadable one None
            age = age_problem(
                self.birth_date, day, f"when registered on {day.isoformat()}", upper=False
            )
            if age:
                found.append(("birth_date", age))
        for field in TEXT_FIELDS:
            found += [(field, p) for p in text_field_problems(field, getattr(self, field))]
        if self.sex not in SEXES:
            found.append(("sex", f"sex must be L or P, not {self.sex!r}"))
        kecamatan = text_problem(self.kecamatan)
        if kecamatan:
            found.append(("kecamatan", f"kecamatan {kecamatan}"))
        elif kecamatan_name(self.kecamatan) is None:
            found.append(("kecamatan", f"{self.kecamatan!r} is not a kecamatan of the city"))
        if self.decile not in DECILES:
            found.append(("decile", f"DTSEN decile must be 1-10, not {self.decile}"))
        return found

    def differences(self, worker: Worker) -> list[str]:
        """The fields in which this registration differs from what the ledger holds of the
        worker of its NIK, each with the value in the ledger and this one's. Name and birth
        date are personal data (UU 27/2022): only named, never shown."""
        ledger = worker.registration
        shown = []
        for field in ("name", "birth_date", "sex", *CORRECTABLE[1:]):
            held, given = getattr(ledger, field), _normal_field(self, field)
            if held == given:
                continue
            if field in ("name", "birth_date"):
                shown.append(field)
            else:
                shown.append(f"{field} {given!r} (the ledger has {held!r})")
        return shown


@dataclass(frozen=True, slots=True)
class Coverage:
    """A worker's coverage in one program, from its start month to the program's end.

    Attributes:
        start: first covered month.
        end: last covered month unless ended earlier.
        ended: the last covered month when coverage was ended, else None.
        decree: the decree that enrolled the worker, if any.
    """

    start: Month
    end: Month
    ended: Month | None = None
    decree: str | None = None

    @property
    def last(self) -> Month:
        """The last month covered: the end month, or the month it was ended in."""
        return self.ended if self.ended is not None else self.end

    def covers(self, month: Month) -> bool:
        return self.start <= month <= self.last


def _too_large(**figures: int) -> list[str]:
    """Figures beyond what a program can hold (money.MAX_RUPIAH, MAX_WORKERS): typos."""
    problems = []
    for name, value in figures.items():
        limit = MAX_WORKERS if name == "quota" else MAX_RUPIAH
        if value > limit:
            shown = count(limit) if name == "quota" else rupiah(limit)
            problems.append(f"{name} {count(value)} is more than the ledger takes ({shown})")
    return problems


def available_money(allocation: int, committed: int, paid: int) -> int:
    """Pagu - committed - paid: what the allocation (the ceiling in the budget document, DPA)
    can still commit; the invariant is that it never goes below zero. Also what is left
    unspent at the period's end (SiLPA) when nothing changes."""
    return allocation - committed - paid


def places_left(quota: int, enrolled: int) -> int:
    """The places of the program's quota not held by an enrolled worker."""
    return quota - enrolled


def months_overlap(start: Month, last: Month, other_start: Month, other_last: Month) -> bool:
    """Whether two runs of months share a month: one NIK is never paid for twice by public
    money for the same month, so two programs never cover the same month."""
    return start <= other_last and other_start <= last


def coverage_problem(
    coverages: Mapping[UUID, Coverage],
    program_id: UUID,
    code: str,
    start: Month,
    end: Month,
    who: str,
) -> str | None:
    """Why a worker holding `coverages` cannot be covered by program `code` from `start` to
    `end`, or None: a worker is enrolled once in a program, and one premium a month is paid
    for one person, so two programs never cover the same month. `who` names the worker."""
    coverage = coverages.get(program_id)
    if coverage is not None:
        state = f"ended {coverage.ended}" if coverage.ended else f"from {coverage.start}"
        return f"{who} is already enrolled in {code} ({state})"
    for other in coverages.values():
        if months_overlap(other.start, other.last, start, end):
            return (
                f"{who} is already covered from {other.start} to {other.last} "
                f"by another program, overlapping {start} to {end}"
            )
    return None


def eligibility_problem(
    who: str, decile: int, birth_date: date, ruleset_name: str, start: Month
) -> str | None:
    """Why a worker of that DTSEN decile and birth date cannot be covered from `start` under
    the rule set, or None: the decile must be in one of its tiers, and the worker a BPU
    participant's age when coverage starts (rules.age_problem). `who` names the worker."""
    if not ruleset(ruleset_name).is_eligible(decile):
        return f"{who} has DTSEN decile {decile}, not eligible under {ruleset_name}"
    age = age_problem(birth_date, start.first_day(), f"when coverage starts in {start}")
    if age:
        return f"{who} is {age}"
    return None


def workers_to_enrol_problem(top: int) -> str | None:
    """Why `--top N` cannot be asked for (fewer than one, more than any quota), or None."""
    return workers_problem("--top", top)


def _reason_problem(reason: str, needed: str) -> None:
    """Refuse a blank reason, or one holding what no text holds (InvalidInput)."""
    problem = text_problem(reason.strip())
    if problem:
        raise InvalidInput(f"the reason {problem}")
    if not reason.strip():
        raise InvalidInput(needed)


def unpaid_participants(active: int, paid: int, left_out: int = 0) -> int:
    """Participants covered in a month and not yet paid for: their premium is committed.

    `left_out`: covered workers a payment of the month under a reconciled invoice did not pay
    (BPJS did not bill them, or billed them wrongly): known by name, still owed, never offset.
    The others are counted: a month paid for more of them than are now covered (coverage
    ended after the bill) holds an overpayment, which offsets the premiums of workers enrolled
    into it later.
    """
    return left_out + max(0, active - left_out - paid)


def overpaid_participants(active: int, paid: int, left_out: int = 0) -> int:
    """Participants paid for in a month who are no longer covered in it (those `left_out` of
    its payment were not paid for, so they never absorb a payment)."""
    return max(0, paid - (active - left_out))


@dataclass(frozen=True, slots=True)
class MonthBooks:
    """One month of a program's books, from its participant counts.

    Attributes:
        active: participants covered in the month.
        paid_participants: participants paid for.
        planned: premium of every covered participant.
        committed: premium still to pay.
        paid: premium paid.
        overpaid: premium paid for participants no longer covered.
    """

    active: int
    paid_participants: int
    planned: Premium
    committed: Premium
    paid: Premium
    overpaid: Premium

    @classmethod
    def of(cls, active: int, paid: int, premium: Premium, left_out: int = 0) -> MonthBooks:
        return cls(
            active=active,
            paid_participants=paid,
            planned=premium.times(active),
            committed=premium.times(unpaid_participants(active, paid, left_out)),
            paid=premium.times(paid),
            overpaid=premium.times(overpaid_participants(active, paid, left_out)),
        )


class Program(Aggregate):
    """A city's program for one period: allocation (pagu), quota, premium rates and the books.

    The books are participant counts per month: `active[i]` workers are covered in the i-th
    month of the period and `paid[i]` of them have been paid for. Money follows from the
    counts and the rates, so it can never drift from who is covered. A month paid under a
    reconciled invoice is paid for the workers the invoice agreed: the covered workers it left
    out are kept by name (`left_out[i]`), so whose month was paid is known (`paid_for`).
    """

    @staticmethod
    def create_id(code: str) -> UUID:
        return program_id(code)

    @classmethod
    def open(
        cls,
        *,
        code: str,
        name: str,
        year: int,
        start: Month,
        end: Month,
        allocation: int,
        quota: int,
        jkk_monthly: int,
        jkm_monthly: int,
        ruleset_name: str,
        actor: str,
        four_eyes: bool = True,
        one_key_reason: str = "",
    ) -> Program:
        """Open a program; refuse terms that cannot be right. With `four_eyes` (the default:
        one key never moves public money alone) its decrees, payments and amendments take
        effect only when a second principal approves them (`proposals`); `four_eyes=False` is
        a small office's explicit choice, with its reason (`one_key_reason`, optional) kept in
        the terms. Either way it is part of the terms, recorded when the program is opened;
        `audit verify` lists what was moved alone on a program of one key."""
        problems = []
        one_key_reason = normal_spaces(one_key_reason)
        if one_key_reason and four_eyes:
            problems.append("a reason for one key is given only to a program opened with one "
                            "key (four eyes off)")
        if one_key_reason and (problem := text_problem(one_key_reason)):
            problems.append(f"the reason for one key {problem}")
        if not code.strip() or any(c.isspace() for c in code):
            problems.append(f"program id must be a word without spaces, not {code!r}")
        for what, text in (("program id", code), ("program name", name)):
            problem = text_problem(text)
            if problem:
                problems.append(f"{what} {problem}")
        if year not in PROGRAM_YEARS:
            problems.append(
                f"year {year} is outside {PROGRAM_YEARS.start}-{PROGRAM_YEARS.stop - 1} (BPJS "
                "Ketenagakerjaan began in 2014)"
            )
        for what, month in (("start", start), ("end", end)):
            if month.year not in PROGRAM_YEARS:
                problems.append(
                    f"the period's {what} {month} is outside {PROGRAM_YEARS.start}-"
                    f"{PROGRAM_YEARS.stop - 1}"
                )
        if end < start:
            problems.append(f"the period ends ({end}) before it starts ({start})")
        if end - start >= 120:
            problems.append(f"the period {start} to {end} is longer than ten years")
        if allocation <= 0:
            problems.append(f"allocation must be positive, not {rupiah(allocation)}")
        problems += _too_large(allocation=allocation, quota=quota, jkk_monthly=jkk_monthly,
                               jkm_monthly=jkm_monthly)
        if quota <= 0:
            problems.append(f"quota must be positive, not {quota}")
        problems += premium_problems(jkk_monthly, jkm_monthly)
        try:
            ruleset(ruleset_name)
        except KeyError as e:
            problems.append(str(e.args[0]))
        if problems:
            raise InvalidInput("; ".join(problems))
        return cls(
            code=code,
            name=name or code,
            year=year,
            start=start,
            end=end,
            allocation=allocation,
            quota=quota,
            jkk_monthly=jkk_monthly,
            jkm_monthly=jkm_monthly,
            ruleset=ruleset_name,
            actor=actor,
            four_eyes=four_eyes,
            one_key_reason=one_key_reason,
        )

    class Opened(Aggregate.Created):
        code: str
        name: str
        year: int
        start: Month
        end: Month
        allocation: int
        quota: int
        jkk_monthly: int
        jkm_monthly: int
        ruleset: str
        actor: str
        four_eyes: bool
        one_key_reason: str = ""

    @event(Opened)
    def __init__(
        self,
        *,
        code: str,
        name: str,
        year: int,
        start: Month,
        end: Month,
        allocation: int,
        quota: int,
        jkk_monthly: int,
        jkm_monthly: int,
        ruleset: str,
        actor: str,
        # Programs opened before four eyes existed recorded no choice: they read as off.
        # Only the commands' default is on; an event's missing field stays False.
        four_eyes: bool = False,
        # Why a program runs with one key, when its opener said; none for those opened
        # before it was asked.
        one_key_reason: str = "",
    ) -> None:
        self.code = code
        self.four_eyes = four_eyes
        self.one_key_reason = one_key_reason
        self.name = name
        self.year = year
        self.start = start
        self.end = end
        self.allocation = allocation
        self.quota = quota
        self.premium = Premium(jkk_monthly, jkm_monthly)
        self.ruleset = ruleset
        self.enrolled = 0
        self.active = [0] * (end - start + 1)
        self.paid = [0] * (end - start + 1)
        self.payments: list[tuple[Month, str]] = []
        self.decrees: list[str] = []
        # Participants each payment paid for, by the SP2D as people read it; reversed ones.
        self.paid_under: dict[str, tuple[Month, int]] = {}
        # Whom each payment under an invoice left out, by its SP2D (`_invoice_paid`).
        self.left_out_under: dict[str, set[UUID]] = {}
        self.reversed: set[str] = set()
        # The invoice of each month reconciled last, and the participants it agreed.
        self.reconciled: dict[Month, tuple[str, int]] = {}
        # The last covered month of each worker whose coverage ended after later months
        # were paid, in the order they ended: who may hold an overpayment to recover.
        self.ended_after_payment: dict[UUID, Month] = {}
        # By month index: the covered workers a payment under an invoice left unpaid, and the
        # covered workers the invoice reconciled last for a month did not agree.
        self.left_out: dict[int, set[UUID]] = {}
        self.reconciled_left_out: dict[Month, set[UUID]] = {}
        # The workers the invoice reconciled last for a month agreed who are still covered in
        # it (None: an invoice reconciled before agreed workers were recorded by name).
        self.reconciled_agreed: dict[Month, set[UUID] | None] = {}

    # -- figures -------------------------------------------------------------------------

    @property
    def months(self) -> int:
        return len(self.active)

    def month_books(self, month: Month) -> MonthBooks:
        i = self.slot(month)
        return MonthBooks.of(self.active[i], self.paid[i], self.premium, self._left(i))

    def _left(self, i: int) -> int:
        """How many covered workers of the i-th month a payment left unpaid, by name."""
        return len(self.left_out.get(i, ()))

    def _unpaid(self, i: int, active_change: int = 0) -> int:
        return unpaid_participants(self.active[i] + active_change, self.paid[i], self._left(i))

    def _overpaid(self, i: int) -> int:
        return overpaid_participants(self.active[i], self.paid[i], self._left(i))

    def paid_for(self, worker_id: UUID, month: Month) -> bool:
        """Whether a worker covered in `month` is paid for it: the one definition every figure
        of a worker's month uses (ending, annulment, overpayment). A month paid in full (no
        invoice) is paid for every participant; paid under a reconciled invoice, for those it
        agreed: a covered worker BPJS did not bill is not paid for that month, and stays owed
        until BPJS bills him and the city pays (Perpres 109/2013: the premium of each
        participant, as billed). While counted participants of the month wait for payment, a
        worker not known by name counts among them (his premium stands for theirs)."""
        i = self.slot(month)
        left = self.left_out.get(i, set())
        return worker_id not in left and max(
            0, self.active[i] - len(left) - self.paid[i]) == 0

    @property
    def committed(self) -> Premium:
        """Premiums promised to covered workers for months not yet paid (the encumbrance)."""
        return self.premium.times(sum(self._unpaid(i) for i in range(self.months)))

    @property
    def paid_total(self) -> Premium:
        """Premiums actually paid (realisasi), overpayments included."""
        return self.premium.times(sum(self.paid))

    @property
    def overpaid(self) -> Premium:
        """Premiums paid for months after coverage ended: to offset or recover."""
        return self.premium.times(sum(self._overpaid(i) for i in range(self.months)))

    @property
    def available(self) -> int:
        """Pagu - committed - paid: the invariant is that it never goes below zero."""
        return available_money(self.allocation, self.committed.total, self.paid_total.total)

    @property
    def places_left(self) -> int:
        return places_left(self.quota, self.enrolled)

    def slot(self, month: Month) -> int:
        """Index of a month in the period; refuse a month outside it."""
        if not self.start <= month <= self.end:
            raise RuleViolation(
                f"{month} is outside program {self.code}'s period {self.start} to {self.end}"
            )
        return month - self.start

    def commitment_for(self, workers: int, start: Month) -> Premium:
        """What covering that many more workers from `start` to the end would commit.

        Months already paid for ended workers (overpaid) offset new commitments first.
        """
        first = self.slot(start)
        months = sum(
            self._unpaid(i, workers) - self._unpaid(i) for i in range(first, self.months)
        )
        return self.premium.times(months)

    def capacity(self, start: Month) -> int:
        """How many more workers fit from `start`: the money and the places both allow it."""
        self.slot(start)  # refuse a month outside the period even when no place is left
        low, high = 0, max(0, self.places_left)
        while low < high:  # the largest k whose commitment fits the money
            mid = (low + high + 1) // 2
            if self.commitment_for(mid, start).total <= self.available:
                low = mid
            else:
                high = mid - 1
        return low

    # -- amendments ----------------------------------------------------------------------

    def amend(self, *, allocation: int | None, quota: int | None, reason: str, actor: str) -> None:
        """Raise or cut the allocation or the quota (APBD-Perubahan); never below what is used."""
        if allocation is None and quota is None:
            raise InvalidInput("an amendment needs a new allocation or a new quota")
        _reason_problem(reason, "an amendment needs a reason (the decree or budget document)")
        used = self.committed.total + self.paid_total.total
        too_large = _too_large(allocation=allocation or 0, quota=quota or 0)
        if too_large:
            raise InvalidInput("; ".join(too_large))
        if allocation is not None:
            if allocation <= 0:
                raise InvalidInput(f"allocation must be positive, not {rupiah(allocation)}")
            if allocation < used:
                raise OverBudget(
                    f"cannot amend the allocation of {self.code} to {rupiah(allocation)}: "
                    f"{rupiah(used)} is already committed ({rupiah(self.committed.total)}) "
                    f"and paid ({rupiah(self.paid_total.total)}); the lowest possible "
                    f"allocation is {rupiah(used)}"
                )
        if quota is not None:
            if quota <= 0:
                raise InvalidInput(f"quota must be positive, not {quota}")
            if quota < self.enrolled:
                raise OverQuota(
                    f"cannot amend the quota of {self.code} to {count(quota)}: "
                    f"{counted(self.enrolled, 'worker')} "
                    f"{'is' if self.enrolled == 1 else 'are'} enrolled; the lowest possible "
                    f"quota is {count(self.enrolled)}"
                )
        if allocation is not None and allocation != self.allocation:
            self._allocation_amended(
                allocation=allocation, previous=self.allocation, reason=reason, actor=actor
            )
        if quota is not None and quota != self.quota:
            self._quota_amended(quota=quota, previous=self.quota, reason=reason, actor=actor)

    class AllocationAmended(Aggregate.Event):
        allocation: int
        previous: int
        reason: str
        actor: str

    @event(AllocationAmended)
    def _allocation_amended(self, allocation: int, previous: int, reason: str, actor: str) -> None:
        self.allocation = allocation

    class QuotaAmended(Aggregate.Event):
        quota: int
        previous: int
        reason: str
        actor: str

    @event(QuotaAmended)
    def _quota_amended(self, quota: int, previous: int, reason: str, actor: str) -> None:
        self.quota = quota

    # -- enrolment -----------------------------------------------------------------------

    def enrol(
        self, workers: Sequence[Worker], *, start: Month, decree: str | None, actor: str
    ) -> None:
        """Enrol all of these workers from `start` to the end of the period, or none of them.

        A mayoral decree lists the recipients, so a batch is all-or-nothing: any worker who
        cannot be enrolled, or a batch the money or the places cannot carry, refuses it whole.
        """
        self.slot(start)
        if decree is not None:
            decree = normal_reference("decree", decree)
        if not workers:
            raise InvalidInput("no workers to enrol")
        ids = [w.id for w in workers]
        if len(set(ids)) != len(ids):
            raise InvalidInput("the same worker is listed twice in one enrolment")
        problems = [p for p in (w.enrolment_problem(self, start) for w in workers) if p]
        if problems:
            shown = "; ".join(problems[:20])
            more = f" (and {count(len(problems) - 20)} more)" if len(problems) > 20 else ""
            raise RuleViolation(
                f"{count(len(problems))} of {counted(len(workers), 'worker')} cannot be "
                "enrolled "
                f"in {self.code}: {shown}{more}; nobody was enrolled"
            )
        self._check_fits(len(workers), start)
        cost = self.commitment_for(len(workers), start)
        self._premiums_committed(
            workers=len(workers),
            start=start,
            end=self.end,
            decree=decree,
            jkk=cost.jkk,
            jkm=cost.jkm,
            actor=actor,
        )
        for worker in workers:
            worker._enrolled(
                program_id=self.id, start=start, end=self.end, decree=decree, actor=actor
            )

    def _check_fits(self, workers: int, start: Month) -> None:
        cost = self.commitment_for(workers, start)
        over_quota = workers > self.places_left
        over_budget = cost.total > self.available
        if not (over_quota or over_budget):
            return
        months = self.end - start + 1
        fit = self.capacity(start)
        reasons = []
        if over_budget:
            reasons.append(
                f"they would commit {rupiah(cost.total)} ({counted(months, 'month')} x "
                f"{rupiah(self.premium.total)}) but {rupiah(self.available)} is available "
                f"(allocation {rupiah(self.allocation)}, committed "
                f"{rupiah(self.committed.total)}, paid {rupiah(self.paid_total.total)}): "
                f"{rupiah(cost.total - self.available)} is missing"
            )
        if over_quota:
            reasons.append(
                f"they would need {counted(workers, 'place')} but {count(self.places_left)} "
                f"of the quota of {count(self.quota)} "
                f"{'is' if self.places_left == 1 else 'are'} left"
            )
        error = OverBudget if over_budget else OverQuota
        raise error(
            f"refused: enrolling {counted(workers, 'worker')} in {self.code} from {start} to "
            f"{self.end}: {'; and '.join(reasons)}. {counted(fit, 'worker')} "
            f"{'fits' if fit == 1 else 'fit'} from {start}; "
            "nobody was enrolled"
        )

    class PremiumsCommitted(Aggregate.Event):
        workers: int
        start: Month
        end: Month
        decree: str | None
        jkk: int
        jkm: int
        actor: str

    @event(PremiumsCommitted)
    def _premiums_committed(
        self,
        workers: int,
        start: Month,
        end: Month,
        decree: str | None,
        jkk: int,
        jkm: int,
        actor: str,
    ) -> None:
        self.enrolled += workers
        for i in range(start - self.start, end - self.start + 1):
            self.active[i] += workers
        if decree is not None:
            self.decrees.append(decree)

    # -- ending coverage -----------------------------------------------------------------

    def end_coverage(self, worker: Worker, *, month: Month, reason: str, actor: str) -> None:
        """End a worker's coverage at the end of `month`: release the unpaid months after it,
        and show the paid ones as an overpayment."""
        if reason not in END_REASONS:
            raise InvalidInput(f"reason must be one of {', '.join(END_REASONS)}, not {reason!r}")
        coverage = worker.coverages.get(self.id)
        if coverage is None:
            raise NotFound(f"worker {worker.masked_nik} is not enrolled in {self.code}")
        if coverage.ended is not None:
            raise RuleViolation(
                f"worker {worker.masked_nik}'s coverage in {self.code} already ended in "
                f"{coverage.ended}"
            )
        if month < coverage.start:
            raise RuleViolation(
                f"coverage of {worker.masked_nik} cannot end in {month}, before it starts "
                f"in {coverage.start}"
            )
        self.slot(month)
        after = [month + k for k in range(1, coverage.end - month + 1)]
        paid = sum(1 for m in after if self.paid_for(worker.id, m))
        released = self.premium.times(len(after) - paid)
        overpaid = self.premium.times(paid)
        self._coverage_released(
            worker_id=worker.id,
            last_month=month,
            jkk=released.jkk,
            jkm=released.jkm,
            overpaid_jkk=overpaid.jkk,
            overpaid_jkm=overpaid.jkm,
            reason=reason,
            actor=actor,
        )
        worker._coverage_ended(program_id=self.id, month=month, reason=reason, actor=actor)

    class CoverageReleased(Aggregate.Event):
        worker_id: UUID
        last_month: Month
        jkk: int
        jkm: int
        overpaid_jkk: int
        overpaid_jkm: int
        reason: str
        actor: str

    @event(CoverageReleased)
    def _coverage_released(
        self,
        worker_id: UUID,
        last_month: Month,
        jkk: int,
        jkm: int,
        overpaid_jkk: int,
        overpaid_jkm: int,
        reason: str,
        actor: str,
    ) -> None:
        self.enrolled -= 1
        for i in range(last_month - self.start + 1, self.months):
            self.active[i] -= 1
        self._no_longer_covered(worker_id, last_month + 1, self.end)
        if overpaid_jkk or overpaid_jkm:
            self.ended_after_payment[worker_id] = last_month

    # -- payments ------------------------------------------------------------------------

    def pay(
        self, *, month: Month, sp2d: str, amount: int | None, actor: str,
        invoice: str | None = None,
    ) -> Premium:
        """Pay BPJS's bill of a month for every covered participant not yet paid for it; with
        the `invoice` reconciled for the month, for the participants it agreed."""
        if not sp2d.strip():
            raise InvalidInput("a payment needs its SP2D number")
        sp2d = normal_reference("sp2d", sp2d)
        if amount is not None and amount <= 0:
            raise InvalidInput(f"amount must be positive, not {rupiah(amount)}")
        too_much = None if amount is None else amount_problem("amount", amount)
        if too_much:
            raise InvalidInput(too_much)
        unpaid, bill = self.bill(month)
        if unpaid <= 0:
            i = self.slot(month)
            sp2ds = self.live_payments(month)
            already = f" (SP2D {', '.join(sp2ds)})" if sp2ds else ""
            raise RuleViolation(
                f"nothing to pay for {month} in {self.code}: {count(self.active[i])} "
                f"participants covered, {count(self.paid[i])} already paid{already}"
            )
        left_out: set[UUID] = set()
        if invoice is not None:
            self._agreed(month, invoice)
            unpaid, left_out = self.agreed_payment(month)
            if unpaid <= 0:
                raise RuleViolation(
                    f"the invoice reconciled for {month} agrees only participants already paid "
                    "for: nothing to pay"
                )
            bill = self.premium.times(unpaid)
        if amount is not None and amount != bill.total:
            raise RuleViolation(
                f"the bill for {month} is {rupiah(bill.total)} ({count(unpaid)} participants x "
                f"{rupiah(self.premium.total)}), not {rupiah(amount)}; nothing was paid"
            )
        self._premium_paid(
            month=month, sp2d=sp2d, participants=unpaid, jkk=bill.jkk, jkm=bill.jkm, actor=actor
        )
        if invoice is not None:
            self._invoice_paid(month=month, sp2d=sp2d, invoice=invoice, actor=actor,
                               left_out=sorted(left_out) or None)
        return bill

    def bill(self, month: Month) -> tuple[int, Premium]:
        """The bill of a month: its participants covered and not yet paid for, and their
        premium at the program's rates. A payment of the month pays exactly this: nothing when
        it is 0 (a month is never paid twice)."""
        unpaid = self._unpaid(self.slot(month))
        return unpaid, self.premium.times(unpaid)

    def agreed_payment(self, month: Month) -> tuple[int, set[UUID]]:
        """What paying the month as the invoice reconciled last for it agreed pays: the
        participants, and the covered workers it leaves unpaid afterwards, by name.

        Those already left out and now agreed are paid; so are counted participants waiting
        for payment, as many as the invoice agreed besides. A month with no payment standing
        leaves unpaid every covered worker the invoice did not agree; otherwise those left out
        before stay so unless agreed now.

        Only agreed workers still covered in the month when it is paid count: an enrolment
        annulled, or a coverage ended before the month, after the reconciliation leaves no
        premium owed for that worker's month (Perpres 109/2013: the premium is owed for a
        participant), so the payment does not pay it, and he is not left out either.
        """
        i = self.slot(month)
        reconciled = self.reconciled.get(month)
        agreed = 0 if reconciled is None else reconciled[1]
        not_agreed = self.reconciled_left_out.get(month, set())
        named = self.reconciled_agreed.get(month)
        if named is not None:
            agreed = len(named)
        elif not_agreed:
            # Not known by name: no more of them can be covered than the covered workers the
            # invoice did not leave out.
            agreed = min(agreed, max(0, self.active[i] - len(not_agreed)))
        left = self.left_out.get(i, set())
        now_agreed = len(left - not_agreed)
        waiting = max(0, self.active[i] - len(left) - self.paid[i])
        participants = now_agreed + min(waiting, max(0, agreed - now_agreed))
        after = set(not_agreed) if self.paid[i] <= 0 else left & not_agreed
        return participants, after

    def _agreed(self, month: Month, invoice: str) -> int:
        """The participants the invoice reconciled for `month` agreed; refuse another one."""
        reconciled = self.reconciled.get(month)
        if reconciled is None:
            raise RuleViolation(
                f"no invoice of {month} is reconciled in {self.code}: run `jamsos premiums "
                "reconcile` with it first; nothing was paid"
            )
        digest, agreed = reconciled
        if digest != invoice:
            raise RuleViolation(
                f"this invoice (sha256 {invoice[:12]}) is not the one reconciled last for "
                f"{month} in {self.code} (sha256 {digest[:12]}): reconcile it first; nothing "
                "was paid"
            )
        if agreed <= 0:
            raise RuleViolation(
                f"the invoice reconciled for {month} agreed no participant: nothing to pay"
            )
        return agreed

    class InvoicePaid(Aggregate.Event):
        month: Month
        sp2d: str
        invoice: str
        actor: str
        # The covered workers the payment left unpaid (`agreed_payment`); absent from events
        # recorded before it was: nobody is known by name, the month's counts say it all.
        left_out: list[UUID] | None = None

    @event(InvoicePaid)
    def _invoice_paid(
        self, month: Month, sp2d: str, invoice: str, actor: str,
        left_out: list[UUID] | None = None,
    ) -> None:
        i = month - self.start
        if left_out:
            self.left_out[i] = set(left_out)
        else:
            self.left_out.pop(i, None)
        # Whom this payment did not pay for, by its SP2D: a refusal names only the payments
        # that paid for a worker (`annul_enrolment`).
        self.left_out_under[reference_key(sp2d)] = set(left_out or ())

    def _no_longer_covered(self, worker_id: UUID, first: Month, last: Month) -> None:
        """A worker whose coverage of these months ends is left out of their payment no more."""
        for k in range(max(0, first - self.start), min(self.months, last - self.start + 1)):
            self.left_out.get(k, set()).discard(worker_id)
            self.reconciled_left_out.get(self.start + k, set()).discard(worker_id)
            (self.reconciled_agreed.get(self.start + k) or set()).discard(worker_id)

    # -- BPJS's invoice, reconciled before it is paid ------------------------------------

    def record_reconciliation(self, result: Reconciliation, *, invoice: str, actor: str) -> None:
        """Record that the invoice (its SHA-256) was set against the month's participants,
        and what was agreed: the payment of the month names it and pays that."""
        self.slot(result.month)
        counts = result.counts()
        agreed = result.agreed_amount
        self._invoice_reconciled(
            month=result.month, invoice=invoice, lines=result.lines,
            billed_jkk=result.billed.jkk, billed_jkm=result.billed.jkm,
            agreed=len(result.agreed), agreed_jkk=agreed.jkk, agreed_jkm=agreed.jkm,
            differences=sum(counts.values()), actor=actor,
            left_out=list(result.left_out) or None, agreed_workers=list(result.agreed),
        )

    class InvoiceReconciled(Aggregate.Event):
        month: Month
        invoice: str
        lines: int
        billed_jkk: int
        billed_jkm: int
        agreed: int
        agreed_jkk: int
        agreed_jkm: int
        differences: int
        actor: str
        # The covered workers it did not agree; absent from events recorded before it was.
        left_out: list[UUID] | None = None
        # The workers it agreed, by name; absent from events recorded before it was.
        agreed_workers: list[UUID] | None = None

    @event(InvoiceReconciled)
    def _invoice_reconciled(
        self, month: Month, invoice: str, lines: int, billed_jkk: int, billed_jkm: int,
        agreed: int, agreed_jkk: int, agreed_jkm: int, differences: int, actor: str,
        left_out: list[UUID] | None = None, agreed_workers: list[UUID] | None = None,
    ) -> None:
        self.reconciled[month] = (invoice, agreed)
        self.reconciled_left_out[month] = set(left_out or ())
        self.reconciled_agreed[month] = None if agreed_workers is None else set(agreed_workers)

    def recoveries(self) -> dict[UUID, Premium]:
        """Premiums paid for months after a worker's coverage ended, by worker: to recover
        from BPJS (or offset). Each month's overpaid participants (paid beyond those covered)
        are put to the workers who ended before it, in the order they ended, so the amounts
        add up to the books' overpayment, and a month whose payment was reversed or offset
        by a later enrolment holds none."""
        left = [self._overpaid(i) for i in range(self.months)]
        found: dict[UUID, Premium] = {}
        for wid, last in self.ended_after_payment.items():
            months = 0
            for i in range(last - self.start + 1, self.months):
                if left[i] > 0:
                    left[i] -= 1
                    months += 1
            if months:
                found[wid] = self.premium.times(months)
        return found

    def reference_used(self, kind: str, value: str) -> str | None:
        """The decree or SP2D of this program that reads as `value`, as it was recorded, or
        None: references recorded before they were normalised have ids of their own, so they
        are also compared here, as people read them."""
        key = reference_key(value)
        used = self.decrees if kind == "decree" else [sp2d for _, sp2d in self.payments]
        return next((u for u in used if reference_key(u) == key), None)

    def unpaid_before(self, month: Month) -> list[Month]:
        """The months of the period before `month` with covered participants not yet paid
        for. Paying a month before them is allowed (bills are paid as they are reconciled),
        but each of them keeps counting towards BPJS's three months unpaid."""
        last = min(month, self.end + 1) - self.start
        return [self.start + i for i in range(max(0, last))
                if self._unpaid(i) > 0]

    class PremiumPaid(Aggregate.Event):
        month: Month
        sp2d: str
        participants: int
        jkk: int
        jkm: int
        actor: str

    @event(PremiumPaid)
    def _premium_paid(
        self, month: Month, sp2d: str, participants: int, jkk: int, jkm: int, actor: str
    ) -> None:
        self.paid[month - self.start] += participants
        # Paid in full, unless the invoice paid next says whom it left out.
        self.left_out.pop(month - self.start, None)
        self.payments.append((month, sp2d))
        self.paid_under[reference_key(sp2d)] = (month, participants)

    # -- reversals (a new event, never a deletion) ---------------------------------------

    def reverse_payment(self, *, sp2d: str, reason: str, actor: str) -> tuple[Month, Premium]:
        """Reverse a payment recorded in error: its month becomes unpaid again (and payable
        under a new SP2D), its money committed again. Returns the month and what was reversed.
        """
        if not sp2d.strip():
            raise InvalidInput("a reversal needs the SP2D of the payment it reverses")
        _reason_problem(reason, "a reversal needs a reason (the letter or finding)")
        sp2d = normal_reference("sp2d", sp2d)
        recorded = self.reference_used("sp2d", sp2d)
        if recorded is None:
            live = [ref for _, ref in self.payments if reference_key(ref) not in self.reversed]
            known = f"; its payments: SP2D {', '.join(live)}" if live else "; it has no payments"
            raise NotFound(
                f"no payment of {self.code} was made under SP2D {sp2d}{known}; nothing was "
                "reversed"
            )
        key = reference_key(recorded)
        if key in self.reversed:
            raise RuleViolation(
                f"the payment under SP2D {recorded} in {self.code} is already reversed; "
                "nothing was reversed"
            )
        month, participants = self.paid_under[key]
        amount = self.premium.times(participants)
        self._payment_reversed(
            month=month, sp2d=recorded, participants=participants, jkk=amount.jkk,
            jkm=amount.jkm, reason=reason.strip(), actor=actor,
        )
        return month, amount

    class PaymentReversed(Aggregate.Event):
        month: Month
        sp2d: str
        participants: int
        jkk: int
        jkm: int
        reason: str
        actor: str

    @event(PaymentReversed)
    def _payment_reversed(
        self, month: Month, sp2d: str, participants: int, jkk: int, jkm: int, reason: str,
        actor: str,
    ) -> None:
        self.paid[month - self.start] -= participants
        self.reversed.add(reference_key(sp2d))

    def payment_months(self) -> list[Month]:
        """The months paid at least once, in order (a reversed payment's month included)."""
        return sorted({m for m, _ in self.payments})

    def live_payments(self, month: Month) -> list[str]:
        """The SP2Ds of a month's payments that stand (not reversed)."""
        return [ref for m, ref in self.payments
                if m == month and reference_key(ref) not in self.reversed]

    def annul_enrolment(self, worker: Worker, *, reason: str, actor: str) -> Premium:
        """Annul an enrolment recorded in error, before its first paid month: its place and the
        commitment of its months are released, and the worker may be enrolled again.

        A month counts as paid for the worker as `paid_for` says. A coverage already ended, or
        with a claim, is not annulled.
        """
        _reason_problem(reason, "an annulment needs a reason (the decree or letter)")
        coverage = worker.coverages.get(self.id)
        if coverage is None:
            raise NotFound(f"worker {worker.masked_nik} is not enrolled in {self.code}")
        refused = f"cannot annul the enrolment of {worker.masked_nik} in {self.code}"
        if coverage.ended is not None:
            raise RuleViolation(
                f"{refused}: its coverage already ended in {coverage.ended}; nothing was annulled"
            )
        claims = [c["reference"] for c in worker.claims if c["program_id"] == self.id]
        if claims:
            raise RuleViolation(
                f"{refused}: claim {', '.join(claims)} was filed under it; nothing was annulled"
            )
        for month in (coverage.start + i for i in range(coverage.last - coverage.start + 1)):
            i = self.slot(month)
            if self.paid_for(worker.id, month):
                # Only the payments that paid for this worker: not one under an invoice that
                # left them out (`InvoicePaid.left_out`, kept by SP2D).
                sp2ds = ", ".join(
                    ref for ref in self.live_payments(month)
                    if worker.id not in self.left_out_under.get(reference_key(ref), ())) or "-"
                raise RuleViolation(
                    f"{refused}: {month}, covered from {coverage.start}, is paid "
                    f"({count(self.paid[i])} of {count(self.active[i])} participants, SP2D "
                    f"{sp2ds}); an enrolment is annulled only before its first paid month: end "
                    f"the coverage instead (`jamsos end`), or reverse the payment first; "
                    "nothing was annulled"
                )
        first, stop = coverage.start - self.start, coverage.last - self.start + 1
        released = self.premium.times(sum(
            1 if worker.id in self.left_out.get(i, ()) else self._unpaid(i) - self._unpaid(i, -1)
            for i in range(first, stop)
        ))
        self._enrolment_annulled(
            worker_id=worker.id, start=coverage.start, last_month=coverage.last,
            jkk=released.jkk, jkm=released.jkm, reason=reason.strip(), actor=actor,
        )
        worker._annulled(program_id=self.id, reason=reason.strip(), actor=actor)
        return released

    class EnrolmentAnnulled(Aggregate.Event):
        worker_id: UUID
        start: Month
        last_month: Month
        jkk: int
        jkm: int
        reason: str
        actor: str

    @event(EnrolmentAnnulled)
    def _enrolment_annulled(
        self, worker_id: UUID, start: Month, last_month: Month, jkk: int, jkm: int, reason: str,
        actor: str,
    ) -> None:
        self.enrolled -= 1
        for i in range(start - self.start, last_month - self.start + 1):
            self.active[i] -= 1
        self._no_longer_covered(worker_id, start, last_month)


def _registered_fields(registration: Registration) -> dict[str, Any]:
    """A registration's fields as recorded, once it passes every check (else InvalidInput)."""
    problems = registration.problems()
    if problems:
        raise InvalidInput("; ".join(f"{field}: {reason}" for field, reason in problems))
    return {field: _normal_field(registration, field) for field in REGISTRATION_FIELDS}


def _normal_field(registration: Registration, field: str) -> Any:
    """A field of a registration as the ledger records it: text without spaces around it, the
    kecamatan by its official name."""
    value = getattr(registration, field)
    if field == "kecamatan":
        return kecamatan_name(value) or value
    if field in TEXT_FIELDS:
        return value.strip()
    return value


if TYPE_CHECKING:
    # A worker holds its registration's fields, set by its `Registered` event: the type checker
    # reads their types where they are written, in `RegistrationFields`.
    _HeldRegistration = RegistrationFields
else:
    _HeldRegistration = object


class Worker(Aggregate, _HeldRegistration):
    """A registered worker: one per NIK, ever; ranked, enrolled, ended, claiming."""

    @staticmethod
    def create_id(nik: str) -> UUID:
        return worker_id(nik)

    @classmethod
    def register(cls, registration: Registration, *, actor: str) -> Worker:
        """Register a worker whose registration passes every check."""
        return cls._create(
            cls.Registered, id=worker_id(registration.nik),
            **_registered_fields(registration), actor=actor,
        )

    @classmethod
    def registered_state(
        cls, registration: Registration, *, actor: str, timestamp: datetime
    ) -> dict[str, Any]:
        """The state of the event `register` records, without its originator id and version,
        in the event's own order (the library's fields, the registration's, the actor): what
        the library's mapper encodes, the same checks applied.

        An import of hundreds of thousands of registrations reads none of the workers back, so
        it encodes this straight away, in several processes at once: building each aggregate
        and its event only to encode the event would be most of the import's work. The events
        of one import batch share the moment of their transaction.
        """
        return {
            "timestamp": timestamp,
            "originator_topic": _WORKER_TOPIC,
            **_registered_fields(registration),
            "actor": actor,
        }

    class Registered(RegistrationFields, Aggregate.Created):
        """A worker registered: the registration's fields as recorded, and who recorded it."""

        actor: str

        def apply(self, aggregate: Any) -> None:
            """The worker holds the registration's fields (after `__init__`, as replayed)."""
            for field in REGISTRATION_FIELDS:
                setattr(aggregate, field, getattr(self, field))

    @event(Registered)
    def __init__(self, *, actor: str) -> None:
        # The registration's fields are set by the event (`Registered.apply`).
        self.rank: int | None = None
        self.tier: int | None = None
        self.ruleset: str | None = None
        # The DTSEN release of the decile (None: as registered); that of the decile the rank
        # used, and the registration's position that broke its ties (None: not recorded).
        self.decile_release: str | None = None
        self.rank_release: str | None = None
        self.rank_position: int | None = None
        self.coverages: dict[UUID, Coverage] = {}
        self.claims: list[dict[str, Any]] = []
        self.kpj: str | None = None  # BPJS's participant number, once an invoice gives it
        # The version of the event that set each field's current value: a correction names it.
        self.set_by: dict[str, int] = dict.fromkeys(CORRECTABLE, 1)

    @property
    def masked_nik(self) -> str:
        return mask_nik(self.nik)

    @property
    def registration(self) -> Registration:
        """What the ledger holds of the worker's registration now, corrections applied."""
        return Registration(**{f: getattr(self, f) for f in REGISTRATION_FIELDS})

    # -- corrections ---------------------------------------------------------------------

    def correct(
        self, *, field: str, value: str, reason: str, actor: str, release: str | None = None
    ) -> None:
        """Correct a registration field, e.g. a DTSEN decile updated by the quarterly release.

        Nothing is edited: the correction is a new event naming the value it replaces and the
        event that recorded it. A changed decile takes effect on ranks at the next
        prioritisation. `release`: the DTSEN release a decile comes from (`2026-Q2`), kept
        with the worker and with its next rank.
        """
        if field not in CORRECTABLE:
            raise InvalidInput(
                f"field must be one of {', '.join(CORRECTABLE)}, not {field!r} (NIK, birth date "
                "and sex identify the person: register a wrong one anew)"
            )
        _reason_problem(reason, "a correction needs a reason (the letter, DTSEN release...)")
        typed: str | int = value
        if field == "decile":
            text = value.strip()
            digits = text.isascii() and text.isdigit() and len(text) <= 2
            if not digits or int(text) not in DECILES:
                raise InvalidInput(f"DTSEN decile must be 1-10, not {value!r}")
            typed = int(text)
        elif field != "kecamatan":
            typed = value.strip()
        # The registration as corrected, checked as an imported one is: the same rules, the
        # same words (its identity fields are not corrected, so only this field is asked).
        fields: dict[str, Any] = {field: typed}
        corrected = dataclasses.replace(self.registration, **fields)
        problems = [why for f, why in corrected.problems() if f == field]
        if field in ("kelurahan", "occupation") and not str(typed):
            problems.append(f"{field} cannot be empty")
        if problems:
            raise InvalidInput("; ".join(problems))
        new: str | int = _normal_field(corrected, field)
        previous = getattr(self, field)
        if previous == new:
            raise RuleViolation(
                f"{field} of {self.masked_nik} is already {new!r}: nothing to correct"
            )
        if release is not None and field != "decile":
            raise InvalidInput(f"a DTSEN release names deciles, not {field}")
        self._corrected(
            field=field,
            previous=previous,
            value=new,
            corrects=self.set_by[field],
            reason=reason,
            actor=actor,
            release=release,
        )

    class Corrected(Aggregate.Event):
        field: str
        previous: str | int
        value: str | int
        corrects: int
        reason: str
        actor: str
        # The DTSEN release of a corrected decile; absent from events recorded before it was.
        release: str | None = None

    @event(Corrected)
    def _corrected(
        self,
        field: str,
        previous: str | int,
        value: str | int,
        corrects: int,
        reason: str,
        actor: str,
        release: str | None = None,
    ) -> None:
        setattr(self, field, value)
        self.set_by[field] = self.version + 1  # this event's version: apply runs before it
        if field == "decile":
            # The rank was derived from the old decile: it stands no more until re-ranked.
            self.rank = self.tier = self.ruleset = None
            self.decile_release = release

    # -- priority ------------------------------------------------------------------------

    def prioritize(
        self, *, ruleset_name: str, rank: int, tier: int, actor: str, position: int | None = None
    ) -> None:
        """Record the worker's rank under a rule set (a re-ranking is a new event), with the
        DTSEN release of the decile it used and the registration's position that broke ties."""
        if rank < 1:
            raise InvalidInput(f"rank must be 1 or more, not {rank}")
        if ruleset(ruleset_name).tier_of(self.decile) != tier:
            raise RuleViolation(
                f"decile {self.decile} is not in tier {tier} of rule set {ruleset_name}"
            )
        if (self.ruleset, self.rank, self.tier, self.rank_release) == (
            ruleset_name, rank, tier, self.decile_release
        ):
            return
        # What calling `_prioritized` does, without the decorator matching arguments to its
        # signature: a prioritisation records one event for each of a city's workers.
        self.trigger_event(
            self.Prioritized,
            ruleset=ruleset_name,
            rank=rank,
            tier=tier,
            decile=self.decile,
            actor=actor,
            release=self.decile_release,
            position=position,
        )

    class Prioritized(Aggregate.Event):
        ruleset: str
        rank: int
        tier: int
        decile: int
        actor: str
        # Absent from events recorded before they were: the DTSEN release of the decile the
        # rank used (None: the decile as registered), and the registration's position in the
        # log, the tie-break within a decile.
        release: str | None = None
        position: int | None = None

    @event(Prioritized)
    def _prioritized(
        self,
        ruleset: str,
        rank: int,
        tier: int,
        decile: int,
        actor: str,
        release: str | None = None,
        position: int | None = None,
    ) -> None:
        self.ruleset = ruleset
        self.rank = rank
        self.tier = tier
        self.rank_release = release
        self.rank_position = position

    # -- enrolment and its end -----------------------------------------------------------

    def enrolment_problem(self, program: Program, start: Month) -> str | None:
        """Why this worker cannot be enrolled in the program from `start`, or None."""
        covered = coverage_problem(
            self.coverages, program.id, program.code, start, program.end, self.masked_nik
        )
        if covered:
            return covered
        return eligibility_problem(
            self.masked_nik, self.decile, self.birth_date, program.ruleset, start
        )

    class Enrolled(Aggregate.Event):
        program_id: UUID
        start: Month
        end: Month
        decree: str | None
        actor: str

    @event(Enrolled)
    def _enrolled(
        self, program_id: UUID, start: Month, end: Month, decree: str | None, actor: str
    ) -> None:
        self.coverages[program_id] = Coverage(start=start, end=end, decree=decree)

    class CoverageEnded(Aggregate.Event):
        program_id: UUID
        month: Month
        reason: str
        actor: str

    @event(CoverageEnded)
    def _coverage_ended(self, program_id: UUID, month: Month, reason: str, actor: str) -> None:
        c = self.coverages[program_id]
        self.coverages[program_id] = Coverage(c.start, c.end, ended=month, decree=c.decree)

    def participant(self, program: Program, month: Month) -> Participant:
        """The worker as a reconciliation of the program's invoice of `month` sees them."""
        coverage = self.coverages.get(program.id)
        covered = coverage is not None and coverage.covers(month)
        if coverage is None:
            said = f"never enrolled in {program.code}"
        elif coverage.ended is not None and coverage.ended < month:
            said = f"coverage in {program.code} ended in {coverage.ended}"
        else:
            said = f"covered in {program.code} from {coverage.start} to {coverage.last}"
        return Participant(worker_id=self.id, nik=self.nik, covered=covered, coverage=said)

    def record_kpj(self, kpj: str, *, actor: str) -> None:
        """Keep BPJS's participant number (KPJ) the invoice gives; a new one is a new event."""
        problem = kpj_problem(kpj)
        if problem:
            raise InvalidInput(problem)
        previous = getattr(self, "kpj", None)
        if previous != kpj:
            self._kpj_recorded(kpj=kpj, previous=previous, actor=actor)

    class KpjRecorded(Aggregate.Event):
        kpj: str
        previous: str | None
        actor: str

    @event(KpjRecorded)
    def _kpj_recorded(self, kpj: str, previous: str | None, actor: str) -> None:
        self.kpj = kpj

    class EnrolmentAnnulled(Aggregate.Event):
        program_id: UUID
        reason: str
        actor: str

    @event(EnrolmentAnnulled)
    def _annulled(self, program_id: UUID, reason: str, actor: str) -> None:
        del self.coverages[program_id]

    # -- claims --------------------------------------------------------------------------

    def covering_program(self, month: Month) -> UUID | None:
        """The program that covers the worker in that month, if any."""
        for pid, coverage in self.coverages.items():
            if coverage.covers(month):
                return pid
        return None

    def file_claim(
        self,
        *,
        scheme: str,
        incident_date: date,
        reference: str,
        actor: str,
        benefit: int | None = None,
    ) -> UUID:
        """Record a JKK or JKM claim; BPJS pays benefits, so the budget is never touched.

        A benefit already known (rupiah BPJS paid) is recorded with it, as `BenefitRecorded`.
        """
        if scheme not in SCHEMES:
            raise InvalidInput(f"scheme must be JKK or JKM, not {scheme!r}")
        if not reference.strip():
            raise InvalidInput("a claim needs its BPJS reference")
        reference = normal_reference("claim", reference)
        _check_benefit(benefit)
        if incident_date.year not in PROGRAM_YEARS:
            raise RuleViolation(
                f"worker {self.masked_nik} was not covered on {incident_date.isoformat()}: no "
                f"program runs outside {PROGRAM_YEARS.start}-{PROGRAM_YEARS.stop - 1}; the claim "
                "was not recorded"
            )
        month = Month.of(incident_date)
        pid = self.covering_program(month)
        if pid is None:
            periods = ", ".join(
                f"{c.start} to {c.last}" for c in self.coverages.values()
            ) or "never enrolled"
            raise RuleViolation(
                f"worker {self.masked_nik} was not covered in {month} (coverage: {periods}); "
                "the claim was not recorded"
            )
        self._claim_filed(
            program_id=pid,
            scheme=scheme,
            incident_date=incident_date,
            reference=reference,
            actor=actor,
        )
        if benefit is not None:
            self._benefit_recorded(reference=reference, amount=benefit, actor=actor)
        return pid

    class ClaimFiled(Aggregate.Event):
        program_id: UUID
        scheme: str
        incident_date: date
        reference: str
        actor: str

    @event(ClaimFiled)
    def _claim_filed(
        self, program_id: UUID, scheme: str, incident_date: date, reference: str, actor: str
    ) -> None:
        self.claims.append(
            {"program_id": program_id, "scheme": scheme, "date": incident_date,
             "reference": reference, "benefit": None}
        )

    def record_benefit(self, *, reference: str, amount: int, actor: str) -> None:
        """Record what BPJS paid on one of this worker's claims (for evaluation, not the budget).

        The amount is the claim's whole benefit as known now: a later record replaces it (a
        JKK claim's benefits grow as treatment and wage replacement are paid).
        """
        _check_benefit(amount)
        reference = normal_reference("claim", reference)
        claim = self.claim(reference)
        if claim is None:
            raise NotFound(f"worker {self.masked_nik} has no claim {reference!r}")
        if claim["benefit"] == amount:
            raise RuleViolation(
                f"claim {reference} already has a benefit of {rupiah(amount)}: nothing to record"
            )
        # Under the reference as the claim recorded it: replaying matches them as written.
        self._benefit_recorded(reference=claim["reference"], amount=amount, actor=actor)

    def claim(self, reference: str) -> dict[str, Any] | None:
        """This worker's claim that reads as `reference` (spaces and case aside), or None."""
        key = reference_key(reference)
        return next((c for c in self.claims if reference_key(c["reference"]) == key), None)

    # A separate event rather than a field of ClaimFiled: benefits are mostly known after the
    # claim is filed (and grow), so this event is needed anyway, and ClaimFiled keeps its stored
    # schema (no class_version, no upcaster) whether or not a benefit was known at filing.
    class BenefitRecorded(Aggregate.Event):
        reference: str
        amount: int
        actor: str

    @event(BenefitRecorded)
    def _benefit_recorded(self, reference: str, amount: int, actor: str) -> None:
        for claim in self.claims:
            if claim["reference"] == reference:
                claim["benefit"] = amount


def _check_benefit(amount: int | None) -> None:
    """Refuse a benefit below zero or above what BPJS pays on one claim (money.MAX_BENEFIT)."""
    problem = None if amount is None else amount_problem("a benefit", amount, limit=MAX_BENEFIT)
    if problem:
        raise InvalidInput(problem)


class Reference(Aggregate):
    """A decree, SP2D or claim reference, used once in the whole ledger.

    Its id is derived from the reference, so the store's unique key refuses a second use even
    when two processes race for it.
    """

    KINDS = ("decree", "sp2d", "claim")

    @staticmethod
    def create_id(kind: str, value: str) -> UUID:
        return reference_id(kind, value)

    class Used(Aggregate.Created):
        kind: str
        value: str
        program_id: UUID | None
        actor: str

    @event(Used)
    def __init__(self, *, kind: str, value: str, program_id: UUID | None, actor: str) -> None:
        self.kind = kind
        self.value = value
        self.program_id = program_id


def duplicate_reference(kind: str, value: str) -> DuplicateReference:
    """The refusal for a reference that was used before."""
    return DuplicateReference(
        f"{REFERENCE_NAMES.get(kind, kind)} {value!r} was already used in this ledger; nothing "
        "was written"
    )


# Stored names are never renamed (`topics`): the domain's aggregates keep the module path the
# domain had when the first ledgers were written.
STORED_TOPIC_MODULE = "jamsos_ledger.domainmodel"
pin_stored_topics(STORED_TOPIC_MODULE, Program, Worker, Reference)

# The aggregate topic stored in every registration: what the library's `_create` would write.
_WORKER_TOPIC = get_topic(Worker)
