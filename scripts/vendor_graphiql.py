#!/usr/bin/env python3
"""Vendor GraphiQL's browser assets into the package, from the npm registry.

GraphiQL, React and the explorer plugin are pinned in ``gateway/http/assets/pins.json``:
each package at one version with the registry's integrity hash (SHA-512) of its
tarball, and each file taken from it with its own SHA-384 (the hash the page's
Subresource Integrity attributes carry). Each package's licence is kept beside its files.

    scripts/vendor_graphiql.py            # check the vendored files against the pins (offline)
    scripts/vendor_graphiql.py --fetch    # fetch the pinned tarballs (npm pack), check them, write the files
    scripts/vendor_graphiql.py --fetch --repin   # after changing a version: record the new hashes

Tarballs are fetched with ``npm pack`` (npm's own client and registry settings).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).resolve().parent.parent / "gateway" / "http" / "assets"
PINS = ASSETS / "pins.json"


def sri(data: bytes, algorithm: str) -> str:
    """A Subresource Integrity value (``sha384-...``), the form npm's integrity uses too."""
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def check(pins: dict[str, Any]) -> list[str]:
    """The vendored files that are missing or differ from their pinned hash."""
    problems = []
    for asset in pins["assets"]:
        path = ASSETS / asset["file"]
        if not path.is_file():
            problems.append(f"{asset['file']}: missing")
        elif sri(path.read_bytes(), "sha384") != asset["sha384"]:
            problems.append(f"{asset['file']}: does not match its pinned sha384")
    return problems


def fetch(pins: dict[str, Any], *, repin: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, package in pins["packages"].items():
            spec = f"{name}@{package['version']}"
            out = subprocess.run(
                ["npm", "pack", "--json", "--pack-destination", tmp, spec],
                check=True,
                capture_output=True,
                text=True,
                cwd=tmp,
            )
            tarball = Path(tmp) / json.loads(out.stdout)[0]["filename"]
            integrity = sri(tarball.read_bytes(), "sha512")
            if repin:
                package["integrity"] = integrity
            elif integrity != package["integrity"]:
                sys.exit(f"{spec}: tarball integrity {integrity} is not the pinned {package['integrity']}")
            with tarfile.open(tarball) as archive:
                for asset in (a for a in pins["assets"] if a["package"] == name):
                    member = archive.extractfile(f"package/{asset['path']}")
                    if member is None:
                        sys.exit(f"{spec}: no file {asset['path']}")
                    data = member.read()
                    if repin:
                        asset["sha384"] = sri(data, "sha384")
                    elif sri(data, "sha384") != asset["sha384"]:
                        sys.exit(f"{spec}/{asset['path']}: sha384 is not the pinned one")
                    (ASSETS / asset["file"]).parent.mkdir(parents=True, exist_ok=True)
                    (ASSETS / asset["file"]).write_bytes(data)
                    print(f"{spec}/{asset['path']} -> {asset['file']}")
    if repin:
        PINS.write_text(json.dumps(pins, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {PINS}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fetch", action="store_true", help="fetch the pinned tarballs and write the files")
    parser.add_argument("--repin", action="store_true", help="with --fetch: record the fetched hashes as the pins")
    args = parser.parse_args()
    pins = json.loads(PINS.read_text(encoding="utf-8"))
    if args.fetch:
        fetch(pins, repin=args.repin)
    problems = check(pins)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{len(pins['assets'])} vendored files match their pins")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
