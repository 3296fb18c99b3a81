"""A registration file like Disnaker's and Dinsos's extracts, for the demo, the benchmark and tests.

`generate_registrations(path, workers)` writes `workers` rows in the columns `jamsos workers
import` reads (docs/input-files.md): realistic names, birth dates, NIKs agreeing with them,
the kecamatan of Kota Bekasi by name or code, occupations, DTSEN deciles leaning to the poorest,
and by default the kinds of bad rows real audits find. Not part of the installed package: it is
run from the repository (`make demo`, `make bench`), where this folder is put on the path.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from jamsos_ledger.domain.money import count, counted
from jamsos_ledger.domain.regions import KOTA_BEKASI_KECAMATAN

# A few real kelurahan of each kecamatan of Kota Bekasi, by kecamatan code.
KELURAHAN = {
    "01": ["Aren Jaya", "Bekasi Jaya", "Duren Jaya", "Margahayu"],
    "02": ["Bintara", "Bintara Jaya", "Jakasampurna", "Kranji", "Kota Baru"],
    "03": ["Harapan Jaya", "Kaliabang Tengah", "Perwira", "Teluk Pucung", "Marga Mulya"],
    "04": ["Jakamulya", "Jakasetia", "Kayuringin Jaya", "Margajaya", "Pekayon Jaya"],
    "05": ["Bojong Menteng", "Bojong Rawalumbu", "Pengasinan", "Sepanjang Jaya"],
    "06": ["Harapan Mulya", "Kalibaru", "Medan Satria", "Pejuang"],
    "07": ["Bantargebang", "Cikiwul", "Ciketing Udik", "Sumur Batu"],
    "08": ["Jatibening", "Jatibening Baru", "Jaticempaka", "Jatimakmur", "Jatiwaringin"],
    "09": ["Jatiasih", "Jatikramat", "Jatimekar", "Jatiluhur", "Jatisari", "Jatirasa"],
    "10": ["Jatikarya", "Jatiranggon", "Jatiraden", "Jatirangga", "Jatisampurna"],
    "11": ["Cimuning", "Mustikajaya", "Mustikasari", "Padurenan"],
    "12": ["Jatimelati", "Jatirahayu", "Jatimurni", "Jatiwarna"],
}
OCCUPATIONS = [
    ("Pengemudi ojol", 30),
    ("Pedagang kaki lima", 25),
    ("Buruh harian lepas", 20),
    ("Kuli bangunan", 8),
    ("Pemulung", 6),
    ("Tukang parkir", 5),
    ("Asisten rumah tangga", 4),
    ("Penjahit rumahan", 2),
]
SOURCES = [("Disnaker", 55), ("Dinsos", 35), ("Mitra aplikasi ojol", 10)]
# Registered vulnerable workers lean to the poorest deciles; some above 5 are registered too.
DECILE_WEIGHTS = [16, 18, 18, 16, 14, 6, 4, 3, 3, 2]
MEN = ["Agus", "Budi", "Dedi", "Eko", "Hendra", "Iwan", "Joko", "Rudi", "Slamet", "Wahyu",
       "Asep", "Ujang", "Dadang", "Bambang", "Rizki", "Fajar", "Andi", "Yusuf", "Hasan"]
WOMEN = ["Siti", "Sri", "Dewi", "Rina", "Yuni", "Nur", "Wati", "Ani", "Euis", "Iis",
         "Lilis", "Ratna", "Fitri", "Ayu", "Nining", "Dian", "Aisyah", "Maya", "Tuti"]
FAMILY = ["Saputra", "Hidayat", "Nugroho", "Setiawan", "Kurniawan", "Wijaya", "Suryani",
          "Rahmawati", "Lestari", "Hasanah", "Permana", "Gunawan", "Maulana", "Sulastri",
          "Firmansyah", "Pratama", "Susanti", "Handayani", "Ramdani", "Kusnadi"]

COLUMNS = ["nik", "name", "birth_date", "sex", "kecamatan", "kelurahan", "occupation",
           "decile", "source"]


def generate_registrations(
    path: Path,
    workers: int,
    seed: int = 2026,
    *,
    bad_rate: float = 0.03,
    duplicate_rate: float = 0.002,
) -> dict[str, int]:
    """Write a registration file like Disnaker's and Dinsos's extracts; return what it holds.

    By default about 3% of rows carry a bad NIK and 0.2% repeat a NIK, the rates BPK audits
    of similar city-paid insurance found; the benchmark sets both rates to 0 for a file of
    exactly `workers` valid rows. With the default rates the file is the one it always was.
    """
    rnd = random.Random(seed)
    rows: list[dict[str, str]] = []
    serials: dict[str, int] = {}
    bad = duplicates = 0
    for _ in range(workers):
        sex = rnd.choice("LP")
        birth = date(1962, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 43))
        code = rnd.choice(list(KOTA_BEKASI_KECAMATAN))
        # Most NIKs were issued in the city, some elsewhere in West Java (32) or in Jakarta (31).
        issued = rnd.choices(["3275", "3216", "3171", "3201"], weights=[80, 8, 7, 5])[0]
        day = birth.day + (40 if sex == "P" else 0)
        prefix = f"{issued}{rnd.randrange(1, 13):02d}{day:02d}{birth:%m}{birth:%y}"
        serials[prefix] = serials.get(prefix, 0) + 1
        nik = f"{prefix}{serials[prefix]:04d}"
        first = rnd.choice(MEN if sex == "L" else WOMEN)
        row = {
            "nik": nik,
            "name": f"{first} {rnd.choice(FAMILY)}",
            "birth_date": birth.isoformat(),
            "sex": sex,
            "kecamatan": KOTA_BEKASI_KECAMATAN[code] if rnd.random() < 0.7 else code,
            "kelurahan": rnd.choice(KELURAHAN[code]),
            "occupation": _weighted(rnd, OCCUPATIONS),
            "decile": str(rnd.choices(range(1, 11), weights=DECILE_WEIGHTS)[0]),
            "source": _weighted(rnd, SOURCES),
        }
        if rnd.random() < bad_rate:
            bad += 1
            row["nik"] = _spoil(rnd, row["nik"])
        rows.append(row)
        if rnd.random() < duplicate_rate:
            duplicates += 1
            rows.append(dict(row, source="Dinsos"))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return {"rows": len(rows), "bad_nik": bad, "duplicates": duplicates}


def file_summary(name: str, held: dict[str, int]) -> str:
    """What a generated registration file holds, as the demo says it."""
    return (f"Registration file: {name}, {counted(held['rows'], 'row')} "
            f"({count(held['bad_nik'])} with a bad NIK, "
            f"{counted(held['duplicates'], 'repeated NIK')})")


def _weighted(rnd: random.Random, choices: list[tuple[str, int]]) -> str:
    return rnd.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _spoil(rnd: random.Random, nik: str) -> str:
    """A NIK as data entry gets it wrong: a digit lost, a letter O for a zero, a date typo."""
    kind = rnd.randrange(3)
    if kind == 0:
        return nik[:-1]
    if kind == 1:
        return nik.replace("0", "O", 1) if "0" in nik else nik[:-1]
    return nik[:8] + "13" + nik[10:]  # month 13
