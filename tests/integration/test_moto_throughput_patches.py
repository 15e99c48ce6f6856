"""The embedded cloud's patches for the lifecycle throughput (dawra/local/cloud.py; docs/architecture.md "The embedded
cloud's own cost"): Query and Scan answers written as JSON, stream reads filtered before they are serialised, each
state machine definition and each JSONPath parsed once, a Query on an index without sorting the whole table first.
Each must answer exactly as moto did."""

from __future__ import annotations

import json
import time

import pytest

from bench.flash_sale import tables_only_cloud
from dawra.local.cloud import filtered_stream_read

ORDERS = "dawra-orders"  # has a stream (NEW_AND_OLD_IMAGES)


@pytest.fixture(scope="module")
def cloud():
    with tables_only_cloud() as running:
        yield running


def _s(value: str) -> dict[str, str]:
    return {"S": value}


ITEM = {"pk": _s("P#json"), "sk": _s("A"), "s": _s("نص"), "n": {"N": "-12.5"}, "b": {"B": b"\x00\xffbin"},
        "bs": {"BS": [b"\x01"]}, "ss": {"SS": ["x"]}, "ns": {"NS": ["7"]},
        "m": {"M": {"inner": {"L": [{"BOOL": True}, {"NULL": True}, _s("deep"), {"B": b"\x02"}]}}}}


def test_query_and_scan_are_written_as_json_with_every_type_as_put(cloud, monkeypatch):
    from moto.core.serialize import ResponseSerializer

    ddb = cloud.client("dynamodb")
    ddb.put_item(TableName=ORDERS, Item=ITEM)
    ddb.put_item(TableName=ORDERS, Item={**ITEM, "sk": _s("B")})
    original, serialised = ResponseSerializer.serialize, []

    def spy(self, result, *args, **kwargs):
        serialised.append(result)
        return original(self, result, *args, **kwargs)

    monkeypatch.setattr(ResponseSerializer, "serialize", spy)
    queried = ddb.query(TableName=ORDERS, KeyConditionExpression="pk = :p", ExpressionAttributeValues={
        ":p": _s("P#json")})["Items"]
    scanned = [item for item in ddb.scan(TableName=ORDERS)["Items"] if item["pk"] == _s("P#json")]
    assert serialised == []  # neither answer went through moto's serializer
    assert queried == [ITEM, {**ITEM, "sk": _s("B")}]
    assert sorted(scanned, key=lambda item: item["sk"]["S"]) == queried


def _shard(cloud) -> tuple[str, str]:
    arn = cloud.resolve_ref("table", "orders", "stream_arn")
    shards = cloud.client("dynamodbstreams").describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    return arn, shards[0]["ShardId"]


def _records(cloud, after: str | None = None) -> list[dict]:
    streams = cloud.client("dynamodbstreams")
    arn, shard = _shard(cloud)
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, **(
        {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after} if after
        else {"ShardIteratorType": "TRIM_HORIZON"}))["ShardIterator"]
    return streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]


def test_a_filtered_stream_read_answers_only_the_wanted_records_and_where_it_stopped(cloud):
    ddb = cloud.client("dynamodb")
    start = (_records(cloud) or [{"dynamodb": {"SequenceNumber": None}}])[-1]["dynamodb"]["SequenceNumber"]
    for n in range(5):
        ddb.put_item(TableName=ORDERS, Item={"pk": _s("P#stream"), "sk": _s(f"S#{n}"), "kind": _s(
            "wanted" if n in (1, 3) else "other"), "blob": {"B": bytes([n])}})
    everything = _records(cloud, start)
    assert [r["dynamodb"]["NewImage"]["sk"]["S"] for r in everything] == [f"S#{n}" for n in range(5)]
    looked_at: list[str] = []

    def wanted(record: dict) -> bool:
        looked_at.append(record["dynamodb"]["NewImage"]["sk"]["S"])
        return record["dynamodb"]["NewImage"]["kind"] == {"S": "wanted"}

    with filtered_stream_read(wanted) as read:
        answered = _records(cloud, start)
    assert looked_at == [f"S#{n}" for n in range(5)]
    assert answered == [everything[1], everything[3]]  # as moto's serializer wrote them, the others not at all
    assert read.last_sequence == everything[-1]["dynamodb"]["SequenceNumber"]
    assert answered[0]["dynamodb"]["NewImage"]["blob"] == {"B": b"\x01"}
    created = answered[0]["dynamodb"]["ApproximateCreationDateTime"]
    assert abs(created.timestamp() - time.time()) < 60  # epoch seconds, parsed back into a time by botocore


def test_each_definition_is_parsed_once_and_every_execution_runs_it(cloud, monkeypatch):
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    original, parsed = AmazonStateLanguageParser.parse, []

    def spy(definition: str):
        parsed.append(definition)
        return original(definition)

    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(spy))
    sfn = cloud.client("stepfunctions")
    definition = json.dumps({"StartAt": "Double", "States": {"Double": {
        "Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.n, $.n)"}, "End": True}}})
    machine = sfn.create_state_machine(name="parse-once", definition=definition, type="STANDARD",
                                       roleArn="arn:aws:iam::123456789012:role/parse-once")["stateMachineArn"]
    outputs = []
    for n in (1, 2, 3):
        execution = sfn.start_execution(stateMachineArn=machine, name=f"run-{n}",
                                        input=json.dumps({"n": n}))["executionArn"]
        deadline = time.monotonic() + 30
        while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        outputs.append(json.loads(described["output"]))
    assert outputs == [{"twice": 2}, {"twice": 4}, {"twice": 6}]
    assert parsed.count(definition) <= 2  # creation's validation, then the first execution; none after


def test_each_json_path_is_parsed_once_and_read_afresh_by_every_execution(cloud, monkeypatch):
    from jsonpath_ng.ext.parser import ExtendedJsonPathParser

    original, parsed = ExtendedJsonPathParser.parse, []

    def spy(self, path: str):
        parsed.append(path)
        return original(self, path)

    monkeypatch.setattr(ExtendedJsonPathParser, "parse", spy)
    sfn = cloud.client("stepfunctions")
    definition = json.dumps({"StartAt": "Pick", "States": {"Pick": {
        "Type": "Pass", "Parameters": {"picked.$": "$.path_probe.value"}, "ResultPath": "$.path_probe_out",
        "End": True}}})
    machine = sfn.create_state_machine(name="path-once", definition=definition, type="STANDARD",
                                       roleArn="arn:aws:iam::123456789012:role/path-once")["stateMachineArn"]
    outputs = []
    for n in (1, 2, 3):
        execution = sfn.start_execution(stateMachineArn=machine, name=f"run-{n}",
                                        input=json.dumps({"path_probe": {"value": n}}))["executionArn"]
        deadline = time.monotonic() + 30
        while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        outputs.append(json.loads(described["output"]))
    assert outputs == [{"path_probe": {"value": n}, "path_probe_out": {"picked": n}} for n in (1, 2, 3)]
    assert parsed.count("$.path_probe.value") == 1  # the first execution's; the other two reuse its tree


def _tracked(number: int) -> dict[str, dict[str, str]]:
    return {"tracking_number": _s(f"T{number % 3}"), "status": _s(("PLACED", "SHIPPED")[number % 2]),
            "customer_id": _s(f"C{number % 2}"), "placed_at": _s(f"2026-01-{number % 5 + 1:02d}")}


def _index_writes(ddb) -> None:
    """Puts, updates that set, change and remove index keys, deletes, batches and transactions, on by-tracking-number
    (no sort key), by-status and by-customer (sort key placed_at): items enter, move between and leave index keys."""
    for n in range(12):
        ddb.put_item(TableName=ORDERS, Item={"pk": _s(f"ORDER#ix{n % 4}"), "sk": _s(f"SHIPMENT#{n:02d}"),
                                             **_tracked(n)})
    ddb.update_item(TableName=ORDERS, Key={"pk": _s("ORDER#ix1"), "sk": _s("SHIPMENT#01")},
                    UpdateExpression="SET tracking_number = :t, placed_at = :p",
                    ExpressionAttributeValues={":t": _s("T2"), ":p": _s("2026-01-09")})
    ddb.update_item(TableName=ORDERS, Key={"pk": _s("ORDER#ix2"), "sk": _s("SHIPMENT#02")},
                    UpdateExpression="REMOVE tracking_number, #s", ExpressionAttributeNames={"#s": "status"})
    ddb.update_item(TableName=ORDERS, Key={"pk": _s("ORDER#ix0"), "sk": _s("SHIPMENT#new")},
                    UpdateExpression="SET tracking_number = :t, #s = :s, customer_id = :c, placed_at = :p",
                    ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={
                        ":t": _s("T0"), ":s": _s("SHIPPED"), ":c": _s("C1"), ":p": _s("2026-01-01")})
    ddb.delete_item(TableName=ORDERS, Key={"pk": _s("ORDER#ix3"), "sk": _s("SHIPMENT#03")})
    ddb.batch_write_item(RequestItems={ORDERS: [
        {"PutRequest": {"Item": {"pk": _s("ORDER#ix3"), "sk": _s("SHIPMENT#07"), **_tracked(8)}}},
        {"DeleteRequest": {"Key": {"pk": _s("ORDER#ix0"), "sk": _s("SHIPMENT#04")}}}]})
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": ORDERS, "Item": {"pk": _s("ORDER#ix1"), "sk": _s("SHIPMENT#tx"), **_tracked(1)}}},
        {"Update": {"TableName": ORDERS, "Key": {"pk": _s("ORDER#ix2"), "sk": _s("SHIPMENT#06")},
                    "UpdateExpression": "SET tracking_number = :t", "ExpressionAttributeValues": {":t": _s("T1")}}},
        {"Delete": {"TableName": ORDERS, "Key": {"pk": _s("ORDER#ix1"), "sk": _s("SHIPMENT#05")}}}])
    with pytest.raises(ddb.exceptions.TransactionCanceledException):  # cancelled: none of it is written
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": ORDERS, "Item": {"pk": _s("ORDER#ix2"), "sk": _s("SHIPMENT#no"), **_tracked(0)}}},
            {"ConditionCheck": {"TableName": ORDERS, "Key": {"pk": _s("ORDER#ix0"), "sk": _s("SHIPMENT#00")},
                                "ConditionExpression": "attribute_not_exists(pk)"}}])


INDEX_QUERIES = [
    *({"IndexName": "by-tracking-number", "KeyConditionExpression": "tracking_number = :k",
       "ExpressionAttributeValues": {":k": _s(f"T{n}")}} for n in (0, 1, 2, 9)),
    *({"IndexName": "by-status", "KeyConditionExpression": "#s = :k", "ExpressionAttributeNames": {"#s": "status"},
       "ExpressionAttributeValues": {":k": _s(status)}, "ScanIndexForward": forward}
      for status in ("PLACED", "SHIPPED") for forward in (True, False)),
    {"IndexName": "by-customer", "KeyConditionExpression": "customer_id = :k AND placed_at BETWEEN :lo AND :hi",
     "ExpressionAttributeValues": {":k": _s("C1"), ":lo": _s("2026-01-02"), ":hi": _s("2026-01-09")}},
    {"IndexName": "by-customer", "KeyConditionExpression": "customer_id = :k", "Limit": 2,
     "ExpressionAttributeValues": {":k": _s("C0")}},
]


def _every_page(ddb, query: dict) -> list[list[dict]]:
    pages, kwargs = [], {"TableName": ORDERS, **query}
    while True:
        page = ddb.query(**kwargs)
        pages.append(page["Items"])
        if "LastEvaluatedKey" not in page:
            return pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_a_query_on_an_index_answers_as_moto_does_without_sorting_the_table_first(cloud, monkeypatch):
    from moto.dynamodb.models.table import Table

    from dawra.local import cloud as embedded

    ddb = cloud.client("dynamodb")
    _index_writes(ddb)
    sorted_whole_table = []
    original_all_items = Table.all_items
    monkeypatch.setattr(Table, "all_items",
                        lambda self: sorted_whole_table.append(self.name) or original_all_items(self))
    patched = [_every_page(ddb, query) for query in INDEX_QUERIES]
    assert sorted_whole_table == []
    monkeypatch.setattr(embedded, "_Unsorted", lambda table: table)  # moto's own Query: the whole table, sorted
    own = [_every_page(ddb, query) for query in INDEX_QUERIES]
    assert sorted_whole_table  # moto's own path did run
    assert patched == own
    # T2: 02 left by a REMOVE, 05 by a transaction's delete; 01 came by an update, 07 by a batch's overwrite
    assert {item["sk"]["S"] for page in patched[2] for item in page} == {f"SHIPMENT#{n}" for n in ("01", "07", "08",
                                                                                                "11")}
    assert len(patched[-1]) > 1  # the Limit query went through its pages


def test_an_invocation_about_one_order_wakes_that_orders_waiter_and_not_anothers(monkeypatch):
    """The in-process runtime says which order an invocation was about (a workflow task's payload names it), so a
    driver waiting for its order's booking is not woken to read its order by another order's booking."""
    from contextlib import contextmanager

    from dawra.local import activity
    from dawra.local.cloud import InProcessLambda
    from dawra.topology import TOPOLOGY

    lambdas = InProcessLambda(TOPOLOGY)
    ship = TOPOLOGY.function("ship-order")

    class Runtime:
        function = ship

        @contextmanager
        def container(self):
            yield lambda event, context: {"ok": True}

    monkeypatch.setitem(lambdas.by_name, ship.name, Runtime())
    told: list[tuple[str, ...]] = []
    monkeypatch.setattr(activity, "changed", lambda *keys: told.append(keys))
    lambdas.invoke(ship.name, "arn", {"action": "ship_shipment", "order_id": "ord_mine", "shipment_id": "s1"})
    lambdas.invoke(ship.name, "arn", {"Records": []})  # a batch of many orders' records: about none in particular
    assert told == [(ship.name, activity.about(ship.name, "ord_mine")), (ship.name,)]
    assert activity.about(ship.name, "ord_mine") != activity.about(ship.name, "ord_other")
