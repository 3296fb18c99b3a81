"""No input ever ends in a traceback (issue 5, "Bad input"): Hypothesis fuzzes the importer and
the command line.

Registration files of random bytes and of random CSV-ish text with random columns are read
and imported; random command lines are built from the real commands and options with random
values. Every outcome is an exit code of the README's and a message, never an exception.
"""

from __future__ import annotations

import io
import string
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import click
import psycopg
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from jamsos_ledger.cli import main
from jamsos_ledger.cli.options import DateType, MonthType, NikType, WhenType
from jamsos_ledger.domain.errors import InvalidInput
from jamsos_ledger.files.registrations import COLUMNS, read_registration_lines

# The README's exit codes; 4 (an audit's finding) only from `audit`. 6 and 7 (the key, the role)
# answer commands like `key new` on the session's existing key, or a role the key lacks.
EXIT_CODES = {0, 1, 2, 3, 5, 6, 7}
OUTCOMES: dict[int, int] = {}  # exit code -> examples, for a look with -s
SEED_NIKS = ["3275014203850001", "3275051708900042", "3275092512880007"]
SEED = (
    "nik,name,birth_date,sex,kecamatan,kelurahan,occupation,decile,source\n"
    "3275014203850001,Siti Rahmawati,1985-03-02,P,01,Margahayu,pedagang,2,Disnaker\n"
    "3275051708900042,Budi Santoso,1990-08-17,L,05,Bojong,ojol,1,Dinsos\n"
    "3275092512880007,Agus Salim,1988-12-25,L,09,Jatiluhur,buruh,3,Grab\n"
)
fuzz_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                HealthCheck.too_slow], deadline=None)

# -- the importer ---------------------------------------------------------------------------

plausible = {
    "nik": st.sampled_from(SEED_NIKS) | st.text("0123456789", min_size=14, max_size=18)
    | st.text(max_size=20),
    "name": st.sampled_from(["Siti", "Budi Santoso", "", " "]) | st.text(max_size=30),
    "birth_date": st.dates().map(str) | st.sampled_from(["1990-02-30", "17/08/1990", ""])
    | st.text(max_size=12),
    "sex": st.sampled_from(["L", "P", "l", "X", ""]) | st.text(max_size=3),
    "kecamatan": st.sampled_from(["01", "Rawalumbu", "13", "bekasi timur", ""])
    | st.text(max_size=15),
    "kelurahan": st.text(max_size=20),
    "occupation": st.text(max_size=20),
    "decile": st.integers(-5, 15).map(str) | st.text(max_size=4),
    "source": st.sampled_from(["Disnaker", "Dinsos", ""]) | st.text(max_size=10),
}


@st.composite
def csvish(draw: st.DrawFn) -> bytes:
    """Text shaped like a registration file: real or wrong columns, good or odd values."""
    columns = draw(st.lists(st.sampled_from([*COLUMNS, "telepon", "NIK", ""]), max_size=11)
                   | st.permutations(COLUMNS).map(list))
    delimiter = draw(st.sampled_from([",", ",", ",", ";", "\t", "|"]))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        width = draw(st.sampled_from([len(columns), len(columns), len(columns) + 1,
                                      max(0, len(columns) - 1)]))
        values = [draw(plausible.get(columns[i] if i < len(columns) else "", st.text(max_size=8)))
                  for i in range(width)]
        rows.append(delimiter.join(values))
    text = "\n".join([delimiter.join(columns), *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


@fuzz_settings
@given(data=st.binary(max_size=600) | csvish())
def test_the_importer_reads_anything_or_refuses_it(data: bytes) -> None:
    try:
        registrations = read_registration_lines(io.BytesIO(data), name="fuzz.csv")
    except InvalidInput as e:
        assert str(e).startswith("fuzz.csv")
        return
    assert registrations.rows >= 1
    for rejection in registrations.rejected:
        assert rejection.problems and all(p.line == rejection.line for p in rejection.problems)
    if registrations.rejected:
        assert "fuzz.csv: line " in registrations.refusal()


@pytest.fixture(scope="module")
def ledger_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An SQLite ledger with a program and three workers, shared by the examples."""
    folder = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{folder}/ledger.db"
    seed = folder / "seed.csv"
    seed.write_text(SEED, encoding="utf-8")
    runner = CliRunner()
    for args in (["program", "open", "--one-key", "--year", "2026", "--allocation", "2000000000",
                  "--quota", "10"], ["workers", "import", str(seed)],
                 ["workers", "prioritize"]):
        assert runner.invoke(main, ["--store", url, *args]).exit_code == 0
    return url


def assert_clean(result: click.testing.Result, args: list[str]) -> None:
    exception = result.exception
    assert exception is None or isinstance(exception, SystemExit), (args, repr(exception))
    allowed = EXIT_CODES | ({4} if args[:1] == ["audit"] else set())
    assert result.exit_code in allowed, (args, result.exit_code, result.output)
    assert "Traceback" not in result.output, (args, result.output)
    if result.exit_code:
        assert "Error" in result.stderr, (args, result.output)


@fuzz_settings
@given(data=st.binary(max_size=400) | csvish(), rejects=st.booleans())
def test_importing_anything_exits_with_a_code_of_cli_md(
    ledger_url: str, tmp_path_factory: pytest.TempPathFactory, data: bytes, rejects: bool
) -> None:
    folder = tmp_path_factory.mktemp("import")
    path = folder / "registrasi.csv"
    path.write_bytes(data)
    args = ["workers", "import", str(path)]
    if rejects:
        args += ["--rejects", str(folder / "ditolak.csv")]
    result = CliRunner().invoke(main, ["--store", ledger_url, *args])
    assert_clean(result, args)


# -- the command line -------------------------------------------------------------------------


def commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...],
                                                                               click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += commands(command, (*prefix, name))
        else:
            found.append(((*prefix, name), command))
    return found


COMMANDS = commands(main)
values = (
    st.sampled_from(["2026-01", "2026-13", "2025-12", "2027-01", "2026-02-30", "2026-03-31",
                     "0", "-1", "1", "12", "99999999999999999999", "JKK", "JKM", "died",
                     "json", "csv", "table", "kecamatan", "decile", "", " ", "--help",
                     "SP2D/01", "KEP/1", *SEED_NIKS, "3275011203850001", "327501"])
    | st.integers(-10**20, 10**20).map(str)
    | st.text(string.printable, max_size=12)
    | st.text(max_size=12)
)


EXTREME_MOMENTS = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "0001-01-01",
                   "9999-12-31", "9999-12-31T17:00:00+00:00", "2026-03-31T17:00:00+07:00"]


def value_for(param: click.Parameter) -> st.SearchStrategy[str]:
    """Mostly values of the parameter's own type (so commands reach the ledger's rules), now
    and then anything."""
    kind = param.type
    typed: st.SearchStrategy[str]
    if isinstance(kind, click.Choice):
        typed = st.sampled_from([str(c) for c in kind.choices])
    elif isinstance(kind, MonthType):
        typed = st.builds("{}-{:02d}".format, st.integers(2024, 2028), st.integers(0, 13))
    elif isinstance(kind, DateType):
        typed = st.dates(date(2024, 1, 1), date(2028, 12, 31)).map(str)
    elif isinstance(kind, NikType):
        typed = st.sampled_from([*SEED_NIKS, "3275011203850001"])
    elif isinstance(kind, WhenType):  # the edges of the calendar in every time zone too
        typed = st.sampled_from(EXTREME_MOMENTS) | st.builds(
            "{}{}".format, st.datetimes().map(lambda d: d.isoformat(timespec="seconds")),
            st.sampled_from(["+14:00", "-12:00", "+07:00", "Z", ""]))
    elif isinstance(kind, click.types.IntParamType):
        typed = st.integers(-10, 2_000_000).map(str) | st.sampled_from(["10", "2000000000"])
    else:
        typed = st.sampled_from(["SP2D/01", "SP2D/02", "KEP/1", "JKK-1", "APBD-P", "2026"])
    return st.one_of(*[typed] * 7, values)


@st.composite
def argv(draw: st.DrawFn, folder: Path) -> list[str]:
    path, command = draw(st.sampled_from(COMMANDS))
    args = list(path)
    for param in command.params:
        # Required ones nearly always (so commands get past parsing), others now and then.
        if draw(st.integers(0, 9)) >= (9 if param.required else 4):
            continue
        if isinstance(param.type, click.Path):  # files only inside the test's own folder
            value = str(folder / draw(st.sampled_from(["a.csv", "b.png", "c.csv"])))
        else:
            value = draw(value_for(param))
        if isinstance(param, click.Argument):
            args.append(value)
        elif param.is_flag:
            args.append(param.opts[0])
        else:
            for _ in range(draw(st.integers(1, 2)) if getattr(param, "multiple", False) else 1):
                args += [param.opts[0], value if _ == 0 else draw(value_for(param))]
    if draw(st.integers(0, 9)) == 0:  # now and then a stray word or option
        args.insert(draw(st.integers(0, len(args))), draw(values | st.just("--bogus")))
    return args


@fuzz_settings
@given(data=st.data())
def test_any_command_line_exits_with_a_code_of_cli_md(
    ledger_url: str, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("argv")
    args = data.draw(argv(folder))
    result = CliRunner().invoke(main, ["--store", ledger_url, *args])
    assert_clean(result, args)
    OUTCOMES[result.exit_code] = OUTCOMES.get(result.exit_code, 0) + 1


# -- output files and settings (issue 15) ----------------------------------------------------

def is_output(p: click.Parameter) -> bool:
    """An option naming a file the command writes (an input file must exist: `exists`)."""
    return isinstance(p, click.Option) and isinstance(p.type, click.Path) and not p.type.exists


OUTPUT_COMMANDS = [(path, command) for path, command in COMMANDS
                   if any(is_output(p) for p in command.params)]
TARGETS = ["ledger", "ledger-wal", "ledger-shm", "input", "existing", "missing folder",
           "folder", "new"]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[str]:
    """A ledger like `ledger_url`'s on each store in turn."""
    folder = tmp_path_factory.mktemp("outputs")
    if request.param == "sqlite":
        url = f"sqlite:///{folder}/ledger.db"
    else:
        server: str = request.getfixturevalue("postgres_server")
        schema = f"test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        url = f"{server}?schema={schema}"
    seed = folder / "seed.csv"
    seed.write_text(SEED, encoding="utf-8")
    for args in (["program", "open", "--one-key", "--year", "2026", "--allocation", "2000000000",
                  "--quota", "10"], ["workers", "import", str(seed)], ["report", "budget"]):
        assert CliRunner().invoke(main, ["--store", url, *args]).exit_code == 0
    yield url
    if request.param == "postgres":
        with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(
                sql.Identifier(url.split("schema=")[1])))


@settings(fuzz_settings, max_examples=40)
@given(data=st.data())
def test_no_output_path_destroys_anything(
    any_store: str, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Whatever an output option names, the ledger and the inputs are never written over, an
    existing file only with --overwrite, and no temporary file is left behind."""
    folder = tmp_path_factory.mktemp("out")
    path, command = data.draw(st.sampled_from(OUTPUT_COMMANDS))
    option = next(p for p in command.params if is_output(p))
    source = folder / "registrasi.csv"
    source.write_text(SEED + "12345,Nama,1990-01-01,L,01,a,b,2,c\n", encoding="utf-8")
    (folder / "existing.png").write_bytes(b"kept")
    ledger = Path(any_store[len("sqlite:///"):]) if any_store.startswith("sqlite") else None
    target_kind = data.draw(st.sampled_from(TARGETS))
    target = {
        "ledger": ledger or folder / "existing.png",
        "ledger-wal": Path(f"{ledger}-wal") if ledger else folder / "existing.png",
        "ledger-shm": Path(f"{ledger}-shm") if ledger else folder / "existing.png",
        "input": source, "existing": folder / "existing.png",
        "missing folder": folder / "absent" / "x.png", "folder": folder, "new": folder / "n.png",
    }[target_kind]
    overwrite = data.draw(st.booleans())
    args = [*path, *([str(source)] if path == ("workers", "import") else []),
            option.opts[0], str(target), *(["--overwrite"] if overwrite else [])]
    before = store_contents(any_store)
    existed = target.is_file()
    kept = {p: p.read_bytes() for p in (source, folder / "existing.png")}
    result = CliRunner().invoke(main, ["--store", any_store, *args])
    assert_clean(result, args)
    importing = path == ("workers", "import")
    refused = (
        (ledger is not None and target_kind.startswith("ledger"))  # the ledger's files
        or (importing and target == source)  # the command's input
        or target_kind in ("missing folder", "folder")
        or (existed and not overwrite)  # an existing file, without consent
    )
    if refused:
        assert result.exit_code == 2, (args, result.output)
        assert "nothing was written" in result.stderr
        assert store_contents(any_store) == before
        assert {p: p.read_bytes() for p in kept} == kept
    assert not (folder / "absent").exists()
    assert list(folder.rglob(".jamsos-*")) == []


@settings(fuzz_settings, max_examples=30)
@given(variable=st.sampled_from(["JAMSOS_SQLITE_LOCK_TIMEOUT", "JAMSOS_LOCK_TIMEOUT",
                                 "JAMSOS_CONNECT_TIMEOUT", "JAMSOS_CIPHER_KEY"]),
       value=st.text(max_size=12).filter(lambda v: "\x00" not in v)
       | st.integers(-10**25, 10**25).map(str))
def test_any_setting_is_used_or_named(any_store: str, variable: str, value: str) -> None:
    before = store_contents(any_store)
    result = CliRunner(env={variable: value}).invoke(
        main, ["--store", any_store, "report", "budget", "--format", "json"])
    assert_clean(result, [variable, value])
    assert result.exit_code in (0, 2), (variable, value, result.output)
    if result.exit_code == 2:
        assert variable in result.stderr
    assert store_contents(any_store) == before


def store_contents(url: str) -> object:
    """The store as stored (SQLite bytes, or the PostgreSQL schema's rows)."""
    from cli_helpers import contents

    return contents(url)


def teardown_module() -> None:
    if OUTCOMES:
        print(f"\ncommand-line fuzz exit codes: {dict(sorted(OUTCOMES.items()))}")
