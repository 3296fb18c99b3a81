"""Event state as msgpack: compact, exact for integer rupiah, and fast to decode in bulk.

msgpack knows ints, strings, bytes, lists and maps; the other types events hold travel as
extension types whose codes are part of the stored format and never change meaning.
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import msgpack
from eventsourcing.persistence import Transcoder

from jamsos_ledger.domain.months import Month

EXT_UUID = 1  # 16 raw bytes
EXT_DATE = 2  # ISO 8601 date
EXT_DATETIME = 3  # ISO 8601 with its UTC offset (the offset is kept, not normalised)
EXT_MONTH = 4  # YYYY-MM
EXT_TUPLE = 5  # a msgpack array, so that tuples come back as tuples


def _default(obj: Any) -> msgpack.ExtType:
    # The packer runs with strict types, so every tuple comes here (a msgpack array would come
    # back as a list), its items packed by the same rules; datetime, a subclass of date, first.
    last = _last_moment
    if obj is last[0]:
        return last[1]
    if isinstance(obj, tuple):
        return msgpack.ExtType(EXT_TUPLE, _packer().pack(list(obj)))
    if isinstance(obj, UUID):
        return msgpack.ExtType(EXT_UUID, obj.bytes)
    if isinstance(obj, datetime):
        return _moment(obj)
    if isinstance(obj, date):
        return _date(obj)
    if isinstance(obj, Month):
        return msgpack.ExtType(EXT_MONTH, str(obj).encode())
    raise TypeError(f"msgpack transcoder cannot encode {type(obj).__name__}: {obj!r}")


# The events of one batch share their moment: its encoding is kept until another comes. By
# identity, not equality: equal moments at different UTC offsets encode differently.
_last_moment: tuple[Any, Any] = (None, None)


def _moment(obj: datetime) -> msgpack.ExtType:
    global _last_moment
    ext = msgpack.ExtType(EXT_DATETIME, obj.isoformat().encode())
    _last_moment = (obj, ext)
    return ext


@lru_cache(maxsize=1 << 16)
def _date(obj: date) -> msgpack.ExtType:
    """Birth dates repeat across a city's workers; a date's encoding is worth keeping."""
    return msgpack.ExtType(EXT_DATE, obj.isoformat().encode())


@lru_cache(maxsize=1 << 12)
def _uuid(data: bytes) -> UUID:
    """Program ids repeat in every enrolment, payment and claim; a UUID is immutable."""
    return UUID(bytes=data)


@lru_cache(maxsize=1 << 12)
def _month(data: bytes) -> Month:
    """A ledger names a few dozen months, twice in every enrolment; a Month is immutable."""
    return Month.parse(data.decode())


def _ext_hook(code: int, data: bytes) -> Any:
    if code == EXT_UUID:
        return _uuid(data)
    if code == EXT_DATETIME:
        return datetime.fromisoformat(data.decode())
    if code == EXT_DATE:
        return date.fromisoformat(data.decode())
    if code == EXT_MONTH:
        return _month(data)
    if code == EXT_TUPLE:
        return tuple(msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False))
    return msgpack.ExtType(code, data)


def _packer() -> msgpack.Packer:
    """A packer that hands every type it does not know exactly to `_default`.

    With `strict_types` a tuple is not silently packed as an array, so no walk over the
    event's state is needed to find them first; subclasses of int, str or dict, which the
    events never hold, are refused by `_default` rather than packed as their base type.
    """
    return msgpack.Packer(default=_default, use_bin_type=True, strict_types=True)


class MsgpackTranscoder(Transcoder):
    """The ledger's transcoder: every event field type round-trips exactly."""

    def __init__(self) -> None:
        self._local = threading.local()  # a packer holds a buffer: one per thread

    def encode(self, obj: Any) -> bytes:
        try:
            packer = self._local.packer
        except AttributeError:
            packer = self._local.packer = _packer()
        return bytes(packer.pack(obj))

    def decode(self, data: bytes) -> Any:
        return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)
