"""Event state as msgpack: compact, exact for integer rupiah, and fast to decode in bulk.

msgpack knows ints, strings, bytes, lists and maps; the other types events hold travel as
extension types whose codes are part of the stored format and never change meaning.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgpack
from eventsourcing.persistence import Transcoder

from jamsos_ledger.months import Month

EXT_UUID = 1  # 16 raw bytes
EXT_DATE = 2  # ISO 8601 date
EXT_DATETIME = 3  # ISO 8601 with its UTC offset (the offset is kept, not normalised)
EXT_MONTH = 4  # YYYY-MM
EXT_TUPLE = 5  # a msgpack array, so that tuples come back as tuples


def _default(obj: Any) -> msgpack.ExtType:
    # datetime is a subclass of date: test it first.
    if isinstance(obj, UUID):
        return msgpack.ExtType(EXT_UUID, obj.bytes)
    if isinstance(obj, datetime):
        return msgpack.ExtType(EXT_DATETIME, obj.isoformat().encode())
    if isinstance(obj, date):
        return msgpack.ExtType(EXT_DATE, obj.isoformat().encode())
    if isinstance(obj, Month):
        return msgpack.ExtType(EXT_MONTH, str(obj).encode())
    raise TypeError(f"msgpack transcoder cannot encode {type(obj).__name__}: {obj!r}")


def _ext_hook(code: int, data: bytes) -> Any:
    if code == EXT_UUID:
        return UUID(bytes=data)
    if code == EXT_DATETIME:
        return datetime.fromisoformat(data.decode())
    if code == EXT_DATE:
        return date.fromisoformat(data.decode())
    if code == EXT_MONTH:
        return Month.parse(data.decode())
    if code == EXT_TUPLE:
        return tuple(msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False))
    return msgpack.ExtType(code, data)


def _pack_tuples(obj: Any) -> Any:
    """Tuples would come back as lists; keep them tuples so events compare equal after a trip."""
    if isinstance(obj, tuple):
        return msgpack.ExtType(EXT_TUPLE, msgpack.packb(
            [_pack_tuples(x) for x in obj], default=_default, use_bin_type=True
        ))
    if isinstance(obj, list):
        return [_pack_tuples(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _pack_tuples(v) for k, v in obj.items()}
    return obj


class MsgpackTranscoder(Transcoder):
    """The ledger's transcoder: every event field type round-trips exactly."""

    def encode(self, obj: Any) -> bytes:
        return msgpack.packb(_pack_tuples(obj), default=_default, use_bin_type=True)

    def decode(self, data: bytes) -> Any:
        return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)
