"""Who a token speaks for: the one place that turns a principal's name into the principal.

Tokens are bound to a principal by name. Until the ledger keeps enrolled principals with
keys and roles, a principal is its name, checked for being a name; once it does, this
function looks the name up there and refuses one that is not enrolled, and nothing else
changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jamsos_ledger.errors import InvalidInput

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True)
class Principal:
    """Who acts: recorded as the actor of everything written through the service."""

    name: str


def principal_named(name: str) -> Principal:
    """The principal of that name; InvalidInput when it cannot be one."""
    if not _NAME.match(name):
        raise InvalidInput(
            f"principal {name!r}: a name of letters, digits, '.', '_', '@' or '-', "
            "1 to 64 characters, beginning with a letter or digit"
        )
    return Principal(name)
