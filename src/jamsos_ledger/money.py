"""How figures are written for Indonesian readers: Rp 1.999.872.000, 9.920 workers."""

from __future__ import annotations

# The largest amount the ledger takes: Rp 1.000 triliun, more than a year of the national
# budget, so never a city's allocation; larger numbers are typos, and beyond 2**63 no store
# (SQLite, PostgreSQL BIGINT, msgpack) could even hold them.
MAX_RUPIAH = 10**15
# The largest quota: a hundred million workers, a third of Indonesia's population.
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
