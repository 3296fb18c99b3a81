"""Personal data seen for a reason, and recorded (issue 18, UU 27/2022), on both stores.

`--unmask` needs a reason and the role auditor or operator; the viewing is recorded before
anything is shown; `jamsos audit viewings --nik` answers who looked at a person. Refused
(no reason, a role without it, a read-only copy): nothing shown, nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path

from role_helpers import acting

from cli_helpers import as_json, enrolled, events, jamsos, ok
from jamsos_ledger.domain.principals import FINANCE, OPERATOR
from registration_file import generate_registrations


def opened(url: str, folder: Path) -> list[str]:
    path = folder / "registrasi.csv"
    generate_registrations(path, 4, bad_rate=0, duplicate_rate=0)
    ok(url, "program", "open", "--one-key", "--year", "2026", "--allocation", "2000000000",
       "--quota", "10")
    ok(url, "workers", "import", str(path))
    with path.open(encoding="utf-8") as f:
        return [line.split(",")[0] for line in f.read().splitlines()[1:]]


def test_who_looked_at_this_person(store_url: str, tmp_path: Path) -> None:
    niks = opened(store_url, tmp_path)
    acting(store_url, "dinsos", {OPERATOR}).close()
    acting(store_url, "bpkad", {FINANCE}).close()
    enrolled(store_url, "inspektorat")
    before = events(store_url)

    masked = as_json(store_url, "workers", "show", niks[0])
    assert masked["nik"] != niks[0] and "birth_date" not in masked
    no_reason = jamsos(store_url, "workers", "show", niks[0], "--unmask", actor="dinsos")
    assert no_reason.exit_code == 2 and "--unmask needs --reason" in no_reason.stderr
    assert niks[0] not in no_reason.stdout

    finance = jamsos(store_url, "workers", "show", niks[0], "--unmask", "--reason", "curious",
                     actor="bpkad")
    assert finance.exit_code == 7, finance.output
    assert "unmask needs the role auditor or operator; bpkad holds finance" in finance.stderr
    assert niks[0] not in finance.stdout
    assert events(store_url) == before

    shown = jamsos(store_url, "workers", "show", niks[0], "--format", "json", "--unmask",
                   "--reason", "complaint 12/2026", actor="dinsos")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["nik"] == niks[0]
    assert "Recorded: dinsos viewed the personal data of" in shown.stderr
    assert events(store_url) == before + 1
    ok(store_url, "audit", "log", "--unmask", "--reason", "annual BPK audit",
       actor="inspektorat")

    seen = as_json(store_url, "audit", "viewings", "--nik", niks[0])
    assert [(v["viewer"], v["what"], v["reason"]) for v in seen] == [
        ("dinsos", "workers show", "complaint 12/2026"),
        ("inspektorat", "audit log", "annual BPK audit"),
    ]
    other = as_json(store_url, "audit", "viewings", "--nik", niks[1])
    assert [v["viewer"] for v in other] == ["inspektorat"]  # the whole trail showed everyone
    refused = jamsos(store_url, "audit", "viewings", actor="dinsos")
    assert refused.exit_code == 7 and "needs the role administrator or auditor" in refused.stderr


def test_a_read_only_copy_shows_nothing_in_clear(sqlite_url: str, tmp_path: Path) -> None:
    niks = opened(sqlite_url, tmp_path)
    path = sqlite_url[len("sqlite:///"):]
    result = jamsos(f"sqlite:///{path}?mode=ro", "audit", "log", "--unmask", "--reason",
                    "audit")
    assert result.exit_code == 3, result.output
    assert niks[0] not in result.stdout
