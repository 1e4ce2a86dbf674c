"""Median latency against page size (20 to 1000), GraphQL and REST side by side, on
one server and one dataset, alternating the two at each size; writes the PNG used by
docs/performance.md.

    python bench/plot.py [--jobs 5000] [--seconds 1.5] [--out docs/performance.png]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from load import drive, graphql_ok  # noqa: E402
from run import DOMAIN, HOST, OUT, free_port, generate, server  # noqa: E402
from scenarios import list_page  # noqa: E402

SIZES = (20, 50, 100, 250, 500, 750, 1000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=1.5, help="seconds per size and side per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "performance.png"))
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = generate(args.jobs)
    port = free_port()
    medians: dict[str, dict[int, list[float]]] = {"GraphQL": {n: [] for n in SIZES}, "REST": {n: [] for n in SIZES}}
    with server(data, port):
        for round_ in range(args.rounds):
            for size in SIZES:
                scenario = list_page(DOMAIN, size)
                sides = [("GraphQL", scenario.graphql), ("REST", scenario.rest)]
                for side, request in sides if round_ % 2 == 0 else reversed(sides):
                    result = asyncio.run(
                        drive(HOST, port, request, concurrency=1, seconds=args.seconds, check=graphql_ok)
                    )
                    medians[side][size] += result.latencies
    table = {side: {n: statistics.median(v) * 1000 for n, v in by_size.items()} for side, by_size in medians.items()}
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for side, marker in (("GraphQL", "o"), ("REST", "s")):
        ax.plot(SIZES, [table[side][n] for n in SIZES], marker=marker, label=side)
    ax.set_xlabel("page size (jobs, with collectorInfo)")
    ax.set_ylabel("median latency (ms)")
    ax.set_title(f"job-gateway list latency, embedded store, {args.jobs} jobs")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out)
    OUT.mkdir(exist_ok=True)
    (OUT / "page-sizes.json").write_text(json.dumps(table, indent=2))
    print("| page size | GraphQL median ms | REST median ms | GraphQL / REST |")
    print("|---|---|---|---|")
    for n in SIZES:
        print(
            f"| {n} | {table['GraphQL'][n]:.1f} | {table['REST'][n]:.1f} | {table['GraphQL'][n] / table['REST'][n]:.2f} |"
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
