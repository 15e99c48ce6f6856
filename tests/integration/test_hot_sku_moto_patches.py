"""The embedded cloud's two speed patches to moto's DynamoDB (dawra/local/cloud.py; docs/architecture.md "Hot
SKUs"): a Query on a table's key lists only that partition, and data-plane results are written as JSON. Both must
answer exactly as moto did: key conditions, order, pages and limits; index queries; every attribute type back as
written; cancellations with their reasons."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from bench.flash_sale import tables_only_cloud


@pytest.fixture(scope="module")
def ddb():
    with tables_only_cloud() as cloud:
        yield cloud.client("dynamodb"), cloud.resolve_ref("table", "inventory", "name")


def _s(value: str) -> dict[str, str]:
    return {"S": value}


@pytest.fixture(scope="module")
def stored(ddb):
    client, table = ddb
    for pk in ("P#a", "P#b", "P#c"):
        for n in range(7):
            client.put_item(TableName=table, Item={"pk": _s(pk), "sk": _s(f"S#{n:02d}"), "n": {"N": str(n)},
                                                   "at_location": _s(f"loc-{pk[-1]}"), "listing": _s(f"L#{n:02d}")})
    return client, table


def _query(client, table, **kwargs):
    return client.query(TableName=table, **kwargs)


def test_a_query_on_the_key_answers_its_partition_only_in_order_with_conditions(stored):
    client, table = stored
    page = _query(client, table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": _s("P#b")})
    assert [i["sk"]["S"] for i in page["Items"]] == [f"S#{n:02d}" for n in range(7)]
    assert {i["pk"]["S"] for i in page["Items"]} == {"P#b"} and page["Count"] == 7
    between = _query(client, table, KeyConditionExpression="pk = :p AND sk BETWEEN :lo AND :hi",
                     ExpressionAttributeValues={":p": _s("P#a"), ":lo": _s("S#02"), ":hi": _s("S#04")},
                     ScanIndexForward=False)
    assert [i["sk"]["S"] for i in between["Items"]] == ["S#04", "S#03", "S#02"]
    filtered = _query(client, table, KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                      FilterExpression="n >= :min", ExpressionAttributeValues={":p": _s("P#c"), ":s": _s("S#0"),
                                                                               ":min": {"N": "5"}})
    assert [i["n"]["N"] for i in filtered["Items"]] == ["5", "6"] and filtered["ScannedCount"] == 7
    assert _query(client, table, KeyConditionExpression="pk = :p",
                  ExpressionAttributeValues={":p": _s("P#none")})["Items"] == []


def test_a_query_on_the_key_pages_by_its_limit(stored):
    client, table = stored
    seen, kwargs = [], {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": _s("P#a")},
                        "Limit": 3}
    while True:
        page = _query(client, table, **kwargs)
        seen.append([i["sk"]["S"] for i in page["Items"]])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert seen == [["S#00", "S#01", "S#02"], ["S#03", "S#04", "S#05"], ["S#06"]]


def test_a_query_on_an_index_is_moto_s_own(stored):
    client, table = stored
    page = _query(client, table, IndexName="by-location", KeyConditionExpression="at_location = :l",
                  ExpressionAttributeValues={":l": _s("loc-b")})
    assert len(page["Items"]) == 7 and {i["pk"]["S"] for i in page["Items"]} == {"P#b"}


def test_every_attribute_type_comes_back_as_written(ddb):
    client, table = ddb
    item = {"pk": _s("T#types"), "sk": _s("ONE"), "s": _s("نص"), "n": {"N": "-12.5"}, "b": {"B": b"\x00\xffbin"},
            "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": [b"\x01", b"\x02"]},
            "m": {"M": {"inner": {"L": [{"BOOL": True}, {"NULL": True}, _s("deep")]}}}}
    client.put_item(TableName=table, Item=item)
    got = client.get_item(TableName=table, Key={"pk": _s("T#types"), "sk": _s("ONE")}, ConsistentRead=True,
                          ReturnConsumedCapacity="TOTAL")
    assert got["Item"]["b"] == {"B": b"\x00\xffbin"} and sorted(got["Item"]["bs"]["BS"]) == [b"\x01", b"\x02"]
    assert {k: v for k, v in got["Item"].items() if k not in ("ss", "ns", "bs")} == {
        k: v for k, v in item.items() if k not in ("ss", "ns", "bs")}
    assert sorted(got["Item"]["ss"]["SS"]) == ["x", "y"] and sorted(got["Item"]["ns"]["NS"]) == ["1", "2"]
    assert got["ConsumedCapacity"]["TableName"] == table
    batch = client.batch_get_item(RequestItems={table: {"Keys": [{"pk": _s("T#types"), "sk": _s("ONE")}]}})
    assert batch["Responses"][table][0]["m"] == item["m"] and batch["UnprocessedKeys"] == {}
    updated = client.update_item(TableName=table, Key={"pk": _s("T#types"), "sk": _s("ONE")},
                                 UpdateExpression="SET n = n + :one", ExpressionAttributeValues={":one": {"N": "1"}},
                                 ReturnValues="UPDATED_NEW")
    assert updated["Attributes"] == {"n": {"N": "-11.5"}}


def test_a_cancelled_transaction_still_names_its_reasons(ddb):
    client, table = ddb
    key = {"pk": _s("T#tx"), "sk": _s("ONE")}
    client.put_item(TableName=table, Item={**key, "available": {"N": "1"}})
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": key, "UpdateExpression": "SET available = available - :q",
                        "ConditionExpression": "available >= :q", "ExpressionAttributeValues": {":q": {"N": "2"}}}},
            {"Put": {"TableName": table, "Item": {"pk": _s("T#tx"), "sk": _s("TWO")}}}])
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in refused.value.response["CancellationReasons"]] == ["ConditionalCheckFailed", "None"]
    assert client.transact_write_items(TransactItems=[
        {"Update": {"TableName": table, "Key": key, "UpdateExpression": "SET available = available - :q",
                    "ConditionExpression": "available >= :q", "ExpressionAttributeValues": {":q": {"N": "1"}}}}]
    ) is not None
    assert client.get_item(TableName=table, Key=key)["Item"]["available"] == {"N": "0"}
