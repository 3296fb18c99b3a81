"""The city whose workers the ledger serves, and its kecamatan."""

from __future__ import annotations

from functools import lru_cache

# Kecamatan of Kota Bekasi (32.75), codes and names per Kepmendagri 300.2.2-2138/2025.
KOTA_BEKASI_KECAMATAN: dict[str, str] = {
    "01": "Bekasi Timur",
    "02": "Bekasi Barat",
    "03": "Bekasi Utara",
    "04": "Bekasi Selatan",
    "05": "Rawalumbu",
    "06": "Medansatria",
    "07": "Bantargebang",
    "08": "Pondokgede",
    "09": "Jatiasih",
    "10": "Jatisampurna",
    "11": "Mustikajaya",
    "12": "Pondokmelati",
}

_BY_NAME = {
    name.casefold().replace(" ", ""): name for name in KOTA_BEKASI_KECAMATAN.values()
}


@lru_cache(maxsize=1024)  # a city's file writes its few kecamatan the same few ways
def kecamatan_name(text: str) -> str | None:
    """The kecamatan's official name from a name or a two-digit code; None if not of the city."""
    key = text.strip()
    if key.isdigit() and len(key) <= 2:
        return KOTA_BEKASI_KECAMATAN.get(key.zfill(2))
    return _BY_NAME.get(key.casefold().replace(" ", ""))
