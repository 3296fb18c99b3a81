"""The project documents itself: what a user reads is in the repository, and is what the code does.

Input files are documented in docs/input-files.md (the README links it; `workers import --help`
lists the columns itself). These tests hold that page to the reader it describes, and keep the
project from pointing its readers at notes that are not part of it.
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from cli_helpers import jamsos
from jamsos_ledger.cli import main
from jamsos_ledger.domain.regions import KOTA_BEKASI_KECAMATAN
from jamsos_ledger.files.registrations import COLUMNS

ROOT = Path(__file__).resolve().parent.parent
INPUT_FILES = ROOT / "docs" / "input-files.md"
# Developers' notes kept outside the repository: no file of the project may send a reader to
# them. Spelled in pieces so that this file does not cite them itself.
NOTES = ("CLI", "ENGINEERING", "DOMAIN", "STYLE")
OUTSIDE_NOTES = re.compile(r"\b(" + "|".join(NOTES) + r")\.md\b")
# Folders that are not the project's own text: tools' caches, the venv, generated output.
NOT_THE_PROJECTS = {".git", ".venv", "build", "dist", "__pycache__", ".hypothesis",
                    ".pytest_cache", ".ruff_cache", ".mypy_cache", "demo-ledger"}


def _project_files() -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if any(p in NOT_THE_PROJECTS or p.endswith(".egg-info") for p in parts):
            continue
        if parts[:2] == ("bench", "results") or not path.is_file():
            continue
        found.append(path)
    return found


def test_no_file_of_the_project_cites_notes_outside_it() -> None:
    cited = []
    files = _project_files()
    assert any(p.name == "README.md" for p in files) and len(files) > 50
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # images, databases
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE_NOTES.search(line):
                cited.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not cited, "cite the project's own docs instead:\n" + "\n".join(cited)


def _table_under(heading: str) -> list[list[str]]:
    """The cells of the first Markdown table after `heading` in docs/input-files.md."""
    text = INPUT_FILES.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("- "):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]  # without the header


def test_the_documented_columns_are_the_readers() -> None:
    documented = tuple(row[0].strip("`") for row in _table_under("### Columns"))
    assert documented == COLUMNS


def test_the_documented_kecamatan_are_the_citys() -> None:
    documented = {code: name for code, name in _table_under("### Kecamatan")}
    assert documented == KOTA_BEKASI_KECAMATAN


def test_the_documented_example_imports_as_it_says(tmp_path: Path) -> None:
    text = INPUT_FILES.read_text(encoding="utf-8")
    example = re.search(r"```csv\n(.*?)```", text, re.S)
    assert example is not None
    path = tmp_path / "contoh.csv"
    path.write_text(example.group(1), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    # Only `program open` creates a ledger; the example is imported into one.
    opened = jamsos(url, "program", "open", "--year", "2026", "--allocation", "1000000000",
                    "--quota", "100")
    assert opened.exit_code == 0, opened.output
    result = jamsos(url, "workers", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "Registered 3 workers" in result.output


def test_import_help_lists_the_columns_and_points_at_the_page() -> None:
    result = CliRunner().invoke(main, ["workers", "import", "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    listed = [line.split()[0] for line in result.output.splitlines()
              if line.startswith("  ") and line.split() and line.split()[0] in COLUMNS]
    assert tuple(listed) == COLUMNS, result.output
    assert "docs/input-files.md" in result.output


def test_the_readme_links_the_input_files_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/input-files.md)" in readme


# A path the README names, in backquotes: a folder of the repository, then anything.
_README_PATH = re.compile(
    r"`((?:src|cli|projections|web|tests|property_tests|scripts|bench|demo|docs)/[\w/{},.*-]*)`"
)
# A module the Architecture section names by its file name alone (`replay.py`).
_MODULE_NAME = re.compile(r"`([\w/{},]+\.py)`")
_SOURCE_FOLDERS = ("src", "cli", "projections", "web")


def _expanded(path: str) -> list[str]:
    """`application/{as_of,replay}.py` -> `application/as_of.py`, `application/replay.py`."""
    brace = re.search(r"\{([^}]*)\}", path)
    if brace is None:
        return [path]
    return [
        expanded
        for choice in brace.group(1).split(",")
        for expanded in _expanded(path[: brace.start()] + choice + path[brace.end():])
    ]


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_path_the_readme_names_exists() -> None:
    named = [p for m in _README_PATH.finditer(_readme()) for p in _expanded(m.group(1))]
    assert "src/jamsos_ledger/domain/model.py" in named
    missing = [p for p in named if not list(ROOT.glob(p.rstrip("/")))]
    assert not missing, f"the README names paths that do not exist: {missing}"


def test_every_module_the_architecture_section_names_exists() -> None:
    readme = _readme()
    start = readme.index("### Architecture")
    end = readme.find("\n## ", start)
    section = readme[start:end if end != -1 else None]
    sources = [p.relative_to(ROOT).as_posix() for folder in _SOURCE_FOLDERS
               for p in (ROOT / folder).rglob("*.py")]
    named = [p for m in _MODULE_NAME.finditer(section) for p in _expanded(m.group(1))]
    assert "replay.py" in named and "registrations.py" in named
    missing = [n for n in named if not any(s == n or s.endswith("/" + n) for s in sources)]
    assert not missing, f"the README's Architecture names modules that do not exist: {missing}"


# The role table of the code (`roles.COMMAND_ROLES`) names commands as the service does; the
# README's "Roles and four eyes" table names them as a user types them. Each command of the
# code -> the command-line commands (or option) that run it.
CLI_OF: dict[str, tuple[str, ...]] = {
    "open_program": ("program open",),
    "enrol_principal": ("principals enrol",),
    "grant_role": ("principals grant",),
    "withdraw_role": ("principals withdraw",),
    "rotate_key": ("principals rotate",),
    "revoke_key": ("principals revoke",),
    "issue_token": ("tokens issue",),
    "revoke_token": ("tokens revoke",),
    "register": ("workers import",),
    "correct_worker": ("workers correct",),
    "prioritize": ("workers prioritize",),
    "end_coverage": ("end",),
    "file_claim": ("claims file",),
    "record_benefit": ("claims benefit",),
    "record_deaths": ("workers deaths",),
    "update_deciles": ("workers deciles",),
    "propose_enrolment": ("enroll",),  # on a program with four eyes on
    "propose_amendment": ("program amend",),
    "propose_payment": ("premiums pay",),
    "propose_reversal": ("premiums reverse",),  # on a program with four eyes on
    "propose_annulment": ("annul",),
    "enrol": ("enroll",),
    "amend_program": ("program amend",),
    "pay_premiums": ("premiums pay",),
    "reconcile_invoice": ("premiums reconcile",),
    "reverse_payment": ("premiums reverse",),
    "annul_enrolment": ("annul",),
    "withdraw_proposal": ("proposals withdraw",),
    "approve_proposal": ("proposals approve",),
    "reject_proposal": ("proposals reject",),
    "read": ("report budget", "report quota", "report claims", "program show", "premiums due",
             "workers show", "proposals list", "proposals show"),
    "capacity": ("program capacity",),
    "audit": ("audit verify", "audit digest", "audit replay", "audit log", "audit check",
              "audit notes"),
    "export_trail": ("audit export",),
    "unmask": ("--unmask",),
    "who_viewed": ("audit viewings",),
    "audit_note": ("audit note",),
}


def _cli_commands() -> set[str]:
    import click

    found: set[str] = set()

    def walk(command: click.Command, prefix: list[str]) -> None:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, [*prefix, name])
        else:
            found.add(" ".join(prefix))

    walk(main, [])
    return found


def _readme_roles_table() -> dict[frozenset[str], set[str]]:
    """The README's "Roles and four eyes" table: the roles of each row (`every role`, `every
    role but X` or one role) -> what the row names in backticks."""
    from jamsos_ledger.domain.roles import ROLES

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("\n## Roles and four eyes\n"):]
    start = section.index("| Role | Office | May |")
    rows: dict[frozenset[str], set[str]] = {}
    for line in section[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        who, spans = cells[0], set(re.findall(r"`([^`]+)`", cells[2]))
        if who == "every role":
            roles = frozenset(ROLES)
        elif who.startswith("every role but "):
            roles = frozenset(ROLES) - set(re.findall(r"`([^`]+)`", who))
        else:
            roles = frozenset(re.findall(r"`([^`]+)`", who))
        assert roles and roles <= set(ROLES), line
        rows[roles] = spans
    return rows


def _names(spans: set[str], cli: str) -> bool:
    return any(s == cli or s.startswith(cli + " ") for s in spans)


def test_the_readme_role_table_lists_every_command_for_each_role_that_may_run_it() -> None:
    from jamsos_ledger.domain.roles import COMMAND_ROLES

    assert set(CLI_OF) == set(COMMAND_ROLES), "map each new command to the CLI that runs it"
    commands = _cli_commands()
    for clis in CLI_OF.values():
        assert all(c in commands or c.startswith("--") for c in clis), clis
    table = _readme_roles_table()
    missing = [
        f"{cli} ({command}) in the row of {role}"
        for command, allowed in COMMAND_ROLES.items()
        for role in sorted(allowed)
        for cli in CLI_OF[command]
        if not any(role in roles and _names(spans, cli) for roles, spans in table.items())
    ]
    assert not missing, "README's role table lacks:\n" + "\n".join(missing)


def test_the_readme_role_table_gives_no_role_a_command_it_may_not_run() -> None:
    from jamsos_ledger.domain.roles import COMMAND_ROLES

    wrong = []
    for roles, spans in _readme_roles_table().items():
        for cli in {c for clis in CLI_OF.values() for c in clis}:
            if not _names(spans, cli):
                continue
            allowing = set().union(*(COMMAND_ROLES[c] for c, clis in CLI_OF.items()
                                     if cli in clis))
            wrong += [f"{cli} in the row of {r}" for r in sorted(roles - allowing)]
    assert not wrong, "README's role table says more than the code allows:\n" + "\n".join(wrong)


THREAT_MODEL = ROOT / "docs" / "threat-model.md"


def _tests_defined() -> set[str]:
    """Every test function defined under tests/ and property_tests/, by name."""
    names: set[str] = set()
    for folder in ("tests", "property_tests"):
        for path in (ROOT / folder).glob("test_*.py"):
            names.update(re.findall(r"^\s*(?:async\s+)?def (test_\w+)\(",
                                    path.read_text(encoding="utf-8"), re.MULTILINE))
    return names


def test_every_test_the_threat_model_names_exists() -> None:
    """docs/threat-model.md names, for each attack, the test that performs it: a test renamed
    or removed must take the page with it, or the page would vouch for an attack nobody runs."""
    named = set(re.findall(r"`(test_\w+)`", THREAT_MODEL.read_text(encoding="utf-8")))
    assert len(named) >= 60, sorted(named)
    missing = sorted(named - _tests_defined())
    assert missing == [], f"docs/threat-model.md names tests that do not exist: {missing}"


def test_the_readme_summarises_and_links_the_threat_model() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Threat model\n", 1)
    assert len(section) == 2, "README.md has no '## Threat model' section"
    assert "docs/threat-model.md" in section[1].split("\n## ", 1)[0]
