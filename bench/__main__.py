"""`make bench`: per-order and per-return cost, cold starts, checkout critical path, lifecycle throughput, a flash
sale on one stock item -> results.json, RESULTS.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import cancellation, cold_start, counting, flash_sale, lifecycle, report
from bench import returns as returns_bench
from bench import throughput as throughput_bench
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


MESSAGES = ("ses", "sns_sms")  # what the customer is told: priced apart from the infrastructure an order runs on


def with_costs(figures: dict, prices: dict, total_key: str) -> dict:
    """Adds the cost per 1,000 by service, its total, and the infrastructure's part (everything but messages)."""
    breakdown = cost_per_1000(figures, prices)
    figures["cost_breakdown_per_1000_usd"] = breakdown
    figures[total_key] = round(sum(breakdown.values()), 4)
    figures[total_key.replace("cost_", "infrastructure_cost_", 1)] = round(
        sum(value for key, value in breakdown.items() if key not in MESSAGES), 4)
    figures["messages_cost_per_1000_usd"] = round(sum(breakdown[key] for key in MESSAGES), 4)
    return figures


def largest_item(per_order: dict, per_return: dict) -> None:
    """`per_order.single_shipment.largest_item_bytes` becomes the largest item written on any shape measured (orders
    and returns: an order's items grow with its shipments and steps); each shape keeps its own as `_own`."""
    shapes = [f for f in [*per_order.values(), *per_return.values()] if isinstance(f, dict) and "largest_item_bytes" in f]
    largest = max(shapes, key=lambda f: f["largest_item_bytes"])
    for figures in shapes:
        figures["largest_item_bytes_own"] = figures["largest_item_bytes"]
    per_order["single_shipment"]["largest_item_bytes"] = largest["largest_item_bytes_own"]
    per_order["single_shipment"]["largest_item_kind"] = largest["largest_item_kind"]


def measure_returns(bench: lifecycle.Bench, args: argparse.Namespace, prices: dict) -> dict:
    started = time.perf_counter()
    per_return = returns_bench.measure(bench, args.per_return_repeat, args.approval_return_repeat)
    for figures in per_return.values():
        with_costs(figures, prices, "cost_per_1000_usd")
    per_return["wall_s"] = round(time.perf_counter() - started, 1)
    return per_return


def measure_lifecycle_throughput(args: argparse.Namespace, mix: dict[str, int]) -> dict:
    """Rounds of the carried run, each followed by its floor on the same fresh cloud, so that the machine's drift (a
    slower minute, another process) falls on both halves of a ratio; the medians are reported, and every round. One
    round is a few seconds of work: on one tree single rounds ranged from 0.46 to 0.58 (decision 113). Each round runs
    in an interpreter of its own, with nothing the earlier sections left in memory (decision 116)."""
    rounds = [throughput_bench.in_fresh_process(args.concurrency, args.orders_per_worker, mix)
              for _ in range(args.throughput_rounds)]

    def median(key: str) -> float:
        return round(statistics.median(r[key] for r in rounds), 3)

    return {
        "concurrency": args.concurrency, "orders": min(r["orders"] for r in rounds),  # carried in every round
        "rounds": rounds, "failed": sum(r["failed"] for r in rounds),
        "orders_per_s": median("orders_per_s"), "wall_s": median("wall_s"),
        "floor_orders_per_s": median("floor_orders_per_s"),
        "floor_requests_per_order": rounds[0]["floor_requests_per_order"], "floor_wall_s": median("floor_wall_s"),
        "ratio": median("ratio"),
        "first_error": next((r["first_error"] for r in rounds if r["first_error"]), None),
    }


def only_returns(args: argparse.Namespace, prices: dict, started: float) -> int:
    """`--only returns`: the returns on a stack of their own, merged into the output's results.json."""
    print("per return: returns of one line of a delivered order, every request counted", flush=True)
    with lifecycle.Bench(aws_port=0) as bench:
        per_return = measure_returns(bench, args, prices)
    path = args.output / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results["per_return"] = {**per_return, "generated_at": datetime.now(UTC).isoformat(timespec="seconds")}
    results.setdefault("arguments", {}).update(per_return_repeat=args.per_return_repeat,
                                               approval_return_repeat=args.approval_return_repeat)
    args.output.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    complete = all(part in results for part in ("per_order", "cold_start", "checkout", "throughput"))
    if complete:
        (args.output / "RESULTS.md").write_text(report.render(results, prices))
    print(f"wrote the returns into {path}{' and RESULTS.md' if complete else ''} in "
          f"{round(time.perf_counter() - started, 1)} s")
    return 0


def only_flash_sale(args: argparse.Namespace, prices: dict, started: float) -> int:
    """`--only flash_sale`: the flash sale on a cloud of its own, merged into the output's results.json."""
    print(f"flash sale: {args.flash_orders} orders for one stock item, {args.flash_workers} at a time", flush=True)
    path = args.output / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results["flash_sale"] = {**measure_flash_sale(args), "generated_at": datetime.now(UTC).isoformat(timespec="seconds")}
    results.setdefault("arguments", {}).update(flash_orders=args.flash_orders, flash_stock=args.flash_stock,
                                               flash_workers=args.flash_workers)
    args.output.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    complete = all(part in results for part in ("per_order", "cold_start", "checkout", "throughput"))
    if complete:
        (args.output / "RESULTS.md").write_text(report.render(results, prices))
    print(f"wrote the flash sale into {path}{' and RESULTS.md' if complete else ''} in "
          f"{round(time.perf_counter() - started, 1)} s")
    return 0


def measure_flash_sale(args: argparse.Namespace) -> dict:
    return flash_sale.measure(orders=args.flash_orders, stock=args.flash_stock, workers=args.flash_workers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent orders in the throughput run")
    parser.add_argument("--orders", type=int, default=300, help="checkouts timed for the latency percentiles")
    parser.add_argument("--orders-per-worker", type=int, default=3, help="orders each concurrent worker carries")
    parser.add_argument("--throughput-rounds", type=int, default=3,
                        help="rounds of the throughput run and its floor (medians reported)")
    parser.add_argument("--cold-start-runs", type=int, default=10)
    parser.add_argument("--per-order-repeat", type=int, default=5, help="orders of each kind averaged per order")
    parser.add_argument("--per-return-repeat", type=int, default=3, help="standard returns averaged per return")
    parser.add_argument("--approval-return-repeat", type=int, default=2,
                        help="returns under the inspect-first policy (an agent approves first) averaged; 0: none")
    parser.add_argument("--quick", action="store_true", help="a tiny run (seconds), for trying the harness")
    parser.add_argument("--flash-orders", type=int, default=1000, help="orders in the flash sale (one stock item)")
    parser.add_argument("--flash-stock", type=int, default=137, help="units of the flash sale's stock item")
    parser.add_argument("--flash-workers", type=int, default=32, help="threads reserving at once in the flash sale")
    parser.add_argument("--only", choices=["returns", "flash_sale"],
                        help="measure only this part and merge it into the output's results.json (RESULTS.md is "
                             "rendered again when results.json has every part)")
    parser.add_argument("--output", type=Path, default=HERE)
    args = parser.parse_args(argv)
    if args.quick:
        args.concurrency, args.orders, args.orders_per_worker, args.cold_start_runs = 2, 10, 1, 3
        args.throughput_rounds = 1
        args.per_order_repeat = args.per_return_repeat = args.approval_return_repeat = 1
        args.flash_orders, args.flash_stock, args.flash_workers = 100, 50, 8

    started = time.perf_counter()
    prices = json.loads((HERE / "prices.json").read_text())
    counting.install()
    if args.only == "returns":
        return only_returns(args, prices, started)
    if args.only == "flash_sale":
        return only_flash_sale(args, prices, started)

    print(f"cold starts: {len(TOPOLOGY.functions)} functions x {args.cold_start_runs} runs, and their floors", flush=True)
    cold = cold_start.measure(runs=args.cold_start_runs)

    print("per order: a single-shipment and a split order, every request counted", flush=True)
    with lifecycle.Bench(aws_port=0) as bench:  # moto's endpoint serves the JWKS the console's sign-in is checked with
        bench.carry(lifecycle.SINGLE_SHIPMENT_ORDER)  # warm every function used by the lifecycle once
        bench.carry(lifecycle.SPLIT_ORDER)
        per_order = {
            "single_shipment": lifecycle.measure_order(bench, lifecycle.SINGLE_SHIPMENT_ORDER, args.per_order_repeat),
            "split": lifecycle.measure_order(bench, lifecycle.SPLIT_ORDER, args.per_order_repeat)}
        print("per order: an order held for a fraud review, rejected by an agent, cancelled", flush=True)
        per_order["cancelled_in_review"] = cancellation.measure(
            bench, returns_bench.Desk(bench, name="bench-review"), args.per_order_repeat)
        for figures in per_order.values():
            with_costs(figures, prices, "cost_per_1000_orders_usd")
        print("per return: returns of one line of a delivered order, every request counted", flush=True)
        per_return = measure_returns(bench, args, prices)
    largest_item(per_order, per_return)
    print(f"checkout: {args.orders} orders, one at a time", flush=True)
    checkout = lifecycle.measure_checkout(args.orders)

    total = args.concurrency * args.orders_per_worker
    print(f"throughput: {args.throughput_rounds} rounds of {total} orders, {args.concurrency} at a time, each then "
          "the floor", flush=True)
    throughput = measure_lifecycle_throughput(args, lifecycle.request_mix(per_order["single_shipment"]))

    print(f"flash sale: {args.flash_orders} orders for one stock item, {args.flash_workers} at a time", flush=True)
    sale = measure_flash_sale(args)

    results = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.machine()},
        "arguments": {"concurrency": args.concurrency, "orders": args.orders,
                      "orders_per_worker": args.orders_per_worker, "throughput_rounds": args.throughput_rounds,
                      "cold_start_runs": args.cold_start_runs,
                      "per_order_repeat": args.per_order_repeat, "per_return_repeat": args.per_return_repeat,
                      "approval_return_repeat": args.approval_return_repeat,
                      "flash_orders": args.flash_orders, "flash_stock": args.flash_stock,
                      "flash_workers": args.flash_workers, "quick": args.quick},
        "prices": {"region": prices["region"], "recorded_on": prices["recorded_on"]},
        "per_order": per_order,
        "per_return": per_return,
        "cold_start": cold,
        "checkout": checkout,
        "throughput": throughput,
        "flash_sale": sale,
    }
    results["bench_wall_s"] = round(time.perf_counter() - started, 1)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (args.output / "RESULTS.md").write_text(report.render(results, prices))
    print(f"wrote {args.output / 'results.json'} and {args.output / 'RESULTS.md'} in {results['bench_wall_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
