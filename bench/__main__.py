"""`make bench`: per-order cost, cold starts, checkout critical path, lifecycle throughput -> results.json, RESULTS.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import cold_start, counting, lifecycle, report
from dawra.topology import TOPOLOGY

HERE = Path(__file__).resolve().parent


def cost_per_1000(per_order: dict, prices: dict) -> dict:
    memory_gb = {fn.name: fn.memory_mb / 1024 for fn in TOPOLOGY.functions}
    gb_seconds = sum(memory_gb.get(name, 0) * seconds for name, seconds in per_order["lambda_seconds_by_function"].items())
    parts = {
        "lambda_requests": per_order["lambda_invocations"] * prices["lambda"]["per_request"],
        "lambda_duration": gb_seconds * prices["lambda"]["per_gb_second"],
        "stepfunctions": per_order["state_transitions"] * prices["stepfunctions"]["per_state_transition"],
        "dynamodb": per_order["dynamodb_write_units"] * prices["dynamodb"]["per_write_request_unit"]
        + per_order["dynamodb_read_units"] * prices["dynamodb"]["per_read_request_unit"],
        "sqs": per_order["sqs_requests"] * prices["sqs"]["per_request"],
        "sns_sms": per_order["sns_requests"] * prices["sns_sms"]["per_message"],
        "ses": per_order["ses_requests"] * prices["ses"]["per_email"],
        "apigateway": per_order["apigw_requests"] * prices["apigateway"]["per_request"],
        "secretsmanager": per_order["secretsmanager_requests"] * prices["secretsmanager"]["per_api_call"],
    }
    return {key: round(value * 1000, 4) for key, value in parts.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent orders in the throughput run")
    parser.add_argument("--orders", type=int, default=300, help="checkouts timed for the latency percentiles")
    parser.add_argument("--orders-per-worker", type=int, default=3, help="orders each concurrent worker carries")
    parser.add_argument("--cold-start-runs", type=int, default=10)
    parser.add_argument("--per-order-repeat", type=int, default=5, help="orders of each kind averaged per order")
    parser.add_argument("--quick", action="store_true", help="a tiny run (seconds), for trying the harness")
    parser.add_argument("--output", type=Path, default=HERE)
    args = parser.parse_args(argv)
    if args.quick:
        args.concurrency, args.orders, args.orders_per_worker, args.cold_start_runs = 2, 10, 1, 3
        args.per_order_repeat = 1

    started = time.perf_counter()
    prices = json.loads((HERE / "prices.json").read_text())
    counting.install()

    print(f"cold starts: {len(TOPOLOGY.functions)} functions x {args.cold_start_runs} runs, and their floors", flush=True)
    cold = cold_start.measure(runs=args.cold_start_runs)

    print("per order: a single-shipment and a split order, every request counted", flush=True)
    with lifecycle.Bench() as bench:
        bench.carry(lifecycle.SINGLE_SHIPMENT_ORDER)  # warm every function used by the lifecycle once
        bench.carry(lifecycle.SPLIT_ORDER)
        per_order = {
            "single_shipment": lifecycle.measure_order(bench, lifecycle.SINGLE_SHIPMENT_ORDER, args.per_order_repeat),
            "split": lifecycle.measure_order(bench, lifecycle.SPLIT_ORDER, args.per_order_repeat)}
        for figures in per_order.values():
            figures["cost_breakdown_per_1000_usd"] = cost_per_1000(figures, prices)
            figures["cost_per_1000_orders_usd"] = round(sum(figures["cost_breakdown_per_1000_usd"].values()), 4)
    print(f"checkout: {args.orders} orders, one at a time", flush=True)
    checkout = lifecycle.measure_checkout(args.orders)

    total = args.concurrency * args.orders_per_worker
    print(f"throughput: {total} orders, {args.concurrency} at a time, then the floor", flush=True)
    with lifecycle.Bench() as bench:
        carried = lifecycle.measure_throughput(bench, args.concurrency, args.orders_per_worker)
        mix = lifecycle.request_mix(per_order["single_shipment"])
        floor = lifecycle.measure_floor(bench, mix, args.concurrency, args.orders_per_worker)
    throughput = {
        "concurrency": args.concurrency, "orders": carried["orders"], "failed": carried["failed"],
        "orders_per_s": carried["orders_per_s"], "wall_s": carried["wall_s"],
        "floor_orders_per_s": floor["floor_orders_per_s"], "floor_requests_per_order": floor["requests_per_order"],
        "floor_wall_s": floor["wall_s"],
        "ratio": round(carried["orders_per_s"] / floor["floor_orders_per_s"], 3),
        "first_error": carried["first_error"],
    }

    results = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.machine()},
        "arguments": {"concurrency": args.concurrency, "orders": args.orders,
                      "orders_per_worker": args.orders_per_worker, "cold_start_runs": args.cold_start_runs,
                      "per_order_repeat": args.per_order_repeat,
                      "quick": args.quick},
        "prices": {"region": prices["region"], "recorded_on": prices["recorded_on"]},
        "per_order": per_order,
        "cold_start": cold,
        "checkout": checkout,
        "throughput": throughput,
    }
    results["bench_wall_s"] = round(time.perf_counter() - started, 1)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (args.output / "RESULTS.md").write_text(report.render(results, prices))
    print(f"wrote {args.output / 'results.json'} and {args.output / 'RESULTS.md'} in {results['bench_wall_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
