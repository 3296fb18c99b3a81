"""How figures are written for Indonesian readers: Rp 1.999.872.000, 9.920 workers."""

from __future__ import annotations


def count(n: int) -> str:
    """A whole number with dots between thousands, as Indonesian readers write it."""
    return f"{n:,}".replace(",", ".")


def rupiah(amount: int) -> str:
    """An amount of rupiah, e.g. `Rp 2.016.000.000` (negative as `-Rp 5.000`)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {count(abs(amount))}"
