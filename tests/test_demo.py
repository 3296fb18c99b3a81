"""The demo's closing hint is a command that works as printed, in a shell without the venv.

`make demo` runs the venv's interpreter without activating the venv, so a hint naming plain
`jamsos` found nothing on PATH ("command not found"). The hint is run here as a user would
paste it: through a shell, from where the demo ran and from elsewhere, with the venv's folder
off PATH and no JAMSOS_STORE.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from bekasi_2026 import closing_hint

from cli_helpers import ok

JAMSOS = Path(sys.executable).parent / "jamsos"


def _shell_without_the_venv() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "JAMSOS_STORE", "JAMSOS_PROGRAM")}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin
    )
    return env


@pytest.mark.parametrize("ran_from", ["the folder above", "elsewhere"])
def test_the_closing_hint_runs_as_printed(tmp_path: Path, ran_from: str) -> None:
    folder = tmp_path / "demo-ledger"
    folder.mkdir()
    ok(f"sqlite:///{folder / 'jamsos.db'}", "program", "open", "--year", "2026",
       "--allocation", "2000000000", "--quota", "10000")
    cwd = tmp_path if ran_from == "the folder above" else tmp_path / "elsewhere"
    cwd.mkdir(exist_ok=True)
    hint = closing_hint(folder, JAMSOS, cwd)
    if ran_from == "the folder above":
        assert "sqlite:///demo-ledger/jamsos.db" in hint, hint
    result = subprocess.run(
        hint, shell=True, cwd=cwd, env=_shell_without_the_venv(), capture_output=True,
        text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, f"{hint}\n{result.stdout}{result.stderr}"
    assert "10.000" in result.stdout  # the quota of the program opened above
    assert not (cwd / "jamsos.db").exists()  # the demo's ledger, not a new one here
