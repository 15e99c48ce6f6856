"""The benchmark's counting, checked on a tiny run against what the embedded cloud itself saw."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench import counting
from bench.lifecycle import SINGLE_SHIPMENT_ORDER, Bench, measure_order, settle
from dawra.local.cloud import ACCOUNT, REGION, EmbeddedCloud


def test_item_sizes_follow_dynamodb_rules():
    assert counting.item_size({"pk": {"S": "abc"}}) == 2 + 3
    assert counting.item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 significant digits -> 3 bytes + 1
    assert counting.item_size({"m": {"M": {"a": {"BOOL": True}}}}) == 1 + 3 + (1 + 1 + 1)
    assert counting.item_size({"l": {"L": [{"S": "xy"}, {"NULL": True}]}}) == 1 + 3 + (1 + 2) + (1 + 1)
    # a binary value counts its raw bytes: moto holds it as the base64 text it was sent as (16 characters here)
    assert counting.item_size({"b": {"B": "AAECAwQFBgcICQ=="}}) == 1 + 10
    assert counting.item_size({"b": {"B": bytes(10)}}) == 1 + 10
    assert [counting.write_units(n) for n in (0, 1, 1024, 1025)] == [1, 1, 1, 2]
    assert [counting.read_units(n) for n in (0, 4096, 4097)] == [1, 1, 2]


def test_write_units_are_computed_from_item_sizes():
    with EmbeddedCloud() as cloud:
        ddb = cloud.client("dynamodb")
        table = cloud.resolve_ref("table", "inventory", "name")  # no indexes
        item = {"pk": {"S": "p"}, "sk": {"S": "s"}, "d": {"S": "x" * 1500}}  # 1,508 bytes -> 2 WRU
        with counting.recording() as recorder:
            ddb.put_item(TableName=table, Item=item)
            ddb.get_item(TableName=table, Key={"pk": {"S": "p"}, "sk": {"S": "s"}}, ConsistentRead=True)
            ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": {**item, "sk": {"S": "t"}}}}])
            with counting.driver():  # the benchmark's own request: not counted
                ddb.get_item(TableName=table, Key={"pk": {"S": "p"}, "sk": {"S": "s"}})
        assert recorder.requests == {("dynamodb", "PutItem"): 1, ("dynamodb", "GetItem"): 1,
                                     ("dynamodb", "TransactWriteItems"): 1}
        assert recorder.wru == 2 + 2 * 2
        assert recorder.rru == 1

        orders = cloud.resolve_ref("table", "orders", "name")  # by-customer index projects ALL: written again
        with counting.recording() as recorder:
            ddb.put_item(TableName=orders, Item={"pk": {"S": "ORDER#o"}, "sk": {"S": "ORDER"},
                                                 "customer_id": {"S": "c"}, "placed_at": {"S": "2026"}})
        assert recorder.wru == 2 and recorder.gsi_wru == 1


@pytest.mark.timeout(120)
def test_one_order_is_counted_as_the_cloud_saw_it():
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    with Bench() as bench:
        # What the cloud does by itself once it is up (S3's test event for the stock feeds' bucket notification, on
        # its way to the stock-feeds function) is over before the counts are taken.
        settle(bench)
        emails_before = len(ses_backends[ACCOUNT][REGION].sent_messages)
        sms_before = len(sns_backends[ACCOUNT][REGION].sms_messages)
        invocations_before = sum(bench.stack.cloud.lambdas.invocations.values())
        figures = measure_order(bench, SINGLE_SHIPMENT_ORDER)
        history = bench.history(figures["order_ids"][0])

        # every Lambda invocation the embedded cloud ran was counted as an Invoke request, and nothing else was
        assert figures["lambda_invocations"] == sum(bench.stack.cloud.lambdas.invocations.values()) - invocations_before
        # the reservation and the only parcel in one call of ship-order (decision 124), no allocate-stock
        assert figures["lambda_invocations_by_function"]["dawra-ship-order"] == 1
        assert "dawra-allocate-stock" not in figures["lambda_invocations_by_function"]
        # transitions are the history's entered states; the path of a delivered single-shipment order
        entered = [e for e in history if e["type"].endswith("StateEntered")]
        assert figures["state_transitions"] == len(entered) > 0
        assert history[-1]["type"] == "ExecutionSucceeded"
        # what the storefront and carrier sent: one checkout and three webhooks, each webhook stored in SQS
        assert figures["apigw_requests"] == 4
        assert figures["requests"]["sqs:SendMessage"] == 3
        # messages the cloud accepted, counted as requests
        assert figures["ses_requests"] == len(ses_backends[ACCOUNT][REGION].sent_messages) - emails_before > 0
        assert figures["sns_requests"] == len(sns_backends[ACCOUNT][REGION].sms_messages) - sms_before
        assert figures["requests"]["stepfunctions:StartExecution"] == 1
        assert figures["dynamodb_write_units"] >= figures["requests"]["dynamodb:PutItem"]
        # each record alone: the three webhooks are three records of the tracking consumer however they were
        # batched, and no function carried fewer records than it had invocations
        records = figures["lambda_records_by_function"]
        assert records["dawra-tracking-consumer"] == figures["requests"]["sqs:SendMessage"] == 3
        assert all(records[name] >= n for name, n in figures["lambda_invocations_by_function"].items())
        assert figures["lambda_invocations_one_record_each"] == sum(records.values()) >= figures["lambda_invocations"]


def test_an_invocation_carries_its_batchs_records_or_one():
    assert counting.records_carried(b'{"Records": [{"a": 1}, {"b": 2}]}') == 2
    assert counting.records_carried('{"Records": [{"a": 1}]}') == 1
    assert counting.records_carried(b'{"action": "ship_shipment", "order_id": "o"}') == 1  # a workflow's task
    assert counting.records_carried({"version": "2.0", "rawPath": "/orders"}) == 1  # an API request
    assert counting.records_carried(b"not json") == counting.records_carried(None) == 1


def test_every_functions_cold_start_environment_resolves():
    """The cold-start bench builds each function's environment without a cloud: every Ref kind must resolve."""
    from bench.cold_start import environment
    from dawra.topology import TOPOLOGY
    from dawra.topology.model import Ref

    # A parameter whose local value is empty (the SMS quiet hours: none) resolves to that empty string.
    may_be_empty = {("parameter", p.id, "value") for p in TOPOLOGY.parameters if p.local_value == ""}
    for function in TOPOLOGY.functions:
        env = environment(function)
        for key, value in function.environment.items():
            assert isinstance(env[key], str), (function.id, key)
            empty_allowed = isinstance(value, Ref) and (value.kind, value.id, value.attr) in may_be_empty
            assert env[key] or empty_allowed, (function.id, key)
