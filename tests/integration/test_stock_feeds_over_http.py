"""Stock feeds on the embedded cloud: a manager's upload through the admin API (CSV and JSON, replayed, rows below
reserved refused), and a feed dropped into the feeds bucket imported by the stock-feeds function (S3 notification
-> SQS -> the function, as deployed), audited row by row."""

from __future__ import annotations

import uuid

import pytest
from stacks import eventually, operator

from dawra.local.actors import AdminApi


@pytest.fixture(scope="module")
def people(local_stack):
    return {"manager": operator(local_stack, "manager"), "warehouse": operator(local_stack, "warehouse")}


def stock(api: AdminApi, sku: str, location: str) -> dict:
    levels = api.get(f"/stock?sku={sku}&location_id={location}").body["levels"]
    return levels[0] if levels else {}


def test_a_csv_feed_is_applied_row_by_row_and_a_replay_answers_its_report(people):
    manager = people["manager"]
    csv = ("sku,location_id,on_hand\nMUG-CLASSIC,jeddah-store,9\nDATES-1KG,riyadh-dc,abc\n"
           "PRAYER-MAT,mars,1\nNO-SUCH,riyadh-dc,1\n")
    body = {"feed_id": f"erp-{uuid.uuid4().hex[:8]}", "file_name": "stock.csv", "content": csv}
    first = manager.post("/stock/feeds", body, "unused-key-1")
    assert first.status == 201, first.body
    assert first.body["counts"] == {"applied": 1, "unchanged": 0, "refused": 3}
    assert [(r["line"], r["outcome"], r["field"]) for r in first.body["rows"]] == [
        (2, "applied", None), (3, "refused", "on_hand"), (4, "refused", "location_id"), (5, "refused", "sku")]
    assert stock(manager, "MUG-CLASSIC", "jeddah-store")["on_hand"] == 9
    again = manager.post("/stock/feeds", body, "unused-key-2")
    assert again.status == 200 and again.body["duplicate"] is True
    assert {**again.body, "duplicate": False} == first.body
    assert stock(manager, "MUG-CLASSIC", "jeddah-store")["on_hand"] == 9
    read = manager.get(f"/stock/feeds/{first.body['ref']}")
    assert read.status == 200 and read.body["rows"] == first.body["rows"]
    audit = manager.get(f"/audit?actor_id={first.body['imported_by']}").body
    assert any(e["action"] == "stock_feed" and e["subject"] == "stock:MUG-CLASSIC@jeddah-store"
               for e in audit["entries"])


def test_json_rows_that_would_break_reservations_are_refused_and_the_others_applied(people, local_stack):
    manager = people["manager"]
    from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
    from dawra.domain.inventory import Reservation, hold

    uow = DynamoUnitOfWork(local_stack.cloud.resolve_ref("table", "orders", "name"),
                           local_stack.cloud.resolve_ref("table", "inventory", "name"))
    uow.commit(stock=[hold(Reservation(order_id="ord_feed_test", shipment_id="shp_1", sku="DALLAH-BRASS",
                                       location_id="jeddah-store", quantity=2))])
    before = stock(manager, "DALLAH-BRASS", "jeddah-store")
    body = {"feed_id": f"3pl-{uuid.uuid4().hex[:8]}", "rows": [
        {"sku": "DALLAH-BRASS", "location_id": "jeddah-store", "delta": -2},
        {"sku": "DATES-1KG", "location_id": "dammam-3pl", "delta": "+5"}]}
    done = manager.post("/stock/feeds", body, "unused-key-3")
    assert done.status == 201, done.body
    refused, applied = done.body["rows"]
    assert refused["message"] == (f"on hand {before['on_hand'] - 2} would leave fewer than the 2 reserved units "
                                  f"(on hand is {before['on_hand']})")
    assert applied["outcome"] == "applied"
    assert stock(manager, "DALLAH-BRASS", "jeddah-store") == before


def test_only_a_manager_imports_and_an_unreadable_upload_is_a_422(people):
    body = {"feed_id": "erp-x", "content": "sku,location_id,delta\nMUG-CLASSIC,riyadh-dc,1\n"}
    assert people["warehouse"].post("/stock/feeds", body, "k-4").status == 403
    bad = people["manager"].post("/stock/feeds", {"feed_id": "erp-y", "content": "sku,qty\nA,1\n"}, "k-5")
    assert bad.status == 422 and bad.body["type"].endswith("stock_feed_invalid")


def test_a_feed_dropped_into_the_bucket_is_imported_once_by_the_feeds_function(people, local_stack):
    manager = people["manager"]
    s3 = local_stack.cloud.client("s3")
    bucket = local_stack.cloud.resolve_ref("bucket", "stock-feeds", "name")
    before = stock(manager, "DATES-1KG", "riyadh-dc")["on_hand"]
    key = f"erp/moves {uuid.uuid4().hex[:6]}.csv"  # a space: the notification's key is URL-encoded
    etag = s3.put_object(Bucket=bucket, Key=key, Body=b"sku,location_id,delta\nDATES-1KG,riyadh-dc,+7\n")["ETag"]

    def imported():
        feeds = manager.get("/stock/feeds").body["feeds"]
        return next((f for f in feeds if f["file_name"] == key), None)

    report = eventually(imported)
    assert report, "the feed was not imported"
    assert report["source"] == "s3" and report["feed_id"] == f"s3:{key}#{etag.strip(chr(34))}"
    assert report["counts"]["applied"] == 1
    assert stock(manager, "DATES-1KG", "riyadh-dc")["on_hand"] == before + 7
    # The same notification again (SQS delivers at least once): imported once.
    sqs = local_stack.cloud.client("sqs")
    url = local_stack.cloud.queue_url("stock-feeds")
    record = {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {
        "key": key.replace(" ", "+"), "eTag": etag.strip('"'), "size": 40}}}
    import json

    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"Records": [record]}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}))
    assert eventually(lambda: int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"][
        "ApproximateNumberOfMessages"]) == 0 and local_stack.pollers.drain() == 0)
    assert stock(manager, "DATES-1KG", "riyadh-dc")["on_hand"] == before + 7
    dlq = local_stack.cloud.queue_url("stock-feeds-dlq")
    assert "Messages" not in sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0)


def test_the_local_feeds_bucket_notifies_the_topologys_queue(local_stack):
    """Parity with the deployed bucket (tests/infra/test_infra_stock_feeds.py): the same event, the same queue."""
    from dawra.topology import TOPOLOGY

    spec = TOPOLOGY.bucket("stock-feeds")
    assert spec.notify_queue is not None
    configured = local_stack.cloud.client("s3").get_bucket_notification_configuration(Bucket=spec.name)
    assert [(c["Events"], c["QueueArn"]) for c in configured["QueueConfigurations"]] == [
        (["s3:ObjectCreated:*"], local_stack.cloud.resolve_ref("queue", spec.notify_queue, "arn"))]
