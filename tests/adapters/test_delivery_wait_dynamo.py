"""WaitForDelivery without a function (decision 117): Step Functions writes its task token onto the shipment item
itself, with the UpdateItem the ASL file names, and only while the parcel is on its way. What the adapter must keep
true for that write: the shipment's status plain (what the condition tests), the token read back as the shipment's
`resume_token`, and the version moved on, so that a change decided on the shipment before the token was stored is
refused and decided again."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from parcels import carrier, lifecycle_arn, order_of, place_order, shipped_tracking, wait_until
from sdk_waits import alone, entered, raw, the_write, with_table
from stacks import seeded_stack

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.codec import to_item
from dawra.adapters.dynamo.orders import SHIPMENT_PLAIN, DynamoOrders
from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
from dawra.domain.errors import ConcurrentChange
from dawra.domain.shipment import MOVING, Shipment, ShipmentStatus

ASL = Path(__file__).resolve().parents[2] / "statemachines" / "order_lifecycle.asl.json"


@pytest.fixture(scope="module")
def stack():
    yield from seeded_stack()


def the_wait(name: str = "WaitForDelivery") -> dict[str, Any]:
    return json.loads(ASL.read_text())["States"]["ShipEachShipment"]["ItemProcessor"]["States"][name]


def the_top(name: str) -> dict[str, Any]:
    """A state of the order's workflow outside the Map."""
    return json.loads(ASL.read_text())["States"][name]


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
    assert parameters["ConditionExpression"] == "#status IN (:label_created, :in_transit, :out_for_delivery)"
    assert parameters["ExpressionAttributeNames"] == {"#status": "status"} and "status" in SHIPMENT_PLAIN
    tested = {name: value for name, value in parameters["ExpressionAttributeValues"].items() if name != ":token"}
    assert {value["S"] for name, value in tested.items() if name != ":one"} == {status.value for status in MOVING}
    assert all(f":{value['S']}" == name for name, value in tested.items() if name != ":one")
    assert parameters["UpdateExpression"] == "SET resume_token = :token, version = version + :one"
    assert "resume_token" in Shipment.model_fields and "version" in SHIPMENT_PLAIN
    assert parameters["ExpressionAttributeValues"][":token"] == {"S.$": "$$.Task.Token"}


def the_wait_write(table: str, order_id: str, shipment_id: str, token: str) -> dict[str, Any]:
    """The UpdateItem WaitForDelivery makes, from the ASL file, with its paths and intrinsic resolved."""
    return the_write(the_wait(), table, keys.shipment_key(order_id, shipment_id), token)


def raw_shipment(client, table: str, order_id: str, shipment_id: str) -> dict[str, Any]:
    return raw(client, table, keys.shipment_key(order_id, shipment_id))


def parked(client, table: str, order_id: str, shipment_id: str, other_than: str | None = None) -> dict[str, Any]:
    """The shipment item once a wait has parked a token on it (one other than `other_than`)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        item = raw_shipment(client, table, order_id, shipment_id)
        if item.get("resume_token") not in (None, other_than):
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
    assert item["status"] == "label_created"  # shipped: the carrier has it, and the status is plain
    loaded = orders.get(order_id).shipment(shipment.shipment_id)
    assert loaded.resume_token == item["resume_token"] and loaded.version == item["version"]

    carrier(stack).deliver(tracking)
    wait_until(stack, order_id, lambda o: o["status"] == "COMPLETED", what="not completed by its delivery")
    after = raw_shipment(client, table, order_id, shipment.shipment_id)
    assert after["status"] == "delivered" and "resume_token" not in after  # the token answered and cleared
    assert orders.get(order_id).shipment(shipment.shipment_id).resume_token is None

    # A wait that comes after the carrier's report finds nothing to park on: the ASL's fallback answers instead.
    with pytest.raises(ClientError) as refused:
        client.update_item(**the_wait_write(table, order_id, shipment.shipment_id, "late-token"))
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    # One parcel: reserved and shipped in one task (decision 124), then waited for outside the Map (decision 122).
    assert entered(stack, lifecycle_arn(stack, order_id)) == ["ReserveAndShip", "WaitForItsDelivery"]


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
    assert "resume_token" not in item and item["status"] == "label_created"
    assert orders.get(order_id).shipment(shipment.shipment_id).resume_token == "a-second-token"


def test_a_shipment_written_before_its_status_was_plain_is_waited_for_by_the_function(stack):
    """Written before decision 117 (the status only in the packed body): the wait's write is refused, and
    DeliveryReportedFirst, the function, parks the token as WaitForDelivery did before; the delivery still ends it.
    And either way round, an item of one version loads with the other's reader: both attributes are Shipment's."""
    from dawra.adapters.dynamo.codec import packed

    client, table = stack.cloud.client("dynamodb"), stack.cloud.resolve_ref("table", "orders", "name")
    orders = DynamoOrders(table)
    order_id = place_order(stack, "delivery-old-item@example.com", {"MUG-CLASSIC": 1})
    tracking = shipped_tracking(stack, order_id)
    [shipment] = orders.get(order_id).shipments
    parked(client, table, order_id, shipment.shipment_id)

    old_plain = SHIPMENT_PLAIN - {"status"}
    stored = orders.get(order_id).shipment(shipment.shipment_id)
    old_item = packed({**keys.shipment_key(order_id, shipment.shipment_id), "entity": keys.ENTITY_SHIPMENT,
                       **stored.model_dump(mode="json")}, old_plain)
    client.put_item(TableName=table, Item=to_item(old_item))
    assert "status" not in raw_shipment(client, table, order_id, shipment.shipment_id)
    assert orders.get(order_id).shipment(shipment.shipment_id) == stored  # the new reader loads the old item

    with pytest.raises(ClientError) as refused:
        client.update_item(**the_wait_write(table, order_id, shipment.shipment_id, "token-on-an-old-item"))
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"

    carrier(stack).deliver(tracking)  # the real execution's token, stored before, is answered as always
    wait_until(stack, order_id, lambda o: o["status"] == "COMPLETED", what="not completed by its delivery")


def stored_shipment(table: str, order_id: str, shipment: Shipment) -> Shipment:
    """`shipment` written as the adapter writes one (a plain put of its item)."""
    from dawra.adapters.dynamo.base import Table
    from dawra.adapters.dynamo.orders import shipment_item

    Table(table).put(shipment_item(shipment))
    assert DynamoOrders(table).get(order_id).shipment(shipment.shipment_id) == shipment
    return shipment


def clients(stack) -> tuple[Any, str, Any]:
    """DynamoDB's client, the Orders table's name, Step Functions' client."""
    return (stack.cloud.client("dynamodb"), stack.cloud.resolve_ref("table", "orders", "name"),
            stack.cloud.client("stepfunctions"))


def a_parked_parcel(stack, email: str) -> tuple[str, str, Shipment, str]:
    """An order in one parcel, shipped and parked on: its id, tracking number, shipment and its lifecycle's token."""
    client, table, _ = clients(stack)
    order_id = place_order(stack, email, {"MUG-CLASSIC": 1})
    tracking = shipped_tracking(stack, order_id)
    [shipment] = DynamoOrders(table).get(order_id).shipments
    return order_id, tracking, shipment, parked(client, table, order_id, shipment.shipment_id)["resume_token"]


def test_the_wait_goes_to_the_function_when_the_report_came_first(stack):
    """The real WaitForDelivery state and DidItShip, run by the embedded cloud's Step Functions: on a parcel on its
    way the wait parks the token on the shipment, and answering that token ends the wait; on a delivered shipment
    its write is refused and DidItShip sends the shipped parcel to DeliveryReportedFirst; on a shipment that has not
    left it is refused too, and DidItShip follows ShipShipment's answer (on hold: WaitWhileOnHold)."""
    client, table, sfn = clients(stack)
    order_id, tracking, shipment, lifecycles = a_parked_parcel(stack, "delivery-first@example.com")
    machine = alone(stack, "order-lifecycle", "wait-for-delivery-alone",  # and the Choice its refusal goes to
                     {"WaitForDelivery": the_wait(), "DidItShip": the_wait("DidItShip")})
    given = {"order_id": order_id, "shipment_id": shipment.shipment_id,
             "shipping": {"outcome": "shipped", "delivery_timeout_s": 60}}

    moving = sfn.start_execution(stateMachineArn=machine, name="moving", input=json.dumps(given))["executionArn"]
    token = parked(client, table, order_id, shipment.shipment_id, other_than=lifecycles)["resume_token"]
    sfn.send_task_success(taskToken=token, output=json.dumps({"delivered_at": "2026-12-03T10:00:00Z"}))
    assert entered(stack, moving) == ["WaitForDelivery"]

    carrier(stack).deliver(tracking)
    wait_until(stack, order_id, lambda o: o["status"] == "COMPLETED", what="not completed by its delivery")
    late = sfn.start_execution(stateMachineArn=machine, name="reported-first", input=json.dumps(given))["executionArn"]
    assert entered(stack, late) == ["WaitForDelivery", "DidItShip", "DeliveryReportedFirst"]
    # A shipment that has not left (here: one allocated, not yet booked, stored as the adapter stores it) is refused
    # too, and ShipShipment's answer for it sends it to that answer's own wait; real orders take these paths in
    # tests/integration (store pickup, pick and pack, fraud holds).
    waiting = stored_shipment(table, order_id, shipment.model_copy(update={
        "shipment_id": f"{shipment.shipment_id}-held", "status": ShipmentStatus.ALLOCATED, "tracking_number": None,
        "resume_token": None, "version": 0}))
    held = {**given, "shipment_id": waiting.shipment_id,
            "shipping": {"outcome": "on_hold", "hold_timeout_s": 60, "delivery_timeout_s": 60}}
    on_hold = sfn.start_execution(stateMachineArn=machine, name="on-hold", input=json.dumps(held))["executionArn"]
    assert entered(stack, on_hold) == ["WaitForDelivery", "DidItShip", "WaitWhileOnHold"]
    assert "resume_token" not in raw_shipment(client, table, order_id, waiting.shipment_id)  # nothing was parked

    # Decision 123: a write that fails otherwise (here a table that is not there; on AWS, e.g. a rollback that took the
    # grant from the role) goes to DidItShip too, and the function's wait, which needs no grant, parks instead.
    broken = with_table(the_wait(), "dawra-no-such-table")
    elsewhere = alone(stack, "order-lifecycle", "wait-for-delivery-no-table",
                      {"WaitForDelivery": broken, "DidItShip": the_wait("DidItShip")})
    failed = sfn.start_execution(stateMachineArn=elsewhere, name="no-table", input=json.dumps(given))["executionArn"]
    assert entered(stack, failed) == ["WaitForDelivery", "DidItShip", "DeliveryReportedFirst"]


def test_the_only_parcels_wait_parks_on_it_and_hands_anything_else_to_the_map(stack):
    """Decision 122, the real WaitForItsDelivery run alone (ShipEachShipment, where it would go, a Succeed of that
    name): on a parcel on its way it parks the token as WaitForDelivery does, and answering it ends the workflow; on
    a parcel whose report came first its write is refused, and when the promised day passes it times out, and both
    end in ShipEachShipment, with the input as it was for the Map's branches."""
    client, table, sfn = clients(stack)
    order_id, tracking, shipment, lifecycles = a_parked_parcel(stack, "only-parcel@example.com")
    machine = alone(stack, "order-lifecycle", "wait-for-its-delivery-alone",
                    {"WaitForItsDelivery": the_top("WaitForItsDelivery")})
    planned = [{"shipment_id": shipment.shipment_id, "location_id": "riyadh-dc"}]
    given = {"order_id": order_id, "allocation": {
        "shipments": planned, "parcel": {"shipment_id": shipment.shipment_id, "delivery_timeout_s": 60}}}

    moving = sfn.start_execution(stateMachineArn=machine, name="moving", input=json.dumps(given))["executionArn"]
    token = parked(client, table, order_id, shipment.shipment_id, other_than=lifecycles)["resume_token"]
    sfn.send_task_success(taskToken=token, output=json.dumps({"delivered_at": "2026-12-03T10:00:00Z"}))
    assert entered(stack, moving) == ["WaitForItsDelivery"]

    # The promise passed while the parcel moves: a second's wait, then the Map (whose branch finds it shipped and late).
    promised = {**given, "allocation": {
        "shipments": planned, "parcel": {"shipment_id": shipment.shipment_id, "delivery_timeout_s": 1}}}
    late = sfn.start_execution(stateMachineArn=machine, name="promise-passed",
                               input=json.dumps(promised))["executionArn"]
    assert entered(stack, late) == ["WaitForItsDelivery", "ShipEachShipment"]
    history = sfn.get_execution_history(executionArn=late)["events"]
    assert any(e["type"] == "TaskTimedOut" for e in history)
    handed = json.loads(sfn.describe_execution(executionArn=late)["output"])
    assert handed == promised  # ResultPath null: the Map gets the allocation it iterates, untouched

    carrier(stack).deliver(tracking)
    wait_until(stack, order_id, lambda o: o["status"] == "COMPLETED", what="not completed by its delivery")
    before = raw_shipment(client, table, order_id, shipment.shipment_id)
    first = sfn.start_execution(stateMachineArn=machine, name="reported-first", input=json.dumps(given))["executionArn"]
    assert entered(stack, first) == ["WaitForItsDelivery", "ShipEachShipment"]
    assert raw_shipment(client, table, order_id, shipment.shipment_id) == before  # refused: nothing written
    assert refusals(stack, first) == ["DynamoDb.ConditionalCheckFailedException"]

    # A write that fails otherwise (here a table that is not there; on AWS, e.g. a role rolled back without the
    # grant) hands over too, rather than failing the order.
    broken = with_table(the_top("WaitForItsDelivery"), "dawra-no-such-table")
    elsewhere = alone(stack, "order-lifecycle", "wait-for-its-delivery-no-table", {"WaitForItsDelivery": broken})
    failed = sfn.start_execution(stateMachineArn=elsewhere, name="no-table", input=json.dumps(given))["executionArn"]
    assert entered(stack, failed) == ["WaitForItsDelivery", "ShipEachShipment"]
    # The order's own execution, whose token the runs above replaced on the shipment, ends as the delivery ends it.
    sfn.send_task_success(taskToken=lifecycles, output=json.dumps({"delivered_at": "2026-12-03T10:00:00Z"}))
    assert entered(stack, lifecycle_arn(stack, order_id))[-1] == "WaitForItsDelivery"


def refusals(stack, execution_arn: str) -> list[str]:
    """The errors the execution's tasks failed with (a refused write: DynamoDB's ConditionalCheckFailed)."""
    history = stack.cloud.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"]
    return [e["taskFailedEventDetails"]["error"] for e in history if e["type"] == "TaskFailed"]


def test_an_order_in_two_parcels_ships_each_in_its_own_branch(stack):
    """Decision 122: the reservation made two shipments, so ReserveAndShip ships nothing and names the first,
    which has not left: WaitForItsDelivery's write is refused (no function fails, no alarm), the Map takes the order
    over, and each branch ships and parks on its own parcel."""
    client, table = stack.cloud.client("dynamodb"), stack.cloud.resolve_ref("table", "orders", "name")
    order_id = place_order(stack, "two-parcels@example.com", {"DALLAH-BRASS": 1, "DATES-1KG": 1})  # one store each
    order = wait_until(stack, order_id, lambda o: len(o["shipments"]) == 2 and all(
        s["tracking_number"] for s in o["shipments"]), what="not shipped in two parcels")
    for s in order["shipments"]:
        parked(client, table, order_id, s["shipment_id"])
    run = lifecycle_arn(stack, order_id)
    states = entered(stack, run, until="RUNNING")
    assert states[:3] == ["ReserveAndShip", "WaitForItsDelivery", "ShipEachShipment"]
    assert sorted(states[3:]) == ["ShipShipment", "ShipShipment", "WaitForDelivery", "WaitForDelivery"]
    assert refusals(stack, run) == ["DynamoDb.ConditionalCheckFailedException"]  # the hand-over, and nothing failed
    for s in order["shipments"]:
        carrier(stack).deliver(s["tracking_number"])
    wait_until(stack, order_id, lambda o: o["status"] == "COMPLETED", what="not completed by both deliveries")
    assert entered(stack, run) == states
    assert order_of(stack, order_id)["status"] == "COMPLETED"
