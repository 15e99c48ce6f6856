"""The embedded cloud's patches for the lifecycle throughput (dawra/local/cloud.py; docs/architecture.md "The embedded
cloud's own cost"): Query and Scan answers written as JSON, stream reads filtered before they are serialised, each
state machine definition parsed once. Each must answer exactly as moto did."""

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
