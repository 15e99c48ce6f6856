"""RESULTS.md: the figures of results.json as tables a merchant can read, each next to its design target."""

from __future__ import annotations

# Issue 15's targets, for a single-shipment order delivered (each is "at most" but the throughput ratio, "at least").
TARGETS = {
    "lambda_invocations": 7,
    "state_transitions": 6,
    "dynamodb_write_units": 20,
    "aws_requests": 35,
    "infrastructure_cost_per_1000_orders_usd": 0.15,
    "largest_item_bytes": 1024,
    "cold_start_ratio": 1.5,
    "checkout_sequential": 2,
    "throughput_ratio": 0.5,
}


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _per_order(results: dict) -> list[str]:
    single, split = results["per_order"]["single_shipment"], results["per_order"]["split"]
    rows = [
        ("Lambda invocations", "lambda_invocations", TARGETS["lambda_invocations"]),
        ("Lambda invocations, each record alone (see below)", "lambda_invocations_one_record_each", None),
        ("Step Functions state transitions", "state_transitions", TARGETS["state_transitions"]),
        ("DynamoDB write request units", "dynamodb_write_units", TARGETS["dynamodb_write_units"]),
        ("DynamoDB read request units", "dynamodb_read_units", None),
        ("AWS requests (every service and operation below)", "aws_requests", TARGETS["aws_requests"]),
        ("Largest item written (bytes; any shape, see below)", "largest_item_bytes", TARGETS["largest_item_bytes"]),
        ("SQS requests", "sqs_requests", None),
        ("SNS requests (SMS)", "sns_requests", None),
        ("SES requests (emails)", "ses_requests", None),
        ("API Gateway requests", "apigw_requests", None),
        ("Secrets Manager requests", "secretsmanager_requests", None),
        ("Step Functions API requests (not billed)", "stepfunctions_api_requests", None),
        ("Infrastructure cost per 1,000 orders (USD)", "infrastructure_cost_per_1000_orders_usd",
         TARGETS["infrastructure_cost_per_1000_orders_usd"]),
        ("Messages (emails, SMS) per 1,000 orders (USD)", "messages_cost_per_1000_usd", None),
        ("Cost per 1,000 orders, all in (USD)", "cost_per_1000_orders_usd", None),
    ]
    cancelled = results["per_order"].get("cancelled_in_review")
    others = [split] + ([cancelled] if cancelled else [])
    lines = ["| Per order | Single shipment | Split (2 shipments) | " + ("Cancelled in review | " if cancelled else "")
             + "Target (single shipment) | Met? |",
             "|---|---:|---:|" + ("---:|" if cancelled else "") + "---:|:---:|"]
    for label, key, target in rows:
        bound = "≤ " + _fmt(target) if target is not None else ""
        if key not in single:  # a results.json from before the figure was measured (`--only` merges into one)
            lines.append(f"| {label} | not measured | " + "| " * len(others) + f"{bound} | |")
            continue
        met = _met(single[key] <= target) if target is not None else ""
        lines.append(f"| {label} | {_fmt(single[key])} | "
                     + "".join(f"{_fmt(other.get(key, '—'))} | " for other in others) + f"{bound} | {met} |")
    if cancelled:
        lines += ["", "Cancelled in review: the single-shipment order with a billing address in another country, held "
                  "for a fraud review at checkout (its stock reserved, its card authorised), rejected by an agent in "
                  "the console, cancelled through the compensation (stock released, authorisation voided, the "
                  "customer told); states entered: " + " → ".join(cancelled.get("states", [])) + "."]
    lines += ["", "Lambda invocations by function (single / split): " + ", ".join(
        f"{name.removeprefix('dawra-')} {n} / {split['lambda_invocations_by_function'].get(name, 0)}"
        for name, n in single["lambda_invocations_by_function"].items()) + ".", ""]
    if "lambda_records_by_function" in single:
        lines += ["Each record alone (decision 120): an order is carried here from checkout to delivery in about a "
                  "second, so its own stream records and carrier webhooks often reach the notifier and the tracking "
                  "consumer in one batch, and how many batches they make varies with the machine's timing from run "
                  "to run. Spread over days, as a real order's events are, at a volume too low for other orders' "
                  "records to share a batch, each record is an invocation of its own. The records each function "
                  "was invoked with (single / split; 1 for an invocation that is not a batch): " + ", ".join(
                      f"{name.removeprefix('dawra-')} {_fmt(n)} / "
                      f"{_fmt(split.get('lambda_records_by_function', {}).get(name, 0))}"
                      for name, n in single["lambda_records_by_function"].items()) + ". A merchant's volume "
                  "batches several orders' records together, and does better than either figure.", ""]
    lines += ["Cost per 1,000 orders by service (USD, single / split): " + ", ".join(
        f"{key} {_fmt(value)} / {_fmt(split['cost_breakdown_per_1000_usd'][key])}"
        for key, value in single["cost_breakdown_per_1000_usd"].items()) + ".", ""]
    lines += ["AWS requests by service and operation (single / split): " + ", ".join(
        f"{name} {_fmt(single['requests'].get(name, 0))} / {_fmt(split['requests'].get(name, 0))}"
        for name in sorted(_union([single["requests"], split["requests"]]))) + ".", ""]
    if "largest_item_kind" in single:
        lines += [f"Largest item written on any shape measured (orders and returns): {single['largest_item_bytes']:,} "
                  f"bytes, a `{single['largest_item_kind']}` item; by shape: " + ", ".join(
                      f"{name.replace('_', ' ')} {figures['largest_item_bytes_own']:,}"
                      for name, figures in _shapes(results)) + ".", ""]
    return lines


def _shapes(results: dict) -> list[tuple[str, dict]]:
    """Every measured shape (orders and returns) that reports its own largest item."""
    return [(name, figures) for part in ("per_order", "per_return")
            for name, figures in results.get(part, {}).items()
            if isinstance(figures, dict) and figures.get("largest_item_bytes_own")]  # a download writes nothing


def _per_order_why(results: dict) -> list[str]:
    single = results["per_order"]["single_shipment"]
    lines = []
    if single["dynamodb_write_units"] > TARGETS["dynamodb_write_units"]:
        by_op = ", ".join(f"{op} {_fmt(units)}" for op, units in sorted(
            single["wru_by_operation"].items(), key=lambda kv: -kv[1]))
        lines += [(
            f"- **DynamoDB write units ({_fmt(single['dynamodb_write_units'])} > "
            f"{TARGETS['dynamodb_write_units']}).** By operation: {by_op}. Every state change of more than one "
            f"item is a TransactWriteItems ({_fmt(single['transact_write_requests'])} per order, "
            f"{_fmt(single['transact_write_items'])} items in all), and every item of a transaction costs 2x: the "
            "order header (packed, "
            f"{single['order_header_item_bytes']:,} bytes: one unit), a timeline event, the shipment, the stock and "
            "reservation items, the lookup items the back office finds the order by, the idempotency record, the "
            "risk counter, the invoice and its series counter. Global secondary indexes add "
            f"{_fmt(single['gsi_write_units'])} ({_index_summary()}: an index is written when an item gets, "
            "changes or loses its index keys, and for an ALL projection whenever the item changes). Done: headers "
            "and tax documents packed under 1 KB (decision 105; shipments and returns too, 109), a change of one "
            "item a plain put (106), a carrier report remembered on its parcel instead of a marker item (107). "
            "What would close the rest is a "
            "different model, not a tuning: each of those items is a guarantee taken in the same all-or-nothing "
            "commit (no double reservation, no lost idempotency record, gapless invoice numbers); 20 units leave "
            "room for about ten transactional items per order in all. Candidates, each a redesign: the "
            "reservation made in checkout's own transaction (one header write and one event fewer), timeline "
            "events kept on the item they describe and projected from the stream, lookups derived from the "
            "stream.")]
    if single["lambda_invocations"] > TARGETS["lambda_invocations"]:
        by_function = single["lambda_invocations_by_function"]
        notify, tracking = by_function.get("dawra-notify", 0), by_function.get("dawra-tracking-consumer", 0)
        records = single.get("lambda_records_by_function", {})
        batched = (f"this order's {_fmt(records.get('dawra-tracking-consumer', 0))} carrier webhooks and "
                   f"{_fmt(records.get('dawra-notify', 0))} message records came in that many batches here, which "
                   "varies with the machine's timing from run to run (decision 120: each record alone, "
                   f"{_fmt(single['lambda_invocations_one_record_each'])} invocations; every record of a kind in one "
                   f"batch, {len(by_function)})" if records else "how many batches they come in varies with timing")
        lines += [
            f"- **Lambda invocations ({single['lambda_invocations']} > {TARGETS['lambda_invocations']}).** "
            f"{len(by_function)} functions act on the order. orders-api, start-lifecycle (the lifecycle starts from "
            "the order's commit, off checkout's request path: decision 114) and ship-order are invoked once "
            "each (ship-order reserves the stock and ships the only parcel in one call: decision 124; the "
            "delivery's wait parks its token on the shipment with Step Functions' own write: decision 117; the "
            "order completes in the commit of its last delivery: decision 111). The "
            f"tracking consumer is invoked {_fmt(tracking)} times and the notifier {_fmt(notify)}, once per batch: "
            f"{batched}. Orders are carried here one after another: at a merchant's volume a stream or queue batch "
            "holds several orders' records, which this per-order figure does not show. What would close it one "
            "order at a time is fewer records: a carrier report or a message that needs no function of its own."]
    if single.get("aws_requests", 0) > TARGETS["aws_requests"]:
        top = sorted(single["requests"].items(), key=lambda kv: -kv[1])[:4]
        lines += [f"- **AWS requests ({_fmt(single['aws_requests'])} > {TARGETS['aws_requests']}).** The largest: "
                  + ", ".join(f"{name} {_fmt(n)}" for name, n in top) + " (every operation: the line under the "
                  "table). Each function that acts on the order reads the whole order (a Query) before it decides; "
                  "each message is a claim, a send and a mark. Done: the tracking consumer looks a parcel up once "
                  "per container and reads the order once per report (decision 104); the delivery's wait parks its "
                  "token with Step Functions' own write, no function and no read (decision 117); ReserveAndShip's "
                  "shipping half starts from the order and reservations its reservation committed (decision 126). "
                  "The rest needs a workflow with fewer steps and fewer reads of the whole order."]
    if single.get("largest_item_bytes", 0) > TARGETS["largest_item_bytes"]:
        lines += [f"- **Largest item ({single['largest_item_bytes']:,} > {TARGETS['largest_item_bytes']:,} bytes).** "
                  f"A `{single['largest_item_kind']}` item: past 1 KB every write of it costs one more unit."]
    if single.get("infrastructure_cost_per_1000_orders_usd", 0) > TARGETS["infrastructure_cost_per_1000_orders_usd"]:
        biggest = max((kv for kv in single["cost_breakdown_per_1000_usd"].items() if kv[0] not in ("ses", "sns_sms")),
                      key=lambda kv: kv[1])
        lines += [f"- **Infrastructure cost (USD {_fmt(single['infrastructure_cost_per_1000_orders_usd'])} > "
                  f"{TARGETS['infrastructure_cost_per_1000_orders_usd']} per 1,000 orders).** The largest part: "
                  f"{biggest[0]} {_fmt(biggest[1])} (Step Functions bills each state entered: "
                  f"{_fmt(single['state_transitions'])} per order; an order in one parcel ships and waits outside the "
                  "Map: decision 122). Under the target needs fewer states still, e.g. the reservation made before "
                  "the workflow starts, which needs a way to begin a backordered order's workflow at its stock wait "
                  "(WhenIsStockDue) without a Choice first."]
    if single["state_transitions"] > TARGETS["state_transitions"]:
        lines += [f"- **State transitions ({single['state_transitions']}).** Fewer states (merge Pass/Choice states "
                  "into task ResultSelectors)."]
    return lines


def _rounds(throughput: dict) -> str:
    """Each round's carried and floor orders/s and their ratio, or the one measurement of a results.json before."""
    rounds = throughput.get("rounds") or [throughput]
    return "; ".join(f"{r['orders_per_s']} / {r['floor_orders_per_s']} = {r['ratio']}" for r in rounds)


def _index_summary() -> str:
    from dawra.topology import TOPOLOGY

    return ", ".join(f"`{index.name}` {index.projection}" for table in TOPOLOGY.tables for index in table.indexes)


RETURN_KINDS = {"standard": "Standard policy", "approval_first": "Approval first (inspect-first)"}
SHORT_NAMES = {"standard": "standard", "approval_first": "approval-first"}


def _per_return(per_return: dict) -> list[str]:
    """Section 5: the returns' figures, what is counted, and the label download measured on its own."""
    kinds = [(RETURN_KINDS[key], per_return[key]) for key in RETURN_KINDS if key in per_return]
    shorts = [SHORT_NAMES[key] for key in RETURN_KINDS if key in per_return]
    standard, label = per_return["standard"], per_return["label_download"]
    rows = [
        ("Lambda invocations", "lambda_invocations"),
        ("Step Functions state transitions (return state machine)", "state_transitions"),
        ("DynamoDB write request units", "dynamodb_write_units"),
        ("DynamoDB read request units", "dynamodb_read_units"),
        ("SQS requests", "sqs_requests"),
        ("SNS requests (SMS)", "sns_requests"),
        ("SES requests (emails)", "ses_requests"),
        ("API Gateway requests", "apigw_requests"),
        ("Secrets Manager requests", "secretsmanager_requests"),
        ("Step Functions API requests (not billed)", "stepfunctions_api_requests"),
        ("Cost per 1,000 returns (USD)", "cost_per_1000_usd"),
    ]
    names = " / ".join(shorts)
    counts = " and ".join(f"{figures['returns_measured']} {short}" for short, (_, figures) in zip(shorts, kinds,
                                                                                                 strict=True))
    lines = [
        "## 5. What one return costs on AWS",
        "",
        "A typical return: one unit of the one line of a delivered single-shipment order (a prayer mat from Riyadh, "
        "email), under the standard policy (no approval; the return label is charged), sent back with a label: "
        "the customer asks on the order page, the workflow books the label, the sandbox carrier's webhooks report "
        "the return parcel PICKED_UP then DELIVERED, the warehouse inspects it in the console (sellable), it is "
        "restocked and the card is refunded. Approval first: one of the two mugs of the demo's single-shipment "
        "order (inspect-first: an agent approves it in the console before the label; 10% restocking fee), "
        f"otherwise the same. Figures are per return, averaged over {counts} returns carried one after another, "
        "after one warm-up return"
        + (f"; measured on their own (`python -m bench --only returns`) on {per_return['generated_at']}."
           if "generated_at" in per_return else "."),
        "",
        "| Per return | " + " | ".join(name for name, _ in kinds) + " |",
        "|---|" + "---:|" * len(kinds),
    ]
    for label_text, key in rows:
        lines.append(f"| {label_text} | " + " | ".join(_fmt(figures[key]) for _, figures in kinds) + " |")
    lines += [
        "",
        f"Lambda invocations by function ({names}): " + ", ".join(
            f"{name.removeprefix('dawra-')} " + " / ".join(_fmt(f['lambda_invocations_by_function'].get(name, 0))
                                                          for _, f in kinds)
            for name in _union(f["lambda_invocations_by_function"] for _, f in kinds)) + ".",
        "",
        f"Requests by service and operation ({names}): " + ", ".join(
            f"{name} " + " / ".join(_fmt(f["requests"].get(name, 0)) for _, f in kinds)
            for name in sorted(_union(f["requests"] for _, f in kinds))) + ".",
        "",
        f"Cost per 1,000 returns by service (USD, {names}): " + ", ".join(
            f"{key} " + " / ".join(_fmt(f["cost_breakdown_per_1000_usd"][key]) for _, f in kinds)
            for key in standard["cost_breakdown_per_1000_usd"]) + ".",
        "",
        "States entered (standard): " + " → ".join(standard["return_states"]) + ".",
        "",
        "Where the DynamoDB units go (standard): writes by operation "
        + ", ".join(f"{op} {_fmt(units)}" for op, units in sorted(standard["wru_by_operation"].items(),
                                                                 key=lambda kv: -kv[1]))
        + f"; {_fmt(standard['transact_write_requests'])} transactions of "
        f"{_fmt(standard['transact_write_items'])} items in all, each item at 2x (a return's step writes the "
        "return item with the timeline events and the audit entry, and the order header and the restocked stock "
        "when they change, in one transaction, as the order's steps do: section 1); reads by operation "
        + ", ".join(f"{op} {_fmt(units)}" for op, units in sorted(standard["rru_by_operation"].items(),
                                                                 key=lambda kv: -kv[1]))
        + " (each function that acts on the return loads the whole order, header, shipments and returns, in "
        "one strongly consistent query).",
        "",
        "What is counted, as in section 1 (every AWS request in the process through the botocore wrapper, the "
        "benchmark's own reads not; DynamoDB units from item sizes; transitions from the return execution's "
        "history): the requests that make the return happen and everything they set off. The customer's three "
        "requests to the customer function through the gateway (the return form, the review with the estimate, "
        "the confirmation that stores the return and starts its execution), the carrier's two webhooks (each "
        "stored in SQS, read by the tracking consumer, which resumes the parcel wait), the console's form posts "
        "(the warehouse's inspection; the agent's approval), the return state machine's tasks, and the "
        "notifier's invocations from the orders stream with the messages they send. Each return's order is "
        "delivered and left to come to rest (its last notification sent) before the counting starts, so none "
        "of the order's own requests are in these figures. Not counted: page views that change nothing (the "
        "order page before and after, the console's order page), the operators' sign-in (once a session) and "
        "the label download. The same requests are left out as in section 1 (idle SQS receives "
        f"{_fmt(standard['empty_sqs_receives_not_per_order'])}, Streams reads "
        f"{_fmt(standard['dynamodb_streams_requests_not_billed'])}, scheduler emulation "
        f"{_fmt(standard['scheduler_emulation_not_per_order'])} per standard return).",
        "",
        "The return label's PDF is drawn with fpdf2 when the customer downloads it "
        "(`GET /my-order/<token>/returns/<return_id>/label.pdf`), not by the workflow, so it is not in the "
        "per-return figures (a customer may download it several times, or never). On AWS the page links to the "
        "return-label function behind its own HTTP API; here the download goes through the customer function's "
        "route on the REST gateway, which runs the same drawing code, so the API Gateway price below (REST) is an "
        "upper bound for the HTTP API's. One download, measured on "
        f"its own after a first one: {_fmt(label['apigw_requests'])} API Gateway request, "
        f"{_fmt(label['lambda_invocations'])} Lambda invocation, {_fmt(label['dynamodb_read_units'])} DynamoDB "
        f"read units, {_fmt(label['wall_ms'])} ms in this process (the PDF's drawing included), a "
        f"{label['pdf_bytes'] / 1024:,.1f} KB PDF: USD {_fmt(label['cost_per_1000_usd'])} per 1,000 downloads "
        "(Lambda duration at the customer function's memory, indicative).",
        "",
    ]
    return lines


def _union(dicts) -> list[str]:
    seen: dict[str, None] = {}
    for mapping in dicts:
        seen.update(dict.fromkeys(mapping))
    return list(seen)


def _cold_start(results: dict) -> list[str]:
    lines = ["| Function | Import + init, median (s) | Floor: boto3 + its clients (s) | Ratio | Target | Met? | "
             "Library floor (s) | Its ratio | Whole process, median (s) | Process ratio |",
             "|---|---:|---:|---:|---:|:---:|---:|---:|---:|---:|"]
    for name, figures in results["cold_start"].items():
        library = (f"{figures['library_floor_median_s']:.3f} | {figures['library_floor_ratio']:.2f}"
                   if "library_floor_ratio" in figures else "n/a | n/a")  # a results.json from before decision 120
        lines.append(f"| {name} | {figures['median_s']:.3f} | {figures['floor_median_s']:.3f} "
                     f"({', '.join(figures['floor_clients'])}) | {figures['ratio']:.2f} | ≤ "
                     f"{TARGETS['cold_start_ratio']} | {_met(figures['ratio'] <= TARGETS['cold_start_ratio'])} | "
                     f"{library} | {figures['process_median_s']:.3f} | {figures['process_ratio']:.2f} |")
    return lines


def render(results: dict, prices: dict) -> str:
    machine = results["machine"]
    single = results["per_order"]["single_shipment"]
    checkout, throughput = results["checkout"], results["throughput"]
    cold_missed = [n for n, f in results["cold_start"].items() if f["ratio"] > TARGETS["cold_start_ratio"]]
    out = [
        "# Dawra benchmarks",
        "",
        f"Generated by `make bench` on {results['generated_at']} — {machine['cpus']} CPUs, Python "
        f"{machine['python']}, {machine['platform']}. Everything ran on the embedded cloud (moto, in-process "
        f"Lambda); took {results['bench_wall_s']} s. Prices: AWS list prices, {prices['region']}, recorded "
        f"{prices['recorded_on']} (bench/prices.json; {prices['source']}).",
        "",
        "Targets are issue 15's design targets (bench/report.py TARGETS), reported here with a pass or a miss and "
        "not asserted by tests.",
        "",
        "## 1. What one order costs on AWS",
        "",
        "A delivered order, from `POST /orders` through the carrier's webhooks to Completed and the last "
        "notification. Single shipment: two mugs from Riyadh, email. Split: a dallah from Jeddah and dates from "
        "Riyadh, SMS. Figures are per order, averaged over "
        f"{results['per_order']['single_shipment']['orders_measured']} orders of each kind carried one after "
        "another, after one warm-up order of each kind (how many records the stream and queue pollers find "
        "per batch varies with timing, so the Lambda and SQS counts are not whole numbers).",
        "",
        *_per_order(results),
        "How it is counted: every AWS request made anywhere in the process (the handlers, Step Functions' own "
        "Lambda invocations, the event source pollers, the gateway's SQS integration) passes through a wrapper "
        "of botocore's `BaseClient._make_api_call` (bench/counting.py); the benchmark's own reads (waiting for the "
        "order, the execution history) are made inside a thread-local `driver()` block and are not counted. "
        "State transitions are the `*StateEntered` events of the execution history (Standard workflows bill "
        "each state entered, retries included). DynamoDB units are computed from item sizes as DynamoDB bills "
        "on-demand capacity (1 KB per WRU, 4 KB per RRU, 2x transactional, 0.5x eventually consistent reads, "
        "GSI writes added), with item images read from moto's tables — ReturnConsumedCapacity is not used. "
        "API Gateway requests are the storefront's and the carrier's HTTP requests to the local gateway. Not "
        "per order and left out: SQS receives that found nothing (idle polling by the mapping, "
        f"{single['empty_sqs_receives_not_per_order']} during the single-shipment order; the local pollers receive "
        "only when a message is there to take, decision 127) and DynamoDB Streams "
        f"reads by the notifier's mapping ({single['dynamodb_streams_requests_not_billed']}; free on AWS), and the "
        "embedded cloud's emulation of EventBridge Scheduler firing schedules (List/Get/DeleteSchedule, "
        f"{single.get('scheduler_emulation_not_per_order', 0)}; the scheduler fires by itself on AWS). Lambda "
        "duration is the in-process duration measured here, so the duration cost is indicative only. SMS cost "
        f"uses one example price ({prices['sns_sms']['example_destination']}); it varies by country.",
        "",
        *(["Where a figure misses its target:", "", *_per_order_why(results), ""] if _per_order_why(results) else []),
        "## 2. Cold start of each function",
        "",
        f"A fresh interpreter importing the handler module by path with the function's environment (no network; "
        f"POWERTOOLS_TRACE_DISABLED=true as in the local stack) and creating the AWS clients its first request "
        f"creates, against the floor: the same interpreter importing boto3 and creating only those clients (one "
        f"for each service the function's grants name). Median of "
        f"{next(iter(results['cold_start'].values()))['runs']} interleaved runs each. The ratio compares the time "
        "measured inside the child (from its first line to the end of the import and the clients, plus building "
        "every pydantic validator the import deferred: an upper bound on what the first request builds, so a "
        "deferral never counts as a saving); the whole-process wall time (interpreter start-up included, the same "
        "for both) is shown for reference. The library floor is the floor plus what every function imports and "
        "builds at module level whatever its code (pydantic's BaseModel, Powertools' Logger and Metrics, created): "
        "its ratio is the best a function can reach while it keeps those libraries, reported apart (decision 120). "
        "`python -m bench.cold_start 5` runs this section alone.",
        "",
        *_cold_start(results),
        "",
    ]
    if cold_missed:
        library = [f["library_floor_ratio"] for f in results["cold_start"].values() if "library_floor_ratio" in f]
        out += [
            *([f"The library floor's ratio is {min(library):.2f}-{max(library):.2f}: pydantic and Powertools' Logger "
               "and Metrics leave room under the target, so what misses it is Dawra's own import graph (below)."]
              if library else []),
            f"Missed by {len(cold_missed)} of {len(results['cold_start'])} functions. Done (decision 101): no "
            "X-Ray SDK where tracing is off, validators deferred to first use (and counted here), Jinja2 and Babel "
            "only where a message is rendered, the APIs and the stream consumers apart, .pyc files in the layer. "
            "What remains, measured with `python -X importtime` (which inflates every module's share): Powertools' "
            "Logger and Metrics (~60 ms), the event "
            "handler package and its OpenAPI parameter models for the APIs (~140 ms), pydantic itself (~40 ms), "
            "the domain modules' class bodies (~100 ms: every function loads the order aggregate, which names "
            "nearly every domain model), email-validator and phonenumbers (~40 ms). What would close more: "
            "validating requests with the dawra models instead of Powertools' OpenAPI layer, and a smaller order "
            "aggregate to load.",
            "",
        ]
    out += [
        "## 3. Checkout critical path",
        "",
        f"`POST /orders` through the gateway's handler in-process (no socket), {checkout['orders']} orders one "
        "after another, each order's lifecycle left to come to rest before the next checkout, "
        f"{checkout['orders_per_fresh_cloud']} orders per fresh embedded cloud (see section 4 on why data "
        "accumulating in moto slows every request down).",
        "",
        "| Figure | Value | Target | Met? |",
        "|---|---:|---:|:---:|",
        f"| Sequential AWS requests in one checkout | {checkout['sequential_aws_requests']} | ≤ "
        f"{TARGETS['checkout_sequential']} | "
        f"{_met(checkout['sequential_aws_requests'] <= TARGETS['checkout_sequential'])} |",
        f"| Latency p50 (ms) | {checkout['p50_ms']} | | |",
        f"| Latency p99 (ms) | {checkout['p99_ms']} | | |",
        "",
        f"The requests, in order: {', '.join(checkout['requests_in_order'])}.",
        "",
    ]
    if checkout["sequential_aws_requests"] > TARGETS["checkout_sequential"]:
        out += [
            f"Missed: {checkout['sequential_aws_requests']} > {TARGETS['checkout_sequential']}. Checkout is meant "
            "to be one BatchGetItem (the catalog, the stock of every location and the risk counters together; the "
            "locations are kept a minute) and one TransactWriteItems (the order, its idempotency record and its "
            "counters), the lifecycle starting from that commit on the Orders stream (decision 114): a request "
            "more on the path above is a regression to find.",
            "",
        ]
    tp_ok = throughput["ratio"] >= TARGETS["throughput_ratio"]
    out += [
        "## 4. Lifecycle throughput on this machine",
        "",
        f"{throughput['orders']} single-shipment orders carried from checkout to Completed (storefront and "
        f"carrier over HTTP, pollers in the background), {throughput['concurrency']} at a time, then the floor on "
        f"the same fresh cloud, in {len(throughput.get('rounds', [])) or 1} round(s), each in a Python process of "
        "its own (nothing the earlier sections left in memory weighs on it: decision 116); the figures are the "
        f"rounds' medians (each round: {_rounds(throughput)}). The floor: the "
        f"same number of AWS requests per order ({throughput['floor_requests_per_order']}, the single-shipment "
        "order's counted mix, by service and operation) made directly with boto3 against the embedded cloud at "
        "the same concurrency. Replayed as: DynamoDB operations as the same operation on a scratch table "
        "(~600-byte items; transactions of 3 puts), SQS sends and receives as themselves (deletes as "
        "GetQueueAttributes), SES and SNS sends as themselves, Lambda invocations as GetFunction and "
        "Step Functions API calls as DescribeStateMachine (no handler or execution runs in the floor). "
        "The target is the ratio of the two on the same machine (an absolute rate would measure the machine "
        "and moto, whose own floor is about 1 ms a request).",
        "",
        "| Figure | Value | Target | Met? |",
        "|---|---:|---:|:---:|",
        f"| Orders/s carried (concurrency {throughput['concurrency']}) | {throughput['orders_per_s']} | | |",
        f"| Floor orders/s (same requests, direct) | {throughput['floor_orders_per_s']} | | |",
        f"| Ratio carried / floor | {throughput['ratio']} | ≥ {TARGETS['throughput_ratio']} | {_met(tp_ok)} |",
        f"| Orders that failed | {throughput['failed']} | 0 | {_met(throughput['failed'] == 0)} |",
        "",
    ]
    if not tp_ok:
        out += [
            f"Missed: a ratio of {throughput['ratio']} < {TARGETS['throughput_ratio']}. "
            "Done (decisions 103, 110, 112): each state machine definition and each JSONPath parsed once, Query "
            "answers written as JSON, stream records filtered before they are serialised, the driver woken only by "
            "its own order's execution and booking, a query on a global secondary index no longer sorting the whole "
            "table first. What is left "
            "(profiled) is little of Dawra's own code (its handlers, pydantic and Powertools: a few per cent of the "
            "CPU) and mostly moto doing more per request than in the floor: update expressions validated node by "
            "node, conditions parsed, transactions of conditioned updates where the floor puts three plain items, "
            "queries that return items where the floor's find none; then the requests the floor does not make (the "
            "driver's own reads, the stream and scheduler polls) and the HTTP hops.",
            "",
        ]
    if "per_return" in results:
        out += _per_return(results["per_return"])
    if "flash_sale" in results:
        out += _flash_sale(results["flash_sale"])
    return "\n".join(out) + "\n"


def _flash_sale(sale: dict) -> list[str]:
    """Section 6: the flash sale (bench/flash_sale.py), and what it does not measure."""
    reasons = ", ".join(f"{reason} {count}" for reason, count in sale["conflicts_by_reason"].items()) or "none"
    when = f" (`python -m bench --only flash_sale`) on {sale['generated_at']}" if "generated_at" in sale else ""
    return [
        "## 6. A flash sale on one stock item",
        "",
        f"Measured{when}: {sale['orders_attempted']} orders for one SKU at one location ({sale['stock']} units, "
        f"every tenth order for 2, a reorder point of {sale.get('reorder_point') or 'none'}), all confirmed before "
        f"the sale opens, then reserved by {sale['workers']} threads at once through the real ReserveStock use case and the DynamoDB adapters on the "
        "embedded cloud's DynamoDB (in-process: no Lambda or Step Functions in the way). A conflict is a "
        "reservation's TransactWriteItems cancelled because the stock moved after it was read; the order is read "
        "again and decided again (reserved, or refused as out of stock).",
        "",
        "| Figure | Value |",
        "|---|---:|",
        f"| Orders attempted | {sale['orders_attempted']} |",
        f"| Units sold (stock {sale['stock']}) | {sale['units_sold']} |",
        f"| Orders reserved / refused out of stock / failed | {sale['orders_reserved']} / {sale['orders_refused']} / "
        f"{sale['orders_failed']} |",
        f"| Available left | {sale.get('left_available', '')} |",
        f"| Reservation transactions | {sale['transactions']} |",
        f"| Conflicts (cancelled transactions: {reasons}) | {sale['conflicts']} |",
        f"| Conflict rate (conflicts / transactions) | {sale['conflict_rate']:.1%} |",
        f"| Orders that retried | {sale['orders_that_retried']} |",
        f"| Retries per order p50 / p99 / max | {sale['retries_per_order_p50']} / {sale['retries_per_order_p99']} / "
        f"{sale['retries_per_order_max']} |",
        f"| Reservations/s until sold out ({sale.get('sold_out_s', '')} s) | {sale['reservations_per_s']} |",
        f"| Orders decided/s (reserved or refused, whole sale) | {sale['orders_decided_per_s']} |",
        f"| Low-stock alerts | {sale['low_stock_alerts']} |",
        f"| Wall time of the sale (s) | {sale['wall_s']} |",
        "",
        "What this does and does not say. The embedded cloud runs one DynamoDB request at a time (moto's backend is "
        "not thread-safe), so the rate here is this machine's and moto's, not DynamoDB's, and the only conflicts "
        "it can show are reads gone stale before the commit (ConditionalCheckFailed: at the reorder point and when "
        "the stock runs out). On DynamoDB the limit of one stock item is its partition's 1,000 write units a second, "
        "2 per transactional hold of an item under 1 KB, so at most 500 holds a second, and less in practice: "
        "transactions that touch the item at the same moment are cancelled with TransactionConflict (retried by "
        "the unit of work with backoff). docs/architecture.md \"Hot SKUs\" has the figures, how Dawra goes past "
        "them (the stock split across counter items) and what is built.",
        "",
    ]
