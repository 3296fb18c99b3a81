"""Every input file's reader reads anything or refuses it, naming the file: never a traceback.

Hypothesis writes bytes shaped like the files offices hand over (the columns of each kind in
English or Indonesian, commas or semicolons, UTF-8, its byte-order mark, Windows-1252 or
UTF-16, NIKs that a spreadsheet made numbers) and plain noise, and gives them to the
registration reader (by path: the forms other than plain CSV take `office_files`) and to the
deaths and deciles readers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.files.registers_files import DEATHS, DECILES_FILE, read_deaths, read_deciles
from jamsos_ledger.files.registrations import REGISTRATIONS, read_registrations

KINDS = {"registrations": REGISTRATIONS, "deaths": DEATHS, "deciles": DECILES_FILE}
VALUES = st.sampled_from(["3275014203850001", "3.27501E+15", "3,27501E+15",
                          "3275014203850000.0", "2026-01-14", "14/01/2026", "2", "11", "P",
                          "01", "Siti Réhmawati", "", " ", '"', "a;b", "x,y"]) | st.text(max_size=6)


@st.composite
def office_file(draw: st.DrawFn, kind: str) -> bytes:
    names = [n for c in KINDS[kind].columns for n in (c.name, c.indonesian)]
    columns = draw(st.lists(st.sampled_from([*names, "Alamat", ""]), min_size=0, max_size=6))
    delimiter = draw(st.sampled_from([",", ";", ";", "\t"]))
    rows = [delimiter.join(draw(st.lists(VALUES, min_size=0, max_size=len(columns) + 1)))
            for _ in range(draw(st.integers(0, 4)))]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join([delimiter.join(columns), *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    return text.encode(encoding, errors="replace")


READERS = {
    "registrations": read_registrations,
    "deaths": read_deaths,
    "deciles": read_deciles,
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_reader_reads_anything_or_refuses_it_naming_the_file(
    kind: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp(kind)

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
    @given(data=st.binary(max_size=300) | office_file(kind))
    def reads_or_refuses(data: bytes) -> None:
        path = folder / "input.csv"
        path.write_bytes(data)
        try:
            READERS[kind](path)
        except InvalidInput as e:
            assert str(e).startswith(str(path)), str(e)

    reads_or_refuses()


def test_the_fuzzed_forms_are_read(tmp_path: Path) -> None:
    """The strategy can make a good file of each kind: the fuzz reaches past the header."""
    path = tmp_path / "deaths.csv"
    path.write_bytes("\ufeffNIK;Tanggal Meninggal\r\n3275014203850001;2026-01-14\r\n".encode())
    assert [d.nik for d in read_deaths(path)] == ["3275014203850001"]
    path.write_bytes("Desil,nik\n3,3275014203850001\n".encode("cp1252"))
    assert [d.decile for d in read_deciles(path)] == [3]
