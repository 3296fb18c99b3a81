"""Reading registration files: every bad row found, with its line (the header is line 1) and field.

The rows are Disnaker's and Dinsos's extracts of Kota Bekasi workers; the NIKs are built the way
Dukcapil builds them (32 75 kk DDMMYY ssss, women's day + 40).
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from jamsos_ledger.files.registrations import (
    COLUMNS,
    Problem,
    RegistrationFileError,
    read_registrations,
    write_rejects,
)

HEADER = ",".join(COLUMNS)


def nik(serial: int, birth: date, sex: str = "L", kecamatan: int = 1) -> str:
    day = birth.day + (40 if sex == "P" else 0)
    return f"3275{kecamatan:02d}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def row(
    serial: int,
    *,
    birth: date = date(1985, 3, 12),
    sex: str = "L",
    name: str | None = None,
    kecamatan: str = "01",
    decile: str = "2",
    source: str = "Disnaker",
    nik_text: str | None = None,
    birth_text: str | None = None,
) -> str:
    fields = [
        nik_text if nik_text is not None else nik(serial, birth, sex.upper()),
        name if name is not None else f"Pekerja {serial}",
        birth_text if birth_text is not None else birth.isoformat(),
        sex,
        kecamatan,
        "Margahayu",
        "ojol",
        decile,
        source,
    ]
    return ",".join(fields)


def write(tmp_path: Path, *lines: str, name: str = "rows.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def problems_of(path: Path) -> list[tuple[int, str]]:
    return [(p.line, p.field) for p in read_registrations(path).problems]


def test_good_rows_become_typed_registrations(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        row(1),
        row(2, sex="P", birth=date(1990, 7, 1), kecamatan="Bekasi Timur", decile=" 5 "),
        row(3, sex="p", birth=date(1979, 12, 31)),  # sex in lower case is read as P
    )
    found = read_registrations(path)
    assert found.rejected == []
    assert [r.nik for r in found.accepted] == [
        "3275011203850001",
        "3275014107900002",
        "3275017112790003",
    ]
    second = found.accepted[1]
    assert (second.birth_date, second.sex, second.kecamatan, second.decile) == (
        date(1990, 7, 1),
        "P",
        "Bekasi Timur",
        5,
    )
    assert found.accepted[2].sex == "P"


@pytest.mark.parametrize(
    ("bad_row", "field", "words"),
    [
        (row(1, nik_text="32750112038"), "nik", "16 digits"),
        (row(1, nik_text="3275011203850000"), "nik", "serial 0000"),
        (row(1, nik_text=nik(1, date(1985, 3, 13))), "nik", "disagrees with birth date"),
        (row(1, nik_text=nik(1, date(1985, 3, 12), "P")), "nik", "says sex"),
        (row(1, name="  "), "name", "empty"),
        (row(1, kecamatan="Cikarang"), "kecamatan", "not a kecamatan"),
        (row(1, decile="11"), "decile", "1-10"),
        (row(1, decile="dua"), "decile", "whole number"),
        (row(1, decile="2.0"), "decile", "whole number"),
        (row(1, birth_text="12/03/1985"), "birth_date", "YYYY-MM-DD"),
        (row(1, birth_text="1985-02-30"), "birth_date", "no such date"),
        (row(1, source=""), "source", "empty"),
        (row(1) + ",extra", "row", "10 fields"),
        (",".join(row(1).split(",")[:7]), "decile", "missing"),
    ],
)
def test_each_kind_of_bad_row_names_its_line_and_field(
    tmp_path: Path, bad_row: str, field: str, words: str
) -> None:
    path = write(tmp_path, row(7), bad_row, row(8))
    found = read_registrations(path)
    assert [r.nik for r in found.accepted] == [nik(7, date(1985, 3, 12)), nik(8, date(1985, 3, 12))]
    (rejection,) = found.rejected
    assert rejection.line == 3
    assert any(p.field == field and words in p.reason for p in rejection.problems), (
        rejection.problems
    )


def test_every_problem_of_every_row_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        row(1),
        row(2, decile="0", kecamatan="99"),
        row(3),
        row(4, birth_text="kemarin", decile="x"),
    )
    assert problems_of(path) == [
        (3, "kecamatan"),
        (3, "decile"),
        (5, "birth_date"),
        (5, "decile"),
    ]


def test_an_unreadable_birth_date_does_not_also_blame_the_nik(tmp_path: Path) -> None:
    path = write(tmp_path, row(1, birth_text="1985-13-12"))
    assert problems_of(path) == [(2, "birth_date")]


def test_a_nik_twice_in_one_file_refuses_the_later_row_naming_the_earlier_line(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, row(1), row(2), row(1, name="Pekerja Satu Lagi"))
    found = read_registrations(path)
    assert len(found.accepted) == 2
    (problem,) = found.problems
    assert (problem.line, problem.field) == (4, "nik")
    assert "already on line 2" in problem.reason


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    quoted = row(2).replace("Pekerja 2", '"Pekerja\ndua"')
    path = write(tmp_path, row(1), "", quoted, row(3, decile="12"))
    found = read_registrations(path)
    assert len(found.accepted) == 1
    # A line break is a control character: no name holds one, however it is quoted.
    assert problems_of(path) == [(4, "name"), (6, "decile")]
    assert found.problems[0].reason == "name holds control character 0x0A"


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + f"{HEADER}\r\n{row(1)}\r\n".encode())
    found = read_registrations(path)
    assert [r.nik for r in found.accepted] == [nik(1, date(1985, 3, 12))]


def test_a_windows_1252_file_as_excel_saves_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    text = f"{HEADER}\r\n{row(1)}\r\n{row(2, name='Pekerja Müller')}\r\n{row(3)}\r\n"
    path.write_bytes(text.encode("cp1252"))
    found = read_registrations(path)
    assert not found.rejected
    assert [r.name for r in found.accepted] == ["Pekerja 1", "Pekerja Müller", "Pekerja 3"]


def test_a_file_mixing_utf8_and_another_encoding_is_refused_with_both_lines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(f"{HEADER}\n{row(1, name='Pekerja Söze')}\n".encode()
                     + f"{row(2, name='Pekerja Müller')}\n".encode("cp1252"))
    with pytest.raises(RegistrationFileError) as refused:
        read_registrations(path)
    assert "mixes encodings: line 2 is UTF-8 text, line 3 is not (byte 0xFC on line 3)" in str(
        refused.value)


def test_a_line_mixing_utf8_and_another_encoding_is_named_once(tmp_path: Path) -> None:
    """Text pasted into a UTF-8 line from a Windows-1252 file: one line holds both, and the
    message says so (not "line 2 is UTF-8 text, line 2 is not")."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(f"{HEADER}\n".encode() + row(1, name="Pekerja Söze").encode()
                     + " Müller".encode("cp1252") + f"\n{row(2)}\n".encode())
    with pytest.raises(RegistrationFileError) as refused:
        read_registrations(path)
    said = str(refused.value)
    assert "line 2 holds both UTF-8 text and text that is not (byte 0xFC on line 2)" in said
    assert "line 2 is UTF-8 text, line 2 is not" not in said


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "is empty"),
        (b"\n\n", "line 1 is blank"),
        (HEADER.encode() + b"\n", "no rows"),
        (HEADER.replace(",", "|").encode() + b"\n", "'|' (pipe)"),
        (HEADER.replace(",", "\t").encode() + b"\n", "a tab"),
        (HEADER.replace(",decile", "").encode() + b"\n", "missing column(s) decile"),
        ((HEADER + ",telepon").encode() + b"\n", "unknown column(s) 'telepon'"),
        (HEADER.encode("utf-16") + b"\n", "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_as_registrations_is_refused_whole(
    tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    with pytest.raises(RegistrationFileError) as refused:
        read_registrations(path)
    assert words in str(refused.value)
    assert str(path) in str(refused.value)


def test_a_quote_left_open_refuses_the_file_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, row(1), row(2).replace("Pekerja 2", '"Pekerja 2') + "x" * 200_000)
    with pytest.raises(RegistrationFileError, match="line 3: cannot be read as CSV"):
        read_registrations(path)


def test_a_semicolon_file_with_indonesian_headers_is_read_line_for_line(tmp_path: Path) -> None:
    path = tmp_path / "semicolons.csv"
    header = "NIK;Nama;Tanggal Lahir;Jenis Kelamin;Kecamatan;Kelurahan;Pekerjaan;Desil;Sumber"
    path.write_text(header + "\n\n" + row(1).replace(",", ";") + "\n"
                    + row(2, decile="0").replace(",", ";") + "\n")
    found = read_registrations(path)
    assert [r.nik for r in found.accepted] == [nik(1, date(1985, 3, 12))]
    assert [(p.line, p.field) for p in found.problems] == [(4, "decile")]


def test_rows_with_another_delimiter_under_a_comma_header_say_so(tmp_path: Path) -> None:
    path = write(tmp_path, row(1), row(2).replace(",", ";"))
    (problem,) = read_registrations(path).problems
    assert (problem.line, problem.field) == (3, "row")
    assert "';' (semicolon)" in problem.reason


def test_columns_may_come_in_any_order_and_case(tmp_path: Path) -> None:
    columns = list(reversed(COLUMNS))
    values = list(reversed(row(1).split(",")))
    path = write(tmp_path, ",".join(values), header=",".join(c.upper() for c in columns))
    (registration,) = read_registrations(path).accepted
    assert registration.nik == nik(1, date(1985, 3, 12))


def test_rejects_are_written_with_their_columns_line_and_reasons(tmp_path: Path) -> None:
    path = write(tmp_path, row(1), row(2, decile="11"), row(3), row(1))
    found = read_registrations(path)
    rejects = tmp_path / "rejects.csv"
    assert write_rejects(rejects, found) == 2
    with rejects.open(encoding="utf-8") as f:
        written = list(csv.DictReader(f))
    assert list(written[0]) == [*COLUMNS, "line", "reasons"]
    assert [(r["line"], r["nik"]) for r in written] == [
        ("3", nik(2, date(1985, 3, 12))),
        ("5", nik(1, date(1985, 3, 12))),
    ]
    assert written[0]["reasons"] == "decile: DTSEN decile must be 1-10, not 11"
    assert "already on line 2" in written[1]["reasons"]


def test_the_refusal_lists_every_bad_row_with_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, row(1, decile="11"), row(2), row(3, kecamatan="Bogor"))
    message = read_registrations(path).refusal()
    assert "2 of 3 rows are malformed" in message
    assert f"{path}: line 2, decile:" in message
    assert f"{path}: line 4, kecamatan:" in message
    assert "--rejects" in message


def test_problem_reads_as_line_field_reason() -> None:
    assert str(Problem(4, "decile", "too high")) == "line 4, decile: too high"
