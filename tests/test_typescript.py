"""What a TypeScript client gets from the schema: graphql-codegen's types of the example
operations are the checked-in ``schema/typescript/operations.ts``, compile under
``tsc --strict`` with ``types.check.ts`` (non-null fields without ``| null``), and the
exported schema passes graphql-schema-linter with the rules tests/schema_rules.py
checks. Needs ``npm ci`` in schema/typescript (``.ci/run`` does it; so does
``scripts/typescript-types.sh``): skipped without it here, a failure in CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.schema_rules import DISABLED, RULES

TYPESCRIPT = ROOT / "schema" / "typescript"


def npx(*args: str, cwd: Path = TYPESCRIPT) -> subprocess.CompletedProcess[str]:
    ready = bool(shutil.which("npx")) and (TYPESCRIPT / "node_modules").is_dir()
    if not ready:
        if os.environ.get("CI"):
            pytest.fail("Node with schema/typescript's packages is missing in CI")
        pytest.skip("Node with schema/typescript's packages is not installed here (scripts/typescript-types.sh)")
    return subprocess.run(["npx", *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_the_checked_in_types_are_what_codegen_writes(tmp_path: Path) -> None:
    config = json.loads((TYPESCRIPT / "codegen.json").read_text())
    config["schema"] = str(ROOT / "schema" / "schema.graphql")
    config["documents"] = str(ROOT / "schema" / "operations" / "*.graphql")
    config["generates"] = {str(tmp_path / "operations.ts"): config["generates"]["operations.ts"]}
    (tmp_path / "codegen.json").write_text(json.dumps(config))
    done = npx("graphql-codegen", "--config", str(tmp_path / "codegen.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "operations.ts").read_text() == (TYPESCRIPT / "operations.ts").read_text(), (
        "schema/typescript/operations.ts is stale: run scripts/typescript-types.sh"
    )


def test_the_types_compile_under_strict_with_non_null_fields_not_nullable() -> None:
    done = npx("tsc", "-p", "tsconfig.json")
    assert done.returncode == 0, done.stdout + done.stderr


def test_graphql_schema_linter_agrees_with_the_python_lint() -> None:
    configured = json.loads((TYPESCRIPT / ".graphql-schema-linterrc").read_text())["rules"]
    assert set(RULES) <= set(configured) and not set(DISABLED) & set(configured)
    done = npx("graphql-schema-linter", str(ROOT / "schema" / "schema.graphql"))
    assert done.returncode == 0, done.stdout + done.stderr
