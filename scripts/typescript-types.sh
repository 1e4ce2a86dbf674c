#!/usr/bin/env bash
# The example operations as a TypeScript client sees them: graphql-codegen writes
# schema/typescript/operations.ts, tsc --strict compiles it with types.check.ts (which
# fails if a non-null field reaches TypeScript as `| null`), and graphql-schema-linter
# lints the exported schema with the rules tests/test_schema_lint.py checks in Python.
# Versions are pinned by schema/typescript/package-lock.json. tests/test_typescript.py
# runs the same steps (CI installs the packages with `npm ci`).
set -euo pipefail
cd "$(dirname "$0")/../schema/typescript"
npm ci --no-audit --no-fund --loglevel=error
npx graphql-codegen --config codegen.json
npx tsc -p tsconfig.json
npx graphql-schema-linter ../schema.graphql
echo "typescript-types: operations.ts generated, compiled under --strict; schema lint clean"
