"""Write the service's OpenAPI document: `python -m jamsos_ledger.web.openapi docs/openapi.json`.

The document kept in the repository is the one the service serves at /openapi.json
(tests/test_service_contract.py checks they match); run this after changing the API.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from jamsos_ledger.web.app import openapi_document


def text() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/openapi.json")
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(text(), encoding="utf-8")
    temporary.replace(target)
    print(f"wrote {target}")
