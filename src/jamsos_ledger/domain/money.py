"""How figures are written for Indonesian readers: Rp 1.999.872.000, 9.920 workers."""

from __future__ import annotations

# Every amount and count the ledger records has a bound, checked by the domain before anything
# is written: events are never edited, so a value no store can hold (SQLite INTEGER and
# PostgreSQL BIGINT stop at 2**63 - 1, msgpack at 2**64 - 1) or whose sums overflow would break
# every later report, replay and rebuild for ever. Larger numbers are typos.
#
# The largest allocation, premium rate or payment: Rp 1.000 triliun, more than a year of the
# national budget, so never a city's allocation. Premiums committed and paid never exceed the
# allocation, so every sum of them stays below it.
MAX_RUPIAH = 10**15
# The largest benefit BPJS pays on one claim: Rp 10 miliar. JKM pays Rp 42 juta and JKK's
# death benefit 48 times the declared income (PP 82/2019); JKK's medical care has no ceiling,
# yet no treatment costs a thousandth of this. The claims report sums benefits in 64-bit
# columns: 922 million claims at this bound would still fit, more claims than a ledger holds.
MAX_BENEFIT = 10**10
# The largest quota or number of workers in one command: a hundred million workers, a third of
# Indonesia's population.
MAX_WORKERS = 10**8


def count(n: int) -> str:
    """A whole number with dots between thousands, as Indonesian readers write it."""
    return f"{n:,}".replace(",", ".")


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """A count and its noun, singular for one: `1 claim`, `14.026 rows`."""
    return f"{count(n)} {noun if n == 1 else plural or noun + 's'}"


def rupiah(amount: int) -> str:
    """An amount of rupiah, e.g. `Rp 2.016.000.000` (negative as `-Rp 5.000`)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {count(abs(amount))}"


def amount_problem(
    what: str, amount: int, *, limit: int = MAX_RUPIAH, least: int = 0
) -> str | None:
    """Why an amount of rupiah cannot be recorded (below `least` or above `limit`), or None."""
    if amount < least:
        floor = "negative" if least == 0 else f"below {rupiah(least)}"
        return f"{what} cannot be {floor}: {rupiah(amount)}"
    if amount > limit:
        return f"{what} {rupiah(amount)} is more than the ledger takes ({rupiah(limit)})"
    return None


def workers_problem(what: str, workers: int, *, least: int = 1) -> str | None:
    """Why a number of workers cannot be taken (below `least`, above MAX_WORKERS), or None."""
    if workers < least:
        return f"{what} must be {least} or more, not {workers}"
    if workers > MAX_WORKERS:
        return f"{what} {count(workers)} is more than the ledger takes ({count(MAX_WORKERS)})"
    return None
