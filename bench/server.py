"""`job-gateway serve` for benchmarks, with one more option:

    python bench/server.py --data FILE --port P [--workers N] [--zero-cost-store]

``--zero-cost-store`` serves the data through `stores.ZeroCostStore`, so that what is
measured is the gateway (HTTP, GraphQL or REST, shaping, JSON) without the embedded
engine's scan. Everything else is what `job-gateway serve` does (`gateway.server.run`):
the same listener, the same worker processes.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stores import ZeroCostStore

from gateway.logs import configure_logging
from gateway.server import run
from gateway.settings import Settings
from gateway.store.factory import memory_store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", action="append", required=True, metavar="FILE")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--zero-cost-store", action="store_true", help="memoize every store call (see stores.py)")
    args = parser.parse_args(argv)
    environ = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
    settings = Settings.from_environ(environ, port=args.port, workers=args.workers, data_files=tuple(args.data))
    configure_logging(settings.log_level)
    store = ZeroCostStore(memory_store(settings)) if args.zero_cost_store else None
    return run(settings, store)


if __name__ == "__main__":
    sys.exit(main())
