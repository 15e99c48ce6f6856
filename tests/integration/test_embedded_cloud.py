"""The embedded cloud behaves like DynamoDB where Dawra depends on it: transactions are all-or-nothing and
conditional writes stay atomic under concurrency."""

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from dawra.local.cloud import EmbeddedCloud

TABLE = "dawra-orders"  # has a stream


@pytest.fixture(scope="module")
def cloud():
    with EmbeddedCloud() as running:
        yield running


def stream_length(cloud) -> int:
    streams = cloud.client("dynamodbstreams")
    arn = cloud.resolve_ref("table", "orders", "stream_arn")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return len(streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"])


def key(pk: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": "x"}}


def test_a_cancelled_transaction_writes_nothing(cloud):
    ddb = cloud.client("dynamodb")
    ddb.put_item(TableName=TABLE, Item={**key("stock"), "n": {"N": "1"}})
    before = stream_length(cloud)
    with pytest.raises(ClientError) as cancelled:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {**key("new"), "v": {"S": "a"}}}},
            {"Update": {"TableName": TABLE, "Key": key("stock"), "UpdateExpression": "SET n = n - :q",
                        "ConditionExpression": "n >= :q", "ExpressionAttributeValues": {":q": {"N": "5"}}}},
        ])
    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert "Item" not in ddb.get_item(TableName=TABLE, Key=key("new"))
    assert stream_length(cloud) == before


def test_a_write_failing_after_the_checks_is_undone(cloud):
    ddb = cloud.client("dynamodb")
    ddb.put_item(TableName=TABLE, Item={**key("kept"), "v": {"S": "old"}})
    before = stream_length(cloud)
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {**key("kept"), "v": {"S": "new"}}}},
            {"Update": {"TableName": TABLE, "Key": key("kept2"), "UpdateExpression": "SET n = missing + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])
    assert ddb.get_item(TableName=TABLE, Key=key("kept"))["Item"]["v"] == {"S": "old"}
    assert "Item" not in ddb.get_item(TableName=TABLE, Key=key("kept2"))
    assert stream_length(cloud) == before


def test_concurrent_conditional_transactions_never_oversell(cloud):
    ddb = cloud.client("dynamodb")
    ddb.put_item(TableName=TABLE, Item={**key("mugs"), "available": {"N": "10"}})

    def reserve(i: int) -> bool:
        try:
            ddb.transact_write_items(TransactItems=[
                {"Update": {"TableName": TABLE, "Key": key("mugs"), "UpdateExpression": "SET available = available - :q",
                            "ConditionExpression": "available >= :q", "ExpressionAttributeValues": {":q": {"N": "1"}}}},
                {"Put": {"TableName": TABLE, "Item": key(f"reservation-{i}"),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
            ])
            return True
        except ClientError:
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(reserve, range(25)))
    assert results.count(True) == 10
    assert ddb.get_item(TableName=TABLE, Key=key("mugs"))["Item"]["available"] == {"N": "0"}


def test_each_function_container_logs_with_its_own_context(cloud):
    """As on Lambda, where each container is a process: keys one function appends never reach another's lines."""
    orders_api, notify = (cloud.lambdas.by_name[cloud.topology.function(f).name] for f in ("orders-api", "notify"))
    first, second = orders_api._cold_start(), notify._cold_start()
    another = orders_api._cold_start()
    loggers = [sys.modules[handler.__module__].logger for handler in (first, second, another)]
    assert len({logger._logger.name for logger in loggers}) == 3
    loggers[0].append_keys(correlation_id="only-orders-api-c1")
    assert "correlation_id" not in loggers[1].get_current_keys()
    assert "correlation_id" not in loggers[2].get_current_keys()
    assert all(logger.service == "dawra" for logger in loggers)
