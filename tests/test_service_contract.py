"""The service's contract: the OpenAPI document kept in the repository is the one a running
`jamsos serve` serves, and the API keeps it under fuzzing (schemathesis): no 5xx, every
answer of a documented status, content type and schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from jamsos_ledger.web.openapi import text
from served import Served, served
from small_ledger import twenty_workers

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
KEPT = ROOT / "docs" / "openapi.json"
REGENERATE = "python -m jamsos_ledger.web.openapi docs/openapi.json"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("contract")
    url = f"sqlite:///{folder}/ledger.db"
    twenty_workers(url, folder)
    with served(url, folder, "--max-wait", "0.2") as s:
        yield s


def test_the_kept_document_is_the_one_served(server: Served) -> None:
    kept = json.loads(KEPT.read_text(encoding="utf-8"))
    assert kept == json.loads(text()), f"docs/openapi.json is out of date: run {REGENERATE}"
    assert httpx.get(f"{server.base}/openapi.json").json() == kept


# What the contract promises: never a 5xx, and every answer documented (status, content type,
# schema). A request the schema allows may still be refused by the ledger's own rules (a
# month with no participants, a NIK not registered): that is not a breach.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXCLUDED = [positive_data_acceptance]
schema = schemathesis.openapi.from_dict(json.loads(KEPT.read_text(encoding="utf-8")))


@schema.parametrize()
@settings(max_examples=5, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_contract(case: Any, server: Served) -> None:
    case.call_and_validate(base_url=server.base,
                           headers={"Authorization": f"Bearer {server.token}"}, checks=CHECKS,
                           excluded_checks=EXCLUDED)
