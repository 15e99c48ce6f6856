"""Orders on the local stack: what one order costs in requests, checkout latency, lifecycle throughput and its floor."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from bench import counting
from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.adapters.dynamo.orders import DynamoOrders
from dawra.local import activity
from dawra.local.actors import SandboxCarrierSimulator, Storefront
from dawra.local.demo import DEMO_ORDERS
from dawra.local.seed import CATALOG, LOCATIONS, STOCK
from dawra.local.stack import LocalStack

# The demo's first order ships from one location; the second is split between Jeddah and Riyadh (and asks for SMS).
SINGLE_SHIPMENT_ORDER = DEMO_ORDERS[0][1]
SPLIT_ORDER = DEMO_ORDERS[1][1]
STOCK_SCALE = 100_000  # the demo's stock, scaled so that hundreds of orders never run out


class Bench:
    """A LocalStack with enough stock, a storefront, the sandbox carrier and direct (driver) readers."""

    def __init__(self, aws_port: int | None = None):
        """aws_port: 0 to serve moto's HTTP endpoint too (the console verifies sign-ins with the pool's JWKS there)."""
        self.stack = LocalStack(aws_port=aws_port)

    def __enter__(self) -> Bench:
        self.stack.start()
        cloud = self.stack.cloud
        with counting.driver():
            inventory = DynamoInventory(cloud.resolve_ref("table", "inventory", "name"))
            for item in CATALOG:
                inventory.put_catalog_item(item)
            for location in LOCATIONS:
                inventory.put_location(location)
            for (sku, location_id), units in STOCK.items():
                inventory.set_stock(sku, location_id, units * STOCK_SCALE)
            secret = cloud.client("secretsmanager").get_secret_value(
                SecretId=cloud.resolve_ref("secret", "carrier-sandbox-webhook", "name"))["SecretString"]
        self.orders = DynamoOrders(cloud.resolve_ref("table", "orders", "name"))
        self.store = Storefront(self.stack.gateway.url)
        self.carrier = SandboxCarrierSimulator(self.stack.gateway.url, secret)
        self.execution_prefix = cloud.resolve_ref("state_machine", "order-lifecycle", "arn").replace(
            ":stateMachine:", ":execution:")
        self.booking_function = cloud.topology.function("ship-order").name  # books each shipment with the carrier
        return self

    def __exit__(self, *exc) -> None:
        self.stack.stop()

    # the driver's own reads (not counted) ----------------------------------------------------------------------------
    def execution_arn(self, order_id: str) -> str:
        return f"{self.execution_prefix}:{order_id}"

    def execution_status(self, order_id: str) -> str | None:
        with counting.driver():
            try:
                return self.stack.cloud.client("stepfunctions").describe_execution(
                    executionArn=self.execution_arn(order_id))["status"]
            except Exception:  # noqa: BLE001 - not started yet
                return None

    def history(self, order_id: str) -> list[dict]:
        return self.history_of(self.execution_arn(order_id))

    def history_of(self, execution_arn: str) -> list[dict]:
        """Every event of one execution (of any state machine)."""
        events, token = [], None
        with counting.driver():
            client = self.stack.cloud.client("stepfunctions")
            while True:
                page = client.get_execution_history(executionArn=execution_arn, maxResults=1000,
                                                    **({"nextToken": token} if token else {}))
                events += page["events"]
                token = page.get("nextToken")
                if not token:
                    return events

    def tracked_shipments(self, order_id: str, timeout_s: float = 60) -> list:
        """Wait until every shipment of the order is booked with the carrier; its tracking numbers. The order is read
        again when an invocation of ship-order about this order (a booking) or this order's execution ends, not on
        another order's booking nor on every change in the cloud."""
        def booked() -> list | None:
            with counting.driver():
                order = self.orders.get(order_id)
            if order is not None and order.status == "CANCELLED":
                raise RuntimeError(f"order {order_id} was cancelled")
            shipments = order.shipments if order is not None else []
            return [s.tracking_number for s in shipments] if shipments and all(
                s.tracking_number for s in shipments) else None

        tracking_numbers = activity.wait_for(booked, timeout_s,
                                             on=(activity.about(self.booking_function, order_id),
                                                 self.execution_arn(order_id)))
        if tracking_numbers is None:
            raise TimeoutError(f"order {order_id}: shipments not booked")
        return tracking_numbers

    def _status_of(self, execution_arn: str) -> str | None:
        with counting.driver():
            try:
                return self.stack.cloud.client("stepfunctions").describe_execution(
                    executionArn=execution_arn)["status"]
            except Exception:  # noqa: BLE001 - not started yet
                return None

    def wait_execution(self, execution_arn: str, timeout_s: float = 60, status: str = "SUCCEEDED") -> None:
        """Until the execution (of any state machine) has reached `status`; checked when that execution ends in the
        cloud (dawra/local/activity.py; at the latest each second), not in a polling loop nor on every change."""
        def ended() -> str | None:
            current = self._status_of(execution_arn)
            return current if current == status or current in ("FAILED", "ABORTED", "TIMED_OUT") else None

        current = activity.wait_for(ended, timeout_s, on=(execution_arn,))
        if current != status:
            raise RuntimeError(f"execution {execution_arn.rsplit(':', 1)[-1]} is "
                               f"{current or self._status_of(execution_arn)}")

    def wait_status(self, order_id: str, status: str = "SUCCEEDED", timeout_s: float = 60) -> None:
        self.wait_execution(self.execution_arn(order_id), timeout_s, status)

    # one order, outside in ---------------------------------------------------------------------------------------------
    def place(self, order: dict) -> str:
        result = self.store.place_order(order, f"bench-{uuid.uuid4()}")
        if result.status != 201:
            raise RuntimeError(f"checkout refused: {result.status} {result.body}")
        return result.body["order_id"]

    def carry(self, order: dict) -> str:
        """Checkout to Completed: place, let the carrier deliver every shipment, wait for the execution to succeed."""
        order_id = self.place(order)
        for tracking_number in self.tracked_shipments(order_id):
            self.carrier.deliver(tracking_number)
        self.wait_status(order_id)
        return order_id


def _settle(recorder: counting.Recorder, quiet_s: float = 1.0, timeout_s: float = 30) -> None:
    """Wait until no counted request has been made for quiet_s (the notifier and pollers are done)."""
    deadline = time.monotonic() + timeout_s
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        current = sum(recorder.requests.values())
        if current != last:
            last, since = current, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.05)


def settle(bench: Bench) -> None:
    """Let whatever earlier orders still have in flight (late notifications) finish, uncounted."""
    with counting.recording() as recorder:
        _settle(recorder)


def measure_order(bench: Bench, order: dict, repeat: int = 1) -> dict[str, Any]:
    """Every request `repeat` orders make, one after another, from checkout to the last notification; per order."""
    settle(bench)
    gateway_before = bench.stack.gateway.requests
    invocations_before = dict(bench.stack.cloud.lambdas.invocations)
    order_ids = []
    with counting.recording() as recorder:
        for _ in range(repeat):
            order_ids.append(bench.carry(order))
        _settle(recorder)
    histories = [bench.history(order_id) for order_id in order_ids]
    header = counting._stored_item(bench.orders.table.name, {"pk": {"S": f"ORDER#{order_ids[-1]}"}, "sk": {"S": "ORDER"}})
    return {"orders_measured": repeat,
            **figures(bench, recorder, histories, repeat, invocations_before, gateway_before),
            "order_header_item_bytes": counting.item_size(header),
            "order_ids": order_ids}


def figures(bench: Bench, recorder: counting.Recorder, histories: list[list[dict]], repeat: int,
            invocations_before: dict[str, int], gateway_before: int) -> dict[str, Any]:
    """What a recording saw, per measured item (`repeat` of them): requests, units, invocations, transitions."""
    invocations = {name: n - invocations_before.get(name, 0)
                   for name, n in bench.stack.cloud.lambdas.invocations.items()}
    snapshot = recorder.snapshot()

    def per(value: float) -> float:
        return round(value / repeat, 2)

    transactions = snapshot["transact_write_items"]
    return {
        "lambda_invocations": per(recorder.count("lambda", "Invoke")),
        "lambda_invocations_by_function": {k: per(v) for k, v in invocations.items() if v},
        # each record in an invocation of its own: an order's events spread over days (counting.Recorder)
        "lambda_invocations_one_record_each": per(sum(snapshot["lambda_records"].values())),
        "lambda_records_by_function": {k: per(v) for k, v in sorted(snapshot["lambda_records"].items())},
        "lambda_seconds_by_function": {k: sum(v) / repeat for k, v in recorder.lambda_seconds.items()},
        "state_transitions": per(sum(1 for h in histories for e in h if e["type"].endswith("StateEntered"))),
        "history_events": per(sum(len(h) for h in histories)),
        "dynamodb_write_units": per(snapshot["dynamodb_write_units"]),
        "dynamodb_read_units": per(snapshot["dynamodb_read_units"]),
        "sqs_requests": per(recorder.count("sqs")),
        "sns_requests": per(recorder.count("sns")),
        "ses_requests": per(recorder.count("ses")),
        "secretsmanager_requests": per(recorder.count("secretsmanager")),
        "stepfunctions_api_requests": per(recorder.count("stepfunctions")),
        "apigw_requests": per(bench.stack.gateway.requests - gateway_before),
        "aws_requests": per(sum(snapshot["requests"].values())),
        "requests": {k: per(v) for k, v in snapshot["requests"].items()},
        "wru_by_operation": {k: per(v) for k, v in snapshot["wru_by_operation"].items()},
        "rru_by_operation": {k: per(v) for k, v in snapshot["rru_by_operation"].items()},
        "gsi_write_units": per(snapshot["gsi_write_units"]),
        "transact_write_requests": per(len(transactions)),
        "transact_write_items": per(sum(transactions)),
        "dynamodb_streams_requests_not_billed": per(snapshot["dynamodb_streams_requests"]),
        "empty_sqs_receives_not_per_order": per(snapshot["empty_sqs_receives"]),
        "scheduler_emulation_not_per_order": per(snapshot["scheduler_emulation_requests"]),
        "largest_item_bytes": snapshot["largest_item_bytes"],
        "largest_item_kind": snapshot["largest_item_kind"],
    }


# --- checkout -----------------------------------------------------------------------------------------------------

def _post_orders_request(order: dict) -> Request:
    body = json.dumps(order).encode()
    return Request(EnvironBuilder(method="POST", path="/orders", data=body, headers={
        "Content-Type": "application/json", "Idempotency-Key": f"bench-{uuid.uuid4()}"}).get_environ())


def measure_checkout(orders: int, batch: int = 25) -> dict[str, Any]:
    """POST /orders through the gateway's handler in-process (no socket): requests in one checkout, latency.

    Checkouts run one at a time, each order's lifecycle left to come to rest (booked, waiting for the carrier) before
    the next, in batches on a fresh embedded cloud: moto answers global-secondary-index queries by scanning the whole
    table, so on one cloud some requests get slower as data accumulates, and hundreds of orders would measure that."""
    latencies: list[float] = []
    inside: list[str] = []
    while len(latencies) < orders:
        with Bench() as bench:
            bench.carry(SINGLE_SHIPMENT_ORDER)  # warm every function once
            if not inside:
                with counting.recording(), counting.trace() as calls:
                    response = bench.stack.gateway.handle(_post_orders_request(SINGLE_SHIPMENT_ORDER))
                if response.status_code != 201:
                    raise RuntimeError(f"checkout refused: {response.status_code} {response.get_data()!r}")
                inside = [f"{service}:{operation}" for depth, service, operation in calls if depth == 1]
                bench.tracked_shipments(json.loads(response.get_data())["order_id"])
            for _ in range(min(batch, orders - len(latencies))):
                request = _post_orders_request(SINGLE_SHIPMENT_ORDER)
                started = time.perf_counter()
                response = bench.stack.gateway.handle(request)
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code != 201:
                    raise RuntimeError(f"checkout refused: {response.status_code}")
                bench.tracked_shipments(json.loads(response.get_data())["order_id"])
    latencies.sort()
    return {
        "sequential_aws_requests": len(inside),
        "requests_in_order": inside,
        "orders": orders,
        "orders_per_fresh_cloud": batch,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, round(0.99 * len(latencies)) - 1)], 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
    }


# --- throughput ---------------------------------------------------------------------------------------------------

def measure_throughput(bench: Bench, concurrency: int, orders_per_worker: int) -> dict[str, Any]:
    bench.carry(SINGLE_SHIPMENT_ORDER)  # warm every function once
    errors: list[BaseException] = []

    def worker() -> int:
        done = 0
        for _ in range(orders_per_worker):
            try:
                bench.carry(SINGLE_SHIPMENT_ORDER)
                done += 1
            except BaseException as error:  # noqa: BLE001 - counted as not carried
                errors.append(error)
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        completed = sum(pool.map(lambda _: worker(), range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"concurrency": concurrency, "orders": completed, "failed": len(errors), "wall_s": round(elapsed, 3),
            "orders_per_s": round(completed / elapsed, 2),
            "first_error": repr(errors[0]) if errors else None}


# The floor: the requests one order makes, replayed as plain requests of the same kind against the embedded cloud.
def _replayer(cloud, scratch: dict[str, str]):
    ddb, sqs, sns, ses = (cloud.client(s) for s in ("dynamodb", "sqs", "sns", "ses"))
    lam, sfn, sm = cloud.client("lambda"), cloud.client("stepfunctions"), cloud.client("secretsmanager")
    table, queue = scratch["table"], scratch["queue"]
    padding = "x" * 600  # items of roughly the size Dawra writes

    def key() -> dict:
        return {"pk": {"S": f"k{uuid.uuid4().hex[:6]}"}, "sk": {"S": "s"}}

    def replay(service: str, operation: str) -> None:
        if service == "dynamodb":
            if operation in ("GetItem",):
                ddb.get_item(TableName=table, Key=key())
            elif operation == "BatchGetItem":
                ddb.batch_get_item(RequestItems={table: {"Keys": [key(), key()]}})
            elif operation == "Query":
                ddb.query(TableName=table, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "k0"}})
            elif operation == "TransactWriteItems":
                ddb.transact_write_items(TransactItems=[
                    {"Put": {"TableName": table, "Item": {**key(), "d": {"S": padding}}}} for _ in range(3)])
            elif operation == "UpdateItem":
                ddb.update_item(TableName=table, Key=key(), UpdateExpression="SET d = :d",
                                ExpressionAttributeValues={":d": {"S": padding}})
            elif operation == "DeleteItem":
                ddb.delete_item(TableName=table, Key=key())
            else:  # PutItem and anything else that writes
                ddb.put_item(TableName=table, Item={**key(), "d": {"S": padding}})
        elif service == "sqs":
            if operation == "SendMessage":
                sqs.send_message(QueueUrl=queue, MessageBody=padding)
            elif operation == "ReceiveMessage":
                sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
            else:
                sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])
        elif service == "sns":
            sns.publish(PhoneNumber="+15555550100", Message=padding[:100])
        elif service == "ses":
            sender = cloud.resolve_ref("parameter", "sender-email", "value")
            ses.send_email(Source=sender, Destination={"ToAddresses": ["floor@example.com"]},
                           Message={"Subject": {"Data": "floor"}, "Body": {"Text": {"Data": padding}}})
        elif service == "lambda":
            lam.get_function(FunctionName=scratch["function"])
        elif service == "stepfunctions":
            sfn.describe_state_machine(stateMachineArn=scratch["state_machine"])
        elif service == "secretsmanager":
            sm.describe_secret(SecretId=scratch["secret"])
    return replay


def measure_floor(bench: Bench, mix: dict[str, int], concurrency: int, orders_per_worker: int) -> dict[str, Any]:
    cloud = bench.stack.cloud
    with counting.driver():
        cloud.client("dynamodb").create_table(
            TableName="bench-floor", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}])
        queue = cloud.client("sqs").create_queue(QueueName="bench-floor")["QueueUrl"]
    scratch = {"table": "bench-floor", "queue": queue,
               "function": cloud.topology.function("orders-api").name,
               "state_machine": cloud.resolve_ref("state_machine", "order-lifecycle", "arn"),
               "secret": cloud.resolve_ref("secret", "carrier-sandbox-webhook", "name")}
    replay = _replayer(cloud, scratch)
    sequence = [tuple(name.split(":", 1)) for name, n in sorted(mix.items()) for _ in range(n)]

    def worker() -> None:
        for _ in range(orders_per_worker):
            for service, operation in sequence:
                replay(service, operation)

    with counting.driver():
        replay("dynamodb", "PutItem")
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda _: worker(), range(concurrency)))
    elapsed = time.perf_counter() - started
    orders = concurrency * orders_per_worker
    return {"orders": orders, "requests_per_order": len(sequence), "wall_s": round(elapsed, 3),
            "floor_orders_per_s": round(orders / elapsed, 2)}


def request_mix(per_order: dict[str, Any]) -> dict[str, int]:
    """The requests of one order that the floor replays (every counted request, by service and operation)."""
    return {name: round(n) for name, n in per_order["requests"].items()}

