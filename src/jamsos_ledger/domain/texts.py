"""Free text the ledger records (names, addresses, references, reasons): what it may hold.

One check for every way text enters (a registration file, a correction, a command line), so
a value refused by one is refused by all of them, with the same words.
"""

from __future__ import annotations

import unicodedata

# Longer than any name, kelurahan, occupation, reference or reason written by hand: a longer
# value is a pasted file or a broken export, never data to keep.
MAX_TEXT = 200

# Unicode categories that are never part of a name or a reference: control characters (C0,
# DEL and C1 such as U+0085), invisible format characters (zero-width spaces, a stray BOM),
# lone surrogates, private-use characters, and line or paragraph separators. Each would make
# two values that read alike differ, or break a table, a CSV file or a terminal.
_FORBIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def text_problem(value: str, *, limit: int = MAX_TEXT) -> str | None:
    """Why `value` cannot be recorded as text (a forbidden character, too long), or None."""
    if not value.isprintable():  # printable text holds none of them: the common case is fast
        for char in value:
            if unicodedata.category(char) in _FORBIDDEN:
                return f"holds control character 0x{ord(char):02X}"
    if len(value) > limit:
        return f"is {len(value)} characters long; at most {limit} are taken"
    return None


def normal_spaces(value: str) -> str:
    """The text with no spaces around it and runs of spaces inside as one space."""
    return " ".join(value.split())


def initials(name: str) -> str:
    """A name reduced to its initials, as reports and logs show names (UU 27/2022):
    `Siti Aminah` -> `S. A.`"""
    return " ".join(f"{part[0]}." for part in name.split() if part)
