"""The dashboard in a real headless browser: Debian's chromium driven by Playwright (its own
browser download does not work on these machines), against a real `jamsos serve`.

Each page loads behind the login, shows the figures of the CLI's JSON in Indonesian number
format, loads nothing from another host, and logs no console error.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_helpers import as_json
from jamsos_ledger.domain.money import count, rupiah
from served import Served, served
from small_ledger import twenty_workers

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Skipped without the browser on a developer's machine, loudly; never in CI (JAMSOS_REQUIRE_BROWSER,
# set by scripts/test when CI is, after it installed Debian's chromium).
MISSING = "Debian's chromium is not installed (apt-get install chromium)"
if not Path(CHROMIUM).exists() and os.environ.get("JAMSOS_REQUIRE_BROWSER", "") not in ("", "0"):
    raise RuntimeError(f"{MISSING}; JAMSOS_REQUIRE_BROWSER is set: the browser tests must run")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=MISSING)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("dashboard")
    url = f"sqlite:///{folder}/ledger.db"
    twenty_workers(url, folder)
    with served(url, folder) as s:
        yield s


def test_the_dashboard_shows_the_cli_figures(server: Served) -> None:
    from playwright.sync_api import sync_playwright

    budget = as_json(server.url, "report", "budget")
    quota = as_json(server.url, "report", "quota")
    by_kecamatan = as_json(server.url, "report", "quota", "--by", "kecamatan")
    verified = as_json(server.url, "audit", "verify")
    errors: list[str] = []
    foreign: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: None if r.url.startswith(server.base)
                    else foreign.append(r.url))
            page.goto(f"{server.base}/")
            assert page.url.endswith("/login")
            page.fill("#token", "jst_not-a-token")
            page.click("button[type=submit]")
            assert "not valid" in page.inner_text("[role=alert]")
            errors.clear()  # the 401 of the refused login is logged by the browser, as it should
            page.fill("#token", server.token)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.base}/")
            figure = lambda key: page.inner_text(f"[data-key={key}]").strip()  # noqa: E731
            assert figure("allocation") == rupiah(budget["allocation"])
            assert figure("committed") == rupiah(budget["committed"])
            assert figure("paid") == rupiah(budget["paid"])
            assert figure("available") == rupiah(budget["available"])
            assert figure("enrolled") == count(budget["enrolled"])
            assert figure("quota") == count(quota["quota"])
            assert figure("quota-available") == count(quota["available"])
            for row in by_kecamatan:
                row_of = page.locator(f"tr[data-kecamatan='{row['kecamatan']}'] td")
                cells = row_of.all_inner_texts()
                assert cells[-1] == count(row["enrolled"]), row
            assert figure("intact") == "intact and sealed"
            assert figure("head-digest") == verified["head_digest"]
            assert verified["root_fingerprint"] in figure("root")
            cookie = next(c for c in page.context.cookies() if c["name"] == "jamsos_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            page.click("text=Log out")
            page.wait_for_url(f"{server.base}/login")
        finally:
            browser.close()
    assert errors == []
    assert foreign == []
