"""The package is installed as users get it: the `jamsos` command, and one import name.

The wheel itself is built, installed in a fresh venv and run by scripts/test; these checks are
the quick ones that run with every `pytest`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_jamsos_console_script_points_at_the_click_group() -> None:
    scripts = importlib.metadata.entry_points(group="console_scripts")
    (jamsos,) = [ep for ep in scripts if ep.name == "jamsos"]
    assert jamsos.value == "jamsos_ledger.cli:main"
    assert jamsos.dist is not None and jamsos.dist.name == "jamsos-ledger"


def test_jamsos_help_runs() -> None:
    # The script installed beside this interpreter, not whichever `jamsos` is first on PATH.
    jamsos = Path(sys.executable).parent / "jamsos"
    result = subprocess.run(
        [str(jamsos), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: jamsos" in result.stdout


def test_every_package_folder_is_listed_in_pyproject() -> None:
    """A subpackage missing from `packages` works in development and vanishes from the wheel."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {"jamsos_ledger": ROOT / "src" / "jamsos_ledger"}
    folders |= {name: ROOT / path for name, path in config["package-dir"].items() if name}
    found = set()
    for name, folder in folders.items():
        for init in folder.rglob("__init__.py"):
            parts = init.parent.relative_to(folder).parts
            found.add(".".join((name, *parts)))
    listed = set(config["packages"])
    assert found <= listed, f"add to pyproject.toml's packages: {sorted(found - listed)}"
    assert listed <= found, f"listed in packages but no such folder: {sorted(listed - found)}"


def test_repository_folders_are_not_importable_under_their_own_names() -> None:
    for name in ("cli", "projections", "web"):
        assert importlib.util.find_spec(name) is None, (
            f"`import {name}` works: the repository root is on sys.path. Run the tests with "
            "scripts/test or .venv/bin/pytest, not `python -m pytest`."
        )


def test_commands_on_sqlite_never_import_psycopg(tmp_path: Path) -> None:
    """psycopg takes a tenth of a second to import, a quarter of a short command's time: a
    ledger on SQLite (the default) does without it, through a whole small year."""
    script = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(ROOT / "demo")!r})
from jamsos_ledger.cli import main
from registration_file import generate_registrations

folder = Path({str(tmp_path)!r})
generate_registrations(folder / "r.csv", 300, bad_rate=0.0, duplicate_rate=0.0)
store = "sqlite:///" + str(folder / "l.db")
for args in (
    ["program", "open", "--one-key", "--year", "2026", "--allocation", "2000000000", "--quota",
     "50"],
    ["workers", "import", str(folder / "r.csv")],
    ["workers", "prioritize"],
    ["enroll", "--top", "20", "--start", "2026-01", "--decree", "KEP/1/2026"],
    ["premiums", "pay", "--month", "2026-01", "--sp2d", "SP2D-1"],
    ["report", "budget"],
    ["report", "quota", "--by", "kecamatan"],
    ["projections", "rebuild"],
    ["audit", "verify"],
    ["audit", "replay"],
):
    try:
        main(["--store", store, "--actor", "test", *args])
    except SystemExit as e:
        if e.code:
            sys.exit(f"{{args}} exited {{e.code}}")
print(sorted(m for m in sys.modules if m.split(".")[0].startswith("psycopg")))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == "[]"


def test_the_demo_is_a_script_of_the_repository_not_of_the_package() -> None:
    """`make demo` writes files and runs commands: a script, kept out of the library that is
    installed (issue 16), and run from demo/ by the README's first command."""
    assert importlib.util.find_spec("jamsos_ledger.demo") is None
    package = ROOT / "src" / "jamsos_ledger"
    assert not list(package.rglob("demo*.py"))
    makefile = (ROOT / "Makefile").read_text()
    target = makefile.split("\ndemo: venv\n", 1)[1].splitlines()[0].split()
    assert target[0] == "$(VENV)/bin/python" and (ROOT / target[1]).is_file(), target
