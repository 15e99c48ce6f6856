"""WaitForDelivery without a function (decision 117): Step Functions writes its task token onto the shipment item
itself, with the UpdateItem the ASL file names, and only while the parcel is moving. What the adapter must keep true
for that write: the `moving` attribute plain while the carrier has the parcel (and gone once it is delivered), the
token read back as the shipment's `resume_token`, and the version moved on, so that a change decided on the
shipment before the token was stored is refused and decided again."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from parcels import carrier, place_order, shipped_tracking, wait_until
from stacks import seeded_stack

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.codec import from_item, to_item
from dawra.adapters.dynamo.orders import MOVING, SHIPMENT_PLAIN, DynamoOrders
from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
from dawra.domain.errors import ConcurrentChange
from dawra.domain.shipment import Shipment

ASL = Path(__file__).resolve().parents[2] / "statemachines" / "order_lifecycle.asl.json"


@pytest.fixture(scope="module")
def stack():
    yield from seeded_stack()


def the_wait() -> dict[str, Any]:
    return json.loads(ASL.read_text())["States"]["ShipEachShipment"]["ItemProcessor"]["States"]["WaitForDelivery"]


def test_the_asl_writes_the_item_the_adapter_keeps():
    """The key the adapter stores a shipment under, the plain attribute it keeps while the parcel moves, the token
    under the Shipment field the tracking consumer answers, and the version its writes are conditioned on."""
    wait = the_wait()
    assert wait["Resource"] == "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken"
    parameters = wait["Parameters"]
    assert parameters["TableName"] == "${OrdersTableName}"
    key = keys.shipment_key("@order", "@shipment")
    assert parameters["Key"] == {"pk": {"S.$": f"States.Format('{key['pk'].replace('@order', '{}')}', $.order_id)"},
                                 "sk": {"S.$": f"States.Format('{key['sk'].replace('@shipment', '{}')}', $.shipment_id)"}}
    assert parameters["ConditionExpression"] == f"{MOVING} = :yes" and MOVING in SHIPMENT_PLAIN
    assert parameters["UpdateExpression"] == "SET resume_token = :token, version = version + :one"
    assert "resume_token" in Shipment.model_fields and "version" in SHIPMENT_PLAIN
    assert parameters["ExpressionAttributeValues"][":token"] == {"S.$": "$$.Task.Token"}


def the_wait_write(table: str, order_id: str, shipment_id: str, token: str) -> dict[str, Any]:
    """The UpdateItem WaitForDelivery makes, from the ASL file, with its paths and intrinsic resolved."""
    parameters = json.loads(json.dumps(the_wait()["Parameters"]).replace("${OrdersTableName}", table))
    key = keys.shipment_key(order_id, shipment_id)
    parameters["Key"] = {"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}}
    parameters["ExpressionAttributeValues"][":token"] = {"S": token}
    return parameters


def raw_shipment(client, table: str, order_id: str, shipment_id: str) -> dict[str, Any]:
    item = client.get_item(TableName=table, Key=to_item(keys.shipment_key(order_id, shipment_id)), ConsistentRead=True)
    return from_item(item["Item"])


def parked(client, table: str, order_id: str, shipment_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        item = raw_shipment(client, table, order_id, shipment_id)
        if "resume_token" in item:
            return item
        time.sleep(0.05)
    raise AssertionError("WaitForDelivery did not park its token on the shipment")


def test_the_workflow_parks_on_a_moving_parcel_and_the_delivery_answers_it(stack):
    client, table = stack.cloud.client("dynamodb"), stack.cloud.resolve_ref("table", "orders", "name")
    orders = DynamoOrders(table)
    order_id = place_order(stack, "delivery-wait@example.com", {"MUG-CLASSIC": 1})
    tracking = shipped_tracking(stack, order_id)
    [shipment] = orders.get(order_id).shipments

    item = parked(client, table, order_id, shipment.shipment_id)
    assert item["moving"] is True  # shipped: the carrier has it
    loaded = orders.get(order_id).shipment(shipment.shipment_id)
    assert loaded.resume_token == item["resume_token"] and loaded.version == item["version"]

    carrier(stack).deliver(tracking)
    wait_until(stack, order_id, lambda o: o["status"] == "COMPLETED", what="not completed by its delivery")
    after = raw_shipment(client, table, order_id, shipment.shipment_id)
    assert "moving" not in after and "resume_token" not in after  # delivered; the token answered and cleared
    assert orders.get(order_id).shipment(shipment.shipment_id).resume_token is None

    # A wait that comes after the carrier's report finds nothing to park on: the ASL's fallback answers instead.
    with pytest.raises(ClientError) as refused:
        client.update_item(**the_wait_write(table, order_id, shipment.shipment_id, "late-token"))
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_a_change_decided_before_the_token_was_stored_is_refused(stack):
    client, table = stack.cloud.client("dynamodb"), stack.cloud.resolve_ref("table", "orders", "name")
    inventory_table = stack.cloud.resolve_ref("table", "inventory", "name")
    orders, uow = DynamoOrders(table), DynamoUnitOfWork(table, inventory_table)
    order_id = place_order(stack, "delivery-race@example.com", {"MUG-CLASSIC": 1})
    shipped_tracking(stack, order_id)
    [shipment] = orders.get(order_id).shipments
    parked(client, table, order_id, shipment.shipment_id)

    before = orders.get(order_id)  # read, then the wait parks (again) before this reader commits
    client.update_item(**the_wait_write(table, order_id, shipment.shipment_id, "a-second-token"))
    before.touch(shipment.shipment_id)
    with pytest.raises(ConcurrentChange):
        uow.commit(order=before)

    now = orders.get(order_id)
    assert now.shipment(shipment.shipment_id).resume_token == "a-second-token"
    now.touch(shipment.shipment_id)
    uow.commit(order=now)  # decided again on what is stored: the token is kept, packed with the rest
    item = raw_shipment(client, table, order_id, shipment.shipment_id)
    assert "resume_token" not in item and item["moving"] is True
    assert orders.get(order_id).shipment(shipment.shipment_id).resume_token == "a-second-token"
