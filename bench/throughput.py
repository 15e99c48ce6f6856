"""One round of section 4, the lifecycle throughput, in an interpreter of its own (decision 116).

A round is the carried run (single-shipment orders from checkout to Completed, `concurrency` at a time) and then its
floor (the same request mix made directly), on one fresh embedded cloud. `make bench` runs each round in a new
process so that nothing the bench's earlier sections left in memory weighs on it: moto's backends live as long as the
process, and the checkout section alone leaves hundreds of executions parked on their delivery (their threads and
state), which every garbage collection of a later round walks again.

    python -m bench.throughput CONCURRENCY ORDERS_PER_WORKER MIX_JSON OUTPUT_JSON
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ROUND_TIMEOUT_S = 900  # a round is about ten seconds; a child stuck this long is a failure, not a slow round


def one_round(concurrency: int, orders_per_worker: int, mix: dict[str, int]) -> dict:
    """The round in this process (the child's work)."""
    from bench import counting, lifecycle

    counting.install()
    with lifecycle.Bench() as bench:
        carried = lifecycle.measure_throughput(bench, concurrency, orders_per_worker)
        floor = lifecycle.measure_floor(bench, mix, concurrency, orders_per_worker)
    return {"orders": carried["orders"], "orders_per_s": carried["orders_per_s"],
            "floor_orders_per_s": floor["floor_orders_per_s"],
            "ratio": round(carried["orders_per_s"] / floor["floor_orders_per_s"], 3),
            "failed": carried["failed"], "wall_s": carried["wall_s"], "floor_wall_s": floor["wall_s"],
            "floor_requests_per_order": floor["requests_per_order"], "first_error": carried["first_error"]}


def in_fresh_process(concurrency: int, orders_per_worker: int, mix: dict[str, int]) -> dict:
    """The round in a new interpreter; its figures come back through a file (the handlers write to stdout)."""
    with tempfile.TemporaryDirectory(prefix="dawra-bench-round-") as scratch:
        output = Path(scratch) / "round.json"
        child = subprocess.run(  # noqa: S603 - this interpreter running this module
            [sys.executable, "-m", "bench.throughput", str(concurrency), str(orders_per_worker), json.dumps(mix),
             str(output)],
            cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=ROUND_TIMEOUT_S)
        if child.returncode != 0 or not output.exists():
            raise RuntimeError(f"throughput round failed (exit {child.returncode}): {child.stderr[-2000:]}")
        return json.loads(output.read_text())


def main(argv: list[str]) -> int:
    concurrency, orders_per_worker, mix, output = argv
    figures = one_round(int(concurrency), int(orders_per_worker), json.loads(mix))
    Path(output).write_text(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
