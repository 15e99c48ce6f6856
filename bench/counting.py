"""Counting every AWS request the process makes, by service and operation, with DynamoDB capacity units.

How: :func:`install` wraps ``botocore.client.BaseClient._make_api_call`` once, so every client is seen — the
handlers' cached clients (dawra.adapters.aws), moto's Step Functions interpreter clients, the pollers' and the
gateway's clients — whatever session created them. A :class:`Recorder` is active while something is being
measured; requests made on a thread inside :func:`driver` (the benchmark's own reads: waiting for an order, finding
tracking numbers, reading the execution history) are not counted. Nothing is subtracted by hand.

DynamoDB units are computed here, the way DynamoDB bills on-demand capacity, from item sizes (moto's
ReturnConsumedCapacity is not reliable):
- write: 1 WRU per started 1 KB of the larger of the item before and after the write (a delete: the item before),
  minimum 1; a refused conditional write still costs its units; transactional writes (every Put, Update, Delete and
  ConditionCheck in TransactWriteItems, also when the transaction is cancelled) cost 2x;
- each global secondary index whose keys the item has (before or after) adds its own write (2 when the index key
  changes: delete + put), of the projected size (ALL: the item);
- read: 1 RRU per started 4 KB, strongly consistent; eventually consistent (the default, and always on a GSI) 0.5x;
  transactional 2x; Query and Scan round the total of the returned items, GetItem and BatchGetItem each item;
  a read that finds nothing still costs the minimum.
Item sizes follow DynamoDB's rules: attribute name bytes + value bytes; strings UTF-8 bytes; numbers
(significant digits / 2) + 1 bytes, roughly; binary raw bytes; booleans and null 1 byte; lists and maps 3 bytes plus
1 per element plus the elements (map keys included).

Before and after images of written items are read straight from moto's backend (no request is made).
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from dawra.topology import TOPOLOGY

_local = threading.local()
_active: Recorder | None = None
_installed = False
_TABLES = {table.name: table for table in TOPOLOGY.tables}
# What the embedded cloud's schedule poller asks moto to emulate EventBridge Scheduler firing a one-time schedule;
# on AWS the scheduler does it by itself, unbilled: not a request of Dawra's (its CreateSchedule is).
SCHEDULER_EMULATION = frozenset({"ListSchedules", "GetSchedule", "DeleteSchedule"})


# --- item sizes ---------------------------------------------------------------------------------------------------

def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """Size in bytes of one low-level attribute value ({"S": "..."}, {"N": "12"}, {"M": {...}}, ...)."""
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return _number_size(str(inner))
    if kind == "B":  # raw bytes; moto keeps a binary value as the base64 text it was sent as
        return len(inner) if isinstance(inner, (bytes, bytearray)) else len(base64.b64decode(str(inner)))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode()) for v in inner)
    if kind == "NS":
        return sum(_number_size(str(v)) for v in inner)
    if kind == "BS":
        return sum(len(v) for v in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def read_units(size: int) -> int:
    return max(1, math.ceil(size / 4096))


# --- moto's view of an item (no request) ----------------------------------------------------------------------------

def _stored_item(table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
    from moto.dynamodb.models import dynamodb_backends

    from dawra.local.cloud import _dynamodb_lock

    with _dynamodb_lock:
        try:
            item = dynamodb_backends["123456789012"]["us-east-1"].get_item(table_name, key)
        except Exception:  # noqa: BLE001 - a missing table or key shape is the request's problem, not ours
            return None
        return item.to_json()["Attributes"] if item is not None else None


def _key_of(table_name: str, item: dict[str, Any]) -> dict[str, Any]:
    table = _TABLES.get(table_name)
    if table is None:
        return {}
    names = [table.keys.partition_key] + ([table.keys.sort_key] if table.keys.sort_key else [])
    return {name: item[name] for name in names if name in item}


def _kind_of(key: dict[str, Any]) -> str:
    """What kind of item a key names, without its ids: `ORDER`, `SHIPMENT#`, `STOCK#`... (the sort key's prefix)."""
    sort = next((value for name, value in key.items() if name != "pk"), None) or key.get("pk", {})
    text = str(next(iter(sort.values()), "")) if isinstance(sort, dict) else str(sort)
    return text.split("#", 1)[0] + ("#" if "#" in text else "")


def _index_writes(table_name: str, before: dict | None, after: dict | None) -> int:
    table = _TABLES.get(table_name)
    if table is None or before == after:
        return 0
    units = 0
    for index in table.indexes:
        names = [index.partition_key] + ([index.sort_key] if index.sort_key else [])

        def key(image, names=names):
            if not image or not all(n in image for n in names):
                return None
            return tuple(str(image[n]) for n in names)

        old, new = key(before), key(after)
        projected = item_size if index.projection == "ALL" else (
            lambda image, names=names: item_size({n: image[n] for n in names}))
        if old is None and new is None:
            continue
        if index.projection == "KEYS_ONLY" and old == new:
            continue  # neither the index keys nor projected attributes changed: DynamoDB writes nothing to it
        if old is not None and new is not None and old != new:
            units += write_units(projected(before)) + write_units(projected(after))
        elif new is not None:
            units += write_units(projected(after))
        else:
            units += write_units(projected(before))
    return units


# --- the recorder ---------------------------------------------------------------------------------------------------

@dataclass
class Recorder:
    requests: Counter = field(default_factory=Counter)  # (service, operation) -> count
    wru: float = 0.0
    rru: float = 0.0
    wru_by_operation: Counter = field(default_factory=Counter)
    rru_by_operation: Counter = field(default_factory=Counter)
    transact_write_items: list[int] = field(default_factory=list)  # items in each TransactWriteItems
    gsi_wru: float = 0.0  # the part of wru written to global secondary indexes
    empty_receives: int = 0  # SQS ReceiveMessage that returned nothing (idle polling; not per order)
    stream_requests: int = 0  # DynamoDB Streams DescribeStream/GetShardIterator/GetRecords by the mapping
    scheduler_emulation: int = 0  # the embedded cloud firing schedules (List/Get/DeleteSchedule): AWS does it itself
    lambda_seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # Per function, what its invocations carried: the records of an event source mapping's batch (a queue's
    # messages, a stream's records), 1 for any other invocation. Each record in an invocation of its own is what an
    # order's events spread over days would cost; the bench carries an order in about a second, so they share one.
    lambda_records: Counter = field(default_factory=Counter)
    largest_item: tuple[int, str] = (0, "")  # the largest item written (bytes, the kind of item: its sort key's prefix)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, service: str, operation: str | None = None) -> int:
        return sum(n for (s, o), n in self.requests.items() if s == service and (operation is None or o == operation))

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "requests": {f"{s}:{o}": n for (s, o), n in sorted(self.requests.items())},
                "dynamodb_write_units": self.wru,
                "dynamodb_read_units": self.rru,
                "wru_by_operation": dict(self.wru_by_operation),
                "gsi_write_units": self.gsi_wru,
                "transact_write_items": list(self.transact_write_items),
                "rru_by_operation": dict(self.rru_by_operation),
                "empty_sqs_receives": self.empty_receives,
                "dynamodb_streams_requests": self.stream_requests,
                "scheduler_emulation_requests": self.scheduler_emulation,
                "lambda_records": dict(self.lambda_records),
                "largest_item_bytes": self.largest_item[0],
                "largest_item_kind": self.largest_item[1],
            }

    # DynamoDB ------------------------------------------------------------------------------------------------------
    def _before_dynamodb(self, operation: str, params: dict) -> Any:
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            table = params["TableName"]
            key = params.get("Key") or _key_of(table, params.get("Item", {}))
            return [(table, key, _stored_item(table, key), 1)]
        if operation == "TransactWriteItems":
            images = []
            for entry in params["TransactItems"]:
                (kind, body), = entry.items()
                table = body["TableName"]
                key = body.get("Key") or _key_of(table, body.get("Item", {}))
                images.append((table, key, _stored_item(table, key), 2 if kind != "ConditionCheck" else -2))
            with self.lock:
                self.transact_write_items.append(len(images))
            return images
        if operation == "BatchWriteItem":
            images = []
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    body = request.get("PutRequest") or request.get("DeleteRequest")
                    key = body.get("Key") or _key_of(table, body.get("Item", {}))
                    images.append((table, key, _stored_item(table, key), 1))
            return images
        return None

    def _after_dynamodb(self, operation: str, params: dict, response: dict | None, before: Any) -> None:
        wru = rru = gsi = 0.0
        largest = (0, "")
        if before is not None:
            for table, key, old, factor in before:
                new = _stored_item(table, key)
                largest = max(largest, (item_size(new), _kind_of(key)))
                units = write_units(max(item_size(old), item_size(new)))
                wru += abs(factor) * units
                if factor > 0:
                    gsi += _index_writes(table, old, new)
            wru += gsi
        elif operation == "GetItem":
            factor = 1.0 if params.get("ConsistentRead") else 0.5
            rru = factor * read_units(item_size((response or {}).get("Item")))
        elif operation == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                factor = 1.0 if request.get("ConsistentRead") else 0.5
                found = ((response or {}).get("Responses") or {}).get(table, [])
                missing = max(0, len(request["Keys"]) - len(found))
                rru += factor * (sum(read_units(item_size(i)) for i in found) + missing)
        elif operation in ("Query", "Scan"):
            factor = 1.0 if params.get("ConsistentRead") and not params.get("IndexName") else 0.5
            rru = factor * read_units(sum(item_size(i) for i in (response or {}).get("Items", [])))
        elif operation == "TransactGetItems":
            for result in (response or {}).get("Responses", []):
                rru += 2 * read_units(item_size(result.get("Item")))
        with self.lock:
            self.largest_item = max(self.largest_item, largest)
            self.wru += wru
            self.gsi_wru += gsi
            self.rru += rru
            if wru:
                self.wru_by_operation[operation] += wru
            if rru:
                self.rru_by_operation[operation] += rru

    # every request -------------------------------------------------------------------------------------------------
    def around(self, call, client, operation: str, params: dict):
        service = client.meta.service_model.service_name
        depth = getattr(_local, "depth", 0)
        trace = getattr(_local, "trace", None)
        if trace is not None:
            trace.append((depth, service, operation))
        _local.depth = depth + 1
        before = self._before_dynamodb(operation, params) if service == "dynamodb" else None
        started = time.perf_counter()
        response = None
        try:
            response = call(client, operation, params)
            return response
        finally:
            _local.depth = depth
            elapsed = time.perf_counter() - started
            if service == "dynamodb":
                self._after_dynamodb(operation, params, response, before)
            elif service == "lambda" and operation == "Invoke":
                name = str(params.get("FunctionName", "")).split(":function:")[-1].split(":")[0]
                records = records_carried(params.get("Payload"))
                with self.lock:
                    self.lambda_seconds[name].append(elapsed)
                    self.lambda_records[name] += records
            with self.lock:
                if service == "dynamodbstreams":
                    self.stream_requests += 1  # Lambda's stream triggers read for free; not a cost per order
                elif service == "scheduler" and operation in SCHEDULER_EMULATION:
                    self.scheduler_emulation += 1  # EventBridge Scheduler fires on its own; only CreateSchedule is ours
                elif service == "sqs" and operation == "ReceiveMessage" and response is not None \
                        and not response.get("Messages"):
                    self.empty_receives += 1  # idle poll: a fixed cost of the mapping, not a cost per order
                else:
                    self.requests[(service, operation)] += 1


def records_carried(payload: Any) -> int:
    """The records a Lambda invocation's payload carries: an event source mapping's batch (`Records`), else 1."""
    try:
        event = json.loads(payload) if isinstance(payload, (str, bytes, bytearray)) else payload
    except ValueError:
        return 1
    records = event.get("Records") if isinstance(event, dict) else None
    return len(records) if isinstance(records, list) and records else 1


def install() -> None:
    global _installed
    if _installed:
        return
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def _make_api_call(self, operation_name, api_params):
        recorder = _active
        if recorder is None or getattr(_local, "driver", False):
            return original(self, operation_name, api_params)
        return recorder.around(original, self, operation_name, api_params)

    BaseClient._make_api_call = _make_api_call
    _installed = True


@contextmanager
def recording():
    """Count every request (except the driver's) made anywhere in the process while inside."""
    global _active
    install()
    recorder = Recorder()
    previous, _active = _active, recorder
    try:
        yield recorder
    finally:
        _active = previous


@contextmanager
def driver():
    """Requests made by this thread while inside are the benchmark's own and are not counted."""
    previous = getattr(_local, "driver", False)
    _local.driver = True
    try:
        yield
    finally:
        _local.driver = previous


@contextmanager
def trace():
    """The (depth, service, operation) of every counted request made on this thread while inside, in order."""
    previous = getattr(_local, "trace", None)
    _local.trace = calls = []
    try:
        yield calls
    finally:
        _local.trace = previous
